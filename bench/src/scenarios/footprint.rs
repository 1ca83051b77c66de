//! Sections 5 and 6: idle footprint and start to live.

use std::time::Duration;

use graph_emulator::EmulatorHandle;
use serde_json::json;
use tokio::time::{Instant, sleep};

use crate::error::BenchError;
use crate::host::HostLine;
use crate::procfs;
use crate::report::{Figure, Section, Target};
use crate::subject::Subject;
use crate::world::{self};

use super::*;

/// Which process section 5 measures.
#[derive(Debug, Clone)]
pub enum Measured {
    /// `drivewatch-cli watch --json`, the binary at this path.
    Cli(std::path::PathBuf),
    /// This binary's `host` mode.
    Host,
}

/// Section 5: start to live, then idle CPU, RSS and wake-ups of DriveWatch's own process.
pub async fn footprint(
    emu: &EmulatorHandle,
    sizes: Sizes,
    measured: Measured,
) -> Result<Outcome, BenchError> {
    let (key, who, number) = match &measured {
        Measured::Cli(_) => ("cli", "drivewatch-cli watch --json", 5),
        Measured::Host => ("host", "drivewatch-bench host", 6),
    };
    let home = tempfile::tempdir().map_err(BenchError::io("a temporary home"))?;
    let (engine, _events) = world::signed_in_engine(
        emu,
        home.path(),
        world::shipped_options(),
        Duration::from_secs(60),
    )
    .await?;
    engine.shutdown().await;
    drop(engine);

    let mut subject = match &measured {
        Measured::Cli(path) => Subject::spawn_cli(path, home.path())?,
        Measured::Host => Subject::spawn(home.path())?,
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
    // Let the catch-up delta that follows going live settle before measuring idle.
    sleep(Duration::from_secs(3)).await;
    let pid = subject.pid;
    let hz = procfs::clock_ticks_per_second() as f64;
    let cpu0 = procfs::cpu_ticks(pid)?;
    let sw0 = procfs::switches(pid)?;
    let t0 = Instant::now();
    sleep(sizes.idle).await;
    let cpu1 = procfs::cpu_ticks(pid)?;
    let sw1 = procfs::switches(pid)?;
    let idle = t0.elapsed().as_secs_f64();
    let memory = procfs::memory(pid)?;
    // Whether the push link stayed up through the window (the emulator's count of joined sockets).
    let sockets_at_end = emu.connected_sockets();
    subject.stop(Duration::from_secs(10)).await;

    let cpu_percent = (cpu1.saturating_sub(cpu0)) as f64 / hz / idle * 100.0;
    let wakeups = sw1.voluntary.saturating_sub(sw0.voluntary);
    let ping_every = 25.0;
    let pings = idle / ping_every;
    let mut figures = vec![
        Figure::new(
            number,
            &format!("footprint.{key}.start_to_live_ms"),
            &format!("{who}: start → live with a stored token (spawn to live)"),
            Some(to_live.as_secs_f64() * 1000.0),
            "ms",
            Target::below(500.0),
        ),
        Figure::new(
            number,
            &format!("footprint.{key}.idle_rss_mib"),
            &format!("{who}: idle RSS at the end (VmRSS)"),
            Some(memory.rss_kib as f64 / MIB),
            "MiB",
            Target::below(20.0),
        ),
        Figure::new(
            number,
            &format!("footprint.{key}.idle_peak_rss_mib"),
            &format!("{who}: peak RSS over start and idle (VmHWM)"),
            Some(memory.hwm_kib as f64 / MIB),
            "MiB",
            None,
        ),
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
    ];
    if matches!(measured, Measured::Cli(_)) {
        figures.push(Figure::missing(
            5,
            "footprint.desktop_idle_rss_mib",
            "Desktop app, window closed: idle RSS",
            "MiB",
            Target::below(20.0),
            "the benchmark does not start the Tauri shell under Xvfb yet",
        ));
    }
    let section = Section {
        number,
        title: format!(
            "Footprint of `{who}` over {:.0} s idle, and start to live",
            sizes.idle.as_secs_f64()
        ),
        how: format!(
            "An engine signs in once in-process (tokens in the file store of a temporary home) \
             and stops. DriveWatch then starts as its own process, `{who}`, over that home \
             (`DRIVEWATCH_HOME`; the host mode is the engine alone with the shipped options, for \
             comparison with the CLI). Start → live is from spawning the process to reading its \
             status line saying live ({live_ms:.0} ms by the process's own or the spawn clock). After 3 s for the catch-up delta, /proc/PID/stat \
             (utime+stime) and the voluntary_ctxt_switches of every thread are read, again after \
             {idle:.0} s of no changes, and VmRSS/VmHWM at the end. The emulator pings every 25 s \
             (Microsoft's socket.io default), so about {pings:.1} pings fall in the window. \
             Involuntary switches: {}.",
            sw1.involuntary.saturating_sub(sw0.involuntary),
        ),
        limits: "RSS is mostly the runtime, TLS and HTTP client, socket.io client and SQLite \
                 page cache. Each ping wakes the socket's reader, the pong writer and a runtime \
                 worker, so a few switches per ping are the floor; anything well beyond that is \
                 a timer or poll loop. Start → live includes exec, loading settings and the \
                 token file, opening SQLite, the socketIo subscription request and the \
                 socket.io handshake over loopback."
            .into(),
        detail: json!({
            "cpuTicks": cpu1.saturating_sub(cpu0), "ticksPerSecond": hz, "idleSeconds": idle,
            "voluntary": wakeups, "involuntary": sw1.involuntary.saturating_sub(sw0.involuntary),
            "threads": memory.threads, "hostLiveMs": live_ms, "emulatorSocketsAtEnd": sockets_at_end,
        }),
    };
    Ok(Outcome { figures, section })
}
