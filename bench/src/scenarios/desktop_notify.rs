//! Section 9: change → `Notify` in the real desktop app, the toast reaching the desktop.
//!
//! Section 1 times a change to the toast policy's decision in this process; this one times it
//! to the moment the desktop app's toast arrives at the notification server, which is this
//! benchmark on the app's private session bus: the engine, the relay, the toast's wording and
//! the app's D-Bus call are all on the path. It must never measure anything but
//! `drivewatch --hidden` against the emulator on loopback.

use std::path::Path;
use std::time::Duration;

use graph_emulator::EmulatorHandle;
use serde_json::json;
use tokio::time::{Instant, sleep, sleep_until};

use crate::error::BenchError;
use crate::report::{Figure, Section, Target};
use crate::session::Notified;
use crate::stats;
use crate::subject::Desktop;
use crate::world::{self, CHANGER};

use super::footprint::socket_joined;
use super::*;

/// Folders the changes go round, so each folder's toast is redrawn at most about every
/// `FOLDERS` gaps: the policy redraws one toast at most once a second (`ToastLimits`).
const FOLDERS: usize = 4;
/// Gaps between changes, drawn from this range (seconds): four of them always pass a second.
const GAP: (f64, f64) = (0.3, 0.6);

fn folder(i: usize) -> String {
    format!("Notify-{i}")
}

/// For each change (when it was committed, its folder), the first `Notify` at or after it that
/// names its folder and came before that folder's next change: the toast (or the redraw of
/// the folder's toast) it made. `None` when it made none.
pub(crate) fn match_notify(
    changes: &[(Instant, usize)],
    notified: &[Notified],
) -> Vec<Option<Duration>> {
    changes
        .iter()
        .enumerate()
        .map(|(i, (at, f))| {
            let next = changes[i + 1..]
                .iter()
                .find(|(_, g)| g == f)
                .map(|(t, _)| *t);
            let name = folder(*f);
            notified
                .iter()
                .find(|n| {
                    n.at >= *at
                        && next.is_none_or(|t| n.at < t)
                        && (n.summary.contains(&name) || n.body.contains(&name))
                })
                .map(|n| n.at.saturating_duration_since(*at))
        })
        .collect()
}

/// Runs the desktop app over a signed-in home and times each change to its `Notify`.
pub async fn desktop_notify(
    emu: &EmulatorHandle,
    sizes: Sizes,
    app: &Path,
) -> Result<Outcome, BenchError> {
    for f in 0..FOLDERS {
        emu.create_folder(CHANGER, DRIVE, &folder(f))?;
    }
    let home = tempfile::tempdir().map_err(BenchError::io("a temporary home"))?;
    let scratch = tempfile::tempdir().map_err(BenchError::io("a scratch folder"))?;
    world::prepared_home(emu, home.path(), Duration::from_secs(60)).await?;
    let sockets_before = emu.connected_sockets();
    let desktop = Desktop::spawn(app, home.path(), scratch.path()).await?;
    let timed = timed_changes(emu, &desktop, sockets_before, sizes.idle).await;
    desktop.stop(Duration::from_secs(10)).await;
    let (changes, notified) = timed?;

    let matched = match_notify(&changes, &notified);
    let latencies: Vec<Duration> = matched.iter().flatten().copied().collect();
    let missed = matched.len() - latencies.len();
    let redraws = notified.iter().filter(|n| n.replaces_id != 0).count();
    let summary = stats::summarize(&latencies);
    let figures = vec![
        Figure::new(
            9,
            "desktop.notify.count",
            "Changes timed to their Notify (desktop app)",
            Some(latencies.len() as f64),
            "",
            None,
        ),
        Figure::new(
            9,
            "desktop.notify.p50_ms",
            "Change → Notify on the session bus, desktop app, p50",
            p(&summary, |s| s.p50_ms),
            "ms",
            Target::at_most(10.0),
        ),
        Figure::new(
            9,
            "desktop.notify.p99_ms",
            "Change → Notify on the session bus, desktop app, p99",
            p(&summary, |s| s.p99_ms),
            "ms",
            Target::at_most(50.0),
        ),
    ];
    let section = Section {
        number: 9,
        title: "Change → Notify in the desktop app".into(),
        how: format!(
            "The emulator of section 1 (coalescing 0, push at once). An engine signs in once \
             in-process (tokens in the file store of a temporary home), enumerates the watched \
             OneDrive and stops; the desktop app then starts as `drivewatch --hidden` over that \
             home, on Xvfb with a session bus of its own on which this benchmark is the \
             notification server (`org.freedesktop.Notifications`; every `Notify` call is \
             stamped on arrival, on the clock the changes are stamped with). Once its push \
             socket joined and 3 s passed, another user adds {n} files, going round {FOLDERS} \
             folders with gaps of {lo}-{hi} ms (a folder's toast is redrawn at most once a \
             second, so each change makes a new toast or a redraw at once), each stamped when \
             the emulator's mutation returns. A change's latency is to the first `Notify` \
             naming its folder after it and before that folder's next change. {calls} `Notify` \
             calls, {redraws} of them redraws in place; changes with no `Notify`: {missed}.",
            n = changes.len(),
            lo = GAP.0 * 1000.0,
            hi = GAP.1 * 1000.0,
            calls = notified.len(),
        ),
        limits: "The path is the socket.io tap, one delta call over loopback, the SQLite \
                 transaction, the engine's broadcast, the desktop relay and the toast policy, \
                 then the toast's wording and `Notify` on the app's one kept session-bus \
                 connection (the capabilities asked once), from an async task, and the bus \
                 daemon's hop to this process. The tray is redrawn after the toast is sent, on \
                 the main thread, so its redraw (dozens of GTK calls) is not on the path; made \
                 from the relay's worker it had added about 8 ms to most changes. The emulator \
                 answers the delta from its change log, whatever the drive holds (it used to \
                 sum the whole drive for the root's size: 6.4 ms per change after section 3's \
                 burst). The emulator, the app, the bus daemon and this benchmark share the \
                 machine's cores."
            .into(),
        detail: json!({
            "summary": summary, "changes": changes.len(), "notifyCalls": notified.len(),
            "redraws": redraws, "missed": missed,
        }),
    };
    Ok(Outcome { figures, section })
}

/// Waits for the app to go live, makes the changes, and returns them with every `Notify` the
/// app made meanwhile.
async fn timed_changes(
    emu: &EmulatorHandle,
    desktop: &Desktop,
    sockets_before: usize,
    span: Duration,
) -> Result<(Vec<(Instant, usize)>, Vec<Notified>), BenchError> {
    socket_joined(emu, sockets_before, Duration::from_secs(30)).await?;
    sleep(Duration::from_secs(3)).await;
    let before = desktop.bus.notified().len();
    let mut changes = Vec::new();
    let end = Instant::now() + span;
    let mut due = Instant::now();
    let mut i = 0;
    while Instant::now() < end {
        let f = i % FOLDERS;
        emu.upload(
            CHANGER,
            DRIVE,
            &format!("{}/n-{i:05}.txt", folder(f)),
            format!("change {i}"),
        )?;
        changes.push((Instant::now(), f));
        i += 1;
        due += Duration::from_secs_f64(GAP.0 + (GAP.1 - GAP.0) * fastrand::f64());
        sleep_until(due).await;
    }
    sleep(Duration::from_secs(2)).await;
    let notified = desktop.bus.notified().split_off(before);
    Ok((changes, notified))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notified(at: Instant, summary: &str) -> Notified {
        Notified {
            at,
            replaces_id: 0,
            summary: summary.into(),
            body: String::new(),
        }
    }

    #[test]
    fn each_change_takes_the_first_notify_of_its_folder_before_that_folders_next_change() {
        let t0 = Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        let changes = [(ms(0), 0), (ms(100), 1), (ms(1000), 0), (ms(1100), 1)];
        let notified = [
            notified(ms(5), "Alex added n-00000.txt in /Notify-0"),
            // Folder 1's first change made no toast; this one is its second change's.
            notified(ms(1103), "Alex added 2 files to /Notify-1"),
            notified(ms(1008), "Alex added 2 files to /Notify-0"),
        ];
        let got = match_notify(&changes, &notified);
        assert_eq!(
            got,
            vec![
                Some(Duration::from_millis(5)),
                None,
                Some(Duration::from_millis(8)),
                Some(Duration::from_millis(3)),
            ]
        );
    }
}
