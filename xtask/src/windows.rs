//! `cargo xtask windows` and the Windows step of `cargo xtask test`: DriveWatch for Windows,
//! built on Debian and tested under Wine.
//!
//! The build uses Debian's own Rust (`/usr/bin/cargo`, `/usr/bin/rustc`, with the standard
//! library built from source by `-Zbuild-std`) and MinGW-w64's linker, so no rustup target and
//! no Windows SDK are needed. It keeps its own target folder, so it never invalidates the Linux
//! builds of the same checkout. Two targets, for two reasons:
//! - `x86_64-pc-windows-gnu` for what ships (Windows 10 and 11);
//! - `x86_64-win7-windows-gnu` for what runs under Wine here: since Rust 1.78 the standard
//!   library of the first imports `bcryptprimitives.dll`, which Wine 8 lacks, so such an exe
//!   stops at load; the win7 target uses the older API.
//!
//! This module must never touch the Linux target folder, never run Wine with the user's own
//! prefix (it uses one in a cache folder) and never ship a DLL the exes do not import.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::deps;
use crate::steps::{repo_root, run};

/// Where Windows programs ship to.
pub const SHIP_TARGET: &str = "x86_64-pc-windows-gnu";
/// Where the programs that run under Wine are built.
pub const WINE_TARGET: &str = "x86_64-win7-windows-gnu";

/// Windows' own DLLs (and Wine's): present on every Windows 10/11, never shipped.
const SYSTEM_DLLS: &[&str] = &[
    "advapi32",
    "bcrypt",
    "bcryptprimitives",
    "combase",
    "comctl32",
    "comdlg32",
    "crypt32",
    "dbghelp",
    "dwmapi",
    "gdi32",
    "gdiplus",
    "imm32",
    "iphlpapi",
    "kernel32",
    "ktmw32",
    "msimg32",
    "msvcrt",
    "ncrypt",
    "ntdll",
    "ole32",
    "oleacc",
    "oleaut32",
    "powrprof",
    "propsys",
    "rpcrt4",
    "secur32",
    "setupapi",
    "shell32",
    "shlwapi",
    "ucrtbase",
    "user32",
    "userenv",
    "uxtheme",
    "version",
    "winhttp",
    "winmm",
    "winspool.drv",
    "ws2_32",
    "wtsapi32",
];

/// The two programs of the download, by package and exe name.
const EXES: [(&str, &str); 2] = [
    ("drivewatch", "drivewatch.exe"),
    ("drivewatch-cli", "drivewatch-cli.exe"),
];

/// `cargo xtask windows`: the Windows download, `DriveWatch-<version>-windows-x64.zip`.
pub fn task(args: &[String]) -> Result<(), String> {
    if !args.is_empty() {
        return Err(format!("`windows` takes no arguments, got {args:?}"));
    }
    deps::run()?;
    let ui = repo_root().join("ui");
    let mut c = Command::new("npm");
    c.args(["run", "--silent", "build"]).current_dir(&ui);
    run(c)?;
    let zip = build_zip()?;
    println!("\nxtask windows: {}", zip.display());
    Ok(())
}

/// The Windows step of `cargo xtask test`: the desktop app is built for Windows 10/11 (a debug
/// build: its `cfg(windows)` code compiles and the exe links with MinGW-w64), the core's and the
/// CLI's tests run under Wine, and so does one demo run of the CLI. The download itself, a
/// release build, is `cargo xtask windows`'s job: building it here too would add most of an
/// hour to a cold CI run. The desktop exe is not run: tauri's start-up constructor (`ctor`)
/// does not support the win7 target Wine runs, and Wine cannot open its WebView2 window anyway.
pub fn test() -> Result<(), String> {
    let started = Instant::now();
    step("Windows: drivewatch.exe for Windows 10/11 (debug build)");
    let mut c = windows_cargo(SHIP_TARGET);
    c.args([
        "build",
        "--locked",
        "--target",
        SHIP_TARGET,
        "-p",
        EXES[0].0,
    ]);
    run(c)?;
    let exe = target_dir().join(SHIP_TARGET).join("debug").join(EXES[0].1);
    let bytes = std::fs::read(&exe).map_err(|e| format!("{}: {e}", exe.display()))?;
    if !is_pe32_plus_x64(&bytes) {
        return Err(format!("{} is not a PE32+ x86-64 program", exe.display()));
    }
    println!(
        "windows: {} is a PE32+ x86-64 program ({:.0?})",
        exe.display(),
        started.elapsed()
    );

    step("Windows: core and CLI tests under Wine");
    let wine = wine_env()?;
    let mut c = windows_cargo(WINE_TARGET);
    c.args([
        "test",
        "--no-run",
        "--locked",
        "--message-format=json-render-diagnostics",
    ])
    .args([
        "-p",
        "drivewatch-core",
        "-p",
        "drivewatch-cli",
        "--target",
        WINE_TARGET,
    ])
    .stdout(Stdio::piped());
    let built = c
        .output()
        .map_err(|e| format!("could not start /usr/bin/cargo: {e}"))?;
    if !built.status.success() {
        return Err("building the tests for Windows failed".into());
    }
    let tests = test_programs(&String::from_utf8_lossy(&built.stdout));
    if tests.is_empty() {
        return Err("cargo built no test programs for Windows".into());
    }
    // Each program runs from its package's folder, as `cargo test` runs it; all of them run
    // even when one fails, and the failures are named together.
    let mut failed = Vec::new();
    for (exe, dir) in &tests {
        let mut c = Command::new("wine");
        c.arg(exe).current_dir(dir);
        for (k, v) in &wine {
            c.env(k, v);
        }
        println!("windows: {}", exe.display());
        if let Err(e) = run(c) {
            failed.push(e);
        }
    }
    if !failed.is_empty() {
        return Err(format!(
            "{} of {} test programs failed under Wine:\n{}",
            failed.len(),
            tests.len(),
            failed.join("\n")
        ));
    }

    step("Windows: drivewatch-cli.exe --demo watch --json under Wine");
    let cli = target_dir()
        .join(WINE_TARGET)
        .join("debug")
        .join("drivewatch-cli.exe");
    let changes = demo_changes(&cli, &wine, 3, Duration::from_secs(60))?;
    for line in &changes {
        println!("  {line}");
    }
    println!(
        "\nwindows: every step passed ({:.0?} in all)",
        started.elapsed()
    );
    Ok(())
}

/// The test programs in cargo's JSON messages, each with the folder of its package. A test
/// program is an artifact built with the test profile; a binary built for integration tests
/// (`CARGO_BIN_EXE_*`) has `"test":true` in its *target* but not in its profile.
fn test_programs(messages: &str) -> Vec<(PathBuf, PathBuf)> {
    messages
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["profile"]["test"] == true)
        .filter_map(|m| {
            let exe = PathBuf::from(m["executable"].as_str()?);
            let manifest = PathBuf::from(m["manifest_path"].as_str()?);
            Some((exe, manifest.parent()?.to_path_buf()))
        })
        .collect()
}

/// Builds both exes for Windows 10/11 in release mode, checks what they import and packs them.
fn build_zip() -> Result<PathBuf, String> {
    let mut c = windows_cargo(SHIP_TARGET);
    c.args(["build", "--release", "--locked", "--target", SHIP_TARGET]);
    for (package, _) in EXES {
        c.args(["-p", package]);
    }
    run(c)?;

    let out = target_dir().join(SHIP_TARGET).join("release");
    let version = env!("CARGO_PKG_VERSION");
    let name = format!("DriveWatch-{version}-windows-x64");
    let stage = target_dir().join("dist").join(&name);
    if stage.exists() {
        std::fs::remove_dir_all(&stage).map_err(|e| format!("{}: {e}", stage.display()))?;
    }
    std::fs::create_dir_all(&stage).map_err(|e| format!("{}: {e}", stage.display()))?;

    let mut shipped: Vec<String> = Vec::new();
    for (_, exe) in EXES {
        let path = out.join(exe);
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        if !is_pe32_plus_x64(&bytes) {
            return Err(format!("{} is not a PE32+ x86-64 program", path.display()));
        }
        copy(&path, &stage.join(exe))?;
        for dll in imported_dlls(&path)? {
            if is_system_dll(&dll) || shipped.iter().any(|s| s.eq_ignore_ascii_case(&dll)) {
                continue;
            }
            let found = dll_sources(&out)
                .into_iter()
                .map(|d| d.join(&dll))
                .find(|p| p.is_file())
                .ok_or_else(|| {
                    format!("{exe} imports {dll}, which is neither Windows' own nor built here")
                })?;
            copy(&found, &stage.join(&dll))?;
            shipped.push(dll);
        }
    }
    std::fs::write(stage.join("README.txt"), read_me(version, &shipped))
        .map_err(|e| format!("README.txt: {e}"))?;
    for licence in ["LICENSE-MIT", "LICENSE-APACHE"] {
        copy(
            &repo_root().join(licence),
            &stage.join(format!("{licence}.txt")),
        )?;
    }

    let zip = target_dir().join("dist").join(format!("{name}.zip"));
    let _ = std::fs::remove_file(&zip);
    let mut c = Command::new("zip");
    c.args(["-q", "-r", "-X"])
        .arg(&zip)
        .arg(&name)
        .current_dir(target_dir().join("dist"));
    run(c)?;
    Ok(zip)
}

/// Where the DLLs an exe may need are found: next to it (WebView2Loader.dll is put there by
/// tauri-build) and MinGW-w64's runtime folders.
fn dll_sources(out: &Path) -> Vec<PathBuf> {
    let mut dirs = vec![out.to_path_buf()];
    dirs.push(PathBuf::from("/usr/x86_64-w64-mingw32/lib"));
    for base in ["/usr/lib/gcc/x86_64-w64-mingw32"] {
        if let Ok(entries) = std::fs::read_dir(base) {
            dirs.extend(entries.flatten().map(|e| e.path()));
        }
    }
    dirs
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::copy(from, to)
        .map(drop)
        .map_err(|e| format!("copying {} to {}: {e}", from.display(), to.display()))
}

/// The DLLs an exe imports, as its import table names them.
fn imported_dlls(exe: &Path) -> Result<Vec<String>, String> {
    let out = Command::new("x86_64-w64-mingw32-objdump")
        .arg("-p")
        .arg(exe)
        .output()
        .map_err(|e| format!("could not start x86_64-w64-mingw32-objdump: {e}"))?;
    if !out.status.success() {
        return Err(format!("objdump -p {} failed", exe.display()));
    }
    Ok(parse_dll_names(&String::from_utf8_lossy(&out.stdout)))
}

fn parse_dll_names(objdump: &str) -> Vec<String> {
    let mut names: Vec<String> = objdump
        .lines()
        .filter_map(|l| l.trim().strip_prefix("DLL Name:"))
        .map(|n| n.trim().to_owned())
        .collect();
    names.sort_by_key(|n| n.to_ascii_lowercase());
    names.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    names
}

fn is_system_dll(dll: &str) -> bool {
    let lower = dll.to_ascii_lowercase();
    // The API sets (api-ms-win-*, ext-ms-win-*) are Windows' own by definition.
    if lower.starts_with("api-ms-win-") || lower.starts_with("ext-ms-win-") {
        return true;
    }
    let stem = lower.strip_suffix(".dll").unwrap_or(&lower);
    SYSTEM_DLLS.contains(&stem)
}

/// What `file` calls "PE32+ executable ... x86-64": the MZ stub, the PE signature, machine
/// AMD64 (0x8664) and the PE32+ optional header (magic 0x20b).
fn is_pe32_plus_x64(bytes: &[u8]) -> bool {
    let u16_at = |at: usize| {
        bytes
            .get(at..at + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    let Some(pe) = bytes
        .get(0x3c..0x40)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    else {
        return false;
    };
    bytes.starts_with(b"MZ")
        && bytes.get(pe..pe + 4) == Some(b"PE\0\0")
        && u16_at(pe + 4) == Some(0x8664)
        && u16_at(pe + 24) == Some(0x20b)
}

fn read_me(version: &str, dlls: &[String]) -> String {
    let dlls = if dlls.is_empty() {
        String::new()
    } else {
        format!(
            "  {}  what drivewatch.exe loads its window with (keep it next to the exe)\n",
            dlls.join(", ")
        )
    };
    format!(
        "DriveWatch {version} for Windows 10 and 11 (x64)\r\n\
         \r\n\
         DriveWatch tells you, the moment it happens, what changed in your OneDrive and\r\n\
         SharePoint libraries, as Windows notifications and in a recent-changes list behind a\r\n\
         tray icon.\r\n\
         \r\n\
         What is in this folder:\r\n\
         \x20 drivewatch.exe      the desktop app (tray icon, notifications, window)\r\n\
         \x20 drivewatch-cli.exe  the same engine in a terminal: drivewatch-cli --help\r\n\
         {dlls}\
         \r\n\
         First run: unzip the folder anywhere you keep programs (for example your own\r\n\
         AppData\\Local\\Programs), then start drivewatch.exe. It adds a DriveWatch shortcut to\r\n\
         the Start menu, which Windows needs to show its notifications under DriveWatch's name;\r\n\
         `drivewatch.exe --uninstall-shortcut` removes it again. Try it without an account:\r\n\
         `drivewatch.exe --demo`.\r\n\
         \r\n\
         The window needs Microsoft Edge WebView2, which Windows 10 and 11 already have.\r\n\
         Settings live in %APPDATA%\\DriveWatch\\drivewatch\\config, the change history in\r\n\
         %LOCALAPPDATA%\\DriveWatch\\drivewatch\\data and sign-in tokens in Windows Credential\r\n\
         Manager. To remove DriveWatch: turn off Start at login in its Settings, run\r\n\
         `drivewatch.exe --uninstall-shortcut`, then delete this folder.\r\n\
         \r\n\
         More: https://github.com/drivewatch/drivewatch\r\n"
    )
    .replace('\n', "\r\n")
    .replace("\r\r\n", "\r\n")
}

/// Debian's cargo and rustc building for a Windows target into the Windows target folder.
fn windows_cargo(target: &str) -> Command {
    let mut c = Command::new("/usr/bin/cargo");
    let linker_var = format!(
        "CARGO_TARGET_{}_LINKER",
        target.to_ascii_uppercase().replace('-', "_")
    );
    // The rustup toolchain that runs xtask sets these for its own children; Debian's cargo must
    // not inherit them.
    for var in [
        "RUSTUP_TOOLCHAIN",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTDOC",
    ] {
        c.env_remove(var);
    }
    c.arg("-Zbuild-std")
        .env("RUSTC", "/usr/bin/rustc")
        // -Zbuild-std is unstable; Debian's stable compiler allows it when asked like this.
        .env("RUSTC_BOOTSTRAP", "1")
        .env(linker_var, "x86_64-w64-mingw32-gcc")
        .env("CARGO_TARGET_DIR", target_dir());
    c
}

/// The Windows builds' own target folder: `DRIVEWATCH_WINDOWS_TARGET_DIR`, else one in the
/// user's cache next to the Linux one.
pub fn target_dir() -> PathBuf {
    std::env::var_os("DRIVEWATCH_WINDOWS_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".cache/drivewatch/target-windows"))
        })
        .unwrap_or_else(|| std::env::temp_dir().join("drivewatch-target-windows"))
}

/// Wine's settings for every run: a prefix of its own in a cache folder (created on first
/// use, about 20 s), no debug chatter, and no window or dialog asked for.
fn wine_env() -> Result<Vec<(String, String)>, String> {
    let prefix = std::env::var_os("HOME")
        .map(|h| PathBuf::from(h).join(".cache/drivewatch/wine"))
        .unwrap_or_else(|| std::env::temp_dir().join("drivewatch-wine"));
    let env = vec![
        ("WINEPREFIX".to_owned(), prefix.display().to_string()),
        ("WINEDEBUG".to_owned(), "-all".to_owned()),
        // No Mono or Gecko installer dialogs: console programs need neither.
        ("WINEDLLOVERRIDES".to_owned(), "mscoree,mshtml=".to_owned()),
        ("WINEARCH".to_owned(), "win64".to_owned()),
    ];
    if !prefix.join("system.reg").is_file() {
        println!("windows: creating the Wine prefix {}", prefix.display());
        let mut c = Command::new("wineboot");
        c.arg("--init");
        for (k, v) in &env {
            c.env(k, v);
        }
        run(c)?;
    }
    Ok(env)
}

/// Runs `drivewatch-cli.exe --demo watch --json` under Wine until it printed `want` changes
/// (or `within` passed), then stops it; the changes are its NDJSON lines.
fn demo_changes(
    cli: &Path,
    wine: &[(String, String)],
    want: usize,
    within: Duration,
) -> Result<Vec<String>, String> {
    let started = Instant::now();
    let mut c = Command::new("wine");
    c.arg(cli)
        .args(["--demo", "watch", "--json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in wine {
        c.env(k, v);
    }
    let mut child = c
        .spawn()
        .map_err(|e| format!("could not start wine {}: {e}", cli.display()))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut changes = Vec::new();
    while changes.len() < want {
        let left = within.saturating_sub(started.elapsed());
        match rx.recv_timeout(left) {
            Ok(line) if is_change(&line) => changes.push(line),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    if changes.len() < want {
        return Err(format!(
            "drivewatch-cli.exe --demo watch --json printed {} of {want} changes within {within:?}",
            changes.len()
        ));
    }
    println!(
        "windows: {want} changes as NDJSON after {:.1?}",
        started.elapsed()
    );
    Ok(changes)
}

/// A line of `watch --json`: one JSON object with a change's `kind` and `path`.
fn is_change(line: &str) -> bool {
    let line = line.trim();
    line.starts_with('{')
        && line.ends_with('}')
        && line.contains("\"kind\":")
        && line.contains("\"path\":")
}

fn step(name: &str) {
    println!("\n==> {name}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dll_names_come_from_the_import_table() {
        let objdump = "\
There is an import table in .idata at 0x140
\tDLL Name: KERNEL32.dll
\tvma:  Hint/Ord Member-Name Bound-To
\tDLL Name: WebView2Loader.dll
\tDLL Name: kernel32.dll
\tDLL Name: api-ms-win-core-synch-l1-2-0.dll
";
        assert_eq!(
            parse_dll_names(objdump),
            [
                "api-ms-win-core-synch-l1-2-0.dll",
                "KERNEL32.dll",
                "WebView2Loader.dll"
            ]
        );
    }

    #[test]
    fn only_dlls_windows_lacks_are_shipped() {
        assert!(is_system_dll("KERNEL32.dll"));
        assert!(is_system_dll("bcryptprimitives.dll"));
        assert!(is_system_dll("api-ms-win-core-synch-l1-2-0.dll"));
        assert!(!is_system_dll("WebView2Loader.dll"));
        assert!(!is_system_dll("libwinpthread-1.dll"));
    }

    #[test]
    fn a_pe32_plus_x64_header_is_recognised() {
        let mut exe = vec![0u8; 0x200];
        exe[..2].copy_from_slice(b"MZ");
        exe[0x3c..0x40].copy_from_slice(&0x80u32.to_le_bytes());
        exe[0x80..0x84].copy_from_slice(b"PE\0\0");
        exe[0x84..0x86].copy_from_slice(&0x8664u16.to_le_bytes());
        exe[0x98..0x9a].copy_from_slice(&0x20bu16.to_le_bytes());
        assert!(is_pe32_plus_x64(&exe));
        let mut pe32 = exe.clone();
        pe32[0x98..0x9a].copy_from_slice(&0x10bu16.to_le_bytes());
        assert!(!is_pe32_plus_x64(&pe32));
        assert!(!is_pe32_plus_x64(b"MZ"));
        assert!(!is_pe32_plus_x64(b"\x7fELF"));
    }

    #[test]
    fn change_lines_are_told_from_other_output() {
        assert!(is_change(
            r#"{"seq":1,"kind":"created","name":"a.txt","path":"/a.txt"}"#
        ));
        assert!(!is_change("watching 1 target"));
        assert!(!is_change(r#"{"status":"live"}"#));
    }

    #[test]
    fn the_read_me_uses_windows_line_ends_and_names_shipped_dlls() {
        let text = read_me("1.2.3", &["WebView2Loader.dll".to_owned()]);
        assert!(text.starts_with("DriveWatch 1.2.3 for Windows"));
        assert!(text.contains("WebView2Loader.dll"));
        assert!(!text.replace("\r\n", "").contains('\n'));
        assert!(!text.contains("\r\r"));
    }

    #[test]
    fn test_programs_are_read_from_cargo_messages() {
        let messages = concat!(
            r#"{"reason":"compiler-artifact","package_id":"x","manifest_path":"/r/crates/cli/Cargo.toml","#,
            r#""target":{"kind":["test"],"name":"cli"},"profile":{"test":true},"executable":"/t/deps/cli-1.exe","fresh":true}"#,
            "\n",
            r#"{"reason":"compiler-artifact","manifest_path":"/r/crates/core/Cargo.toml","profile":{"test":false},"executable":null}"#,
            "\n",
            // The CLI's binary, built for its integration tests: a tested target, not a test.
            r#"{"reason":"compiler-artifact","manifest_path":"/r/crates/cli/Cargo.toml","#,
            r#""target":{"kind":["bin"],"name":"drivewatch-cli","doctest":false,"test":true},"#,
            r#""profile":{"opt_level":"0","test":false},"executable":"/t/debug/drivewatch-cli.exe"}"#,
            "\n",
            r#"{"reason":"compiler-artifact","manifest_path":"/r/crates/core/Cargo.toml","profile":{"test":true},"executable":"/t/deps/a \"b\".exe"}"#,
            "\n",
            r#"{"reason":"build-finished","success":true}"#,
        );
        assert_eq!(
            test_programs(messages),
            [
                (
                    PathBuf::from("/t/deps/cli-1.exe"),
                    PathBuf::from("/r/crates/cli")
                ),
                (
                    PathBuf::from("/t/deps/a \"b\".exe"),
                    PathBuf::from("/r/crates/core")
                ),
            ]
        );
    }

    #[test]
    fn the_linker_variable_follows_the_target() {
        let c = windows_cargo(WINE_TARGET);
        assert!(c.get_envs().any(|(k, v)| {
            k == "CARGO_TARGET_X86_64_WIN7_WINDOWS_GNU_LINKER"
                && v == Some(std::ffi::OsStr::new("x86_64-w64-mingw32-gcc"))
        }));
    }
}
