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
mod figures;

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
use crate::report::Figure;
use crate::subject::{Desktop, Subject};
use crate::world::{self, EmulatorOnItsOwn};

use super::*;
use day::{Op, Workload};
use figures::{app_figures, section};

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
    /// Of `db_bytes`, the write-ahead log.
    pub wal_bytes: u64,
    pub cpu_ticks: u64,
}

/// One watched app: its emulator, home, and process.
pub(super) struct Watched {
    key: &'static str,
    who: &'static str,
    emu: EmulatorOnItsOwn,
    home: tempfile::TempDir,
    scratch: tempfile::TempDir,
    running: Option<Running>,
    samples: Vec<Sample>,
    /// When the app's process was found gone (seconds into the day): its figures are then
    /// "not measured", never read from a process that is not there.
    ended_at: Option<f64>,
}

// One value per app for the whole run: boxing the larger variant would buy nothing.
#[allow(clippy::large_enum_variant)]
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

/// The sizes of the history database's files: main, `-wal`, `-shm`.
fn db_files(home: &Path) -> [u64; 3] {
    let db = Paths::under(home).history_db();
    ["", "-wal", "-shm"].map(|suffix| {
        let mut p = db.clone().into_os_string();
        p.push(suffix);
        std::fs::metadata(PathBuf::from(p)).map_or(0, |m| m.len())
    })
}

/// The figures of every process of `pids` summed, now.
fn sample(pids: &[u32], home: &Path, seconds: f64, changes: usize) -> Sample {
    let db = db_files(home);
    let mut s = Sample {
        seconds,
        changes,
        db_bytes: db.iter().sum(),
        wal_bytes: db[1],
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
    world::prepared_home(&handle, home.path(), Duration::from_secs(120)).await?;
    let paths = Paths::under(home.path());
    let mut config = Config::load(&paths.config_file())?;
    config.history_retention_minutes = Some(plan.retention_minutes);
    config.save(&paths.config_file())?;
    Ok(Watched {
        key,
        who,
        emu,
        home,
        scratch,
        running: None,
        samples: Vec::new(),
        ended_at: None,
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
pub async fn soak(minutes: f64, apps: Apps, requests: &crate::counter::DeltaRequests) -> Outcome {
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
    let before = (requests.tokens(), requests.subscriptions());
    let mut made = run_day(plan, &mut watched).await;
    made.token_requests = requests.tokens() - before.0;
    made.subscription_requests = requests.subscriptions() - before.1;
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
pub(super) struct Made {
    changes: usize,
    refused: usize,
    socket_drops: usize,
    seconds: f64,
    /// Files in the drive at the end (it started with 5,000).
    files_at_end: usize,
    /// Token requests (refreshes) and socketIo subscription requests (renewals, and new ones
    /// after a drop) the emulators served during the day, both apps together.
    token_requests: u64,
    subscription_requests: u64,
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
        if let (Some(r), None) = (&w.running, w.ended_at) {
            let pids = r.pids();
            if procfs::memory(pids[0]).is_err() {
                eprintln!("drivewatch-bench: soak: {} ended at {seconds:.0} s", w.who);
                w.ended_at = Some(seconds);
                continue;
            }
            w.samples
                .push(sample(&pids, w.home.path(), seconds, changes));
        }
    }
}

/// Changes in the history after the soak, and those older than retention and one pruning
/// interval (which pruning should have removed).
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Stored {
    rows: i64,
    /// The newest change's `seq` (AUTOINCREMENT): every change the app ever stored.
    recorded: i64,
    beyond_retention: usize,
}

fn stored_changes(home: &Path, plan: Plan) -> Option<Stored> {
    let store = HistoryStore::open(&Paths::under(home).history_db()).ok()?;
    let rows = store.count(None).ok()?;
    let newest = drivewatch_core::model::HistoryQuery {
        limit: 1,
        ..Default::default()
    };
    let recorded = store
        .query(&newest)
        .ok()?
        .changes
        .first()
        .map_or(0, |c| c.seq);
    // Retention, plus the engine's pruning interval (a tenth of it, at least a minute), plus
    // the time since the app stopped.
    let retention = u64::from(plan.retention_minutes) * 60;
    let slack = (retention / 10).max(60) + 30;
    let cutoff = chrono::Utc::now() - chrono::Duration::seconds((retention + slack) as i64);
    let beyond_retention = store.prune_before(cutoff).ok()?;
    Some(Stored {
        rows,
        recorded,
        beyond_retention,
    })
}
