//! Section 4: the first full delta of a big drive after a 410.
//!
//! It measures the resync and must never time out merely because the drive is big: its waits grow
//! with `--scale-items` (100,000 by default, 1,000,000 works).

use std::time::Duration;

use graph_emulator::seed::SeedItem;
use graph_emulator::{EmulatorConfig, ResyncCode, Seed};
use serde_json::json;
use tokio::time::Instant;

use crate::error::BenchError;
use crate::host::HostLine;
use crate::procfs;
use crate::report::{Figure, Section, Target};
use crate::subject::Subject;
use crate::world::{self, EmulatorOnItsOwn};

use super::*;

/// Which drive a scale section measures, and under which section number and figure ids.
#[derive(Debug, Clone, Copy)]
pub struct ScaleRun {
    pub items: usize,
    pub section: u8,
    /// The figures' id prefix (`scale`, `scale_1m`).
    pub id: &'static str,
}

/// Section 4 (and 11, a million items): the first full delta after a 410, on a big drive, in
/// DriveWatch's own process.
pub async fn scale(run: ScaleRun) -> Result<Outcome, BenchError> {
    let mut seed = Seed::default();
    let drive = seed
        .drives
        .iter_mut()
        .find(|d| d.id == DRIVE)
        .ok_or(BenchError::Emulator(
            graph_emulator::EmulatorError::UnknownDrive(DRIVE.into()),
        ))?;
    let per_folder = 200;
    // Five minutes, and a further second per 1,000 items: a 1,000,000-item drive's baseline and
    // resync take minutes on a small machine, the emulator's seeding and its serializing of the
    // whole enumeration (twice) included, and several times that on a machine busy with other work.
    let within = Duration::from_secs(300 + (run.items / 1_000) as u64);
    for i in 0..run.items {
        drive.items.push(SeedItem {
            path: format!("Scale/d{:04}/file-{i:06}.txt", i / per_folder),
            content: Some("x".into()),
            folder: false,
            by: None,
        });
    }
    let built = Instant::now();
    let emu = EmulatorOnItsOwn::start(
        EmulatorConfig::default()
            .with_coalescing_delay(Duration::ZERO)
            .with_seed(seed),
    )
    .await?;
    let seeding = built.elapsed();
    let handle = emu.handle();
    let home = tempfile::tempdir().map_err(BenchError::io("a temporary home"))?;
    let t = Instant::now();
    let (engine, _events) =
        world::signed_in_engine(&handle, home.path(), world::shipped_options(), within).await?;
    let baseline = t.elapsed();
    engine.shutdown().await;
    drop(engine);
    handle.invalidate_delta_tokens(Some(DRIVE), ResyncCode::ResyncRequired)?;

    let mut subject = Subject::spawn(home.path())?;
    let deadline = Instant::now() + within;
    let mut started_ms = None;
    let mut first_resync_ms = None;
    let mut items = 0u64;
    let mut first_items = 0u64;
    let mut done_ms = None;
    // CPU ticks of the host and of this process (the emulator serving the pages) at the first
    // page and at the end: where the window's CPU went.
    let cpu_now = |pid: u32| {
        procfs::cpu_ticks(pid)
            .ok()
            .zip(procfs::cpu_ticks(std::process::id()).ok())
    };
    let (mut at_first, mut at_done) = (None, None);
    while done_ms.is_none() {
        let (_, line) = subject.next(deadline, "the resync to finish").await?;
        match line {
            HostLine::Started { ms } => started_ms = Some(ms),
            HostLine::Status {
                ms,
                status,
                items: n,
            } => match status.as_str() {
                "resyncing" => {
                    if first_resync_ms.is_none() {
                        first_resync_ms = Some(ms);
                        first_items = n.unwrap_or(0);
                        at_first = cpu_now(subject.pid);
                    }
                    items = items.max(n.unwrap_or(0));
                }
                "live" | "polling" if first_resync_ms.is_some() => {
                    done_ms = Some(ms);
                    at_done = cpu_now(subject.pid);
                }
                _ => {}
            },
            _ => {}
        }
    }
    let memory = procfs::memory(subject.pid)?;
    // The host's whole CPU time (start-up included): what the resync cost, whatever the load.
    let cpu_seconds = procfs::cpu_ticks(subject.pid)
        .ok()
        .map(|t| t as f64 / procfs::clock_ticks_per_second() as f64);
    subject.stop(Duration::from_secs(10)).await;
    let (started, done) = (started_ms.unwrap_or(0.0), done_ms.unwrap_or(0.0));
    let first = first_resync_ms.unwrap_or(started);
    // From the first page's progress to the end: every further page fetched, parsed and
    // classified, then the commit; not the start-up, the index load or the 410 round trip before it.
    let secs = (done - first) / 1000.0;
    let rate = (secs > 0.0).then(|| items.saturating_sub(first_items) as f64 / secs);
    let end_to_end = (done > started).then(|| items as f64 / ((done - started) / 1000.0));
    let total_items = run.items + run.items.div_ceil(per_folder) + 1;
    let hz = procfs::clock_ticks_per_second() as f64;
    // Host and emulator CPU seconds over the timed window.
    let window_cpu = at_first.zip(at_done).map(|((h0, e0), (h1, e1))| {
        (
            h1.saturating_sub(h0) as f64 / hz,
            e1.saturating_sub(e0) as f64 / hz,
        )
    });
    let cpu_split = match (window_cpu, secs > 0.0) {
        (Some((host, emulator)), true) => {
            let listed = items.saturating_sub(first_items).max(1) as f64;
            format!(
                "In this run the host used {host:.1} s of CPU over the {secs:.1} s window \
                 ({:.2} cores on average, {:.1} µs per item) and the benchmark's process, the \
                 emulator serving the pages, {emulator:.1} s ({:.2} cores). ",
                host / secs,
                host / listed * 1e6,
                emulator / secs,
            )
        }
        _ => String::new(),
    };

    let figures = vec![
        Figure::new(
            run.section,
            &format!("{}.items", run.id),
            "Scale: items enumerated after the 410",
            Some(items as f64),
            "",
            None,
        ),
        Figure::new(
            run.section,
            &format!("{}.items_per_s", run.id),
            "Scale: items/s fetched, parsed, classified and stored",
            rate,
            "items/s",
            Target::at_least(100_000.0),
        ),
        Figure::new(
            run.section,
            &format!("{}.items_per_s_end_to_end", run.id),
            "Scale: items/s from engine start (index load and 410 included)",
            end_to_end,
            "items/s",
            None,
        ),
        Figure::new(
            run.section,
            &format!("{}.peak_rss_mib", run.id),
            "Scale: peak RSS of DriveWatch's process (VmHWM)",
            Some(memory.hwm_kib as f64 / MIB),
            "MiB",
            Target::at_most(100.0),
        ),
    ];
    let section = Section {
        number: run.section,
        title: format!(
            "Scale: a {}-item drive, first full delta after a 410",
            run.items
        ),
        how: format!(
            "A second emulator seeded with {} files in {} folders ({total_items} items with the \
             root; seeding took {:.1} s). An engine signs in and enumerates it once (baseline, \
             in-process, {:.1} s including sign-in), is shut down, and every delta token of the \
             drive is invalidated (410 resyncRequired). Then DriveWatch starts as its own \
             process (`drivewatch-bench-host`, a binary of its own: `Engine::start` over the stored settings and token, \
             shipped options, events as JSON lines) and its catch-up delta meets the 410 and \
             enumerates again, diffing against its stored index. Items/s = items the enumeration \
             reported after its first page / time from that first page's progress report to the \
             target leaving the resyncing state (every further page fetched over loopback HTTP, \
             parsed and diffed against the item index as it arrives, then the one SQLite \
             transaction storing the changes, index updates and cursor); the \
             end-to-end row divides all items by the time from `Engine::start` returning (the \
             index load, the 410 answer and the first page included). Peak \
             RSS is that process's VmHWM from /proc, read once the resync is done; the emulator \
             runs in the benchmark's process and is not counted.",
            run.items,
            run.items.div_ceil(per_folder),
            seeding.as_secs_f64(),
            baseline.as_secs_f64(),
        ),
        limits: format!(
            "{cpu_split}The resync compares each page with the item index in SQLite as it arrives \
                 (one primary-key lookup per item, on a blocking thread while the next page is \
                 fetched and parsed), appends a mark per listed item under the run's generation \
                 and keeps only the items that differ; at the end the marks, sorted by SQLite, \
                 are merged with the index in id order to find the deletions, and the one \
                 transaction stores the changes, index updates and cursor and drops the marks. \
                 So the host does the work the items need in CPU, not in memory: per item a \
                 serde_json parse of about 1 KB of Graph's JSON, a b-tree lookup (a page read \
                 from the OS cache once the index outgrows SQLite's cache) and an appended row; \
                 items/s is bounded by that CPU, shared on a small machine with the emulator \
                 serving the pages. Peak RSS is the engine's idle footprint (about 19 MiB) plus \
                 SQLite's page cache, which a resync raises to a fixed 40 MiB for its lookups and \
                 lowers to 16 MiB for the final merge (whose sorter takes as much memory as the \
                 cache may hold), plus two pages in flight and what changed: it does not grow with the drive \
                 (before: the whole item index, about 350 bytes per item, loaded for the run). \
                 The end-to-end figure also holds the emulator building and serializing the \
                 whole enumeration before its first page (about 1 s per 100,000 items). \
                 The comparison of a page (on one blocking thread) and the fetch and parse of \
                 the next (on the async workers) run side by side, so items/s is set by the \
                 slower of the two plus the final merge, not by the sum: measured with perf at \
                 a million items, the comparison thread spent about a quarter of its time in the \
                 kernel copying index pages SQLite's cache could not hold, a sixth in the page \
                 cache's lookups and a quarter comparing b-tree keys (each row's key starts with \
                 the target's name, about 40 bytes, before the item id). \
                 `--scale-items` sets the drive's size (1,000,000 works; the waits grow with it)."
        ),
        detail: json!({
            "startedMs": started_ms, "firstResyncMs": first_resync_ms, "firstItems": first_items, "doneMs": done_ms,
            "baselineSeconds": baseline.as_secs_f64(), "seedingSeconds": seeding.as_secs_f64(),
            "vmHwmKiB": memory.hwm_kib, "vmRssKiB": memory.rss_kib, "threads": memory.threads,
            "cpuSeconds": cpu_seconds, "loadAverage": procfs::load_average(),
            "windowCpuSeconds": window_cpu.map(|(host, emulator)| json!({"host": host, "emulator": emulator})),
        }),
    };
    drop(emu);
    Ok(Outcome { figures, section })
}
