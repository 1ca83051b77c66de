//! Turns changes into `notification` events with the configured timing (docs/PROTOCOL.md §2.9),
//! and drops the sockets of subscriptions when they expire.
//!
//! Outside realistic mode a drive's changes within the coalescing delay give one notification
//! per socket (zero: one per change, at once). Realistic mode sends one notification per changed
//! item, each after its own delay drawn from the configured range (the service's 5-40 s), so
//! bursts arrive as trickles and out of step. All waiting is on tokio's clock so tests can pause
//! it. This task must never block the runtime or hold a lock across an await.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use socketioxide::socket::Sid;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{NAMESPACE, PushState, frame};
use crate::Shared;
use crate::config::PushTiming;

/// One mutation's effect: the drive it changed and the items it changed directly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub drive: String,
    pub items: Vec<String>,
}

/// Notifications waiting for their time.
#[derive(Debug, Default)]
struct Plan {
    /// (due, sequence) → (drive, whether it is a coalesced one)
    queue: BTreeMap<(Instant, u64), (String, bool)>,
    /// Drives with a coalesced notification already queued.
    coalescing: HashSet<String>,
    seq: u64,
}

impl Plan {
    fn push(&mut self, due: Instant, drive: &str, coalesced: bool) {
        self.seq += 1;
        self.queue
            .insert((due, self.seq), (drive.to_string(), coalesced));
    }

    /// Queues what a change causes; returns the drives to notify at once.
    fn add(
        &mut self,
        change: &Change,
        timing: &PushTiming,
        now: Instant,
        rng: &mut fastrand::Rng,
    ) -> Vec<String> {
        let mut now_due = vec![];
        if timing.realistic {
            for _ in 0..change.items.len().max(1) {
                let delay = draw(timing, rng);
                if delay.is_zero() {
                    now_due.push(change.drive.clone());
                } else {
                    self.push(now + delay, &change.drive, false);
                }
            }
        } else if timing.coalescing_delay.is_zero() {
            now_due.push(change.drive.clone());
        } else if self.coalescing.insert(change.drive.clone()) {
            self.push(now + timing.coalescing_delay, &change.drive, true);
        }
        now_due
    }

    fn next_due(&self) -> Option<Instant> {
        self.queue.keys().next().map(|(t, _)| *t)
    }

    /// Removes and returns the drives due by `now`, in due order.
    fn take_due(&mut self, now: Instant) -> Vec<String> {
        let later = self.queue.split_off(&(now, u64::MAX));
        let due = std::mem::replace(&mut self.queue, later);
        due.into_values()
            .map(|(drive, coalesced)| {
                if coalesced {
                    self.coalescing.remove(&drive);
                }
                drive
            })
            .collect()
    }
}

/// A delay from the realistic range, uniformly in whole milliseconds.
fn draw(timing: &PushTiming, rng: &mut fastrand::Rng) -> Duration {
    let min = timing.realistic_delay_min.as_millis() as u64;
    let max = (timing.realistic_delay_max.as_millis() as u64).max(min);
    Duration::from_millis(rng.u64(min..=max))
}

/// Sends due notifications and drops expired subscriptions' sockets until cancelled.
pub async fn run_notifier(
    shared: Arc<Shared>,
    mut rx: UnboundedReceiver<Change>,
    cancel: CancellationToken,
) {
    let mut plan = Plan::default();
    let mut rng = fastrand::Rng::new();
    loop {
        let due = plan.next_due();
        let expiry = shared.push.next_expiry();
        tokio::select! {
            _ = cancel.cancelled() => break,
            m = rx.recv() => match m {
                None => break,
                Some(change) => {
                    let timing = shared.push.timing();
                    for d in plan.add(&change, &timing, Instant::now(), &mut rng) {
                        send(&shared, &d, &cancel);
                    }
                }
            },
            _ = tokio::time::sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {
                for d in plan.take_due(Instant::now()) {
                    send(&shared, &d, &cancel);
                }
            }
            _ = tokio::time::sleep_until(expiry.unwrap_or_else(Instant::now)), if expiry.is_some() => {
                shared.push.sweep();
            }
            // A new subscription may expire before the one watched so far.
            _ = shared.push.subscribed.notified() => {}
        }
    }
}

fn send(shared: &Arc<Shared>, drive: &str, cancel: &CancellationToken) {
    let Some(facts) = frame::drive_facts(&shared.lock_world(), drive) else {
        return;
    };
    let (n, later) = shared.push.notify(drive, &facts);
    tracing::debug!(
        drive,
        sockets = n,
        connecting = later.len(),
        "notification sent"
    );
    if !later.is_empty() {
        let shared = shared.clone();
        let cancel = cancel.clone();
        tokio::spawn(async move { shared.push.deliver_late(later, cancel).await });
    }
}

impl PushState {
    /// Sends one `notification` to every live socket whose subscription covers `drive`.
    ///
    /// Returns how many were sent, and the sockets still finishing their connect (socket.io
    /// marks a socket connected only after its CONNECT reply is out), to be retried shortly.
    fn notify(&self, drive: &str, facts: &frame::DriveFacts) -> (usize, Vec<(Sid, String)>) {
        let Some(ns) = self.io.get().and_then(|io| io.of(NAMESPACE)) else {
            return (0, vec![]);
        };
        let now = Instant::now();
        let targets: Vec<(Sid, String)> = {
            let subs = self.subs();
            self.sockets()
                .iter()
                .filter(|((_, namespace), _)| *namespace == NAMESPACE)
                .filter_map(|((sid, _), tok)| subs.get(tok).map(|s| (*sid, s)))
                .filter(|(_, s)| s.drive == drive && s.live(now))
                .map(|(sid, s)| (sid, frame::notification_text(s, facts)))
                .collect()
        };
        let mut sent = 0;
        let mut later = vec![];
        for (sid, text) in targets {
            if let Some(s) = ns.get_socket(sid) {
                // The argument is a JSON string, not an object.
                if !s.connected() {
                    later.push((sid, text));
                } else if s.emit("notification", &text).is_ok() {
                    sent += 1;
                }
            }
        }
        (sent, later)
    }

    /// Delivers notifications to sockets that were still connecting, for up to a second.
    async fn deliver_late(&self, mut pending: Vec<(Sid, String)>, cancel: CancellationToken) {
        let Some(ns) = self.io.get().and_then(|io| io.of(NAMESPACE)) else {
            return;
        };
        for _ in 0..40 {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_millis(25)) => {}
            }
            pending.retain(|(sid, text)| match ns.get_socket(*sid) {
                Some(s) if s.connected() => {
                    let _ = s.emit("notification", text);
                    false
                }
                Some(_) => true,
                None => false,
            });
            if pending.is_empty() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(n: usize) -> Change {
        Change {
            drive: "d".into(),
            items: (0..n).map(|i| format!("i{i}")).collect(),
        }
    }

    fn timing() -> PushTiming {
        crate::EmulatorConfig::default().push_timing()
    }

    #[tokio::test(start_paused = true)]
    async fn realistic_mode_queues_one_notification_per_item_within_the_range() {
        let t = PushTiming {
            realistic: true,
            ..timing()
        };
        let mut plan = Plan::default();
        let mut rng = fastrand::Rng::with_seed(7);
        let start = Instant::now();
        assert!(plan.add(&change(6), &t, start, &mut rng).is_empty());
        assert_eq!(plan.queue.len(), 6, "one per changed item");
        for (due, _) in plan.queue.keys() {
            let d = *due - start;
            assert!(
                d >= Duration::from_secs(5) && d <= Duration::from_secs(40),
                "{d:?}"
            );
        }
        tokio::time::advance(Duration::from_millis(4_999)).await;
        assert!(
            plan.take_due(Instant::now()).is_empty(),
            "nothing before 5 s"
        );
        tokio::time::advance(Duration::from_secs(36)).await;
        assert_eq!(plan.take_due(Instant::now()).len(), 6);
        assert!(plan.next_due().is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn coalesced_mode_sends_one_per_drive_after_the_delay() {
        let mut plan = Plan::default();
        let mut rng = fastrand::Rng::with_seed(1);
        let t = timing();
        for _ in 0..10 {
            assert!(
                plan.add(&change(1), &t, Instant::now(), &mut rng)
                    .is_empty()
            );
        }
        assert_eq!(
            plan.next_due(),
            Some(Instant::now() + Duration::from_secs(1))
        );
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(plan.take_due(Instant::now()), vec!["d".to_string()]);
        // The next change starts a new window.
        assert!(
            plan.add(&change(1), &t, Instant::now(), &mut rng)
                .is_empty()
        );
        assert_eq!(plan.queue.len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn zero_delays_send_at_once() {
        let mut plan = Plan::default();
        let mut rng = fastrand::Rng::with_seed(1);
        let zero = PushTiming {
            coalescing_delay: Duration::ZERO,
            ..timing()
        };
        assert_eq!(
            plan.add(&change(3), &zero, Instant::now(), &mut rng).len(),
            1
        );
        let realistic_now = PushTiming {
            realistic: true,
            realistic_delay_min: Duration::ZERO,
            realistic_delay_max: Duration::ZERO,
            ..zero
        };
        assert_eq!(
            plan.add(&change(3), &realistic_now, Instant::now(), &mut rng)
                .len(),
            3
        );
        assert!(plan.next_due().is_none());
    }
}
