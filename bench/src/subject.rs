//! Drives the measured process (see `host`) from the benchmark: start it, read its lines with
//! the instant each arrived, read its `/proc` figures, stop it.
//!
//! It must never leave the child running: stopping closes its stdin (a clean shutdown) and
//! kills it only if it has not exited within a few seconds; dropping does the same.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout};

use crate::error::BenchError;
use crate::host::HostLine;

/// A running host process.
pub struct Subject {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::UnboundedReceiver<(Instant, HostLine)>,
    pub pid: u32,
    pub spawned: Instant,
    /// `drivewatch-cli watch` stops on SIGTERM (sent with `kill`), the host on stdin closing.
    terminate: bool,
}

/// The status text `drivewatch-cli watch` prints on stderr once push is live.
const CLI_LIVE: &str = "live (push)";

impl Subject {
    /// Starts this binary's `host` mode over `home`.
    pub fn spawn(home: &Path) -> Result<Subject, BenchError> {
        let exe = std::env::current_exe().map_err(BenchError::Spawn)?;
        let spawned = Instant::now();
        let mut child = Command::new(exe)
            .arg("host")
            .arg("--home")
            .arg(home)
            .env("DRIVEWATCH_HOME", home)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(BenchError::Spawn)?;
        let pid = child
            .id()
            .ok_or(BenchError::HostEnded { what: "it started" })?;
        let stdout = child.stdout.take().ok_or(BenchError::HostEnded {
            what: "its output was read",
        })?;
        let stdin = child.stdin.take();
        let (tx, lines) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                let at = Instant::now();
                if let Ok(parsed) = serde_json::from_str::<HostLine>(&line) {
                    if tx.send((at, parsed)).is_err() {
                        return;
                    }
                }
            }
        });
        Ok(Subject {
            child,
            stdin,
            lines,
            pid,
            spawned,
            terminate: false,
        })
    }

    /// Starts `drivewatch-cli watch --json` over `home`. Its status lines (stderr) become
    /// `HostLine::Status` with the benchmark's own clock (`ms` since spawn); only "live" is read.
    pub fn spawn_cli(cli: &Path, home: &Path) -> Result<Subject, BenchError> {
        let spawned = Instant::now();
        let mut child = Command::new(cli)
            .args(["watch", "--json"])
            .env("DRIVEWATCH_HOME", home)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(BenchError::Spawn)?;
        let pid = child
            .id()
            .ok_or(BenchError::HostEnded { what: "it started" })?;
        let stderr = child.stderr.take().ok_or(BenchError::HostEnded {
            what: "its output was read",
        })?;
        let (tx, lines) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                let at = Instant::now();
                if line.contains(CLI_LIVE) {
                    let ms = at.saturating_duration_since(spawned).as_secs_f64() * 1000.0;
                    let status = HostLine::Status {
                        ms,
                        status: "live".into(),
                        items: None,
                    };
                    if tx.send((at, status)).is_err() {
                        return;
                    }
                }
            }
        });
        Ok(Subject {
            child,
            stdin: None,
            lines,
            pid,
            spawned,
            terminate: true,
        })
    }

    /// The next line, with the instant it arrived.
    pub async fn next(
        &mut self,
        deadline: Instant,
        what: &'static str,
    ) -> Result<(Instant, HostLine), BenchError> {
        match timeout(
            deadline.saturating_duration_since(Instant::now()),
            self.lines.recv(),
        )
        .await
        {
            Err(_) => Err(BenchError::Timeout { what }),
            Ok(None) => Err(BenchError::HostEnded { what }),
            Ok(Some(line)) => Ok(line),
        }
    }

    /// Asks the host to stop (stdin closes) and waits; kills it after `grace`.
    pub async fn stop(mut self, grace: Duration) {
        drop(self.stdin.take());
        if self.terminate {
            let _ = Command::new("kill")
                .args(["-TERM", &self.pid.to_string()])
                .status()
                .await;
        }
        if timeout(grace, self.child.wait()).await.is_err() {
            let _ = self.child.kill().await;
        }
    }
}
