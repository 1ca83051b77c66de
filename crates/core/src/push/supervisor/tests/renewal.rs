//! Renewal rate against a service that hands out short (or long) subscription lifetimes, in
//! paused time: how many subscription requests a span costs, that no two come closer than the
//! floor, that each lands before its lease runs out when the lifetime allows it, and that
//! notifications keep arriving across every switch-over.

use tokio::time::Instant;

use super::*;
use crate::delta::source::DeltaPage;

/// Hands out subscriptions that last `lifetime` from the moment they are asked for, as the
/// service does, and notes when (by the paused clock) each was asked for.
struct Leasing {
    drive: FakeDrive,
    lifetime: Duration,
    /// A new notificationUrl on every request, or the same one each time.
    rotate: bool,
    asked: Mutex<Vec<Instant>>,
    /// Refuse requests with this while set.
    fail: Mutex<Option<SourceError>>,
}

impl Leasing {
    fn new(lifetime: Duration, rotate: bool) -> Arc<Leasing> {
        Arc::new(Leasing {
            drive: FakeDrive::new(10),
            lifetime,
            rotate,
            asked: Mutex::new(Vec::new()),
            fail: Mutex::new(None),
        })
    }

    /// Request times, relative to the first.
    fn asked(&self) -> Vec<Duration> {
        let asked = self.asked.lock().unwrap();
        asked.iter().map(|t| *t - asked[0]).collect()
    }
}

impl TargetSource for Leasing {
    fn subscribe(&self) -> BoxFuture<'_, Result<PushSubscription, SourceError>> {
        let n = {
            let mut asked = self.asked.lock().unwrap();
            asked.push(Instant::now());
            asked.len()
        };
        if let Some(e) = self.fail.lock().unwrap().clone() {
            return async move { Err(e) }.boxed();
        }
        let notification_url = if self.rotate {
            format!("fake://push/{n}")
        } else {
            "fake://push".to_owned()
        };
        let expires_at = Some(Utc::now() + chrono::Duration::from_std(self.lifetime).unwrap());
        async move {
            Ok(PushSubscription {
                notification_url,
                expires_at,
            })
        }
        .boxed()
    }

    fn enumerate<'a>(
        &'a self,
        location: Option<&'a str>,
    ) -> BoxFuture<'a, Result<DeltaPage, SourceError>> {
        self.drive.enumerate(location)
    }

    fn page<'a>(&'a self, link: &'a str) -> BoxFuture<'a, Result<DeltaPage, SourceError>> {
        self.drive.page(link)
    }
}

/// What a span of paused time cost.
struct Span {
    /// Subscription requests after the first.
    renewals: usize,
    /// Least time between two requests.
    closest: Duration,
    /// Most time between two requests (the span itself when there was one request).
    widest: Duration,
    notifications: usize,
    taps: u64,
    log: Vec<String>,
}

/// Runs a supervisor against `lifetime` for `span`, sending a notification on the newest link
/// every 7 s.
async fn run_span(lifetime: Duration, rotate: bool, span: Duration) -> Span {
    let source = Leasing::new(lifetime, rotate);
    let h = start_with(
        source.drive.clone(),
        source.clone(),
        FakeTransport::default(),
    );
    let step = Duration::from_secs(7);
    let begin = Instant::now();
    let mut notifications = 0;
    sleep(Duration::from_millis(1)).await;
    while Instant::now() + step <= begin + span {
        sleep(step).await;
        h.transport.send(LinkEvent::Notification);
        notifications += 1;
    }
    sleep(Duration::from_millis(1)).await;
    let taps = h.tapper.taps();
    assert_eq!(h.last_status(), TargetStatus::Live);
    let log = h.stop().await.log();
    let asked = source.asked();
    let gaps: Vec<Duration> = asked.windows(2).map(|w| w[1] - w[0]).collect();
    Span {
        renewals: asked.len() - 1,
        closest: gaps.iter().copied().min().unwrap_or(span),
        widest: gaps.iter().copied().max().unwrap_or(span),
        notifications,
        taps,
        log,
    }
}

/// The rule under test, spelled out: the later of "2 minutes before expiry" and "half the
/// lifetime", and never closer than the 30 s floor.
fn expected_gap(lifetime: Duration) -> Duration {
    (lifetime.saturating_sub(Duration::from_secs(120)))
        .max(lifetime / 2)
        .max(Duration::from_secs(30))
}

#[tokio::test(start_paused = true)]
async fn renewal_rate_is_bounded_for_every_lifetime_and_no_notification_is_missed() {
    let minutes = |m: u64| Duration::from_secs(60 * m);
    let cases = [
        // Expired on receipt (a clock ahead of the service's): the floor alone holds.
        (Duration::ZERO, minutes(10)),
        (Duration::from_secs(10), minutes(10)),
        (Duration::from_secs(45), minutes(10)),
        (minutes(5), minutes(10)),
        (minutes(60), minutes(180)),
    ];
    for (lifetime, span) in cases {
        for rotate in [false, true] {
            let got = run_span(lifetime, rotate, span).await;
            let gap = expected_gap(lifetime);
            eprintln!(
                "lifetime {lifetime:?}, {} URL: {} renewals in {span:?} (closest {:?}, widest {:?})",
                if rotate { "new" } else { "same" },
                got.renewals,
                got.closest,
                got.widest,
            );
            // Wall-clock lifetimes lose the microseconds real time moves on between the fake's
            // `Utc::now()` and the supervisor's.
            let slack = Duration::from_millis(100);
            assert!(
                got.closest + slack >= gap,
                "{lifetime:?}: requests {:?} apart, expected at least {gap:?}",
                got.closest
            );
            let most = (span.as_secs_f64() / gap.saturating_sub(slack).as_secs_f64()) as usize;
            assert!(
                got.renewals <= most && got.renewals + 1 >= most,
                "{lifetime:?}: {} renewals in {span:?}, expected {most} at most (and no fewer than one less)",
                got.renewals
            );
            if lifetime >= Duration::from_secs(60) {
                assert!(
                    got.widest < lifetime,
                    "{lifetime:?}: every renewal comes before the lease runs out ({:?})",
                    got.widest
                );
            }
            let connects = got.log.iter().filter(|l| l.starts_with("connect")).count();
            if rotate {
                assert_eq!(connects, got.renewals + 1, "each new URL is joined");
                // Join the new URL, then leave the old one; never a moment without a link.
                let switches = got.log[1..].chunks_exact(2);
                assert_eq!(
                    switches.remainder(),
                    [format!("disconnect fake://push/{connects}")]
                );
                for (n, pair) in switches.enumerate() {
                    assert_eq!(
                        pair,
                        [
                            format!("connect fake://push/{}", n + 2),
                            format!("disconnect fake://push/{}", n + 1)
                        ],
                        "{:?}",
                        got.log
                    );
                }
            } else {
                assert_eq!(
                    got.log,
                    ["connect fake://push", "disconnect fake://push"],
                    "the same URL keeps the link"
                );
            }
            // One tap per notification, one per (re)join: nothing was lost across renewals.
            assert_eq!(
                got.taps,
                (got.notifications + connects) as u64,
                "{lifetime:?}"
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_45_second_lifetime_renews_at_most_once_every_22_seconds() {
    let got = run_span(Duration::from_secs(45), true, Duration::from_secs(600)).await;
    assert!(got.closest >= Duration::from_secs(22), "{:?}", got.closest);
    assert!(got.renewals <= 600 / 22, "{}", got.renewals);
}

#[tokio::test(start_paused = true)]
async fn failed_renewals_retry_no_faster_than_the_floor_or_retry_after() {
    let source = Leasing::new(Duration::from_secs(600), false);
    let h = start_with(
        source.drive.clone(),
        source.clone(),
        FakeTransport::default(),
    );
    // Renewal is due at 480 s; make it throttled with a Retry-After longer than the floor.
    sleep(Duration::from_secs(479)).await;
    *source.fail.lock().unwrap() = Some(SourceError::Throttled {
        retry_after: Duration::from_secs(45),
    });
    sleep(Duration::from_secs(2)).await;
    assert_eq!(source.asked().len(), 2);
    // Then plain failures, whose backoff (1 s, 2 s, ...) is shorter than the floor.
    *source.fail.lock().unwrap() = Some(SourceError::Unavailable {
        reason: "503".into(),
    });
    sleep(Duration::from_secs(100)).await;
    let asked = source.asked();
    assert_eq!(
        asked,
        [0, 480, 525, 555].map(Duration::from_secs),
        "Retry-After is honoured, then the floor spaces the retries"
    );
    assert_eq!(h.last_status(), TargetStatus::Live, "the old link is kept");
    assert_eq!(h.transport.connects(), 1);
    h.stop().await;
}
