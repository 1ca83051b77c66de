//! What the app and its window process say to each other: one JSON object a line, the window's
//! requests on its standard output, the app's answers, events and "show" on its standard input.
//!
//! The window runs in a process of its own (`window_link` starts it, `window_process` is it) so
//! that closing it gives back everything WebKit loaded, its GL driver included, by ending that
//! process. This module holds the messages only; it depends on no other module of the shell.
//! A line that is not one of these is skipped, never fatal: a library in the window process
//! that prints to its standard output must not cut the window off.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// From the window process to the app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum ToApp {
    /// The page invoked `command` (already allowed by the window's capability) with `args`.
    Call {
        id: u64,
        command: String,
        args: Value,
    },
}

/// From the app to the window process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum ToWindow {
    /// The answer to the call `id`: resolved with `Ok`, or rejected with `Err`.
    Reply {
        id: u64,
        result: Result<Value, Value>,
    },
    /// An event for the page, by the name it listens to.
    Event { name: String, payload: Value },
    /// Show, restore and focus the window (a second launch, the tray, a toast).
    Show,
}

/// One message as the line that carries it (no newline inside: JSON escapes them).
pub fn line<T: Serialize>(message: &T) -> String {
    let mut text = serde_json::to_string(message).unwrap_or_default();
    text.push('\n');
    text
}

/// The message a line carries, or `None` for anything else.
pub fn parse<T: for<'de> Deserialize<'de>>(line: &str) -> Option<T> {
    serde_json::from_str(line.trim_end()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn messages_cross_as_one_line_each_and_other_lines_are_skipped() {
        let call = ToApp::Call {
            id: 7,
            command: "set_pause".into(),
            args: json!({ "pause": "oneHour", "note": "two\nlines" }),
        };
        let text = line(&call);
        assert_eq!(text.matches('\n').count(), 1, "{text}");
        assert_eq!(parse::<ToApp>(&text), Some(call));

        let rejected = ToWindow::Reply {
            id: 7,
            result: Err(json!({ "kind": "invalidInput" })),
        };
        assert_eq!(parse::<ToWindow>(&line(&rejected)), Some(rejected));
        // A command without a value (`null`) is resolved, not mistaken for a missing field.
        let resolved = ToWindow::Reply {
            id: 8,
            result: Ok(Value::Null),
        };
        assert_eq!(parse::<ToWindow>(&line(&resolved)), Some(resolved));

        assert_eq!(
            parse::<ToWindow>("Gtk-Message: 12:00: stray output\n"),
            None
        );
        assert_eq!(parse::<ToApp>("{\"kind\":\"call\"}"), None);
    }
}
