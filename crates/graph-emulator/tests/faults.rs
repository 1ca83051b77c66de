//! Faults over HTTP: throttling with Retry-After, 500s, latency, notSupported, and the HTTP
//! control API mirroring the Rust one.

mod common;

use std::time::{Duration, Instant};

use common::*;
use graph_emulator::seed::demo;
use graph_emulator::{EmulatorConfig, ThrottleStatus};
use serde_json::json;

#[tokio::test]
async fn throttling_failures_and_latency_hit_graph_only() {
    let emu = start().await;
    let (t, _) = emu.issue_tokens(demo::DEMO_USER).unwrap();
    emu.throttle_next(2, ThrottleStatus::TooManyRequests, Duration::from_secs(7));
    for _ in 0..2 {
        let (s, h, e) = get(&emu, &t, "/me/drive").await;
        assert_eq!(s, 429);
        assert_eq!(h["retry-after"], "7");
        assert_eq!(e["error"]["code"], "activityLimitReached");
    }
    assert_eq!(get(&emu, &t, "/me/drive").await.0, 200);
    emu.throttle_next(1, ThrottleStatus::Unavailable, Duration::from_secs(3));
    let (s, h, e) = get(&emu, &t, "/me/drive").await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (503, Some("serviceNotAvailable"))
    );
    assert_eq!(h["retry-after"], "3");
    insta::assert_json_snapshot!("throttled_503", normalize(&e, &emu.authority_url()));
    emu.fail_next(1);
    // The identity platform is not affected by Graph faults.
    let (s, _) = oauth(
        &emu,
        "common",
        "devicecode",
        &[("client_id", CLIENT_ID), ("scope", "Files.Read")],
    )
    .await;
    assert_eq!(s, 200);
    let (s, _, e) = get(&emu, &t, "/me/drive").await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (500, Some("generalException"))
    );
    assert_eq!(get(&emu, &t, "/me/drive").await.0, 200);
    emu.set_latency(Duration::from_millis(1500));
    let started = Instant::now();
    assert_eq!(get(&emu, &t, "/me/drive").await.0, 200);
    assert!(started.elapsed() >= Duration::from_millis(1500));
    emu.clear_faults();
    let started = Instant::now();
    get(&emu, &t, "/me/drive").await;
    assert!(started.elapsed() < Duration::from_millis(1500));
}

#[tokio::test]
async fn socketio_not_supported_for_configured_and_switched_users() {
    let emu =
        start_with(EmulatorConfig::for_tests().with_socketio_not_supported_for(demo::ALEX_USER))
            .await;
    let (alex, _) = emu.issue_tokens(demo::ALEX_USER).unwrap();
    let (megan, _) = emu.issue_tokens(demo::DEMO_USER).unwrap();
    let (s, _, e) = get(&emu, &alex, "/me/drive/root/subscriptions/socketIo").await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (400, Some("notSupported"))
    );
    insta::assert_json_snapshot!(
        "socketio_not_supported",
        normalize(&e, &emu.authority_url())
    );
    assert_eq!(
        get(&emu, &megan, "/me/drive/root/subscriptions/socketIo")
            .await
            .0,
        200
    );
    emu.set_socketio_not_supported(Some(demo::DEMO_USER), true)
        .unwrap();
    assert_eq!(
        get(&emu, &megan, "/me/drive/root/subscriptions/socketIo")
            .await
            .0,
        400
    );
    emu.set_socketio_not_supported(Some(demo::DEMO_USER), false)
        .unwrap();
    assert_eq!(
        get(&emu, &megan, "/me/drive/root/subscriptions/socketIo")
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn control_api_mirrors_the_rust_methods() {
    let emu = start().await;
    let ctl = |p: &str| format!("{}/_emulator/{p}", emu.authority_url());
    let c = http();
    let tok: serde_json::Value = c
        .post(ctl("tokens"))
        .json(&json!({"user": demo::DEMO_USER}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let t = tok["access_token"].as_str().unwrap().to_string();
    let r = c
        .post(ctl("mutate"))
        .json(&json!({"user": demo::ALEX_USER, "drive": demo::DEMO_DRIVE_ID, "op": "upload", "path": "ctl/a.txt", "content": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        emu.content(demo::DEMO_DRIVE_ID, "ctl/a.txt").unwrap(),
        b"hi"
    );
    let r = c
        .post(ctl("mutate"))
        .json(&json!({"user": demo::PERSONAL_USER, "drive": demo::DEMO_DRIVE_ID, "op": "delete", "path": "ctl/a.txt"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    c.post(ctl("faults/throttle"))
        .json(&json!({"count": 1, "status": "429", "retry_after": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(get(&emu, &t, "/me").await.0, 429);
    c.post(ctl("faults/fail"))
        .json(&json!({"count": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(get(&emu, &t, "/me").await.0, 500);
    c.post(ctl("faults/invalidate-delta"))
        .json(&json!({"code": "syncStateNotFound"}))
        .send()
        .await
        .unwrap();
    c.post(ctl("faults/expire-access-tokens"))
        .send()
        .await
        .unwrap();
    assert_eq!(get(&emu, &t, "/me").await.0, 401);
    let r: serde_json::Value = c
        .post(ctl("faults/revoke-refresh-tokens"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(r["revoked"].as_u64().unwrap() >= 1);
    let state: serde_json::Value = c
        .get(ctl("state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["graph"], emu.graph_url());
    assert!(state["users"].as_array().unwrap().len() >= 4);
}
