//! What the desktop suites share: a virtual desktop (Xvfb and a private D-Bus session bus)
//! where the test itself is the notification server and the tray host, and the helpers to read
//! a tray menu over D-Bus. It must only ever start processes it also stops.
//!
//! # The desktop suites
//!
//! The desktop app's cross-process tests are the integration tests of the `drivewatch` package,
//! here in `src-tauri/tests/`, so `cargo xtask test` (nextest) runs them with everything else:
//!
//! - `desktop_e2e.rs`: `drivewatch --demo` under Xvfb on a private D-Bus session, with the test
//!   as the notification server and the tray host: toast summaries and bodies for the scripted
//!   activity, the 40-file burst grouped, no toast for the demo user's own edit, the Open and
//!   Show in DriveWatch actions, the tray menu (StatusNotifierItem + com.canonical.dbusmenu)
//!   listing the latest changes, Pause changing the tray icon and status line, a second launch
//!   handing over and exiting, Quit exiting with code 0 within 2 s; it keeps
//!   `tests/artifacts/desktop-demo.png` (the screen) and `desktop-demo.log`. And
//!   `drivewatch --demo --hidden` (how start at login launches it): live in the tray with no
//!   window (no WebKit web process among its descendants), the tray's Open mapping a window and
//!   starting its web process, closing it as a window manager would (WM_DELETE_WINDOW, over a
//!   few lines of X11 protocol) leaving the app running with the web process gone, Open
//!   building it again, Quit exiting with code 0. And the attention features: the unread count
//!   in the tray's first line and its label after the demo's burst, cleared once the window
//!   opened from the tray shows Recent changes (or, with a built window that does not mark the
//!   list seen yet, by the tray's "N new changes" line), silent updates of the
//!   burst's toast, and the toast's mute action (ActionInvoked, sent by the test as the
//!   notification server) adding a mute the tray's Muted menu lists and undoes.
//! - `desktop_webdriver.rs`: the real window through tauri-driver and WebKitWebDriver in
//!   `--demo`: the list shows the scripted changes (the rename and the move included), and
//!   Pause in the window's settings changes the tray icon. Needs tauri-driver
//!   (`cargo install tauri-driver --locked`; also found in the tools cache of
//!   `cargo xtask bundle`) and a built UI.
//! - `mock_app.rs`: the whole app on Tauri's mock runtime over a scripted engine, driven
//!   through the window's IPC and the shell's actions.
//! - `bindings.rs`: `ui/src/bindings.ts` is exactly what the Rust IPC declarations generate.
//! - `capabilities.rs`: the window's capability lists exactly the commands the UI calls; CSP
//!   and config stay strict.
//! - `icons.rs`: the committed PNG icons are rendered from `icons/drivewatch.svg`.
//! - `layering.rs`: the shell's modules depend on each other one way.
//!
//! Run the end-to-end suite alone with `cargo test -p drivewatch --test desktop_e2e`. It needs
//! Xvfb and dbus-daemon (`cargo xtask deps` installs them); without them the display suites
//! skip, saying so, except under CI (`CI` set), where a missing tool fails them (see
//! [`skip_without`]). Build the UI first (`npm run build` in `ui/`) for a screenshot of the
//! real window; without it the window shows a stand-in page and every toast and tray check
//! still runs.

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
    /// Action keys and labels, alternating, as the specification sends them.
    pub actions: Vec<String>,
    /// The `suppress-sound` hint: a silent notification (updates in place are).
    pub suppress_sound: bool,
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
        hints: HashMap<String, zbus::zvariant::OwnedValue>,
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
            suppress_sound: hints
                .get("suppress-sound")
                .is_some_and(|v| matches!(&**v, zbus::zvariant::Value::Bool(true))),
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

/// Clicks the entry labelled `label`. The app rebuilds its menu (new ids) whenever what it
/// lists changes, so an id can go stale between reading the layout and the click: it reads
/// the layout again and retries, a bounded number of times.
pub fn click_label(menu: &zbus::blocking::Proxy<'_>, label: &str) {
    let mut last = String::new();
    for _ in 0..5 {
        let entries = menu_layout(menu);
        let Some(id) = entries.iter().find(|(_, l)| l == label).map(|(id, _)| *id) else {
            panic!("no {label:?} entry in {entries:?}");
        };
        match menu.call_method(
            "Event",
            &(id, "clicked", zbus::zvariant::Value::from(""), 0u32),
        ) {
            Ok(_) => return,
            Err(e) => last = e.to_string(),
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the menu refused 5 clicks on {label:?}: {last}");
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

/// True when a desktop suite must skip because `missing` tools are not installed (`how` says how
/// to get them). Under CI (`CI` set) a missing tool fails the test instead: there, `cargo xtask
/// deps` installs everything, so a skip would only hide a suite that no longer runs.
pub fn skip_without(missing: &[&str], how: &str) -> bool {
    if missing.is_empty() {
        return false;
    }
    let why = format!("{} not installed ({how})", missing.join(", "));
    assert!(
        std::env::var_os("CI").is_none(),
        "CI runs every desktop suite: {why}"
    );
    println!("skipped: {why}");
    true
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

/// Starts `drivewatch` with `args` on this desktop, its state in `scratch` and its log (stderr)
/// in `log`; killed when the returned handle drops.
pub fn spawn_app(
    desktop: &VirtualDesktop,
    scratch: &std::path::Path,
    args: &[&str],
    log: &std::path::Path,
) -> Reaped {
    spawn_app_with_env(desktop, scratch, args, log, &[])
}

/// [`spawn_app`] with more environment variables (a locale, say).
pub fn spawn_app_with_env(
    desktop: &VirtualDesktop,
    scratch: &std::path::Path,
    args: &[&str],
    log: &std::path::Path,
    env: &[(&str, &str)],
) -> Reaped {
    let tmp = scratch.join("tmp");
    std::fs::create_dir_all(&tmp).expect("a temporary folder");
    let log = std::fs::File::create(log).expect("a log file");
    let app = Command::new(env!("CARGO_BIN_EXE_drivewatch"))
        .args(args)
        .env("DISPLAY", &desktop.display)
        .env("DBUS_SESSION_BUS_ADDRESS", &desktop.address)
        .env("DRIVEWATCH_HOME", scratch.join("home"))
        .env("XDG_CACHE_HOME", scratch.join("cache"))
        // Tray icon files go to the temporary folder: keep parallel runs apart.
        .env("TMPDIR", &tmp)
        .env("DRIVEWATCH_LOG", "info")
        // The scripted toasts are asserted within seconds: the demo delivers at once here, not
        // with Microsoft's 5-40 s delay (which would also split the burst into trickles).
        .env("DRIVEWATCH_DEMO_PUSH", "instant")
        .env("NO_AT_BRIDGE", "1")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("drivewatch starts");
    Reaped(app)
}

/// The registered tray item (org.kde.StatusNotifierItem), once the app registered one. Its
/// properties are read afresh each time: the item announces changes with signals of its own,
/// not PropertiesChanged, so a cached value would go stale.
pub fn tray_item(desktop: &VirtualDesktop) -> Option<zbus::blocking::Proxy<'static>> {
    let (name, path) = desktop.items.lock().expect("lock").first().cloned()?;
    zbus::blocking::proxy::Builder::new(&desktop.server)
        .destination(name)
        .ok()?
        .path(path)
        .ok()?
        .interface("org.kde.StatusNotifierItem")
        .ok()?
        .cache_properties(zbus::proxy::CacheProperties::No)
        .build()
        .ok()
}

/// The registered tray item's dbusmenu, once the app registered one.
pub fn tray_menu(desktop: &VirtualDesktop) -> Option<zbus::blocking::Proxy<'static>> {
    let (name, path) = desktop.items.lock().expect("lock").first().cloned()?;
    let item = zbus::blocking::Proxy::new_owned(
        desktop.server.clone(),
        name.clone(),
        path,
        "org.kde.StatusNotifierItem",
    )
    .ok()?;
    let menu_path: zbus::zvariant::OwnedObjectPath = item.get_property("Menu").ok()?;
    zbus::blocking::Proxy::new_owned(
        desktop.server.clone(),
        name,
        menu_path.into_inner(),
        "com.canonical.dbusmenu",
    )
    .ok()
}

/// Polls `done` every 50 ms until it holds or `limit` passes; says whether it held.
pub fn wait_until(limit: std::time::Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if done() {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// The pids of the WebKit web processes among `root`'s descendants: one exists exactly while
/// the app has a window (its page lives there), so none means the window is closed.
pub fn web_processes(root: u32) -> Vec<u32> {
    descendants_running(root, "WebKitWebProcess")
}

/// The pids of WebKit's network processes among `root`'s descendants: one starts with the
/// window's page, and the app ends it a little after the window closed.
#[allow(dead_code)] // Used by some of the test binaries that share this module.
pub fn network_processes(root: u32) -> Vec<u32> {
    descendants_running(root, "WebKitNetworkProcess")
}

/// The pids among `root`'s descendants whose program's file name is `program`.
fn descendants_running(root: u32, program_name: &str) -> Vec<u32> {
    descendants(root)
        .into_iter()
        .filter(|(_, command)| {
            command
                .first()
                .is_some_and(|p| p.rsplit('/').next() == Some(program_name))
        })
        .map(|(pid, _)| pid)
        .collect()
}

/// The pids of the app's window processes (`drivewatch --window`) among `root`'s descendants:
/// one runs exactly while the window is open.
#[allow(dead_code)] // Used by some of the test binaries that share this module.
pub fn window_processes(root: u32) -> Vec<u32> {
    descendants(root)
        .into_iter()
        .filter(|(_, command)| command.iter().skip(1).any(|a| a == "--window"))
        .map(|(pid, _)| pid)
        .collect()
}

/// `root`'s descendants, each with its command line.
fn descendants(root: u32) -> Vec<(u32, Vec<String>)> {
    // (pid, parent pid, command line) of every process.
    let mut procs = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        let Some(ppid) = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let command: Vec<String> = std::fs::read(entry.path().join("cmdline"))
            .unwrap_or_default()
            .split(|b| *b == 0)
            .filter(|part| !part.is_empty())
            .map(|part| String::from_utf8_lossy(part).into_owned())
            .collect();
        procs.push((pid, ppid, command));
    }
    let mut family = vec![root];
    let mut found = Vec::new();
    while let Some(parent) = family.pop() {
        for (pid, ppid, command) in &procs {
            if *ppid == parent {
                family.push(*pid);
                found.push((*pid, command.clone()));
            }
        }
    }
    found
}

/// An X client (x11rb) to find a process's windows and ask them to close as a window manager's
/// close button does (WM_DELETE_WINDOW). Xvfb started here has no window manager, so top-level
/// windows are the root window's children.
pub struct X11 {
    conn: x11rb::rust_connection::RustConnection,
    root: u32,
}

fn x_err(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

impl X11 {
    /// Connects to `display` (":N", as [`VirtualDesktop::display`]).
    pub fn connect(display: &str) -> std::io::Result<Self> {
        use x11rb::connection::Connection as _;
        let (conn, screen) = x11rb::connect(Some(display)).map_err(x_err)?;
        let root = conn.setup().roots[screen].root;
        Ok(Self { conn, root })
    }

    fn atom(&self, name: &str) -> std::io::Result<u32> {
        use x11rb::protocol::xproto::ConnectionExt as _;
        Ok(self
            .conn
            .intern_atom(false, name.as_bytes())
            .map_err(x_err)?
            .reply()
            .map_err(x_err)?
            .atom)
    }

    /// The mapped top-level windows whose `_NET_WM_PID` is `pid` or one of its descendants
    /// (the app's window lives in a process the app starts).
    pub fn windows_of(&mut self, pid: u32) -> std::io::Result<Vec<u32>> {
        let mut family: Vec<u32> = descendants(pid).into_iter().map(|(p, _)| p).collect();
        family.push(pid);
        use x11rb::protocol::xproto::{AtomEnum, ConnectionExt as _, MapState};
        let net_wm_pid = self.atom("_NET_WM_PID")?;
        let tree = self
            .conn
            .query_tree(self.root)
            .map_err(x_err)?
            .reply()
            .map_err(x_err)?;
        let mut found = Vec::new();
        for window in tree.children {
            // A window that went away meanwhile answers with an error: not one of ours.
            let Ok(attributes) = self
                .conn
                .get_window_attributes(window)
                .map_err(x_err)?
                .reply()
            else {
                continue;
            };
            if attributes.map_state != MapState::VIEWABLE {
                continue;
            }
            let Ok(owner) = self
                .conn
                .get_property(false, window, net_wm_pid, AtomEnum::CARDINAL, 0, 1)
                .map_err(x_err)?
                .reply()
            else {
                continue;
            };
            if owner
                .value32()
                .and_then(|mut v| v.next())
                .is_some_and(|owner| family.contains(&owner))
            {
                found.push(window);
            }
        }
        Ok(found)
    }

    /// Asks `window` to close, as a window manager's close button does.
    pub fn close(&mut self, window: u32) -> std::io::Result<()> {
        use x11rb::connection::Connection as _;
        use x11rb::protocol::xproto::{ClientMessageEvent, ConnectionExt as _, EventMask};
        let protocols = self.atom("WM_PROTOCOLS")?;
        let delete = self.atom("WM_DELETE_WINDOW")?;
        let event = ClientMessageEvent::new(32, window, protocols, [delete, 0, 0, 0, 0]);
        // No event mask: the event goes straight to the window's owner.
        self.conn
            .send_event(false, window, EventMask::NO_EVENT, event)
            .map_err(x_err)?
            .check()
            .map_err(x_err)?;
        self.conn.flush().map_err(x_err)
    }
}

/// Sends what a notification server sends when the user presses action `key` of notification
/// `id` (org.freedesktop.Notifications.ActionInvoked).
pub fn invoke_action(desktop: &VirtualDesktop, id: u32, key: &str) {
    desktop
        .server
        .emit_signal(
            None::<&str>,
            "/org/freedesktop/Notifications",
            "org.freedesktop.Notifications",
            "ActionInvoked",
            &(id, key),
        )
        .expect("the signal is sent");
}
