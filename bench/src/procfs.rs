//! What Linux says about a process and the machine: memory, CPU time, context switches.
//!
//! The footprint and scale figures are read from `/proc` of DriveWatch's own process (a child
//! of the benchmark), never estimated from inside it. Parsing is split from reading so it is
//! tested on fixed text. This module must never write to `/proc` or signal a process.

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

/// Context switches of every live thread of `pid` (threads that already ended are not counted).
pub fn switches(pid: u32) -> Result<Switches, BenchError> {
    let dir = format!("/proc/{pid}/task");
    let mut total = Switches::default();
    for entry in std::fs::read_dir(&dir).map_err(BenchError::io(&dir))? {
        let entry = entry.map_err(BenchError::io(&dir))?;
        if let Ok(text) = std::fs::read_to_string(entry.path().join("status")) {
            let s = parse_switches(&text);
            total.voluntary += s.voluntary;
            total.involuntary += s.involuntary;
        }
    }
    Ok(total)
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

    const STATUS: &str = "Name:\tdrivewatch-cli\nVmPeak:\t  123456 kB\nVmHWM:\t   18200 kB\nVmRSS:\t   17000 kB\nThreads:\t5\nvoluntary_ctxt_switches:\t42\nnonvoluntary_ctxt_switches:\t3\n";

    #[test]
    fn memory_and_switches_come_from_their_own_lines() {
        assert_eq!(
            parse_memory(STATUS),
            Memory {
                rss_kib: 17000,
                hwm_kib: 18200,
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
    }

    #[test]
    fn this_process_can_be_read() {
        let pid = std::process::id();
        let m = memory(pid).unwrap();
        assert!(m.rss_kib > 0 && m.hwm_kib >= m.rss_kib);
        assert!(m.threads >= 1);
        cpu_ticks(pid).unwrap();
        assert!(switches(pid).unwrap().voluntary + switches(pid).unwrap().involuntary > 0);
        assert!(machine().cores >= 1);
        assert!(load_average().is_some_and(|l| l >= 0.0));
    }
}
