//! Coalesces shoulder taps into delta runs: at most one run in flight and one queued per target.
//!
//! Push notifications arrive in bursts (one per touched item, several per second), and every one
//! only means "something changed". The debouncer starts a run at the first tap, so a lone change
//! reaches the user after one delta round trip and no fixed wait. Any number of taps during a run
//! become exactly one more run, started as soon as that run ends: the burst that was still
//! arriving is read in one go. When runs keep following each other back to back (the drive
//! changes faster than delta reads it: a tap came during the previous run, or less than
//! [`STILL_BUSY_WITHIN`] after it), every further run of that chain starts no sooner than
//! `spacing` after the previous one started, so a storm costs a few delta calls a second rather
//! than dozens, and every tap of it is still covered by one of them. A lively but steady stream
//! (a change every few tens of milliseconds or slower, each read before the next) never chains.
//!
//! It must never drop the last tap (a change would wait for the safety net), never queue more
//! than one run, and never delay a tap that arrives while the target is idle.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// A tap this soon after a run ended finds the drive still changing: it continues the chain of
/// back-to-back runs instead of starting afresh. Well under the gaps of any stream a person or a
/// sync client makes one change at a time, well over the gaps inside a storm (Graph sends a
/// notification per change when it does not coalesce them).
pub const STILL_BUSY_WITHIN: Duration = Duration::from_millis(25);

/// Where taps are sent; cheap to clone, shared by push, timers and hosts' nudges.
#[derive(Clone, Debug)]
pub struct Tapper {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// True when a run is owed. Set by taps, cleared when a run starts.
    pending: AtomicBool,
    notify: Notify,
    /// Every tap ever made, for diagnostics and tests.
    taps: AtomicU64,
}

impl Tapper {
    /// Asks for a delta run soon.
    pub fn tap(&self) {
        self.inner.taps.fetch_add(1, Ordering::Relaxed);
        self.inner.pending.store(true, Ordering::Release);
        self.inner.notify.notify_one();
    }

    /// How many taps were made so far.
    pub fn taps(&self) -> u64 {
        self.inner.taps.load(Ordering::Relaxed)
    }
}

/// The receiving side, owned by the target's delta loop (which alone calls [`Self::next`]).
#[derive(Debug)]
pub struct Debouncer {
    inner: Arc<Inner>,
    spacing: Duration,
    /// When the previous run started; `None` before the first.
    last_start: Option<Instant>,
    /// How many runs in a row followed the run ahead of them back to back (0: the last run
    /// started from idle).
    chain: u32,
}

impl Debouncer {
    /// `spacing` is the shortest time between the starts of two runs once a chain of back-to-back
    /// runs is longer than two; a run from idle and the one right after it never wait.
    pub fn new(spacing: Duration) -> (Tapper, Debouncer) {
        let inner = Arc::new(Inner {
            pending: AtomicBool::new(false),
            notify: Notify::new(),
            taps: AtomicU64::new(0),
        });
        (
            Tapper {
                inner: inner.clone(),
            },
            Debouncer {
                inner,
                spacing,
                last_start: None,
                chain: 0,
            },
        )
    }

    /// Call when the previous run (if any) has ended. Waits for a tap (and, in a chain of
    /// back-to-back runs, for the spacing) and returns `true` when a run should start now
    /// (`false` when cancelled). Taps that arrive after this returns queue the next run.
    pub async fn next(&mut self, cancel: &CancellationToken) -> bool {
        // A tap already owed when the previous run ended came in during that run.
        let owed_during_run =
            self.last_start.is_some() && self.inner.pending.load(Ordering::Acquire);
        let back_to_back = if owed_during_run {
            true
        } else {
            let ended = Instant::now();
            loop {
                if self.inner.pending.load(Ordering::Acquire) {
                    break;
                }
                tokio::select! {
                    _ = cancel.cancelled() => return false,
                    _ = self.inner.notify.notified() => {}
                }
            }
            self.last_start.is_some() && ended.elapsed() < STILL_BUSY_WITHIN
        };
        self.chain = if back_to_back {
            self.chain.saturating_add(1)
        } else {
            0
        };
        if self.chain >= 2 {
            if let Some(ready) = self.last_start.map(|start| start + self.spacing) {
                tokio::select! {
                    _ = cancel.cancelled() => return false,
                    _ = tokio::time::sleep_until(ready) => {}
                }
            }
        }
        if cancel.is_cancelled() {
            return false;
        }
        // Everything tapped so far is covered by the run about to start.
        self.inner.pending.store(false, Ordering::Release);
        self.last_start = Some(Instant::now());
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use tokio::time::{Duration, sleep};

    /// Runs the debouncer against a fake delta that takes `run_time`, noting when each run
    /// started.
    fn spawn_runner(
        mut debouncer: Debouncer,
        run_time: Duration,
        cancel: CancellationToken,
    ) -> (Arc<Mutex<Vec<Instant>>>, tokio::task::JoinHandle<()>) {
        let starts = Arc::new(Mutex::new(Vec::new()));
        let noted = starts.clone();
        let handle = tokio::spawn(async move {
            while debouncer.next(&cancel).await {
                noted.lock().unwrap().push(Instant::now());
                sleep(run_time).await;
            }
        });
        (starts, handle)
    }

    fn count(starts: &Arc<Mutex<Vec<Instant>>>) -> usize {
        starts.lock().unwrap().len()
    }

    /// Lets the runner task take its turn without moving the paused clock.
    async fn let_run() {
        for _ in 0..5 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_lone_tap_runs_at_once() {
        let cancel = CancellationToken::new();
        let (tapper, debouncer) = Debouncer::new(Duration::from_millis(300));
        let (starts, handle) = spawn_runner(debouncer, Duration::from_millis(50), cancel.clone());
        let tapped = Instant::now();
        tapper.tap();
        let_run().await;
        assert_eq!(
            *starts.lock().unwrap(),
            vec![tapped],
            "no virtual time passed"
        );
        // After a quiet spell, the next lone tap is immediate too.
        sleep(Duration::from_secs(2)).await;
        let tapped = Instant::now();
        tapper.tap();
        let_run().await;
        assert_eq!(starts.lock().unwrap().last(), Some(&tapped));
        assert_eq!(count(&starts), 2);
        cancel.cancel();
        handle.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn taps_during_a_run_queue_exactly_one_more_right_after_it() {
        let cancel = CancellationToken::new();
        let (tapper, debouncer) = Debouncer::new(Duration::from_millis(300));
        let (starts, handle) = spawn_runner(debouncer, Duration::from_secs(2), cancel.clone());
        let first = Instant::now();
        tapper.tap();
        let_run().await;
        assert_eq!(count(&starts), 1);
        for _ in 0..50 {
            tapper.tap();
            sleep(Duration::from_millis(10)).await;
        }
        sleep(Duration::from_secs(10)).await;
        let seen = starts.lock().unwrap().clone();
        assert_eq!(seen.len(), 2, "fifty taps during a run give one more run");
        assert_eq!(
            seen[1] - first,
            Duration::from_secs(2),
            "started as the run ended"
        );
        // A later tap still gets its own run, at once: nothing is lost.
        let tapped = Instant::now();
        tapper.tap();
        let_run().await;
        assert_eq!(count(&starts), 3);
        assert_eq!(starts.lock().unwrap()[2], tapped);
        cancel.cancel();
        handle.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_sustained_storm_costs_a_few_runs_a_second_and_the_last_tap_gets_one() {
        let cancel = CancellationToken::new();
        let spacing = Duration::from_millis(300);
        let (tapper, debouncer) = Debouncer::new(spacing);
        let (starts, handle) = spawn_runner(debouncer, Duration::from_millis(20), cancel.clone());
        let begin = Instant::now();
        // A tap every 5 ms for 5 s: always one owed when a run ends.
        for _ in 0..1000 {
            tapper.tap();
            sleep(Duration::from_millis(5)).await;
        }
        let last_tap = Instant::now() - Duration::from_millis(5);
        sleep(Duration::from_secs(2)).await;
        let seen = starts.lock().unwrap().clone();
        // The first run at once, the second as it ends, then one per spacing.
        assert_eq!(seen[0], begin);
        assert_eq!(seen[1] - seen[0], Duration::from_millis(20));
        for pair in seen[1..].windows(2) {
            assert!(pair[1] - pair[0] >= spacing, "{:?}", pair[1] - pair[0]);
        }
        let n = seen.len();
        assert!((16..=20).contains(&n), "{n} runs for a 5 s storm");
        assert!(
            *seen.last().unwrap() >= last_tap,
            "the last tap is covered by a run that started after it"
        );
        assert!(*seen.last().unwrap() - last_tap <= spacing);
        cancel.cancel();
        handle.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn taps_just_after_quick_runs_still_make_a_chain() {
        let cancel = CancellationToken::new();
        let spacing = Duration::from_millis(300);
        let (tapper, debouncer) = Debouncer::new(spacing);
        // Runs end long before the next tap, but the taps keep coming every 10 ms for 5 s.
        let (starts, handle) = spawn_runner(debouncer, Duration::from_millis(1), cancel.clone());
        for _ in 0..500 {
            tapper.tap();
            sleep(Duration::from_millis(10)).await;
        }
        let last_tap = Instant::now() - Duration::from_millis(10);
        sleep(Duration::from_secs(2)).await;
        let seen = starts.lock().unwrap().clone();
        let n = seen.len();
        assert!(
            (16..=20).contains(&n),
            "{n} runs for a 5 s storm of quick runs"
        );
        assert!(*seen.last().unwrap() >= last_tap);
        cancel.cancel();
        handle.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_steady_stream_of_changes_never_waits() {
        let cancel = CancellationToken::new();
        let (tapper, debouncer) = Debouncer::new(Duration::from_millis(300));
        let (starts, handle) = spawn_runner(debouncer, Duration::from_millis(5), cancel.clone());
        // A change every 40 ms, each read long before the next arrives.
        let mut tapped = Vec::new();
        for _ in 0..100 {
            tapped.push(Instant::now());
            tapper.tap();
            sleep(Duration::from_millis(40)).await;
        }
        assert_eq!(*starts.lock().unwrap(), tapped, "every tap ran at once");
        cancel.cancel();
        handle.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_chain_ends_when_a_run_finds_nothing_owed() {
        let cancel = CancellationToken::new();
        let (tapper, debouncer) = Debouncer::new(Duration::from_millis(300));
        let (starts, handle) = spawn_runner(debouncer, Duration::from_millis(20), cancel.clone());
        // Three runs in a row: the third waits for the spacing.
        tapper.tap();
        let_run().await;
        sleep(Duration::from_millis(10)).await;
        tapper.tap();
        sleep(Duration::from_millis(20)).await;
        tapper.tap();
        sleep(Duration::from_secs(1)).await;
        let seen = starts.lock().unwrap().clone();
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[2] - seen[1], Duration::from_millis(300));
        // Idle again: the next tap runs at once.
        let tapped = Instant::now();
        tapper.tap();
        let_run().await;
        assert_eq!(starts.lock().unwrap().last(), Some(&tapped));
        cancel.cancel();
        handle.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn cancellation_ends_the_wait() {
        let cancel = CancellationToken::new();
        let (_tapper, debouncer) = Debouncer::new(Duration::ZERO);
        let (starts, handle) = spawn_runner(debouncer, Duration::ZERO, cancel.clone());
        cancel.cancel();
        handle.await.unwrap();
        assert_eq!(count(&starts), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn cancellation_ends_a_spacing_wait_without_a_run() {
        let cancel = CancellationToken::new();
        let (tapper, debouncer) = Debouncer::new(Duration::from_secs(60));
        let (starts, handle) = spawn_runner(debouncer, Duration::from_millis(10), cancel.clone());
        for _ in 0..10 {
            tapper.tap();
            sleep(Duration::from_millis(5)).await;
        }
        // Two runs happened; the third waits a minute for the spacing.
        assert_eq!(count(&starts), 2);
        cancel.cancel();
        handle.await.unwrap();
        assert_eq!(count(&starts), 2);
    }
}
