//! DriveWatch's toasts on Windows: the toast XML, the tag that lets a burst's updates replace
//! the toast in place, and the argument a click on a toast (or one of its buttons) brings back:
//! Open, Show in DriveWatch, "Mute /Photos for 3 hours" for a toast that stands for one folder,
//! and Show for a digest (the window on the changes it sums up).
//!
//! Windows shows a toast from an XML document (the "ToastGeneric" template). Drive file names
//! go into it, and they are untrusted text: every value is escaped for XML here, and characters
//! XML 1.0 cannot hold are replaced, so a name can neither break the document nor add elements
//! to it. A toast shown with the tag and group of one already on screen (or in the notification
//! centre) replaces it, which is how an update of a burst's toast ("Bob added 37 files") takes
//! the first one's place instead of piling up, as `replaces_id` does on Linux; an update is
//! also shown without a pop-up (`SuppressPopup`), straight into the notification centre.
//! The folder and target names a mute or a digest button carries back are percent-encoded in
//! the argument (and the argument escaped in the XML), and read back strictly.
//!
//! Everything but the thin OS calls at the bottom is plain Rust, built and tested on every
//! platform. This module must never decide what to show (that is core's toast policy) and never
//! put text into the XML unescaped.

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use drivewatch_core::toast_policy::{DigestScope, MuteOffer, Toast, ToastId, ToastTarget};

/// The group every DriveWatch toast is in; with the tag it names a toast for replacement.
pub const GROUP: &str = "changes";

/// The words on a toast's buttons, as on Linux's notification actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Labels<'a> {
    pub open: &'a str,
    pub show: &'a str,
    /// "Mute /Photos for 3 hours", worded for the toast's folder.
    pub mute: &'a str,
}

impl Default for Labels<'static> {
    fn default() -> Self {
        Labels {
            open: "Open",
            show: "Show in DriveWatch",
            mute: "Mute for 3 hours",
        }
    }
}

/// The tag of a toast and all its updates. Windows allows 64 characters; this stays far below.
pub fn tag(id: ToastId) -> String {
    format!("dw{}", id.0)
}

/// What a click on a toast asks for: the toast itself and "Show in DriveWatch" point the window
/// at the change, "Open" opens it (or its folder, for a burst) in the browser, "Mute" mutes the
/// toast's folder for 3 hours, and a digest's toast shows the changes it sums up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Activation {
    Open(ToastTarget),
    Show(ToastTarget),
    Mute(MuteOffer),
    Digest(DigestScope),
}

/// The keys an argument may hold; each at most once, and only those of its action.
const KEYS: [&str; 7] = [
    "action", "seq", "folder", "target", "path", "since", "until",
];

fn time_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

impl Activation {
    /// The argument Windows hands back on activation (`launch` or a button's `arguments`):
    /// form-encoded pairs, so names cannot add pairs of their own.
    pub fn argument(&self) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        match self {
            Activation::Open(target) | Activation::Show(target) => {
                let action = if matches!(self, Activation::Open(_)) {
                    "open"
                } else {
                    "show"
                };
                out.append_pair("action", action)
                    .append_pair("seq", &target.seq.to_string())
                    .append_pair("folder", if target.folder { "1" } else { "0" });
            }
            Activation::Mute(mute) => {
                out.append_pair("action", "mute")
                    .append_pair("target", &mute.target)
                    .append_pair("path", &mute.folder);
            }
            Activation::Digest(digest) => {
                out.append_pair("action", "digest")
                    .append_pair("target", &digest.target);
                if let Some(folder) = &digest.folder {
                    out.append_pair("path", folder);
                }
                out.append_pair("since", &time_text(digest.since))
                    .append_pair("until", &time_text(digest.until));
            }
        }
        out.finish()
    }

    /// Reads an argument [`Self::argument`] wrote; anything else (an older format, a tampered
    /// or empty string) is `None`, and the click then does nothing.
    pub fn parse(argument: &str) -> Option<Activation> {
        // Every pair has a key and a value: a stray `&` or a bare word is not ours.
        if argument.split('&').any(|pair| !pair.contains('=')) {
            return None;
        }
        let mut slots = HashMap::new();
        for (key, value) in url::form_urlencoded::parse(argument.as_bytes()) {
            if !KEYS.contains(&key.as_ref()) {
                return None;
            }
            if slots.insert(key.into_owned(), value.into_owned()).is_some() {
                return None; // A key given twice.
            }
        }
        let mut take = |key: &str| slots.remove(key);
        let activation = match take("action")?.as_str() {
            action @ ("open" | "show") => {
                let target = ToastTarget {
                    seq: take("seq")?.parse::<i64>().ok()?,
                    folder: match take("folder")?.as_str() {
                        "0" => false,
                        "1" => true,
                        _ => return None,
                    },
                };
                if action == "open" {
                    Activation::Open(target)
                } else {
                    Activation::Show(target)
                }
            }
            "mute" => Activation::Mute(MuteOffer {
                target: take("target")?,
                folder: take("path")?,
            }),
            "digest" => Activation::Digest(DigestScope {
                target: take("target")?,
                folder: take("path"),
                since: parse_time(&take("since")?)?,
                until: parse_time(&take("until")?)?,
            }),
            _ => return None,
        };
        // A key that belongs to another action.
        slots.is_empty().then_some(activation)
    }
}

/// The toast's XML document. `icon` is a `file:///` URI of the app icon (or nothing).
pub fn toast_xml(toast: &Toast, labels: Labels<'_>, icon: Option<&str>) -> String {
    let mut xml = String::with_capacity(512);
    // A digest's toast shows what it sums up; any other with a target points at its change.
    let (launch, buttons) = match (&toast.digest, toast.target) {
        (Some(digest), _) => {
            let show = Activation::Digest(digest.clone());
            (Some(show.clone()), vec![(labels.show, show)])
        }
        (None, Some(target)) => (
            Some(Activation::Show(target)),
            vec![
                (labels.open, Activation::Open(target)),
                (labels.show, Activation::Show(target)),
            ],
        ),
        (None, None) => (None, Vec::new()),
    };
    let mut buttons = buttons;
    if let Some(mute) = &toast.mute {
        buttons.push((labels.mute, Activation::Mute(mute.clone())));
    }
    xml.push_str("<toast");
    if let Some(launch) = launch {
        attr(&mut xml, "launch", &launch.argument());
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
    if !buttons.is_empty() {
        xml.push_str("<actions>");
        for (label, activation) in buttons {
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

    use drivewatch_core::i18n::Arg;
    use drivewatch_core::toast_policy::{Toast, display_path};
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
        let mute = toast.mute.as_ref().map_or_else(String::new, |mute| {
            let folder = display_path(&mute.folder);
            words.text("tray_muteFor3h", &[("folder", Arg::from(&folder))])
        });
        let labels = Labels {
            open: &open,
            show: &show,
            mute: &mute,
        };
        let doc = XmlDocument::new()?;
        doc.LoadXml(&HSTRING::from(toast_xml(toast, labels, icon.as_deref())))?;
        let notification = ToastNotification::CreateToastNotification(&doc)?;
        notification.SetTag(&HSTRING::from(tag(toast.id)))?;
        notification.SetGroup(&HSTRING::from(GROUP))?;
        if toast.update {
            // A redraw of a toast already shown goes to the notification centre, no pop-up.
            notification.SetSuppressPopup(true)?;
        }
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
            Some(Activation::Mute(mute)) => shell.spawn_mute_folder(
                Some(mute.target),
                mute.folder,
                crate::ipc::MuteFor::ThreeHours,
            ),
            Some(Activation::Digest(digest)) => shell.show_digest(&digest),
            None => crate::window_link::open(app),
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
                mute: "Stumm",
            },
            None,
        );
        assert!(
            xml.contains("content=\"Öffnen &amp; &lt;los&gt;\""),
            "{xml}"
        );
        assert!(xml.contains("content=\"&quot;Zeigen&quot;\""), "{xml}");
    }

    fn photos() -> MuteOffer {
        MuteOffer {
            target: "acct-1/me".to_owned(),
            folder: "/Photos & <Offsite>/a=b&action=open\"'".to_owned(),
        }
    }

    #[test]
    fn a_folder_toast_has_a_mute_button_whose_name_stays_text() {
        let mut burst = toast("Adele added 40 files", "IMG_1", Some(TARGET));
        burst.mute = Some(photos());
        let xml = toast_xml(
            &burst,
            Labels {
                mute: "Mute /Photos & <Offsite> for 3 hours",
                ..Labels::default()
            },
            None,
        );
        assert_eq!(xml.matches("<action ").count(), 3, "{xml}");
        assert!(
            xml.contains("content=\"Mute /Photos &amp; &lt;Offsite&gt; for 3 hours\""),
            "{xml}"
        );
        // The button's argument, as Windows hands it back once the XML is parsed.
        let argument = xml
            .split("arguments=\"")
            .nth(3)
            .and_then(|rest| rest.split('"').next())
            .expect("a third button")
            .replace("&amp;", "&");
        assert!(!argument.contains(['<', '>', '"', '\'']), "{argument}");
        assert_eq!(
            Activation::parse(&argument),
            Some(Activation::Mute(photos()))
        );
    }

    #[test]
    fn a_digest_toast_shows_its_changes() {
        let since = chrono::DateTime::parse_from_rfc3339("2026-03-01T08:00:00Z")
            .expect("a time")
            .with_timezone(&Utc);
        let scope = DigestScope {
            target: "acct-1/finance".to_owned(),
            folder: Some("/Finance".to_owned()),
            since,
            until: since + chrono::Duration::hours(24),
        };
        let mut digest = toast("Yesterday in Finance: 34 changes by 5 people", "", None);
        digest.digest = Some(scope.clone());
        let xml = toast_xml(&digest, Labels::default(), None);
        assert_eq!(xml.matches("<action ").count(), 1, "{xml}");
        assert!(xml.contains("action=digest"), "{xml}");
        assert!(!xml.contains("action=open"), "{xml}");
        let launch = Activation::Digest(scope).argument();
        assert!(xml.contains(&escape(&launch)), "{xml}");
    }

    #[test]
    fn activation_arguments_round_trip() {
        let since = Utc::now();
        for activation in [
            Activation::Mute(photos()),
            Activation::Digest(DigestScope {
                target: "t&x=1".to_owned(),
                folder: None,
                since,
                until: since + chrono::Duration::hours(24),
            }),
            Activation::Digest(DigestScope {
                target: "t".to_owned(),
                folder: Some("/A+B %20".to_owned()),
                since,
                until: since,
            }),
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
            "action=mute&target=t",
            "action=mute&target=t&path=/a&seq=1",
            "action=digest&target=t&since=yesterday&until=2026-03-01T08:00:00Z",
            "action=open&seq=5&folder=0&path=/a",
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
