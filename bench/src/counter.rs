//! Counts the delta requests the emulator serves, from the emulator's per-request trace event,
//! and notes when it sent each push notification (its `notification sent` event).
//!
//! Neither the engine nor the emulator keeps a request counter, and delta's nextLinks and
//! deltaLinks are absolute URLs to the emulator, so a proxy in between would miss them. The
//! emulator does emit one `request` trace event per HTTP request (with its path); this layer
//! counts those whose path is a delta call. Its `notification sent` event carries the drive, so
//! the instant each drive was notified is known without a socket of the benchmark's own. It must
//! never record anything else from the events (no query strings, no tokens) and must stay cheap:
//! it only looks at the emulator's events.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::time::Instant;

use tracing::field::{Field, Visit};
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

/// How many delta requests (first pages, nextLinks and deltaLinks alike) the emulator served.
#[derive(Clone, Debug, Default)]
pub struct DeltaRequests {
    count: Arc<AtomicU64>,
    /// Token requests (sign-in polls and refreshes) and socketIo subscription requests (new
    /// and renewed), which the soak reports.
    tokens: Arc<AtomicU64>,
    subscriptions: Arc<AtomicU64>,
}

impl DeltaRequests {
    pub fn get(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
    pub fn tokens(&self) -> u64 {
        self.tokens.load(Ordering::Relaxed)
    }
    pub fn subscriptions(&self) -> u64 {
        self.subscriptions.load(Ordering::Relaxed)
    }
}

/// What kind of request a path is, beside delta.
fn is_token_path(path: &str) -> bool {
    path.ends_with("/oauth2/v2.0/token")
}

fn is_subscription_path(path: &str) -> bool {
    path.starts_with("/v1.0/") && path.ends_with("/subscriptions/socketIo")
}

fn is_emulator(meta: &Metadata<'_>) -> bool {
    meta.target().starts_with("graph_emulator")
}

/// Whether a request path is a delta call (`.../delta`, `.../delta(token='...')`).
pub fn is_delta_path(path: &str) -> bool {
    path.starts_with("/v1.0/")
        && path.rsplit('/').next().is_some_and(|last| {
            last == "delta" || last.starts_with("delta(") || last.starts_with("delta%28")
        })
}

/// When the emulator sent a push notification, by drive.
#[derive(Clone, Debug, Default)]
pub struct Notifications {
    sent: Arc<Mutex<Vec<(String, Instant)>>>,
}

impl Notifications {
    /// The first notification for `drive` sent at or after `after`.
    pub fn first_after(&self, drive: &str, after: Instant) -> Option<Instant> {
        let sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        sent.iter()
            .filter(|(d, at)| d == drive && *at >= after)
            .map(|(_, at)| *at)
            .min()
    }
}

#[derive(Default)]
struct RequestEvent {
    is_request: bool,
    delta: bool,
    token: bool,
    subscription: bool,
    notification: bool,
    drive: Option<String>,
}

impl Visit for RequestEvent {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "path" {
            self.delta = is_delta_path(value);
            self.token = is_token_path(value);
            self.subscription = is_subscription_path(value);
        } else if field.name() == "drive" {
            self.drive = Some(value.to_owned());
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let message = format!("{value:?}");
            self.is_request = message == "request";
            self.notification = message == "notification sent";
        } else if field.name() == "path" {
            let path = format!("{value:?}");
            let path = path.trim_matches('"');
            self.delta = is_delta_path(path);
            self.token = is_token_path(path);
            self.subscription = is_subscription_path(path);
        }
    }
}

/// The counting layer; install it with [`DeltaRequests`] from [`layer`].
pub struct DeltaRequestLayer {
    counter: DeltaRequests,
    notifications: Notifications,
}

pub fn layer() -> (DeltaRequestLayer, DeltaRequests, Notifications) {
    let counter = DeltaRequests::default();
    let notifications = Notifications::default();
    (
        DeltaRequestLayer {
            counter: counter.clone(),
            notifications: notifications.clone(),
        },
        counter,
        notifications,
    )
}

impl<S: Subscriber> Layer<S> for DeltaRequestLayer {
    fn enabled(&self, meta: &Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        is_emulator(meta) && meta.is_event()
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if !is_emulator(event.metadata()) {
            return;
        }
        let mut seen = RequestEvent::default();
        event.record(&mut seen);
        if seen.is_request && seen.delta {
            self.counter.count.fetch_add(1, Ordering::Relaxed);
        }
        if seen.is_request && seen.token {
            self.counter.tokens.fetch_add(1, Ordering::Relaxed);
        }
        if seen.is_request && seen.subscription {
            self.counter.subscriptions.fetch_add(1, Ordering::Relaxed);
        }
        if let (true, Some(drive)) = (seen.notification, seen.drive) {
            let at = Instant::now();
            (self.notifications.sent.lock())
                .unwrap_or_else(|p| p.into_inner())
                .push((drive, at));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt;

    #[test]
    fn delta_paths_in_every_form_count_and_nothing_else_does() {
        assert!(is_delta_path("/v1.0/me/drive/root/delta"));
        assert!(is_delta_path("/v1.0/drives/b!x/root/delta(token='abc')"));
        assert!(is_delta_path(
            "/v1.0/drives/b!x/root/delta%28token=%27abc%27%29"
        ));
        assert!(!is_delta_path("/v1.0/me/drive/root/subscriptions/socketIo"));
        assert!(!is_delta_path("/v1.0/me/drive/items/delta-report/children"));
        assert!(!is_delta_path("/socket.io/"));
    }

    #[test]
    fn counts_only_the_emulators_request_events_for_delta() {
        let (layer, counter, _) = layer();
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            tracing::debug!(target: "graph_emulator", method = "GET", path = "/v1.0/me/drive/root/delta", "request");
            tracing::debug!(target: "graph_emulator", method = "GET", path = "/v1.0/me/drive", "request");
            tracing::debug!(target: "graph_emulator", path = "/v1.0/me/drive/root/delta", "something else");
            tracing::debug!(target: "drivewatch_core", path = "/v1.0/me/drive/root/delta", "request");
            tracing::debug!(target: "graph_emulator", method = "POST", path = "/common/oauth2/v2.0/token", "request");
            tracing::debug!(target: "graph_emulator", method = "GET", path = "/v1.0/drives/b!x/root/subscriptions/socketIo", "request");
        });
        assert_eq!(counter.get(), 1);
        assert_eq!((counter.tokens(), counter.subscriptions()), (1, 1));
    }

    #[test]
    fn notes_when_each_drive_was_notified() {
        let (layer, _, notifications) = layer();
        let before = Instant::now();
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            tracing::debug!(target: "graph_emulator::push", drive = "b!a", sockets = 1, "notification sent");
            tracing::debug!(target: "graph_emulator::push", drive = "b!b", "something else");
            tracing::debug!(target: "drivewatch_core", drive = "b!b", "notification sent");
        });
        let at = notifications.first_after("b!a", before).expect("noted");
        assert!(at >= before);
        assert!(notifications.first_after("b!b", before).is_none());
        assert!(
            notifications
                .first_after("b!a", Instant::now() + std::time::Duration::from_millis(1))
                .is_none()
        );
    }
}
