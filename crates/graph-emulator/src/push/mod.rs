//! Graph's socket.io push (docs/PROTOCOL.md §2.1–§2.3): the `subscriptions/socketIo` endpoint and
//! the subscriptions it hands out. `server` is the socket.io v4 server (websocket transport only,
//! namespace `/notifications`), `frame` the notification's payload, `notifier` turns changes into
//! notifications with the configured timing.
//!
//! A subscription covers one drive and lives until its expiry (tokio time, so tests can pause
//! it): then its sockets are dropped and its token refused; a renewal is a new subscription with
//! a new token. This module must never accept a socket whose token it did not issue or whose
//! subscription expired, and never log a token.

mod frame;
mod notifier;
mod server;

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, OnceLock};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use socketioxide::SocketIo;
use socketioxide::socket::Sid;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::Shared;
use crate::config::PushTiming;
use crate::graph_error::GraphError;
use crate::identity::{AccessGrant, random_token};

pub use notifier::{Change, run_notifier};
pub use server::build_layer;

pub const NAMESPACE: &str = "/notifications";

/// One socketIo subscription (one notificationUrl).
#[derive(Clone)]
pub struct Subscription {
    pub id: String,
    pub drive: String,
    pub user: String,
    /// `expirationDateTime` as announced.
    pub expires: DateTime<Utc>,
    /// The same moment on tokio's clock: what expiry is enforced by.
    pub expires_at: Instant,
}

impl Subscription {
    fn live(&self, now: Instant) -> bool {
        self.expires_at > now
    }
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("id", &self.id)
            .field("drive", &self.drive)
            .field("user", &self.user)
            .field("expires", &self.expires)
            .finish()
    }
}

/// Subscriptions by notificationUrl token, which socket joined with which token, and the timing.
pub struct PushState {
    subs: Mutex<HashMap<String, Subscription>>,
    /// Sockets of `/notifications` and of the default namespace `/` (one connection has the same
    /// id in both), with their token.
    sockets: Mutex<HashMap<(Sid, &'static str), String>>,
    io: OnceLock<SocketIo>,
    timing: Mutex<PushTiming>,
    /// Wakes the notifier when a subscription is made, so it can watch the new expiry.
    subscribed: Notify,
}

impl std::fmt::Debug for PushState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushState")
            .field("subscriptions", &self.subs().len())
            .field("sockets", &self.sockets().len())
            .finish()
    }
}

impl PushState {
    pub fn new(timing: PushTiming) -> Self {
        Self {
            subs: Mutex::default(),
            sockets: Mutex::default(),
            io: OnceLock::new(),
            timing: Mutex::new(timing),
            subscribed: Notify::new(),
        }
    }

    fn subs(&self) -> MutexGuard<'_, HashMap<String, Subscription>> {
        self.subs.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn sockets(&self) -> MutexGuard<'_, HashMap<(Sid, &'static str), String>> {
        self.sockets.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn timing(&self) -> PushTiming {
        *self.timing.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set_timing(&self, timing: PushTiming) {
        *self.timing.lock().unwrap_or_else(|e| e.into_inner()) = timing;
    }

    /// Number of sockets joined to `/notifications` right now.
    pub fn connected(&self) -> usize {
        self.sockets()
            .keys()
            .filter(|(_, ns)| *ns == NAMESPACE)
            .count()
    }

    /// The subscription of a token, if it is still live.
    fn live(&self, token: &str) -> Option<Subscription> {
        let now = Instant::now();
        self.subs().get(token).filter(|s| s.live(now)).cloned()
    }

    /// Marks every subscription expired now and disconnects their sockets.
    pub fn expire_all(&self) {
        let now = Instant::now();
        for s in self.subs().values_mut() {
            s.expires_at = now;
            s.expires = Utc::now();
        }
        self.sweep();
    }

    /// When the next live subscription expires.
    fn next_expiry(&self) -> Option<Instant> {
        let now = Instant::now();
        self.subs()
            .values()
            .map(|s| s.expires_at)
            .filter(|t| *t > now)
            .min()
    }

    /// Disconnects the sockets of expired subscriptions and forgets those subscriptions (their
    /// tokens are refused from then on, like tokens never issued).
    pub fn sweep(&self) {
        let now = Instant::now();
        let doomed: Vec<(Sid, &'static str)> = {
            let mut subs = self.subs();
            subs.retain(|_, s| s.live(now));
            self.sockets()
                .iter()
                .filter(|(_, token)| !subs.contains_key(*token))
                .map(|(key, _)| *key)
                .collect()
        };
        for (sid, ns) in doomed {
            self.sockets().remove(&(sid, ns));
            if let Some(s) = self
                .io
                .get()
                .and_then(|io| io.of(ns))
                .and_then(|ns| ns.get_socket(sid))
            {
                let _ = s.disconnect();
            }
        }
    }
}

/// `GET …/subscriptions/socketIo` for a drive the caller may read: a new subscription every
/// time, so a renewal gets a fresh notificationUrl (new token) and a new expiry.
pub fn subscribe(shared: &Shared, grant: &AccessGrant, drive: &str) -> Result<Value, GraphError> {
    let user = shared
        .lock_world()
        .user(&grant.user)
        .map_err(|_| GraphError::ItemNotFound)?
        .clone();
    if shared
        .faults
        .socketio_not_supported(&user.id, &user.username)
    {
        return Err(GraphError::NotSupported);
    }
    let lifetime = shared.push.timing().subscription_lifetime;
    let token = random_token();
    let expires =
        Utc::now() + chrono::Duration::from_std(lifetime).unwrap_or(chrono::Duration::hours(1));
    let id = format!("opaqueId-{}", uuid::Uuid::new_v4().simple());
    shared.push.subs().insert(
        token.clone(),
        Subscription {
            id: id.clone(),
            drive: drive.to_string(),
            user: user.id.clone(),
            expires,
            expires_at: Instant::now() + lifetime,
        },
    );
    shared.push.subscribed.notify_one();
    let app: String = url::form_urlencoded::byte_serialize(grant.client_id.as_bytes()).collect();
    Ok(json!({
        "@odata.context": format!("{}/$metadata#subscriptions/$entity", shared.graph_url()),
        "id": id,
        "notificationUrl": format!("{}{NAMESPACE}?token={token}&applicationId={app}", shared.push_base()),
        "expirationDateTime": crate::wire::date(&expires),
    }))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn timing() -> PushTiming {
        crate::EmulatorConfig::default().push_timing()
    }

    #[tokio::test(start_paused = true)]
    async fn a_subscription_lives_until_its_expiry_on_tokio_time() {
        let state = PushState::new(timing());
        let lifetime = timing().subscription_lifetime;
        assert_eq!(
            lifetime,
            Duration::from_secs(3600),
            "long enough not to churn"
        );
        state.subs().insert(
            "tok".into(),
            Subscription {
                id: "id".into(),
                drive: "d".into(),
                user: "u".into(),
                expires: Utc::now(),
                expires_at: Instant::now() + lifetime,
            },
        );
        assert_eq!(state.next_expiry(), Some(Instant::now() + lifetime));
        tokio::time::advance(lifetime - Duration::from_millis(1)).await;
        assert!(state.live("tok").is_some());
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(state.live("tok").is_none(), "refused at expirationDateTime");
        state.sweep();
        assert!(
            state.subs().is_empty(),
            "expired subscriptions are forgotten"
        );
        assert_eq!(state.next_expiry(), None);
    }
}
