//! The committed TypeScript bindings (`ui/src/bindings.ts`) are exactly what the Rust
//! declarations generate; this test fails on drift and, with `DRIVEWATCH_WRITE_BINDINGS=1`,
//! rewrites the file. It must never write anywhere else.

use std::path::PathBuf;

fn committed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("src-tauri sits in the repository root")
        .join("ui/src/bindings.ts")
}

#[test]
fn committed_bindings_match_the_rust_declarations() {
    let builder = drivewatch_desktop::specta_builder::<tauri::test::MockRuntime>();
    let generated = drivewatch_desktop::render_bindings(&builder).expect("bindings render");
    let path = committed_path();
    if std::env::var_os("DRIVEWATCH_WRITE_BINDINGS").is_some() {
        std::fs::write(&path, &generated).expect("writing ui/src/bindings.ts");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "ui/src/bindings.ts differs from the Rust IPC declarations; regenerate it with \
         DRIVEWATCH_WRITE_BINDINGS=1 cargo test -p drivewatch --test bindings"
    );
}

#[test]
fn bindings_follow_the_contract() {
    let builder = drivewatch_desktop::specta_builder::<tauri::test::MockRuntime>();
    let ts = drivewatch_desktop::render_bindings(&builder).expect("bindings render");
    for needle in [
        "getSnapshot: () => __TAURI_INVOKE<AppSnapshot>(\"get_snapshot\")",
        "startSignIn: (kind: AccountKind) => typedError<DeviceCodePrompt, AppError>(",
        "openChange: (seq: number, folder: boolean) => typedError<null, AppError>(",
        "setPause: (pause: PauseFor) => typedError<AppSnapshot, AppError>(",
        "changesAdded: makeEvent<ChangesAdded, ChangesAdded>(\"changes-added\")",
        "focusChange: makeEvent<FocusChange, FocusChange>(\"focus-change\")",
        "export type Result<T, E> = { status: \"ok\"; data: T } | { status: \"error\"; error: E };",
        "export type PauseFor = \"oneHour\" | \"untilTomorrow\" | \"resume\"",
        "pausedUntil: string | null",
    ] {
        assert!(ts.contains(needle), "bindings lack `{needle}`:\n{ts}");
    }
    assert!(!ts.contains("bigint"), "integers must be numbers");
}
