//! Drives the measured process (see `host`) from the benchmark: start it, read its lines with
//! the instant each arrived, read its `/proc` figures, stop it.
//!
//! It must never leave the child running: stopping closes its stdin (a clean shutdown) and
//! kills it only if it has not exited within a few seconds; dropping does the same.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout};

use crate::error::BenchError;
use crate::host::HostLine;
use crate::session::SessionBus;

/// A running host process.
pub struct Subject {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::UnboundedReceiver<(Instant, HostLine)>,
    pub pid: u32,
    pub spawned: Instant,
    /// `drivewatch-cli watch` stops on SIGTERM (sent with `kill`), the host on stdin closing.
    terminate: bool,
}

/// The status text `drivewatch-cli watch` prints on stderr once push is live.
const CLI_LIVE: &str = "live (push)";

impl Subject {
    /// Starts `drivewatch-bench-host`, built next to this binary, over `home`.
    pub fn spawn(home: &Path) -> Result<Subject, BenchError> {
        let exe = built_next_to_this("drivewatch-bench-host", "drivewatch-bench")
            .map_err(BenchError::not_built)?;
        let spawned = Instant::now();
        let mut child = Command::new(exe)
            .arg("--home")
            .arg(home)
            .env("DRIVEWATCH_HOME", home)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(BenchError::Spawn)?;
        let pid = child
            .id()
            .ok_or(BenchError::HostEnded { what: "it started" })?;
        let stdout = child.stdout.take().ok_or(BenchError::HostEnded {
            what: "its output was read",
        })?;
        let stdin = child.stdin.take();
        let (tx, lines) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                let at = Instant::now();
                if let Ok(parsed) = serde_json::from_str::<HostLine>(&line) {
                    if tx.send((at, parsed)).is_err() {
                        return;
                    }
                }
            }
        });
        Ok(Subject {
            child,
            stdin,
            lines,
            pid,
            spawned,
            terminate: false,
        })
    }

    /// Starts `drivewatch-cli watch --json` over `home`. Its status lines (stderr) become
    /// `HostLine::Status` with the benchmark's own clock (`ms` since spawn); only "live" is read.
    pub fn spawn_cli(cli: &Path, home: &Path) -> Result<Subject, BenchError> {
        let spawned = Instant::now();
        let mut child = Command::new(cli)
            .args(["watch", "--json"])
            .env("DRIVEWATCH_HOME", home)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(BenchError::Spawn)?;
        let pid = child
            .id()
            .ok_or(BenchError::HostEnded { what: "it started" })?;
        let stderr = child.stderr.take().ok_or(BenchError::HostEnded {
            what: "its output was read",
        })?;
        let (tx, lines) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                let at = Instant::now();
                if line.contains(CLI_LIVE) {
                    let ms = at.saturating_duration_since(spawned).as_secs_f64() * 1000.0;
                    let status = HostLine::Status {
                        ms,
                        status: "live".into(),
                        items: None,
                    };
                    if tx.send((at, status)).is_err() {
                        return;
                    }
                }
            }
        });
        Ok(Subject {
            child,
            stdin: None,
            lines,
            pid,
            spawned,
            terminate: true,
        })
    }

    /// The next line, with the instant it arrived.
    pub async fn next(
        &mut self,
        deadline: Instant,
        what: &'static str,
    ) -> Result<(Instant, HostLine), BenchError> {
        match timeout(
            deadline.saturating_duration_since(Instant::now()),
            self.lines.recv(),
        )
        .await
        {
            Err(_) => Err(BenchError::Timeout { what }),
            Ok(None) => Err(BenchError::HostEnded { what }),
            Ok(Some(line)) => Ok(line),
        }
    }

    /// Asks the host to stop (stdin closes) and waits; kills it after `grace`.
    pub async fn stop(mut self, grace: Duration) {
        drop(self.stdin.take());
        if self.terminate {
            let _ = Command::new("kill")
                .args(["-TERM", &self.pid.to_string()])
                .status()
                .await;
        }
        if timeout(grace, self.child.wait()).await.is_err() {
            let _ = self.child.kill().await;
        }
    }
}

/// The desktop app (`drivewatch --hidden`) on a virtual screen with a private session bus on
/// which the benchmark is the notification server: Xvfb, `dbus-daemon`, then `drivewatch
/// --hidden`. Everything it started is stopped when it is dropped.
pub struct Desktop {
    xvfb: Child,
    app: Child,
    pub bus: SessionBus,
    /// `DISPLAY` of its screen (":N").
    pub display: String,
    /// The app's own process.
    pub pid: u32,
    pub spawned: Instant,
}

/// A program of DriveWatch's built next to this one (a release build puts them together), or
/// why it is not there.
pub fn built_next_to_this(name: &str, package: &str) -> Result<PathBuf, String> {
    let exe = std::env::current_exe()
        .map_err(|e| format!("this program's own path: {e}"))?
        .with_file_name(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if exe.is_file() {
        Ok(exe)
    } else {
        Err(format!(
            "{name} is not built next to drivewatch-bench (cargo build --release -p {package})"
        ))
    }
}

/// The desktop app built next to this binary, with the tools its measurements need, or why it
/// cannot be measured.
pub fn desktop_app() -> Result<PathBuf, String> {
    let app = built_next_to_this("drivewatch", "drivewatch")?;
    let missing = desktop_tools_missing();
    if missing.is_empty() {
        Ok(app)
    } else {
        Err(format!(
            "{} not installed (cargo xtask deps)",
            missing.join(" and ")
        ))
    }
}

/// The tools the desktop measurement needs that are not installed (empty when it can run).
fn desktop_tools_missing() -> Vec<&'static str> {
    ["Xvfb", "dbus-daemon"]
        .into_iter()
        .filter(|p| {
            !std::env::var_os("PATH")
                .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(p).is_file()))
        })
        .collect()
}

impl Desktop {
    /// Starts the app over `home` (settings and a stored token), its caches and temporary
    /// files under `scratch`, on a screen and a session bus of its own.
    pub async fn spawn(app: &Path, home: &Path, scratch: &Path) -> Result<Desktop, BenchError> {
        let mut xvfb = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(BenchError::Spawn)?;
        let stdout = xvfb.stdout.take().ok_or(BenchError::HostEnded {
            what: "Xvfb said its display",
        })?;
        let mut display = String::new();
        let mut reader = BufReader::new(stdout);
        timeout(Duration::from_secs(10), reader.read_line(&mut display))
            .await
            .map_err(|_| BenchError::Timeout {
                what: "Xvfb to start",
            })?
            .map_err(BenchError::Spawn)?;
        let display = format!(":{}", display.trim());
        for dir in ["cache", "data", "config", "tmp"] {
            std::fs::create_dir_all(scratch.join(dir)).map_err(BenchError::io(scratch))?;
        }
        let bus = SessionBus::start().await?;
        let spawned = Instant::now();
        let mut app = Command::new(app)
            .arg("--hidden")
            .env("DISPLAY", &display)
            .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
            .env("DRIVEWATCH_HOME", home)
            .env("DRIVEWATCH_LOG", "warn")
            .env("XDG_CACHE_HOME", scratch.join("cache"))
            .env("XDG_DATA_HOME", scratch.join("data"))
            .env("XDG_CONFIG_HOME", scratch.join("config"))
            .env("TMPDIR", scratch.join("tmp"))
            .env("NO_AT_BRIDGE", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(BenchError::Spawn)?;
        let Some(pid) = app.id() else {
            let _ = app.kill().await;
            bus.stop().await;
            return Err(BenchError::HostEnded { what: "it started" });
        };
        Ok(Desktop {
            xvfb,
            app,
            bus,
            display,
            pid,
            spawned,
        })
    }

    /// The app's process and every process it started (while the window is open: the window's
    /// process, and WebKit's web and network processes under it).
    pub fn processes(&self) -> Vec<u32> {
        let mut all = vec![self.pid];
        all.extend(crate::procfs::descendants(self.pid));
        all
    }

    /// Whether the app is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.app.try_wait(), Ok(None))
    }

    /// The WebKit web processes among the app's descendants: one exists exactly while the app
    /// has a window (its page lives there).
    pub fn web_processes(&self) -> Vec<u32> {
        crate::procfs::descendants(self.pid)
            .into_iter()
            .filter(|p| crate::procfs::comm(*p).as_deref() == Some("WebKitWebProces"))
            .collect()
    }

    /// Opens the window as a second launch does, waits until it is mapped and its web process
    /// runs, gives the page `settle` to load, then closes it as a window manager's close
    /// button does and waits until the window and every process the app started for it (the
    /// window's process, WebKit's web and network processes) are gone.
    /// Returns the time from the open request to the window mapped with its web process.
    pub async fn open_and_close(&self, settle: Duration) -> Result<Duration, BenchError> {
        let mut x = crate::x11::X11::connect(&self.display).map_err(BenchError::Spawn)?;
        let asked = Instant::now();
        self.bus.open_window().await?;
        let deadline = Instant::now() + Duration::from_secs(20);
        let windows = loop {
            let windows = x.windows_of(&self.processes()).map_err(BenchError::Spawn)?;
            if !windows.is_empty() && !self.web_processes().is_empty() {
                break windows;
            }
            if Instant::now() > deadline {
                return Err(BenchError::Timeout {
                    what: "the window to open",
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let opened = asked.elapsed();
        tokio::time::sleep(settle).await;
        for window in windows {
            x.close(window).map_err(BenchError::Spawn)?;
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while !(x
            .windows_of(&self.processes())
            .map_err(BenchError::Spawn)?
            .is_empty()
            && crate::procfs::descendants(self.pid).is_empty())
        {
            if Instant::now() > deadline {
                return Err(BenchError::Timeout {
                    what: "the window and its processes to go",
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(opened)
    }

    /// Stops the app (SIGTERM), then the bus and the screen, waiting up to `grace`.
    pub async fn stop(mut self, grace: Duration) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status()
            .await;
        if timeout(grace, self.app.wait()).await.is_err() {
            let _ = self.app.kill().await;
        }
        self.bus.stop().await;
        let _ = self.xvfb.kill().await;
    }
}
