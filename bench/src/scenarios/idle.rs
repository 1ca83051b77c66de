//! One process tree's idle figures for the footprint sections: CPU time, context switches
//! thread by thread (named, so a report can say which thread woke), memory and PSS, and how
//! they are written into a section's text and detail. It must only read `/proc`, never signal
//! or change a process.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::json;
use tokio::time::{Instant, sleep};

use crate::error::BenchError;
use crate::procfs::{self, Memory, SwitchWatch};

use super::MIB;
use super::footprint::PING_EVERY;

/// How often the thread counters are sampled in the idle window.
const SAMPLE_EVERY: Duration = Duration::from_secs(1);

/// One process's idle figures.
pub(super) struct ProcIdle {
    pub(super) pid: u32,
    pub(super) name: String,
    pub(super) cpu_ticks: u64,
    pub(super) voluntary: u64,
    pub(super) involuntary: u64,
    pub(super) peak_threads: usize,
    pub(super) threads_born: usize,
    pub(super) memory: Memory,
    pub(super) pss_kib: Option<u64>,
    /// Voluntary switches by thread name (threads of one name summed), most first.
    pub(super) by_thread: Vec<(String, u64)>,
}

/// Samples every process in `pids` for `idle`: CPU time, context switches thread by thread
/// (see [`SwitchWatch`]), then memory at the end.
pub(super) async fn measure_idle(
    pids: &[u32],
    idle: Duration,
) -> Result<(Vec<ProcIdle>, f64), BenchError> {
    let mut cpu0 = HashMap::new();
    let mut watches = HashMap::new();
    for &pid in pids {
        cpu0.insert(pid, procfs::cpu_ticks(pid)?);
        watches.insert(pid, SwitchWatch::start(procfs::thread_switches(pid)?));
    }
    // Names as threads are seen: one that ends in the window keeps its name.
    let mut names: HashMap<(u32, u32), String> = HashMap::new();
    let mut name_new = |pid: u32, tids: &mut dyn Iterator<Item = u32>| {
        for tid in tids {
            names
                .entry((pid, tid))
                .or_insert_with(|| procfs::thread_name(pid, tid).unwrap_or_else(|| "?".into()));
        }
    };
    for (&pid, w) in &watches {
        name_new(pid, &mut w.voluntary_by_thread().into_keys());
    }
    let t0 = Instant::now();
    let end = t0 + idle;
    while Instant::now() < end {
        sleep(SAMPLE_EVERY.min(end.saturating_duration_since(Instant::now()))).await;
        for &pid in pids {
            let now = procfs::thread_switches(pid)?;
            name_new(pid, &mut now.keys().copied());
            if let Some(w) = watches.get_mut(&pid) {
                w.sample(now);
            }
        }
    }
    let seconds = t0.elapsed().as_secs_f64();
    let mut out = Vec::new();
    for &pid in pids {
        let w = &watches[&pid];
        let total = w.total();
        let mut by_name: HashMap<String, u64> = HashMap::new();
        for (tid, n) in w.voluntary_by_thread() {
            let name = names
                .get(&(pid, tid))
                .cloned()
                .unwrap_or_else(|| "?".into());
            *by_name.entry(name).or_default() += n;
        }
        let mut by_thread: Vec<(String, u64)> =
            by_name.into_iter().filter(|(_, n)| *n > 0).collect();
        by_thread.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        out.push(ProcIdle {
            pid,
            name: procfs::comm(pid).unwrap_or_else(|| "?".into()),
            cpu_ticks: procfs::cpu_ticks(pid)?.saturating_sub(cpu0[&pid]),
            voluntary: total.voluntary,
            involuntary: total.involuntary,
            peak_threads: w.peak_threads,
            threads_born: w.born,
            memory: procfs::memory(pid)?,
            pss_kib: procfs::pss_kib(pid),
            by_thread,
        });
    }
    Ok((out, seconds))
}

/// Voluntary switches a minute beyond one per socket.io ping (the floor: the socket's reader
/// wakes for each ping and answers it).
pub(super) fn beyond_pings_per_minute(procs: &[ProcIdle], seconds: f64) -> Option<f64> {
    let wakeups: u64 = procs.iter().map(|p| p.voluntary).sum();
    (seconds > 0.0).then(|| (wakeups as f64 - seconds / PING_EVERY).max(0.0) * 60.0 / seconds)
}

/// "name 108, name 11" for every thread that woke, process by process.
pub(super) fn wakeups_by_thread(procs: &[ProcIdle]) -> String {
    let listed: Vec<String> = procs
        .iter()
        .map(|p| {
            let threads: Vec<String> = p
                .by_thread
                .iter()
                .map(|(name, n)| format!("{name} {n}"))
                .collect();
            let threads = if threads.is_empty() {
                "none".to_owned()
            } else {
                threads.join(", ")
            };
            format!("{}: {threads}", p.name)
        })
        .collect();
    listed.join("; ")
}

pub(super) fn pss_sum_mib(procs: &[ProcIdle]) -> Option<f64> {
    procs
        .iter()
        .map(|p| p.pss_kib)
        .sum::<Option<u64>>()
        .map(|kib| kib as f64 / MIB)
}

pub(super) fn processes_json(procs: &[ProcIdle]) -> Vec<serde_json::Value> {
    procs
        .iter()
        .map(|p| {
            json!({
                "pid": p.pid, "name": p.name, "cpuTicks": p.cpu_ticks,
                "voluntary": p.voluntary, "involuntary": p.involuntary,
                "peakThreads": p.peak_threads, "threadsBorn": p.threads_born,
                "threadsAtEnd": p.memory.threads, "memory": p.memory, "pssKib": p.pss_kib,
                "voluntaryByThread": p.by_thread,
            })
        })
        .collect()
}

/// Memory, switches, CPU and threads of each process, for the section's text.
pub(super) fn describe_processes(procs: &[ProcIdle]) -> String {
    let each: Vec<String> = procs
        .iter()
        .map(|p| {
            format!(
                "{} {:.1} MiB RSS ({:.1} anonymous, {:.1} file; PSS {}), {} switches, {} CPU ticks, {} threads",
                p.name,
                p.memory.rss_kib as f64 / MIB,
                p.memory.anon_kib as f64 / MIB,
                p.memory.file_kib as f64 / MIB,
                p.pss_kib
                    .map(|k| format!("{:.1} MiB", k as f64 / MIB))
                    .unwrap_or_else(|| "unknown".into()),
                p.voluntary,
                p.cpu_ticks,
                p.peak_threads,
            )
        })
        .collect();
    each.join("; ")
}
