//! The per-target push supervisor: subscribe, connect, stay live, renew, fall back, shut down.
//!
//! It owns everything the socket.io crate does not do well: connect timeouts, backoff with jitter
//! (1 s → 60 s), dead-link handling, renewal about two minutes before the subscription expires
//! (connecting the new URL before dropping the old one), falling back to timed delta polling when
//! push is unsupported or keeps failing (retrying push every few minutes), and a clean
//! `disconnect()` on every exit. Every (re)connect taps delta, because nothing arrives while
//! disconnected. It must never sleep without also watching its cancellation token and its nudge,
//! never report a notificationUrl, and never renew faster than its floor, however short the
//! lifetime the service hands out.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::backoff::Backoff;
use super::{LinkEvent, PushLink, PushTransport};
use crate::delta::debounce::Tapper;
use crate::delta::source::{PushSubscription, SourceError, TargetSource};
use crate::model::TargetStatus;

/// Timing of the supervisor; the defaults follow docs/PROTOCOL.md §2, tests shorten them.
#[derive(Debug, Clone)]
pub struct PushConfig {
    /// Bound on `GET .../subscriptions/socketIo`.
    pub subscribe_timeout: Duration,
    /// Renew this long before `expirationDateTime`, but never before half the lifetime.
    pub renew_before: Duration,
    /// Least time between two subscription requests of one live period (renewals and their
    /// retries), so a short lifetime cannot turn renewal into a request storm.
    pub renew_floor: Duration,
    /// Renewal period when Graph gives no expiry.
    pub renew_without_expiry: Duration,
    /// Delta polling period while push is down.
    pub poll_interval: Duration,
    /// While polling, try push again after this long.
    pub push_retry_interval: Duration,
    /// Consecutive failures before falling back to polling.
    pub failures_before_polling: u32,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
}

impl Default for PushConfig {
    fn default() -> Self {
        Self {
            subscribe_timeout: Duration::from_secs(30),
            renew_before: Duration::from_secs(120),
            renew_floor: Duration::from_secs(30),
            renew_without_expiry: Duration::from_secs(3600),
            poll_interval: Duration::from_secs(60),
            push_retry_interval: Duration::from_secs(300),
            failures_before_polling: 3,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
        }
    }
}

/// Receives the target's push mode (connecting, live, polling, ...).
pub type ModeSink = Arc<dyn Fn(TargetStatus) + Send + Sync>;

/// Supervises push for one target until cancelled.
pub struct PushSupervisor {
    pub source: Arc<dyn TargetSource>,
    pub transport: Arc<dyn PushTransport>,
    /// Taps the target's delta debouncer.
    pub tapper: Tapper,
    pub mode: ModeSink,
    /// Network came back / machine woke: reconnect now instead of after a timeout.
    pub nudge: Arc<Notify>,
    pub config: PushConfig,
}

impl std::fmt::Debug for PushSupervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushSupervisor")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Why a live period ended.
enum LiveEnd {
    Cancelled,
    Nudged,
    Dead(String),
}

/// Why a wait ended.
#[derive(PartialEq, Eq)]
enum Wake {
    Cancelled,
    Nudged,
    Elapsed,
}

/// A connected link and the channel its events arrive on.
struct Live {
    link: Box<dyn PushLink>,
    events: mpsc::UnboundedReceiver<LinkEvent>,
    lease: Lease,
}

/// A subscription and when, by the monotonic clock, it was asked for and runs out.
struct Lease {
    subscription: PushSubscription,
    /// When the request that obtained it was sent.
    asked: Instant,
    /// Due for renewal (before the floor applies).
    renew_due: Instant,
    /// `expirationDateTime` as a monotonic deadline; `None` when Graph gave none.
    expires: Option<Instant>,
}

impl Lease {
    /// Turns the wall-clock expiry into monotonic deadlines once, on receipt, so a wall clock
    /// set later moves neither.
    fn new(subscription: PushSubscription, asked: Instant, config: &PushConfig) -> Lease {
        let got = Instant::now();
        let lifetime = subscription
            .expires_at
            .map(|at| (at - Utc::now()).to_std().unwrap_or_default());
        Lease {
            renew_due: got + renewal_delay(lifetime, config),
            expires: lifetime.map(|l| got + l),
            subscription,
            asked,
        }
    }
}

/// How long after receipt a subscription with `lifetime` (expiry minus the time it was
/// obtained) is renewed: `renew_before` ahead of its expiry as docs/PROTOCOL.md §2 says peers do,
/// but never before half its lifetime, which is "now" for any lifetime under `renew_before`; and
/// hourly without an expiry (docs/PROTOCOL.md §2).
pub(crate) fn renewal_delay(lifetime: Option<Duration>, config: &PushConfig) -> Duration {
    match lifetime {
        Some(l) => l.saturating_sub(config.renew_before).max(l / 2),
        None => config.renew_without_expiry,
    }
}

impl PushSupervisor {
    fn set(&self, status: TargetStatus) {
        (self.mode)(status);
    }

    async fn wait(&self, d: Duration, cancel: &CancellationToken) -> Wake {
        tokio::select! {
            biased;
            _ = cancel.cancelled() => Wake::Cancelled,
            _ = self.nudge.notified() => Wake::Nudged,
            _ = tokio::time::sleep(d) => Wake::Elapsed,
        }
    }

    /// Runs until `cancel`; always leaves no link behind.
    pub async fn run(self, cancel: CancellationToken) {
        let mut backoff = Backoff::new(self.config.backoff_base, self.config.backoff_max);
        let mut failures = 0u32;
        let mut last_reason: Option<String> = None;
        // While polling, trying push again is silent: the status stays "polling" until push works.
        let mut polling = false;
        while !cancel.is_cancelled() {
            let was_polling = polling;
            if !polling {
                self.set(match &last_reason {
                    None => TargetStatus::Connecting,
                    Some(reason) => TargetStatus::Reconnecting {
                        reason: reason.clone(),
                    },
                });
            }
            polling = false;
            match self.establish(&cancel).await {
                Ok(live) => {
                    failures = 0;
                    backoff.reset();
                    self.set(TargetStatus::Live);
                    // Nothing arrives while disconnected: cover the gap.
                    self.tapper.tap();
                    match self.live(live, &cancel).await {
                        LiveEnd::Cancelled => return,
                        LiveEnd::Nudged => last_reason = Some("network changed".into()),
                        LiveEnd::Dead(reason) => {
                            tracing::info!(%reason, "push link lost");
                            last_reason = Some(reason.clone());
                            self.set(TargetStatus::Reconnecting { reason });
                            // A fresh loss reconnects quickly; repeated losses back off.
                            if self.wait(backoff.next_delay(), &cancel).await == Wake::Cancelled {
                                return;
                            }
                        }
                    }
                }
                Err(Failure::Cancelled) => return,
                Err(Failure::Source(SourceError::PushUnsupported)) => {
                    if !self
                        .poll_for("push is not supported for this drive", &cancel)
                        .await
                    {
                        return;
                    }
                    last_reason = None;
                    polling = true;
                }
                Err(Failure::Source(SourceError::NeedsSignIn)) => {
                    self.set(TargetStatus::NeedsSignIn);
                    // No loop: only a nudge (e.g. after signing in again) or shutdown moves on.
                    tokio::select! {
                        _ = cancel.cancelled() => return,
                        _ = self.nudge.notified() => {}
                    }
                    last_reason = None;
                }
                Err(Failure::Source(SourceError::Throttled { retry_after })) => {
                    let until =
                        Utc::now() + chrono::Duration::from_std(retry_after).unwrap_or_default();
                    self.set(TargetStatus::Throttled { until });
                    if self.wait(retry_after, &cancel).await == Wake::Cancelled {
                        return;
                    }
                }
                Err(failure) => {
                    let reason = failure.to_string();
                    failures += 1;
                    tracing::info!(%reason, failures, "push connect failed");
                    // A failed retry from polling goes straight back to polling.
                    if was_polling || failures >= self.config.failures_before_polling {
                        failures = 0;
                        backoff.reset();
                        let why = format!("push keeps failing: {reason}");
                        if !self.poll_for(&why, &cancel).await {
                            return;
                        }
                        last_reason = None;
                        polling = true;
                    } else {
                        last_reason = Some(reason.clone());
                        self.set(TargetStatus::Reconnecting { reason });
                        if self.wait(backoff.next_delay(), &cancel).await == Wake::Cancelled {
                            return;
                        }
                    }
                }
            }
        }
    }

    /// Polls delta on a timer for `push_retry_interval` (or until a nudge); false if cancelled.
    async fn poll_for(&self, reason: &str, cancel: &CancellationToken) -> bool {
        self.set(TargetStatus::Polling {
            reason: reason.to_owned(),
        });
        let until = Instant::now() + self.config.push_retry_interval;
        loop {
            self.tapper.tap();
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            match self.wait(self.config.poll_interval.min(left), cancel).await {
                Wake::Cancelled => return false,
                Wake::Nudged => return true,
                Wake::Elapsed => {}
            }
        }
    }

    async fn subscribe(&self, cancel: &CancellationToken) -> Result<Lease, Failure> {
        let asked = Instant::now();
        tokio::select! {
            biased;
            _ = cancel.cancelled() => Err(Failure::Cancelled),
            r = tokio::time::timeout(self.config.subscribe_timeout, self.source.subscribe()) => match r {
                Ok(Ok(sub)) => Ok(Lease::new(sub, asked, &self.config)),
                Ok(Err(SourceError::Cancelled)) => Err(Failure::Cancelled),
                Ok(Err(e)) => Err(Failure::Source(e)),
                Err(_) => Err(Failure::SubscribeTimeout),
            }
        }
    }

    async fn connect(&self, lease: Lease, cancel: &CancellationToken) -> Result<Live, Failure> {
        let (tx, rx) = mpsc::unbounded_channel();
        let link = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(Failure::Cancelled),
            r = self.transport.connect(&lease.subscription.notification_url, tx) => {
                r.map_err(Failure::Push)?
            }
        };
        Ok(Live {
            link,
            events: rx,
            lease,
        })
    }

    async fn establish(&self, cancel: &CancellationToken) -> Result<Live, Failure> {
        let sub = self.subscribe(cancel).await?;
        self.connect(sub, cancel).await
    }

    /// The earliest a subscription request may follow the one sent at `asked`.
    fn floor(&self, asked: Instant) -> Instant {
        asked + self.config.renew_floor
    }

    async fn live(&self, mut live: Live, cancel: &CancellationToken) -> LiveEnd {
        // Every request of this period, renewal or retry, is at least the floor after the last.
        let mut asked = live.lease.asked;
        let mut renew_at = live.lease.renew_due.max(self.floor(asked));
        let mut renew_backoff = Backoff::new(self.config.backoff_base, self.config.backoff_max);
        loop {
            let event = tokio::select! {
                biased;
                _ = cancel.cancelled() => {
                    live.link.disconnect().await;
                    return LiveEnd::Cancelled;
                }
                _ = self.nudge.notified() => {
                    live.link.disconnect().await;
                    return LiveEnd::Nudged;
                }
                e = live.events.recv() => e,
                _ = tokio::time::sleep_until(renew_at) => {
                    asked = Instant::now();
                    match self.renew(&mut live, cancel).await {
                        Renewal::Done => {
                            renew_backoff.reset();
                            renew_at = live.lease.renew_due.max(self.floor(asked));
                        }
                        Renewal::Later(after) => {
                            let now = Instant::now();
                            if live.lease.expires.is_some_and(|at| at <= now) {
                                live.link.disconnect().await;
                                return LiveEnd::Dead("the push subscription expired".into());
                            }
                            // Retry-After is a lower bound too: the later of it and the floor.
                            renew_at = (now + after.unwrap_or_else(|| renew_backoff.next_delay()))
                                .max(self.floor(asked));
                        }
                        Renewal::Cancelled => {
                            live.link.disconnect().await;
                            return LiveEnd::Cancelled;
                        }
                    }
                    continue;
                }
            };
            match event {
                Some(LinkEvent::Notification) => self.tapper.tap(),
                Some(LinkEvent::Error { reason }) => {
                    live.link.disconnect().await;
                    let reason = if reason.is_empty() {
                        "the push link failed".to_owned()
                    } else {
                        format!("the push link failed: {reason}")
                    };
                    return LiveEnd::Dead(reason);
                }
                Some(LinkEvent::Closed) | None => {
                    live.link.disconnect().await;
                    return LiveEnd::Dead("the push service closed the link".into());
                }
            }
        }
    }

    /// Gets a fresh subscription; the same URL keeps the link, a new one is joined before the old
    /// is left (docs/PROTOCOL.md §2: peers reconnect only when the URL changed).
    async fn renew(&self, live: &mut Live, cancel: &CancellationToken) -> Renewal {
        let lease = match self.subscribe(cancel).await {
            Ok(lease) => lease,
            Err(Failure::Cancelled) => return Renewal::Cancelled,
            Err(Failure::Source(SourceError::Throttled { retry_after })) => {
                return Renewal::Later(Some(retry_after));
            }
            Err(e) => {
                tracing::info!(reason = %e, "push renewal failed; keeping the current link");
                return Renewal::Later(None);
            }
        };
        if lease.subscription.notification_url == live.lease.subscription.notification_url {
            live.lease = lease;
            return Renewal::Done;
        }
        match self.connect(lease, cancel).await {
            Ok(new) => {
                let old = std::mem::replace(live, new);
                old.link.disconnect().await;
                // Events between the two links may have gone to either: look once.
                self.tapper.tap();
                Renewal::Done
            }
            Err(Failure::Cancelled) => Renewal::Cancelled,
            Err(e) => {
                tracing::info!(reason = %e, "joining the renewed push URL failed; keeping the old");
                Renewal::Later(None)
            }
        }
    }
}

enum Renewal {
    Done,
    /// Try again after this long (or after the backoff's next delay).
    Later(Option<Duration>),
    Cancelled,
}

#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error(transparent)]
    Source(SourceError),
    #[error("the push subscription request timed out")]
    SubscribeTimeout,
    #[error(transparent)]
    Push(super::PushError),
    #[error("cancelled")]
    Cancelled,
}

#[cfg(test)]
mod tests;
