//! The engine's port to Graph for one target: a socketIo subscription and delta pages.
//!
//! It exists so delta, push and the engine can be tested without HTTP, and so the Graph client's
//! wire types stay out of their logic. Implementations must never retry a `ResyncRequired` or a
//! `NeedsSignIn` themselves (the engine decides), and errors must never carry a token or a
//! notificationUrl.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;

use crate::classify::DeltaItem;

/// One page of a delta response.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeltaPage {
    pub items: Vec<DeltaItem>,
    /// More pages follow: fetch this opaque link as given.
    pub next_link: Option<String>,
    /// The last page: the cursor for the next run.
    pub delta_link: Option<String>,
}

/// A socketIo subscription: where to connect and until when.
#[derive(Clone, PartialEq, Eq)]
pub struct PushSubscription {
    /// Carries a secret in its query: never log or display it.
    pub notification_url: String,
    pub expires_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for PushSubscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushSubscription")
            .field("notification_url", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// What a Graph call made for a target can end in, as the engine acts on it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// The delta cursor is gone (410 resync codes or `syncStateNotFound`,
    /// docs/PROTOCOL.md §3.4).
    #[error("the delta cursor must be rebuilt ({code})")]
    ResyncRequired {
        code: String,
        location: Option<String>,
    },
    /// 429/503: no request before `retry_after` has passed.
    #[error("Microsoft Graph asks to wait {} s", retry_after.as_secs())]
    Throttled { retry_after: Duration },
    /// Only a new sign-in helps; never retried on its own.
    #[error("the account must sign in again")]
    NeedsSignIn,
    /// The tenant does not offer socket.io push for this drive.
    #[error("push notifications are not supported for this drive")]
    PushUnsupported,
    #[error("cancelled")]
    Cancelled,
    /// Network, timeout or a 5xx: worth trying again later.
    #[error("Microsoft Graph is unreachable: {reason}")]
    Unavailable { reason: String },
    /// A permanent refusal (not found, access denied, bad request).
    #[error("Microsoft Graph refused the request: {reason}")]
    Rejected { reason: String },
}

impl SourceError {
    /// Worth retrying after a pause without the user doing anything.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable { .. } | Self::Throttled { .. })
    }
}

/// Graph as one watched target sees it.
pub trait TargetSource: Send + Sync + 'static {
    /// `GET .../subscriptions/socketIo` for this target.
    fn subscribe(&self) -> BoxFuture<'_, Result<PushSubscription, SourceError>>;
    /// The first page of a full enumeration: the target's delta without a token, or `location`
    /// (from a 410) when given.
    fn enumerate<'a>(
        &'a self,
        location: Option<&'a str>,
    ) -> BoxFuture<'a, Result<DeltaPage, SourceError>>;
    /// A nextLink or deltaLink, followed as given.
    fn page<'a>(&'a self, link: &'a str) -> BoxFuture<'a, Result<DeltaPage, SourceError>>;
}
