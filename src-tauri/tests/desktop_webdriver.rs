//! The real window over WebDriver (tauri-driver in front of WebKitWebDriver) on a virtual
//! desktop: in `--demo`, the list shows the scripted changes, the 40-file burst as one grouped
//! row (a screenshot of the window is kept in `tests/artifacts/window-grouped.png`), and Pause
//! in the window changes the tray icon.
//!
//! tauri-driver is looked up at `TAURI_DRIVER`, on `PATH`, then in the tools cache `cargo
//! xtask bundle` uses. The test skips, saying why, when it, WebKitWebDriver, Xvfb or
//! dbus-daemon is missing, or when the UI was not built before the app was compiled. Every request goes to 127.0.0.1, to the driver this test starts and stops.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod common;

use common::Reaped;

fn tauri_driver() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("TAURI_DRIVER") {
        return Some(PathBuf::from(path));
    }
    if let Some(found) = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("tauri-driver"))
            .find(|p| p.is_file())
    }) {
        return Some(found);
    }
    let cached =
        PathBuf::from(std::env::var_os("HOME")?).join(".cache/drivewatch/tools/bin/tauri-driver");
    cached.is_file().then_some(cached)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// One WebDriver request over plain HTTP/1.1 to the local driver; the JSON `value` back.
fn webdriver(port: u16, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(|e| e.to_string())?;
    let body = body.map(Value::to_string).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&raw);
    let (head, payload) = text.split_once("\r\n\r\n").ok_or("no HTTP body")?;
    let payload = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(payload)
    } else {
        payload.to_owned()
    };
    let json: Value = serde_json::from_str(&payload).map_err(|e| format!("{e}: {payload}"))?;
    if json["value"]["error"].is_string() {
        return Err(json["value"].to_string());
    }
    Ok(json["value"].clone())
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || tail.len() < size {
            break;
        }
        out.push_str(&tail[..size]);
        rest = tail[size..].trim_start_matches("\r\n");
    }
    out
}

fn element_id(value: &Value) -> Option<String> {
    value
        .as_object()?
        .values()
        .next()?
        .as_str()
        .map(str::to_owned)
}

#[test]
fn the_window_lists_changes_and_pauses_the_tray() {
    let mut missing = common::VirtualDesktop::missing_tools();
    if !common::installed("WebKitWebDriver") {
        missing.push("WebKitWebDriver");
    }
    let driver = tauri_driver();
    if driver.is_none() {
        missing.push("tauri-driver");
    }
    if common::skip_without(&missing, "`cargo xtask deps` installs them") {
        return;
    }
    // The app embeds ui/dist when it is compiled; without a UI build it holds a stand-in page.
    let index = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui/dist/index.html");
    let built = std::fs::read_to_string(&index).unwrap_or_default();
    if built.is_empty() || built.contains("interface is not built") {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI builds the UI before the Rust tests, so the window must show it"
        );
        println!("skipped: the UI is not built (run `npm run build` in ui/, then test again)");
        return;
    }
    let scratch = tempfile::tempdir().expect("a scratch folder");
    let tmp = scratch.path().join("tmp");
    std::fs::create_dir_all(&tmp).expect("a temporary folder");
    let desktop = common::VirtualDesktop::start(scratch.path());
    let (port, native_port) = (free_port(), free_port());
    let driver = Command::new(driver.expect("checked above"))
        .args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native_port.to_string(),
        ])
        .env("DISPLAY", &desktop.display)
        .env("DBUS_SESSION_BUS_ADDRESS", &desktop.address)
        .env("DRIVEWATCH_HOME", scratch.path().join("home"))
        .env("XDG_CACHE_HOME", scratch.path().join("cache"))
        // Tray icon files go to the temporary folder: keep parallel runs apart.
        .env("TMPDIR", &tmp)
        // The app inherits it: the scripted changes are listed at once, not 5-40 s late.
        .env("DRIVEWATCH_DEMO_PUSH", "instant")
        .env("NO_AT_BRIDGE", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("tauri-driver starts");
    let _driver = Reaped(driver);
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "tauri-driver did not listen"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    let session = webdriver(
        port,
        "POST",
        "/session",
        Some(
            &json!({ "capabilities": { "alwaysMatch": { "tauri:options": {
            "application": env!("CARGO_BIN_EXE_drivewatch"),
            "args": ["--demo"],
        } } } }),
        ),
    )
    .expect("a WebDriver session on the app");
    let id = session["sessionId"]
        .as_str()
        .expect("a session id")
        .to_owned();
    let wd = |method: &str, path: &str, body: Option<&Value>| {
        webdriver(port, method, &format!("/session/{id}{path}"), body)
    };
    let find_all = |css: &str| -> Vec<String> {
        wd(
            "POST",
            "/elements",
            Some(&json!({ "using": "css selector", "value": css })),
        )
        .ok()
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(element_id)
        .collect()
    };
    let text_of = |element: &str| -> String {
        wd("GET", &format!("/element/{element}/text"), None)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    };

    // The list fills with the scripted activity (the rename and the move included).
    const EXPECTED: [&str; 4] = [
        "Guidelines.txt",
        "Agenda.txt",
        "Budget v2.csv",
        "Meeting notes.txt",
    ];
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut names = Vec::new();
    while Instant::now() < deadline {
        names = find_all("li.change .change-name")
            .iter()
            .map(|e| text_of(e))
            .collect();
        if EXPECTED.iter().all(|e| names.iter().any(|n| n == e)) {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    for expected in EXPECTED {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} not in {names:?}"
        );
    }

    // The demo's 40-file burst is one row of the list, expandable, with its count in words.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut burst_title = String::new();
    while Instant::now() < deadline {
        // The list redraws as changes arrive: a row found just before a redraw is gone when its
        // text is asked for (an error, read as empty), so look again until the words are there.
        if let Some(row) = find_all("li.group-row[data-count='40'] .group-title").first() {
            burst_title = text_of(row);
            if !burst_title.is_empty() {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(
        burst_title.contains("40 files") && burst_title.contains("/Photos/Offsite"),
        "one row for the burst, saying what it holds: {burst_title:?}"
    );
    assert!(
        find_all("li.change .change-name")
            .iter()
            .all(|e| !text_of(e).starts_with("IMG_")),
        "the burst's files are not rows of their own while it is collapsed"
    );
    // The window as a person sees it, for the README.
    if let Some(png) = wd("GET", "/screenshot", None)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .and_then(|b64| {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.decode(b64).ok()
        })
    {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/artifacts");
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join("window-grouped.png"), png);
    }

    // Pause from the window's settings: the tray icon changes.
    let live_icon = desktop.tray_icon().expect("a tray icon");
    // The click's own answer may get lost: tauri-driver now and then closes the connection of
    // a click without a reply, and then the click may or may not have happened. What a click did
    // is checked by its effect (the button of the next page, the tray icon), never by that answer.
    let find_button = |label: &str, within: Duration| -> Option<String> {
        let xpath = format!("//button[contains(normalize-space(.), '{label}')]");
        let deadline = Instant::now() + within;
        loop {
            let found = wd(
                "POST",
                "/element",
                Some(&json!({ "using": "xpath", "value": xpath })),
            );
            if let Some(element) = found.ok().as_ref().and_then(element_id) {
                return Some(element);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let click = |element: &str, label: &str| {
        if let Err(e) = wd(
            "POST",
            &format!("/element/{element}/click"),
            Some(&json!({})),
        ) {
            eprintln!(
                "the driver did not answer the click on {label:?} ({e}); checking its effect"
            );
        }
    };
    // Both clicks are idempotent, so a click the driver dropped is simply made again (at most
    // three rounds); the assertion is still on the tray icon, the clicks' effect.
    for _ in 0..3 {
        let settings =
            find_button("Settings", Duration::from_secs(5)).expect("a \"Settings\" button");
        click(&settings, "Settings");
        // Drawn once the settings page is open: a dropped click opened nothing, so the round
        // starts again.
        let Some(pause) = find_button("Pause for one hour", Duration::from_secs(3)) else {
            continue;
        };
        click(&pause, "Pause for one hour");
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut icon = desktop.tray_icon();
        while icon.as_ref() == Some(&live_icon) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
            icon = desktop.tray_icon();
        }
        if icon.as_ref().is_some_and(|i| *i != live_icon) {
            break;
        }
    }
    // Read once more: a pause that took effect after a round's wait still counts.
    let icon = desktop.tray_icon();
    assert!(
        icon.is_some_and(|i| i != live_icon),
        "Pause in the window changes the tray icon"
    );
    let _ = wd("DELETE", "", None);
}
