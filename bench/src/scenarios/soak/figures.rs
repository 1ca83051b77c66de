//! The soak's figures, its table and its section text, from the samples `soak` took.
//!
//! Growth is read the way the issue states its targets: the end against the end of the first
//! quarter, the first quarter being the warm-up. This module only computes and formats; it must
//! never sample or start anything.

use serde_json::json;

use super::{Made, NUMBER, Plan, REFRESH_MARGIN, Sample, Stored, Watched};
use crate::procfs;
use crate::report::{Figure, Section, Target};
use crate::scenarios::MIB;

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

/// The values of `f` over the samples in `from..=to` (fractions of the soak), ascending.
fn values_in(samples: &[Sample], from: f64, to: f64, f: impl Fn(&Sample) -> u64) -> Vec<u64> {
    let end = samples.last().map_or(0.0, |s| s.seconds);
    let mut v: Vec<u64> = samples
        .iter()
        .filter(|s| s.seconds >= end * from - 0.5 && s.seconds <= end * to + 0.5)
        .map(f)
        .collect();
    v.sort_unstable();
    v
}

/// What a quarter saw of `f`, the first quarter's and the last's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Quarter {
    /// The resting level, which a leak raises: connections and threads that come and go with
    /// the load do not (a phase of the day can hold one for longer than half a quarter, which
    /// moves a median).
    lowest: u64,
    median: u64,
    most: u64,
}

/// `f`'s quarters; the first sample (taken as the app starts, before its connections open)
/// is left out of the first.
fn quarters(samples: &[Sample], f: fn(&Sample) -> u64) -> [Quarter; 2] {
    let started = samples.get(1..).unwrap_or_default();
    [(started, 0.0, 0.25), (samples, 0.75, 1.0)].map(|(s, from, to)| {
        // `started` ends where `samples` does, so the quarters are the same stretch of time.
        let v = values_in(s, from, to, f);
        Quarter {
            lowest: v.first().copied().unwrap_or(0),
            median: v.get(v.len() / 2).copied().unwrap_or(0),
            most: v.last().copied().unwrap_or(0),
        }
    })
}

fn mib(kib: u64) -> f64 {
    kib as f64 / MIB
}

pub(super) fn app_figures(w: &Watched, plan: Plan, stored: Option<Stored>) -> Vec<Figure> {
    let s = &w.samples;
    let (key, who) = (w.key, w.who);
    let id = |name: &str| format!("soak.{key}.{name}");
    let name = |text: &str| format!("Soak, {who}: {text}");
    let (Some(first), Some(q1), Some(end), None) = (s.first(), at(s, 0.25), s.last(), w.ended_at)
    else {
        let why = match w.ended_at {
            Some(t) => format!("the app ended {t:.0} s into the soak"),
            None => "no sample was taken".to_owned(),
        };
        return vec![Figure::missing(
            NUMBER,
            &id("samples"),
            &name("samples"),
            "",
            None,
            &why,
        )];
    };
    let diff = |a: u64, b: u64| a as f64 - b as f64;
    let hz = procfs::clock_ticks_per_second() as f64;
    let cpu_s = diff(end.cpu_ticks, first.cpu_ticks) / hz;
    let thousands = (end.changes - first.changes) as f64 / 1000.0;
    let [threads_q1, threads_q4] = quarters(s, |x| x.threads);
    let [fds_q1, fds_q4] = quarters(s, |x| x.fds);
    let level = |what: &str, q1: Quarter, q4: Quarter| {
        format!(
            "{what}, last quarter's lowest − first quarter's ({} − {}; medians {} and {}, most seen {} and {})",
            q4.lowest, q1.lowest, q4.median, q1.median, q4.most, q1.most
        )
    };
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
            &name(&level("threads", threads_q1, threads_q4)),
            Some(diff(threads_q4.lowest, threads_q1.lowest)),
            "",
            Target::at_most(0.0),
        ),
        Figure::new(
            NUMBER,
            &id("fds_growth"),
            &name(&level("open descriptors", fds_q1, fds_q4)),
            Some(diff(fds_q4.lowest, fds_q1.lowest)),
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
            &id("recorded"),
            &name("changes the app stored over the run (the history's newest seq)"),
            stored.map(|x| x.recorded as f64),
            "",
            None,
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
        for c in [
            "RSS MiB", "anon MiB", "threads", "fds", "DB MiB", "WAL MiB", "CPU s",
        ] {
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
            row.push(format!("{:.1}", s.wal_bytes as f64 / MIB / 1024.0));
            row.push(format!("{:.1}", (s.cpu_ticks - cpu0) as f64 / hz));
        }
        out.push(row);
    }
    json!({"columns": columns, "rows": out})
}

pub(super) fn section(
    plan: Plan,
    made: Made,
    figures: &[Figure],
    rows: Vec<serde_json::Value>,
) -> Section {
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
             is dropped at {drops} of the run ({dropped} drops). The emulators served \
             {tokens} token requests (refreshes) and {subs} socketIo subscription requests \
             (renewals, and new subscriptions after each drop) in the day, both apps together. The emulators' control API \
             (the `EmulatorHandle` methods) makes all of it. History retention ships at 30 \
             days, pruned daily, which a {minutes:.0}-minute run never reaches: the soak sets \
             `history_retention_minutes = {ret}` in each home's settings, and the engine prunes \
             a short retention every tenth of it (at least every minute), so the database must \
             level off from the second quarter. Every 10 s: VmRSS and RssAnon, Threads \
             (`/proc/PID/status`), entries of `/proc/PID/fd`, the sizes of the history database \
             and its -wal and -shm files, and utime+stime; for the desktop app, summed over it \
             and every process it started. Growth is the last sample (5 s after the last \
             change) minus the one at the end of the first quarter; threads and descriptors \
             compare the last quarter's lowest with the first quarter's (from the second \
             sample: the first is taken as the app starts), the level they rest at, which a \
             leak raises: Tokio's blocking threads and HTTP and socket connections come and go \
             with the load, and a phase of the day can hold one open for longer than half a \
             quarter, which moves a median by one (medians and peaks are given beside). {refused} changes of {attempts} were \
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
            tokens = made.token_requests,
            subs = made.subscription_requests,
        ),
        limits: format!(
            "A compressed day is not a day: timers of hours (the safety-net delta every 4 \
             hours, daily pruning at the shipped retention) do not fire, and memory that grows \
             with wall-clock time rather than with work would show less. Retention is \
             shortened (above), so the database figures show pruning working, not its size \
             after 30 days. The two apps and both emulators share the machine's cores with the \
             benchmark, so CPU per 1,000 changes includes waiting for neither but is read \
             under load. RSS is read between samples' work, so a sample inside a burst shows \
             the burst's heap; the engine gives free heap back every 1,000 items (glibc's \
             malloc_trim; before it, the CLI's anonymous memory stepped up 1.4 MiB at the \
             day's largest burst and stayed there, 2.04 MiB of growth in all), so what a \
             burst leaves behind is at most about that much work's worth. The first quarter \
             holds a burst and the morning peak so later quarters are compared with a warmed \
             process. Threads: Tokio's blocking pool (the SQLite calls) keeps a thread 10 s \
             after its last task and hands tasks round its idle threads, so its size follows \
             how many calls overlapped lately. Sampled by name every 2 s in a short run, the \
             desktop app's threads were two unnamed ones (the main thread and one more), \
             GLib's gdbus and gmain, the checkpoint thread, and six Tokio threads (two workers \
             and that pool), so a thread more or less between quarters is the pool, not a thread per \
             event. Descriptors, read every 0.2 s in a short run: besides the history \
             database's files, only sockets came and went (HTTP connections opened while calls \
             overlapped and closed once idle, the push socket replaced at each drop), each \
             closed again within seconds to minutes, so the count moves by one with the load \
             and its resting level is what a leak would raise. The desktop app's private session bus has no notification server, so \
             each toast's D-Bus call fails at once (ServiceUnknown, logged) and no toast worker \
             waits for an action: the toast path up to the D-Bus call is soaked, a shown \
             notification is not. CLI: RSS growth {cli_rss} MiB, CPU {cli_cpu} s per 1,000 changes; \
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

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(values: &[(u64, u64)]) -> Vec<Sample> {
        values
            .iter()
            .enumerate()
            .map(|(i, &(rss_kib, fds))| Sample {
                seconds: i as f64 * 10.0,
                rss_kib,
                fds,
                ..Sample::default()
            })
            .collect()
    }

    #[test]
    fn quarters_and_the_first_quarter_s_end_are_found_by_time() {
        // 0..80 s: the first quarter ends at 20 s.
        let s = samples(&[
            (100, 9),
            (110, 20),
            (120, 10),
            (121, 10),
            (122, 10),
            (123, 10),
            (124, 11),
            (125, 11),
            (126, 40),
        ]);
        assert_eq!(at(&s, 0.25).unwrap().rss_kib, 120);
        assert_eq!(at(&s, 1.0).unwrap().rss_kib, 126);
        // The first sample (9: the app starting) is not part of the first quarter's level;
        // the lowest and the median ignore one busy sample (40), the most seen keeps it.
        let q = |lowest, median, most| Quarter {
            lowest,
            median,
            most,
        };
        assert_eq!(quarters(&s, |x| x.fds), [q(10, 20, 20), q(11, 11, 40)]);
        assert!(at(&[], 0.25).is_none());
    }

    #[test]
    fn the_plan_scales_with_the_soak_s_length() {
        let full = Plan::new(20.0);
        assert_eq!((full.seconds, full.changes), (1200, 200_000));
        // A refresh every 2 minutes, a renewal every 2 minutes, 5 minutes of history.
        assert_eq!(full.access_token_secs - REFRESH_MARGIN.as_secs(), 120);
        assert_eq!(full.subscription_secs, 240);
        assert_eq!(full.retention_minutes, 5);
        let short = Plan::new(2.0);
        assert_eq!(
            (
                short.changes,
                short.subscription_secs,
                short.retention_minutes
            ),
            (20_000, 60, 1)
        );
    }
}
