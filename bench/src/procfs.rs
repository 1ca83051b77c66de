//! What Linux says about a process and the machine: memory, CPU time, context switches.
//!
//! The footprint and scale figures are read from `/proc` of DriveWatch's own process (a child
//! of the benchmark), never estimated from inside it. Parsing is split from reading so it is
//! tested on fixed text. This module must never write to `/proc` or signal a process.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use serde::Serialize;

use crate::error::BenchError;

/// Memory figures of `/proc/PID/status`, in KiB.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Memory {
    /// Resident set size now.
    pub rss_kib: u64,
    /// Peak resident set size ("high water mark").
    pub hwm_kib: u64,
    /// Of `rss_kib`: anonymous pages (heap, stacks, arenas) and file pages (the binary's and
    /// libraries' code and data as far as they were touched).
    pub anon_kib: u64,
    pub file_kib: u64,
    pub threads: u64,
}

/// Context switches, summed over every thread of a process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Switches {
    /// The thread gave up the CPU itself (it went to sleep or waited): a wake-up followed.
    pub voluntary: u64,
    pub involuntary: u64,
}

fn field_kib(text: &str, key: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|rest| rest.trim_start_matches(':').split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// Parses the memory lines of a `/proc/PID/status` text.
pub fn parse_memory(status: &str) -> Memory {
    Memory {
        rss_kib: field_kib(status, "VmRSS").unwrap_or(0),
        hwm_kib: field_kib(status, "VmHWM").unwrap_or(0),
        anon_kib: field_kib(status, "RssAnon").unwrap_or(0),
        file_kib: field_kib(status, "RssFile").unwrap_or(0),
        threads: field_kib(status, "Threads").unwrap_or(0),
    }
}

/// Parses the context-switch lines of one thread's `status` text.
pub fn parse_switches(status: &str) -> Switches {
    Switches {
        voluntary: field_kib(status, "voluntary_ctxt_switches").unwrap_or(0),
        involuntary: field_kib(status, "nonvoluntary_ctxt_switches").unwrap_or(0),
    }
}

/// User plus system CPU time in clock ticks from a `/proc/PID/stat` line.
pub fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // fields[0] is field 3 (state); utime is field 14, stime field 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

fn read(path: &Path) -> Result<String, BenchError> {
    std::fs::read_to_string(path).map_err(BenchError::io(path))
}

pub fn memory(pid: u32) -> Result<Memory, BenchError> {
    Ok(parse_memory(&read(Path::new(&format!(
        "/proc/{pid}/status"
    )))?))
}

pub fn cpu_ticks(pid: u32) -> Result<u64, BenchError> {
    let path = format!("/proc/{pid}/stat");
    let text = read(Path::new(&path))?;
    parse_cpu_ticks(&text).ok_or(BenchError::Io {
        path: path.into(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, "unexpected stat line"),
    })
}

/// Each live thread's context switches, by thread id.
pub fn thread_switches(pid: u32) -> Result<HashMap<u32, Switches>, BenchError> {
    let dir = format!("/proc/{pid}/task");
    let mut out = HashMap::new();
    for entry in std::fs::read_dir(&dir).map_err(BenchError::io(&dir))? {
        let entry = entry.map_err(BenchError::io(&dir))?;
        let Some(tid) = entry.file_name().to_str().and_then(|t| t.parse().ok()) else {
            continue;
        };
        // A thread may end between listing and reading: it simply is not there.
        if let Ok(text) = std::fs::read_to_string(entry.path().join("status")) {
            out.insert(tid, parse_switches(&text));
        }
    }
    Ok(out)
}

/// Context switches of a process over a window, thread by thread, so a thread that ends
/// during the window (Tokio's idle blocking threads end after 10 s) keeps what it did up to
/// the last sample instead of taking its whole count with it. Sample often (every second)
/// so what a thread does between its last sample and its end is small.
#[derive(Debug, Clone, Default)]
pub struct SwitchWatch {
    /// Each thread's count when first seen: at the start, or 0 for one born in the window.
    first: HashMap<u32, Switches>,
    last: HashMap<u32, Switches>,
    /// Most threads seen alive at once.
    pub peak_threads: usize,
    /// Threads seen in the window that were not there at its start.
    pub born: usize,
}

impl SwitchWatch {
    /// Starts the window with the threads alive now.
    pub fn start(now: HashMap<u32, Switches>) -> SwitchWatch {
        SwitchWatch {
            peak_threads: now.len(),
            first: now.clone(),
            last: now,
            born: 0,
        }
    }

    /// Adds a sample: every live thread's counts now.
    pub fn sample(&mut self, now: HashMap<u32, Switches>) {
        self.peak_threads = self.peak_threads.max(now.len());
        for (tid, s) in now {
            if let std::collections::hash_map::Entry::Vacant(e) = self.first.entry(tid) {
                e.insert(Switches::default());
                self.born += 1;
            }
            self.last.insert(tid, s);
        }
    }

    /// Voluntary switches made in the window, by thread id.
    pub fn voluntary_by_thread(&self) -> HashMap<u32, u64> {
        self.last
            .iter()
            .map(|(tid, last)| {
                let first = self.first.get(tid).copied().unwrap_or_default();
                (*tid, last.voluntary.saturating_sub(first.voluntary))
            })
            .collect()
    }

    /// Switches made in the window, all threads.
    pub fn total(&self) -> Switches {
        let mut out = Switches::default();
        for (tid, last) in &self.last {
            let first = self.first.get(tid).copied().unwrap_or_default();
            out.voluntary += last.voluntary.saturating_sub(first.voluntary);
            out.involuntary += last.involuntary.saturating_sub(first.involuntary);
        }
        out
    }
}

/// Proportional set size in KiB (`/proc/PID/smaps_rollup`): each shared page split between
/// the processes mapping it, so a sum over processes counts it once.
pub fn pss_kib(pid: u32) -> Option<u64> {
    field_kib(
        &std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?,
        "Pss",
    )
}

/// The name of one thread of a process (`/proc/PID/task/TID/comm`), if it is still there.
pub fn thread_name(pid: u32, tid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/comm"))
        .ok()
        .map(|c| c.trim().to_owned())
}

/// The command name of a process (`/proc/PID/comm`), if it is still there.
pub fn comm(pid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|c| c.trim().to_owned())
}

/// The parent pid from a `/proc/PID/stat` line.
pub fn parse_ppid(stat: &str) -> Option<u32> {
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// Every live descendant of `pid` (children, their children, ...), found by each process's
/// parent in `/proc`.
pub fn descendants(pid: u32) -> Vec<u32> {
    let mut parent_of = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Some(p) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            if let Some(pp) = std::fs::read_to_string(entry.path().join("stat"))
                .ok()
                .and_then(|s| parse_ppid(&s))
            {
                parent_of.push((p, pp));
            }
        }
    }
    let mut out = Vec::new();
    let mut frontier = vec![pid];
    while let Some(parent) = frontier.pop() {
        for &(p, pp) in &parent_of {
            if pp == parent && !out.contains(&p) {
                out.push(p);
                frontier.push(p);
            }
        }
    }
    out
}

/// Clock ticks per second (`getconf CLK_TCK`; Linux uses 100 almost everywhere).
pub fn clock_ticks_per_second() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}

/// The 1-minute load average (`/proc/loadavg`), if readable.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The machine a run happened on.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cores: usize,
    pub cpu_model: String,
    pub ram_mib: u64,
    pub os: String,
    pub kernel: String,
}

/// Reads the machine's description; unknown parts say "unknown".
pub fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|v| v.trim_start_matches([' ', '\t', ':']).trim().to_owned())
        .unwrap_or_else(|| "unknown".into());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let ram_mib = field_kib(&meminfo, "MemTotal").unwrap_or(0) / 1024;
    let os = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                .map(|v| v.trim_matches('"').to_owned())
        })
        .unwrap_or_else(|| std::env::consts::OS.to_owned());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|k| k.trim().to_owned())
        .unwrap_or_else(|_| "unknown".into());
    Machine {
        cores: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        cpu_model,
        ram_mib,
        os,
        kernel,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "Name:\tdrivewatch-cli\nVmPeak:\t  123456 kB\nVmHWM:\t   18200 kB\nVmRSS:\t   17000 kB\nRssAnon:\t    5000 kB\nRssFile:\t   12000 kB\nThreads:\t5\nvoluntary_ctxt_switches:\t42\nnonvoluntary_ctxt_switches:\t3\n";

    #[test]
    fn memory_and_switches_come_from_their_own_lines() {
        assert_eq!(
            parse_memory(STATUS),
            Memory {
                rss_kib: 17000,
                hwm_kib: 18200,
                anon_kib: 5000,
                file_kib: 12000,
                threads: 5
            }
        );
        assert_eq!(
            parse_switches(STATUS),
            Switches {
                voluntary: 42,
                involuntary: 3
            }
        );
    }

    #[test]
    fn cpu_ticks_survive_a_command_name_with_spaces_and_parentheses() {
        let stat = "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 7 5 0 0 20 0 3 0 100 1000 200";
        assert_eq!(parse_cpu_ticks(stat), Some(12));
        assert_eq!(parse_cpu_ticks("garbage"), None);
        assert_eq!(parse_ppid(stat), Some(1));
    }

    fn counts(v: &[(u32, u64)]) -> HashMap<u32, Switches> {
        v.iter()
            .map(|&(tid, voluntary)| {
                (
                    tid,
                    Switches {
                        voluntary,
                        involuntary: 0,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn a_thread_that_ends_in_the_window_keeps_what_it_did() {
        // Thread 3 (an idle blocking thread) ends in the window after 4 more switches; the
        // sum of live threads would go from 135 down to 32 and read as no wake-up at all.
        let mut w = SwitchWatch::start(counts(&[(1, 10), (2, 20), (3, 100)]));
        w.sample(counts(&[(1, 11), (2, 20), (3, 104)]));
        w.sample(counts(&[(1, 12), (2, 20)]));
        // A thread born in the window counts from zero.
        w.sample(counts(&[(1, 12), (2, 23), (4, 5)]));
        assert_eq!(w.total().voluntary, 2 + 3 + 4 + 5);
        assert_eq!((w.peak_threads, w.born), (3, 1));
        let by_thread = w.voluntary_by_thread();
        assert_eq!(
            [1, 2, 3, 4].map(|t| by_thread[&t]),
            [2, 3, 4, 5],
            "each thread's own share, the ended one's included"
        );
    }

    #[test]
    fn this_process_can_be_read() {
        let pid = std::process::id();
        let m = memory(pid).unwrap();
        assert!(m.rss_kib > 0 && m.hwm_kib >= m.rss_kib);
        assert!(m.threads >= 1);
        cpu_ticks(pid).unwrap();
        let threads = thread_switches(pid).unwrap();
        assert!(threads.contains_key(&pid));
        assert_eq!(thread_name(pid, pid), comm(pid));
        assert!(
            threads
                .values()
                .map(|s| s.voluntary + s.involuntary)
                .sum::<u64>()
                > 0
        );
        assert!(machine().cores >= 1);
        assert!(load_average().is_some_and(|l| l >= 0.0));
    }
}
