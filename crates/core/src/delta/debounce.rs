//! Coalesces shoulder taps into delta runs: at most one run in flight and one queued per target.
//!
//! Push notifications arrive in bursts (one per touched item, several per second), and every one
//! only means "something changed". The debouncer is leading-edge: a tap after a quiet spell starts
//! a run at once (a single change reaches the user in milliseconds), and any number of taps during
//! a run, or within `window` of the last run's start, become exactly one more run, started no
//! sooner than `window` after the previous one. It must never drop the last tap (a change would
//! wait for the safety net) and never queue more than one run.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

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

/// The receiving side, owned by the target's delta loop.
#[derive(Debug)]
pub struct Debouncer {
    inner: Arc<Inner>,
    window: Duration,
    /// When the previous run started; only the owning delta loop touches it.
    last_start: Mutex<Option<Instant>>,
}

impl Debouncer {
    /// `window` is the shortest spacing between the starts of two runs.
    pub fn new(window: Duration) -> (Tapper, Debouncer) {
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
                window,
                last_start: Mutex::new(None),
            },
        )
    }

    /// Waits for a tap (and, right after a run, for the rest of `window`), and returns `true` when
    /// a run should start now (`false` when cancelled). Taps that arrive after this returns queue
    /// the next run.
    pub async fn next(&self, cancel: &CancellationToken) -> bool {
        loop {
            if self.inner.pending.load(Ordering::Acquire) {
                break;
            }
            tokio::select! {
                _ = cancel.cancelled() => return false,
                _ = self.inner.notify.notified() => {}
            }
        }
        let previous = *self
            .last_start
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(ready) = previous.map(|start| start + self.window) {
            tokio::select! {
                _ = cancel.cancelled() => return false,
                _ = tokio::time::sleep_until(ready) => {}
            }
        }
        // Everything tapped so far is covered by the run about to start.
        self.inner.pending.store(false, Ordering::Release);
        *self
            .last_start
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Instant::now());
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use tokio::time::{Duration, advance, sleep};

    /// Runs the debouncer against a fake delta that takes `run_time`, counting runs.
    fn spawn_runner(
        debouncer: Debouncer,
        run_time: Duration,
        cancel: CancellationToken,
    ) -> (Arc<AtomicUsize>, tokio::task::JoinHandle<()>) {
        let runs = Arc::new(AtomicUsize::new(0));
        let counter = runs.clone();
        let handle = tokio::spawn(async move {
            while debouncer.next(&cancel).await {
                counter.fetch_add(1, Ordering::SeqCst);
                sleep(run_time).await;
            }
        });
        (runs, handle)
    }

    #[tokio::test(start_paused = true)]
    async fn a_lone_tap_runs_at_once() {
        let cancel = CancellationToken::new();
        let (tapper, debouncer) = Debouncer::new(Duration::from_millis(500));
        let (runs, handle) = spawn_runner(debouncer, Duration::from_millis(50), cancel.clone());
        tapper.tap();
        // No time passes: the run must not wait for the window.
        tokio::task::yield_now().await;
        tokio::task::yield_now().await;
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        // After a quiet spell, the next lone tap is immediate too.
        sleep(Duration::from_secs(2)).await;
        tapper.tap();
        tokio::task::yield_now().await;
        tokio::task::yield_now().await;
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        cancel.cancel();
        handle.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_becomes_one_run_now_and_one_for_the_rest() {
        let cancel = CancellationToken::new();
        let (tapper, debouncer) = Debouncer::new(Duration::from_millis(500));
        let (runs, handle) = spawn_runner(debouncer, Duration::from_millis(100), cancel.clone());
        let started = Instant::now();
        for _ in 0..100 {
            tapper.tap();
            advance(Duration::from_millis(2)).await;
        }
        sleep(Duration::from_secs(5)).await;
        // The first tap ran at once; the other 99 (all within the window) share one run.
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        assert!(started.elapsed() >= Duration::from_millis(500));
        cancel.cancel();
        handle.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn runs_are_spaced_by_the_window_during_a_long_storm() {
        let cancel = CancellationToken::new();
        let (tapper, debouncer) = Debouncer::new(Duration::from_millis(500));
        let (runs, handle) = spawn_runner(debouncer, Duration::from_millis(10), cancel.clone());
        // A tap every 10 ms for 5 s.
        for _ in 0..500 {
            tapper.tap();
            sleep(Duration::from_millis(10)).await;
        }
        sleep(Duration::from_secs(2)).await;
        let n = runs.load(Ordering::SeqCst);
        assert!(
            (10..=12).contains(&n),
            "{n} runs for a 5 s storm with a 500 ms window"
        );
        cancel.cancel();
        handle.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn taps_during_a_run_queue_exactly_one_more() {
        let cancel = CancellationToken::new();
        let (tapper, debouncer) = Debouncer::new(Duration::from_millis(100));
        let (runs, handle) = spawn_runner(debouncer, Duration::from_secs(2), cancel.clone());
        tapper.tap();
        sleep(Duration::from_millis(300)).await; // first run is in flight
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        for _ in 0..50 {
            tapper.tap();
            sleep(Duration::from_millis(10)).await;
        }
        sleep(Duration::from_secs(10)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        // A later tap still gets its own run: nothing is lost.
        tapper.tap();
        sleep(Duration::from_secs(3)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        cancel.cancel();
        handle.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn cancellation_ends_the_wait() {
        let cancel = CancellationToken::new();
        let (_tapper, debouncer) = Debouncer::new(Duration::ZERO);
        let (runs, handle) = spawn_runner(debouncer, Duration::ZERO, cancel.clone());
        cancel.cancel();
        handle.await.unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), 0);
    }
}
