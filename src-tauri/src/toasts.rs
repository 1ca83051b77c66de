//! Delivers the toasts core's policy decided on, as native desktop notifications.
//!
//! On Linux and the BSDs they go over D-Bus (org.freedesktop.Notifications) with the actions
//! Open, Show in DriveWatch and, for a toast that stands for one folder, "Mute /Photos for 3
//! hours"; a digest's toast has Show only, which opens the window on the changes it sums up. On
//! Windows they go through WinRT with the same buttons, replaced in place by tag
//! ([`crate::windows_toast`]); on macOS notify-rust shows them without actions.
//! An update of a toast (the policy's cumulative count for a burst, the next save of an editing
//! session) replaces the notification in place on Linux, silently (the `suppress-sound` hint):
//! it is sent with the server's id of the first one (`replaces_id`), and the worker already
//! waiting for that notification's action acts on the update's target. Elsewhere an update is
//! shown as a notification of its own.
//!
//! A button's action is the shell's
//! ([`Shell::spawn_open_change`](crate::shell::Shell::spawn_open_change),
//! [`Shell::show_change`](crate::shell::Shell::show_change),
//! [`Shell::spawn_mute_folder`](crate::shell::Shell::spawn_mute_folder),
//! [`Shell::show_digest`](crate::shell::Shell::show_digest)), as for the tray's entries.
//!
//! This module must never decide what to show (that is `drivewatch_core::toast_policy`) and
//! never block the caller: each toast is shown on a blocking worker, which on Linux also
//! waits (bounded by the toast's timeout) for the user's action.

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
/// How long a toast stays up; also bounds how long a worker waits for an action.
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
    tauri::async_runtime::spawn_blocking(move || show(&app, &toast));
}

#[cfg(all(unix, not(target_os = "macos")))]
fn show<R: Runtime>(app: &AppHandle<R>, toast: &Toast) {
    use notify_rust::{Hint, Notification, Timeout};

    // An update replaces the notification shown for its id; the worker that waits on that one
    // (if it still does) handles the actions, with the target recorded here.
    let replaces = toast
        .update
        .then(|| OnScreen::global().replace(toast.id, toast.target, toast.mute.clone()))
        .flatten();

    let markup = body_markup();
    let body = if markup {
        escape_markup(&toast.body)
    } else {
        toast.body.clone()
    };
    let mut notification = Notification::new();
    notification
        .appname(APP_NAME)
        .summary(&toast.summary)
        .body(&body)
        .icon(&icon())
        .hint(Hint::Category("transfer".to_owned()))
        .hint(Hint::DesktopEntry("drivewatch".to_owned()))
        .timeout(Timeout::Milliseconds(SHOW_FOR_MS));
    if toast.update {
        // A redraw of what is on screen is no news: no second sound.
        notification.hint(Hint::SuppressSound(true));
    }
    // The actions speak the language the toast's text was worded in: the setting's.
    let words = app.try_state::<crate::shell::Shell>().map_or_else(
        || drivewatch_core::i18n::Catalog::for_language(Default::default()),
        |shell| shell.words(),
    );
    let show = words.text("toast_show", &[]);
    if toast.digest.is_some() {
        notification.action("default", &show).action("show", &show);
    } else if toast.target.is_some() {
        notification
            .action("default", &show)
            .action("open", &words.text("toast_open", &[]))
            .action("show", &show);
    }
    if let Some(mute) = &toast.mute {
        notification.action("mute", &mute_label(mute, words));
    }
    let acts = toast.target.is_some() || toast.digest.is_some() || toast.mute.is_some();
    if let Some((server_id, _)) = replaces {
        notification.id(server_id);
    }
    let handle = match notification.show() {
        Ok(handle) => handle,
        Err(e) => {
            tracing::warn!(error = %e, "could not show a toast");
            return;
        }
    };
    if matches!(replaces, Some((_, true))) {
        return; // The first notification's worker still waits for its actions.
    }
    let on_screen = OnScreen::global();
    on_screen.shown(toast.id, handle.id(), toast.target, toast.mute.clone());
    if !acts {
        on_screen.done(toast.id);
        return;
    }
    let id = toast.id;
    let Some(shell) = app.try_state::<Shell>() else {
        on_screen.done(id);
        return;
    };
    handle.wait_for_action(|action| {
        // The latest update's target: a burst's toast opens its folder, not its first file.
        let target = on_screen.target(id).or(toast.target);
        match (action, target, &toast.digest) {
            ("default" | "show", _, Some(digest)) => shell.show_digest(digest),
            ("open", Some(target), _) => shell.spawn_open_change(target.seq, target.folder),
            ("default" | "show", Some(target), _) => shell.show_change(target.seq),
            ("mute", _, _) => {
                if let Some(mute) = on_screen.mute(id).or_else(|| toast.mute.clone()) {
                    shell.spawn_mute_folder(Some(mute.target), mute.folder, MuteFor::ThreeHours);
                }
            }
            _ => {}
        }
    });
    on_screen.done(id);
}

/// The notifications DriveWatch has on screen, by the policy's toast id: the server's id to
/// replace one in place, its current target, and whether a worker still waits on it.
#[cfg(all(unix, not(target_os = "macos")))]
mod on_screen {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    use std::time::{Duration, Instant};

    use drivewatch_core::toast_policy::{MuteOffer, ToastId, ToastLimits, ToastTarget};

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

    struct Entry {
        server_id: u32,
        target: Option<ToastTarget>,
        mute: Option<MuteOffer>,
        touched: Instant,
        waiting: bool,
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

        /// Records a newly shown notification; a worker waits on it until [`Self::done`].
        pub fn shown(
            &self,
            id: ToastId,
            server_id: u32,
            target: Option<ToastTarget>,
            mute: Option<MuteOffer>,
        ) {
            let mut entries = self.entries();
            let now = Instant::now();
            let keep = keep_for();
            entries.retain(|_, e| now.duration_since(e.touched) < keep);
            if entries.len() >= MAX_ENTRIES {
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
                    touched: now,
                    waiting: true,
                },
            );
        }

        /// For an update of `id`: the server id to replace and whether a worker still waits on
        /// it (then it acts on `target` and `mute` from now on). `None` when the toast is not
        /// known (the update is then shown as a new notification).
        pub fn replace(
            &self,
            id: ToastId,
            target: Option<ToastTarget>,
            mute: Option<MuteOffer>,
        ) -> Option<(u32, bool)> {
            let mut entries = self.entries();
            let entry = entries.get_mut(&id)?;
            entry.target = target;
            entry.mute = mute;
            entry.touched = Instant::now();
            Some((entry.server_id, entry.waiting))
        }

        pub fn target(&self, id: ToastId) -> Option<ToastTarget> {
            self.entries().get(&id).and_then(|e| e.target)
        }

        pub fn mute(&self, id: ToastId) -> Option<MuteOffer> {
            self.entries().get(&id).and_then(|e| e.mute.clone())
        }

        /// The worker of `id` stopped waiting (the notification was closed or acted on).
        pub fn done(&self, id: ToastId) {
            if let Some(entry) = self.entries().get_mut(&id) {
                entry.waiting = false;
            }
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
            on_screen.shown(ToastId(1), 42, Some(single), None);
            assert_eq!(
                on_screen.replace(ToastId(1), Some(burst), Some(photos.clone())),
                Some((42, true))
            );
            assert_eq!(on_screen.target(ToastId(1)), Some(burst));
            assert_eq!(on_screen.mute(ToastId(1)), Some(photos));
            on_screen.done(ToastId(1));
            assert_eq!(
                on_screen.replace(ToastId(1), Some(burst), None),
                Some((42, false))
            );
        }

        #[test]
        fn the_map_stays_bounded() {
            let on_screen = OnScreen::default();
            for i in 0..200 {
                on_screen.shown(ToastId(i), i as u32, None, None);
            }
            assert!(on_screen.entries().len() <= MAX_ENTRIES);
            assert!(on_screen.replace(ToastId(199), None, None).is_some());
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

/// Whether the notification server renders markup in bodies (then `<`, `>`, `&` in names
/// must be escaped, or a file called `<b>x</b>` would be drawn bold). Asked once.
#[cfg(all(unix, not(target_os = "macos")))]
fn body_markup() -> bool {
    static MARKUP: OnceLock<bool> = OnceLock::new();
    *MARKUP.get_or_init(|| {
        notify_rust::get_capabilities()
            .map(|caps| caps.iter().any(|c| c == "body-markup"))
            .unwrap_or(false)
    })
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
