//! Build script: Tauri's code generation, plus a stand-in page when the web UI is not built.
//!
//! `tauri::generate_context!` embeds `../ui/dist` at compile time and fails when it is missing,
//! which would make `cargo clippy --workspace` depend on `npm run build`. When there is no
//! built UI, a one-page stand-in saying how to build it is written there (the folder is
//! git-ignored). It never overwrites a real build.

use std::path::Path;

const STAND_IN: &str = "<!doctype html>
<html lang=\"en\"><head><meta charset=\"utf-8\"><title>DriveWatch</title></head>
<body><h1>DriveWatch</h1>
<p>The window's interface is not built. Run <code>npm run build</code> in <code>ui/</code>,
then build DriveWatch again.</p></body></html>
";

/// Every IPC command, as in `src/ipc.rs`; `tests/capabilities.rs` checks the two agree.
const COMMANDS: [&str; 15] = [
    "get_snapshot",
    "start_sign_in",
    "cancel_sign_in",
    "sign_out",
    "list_changes",
    "add_target",
    "remove_target",
    "save_preferences",
    "set_pause",
    "open_change",
    "open_verification_page",
    "set_client_id",
    "mute_folder",
    "unmute",
    "mark_seen",
];

fn main() {
    let dist = Path::new("../ui/dist");
    if !dist.join("index.html").exists() {
        if let Err(e) = std::fs::create_dir_all(dist)
            .and_then(|()| std::fs::write(dist.join("index.html"), STAND_IN))
        {
            println!("cargo:warning=could not write a stand-in UI into ../ui/dist: {e}");
        }
    }
    println!("cargo:rerun-if-changed=../ui/dist");
    // Declaring the app's commands makes each one a permission (`allow-get-snapshot`, ...), so
    // a window may call only the commands its capability file lists.
    let manifest = tauri_build::AppManifest::new().commands(&COMMANDS);
    if let Err(e) = tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest)) {
        // Show the whole chain: tauri-build's errors say which file or permission is wrong.
        panic!("tauri-build failed: {e:#}");
    }
}
