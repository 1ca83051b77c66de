//! What WebKitGTK keeps once the window is closed, given back while the app sits in the tray.
//!
//! Closing the window destroys it (see `window`), and WebKit's web process goes with it. Two
//! things of WebKit's stay for the app's life unless DriveWatch ends them:
//!
//! - **The network process** (about 35 MiB PSS). Tauri keeps the web context for the app's life
//!   on Linux, because WebKit never ends a network process by itself, not even when its context
//!   is dropped (dropping it leaked one process per window). With no web view left it has
//!   nothing to do: DriveWatch ends it ([`NETWORK_PROCESS_GRACE`] after the close, so anything it
//!   was still writing is written), and WebKit starts a new one when the next window loads its
//!   page, as it does after the process crashes.
//! - **The allocator's scavenger** (libpas, in libjavascriptcoregtk), a thread WebKit's first web
//!   view starts in the app's process that wakes every 5 s to return freed memory to the system:
//!   12 wake-ups a minute in the tray for a window that is closed. DriveWatch has it return what
//!   it can once (`pas_scavenger_run_synchronously_now`), then suspends it until the next window
//!   (`pas_scavenger_suspend` and `pas_scavenger_resume`, exported by the library). The
//!   functions are looked up at run time, so a WebKit built without libpas (or with it off, as
//!   `Malloc=1` does) simply skips this part.
//!
//! Linux only. This module must never touch a window or a process that is not WebKit's network
//! process started by this app, and never end that process while a window exists.

// Calling into WebKit's allocator and signalling a child take unsafe calls; each says why it
// holds.
#![allow(unsafe_code)]

use std::ffi::CStr;
use std::sync::Mutex;
use std::time::Duration;

/// How long the network process is left after the window closed before it is ended.
pub const NETWORK_PROCESS_GRACE: Duration = Duration::from_secs(2);

/// The kernel's name (`comm`, 15 bytes at most) of WebKitGTK's network process.
const NETWORK_PROCESS_COMM: &str = "WebKitNetworkPr";

/// Whether the scavenger is suspended by us (so it is resumed exactly once per suspension), and
/// how many windows are open: the network process is ended only when none is.
#[derive(Debug)]
struct State {
    suspended: bool,
    windows: u32,
}

static STATE: Mutex<State> = Mutex::new(State {
    suspended: false,
    windows: 0,
});

/// Before a window is built: the scavenger runs again while a page lives.
pub fn window_opening() {
    let mut state = STATE.lock().unwrap_or_else(|e| e.into_inner());
    state.windows += 1;
    if std::mem::take(&mut state.suspended) {
        if let Some(resume) = scavenger_fn(c"pas_scavenger_resume") {
            // SAFETY: libpas's exported `void pas_scavenger_resume(void)`, which balances the
            // one suspension recorded in `state.suspended`.
            unsafe { resume() };
        }
    }
}

/// After the window was destroyed: returns the allocator's free memory, suspends its scavenger,
/// and ends the idle network process a little later. Off the main thread, which closed the
/// window: suspending waits for the scavenger's current round.
pub fn window_closed() {
    {
        let mut state = STATE.lock().unwrap_or_else(|e| e.into_inner());
        state.windows = state.windows.saturating_sub(1);
    }
    let spawned = std::thread::Builder::new()
        .name("webkit-idle".into())
        .spawn(|| {
            suspend_scavenger();
            std::thread::sleep(NETWORK_PROCESS_GRACE);
            // Only if no window was opened meanwhile: its page needs the process.
            let state = STATE.lock().unwrap_or_else(|e| e.into_inner());
            if state.windows == 0 {
                end_network_processes();
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "could not release WebKit's idle memory");
    }
}

fn suspend_scavenger() {
    let mut state = STATE.lock().unwrap_or_else(|e| e.into_inner());
    if state.suspended || state.windows > 0 {
        return;
    }
    let (Some(run_now), Some(suspend)) = (
        scavenger_fn(c"pas_scavenger_run_synchronously_now"),
        scavenger_fn(c"pas_scavenger_suspend"),
    ) else {
        return;
    };
    // SAFETY: libpas's exported `void f(void)` entry points, made to be called from any thread;
    // the suspension is recorded so `window_opening` resumes it once.
    unsafe {
        run_now();
        suspend();
    }
    state.suspended = true;
}

/// One of libpas's `void f(void)` functions, if the loaded WebKit exports it.
fn scavenger_fn(name: &CStr) -> Option<unsafe extern "C" fn()> {
    // SAFETY: dlsym with RTLD_DEFAULT searches the libraries already loaded; the name is a
    // NUL-terminated constant.
    let symbol = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
    if symbol.is_null() {
        return None;
    }
    // SAFETY: the libpas functions looked up here all take nothing and return nothing.
    Some(unsafe { std::mem::transmute::<*mut libc::c_void, unsafe extern "C" fn()>(symbol) })
}

/// Ends every WebKit network process this app started.
fn end_network_processes() {
    let Ok(me) = i32::try_from(std::process::id()) else {
        return;
    };
    for pid in network_processes(std::path::Path::new("/proc"), me) {
        // SAFETY: kill with a pid read as our own child's: at worst the process ended meanwhile
        // (ESRCH). A child is never reaped by anyone but us, so its pid cannot be reused.
        let ended = unsafe { libc::kill(pid, libc::SIGTERM) };
        if ended == 0 {
            tracing::debug!(pid, "ended WebKit's idle network process");
        }
    }
}

/// The pids under `proc` (a procfs root) whose parent is `parent` and whose name is WebKit's
/// network process.
fn network_processes(proc: &std::path::Path, parent: i32) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir(proc) else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let pid: i32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            let (comm, ppid) = comm_and_parent(&stat)?;
            (ppid == parent && comm == NETWORK_PROCESS_COMM).then_some(pid)
        })
        .collect()
}

/// The name and the parent pid from a `/proc/PID/stat` line: `pid (comm) state ppid ...`, where
/// the name may hold spaces and parentheses, so it ends at the last `)`.
fn comm_and_parent(stat: &str) -> Option<(&str, i32)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?;
    let mut rest = stat.get(close + 1..)?.split_whitespace();
    let _state = rest.next()?;
    let ppid = rest.next()?.parse().ok()?;
    Some((comm, ppid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stat_line_gives_the_name_and_the_parent_even_with_parentheses_in_the_name() {
        assert_eq!(
            comm_and_parent("4242 (WebKitNetworkPr) S 4200 4200 4200 0 -1 4194560"),
            Some(("WebKitNetworkPr", 4200))
        );
        assert_eq!(
            comm_and_parent("7 (a) b (c)) R 1 7 7"),
            Some(("a) b (c)", 1))
        );
        assert_eq!(comm_and_parent("garbage"), None);
    }

    #[test]
    fn only_our_own_network_processes_are_found() {
        let proc = tempfile::tempdir().unwrap();
        let process = |pid: &str, stat: &str| {
            let dir = proc.path().join(pid);
            std::fs::create_dir(&dir).unwrap();
            std::fs::write(dir.join("stat"), stat).unwrap();
        };
        process("100", "100 (drivewatch) S 1 100 100 0");
        process("101", "101 (WebKitNetworkPr) S 100 100 100 0");
        process("102", "102 (WebKitWebProces) S 100 100 100 0");
        // Another app's network process.
        process("200", "200 (WebKitNetworkPr) S 199 199 199 0");
        std::fs::create_dir(proc.path().join("self")).unwrap();
        std::fs::write(proc.path().join("uptime"), "1.0 1.0").unwrap();

        assert_eq!(network_processes(proc.path(), 100), vec![101]);
        assert!(network_processes(proc.path(), 300).is_empty());
        assert!(network_processes(&proc.path().join("missing"), 100).is_empty());
    }

    #[test]
    fn nothing_is_suspended_while_a_window_is_open() {
        assert!(scavenger_fn(c"pas_scavenger_no_such_function").is_none());
        window_opening();
        suspend_scavenger();
        let state = STATE.lock().unwrap();
        assert_eq!(state.windows, 1);
        assert!(!state.suspended, "suspended while a window is open");
    }
}
