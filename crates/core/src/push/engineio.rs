//! A small Engine.IO v4 + socket.io client over an already open websocket: exactly what the push
//! service needs (docs/PROTOCOL.md §2.12; the frame §2.7, the namespace §2.6, dead links §2.8) and
//! nothing more.
//!
//! It exists because rust_socketio's websocket transport cannot run on a stream we hand it, so a
//! tunnelled connection (see [`super::tunnel`]) needs its own client. It speaks the websocket
//! transport only: the open packet `0{sid,pingInterval,pingTimeout}`, pong `3` for every ping
//! `2`, the namespace join `40/notifications,`, `42/notifications,["notification", …]` events
//! (the argument is a JSON string holding JSON; an object is accepted too), `44` connect errors
//! and `41` disconnects. No ping within `pingInterval + pingTimeout` is a dead link. It must never
//! fall back to long-polling, never block its reader on anything but the socket, and never put
//! the notificationUrl or its token into a log or error.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout_at};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use super::{LinkEvent, NotificationBody, PushError, PushLink, parse_notification, scrub};

/// Any byte stream a websocket can run on (a TCP stream, TLS inside a proxy tunnel, ...).
pub trait AsyncIo: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> AsyncIo for T {}

pub type Ws = WebSocketStream<Box<dyn AsyncIo>>;

/// Used when an open packet carries no (or zero) ping timings: socket.io's defaults.
const DEFAULT_PING_INTERVAL: Duration = Duration::from_secs(25);
const DEFAULT_PING_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a leaving link may spend saying goodbye.
const DISCONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// What the server's open packet says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenInfo {
    pub sid: String,
    pub ping_interval: Duration,
    pub ping_timeout: Duration,
}

impl OpenInfo {
    /// After this long without a ping the link is dead.
    pub fn silence_limit(&self) -> Duration {
        self.ping_interval + self.ping_timeout
    }
}

/// One Engine.IO packet, as sent in one websocket text frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    Open(OpenInfo),
    Close,
    Ping,
    Pong,
    Noop,
    /// `4…`: a socket.io packet.
    Message(SioPacket),
    /// Upgrade packets, unknown types, malformed text.
    Other,
}

/// One socket.io packet.
#[derive(Debug, Clone, PartialEq)]
pub enum SioPacket {
    Connect {
        nsp: String,
    },
    Disconnect {
        nsp: String,
    },
    Event {
        nsp: String,
        name: String,
        args: Vec<Value>,
    },
    ConnectError {
        nsp: String,
        message: String,
    },
    /// Acks, binary packets, malformed text.
    Other,
}

/// Parses one Engine.IO text frame.
pub fn parse_frame(text: &str) -> Frame {
    let mut chars = text.chars();
    let Some(kind) = chars.next() else {
        return Frame::Other;
    };
    let rest = chars.as_str();
    match kind {
        '0' => parse_open(rest).map_or(Frame::Other, Frame::Open),
        '1' => Frame::Close,
        '2' => Frame::Ping,
        '3' => Frame::Pong,
        '4' => Frame::Message(parse_sio(rest)),
        '6' => Frame::Noop,
        _ => Frame::Other,
    }
}

fn parse_open(json: &str) -> Option<OpenInfo> {
    let v: Value = serde_json::from_str(json).ok()?;
    let sid = v.get("sid")?.as_str()?.to_owned();
    let ms = |key: &str, default: Duration| {
        v.get(key)
            .and_then(Value::as_u64)
            .filter(|ms| *ms > 0)
            .map_or(default, Duration::from_millis)
    };
    Some(OpenInfo {
        sid,
        ping_interval: ms("pingInterval", DEFAULT_PING_INTERVAL),
        ping_timeout: ms("pingTimeout", DEFAULT_PING_TIMEOUT),
    })
}

/// Parses a socket.io packet: `<type>[/nsp,][ackId][json]`.
pub fn parse_sio(text: &str) -> SioPacket {
    let mut chars = text.chars();
    let Some(kind) = chars.next() else {
        return SioPacket::Other;
    };
    let mut rest = chars.as_str();
    let nsp = if rest.starts_with('/') {
        let (nsp, tail) = rest.split_once(',').unwrap_or((rest, ""));
        rest = tail;
        nsp.to_owned()
    } else {
        "/".to_owned()
    };
    let body = rest.trim_start_matches(|c: char| c.is_ascii_digit());
    match kind {
        '0' => SioPacket::Connect { nsp },
        '1' => SioPacket::Disconnect { nsp },
        '2' => match serde_json::from_str::<Value>(body) {
            Ok(Value::Array(mut items)) if items.first().is_some_and(Value::is_string) => {
                let name = items.remove(0).as_str().unwrap_or_default().to_owned();
                SioPacket::Event {
                    nsp,
                    name,
                    args: items,
                }
            }
            _ => SioPacket::Other,
        },
        '4' => {
            let message = match serde_json::from_str::<Value>(body) {
                Ok(Value::Object(o)) => o
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                Ok(Value::String(s)) => s,
                _ => body.to_owned(),
            };
            SioPacket::ConnectError { nsp, message }
        }
        _ => SioPacket::Other,
    }
}

/// The frame that joins `nsp` (`40` for the default namespace).
pub fn connect_frame(nsp: &str) -> String {
    if nsp == "/" {
        "40".to_owned()
    } else {
        format!("40{nsp},")
    }
}

/// The frame that leaves `nsp`.
pub fn disconnect_frame(nsp: &str) -> String {
    if nsp == "/" {
        "41".to_owned()
    } else {
        format!("41{nsp},")
    }
}

async fn next_text(ws: &mut Ws, deadline: Instant) -> Result<Option<String>, PushError> {
    loop {
        match timeout_at(deadline, ws.next()).await {
            Err(_) => {
                return Err(PushError::StepTimeout {
                    step: "joining the push namespace",
                });
            }
            Ok(None) | Ok(Some(Ok(Message::Close(_)))) => return Ok(None),
            Ok(Some(Ok(Message::Text(t)))) => return Ok(Some(t.as_str().to_owned())),
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(e))) => {
                return Err(PushError::ConnectFailed {
                    reason: scrub(&e.to_string()),
                });
            }
        }
    }
}

async fn send(ws: &mut Ws, text: String) -> Result<(), PushError> {
    ws.send(Message::text(text))
        .await
        .map_err(|e| PushError::ConnectFailed {
            reason: scrub(&e.to_string()),
        })
}

/// Waits for the open packet, joins `nsp`, and returns once the server accepted the join.
pub async fn join(ws: &mut Ws, nsp: &str, within: Duration) -> Result<OpenInfo, PushError> {
    let deadline = Instant::now() + within;
    let closed = || PushError::ConnectFailed {
        reason: "the push service closed the websocket before the namespace was joined".into(),
    };
    let open = loop {
        let text = next_text(ws, deadline).await?.ok_or_else(closed)?;
        match parse_frame(&text) {
            Frame::Open(open) => break open,
            Frame::Close => return Err(closed()),
            _ => {}
        }
    };
    send(ws, connect_frame(nsp)).await?;
    loop {
        let text = next_text(ws, deadline).await?.ok_or_else(closed)?;
        match parse_frame(&text) {
            Frame::Ping => send(ws, "3".into()).await?,
            Frame::Close => return Err(closed()),
            Frame::Message(SioPacket::Connect { nsp: n }) if n == nsp => return Ok(open),
            Frame::Message(SioPacket::ConnectError { nsp: n, message }) if n == nsp => {
                return Err(PushError::ConnectFailed {
                    reason: format!("the push service refused the join: {}", scrub(&message)),
                });
            }
            Frame::Message(SioPacket::Disconnect { nsp: n }) if n == nsp => return Err(closed()),
            _ => {}
        }
    }
}

/// A joined link; its reader task answers pings and forwards notifications.
pub struct EngineIoLink {
    cancel: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl Drop for EngineIoLink {
    fn drop(&mut self) {
        // A dropped link must not leave its reader running.
        self.cancel.cancel();
    }
}

impl PushLink for EngineIoLink {
    fn disconnect(mut self: Box<Self>) -> futures_util::future::BoxFuture<'static, ()> {
        self.cancel.cancel();
        let task = self.task.take();
        Box::pin(async move {
            if let Some(mut task) = task {
                if tokio::time::timeout(DISCONNECT_TIMEOUT, &mut task)
                    .await
                    .is_err()
                {
                    tracing::debug!("push link did not close in time");
                    task.abort();
                }
            }
        })
    }
}

/// Starts the reader task of a joined link.
pub fn spawn_link(
    ws: Ws,
    nsp: String,
    open: OpenInfo,
    events: mpsc::UnboundedSender<LinkEvent>,
) -> EngineIoLink {
    let cancel = CancellationToken::new();
    let task = tokio::spawn(read_loop(ws, nsp, open, events, cancel.clone()));
    EngineIoLink {
        cancel,
        task: Some(task),
    }
}

async fn read_loop(
    mut ws: Ws,
    nsp: String,
    open: OpenInfo,
    events: mpsc::UnboundedSender<LinkEvent>,
    cancel: CancellationToken,
) {
    let limit = open.silence_limit();
    let mut ping_deadline = Instant::now() + limit;
    let end = loop {
        let msg = tokio::select! {
            biased;
            _ = cancel.cancelled() => {
                let goodbye = async {
                    let _ = ws.send(Message::text(disconnect_frame(&nsp))).await;
                    let _ = ws.close(None).await;
                };
                let _ = tokio::time::timeout(DISCONNECT_TIMEOUT, goodbye).await;
                return;
            }
            m = timeout_at(ping_deadline, ws.next()) => m,
        };
        let text = match msg {
            Err(_) => {
                break LinkEvent::Error {
                    reason: format!(
                        "no ping from the push service within {} s",
                        limit.as_secs_f32()
                    ),
                };
            }
            Ok(None) | Ok(Some(Ok(Message::Close(_)))) => break LinkEvent::Closed,
            Ok(Some(Err(e))) => {
                break LinkEvent::Error {
                    reason: scrub(&e.to_string()),
                };
            }
            Ok(Some(Ok(Message::Text(t)))) => t,
            Ok(Some(Ok(_))) => continue,
        };
        match parse_frame(text.as_str()) {
            Frame::Ping => {
                ping_deadline = Instant::now() + limit;
                if let Err(e) = ws.send(Message::text("3")).await {
                    break LinkEvent::Error {
                        reason: scrub(&e.to_string()),
                    };
                }
            }
            Frame::Close => break LinkEvent::Closed,
            Frame::Message(SioPacket::Event { nsp: n, name, args })
                if n == nsp && name == "notification" =>
            {
                if let NotificationBody::Object(_) = parse_notification(&args) {
                    tracing::trace!("push notification with a JSON body");
                }
                let _ = events.send(LinkEvent::Notification);
            }
            Frame::Message(SioPacket::Disconnect { nsp: n }) if n == nsp => {
                break LinkEvent::Closed;
            }
            Frame::Message(SioPacket::ConnectError { nsp: n, message }) if n == nsp => {
                break LinkEvent::Error {
                    reason: scrub(&message),
                };
            }
            _ => {}
        }
    };
    let _ = events.send(end);
    let _ = tokio::time::timeout(DISCONNECT_TIMEOUT, ws.close(None)).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn open_packets_give_the_ping_timings() {
        let f = parse_frame(
            r#"0{"sid":"abc","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}"#,
        );
        let Frame::Open(open) = f else {
            panic!("{f:?}")
        };
        assert_eq!(open.sid, "abc");
        assert_eq!(open.silence_limit(), Duration::from_millis(500));
        // Missing or zero timings fall back to socket.io's defaults.
        let Frame::Open(open) = parse_frame(r#"0{"sid":"x","pingInterval":0}"#) else {
            panic!()
        };
        assert_eq!(open.silence_limit(), Duration::from_secs(45));
        assert_eq!(parse_frame("0{not json"), Frame::Other);
        assert_eq!(parse_frame(r#"0{"pingInterval":1}"#), Frame::Other);
    }

    #[test]
    fn control_frames_are_recognised() {
        assert_eq!(parse_frame("2"), Frame::Ping);
        assert_eq!(parse_frame("3"), Frame::Pong);
        assert_eq!(parse_frame("1"), Frame::Close);
        assert_eq!(parse_frame("6"), Frame::Noop);
        assert_eq!(parse_frame("2probe"), Frame::Ping);
        assert_eq!(parse_frame(""), Frame::Other);
        assert_eq!(parse_frame("9"), Frame::Other);
    }

    #[test]
    fn namespace_joins_and_leaves() {
        assert_eq!(connect_frame("/notifications"), "40/notifications,");
        assert_eq!(connect_frame("/"), "40");
        assert_eq!(disconnect_frame("/notifications"), "41/notifications,");
        assert_eq!(
            parse_frame(r#"40/notifications,{"sid":"s1"}"#),
            Frame::Message(SioPacket::Connect {
                nsp: "/notifications".into()
            })
        );
        assert_eq!(
            parse_frame(r#"40{"sid":"s1"}"#),
            Frame::Message(SioPacket::Connect { nsp: "/".into() })
        );
        assert_eq!(
            parse_frame("41/notifications,"),
            Frame::Message(SioPacket::Disconnect {
                nsp: "/notifications".into()
            })
        );
        assert_eq!(
            parse_frame(r#"44/notifications,{"message":"unauthorized"}"#),
            Frame::Message(SioPacket::ConnectError {
                nsp: "/notifications".into(),
                message: "unauthorized".into()
            })
        );
    }

    fn event_args(frame: &str) -> Vec<Value> {
        match parse_frame(frame) {
            Frame::Message(SioPacket::Event { nsp, name, args }) => {
                assert_eq!(
                    (nsp.as_str(), name.as_str()),
                    ("/notifications", "notification")
                );
                args
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn notification_events_parse_in_every_observed_shape() {
        // The real frame: a JSON string holding {"value":[…]} (docs/PROTOCOL.md §2.7).
        let real = r#"42/notifications,["notification","{\"value\":[{\"subscriptionId\":\"5554a2f6\",\"clientState\":\"system-managed:8082D436\",\"resource\":\"b8a61df7\",\"tenantId\":\"9188040d\"}]}"]"#;
        let args = event_args(real);
        assert!(matches!(
            parse_notification(&args),
            NotificationBody::Object(v) if v["value"][0]["subscriptionId"] == "5554a2f6"
        ));
        // An object instead of a string.
        let args = event_args(r#"42/notifications,["notification",{"value":[]}]"#);
        assert!(matches!(
            parse_notification(&args),
            NotificationBody::Object(_)
        ));
        // The older flat shape, with an ack id.
        let args =
            event_args(r#"42/notifications,7["notification","{\"changeType\":\"updated\"}"]"#);
        assert_eq!(
            parse_notification(&args),
            NotificationBody::Object(json!({"changeType": "updated"}))
        );
        // No argument at all is still a notification.
        assert!(event_args(r#"42/notifications,["notification"]"#).is_empty());
        // Other namespaces and malformed events are told apart.
        assert_eq!(
            parse_frame(r#"42["notification","x"]"#),
            Frame::Message(SioPacket::Event {
                nsp: "/".into(),
                name: "notification".into(),
                args: vec![json!("x")]
            })
        );
        assert_eq!(
            parse_frame("42/notifications,not json"),
            Frame::Message(SioPacket::Other)
        );
        assert_eq!(
            parse_frame("42/notifications,[1]"),
            Frame::Message(SioPacket::Other)
        );
    }

    /// A websocket pair in memory: the client half as the link sees it, the server half for the
    /// test to script.
    async fn pair() -> (Ws, WebSocketStream<tokio::io::DuplexStream>) {
        let (a, b) = tokio::io::duplex(64 * 1024);
        let server = tokio::spawn(tokio_tungstenite::accept_async(b));
        let io: Box<dyn AsyncIo> = Box::new(a);
        let (client, _) = tokio_tungstenite::client_async("ws://push.test/socket.io/", io)
            .await
            .unwrap();
        (client, server.await.unwrap().unwrap())
    }

    async fn recv_text(server: &mut WebSocketStream<tokio::io::DuplexStream>) -> String {
        loop {
            match server.next().await {
                Some(Ok(Message::Text(t))) => return t.as_str().to_owned(),
                Some(Ok(_)) => {}
                other => panic!("{other:?}"),
            }
        }
    }

    async fn say(server: &mut WebSocketStream<tokio::io::DuplexStream>, text: &str) {
        server.send(Message::text(text)).await.unwrap();
    }

    const OPEN: &str = r#"0{"sid":"s","upgrades":[],"pingInterval":1000,"pingTimeout":500}"#;

    #[tokio::test(start_paused = true)]
    async fn a_joined_link_pongs_forwards_notifications_and_dies_without_pings() {
        let (mut client, mut server) = pair().await;
        let script = tokio::spawn(async move {
            say(&mut server, OPEN).await;
            assert_eq!(recv_text(&mut server).await, "40/notifications,");
            say(&mut server, "2").await; // a ping during the join is answered too
            assert_eq!(recv_text(&mut server).await, "3");
            say(&mut server, r#"40/notifications,{"sid":"n"}"#).await;
            server
        });
        let open = join(&mut client, "/notifications", Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(open.silence_limit(), Duration::from_millis(1500));
        let mut server = script.await.unwrap();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let link = spawn_link(client, "/notifications".into(), open, tx);

        say(&mut server, "2").await;
        assert_eq!(recv_text(&mut server).await, "3");
        say(
            &mut server,
            r#"42/notifications,["notification","{\"value\":[]}"]"#,
        )
        .await;
        say(&mut server, r#"42/other,["notification","{}"]"#).await;
        say(&mut server, r#"42/notifications,["something-else"]"#).await;
        assert_eq!(rx.recv().await, Some(LinkEvent::Notification));

        // Silence: dead once pingInterval + pingTimeout passed since the last ping.
        let quiet = Instant::now();
        let event = rx.recv().await.unwrap();
        assert!(
            matches!(&event, LinkEvent::Error { reason } if reason.contains("no ping")),
            "{event:?}"
        );
        let waited = quiet.elapsed();
        assert!(
            waited > Duration::from_millis(1400) && waited <= Duration::from_millis(1500),
            "{waited:?}"
        );
        Box::new(link).disconnect().await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_refused_join_is_an_error_without_the_token() {
        let (mut client, mut server) = pair().await;
        tokio::spawn(async move {
            say(&mut server, OPEN).await;
            let _ = recv_text(&mut server).await;
            say(
                &mut server,
                r#"44/notifications,{"message":"unauthorized: token=abc"}"#,
            )
            .await;
            let _ = server.next().await;
        });
        let err = join(&mut client, "/notifications", Duration::from_secs(5))
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("refused the join") && !text.contains("abc"),
            "{text}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_join_without_an_answer_times_out() {
        let (mut client, mut server) = pair().await;
        let _keep = tokio::spawn(async move {
            say(&mut server, OPEN).await;
            let _ = recv_text(&mut server).await;
            tokio::time::sleep(Duration::from_secs(60)).await;
            server
        });
        let started = Instant::now();
        let err = join(&mut client, "/notifications", Duration::from_secs(2))
            .await
            .unwrap_err();
        assert!(matches!(err, PushError::StepTimeout { .. }), "{err:?}");
        assert_eq!(started.elapsed(), Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn the_server_leaving_closes_the_link_and_disconnect_says_goodbye() {
        let (client, mut server) = pair().await;
        let open = parse_open(&OPEN[1..]).unwrap();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let _link = spawn_link(client, "/notifications".into(), open.clone(), tx);
        say(&mut server, "41/notifications,").await;
        assert_eq!(rx.recv().await, Some(LinkEvent::Closed));

        let (client, mut server) = pair().await;
        let (tx, mut rx) = mpsc::unbounded_channel();
        let link = spawn_link(client, "/notifications".into(), open, tx);
        Box::new(link).disconnect().await;
        assert_eq!(recv_text(&mut server).await, "41/notifications,");
        // Leaving on purpose reports nothing.
        assert_eq!(rx.recv().await, None);
    }
}
