//! Engine.IO v4 spoken by hand over a websocket (tokio-tungstenite), to check the exact packets
//! the emulator sends: the open packet, namespace CONNECTs, `42/notifications,[…]` frames.

use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

pub struct RawSocket {
    ws: WebSocketStream<TcpStream>,
}

/// `http://127.0.0.1:PORT/notifications?token=…&applicationId=…` → (authority, query).
pub fn split_notification_url(url: &str) -> (String, String) {
    let u = url::Url::parse(url).unwrap();
    (
        format!("{}:{}", u.host_str().unwrap(), u.port().unwrap()),
        u.query().unwrap_or("").to_string(),
    )
}

/// Opens `ws://HOST/socket.io/?EIO=4&transport=websocket&<query>`; returns the socket and the
/// open packet's JSON. Errors with the upgrade's failure (e.g. an HTTP status).
pub async fn open(
    authority: &str,
    query: &str,
) -> Result<(RawSocket, Value), tokio_tungstenite::tungstenite::Error> {
    let url = format!("ws://{authority}/socket.io/?EIO=4&transport=websocket&{query}");
    let tcp = TcpStream::connect(authority).await.unwrap();
    let (ws, _) = tokio_tungstenite::client_async(url, tcp).await?;
    let mut s = RawSocket { ws };
    let open = s
        .next_text(Duration::from_secs(5))
        .await
        .expect("open packet");
    let json = open.strip_prefix('0').expect("an Engine.IO open packet");
    Ok((s, serde_json::from_str(json).unwrap()))
}

impl RawSocket {
    pub async fn send(&mut self, text: &str) {
        self.ws.send(Message::text(text)).await.unwrap();
    }

    /// The next text packet within `within`, answering pings (`2` → `3`) on the way.
    pub async fn next_text(&mut self, within: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .ok()??
                .ok()?;
            match msg {
                Message::Text(t) if t.as_str() == "2" => self.send("3").await,
                Message::Text(t) => return Some(t.to_string()),
                Message::Close(_) => return None,
                _ => {}
            }
        }
    }

    /// Waits for a packet starting with `prefix`, skipping others; None if the link ends first.
    pub async fn expect_prefix(&mut self, prefix: &str, within: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let t = self.next_text(left).await?;
            if t.starts_with(prefix) {
                return Some(t);
            }
        }
    }
}
