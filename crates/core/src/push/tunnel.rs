//! The second [`PushTransport`]: the push websocket through an HTTP proxy's `CONNECT` tunnel.
//!
//! rust_socketio's websocket transport cannot take a proxy, and its polling transport is useless
//! because the service refuses long-polling (docs/PROTOCOL.md §2.5, §6.6). So this transport opens
//! the `CONNECT` tunnel itself (with Basic credentials from the proxy URL; over TLS to the proxy
//! for an `https://` proxy), runs TLS to the push host inside it (SNI = push host, trust from the
//! system store, `SSL_CERT_FILE`/`SSL_CERT_DIR`, plus optional extra roots), does the HTTP/1.1
//! websocket handshake with tokio-tungstenite and speaks Engine.IO v4 with [`super::engineio`].
//! Direct connections keep rust_socketio's websocket transport ([`super::socketio`]), which picks
//! this one when a proxy applies. Every step has its own timeout. A proxy's refusal is
//! [`PushError::ProxyRefused`] (docs/PROTOCOL.md §6.5), never a silent fallback. The design is
//! docs/PROTOCOL.md §6.3, §6.4 and §6.7. This module must never log or return the notificationUrl,
//! its token, or the proxy's credentials.

use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout_at};
use url::Url;

use super::engineio::{self, AsyncIo};
use super::proxy::{Proxy, ProxyEnv};
use super::{LinkEvent, PushError, PushLink, PushTransport, rewrite_notification_url, scrub};

/// The longest proxy answer to `CONNECT` read before giving up.
const MAX_PROXY_ANSWER: usize = 16 * 1024;

/// Engine.IO v4 over a websocket that goes through the proxy the environment names (or direct).
#[derive(Debug, Clone)]
pub struct TunnelTransport {
    /// Bounds the whole connect, from TCP to the joined namespace.
    pub connect_timeout: Duration,
    /// Bounds each step: TCP connect, the proxy's answer, TLS, the websocket handshake, the join.
    pub step_timeout: Duration,
    /// Where `HTTPS_PROXY`, `NO_PROXY`, ... are read.
    pub proxy_env: ProxyEnv,
    /// Extra trusted root certificates (PEM) for TLS to the push host, beside the system's.
    pub extra_root_certificates: Vec<Vec<u8>>,
}

impl Default for TunnelTransport {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(15),
            step_timeout: Duration::from_secs(10),
            proxy_env: ProxyEnv::process(),
            extra_root_certificates: Vec::new(),
        }
    }
}

/// Where the websocket goes, split from a notificationUrl.
struct Target {
    tls: bool,
    host: String,
    port: u16,
    /// `wss://HOST:PORT/socket.io/?EIO=4&transport=websocket&<query>`: holds the token.
    ws_url: String,
    namespace: String,
}

fn target(notification_url: &str) -> Result<Target, PushError> {
    let addr = rewrite_notification_url(notification_url)?;
    let url = Url::parse(&addr.address).map_err(|_| PushError::BadNotificationUrl {
        reason: "not a URL",
    })?;
    let tls = url.scheme() == "https";
    let host = url
        .host_str()
        .ok_or(PushError::BadNotificationUrl { reason: "no host" })?
        .to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    let mut ws = Url::parse(if tls { "wss://h/" } else { "ws://h/" }).map_err(|_| {
        PushError::BadNotificationUrl {
            reason: "cannot rebuild the URL",
        }
    })?;
    ws.set_host(Some(&host))
        .map_err(|_| PushError::BadNotificationUrl { reason: "bad host" })?;
    ws.set_port(url.port())
        .map_err(|_| PushError::BadNotificationUrl { reason: "bad port" })?;
    ws.set_path("/socket.io/");
    {
        let mut q = ws.query_pairs_mut();
        q.append_pair("EIO", "4")
            .append_pair("transport", "websocket");
        q.extend_pairs(url.query_pairs());
    }
    Ok(Target {
        tls,
        host: host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
        port,
        ws_url: ws.to_string(),
        namespace: addr.namespace,
    })
}

/// The earlier of the step's own deadline and the whole connect's.
fn step_deadline(step: Duration, whole: Instant) -> Instant {
    (Instant::now() + step).min(whole)
}

/// Connects to `proxy` (over TLS for an `https://` proxy) and asks it for a tunnel to
/// `host:port`.
async fn open_tunnel(
    proxy: &Proxy,
    host: &str,
    port: u16,
    tls: &tokio_native_tls::TlsConnector,
    step: Duration,
    whole: Instant,
) -> Result<Box<dyn AsyncIo>, PushError> {
    let tcp = timeout_at(
        step_deadline(step, whole),
        TcpStream::connect((proxy.host.as_str(), proxy.port)),
    )
    .await
    .map_err(|_| PushError::StepTimeout {
        step: "connecting to the proxy",
    })?
    .map_err(|e| PushError::ConnectFailed {
        reason: format!(
            "could not reach the proxy {}:{}: {e}",
            proxy.host, proxy.port
        ),
    })?;
    let _ = tcp.set_nodelay(true);
    let mut stream: Box<dyn AsyncIo> = if proxy.tls {
        let s = timeout_at(step_deadline(step, whole), tls.connect(&proxy.host, tcp))
            .await
            .map_err(|_| PushError::StepTimeout {
                step: "the TLS handshake with the proxy",
            })?
            .map_err(|e| PushError::ConnectFailed {
                reason: format!("TLS with the proxy failed: {e}"),
            })?;
        Box::new(s)
    } else {
        Box::new(tcp)
    };
    let authority = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some(auth) = proxy.authorization() {
        request.push_str("Proxy-Authorization: ");
        request.push_str(auth);
        request.push_str("\r\n");
    }
    request.push_str(concat!(
        "User-Agent: DriveWatch/",
        env!("CARGO_PKG_VERSION"),
        "\r\n\r\n"
    ));
    let answer = timeout_at(step_deadline(step, whole), async {
        stream.write_all(request.as_bytes()).await?;
        stream.flush().await?;
        read_head(&mut stream).await
    })
    .await
    .map_err(|_| PushError::StepTimeout {
        step: "waiting for the proxy to open the tunnel",
    })?
    .map_err(|e| PushError::ConnectFailed {
        reason: format!("the proxy's answer to CONNECT was unreadable: {e}"),
    })?;
    match parse_status(&answer) {
        Some(status) if (200..300).contains(&status) => Ok(stream),
        Some(status) => Err(PushError::ProxyRefused { status }),
        None => Err(PushError::ConnectFailed {
            reason: "the proxy did not answer CONNECT with HTTP".into(),
        }),
    }
}

/// Reads up to the end of the proxy's header block and no further than the bytes it sent with it.
async fn read_head(tcp: &mut (impl AsyncRead + Unpin)) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(256);
    let mut chunk = [0u8; 1024];
    loop {
        let n = tcp.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the proxy closed the connection",
            ));
        }
        head.extend_from_slice(&chunk[..n]);
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            // TLS speaks first from our side: a proxy that sent more than its header after a
            // 2xx would corrupt the tunnel; after a refusal it is only a body.
            let status = parse_status(&head);
            if end + 4 != head.len() && status.is_some_and(|s| (200..300).contains(&s)) {
                return Err(std::io::Error::other(
                    "the proxy sent data before the tunnel was used",
                ));
            }
            head.truncate(end + 4);
            return Ok(head);
        }
        if head.len() > MAX_PROXY_ANSWER {
            return Err(std::io::Error::other("the proxy's answer is too long"));
        }
    }
}

/// The status code of `HTTP/1.x NNN reason`.
fn parse_status(head: &[u8]) -> Option<u16> {
    let line = head.split(|b| *b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split_whitespace();
    parts.next().filter(|v| v.starts_with("HTTP/"))?;
    parts.next()?.parse().ok()
}

impl TunnelTransport {
    fn tls_connector(&self) -> Result<tokio_native_tls::TlsConnector, PushError> {
        let mut builder = native_tls::TlsConnector::builder();
        for pem in &self.extra_root_certificates {
            let cert =
                native_tls::Certificate::from_pem(pem).map_err(|e| PushError::ConnectFailed {
                    reason: format!("an extra root certificate is unusable: {e}"),
                })?;
            builder.add_root_certificate(cert);
        }
        // No ALPN is offered, so the server stays on HTTP/1.1 for the upgrade (§2).
        builder
            .build()
            .map(tokio_native_tls::TlsConnector::from)
            .map_err(|e| PushError::ConnectFailed {
                reason: format!("TLS is unavailable: {e}"),
            })
    }

    async fn open(
        &self,
        notification_url: &str,
        events: mpsc::UnboundedSender<LinkEvent>,
    ) -> Result<Box<dyn PushLink>, PushError> {
        let whole = Instant::now() + self.connect_timeout;
        let step = self.step_timeout;
        let t = target(notification_url)?;
        let proxy = if t.tls {
            self.proxy_env.proxy_for(&t.host, t.port)?
        } else {
            None
        };
        let tls = self.tls_connector()?;
        let stream: Box<dyn AsyncIo> = match &proxy {
            Some(p) => {
                tracing::debug!(proxy = %p.host, port = p.port, "tunnelling push through the proxy");
                open_tunnel(p, &t.host, t.port, &tls, step, whole).await?
            }
            None => {
                let tcp = timeout_at(
                    step_deadline(step, whole),
                    TcpStream::connect((t.host.as_str(), t.port)),
                )
                .await
                .map_err(|_| PushError::StepTimeout {
                    step: "connecting to the push service",
                })?
                .map_err(|e| PushError::ConnectFailed {
                    reason: format!("could not reach the push service: {e}"),
                })?;
                let _ = tcp.set_nodelay(true);
                Box::new(tcp)
            }
        };
        let io: Box<dyn AsyncIo> = if t.tls {
            let tls = timeout_at(step_deadline(step, whole), tls.connect(&t.host, stream))
                .await
                .map_err(|_| PushError::StepTimeout {
                    step: "the TLS handshake with the push service",
                })?
                .map_err(|e| PushError::ConnectFailed {
                    reason: format!("TLS with the push service failed: {e}"),
                })?;
            Box::new(tls)
        } else {
            stream
        };
        let (mut ws, _) = timeout_at(
            step_deadline(step, whole),
            tokio_tungstenite::client_async(t.ws_url.as_str(), io),
        )
        .await
        .map_err(|_| PushError::StepTimeout {
            step: "the websocket handshake",
        })?
        .map_err(|e| PushError::ConnectFailed {
            reason: format!("the websocket handshake failed: {}", scrub(&e.to_string())),
        })?;
        let join_for = step_deadline(step, whole).saturating_duration_since(Instant::now());
        let open = engineio::join(&mut ws, &t.namespace, join_for).await?;
        tracing::debug!(
            ping_interval_ms = open.ping_interval.as_millis() as u64,
            ping_timeout_ms = open.ping_timeout.as_millis() as u64,
            proxied = proxy.is_some(),
            "push namespace joined"
        );
        Ok(Box::new(engineio::spawn_link(
            ws,
            t.namespace,
            open,
            events,
        )))
    }
}

impl PushTransport for TunnelTransport {
    fn connect<'a>(
        &'a self,
        notification_url: &'a str,
        events: mpsc::UnboundedSender<LinkEvent>,
    ) -> BoxFuture<'a, Result<Box<dyn PushLink>, PushError>> {
        self.open(notification_url, events).boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_websocket_url_keeps_the_query_and_moves_the_path_to_the_namespace() {
        let t =
            target("https://n-eu.pushp.svc.ms/notifications?token=t%2Bk&applicationId=a").unwrap();
        assert!(t.tls);
        assert_eq!((t.host.as_str(), t.port), ("n-eu.pushp.svc.ms", 443));
        assert_eq!(
            t.ws_url,
            "wss://n-eu.pushp.svc.ms/socket.io/?EIO=4&transport=websocket&token=t%2Bk&applicationId=a"
        );
        assert_eq!(t.namespace, "/notifications");
        let t = target("http://127.0.0.1:9/notifications?EIO=3&token=x").unwrap();
        assert!(!t.tls);
        assert_eq!(t.port, 9);
        assert_eq!(
            t.ws_url,
            "ws://127.0.0.1:9/socket.io/?EIO=4&transport=websocket&token=x"
        );
    }

    #[test]
    fn proxy_status_lines_are_read() {
        assert_eq!(
            parse_status(b"HTTP/1.1 200 Connection established\r\n\r\n"),
            Some(200)
        );
        assert_eq!(parse_status(b"HTTP/1.0 407 Proxy Auth\r\n"), Some(407));
        assert_eq!(parse_status(b"SSH-2.0-OpenSSH\r\n"), None);
        assert_eq!(parse_status(b""), None);
    }
}
