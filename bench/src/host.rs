//! The measured process: a minimal headless host of the engine, run as a child of the benchmark
//! (the `drivewatch-bench-host` binary).
//!
//! Memory and CPU figures must describe DriveWatch's own process, not the benchmark's or the
//! emulator's, so the engine runs here, alone, as `drivewatch-cli watch` runs it, in a binary
//! of its own that links none of the benchmark's or the emulator's code (their pages would count
//! in its RSS): settings and a
//! stored token from a home folder, the shipped engine options, events out. It prints one JSON
//! line per event with the milliseconds since it started, and stops cleanly when its stdin
//! closes. It must never print a token, a notification URL or a file name.

use std::path::Path;
use std::time::Instant;

use drivewatch_core::config::{Config, Paths};
use drivewatch_core::engine::{Engine, EngineOptions};
use drivewatch_core::model::{EngineEvent, TargetStatus};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt;
use tokio::sync::broadcast::error::RecvError;

/// One line of the host's output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "camelCase")]
pub enum HostLine {
    /// `Engine::start` returned.
    Started {
        ms: f64,
    },
    Status {
        ms: f64,
        status: String,
        items: Option<u64>,
    },
    Changes {
        ms: f64,
        count: usize,
    },
    Stopped {
        ms: f64,
    },
}

/// A short name of a status, as the benchmark reads it.
pub fn status_name(status: &TargetStatus) -> &'static str {
    match status {
        TargetStatus::Connecting => "connecting",
        TargetStatus::Live => "live",
        TargetStatus::Polling { .. } => "polling",
        TargetStatus::Reconnecting { .. } => "reconnecting",
        TargetStatus::Throttled { .. } => "throttled",
        TargetStatus::Resyncing { .. } => "resyncing",
        TargetStatus::NeedsSignIn => "needsSignIn",
        TargetStatus::Error { .. } => "error",
        TargetStatus::Stopped => "stopped",
    }
}

fn emit(line: &HostLine) {
    if let Ok(text) = serde_json::to_string(line) {
        println!("{text}");
    }
}

/// Runs the engine from `home` until stdin closes.
pub async fn run(home: &Path) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let ms = move || t0.elapsed().as_secs_f64() * 1000.0;
    let paths = Paths::under(home);
    let config = Config::load(&paths.config_file())?;
    let options = EngineOptions::from_config(&config);
    let engine = Engine::start(config, paths, options).await?;
    let mut events = engine.subscribe();
    emit(&HostLine::Started { ms: ms() });
    let mut stdin = tokio::io::stdin();
    let mut sink = [0u8; 64];
    loop {
        tokio::select! {
            read = stdin.read(&mut sink) => {
                if matches!(read, Ok(0) | Err(_)) {
                    break;
                }
            }
            event = events.recv() => match event {
                Ok(EngineEvent::Status { target }) => {
                    let items = match target.status {
                        TargetStatus::Resyncing { items, .. } => Some(items),
                        _ => None,
                    };
                    emit(&HostLine::Status { ms: ms(), status: status_name(&target.status).into(), items });
                }
                Ok(EngineEvent::Changes { batch }) => {
                    emit(&HostLine::Changes { ms: ms(), count: batch.changes.len() });
                }
                Ok(EngineEvent::AccountChanged { .. }) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => break,
            }
        }
    }
    engine.shutdown().await;
    emit(&HostLine::Stopped { ms: ms() });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip_as_tagged_json() {
        let line = HostLine::Status {
            ms: 12.5,
            status: "resyncing".into(),
            items: Some(200),
        };
        let text = serde_json::to_string(&line).unwrap();
        assert_eq!(
            text,
            r#"{"event":"status","ms":12.5,"status":"resyncing","items":200}"#
        );
        assert_eq!(serde_json::from_str::<HostLine>(&text).unwrap(), line);
    }
}
