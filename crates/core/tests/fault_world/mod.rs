//! The world of the fault-matrix tests (`engine_faults.rs`): an emulator, a signed-in engine
//! on its own folder, and waiting for statuses and changes, always with a deadline.

use std::collections::BTreeMap;
use std::time::Duration;

use drivewatch_core::config::{Config, Paths};
use drivewatch_core::engine::{Engine, EngineOptions};
use drivewatch_core::model::{
    Account, AccountKind, Change, ChangeKind, EngineEvent, SignInEvent, TargetStatus,
};
use drivewatch_core::push::PushConfig;
use graph_emulator::seed::demo;
use graph_emulator::{Emulator, EmulatorConfig};
use tokio::sync::broadcast::Receiver;
use tokio::time::{Instant, timeout};

use crate::common;

pub const USER: &str = demo::DEMO_USER;

pub fn options() -> EngineOptions {
    EngineOptions {
        push: PushConfig {
            // Fault tests also cover the fall-back to polling and the return to push.
            poll_interval: Duration::from_millis(500),
            push_retry_interval: Duration::from_secs(3),
            ..common::push_config()
        },
        ..common::engine_options(common::socket_io())
    }
}

pub fn config(emu: &Emulator) -> Config {
    common::config(emu)
}

pub struct World {
    pub emu: Emulator,
    pub dir: tempfile::TempDir,
    pub engine: Engine,
    pub events: Receiver<EngineEvent>,
    pub account: Account,
    pub drive: String,
}

pub async fn emulator(cfg: EmulatorConfig) -> Emulator {
    Emulator::start(cfg.with_auto_approve(USER)).await.unwrap()
}

/// Starts an engine (reading the settings saved in `dir`, if any).
pub async fn engine_in(emu: &Emulator, dir: &tempfile::TempDir) -> (Engine, Receiver<EngineEvent>) {
    let paths = Paths::under(dir.path());
    let cfg = match Config::load(&paths.config_file()) {
        Ok(saved) if !saved.targets.is_empty() => saved,
        _ => config(emu),
    };
    let engine = Engine::start(cfg, paths, options()).await.unwrap();
    let events = engine.subscribe();
    (engine, events)
}

pub async fn world(cfg: EmulatorConfig) -> World {
    world_on(emulator(cfg).await).await
}

pub async fn world_on(emu: Emulator) -> World {
    let dir = tempfile::tempdir().unwrap();
    let (engine, mut events) = engine_in(&emu, &dir).await;
    let account = timeout(
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
    wait_synced(&mut events).await;
    let drive = emu.drive_of(USER).unwrap();
    World {
        emu,
        dir,
        engine,
        events,
        account,
        drive,
    }
}

/// Waits until the target has finished an enumeration (baseline) and is live or polling again.
pub async fn wait_synced(events: &mut Receiver<EngineEvent>) {
    let mut resynced = false;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let e = timeout(deadline - Instant::now(), events.recv())
            .await
            .expect("baseline in time")
            .unwrap();
        if let EngineEvent::Status { target } = e {
            match target.status {
                TargetStatus::Resyncing { .. } => resynced = true,
                TargetStatus::Live | TargetStatus::Polling { .. } if resynced => return,
                _ => {}
            }
        }
    }
}

pub async fn wait_status(
    events: &mut Receiver<EngineEvent>,
    within: Duration,
    mut want: impl FnMut(&TargetStatus) -> bool,
) -> TargetStatus {
    let deadline = Instant::now() + within;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match timeout(left, events.recv()).await {
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

/// Like [`wait_status`], but satisfied at once when the target is already there.
pub async fn wait_for(
    engine: &Engine,
    events: &mut Receiver<EngineEvent>,
    within: Duration,
    want: impl Fn(&TargetStatus) -> bool,
) -> TargetStatus {
    if let Some(t) = engine.targets().into_iter().find(|t| want(&t.status)) {
        return t.status;
    }
    wait_status(events, within, want).await
}

/// Collects changes until `n` arrived, then keeps listening `grace` for extras.
pub async fn collect(events: &mut Receiver<EngineEvent>, n: usize, grace: Duration) -> Vec<Change> {
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while out.len() < n {
        let left = deadline.saturating_duration_since(Instant::now());
        match timeout(left, events.recv()).await {
            Ok(Ok(EngineEvent::Changes { batch })) => out.extend(batch.changes),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => panic!("event stream: {e}"),
            Err(_) => panic!(
                "only {} of {n} changes arrived: {:?}",
                out.len(),
                summary(&out)
            ),
        }
    }
    let until = Instant::now() + grace;
    while let Ok(Ok(e)) = timeout(
        until.saturating_duration_since(Instant::now()),
        events.recv(),
    )
    .await
    {
        if let EngineEvent::Changes { batch } = e {
            out.extend(batch.changes);
        }
    }
    out
}

pub fn summary(changes: &[Change]) -> BTreeMap<(String, String), usize> {
    let mut m = BTreeMap::new();
    for c in changes {
        *m.entry((format!("{:?}", c.kind), c.path.clone()))
            .or_insert(0) += 1;
    }
    m
}

pub fn expect(list: &[(ChangeKind, &str)]) -> BTreeMap<(String, String), usize> {
    let mut m = BTreeMap::new();
    for (k, p) in list {
        *m.entry((format!("{k:?}"), (*p).to_owned())).or_insert(0) += 1;
    }
    m
}

pub const GRACE: Duration = Duration::from_millis(1500);
