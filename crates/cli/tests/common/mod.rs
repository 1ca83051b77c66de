//! What every CLI test needs: an emulator that approves the demo user's sign-in, a private
//! DRIVEWATCH_HOME, and a way to run the real binary against both (with nothing of the
//! developer's own environment leaking in).

// Each test binary uses part of this module.
#![allow(dead_code)]

pub mod child;

use std::process::{Command, Stdio};

use assert_cmd::cargo::CommandCargoExt;
use graph_emulator::seed::demo;
use graph_emulator::{Emulator, EmulatorConfig};

pub struct Setup {
    pub emu: Emulator,
    pub home: tempfile::TempDir,
}

pub async fn setup() -> Setup {
    setup_with(EmulatorConfig::for_tests().with_auto_approve(demo::DEMO_USER)).await
}

/// Like [`setup`], with an emulator of its own configuration.
pub async fn setup_with(config: EmulatorConfig) -> Setup {
    let emu = Emulator::start(config).await.expect("emulator starts");
    Setup {
        emu,
        home: tempfile::tempdir().unwrap(),
    }
}

impl Setup {
    pub fn cli(&self) -> Command {
        let mut cmd = Command::cargo_bin("drivewatch-cli").unwrap();
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("DRIVEWATCH_HOME", self.home.path())
            .env("DRIVEWATCH_AUTHORITY_URL", self.emu.authority_url())
            .env("DRIVEWATCH_GRAPH_URL", self.emu.graph_url())
            .env("DRIVEWATCH_CLIENT_ID", "drivewatch-cli-tests")
            .env("DRIVEWATCH_TOKEN_STORE", "file")
            .stdin(Stdio::null());
        cmd
    }

    /// Runs to the end off the async threads (the emulator keeps serving).
    pub async fn run(&self, args: &[&str]) -> Output {
        let mut cmd = self.cli();
        cmd.args(args);
        let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap();
        Output {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

#[derive(Debug)]
pub struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}
