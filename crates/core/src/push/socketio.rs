//! [`PushTransport`] over rust_socketio 0.6 (async), as docs/PROTOCOL.md §2.14 describes the crate.
//!
//! The crate's callbacks run on the reader task that also answers pings, so they only forward into
//! a channel. Its own reconnect loop is switched off (`reconnect(false)`): the supervisor owns
//! retries. Dead links: the crate's Engine.IO layer times out when no ping arrives within
//! `pingInterval + pingTimeout` (from the open packet, docs/PROTOCOL.md §2.8) and reports it as the
//! `error` event, which is also the only event a lost transport fires; both end the link here.
//! Websocket only: the service refuses long-polling (docs/PROTOCOL.md §2.5). The crate's websocket
//! transport ignores proxies (docs/PROTOCOL.md §6.6), so when an HTTP(S) proxy applies to the push
//! host ([`super::proxy`]) the connect is handed to [`TunnelTransport`], which tunnels the
//! websocket through it. This module must never let a callback block, never fall back to polling,
//! and never put the notificationUrl into a log or error.

use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use rust_socketio::asynchronous::{Client, ClientBuilder};
use rust_socketio::{Event, Payload, TransportType};
use tokio::sync::{mpsc, watch};

use super::proxy::ProxyEnv;
pub use super::proxy::proxy_applies;
use super::tunnel::TunnelTransport;
use super::{
    LinkEvent, NotificationBody, PushError, PushLink, PushTransport, parse_notification,
    rewrite_notification_url, scrub,
};

/// Where joining the namespace stands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum JoinState {
    Pending,
    Joined,
    /// The transport reported an error before the join (already scrubbed).
    Failed(String),
}

/// How long `disconnect()` may take before the link is abandoned.
const DISCONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// The push transport hosts construct: rust_socketio over the websocket transport for direct
/// connections, [`TunnelTransport`] when `HTTPS_PROXY`/`ALL_PROXY` apply to the push host.
#[derive(Debug, Clone)]
pub struct SocketIoTransport {
    /// Covers the Engine.IO handshake and the namespace join together (through a proxy: the
    /// whole connect, from the tunnel to the join).
    pub connect_timeout: Duration,
}

impl Default for SocketIoTransport {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(15),
        }
    }
}

struct SocketIoLink {
    client: Client,
}

impl PushLink for SocketIoLink {
    fn disconnect(self: Box<Self>) -> BoxFuture<'static, ()> {
        async move {
            match tokio::time::timeout(DISCONNECT_TIMEOUT, self.client.disconnect()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::debug!(error = %scrub(&e.to_string()), "push disconnect failed")
                }
                Err(_) => tracing::debug!("push disconnect timed out"),
            }
        }
        .boxed()
    }
}

impl PushTransport for SocketIoTransport {
    fn connect<'a>(
        &'a self,
        notification_url: &'a str,
        events: mpsc::UnboundedSender<LinkEvent>,
    ) -> BoxFuture<'a, Result<Box<dyn PushLink>, PushError>> {
        async move {
            let addr = rewrite_notification_url(notification_url)?;
            let parsed = url::Url::parse(&addr.address).ok();
            let host = parsed
                .as_ref()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_default();
            let port = parsed
                .as_ref()
                .and_then(url::Url::port_or_known_default)
                .unwrap_or(443);
            let tls = parsed.as_ref().is_some_and(|u| u.scheme() == "https");
            // Read at each connect, so a changed network setting applies to the next link.
            let env = ProxyEnv::process();
            if tls && env.proxy_for(&host, port)?.is_some() {
                let tunnel = TunnelTransport {
                    connect_timeout: self.connect_timeout,
                    proxy_env: env,
                    ..TunnelTransport::default()
                };
                return tunnel.connect(notification_url, events).await;
            }
            // Until the namespace is joined, an error (e.g. a refused join) ends the wait at
            // once instead of after the whole connect timeout.
            let (join_tx, mut join_rx) = watch::channel(JoinState::Pending);
            let join_tx = Arc::new(join_tx);
            let on_join = join_tx.clone();
            let on_join_error = join_tx;
            let on_note = events.clone();
            let on_error = events.clone();
            let on_close = events;
            let builder = ClientBuilder::new(addr.address)
                .namespace(addr.namespace)
                .transport_type(TransportType::Websocket)
                .reconnect(false)
                .on(Event::Connect, move |_, _| {
                    on_join.send_replace(JoinState::Joined);
                    async {}.boxed()
                })
                .on("notification", move |payload, _| {
                    if let Payload::Text(args) = &payload {
                        if let NotificationBody::Object(_) = parse_notification(args) {
                            tracing::trace!("push notification with a JSON body");
                        }
                    }
                    let _ = on_note.send(LinkEvent::Notification);
                    async {}.boxed()
                })
                .on(Event::Error, move |payload, _| {
                    let reason = match payload {
                        Payload::Text(v) => v
                            .first()
                            .and_then(|v| v.as_str().map(str::to_owned))
                            .unwrap_or_default(),
                        _ => String::new(),
                    };
                    let reason = scrub(&reason);
                    on_join_error.send_if_modified(|state| {
                        let pending = *state == JoinState::Pending;
                        if pending {
                            *state = JoinState::Failed(reason.clone());
                        }
                        pending
                    });
                    let _ = on_error.send(LinkEvent::Error { reason });
                    async {}.boxed()
                })
                .on(Event::Close, move |_, _| {
                    let _ = on_close.send(LinkEvent::Closed);
                    async {}.boxed()
                });
            let deadline = tokio::time::Instant::now() + self.connect_timeout;
            let client = match tokio::time::timeout_at(deadline, builder.connect()).await {
                Ok(Ok(client)) => client,
                Ok(Err(e)) => {
                    return Err(PushError::ConnectFailed {
                        reason: scrub(&e.to_string()),
                    });
                }
                Err(_) => return Err(PushError::ConnectTimeout),
            };
            // `connect()` returns before the namespace is joined: wait for `Event::Connect`.
            let joined = tokio::time::timeout_at(
                deadline,
                join_rx.wait_for(|state| *state != JoinState::Pending),
            )
            .await
            .map(|r| r.map(|state| state.clone()));
            let failure = match joined {
                Ok(Ok(state)) => match &state {
                    JoinState::Joined => None,
                    JoinState::Failed(reason) => Some(PushError::ConnectFailed {
                        reason: reason.clone(),
                    }),
                    JoinState::Pending => Some(PushError::ConnectTimeout),
                },
                Ok(Err(_)) | Err(_) => Some(PushError::ConnectTimeout),
            };
            if let Some(failure) = failure {
                let _ = tokio::time::timeout(DISCONNECT_TIMEOUT, client.disconnect()).await;
                return Err(failure);
            }
            Ok(Box::new(SocketIoLink { client }) as Box<dyn PushLink>)
        }
        .boxed()
    }
}
