//! The test bench's world: the Graph emulator on its own runtime, and signed-in engines.
//!
//! The emulator runs on a dedicated Tokio runtime (own worker thread) so serving Graph does not
//! queue behind the engine's tasks and vice versa; both still share the machine's cores, which
//! the report says. Engines sign in through the real device-code flow (the emulator approves
//! it) and keep their tokens in a file store under a temporary home, exactly what a later start
//! "with a stored token" reads. This module must never talk to anything but 127.0.0.1.

use std::path::Path;
use std::time::Duration;

use drivewatch_core::config::{Config, Paths, TokenStoreKind};
use drivewatch_core::engine::{Engine, EngineOptions};
use drivewatch_core::model::{AccountKind, EngineEvent, SignInEvent, TargetStatus};
use graph_emulator::seed::demo;
use graph_emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::{Instant, timeout};
use url::Url;

use crate::error::BenchError;

/// The signed-in user whose drive is watched.
pub const WATCHER: &str = demo::DEMO_USER;
/// The colleague whose changes DriveWatch reports (own changes give no toast).
pub const CHANGER: &str = demo::ALEX_USER;
/// A client id the emulator accepts (it accepts any).
const CLIENT_ID: &str = "3f1c5b8e-0d2a-4c6b-9e7f-a1b2c3d4e5f6";

/// An emulator with the runtime that serves it. Dropping it stops both.
pub struct EmulatorOnItsOwn {
    emulator: Option<Emulator>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl EmulatorOnItsOwn {
    /// Starts an emulator on a fresh one-worker runtime; the sign-in is approved as [`WATCHER`].
    pub async fn start(config: EmulatorConfig) -> Result<Self, BenchError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("graph-emulator")
            .enable_all()
            .build()
            .map_err(BenchError::Spawn)?;
        let config = config
            .with_auto_approve(WATCHER)
            .with_device_code_interval(Duration::from_secs(1));
        let emulator = runtime
            .spawn(Emulator::start(config))
            .await
            .map_err(|e| BenchError::Spawn(std::io::Error::other(e)))??;
        Ok(Self {
            emulator: Some(emulator),
            runtime: Some(runtime),
        })
    }

    pub fn handle(&self) -> EmulatorHandle {
        self.emulator
            .as_ref()
            .map(|e| e.handle())
            .expect("present until dropped")
    }
}

impl Drop for EmulatorOnItsOwn {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            // Dropping the emulator aborts its tasks; they live on `runtime`, so enter it first.
            let guard = runtime.enter();
            drop(self.emulator.take());
            drop(guard);
            runtime.shutdown_background();
        }
    }
}

/// Settings pointing DriveWatch at the emulator, with tokens in files under the home.
pub fn config_for(emu: &EmulatorHandle) -> Config {
    Config {
        authority_url: Url::parse(&emu.authority_url()).expect("emulator URL parses"),
        graph_url: Url::parse(&emu.graph_url()).expect("emulator URL parses"),
        client_id: Some(CLIENT_ID.to_owned()),
        token_store: TokenStoreKind::File,
        ..Config::default()
    }
}

/// A home under which [`WATCHER`] is signed in and past the first enumeration, with the engine
/// that prepared it stopped and its push socket gone: where every measured host starts, so the
/// socket a section then sees is the measured host's, never the preparing engine's.
pub async fn prepared_home(
    emu: &EmulatorHandle,
    home: &Path,
    within: Duration,
) -> Result<(), BenchError> {
    let (engine, _events) = signed_in_engine(emu, home, shipped_options(), within).await?;
    engine.shutdown().await;
    drop(engine);
    let deadline = Instant::now() + Duration::from_secs(5);
    while emu.connected_sockets() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// An engine under `home`, signed in as [`WATCHER`] and past its first enumeration.
pub async fn signed_in_engine(
    emu: &EmulatorHandle,
    home: &Path,
    options: EngineOptions,
    within: Duration,
) -> Result<(Engine, Receiver<EngineEvent>), BenchError> {
    let paths = Paths::under(home);
    let engine = Engine::start(config_for(emu), paths, options).await?;
    let mut events = engine.subscribe();
    let failure = std::sync::Mutex::new(None::<String>);
    let signed = timeout(
        within,
        engine.sign_in(AccountKind::Any, &|e: SignInEvent| {
            if let SignInEvent::Failed { message } = e {
                *failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(message);
            }
        }),
    )
    .await;
    match signed {
        Err(_) => return Err(BenchError::Timeout { what: "sign-in" }),
        Ok(Err(e)) => {
            let message = failure
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take()
                .unwrap_or_else(|| e.to_string());
            return Err(BenchError::SignInFailed { message });
        }
        Ok(Ok(_)) => {}
    }
    wait_synced(&mut events, within).await?;
    Ok((engine, events))
}

/// Waits until a target finished an enumeration and is live (or polling) again.
pub async fn wait_synced(
    events: &mut Receiver<EngineEvent>,
    within: Duration,
) -> Result<(), BenchError> {
    let deadline = Instant::now() + within;
    let mut enumerated = false;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match timeout(left, events.recv()).await {
            Err(_) => {
                return Err(BenchError::Timeout {
                    what: "the first enumeration",
                });
            }
            Ok(Err(RecvError::Closed)) => return Err(BenchError::EventsClosed),
            Ok(Err(RecvError::Lagged(_))) => {}
            Ok(Ok(EngineEvent::Status { target })) => match target.status {
                TargetStatus::Resyncing { .. } => enumerated = true,
                TargetStatus::Live | TargetStatus::Polling { .. } if enumerated => return Ok(()),
                _ => {}
            },
            Ok(Ok(_)) => {}
        }
    }
}

/// The engine's shipped tuning (what `drivewatch-cli watch` and the desktop app use).
pub fn shipped_options() -> EngineOptions {
    EngineOptions::from_config(&Config::default())
}
