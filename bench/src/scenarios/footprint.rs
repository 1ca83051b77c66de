//! Sections 5, 6 and 7: idle footprint and start to live of the CLI, the engine alone and the
//! desktop app with its window closed.

use std::time::Duration;

use graph_emulator::EmulatorHandle;
use serde_json::json;
use tokio::time::{Instant, sleep};

use crate::error::BenchError;
use crate::host::HostLine;
use crate::procfs;
use crate::report::{Figure, Section, Target};
use crate::subject::{Desktop, Subject};
use crate::world::{self};

use super::idle::{
    ProcIdle, beyond_pings_per_minute, describe_processes, measure_idle, processes_json,
    pss_sum_mib, wakeups_by_thread,
};
use super::*;

/// Which process a footprint section measures.
#[derive(Debug, Clone)]
pub enum Measured {
    /// `drivewatch-cli watch --json`, the binary at this path.
    Cli(std::path::PathBuf),
    /// This binary's `host` mode.
    Host,
    /// The desktop app (`drivewatch --hidden`), the binary at this path.
    Desktop(std::path::PathBuf),
}

/// The emulator's socket.io ping interval (Microsoft's default, the emulator's too).
pub(super) const PING_EVERY: f64 = 25.0;
/// Items in the item indexes of every target under `home` (what the engine loads at start).
fn drive_items(home: &std::path::Path) -> Result<usize, BenchError> {
    use drivewatch_core::config::{Config, Paths};
    use drivewatch_core::history::HistoryStore;
    let paths = Paths::under(home);
    let config = Config::load(&paths.config_file())?;
    let store = HistoryStore::open(&paths.history_db())
        .map_err(drivewatch_core::engine::EngineError::from)?;
    let mut n = 0;
    for t in &config.targets {
        n += store
            .load_index(&t.id)
            .map_err(drivewatch_core::engine::EngineError::from)?
            .len();
    }
    Ok(n)
}

/// Waits until the emulator has more joined push sockets than `before`: the host went live.
pub(super) async fn socket_joined(
    emu: &EmulatorHandle,
    before: usize,
    within: Duration,
) -> Result<Instant, BenchError> {
    sockets_until(emu, |n| n > before, within, "the desktop app's push link").await
}

/// Waits until the emulator's count of joined push sockets satisfies `done`; returns when.
async fn sockets_until(
    emu: &EmulatorHandle,
    done: impl Fn(usize) -> bool,
    within: Duration,
    what: &'static str,
) -> Result<Instant, BenchError> {
    let deadline = Instant::now() + within;
    loop {
        if done(emu.connected_sockets()) {
            return Ok(Instant::now());
        }
        if Instant::now() > deadline {
            return Err(BenchError::Timeout { what });
        }
        sleep(Duration::from_millis(2)).await;
    }
}

/// The desktop app's window opened (as a second launch opens it), its page given 5 s, closed
/// as a window manager closes it, 3 s to settle, then the same idle window as before.
/// What the desktop app leaves after its window was opened and closed, measured idle, and the
/// time the window took to open (request to mapped with its web process).
async fn after_open_and_close(
    desktop: &Desktop,
    idle: Duration,
) -> Result<(Vec<ProcIdle>, f64, Duration), BenchError> {
    let opened = desktop.open_and_close(Duration::from_secs(5)).await?;
    sleep(Duration::from_secs(3)).await;
    let (procs, seconds) = measure_idle(&desktop.processes(), idle).await?;
    Ok((procs, seconds, opened))
}

/// How many times the process is started for start → live; the figure is their median.
const STARTS: usize = 5;

/// A started process under measurement. One value at a time: its size does not matter.
#[allow(clippy::large_enum_variant)]
enum Running {
    Child(Subject),
    Desktop(Desktop),
}

impl Running {
    /// Ends whatever was started.
    async fn stop(self) {
        match self {
            Running::Child(s) => s.stop(Duration::from_secs(10)).await,
            Running::Desktop(d) => d.stop(Duration::from_secs(10)).await,
        }
    }

    fn pids(&self) -> Vec<u32> {
        match self {
            Running::Child(s) => vec![s.pid],
            Running::Desktop(d) => d.processes(),
        }
    }
}

/// Starts the measured process over `home` and waits until it is live. Returns it, the time
/// from spawning it, and the start → live the process reported itself (its status line; the
/// spawn clock for the desktop app, which prints none).
async fn start_live(
    measured: &Measured,
    emu: &EmulatorHandle,
    home: &std::path::Path,
    scratch: &std::path::Path,
) -> Result<(Running, Duration, f64), BenchError> {
    let sockets_before = emu.connected_sockets();
    match measured {
        Measured::Cli(_) | Measured::Host => {
            let mut subject = match measured {
                Measured::Cli(path) => Subject::spawn_cli(path, home)?,
                _ => Subject::spawn(home)?,
            };
            let deadline = Instant::now() + Duration::from_secs(30);
            let (live_at, live_ms) = loop {
                let (at, line) = subject.next(deadline, "the host to go live").await?;
                if let HostLine::Status { ms, status, .. } = line {
                    if status == "live" {
                        break (at, ms);
                    }
                }
            };
            let to_live = live_at.saturating_duration_since(subject.spawned);
            Ok((Running::Child(subject), to_live, live_ms))
        }
        Measured::Desktop(app) => {
            let desktop = Desktop::spawn(app, home, scratch).await?;
            let live_at = match socket_joined(emu, sockets_before, Duration::from_secs(30)).await {
                Ok(at) => at,
                Err(e) => {
                    desktop.stop(Duration::from_secs(5)).await;
                    return Err(e);
                }
            };
            let to_live = live_at.saturating_duration_since(desktop.spawned);
            let ms = to_live.as_secs_f64() * 1000.0;
            Ok((Running::Desktop(desktop), to_live, ms))
        }
    }
}

/// Start to live, then idle CPU, RSS and wake-ups of DriveWatch's own process(es).
pub async fn footprint(
    emu: &EmulatorHandle,
    sizes: Sizes,
    measured: Measured,
) -> Result<Outcome, BenchError> {
    let (key, who, number) = match &measured {
        Measured::Cli(_) => ("cli", "drivewatch-cli watch --json", 5),
        Measured::Host => ("host", "drivewatch-bench-host", 6),
        Measured::Desktop(_) => ("desktop", "Desktop app, window closed", 7),
    };
    let home = tempfile::tempdir().map_err(BenchError::io("a temporary home"))?;
    let scratch = tempfile::tempdir().map_err(BenchError::io("a scratch folder"))?;
    world::prepared_home(emu, home.path(), Duration::from_secs(60)).await?;
    // The engine keeps each target's item index in memory: the drive's size is part of the figure.
    let items = drive_items(home.path()).unwrap_or(0);
    // Start → live is the median of several starts: one start on a small machine shared with
    // the emulator read anywhere from 353 to 542 ms for the same code. Every start but the last
    // is stopped once live, and the next waits until the emulator has dropped its socket.
    let sockets_before = emu.connected_sockets();
    let mut starts = Vec::with_capacity(STARTS);
    for _ in 1..STARTS {
        let (running, to_live, _) = start_live(&measured, emu, home.path(), scratch.path()).await?;
        starts.push(to_live);
        running.stop().await;
        // The stopped process's socket must be gone, so the next start's is the one counted.
        let gone = |n| n <= sockets_before;
        let what = "a stopped process's push socket to close";
        sockets_until(emu, gone, Duration::from_secs(15), what).await?;
    }
    let (mut running, to_live, live_ms) =
        start_live(&measured, emu, home.path(), scratch.path()).await?;
    starts.push(to_live);
    let start_summary = crate::stats::summarize(&starts);
    let starts_ms: Vec<f64> = starts.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    // Let the catch-up delta that follows going live (and the desktop's first paint) settle.
    sleep(Duration::from_secs(3)).await;
    let pids = running.pids();
    let measured_idle = measure_idle(&pids, sizes.idle).await;
    // The desktop app once more after its window was opened and closed: what closing leaves.
    let reopened = match (&running, &measured_idle) {
        (Running::Desktop(d), Ok(_)) => Some(after_open_and_close(d, sizes.idle).await),
        _ => None,
    };
    // Whether the push link stayed up through the window (the emulator's count of joined sockets).
    let sockets_at_end = emu.connected_sockets();
    if let Running::Desktop(d) = &mut running {
        if !d.running() {
            eprintln!("drivewatch-bench: the desktop app ended during the idle window");
        }
    }
    running.stop().await;
    let (procs, idle) = measured_idle?;
    // A failed reopening costs its own figures, not the never-opened ones.
    let reopened = match reopened {
        Some(Err(e)) => {
            eprintln!("drivewatch-bench: the desktop app's window did not open and close: {e}");
            None
        }
        other => other.and_then(Result::ok),
    };

    let hz = procfs::clock_ticks_per_second() as f64;
    let sum = |f: fn(&ProcIdle) -> u64| procs.iter().map(f).sum::<u64>();
    let cpu_ticks = sum(|p| p.cpu_ticks);
    let cpu_percent = cpu_ticks as f64 / hz / idle * 100.0;
    let wakeups = sum(|p| p.voluntary);
    let involuntary = sum(|p| p.involuntary);
    let pings = idle / PING_EVERY;
    let main = &procs[0];
    let rss_mib = |kib: u64| Some(kib as f64 / MIB);
    let mut figures = vec![Figure::new(
        number,
        &format!("footprint.{key}.start_to_live_ms"),
        &format!(
            "{who}: start → live with a stored token (spawn to live, median of {STARTS} starts)"
        ),
        start_summary.map(|s| s.p50_ms),
        "ms",
        Target::below(500.0),
    )];
    if let Measured::Desktop(_) = measured {
        figures.push(Figure::new(
            number,
            "footprint.desktop.idle_rss_total_mib",
            &format!(
                "{who}: idle RSS, the app and the WebKit processes it started ({}) summed (VmRSS)",
                procs.len() - 1
            ),
            rss_mib(sum(|p| p.memory.rss_kib)),
            "MiB",
            None,
        ));
        figures.push(Figure::new(
            number,
            "footprint.desktop.idle_pss_total_mib",
            &format!(
                "{who}, never opened: idle PSS summed (shared pages split between the processes)"
            ),
            pss_sum_mib(&procs),
            "MiB",
            Target::at_most(90.0),
        ));
        figures.push(Figure::new(
            number,
            "footprint.desktop.idle_wakeups_beyond_pings_per_min",
            &format!("{who}, never opened: idle wake-ups a minute beyond the socket's pings"),
            beyond_pings_per_minute(&procs, idle),
            "/min",
            Target::at_most(10.0),
        ));
        let (after, after_idle, opened) = match &reopened {
            Some((p, s, opened)) => (Some(p.as_slice()), *s, Some(*opened)),
            None => (None, 0.0, None),
        };
        figures.push(Figure::new(
            number,
            "footprint.desktop.open_to_window_ms",
            &format!(
                "{who}: open → window mapped with its page's web process (its own process started)"
            ),
            opened.map(|d| d.as_secs_f64() * 1000.0),
            "ms",
            None,
        ));
        figures.push(Figure::new(
            number,
            "footprint.desktop.reopened_pss_total_mib",
            &format!("{who}, after its window was opened and closed: idle PSS summed"),
            after.and_then(pss_sum_mib),
            "MiB",
            Target::at_most(110.0),
        ));
        figures.push(Figure::new(
            number,
            "footprint.desktop.reopened_wakeups_beyond_pings_per_min",
            &format!(
                "{who}, after its window was opened and closed: idle wake-ups a minute beyond the socket's pings"
            ),
            after.and_then(|p| beyond_pings_per_minute(p, after_idle)),
            "/min",
            Target::at_most(10.0),
        ));
        for p in &procs {
            figures.push(Figure::new(
                number,
                &format!("footprint.desktop.idle_rss_mib.{}", p.name),
                &format!(
                    "{who}: idle RSS of {} (anonymous {:.1} MiB)",
                    p.name,
                    p.memory.anon_kib as f64 / MIB
                ),
                rss_mib(p.memory.rss_kib),
                "MiB",
                None,
            ));
        }
    } else {
        figures.push(Figure::new(
            number,
            &format!("footprint.{key}.idle_rss_mib"),
            &format!("{who}: idle RSS at the end (VmRSS)"),
            rss_mib(main.memory.rss_kib),
            "MiB",
            Target::below(20.0),
        ));
        figures.push(Figure::new(
            number,
            &format!("footprint.{key}.idle_rss_anon_mib"),
            &format!("{who}: … of it anonymous (heap, stacks; RssAnon)"),
            rss_mib(main.memory.anon_kib),
            "MiB",
            None,
        ));
        figures.push(Figure::new(
            number,
            &format!("footprint.{key}.idle_rss_file_mib"),
            &format!("{who}: … of it file-backed (code of the binary and libraries; RssFile)"),
            rss_mib(main.memory.file_kib),
            "MiB",
            None,
        ));
        figures.push(Figure::new(
            number,
            &format!("footprint.{key}.idle_peak_rss_mib"),
            &format!("{who}: peak RSS over start and idle (VmHWM)"),
            rss_mib(main.memory.hwm_kib),
            "MiB",
            None,
        ));
    }
    figures.extend([
        Figure::new(
            number,
            &format!("footprint.{key}.idle_cpu_percent"),
            &format!("{who}: idle CPU (user + system, of one core)"),
            Some(cpu_percent),
            "%",
            None,
        ),
        Figure::new(
            number,
            &format!("footprint.{key}.idle_wakeups"),
            &format!("{who}: idle voluntary context switches, all threads"),
            Some(wakeups as f64),
            "",
            None,
        ),
        Figure::new(
            number,
            &format!("footprint.{key}.idle_wakeups_per_ping"),
            &format!("{who}: … per socket.io ping (one every 25 s)"),
            (pings > 0.0).then(|| wakeups as f64 / pings),
            "",
            None,
        ),
    ]);
    let per_process = describe_processes(&procs);
    let starts = starts_ms
        .iter()
        .map(|ms| format!("{ms:.0}"))
        .collect::<Vec<_>>()
        .join(", ")
        + " ms";
    let start = match measured {
        Measured::Desktop(_) => format!(
            "The desktop app then starts as `drivewatch --hidden` on Xvfb with a session bus of \
             its own (`dbus-daemon --session`, on which this benchmark is the notification \
             server; no tray host), over that home (`DRIVEWATCH_HOME`), its caches and WebKit \
             data in a scratch folder; `--hidden` builds no window at all (the configuration \
             creates none), so no WebKit process starts until the user opens it. Start → live \
             is from spawning the app to the emulator counting its push socket as joined, \
             the median of {STARTS} starts ({starts}, in start order; each but the last \
             stopped once live). Measured, never opened: the app's process and every process it \
             started: {per_process}; voluntary switches by thread: {threads}. Then the window \
             is opened as a second launch opens it (the single-instance D-Bus call), its page \
             given 5 s, closed as a window manager's close button closes it \
             (WM_DELETE_WINDOW to the window), and after 3 s the same idle window is measured \
             again: {after}.",
            threads = wakeups_by_thread(&procs),
            after = match &reopened {
                Some((after, _, _)) => format!(
                    "{}; by thread: {}",
                    describe_processes(after),
                    wakeups_by_thread(after)
                ),
                None => "not measured".to_owned(),
            },
        ),
        _ => format!(
            "DriveWatch then starts as its own process, `{who}`, over that home \
             (`DRIVEWATCH_HOME`; the host is the engine alone with the shipped options, in a \
             binary of its own that links none of the benchmark's or the emulator's code, for \
             comparison with the CLI). Start → live is from spawning the process to reading \
             its status line saying live, the median of {STARTS} starts ({starts}, in start \
             order; each but the last stopped once live; the last read {live_ms:.0} ms by the \
             process's own clock). Measured: {}.",
            per_process
        ),
    };
    let limits = match measured {
        Measured::Desktop(_) => {
            "Started hidden, the app is one process (GTK and the WebKitGTK libraries mapped, \
             most of its RSS file-backed; the tray; the engine): no window was built, so WebKit \
             started neither its web process nor its network process. Its start → live is the \
             CLI's plus what linking WebKitGTK costs before `main` runs: the dynamic loader \
             binds the 171 libraries the binary needs, and Debian links libwebkit2gtk with \
             immediate binding (287,000 relocations), most of the 135 to 160 ms that \
             `drivewatch --version` takes on this machine (the CLI's: 7 to 10 ms; perf puts \
             three quarters of it in the loader's symbol lookups); then GTK opens the display \
             on the main thread while the engine's Tokio workers bring the push link up. Both \
             the CLI and the app also load the system's trust store twice when the HTTP client \
             is built (native-tls 0.2.18 loads OpenSSL's default paths, then the same bundle \
             again from its own probe: 144 certificates, 35 to 55 ms each here). No setting \
             removes either: the first would go with a tray process that does not link \
             WebKit, the second with a fix in native-tls. What DriveWatch's own \
             choices cost was removed: closing the window destroys it rather than hiding it (a \
             hidden one kept WebKit's web process with the page, about 110 MiB PSS, and its \
             timers), a hidden start builds no window (235 → 144 → 105 MiB PSS over those two \
             steps); GTK no longer loads the OpenGL driver when it opens the display \
             (`GDK_GL=disable`, set by the app unless the environment sets it: Mesa's driver \
             with LLVM was about 30 MiB of the 105), so WebKit draws the window without GPU \
             compositing. The wake-ups went from about 134 a minute to the pings: about 120 \
             were an idle thread of the `blocking` crate's pool (1.7), which zbus's async-io \
             backend used for the session-bus connection the single-instance plugin keeps for \
             the app's life (a 500 ms condition-variable timeout; it never retired) — zbus now \
             runs on Tokio (its `tokio` feature, which every zbus user in the app shares), whose \
             idle threads wait without a timeout and retire after 10 s; about 12 were tao's \
             listener for the desktop portal's colour-scheme signal (a libdbus connection \
             polled with a 5 s timeout on a thread of its own) — Tauri's `dbus` feature is left \
             out, and the window reads the colour scheme once each time it is built; after a \
             window was opened, about 12 more were WebKitGTK's memory pressure monitor in the \
             app's process (a 5 s sleep, then /proc/meminfo read) — off \
             (`WEBKIT_DISABLE_MEMORY_PRESSURE_MONITOR=1`, unless the environment sets it; \
             WebKit's network process then skips its own too). What remains is named by thread \
             above: never opened, only the Tokio worker that reads the push socket, about one \
             switch per ping (it answers with a pong); GTK's main loop, GLib's threads, the tray \
             and zbus's runtime sleep through the minute. The window is a process of its own \
             (`drivewatch --window`), which the app starts when the user opens the window and \
             which ends when they close it; the app itself never builds a web view, and the \
             window's calls and the app's events cross the process's standard input and output \
             as JSON lines. While the window was built in the app's own process, a window opened \
             once left WebKit behind for the app's life whatever the app did at its close: an \
             allocator scavenger (libpas) waking every 5 s, WebKit's network process (about 35 \
             MiB PSS), which Tauri keeps with its web context, and Mesa's software GL driver \
             with LLVM (about 31 MiB PSS and 50 MiB RSS here), which WebKit's UI side loads with \
             its first web view to open an EGL display and nothing unloads (no setting of \
             WebKitGTK's avoids that load). Suspending the scavenger and ending the network \
             process from the app had brought the figure after a close from 152 to 136 MiB PSS \
             and 13.6 to 7.6 wake-ups a minute; the driver stayed. Now closing the window ends \
             its process and the system takes all of it back, so after a close the app measures \
             as before the window was first opened. The price is on each open: the window's \
             process starts (its libraries already in the page cache), GTK opens the display \
             and WebKit starts its web and network processes, the open → window figure above. \
             PSS splits shared \
             pages between every process on the machine that maps them (other GTK or WebKit \
             processes lower it), RSS does not. The RSS sum \
             counts shared library pages once per process; PSS splits them."
                .to_owned()
        }
        _ => format!(
            "RSS is counted as the kernel does (VmRSS). File-backed pages ({file:.1} MiB here) \
             are the code of the binary and its libraries that ran, plus what the kernel maps \
             around each page fault when the file is in the page cache (so a larger binary \
             counts more, even for code that never runs): about half of it is \
             DriveWatch's own code, a quarter OpenSSL's libcrypto (native-tls, which the \
             socket.io client needs, so rustls alone would not remove it), the rest glibc and \
             smaller libraries. Anonymous pages ({anon:.1} MiB) are the runtime, TLS roots, \
             HTTP client and SQLite, and no longer grow with the drive ({items} items here): \
             the item index stays in SQLite between delta runs (an incremental run loads only \
             its items' entries, their ancestors and a deleted folder's contents, by indexed \
             lookups, and drops them when it commits; only a resync loads the whole index, for \
             that run), and the history connection's page cache is capped at 512 KiB instead \
             of SQLite's 2 MiB. Held in memory, the index (about a third of a KiB per item) and \
             the full page cache had made it 24.7 MiB RSS over the same 10,209-item drive; it is \
             19.0 MiB now, what a drive of a few items gave before. The process uses one malloc arena (mallopt M_ARENA_MAX, set in main): \
             with one arena per thread it was 0.7 MiB more. Each ping wakes the socket's \
             reader, which answers with a pong: one switch per ping is the floor, and the \
             resume-from-sleep detector is a clock-change timerfd that costs no wake-up while \
             idle, so anything beyond the pings is a timer or poll loop. Start → live includes \
             exec, loading settings and the token file, opening SQLite, the socketIo \
             subscription request and the socket.io handshake over loopback.",
            file = main.memory.file_kib as f64 / MIB,
            anon = main.memory.anon_kib as f64 / MIB,
        ),
    };
    let section = Section {
        number,
        title: format!(
            "Footprint of {} over {:.0} s idle, and start to live",
            match measured {
                Measured::Desktop(_) => "the desktop app with its window closed".to_owned(),
                _ => format!("`{who}`"),
            },
            sizes.idle.as_secs_f64()
        ),
        how: format!(
            "An engine signs in once in-process (tokens in the file store of a temporary home), \
             enumerates the watched OneDrive ({items} items; in a full run the burst's files \
             are there too) and stops. {start} After 3 s for the catch-up delta, /proc/PID/stat (utime+stime, \
             which keeps the time of threads that ended) is read, then each thread's \
             voluntary_ctxt_switches every second for {idle:.0} s of no changes, thread by \
             thread, so a thread that ends in the window (Tokio's idle blocking threads end \
             after 10 s) keeps its count (summing the live threads at both ends, as before, \
             lost those and read 0), and VmRSS/RssAnon/RssFile/VmHWM at the end. The emulator \
             pings every 25 s (Microsoft's socket.io default), so about {pings:.1} pings fall \
             in the window. Involuntary switches: {involuntary}.",
        ),
        limits,
        detail: json!({
            "driveItems": items, "cpuTicks": cpu_ticks, "ticksPerSecond": hz, "idleSeconds": idle,
            "voluntary": wakeups, "involuntary": involuntary,
            "hostLiveMs": live_ms, "startsMs": starts_ms, "emulatorSocketsAtEnd": sockets_at_end,
            "processes": processes_json(&procs),
            "afterOpenAndClose": reopened.as_ref().map(|(p, seconds, opened)| json!({
                "idleSeconds": seconds, "processes": processes_json(p),
                "openToWindowMs": opened.as_secs_f64() * 1000.0,
            })),
        }),
    };
    Ok(Outcome { figures, section })
}
