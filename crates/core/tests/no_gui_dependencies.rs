//! The engine must stay usable without a desktop: no tauri, no webview, no toolkit, no
//! notification daemon client. This test reads the real dependency graph with `cargo tree`.

use std::process::Command;

const FORBIDDEN: &[&str] = &[
    "tauri",
    "wry",
    "tao",
    "gtk",
    "gdk",
    "webkit2gtk",
    "webview2-com",
    "cocoa",
    "objc2-app-kit",
    "notify-rust",
    "tray-icon",
    "muda",
    "winit",
];

#[test]
#[cfg_attr(windows, ignore = "runs cargo tree, a program of the build machine")]
fn core_depends_on_no_gui_crate() {
    let cargo = option_env!("CARGO").unwrap_or("cargo");
    let out = Command::new(cargo)
        .args([
            "tree",
            "--offline",
            "-p",
            "drivewatch-core",
            "-e",
            "normal,build",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    let names: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(
        names.contains(&"drivewatch-core"),
        "cargo tree output unexpected: {tree}"
    );
    let gui: Vec<&&str> = names
        .iter()
        .filter(|n| {
            FORBIDDEN
                .iter()
                .any(|f| n == &f || n.starts_with(&format!("{f}-")))
        })
        .collect();
    assert!(
        gui.is_empty(),
        "drivewatch-core pulls in GUI crates: {gui:?}"
    );
}
