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
        .env("NO_AT_BRIDGE", "1")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("drivewatch starts");
    Reaped(app)
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
    // (pid, parent pid, program file name) of every process.
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
        let program = std::fs::read(entry.path().join("cmdline"))
            .ok()
            .and_then(|c| {
                let first = c.split(|b| *b == 0).next()?.to_vec();
                let first = String::from_utf8(first).ok()?;
                Some(first.rsplit('/').next()?.to_owned())
            })
            .unwrap_or_default();
        procs.push((pid, ppid, program));
    }
    let mut family = vec![root];
    let mut found = Vec::new();
    while let Some(parent) = family.pop() {
        for (pid, ppid, program) in &procs {
            if *ppid == parent {
                family.push(*pid);
                if program == "WebKitWebProcess" {
                    found.push(*pid);
                }
            }
        }
    }
    found
}

/// Just enough of the X11 protocol (over the display's local socket) to find a process's
/// windows and ask them to close as a window manager's close button does (WM_DELETE_WINDOW),
/// so no X client library is needed. Xvfb started here has no window manager, so top-level
/// windows are the root window's children.
pub struct X11 {
    stream: std::os::unix::net::UnixStream,
    root: u32,
}

impl X11 {
    /// Connects to `display` (":N", as [`VirtualDesktop::display`]).
    pub fn connect(display: &str) -> std::io::Result<Self> {
        use std::io::{Error, Read, Write};
        let number = display.trim_start_matches(':');
        let mut stream =
            std::os::unix::net::UnixStream::connect(format!("/tmp/.X11-unix/X{number}"))?;
        stream.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
        // Little-endian, protocol 11.0, no authorisation (Xvfb grants local clients).
        stream.write_all(&[b'l', 0, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0])?;
        let mut head = [0u8; 8];
        stream.read_exact(&mut head)?;
        let mut rest = vec![0u8; u16::from_le_bytes([head[6], head[7]]) as usize * 4];
        stream.read_exact(&mut rest)?;
        if head[0] != 1 {
            return Err(Error::other("the X server refused the connection"));
        }
        let vendor_len = u16::from_le_bytes([rest[16], rest[17]]) as usize;
        let formats = rest[21] as usize;
        let screen = 32 + vendor_len.div_ceil(4) * 4 + formats * 8;
        let root = rest
            .get(screen..screen + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or_else(|| Error::other("short X connection set-up"))?;
        Ok(Self { stream, root })
    }

    /// Sends one request and reads its reply; `None` for an X error (such as a window that
    /// went away meanwhile).
    fn request(&mut self, request: &[u8], reply: bool) -> std::io::Result<Option<Vec<u8>>> {
        use std::io::{Read, Write};
        self.stream.write_all(request)?;
        if !reply {
            return Ok(Some(Vec::new()));
        }
        loop {
            let mut head = vec![0u8; 32];
            self.stream.read_exact(&mut head)?;
            match head[0] {
                0 => return Ok(None),
                1 => {
                    let extra = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
                    let mut more = vec![0u8; extra as usize * 4];
                    self.stream.read_exact(&mut more)?;
                    head.extend(more);
                    return Ok(Some(head));
                }
                _ => continue, // An event: none are selected, but skip any.
            }
        }
    }

    fn atom(&mut self, name: &str) -> std::io::Result<u32> {
        let padded = name.len().div_ceil(4) * 4;
        let mut req = vec![16, 0];
        req.extend(((2 + padded / 4) as u16).to_le_bytes());
        req.extend((name.len() as u16).to_le_bytes());
        req.extend([0, 0]);
        req.extend(name.as_bytes());
        req.resize(8 + padded, 0);
        let reply = self
            .request(&req, true)?
            .ok_or_else(|| std::io::Error::other("InternAtom failed"))?;
        Ok(word(&reply, 8))
    }

    /// The mapped top-level windows whose `_NET_WM_PID` is `pid`.
    pub fn windows_of(&mut self, pid: u32) -> std::io::Result<Vec<u32>> {
        let net_wm_pid = self.atom("_NET_WM_PID")?;
        let mut req = vec![15, 0, 2, 0];
        req.extend(self.root.to_le_bytes());
        let Some(tree) = self.request(&req, true)? else {
            return Ok(Vec::new());
        };
        let count = u16::from_le_bytes([tree[16], tree[17]]) as usize;
        let children: Vec<u32> = (0..count).map(|i| word(&tree, 32 + i * 4)).collect();
        let mut found = Vec::new();
        for window in children {
            let mut req = vec![3, 0, 2, 0];
            req.extend(window.to_le_bytes());
            // Map state 2: viewable.
            if self.request(&req, true)?.is_none_or(|r| r[26] != 2) {
                continue;
            }
            let mut req = vec![20, 0, 6, 0];
            for value in [window, net_wm_pid, 0, 0, 1] {
                req.extend(value.to_le_bytes());
            }
            let owner = self.request(&req, true)?;
            if owner.is_some_and(|r| r.len() >= 36 && r[1] == 32 && word(&r, 32) == pid) {
                found.push(window);
            }
        }
        Ok(found)
    }

    /// Asks `window` to close, as a window manager's close button does.
    pub fn close(&mut self, window: u32) -> std::io::Result<()> {
        let protocols = self.atom("WM_PROTOCOLS")?;
        let delete = self.atom("WM_DELETE_WINDOW")?;
        let mut req = vec![25, 0, 11, 0];
        req.extend(window.to_le_bytes());
        req.extend(0u32.to_le_bytes()); // No event mask: straight to the window's owner.
        // The ClientMessage event, 32 bytes: format 32, WM_PROTOCOLS, [WM_DELETE_WINDOW, now].
        req.extend([33, 32, 0, 0]);
        req.extend(window.to_le_bytes());
        req.extend(protocols.to_le_bytes());
        req.extend(delete.to_le_bytes());
        req.extend([0u8; 16]);
        self.request(&req, false)?;
        // A round trip, so the event has been sent when this returns.
        self.atom("WM_DELETE_WINDOW").map(|_| ())
    }
}

fn word(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}
