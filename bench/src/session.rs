//! The desktop app's private session bus, with the benchmark as its notification server.
//!
//! The desktop measurements start their own `dbus-daemon --session` rather than using the
//! machine's, so the app's toasts reach this process: each `Notify` call is stamped with the
//! instant it arrived, on the same clock as the emulator's changes, which is what the change →
//! `Notify` figure needs. The bus is also how the window is opened without a tray host: the
//! single-instance call a second launch makes. This module must never touch a real desktop's
//! bus, and must stop the daemon it started (dropping it does).

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::time::{Instant, timeout};

use crate::error::BenchError;

/// One `Notify` call as the server received it.
#[derive(Debug, Clone)]
pub struct Notified {
    pub at: Instant,
    /// Non-zero when the app redrew a toast in place.
    pub replaces_id: u32,
    pub summary: String,
    pub body: String,
}

/// The `org.freedesktop.Notifications` server: stamps and keeps every call.
struct Server {
    seen: Arc<Mutex<Vec<Notified>>>,
    next_id: Mutex<u32>,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Server {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        _app_name: String,
        replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        _actions: Vec<String>,
        _hints: HashMap<String, zbus::zvariant::OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        // First, so the stamp is the call's arrival, not what follows.
        let at = Instant::now();
        let id = if replaces_id != 0 {
            replaces_id
        } else {
            let mut next = self.next_id.lock().unwrap_or_else(|p| p.into_inner());
            *next += 1;
            *next
        };
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Notified {
                at,
                replaces_id,
                summary,
                body,
            });
        id
    }

    fn get_capabilities(&self) -> Vec<String> {
        vec!["actions".to_owned(), "body".to_owned()]
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        let s = |v: &str| v.to_owned();
        (s("drivewatch-bench"), s("drivewatch"), s("1"), s("1.2"))
    }

    fn close_notification(&self, _id: u32) {}
}

/// A private session bus and the notification server on it.
pub struct SessionBus {
    /// `DBUS_SESSION_BUS_ADDRESS` for the app.
    pub address: String,
    seen: Arc<Mutex<Vec<Notified>>>,
    connection: zbus::Connection,
    daemon: Child,
}

/// The app's single-instance service: a second launch calls it, and the app shows its window.
/// Named after the identifier in `tauri.conf.json`.
const SINGLE_INSTANCE: &str = "app.drivewatch.desktop.SingleInstance";
const SINGLE_INSTANCE_PATH: &str = "/app/drivewatch/desktop/SingleInstance";

impl SessionBus {
    pub async fn start() -> Result<SessionBus, BenchError> {
        let mut daemon = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(BenchError::Spawn)?;
        let stdout = daemon.stdout.take().ok_or(BenchError::HostEnded {
            what: "dbus-daemon said its address",
        })?;
        let mut address = String::new();
        timeout(
            Duration::from_secs(10),
            BufReader::new(stdout).read_line(&mut address),
        )
        .await
        .map_err(|_| BenchError::Timeout {
            what: "dbus-daemon to start",
        })?
        .map_err(BenchError::Spawn)?;
        let address = address.trim().to_owned();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let server = Server {
            seen: seen.clone(),
            next_id: Mutex::new(0),
        };
        let connection = zbus::connection::Builder::address(address.as_str())
            .and_then(|b| b.name("org.freedesktop.Notifications"))
            .and_then(|b| b.serve_at("/org/freedesktop/Notifications", server))
            .map_err(bus_error)?
            .build()
            .await
            .map_err(bus_error)?;
        Ok(SessionBus {
            address,
            seen,
            connection,
            daemon,
        })
    }

    /// Every `Notify` call so far.
    pub fn notified(&self) -> Vec<Notified> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Asks the app to show its window, as a second `drivewatch` launch does.
    pub async fn open_window(&self) -> Result<(), BenchError> {
        let args: Vec<String> = vec!["drivewatch".into()];
        timeout(
            Duration::from_secs(10),
            self.connection.call_method(
                Some(SINGLE_INSTANCE),
                SINGLE_INSTANCE_PATH,
                Some("org.SingleInstance.DBus"),
                "ExecuteCallback",
                &(args, "/"),
            ),
        )
        .await
        .map_err(|_| BenchError::Timeout {
            what: "the app to take the single-instance call",
        })?
        .map_err(bus_error)?;
        Ok(())
    }

    pub async fn stop(mut self) {
        drop(self.connection);
        let _ = self.daemon.kill().await;
    }
}

fn bus_error(e: zbus::Error) -> BenchError {
    BenchError::Spawn(std::io::Error::other(format!("the session bus: {e}")))
}
