//! [`PushTransport`] over rust_socketio 0.6 (async), as PROTOCOL.md §2 describes the crate.
//!
//! The crate's callbacks run on the reader task that also answers pings, so they only forward
//! into a channel. Its own reconnect loop is switched off (`reconnect(false)`): the supervisor
//! owns retries. Dead links: the crate's Engine.IO layer times out when no ping arrives within
//! `pingInterval + pingTimeout` (from the open packet) and reports it as the `error` event, which
//! is also the only event a lost transport fires; both end the link here. The websocket transport
//! ignores proxies, so when `HTTPS_PROXY` applies to the push host the long-polling transport
//! (which honours it) is used instead. This module must never let a callback block, and never put
//! the notificationUrl into a log or error.

use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use rust_socketio::asynchronous::{Client, ClientBuilder};
use rust_socketio::{Event, Payload, TransportType};
use tokio::sync::{mpsc, watch};

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

/// Connects with rust_socketio over the websocket transport.
#[derive(Debug, Clone)]
pub struct SocketIoTransport {
    /// Covers the Engine.IO handshake and the namespace join together.
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
            let host = url::Url::parse(&addr.address)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_default();
            let transport = if proxy_applies(&host, |k| std::env::var(k).ok()) {
                tracing::debug!("a proxy is set for the push host: using long-polling");
                TransportType::Polling
            } else {
                TransportType::Websocket
            };
            // Until the namespace is joined, an error (e.g. a refused CONNECT) ends the wait at
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
                .transport_type(transport)
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

/// Whether `HTTPS_PROXY` (or `https_proxy`, `ALL_PROXY`) applies to `host` under `NO_PROXY`.
/// Loopback hosts never go through a proxy.
pub fn proxy_applies(host: &str, env: impl Fn(&str) -> Option<String>) -> bool {
    let get = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| env(n).filter(|v| !v.trim().is_empty()))
    };
    if get(&["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]).is_none() {
        return false;
    }
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if loopback {
        return false;
    }
    let no_proxy = get(&["NO_PROXY", "no_proxy"]).unwrap_or_default();
    !no_proxy.split(',').map(str::trim).any(|entry| {
        let entry = entry.trim_start_matches('.').to_ascii_lowercase();
        !entry.is_empty() && (entry == "*" || host == entry || host.ends_with(&format!(".{entry}")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn the_proxy_decision_follows_https_proxy_and_no_proxy() {
        let none: [(&str, &str); 0] = [];
        assert!(!proxy_applies("push.svc.ms", env(&none)));
        let proxied = [("HTTPS_PROXY", "http://proxy:3128")];
        assert!(proxy_applies("push.svc.ms", env(&proxied)));
        assert!(!proxy_applies("127.0.0.1", env(&proxied)));
        assert!(!proxy_applies("localhost", env(&proxied)));
        let except = [
            ("https_proxy", "http://proxy:3128"),
            ("NO_PROXY", "example.com, .svc.ms"),
        ];
        assert!(!proxy_applies("f3hb0mpua.svc.ms", env(&except)));
        assert!(!proxy_applies("example.com", env(&except)));
        assert!(proxy_applies("graph.microsoft.com", env(&except)));
        let all = [("HTTPS_PROXY", "http://p"), ("no_proxy", "*")];
        assert!(!proxy_applies("anything.net", env(&all)));
    }
}
