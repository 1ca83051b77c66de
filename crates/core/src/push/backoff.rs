//! Reconnect delays: exponential from 1 s to 60 s with jitter, so many clients that lost the
//! same server do not come back in lock-step. It only computes delays; it must never sleep itself.

use std::time::Duration;

/// Exponential backoff with "equal jitter": each delay is in `[cap / 2, cap]`, where the cap
/// doubles from `base` up to `max`.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    attempt: u32,
    rng: fastrand::Rng,
}

impl Backoff {
    pub fn new(base: Duration, max: Duration) -> Self {
        Self::with_rng(base, max, fastrand::Rng::new())
    }

    /// A reproducible sequence, for tests.
    pub fn with_rng(base: Duration, max: Duration, rng: fastrand::Rng) -> Self {
        Self {
            base,
            max: max.max(base),
            attempt: 0,
            rng,
        }
    }

    /// The cap of the next delay, before jitter.
    fn cap(&self) -> Duration {
        let factor = 1u32.checked_shl(self.attempt.min(16)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max)
    }

    /// The delay before the next attempt.
    pub fn next_delay(&mut self) -> Duration {
        let cap = self.cap();
        self.attempt = self.attempt.saturating_add(1);
        let half = cap / 2;
        let spread = (cap - half).as_millis() as u64;
        half + Duration::from_millis(self.rng.u64(0..=spread))
    }

    /// After a success: start again from `base`.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    pub fn attempts(&self) -> u32 {
        self.attempt
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new(Duration::from_secs(1), Duration::from_secs(60))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_from_one_to_sixty_seconds_with_jitter() {
        let mut b = Backoff::with_rng(
            Duration::from_secs(1),
            Duration::from_secs(60),
            fastrand::Rng::with_seed(7),
        );
        let caps = [1, 2, 4, 8, 16, 32, 60, 60, 60, 60];
        let mut distinct = std::collections::HashSet::new();
        for cap in caps {
            let d = b.next_delay();
            let cap = Duration::from_secs(cap);
            assert!(
                d >= cap / 2 && d <= cap,
                "{d:?} outside [{:?}, {cap:?}]",
                cap / 2
            );
            distinct.insert(d);
        }
        assert!(distinct.len() > 5, "jitter varies the delays");
        b.reset();
        assert!(b.next_delay() <= Duration::from_secs(1));
    }

    #[test]
    fn many_attempts_never_overflow() {
        let mut b = Backoff::default();
        for _ in 0..1000 {
            assert!(b.next_delay() <= Duration::from_secs(60));
        }
    }
}
