//! Push through HTTP proxies, end to end: the emulator behind a TLS front named
//! `push.drivewatch.test`, reached only through a real squid (or, for credentials and refusals,
//! a tiny in-test CONNECT proxy). A notification arrives over the tunnelled websocket, a watch
//! reports a change within 2 s with `HTTPS_PROXY` pointing at squid, Basic credentials reach the
//! proxy, refusals are clear errors, `NO_PROXY` goes around the proxy, and a frozen squid is
//! declared dead within pingInterval + pingTimeout and push comes back after it resumes.

// Squid, its signals and its file modes are Unix only; on Linux this suite covers the tunnel.
#![cfg(unix)]

mod common;
mod proxy_harness;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use drivewatch_core::model::TargetStatus;
use drivewatch_core::push::proxy::ProxyEnv;
use drivewatch_core::push::socketio::SocketIoTransport;
use drivewatch_core::push::tunnel::TunnelTransport;
use drivewatch_core::push::{LinkEvent, PushError, PushTransport};
use graph_emulator::seed::demo;
use graph_emulator::{Emulator, EmulatorConfig};
use proxy_harness::*;
use tokio::sync::mpsc;
use tokio::time::timeout;

const USER: &str = demo::DEMO_USER;

async fn emulator(config: EmulatorConfig) -> Emulator {
    Emulator::start(config.with_auto_approve(USER))
        .await
        .unwrap()
}

fn tunnel(env: ProxyEnv, pki: &TestPki) -> TunnelTransport {
    TunnelTransport {
        connect_timeout: Duration::from_secs(5),
        step_timeout: Duration::from_secs(2),
        proxy_env: env,
        extra_root_certificates: vec![pki.ca_pem.clone().into_bytes()],
    }
}

async fn next_event(rx: &mut mpsc::UnboundedReceiver<LinkEvent>, within: Duration) -> LinkEvent {
    timeout(within, rx.recv())
        .await
        .expect("an event in time")
        .expect("channel open")
}

async fn wait_for_log(squid: &Squid, needle: &str) -> String {
    // Squid writes a tunnel's line when the tunnel ends.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let log = squid.access_log();
        if log.contains(needle) || Instant::now() > deadline {
            return log;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_arrives_over_a_websocket_tunnelled_through_squid() {
    let Some(bin) = squid_binary() else { return };
    let squid = Squid::start(&bin).await;
    let emu = emulator(EmulatorConfig::for_tests()).await;
    let pki = TestPki::new(&[]);
    let front = TlsFront::for_emulator(&pki, &emu).await;
    let origin = format!("https://{PUSH_HOST}:{}", front.addr.port());
    let raw = notification_url(&emu, USER).await;
    let url = readdress(&raw, &origin);
    let transport = tunnel(ProxyEnv::from_vars([("HTTPS_PROXY", squid.url())]), &pki);

    let (tx, mut rx) = mpsc::unbounded_channel();
    let link = transport.connect(&url, tx).await.unwrap_or_else(|e| {
        panic!("connect through squid: {e}\n{}", squid.logs());
    });
    assert_eq!(emu.connected_sockets(), 1);
    let drive = emu.drive_of(USER).unwrap();
    emu.upload(USER, &drive, "/through-squid.txt", "x").unwrap();
    assert_eq!(
        next_event(&mut rx, Duration::from_secs(2)).await,
        LinkEvent::Notification
    );
    link.disconnect().await;

    let needle = format!("CONNECT {PUSH_HOST}:{}", front.addr.port());
    let log = wait_for_log(&squid, &needle).await;
    assert!(log.contains(&needle), "squid relayed the tunnel: {log}");
    assert!(
        !log.contains(&token_of(&raw)),
        "no token in the proxy's log"
    );
}

const CHILD_DIR: &str = "DRIVEWATCH_PROXY_TEST_DIR";
const WATCH_TEST: &str = "a_watch_reports_a_change_within_2s_with_https_proxy_pointing_at_squid";

/// The process environment is the product's input here, and tests must not change their own
/// environment, so this test runs its body in a child process of this test binary with
/// `HTTPS_PROXY` set to squid and `SSL_CERT_FILE` naming the test CA.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_reports_a_change_within_2s_with_https_proxy_pointing_at_squid() {
    if let Some(dir) = std::env::var_os(CHILD_DIR) {
        return watch_through_the_environment(PathBuf::from(dir)).await;
    }
    let Some(bin) = squid_binary() else { return };
    let squid = Squid::start(&bin).await;
    let dir = tempfile::tempdir().unwrap();
    TestPki::new(&[]).write(dir.path());
    let mut child = tokio::process::Command::new(std::env::current_exe().unwrap());
    child
        .args([WATCH_TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR, dir.path())
        .env("HTTPS_PROXY", squid.url())
        .env("SSL_CERT_FILE", dir.path().join("ca.pem"))
        .kill_on_drop(true);
    for name in [
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "NO_PROXY",
        "no_proxy",
        "SSL_CERT_DIR",
    ] {
        child.env_remove(name);
    }
    let out = timeout(Duration::from_secs(120), child.output())
        .await
        .expect("the child test ends in time")
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("child test:\n{stdout}");
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "child test failed:\n{stdout}\n{stderr}\n{}",
        squid.logs()
    );
    let log = wait_for_log(&squid, &format!("CONNECT {PUSH_HOST}:")).await;
    assert!(
        log.contains(&format!("CONNECT {PUSH_HOST}:")),
        "the websocket went through squid: {log}"
    );
}

async fn watch_through_the_environment(dir: PathBuf) {
    let emu = emulator(EmulatorConfig::for_tests()).await;
    let pki = TestPki::read(&dir);
    let front = TlsFront::for_emulator(&pki, &emu).await;
    // The entry point hosts construct: it reads HTTPS_PROXY and picks the tunnel itself.
    let transport = Arc::new(Readdress {
        inner: Arc::new(SocketIoTransport {
            connect_timeout: Duration::from_secs(10),
        }),
        origin: format!("https://{PUSH_HOST}:{}", front.addr.port()),
    });
    let mut watch = Watch::start(&emu, USER, engine_options(transport, 3)).await;
    assert_eq!(emu.connected_sockets(), 1);
    let started = Instant::now();
    emu.upload(USER, &watch.drive, "/report-me.txt", "x")
        .unwrap();
    let paths = watch.next_changes(Duration::from_secs(10)).await;
    let took = started.elapsed();
    assert_eq!(paths, vec!["/report-me.txt".to_owned()]);
    println!("the watch reported the change {took:?} after it was made");
    assert!(
        took < Duration::from_secs(2),
        "reported {took:?} after the change"
    );
    watch.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_credentials_from_the_proxy_url_reach_the_proxy() {
    let emu = emulator(EmulatorConfig::for_tests()).await;
    let pki = TestPki::new(&[]);
    let front = TlsFront::for_emulator(&pki, &emu).await;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("drive user:p@ss:w")
    );
    let proxy = MiniProxy::start(
        Answer::Relay {
            authorization: Some(expected.clone()),
        },
        front.addr,
    )
    .await;
    let env = ProxyEnv::from_vars([("https_proxy", proxy.url_with("drive%20user:p%40ss%3Aw@"))]);
    let origin = format!("https://{PUSH_HOST}:{}", front.addr.port());
    let url = readdress(&notification_url(&emu, USER).await, &origin);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let link = tunnel(env, &pki).connect(&url, tx).await.unwrap();
    assert_eq!(
        proxy.seen(),
        vec![Seen {
            target: format!("{PUSH_HOST}:{}", front.addr.port()),
            authorization: Some(expected),
        }]
    );
    let drive = emu.drive_of(USER).unwrap();
    emu.upload(USER, &drive, "/authorized.txt", "x").unwrap();
    assert_eq!(
        next_event(&mut rx, Duration::from_secs(2)).await,
        LinkEvent::Notification
    );
    link.disconnect().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_proxy_gets_tls_first_and_the_push_tls_runs_inside_it() {
    let emu = emulator(EmulatorConfig::for_tests()).await;
    let pki = TestPki::new(&["127.0.0.1".to_owned()]);
    let front = TlsFront::for_emulator(&pki, &emu).await;
    let proxy = MiniProxy::start_tls(
        Answer::Relay {
            authorization: None,
        },
        front.addr,
        &pki,
    )
    .await;
    let env = ProxyEnv::from_vars([("HTTPS_PROXY", proxy.https_url())]);
    let origin = format!("https://{PUSH_HOST}:{}", front.addr.port());
    let url = readdress(&notification_url(&emu, USER).await, &origin);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let link = tunnel(env, &pki).connect(&url, tx).await.unwrap();
    assert_eq!(proxy.seen().len(), 1);
    let drive = emu.drive_of(USER).unwrap();
    emu.upload(USER, &drive, "/tls-in-tls.txt", "x").unwrap();
    assert_eq!(
        next_event(&mut rx, Duration::from_secs(2)).await,
        LinkEvent::Notification
    );
    link.disconnect().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_refusals_are_clear_errors_without_credentials() {
    let emu = emulator(EmulatorConfig::for_tests()).await;
    let pki = TestPki::new(&[]);
    let front = TlsFront::for_emulator(&pki, &emu).await;
    let origin = format!("https://{PUSH_HOST}:{}", front.addr.port());
    let url = readdress(&notification_url(&emu, USER).await, &origin);
    let wrong_password = Answer::Relay {
        authorization: Some("Basic something-else".into()),
    };
    for (answer, status) in [
        (wrong_password, 407),
        (Answer::Refuse(403), 403),
        (Answer::Refuse(502), 502),
    ] {
        let proxy = MiniProxy::start(answer, front.addr).await;
        let env = ProxyEnv::from_vars([("HTTPS_PROXY", proxy.url_with("me:s3cret-pw@"))]);
        let (tx, _rx) = mpsc::unbounded_channel();
        let started = Instant::now();
        let err = tunnel(env, &pki).connect(&url, tx).await.err().unwrap();
        assert_eq!(err, PushError::ProxyRefused { status });
        let text = err.to_string();
        assert!(
            text.contains("proxy refused") && text.contains(&status.to_string()),
            "{text}"
        );
        assert!(
            !text.contains("s3cret") && !text.contains("token"),
            "{text}"
        );
        assert!(started.elapsed() < Duration::from_secs(2), "fails fast");
        assert_eq!(proxy.seen().len(), 1);
    }
    assert_eq!(emu.connected_sockets(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusing_proxy_shows_in_the_targets_status_not_as_a_silent_fallback() {
    let emu = emulator(EmulatorConfig::for_tests()).await;
    let pki = TestPki::new(&[]);
    let front = TlsFront::for_emulator(&pki, &emu).await;
    let proxy = MiniProxy::start(Answer::Refuse(403), front.addr).await;
    let transport = Arc::new(Readdress {
        inner: Arc::new(tunnel(
            ProxyEnv::from_vars([("HTTPS_PROXY", proxy.url_with("me:s3cret-pw@"))]),
            &pki,
        )),
        origin: format!("https://{PUSH_HOST}:{}", front.addr.port()),
    });
    let (watch, status) = Watch::start_until(&emu, USER, engine_options(transport, 2), |s| {
        matches!(s, TargetStatus::Polling { .. })
    })
    .await;
    let TargetStatus::Polling { reason } = status else {
        unreachable!()
    };
    assert!(
        reason.contains("proxy refused") && reason.contains("403 Forbidden"),
        "{reason}"
    );
    assert!(!reason.contains("s3cret"), "{reason}");
    assert!(proxy.seen().len() >= 2, "push was tried through the proxy");
    watch.engine.shutdown().await;
}

/// This machine's name, which resolves locally without being a loopback literal.
async fn local_name() -> (String, std::net::IpAddr) {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_owned();
    let addr = tokio::net::lookup_host((name.as_str(), 0))
        .await
        .ok()
        .and_then(|mut a| a.next())
        .unwrap_or_else(|| panic!("the host name {name} does not resolve"));
    (name, addr.ip())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_proxy_sends_the_push_host_around_the_proxy() {
    let emu = emulator(EmulatorConfig::for_tests()).await;
    let (name, ip) = local_name().await;
    let pki = TestPki::new(std::slice::from_ref(&name));
    let front = TlsFront::start(&pki, ip, emu.local_addr()).await;
    let proxy = MiniProxy::start(
        Answer::Relay {
            authorization: None,
        },
        front.addr,
    )
    .await;
    let origin = format!("https://{name}:{}", front.addr.port());
    let url = readdress(&notification_url(&emu, USER).await, &origin);

    let exempt = ProxyEnv::from_vars([
        ("HTTPS_PROXY", proxy.url_with("")),
        ("NO_PROXY", format!("other.example, {name}")),
    ]);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let link = tunnel(exempt, &pki).connect(&url, tx).await.unwrap();
    assert_eq!(proxy.seen(), vec![], "NO_PROXY went around the proxy");
    let drive = emu.drive_of(USER).unwrap();
    emu.upload(USER, &drive, "/direct.txt", "x").unwrap();
    assert_eq!(
        next_event(&mut rx, Duration::from_secs(2)).await,
        LinkEvent::Notification
    );
    link.disconnect().await;

    // An entry for another port does not exempt the host.
    let other_port = ProxyEnv::from_vars([
        ("HTTPS_PROXY", proxy.url_with("")),
        ("NO_PROXY", format!("{name}:1")),
    ]);
    let (tx, _rx) = mpsc::unbounded_channel();
    let link = tunnel(other_port, &pki).connect(&url, tx).await.unwrap();
    assert_eq!(proxy.seen().len(), 1, "the proxy was used");
    assert_eq!(
        proxy.seen()[0].target,
        format!("{name}:{}", front.addr.port())
    );
    link.disconnect().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_proxy_is_declared_dead_in_time_and_push_returns_after_it_resumes() {
    let Some(bin) = squid_binary() else { return };
    let squid = Squid::start(&bin).await;
    let ping = Duration::from_secs(1);
    let emu = emulator(EmulatorConfig::for_tests().with_ping(ping, ping)).await;
    let pki = TestPki::new(&[]);
    let front = TlsFront::for_emulator(&pki, &emu).await;
    let mut inner = tunnel(ProxyEnv::from_vars([("HTTPS_PROXY", squid.url())]), &pki);
    inner.step_timeout = Duration::from_millis(700);
    inner.connect_timeout = Duration::from_secs(2);
    let transport = Arc::new(Readdress {
        inner: Arc::new(inner),
        origin: format!("https://{PUSH_HOST}:{}", front.addr.port()),
    });
    // Push must come back by itself, not through delta polling.
    let mut watch = Watch::start(&emu, USER, engine_options(transport, 1000)).await;

    squid.signal("STOP").unwrap();
    let frozen = Instant::now();
    let status = wait_status(&mut watch.events, Duration::from_secs(6), |s| {
        matches!(s, TargetStatus::Reconnecting { .. })
    })
    .await;
    let took = frozen.elapsed();
    // pingInterval + pingTimeout is 2 s; the last ping came at most 1 s before the freeze.
    assert!(took <= Duration::from_millis(2800), "dead after {took:?}");
    assert!(
        matches!(&status, TargetStatus::Reconnecting { reason } if reason.contains("no ping")),
        "{status:?}"
    );
    emu.upload(USER, &watch.drive, "/while-frozen.txt", "x")
        .unwrap();
    // A reconnect through the frozen proxy times out waiting for its answer.
    wait_status(
        &mut watch.events,
        Duration::from_secs(6),
        |s| matches!(s, TargetStatus::Reconnecting { reason } if reason.contains("timed out")),
    )
    .await;

    squid.signal("CONT").unwrap();
    wait_status(&mut watch.events, Duration::from_secs(10), |s| {
        *s == TargetStatus::Live
    })
    .await;
    let paths = watch.next_changes(Duration::from_secs(5)).await;
    assert_eq!(
        paths,
        vec!["/while-frozen.txt".to_owned()],
        "delta caught up"
    );
    emu.upload(USER, &watch.drive, "/after.txt", "x").unwrap();
    let paths = watch.next_changes(Duration::from_secs(2)).await;
    assert_eq!(paths, vec!["/after.txt".to_owned()], "push is live again");
    watch.engine.shutdown().await;
}
