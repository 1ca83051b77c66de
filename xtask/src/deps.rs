//! `cargo xtask deps`: make a Debian/Ubuntu machine with only Rust and Node able to build, run
//! and test everything. Idempotent and fast when nothing is missing: it asks dpkg and compares
//! npm lock files before doing anything slow.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::steps::{repo_root, run as run_cmd};

/// Debian packages and why each is needed (one purpose per entry; it may name several).
pub const APT_PACKAGES: &[(&str, &str)] = &[
    ("pkg-config", "finding the C libraries below"),
    ("libssl-dev", "TLS for HTTPS and secure WebSockets"),
    (
        "libdbus-1-dev",
        "the OS keyring and desktop notifications over D-Bus",
    ),
    (
        "libwebkit2gtk-4.1-dev",
        "the desktop window (Tauri on Linux)",
    ),
    ("libayatana-appindicator3-dev", "the tray icon"),
    ("librsvg2-dev", "tray and app icons"),
    ("libsoup-3.0-dev", "WebKitGTK's network layer"),
    ("libxdo-dev", "Tauri's menus on X11"),
    ("xvfb", "a virtual display for desktop tests"),
    ("xauth", "xvfb-run"),
    (
        "rpm",
        "listing the .rpm's files (cargo xtask bundle --check)",
    ),
    (
        "appstream",
        "validating the AppStream metainfo (appstreamcli)",
    ),
    (
        "desktop-file-utils",
        "validating the desktop entry (desktop-file-validate)",
    ),
    ("dbus", "a session bus for desktop tests"),
    ("chromium", "browser tests of the web UI"),
    ("webkit2gtk-driver", "WebDriver tests of the desktop window"),
    (
        "squid",
        "a real HTTP proxy for the push-through-proxy tests",
    ),
    (
        // cargo-web is only a recommendation of rustc-web, and recommendations are not installed.
        "rustc-web cargo-web rust-web-src gcc-mingw-w64-x86-64 wine wine64 zip",
        "Windows builds, tested under Wine (windows.rs)",
    ),
];

pub fn run() -> Result<(), String> {
    apt()?;
    tauri_driver()?;
    npm()
}

/// Where tools built from crates.io (tauri-driver, tauri-cli) live: outside the clone, so every
/// checkout and CI run reuses them. `DRIVEWATCH_TOOLS` overrides it.
pub fn tools_root() -> PathBuf {
    std::env::var_os("DRIVEWATCH_TOOLS")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/drivewatch/tools"))
        })
        .unwrap_or_else(|| std::env::temp_dir().join("drivewatch-tools"))
}

/// tauri-driver, the WebDriver front of the desktop window's browser tests. It is looked up on
/// `PATH` first, then in the tools folder, and installed there from crates.io when missing.
fn tauri_driver() -> Result<(), String> {
    let in_tools = tools_root().join("bin").join("tauri-driver");
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join("tauri-driver").is_file()))
        .unwrap_or(false);
    if on_path || in_tools.is_file() {
        println!("deps: tauri-driver present");
        return Ok(());
    }
    println!(
        "deps: installing tauri-driver into {} (once)",
        tools_root().display()
    );
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.args(["install", "tauri-driver", "--locked", "--quiet", "--root"])
        .arg(tools_root());
    run_cmd(c)
}

fn apt() -> Result<(), String> {
    let names: Vec<&str> = APT_PACKAGES
        .iter()
        .flat_map(|(n, _)| n.split_whitespace())
        .collect();
    let missing = missing_debian_packages(&names);
    if missing.is_empty() {
        println!("deps: Debian packages present ({})", names.len());
        return Ok(());
    }
    if !Path::new("/usr/bin/apt-get").exists() {
        return Err(format!(
            "not a Debian/Ubuntu machine; install the equivalents of: {}",
            missing.join(" ")
        ));
    }
    let as_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let sudo_ok = !as_root
        && Command::new("sudo")
            .args(["-n", "true"])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
    if !as_root && !sudo_ok {
        return Err(format!(
            "missing Debian packages, and neither root nor password-less sudo is available.\n\
             Install them with:\n  sudo apt-get install -y {}",
            missing.join(" ")
        ));
    }
    println!("deps: installing {}", missing.join(" "));
    let apt_cmd = |args: &[&str]| {
        let mut c = if as_root {
            Command::new("apt-get")
        } else {
            let mut c = Command::new("sudo");
            c.args(["-n", "apt-get"]);
            c
        };
        c.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        c
    };
    run_cmd(apt_cmd(&["update", "-qq"]))?;
    let mut install = apt_cmd(&["install", "-y", "-qq", "--no-install-recommends"]);
    install.args(&missing);
    run_cmd(install)?;
    let still = missing_debian_packages(&names);
    if still.is_empty() {
        Ok(())
    } else {
        Err(format!("apt-get did not install: {}", still.join(" ")))
    }
}

/// Packages dpkg does not report as installed.
fn missing_debian_packages<'a>(names: &[&'a str]) -> Vec<&'a str> {
    names
        .iter()
        .copied()
        .filter(|name| {
            Command::new("dpkg-query")
                .args(["-W", "-f=${db:Status-Abbrev}", name])
                .output()
                .map(|o| !String::from_utf8_lossy(&o.stdout).starts_with("ii"))
                .unwrap_or(true)
        })
        .collect()
}

/// Every npm project of the repository: `ui/` and the suites under `tests/`.
pub fn npm_projects() -> Vec<PathBuf> {
    let root = repo_root();
    let mut dirs = vec![root.join("ui")];
    if let Ok(entries) = std::fs::read_dir(root.join("tests")) {
        let mut suites: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        suites.sort();
        dirs.extend(suites);
    }
    dirs.into_iter()
        .filter(|d| d.join("package.json").is_file())
        .collect()
}

fn npm() -> Result<(), String> {
    for dir in npm_projects() {
        let lock = dir.join("package-lock.json");
        let installed = dir.join("node_modules/.package-lock.json");
        if is_newer(&installed, &lock) && is_newer(&installed, &dir.join("package.json")) {
            println!("deps: npm packages present in {}", rel(&dir));
            continue;
        }
        println!("deps: npm ci in {}", rel(&dir));
        let mut c = Command::new("npm");
        c.args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir);
        run_cmd(c)?;
    }
    Ok(())
}

fn is_newer(a: &Path, b: &Path) -> bool {
    let m = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    match (m(a), m(b)) {
        (Some(a), Some(b)) => a >= b,
        _ => false,
    }
}

pub fn rel(p: &Path) -> String {
    p.strip_prefix(repo_root())
        .unwrap_or(p)
        .display()
        .to_string()
}
