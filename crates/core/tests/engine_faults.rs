//! The engine against the Graph emulator on 127.0.0.1, through the fault matrix of issue 4: each
//! test asserts the exact set of changes reported — nothing lost, nothing twice.

use std::time::Duration;

use drivewatch_core::config::{Config, Paths};
use drivewatch_core::engine::{Engine, EngineError, TargetInput};
use drivewatch_core::model::{
    Account, AccountKind, AccountState, Change, ChangeKind, EngineEvent, HistoryQuery, SignInEvent,
    TargetSpec, TargetStatus,
};
use graph_emulator::seed::demo;
use graph_emulator::{Emulator, EmulatorConfig, ResyncCode, ThrottleStatus};
use tokio::sync::broadcast::Receiver;
use tokio::time::{Instant, timeout};

mod common;
mod fault_world;
use fault_world::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_changes_are_classified_and_reported_once() {
    let mut w = world(EmulatorConfig::for_tests()).await;
    w.emu.create_folder(USER, &w.drive, "/DW").unwrap();
    w.emu.upload(USER, &w.drive, "/DW/a.txt", "one").unwrap();
    let got = collect(&mut w.events, 2, GRACE).await;
    assert_eq!(
        summary(&got),
        expect(&[
            (ChangeKind::Created, "/DW"),
            (ChangeKind::Created, "/DW/a.txt")
        ])
    );
    let a = got.iter().find(|c| c.path == "/DW/a.txt").unwrap();
    assert!(a.own, "the signed-in user made it");
    assert_eq!(a.account, w.account.id);
    assert!(!a.caught_up);

    w.emu.edit(USER, &w.drive, "/DW/a.txt", "two").unwrap();
    let got = collect(&mut w.events, 1, GRACE).await;
    assert_eq!(
        summary(&got),
        expect(&[(ChangeKind::Modified, "/DW/a.txt")])
    );

    w.emu.rename(USER, &w.drive, "/DW/a.txt", "b.txt").unwrap();
    let got = collect(&mut w.events, 1, GRACE).await;
    assert_eq!(summary(&got), expect(&[(ChangeKind::Renamed, "/DW/b.txt")]));
    assert_eq!(got[0].old_path.as_deref(), Some("/DW/a.txt"));

    w.emu.create_folder(USER, &w.drive, "/Other").unwrap();
    let _ = collect(&mut w.events, 1, GRACE).await;
    w.emu
        .move_item(USER, &w.drive, "/DW/b.txt", "/Other")
        .unwrap();
    let got = collect(&mut w.events, 1, GRACE).await;
    assert_eq!(
        summary(&got),
        expect(&[(ChangeKind::Moved, "/Other/b.txt")])
    );

    w.emu.delete(USER, &w.drive, "/Other/b.txt").unwrap();
    let got = collect(&mut w.events, 1, GRACE).await;
    assert_eq!(
        summary(&got),
        expect(&[(ChangeKind::Deleted, "/Other/b.txt")])
    );

    // Everything reported is in the history, newest first, once.
    let page = w
        .engine
        .history(HistoryQuery {
            limit: 50,
            text: Some("b.txt".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let kinds: Vec<_> = page.changes.iter().map(|c| c.kind).collect();
    assert_eq!(
        kinds,
        vec![ChangeKind::Deleted, ChangeKind::Moved, ChangeKind::Renamed]
    );
    w.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockets_dropped_mid_burst_lose_nothing() {
    let mut w = world(EmulatorConfig::for_tests()).await;
    for i in 0..4 {
        w.emu
            .upload(USER, &w.drive, &format!("/burst/f{i}.txt"), "x")
            .unwrap();
    }
    assert!(w.emu.drop_all_sockets() >= 1);
    for i in 4..8 {
        w.emu
            .upload(USER, &w.drive, &format!("/burst/f{i}.txt"), "x")
            .unwrap();
    }
    let got = collect(&mut w.events, 9, Duration::from_secs(3)).await;
    let mut want = vec![(ChangeKind::Created, "/burst")];
    let names: Vec<String> = (0..8).map(|i| format!("/burst/f{i}.txt")).collect();
    for n in &names {
        want.push((ChangeKind::Created, n));
    }
    assert_eq!(summary(&got), expect(&want));
    wait_for(&w.engine, &mut w.events, Duration::from_secs(10), |s| {
        *s == TargetStatus::Live
    })
    .await;
    w.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_stops_pinging_is_left_and_rejoined() {
    let mut w = world(EmulatorConfig::for_tests()).await;
    w.emu.stall_pings(true);
    // pingInterval + pingTimeout is 4 s in the test emulator.
    let status = wait_status(&mut w.events, Duration::from_secs(15), |s| {
        matches!(
            s,
            TargetStatus::Reconnecting { .. } | TargetStatus::Polling { .. }
        )
    })
    .await;
    assert!(matches!(
        status,
        TargetStatus::Reconnecting { .. } | TargetStatus::Polling { .. }
    ));
    w.emu
        .upload(USER, &w.drive, "/while-stalled.txt", "x")
        .unwrap();
    w.emu.stall_pings(false);
    let got = collect(&mut w.events, 1, GRACE).await;
    assert_eq!(
        summary(&got),
        expect(&[(ChangeKind::Created, "/while-stalled.txt")])
    );
    wait_for(&w.engine, &mut w.events, Duration::from_secs(15), |s| {
        *s == TargetStatus::Live
    })
    .await;
    w.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_notification_urls_are_renewed() {
    // Subscriptions last 4 s; renewal is due 2 s before: the engine renews on its own.
    let cfg = EmulatorConfig::for_tests().with_subscription_lifetime(Duration::from_secs(4));
    let mut w = world(cfg).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    w.emu
        .upload(USER, &w.drive, "/after-renewal.txt", "x")
        .unwrap();
    let got = collect(&mut w.events, 1, GRACE).await;
    assert_eq!(
        summary(&got),
        expect(&[(ChangeKind::Created, "/after-renewal.txt")])
    );
    // A forced expiry drops the sockets: the engine subscribes again and misses nothing.
    w.emu.expire_notification_urls();
    w.emu
        .upload(USER, &w.drive, "/after-expiry.txt", "x")
        .unwrap();
    let got = collect(&mut w.events, 1, GRACE).await;
    assert_eq!(
        summary(&got),
        expect(&[(ChangeKind::Created, "/after-expiry.txt")])
    );
    assert!(w.emu.connected_sockets() >= 1);
    w.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_is_waited_out_and_nothing_is_lost() {
    let mut w = world(EmulatorConfig::for_tests()).await;
    w.emu
        .throttle_next(1, ThrottleStatus::TooManyRequests, Duration::from_secs(2));
    let started = Instant::now();
    w.emu.upload(USER, &w.drive, "/throttled.txt", "x").unwrap();
    let got = collect(&mut w.events, 1, GRACE).await;
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "no request before Retry-After"
    );
    assert_eq!(
        summary(&got),
        expect(&[(ChangeKind::Created, "/throttled.txt")])
    );
    w.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_410_resync_reports_what_changed_once() {
    let mut w = world(EmulatorConfig::for_tests()).await;
    w.emu.upload(USER, &w.drive, "/keep.txt", "x").unwrap();
    w.emu.upload(USER, &w.drive, "/doomed.txt", "x").unwrap();
    let _ = collect(&mut w.events, 2, GRACE).await;
    w.emu
        .invalidate_delta_tokens(Some(&w.drive), ResyncCode::ResyncRequired)
        .unwrap();
    w.emu.edit(USER, &w.drive, "/keep.txt", "changed").unwrap();
    w.emu.delete(USER, &w.drive, "/doomed.txt").unwrap();
    w.emu.upload(USER, &w.drive, "/fresh.txt", "x").unwrap();
    let got = collect(&mut w.events, 3, Duration::from_secs(2)).await;
    assert_eq!(
        summary(&got),
        expect(&[
            (ChangeKind::Modified, "/keep.txt"),
            (ChangeKind::Deleted, "/doomed.txt"),
            (ChangeKind::Created, "/fresh.txt"),
        ])
    );
    w.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_refresh_token_needs_sign_in_without_looping() {
    let mut w = world(EmulatorConfig::for_tests()).await;
    w.emu.revoke_refresh_tokens(Some(USER)).unwrap();
    w.emu.expire_access_tokens();
    w.emu.upload(USER, &w.drive, "/unseen.txt", "x").unwrap();
    wait_status(&mut w.events, Duration::from_secs(15), |s| {
        *s == TargetStatus::NeedsSignIn
    })
    .await;
    // It stays there: no retry loop flips it back.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let t = &w.engine.targets()[0];
    assert_eq!(t.status, TargetStatus::NeedsSignIn);
    let accounts = w.engine.accounts().unwrap();
    assert_eq!(accounts[0].state, AccountState::NeedsSignIn);
    w.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_run_is_redone_after_restart_and_reported_once() {
    let mut w = world(EmulatorConfig::for_tests().with_delta_page_size(2)).await;
    for i in 0..6 {
        w.emu
            .upload(USER, &w.drive, &format!("/k/f{i}.txt"), "x")
            .unwrap();
    }
    // Slow Graph: the run is mid-way through its pages when the engine dies.
    w.emu.set_latency(Duration::from_millis(400));
    tokio::time::sleep(Duration::from_millis(900)).await;
    w.engine.shutdown().await;
    drop(w.engine);
    // Runs start at the first tap, so the kill may fall after a first batch and during a later
    // run: what was reported before the kill plus what comes after it is every change, once.
    let before: Vec<Change> = {
        let mut out = Vec::new();
        while let Ok(e) = w.events.try_recv() {
            if let EngineEvent::Changes { batch } = e {
                out.extend(batch.changes);
            }
        }
        out
    };
    w.emu.set_latency(Duration::ZERO);
    let (engine, mut events) = engine_in(&w.emu, &w.dir).await;
    let got = collect(&mut events, 7usize.saturating_sub(before.len()), GRACE).await;
    assert!(got.iter().all(|c| c.caught_up));
    let page = engine
        .history(HistoryQuery {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    let all: Vec<Change> = before.into_iter().chain(got).collect();
    let mut want = vec![(ChangeKind::Created, "/k".to_owned())];
    for i in 0..6 {
        want.push((ChangeKind::Created, format!("/k/f{i}.txt")));
    }
    let want: Vec<(ChangeKind, &str)> = want.iter().map(|(k, p)| (*k, p.as_str())).collect();
    assert_eq!(summary(&all), expect(&want));
    assert_eq!(summary(&page.changes), expect(&want), "stored once");
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_made_while_stopped_are_caught_up_once() {
    let w = world(EmulatorConfig::for_tests()).await;
    w.engine.shutdown().await;
    w.emu.upload(USER, &w.drive, "/away/one.txt", "x").unwrap();
    w.emu.upload(USER, &w.drive, "/away/two.txt", "x").unwrap();
    let (engine, mut events) = engine_in(&w.emu, &w.dir).await;
    let got = collect(&mut events, 3, GRACE).await;
    assert_eq!(
        summary(&got),
        expect(&[
            (ChangeKind::Created, "/away"),
            (ChangeKind::Created, "/away/one.txt"),
            (ChangeKind::Created, "/away/two.txt"),
        ])
    );
    assert!(got.iter().all(|c| c.caught_up), "marked as caught up");
    // Another look finds nothing new; a live change afterwards is not marked.
    engine.network_changed();
    w.emu.upload(USER, &w.drive, "/live.txt", "x").unwrap();
    let got = collect(&mut events, 1, GRACE).await;
    assert_eq!(summary(&got), expect(&[(ChangeKind::Created, "/live.txt")]));
    assert!(!got[0].caught_up);
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_supported_falls_back_to_polling_and_returns_to_push() {
    let emu = emulator(EmulatorConfig::for_tests()).await;
    emu.set_socketio_not_supported(Some(USER), true).unwrap();
    let mut w = world_on(emu).await;
    let t = &w.engine.targets()[0];
    assert!(
        matches!(&t.status, TargetStatus::Polling { .. }),
        "{:?}",
        t.status
    );
    w.emu.upload(USER, &w.drive, "/polled.txt", "x").unwrap();
    let got = collect(&mut w.events, 1, GRACE).await;
    assert_eq!(
        summary(&got),
        expect(&[(ChangeKind::Created, "/polled.txt")])
    );
    w.emu.set_socketio_not_supported(Some(USER), false).unwrap();
    wait_for(&w.engine, &mut w.events, Duration::from_secs(10), |s| {
        *s == TargetStatus::Live
    })
    .await;
    w.emu.upload(USER, &w.drive, "/pushed.txt", "x").unwrap();
    let got = collect(&mut w.events, 1, GRACE).await;
    assert_eq!(
        summary(&got),
        expect(&[(ChangeKind::Created, "/pushed.txt")])
    );
    w.engine.shutdown().await;
}

/// Waits until `n` distinct targets each finished an enumeration and are live or polling.
async fn wait_synced_targets(events: &mut Receiver<EngineEvent>, n: usize) {
    let mut resyncing = std::collections::BTreeSet::new();
    let mut done = std::collections::BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while done.len() < n {
        let e = timeout(deadline - Instant::now(), events.recv())
            .await
            .expect("baselines in time")
            .unwrap();
        if let EngineEvent::Status { target } = e {
            match target.status {
                TargetStatus::Resyncing { .. } => {
                    resyncing.insert(target.id);
                }
                TargetStatus::Live | TargetStatus::Polling { .. }
                    if resyncing.contains(&target.id) =>
                {
                    done.insert(target.id);
                }
                _ => {}
            }
        }
    }
}

async fn sign_in_as(engine: &Engine, emu: &Emulator, user: &'static str) -> Account {
    let emu = emu.handle();
    timeout(
        Duration::from_secs(20),
        engine.sign_in(AccountKind::Any, &move |e: SignInEvent| match e {
            SignInEvent::Prompt { prompt } => {
                emu.approve_device_code(&prompt.user_code, user).unwrap();
            }
            SignInEvent::Failed { message } => panic!("sign-in failed: {message}"),
            _ => {}
        }),
    )
    .await
    .expect("sign-in in time")
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_accounts_side_by_side_targets_validated_and_sign_out_forgets_one() {
    let emu = Emulator::start(EmulatorConfig::for_tests()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (engine, mut events) = engine_in(&emu, &dir).await;
    let megan = sign_in_as(&engine, &emu, demo::DEMO_USER).await;
    let alex = sign_in_as(&engine, &emu, demo::ALEX_USER).await;
    assert_ne!(megan.id, alex.id);
    wait_synced_targets(&mut events, 2).await;
    assert_eq!(engine.targets().len(), 2);

    // Bad input is refused and changes nothing.
    assert!(
        engine
            .add_target(&megan.id, TargetInput::Url("not a url".into()))
            .await
            .is_err()
    );
    assert!(
        engine
            .add_target(
                &megan.id,
                TargetInput::Spec(TargetSpec::Drive {
                    drive_id: "b!no-such-drive".into()
                })
            )
            .await
            .is_err()
    );
    assert!(
        engine
            .add_target("nobody", TargetInput::Spec(TargetSpec::MyDrive))
            .await
            .is_err()
    );
    assert_eq!(engine.targets().len(), 2);
    assert!(matches!(
        engine
            .add_target(&megan.id, TargetInput::Spec(TargetSpec::MyDrive))
            .await,
        Err(EngineError::AlreadyWatched(_))
    ));

    // Alex's change shows up under Alex.
    let alex_drive = emu.drive_of(demo::ALEX_USER).unwrap();
    emu.upload(demo::ALEX_USER, &alex_drive, "/alex.txt", "x")
        .unwrap();
    let got = collect(&mut events, 1, GRACE).await;
    assert_eq!(summary(&got), expect(&[(ChangeKind::Created, "/alex.txt")]));
    assert_eq!(got[0].account, alex.id);
    assert!(got[0].own);

    // Signing Megan out leaves Alex, his target and the history alone.
    engine.sign_out(&megan.id).await.unwrap();
    let targets = engine.targets();
    assert_eq!(targets.len(), 1);
    assert_eq!(targets[0].account, alex.id);
    let accounts = engine.accounts().unwrap();
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0].id, alex.id);
    assert!(engine.sign_out(&megan.id).await.is_err());
    emu.upload(demo::ALEX_USER, &alex_drive, "/alex2.txt", "x")
        .unwrap();
    let got = collect(&mut events, 1, GRACE).await;
    assert_eq!(
        summary(&got),
        expect(&[(ChangeKind::Created, "/alex2.txt")])
    );
    let page = engine
        .history(HistoryQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.changes.len(), 2);
    // The settings file lists only Alex's target now.
    let saved = Config::load(&Paths::under(dir.path()).config_file()).unwrap();
    assert_eq!(saved.targets.len(), 1);
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_sign_in_adds_nothing() {
    let emu = Emulator::start(EmulatorConfig::for_tests()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (engine, _events) = engine_in(&emu, &dir).await;
    let cancel = tokio_util::sync::CancellationToken::new();
    let on_prompt = cancel.clone();
    let outcome = timeout(
        Duration::from_secs(10),
        engine.sign_in_until(
            AccountKind::Work,
            &move |e: SignInEvent| {
                if matches!(e, SignInEvent::Prompt { .. }) {
                    on_prompt.cancel();
                }
            },
            &cancel,
        ),
    )
    .await
    .expect("a cancelled sign-in returns promptly");
    assert!(outcome.is_err());
    assert!(engine.accounts().unwrap().is_empty());
    assert!(engine.targets().is_empty());
    engine.shutdown().await;
}
