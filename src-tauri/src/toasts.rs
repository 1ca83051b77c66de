//! Delivers the toasts core's policy decided on, as native desktop notifications.
//!
//! On Linux and the BSDs they go over D-Bus (org.freedesktop.Notifications) with the actions
//! Open, Show in DriveWatch and, for a toast that stands for one folder, "Mute /Photos for 3
//! hours"; a digest's toast has Show only, which opens the window on the changes it sums up. On
//! Windows they go through WinRT with the same buttons, replaced in place by tag
//! ([`crate::windows_toast`]); on macOS notify-rust shows them without actions.
//! An update of a toast (the policy's cumulative count for a burst, the next save of an editing
//! session) replaces the notification in place on Linux, silently (the `suppress-sound` hint):
//! it is sent with the server's id of the first one (`replaces_id`), and its buttons act on the
//! update's target from then on. Elsewhere an update is shown as a notification of its own.
//! On Linux every toast goes over one kept session-bus connection, and one listener handles the
//! buttons of all of them ([`crate::freedesktop`]).
//!
//! A button's action is the shell's
//! ([`Shell::spawn_open_change`](crate::shell::Shell::spawn_open_change),
//! [`Shell::show_change`](crate::shell::Shell::show_change),
//! [`Shell::spawn_mute_folder`](crate::shell::Shell::spawn_mute_folder),
//! [`Shell::show_digest`](crate::shell::Shell::show_digest)), as for the tray's entries.
//!
//! This module must never decide what to show (that is `drivewatch_core::toast_policy`) and
//! never block the caller: each toast is shown on a task of its own (on Windows and macOS a
//! blocking worker).

use std::path::PathBuf;
use std::sync::OnceLock;

use drivewatch_core::i18n::{Arg, Catalog};
use drivewatch_core::toast_policy::{MuteOffer, Toast, display_path};
use tauri::{AppHandle, Manager, Runtime};

#[cfg(all(unix, not(target_os = "macos")))]
use crate::ipc::MuteFor;
#[cfg(all(unix, not(target_os = "macos")))]
use crate::shell::Shell;
#[cfg(all(unix, not(target_os = "macos")))]
use on_screen::OnScreen;

/// The app name notification servers show and group by.
pub const APP_NAME: &str = "DriveWatch";
/// How long a toast stays up (the server's expire timeout).
#[cfg_attr(windows, allow(dead_code))]
const SHOW_FOR_MS: u32 = 10_000;

static ICON_PATH: OnceLock<Option<PathBuf>> = OnceLock::new();

/// Writes the app icon where notification servers can read it (they take a path or a themed
/// name, not bytes). Called once at start-up; toasts fall back to the themed name without it.
pub fn prepare_icon<R: Runtime>(app: &AppHandle<R>) {
    let path = app.path().app_cache_dir().ok().and_then(|dir| {
        let path = dir.join("drivewatch.png");
        std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(&path, include_bytes!("../../icons/128x128.png")))
            .map(|()| path)
            .map_err(|e| tracing::warn!(error = %e, "could not write the toast icon"))
            .ok()
    });
    let _ = ICON_PATH.set(path);
}

/// The app icon written by [`prepare_icon`], if it was.
#[cfg_attr(not(windows), allow(dead_code))]
pub(crate) fn icon_file() -> Option<PathBuf> {
    ICON_PATH.get().and_then(|p| p.clone())
}

#[cfg_attr(windows, allow(dead_code))]
fn icon() -> String {
    ICON_PATH
        .get()
        .and_then(|p| p.as_ref())
        .map(|p| p.display().to_string())
        // The name the .deb installs the icon under.
        .unwrap_or_else(|| "drivewatch".to_owned())
}

/// The words of a toast's mute action, "Mute /Photos for 3 hours"; the folder is untrusted
/// text, made safe to show.
#[cfg_attr(not(all(unix, not(target_os = "macos"))), allow(dead_code))]
fn mute_label(mute: &MuteOffer, words: &Catalog) -> String {
    let folder = display_path(&mute.folder);
    words.text("tray_muteFor3h", &[("folder", Arg::from(&folder))])
}

/// Shows one toast without blocking the caller.
pub fn deliver<R: Runtime>(app: &AppHandle<R>, toast: Toast) {
    let app = app.clone();
    #[cfg(all(unix, not(target_os = "macos")))]
    tauri::async_runtime::spawn(async move { show(&app, &toast).await });
    #[cfg(not(all(unix, not(target_os = "macos"))))]
    tauri::async_runtime::spawn_blocking(move || show(&app, &toast));
}

#[cfg(all(unix, not(target_os = "macos")))]
async fn show<R: Runtime>(app: &AppHandle<R>, toast: &Toast) {
    use crate::freedesktop::{Outgoing, service};

    let service = match service(action_handler(app.clone())).await {
        Ok(service) => service,
        Err(e) => {
            tracing::warn!(error = %e, "no notification service: the toast is not shown");
            return;
        }
    };
    // An update redraws the notification shown for its toast id, in place and silently; the
    // actions then act on the update's target.
    let replaces = toast
        .update
        .then(|| OnScreen::global().replace(toast.id, toast.target, toast.mute.clone()))
        .flatten();
    let body = if service.body_markup() {
        escape_markup(&toast.body)
    } else {
        toast.body.clone()
    };
    // The actions speak the language the toast's text was worded in: the setting's.
    let words = app.try_state::<Shell>().map_or_else(
        || drivewatch_core::i18n::Catalog::for_language(Default::default()),
        |shell| shell.words(),
    );
    let show = words.text("toast_show", &[]);
    let mut actions: Vec<(&str, String)> = Vec::new();
    if toast.digest.is_some() {
        actions.extend([("default", show.clone()), ("show", show)]);
    } else if toast.target.is_some() {
        actions.extend([
            ("default", show.clone()),
            ("open", words.text("toast_open", &[])),
            ("show", show),
        ]);
    }
    if let Some(mute) = &toast.mute {
        actions.push(("mute", mute_label(mute, words)));
    }
    let icon = icon();
    let outgoing = Outgoing {
        app_name: APP_NAME,
        replaces_id: replaces.unwrap_or(0),
        icon: &icon,
        summary: &toast.summary,
        body: &body,
        actions: &actions,
        category: "transfer",
        desktop_entry: "drivewatch",
        // A redraw of what is on screen is no news: no second sound.
        silent: toast.update,
        timeout_ms: SHOW_FOR_MS as i32,
    };
    match service.notify(&outgoing).await {
        // The server may give a redraw a new id (the first was closed meanwhile): keep its.
        Ok(server_id) => OnScreen::global().shown(
            toast.id,
            server_id,
            toast.target,
            toast.mute.clone(),
            toast.digest.clone(),
        ),
        Err(e) => tracing::warn!(error = %e, "could not show a toast"),
    }
}

/// What a toast's button does, for every toast: the service's one listener calls it. A closed
/// toast keeps its entry: a later redraw of it makes the server show a new one, whose id `shown`
/// then records.
#[cfg(all(unix, not(target_os = "macos")))]
fn action_handler<R: Runtime>(app: AppHandle<R>) -> impl Fn(crate::freedesktop::Action) {
    move |crate::freedesktop::Action {
              id: server_id,
              key: action,
          }| {
        let on_screen = OnScreen::global();
        let Some(entry) = on_screen.by_server_id(server_id) else {
            return; // Not ours, or long gone.
        };
        let Some(shell) = app.try_state::<Shell>() else {
            return;
        };
        match (action.as_str(), entry.target, &entry.digest) {
            ("default" | "show", _, Some(digest)) => shell.show_digest(digest),
            ("open", Some(target), _) => shell.spawn_open_change(target.seq, target.folder),
            ("default" | "show", Some(target), _) => shell.show_change(target.seq),
            ("mute", _, _) => {
                if let Some(mute) = entry.mute {
                    shell.spawn_mute_folder(Some(mute.target), mute.folder, MuteFor::ThreeHours);
                }
            }
            _ => {}
        }
    }
}

/// The notifications DriveWatch has on screen, by the policy's toast id: the server's id to
/// redraw one in place, and what its buttons act on now.
#[cfg(all(unix, not(target_os = "macos")))]
mod on_screen {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    use std::time::{Duration, Instant};

    use drivewatch_core::toast_policy::{
        DigestScope, MuteOffer, ToastId, ToastLimits, ToastTarget,
    };

    /// Kept this long after the last show or update. A burst's toast is only updated within
    /// its group window, but an editing session's is redrawn up to
    /// `ToastLimits::session_update_every` apart, and once more when the session ends (up to
    /// the session timeout, which Settings may raise, after the last save). An entry kept too
    /// long costs nothing but a `replaces_id` the server no longer knows (it then shows a new
    /// notification); one dropped too early turns a silent redraw into a pop-up. So: generous,
    /// with [`MAX_ENTRIES`] as the bound.
    fn keep_for() -> Duration {
        let limits = ToastLimits::default();
        let longest = limits.group_window.max(limits.session_update_every);
        longest.to_std().unwrap_or(Duration::from_secs(300)) + SESSION_END_SLACK
    }

    /// Covers a session's last redraw, which comes a session timeout after the last save.
    const SESSION_END_SLACK: Duration = Duration::from_secs(3 * 60 * 60);

    /// A hard bound whatever the clock does; the cap on toasts per minute keeps it far below.
    const MAX_ENTRIES: usize = 64;

    /// What a toast's buttons act on.
    #[derive(Clone, Debug, PartialEq)]
    pub struct Entry {
        pub server_id: u32,
        pub target: Option<ToastTarget>,
        pub mute: Option<MuteOffer>,
        pub digest: Option<DigestScope>,
        touched: Instant,
    }

    #[derive(Default)]
    pub struct OnScreen {
        entries: Mutex<HashMap<ToastId, Entry>>,
    }

    impl OnScreen {
        pub fn global() -> &'static OnScreen {
            static ON_SCREEN: OnceLock<OnScreen> = OnceLock::new();
            ON_SCREEN.get_or_init(OnScreen::default)
        }

        fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<ToastId, Entry>> {
            self.entries.lock().unwrap_or_else(|p| p.into_inner())
        }

        /// Records a notification shown (or redrawn) as `server_id` for toast `id`.
        pub fn shown(
            &self,
            id: ToastId,
            server_id: u32,
            target: Option<ToastTarget>,
            mute: Option<MuteOffer>,
            digest: Option<DigestScope>,
        ) {
            let mut entries = self.entries();
            let now = Instant::now();
            let keep = keep_for();
            entries.retain(|_, e| now.duration_since(e.touched) < keep);
            if entries.len() >= MAX_ENTRIES && !entries.contains_key(&id) {
                if let Some(oldest) = entries
                    .iter()
                    .min_by_key(|(_, e)| e.touched)
                    .map(|(k, _)| *k)
                {
                    entries.remove(&oldest);
                }
            }
            entries.insert(
                id,
                Entry {
                    server_id,
                    target,
                    mute,
                    digest,
                    touched: now,
                },
            );
        }

        /// For an update of `id`: the server id to redraw in place, the buttons acting on
        /// `target` and `mute` from now on. `None` when the toast is not known (the update is
        /// then shown as a new notification).
        pub fn replace(
            &self,
            id: ToastId,
            target: Option<ToastTarget>,
            mute: Option<MuteOffer>,
        ) -> Option<u32> {
            let mut entries = self.entries();
            let entry = entries.get_mut(&id)?;
            entry.target = target;
            entry.mute = mute;
            entry.touched = Instant::now();
            Some(entry.server_id)
        }

        /// The toast the server knows as `server_id`, for its buttons.
        pub fn by_server_id(&self, server_id: u32) -> Option<Entry> {
            self.entries()
                .values()
                .find(|e| e.server_id == server_id)
                .cloned()
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn an_update_finds_the_server_id_and_moves_the_target() {
            let on_screen = OnScreen::default();
            let single = ToastTarget {
                seq: 7,
                folder: false,
            };
            let burst = ToastTarget {
                seq: 7,
                folder: true,
            };
            let photos = MuteOffer {
                target: "t".to_owned(),
                folder: "/Photos".to_owned(),
            };
            assert_eq!(on_screen.replace(ToastId(1), Some(burst), None), None);
            on_screen.shown(ToastId(1), 42, Some(single), None, None);
            assert_eq!(on_screen.by_server_id(42).unwrap().target, Some(single));
            assert_eq!(
                on_screen.replace(ToastId(1), Some(burst), Some(photos.clone())),
                Some(42)
            );
            let entry = on_screen.by_server_id(42).unwrap();
            assert_eq!(entry.target, Some(burst));
            assert_eq!(entry.mute, Some(photos));
            // The server gave the redraw a new id: the buttons follow it.
            on_screen.shown(ToastId(1), 43, Some(burst), None, None);
            assert!(on_screen.by_server_id(42).is_none());
            assert_eq!(on_screen.by_server_id(43).unwrap().target, Some(burst));
        }

        #[test]
        fn the_map_stays_bounded() {
            let on_screen = OnScreen::default();
            for i in 0..200 {
                on_screen.shown(ToastId(i), i as u32, None, None, None);
            }
            assert!(on_screen.entries().len() <= MAX_ENTRIES);
            assert!(on_screen.replace(ToastId(199), None, None).is_some());
            assert!(on_screen.by_server_id(0).is_none());
        }
    }
}

#[cfg(windows)]
fn show<R: Runtime>(app: &AppHandle<R>, toast: &Toast) {
    // The icon is handed over so that the Windows module never reaches back into this one.
    crate::windows_toast::show(app, toast, icon_file().as_deref());
}

#[cfg(not(any(windows, all(unix, not(target_os = "macos")))))]
fn show<R: Runtime>(app: &AppHandle<R>, toast: &Toast) {
    use notify_rust::Notification;

    // No actions here: macOS needs a signed bundle for them.
    let _ = app;
    let result = Notification::new()
        .appname(APP_NAME)
        .summary(&toast.summary)
        .body(&toast.body)
        .icon(&icon())
        .show();
    if let Err(e) = result {
        tracing::warn!(error = %e, "could not show a toast");
    }
}

#[cfg_attr(not(all(unix, not(target_os = "macos"))), allow(dead_code))]
fn escape_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mute_action_names_its_folder_in_the_toasts_language() {
        use drivewatch_core::i18n::Locale;
        let photos = MuteOffer {
            target: "t".to_owned(),
            folder: "/Photos/Offsite".to_owned(),
        };
        assert_eq!(
            mute_label(&photos, Catalog::get(Locale::En)),
            "Mute /Photos/Offsite for 3 hours"
        );
        assert_eq!(
            mute_label(&photos, Catalog::get(Locale::Ru)),
            "Заглушить /Photos/Offsite на 3 часа"
        );
    }

    #[test]
    fn markup_in_names_is_escaped() {
        assert_eq!(
            escape_markup("in /<b>Bold</b> & co"),
            "in /&lt;b&gt;Bold&lt;/b&gt; &amp; co"
        );
    }
}
