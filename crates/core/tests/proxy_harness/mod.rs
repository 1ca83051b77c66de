//! What the push-through-proxy tests stand on beyond the network fixtures: a transport wrapper
//! that gives the emulator's loopback notificationUrls the https origin a real service would
//! use, and a signed-in engine to watch with (`watch`).

#![allow(dead_code)]

use std::sync::Arc;

use drivewatch_core::push::{LinkEvent, PushError, PushLink, PushTransport};
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
pub use proxy_fixtures::*;
use tokio::sync::mpsc;

mod watch;
pub use watch::*;

/// Gives the emulator's `http://127.0.0.1:PORT/notifications?...` the origin `origin`
/// (`https://push.drivewatch.test:PORT`), as the real service hands out https URLs.
pub struct Readdress {
    pub inner: Arc<dyn PushTransport>,
    pub origin: String,
}

pub fn readdress(url: &str, origin: &str) -> String {
    let parsed = url::Url::parse(url).unwrap();
    let mut out = url::Url::parse(origin).unwrap();
    out.set_path(parsed.path());
    out.set_query(parsed.query());
    out.to_string()
}

impl PushTransport for Readdress {
    fn connect<'a>(
        &'a self,
        notification_url: &'a str,
        events: mpsc::UnboundedSender<LinkEvent>,
    ) -> BoxFuture<'a, Result<Box<dyn PushLink>, PushError>> {
        async move {
            let url = readdress(notification_url, &self.origin);
            self.inner.connect(&url, events).await
        }
        .boxed()
    }
}
