//! A signed-in engine for the push-through-proxy tests, and waiting for its statuses and
//! changes. It must never wait without a deadline.

use std::sync::Arc;
use std::time::Duration;

use drivewatch_core::push::PushTransport;
use graph_emulator::Emulator;

/// A signed-in engine watching the demo user's drive through `transport`.
pub struct Watch {
    pub engine: drivewatch_core::engine::Engine,
    pub events: tokio::sync::broadcast::Receiver<drivewatch_core::model::EngineEvent>,
    pub drive: String,
    _dir: tempfile::TempDir,
}

/// Engine timings for tests; `failures_before_polling` decides how soon push gives up.
pub fn engine_options(
    transport: Arc<dyn PushTransport>,
    failures_before_polling: u32,
) -> drivewatch_core::engine::EngineOptions {
    drivewatch_core::engine::EngineOptions {
        push: drivewatch_core::push::PushConfig {
            poll_interval: Duration::from_secs(60),
            push_retry_interval: Duration::from_secs(300),
            failures_before_polling,
            backoff_max: Duration::from_millis(500),
            ..crate::common::push_config()
        },
        ..crate::common::engine_options(transport)
    }
}

impl Watch {
    /// Starts an engine against `emu` (which auto-approves `user`), signs in and waits until the
    /// baseline is done and push is live.
    pub async fn start(
        emu: &Emulator,
        user: &str,
        options: drivewatch_core::engine::EngineOptions,
    ) -> Self {
        use drivewatch_core::model::TargetStatus;
        let mut resynced = false;
        Self::start_until(emu, user, options, |s| {
            if matches!(s, TargetStatus::Resyncing { .. }) {
                resynced = true;
            }
            resynced && *s == TargetStatus::Live
        })
        .await
        .0
    }

    /// Like [`Watch::start`], but waits for the first status `want` accepts and returns it.
    pub async fn start_until(
        emu: &Emulator,
        user: &str,
        options: drivewatch_core::engine::EngineOptions,
        want: impl FnMut(&drivewatch_core::model::TargetStatus) -> bool,
    ) -> (Self, drivewatch_core::model::TargetStatus) {
        use drivewatch_core::config::Paths;
        use drivewatch_core::model::{AccountKind, SignInEvent};
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::under(dir.path());
        let config = crate::common::config(emu);
        let engine = drivewatch_core::engine::Engine::start(config, paths, options)
            .await
            .unwrap();
        let mut events = engine.subscribe();
        tokio::time::timeout(
            Duration::from_secs(20),
            engine.sign_in(AccountKind::Any, &|e: SignInEvent| {
                if let SignInEvent::Failed { message } = e {
                    panic!("sign-in failed: {message}");
                }
            }),
        )
        .await
        .expect("sign-in in time")
        .unwrap();
        let status = wait_status(&mut events, Duration::from_secs(20), want).await;
        let watch = Self {
            engine,
            events,
            drive: emu.drive_of(user).unwrap(),
            _dir: dir,
        };
        (watch, status)
    }

    /// The next changes batch's paths, or panics after `within`.
    pub async fn next_changes(&mut self, within: Duration) -> Vec<String> {
        use drivewatch_core::model::EngineEvent;
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout(left, self.events.recv()).await {
                Ok(Ok(EngineEvent::Changes { batch })) => {
                    return batch.changes.into_iter().map(|c| c.path).collect();
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => panic!("event stream: {e}"),
                Err(_) => panic!("no change within {within:?}"),
            }
        }
    }
}

/// Waits for a status `want` accepts; panics with what it saw otherwise.
pub async fn wait_status(
    events: &mut tokio::sync::broadcast::Receiver<drivewatch_core::model::EngineEvent>,
    within: Duration,
    mut want: impl FnMut(&drivewatch_core::model::TargetStatus) -> bool,
) -> drivewatch_core::model::TargetStatus {
    use drivewatch_core::model::EngineEvent;
    let deadline = tokio::time::Instant::now() + within;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, events.recv()).await {
            Ok(Ok(EngineEvent::Status { target })) if want(&target.status) => {
                return target.status;
            }
            Ok(Ok(EngineEvent::Status { target })) => seen.push(target.status),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => panic!("event stream: {e}"),
            Err(_) => panic!("no wanted status within {within:?}; saw {seen:?}"),
        }
    }
}
