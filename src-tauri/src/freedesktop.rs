//! The freedesktop notification service (`org.freedesktop.Notifications`) over one session-bus
//! connection, kept for the app's life, with one task listening for every toast's signals.
//!
//! Why not notify-rust here (it still serves macOS): it opens a new session-bus connection for
//! every toast (connect, authenticate, `Hello`), most of the change → `Notify` time, and parks
//! a blocking thread per toast on that connection until the server says the notification was
//! closed, which some servers only do when the user dismisses it: a thread per toast for as long
//! as the app runs. Here a toast is one method call on the kept connection, and the actions of
//! all of them arrive through one signal stream.
//!
//! A notification closed keeps nothing waiting here, so `NotificationClosed` is not listened to.
//! This module knows the D-Bus interface and nothing of DriveWatch's toasts ([`crate::toasts`]).

use std::collections::HashMap;

use futures_util::StreamExt;
use tokio::sync::OnceCell;
use zbus::message::Type;
use zbus::zvariant::Value;
use zbus::{Connection, MatchRule, MessageStream};

const NAME: &str = "org.freedesktop.Notifications";
const PATH: &str = "/org/freedesktop/Notifications";

/// The user chose the action `key` of notification `id` (`ActionInvoked`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub id: u32,
    pub key: String,
}

/// One `Notify` call.
pub struct Outgoing<'a> {
    pub app_name: &'a str,
    /// The id of the notification this one redraws in place; 0 for a new one.
    pub replaces_id: u32,
    pub icon: &'a str,
    pub summary: &'a str,
    pub body: &'a str,
    /// (key, label) pairs.
    pub actions: &'a [(&'a str, String)],
    pub category: &'a str,
    pub desktop_entry: &'a str,
    /// A redraw that should make no sound.
    pub silent: bool,
    pub timeout_ms: i32,
}

/// The kept connection and what the server said it can do.
pub struct Service {
    connection: Connection,
    body_markup: bool,
}

static SERVICE: OnceCell<Service> = OnceCell::const_new();

/// The service, connected (and its listener started, handing every action to `on_action`) on
/// first use. A failure is returned, and the next call tries again.
pub async fn service(
    on_action: impl Fn(Action) + Send + Sync + 'static,
) -> zbus::Result<&'static Service> {
    SERVICE
        .get_or_try_init(|| async {
            let connection = Connection::session().await?;
            // Subscribed before any toast is shown, so no action can be missed.
            let rule = MatchRule::builder()
                .msg_type(Type::Signal)
                .interface(NAME)?
                .member("ActionInvoked")?
                .path(PATH)?
                .build();
            let stream = MessageStream::for_match_rule(rule, &connection, None).await?;
            let caps: Vec<String> = connection
                .call_method(Some(NAME), PATH, Some(NAME), "GetCapabilities", &())
                .await?
                .body()
                .deserialize()?;
            tauri::async_runtime::spawn(listen(stream, on_action));
            Ok(Service {
                connection,
                body_markup: caps.iter().any(|c| c == "body-markup"),
            })
        })
        .await
}

impl Service {
    /// Whether the server renders markup in bodies (then names must be escaped).
    pub fn body_markup(&self) -> bool {
        self.body_markup
    }

    /// Shows (or redraws) a notification; the server's id for it.
    pub async fn notify(&self, n: &Outgoing<'_>) -> zbus::Result<u32> {
        let actions: Vec<&str> = n
            .actions
            .iter()
            .flat_map(|(key, label)| [*key, label.as_str()])
            .collect();
        let mut hints: HashMap<&str, Value<'_>> = HashMap::new();
        hints.insert("category", Value::from(n.category));
        hints.insert("desktop-entry", Value::from(n.desktop_entry));
        if n.silent {
            hints.insert("suppress-sound", Value::from(true));
        }
        let reply = self
            .connection
            .call_method(
                Some(NAME),
                PATH,
                Some(NAME),
                "Notify",
                &(
                    n.app_name,
                    n.replaces_id,
                    n.icon,
                    n.summary,
                    n.body,
                    actions,
                    hints,
                    n.timeout_ms,
                ),
            )
            .await?;
        reply.body().deserialize()
    }
}

/// Hands every `ActionInvoked` to `on_action`, until the connection ends (with the app).
async fn listen(mut stream: MessageStream, on_action: impl Fn(Action)) {
    while let Some(message) = stream.next().await {
        let Ok(message) = message else { continue };
        if let Ok((id, key)) = message.body().deserialize::<(u32, String)>() {
            on_action(Action { id, key });
        }
    }
}
