//! End to end on a real (virtual) desktop: `drivewatch --demo` under Xvfb, on a private D-Bus
//! session bus where this test is the notification server (org.freedesktop.Notifications).
//!
//! It asserts the toasts the scripted demo activity must produce (summaries and bodies), the
//! grouping of the 40-file burst into one notification replaced in place as its count grows
//! (Notify with `replaces_id`), and that the demo user's own change gives no
//! toast; it keeps a screenshot of the screen in `tests/artifacts/`. Another runs the demo with
//! Settings → Language set to Russian on an English OS, and sees Russian toasts and a Russian
//! tray menu. A further test starts
//! `drivewatch --hidden` and checks the app lives in the tray without a window until the tray
//! opens one, survives that window's close, and quits from the tray. Both skip, saying why,
//! only when the display tooling (Xvfb, dbus-daemon) is not installed. One more starts
//! `drivewatch --demo --hidden` for the attention features: after the 40-photo burst the
//! tray's first line and the label next to its icon show the unread count, opening the window
//! on Recent changes from the tray clears it, the burst toast's updates
//! are silent, and its "Mute /Photos/Offsite for 3 hours" action (ActionInvoked, which the test
//! sends as the notification server) adds a mute the tray's Muted menu lists and undoes. It
//! talks to nothing but the processes it starts, and stops them all.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{Reaped, Seen, click, menu_layout};

fn artifacts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("src-tauri sits in the repository root")
        .join("tests/artifacts")
}

/// Converts Xvfb's XWD frame buffer file (32 bits per pixel, as `-screen 0 WxHx24` gives) to
/// a PNG.
fn xwd_to_png(xwd: &Path, png_path: &Path) -> Result<(), String> {
    let mut data = Vec::new();
    std::fs::File::open(xwd)
        .and_then(|mut f| f.read_to_end(&mut data))
        .map_err(|e| e.to_string())?;
    let field = |i: usize| -> Result<u32, String> {
        data.get(i * 4..i * 4 + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or_else(|| "short XWD header".to_owned())
    };
    let header_size = field(0)? as usize;
    let (width, height) = (field(4)?, field(5)?);
    let byte_order = field(7)?;
    let bits_per_pixel = field(11)?;
    let bytes_per_line = field(12)? as usize;
    let ncolors = field(19)? as usize;
    if bits_per_pixel != 32 {
        return Err(format!("{bits_per_pixel} bits per pixel is not handled"));
    }
    let start = header_size + ncolors * 12;
    let mut rgba = Vec::with_capacity((width * height * 4) as usize);
    for y in 0..height as usize {
        let row = data
            .get(start + y * bytes_per_line..start + y * bytes_per_line + width as usize * 4)
            .ok_or("short XWD pixel data")?;
        for px in row.chunks_exact(4) {
            // LSBFirst (0): B G R X in memory; MSBFirst: X R G B.
            let (r, g, b) = if byte_order == 0 {
                (px[2], px[1], px[0])
            } else {
                (px[1], px[2], px[3])
            };
            rgba.extend_from_slice(&[r, g, b, 255]);
        }
    }
    let file = std::fs::File::create(png_path).map_err(|e| e.to_string())?;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), width, height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    encoder
        .write_header()
        .and_then(|mut w| w.write_image_data(&rgba))
        .map_err(|e| e.to_string())
}

#[test]
fn demo_mode_toasts_on_a_real_desktop() {
    if common::skip_without(
        &common::VirtualDesktop::missing_tools(),
        "`cargo xtask deps` installs it",
    ) {
        return;
    }
    let scratch = tempfile::tempdir().expect("a scratch folder");
    let tmp = scratch.path().join("tmp");
    std::fs::create_dir_all(&tmp).expect("a temporary folder");
    let desktop = common::VirtualDesktop::start(scratch.path());
    let (address, display, fb_dir) = (
        desktop.address.clone(),
        desktop.display.clone(),
        desktop.fb_dir.clone(),
    );
    let (seen, items, server) = (
        desktop.seen.clone(),
        desktop.items.clone(),
        desktop.server.clone(),
    );

    let log_path = scratch.path().join("drivewatch.log");
    let mut app = common::spawn_app(&desktop, scratch.path(), &["--demo"], &log_path);

    // The scripted activity takes about 40 s; its last step is Alex's edit in the library.
    let deadline = Instant::now() + Duration::from_secs(90);
    let done = |seen: &[Seen]| seen.iter().any(|s| s.summary.contains("Guidelines.txt"));
    while !done(&seen.lock().expect("lock")) && Instant::now() < deadline {
        if let Ok(Some(status)) = app.0.try_wait() {
            panic!(
                "drivewatch exited early ({status}):\n{}",
                std::fs::read_to_string(&log_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }

    let artifacts = artifacts_dir();
    if std::fs::create_dir_all(&artifacts).is_ok() {
        let shot = artifacts.join("desktop-demo.png");
        if let Err(e) = xwd_to_png(&fb_dir.join("Xvfb_screen0"), &shot) {
            println!("no screenshot: {e}");
        }
        let _ = std::fs::copy(&log_path, artifacts.join("desktop-demo.log"));
    }

    let seen = seen.lock().expect("lock").clone();
    let lines: Vec<String> = seen
        .iter()
        .map(|s| {
            format!(
                "#{} (replaces {}) {} | {}",
                s.id, s.replaces_id, s.summary, s.body
            )
        })
        .collect();
    println!("toasts seen:\n{}", lines.join("\n"));
    let context = format!(
        "toasts seen:\n{}\n\napp log:\n{}",
        lines.join("\n"),
        std::fs::read_to_string(&log_path).unwrap_or_default()
    );
    let has =
        |summary: &str, body: &str| seen.iter().any(|s| s.summary == summary && s.body == body);
    assert!(
        done(&seen),
        "the scripted activity did not finish in time\n{context}"
    );
    assert!(seen.iter().all(|s| s.app_name == "DriveWatch"), "{context}");
    assert!(
        has("Alex Wilber added Agenda.txt", "in /Shared with team"),
        "{context}"
    );
    assert!(
        has("Adele Vance edited Q3 Plan.txt", "in /Projects"),
        "{context}"
    );
    assert!(
        has(
            "Alex Wilber renamed Budget.csv to Budget v2.csv",
            "in /Projects"
        ),
        "{context}"
    );
    assert!(
        has(
            "Alex Wilber moved Meeting notes.txt",
            "to /Projects, from /Shared with team"
        ),
        "{context}"
    );
    assert!(has("Someone deleted Welcome.txt", "from /"), "{context}");
    // The burst: delta runs start at the first notification, so the 40 photos reach the app in
    // several batches, but they are one notification, replaced in place (same id) as the count
    // grows, and its last version counts all 40.
    let photo_toasts: Vec<&Seen> = seen
        .iter()
        .filter(|s| s.summary.contains("/Photos/Offsite") || s.summary.contains("IMG_"))
        .collect();
    let first = photo_toasts
        .first()
        .unwrap_or_else(|| panic!("no toast for the burst\n{context}"));
    assert_eq!(
        first.replaces_id, 0,
        "the first is a new notification\n{context}"
    );
    assert!(
        photo_toasts[1..]
            .iter()
            .all(|s| s.replaces_id == first.id && s.id == first.id),
        "later versions replace the first in place\n{context}"
    );
    let last = photo_toasts.last().expect("checked above");
    assert_eq!(
        last.summary, "Adele Vance added 40 files to /Photos/Offsite",
        "{context}"
    );
    assert!(
        last.body
            .starts_with("IMG_0001.txt, IMG_0002.txt, IMG_0003.txt and "),
        "{context}"
    );
    // Replacements are rationed (one a second at most), never one per photo.
    assert!(photo_toasts.len() <= 6, "{context}");
    // Every distinct notification of the script fits in the per-minute cap of ten.
    let distinct = seen.iter().filter(|s| s.replaces_id == 0).count();
    assert!(distinct <= 10, "{distinct} notifications\n{context}");
    // The demo user's own edit is listed, never toasted.
    assert!(
        !seen.iter().any(|s| s.summary.starts_with("Megan Bowen")),
        "{context}"
    );
    // Single-change toasts offer Open and Show in DriveWatch.
    let agenda = seen
        .iter()
        .find(|s| s.summary == "Alex Wilber added Agenda.txt")
        .expect("checked above");
    assert!(
        agenda.actions.contains(&"open".to_owned()),
        "{:?}",
        agenda.actions
    );
    assert!(
        agenda.actions.contains(&"show".to_owned()),
        "{:?}",
        agenda.actions
    );

    // A second launch hands over to the running app (which shows its window) and exits.
    let second = Command::new(env!("CARGO_BIN_EXE_drivewatch"))
        .env("DISPLAY", &display)
        .env("DBUS_SESSION_BUS_ADDRESS", &address)
        .env("DRIVEWATCH_HOME", scratch.path().join("second"))
        .env("DRIVEWATCH_TOKEN_STORE", "file")
        .env("XDG_CACHE_HOME", scratch.path().join("cache"))
        // Tray icon files go to the temporary folder: keep parallel runs apart.
        .env("TMPDIR", &tmp)
        .env("NO_AT_BRIDGE", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("a second drivewatch starts");
    let mut second = Reaped(second);
    let launched = Instant::now();
    let second_status = loop {
        if let Some(status) = second.0.try_wait().expect("the process state") {
            break status;
        }
        assert!(
            launched.elapsed() < Duration::from_secs(20),
            "a second instance kept running\n{context}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(second_status.success(), "second instance: {second_status}");
    assert!(
        app.0.try_wait().expect("the process state").is_none(),
        "the first instance keeps running"
    );

    // The tray, as a desktop's panel sees it: a StatusNotifierItem with a dbusmenu.
    let (name, path) = items
        .lock()
        .expect("lock")
        .first()
        .cloned()
        .unwrap_or_else(|| panic!("no tray item registered\n{context}"));
    let item = zbus::blocking::Proxy::new(
        &server,
        name.as_str(),
        path.as_str(),
        "org.kde.StatusNotifierItem",
    )
    .expect("the tray item");
    let menu_path: zbus::zvariant::OwnedObjectPath =
        item.get_property("Menu").expect("the item names its menu");
    let menu = zbus::blocking::Proxy::new(
        &server,
        name.as_str(),
        menu_path.as_str(),
        "com.canonical.dbusmenu",
    )
    .expect("the tray menu");
    let entries = menu_layout(&menu);
    let labels: Vec<&str> = entries.iter().map(|(_, l)| l.as_str()).collect();
    assert!(
        labels
            .first()
            .is_some_and(|l| l.starts_with("Live ·") && l.contains("Guidelines.txt")),
        "the first line says the state and the last change: {labels:?}"
    );
    assert!(
        labels.contains(&"Alex Wilber edited Guidelines.txt"),
        "{labels:?}"
    );
    assert!(
        labels.contains(&"Someone deleted Welcome.txt"),
        "{labels:?}"
    );
    // Linux trays get the icon as a file the app writes: compare what it draws.
    let icon_file = || -> Vec<u8> {
        let name: String = item.get_property("IconName").expect("an icon");
        std::fs::read(&name).unwrap_or_default()
    };
    let icon_live = icon_file();
    assert!(!icon_live.is_empty(), "the tray icon file is readable");

    // Pausing from the tray changes the icon and the first line.
    let pause_hour = entries
        .iter()
        .find(|(_, l)| l == "For 1 hour")
        .map(|(id, _)| *id)
        .unwrap_or_else(|| panic!("no pause entry in {labels:?}"));
    click(&menu, pause_hour);
    let paused = |entries: &[(i32, String)]| {
        entries
            .first()
            .is_some_and(|(_, l)| l.starts_with("Notifications paused"))
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut paused_entries = menu_layout(&menu);
    while !paused(&paused_entries) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        paused_entries = menu_layout(&menu);
    }
    assert!(paused(&paused_entries), "{paused_entries:?}");
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut icon_paused = icon_file();
    while icon_paused == icon_live && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        icon_paused = icon_file();
    }
    assert_ne!(icon_live, icon_paused, "the icon shows the paused state");

    // Quit from the tray: the process ends with code 0 within 2 seconds.
    let quit = paused_entries
        .iter()
        .find(|(_, l)| l == "Quit DriveWatch")
        .map(|(id, _)| *id)
        .expect("a Quit entry");
    let clicked = Instant::now();
    click(&menu, quit);
    let status = loop {
        if let Some(status) = app.0.try_wait().expect("the process state") {
            break status;
        }
        assert!(
            clicked.elapsed() < Duration::from_secs(2),
            "still running 2 s after Quit\n{context}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "Quit exits with code 0, got {status}");
}

#[test]
fn the_language_setting_reaches_toasts_and_the_tray() {
    if common::skip_without(
        &common::VirtualDesktop::missing_tools(),
        "`cargo xtask deps` installs it",
    ) {
        return;
    }
    let scratch = tempfile::tempdir().expect("a scratch folder");
    let desktop = common::VirtualDesktop::start(scratch.path());
    // Settings say Russian; the OS says English: the setting wins.
    let home = scratch.path().join("home");
    std::fs::create_dir_all(&home).expect("a home folder");
    std::fs::write(
        home.join("config.toml"),
        "[preferences]\nlanguage = \"ru\"\n",
    )
    .expect("a settings file");
    let log_path = scratch.path().join("drivewatch.log");
    let english_os = [("LANG", "en_US.UTF-8"), ("LC_ALL", "en_US.UTF-8")];
    let mut app = common::spawn_app_with_env(
        &desktop,
        scratch.path(),
        &["--demo", "--hidden"],
        &log_path,
        &english_os,
    );
    let log = || std::fs::read_to_string(&log_path).unwrap_or_default();

    let done = |seen: &[Seen]| seen.iter().any(|s| s.summary.contains("Guidelines.txt"));
    let finished = common::wait_until(Duration::from_secs(90), || {
        if let Ok(Some(status)) = app.0.try_wait() {
            panic!("drivewatch exited early ({status}):\n{}", log());
        }
        done(&desktop.seen.lock().expect("lock"))
    });
    let seen = desktop.seen.lock().expect("lock").clone();
    let lines: Vec<String> = seen
        .iter()
        .map(|s| format!("{} | {}", s.summary, s.body))
        .collect();
    let context = format!("toasts seen:\n{}\n\napp log:\n{}", lines.join("\n"), log());
    assert!(
        finished,
        "the scripted activity did not finish in time\n{context}"
    );
    let has =
        |summary: &str, body: &str| seen.iter().any(|s| s.summary == summary && s.body == body);
    assert!(
        has(
            "Добавлен файл Agenda.txt · Alex Wilber",
            "в /Shared with team"
        ),
        "{context}"
    );
    assert!(
        has("Изменён файл Q3 Plan.txt · Adele Vance", "в /Projects"),
        "{context}"
    );
    assert!(
        has("Удалён файл Welcome.txt · автор неизвестен", "из /"),
        "{context}"
    );
    let burst = seen
        .iter()
        .rfind(|s| s.summary.contains("/Photos/Offsite"))
        .unwrap_or_else(|| panic!("no toast for the burst\n{context}"));
    assert_eq!(
        burst.summary, "Добавлено 40 файлов в /Photos/Offsite · Adele Vance",
        "{context}"
    );
    assert!(burst.body.contains(" и ещё "), "{context}");
    assert!(
        !seen
            .iter()
            .any(|s| s.summary.contains(['\u{2068}', '\u{2069}'])),
        "no isolation marks\n{context}"
    );

    let mut menu = None;
    let mut labels = Vec::new();
    let russian_tray = common::wait_until(Duration::from_secs(10), || {
        menu = menu.take().or_else(|| common::tray_menu(&desktop));
        labels = menu
            .as_ref()
            .map(|m| menu_layout(m).into_iter().map(|(_, l)| l).collect())
            .unwrap_or_default();
        labels
            .first()
            .is_some_and(|l| l.starts_with("На связи ·") && l.contains("Guidelines.txt"))
    });
    assert!(
        russian_tray,
        "the first line says the state in Russian: {labels:?}"
    );
    for label in [
        "Открыть DriveWatch",
        "Изменён файл Guidelines.txt · Alex Wilber",
        "На 1 час",
        "Завершить DriveWatch",
    ] {
        assert!(
            labels.iter().any(|l| l == label),
            "no {label:?} in {labels:?}"
        );
    }
    let menu = menu.expect("checked above");
    common::click_label(&menu, "Завершить DriveWatch");
    let mut status = None;
    let ended = common::wait_until(Duration::from_secs(5), || {
        status = app.0.try_wait().expect("the process state");
        status.is_some()
    });
    assert!(ended, "still running 5 s after Quit\n{}", log());
}

/// `drivewatch --hidden` (how start at login launches it) runs in the tray with no window:
/// no WebKit web process, the page's home, exists among its descendants. The tray's Open
/// builds the window again, and Quit still ends the app with code 0.
#[test]
fn hidden_start_lives_in_the_tray_until_open_shows_the_window() {
    if common::skip_without(
        &common::VirtualDesktop::missing_tools(),
        "`cargo xtask deps` installs it",
    ) {
        return;
    }
    let scratch = tempfile::tempdir().expect("a scratch folder");
    let desktop = common::VirtualDesktop::start(scratch.path());
    let log_path = scratch.path().join("drivewatch.log");
    let mut app = common::spawn_app(&desktop, scratch.path(), &["--demo", "--hidden"], &log_path);
    let pid = app.0.id();
    let log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    let running = |app: &mut Reaped| {
        if let Some(status) = app.0.try_wait().expect("the process state") {
            panic!("drivewatch exited ({status}):\n{}", log());
        }
    };

    // Live: the tray item is registered and its first line says so.
    let mut menu = None;
    let live = common::wait_until(Duration::from_secs(30), || {
        running(&mut app);
        menu = menu.take().or_else(|| common::tray_menu(&desktop));
        menu.as_ref().is_some_and(|m| {
            menu_layout(m)
                .first()
                .is_some_and(|(_, l)| l.starts_with("Live"))
        })
    });
    assert!(live, "no live tray item within 30 s\n{}", log());
    let menu = menu.expect("checked above");

    // No window: the web process of the window `--hidden` closed at start is gone, and none
    // comes back while the app keeps running in the tray.
    assert!(
        common::wait_until(Duration::from_secs(10), || common::web_processes(pid)
            .is_empty()),
        "a web process is still running 10 s after a hidden start: {:?}\n{}",
        common::web_processes(pid),
        log()
    );
    std::thread::sleep(Duration::from_secs(2));
    running(&mut app);
    assert_eq!(
        (common::web_processes(pid), common::window_processes(pid)),
        (Vec::<u32>::new(), Vec::<u32>::new()),
        "a window appeared without being asked for\n{}",
        log()
    );

    // The tray's Open starts the window's process, and its web process starts.
    common::click_label(&menu, "Open DriveWatch");
    assert!(
        common::wait_until(Duration::from_secs(10), || !common::web_processes(pid)
            .is_empty()),
        "no web process within 10 s of Open: the window did not come back\n{}",
        log()
    );
    running(&mut app);
    let mut x = common::X11::connect(&desktop.display).expect("the X display answers");
    let mut windows = Vec::new();
    assert!(
        common::wait_until(Duration::from_secs(10), || {
            windows = x.windows_of(pid).expect("the X display answers");
            !windows.is_empty()
        }),
        "no mapped window of the app within 10 s of Open\n{}",
        log()
    );
    // Open again while it is open brings the same window forward: still one window process.
    common::click_label(&menu, "Open DriveWatch");
    std::thread::sleep(Duration::from_secs(1));
    let window_process = common::window_processes(pid);
    assert_eq!(
        (
            window_process.len(),
            x.windows_of(pid).expect("the X display answers").len()
        ),
        (1, windows.len()),
        "a second Open made a second window: {window_process:?}\n{}",
        log()
    );

    // Closing it as a window manager's close button does leaves the app in the tray, with
    // the window's process and its web process gone.
    for window in &windows {
        x.close(*window).expect("the X display answers");
    }
    assert!(
        common::wait_until(Duration::from_secs(10), || {
            common::web_processes(pid).is_empty()
                && common::window_processes(pid).is_empty()
                && x.windows_of(pid).expect("the X display answers").is_empty()
        }),
        "the window, its process {:?} or its web process {:?} outlived its close by 10 s\n{}",
        common::window_processes(pid),
        common::web_processes(pid),
        log()
    );
    // WebKit's network process ends with the window's process that started it.
    assert!(
        common::wait_until(Duration::from_secs(10), || common::network_processes(pid)
            .is_empty()),
        "WebKit's network process {:?} outlived the window by 10 s\n{}",
        common::network_processes(pid),
        log()
    );
    running(&mut app);

    // Open starts it once more after a user's close, and WebKit starts a network process
    // for its page again.
    common::click_label(&menu, "Open DriveWatch");
    assert!(
        common::wait_until(Duration::from_secs(10), || {
            !common::web_processes(pid).is_empty()
                && !common::network_processes(pid).is_empty()
                && !x.windows_of(pid).expect("the X display answers").is_empty()
        }),
        "Open after a close did not bring the window and its processes back within 10 s\n{}",
        log()
    );
    // The new window's page keeps its web process (a WebKit that could not reach its network
    // process would show an error page and crash-loop it).
    std::thread::sleep(Duration::from_secs(2));
    running(&mut app);
    assert!(
        !common::web_processes(pid).is_empty(),
        "the reopened window's web process ended\n{}",
        log()
    );

    // Quit from the tray ends the app with code 0, and the open window's process with it.
    let open_window = common::window_processes(pid);
    assert_eq!(open_window.len(), 1, "{open_window:?}\n{}", log());
    common::click_label(&menu, "Quit DriveWatch");
    let mut status = None;
    let ended = common::wait_until(Duration::from_secs(5), || {
        status = app.0.try_wait().expect("the process state");
        status.is_some()
    });
    assert!(ended, "still running 5 s after Quit\n{}", log());
    let status = status.expect("checked above");
    assert!(status.success(), "Quit exits with code 0, got {status}");
    let gone = |pid: &u32| {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |stat| {
            stat.rsplit_once(") ")
                .is_some_and(|(_, rest)| rest.starts_with('Z'))
        })
    };
    assert!(
        common::wait_until(Duration::from_secs(5), || open_window.iter().all(gone)),
        "the window's process {open_window:?} outlived Quit by 5 s\n{}",
        log()
    );
}

/// The count at the end of the tray's first line ("Live · 10:02 … · 12 new changes"), if any.
fn unread_in(first_line: &str) -> Option<u32> {
    let last = first_line.rsplit(" · ").next()?;
    if !last.contains(" new change") {
        return None;
    }
    last.split_whitespace().next()?.parse().ok()
}

/// Unread changes, cleared once the list is seen, and a mute from a toast's action, on a real
/// desktop.
///
/// The tray's Open shows the window on Recent changes, and the window itself marks the list
/// seen: the count must clear without the tray doing it. (The tray's own "N new changes" line,
/// which also clears it, is covered by `mock_app.rs`.)
#[test]
fn the_tray_counts_unread_changes_and_a_toast_mutes_its_folder() {
    if common::skip_without(
        &common::VirtualDesktop::missing_tools(),
        "`cargo xtask deps` installs it",
    ) {
        return;
    }
    let scratch = tempfile::tempdir().expect("a scratch folder");
    let desktop = common::VirtualDesktop::start(scratch.path());
    let log_path = scratch.path().join("drivewatch.log");
    // Hidden: no window sees the list, so nothing clears the count before the tray does.
    let mut app = common::spawn_app(&desktop, scratch.path(), &["--demo", "--hidden"], &log_path);
    let pid = app.0.id();
    let log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    let done = |seen: &[Seen]| seen.iter().any(|s| s.summary.contains("Guidelines.txt"));
    let finished = common::wait_until(Duration::from_secs(90), || {
        if let Ok(Some(status)) = app.0.try_wait() {
            panic!("drivewatch exited early ({status}):\n{}", log());
        }
        done(&desktop.seen.lock().expect("lock"))
    });
    let seen = desktop.seen.lock().expect("lock").clone();
    let lines: Vec<String> = seen
        .iter()
        .map(|s| {
            format!(
                "#{} (replaces {}, silent {}) {} | {} | {:?}",
                s.id, s.replaces_id, s.suppress_sound, s.summary, s.body, s.actions
            )
        })
        .collect();
    let context = format!("toasts seen:\n{}\n\napp log:\n{}", lines.join("\n"), log());
    assert!(
        finished,
        "the scripted activity did not finish in time\n{context}"
    );

    // The burst's toast: new with sound, its updates in place silent, and a mute action for
    // its folder.
    let photos: Vec<&Seen> = seen
        .iter()
        .filter(|s| s.summary.contains("/Photos/Offsite") || s.summary.contains("IMG_"))
        .collect();
    let first = *photos
        .first()
        .unwrap_or_else(|| panic!("no toast for the burst\n{context}"));
    assert!(!first.suppress_sound, "{context}");
    assert!(photos.len() > 1, "the burst's toast was updated\n{context}");
    assert!(
        photos[1..]
            .iter()
            .all(|s| s.replaces_id == first.id && s.suppress_sound),
        "updates replace the toast silently\n{context}"
    );
    let mute_label = "Mute /Photos/Offsite for 3 hours";
    assert!(
        first
            .actions
            .windows(2)
            .any(|a| a[0] == "mute" && a[1] == mute_label),
        "{context}"
    );

    // The unread count, in the first line and the label next to the icon, once the script's
    // last step (Alex's edit in the library) is in the tray; the next change comes 20 s later.
    let mut menu = None;
    let mut labels: Vec<String> = Vec::new();
    let mut item = None;
    let mut badge = String::new();
    let counted = common::wait_until(Duration::from_secs(10), || {
        menu = menu.take().or_else(|| common::tray_menu(&desktop));
        item = item.take().or_else(|| common::tray_item(&desktop));
        labels = menu
            .as_ref()
            .map(|m| menu_layout(m).into_iter().map(|(_, l)| l).collect())
            .unwrap_or_default();
        badge = item
            .as_ref()
            .and_then(|i| i.get_property::<String>("XAyatanaLabel").ok())
            .unwrap_or_default();
        labels.first().is_some_and(|l| {
            l.contains("Guidelines.txt")
                && unread_in(l).is_some_and(|n| n > 0 && badge == n.to_string())
        })
    });
    assert!(
        counted,
        "the first line and the label show the unread count: {labels:?}, label {badge:?}\n{context}"
    );
    let (menu, item) = (menu.expect("checked above"), item.expect("checked above"));
    let first_line = labels[0].clone();
    assert!(first_line.starts_with("Live ·"), "{first_line}");

    // The window opens on the list from the tray, and the count is seen.
    common::click_label(&menu, "Open DriveWatch");
    assert!(
        common::wait_until(Duration::from_secs(10), || !common::web_processes(pid)
            .is_empty()),
        "no window within 10 s of the tray's click\n{}",
        log()
    );
    let mut after = Vec::new();
    let cleared = common::wait_until(Duration::from_secs(10), || {
        after = menu_layout(&menu);
        after
            .first()
            .is_some_and(|(_, l)| l.starts_with("Live ·") && unread_in(l).is_none())
    });
    assert!(
        cleared,
        "the window clears the count once its list is seen: {after:?}\n{}",
        log()
    );
    let badge_cleared = common::wait_until(Duration::from_secs(5), || {
        item.get_property::<String>("XAyatanaLabel")
            .is_ok_and(|l| l.is_empty())
    });
    assert!(badge_cleared, "the label next to the icon is gone");

    // The toast's mute action: the folder is muted, and the tray's Muted menu lists it.
    assert!(
        !menu_layout(&menu)
            .iter()
            .any(|(_, l)| l.starts_with("Unmute ")),
        "nothing muted yet"
    );
    common::invoke_action(&desktop, first.id, "mute");
    let mut entry = None;
    let listed = common::wait_until(Duration::from_secs(5), || {
        entry = menu_layout(&menu)
            .into_iter()
            .map(|(_, l)| l)
            .find(|l| l.starts_with("Unmute /Photos/Offsite (muted until "));
        entry.is_some()
    });
    let labels: Vec<String> = menu_layout(&menu).into_iter().map(|(_, l)| l).collect();
    assert!(listed, "the mute is listed: {labels:?}\n{}", log());
    assert!(labels.iter().any(|l| l == "Muted folders"), "{labels:?}");

    // Its entry unmutes.
    common::click_label(&menu, &entry.expect("checked above"));
    let unmuted = common::wait_until(Duration::from_secs(5), || {
        !menu_layout(&menu)
            .iter()
            .any(|(_, l)| l.starts_with("Unmute ") || l == "Muted folders")
    });
    assert!(unmuted, "the mute ended: {:?}", menu_layout(&menu));

    common::click_label(&menu, "Quit DriveWatch");
    let mut status = None;
    let ended = common::wait_until(Duration::from_secs(5), || {
        status = app.0.try_wait().expect("the process state");
        status.is_some()
    });
    assert!(ended, "still running 5 s after Quit\n{}", log());
}
