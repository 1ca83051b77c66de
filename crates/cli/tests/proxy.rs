//! `drivewatch-cli watch` behind a corporate proxy: the real binary, with `HTTPS_PROXY` pointing
//! at a real squid, reports a change within 2 s of its notification. The emulator's
//! notificationUrls name `https://push.drivewatch.test:PORT`, a TLS front with a test CA
//! (trusted through `SSL_CERT_FILE`). Only squid can resolve that name, so the websocket can
//! reach the push server through the tunnel and no other way.

// Squid, its signals and its file modes are Unix only.
#![cfg(unix)]

use std::net::{IpAddr, Ipv4Addr};
use std::process::Stdio;
use std::time::{Duration, Instant};

use graph_emulator::EmulatorConfig;
use graph_emulator::seed::demo;
use proxy_fixtures::{FrontListener, PUSH_HOST, Squid, TestPki, squid_binary};

mod common;
use common::child::{ChildGuard, lines, wait_line, wait_until_reporting};
use common::setup_with;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_reports_a_change_within_2s_through_squid() {
    let Some(bin) = squid_binary() else { return };
    let squid = Squid::start(&bin).await;
    let pki = TestPki::new(&[]);
    let listener = FrontListener::bind(IpAddr::V4(Ipv4Addr::LOCALHOST)).await;
    let origin = url::Url::parse(&format!("https://{PUSH_HOST}:{}", listener.addr.port())).unwrap();
    let s = setup_with(
        EmulatorConfig::for_tests()
            .with_auto_approve(demo::DEMO_USER)
            .with_push_origin(origin),
    )
    .await;
    let front = listener.serve(&pki, s.emu.local_addr());
    pki.write(s.home.path());
    assert_eq!(s.run(&["login"]).await.code, Some(0));

    let mut cmd = s.cli();
    cmd.args(["watch", "--json"])
        .env("HTTPS_PROXY", squid.url())
        .env("SSL_CERT_FILE", s.home.path().join("ca.pem"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = ChildGuard(Some(cmd.spawn().unwrap()));
    let (out, err) = lines(child.0.as_mut().unwrap());
    let (_err, live) = wait_line(err, |l| l.contains("live"), Duration::from_secs(20)).await;
    assert!(live.is_some(), "watch never went live: {}", squid.logs());
    assert_eq!(s.emu.connected_sockets(), 1);
    let out = wait_until_reporting(&s.emu, out).await;

    let started = Instant::now();
    s.emu
        .upload(
            demo::ALEX_USER,
            demo::DEMO_DRIVE_ID,
            "/ThroughTheProxy/report.txt",
            b"x".to_vec(),
        )
        .unwrap();
    let (_out, line) = wait_line(
        out,
        |l| l.contains("/ThroughTheProxy/report.txt"),
        Duration::from_secs(10),
    )
    .await;
    let took = started.elapsed();
    let line = line.expect("watch printed the change");
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["kind"], "created", "{line}");
    println!("drivewatch-cli watch reported the change {took:?} after it was made");
    assert!(took < Duration::from_secs(2), "reported after {took:?}");

    // Squid logs a tunnel when it closes: stop the watch first.
    drop(child);
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut log = squid.access_log();
    while !log.contains("CONNECT") && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        log = squid.access_log();
    }
    assert!(
        log.contains(&format!("CONNECT {PUSH_HOST}:{}", front.addr.port())),
        "the websocket went through squid: {log}"
    );
    assert!(
        !log.contains("token="),
        "no notificationUrl query in the proxy's log"
    );
}
