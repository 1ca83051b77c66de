//! Push: Graph's socket.io "shoulder taps" for one target, kept alive by a supervisor.
//!
//! Every notification only means "run delta"; its payload is parsed leniently and never trusted.
//! The socket.io client sits behind [`PushTransport`] because the chosen crate is dormant and has
//! known gaps (no retry of a failed first connect, ignored reconnect limits, leaked tasks on drop):
//! the [`supervisor`] owns every retry, renewal and shutdown instead. Nothing here may log or
//! return a notificationUrl or its `token`: use [`scrub`] on any text that could hold one.
//!
//! A `notificationUrl`'s path is the namespace, not the server's path (docs/PROTOCOL.md §2.6); a
//! notification's argument is a JSON string holding JSON (docs/PROTOCOL.md §2.7).
//!
//! Two transports, both websocket-only (the service refuses long-polling, docs/PROTOCOL.md §2.5):
//! [`socketio::SocketIoTransport`] is the one hosts construct; it connects directly with
//! rust_socketio, and when an HTTP(S) proxy applies to the push host ([`proxy`]) it hands over to
//! [`tunnel::TunnelTransport`], a second push transport that opens the `CONNECT` tunnel itself and
//! speaks Engine.IO v4 ([`engineio`]) over tokio-tungstenite, because rust_socketio's websocket
//! transport cannot take a proxy (docs/PROTOCOL.md §6.6, §6.7).

pub mod backoff;
pub mod engineio;
pub mod proxy;
pub mod socketio;
pub mod supervisor;
pub mod tunnel;

use futures_util::future::BoxFuture;
use tokio::sync::mpsc;
use url::{Host, Url};

pub use supervisor::{PushConfig, PushSupervisor};

/// Why a push link could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    #[error("the notification URL is not usable: {reason}")]
    BadNotificationUrl { reason: &'static str },
    #[error("refusing plain http for a notification URL on a non-loopback host")]
    InsecureNotificationUrl,
    #[error("could not connect to the push service: {reason}")]
    ConnectFailed { reason: String },
    #[error("the push service did not accept the namespace in time")]
    ConnectTimeout,
    /// One step of a connect (TCP, the proxy's answer, TLS, the websocket handshake, the join)
    /// took longer than its timeout.
    #[error("connecting to the push service timed out: {step}")]
    StepTimeout { step: &'static str },
    /// The HTTP proxy answered `CONNECT` with a non-2xx status (407, 403, 502, ...).
    #[error("the proxy refused to open a tunnel to the push service: HTTP {status} {}", status_text(*status))]
    ProxyRefused { status: u16 },
    /// The proxy setting cannot be used (not a URL, not http://); never quotes the setting.
    #[error("the proxy setting cannot be used for push: {reason}")]
    ProxyUnusable { reason: String },
}

fn status_text(status: u16) -> &'static str {
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
}

/// What a live link reports to its supervisor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkEvent {
    /// A `notification` event: run delta.
    Notification,
    /// The transport reported an error (including the crate's ping timeout): the link is dead.
    Error { reason: String },
    /// The server or transport closed the link.
    Closed,
}

/// A connected push link; dropping it without [`PushLink::disconnect`] may leak a task.
pub trait PushLink: Send {
    fn disconnect(self: Box<Self>) -> BoxFuture<'static, ()>;
}

/// Opens push links. `connect` returns only once the namespace is joined.
pub trait PushTransport: Send + Sync + 'static {
    fn connect<'a>(
        &'a self,
        notification_url: &'a str,
        events: mpsc::UnboundedSender<LinkEvent>,
    ) -> BoxFuture<'a, Result<Box<dyn PushLink>, PushError>>;
}

/// Where rust_socketio must connect, split from a notificationUrl.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketIoAddress {
    /// `https://HOST[:PORT]/?<query without EIO/transport>`: the crate adds `/socket.io/`,
    /// `EIO=4` and `transport=websocket` itself.
    pub address: String,
    /// The notificationUrl's path, e.g. `/notifications`.
    pub namespace: String,
}

/// Rewrites Graph's `https://HOST/notifications?token=..&applicationId=..` for rust_socketio,
/// which would otherwise take the path as the Engine.IO path and get a 404.
pub fn rewrite_notification_url(raw: &str) -> Result<SocketIoAddress, PushError> {
    let url = Url::parse(raw).map_err(|_| PushError::BadNotificationUrl {
        reason: "not a URL",
    })?;
    let host = url
        .host()
        .ok_or(PushError::BadNotificationUrl { reason: "no host" })?;
    let scheme = match url.scheme() {
        "https" | "wss" => "https",
        "http" | "ws" if is_loopback(&host) => "http",
        "http" | "ws" => return Err(PushError::InsecureNotificationUrl),
        _ => {
            return Err(PushError::BadNotificationUrl {
                reason: "unsupported scheme",
            });
        }
    };
    let mut out = Url::parse(&format!("{scheme}://placeholder/")).map_err(|_| {
        PushError::BadNotificationUrl {
            reason: "cannot rebuild the URL",
        }
    })?;
    out.set_host(Some(&host.to_string()))
        .map_err(|_| PushError::BadNotificationUrl { reason: "bad host" })?;
    out.set_port(url.port())
        .map_err(|_| PushError::BadNotificationUrl { reason: "bad port" })?;
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("EIO") && !k.eq_ignore_ascii_case("transport"))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if !kept.is_empty() {
        out.query_pairs_mut().extend_pairs(kept);
    }
    let path = url.path().trim_end_matches('/');
    let namespace = if path.is_empty() || path == "/socket.io" {
        "/".to_owned()
    } else {
        path.to_owned()
    };
    Ok(SocketIoAddress {
        address: out.to_string(),
        namespace,
    })
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
    }
}

/// What a notification's payload held, for logs only (never for decisions).
#[derive(Debug, Clone, PartialEq)]
pub enum NotificationBody {
    /// A JSON object, sent as an object or as a string holding JSON.
    Object(serde_json::Value),
    /// Anything else (plain text, numbers, nothing).
    Opaque,
}

/// Parses a notification's arguments leniently: a JSON string containing JSON, or an object.
pub fn parse_notification(args: &[serde_json::Value]) -> NotificationBody {
    match args.first() {
        Some(serde_json::Value::String(inner)) => {
            match serde_json::from_str::<serde_json::Value>(inner) {
                Ok(v @ serde_json::Value::Object(_)) => NotificationBody::Object(v),
                _ => NotificationBody::Opaque,
            }
        }
        Some(v @ serde_json::Value::Object(_)) => NotificationBody::Object(v.clone()),
        _ => NotificationBody::Opaque,
    }
}

/// Removes secrets from text that may quote a URL (error messages of the socket.io crate).
pub fn scrub(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = find_secret_param(rest) {
        let (head, tail) = rest.split_at(pos);
        out.push_str(head);
        let eq = tail.find('=').map(|i| i + 1).unwrap_or(tail.len());
        out.push_str(&tail[..eq]);
        out.push_str("REDACTED");
        let end = tail[eq..]
            .find(|c: char| c == '&' || c == '"' || c == '\'' || c.is_whitespace())
            .map(|i| eq + i)
            .unwrap_or(tail.len());
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

fn find_secret_param(text: &str) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    ["token=", "access_token=", "code="]
        .iter()
        .filter_map(|needle| {
            lower.match_indices(needle).find_map(|(i, _)| {
                let before = lower[..i].chars().last();
                matches!(before, None | Some('?' | '&' | ' ' | '(' | '"' | '\'')).then_some(i)
            })
        })
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn notification_urls_are_rewritten_for_rust_socketio() {
        let a = rewrite_notification_url(
            "https://f3hb0mpua.svc.ms/notifications?token=abc%3D&applicationId=app-1",
        )
        .unwrap();
        assert_eq!(
            a.address,
            "https://f3hb0mpua.svc.ms/?token=abc%3D&applicationId=app-1"
        );
        assert_eq!(a.namespace, "/notifications");

        // EIO and transport are the crate's to add; ports and loopback http survive.
        let b = rewrite_notification_url(
            "http://127.0.0.1:4321/notifications/?EIO=3&transport=polling&token=t",
        )
        .unwrap();
        assert_eq!(b.address, "http://127.0.0.1:4321/?token=t");
        assert_eq!(b.namespace, "/notifications");

        let c = rewrite_notification_url("wss://push.example.com/socket.io/?token=x").unwrap();
        assert_eq!(c.address, "https://push.example.com/?token=x");
        assert_eq!(c.namespace, "/");
    }

    #[test]
    fn bad_notification_urls_are_refused() {
        assert_eq!(
            rewrite_notification_url("http://push.example.com/notifications?token=x"),
            Err(PushError::InsecureNotificationUrl)
        );
        assert!(matches!(
            rewrite_notification_url("not a url"),
            Err(PushError::BadNotificationUrl { .. })
        ));
        assert!(matches!(
            rewrite_notification_url("ftp://x/notifications"),
            Err(PushError::BadNotificationUrl { .. })
        ));
    }

    #[test]
    fn payloads_are_parsed_leniently() {
        let inner = json!(r#"{"value":[{"subscriptionId":"s","resource":"r"}]}"#);
        assert!(matches!(
            parse_notification(&[inner]),
            NotificationBody::Object(v) if v["value"][0]["subscriptionId"] == "s"
        ));
        let object = json!({"value": []});
        assert!(matches!(
            parse_notification(&[object]),
            NotificationBody::Object(_)
        ));
        assert_eq!(
            parse_notification(&[json!("not json")]),
            NotificationBody::Opaque
        );
        assert_eq!(parse_notification(&[json!(42)]), NotificationBody::Opaque);
        assert_eq!(parse_notification(&[]), NotificationBody::Opaque);
    }

    #[test]
    fn secrets_are_scrubbed_from_error_text() {
        let text = "Invalid URL: https://h/?token=s3cr3t&applicationId=a (code=xyz) token=again";
        let clean = scrub(text);
        assert!(!clean.contains("s3cr3t"), "{clean}");
        assert!(!clean.contains("xyz"), "{clean}");
        assert!(!clean.contains("again"), "{clean}");
        assert!(clean.contains("applicationId=a"));
        assert_eq!(scrub("nothing here"), "nothing here");
    }
}
