//! The steps of `cargo xtask test`, `cargo xtask demo` and `cargo xtask bench`, in the order they run.

use std::path::PathBuf;
use std::process::Command;

use crate::deps;

pub fn repo_root() -> PathBuf {
    // xtask/ sits directly under the repository root. `cargo run` sets CARGO_MANIFEST_DIR at run
    // time too; that one wins, because a shared target dir can hold an xtask binary built from
    // another checkout, whose compile-time path points there.
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Runs a command from the repository root (unless it has its own directory), passing its
/// output through, and turns a failure into an error that names the command.
pub fn run(mut cmd: Command) -> Result<(), String> {
    if cmd.get_current_dir().is_none() {
        cmd.current_dir(repo_root());
    }
    let shown = format!("{cmd:?}");
    let status = cmd
        .status()
        .map_err(|e| format!("could not start {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed ({status})"))
    }
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn has_nextest() -> bool {
    cargo()
        .args(["nextest", "--version"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn npm_script_exists(dir: &std::path::Path, script: &str) -> bool {
    std::fs::read_to_string(dir.join("package.json"))
        .map(|s| s.contains(&format!("\"{script}\"")))
        .unwrap_or(false)
}

pub fn test(args: &[String]) -> Result<(), String> {
    if !args.is_empty() {
        return Err(format!("`test` takes no arguments, got {args:?}"));
    }
    deps::run()?;

    // The desktop app embeds `ui/dist` when it compiles, and its end-to-end and WebDriver suites
    // look at the real window: build the UI before anything compiles it.
    step("ui (build)");
    let mut c = Command::new("npm");
    c.args(["run", "--silent", "build"])
        .current_dir(repo_root().join("ui"));
    run(c)?;

    step("rustfmt");
    let mut c = cargo();
    c.args(["fmt", "--all", "--check"]);
    run(c)?;

    step("clippy");
    let mut c = cargo();
    c.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--locked",
        "--",
        "-D",
        "warnings",
    ]);
    run(c)?;

    step("Rust tests");
    let mut c = cargo();
    if has_nextest() {
        c.args([
            "nextest",
            "run",
            "--workspace",
            "--locked",
            "--no-fail-fast",
        ]);
    } else {
        c.args(["test", "--workspace", "--locked"]);
    }
    run(c)?;

    // The desktop exe built for Windows, then the core's and the CLI's tests under Wine.
    crate::windows::test()?;

    // The UI and the cross-process suites: every npm project runs its own checks.
    for dir in deps::npm_projects() {
        for script in ["check", "lint", "test"] {
            if npm_script_exists(&dir, script) {
                step(&format!("{} ({script})", deps::rel(&dir)));
                let mut c = Command::new("npm");
                c.args(["run", "--silent", script]).current_dir(&dir);
                run(c)?;
            }
        }
    }

    // Last, as it is the slowest from cold (tauri-cli, two release builds): the packages hold
    // what distributions expect, where they expect it.
    step("packages (cargo xtask bundle --check)");
    crate::bundle::run_bundle(&["--check".to_owned()])?;

    println!("\nxtask test: every step passed");
    Ok(())
}

pub fn demo(args: &[String]) -> Result<(), String> {
    deps::run()?;
    // The window shows the built UI (`ui/dist`), embedded when the desktop app is compiled.
    let ui = repo_root().join("ui");
    let mut c = Command::new("npm");
    c.args(["run", "--silent", "build"]).current_dir(&ui);
    run(c)?;
    let mut c = cargo();
    c.args(["run", "--quiet", "--package", "drivewatch", "--", "--demo"])
        .args(args);
    run(c)
}

/// Builds the benchmarks in release mode and runs them; they write `bench/REPORT.md` and
/// `bench/report.json`. A missed target is reported, never an error: only a harness failure is.
/// `--quick` is a smoke run of the harness: its report goes to the temporary folder so the
/// committed one always comes from a full run; so does a partial run (`--only SECTION`).
pub fn bench(args: &[String]) -> Result<(), String> {
    let quick = args
        .iter()
        .any(|a| a == "--quick" || a == "--only" || a.starts_with("--only="));
    let out = if quick {
        std::env::temp_dir().join("drivewatch-bench")
    } else {
        PathBuf::from("bench")
    };
    // The benchmark's package is built whole: `run` below builds only its main binary, and the
    // engine-alone host it measures is a binary of its own.
    let mut bench = cargo();
    bench.args([
        "build",
        "--quiet",
        "--release",
        "--package",
        "drivewatch-bench",
    ]);
    run(bench)?;
    // The CLI is measured as its own process when it builds; the report says so when not.
    let mut cli = cargo();
    cli.args([
        "build",
        "--quiet",
        "--release",
        "--package",
        "drivewatch-cli",
    ]);
    if let Err(e) = run(cli) {
        eprintln!("xtask: {e}; its footprint will be reported as not measured");
    }
    // So is the desktop app (window closed, on Xvfb); it embeds the built UI. The first
    // release build of the desktop app takes long (WebKitGTK bindings); later ones are quick.
    if wants_desktop(args) {
        let mut ui = Command::new("npm");
        ui.args(["run", "--silent", "build"])
            .current_dir(repo_root().join("ui"));
        let mut app = cargo();
        app.args(["build", "--quiet", "--release", "--package", "drivewatch"]);
        if let Err(e) = run(ui).and_then(|()| run(app)) {
            eprintln!("xtask: {e}; the desktop app's footprint will be reported as not measured");
        }
    }
    let mut c = cargo();
    c.args([
        "run",
        "--quiet",
        "--release",
        "--package",
        "drivewatch-bench",
        "--bin",
        "drivewatch-bench",
        "--",
        "run",
        "--out",
    ])
    .arg(out)
    .args(args);
    run(c)
}

/// Whether a bench run measures the desktop app: a full run, `--only footprint` or `--only soak`.
fn wants_desktop(args: &[String]) -> bool {
    let mut only = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--only" {
            only.extend(it.next().cloned());
        } else if let Some(v) = a.strip_prefix("--only=") {
            only.push(v.to_owned());
        }
    }
    only.is_empty() || only.iter().any(|o| o == "footprint" || o == "soak")
}

pub fn step(name: &str) {
    println!("\n==> {name}");
}

#[cfg(test)]
mod tests {
    use super::wants_desktop;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_desktop_app_is_built_only_when_its_footprint_is_measured() {
        assert!(wants_desktop(&args(&[])));
        assert!(wants_desktop(&args(&["--quick"])));
        assert!(wants_desktop(&args(&["--only", "footprint"])));
        assert!(wants_desktop(&args(&[
            "--only",
            "soak",
            "--soak-minutes",
            "3"
        ])));
        assert!(wants_desktop(&args(&[
            "--only=latency",
            "--only=footprint"
        ])));
        assert!(!wants_desktop(&args(&["--only", "latency"])));
        assert!(!wants_desktop(&args(&["--only=scale", "--quick"])));
    }
}
