//! What the desktop suites share: a virtual desktop (Xvfb and a private D-Bus session bus)
//! where the test itself is the notification server and the tray host, and the helpers to read
//! a tray menu over D-Bus. It must only ever start processes it also stops.

#![allow(dead_code)] // Each suite uses a different part.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

/// One toast as the notification server received it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The id the server gave (the one it replaced, for an update in place).
    pub id: u32,
    /// Non-zero when the app asked to replace that notification in place.
    pub replaces_id: u32,
    pub app_name: String,
    pub summary: String,
    pub body: String,
    pub actions: Vec<String>,
}

pub struct NotificationServer {
    pub seen: Arc<Mutex<Vec<Seen>>>,
    pub next_id: Mutex<u32>,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl NotificationServer {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        app_name: String,
        replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        actions: Vec<String>,
        _hints: HashMap<String, zbus::zvariant::OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        // As the specification says: a replacement keeps the id it replaces.
        let id = if replaces_id != 0 {
            replaces_id
        } else {
            let mut next = self.next_id.lock().expect("lock");
            *next += 1;
            *next
        };
        self.seen.lock().expect("lock").push(Seen {
            id,
            replaces_id,
            app_name,
            summary,
            body,
            actions,
        });
        id
    }

    fn get_capabilities(&self) -> Vec<String> {
        vec!["actions".to_owned(), "body".to_owned()]
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        (
            "drivewatch-test".to_owned(),
            "drivewatch".to_owned(),
            "1".to_owned(),
            "1.2".to_owned(),
        )
    }

    fn close_notification(&self, _id: u32) {}
}

/// The desktop's tray host as appindicator sees it: items register here.
pub struct Watcher {
    /// (bus name, object path) of each registered item.
    pub items: Arc<Mutex<Vec<(String, String)>>>,
}

#[zbus::interface(name = "org.kde.StatusNotifierWatcher")]
impl Watcher {
    fn register_status_notifier_item(
        &self,
        service: String,
        #[zbus(header)] header: zbus::message::Header<'_>,
    ) {
        let sender = header.sender().map(|s| s.to_string()).unwrap_or_default();
        let item = if service.starts_with('/') {
            (sender, service)
        } else {
            (service, "/StatusNotifierItem".to_owned())
        };
        self.items.lock().expect("lock").push(item);
    }

    fn register_status_notifier_host(&self, _service: String) {}

    #[zbus(property)]
    fn registered_status_notifier_items(&self) -> Vec<String> {
        let items = self.items.lock().expect("lock");
        items
            .iter()
            .map(|(name, path)| format!("{name}{path}"))
            .collect()
    }

    #[zbus(property)]
    fn is_status_notifier_host_registered(&self) -> bool {
        true
    }

    #[zbus(property)]
    fn protocol_version(&self) -> i32 {
        0
    }
}

/// A variant's content (dbusmenu nests structures in variants).
pub fn inner<'v>(value: &'v zbus::zvariant::Value<'v>) -> &'v zbus::zvariant::Value<'v> {
    match value {
        zbus::zvariant::Value::Value(boxed) => inner(boxed),
        other => other,
    }
}

/// Every menu entry of a dbusmenu layout node, depth first, as (id, label).
pub fn menu_entries(node: &zbus::zvariant::Value<'_>, out: &mut Vec<(i32, String)>) {
    use zbus::zvariant::Value;
    let Value::Structure(s) = inner(node) else {
        return;
    };
    let fields = s.fields();
    let id = match fields.first().map(inner) {
        Some(Value::I32(id)) => *id,
        _ => return,
    };
    if let Some(Value::Dict(props)) = fields.get(1).map(inner) {
        for (key, value) in props.iter() {
            if let (Value::Str(key), Value::Str(label)) = (inner(key), inner(value)) {
                if key.as_str() == "label" {
                    out.push((id, label.as_str().replace('_', "")));
                }
            }
        }
    }
    if let Some(Value::Array(children)) = fields.get(2).map(inner) {
        for child in children.iter() {
            menu_entries(child, out);
        }
    }
}

pub fn menu_layout(menu: &zbus::blocking::Proxy<'_>) -> Vec<(i32, String)> {
    let reply = menu
        .call_method("GetLayout", &(0i32, -1i32, Vec::<String>::new()))
        .expect("GetLayout answers");
    let body = reply.body();
    type Node = (
        i32,
        HashMap<String, zbus::zvariant::OwnedValue>,
        Vec<zbus::zvariant::OwnedValue>,
    );
    let (_revision, (_root, _props, children)): (u32, Node) =
        body.deserialize().expect("a dbusmenu layout");
    let mut out = Vec::new();
    for child in &children {
        menu_entries(child, &mut out);
    }
    out
}

pub fn click(menu: &zbus::blocking::Proxy<'_>, id: i32) {
    menu.call_method(
        "Event",
        &(id, "clicked", zbus::zvariant::Value::from(""), 0u32),
    )
    .expect("the menu takes the click");
}

/// A child process killed when the test ends, whatever happens.
pub struct Reaped(pub Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn installed(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

pub fn first_line(child: &mut Child) -> String {
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("a first line");
    line.trim().to_owned()
}

/// Xvfb plus a private session bus, with this process serving org.freedesktop.Notifications
/// and org.kde.StatusNotifierWatcher on it. Everything stops when it is dropped.
pub struct VirtualDesktop {
    /// `DISPLAY` for the app.
    pub display: String,
    /// `DBUS_SESSION_BUS_ADDRESS` for the app.
    pub address: String,
    /// Where Xvfb keeps its frame buffer (`Xvfb_screen0`, XWD).
    pub fb_dir: PathBuf,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    pub items: Arc<Mutex<Vec<(String, String)>>>,
    pub server: zbus::blocking::Connection,
    _bus: Reaped,
    _xvfb: Reaped,
}

impl VirtualDesktop {
    /// The tools it needs that are not installed (empty when it can start).
    pub fn missing_tools() -> Vec<&'static str> {
        ["Xvfb", "dbus-daemon"]
            .into_iter()
            .filter(|p| !installed(p))
            .collect()
    }

    pub fn start(scratch: &std::path::Path) -> Self {
        // A private session bus, so no real desktop's notifications are touched.
        let mut bus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon starts");
        let address = first_line(&mut bus);
        let bus = Reaped(bus);
        assert!(address.starts_with("unix:"), "bus address {address:?}");

        // A virtual screen whose frame buffer lands in a file, for screenshots.
        let fb_dir = scratch.join("fb");
        std::fs::create_dir_all(&fb_dir).expect("frame buffer folder");
        let mut xvfb = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
                "-fbdir",
            ])
            .arg(&fb_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb starts");
        let display = format!(":{}", first_line(&mut xvfb));
        let xvfb = Reaped(xvfb);

        let seen = Arc::new(Mutex::new(Vec::<Seen>::new()));
        let items = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
        let server = zbus::blocking::connection::Builder::address(address.as_str())
            .expect("the bus address parses")
            .name("org.freedesktop.Notifications")
            .expect("a well-known name")
            .name("org.kde.StatusNotifierWatcher")
            .expect("a well-known name")
            .serve_at(
                "/StatusNotifierWatcher",
                Watcher {
                    items: items.clone(),
                },
            )
            .expect("the watcher object")
            .serve_at(
                "/org/freedesktop/Notifications",
                NotificationServer {
                    seen: seen.clone(),
                    next_id: Mutex::new(0),
                },
            )
            .expect("the server object")
            .build()
            .expect("the test notification server is on the bus");
        Self {
            display,
            address,
            fb_dir,
            seen,
            items,
            server,
            _bus: bus,
            _xvfb: xvfb,
        }
    }

    /// The tray icon's picture now (Linux trays get it as a file the app writes).
    pub fn tray_icon(&self) -> Option<Vec<u8>> {
        let (name, path) = self.items.lock().expect("lock").first().cloned()?;
        let item = zbus::blocking::Proxy::new(
            &self.server,
            name.as_str(),
            path.as_str(),
            "org.kde.StatusNotifierItem",
        )
        .ok()?;
        let file: String = item.get_property("IconName").ok()?;
        std::fs::read(file).ok()
    }
}
