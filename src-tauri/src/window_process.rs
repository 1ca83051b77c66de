//! The window process (`drivewatch --window`): the main window alone, a view over the app that
//! started it (see `window_link` for why it is a process of its own).
//!
//! It holds no state and starts no engine. Every call the page makes is checked by Tauri
//! against the window's capability, as in any Tauri app, then forwarded to the app on standard
//! output and answered when the app replies on standard input; the app's events are emitted to
//! the page by name, and "show" brings the window forward. Events that come before the page's
//! first call are held until it: the page calls only once it listens (it listens, then reads
//! the snapshot), and an event emitted before that would reach no listener; so a toast's "Show
//! in DriveWatch" points a window it had to open at its change. The process ends when the user
//! closes the window (Tauri ends an app whose last window closed) or when its input ends (the
//! app quit).

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tauri::ipc::{Invoke, InvokeBody, InvokeResolver};
use tauri::{AppHandle, Emitter, Manager, Runtime};

use crate::window_protocol::{ToApp, ToWindow, line, parse};

/// Events held for a page that has not called yet, at most: a page that never calls must not
/// grow the process without bound (the oldest go first).
const HELD_AT_MOST: usize = 256;

/// Carries the page's calls to the app and the app's answers back to the page.
pub struct Forwarder<R: Runtime> {
    /// The calls sent and not answered yet, by id.
    pending: Mutex<HashMap<u64, InvokeResolver<R>>>,
    next_id: AtomicU64,
    to_app: Mutex<Box<dyn Write + Send>>,
    /// Events for the page, held until its first call; `None` from then on.
    held: Mutex<Option<VecDeque<(String, Value)>>>,
}

impl<R: Runtime> Forwarder<R> {
    /// A forwarder writing its calls to `to_app` (standard output in the real process).
    pub fn new(to_app: Box<dyn Write + Send>) -> Arc<Self> {
        Arc::new(Self {
            pending: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            to_app: Mutex::new(to_app),
            held: Mutex::new(Some(VecDeque::new())),
        })
    }

    /// The invoke handler: sends the call on and keeps its resolver for the answer. A call the
    /// app can no longer be told of is rejected at once rather than left waiting.
    fn call(&self, invoke: Invoke<R>) -> bool {
        let Invoke {
            message, resolver, ..
        } = invoke;
        // The page listens by now: what was held for it goes out, in order. The lock is kept
        // until the last is out, so an event read meanwhile cannot overtake them.
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        for (name, payload) in held.take().into_iter().flatten() {
            emit(message.webview_ref().app_handle(), &name, payload);
        }
        drop(held);
        let InvokeBody::Json(args) = message.payload() else {
            resolver.reject("DriveWatch's commands take JSON arguments");
            return true;
        };
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let text = line(&ToApp::Call {
            id,
            command: message.command().to_owned(),
            args: args.clone(),
        });
        self.lock_pending().insert(id, resolver);
        let sent = {
            let mut out = self.to_app.lock().unwrap_or_else(|e| e.into_inner());
            out.write_all(text.as_bytes()).and_then(|()| out.flush())
        };
        if sent.is_err() {
            if let Some(resolver) = self.lock_pending().remove(&id) {
                resolver.reject("DriveWatch is not running");
            }
        }
        true
    }

    /// Acts on one message from the app.
    pub fn receive(&self, app: &AppHandle<R>, message: ToWindow) {
        match message {
            ToWindow::Reply { id, result } => {
                let Some(resolver) = self.lock_pending().remove(&id) else {
                    return;
                };
                match result {
                    Ok(value) => resolver.resolve(value),
                    Err(error) => resolver.reject(error),
                }
            }
            ToWindow::Event { name, payload } => {
                let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
                match held.as_mut() {
                    Some(queue) => {
                        if queue.len() == HELD_AT_MOST {
                            queue.pop_front();
                        }
                        queue.push_back((name, payload));
                    }
                    None => {
                        drop(held);
                        emit(app, &name, payload);
                    }
                }
            }
            ToWindow::Show => {
                let handle = app.clone();
                if let Err(e) = app.run_on_main_thread(move || crate::window::show(&handle)) {
                    tracing::warn!(error = %e, "could not show the window");
                }
            }
        }
    }

    fn lock_pending(&self) -> std::sync::MutexGuard<'_, HashMap<u64, InvokeResolver<R>>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn emit<R: Runtime>(app: &AppHandle<R>, name: &str, payload: Value) {
    if let Err(e) = app.emit(name, payload) {
        tracing::warn!(error = %e, event = name, "could not pass an event to the page");
    }
}

/// Reads the app's messages until its end of the pipe closes.
pub fn read_from_app<R: Runtime>(
    from_app: impl BufRead,
    app: &AppHandle<R>,
    forwarder: &Forwarder<R>,
) {
    for text in from_app.lines() {
        let Ok(text) = text else {
            break;
        };
        if let Some(message) = parse::<ToWindow>(&text) {
            forwarder.receive(app, message);
        }
    }
}

/// Makes `builder` a window process: every call of its page goes through `forwarder`.
pub fn wire<R: Runtime>(
    builder: tauri::Builder<R>,
    forwarder: Arc<Forwarder<R>>,
) -> tauri::Builder<R> {
    builder.invoke_handler(move |invoke| forwarder.call(invoke))
}

/// Runs the window process until the window closes or the app goes away.
pub fn run(context: tauri::Context<tauri::Wry>) -> Result<(), tauri::Error> {
    let forwarder = Forwarder::new(Box::new(std::io::stdout()));
    let reader = Arc::clone(&forwarder);
    let app = wire(tauri::Builder::default(), forwarder)
        .setup(move |app| {
            let handle = app.handle().clone();
            std::thread::Builder::new()
                .name("from-app".into())
                .spawn(move || {
                    read_from_app(std::io::stdin().lock(), &handle, &reader);
                    // The app quit (or never spoke): a window without it has nothing to show.
                    handle.exit(0);
                })?;
            crate::window::build(app.handle())?;
            Ok(())
        })
        .build(context)?;
    app.run(|_, _| {});
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::mpsc;
    use tauri::ipc::CallbackFn;
    use tauri::test::{INVOKE_KEY, mock_builder, mock_context, noop_assets};
    use tauri::webview::InvokeRequest;

    /// The app's end of the window's output, one written chunk a message.
    struct ToTest(mpsc::Sender<String>);

    impl Write for ToTest {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .send(String::from_utf8_lossy(buf).into_owned())
                .map_err(|_| std::io::Error::from(std::io::ErrorKind::BrokenPipe))?;
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn request(cmd: &str, args: Value) -> InvokeRequest {
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().expect("a URL"),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        }
    }

    #[test]
    fn the_pages_calls_reach_the_app_and_its_answers_come_back() {
        let (written, to_app) = mpsc::channel();
        let forwarder = Forwarder::new(Box::new(ToTest(written)));
        let app = wire(mock_builder(), Arc::clone(&forwarder))
            .build(mock_context(noop_assets()))
            .expect("the window process builds on the mock runtime");
        let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .expect("the window");
        // An event before the page's first call is held: the page is not listening yet.
        let (seen, events) = mpsc::channel();
        tauri::Listener::listen_any(&app, "focus-change", move |event| {
            let _ = seen.send(event.payload().to_owned());
        });
        let focus = |seq: i64| {
            line(&ToWindow::Event {
                name: "focus-change".into(),
                payload: json!({ "seq": seq }),
            })
        };
        read_from_app(focus(7).as_bytes(), app.handle(), &forwarder);
        assert!(events.try_recv().is_err(), "emitted before the page called");
        let the_page = Arc::clone(&forwarder);
        // The app: answers the first call with what it was asked, rejects the second.
        let handle = app.handle().clone();
        let the_app = std::thread::spawn(move || {
            let mut seen = Vec::new();
            for answer in [Ok(()), Err(())] {
                let text = to_app.recv().expect("a call");
                let Some(ToApp::Call { id, command, args }) = parse::<ToApp>(&text) else {
                    panic!("not a call: {text}");
                };
                seen.push(command.clone());
                let result = match answer {
                    Ok(()) => Ok(json!({ "command": command, "args": args })),
                    Err(()) => Err(json!({ "kind": "invalidInput", "message": "no" })),
                };
                // Lines that are not ours, and answers to calls never made, change nothing.
                read_from_app(
                    "stray\n{\"kind\":\"reply\",\"id\":999,\"result\":{\"Ok\":1}}\n".as_bytes(),
                    &handle,
                    &forwarder,
                );
                read_from_app(
                    line(&ToWindow::Reply { id, result }).as_bytes(),
                    &handle,
                    &forwarder,
                );
            }
            seen
        });

        let paused = tauri::test::get_ipc_response(
            &webview,
            request("set_pause", json!({ "pause": "oneHour" })),
        )
        .expect("resolved")
        .deserialize::<Value>()
        .expect("JSON");
        assert_eq!(
            paused,
            json!({ "command": "set_pause", "args": { "pause": "oneHour" } })
        );
        // The first call let the held event out; later ones pass at once.
        assert_eq!(events.try_recv().as_deref(), Ok("{\"seq\":7}"));
        read_from_app(focus(8).as_bytes(), app.handle(), &the_page);
        assert_eq!(events.try_recv().as_deref(), Ok("{\"seq\":8}"));
        let refused = tauri::test::get_ipc_response(&webview, request("add_target", json!({})))
            .expect_err("rejected");
        assert_eq!(refused, json!({ "kind": "invalidInput", "message": "no" }));
        assert_eq!(the_app.join().unwrap(), ["set_pause", "add_target"]);
    }

    #[test]
    fn a_call_the_app_cannot_hear_is_rejected_at_once() {
        let (written, to_app) = mpsc::channel();
        drop(to_app);
        let forwarder = Forwarder::new(Box::new(ToTest(written)));
        let app = wire(mock_builder(), Arc::clone(&forwarder))
            .build(mock_context(noop_assets()))
            .expect("builds");
        let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .expect("the window");
        let refused = tauri::test::get_ipc_response(&webview, request("get_snapshot", json!({})))
            .expect_err("rejected");
        assert_eq!(refused, json!("DriveWatch is not running"));
        assert!(forwarder.lock_pending().is_empty());
    }
}
