//! `cargo xtask bundle [--check]`: the `.deb` and the `.rpm`, each with both binaries, the
//! desktop entry, the hicolor icons, AppStream metainfo, bash/zsh/fish completions and man pages.
//!
//! Tauri's bundler packs what `bundle.linux.{deb,rpm}.files` in `src-tauri/tauri.conf.json`
//! names; the generated part of that (the CLI binary, man pages, completions) comes from the
//! freshly built release binaries themselves, written into the git-ignored `src-tauri/generated/`
//! before the bundler runs, so nothing a package ships about the command line is written by
//! hand. tauri-cli adds the desktop's libraries to both packages' requirements itself (as
//! shared-library capabilities in the `.rpm`, which Fedora and openSUSE both resolve).
//!
//! It must never write into the repository outside `src-tauri/generated/`, and never download
//! anything but tauri-cli from npm (once, into the tools folder outside the clone).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::steps::{repo_root, run, step};
use crate::{deps, package_check};

/// The shells whose completions the packages install, with the file name each gets in
/// `src-tauri/generated/completions/` (tauri.conf.json maps them to their system folders).
pub const COMPLETIONS: &[(&str, &str)] = &[
    ("bash", "drivewatch-cli.bash"),
    ("zsh", "_drivewatch-cli"),
    ("fish", "drivewatch-cli.fish"),
];

pub fn run_bundle(args: &[String]) -> Result<(), String> {
    let check = match args {
        [] => false,
        [a] if a == "--check" => true,
        _ => return Err(format!("`bundle` takes only --check, got {args:?}")),
    };
    deps::run()?;
    let cli = tauri_cli()?;

    step("UI (npm run build)");
    let mut c = Command::new("npm");
    c.args(["run", "--silent", "build"])
        .current_dir(repo_root().join("ui"));
    run(c)?;

    // The desktop binary is built by tauri-cli (it picks the features a bundled app needs),
    // without packing yet: the packages need files generated from the binaries first.
    step("desktop app (release build)");
    let mut c = Command::new(&cli);
    c.args(["build", "--no-bundle", "--", "--locked"])
        .current_dir(repo_root().join("src-tauri"));
    run(c)?;

    step("drivewatch-cli (release build)");
    let mut c = cargo();
    c.args([
        "build",
        "--release",
        "--locked",
        "--package",
        "drivewatch-cli",
    ]);
    run(c)?;

    let release = target_dir()?.join("release");
    step("generated package files (src-tauri/generated)");
    generate(&release, &repo_root().join("src-tauri/generated"))?;

    step("packages (.deb, .rpm)");
    let mut c = Command::new(&cli);
    c.args(["bundle", "--bundles", "deb,rpm"])
        .current_dir(repo_root().join("src-tauri"));
    run(c)?;

    let bundles = release.join("bundle");
    if check {
        step("package check (.deb into a scratch root, .rpm file list)");
        package_check::run(&bundles)?;
    }
    println!(
        "\nxtask bundle: the .deb is under {}, the .rpm under {}",
        bundles.join("deb").display(),
        bundles.join("rpm").display()
    );
    Ok(())
}

/// The version of tauri-cli that packs the app; the same release line as the `@tauri-apps/api`
/// the window uses.
const TAURI_CLI: &str = "2.12.5";

/// tauri-cli from the tools folder, installed there on first use. It comes from npm, where
/// `@tauri-apps/cli` ships the same program prebuilt for each platform: installing it takes
/// seconds, where `cargo install tauri-cli` compiles for 15 to 35 minutes on a small machine.
fn tauri_cli() -> Result<PathBuf, String> {
    let root = deps::tools_root().join("tauri-cli");
    let cli = root.join("node_modules").join(".bin").join("tauri");
    let installed = std::fs::read_to_string(root.join("node_modules/@tauri-apps/cli/package.json"))
        .map(|s| s.contains(&format!("\"version\": \"{TAURI_CLI}\"")))
        .unwrap_or(false);
    if !(installed && cli.is_file()) {
        step(&format!(
            "installing tauri-cli {TAURI_CLI} into {} (once, from npm)",
            root.display()
        ));
        std::fs::create_dir_all(&root)
            .map_err(|e| format!("cannot create {}: {e}", root.display()))?;
        let mut c = Command::new("npm");
        c.args([
            "install",
            "--no-save",
            "--no-audit",
            "--no-fund",
            "--prefix",
        ])
        .arg(&root)
        .arg(format!("@tauri-apps/cli@{TAURI_CLI}"));
        run(c)?;
    }
    Ok(cli)
}

/// Fills `out` (emptied first) from the release binaries in `release`: a copy of the CLI, the
/// man pages of both binaries (gzipped, as both distribution families ship them) and the
/// completion scripts.
fn generate(release: &Path, out: &Path) -> Result<(), String> {
    if out.exists() {
        std::fs::remove_dir_all(out).map_err(|e| format!("cannot empty {}: {e}", out.display()))?;
    }
    let man = out.join("man1");
    let completions = out.join("completions");
    for dir in [&man, &completions] {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let cli = release.join("drivewatch-cli");
    let desktop = release.join("drivewatch");
    std::fs::copy(&cli, out.join("drivewatch-cli"))
        .map_err(|e| format!("cannot copy {}: {e}", cli.display()))?;

    let mut c = Command::new(&desktop);
    c.arg("--manpages").arg(&man);
    run(c)?;
    let mut c = Command::new(&cli);
    c.arg("__manpages").arg(&man);
    run(c)?;
    let mut c = Command::new("gzip");
    // -n: no name or time stamp inside, so the same sources give the same bytes.
    c.args(["-9", "-n", "-f"]).args(files_in(&man)?);
    run(c)?;

    for (shell, name) in COMPLETIONS {
        let out = Command::new(&cli)
            .args(["completions", shell])
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| format!("could not start {}: {e}", cli.display()))?;
        if !out.status.success() || out.stdout.is_empty() {
            return Err(format!(
                "`drivewatch-cli completions {shell}` failed ({})",
                out.status
            ));
        }
        let path = completions.join(name);
        std::fs::write(&path, &out.stdout)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    println!(
        "generated: drivewatch-cli, {} man pages, completions for {}",
        files_in(&man)?.len(),
        COMPLETIONS
            .iter()
            .map(|(s, _)| *s)
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

fn files_in(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// Cargo's target folder as cargo itself resolves it (`CARGO_TARGET_DIR`, a config file, or
/// `target/` in the workspace), where tauri-cli puts the binaries and the packages too.
fn target_dir() -> Result<PathBuf, String> {
    let out = cargo()
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(repo_root())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("could not start cargo metadata: {e}"))?;
    let json = String::from_utf8_lossy(&out.stdout);
    json_string(&json, "target_directory")
        .map(PathBuf::from)
        .ok_or_else(|| "cargo metadata did not say where the target folder is".to_owned())
}

/// The string value of a top-level `key` of a JSON document (cargo metadata, tauri.conf.json).
pub fn json_string(json: &str, key: &str) -> Option<String> {
    let doc: serde_json::Value = serde_json::from_str(json).ok()?;
    doc.get(key)?.as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::json_string;

    #[test]
    fn json_string_reads_cargo_metadata_and_the_tauri_config() {
        let metadata = r#"{"packages":[],"target_directory":"/home/u/.cache/t","version":1}"#;
        assert_eq!(
            json_string(metadata, "target_directory").as_deref(),
            Some("/home/u/.cache/t")
        );
        let conf = "{\n  \"identifier\": \"app.drivewatch.desktop\",\n  \"version\" : \"0.1.0\"\n}";
        assert_eq!(
            json_string(conf, "identifier").as_deref(),
            Some("app.drivewatch.desktop")
        );
        assert_eq!(json_string(conf, "version").as_deref(), Some("0.1.0"));
        assert_eq!(json_string(conf, "missing"), None);
        assert_eq!(json_string(r#"{"n": 3}"#, "n"), None);
        // Only the top level counts, and escapes are decoded.
        assert_eq!(json_string(r#"{"a":{"version":"9"}}"#, "version"), None);
        assert_eq!(
            json_string(r#"{"p":"C:\\x \"y\""}"#, "p").as_deref(),
            Some(r#"C:\x "y""#)
        );
        assert_eq!(json_string("not json", "p"), None);
    }
}
