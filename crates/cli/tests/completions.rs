//! `drivewatch-cli completions SHELL` and the hidden `__manpages DIR` on the real binary: every
//! shell clap_complete knows gets a script of its own kind, bash really loads it, and the man
//! pages cover the command and each subcommand. Neither may read the settings: each test points
//! DRIVEWATCH_HOME at a folder whose settings file is broken.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use assert_cmd::cargo::CommandCargoExt;

/// The binary with a clean environment and an unreadable settings file.
fn cli(home: &Path) -> Command {
    std::fs::write(home.join("config.toml"), "this is = = not toml").unwrap();
    let mut cmd = Command::cargo_bin("drivewatch-cli").unwrap();
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("DRIVEWATCH_HOME", home)
        .stdin(Stdio::null());
    cmd
}

fn run(args: &[&str]) -> (Output, String) {
    let home = tempfile::tempdir().unwrap();
    let out = cli(home.path()).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (out, stdout)
}

#[test]
fn every_shell_gets_a_script_of_its_own_kind() {
    // What only a real completion script for that shell contains.
    let shells = [
        ("bash", "complete -F _drivewatch__cli"),
        ("zsh", "#compdef drivewatch-cli"),
        ("fish", "complete -c drivewatch-cli"),
        ("elvish", "edit:completion:arg-completer[drivewatch-cli]"),
        ("powershell", "Register-ArgumentCompleter"),
    ];
    for (shell, marker) in shells {
        let (out, script) = run(&["completions", shell]);
        assert!(
            out.status.success(),
            "{shell}: {:?} {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(script.contains(marker), "{shell} script lacks {marker:?}");
        for word in ["watch", "targets", "history", "client-id", "completions"] {
            assert!(
                script.contains(word),
                "{shell} script does not offer {word}"
            );
        }
        assert!(
            !script.contains("manpages"),
            "{shell} script offers the hidden generator"
        );
        assert!(out.stderr.is_empty(), "{shell}: nothing goes to stderr");
    }
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let (out, stdout) = run(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("tcsh"));
}

#[test]
fn bash_loads_the_script() {
    if Command::new("bash").arg("--version").output().is_err() {
        eprintln!("skipped: no bash");
        return;
    }
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("config.toml"), "not = = toml").unwrap();
    let bin = assert_cmd::cargo::cargo_bin("drivewatch-cli");
    // Exactly what a user's ~/.bashrc line does.
    let out = Command::new("bash")
        .args([
            "--norc",
            "-c",
            "source <(\"$0\" completions bash) && complete -p drivewatch-cli",
        ])
        .arg(&bin)
        .env("DRIVEWATCH_HOME", home.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{:?} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("-F _drivewatch__cli") && stdout.trim_end().ends_with("drivewatch-cli"),
        "complete -p said {stdout:?}"
    );
}

#[test]
fn man_pages_cover_the_command_and_each_subcommand() {
    let home = tempfile::tempdir().unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let out = cli(home.path())
        .arg("__manpages")
        .arg(out_dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{:?} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let page = |name: &str| std::fs::read_to_string(out_dir.path().join(name));
    let main = page("drivewatch-cli.1").expect("drivewatch-cli.1 is written");
    assert!(main.contains(".TH drivewatch-cli 1"));
    for word in ["watch", "targets", "completions", "client\\-id"] {
        assert!(main.contains(word), "drivewatch-cli.1 lacks {word}");
    }
    for sub in ["login", "watch", "history", "targets-add", "completions"] {
        let name = format!("drivewatch-cli-{sub}.1");
        let text = page(&name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            text.contains(&format!(".TH drivewatch-cli-{sub} 1")),
            "{name}"
        );
    }
    // Neither the hidden generator nor clap's `help` gets a page.
    let mut names: Vec<String> = std::fs::read_dir(out_dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(
        names
            .iter()
            .all(|n| !n.contains("manpages") && !n.ends_with("-help.1")),
        "{names:?}"
    );
    assert!(
        !String::from_utf8_lossy(&cli(home.path()).arg("--help").output().unwrap().stdout)
            .contains("manpages")
    );
}
