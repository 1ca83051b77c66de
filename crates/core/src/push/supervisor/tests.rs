//! The push supervisor with a scripted transport and a paused clock: taps on connect and
//! notification, dead links, nudges, renewal order and rate, polling fallback, sign-in and
//! throttling.

use std::sync::Mutex;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use tokio::time::sleep;

use super::*;
use crate::delta::debounce::Debouncer;
use crate::delta::fake::FakeDrive;
use crate::push::PushError;

/// A transport whose links the test drives by hand.
#[derive(Clone, Default)]
struct FakeTransport {
    inner: Arc<Mutex<TransportState>>,
}

#[derive(Default)]
struct TransportState {
    /// "connect URL" / "disconnect URL", in order.
    log: Vec<String>,
    /// Senders of the links made, newest last.
    links: Vec<mpsc::UnboundedSender<LinkEvent>>,
    /// Connect attempts that fail before one succeeds.
    fail_connects: u32,
}

impl FakeTransport {
    fn log(&self) -> Vec<String> {
        self.inner.lock().unwrap().log.clone()
    }
    fn send(&self, e: LinkEvent) {
        let s = self.inner.lock().unwrap();
        let _ = s.links.last().unwrap().send(e);
    }
    fn connects(&self) -> usize {
        self.log()
            .iter()
            .filter(|l| l.starts_with("connect"))
            .count()
    }
    fn disconnects(&self) -> usize {
        self.log()
            .iter()
            .filter(|l| l.starts_with("disconnect"))
            .count()
    }
}

struct FakeLink {
    url: String,
    inner: Arc<Mutex<TransportState>>,
}

impl PushLink for FakeLink {
    fn disconnect(self: Box<Self>) -> BoxFuture<'static, ()> {
        self.inner
            .lock()
            .unwrap()
            .log
            .push(format!("disconnect {}", self.url));
        async {}.boxed()
    }
}

impl PushTransport for FakeTransport {
    fn connect<'a>(
        &'a self,
        url: &'a str,
        events: mpsc::UnboundedSender<LinkEvent>,
    ) -> BoxFuture<'a, Result<Box<dyn PushLink>, PushError>> {
        let mut s = self.inner.lock().unwrap();
        if s.fail_connects > 0 {
            s.fail_connects -= 1;
            s.log.push(format!("failed {url}"));
            return async { Err(PushError::ConnectTimeout) }.boxed();
        }
        s.log.push(format!("connect {url}"));
        s.links.push(events);
        let link = FakeLink {
            url: url.to_owned(),
            inner: self.inner.clone(),
        };
        async move { Ok(Box::new(link) as Box<dyn PushLink>) }.boxed()
    }
}

struct Harness {
    drive: FakeDrive,
    transport: FakeTransport,
    tapper: Tapper,
    statuses: Arc<Mutex<Vec<TargetStatus>>>,
    nudge: Arc<Notify>,
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

fn config() -> PushConfig {
    PushConfig {
        subscribe_timeout: Duration::from_secs(5),
        renew_before: Duration::from_secs(120),
        renew_floor: Duration::from_secs(30),
        renew_without_expiry: Duration::from_secs(3600),
        poll_interval: Duration::from_secs(10),
        push_retry_interval: Duration::from_secs(60),
        failures_before_polling: 3,
        backoff_base: Duration::from_secs(1),
        backoff_max: Duration::from_secs(60),
    }
}

fn start(drive: FakeDrive, transport: FakeTransport) -> Harness {
    start_with(drive.clone(), Arc::new(drive), transport)
}

/// Like [`start`], with subscriptions from `source` instead of `drive`.
fn start_with(
    drive: FakeDrive,
    source: Arc<dyn TargetSource>,
    transport: FakeTransport,
) -> Harness {
    let (tapper, _debouncer) = Debouncer::new(Duration::ZERO);
    let statuses = Arc::new(Mutex::new(Vec::new()));
    let sink = statuses.clone();
    let nudge = Arc::new(Notify::new());
    let cancel = CancellationToken::new();
    let supervisor = PushSupervisor {
        source,
        transport: Arc::new(transport.clone()),
        tapper: tapper.clone(),
        mode: Arc::new(move |s| sink.lock().unwrap().push(s)),
        nudge: nudge.clone(),
        config: config(),
    };
    let task = tokio::spawn(supervisor.run(cancel.clone()));
    Harness {
        drive,
        transport,
        tapper,
        statuses,
        nudge,
        cancel,
        task,
    }
}

impl Harness {
    fn last_status(&self) -> TargetStatus {
        self.statuses.lock().unwrap().last().cloned().unwrap()
    }
    async fn stop(self) -> FakeTransport {
        self.cancel.cancel();
        self.task.await.unwrap();
        self.transport
    }
}

#[tokio::test(start_paused = true)]
async fn goes_live_taps_on_connect_and_on_every_notification() {
    let h = start(FakeDrive::new(10), FakeTransport::default());
    sleep(Duration::from_millis(10)).await;
    assert_eq!(h.last_status(), TargetStatus::Live);
    assert_eq!(h.tapper.taps(), 1, "a delta on connect covers the gap");
    for _ in 0..5 {
        h.transport.send(LinkEvent::Notification);
    }
    sleep(Duration::from_millis(10)).await;
    assert_eq!(h.tapper.taps(), 6);
    let t = h.stop().await;
    assert_eq!(
        t.log(),
        vec!["connect fake://push", "disconnect fake://push"]
    );
}

#[tokio::test(start_paused = true)]
async fn a_dead_link_reconnects_with_backoff_and_taps_again() {
    let h = start(FakeDrive::new(10), FakeTransport::default());
    sleep(Duration::from_millis(10)).await;
    h.transport.send(LinkEvent::Error {
        reason: "PingTimeout".into(),
    });
    sleep(Duration::from_millis(10)).await;
    assert!(matches!(h.last_status(), TargetStatus::Reconnecting { .. }));
    assert_eq!(
        h.transport.disconnects(),
        1,
        "the dead link is disconnected"
    );
    // First backoff is at most 1 s.
    sleep(Duration::from_millis(1100)).await;
    assert_eq!(h.last_status(), TargetStatus::Live);
    assert_eq!(h.transport.connects(), 2);
    assert_eq!(h.tapper.taps(), 2);
    // A close event is handled the same way.
    h.transport.send(LinkEvent::Closed);
    sleep(Duration::from_millis(1100)).await;
    assert_eq!(h.transport.connects(), 3);
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_nudge_reconnects_at_once() {
    let h = start(FakeDrive::new(10), FakeTransport::default());
    sleep(Duration::from_millis(10)).await;
    h.nudge.notify_one();
    sleep(Duration::from_millis(10)).await;
    assert_eq!(h.transport.connects(), 2);
    assert_eq!(h.transport.disconnects(), 1);
    assert_eq!(h.tapper.taps(), 2);
    assert_eq!(h.last_status(), TargetStatus::Live);
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn renewal_joins_the_new_url_before_leaving_the_old() {
    let drive = FakeDrive::new(10);
    // 5 minutes: "2 minutes before expiry" (180 s) is later than half the lifetime (150 s).
    let soon = Utc::now() + chrono::Duration::seconds(300);
    drive.queue_subscription("fake://one", Some(soon));
    drive.queue_subscription("fake://two", None);
    let h = start(drive, FakeTransport::default());
    sleep(Duration::from_secs(30)).await;
    assert_eq!(h.transport.log(), vec!["connect fake://one"]);
    // Renewal is due 2 minutes before expiry: ~180 s in.
    sleep(Duration::from_secs(160)).await;
    assert_eq!(
        h.transport.log(),
        vec![
            "connect fake://one",
            "connect fake://two",
            "disconnect fake://one"
        ]
    );
    assert_eq!(
        h.drive.calls().iter().filter(|c| *c == "subscribe").count(),
        2
    );
    assert_eq!(h.tapper.taps(), 2, "the switch-over looks once more");
    // No expiry on the new one: next renewal an hour later, same URL, no reconnect.
    sleep(Duration::from_secs(3700)).await;
    assert_eq!(
        h.drive.calls().iter().filter(|c| *c == "subscribe").count(),
        3
    );
    assert_eq!(h.transport.connects(), 2);
    let t = h.stop().await;
    assert_eq!(t.log().last().unwrap(), "disconnect fake://two");
}

#[tokio::test(start_paused = true)]
async fn not_supported_falls_back_to_polling_and_returns_to_push() {
    let drive = FakeDrive::new(10);
    drive.set_subscribe_error(Some(SourceError::PushUnsupported));
    let h = start(drive, FakeTransport::default());
    sleep(Duration::from_millis(10)).await;
    assert!(
        matches!(h.last_status(), TargetStatus::Polling { reason } if reason.contains("not supported"))
    );
    assert_eq!(h.tapper.taps(), 1);
    sleep(Duration::from_secs(35)).await;
    assert_eq!(h.tapper.taps(), 4, "one delta per poll interval");
    sleep(Duration::from_secs(60)).await;
    assert!(
        h.drive.calls().iter().filter(|c| *c == "subscribe").count() >= 2,
        "push retried"
    );
    {
        let seen = h.statuses.lock().unwrap();
        assert!(
            seen.iter()
                .skip(2)
                .all(|s| matches!(s, TargetStatus::Polling { .. })),
            "retries while polling do not flap the status: {seen:?}"
        );
    }
    h.drive.set_subscribe_error(None);
    sleep(Duration::from_secs(60)).await;
    assert_eq!(h.last_status(), TargetStatus::Live);
    assert_eq!(h.transport.connects(), 1);
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn repeated_failures_fall_back_to_polling() {
    let transport = FakeTransport::default();
    transport.inner.lock().unwrap().fail_connects = 100;
    let h = start(FakeDrive::new(10), transport);
    sleep(Duration::from_secs(5)).await;
    assert!(
        matches!(h.last_status(), TargetStatus::Polling { ref reason } if reason.contains("keeps failing")),
        "{:?}",
        h.last_status()
    );
    let seen = h.statuses.lock().unwrap().clone();
    assert!(
        seen.iter()
            .filter(|s| matches!(s, TargetStatus::Reconnecting { .. }))
            .count()
            >= 2
    );
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn needs_sign_in_waits_without_looping() {
    let drive = FakeDrive::new(10);
    drive.set_subscribe_error(Some(SourceError::NeedsSignIn));
    let h = start(drive, FakeTransport::default());
    sleep(Duration::from_secs(3600)).await;
    assert_eq!(h.last_status(), TargetStatus::NeedsSignIn);
    assert_eq!(h.drive.calls().len(), 1, "no retry loop");
    h.drive.set_subscribe_error(None);
    h.nudge.notify_one();
    sleep(Duration::from_millis(10)).await;
    assert_eq!(h.last_status(), TargetStatus::Live);
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn throttling_shows_until_when_and_waits() {
    let drive = FakeDrive::new(10);
    drive.set_subscribe_error(Some(SourceError::Throttled {
        retry_after: Duration::from_secs(30),
    }));
    let h = start(drive, FakeTransport::default());
    sleep(Duration::from_millis(10)).await;
    assert!(matches!(h.last_status(), TargetStatus::Throttled { .. }));
    h.drive.set_subscribe_error(None);
    sleep(Duration::from_secs(20)).await;
    assert_eq!(h.drive.calls().len(), 1, "no request before Retry-After");
    sleep(Duration::from_secs(11)).await;
    assert_eq!(h.last_status(), TargetStatus::Live);
    h.stop().await;
}

mod renewal;
