//! Sections 1 and 2: change → toast decision with push, beside delta polling.

use std::collections::HashMap;
use std::time::Duration;

use graph_emulator::EmulatorHandle;
use serde_json::json;
use tokio::sync::watch;
use tokio::time::{Instant, sleep, sleep_until};
use tokio_util::sync::CancellationToken;

use crate::error::BenchError;
use crate::observe::{self, Decisions};
use crate::poller::{Observed, Poller};
use crate::report::{Figure, Section, Target};
use crate::stats::{self, Summary};
use crate::world::{self, CHANGER, WATCHER};

use super::*;

/// Sections 1 and 2: change → toast decision with push, beside delta polling at two intervals.
pub async fn latency(emu: &EmulatorHandle, sizes: Sizes) -> Result<Outcome, BenchError> {
    emu.create_folder(CHANGER, DRIVE, "Latency")?;
    let home_shipped = tempfile::tempdir().map_err(BenchError::io("a temporary home"))?;
    let within = Duration::from_secs(60);
    let (shipped, ev_shipped) =
        world::signed_in_engine(emu, home_shipped.path(), world::shipped_options(), within).await?;
    let live = shipped
        .targets()
        .iter()
        .map(|t| format!("{:?}", t.status))
        .collect::<Vec<_>>();

    let n = sizes.stream_changes;
    let spacing_ms = world::shipped_options().run_spacing.as_millis();
    let busy_ms = drivewatch_core::delta::debounce::STILL_BUSY_WITHIN.as_millis();
    let mean_gap_ms = sizes.stream_span.as_secs_f64() * 1000.0 / n as f64;
    let (gap_lo, gap_hi) = (mean_gap_ms * 0.3, mean_gap_ms * 1.7);
    let stop = CancellationToken::new();
    let obs_shipped = tokio::spawn(observe::decisions(ev_shipped, "lat-", n, stop.clone()));

    let (token, _) = emu.issue_tokens(WATCHER)?;
    let (last_tx, last_rx) = watch::channel(None);
    let start = Instant::now();
    let graph = emu.graph_url();
    let slow = tokio::spawn(Poller::new(token.clone(), sizes.slow_poll)?.run(
        graph.clone(),
        start,
        last_rx.clone(),
    ));
    let fast = tokio::spawn(Poller::new(token, sizes.fast_poll)?.run(graph, start, last_rx));

    // Changes spread over the span with jittered gaps (mean span / n).
    let mean_gap = sizes.stream_span.as_secs_f64() / n as f64;
    let mut commits = HashMap::with_capacity(n);
    let mut due = Instant::now();
    for i in 0..n {
        let name = format!("lat-{i:05}.txt");
        emu.upload(
            CHANGER,
            DRIVE,
            &format!("Latency/{name}"),
            format!("change {i}"),
        )?;
        commits.insert(name, Instant::now());
        due += Duration::from_secs_f64(mean_gap * (0.3 + 1.4 * fastrand::f64()));
        sleep_until(due).await;
    }
    let last = Instant::now();
    let _ = last_tx.send(Some(last));
    let joined = |r: Result<Result<Observed, BenchError>, tokio::task::JoinError>| {
        r.map_err(|e| BenchError::Spawn(std::io::Error::other(e)))?
    };
    let slow = joined(slow.await)?;
    let fast = joined(fast.await)?;
    // The push observers should be long done; give stragglers a moment, then stop.
    sleep(Duration::from_secs(2)).await;
    stop.cancel();
    let d_shipped: Decisions = obs_shipped.await.unwrap_or_default();
    shipped.shutdown().await;

    let (l_shipped, miss_shipped) = latencies(&commits, &d_shipped.decided);
    let (l_slow, miss_slow) = latencies(&commits, &slow.first_seen);
    let (l_fast, miss_fast) = latencies(&commits, &fast.first_seen);
    let s_shipped = stats::summarize(&l_shipped);
    let s_slow = stats::summarize(&l_slow);
    let s_fast = stats::summarize(&l_fast);
    let ratio = |poll: &Option<Summary>| match (poll, &s_shipped) {
        (Some(poll), Some(push)) if push.p50_ms > 0.0 => Some(poll.p50_ms / push.p50_ms),
        _ => None,
    };

    let figures = vec![
        Figure::new(
            1,
            "latency.push.count",
            "Changes timed (push, shipped settings)",
            Some(l_shipped.len() as f64),
            "",
            Target::at_least(1000.0),
        ),
        Figure::new(
            1,
            "latency.push.p50_ms",
            "Change → toast decision p50 (shipped: run at the first tap)",
            p(&s_shipped, |s| s.p50_ms),
            "ms",
            Target::below(25.0),
        ),
        Figure::new(
            1,
            "latency.push.p95_ms",
            "Change → toast decision p95 (shipped)",
            p(&s_shipped, |s| s.p95_ms),
            "ms",
            None,
        ),
        Figure::new(
            1,
            "latency.push.p99_ms",
            "Change → toast decision p99 (shipped)",
            p(&s_shipped, |s| s.p99_ms),
            "ms",
            Target::below(100.0),
        ),
        Figure::new(
            2,
            "latency.poll60.p50_ms",
            "Delta polling every 60 s: median latency",
            p(&s_slow, |s| s.p50_ms),
            "ms",
            None,
        ),
        Figure::new(
            2,
            "latency.poll30.p50_ms",
            "Delta polling every 30 s: median latency",
            p(&s_fast, |s| s.p50_ms),
            "ms",
            None,
        ),
        Figure::new(
            2,
            "latency.ratio.poll60_over_push",
            "Median ratio, 60 s polling / push (shipped)",
            ratio(&s_slow),
            "×",
            None,
        ),
        Figure::new(
            2,
            "latency.ratio.poll30_over_push",
            "Median ratio, 30 s polling / push (shipped)",
            ratio(&s_fast),
            "×",
            None,
        ),
    ];
    let section = Section {
        number: 1,
        title: "Change → toast decision, push vs. delta polling (sections 1 and 2)".into(),
        how: format!(
            "One emulator (in this process, on its own one-thread runtime; coalescing 0) and one \
             stream of {n} file creations by another user in one folder of the watched user's \
             OneDrive, spread over {span:.0} s with jittered gaps. Each change is timestamped when \
             the emulator's mutation returns (committed, notification queued). An engine with the \
             shipped options watches the drive with push; its batches go to a \
             `ToastPolicy::decide` as a host would (and `flush` when the policy names a time), and \
             the change's decision time is taken right after `decide` returns for the batch \
             carrying it. The engine made {batches} delta runs that reported changes; the policy \
             gave {toasts} new toasts and {updates} in-place updates for them (one folder, one \
             person: a toast and then its redraws while changes keep coming within its group \
             window). In the same run, two plain HTTP delta pollers (not DriveWatch code) poll \
             every {slow:.0} s and {fast:.0} s from the stream's start until a poll after the last \
             change; an item's poll latency is when the page carrying it arrived. Misses (never \
             seen): push {miss_shipped}, 60 s poll {miss_slow}, 30 s poll {miss_fast}. Status at \
             start: {live:?}.",
            span = sizes.stream_span.as_secs_f64(),
            slow = sizes.slow_poll.as_secs_f64(),
            fast = sizes.fast_poll.as_secs_f64(),
            batches = d_shipped.batches,
            toasts = d_shipped.toasts + d_shipped.deferred_toasts,
            updates = d_shipped.updates + d_shipped.deferred_updates,
        ),
        limits: format!(
            "A tap while the target is idle starts a delta run at once, so the figure is the path \
             itself: socket.io tap, one delta HTTP call over loopback, classification, one SQLite \
             transaction, the broadcast and the policy. The engine spaces runs ({spacing_ms} ms \
             between starts) only once they follow each other back to back (a tap during the \
             previous run or less than {busy_ms} ms after it), which this stream, a change every \
             {gap_lo:.0} to {gap_hi:.0} ms, hardly ever does; the tail is a change that arrives while the previous \
             run is in flight and waits for it to end, plus scheduling on cores the emulator and \
             both pollers share. Polling latency is set by the interval: \
             about half of it on average, as the ratio shows."
        ),
        detail: json!({
            "shipped": s_shipped, "poll60": s_slow, "poll30": s_fast,
            "poll60Requests": slow.requests, "poll60Polls": slow.polls,
            "poll30Requests": fast.requests, "poll30Polls": fast.polls,
            "shippedBatches": d_shipped.batches, "runSpacingMs": spacing_ms,
            "shippedToasts": d_shipped.toasts + d_shipped.deferred_toasts,
            "shippedUpdates": d_shipped.updates + d_shipped.deferred_updates,
            "lagged": d_shipped.lagged,
        }),
    };
    Ok(Outcome { figures, section })
}
