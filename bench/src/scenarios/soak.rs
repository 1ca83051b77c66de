//! Section 10: the soak. A day of a team library's activity compressed into `--soak-minutes`
//! (20 by default), watched at once by `drivewatch-cli watch` and by the desktop app with its
//! window closed, each against its own emulator, sampled every 10 s from `/proc`.
//!
//! Tray apps are judged over days: memory that creeps, threads or descriptors that pile up
//! after reconnects, a database that only grows. The soak makes those visible in minutes: about
//! 10,000 changes a minute of every kind (see `day`), access tokens and push subscriptions with
//! lifetimes short enough to be refreshed and renewed about ten times, and every push socket
//! dropped a few times. Both processes get the same changes at the same instants, so one
//! window costs the section's minutes once. It must never change the apps' settings beyond the
//! history retention it says it shortens, and never fail the run: an app that cannot be started
//! becomes "not measured".

mod day;

use std::path::{Path, PathBuf};
use std::time::Duration;

use drivewatch_core::config::{Config, Paths};
use drivewatch_core::history::HistoryStore;
use graph_emulator::{EmulatorConfig, EmulatorHandle};
use serde::Serialize;
use serde_json::json;
use tokio::time::{Instant, sleep, sleep_until};

use crate::error::BenchError;
use crate::procfs;
use crate::report::{Figure, Section, Target};
use crate::subject::{Desktop, Subject};
use crate::world::{self, EmulatorOnItsOwn};

use super::*;
use day::{Op, Workload};

/// How often the processes are sampled.
const SAMPLE_EVERY: Duration = Duration::from_secs(10);
/// Changes per minute of soak: 200,000 in the default 20 minutes.
const CHANGES_PER_MINUTE: usize = 10_000;
/// The section's number in the report.
const NUMBER: u8 = 10;
/// The engine refreshes an access token once less than this is left (`auth::token_source`).
const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// What the soak is run with, derived from its length.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub seconds: u64,
    pub changes: usize,
    /// Access tokens live the engine's refresh margin plus a tenth of the soak, so one is
    /// refreshed about every tenth of the soak.
    pub access_token_secs: u64,
    /// Push subscriptions live a fifth of the soak (at least a minute); the engine renews at
    /// half of that for lifetimes this short (docs/PROTOCOL.md §2.3).
    pub subscription_secs: u64,
    /// History kept: a quarter of the soak, in whole minutes, so retention prunes from the
    /// second quarter on (the shipped 30 days could never be reached).
    pub retention_minutes: u32,
    /// When every push socket is dropped, as fractions of the soak.
    pub drops: [f64; 4],
}

impl Plan {
    pub fn new(minutes: f64) -> Plan {
        let seconds = (minutes.max(1.0) * 60.0).round() as u64;
        Plan {
            seconds,
            changes: (minutes.max(1.0) * CHANGES_PER_MINUTE as f64) as usize,
            access_token_secs: REFRESH_MARGIN.as_secs() + (seconds / 10).max(15),
            subscription_secs: (seconds / 5).max(60),
            retention_minutes: ((seconds / 240) as u32).max(1),
            drops: [0.3, 0.55, 0.7, 0.85],
        }
    }
}

/// One sample of one process (and what it started).
#[derive(Debug, Clone, Copy, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sample {
    pub seconds: f64,
    pub changes: usize,
    pub rss_kib: u64,
    pub anon_kib: u64,
    pub threads: u64,
    pub fds: u64,
    /// The history database: main file, write-ahead log and shared memory.
    pub db_bytes: u64,
    pub cpu_ticks: u64,
}

/// One watched app: its emulator, home, and process.
struct Watched {
    key: &'static str,
    who: &'static str,
    emu: EmulatorOnItsOwn,
    home: tempfile::TempDir,
    scratch: tempfile::TempDir,
    running: Option<Running>,
    samples: Vec<Sample>,
}

enum Running {
    Cli(Subject),
    Desktop(Desktop),
}

impl Running {
    fn pids(&self) -> Vec<u32> {
        match self {
            Running::Cli(s) => vec![s.pid],
            Running::Desktop(d) => d.processes(),
        }
    }
}

/// Open file descriptors of a process (entries of `/proc/PID/fd`).
fn open_fds(pid: u32) -> u64 {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count() as u64)
}

fn db_bytes(home: &Path) -> u64 {
    let db = Paths::under(home).history_db();
    ["", "-wal", "-shm"]
        .iter()
        .map(|suffix| {
            let mut p = db.clone().into_os_string();
            p.push(suffix);
            std::fs::metadata(PathBuf::from(p)).map_or(0, |m| m.len())
        })
        .sum()
}

/// The figures of every process of `pids` summed, now.
fn sample(pids: &[u32], home: &Path, seconds: f64, changes: usize) -> Sample {
    let mut s = Sample {
        seconds,
        changes,
        db_bytes: db_bytes(home),
        ..Sample::default()
    };
    for &pid in pids {
        if let Ok(m) = procfs::memory(pid) {
            s.rss_kib += m.rss_kib;
            s.anon_kib += m.anon_kib;
            s.threads += m.threads;
        }
        s.fds += open_fds(pid);
        s.cpu_ticks += procfs::cpu_ticks(pid).unwrap_or(0);
    }
    s
}

/// An emulator with the day's drive, an engine signed in past its first enumeration, the
/// history retention shortened in the home's settings, and the push socket gone again.
async fn prepare(plan: Plan, key: &'static str, who: &'static str) -> Result<Watched, BenchError> {
    let emu = EmulatorOnItsOwn::start(
        EmulatorConfig::default()
            .with_access_token_lifetime(Duration::from_secs(plan.access_token_secs))
            .with_subscription_lifetime(Duration::from_secs(plan.subscription_secs)),
    )
    .await?;
    let handle = emu.handle();
    for op in Workload::new().seed_ops() {
        op.apply(&handle, world::WATCHER, DRIVE);
    }
    let home = tempfile::tempdir().map_err(BenchError::io("a temporary home"))?;
    let scratch = tempfile::tempdir().map_err(BenchError::io("a scratch folder"))?;
    let (engine, _events) = world::signed_in_engine(
        &handle,
        home.path(),
        world::shipped_options(),
        Duration::from_secs(120),
    )
    .await?;
    engine.shutdown().await;
    drop(engine);
    let paths = Paths::under(home.path());
    let mut config = Config::load(&paths.config_file())?;
    config.history_retention_minutes = Some(plan.retention_minutes);
    config.save(&paths.config_file())?;
    let deadline = Instant::now() + Duration::from_secs(5);
    while handle.connected_sockets() > 0 && Instant::now() < deadline {
        sleep(Duration::from_millis(20)).await;
    }
    Ok(Watched {
        key,
        who,
        emu,
        home,
        scratch,
        running: None,
        samples: Vec::new(),
    })
}

/// Starts the app over its home and waits until its push socket joined.
async fn start(w: &mut Watched, app: &Path) -> Result<(), BenchError> {
    let running = match w.key {
        "cli" => Running::Cli(Subject::spawn_cli(app, w.home.path())?),
        _ => Running::Desktop(Desktop::spawn(app, w.home.path(), w.scratch.path()).await?),
    };
    w.running = Some(running);
    let handle = w.emu.handle();
    let deadline = Instant::now() + Duration::from_secs(60);
    while handle.connected_sockets() == 0 {
        if Instant::now() > deadline {
            return Err(BenchError::Timeout {
                what: "the app's push link",
            });
        }
        sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

async fn stop(running: Option<Running>) {
    match running {
        Some(Running::Cli(s)) => s.stop(Duration::from_secs(10)).await,
        Some(Running::Desktop(d)) => d.stop(Duration::from_secs(10)).await,
        None => {}
    }
}

/// The apps to soak: `drivewatch-cli` and the desktop app next to this binary, or why not.
pub struct Apps {
    pub cli: Result<PathBuf, String>,
    pub desktop: Result<PathBuf, String>,
}

/// Section 10: the soak of both apps in one window.
pub async fn soak(minutes: f64, apps: Apps) -> Outcome {
    let plan = Plan::new(minutes);
    let mut watched = Vec::new();
    let mut missing = Vec::new();
    for (key, who, app) in [
        ("cli", "drivewatch-cli watch", apps.cli),
        ("desktop", "desktop app, window closed", apps.desktop),
    ] {
        let started = match app {
            Err(why) => Err(why),
            Ok(path) => match prepare(plan, key, who).await {
                Err(e) => Err(e.to_string()),
                Ok(mut w) => match start(&mut w, &path).await {
                    Ok(()) => Ok(w),
                    Err(e) => {
                        stop(w.running.take()).await;
                        Err(e.to_string())
                    }
                },
            },
        };
        match started {
            Ok(w) => watched.push(w),
            Err(why) => {
                eprintln!("drivewatch-bench: soak of {who}: {why}");
                missing.push((key, who, why));
            }
        }
    }
    let made = run_day(plan, &mut watched).await;
    let mut figures = Vec::new();
    let mut rows = Vec::new();
    for mut w in watched {
        stop(w.running.take()).await;
        let stored = stored_changes(w.home.path(), plan);
        figures.extend(app_figures(&w, plan, stored));
        rows.push(json!({
            "app": w.key, "samples": w.samples, "stored": stored,
        }));
    }
    for (key, who, why) in &missing {
        figures.push(Figure::missing(
            NUMBER,
            &format!("soak.{key}"),
            &format!("Soak of {who}"),
            "",
            None,
            why,
        ));
    }
    Outcome {
        section: section(plan, made, &figures, rows),
        figures,
    }
}

/// What the day did, for the section.
#[derive(Debug, Default, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
struct Made {
    changes: usize,
    refused: usize,
    socket_drops: usize,
    seconds: f64,
    /// Files in the drive at the end (it started with 5,000).
    files_at_end: usize,
}

/// Makes the day's changes in every emulator, drops the sockets on schedule, samples.
async fn run_day(plan: Plan, watched: &mut [Watched]) -> Made {
    let mut made = Made::default();
    if watched.is_empty() {
        return made;
    }
    let handles: Vec<EmulatorHandle> = watched.iter().map(|w| w.emu.handle()).collect();
    let mut rng = fastrand::Rng::with_seed(20_240_601);
    let counts = day::schedule(plan.seconds as usize, plan.changes, &mut rng);
    let mut workload = Workload::new();
    let mut drops = plan
        .drops
        .iter()
        .map(|f| (f * plan.seconds as f64) as usize);
    let mut next_drop = drops.next();
    let t0 = Instant::now();
    let mut next_sample = t0;
    // Ten slices a second, so a second's changes are spread over it.
    const SLICES: usize = 10;
    for (second, &count) in counts.iter().enumerate() {
        if next_drop == Some(second) {
            for h in &handles {
                made.socket_drops += h.drop_all_sockets();
            }
            next_drop = drops.next();
        }
        for slice in 0..SLICES {
            let n = count / SLICES + usize::from(slice < count % SLICES);
            for _ in 0..n {
                let op: Op = workload.next_op(&mut rng);
                let who = Workload::person(&mut rng);
                for h in &handles {
                    if !op.apply(h, who, DRIVE) {
                        made.refused += 1;
                    }
                }
                made.changes += 1;
            }
            let now = Instant::now();
            if now >= next_sample {
                take_samples(watched, t0, made.changes);
                next_sample += SAMPLE_EVERY;
            }
            let due = t0 + Duration::from_millis(second as u64 * 1000 + (slice as u64 + 1) * 100);
            sleep_until(due).await;
        }
    }
    // The changes of the last seconds are delivered and stored before the last sample.
    sleep(Duration::from_secs(5)).await;
    take_samples(watched, t0, made.changes);
    made.seconds = t0.elapsed().as_secs_f64();
    made.files_at_end = workload.files();
    made
}

fn take_samples(watched: &mut [Watched], t0: Instant, changes: usize) {
    let seconds = t0.elapsed().as_secs_f64();
    for w in watched.iter_mut() {
        if let Some(r) = &w.running {
            let s = sample(&r.pids(), w.home.path(), seconds, changes);
            w.samples.push(s);
        }
    }
}

/// Changes in the history after the soak, and those older than retention and one pruning
/// interval (which pruning should have removed).
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
struct Stored {
    rows: i64,
    beyond_retention: usize,
}

fn stored_changes(home: &Path, plan: Plan) -> Option<Stored> {
    let store = HistoryStore::open(&Paths::under(home).history_db()).ok()?;
    let rows = store.count(None).ok()?;
    // Retention, plus the engine's pruning interval (a tenth of it, at least a minute), plus
    // the time since the app stopped.
    let retention = u64::from(plan.retention_minutes) * 60;
    let slack = (retention / 10).max(60) + 30;
    let cutoff = chrono::Utc::now() - chrono::Duration::seconds((retention + slack) as i64);
    let beyond_retention = store.prune_before(cutoff).ok()?;
    Some(Stored {
        rows,
        beyond_retention,
    })
}

/// The sample closest to `fraction` of the soak.
fn at(samples: &[Sample], fraction: f64) -> Option<&Sample> {
    let last = samples.last()?;
    let when = last.seconds * fraction;
    samples.iter().min_by(|a, b| {
        (a.seconds - when)
            .abs()
            .total_cmp(&(b.seconds - when).abs())
    })
}

/// The largest value of `f` over the samples in `from..=to` (fractions of the soak).
fn max_in(samples: &[Sample], from: f64, to: f64, f: impl Fn(&Sample) -> u64) -> Option<u64> {
    let end = samples.last()?.seconds;
    samples
        .iter()
        .filter(|s| s.seconds >= end * from - 0.5 && s.seconds <= end * to + 0.5)
        .map(f)
        .max()
}

fn mib(kib: u64) -> f64 {
    kib as f64 / MIB
}

fn app_figures(w: &Watched, plan: Plan, stored: Option<Stored>) -> Vec<Figure> {
    let s = &w.samples;
    let (key, who) = (w.key, w.who);
    let id = |name: &str| format!("soak.{key}.{name}");
    let name = |text: &str| format!("Soak, {who}: {text}");
    let (Some(first), Some(q1), Some(end)) = (s.first(), at(s, 0.25), s.last()) else {
        return vec![Figure::missing(
            NUMBER,
            &id("samples"),
            &name("samples"),
            "",
            None,
            "no sample was taken",
        )];
    };
    let diff = |a: u64, b: u64| a as f64 - b as f64;
    let hz = procfs::clock_ticks_per_second() as f64;
    let cpu_s = diff(end.cpu_ticks, first.cpu_ticks) / hz;
    let thousands = (end.changes - first.changes) as f64 / 1000.0;
    let q_max = |f: fn(&Sample) -> u64| {
        (
            max_in(s, 0.0, 0.25, f).unwrap_or(0),
            max_in(s, 0.75, 1.0, f).unwrap_or(0),
        )
    };
    let (threads_q1, threads_q4) = q_max(|x| x.threads);
    let (fds_q1, fds_q4) = q_max(|x| x.fds);
    let q3 = at(s, 0.75).unwrap_or(end);
    vec![
        Figure::new(
            NUMBER,
            &id("rss_end_mib"),
            &name("RSS at the end"),
            Some(mib(end.rss_kib)),
            "MiB",
            None,
        ),
        Figure::new(
            NUMBER,
            &id("rss_growth_mib"),
            &name("RSS growth, end of first quarter → end"),
            Some(diff(end.rss_kib, q1.rss_kib) / MIB),
            "MiB",
            Target::at_most(2.0),
        ),
        Figure::new(
            NUMBER,
            &id("anon_growth_mib"),
            &name("anonymous RSS growth, end of first quarter → end"),
            Some(diff(end.anon_kib, q1.anon_kib) / MIB),
            "MiB",
            None,
        ),
        Figure::new(
            NUMBER,
            &id("rss_peak_mib"),
            &name("largest RSS sampled"),
            s.iter().map(|x| x.rss_kib).max().map(mib),
            "MiB",
            None,
        ),
        Figure::new(
            NUMBER,
            &id("threads_growth"),
            &name(&format!(
                "threads, most in the last quarter − most in the first ({threads_q4} − {threads_q1})"
            )),
            Some(diff(threads_q4, threads_q1)),
            "",
            Target::at_most(0.0),
        ),
        Figure::new(
            NUMBER,
            &id("fds_growth"),
            &name(&format!(
                "open descriptors, most in the last quarter − most in the first ({fds_q4} − {fds_q1})"
            )),
            Some(diff(fds_q4, fds_q1)),
            "",
            Target::at_most(0.0),
        ),
        Figure::new(
            NUMBER,
            &id("db_end_mib"),
            &name("history database at the end (file, WAL and shared memory)"),
            Some(end.db_bytes as f64 / MIB / 1024.0),
            "MiB",
            None,
        ),
        Figure::new(
            NUMBER,
            &id("db_growth_mib"),
            &name("history database growth, end of first quarter → end"),
            Some(diff(end.db_bytes, q1.db_bytes) / MIB / 1024.0),
            "MiB",
            None,
        ),
        Figure::new(
            NUMBER,
            &id("db_growth_last_quarter_mib"),
            &name("history database growth over the last quarter (bounded: retention prunes)"),
            Some(diff(end.db_bytes, q3.db_bytes) / MIB / 1024.0),
            "MiB",
            Target::at_most(1.0),
        ),
        Figure::new(
            NUMBER,
            &id("rows_beyond_retention"),
            &name(&format!(
                "stored changes older than the {} min retention and a pruning interval, at the end",
                plan.retention_minutes
            )),
            stored.map(|x| x.beyond_retention as f64),
            "",
            Target::at_most(0.0),
        ),
        Figure::new(
            NUMBER,
            &id("cpu_s_per_1000"),
            &name("CPU (user + system) per 1,000 changes"),
            (thousands > 0.0).then(|| cpu_s / thousands),
            "s",
            Target::at_most(1.0),
        ),
    ]
}

/// One row of the section's table every minute (and the last sample); every 10 s sample is in
/// report.json.
fn table(rows: &[serde_json::Value]) -> serde_json::Value {
    let mut columns = vec!["t (s)".to_owned(), "changes".to_owned()];
    let mut series: Vec<Vec<Sample>> = Vec::new();
    for r in rows {
        let app = r["app"].as_str().unwrap_or("?");
        for c in ["RSS MiB", "anon MiB", "threads", "fds", "DB MiB", "CPU s"] {
            columns.push(format!("{app} {c}"));
        }
        series.push(serde_json::from_value(r["samples"].clone()).unwrap_or_default());
    }
    let longest = series.iter().map(Vec::len).max().unwrap_or(0);
    let hz = procfs::clock_ticks_per_second() as f64;
    let mut out = Vec::new();
    for i in (0..longest).filter(|i| i % 6 == 0 || i + 1 == longest) {
        let mut row = Vec::new();
        for (k, samples) in series.iter().enumerate() {
            let Some(s) = samples.get(i) else { continue };
            if k == 0 {
                row.push(format!("{:.0}", s.seconds));
                row.push(s.changes.to_string());
            }
            let cpu0 = samples.first().map_or(0, |f| f.cpu_ticks);
            row.push(format!("{:.1}", mib(s.rss_kib)));
            row.push(format!("{:.1}", mib(s.anon_kib)));
            row.push(s.threads.to_string());
            row.push(s.fds.to_string());
            row.push(format!("{:.1}", s.db_bytes as f64 / MIB / 1024.0));
            row.push(format!("{:.1}", (s.cpu_ticks - cpu0) as f64 / hz));
        }
        out.push(row);
    }
    json!({"columns": columns, "rows": out})
}

fn section(plan: Plan, made: Made, figures: &[Figure], rows: Vec<serde_json::Value>) -> Section {
    let minutes = plan.seconds as f64 / 60.0;
    let shown = |id: &str| {
        figures
            .iter()
            .find(|f| f.id == id)
            .and_then(|f| f.value)
            .map_or_else(|| "not measured".to_owned(), |v| format!("{v:.2}"))
    };
    Section {
        number: NUMBER,
        title: format!("Soak: a day of changes in {minutes:.0} minutes"),
        how: format!(
            "Two emulators (each on its own one-thread runtime), each with the user's OneDrive \
             holding 1,000 folders (20 × 50) and 5,000 files before anything is measured; one \
             engine signs in against each and enumerates it, then `drivewatch-cli watch` \
             watches one and the desktop app (`dbus-run-session -- drivewatch --hidden` on \
             Xvfb, as in section 7) the other, both from a stored token, at the same time. Over \
             {minutes:.0} minutes the same {changes} changes go to both, at the same instants: \
             a working day from 08:00 compressed (morning peak in the first quarter, the night \
             in the last), a random rate within each hour, a quiet spell of a tenth of every \
             hour and one burst of 2 % of the day in 3 s in each quarter; by three people (the \
             owner and two colleagues); new files, edits, renames, moves, deletes, folder \
             renames and folders deleted with their files and made again, the file count held \
             near 5,000 so the item index keeps its size ({files} at the end). Access tokens live {token} s, so the \
             engine (which refreshes with 5 minutes left) refreshes about every {refresh} s; \
             push subscriptions live {sub} s and are renewed at half that; every push socket \
             is dropped at {drops} of the run ({dropped} drops). The emulators' control API \
             (the `EmulatorHandle` methods) makes all of it. History retention ships at 30 \
             days, pruned daily, which a {minutes:.0}-minute run never reaches: the soak sets \
             `history_retention_minutes = {ret}` in each home's settings, and the engine prunes \
             a short retention every tenth of it (at least every minute), so the database must \
             level off from the second quarter. Every 10 s: VmRSS and RssAnon, Threads \
             (`/proc/PID/status`), entries of `/proc/PID/fd`, the sizes of the history database \
             and its -wal and -shm files, and utime+stime; for the desktop app, summed over it \
             and every process it started. Growth is the last sample (5 s after the last \
             change) minus the one at the end of the first quarter; threads and descriptors \
             compare the most seen in the last quarter with the most in the first, as Tokio's \
             blocking threads come and go with the load. {refused} changes of {attempts} were \
             refused by an emulator; the day took {took:.0} s.",
            changes = made.changes,
            token = plan.access_token_secs,
            refresh = plan.access_token_secs - REFRESH_MARGIN.as_secs(),
            sub = plan.subscription_secs,
            drops = plan
                .drops
                .iter()
                .map(|f| format!("{:.0} %", f * 100.0))
                .collect::<Vec<_>>()
                .join(", "),
            dropped = made.socket_drops,
            ret = plan.retention_minutes,
            refused = made.refused,
            attempts = made.changes * rows.len(),
            took = made.seconds,
            files = made.files_at_end,
        ),
        limits: format!(
            "A compressed day is not a day: timers of hours (the safety-net delta every 4 \
             hours, daily pruning at the shipped retention) do not fire, and memory that grows \
             with wall-clock time rather than with work would show less. Retention is \
             shortened (above), so the database figures show pruning working, not its size \
             after 30 days. The two apps and both emulators share the machine's cores with the \
             benchmark, so CPU per 1,000 changes includes waiting for neither but is read \
             under load. RSS counts allocator pages kept after the bursts; the first quarter \
             holds a burst and the morning peak so later quarters are compared with a warmed \
             process. CLI: RSS growth {cli_rss} MiB, CPU {cli_cpu} s per 1,000 changes; \
             desktop app: RSS growth {desk_rss} MiB, CPU {desk_cpu} s per 1,000 changes.",
            cli_rss = shown("soak.cli.rss_growth_mib"),
            cli_cpu = shown("soak.cli.cpu_s_per_1000"),
            desk_rss = shown("soak.desktop.rss_growth_mib"),
            desk_cpu = shown("soak.desktop.cpu_s_per_1000"),
        ),
        detail: json!({
            "plan": plan, "made": made, "apps": rows, "table": table(&rows),
        }),
    }
}
