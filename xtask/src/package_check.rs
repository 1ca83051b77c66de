//! `cargo xtask bundle --check` (the last step of `cargo xtask test`): proves the packages hold
//! what Linux distributions expect, where they expect it. The `.deb` is unpacked into a scratch
//! root (`dpkg -x`), and its binaries, desktop entry, AppStream metainfo, completions and man
//! pages are checked with the tools distributions use; the `.rpm`'s file list (`rpm -qlp`) and
//! requirements are checked against the same list.
//!
//! It must never install anything into the real system and never change the packages; the
//! scratch root is removed afterwards, whatever happened.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::bundle::json_string;
use crate::steps::repo_root;

/// Which family a file list belongs to: they differ only in zsh's completion folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Debian,
    RedHat,
}

/// Every file both packages must hold, besides the per-family ones of [`expected`].
const COMMON: &[&str] = &[
    "/usr/bin/drivewatch",
    "/usr/bin/drivewatch-cli",
    "/usr/share/applications/DriveWatch.desktop",
    "/usr/share/icons/hicolor/32x32/apps/drivewatch.png",
    "/usr/share/icons/hicolor/128x128/apps/drivewatch.png",
    "/usr/share/icons/hicolor/512x512/apps/drivewatch.png",
    "/usr/share/metainfo/app.drivewatch.desktop.metainfo.xml",
    "/usr/share/bash-completion/completions/drivewatch-cli",
    "/usr/share/fish/vendor_completions.d/drivewatch-cli.fish",
    "/usr/share/man/man1/drivewatch.1.gz",
    "/usr/share/man/man1/drivewatch-cli.1.gz",
    "/usr/share/man/man1/drivewatch-cli-watch.1.gz",
    "/usr/share/man/man1/drivewatch-cli-completions.1.gz",
];

/// What the `.rpm` must require so Fedora and openSUSE pull in the desktop's libraries
/// (tauri-cli adds these).
const RPM_REQUIRES: &[&str] = &[
    "libwebkit2gtk-4.1.so.0()(64bit)",
    "libayatana-appindicator3.so.1()(64bit)",
];

/// The files a package of `family` must hold.
pub fn expected(family: Family) -> Vec<&'static str> {
    let zsh = match family {
        // Debian's zsh reads vendor completions from here, not from site-functions.
        Family::Debian => "/usr/share/zsh/vendor-completions/_drivewatch-cli",
        Family::RedHat => "/usr/share/zsh/site-functions/_drivewatch-cli",
    };
    let mut all = COMMON.to_vec();
    all.push(zsh);
    all
}

/// The expected files a package listing lacks. Listings may write paths as `usr/...` or
/// `./usr/...` (dpkg, depending on how the archive was made) or `/usr/...` (rpm).
pub fn missing<'a>(expected: &[&'a str], listing: &[String]) -> Vec<&'a str> {
    let listed: Vec<String> = listing
        .iter()
        .map(|l| {
            let path = l.trim_start_matches('.').trim_start_matches('/');
            format!("/{}", path.trim_end_matches('/'))
        })
        .collect();
    expected
        .iter()
        .copied()
        .filter(|e| !listed.iter().any(|l| l == e))
        .collect()
}

/// The paths in `dpkg -c` output (`-rw-r--r-- root/root 123 2026-12-01 09:00 ./usr/bin/x`).
pub fn dpkg_paths(listing: &str) -> Vec<String> {
    listing
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .map(str::to_owned)
        .collect()
}

/// What the metainfo must agree on with tauri.conf.json, as problems found (none: all agree).
pub fn metainfo_problems(metainfo: &str, tauri_conf: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let field = |key: &str| json_string(tauri_conf, key).unwrap_or_default();
    let (id, product, version) = (field("identifier"), field("productName"), field("version"));
    if !metainfo.contains(&format!("<id>{id}</id>")) {
        problems.push(format!("its <id> is not the app identifier {id}"));
    }
    let launchable = format!("<launchable type=\"desktop-id\">{product}.desktop</launchable>");
    if !metainfo.contains(&launchable) {
        problems.push(format!("it does not launch {product}.desktop"));
    }
    let newest = metainfo
        .split("<release ")
        .nth(1)
        .and_then(|r| r.split("version=\"").nth(1))
        .and_then(|v| v.split('"').next());
    if newest != Some(version.as_str()) {
        problems.push(format!(
            "its newest release is {newest:?}, the package version is {version}"
        ));
    }
    if !metainfo.contains("<content_rating") {
        problems.push("it has no content_rating".into());
    }
    problems
}

pub fn run(bundles: &Path) -> Result<(), String> {
    let conf = read(&repo_root().join("src-tauri/tauri.conf.json"))?;
    let version = json_string(&conf, "version").ok_or("tauri.conf.json has no version")?;
    let deb = find_package(&bundles.join("deb"), "deb", &version)?;
    let rpm = find_package(&bundles.join("rpm"), "rpm", &version)?;

    let listing = dpkg_paths(&output(Command::new("dpkg").arg("-c").arg(&deb))?);
    let lacks = missing(&expected(Family::Debian), &listing);
    if !lacks.is_empty() {
        return Err(format!("{} lacks {}", deb.display(), lacks.join(", ")));
    }
    println!(
        "check: dpkg -c lists all {} files",
        expected(Family::Debian).len()
    );

    let listing: Vec<String> = output(Command::new("rpm").arg("-qlp").arg(&rpm))?
        .lines()
        .map(str::to_owned)
        .collect();
    let lacks = missing(&expected(Family::RedHat), &listing);
    if !lacks.is_empty() {
        return Err(format!("{} lacks {}", rpm.display(), lacks.join(", ")));
    }
    let requires = output(Command::new("rpm").arg("-qpR").arg(&rpm))?;
    for lib in RPM_REQUIRES {
        if !requires.lines().any(|l| l.trim() == *lib) {
            return Err(format!("{} does not require {lib}", rpm.display()));
        }
    }
    println!(
        "check: rpm -qlp lists all {} files; it requires the desktop's libraries",
        expected(Family::RedHat).len()
    );

    let root = std::env::temp_dir().join(format!("drivewatch-deb-root-{}", std::process::id()));
    let result = check_unpacked(&deb, &root, &conf, &version);
    let _ = std::fs::remove_dir_all(&root);
    result
}

/// Unpacks the `.deb` into `root` and checks what it installs with the distributions' tools.
fn check_unpacked(deb: &Path, root: &Path, conf: &str, version: &str) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(root);
    output(Command::new("dpkg").arg("-x").arg(deb).arg(root))?;
    let at = |p: &str| root.join(p.trim_start_matches('/'));

    for bin in ["drivewatch", "drivewatch-cli"] {
        let said = output(Command::new(at(&format!("/usr/bin/{bin}"))).arg("--version"))?;
        if said.trim() != format!("{bin} {version}") {
            return Err(format!("/usr/bin/{bin} --version said {said:?}"));
        }
    }
    println!("check: both binaries run from the scratch root ({version})");

    let metainfo = at("/usr/share/metainfo/app.drivewatch.desktop.metainfo.xml");
    output(
        Command::new("appstreamcli")
            .args(["validate", "--no-net"])
            .arg(&metainfo),
    )?;
    let problems = metainfo_problems(&read(&metainfo)?, conf);
    if !problems.is_empty() {
        return Err(format!("the metainfo: {}", problems.join("; ")));
    }
    output(
        Command::new("desktop-file-validate").arg(at("/usr/share/applications/DriveWatch.desktop")),
    )?;
    println!("check: appstreamcli validate and desktop-file-validate pass");

    let said = output(
        Command::new("bash")
            .args([
                "--norc",
                "-c",
                "source \"$0\" && complete -p drivewatch-cli",
            ])
            .arg(at("/usr/share/bash-completion/completions/drivewatch-cli")),
    )?;
    if !said.contains("drivewatch-cli") {
        return Err(format!("bash did not register the completion: {said:?}"));
    }
    for (path, marker) in [
        (
            "/usr/share/zsh/vendor-completions/_drivewatch-cli",
            "#compdef drivewatch-cli",
        ),
        (
            "/usr/share/fish/vendor_completions.d/drivewatch-cli.fish",
            "complete -c drivewatch-cli",
        ),
    ] {
        if !read(&at(path))?.contains(marker) {
            return Err(format!("{path} is not a completion script"));
        }
    }
    for page in ["drivewatch", "drivewatch-cli", "drivewatch-cli-watch"] {
        let path = at(&format!("/usr/share/man/man1/{page}.1.gz"));
        let text = output(Command::new("gzip").arg("-dc").arg(&path))?;
        if !text.contains(&format!(".TH {page} 1")) {
            return Err(format!("{} is not the man page of {page}", path.display()));
        }
    }
    println!("check: bash loads its completion; zsh's, fish's and the man pages are in place");
    Ok(())
}

/// The package of this version in `dir` (the bundler names it after product, version, arch).
fn find_package(dir: &Path, ext: &str, version: &str) -> Result<PathBuf, String> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("no packages in {}: {e}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == ext)
                && p.file_name()
                    .is_some_and(|n| n.to_string_lossy().contains(version))
        })
        .collect();
    found.sort();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(format!(
            "no .{ext} of version {version} in {}",
            dir.display()
        )),
        many => Err(format!("several .{ext} of version {version}: {many:?}")),
    }
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// A command's stdout; its failure (with its stderr and stdout) is an error naming it.
fn output(cmd: &mut Command) -> Result<String, String> {
    let shown = format!("{cmd:?}");
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("could not start {shown}: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        Ok(stdout)
    } else {
        Err(format!(
            "{shown} failed ({}): {}{stdout}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_lacking_a_file_is_caught_whichever_way_it_writes_paths() {
        let expected = expected(Family::Debian);
        let mut dpkg: Vec<String> = expected.iter().map(|p| format!(".{p}")).collect();
        dpkg.push("./usr/".into());
        assert!(missing(&expected, &dpkg).is_empty());
        let bare: Vec<String> = expected.iter().map(|p| p[1..].to_owned()).collect();
        assert!(missing(&expected, &bare).is_empty());
        dpkg.retain(|p| !p.ends_with("drivewatch-cli.1.gz"));
        assert_eq!(
            missing(&expected, &dpkg),
            ["/usr/share/man/man1/drivewatch-cli.1.gz"]
        );
        // The Debian zsh folder is not where Fedora and openSUSE look.
        let rpm: Vec<String> = expected.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            missing(&super::expected(Family::RedHat), &rpm),
            ["/usr/share/zsh/site-functions/_drivewatch-cli"]
        );
    }

    #[test]
    fn dpkg_listing_lines_give_their_paths() {
        let listing = "\
drwxr-xr-x 0/0               0 1970-01-01 00:00 ./usr/bin/
-rwxr-xr-x 0/0        12345678 1970-01-01 00:00 ./usr/bin/drivewatch-cli
";
        assert_eq!(
            dpkg_paths(listing),
            ["./usr/bin/", "./usr/bin/drivewatch-cli"]
        );
    }

    #[test]
    fn the_committed_metainfo_agrees_with_the_tauri_config() {
        let root = repo_root();
        let conf = read(&root.join("src-tauri/tauri.conf.json")).unwrap();
        let metainfo =
            read(&root.join("src-tauri/linux/app.drivewatch.desktop.metainfo.xml")).unwrap();
        assert_eq!(metainfo_problems(&metainfo, &conf), Vec::<String>::new());
        // And each disagreement is named.
        let stale = metainfo
            .replace("<release version=\"", "<release version=\"9")
            .replace("DriveWatch.desktop<", "drivewatch.desktop<");
        let problems = metainfo_problems(&stale, &conf);
        assert_eq!(problems.len(), 2, "{problems:?}");
    }

    #[test]
    fn the_tauri_config_ships_every_generated_file_it_names() {
        // Each source in bundle.linux.*.files is either committed or written by `generate`.
        let conf = read(&repo_root().join("src-tauri/tauri.conf.json")).unwrap();
        for (_, name) in crate::bundle::COMPLETIONS {
            assert!(
                conf.contains(&format!("\"generated/completions/{name}\"")),
                "{name}"
            );
        }
        for family in ["deb", "rpm"] {
            assert!(conf.contains(&format!("\"{family}\": {{")), "{family}");
        }
        assert!(conf.contains("\"generated/man1\""));
        assert!(conf.contains("\"generated/drivewatch-cli\""));
    }
}
