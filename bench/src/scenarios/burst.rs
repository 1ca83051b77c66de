//! Section 3: a burst of changes across many folders.

use std::time::Duration;

use graph_emulator::EmulatorHandle;
use serde_json::json;
use tokio::time::{Instant, sleep, sleep_until};
use tokio_util::sync::CancellationToken;

use crate::counter::DeltaRequests;
use crate::error::BenchError;
use crate::observe::{self, Decisions};
use crate::report::{Figure, Section, Target};
use crate::world::{self, CHANGER};

use super::*;

/// Section 3: a burst across many folders.
pub async fn burst(
    emu: &EmulatorHandle,
    sizes: Sizes,
    counter: &DeltaRequests,
) -> Result<Outcome, BenchError> {
    for f in 0..sizes.burst_folders {
        emu.create_folder(CHANGER, DRIVE, &format!("Burst/f{f:03}"))?;
    }
    let home = tempfile::tempdir().map_err(BenchError::io("a temporary home"))?;
    let (engine, events) = world::signed_in_engine(
        emu,
        home.path(),
        world::shipped_options(),
        Duration::from_secs(60),
    )
    .await?;
    let n = sizes.burst_changes;
    let stop = CancellationToken::new();
    let observer = tokio::spawn(observe::decisions(events, "burst-", n, stop.clone()));
    let requests_before = counter.get();

    // Evenly spread in 10 ms steps.
    let steps = (sizes.burst_span.as_millis() / 10).max(1) as usize;
    let per_step = n.div_ceil(steps);
    let start = Instant::now();
    let mut made = 0;
    for step in 0..steps {
        for _ in 0..per_step {
            if made == n {
                break;
            }
            let folder = made % sizes.burst_folders;
            emu.upload(
                CHANGER,
                DRIVE,
                &format!("Burst/f{folder:03}/burst-{made:05}.txt"),
                "x",
            )?;
            made += 1;
        }
        sleep_until(start + Duration::from_millis(10 * (step as u64 + 1))).await;
    }
    let last = Instant::now();
    let written_in = last - start;
    let observed = tokio::time::timeout(Duration::from_secs(120), observer).await;
    let decisions = match observed {
        Ok(joined) => joined.unwrap_or_default(),
        Err(_) => {
            stop.cancel();
            Decisions::default()
        }
    };
    let all_in = decisions
        .progress
        .iter()
        .find(|(_, count)| *count >= n)
        .map(|(at, _)| at.saturating_duration_since(last));
    // Calls that a trailing run makes right after count too.
    sleep(Duration::from_secs(2)).await;
    let requests = counter.get() - requests_before;
    engine.shutdown().await;

    let toasts_total = decisions.toasts + decisions.deferred_toasts;
    let updates_total = decisions.updates + decisions.deferred_updates;
    let limits = drivewatch_core::toast_policy::ToastLimits::default();
    let spacing = world::shipped_options().run_spacing;
    let figures = vec![
        Figure::new(
            3,
            "burst.delta_requests",
            "Burst: delta requests made (all pages)",
            Some(requests as f64),
            "",
            None,
        ),
        Figure::new(
            3,
            "burst.delta_runs",
            "Burst: delta runs that reported changes",
            Some(decisions.batches as f64),
            "",
            None,
        ),
        Figure::new(
            3,
            "burst.toasts",
            "Burst: distinct toasts shown (incl. any held-back summary up to a minute later)",
            Some(toasts_total as f64),
            "",
            Target::at_most(5.0),
        ),
        Figure::new(
            3,
            "burst.toast_updates",
            "Burst: in-place updates of those toasts (not new toasts)",
            Some(updates_total as f64),
            "",
            None,
        ),
        match all_in {
            Some(d) => Figure::new(
                3,
                "burst.last_change_to_all_in_history_s",
                "Burst: last change → all in history",
                Some(d.as_secs_f64()),
                "s",
                Target::below(3.0),
            ),
            None => Figure::missing(
                3,
                "burst.last_change_to_all_in_history_s",
                "Burst: last change → all in history",
                "s",
                Target::below(3.0),
                &format!(
                    "only {} of {n} changes arrived within 120 s",
                    decisions.decided.len()
                ),
            ),
        },
    ];
    let section = Section {
        number: 3,
        title: format!(
            "Burst: {n} changes in {:.0} s across {} folders",
            sizes.burst_span.as_secs_f64(),
            sizes.burst_folders
        ),
        how: format!(
            "A fresh engine with the shipped options watches the drive with push (emulator \
             coalescing 0, so every change sends a notification). Another user creates {n} files \
             round-robin in {} folders, in 10 ms steps; writing took {:.2} s. Delta requests are \
             counted at the emulator from its one trace event per HTTP request (first pages, \
             nextLinks and deltaLinks), from the first change until 2 s after the last batch. \
             The engine's batches go to a `ToastPolicy` as a host's would: `decide` per batch, \
             `flush` at the times the policy names. Distinct toasts are toast ids the policy \
             showed: {} during the burst, plus {} it gave after the last batch (a held-back \
             summary comes up to a window later; {} changes were held back). Updates redraw a \
             toast already shown with its cumulative count (same id, replaced in place): {} \
             during the burst and {} after it. \"All in history\" is when the broadcast \
             carrying the last of them arrived: the engine broadcasts a batch only after its \
             SQLite transaction committed.",
            sizes.burst_folders,
            written_in.as_secs_f64(),
            decisions.toasts,
            decisions.deferred_toasts,
            decisions.held_back,
            decisions.updates,
            decisions.deferred_updates,
        ),
        limits: format!(
            "Delta runs start at the first tap; taps during a run queue one more, and once runs \
             follow each other back to back (a tap during the previous run or less than {} ms \
             after it) they start at most every {} ms, so a 5 s storm costs a run or two at once \
             and then about {:.0} a second (a page holds 200 items, so a run during the burst may \
             fetch several pages). The time to all-in-history is at most that spacing plus the \
             last run. Toasts: the policy groups changes per folder, \
             person and kind, and {} folders make {} groups; one batch gives at most {} new \
             toasts (the last a summary). A group or summary on screen takes in its later \
             changes as an update (at most one redraw per toast every {} ms) while changes keep \
             joining within {} s, and until a window of {} s after a summary other groups only \
             add to it, so a storm costs a handful of toasts however many folders and batches \
             it has (the cap of {} new toasts per window applies on top; updates do not count).",
            drivewatch_core::delta::debounce::STILL_BUSY_WITHIN.as_millis(),
            spacing.as_millis(),
            1.0 / spacing.as_secs_f64().max(0.001),
            sizes.burst_folders,
            sizes.burst_folders,
            limits.max_per_batch,
            limits.update_every.num_milliseconds(),
            limits.group_window.num_seconds(),
            limits.window.num_seconds(),
            limits.max_per_window
        ),
        detail: json!({
            "batches": decisions.batches, "toastsDuringBurst": decisions.toasts,
            "toastsAfter": decisions.deferred_toasts, "updatesDuringBurst": decisions.updates,
            "updatesAfter": decisions.deferred_updates, "heldBack": decisions.held_back,
            "runSpacingMs": spacing.as_millis() as u64,
            "writeSeconds": written_in.as_secs_f64(), "lagged": decisions.lagged,
        }),
    };
    Ok(Outcome { figures, section })
}
