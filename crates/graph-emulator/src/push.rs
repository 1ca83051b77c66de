//! Graph's socket.io push: the `subscriptions/socketIo` endpoint, the socket.io v4 server on
//! `/socket.io/` (namespace `/notifications`) and the notifier that taps every subscribed socket
//! after a change.
//!
//! A subscription covers one drive; each `notification` carries a JSON *string*, as observed on
//! the real service, and says nothing about what changed. This module must never accept a
//! socket whose token it did not issue or whose subscription expired, and never log a token.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use socketioxide::SocketIo;
use socketioxide::extract::SocketRef;
use socketioxide::layer::SocketIoLayer;
use socketioxide::socket::Sid;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::Shared;
use crate::graph_error::GraphError;
use crate::identity::{AccessGrant, random_token};

pub const NAMESPACE: &str = "/notifications";

/// One socketIo subscription (one notificationUrl).
#[derive(Clone)]
pub struct Subscription {
    pub id: String,
    pub drive: String,
    pub user: String,
    pub expires: DateTime<Utc>,
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

/// Subscriptions by notificationUrl token, and which socket joined with which token.
#[derive(Default)]
pub struct PushState {
    subs: Mutex<HashMap<String, Subscription>>,
    sockets: Mutex<HashMap<Sid, String>>,
    io: OnceLock<SocketIo>,
}

impl std::fmt::Debug for PushState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushState")
            .field(
                "subscriptions",
                &self.subs.lock().map(|s| s.len()).unwrap_or(0),
            )
            .field(
                "sockets",
                &self.sockets.lock().map(|s| s.len()).unwrap_or(0),
            )
            .finish()
    }
}

impl PushState {
    fn subs(&self) -> std::sync::MutexGuard<'_, HashMap<String, Subscription>> {
        self.subs.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn sockets(&self) -> std::sync::MutexGuard<'_, HashMap<Sid, String>> {
        self.sockets.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Number of sockets joined to `/notifications` right now.
    pub fn connected(&self) -> usize {
        self.sockets().len()
    }

    /// Marks every subscription expired now and disconnects their sockets.
    pub fn expire_all(&self) {
        let now = Utc::now();
        for s in self.subs().values_mut() {
            s.expires = now;
        }
        self.sweep();
    }

    /// Disconnects sockets whose subscription expired or vanished.
    pub fn sweep(&self) {
        let now = Utc::now();
        let doomed: Vec<Sid> = {
            let subs = self.subs();
            self.sockets()
                .iter()
                .filter(|(_, tok)| subs.get(*tok).is_none_or(|s| s.expires <= now))
                .map(|(sid, _)| *sid)
                .collect()
        };
        for sid in doomed {
            self.sockets().remove(&sid);
            if let Some(s) = self
                .io
                .get()
                .and_then(|io| io.of(NAMESPACE))
                .and_then(|ns| ns.get_socket(sid))
            {
                let _ = s.disconnect();
            }
        }
    }

    /// Sends one `notification` to every live socket whose subscription covers `drive`.
    ///
    /// Returns how many were sent, and the sockets still finishing their connect (socket.io
    /// marks a socket connected only after its CONNECT reply is out), to be retried shortly.
    pub fn notify(&self, drive: &str, tenant: Option<&str>) -> (usize, Vec<(Sid, String)>) {
        let Some(ns) = self.io.get().and_then(|io| io.of(NAMESPACE)) else {
            return (0, vec![]);
        };
        let now = Utc::now();
        let targets: Vec<(Sid, Subscription)> = {
            let subs = self.subs();
            self.sockets()
                .iter()
                .filter_map(|(sid, tok)| subs.get(tok).map(|s| (*sid, s.clone())))
                .filter(|(_, s)| s.drive == drive && s.expires > now)
                .collect()
        };
        let mut sent = 0;
        let mut later = vec![];
        for (sid, sub) in targets {
            let payload = json!({
                "value": [{
                    "subscriptionId": sub.id,
                    "subscriptionExpirationDateTime": crate::wire::date(&sub.expires),
                    "clientState": null,
                    "changeType": "updated",
                    "resource": format!("drives/{}/root", sub.drive),
                    "tenantId": tenant,
                    "resourceData": null,
                }]
            });
            if let Some(s) = ns.get_socket(sid) {
                // The argument is a JSON string, not an object.
                let text = payload.to_string();
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

/// `GET …/subscriptions/socketIo` for a drive the caller may read.
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
    let token = random_token();
    let expires = Utc::now()
        + chrono::Duration::from_std(shared.config.subscription_lifetime)
            .unwrap_or(chrono::Duration::hours(1));
    let id = format!("opaqueId-{}", uuid::Uuid::new_v4().simple());
    shared.push.subs().insert(
        token.clone(),
        Subscription {
            id: id.clone(),
            drive: drive.to_string(),
            user: user.id.clone(),
            expires,
        },
    );
    let app: String = url::form_urlencoded::byte_serialize(grant.client_id.as_bytes()).collect();
    Ok(json!({
        "@odata.context": format!("{}/$metadata#subscriptions/$entity", shared.graph_url()),
        "id": id,
        "notificationUrl": format!("{}{NAMESPACE}?token={token}&applicationId={app}", shared.base),
        "expirationDateTime": crate::wire::date(&expires),
    }))
}

fn token_of(s: &SocketRef) -> Option<String> {
    let q = s.req_parts().uri.query()?;
    url::form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
}

/// Why a socket was refused (sent to the client as the connect error's message).
#[derive(Debug, thiserror::Error)]
pub enum PushRefusal {
    #[error("unauthorized: missing token")]
    MissingToken,
    #[error("unauthorized: unknown or expired token")]
    UnknownToken,
}

/// Builds the socket.io layer and registers the `/notifications` namespace.
pub fn build_layer(shared: &Arc<Shared>) -> SocketIoLayer {
    let (layer, io) = SocketIo::builder()
        .ping_interval(shared.config.ping_interval)
        .ping_timeout(shared.config.ping_timeout)
        .build_layer();
    let auth_state = shared.clone();
    let auth = move |s: SocketRef| {
        let shared = auth_state.clone();
        async move {
            let token = token_of(&s).ok_or(PushRefusal::MissingToken)?;
            let ok = shared
                .push
                .subs()
                .get(&token)
                .is_some_and(|sub| sub.expires > Utc::now());
            if !ok {
                return Err(PushRefusal::UnknownToken);
            }
            // Registered before the CONNECT reply goes out, so a change made the moment the
            // client sees the connect still reaches it.
            shared.push.sockets().insert(s.id, token);
            Ok(())
        }
    };
    let conn_state = shared.clone();
    let on_connect = move |s: SocketRef| {
        let shared = conn_state.clone();
        async move {
            tracing::info!(sid = %s.id, "socket joined /notifications");
            let gone = shared.clone();
            s.on_disconnect(move |s: SocketRef| {
                let shared = gone.clone();
                async move {
                    shared.push.sockets().remove(&s.id);
                    tracing::info!(sid = %s.id, "socket left /notifications");
                }
            });
        }
    };
    use socketioxide::handler::ConnectHandler as _;
    io.ns(NAMESPACE, on_connect.with(auth));
    let _ = shared.push.io.set(io);
    layer
}

/// Turns changed drives into notifications after the coalescing delay; also expires sockets.
pub async fn run_notifier(
    shared: Arc<Shared>,
    mut rx: UnboundedReceiver<String>,
    cancel: CancellationToken,
) {
    let delay = shared.config.coalescing_delay;
    let mut pending: BTreeMap<String, Instant> = BTreeMap::new();
    let mut sweep = tokio::time::interval(Duration::from_secs(1));
    sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let next = pending.values().min().copied();
        tokio::select! {
            _ = cancel.cancelled() => break,
            m = rx.recv() => match m {
                None => break,
                Some(drive) if delay.is_zero() => send(&shared, &drive, &cancel),
                Some(drive) => {
                    pending.entry(drive).or_insert_with(|| Instant::now() + delay);
                }
            },
            _ = tokio::time::sleep_until(next.unwrap_or_else(Instant::now)), if next.is_some() => {
                let now = Instant::now();
                let due: Vec<String> = pending.iter().filter(|(_, t)| **t <= now).map(|(d, _)| d.clone()).collect();
                for d in due {
                    pending.remove(&d);
                    send(&shared, &d, &cancel);
                }
            }
            _ = sweep.tick() => shared.push.sweep(),
        }
    }
}

fn send(shared: &Arc<Shared>, drive: &str, cancel: &CancellationToken) {
    let tenant = {
        let w = shared.lock_world();
        w.drives
            .get(drive)
            .and_then(|d| d.members.iter().next().cloned())
            .and_then(|u| w.users.get(&u).and_then(|u| u.tenant.clone()))
    };
    let (n, later) = shared.push.notify(drive, tenant.as_deref());
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
