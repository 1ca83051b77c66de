//! DriveWatch's toasts on Windows: the toast XML, the tag that lets a burst's updates replace
//! the toast in place, and the argument a click on a toast (or one of its buttons) brings back.
//!
//! Windows shows a toast from an XML document (the "ToastGeneric" template). Drive file names
//! go into it, and they are untrusted text: every value is escaped for XML here, and characters
//! XML 1.0 cannot hold are replaced, so a name can neither break the document nor add elements
//! to it. A toast shown with the tag and group of one already on screen (or in the notification
//! centre) replaces it, which is how an update of a burst's toast ("Bob added 37 files") takes
//! the first one's place instead of piling up, as `replaces_id` does on Linux.
//!
//! Everything but the thin OS calls at the bottom is plain Rust, built and tested on every
//! platform. This module must never decide what to show (that is core's toast policy) and never
//! put text into the XML unescaped.

use drivewatch_core::toast_policy::{Toast, ToastId, ToastTarget};

/// The group every DriveWatch toast is in; with the tag it names a toast for replacement.
pub const GROUP: &str = "changes";

/// The words on a toast's buttons, as on Linux's notification actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Labels<'a> {
    pub open: &'a str,
    pub show: &'a str,
}

impl Default for Labels<'static> {
    fn default() -> Self {
        Labels {
            open: "Open",
            show: "Show in DriveWatch",
        }
    }
}

/// The tag of a toast and all its updates. Windows allows 64 characters; this stays far below.
pub fn tag(id: ToastId) -> String {
    format!("dw{}", id.0)
}

/// What a click on a toast asks for: the toast itself and "Show in DriveWatch" point the window
/// at the change, "Open" opens it (or its folder, for a burst) in the browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    Open(ToastTarget),
    Show(ToastTarget),
}

impl Activation {
    /// The argument Windows hands back on activation (`launch` or a button's `arguments`).
    pub fn argument(self) -> String {
        let (action, target) = match self {
            Activation::Open(t) => ("open", t),
            Activation::Show(t) => ("show", t),
        };
        format!(
            "action={action}&seq={}&folder={}",
            target.seq,
            u8::from(target.folder)
        )
    }

    /// Reads an argument [`Self::argument`] wrote; anything else (an older format, a tampered
    /// or empty string) is `None`, and the click then does nothing.
    pub fn parse(argument: &str) -> Option<Activation> {
        let (mut action, mut seq, mut folder) = (None, None, None);
        for pair in argument.split('&') {
            let (key, value) = pair.split_once('=')?;
            let slot_free = match key {
                "action" => action.replace(value).is_none(),
                "seq" => seq.replace(value.parse::<i64>().ok()?).is_none(),
                "folder" => folder
                    .replace(match value {
                        "0" => false,
                        "1" => true,
                        _ => return None,
                    })
                    .is_none(),
                _ => return None,
            };
            if !slot_free {
                return None; // A key given twice.
            }
        }
        let target = ToastTarget {
            seq: seq?,
            folder: folder?,
        };
        match action? {
            "open" => Some(Activation::Open(target)),
            "show" => Some(Activation::Show(target)),
            _ => None,
        }
    }
}

/// The toast's XML document. `icon` is a `file:///` URI of the app icon (or nothing).
pub fn toast_xml(toast: &Toast, labels: Labels<'_>, icon: Option<&str>) -> String {
    let mut xml = String::with_capacity(512);
    xml.push_str("<toast");
    if let Some(target) = toast.target {
        attr(&mut xml, "launch", &Activation::Show(target).argument());
    }
    xml.push_str("><visual><binding template=\"ToastGeneric\"><text>");
    xml.push_str(&escape(&toast.summary));
    xml.push_str("</text><text>");
    xml.push_str(&escape(&toast.body));
    xml.push_str("</text>");
    if let Some(icon) = icon {
        xml.push_str("<image placement=\"appLogoOverride\"");
        attr(&mut xml, "src", icon);
        xml.push_str("/>");
    }
    xml.push_str("</binding></visual>");
    if let Some(target) = toast.target {
        xml.push_str("<actions>");
        for (label, activation) in [
            (labels.open, Activation::Open(target)),
            (labels.show, Activation::Show(target)),
        ] {
            xml.push_str("<action activationType=\"foreground\"");
            attr(&mut xml, "content", label);
            attr(&mut xml, "arguments", &activation.argument());
            xml.push_str("/>");
        }
        xml.push_str("</actions>");
    }
    xml.push_str("</toast>");
    xml
}

/// A `file:///` URI for a local Windows path (`C:\Users\a b\x.png` → `file:///C:/Users/a%20b/x.png`).
pub fn file_uri(windows_path: &str) -> String {
    let mut uri = String::from("file:///");
    for c in windows_path.chars() {
        match c {
            '\\' => uri.push('/'),
            ' ' => uri.push_str("%20"),
            '#' => uri.push_str("%23"),
            '%' => uri.push_str("%25"),
            _ => uri.push(c),
        }
    }
    uri
}

fn attr(xml: &mut String, name: &str, value: &str) {
    xml.push(' ');
    xml.push_str(name);
    xml.push_str("=\"");
    xml.push_str(&escape(value));
    xml.push('"');
}

/// Escapes text for an XML element or a double- or single-quoted attribute; characters XML 1.0
/// cannot hold (most C0 controls, lone surrogates cannot occur in a `str`) become U+FFFD.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(windows)]
pub use os::show;

/// The WinRT calls: a toast notifier for DriveWatch's AppUserModelID, the XML above, and the
/// activation handler. Only safe bindings are used.
#[cfg(windows)]
mod os {
    use std::collections::VecDeque;
    use std::path::Path;
    use std::sync::Mutex;

    use drivewatch_core::toast_policy::Toast;
    use tauri::{AppHandle, Manager, Runtime};
    use windows::Data::Xml::Dom::XmlDocument;
    use windows::UI::Notifications::{
        ToastActivatedEventArgs, ToastNotification, ToastNotificationManager,
    };
    use windows::core::{HSTRING, IInspectable, Interface};

    use super::{Activation, GROUP, Labels, tag, toast_xml};

    /// Toasts stay referenced while Windows may still report a click on them; bounded.
    const KEEP: usize = 32;
    static SHOWN: Mutex<VecDeque<ToastNotification>> = Mutex::new(VecDeque::new());

    /// Shows (or, for an update, replaces in place) one toast.
    pub fn show<R: Runtime>(app: &AppHandle<R>, toast: &Toast, icon: Option<&Path>) {
        if let Err(e) = try_show(app, toast, icon) {
            tracing::warn!(error = %e, "could not show a toast");
        }
    }

    fn try_show<R: Runtime>(
        app: &AppHandle<R>,
        toast: &Toast,
        icon: Option<&Path>,
    ) -> windows::core::Result<()> {
        let icon = icon.map(|p| super::file_uri(&p.display().to_string()));
        // The buttons speak the language the toast's text was worded in: the setting's.
        let words = app.try_state::<crate::shell::Shell>().map_or_else(
            || drivewatch_core::i18n::Catalog::for_language(Default::default()),
            |shell| shell.words(),
        );
        let (open, show) = (words.text("toast_open", &[]), words.text("toast_show", &[]));
        let labels = Labels {
            open: &open,
            show: &show,
        };
        let doc = XmlDocument::new()?;
        doc.LoadXml(&HSTRING::from(toast_xml(toast, labels, icon.as_deref())))?;
        let notification = ToastNotification::CreateToastNotification(&doc)?;
        notification.SetTag(&HSTRING::from(tag(toast.id)))?;
        notification.SetGroup(&HSTRING::from(GROUP))?;
        let app = app.clone();
        notification.Activated(&windows::Foundation::TypedEventHandler::<
            ToastNotification,
            IInspectable,
        >::new(move |_, args| {
            let argument = args
                .as_ref()
                .and_then(|a| a.cast::<ToastActivatedEventArgs>().ok())
                .and_then(|a| a.Arguments().ok())
                .map(|a| a.to_string_lossy())
                .unwrap_or_default();
            activate(&app, &argument);
            Ok(())
        }))?;
        let notifier = ToastNotificationManager::CreateToastNotifierWithId(&HSTRING::from(
            crate::shortcut::AUMID,
        ))?;
        notifier.Show(&notification)?;
        let mut shown = SHOWN.lock().unwrap_or_else(|p| p.into_inner());
        if shown.len() >= KEEP {
            shown.pop_front();
        }
        shown.push_back(notification);
        Ok(())
    }

    /// Acts on a click through the shell, as the tray's entries do; the toast's body itself
    /// acts like "Show in DriveWatch".
    pub fn activate<R: Runtime>(app: &AppHandle<R>, argument: &str) {
        let Some(shell) = app.try_state::<crate::shell::Shell>() else {
            return;
        };
        match Activation::parse(argument) {
            Some(Activation::Open(target)) => shell.spawn_open_change(target.seq, target.folder),
            Some(Activation::Show(target)) => shell.show_change(target.seq),
            None => crate::window::show(app),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use drivewatch_core::toast_policy::ToastKind;

    fn toast(summary: &str, body: &str, target: Option<ToastTarget>) -> Toast {
        Toast {
            id: ToastId(7),
            update: false,
            kind: ToastKind::Single,
            summary: summary.to_owned(),
            body: body.to_owned(),
            target,
            mute: None,
            digest: None,
        }
    }

    const TARGET: ToastTarget = ToastTarget {
        seq: 42,
        folder: false,
    };

    #[test]
    fn a_toast_has_both_lines_the_icon_and_both_buttons() {
        let xml = toast_xml(
            &toast("Alice edited Budget.xlsx", "in /Finance", Some(TARGET)),
            Labels::default(),
            Some("file:///C:/Users/a/drivewatch.png"),
        );
        assert_eq!(
            xml,
            "<toast launch=\"action=show&amp;seq=42&amp;folder=0\"><visual>\
             <binding template=\"ToastGeneric\"><text>Alice edited Budget.xlsx</text>\
             <text>in /Finance</text><image placement=\"appLogoOverride\" \
             src=\"file:///C:/Users/a/drivewatch.png\"/></binding></visual><actions>\
             <action activationType=\"foreground\" content=\"Open\" \
             arguments=\"action=open&amp;seq=42&amp;folder=0\"/>\
             <action activationType=\"foreground\" content=\"Show in DriveWatch\" \
             arguments=\"action=show&amp;seq=42&amp;folder=0\"/></actions></toast>"
        );
    }

    #[test]
    fn a_summary_toast_has_no_target_and_no_buttons() {
        let xml = toast_xml(&toast("12 more changes", "", None), Labels::default(), None);
        assert!(!xml.contains("launch="), "{xml}");
        assert!(!xml.contains("<actions>"), "{xml}");
        assert!(!xml.contains("<image"), "{xml}");
    }

    #[test]
    fn names_cannot_break_out_of_the_xml() {
        let evil =
            "x</text></binding></visual><actions><action content=\"pwn\" arguments='a'/>&amp;\u{1}";
        let xml = toast_xml(&toast(evil, evil, Some(TARGET)), Labels::default(), None);
        // Only the document's own elements: two texts and two actions.
        assert_eq!(xml.matches("<text>").count(), 2);
        assert_eq!(xml.matches("</text>").count(), 2);
        assert_eq!(xml.matches("<action ").count(), 2);
        assert!(!xml.contains("content=\"pwn\""));
        assert!(xml.contains(
            "x&lt;/text&gt;&lt;/binding&gt;&lt;/visual&gt;&lt;actions&gt;&lt;action \
             content=&quot;pwn&quot; arguments=&apos;a&apos;/&gt;&amp;amp;\u{FFFD}"
        ));
        assert_eq!(escape("tab\tline\nok"), "tab\tline\nok");
    }

    #[test]
    fn labels_are_escaped_too() {
        let xml = toast_xml(
            &toast("a", "b", Some(TARGET)),
            Labels {
                open: "Öffnen & <los>",
                show: "\"Zeigen\"",
            },
            None,
        );
        assert!(
            xml.contains("content=\"Öffnen &amp; &lt;los&gt;\""),
            "{xml}"
        );
        assert!(xml.contains("content=\"&quot;Zeigen&quot;\""), "{xml}");
    }

    #[test]
    fn activation_arguments_round_trip() {
        for activation in [
            Activation::Open(TARGET),
            Activation::Show(TARGET),
            Activation::Open(ToastTarget {
                seq: -1,
                folder: true,
            }),
            Activation::Show(ToastTarget {
                seq: i64::MAX,
                folder: true,
            }),
        ] {
            assert_eq!(Activation::parse(&activation.argument()), Some(activation));
        }
        assert_eq!(
            Activation::parse("folder=1&seq=5&action=open"),
            Some(Activation::Open(ToastTarget {
                seq: 5,
                folder: true
            }))
        );
    }

    #[test]
    fn malformed_activation_arguments_do_nothing() {
        for bad in [
            "",
            "action=open",
            "action=open&seq=5",
            "action=open&seq=x&folder=0",
            "action=delete&seq=5&folder=0",
            "action=open&seq=5&folder=2",
            "action=open&seq=5&folder=0&extra=1",
            "action=open&action=show&seq=5&folder=0",
            "action=open&seq=5&folder=0&",
            "action open",
        ] {
            assert_eq!(Activation::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn updates_share_the_tag_of_their_toast() {
        assert_eq!(tag(ToastId(7)), tag(ToastId(7)));
        assert_ne!(tag(ToastId(7)), tag(ToastId(8)));
        assert!(tag(ToastId(u64::MAX)).len() <= 64);
    }

    #[test]
    fn icon_paths_become_file_uris() {
        assert_eq!(
            file_uri(r"C:\Users\Jo Doe\AppData\Local\DriveWatch\cache\drivewatch.png"),
            "file:///C:/Users/Jo%20Doe/AppData/Local/DriveWatch/cache/drivewatch.png"
        );
        assert_eq!(file_uri(r"C:\a#b%c"), "file:///C:/a%23b%25c");
    }
}
