//! socket.io push with a client nobody here wrote (rust_socketio 0.6): joining `/notifications`
//! with the notificationUrl's query, notifications after uploads (others' and one's own),
//! coalescing, drive scoping, refusals, and the push faults.

mod common;

use std::time::Duration;

use common::*;
use futures_util::FutureExt as _;
use graph_emulator::seed::demo;
use graph_emulator::{Emulator, EmulatorConfig};
use reqwest::Method;
use rust_socketio::asynchronous::{Client, ClientBuilder};
use rust_socketio::{Event, Payload, TransportType};
use serde_json::Value;
use tokio::sync::mpsc;

#[derive(Debug)]
enum Ev {
    Connected,
    Notification(Value),
    Error(#[allow(dead_code)] String),
}

/// `http://HOST/notifications?q` → `http://HOST/?q` (rust_socketio treats the path as the
/// Engine.IO path; the namespace is set separately).
fn rewrite(notification_url: &str) -> String {
    let u = url::Url::parse(notification_url).unwrap();
    assert_eq!(u.path(), "/notifications");
    format!(
        "http://{}:{}/?{}",
        u.host_str().unwrap(),
        u.port().unwrap(),
        u.query().unwrap()
    )
}

async fn join(notification_url: &str) -> (Client, mpsc::UnboundedReceiver<Ev>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let (t1, t2, t3) = (tx.clone(), tx.clone(), tx);
    let connecting = ClientBuilder::new(rewrite(notification_url))
        .namespace("/notifications")
        .transport_type(TransportType::Websocket)
        .reconnect(false)
        .on(Event::Connect, move |_, _| {
            let _ = t1.send(Ev::Connected);
            async {}.boxed()
        })
        .on("notification", move |payload, _| {
            let v = match payload {
                Payload::Text(mut values) if !values.is_empty() => values.remove(0),
                other => Value::String(format!("{other:?}")),
            };
            let _ = t2.send(Ev::Notification(v));
            async {}.boxed()
        })
        .on(Event::Error, move |payload, _| {
            let _ = t3.send(Ev::Error(format!("{payload:?}")));
            async {}.boxed()
        })
        .connect();
    let client = tokio::time::timeout(Duration::from_secs(10), connecting)
        .await
        .expect("engine.io connection within 10 s")
        .expect("engine.io connection");
    (client, rx)
}

async fn next_event(rx: &mut mpsc::UnboundedReceiver<Ev>, within: Duration) -> Option<Ev> {
    tokio::time::timeout(within, rx.recv()).await.ok().flatten()
}

async fn wait_connected(rx: &mut mpsc::UnboundedReceiver<Ev>) {
    match next_event(rx, Duration::from_secs(5)).await {
        Some(Ev::Connected) => {}
        other => panic!("expected a connect, got {other:?}"),
    }
}

async fn subscribe(emu: &Emulator, token: &str, path: &str) -> Value {
    let (s, _, sub) = get(emu, token, path).await;
    assert_eq!(s, 200, "{sub}");
    sub
}

/// The notification's argument is a JSON string holding JSON.
fn inner(v: &Value) -> Value {
    let text = v.as_str().expect("the argument is a string");
    serde_json::from_str(text).expect("the string holds JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_socketio_receives_a_notification_after_an_upload() {
    let emu = start().await;
    let (megan, _) = emu.issue_tokens(demo::DEMO_USER).unwrap();
    let (alex, _) = emu.issue_tokens(demo::ALEX_USER).unwrap();
    let sub = subscribe(&emu, &megan, "/me/drive/root/subscriptions/socketIo").await;
    let url = sub["notificationUrl"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/notifications?token=", emu.authority_url())));
    assert!(url.contains("&applicationId=graph-emulator-test"));
    assert!(sub["expirationDateTime"].as_str().unwrap().ends_with('Z'));
    assert!(sub["id"].as_str().unwrap().len() > 8);
    insta::assert_json_snapshot!(
        "socketio_subscription",
        normalize(&sub, &emu.authority_url())
    );

    let (client, mut rx) = join(url).await;
    wait_connected(&mut rx).await;
    assert_eq!(emu.connected_sockets(), 1);

    // Alex uploads into Megan's drive through Graph's HTTP endpoint.
    let path = format!(
        "/drives/{}/root:/Shared with team/from-alex.txt:/content",
        demo::DEMO_DRIVE_ID
    );
    let (s, _, _) = send(&emu, Method::PUT, &alex, &path, Some("hello".into())).await;
    assert_eq!(s, 201);
    match next_event(&mut rx, Duration::from_secs(5)).await {
        Some(Ev::Notification(v)) => {
            let body = inner(&v);
            assert_eq!(body["value"][0]["subscriptionId"], sub["id"]);
        }
        other => panic!("expected a notification, got {other:?}"),
    }
    // Megan's own change notifies too.
    let (s, _, _) = send(
        &emu,
        Method::PUT,
        &megan,
        "/me/drive/root:/mine.txt:/content",
        Some("x".into()),
    )
    .await;
    assert_eq!(s, 201);
    assert!(matches!(
        next_event(&mut rx, Duration::from_secs(5)).await,
        Some(Ev::Notification(_))
    ));
    // A change in another drive does not.
    emu.upload(demo::ALEX_USER, demo::SITE_DRIVE_ID, "elsewhere.txt", "x")
        .unwrap();
    assert!(
        next_event(&mut rx, Duration::from_millis(600))
            .await
            .is_none()
    );
    client.disconnect().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_subscription_form_covers_its_drive() {
    let emu = start().await;
    let (alex, _) = emu.issue_tokens(demo::ALEX_USER).unwrap();
    let forms = [
        (
            format!(
                "/drives/{}/root/subscriptions/socketIo",
                demo::DEMO_DRIVE_ID
            ),
            demo::DEMO_DRIVE_ID,
        ),
        (
            format!(
                "/drives/{}/list/subscriptions/socketIo",
                demo::SITE_DRIVE_ID
            ),
            demo::SITE_DRIVE_ID,
        ),
        (
            format!(
                "/groups/{}/drive/root/subscriptions/socketIo",
                demo::GROUP_ID
            ),
            demo::GROUP_DRIVE_ID,
        ),
        (
            format!(
                "/sites/{}/lists/{}/drive/root/subscriptions/socketIo",
                demo::SITE_ID,
                demo::SITE_LIST_ID
            ),
            demo::SITE_DRIVE_ID,
        ),
    ];
    for (path, drive) in forms {
        let sub = subscribe(&emu, &alex, &path).await;
        let (client, mut rx) = join(sub["notificationUrl"].as_str().unwrap()).await;
        wait_connected(&mut rx).await;
        emu.upload(demo::ADELE_USER, drive, "tap.txt", path.clone())
            .unwrap();
        let ev = next_event(&mut rx, Duration::from_secs(5)).await;
        assert!(matches!(ev, Some(Ev::Notification(_))), "{path}: {ev:?}");
        client.disconnect().await.unwrap();
    }
    // No access, no subscription.
    let (sam, _) = emu.issue_tokens(demo::PERSONAL_USER).unwrap();
    let (s, _, _) = get(
        &emu,
        &sam,
        &format!(
            "/drives/{}/root/subscriptions/socketIo",
            demo::DEMO_DRIVE_ID
        ),
    )
    .await;
    assert_eq!(s, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bursts_are_coalesced_after_the_delay() {
    let emu =
        start_with(EmulatorConfig::for_tests().with_coalescing_delay(Duration::from_millis(400)))
            .await;
    let (megan, _) = emu.issue_tokens(demo::DEMO_USER).unwrap();
    let sub = subscribe(&emu, &megan, "/me/drive/root/subscriptions/socketIo").await;
    let (client, mut rx) = join(sub["notificationUrl"].as_str().unwrap()).await;
    wait_connected(&mut rx).await;
    for n in 0..10 {
        emu.upload(
            demo::ALEX_USER,
            demo::DEMO_DRIVE_ID,
            &format!("burst/{n}.txt"),
            "x",
        )
        .unwrap();
    }
    assert!(matches!(
        next_event(&mut rx, Duration::from_secs(3)).await,
        Some(Ev::Notification(_))
    ));
    assert!(
        next_event(&mut rx, Duration::from_millis(800))
            .await
            .is_none(),
        "one tap for the burst"
    );
    client.disconnect().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_expired_tokens_are_refused() {
    let emu = start().await;
    let (megan, _) = emu.issue_tokens(demo::DEMO_USER).unwrap();
    let bogus = format!(
        "{}/notifications?token=nope&applicationId=x",
        emu.authority_url()
    );
    let (client, mut rx) = join(&bogus).await;
    assert!(!matches!(
        next_event(&mut rx, Duration::from_secs(2)).await,
        Some(Ev::Connected)
    ));
    assert_eq!(emu.connected_sockets(), 0);
    let _ = client.disconnect().await;

    let sub = subscribe(&emu, &megan, "/me/drive/root/subscriptions/socketIo").await;
    let url = sub["notificationUrl"].as_str().unwrap().to_string();
    let (client, mut rx) = join(&url).await;
    wait_connected(&mut rx).await;
    emu.expire_notification_urls();
    for _ in 0..50 {
        if emu.connected_sockets() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        emu.connected_sockets(),
        0,
        "expired subscriptions lose their sockets"
    );
    let _ = client.disconnect().await;
    let (client, mut rx) = join(&url).await;
    assert!(!matches!(
        next_event(&mut rx, Duration::from_secs(2)).await,
        Some(Ev::Connected)
    ));
    let _ = client.disconnect().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_and_stalled_links() {
    let emu = start_with(
        EmulatorConfig::for_tests()
            .with_ping(Duration::from_millis(300), Duration::from_millis(300)),
    )
    .await;
    let (megan, _) = emu.issue_tokens(demo::DEMO_USER).unwrap();
    let sub = subscribe(&emu, &megan, "/me/drive/root/subscriptions/socketIo").await;
    let url = sub["notificationUrl"].as_str().unwrap().to_string();

    // Drop: the transport goes away and the server forgets the socket.
    let (client, mut rx) = join(&url).await;
    wait_connected(&mut rx).await;
    assert_eq!(emu.drop_all_sockets(), 1);
    for _ in 0..50 {
        if emu.connected_sockets() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(emu.connected_sockets(), 0);
    let _ = client.disconnect().await;

    // Stall: nothing flows any more, not even notifications; resuming lets new sockets work.
    let (client, mut rx) = join(&url).await;
    wait_connected(&mut rx).await;
    emu.stall_pings(true);
    emu.upload(demo::ALEX_USER, demo::DEMO_DRIVE_ID, "silent.txt", "x")
        .unwrap();
    assert!(
        !matches!(
            next_event(&mut rx, Duration::from_millis(1500)).await,
            Some(Ev::Notification(_))
        ),
        "a stalled link delivers nothing"
    );
    emu.stall_pings(false);
    let _ = client.disconnect().await;
    let (client, mut rx) = join(&url).await;
    wait_connected(&mut rx).await;
    emu.upload(demo::ALEX_USER, demo::DEMO_DRIVE_ID, "loud.txt", "x")
        .unwrap();
    let mut got = false;
    while let Some(ev) = next_event(&mut rx, Duration::from_secs(3)).await {
        if matches!(ev, Ev::Notification(_)) {
            got = true;
            break;
        }
    }
    assert!(got);
    let _ = client.disconnect().await;
}
