//! `cargo xtask`: the project's own task runner.
//!
//! Plain std on purpose: it must build in seconds on a fresh machine, before anything else,
//! and it is the one place that knows how the pieces are checked together. Every task stops at
//! the first failure and lets each runner print its own summary.

mod bundle;
mod deps;
mod package_check;
mod steps;
mod windows;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  deps    install what is missing (Debian packages, npm packages); nothing when all is present
  demo    run DriveWatch in demo mode against the built-in emulator (no account needed)
  test    formatting, lints, every Rust test, the UI's checks, the cross-process suites and
          the packages (bundle --check)
  bundle  build the .deb and the .rpm (both binaries, desktop entry, icons, AppStream metainfo,
          completions, man pages; installs tauri-cli once into a cache outside the repo);
          `--check` then checks what they install (the last step of `test`)
  windows build DriveWatch for Windows (Debian's Rust and MinGW-w64): the desktop app and the CLI
          in DriveWatch-<version>-windows-x64.zip, under the Windows target folder
  bench   measure latency, bursts, scale and footprint against the emulator (release build,
          about 6 minutes); writes bench/REPORT.md and bench/report.json (`--quick`: a smoke run)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("deps") => deps::run(),
        Some("demo") => steps::demo(&args[1..]),
        Some("test") => steps::test(&args[1..]),
        Some("bench") => steps::bench(&args[1..]),
        Some("bundle") => bundle::run_bundle(&args[1..]),
        Some("windows") => windows::task(&args[1..]),
        Some("-h" | "--help" | "help") => {
            print!("{USAGE}");
            Ok(())
        }
        other => {
            eprint!(
                "{}{USAGE}",
                other
                    .map(|o| format!("unknown task `{o}`\n\n"))
                    .unwrap_or_default()
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
