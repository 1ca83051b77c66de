//! The retry policy of the one request path to Graph: how long to back off after a network error or
//! a 5xx (`docs/PROTOCOL.md §4.4`), and the per-account gate that holds every request while Graph
//! says "wait" (`Retry-After` on 429 and 503, `docs/PROTOCOL.md §4.2`).
//!
//! Waiting always uses tokio's clock (so tests run on a paused clock) and always ends on
//! cancellation: nothing here may sleep past a cancelled token or retry without bound.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::GraphError;

/// How many times and how long the request path retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total for network errors, timeouts and 5xx (the first one included).
    pub max_attempts: u32,
    /// First backoff; doubles per attempt.
    pub base_delay: Duration,
    /// Upper bound of one backoff.
    pub max_delay: Duration,
    /// Times a 429/503 is waited out and retried before `Throttled` is returned.
    pub max_throttle_retries: u32,
    /// A Retry-After longer than this is not waited out inside a call: `Throttled` is returned
    /// at once (the gate still holds later requests until then).
    pub max_throttle_wait: Duration,
    /// Time limit of one request, connect to last byte.
    pub request_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_throttle_retries: 3,
            max_throttle_wait: Duration::from_secs(120),
            request_timeout: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// Backoff before retry number `retry` (0 for the first retry): exponential, capped, with
    /// jitter between half and all of it so that many clients do not retry in step.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(retry.min(16)));
        let capped = exp.min(self.max_delay);
        capped.mul_f64(0.5 + fastrand::f64() * 0.5)
    }
}

/// Holds all requests of one account until a Retry-After has passed. Cheap to clone; clones
/// share the same deadline.
#[derive(Debug, Clone, Default)]
pub struct ThrottleGate {
    /// The instant before which no request may be sent; only ever moves later.
    until: Arc<Mutex<Option<Instant>>>,
}

impl ThrottleGate {
    pub fn new() -> Self {
        Self::default()
    }

    /// No request before `now + wait` (keeps a later deadline if one is set).
    pub fn pause_for(&self, wait: Duration) {
        let candidate = Instant::now() + wait;
        let mut until = self.until.lock().unwrap_or_else(|p| p.into_inner());
        if until.is_none_or(|u| u < candidate) {
            *until = Some(candidate);
        }
    }

    /// The deadline, if it is still in the future.
    pub fn until(&self) -> Option<Instant> {
        let until = *self.until.lock().unwrap_or_else(|p| p.into_inner());
        until.filter(|u| *u > Instant::now())
    }

    /// The deadline as wall-clock time, for status display.
    pub fn until_utc(&self) -> Option<DateTime<Utc>> {
        let left = self.until()?.saturating_duration_since(Instant::now());
        chrono::Duration::from_std(left)
            .ok()
            .map(|d| Utc::now() + d)
    }

    /// Returns once the gate is open, or `Cancelled`.
    pub async fn wait(&self, cancel: &CancellationToken) -> Result<(), GraphError> {
        loop {
            if cancel.is_cancelled() {
                return Err(GraphError::Cancelled);
            }
            let Some(until) = self.until() else {
                return Ok(());
            };
            tokio::select! {
                _ = cancel.cancelled() => return Err(GraphError::Cancelled),
                _ = tokio::time::sleep_until(until) => {}
            }
            // The deadline may have moved while we slept: look again.
        }
    }
}

/// Sleeps `delay`, or returns `Cancelled` as soon as the token is.
pub async fn sleep_or_cancel(
    delay: Duration,
    cancel: &CancellationToken,
) -> Result<(), GraphError> {
    tokio::select! {
        _ = cancel.cancelled() => Err(GraphError::Cancelled),
        _ = tokio::time::sleep(delay) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let p = RetryPolicy::default();
        for retry in 0..20 {
            let d = p.backoff(retry);
            let full = p
                .base_delay
                .saturating_mul(1 << retry.min(16))
                .min(p.max_delay);
            assert!(
                d >= full / 2 && d <= full,
                "retry {retry}: {d:?} vs {full:?}"
            );
        }
        assert!(p.backoff(30) <= p.max_delay);
    }

    #[tokio::test(start_paused = true)]
    async fn gate_holds_until_the_deadline() {
        let gate = ThrottleGate::new();
        let cancel = CancellationToken::new();
        let start = Instant::now();
        gate.wait(&cancel).await.unwrap();
        assert_eq!(Instant::now(), start);

        gate.pause_for(Duration::from_secs(10));
        gate.pause_for(Duration::from_secs(3)); // an earlier deadline never shortens the wait
        let other = gate.clone();
        other.wait(&cancel).await.unwrap();
        assert!(Instant::now() - start >= Duration::from_secs(10));
        assert!(gate.until().is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn gate_extended_while_waiting_is_honoured() {
        let gate = ThrottleGate::new();
        let cancel = CancellationToken::new();
        let start = Instant::now();
        gate.pause_for(Duration::from_secs(5));
        let g2 = gate.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(2)).await;
            g2.pause_for(Duration::from_secs(20));
        });
        gate.wait(&cancel).await.unwrap();
        assert!(Instant::now() - start >= Duration::from_secs(22));
    }

    #[tokio::test(start_paused = true)]
    async fn cancellation_ends_the_wait() {
        let gate = ThrottleGate::new();
        gate.pause_for(Duration::from_secs(3600));
        let cancel = CancellationToken::new();
        let c2 = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            c2.cancel();
        });
        let start = Instant::now();
        assert!(matches!(
            gate.wait(&cancel).await,
            Err(GraphError::Cancelled)
        ));
        assert!(Instant::now() - start < Duration::from_secs(2));
        assert!(matches!(
            sleep_or_cancel(Duration::from_secs(10), &cancel).await,
            Err(GraphError::Cancelled)
        ));
    }
}
