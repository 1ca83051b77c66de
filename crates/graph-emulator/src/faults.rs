//! Faults tests switch on at run time: throttling, failures, latency, push refusals
//! (docs/PROTOCOL.md §4.2, §4.4, §2.4).
//!
//! The HTTP control API and the Rust control methods both set these; a middleware applies them
//! to Graph requests (`/v1.0/...`) only, so the identity endpoints, the people's page and the
//! control API itself keep working while Graph misbehaves. Must never sleep while holding a lock.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::Shared;
use crate::graph_error::GraphError;

/// Which status a throttling fault answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub enum ThrottleStatus {
    /// 429 `activityLimitReached`
    #[serde(rename = "429")]
    TooManyRequests,
    /// 503 `serviceNotAvailable`
    #[serde(rename = "503")]
    Unavailable,
}

#[derive(Clone, Copy, Debug)]
struct Throttle {
    remaining: u32,
    status: ThrottleStatus,
    retry_after: u64,
}

/// Live fault switches.
#[derive(Debug, Default)]
pub struct Faults {
    throttle: Mutex<Option<Throttle>>,
    fail_500: AtomicU32,
    latency_ms: AtomicU64,
    not_supported_all: AtomicBool,
    not_supported_users: Mutex<BTreeSet<String>>,
}

impl Faults {
    pub fn new(not_supported_users: BTreeSet<String>) -> Self {
        Self {
            not_supported_users: Mutex::new(
                not_supported_users
                    .into_iter()
                    .map(|u| u.to_lowercase())
                    .collect(),
            ),
            ..Self::default()
        }
    }

    pub fn throttle(&self, count: u32, status: ThrottleStatus, retry_after: u64) {
        *self.throttle.lock().unwrap_or_else(|e| e.into_inner()) =
            (count > 0).then_some(Throttle {
                remaining: count,
                status,
                retry_after,
            });
    }

    pub fn fail_next(&self, count: u32) {
        self.fail_500.store(count, Ordering::SeqCst);
    }

    pub fn set_latency(&self, latency: Duration) {
        self.latency_ms
            .store(latency.as_millis() as u64, Ordering::SeqCst);
    }

    pub fn set_socketio_not_supported_all(&self, on: bool) {
        self.not_supported_all.store(on, Ordering::SeqCst);
    }

    pub fn set_socketio_not_supported_for(&self, user: &str, on: bool) {
        let mut users = self
            .not_supported_users
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if on {
            users.insert(user.to_lowercase());
        } else {
            users.remove(&user.to_lowercase());
        }
    }

    pub fn socketio_not_supported(&self, user_id: &str, username: &str) -> bool {
        if self.not_supported_all.load(Ordering::SeqCst) {
            return true;
        }
        let users = self
            .not_supported_users
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        users.contains(&user_id.to_lowercase()) || users.contains(&username.to_lowercase())
    }

    /// Clears every request fault (throttling, failures, latency, notSupported-for-all).
    pub fn clear(&self) {
        self.throttle(0, ThrottleStatus::TooManyRequests, 0);
        self.fail_next(0);
        self.set_latency(Duration::ZERO);
        self.set_socketio_not_supported_all(false);
    }

    /// Takes one unit of the pending faults for this request, if any.
    fn take(&self) -> Option<GraphError> {
        {
            let mut t = self.throttle.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(th) = t.as_mut() {
                th.remaining -= 1;
                let err = match th.status {
                    ThrottleStatus::TooManyRequests => GraphError::Throttled {
                        retry_after: th.retry_after,
                    },
                    ThrottleStatus::Unavailable => GraphError::Unavailable {
                        retry_after: th.retry_after,
                    },
                };
                if th.remaining == 0 {
                    *t = None;
                }
                return Some(err);
            }
        }
        self.fail_500
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .ok()
            .map(|_| GraphError::Internal)
    }
}

/// Middleware for `/v1.0`: latency first, then throttling / failures.
pub async fn apply(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let latency = shared.faults.latency_ms.load(Ordering::SeqCst);
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    if let Some(err) = shared.faults.take() {
        return err.into_response();
    }
    next.run(req).await
}
