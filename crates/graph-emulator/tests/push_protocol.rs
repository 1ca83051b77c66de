//! Every fact of docs/PROTOCOL.md §2 about the push service, checked packet by packet with
//! Engine.IO spoken by hand over a websocket: websocket transport only (polling refused), the
//! URL's path is the namespace and its query is kept, both join styles, the open packet's ping
//! values, the real frame's shape, expiry and renewal, one event per item in realistic mode.
//! (notSupported is in `faults.rs`; echo of one's own changes and drive scoping in `push.rs`.)

mod common;

use std::time::Duration;

use common::eio::{RawSocket, open, split_notification_url};
use common::*;
use graph_emulator::seed::demo;
use graph_emulator::{Emulator, EmulatorConfig};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(5);

async fn subscribe(emu: &Emulator, token: &str) -> Value {
    let (s, _, sub) = get(emu, token, "/me/drive/root/subscriptions/socketIo").await;
    assert_eq!(s, 200, "{sub}");
    sub
}

/// A socket joined to `/notifications` only (Microsoft's sample's way).
async fn joined(emu: &Emulator, token: &str) -> (RawSocket, Value) {
    let sub = subscribe(emu, token).await;
    let (authority, query) = split_notification_url(sub["notificationUrl"].as_str().unwrap());
    let (mut ws, _) = open(&authority, &query).await.unwrap();
    ws.send("40/notifications,").await;
    let ack = ws.expect_prefix("40/notifications,", WAIT).await.unwrap();
    assert!(ack.contains("\"sid\""), "{ack}");
    (ws, sub)
}

/// The `notification` frame's argument, parsed: the argument must be a string holding JSON.
fn frame_body(packet: &str) -> Value {
    let args: Value = serde_json::from_str(
        packet
            .strip_prefix("42/notifications,")
            .expect("on /notifications"),
    )
    .unwrap();
    assert_eq!(args[0], "notification");
    assert_eq!(args.as_array().unwrap().len(), 2, "{packet}");
    let text = args[1].as_str().expect("the argument is a JSON string");
    serde_json::from_str(text).expect("the string holds JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_polling_is_refused_and_websocket_is_the_only_transport() {
    let emu = start().await;
    let (megan, _) = emu.issue_tokens(demo::DEMO_USER).unwrap();
    let sub = subscribe(&emu, &megan).await;
    let (authority, query) = split_notification_url(sub["notificationUrl"].as_str().unwrap());
    for q in [
        format!("EIO=4&transport=polling&{query}"),
        "EIO=4&transport=polling".to_string(),
    ] {
        let resp = http()
            .get(format!("http://{authority}/socket.io/?{q}"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 400, "polling is refused");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["message"], "Bad request", "{body}");
    }
    let (_ws, open_packet) = open(&authority, &query).await.unwrap();
    assert_eq!(
        open_packet["upgrades"],
        serde_json::json!([]),
        "no upgrade is offered"
    );
    assert!(open_packet["sid"].as_str().is_some_and(|s| !s.is_empty()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_open_packet_carries_the_configured_ping_values() {
    let emu = start_with(
        EmulatorConfig::for_tests()
            .with_ping(Duration::from_millis(1500), Duration::from_millis(2500)),
    )
    .await;
    let (megan, _) = emu.issue_tokens(demo::DEMO_USER).unwrap();
    let sub = subscribe(&emu, &megan).await;
    let (authority, query) = split_notification_url(sub["notificationUrl"].as_str().unwrap());
    let (mut ws, open_packet) = open(&authority, &query).await.unwrap();
    assert_eq!(open_packet["pingInterval"], 1500);
    assert_eq!(open_packet["pingTimeout"], 2500);
    // The server pings; `next_text` answers each ping, so the link stays up past a timeout.
    ws.send("40/notifications,").await;
    assert!(ws.expect_prefix("40/notifications,", WAIT).await.is_some());
    assert!(ws.next_text(Duration::from_millis(4500)).await.is_none());
    assert_eq!(emu.connected_sockets(), 1, "pongs keep the link");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_url_path_is_the_namespace_and_the_query_is_kept() {
    let emu = start().await;
    let (megan, _) = emu.issue_tokens(demo::DEMO_USER).unwrap();
    let sub = subscribe(&emu, &megan).await;
    let url = url::Url::parse(sub["notificationUrl"].as_str().unwrap()).unwrap();
    assert_eq!(url.path(), "/notifications");
    let (authority, query) = split_notification_url(url.as_str());
    // The URL's path taken as the Engine.IO path finds nothing.
    let tcp = tokio::net::TcpStream::connect(&authority).await.unwrap();
    let wrong = format!("ws://{authority}/notifications?EIO=4&transport=websocket&{query}");
    assert!(tokio_tungstenite::client_async(wrong, tcp).await.is_err());
    // Without the query's token the namespace join is refused with a CONNECT_ERROR.
    let app = url
        .query_pairs()
        .find(|(k, _)| k == "applicationId")
        .map(|(_, v)| format!("applicationId={v}"))
        .unwrap();
    let (mut ws, _) = open(&authority, &app).await.unwrap();
    ws.send("40/notifications,").await;
    let refused = ws.next_text(WAIT).await.unwrap();
    assert!(refused.starts_with("44/notifications,"), "{refused}");
    assert!(refused.contains("unauthorized"), "{refused}");
    // With the whole query kept it joins.
    let (mut ws, _) = open(&authority, &query).await.unwrap();
    ws.send("40/notifications,").await;
    assert!(ws.expect_prefix("40/notifications,", WAIT).await.is_some());
    assert_eq!(emu.connected_sockets(), 1);
}

/// Behind a TLS front the URL names the front's https origin, as the real service's do; the
/// socket.io server behind it still takes the token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_push_origin_names_the_notification_url() {
    let origin = url::Url::parse("https://push.example.test:8443").unwrap();
    let emu = start_with(EmulatorConfig::for_tests().with_push_origin(origin)).await;
    let (megan, _) = emu.issue_tokens(demo::DEMO_USER).unwrap();
    let sub = subscribe(&emu, &megan).await;
    let url = url::Url::parse(sub["notificationUrl"].as_str().unwrap()).unwrap();
    assert_eq!(url.scheme(), "https");
    assert_eq!(url.host_str(), Some("push.example.test"));
    assert_eq!(url.port(), Some(8443));
    assert_eq!(url.path(), "/notifications");
    let (_, query) = split_notification_url(url.as_str());
    assert!(query.contains("token="), "{query}");
    // What a TLS front would relay reaches the emulator's own port and joins.
    let (mut ws, _) = open(&emu.local_addr().to_string(), &query).await.unwrap();
    ws.send("40/notifications,").await;
    assert!(ws.expect_prefix("40/notifications,", WAIT).await.is_some());
    assert_eq!(emu.connected_sockets(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_join_styles_work_and_events_come_on_notifications() {
    let emu = start().await;
    let (megan, _) = emu.issue_tokens(demo::DEMO_USER).unwrap();

    // Microsoft's sample: `40/notifications,` alone.
    let (mut alone, _) = joined(&emu, &megan).await;

    // Peers: the default namespace first, then `/notifications`.
    let sub = subscribe(&emu, &megan).await;
    let (authority, query) = split_notification_url(sub["notificationUrl"].as_str().unwrap());
    let (mut peer, _) = open(&authority, &query).await.unwrap();
    peer.send("40").await;
    let root = peer.next_text(WAIT).await.unwrap();
    assert!(
        root.starts_with("40{"),
        "the default namespace is joined: {root}"
    );
    peer.send("40/notifications,").await;
    assert!(
        peer.expect_prefix("40/notifications,", WAIT)
            .await
            .is_some()
    );
    assert_eq!(emu.connected_sockets(), 2);

    emu.upload(demo::ALEX_USER, demo::DEMO_DRIVE_ID, "joins.txt", "x")
        .unwrap();
    for ws in [&mut alone, &mut peer] {
        let packet = ws.next_text(WAIT).await.expect("a notification");
        assert!(
            packet.starts_with("42/notifications,"),
            "the event comes on /notifications, not on /: {packet}"
        );
        frame_body(&packet);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_notification_has_the_real_frames_shape() {
    let emu = start().await;
    let (megan, _) = emu.issue_tokens(demo::DEMO_USER).unwrap();
    let (mut ws, sub) = joined(&emu, &megan).await;
    emu.upload(demo::ALEX_USER, demo::DEMO_DRIVE_ID, "shape.txt", "x")
        .unwrap();
    let packet = ws.expect_prefix("42/", WAIT).await.unwrap();
    let body = frame_body(&packet);
    let value = body["value"].as_array().unwrap();
    assert_eq!(value.len(), 1);
    let n = value[0].as_object().unwrap();
    let mut keys: Vec<&str> = n.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "clientState",
            "expirationDateTime",
            "resource",
            "siteUrl",
            "subscriptionId",
            "tenantId",
            "webId"
        ],
        "no changeType, nothing about what changed"
    );
    assert_eq!(n["subscriptionId"], sub["id"]);
    assert_eq!(n["tenantId"], demo::TENANT_ID);
    let state = n["clientState"].as_str().unwrap();
    let guid = state.strip_prefix("system-managed:").unwrap();
    assert!(
        is_guid(guid) && guid == guid.to_ascii_uppercase(),
        "{state}"
    );
    assert!(is_guid(n["resource"].as_str().unwrap()));
    assert!(is_guid(n["webId"].as_str().unwrap()));
    assert!(n["siteUrl"].as_str().unwrap().starts_with("/personal/"));
    // `2026-05-11T21:52:27.5200000Z`: seven fractional digits.
    let exp = n["expirationDateTime"].as_str().unwrap();
    let (_, frac) = exp.split_once('.').unwrap();
    assert_eq!(frac.len(), 8, "{exp}");
    assert!(frac.ends_with('Z') && frac[..7].bytes().all(|b| b.is_ascii_digit()));
    assert!(chrono::DateTime::parse_from_rfc3339(exp).is_ok());
}

fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_expiry_sockets_are_dropped_and_the_token_refused() {
    let lifetime = Duration::from_millis(1500);
    let emu = start_with(EmulatorConfig::for_tests().with_subscription_lifetime(lifetime)).await;
    let (megan, _) = emu.issue_tokens(demo::DEMO_USER).unwrap();
    let started = tokio::time::Instant::now();
    let (mut ws, sub) = joined(&emu, &megan).await;
    let dropped = ws.expect_prefix("41/notifications", WAIT).await;
    assert!(
        dropped.is_some(),
        "the server disconnects the namespace at expiry"
    );
    assert!(started.elapsed() >= lifetime - Duration::from_millis(100));
    assert_eq!(emu.connected_sockets(), 0);
    let (authority, query) = split_notification_url(sub["notificationUrl"].as_str().unwrap());
    let (mut again, _) = open(&authority, &query).await.unwrap();
    again.send("40/notifications,").await;
    let refused = again.next_text(WAIT).await.unwrap();
    assert!(refused.starts_with("44/notifications,"), "{refused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_renewal_gives_a_fresh_url_and_a_new_expiry() {
    let emu = start().await;
    let (megan, _) = emu.issue_tokens(demo::DEMO_USER).unwrap();
    let first = subscribe(&emu, &megan).await;
    let mut timing = emu.push_timing();
    assert_eq!(timing.subscription_lifetime, Duration::from_secs(3600));
    timing.subscription_lifetime = Duration::from_secs(7200);
    emu.set_push_timing(timing);
    let second = subscribe(&emu, &megan).await;
    assert_ne!(first["notificationUrl"], second["notificationUrl"]);
    assert_ne!(first["id"], second["id"]);
    let expiry = |v: &Value| {
        chrono::DateTime::parse_from_rfc3339(v["expirationDateTime"].as_str().unwrap()).unwrap()
    };
    let gained = expiry(&second) - expiry(&first);
    assert!(gained >= chrono::Duration::minutes(59), "{gained:?}");
    // Both URLs work until their own expiry.
    for sub in [&first, &second] {
        let (authority, query) = split_notification_url(sub["notificationUrl"].as_str().unwrap());
        let (mut ws, _) = open(&authority, &query).await.unwrap();
        ws.send("40/notifications,").await;
        assert!(ws.expect_prefix("40/notifications,", WAIT).await.is_some());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn realistic_mode_sends_one_event_per_changed_item() {
    let emu = start_with(
        EmulatorConfig::for_tests()
            .with_realistic_push(true)
            .with_realistic_delay(Duration::ZERO, Duration::from_millis(300)),
    )
    .await;
    let (megan, _) = emu.issue_tokens(demo::DEMO_USER).unwrap();
    let (mut ws, _) = joined(&emu, &megan).await;
    emu.create_folder(demo::ALEX_USER, demo::DEMO_DRIVE_ID, "six")
        .unwrap();
    assert!(ws.expect_prefix("42/", WAIT).await.is_some(), "the folder");
    for n in 0..6 {
        emu.upload(
            demo::ALEX_USER,
            demo::DEMO_DRIVE_ID,
            &format!("six/{n}.txt"),
            "x",
        )
        .unwrap();
    }
    for n in 0..6 {
        let packet = ws.expect_prefix("42/", WAIT).await;
        assert!(packet.is_some(), "event {n} of 6");
    }
    assert!(
        ws.expect_prefix("42/", Duration::from_millis(800))
            .await
            .is_none(),
        "six uploads, six events"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_control_api_switches_the_push_timing() {
    let emu = start().await;
    let url = format!("{}/_emulator/push/timing", emu.authority_url());
    let now: Value = http().get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(now["realistic"], false);
    assert_eq!(now["coalescing_ms"], 0, "tests keep zero delay");
    assert_eq!(now["delay_min_ms"], 5000);
    assert_eq!(now["delay_max_ms"], 40000);
    let set: Value = http()
        .post(&url)
        .json(&serde_json::json!({"realistic": true, "subscription_lifetime_ms": 60000}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(set["realistic"], true);
    assert_eq!(set["subscription_lifetime_ms"], 60000);
    let t = emu.push_timing();
    assert!(t.realistic);
    assert_eq!(t.subscription_lifetime, Duration::from_secs(60));
}
