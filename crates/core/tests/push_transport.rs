//! The rust_socketio transport against the emulator's socket.io endpoint on 127.0.0.1: the
//! rewritten URL joins `/notifications`, notifications arrive as link events, a refused join fails
//! fast, a silent server is detected within pingInterval + pingTimeout, and `disconnect()` really
//! leaves the server.

use std::time::{Duration, Instant};

use drivewatch_core::push::socketio::SocketIoTransport;
use drivewatch_core::push::{LinkEvent, PushError, PushTransport};
use graph_emulator::seed::demo;
use graph_emulator::{Emulator, EmulatorConfig};
use proxy_fixtures::notification_url;
use tokio::sync::mpsc;
use tokio::time::timeout;

const USER: &str = demo::DEMO_USER;

fn transport() -> SocketIoTransport {
    SocketIoTransport {
        connect_timeout: Duration::from_secs(10),
    }
}

async fn next_event(rx: &mut mpsc::UnboundedReceiver<LinkEvent>, within: Duration) -> LinkEvent {
    timeout(within, rx.recv())
        .await
        .expect("an event in time")
        .expect("channel open")
}

async fn wait_sockets(emu: &Emulator, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while emu.connected_sockets() != n {
        assert!(
            Instant::now() < deadline,
            "{} sockets, want {n}",
            emu.connected_sockets()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_arrive_and_disconnect_leaves_the_server() {
    let emu = Emulator::start(EmulatorConfig::for_tests()).await.unwrap();
    let url = notification_url(&emu, USER).await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let link = transport().connect(&url, tx).await.unwrap();
    wait_sockets(&emu, 1).await;
    let drive = emu.drive_of(USER).unwrap();
    emu.upload(USER, &drive, "/tap.txt", "x").unwrap();
    assert_eq!(
        next_event(&mut rx, Duration::from_secs(5)).await,
        LinkEvent::Notification
    );
    link.disconnect().await;
    wait_sockets(&emu, 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_join_fails_fast() {
    let emu = Emulator::start(EmulatorConfig::for_tests()).await.unwrap();
    let url = notification_url(&emu, USER).await;
    let mut parsed = url::Url::parse(&url).unwrap();
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "token" {
                "forged".to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    parsed.query_pairs_mut().clear().extend_pairs(pairs);
    let (tx, _rx) = mpsc::unbounded_channel();
    let started = Instant::now();
    let result = transport().connect(parsed.as_str(), tx).await;
    let err = result.err().expect("a forged token is refused");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "failed only after {:?}: {err}",
        started.elapsed()
    );
    assert!(
        !err.to_string().contains("forged"),
        "no token in errors: {err}"
    );
    assert_eq!(emu.connected_sockets(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_server_is_detected_by_the_ping_timeout() {
    let emu = Emulator::start(EmulatorConfig::for_tests()).await.unwrap();
    let url = notification_url(&emu, USER).await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let link = transport().connect(&url, tx).await.unwrap();
    emu.stall_pings(true);
    let started = Instant::now();
    // The test emulator's pingInterval + pingTimeout is 4 s.
    let event = next_event(&mut rx, Duration::from_secs(10)).await;
    assert!(matches!(event, LinkEvent::Error { .. }), "{event:?}");
    assert!(started.elapsed() >= Duration::from_secs(3));
    emu.stall_pings(false);
    link.disconnect().await;
}

#[tokio::test]
async fn plain_http_to_a_remote_push_host_is_refused() {
    let (tx, _rx) = mpsc::unbounded_channel();
    let err = transport()
        .connect("http://push.example.com/notifications?token=x", tx)
        .await
        .err()
        .unwrap();
    assert_eq!(err, PushError::InsecureNotificationUrl);
}
