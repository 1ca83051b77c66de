//! The window, seen from the app: a process of its own, started when the user opens the window
//! and gone when they close it.
//!
//! DriveWatch lives in the tray; the window is a view that comes and goes. Run in the app's
//! own process, a window that was opened once left WebKit behind for the app's life: its
//! network process, its allocator's caches and, on Linux, the GL driver its first web view
//! loads (Mesa's, with LLVM: about 30 MiB) that nothing unloads. In a process of its own
//! (`drivewatch --window`, see `window_process`), closing the window ends that process and the
//! system takes all of it back; the app itself never loads a web view.
//!
//! The window process holds no state. Its page's calls come here over its standard output and
//! are run by the IPC layer's dispatcher (given by the crate root, so this module does not name
//! it), each in a task of its own; the answers, the app's events for the page (every event the
//! shell emits, forwarded by name) and "show" go back over its standard input. The page reads
//! the app's state when it loads (`getSnapshot`), so a window opened later misses nothing. This
//! module must never quit the app: only the tray's Quit does.

use std::ffi::OsString;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tauri::{AppHandle, Listener, Manager, Runtime};
use tauri_specta::Event;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use crate::ipc;
use crate::shell::Shell;
use crate::window_protocol::{ToApp, ToWindow, line, parse};

/// How long a window process has to end by itself once the app closed its input (at Quit).
const END_GRACE: Duration = Duration::from_secs(2);

/// Every event the page listens to; each one the shell emits is forwarded to an open window.
const FORWARDED_EVENTS: [&str; 6] = [
    ipc::ChangesAdded::NAME,
    ipc::TargetStatusChanged::NAME,
    ipc::SignInProgress::NAME,
    ipc::SnapshotChanged::NAME,
    ipc::FocusChange::NAME,
    ipc::FocusDigest::NAME,
];

/// A forwarded call's answer: resolved with the value, or rejected with it.
pub type Answer = Result<Value, Value>;

/// Runs one call of the page: the command's name and its JSON arguments.
pub type Dispatch<R> = Arc<
    dyn Fn(AppHandle<R>, String, Value) -> Pin<Box<dyn Future<Output = Answer> + Send>>
        + Send
        + Sync,
>;

/// The program that is the window: this binary with `--window`.
#[derive(Debug, Clone)]
pub struct WindowProgram {
    pub program: PathBuf,
    pub args: Vec<OsString>,
}

impl WindowProgram {
    /// The running binary as its own window process.
    pub fn this_binary() -> std::io::Result<Self> {
        Ok(Self {
            program: std::env::current_exe()?,
            args: vec!["--window".into()],
        })
    }
}

/// Set by `--hidden`: the app starts with no window.
static START_HIDDEN: AtomicBool = AtomicBool::new(false);

/// Asks for the app to start in the tray with its window closed (`drivewatch --hidden`).
pub fn start_hidden() {
    START_HIDDEN.store(true, Ordering::Relaxed);
}

/// The app's side of its window: what to start, how to run its calls, and the way to the
/// process while one runs.
struct Link<R: Runtime> {
    /// `None` where no window process may start (the mock-runtime tests).
    program: Option<WindowProgram>,
    dispatch: Dispatch<R>,
    /// Messages for the running window process; `None` while the window is closed.
    current: Mutex<Option<UnboundedSender<ToWindow>>>,
}

impl<R: Runtime> Link<R> {
    fn send(&self, message: ToWindow) -> bool {
        let current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        current.as_ref().is_some_and(|to| to.send(message).is_ok())
    }
}

/// Makes the window openable: keeps what starts it and runs its calls, and forwards the
/// shell's events to it while it is open. At set-up, before anything can emit.
pub fn attach<R: Runtime>(
    app: &AppHandle<R>,
    program: Option<WindowProgram>,
    dispatch: Dispatch<R>,
) {
    app.manage(Link {
        program,
        dispatch,
        current: Mutex::new(None),
    });
    for name in FORWARDED_EVENTS {
        let handle = app.clone();
        app.listen_any(name, move |event| {
            let Some(link) = handle.try_state::<Link<R>>() else {
                return;
            };
            let payload = serde_json::from_str(event.payload()).unwrap_or(Value::Null);
            link.send(ToWindow::Event {
                name: name.to_owned(),
                payload,
            });
        });
    }
}

/// At set-up: opens the window unless `--hidden` asked for none, so a start in the tray (at
/// log-in) starts no window process until the user opens it.
pub fn apply_start<R: Runtime>(app: &AppHandle<R>) {
    if !START_HIDDEN.load(Ordering::Relaxed) {
        open(app);
    }
}

/// Shows, restores and focuses the window (tray click, "Open", a toast, a second launch),
/// starting its process when it is closed. Returns at once: the process starts in a task.
pub fn open<R: Runtime>(app: &AppHandle<R>) {
    let Some(link) = app.try_state::<Link<R>>() else {
        return;
    };
    let mut current = link.current.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(to) = current.as_ref() {
        if to.send(ToWindow::Show).is_ok() {
            return;
        }
    }
    let (Some(program), Some(shell)) = (link.program.clone(), app.try_state::<Shell>()) else {
        return;
    };
    // The way in exists before the process does: events and a second "show" made while it
    // starts wait in the channel instead of starting a second window.
    let (to, outbox) = unbounded_channel();
    *current = Some(to.clone());
    drop(current);
    let app = app.clone();
    let cancel = shell.cancel.clone();
    shell.spawn(async move {
        let mut outbox = outbox;
        if let Err(e) = run(&app, &program, to, &mut outbox, cancel.clone()).await {
            tracing::warn!(error = %e, "could not run the window");
        }
        // Closed: forget the way in, and open again if a "show" came while it was closing.
        let Some(link) = app.try_state::<Link<R>>() else {
            return;
        };
        let mut current = link.current.lock().unwrap_or_else(|e| e.into_inner());
        *current = None;
        drop(current);
        if reopen_wanted(&mut outbox, &cancel) {
            open(&app);
        }
    });
}

/// After a window process ended: whether a "show" came while it was closing and the app is not
/// quitting (a window that starts during Quit would outlive the app's last task). Empties
/// `outbox`: what was meant for the ended process goes nowhere.
fn reopen_wanted(
    outbox: &mut UnboundedReceiver<ToWindow>,
    cancel: &tokio_util::sync::CancellationToken,
) -> bool {
    let mut reopen = false;
    while let Ok(message) = outbox.try_recv() {
        reopen |= matches!(message, ToWindow::Show);
    }
    reopen && !cancel.is_cancelled()
}

/// Starts the window process and serves it until it ends (the user closed the window) or the
/// app quits (its input is closed, then it is ended if it has not gone within [`END_GRACE`]).
async fn run<R: Runtime>(
    app: &AppHandle<R>,
    program: &WindowProgram,
    to: UnboundedSender<ToWindow>,
    outbox: &mut UnboundedReceiver<ToWindow>,
    cancel: tokio_util::sync::CancellationToken,
) -> std::io::Result<()> {
    let mut child = tokio::process::Command::new(&program.program)
        .args(&program.args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()?;
    let (Some(input), Some(output)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(std::io::Error::other("the window process has no pipes"));
    };
    let link = app.try_state::<Link<R>>().map(|link| link.dispatch.clone());
    let Some(dispatch) = link else {
        return Ok(());
    };
    let app = app.clone();
    tokio::select! {
        () = serve(output, input, to, outbox, move |command, args| dispatch(app.clone(), command, args)) => {}
        () = cancel.cancelled() => {}
    }
    // The input is closed by now (`serve` owned it): a window process ends when it reads EOF.
    if tokio::time::timeout(END_GRACE, child.wait()).await.is_err() {
        child.kill().await?;
    }
    Ok(())
}

/// Carries one window process's traffic until its output ends: each call it makes is
/// dispatched in a task of its own (a slow history page must not hold a pause back) and
/// answered when done; everything in `outbox` (answers, events, "show") is written to it in
/// order; what cannot be written goes back to `outbox` for the close path. Lines that are not
/// calls are skipped. A call still running when the window closes runs to its end, as a Tauri
/// command does (a sign-in's start must not be cut in half); its answer goes nowhere.
async fn serve<F>(
    from_window: impl AsyncRead + Unpin,
    mut to_window: impl AsyncWrite + Unpin,
    to: UnboundedSender<ToWindow>,
    outbox: &mut UnboundedReceiver<ToWindow>,
    dispatch: F,
) where
    F: Fn(String, Value) -> Pin<Box<dyn Future<Output = Answer> + Send>>,
{
    let mut lines = BufReader::new(from_window).lines();
    loop {
        tokio::select! {
            line_read = lines.next_line() => match line_read {
                Ok(Some(text)) => match parse::<ToApp>(&text) {
                    Some(ToApp::Call { id, command, args }) => {
                        let call = dispatch(command, args);
                        let to = to.clone();
                        tokio::spawn(async move {
                            let _ = to.send(ToWindow::Reply { id, result: call.await });
                        });
                    }
                    // Not logged as is: a stray line may hold anything.
                    None => tracing::debug!(bytes = text.len(), "skipped a line from the window process"),
                },
                Ok(None) | Err(_) => break,
            },
            Some(message) = outbox.recv() => {
                let written = to_window.write_all(line(&message).as_bytes()).await;
                if written.and(to_window.flush().await).is_err() {
                    // The process is gone. What it could not take goes back to the outbox,
                    // where the close path looks for a "show" (an Open clicked as the window
                    // closed must still open it).
                    let _ = to.send(message);
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, duplex};

    fn echo(command: String, args: Value) -> Pin<Box<dyn Future<Output = Answer> + Send>> {
        Box::pin(async move {
            match command.as_str() {
                "slow" => {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    Ok(json!("slow"))
                }
                "fail" => Err(json!({ "kind": "invalidInput" })),
                _ => Ok(json!({ "command": command, "args": args })),
            }
        })
    }

    async fn next(lines: &mut tokio::io::Lines<BufReader<tokio::io::DuplexStream>>) -> ToWindow {
        let text = lines.next_line().await.unwrap().expect("a line");
        parse(&text).expect("a message")
    }

    #[tokio::test(start_paused = true)]
    async fn calls_are_answered_each_on_its_own_and_events_pass_in_order() {
        let (mut window_out, app_in) = duplex(4096);
        let (app_out, window_in) = duplex(4096);
        let (to, mut outbox) = unbounded_channel();
        // Queued before the window said anything: written once it is served.
        to.send(ToWindow::Show).unwrap();
        let served = tokio::spawn({
            let to = to.clone();
            async move { serve(app_in, app_out, to, &mut outbox, echo).await }
        });
        let mut replies = BufReader::new(window_in).lines();
        assert_eq!(next(&mut replies).await, ToWindow::Show);

        let call = |id, command: &str| {
            line(&ToApp::Call {
                id,
                command: command.into(),
                args: json!({ "pause": "oneHour" }),
            })
        };
        window_out
            .write_all(call(1, "slow").as_bytes())
            .await
            .unwrap();
        window_out
            .write_all(b"Gtk-Message: not a call\n")
            .await
            .unwrap();
        window_out
            .write_all(call(2, "set_pause").as_bytes())
            .await
            .unwrap();
        window_out
            .write_all(call(3, "fail").as_bytes())
            .await
            .unwrap();
        // The slow call does not hold the later ones back.
        assert_eq!(
            next(&mut replies).await,
            ToWindow::Reply {
                id: 2,
                result: Ok(json!({ "command": "set_pause", "args": { "pause": "oneHour" } })),
            }
        );
        assert_eq!(
            next(&mut replies).await,
            ToWindow::Reply {
                id: 3,
                result: Err(json!({ "kind": "invalidInput" })),
            }
        );
        to.send(ToWindow::Event {
            name: "snapshot-changed".into(),
            payload: json!({ "unread": 1 }),
        })
        .unwrap();
        assert!(
            matches!(next(&mut replies).await, ToWindow::Event { name, .. } if name == "snapshot-changed")
        );
        assert_eq!(
            next(&mut replies).await,
            ToWindow::Reply {
                id: 1,
                result: Ok(json!("slow")),
            }
        );

        // The window process ended: its output closes, and serving stops.
        drop(window_out);
        tokio::time::timeout(Duration::from_secs(1), served)
            .await
            .expect("serving ends with the window's output")
            .unwrap();
    }

    #[tokio::test]
    async fn a_show_the_ended_window_could_not_take_still_reopens_it() {
        // The process is gone (its input cannot be written) while its output is not yet read
        // to its end: serving meets the "show" first.
        let (_window_out, app_in) = duplex(4096);
        let (app_out, window_in) = duplex(4096);
        drop(window_in);
        let (to, mut outbox) = unbounded_channel();
        to.send(ToWindow::Show).unwrap();
        tokio::time::timeout(
            Duration::from_secs(5),
            serve(app_in, app_out, to.clone(), &mut outbox, echo),
        )
        .await
        .expect("serving ends when the window cannot be written");
        let cancel = tokio_util::sync::CancellationToken::new();
        assert!(reopen_wanted(&mut outbox, &cancel));
    }

    #[test]
    fn a_show_while_closing_reopens_the_window_unless_the_app_is_quitting() {
        let event = || ToWindow::Event {
            name: "x".into(),
            payload: Value::Null,
        };
        let cancel = tokio_util::sync::CancellationToken::new();
        let (to, mut outbox) = unbounded_channel();
        to.send(event()).unwrap();
        assert!(!reopen_wanted(&mut outbox, &cancel), "events alone");
        to.send(event()).unwrap();
        to.send(ToWindow::Show).unwrap();
        to.send(event()).unwrap();
        assert!(reopen_wanted(&mut outbox, &cancel), "a show among events");
        assert!(
            outbox.try_recv().is_err(),
            "the ended window's messages are dropped"
        );
        to.send(ToWindow::Show).unwrap();
        cancel.cancel();
        assert!(!reopen_wanted(&mut outbox, &cancel), "quitting");
    }

    #[test]
    fn every_event_the_page_listens_to_is_forwarded() {
        // The generated bindings name each event the page can listen to.
        let bindings = include_str!("../../ui/src/bindings.ts");
        let mut listened: Vec<&str> = bindings
            .lines()
            .filter(|l| l.contains("makeEvent<") && l.trim_end().ends_with("\"),"))
            .filter_map(|l| l.trim_end().rsplit_once("(\"")?.1.strip_suffix("\"),"))
            .collect();
        listened.sort_unstable();
        let mut forwarded = FORWARDED_EVENTS.to_vec();
        forwarded.sort_unstable();
        assert_eq!(listened, forwarded);
    }
}
