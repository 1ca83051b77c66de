//! Coalesces shoulder taps into delta runs: at most one run in flight and one queued per target.
//!
//! Push notifications arrive in bursts (one per touched item, several per second), and every one
//! only means "something changed". The debouncer turns any number of taps during a short quiet
//! window, or during a running delta, into exactly one more run. It must never drop the last tap
//! (a change would wait for the safety net) and never queue more than one run.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Notify;
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
}

impl Debouncer {
    /// `window` is how long to wait after the first tap for the rest of a burst.
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
            Debouncer { inner, window },
        )
    }

    /// Waits for a tap, lets the burst settle, and returns `true` when a run should start now
    /// (`false` when cancelled). Taps that arrive after this returns queue the next run.
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
        if !self.window.is_zero() {
            tokio::select! {
                _ = cancel.cancelled() => return false,
                _ = tokio::time::sleep(self.window) => {}
            }
        }
        // Everything tapped so far is covered by the run about to start.
        self.inner.pending.store(false, Ordering::Release);
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
    async fn a_burst_becomes_one_run() {
        let cancel = CancellationToken::new();
        let (tapper, debouncer) = Debouncer::new(Duration::from_millis(500));
        let (runs, handle) = spawn_runner(debouncer, Duration::from_secs(1), cancel.clone());
        for _ in 0..100 {
            tapper.tap();
            advance(Duration::from_millis(2)).await;
        }
        sleep(Duration::from_secs(5)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 1);
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
