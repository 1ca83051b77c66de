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

/// Section 4: the first full delta after a 410, on a big drive, in DriveWatch's own process.
pub async fn scale(sizes: Sizes) -> Result<Outcome, BenchError> {
    let mut seed = Seed::default();
    let drive = seed
        .drives
        .iter_mut()
        .find(|d| d.id == DRIVE)
        .ok_or(BenchError::Emulator(
            graph_emulator::EmulatorError::UnknownDrive(DRIVE.into()),
        ))?;
    let per_folder = 200;
    // Five minutes, and a further second per 5,000 items: a 1,000,000-item drive's baseline and
    // resync take minutes on a small machine, the emulator's seeding included.
    let within = Duration::from_secs(300 + (sizes.scale_items / 5_000) as u64);
    for i in 0..sizes.scale_items {
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
                    }
                    items = items.max(n.unwrap_or(0));
                }
                "live" | "polling" if first_resync_ms.is_some() => done_ms = Some(ms),
                _ => {}
            },
            _ => {}
        }
    }
    let memory = procfs::memory(subject.pid)?;
    subject.stop(Duration::from_secs(10)).await;
    let (started, done) = (started_ms.unwrap_or(0.0), done_ms.unwrap_or(0.0));
    let first = first_resync_ms.unwrap_or(started);
    // From the first page's progress to the end: every further page fetched, parsed and
    // classified, then the commit; not the start-up, the index load or the 410 round trip before it.
    let secs = (done - first) / 1000.0;
    let rate = (secs > 0.0).then(|| items.saturating_sub(first_items) as f64 / secs);
    let end_to_end = (done > started).then(|| items as f64 / ((done - started) / 1000.0));
    let total_items = sizes.scale_items + sizes.scale_items.div_ceil(per_folder) + 1;

    let figures = vec![
        Figure::new(
            4,
            "scale.items",
            "Scale: items enumerated after the 410",
            Some(items as f64),
            "",
            None,
        ),
        Figure::new(
            4,
            "scale.items_per_s",
            "Scale: items/s fetched, parsed, classified and stored",
            rate,
            "items/s",
            Target::at_least(100_000.0),
        ),
        Figure::new(
            4,
            "scale.items_per_s_end_to_end",
            "Scale: items/s from engine start (index load and 410 included)",
            end_to_end,
            "items/s",
            None,
        ),
        Figure::new(
            4,
            "scale.peak_rss_mib",
            "Scale: peak RSS of DriveWatch's process (VmHWM)",
            Some(memory.hwm_kib as f64 / MIB),
            "MiB",
            Target::at_most(100.0),
        ),
    ];
    let section = Section {
        number: 4,
        title: format!(
            "Scale: a {}-item drive, first full delta after a 410",
            sizes.scale_items
        ),
        how: format!(
            "A second emulator seeded with {} files in {} folders ({total_items} items with the \
             root; seeding took {:.1} s). An engine signs in and enumerates it once (baseline, \
             in-process, {:.1} s including sign-in), is shut down, and every delta token of the \
             drive is invalidated (410 resyncRequired). Then DriveWatch starts as its own \
             process (`drivewatch-bench host`: `Engine::start` over the stored settings and token, \
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
            sizes.scale_items,
            sizes.scale_items.div_ceil(per_folder),
            seeding.as_secs_f64(),
            baseline.as_secs_f64(),
        ),
        limits: "From a profile of the host process (perf) at 100,000 items. What bounds items/s \
                 now is DriveWatch parsing Graph's JSON: a 200-item page is about 200 KiB \
                 (about 1 KB per item) and serde_json reads it into typed items in about 0.5 ms, \
                 half of the host's CPU time in the timed window; diffing each page against the \
                 item index as it arrives takes about a fifth, loopback HTTP and the emulator \
                 (about 0.3 ms per page, served from pre-serialized text) the rest, and the \
                 single SQLite transaction writes only what changed (about 1 ms when nothing \
                 did). Before, the emulator bounded it (5-6 ms per page cloning, serializing and \
                 dropping a JSON tree per item on every request). Peak RSS is the engine's idle \
                 footprint (about 19 MiB) plus the whole item index, which a resync (and only a \
                 resync: incremental runs load just the entries they classify, and nothing is \
                 kept between runs) loads from SQLite for the run, about 350 bytes per item (five \
                 strings per entry), so the peak grows linearly with the drive: the resync keeps only the items that differ from the index and a bit per indexed \
                 item to find deletions, not the enumeration (before: every enumerated item, \
                 about 0.9 KB each, plus a copy of the index, 181 MiB). The end-to-end figure also \
                 holds loading the index (about 0.15 s) and the emulator building and serializing \
                 the whole enumeration before its first page (about 1 s). `--scale-items` sets \
                 the drive's size."
            .into(),
        detail: json!({
            "startedMs": started_ms, "firstResyncMs": first_resync_ms, "firstItems": first_items, "doneMs": done_ms,
            "baselineSeconds": baseline.as_secs_f64(), "seedingSeconds": seeding.as_secs_f64(),
            "vmHwmKiB": memory.hwm_kib, "vmRssKiB": memory.rss_kib, "threads": memory.threads,
        }),
    };
    drop(emu);
    Ok(Outcome { figures, section })
}
