//! Tokens never reach the logs: a full run (device flow, refresh, Graph calls, socket.io join,
//! notifications, faults) at TRACE level, then a search of everything logged.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use graph_emulator::EmulatorConfig;
use graph_emulator::seed::demo;
use reqwest::Method;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_run_logs_no_token() {
    let captured = Captured::default();
    let writer = captured.clone();
    // Everything at TRACE except this test's own websocket client, whose handshake trace quotes
    // the URL it was given: the emulator's logs are what is checked.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            "trace,tungstenite::handshake::client=off",
        ))
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();

    let emu = start_with(EmulatorConfig::for_tests().with_auto_approve(demo::DEMO_USER)).await;
    let (s, dc) = oauth(
        &emu,
        "common",
        "devicecode",
        &[
            ("client_id", CLIENT_ID),
            ("scope", "Files.ReadWrite offline_access User.Read openid"),
        ],
    )
    .await;
    assert_eq!(s, 200);
    let device_code = dc["device_code"].as_str().unwrap().to_string();
    let (s, tok) = oauth(
        &emu,
        "common",
        "token",
        &[
            ("client_id", CLIENT_ID),
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", &device_code),
        ],
    )
    .await;
    assert_eq!(s, 200);
    let access = tok["access_token"].as_str().unwrap().to_string();
    let refresh = tok["refresh_token"].as_str().unwrap().to_string();
    let (s, refreshed) = oauth(
        &emu,
        "common",
        "token",
        &[
            ("client_id", CLIENT_ID),
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
        ],
    )
    .await;
    assert_eq!(s, 200);
    let new_refresh = refreshed["refresh_token"].as_str().unwrap().to_string();

    let (_, _, sub) = get(&emu, &access, "/me/drive/root/subscriptions/socketIo").await;
    let url = sub["notificationUrl"].as_str().unwrap().to_string();
    let push_token = url
        .split("token=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string();
    // Join over Engine.IO's websocket transport by hand: open, then the namespace CONNECT.
    let (authority, query) = common::eio::split_notification_url(&url);
    let (mut ws, _) = common::eio::open(&authority, &query).await.unwrap();
    ws.send("40/notifications,").await;
    let connect = ws
        .expect_prefix("40/notifications", Duration::from_secs(5))
        .await;
    assert!(connect.is_some(), "joined /notifications");
    let (s, _, _) = send(
        &emu,
        Method::PUT,
        &access,
        "/me/drive/root:/secret-test.txt:/content",
        Some("x".into()),
    )
    .await;
    assert_eq!(s, 201);
    let note = ws
        .expect_prefix("42/notifications,", Duration::from_secs(5))
        .await
        .unwrap_or_default();
    assert!(note.contains("notification"), "{note}");
    // Failures and refusals log too.
    get(&emu, "not-a-token", "/me").await;
    emu.expire_access_tokens();
    get(&emu, &access, "/me").await;
    emu.expire_notification_urls();
    tokio::time::sleep(Duration::from_millis(300)).await;
    emu.shutdown().await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("graph emulator listening"),
        "logging was captured"
    );
    for (name, secret) in [
        ("access token", &access),
        ("refresh token", &refresh),
        ("rotated refresh token", &new_refresh),
        ("device code", &device_code),
        ("notificationUrl token", &push_token),
    ] {
        let line = logs.lines().find(|l| l.contains(secret.as_str()));
        assert!(line.is_none(), "the {name} was logged: {line:?}");
    }
}
