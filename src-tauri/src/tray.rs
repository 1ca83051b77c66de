//! The tray icon and its menu: the app's face when the window is closed.
//!
//! The icon shows one of five states ([`TrayState`]), and the unread count as a label next to
//! it where the platform has one (AppIndicator on Linux); the menu's first line says the state,
//! the last change and the unread count (a click shows them), then it offers Open, the latest
//! changes, pausing, the folders muted now (a click unmutes), accounts and Quit. Menu ids are a typed [`MenuId`], parsed back in the callback.
//! Every entry's action, and the icon's click, is a method of the [`Shell`]: the tray only maps
//! ids to them. Callbacks must never panic (no `unwrap`): a failed menu action is logged and
//! ignored, since the tray has nowhere to show an error.

use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Local};
use drivewatch_core::i18n::{Arg, Catalog};
use drivewatch_core::model::{Account, AccountState, Change, Mute, TargetInfo, TargetStatus};
use drivewatch_core::toast_policy::{describe_change, display_path};
use tauri::image::Image;
use tauri::menu::{Menu, MenuEvent, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::{MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Runtime};

use crate::ipc::PauseFor;
use crate::shell::Shell;

/// The id of DriveWatch's one tray icon.
pub const TRAY_ID: &str = "drivewatch";

/// What the tray icon says at a glance; each has its own icon in `icons/tray/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrayState {
    /// Push notifications are flowing.
    Live,
    /// Push is unavailable or throttled; changes arrive by polling.
    Polling,
    /// A connection is being re-established, or a watch failed.
    Reconnecting,
    /// No account, or an account must sign in again.
    NeedsSignIn,
    /// Toasts are paused by the user.
    Paused,
}

impl TrayState {
    pub const ALL: [TrayState; 5] = [
        TrayState::Live,
        TrayState::Polling,
        TrayState::Reconnecting,
        TrayState::NeedsSignIn,
        TrayState::Paused,
    ];

    /// Where the state's icon lives, relative to `icons/`.
    pub fn icon_path(self) -> &'static str {
        match self {
            TrayState::Live => "tray/live.png",
            TrayState::Polling => "tray/polling.png",
            TrayState::Reconnecting => "tray/reconnecting.png",
            TrayState::NeedsSignIn => "tray/needs-sign-in.png",
            TrayState::Paused => "tray/paused.png",
        }
    }

    fn icon_png(self) -> &'static [u8] {
        match self {
            TrayState::Live => include_bytes!("../../icons/tray/live.png"),
            TrayState::Polling => include_bytes!("../../icons/tray/polling.png"),
            TrayState::Reconnecting => include_bytes!("../../icons/tray/reconnecting.png"),
            TrayState::NeedsSignIn => include_bytes!("../../icons/tray/needs-sign-in.png"),
            TrayState::Paused => include_bytes!("../../icons/tray/paused.png"),
        }
    }

    /// The state's name, the one the window's Status screen gives it too.
    pub fn label(self, catalog: &Catalog) -> String {
        let key = match self {
            TrayState::Live => "st_live",
            TrayState::Polling => "st_polling",
            TrayState::Reconnecting => "st_reconnecting",
            TrayState::NeedsSignIn => "st_needsSignIn",
            TrayState::Paused => "st_paused",
        };
        catalog.text(key, &[])
    }

    /// The state the tray shows for the shell's accounts, targets and pause.
    pub fn of(shell: &Shell) -> Self {
        let engine = shell.engine();
        Self::from_parts(
            &engine.accounts(),
            &engine.targets(),
            shell.paused_until().is_some(),
        )
    }

    /// The state the tray shows for these accounts and targets; the most pressing one wins.
    pub fn from_parts(accounts: &[Account], targets: &[TargetInfo], paused: bool) -> Self {
        if paused {
            return TrayState::Paused;
        }
        let needs_sign_in = accounts.is_empty()
            || accounts
                .iter()
                .any(|a| a.state == AccountState::NeedsSignIn)
            || targets
                .iter()
                .any(|t| matches!(t.status, TargetStatus::NeedsSignIn));
        if needs_sign_in {
            return TrayState::NeedsSignIn;
        }
        let troubled = targets.iter().any(|t| {
            matches!(
                t.status,
                TargetStatus::Reconnecting { .. } | TargetStatus::Error { .. }
            )
        });
        if troubled {
            return TrayState::Reconnecting;
        }
        let polling = targets.iter().any(|t| {
            matches!(
                t.status,
                TargetStatus::Polling { .. } | TargetStatus::Throttled { .. }
            )
        });
        if polling {
            TrayState::Polling
        } else {
            TrayState::Live
        }
    }
}

/// Every menu entry, as a typed id; the string form lives only in [`MenuId::as_id`] and
/// [`MenuId::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MenuId {
    Status,
    Open,
    Change(i64),
    Pause(PauseFor),
    SignIn,
    SignOut(String),
    /// Ends the mute of this folder (of this target, or of every target).
    Unmute {
        target: Option<String>,
        folder: String,
    },
    Quit,
}

impl MenuId {
    pub fn as_id(&self) -> String {
        match self {
            MenuId::Status => "status".to_owned(),
            MenuId::Open => "open".to_owned(),
            MenuId::Change(seq) => format!("change:{seq}"),
            MenuId::Pause(PauseFor::OneHour) => "pause:hour".to_owned(),
            MenuId::Pause(PauseFor::UntilTomorrow) => "pause:tomorrow".to_owned(),
            MenuId::Pause(PauseFor::Resume) => "pause:resume".to_owned(),
            MenuId::SignIn => "sign-in".to_owned(),
            MenuId::SignOut(account) => format!("sign-out:{account}"),
            // Target ids never hold a line break; the folder is whatever follows the first.
            MenuId::Unmute {
                target: None,
                folder,
            } => format!("unmute:all\n{folder}"),
            MenuId::Unmute {
                target: Some(target),
                folder,
            } => format!("unmute:one:{target}\n{folder}"),
            MenuId::Quit => "quit".to_owned(),
        }
    }

    pub fn parse(id: &str) -> Option<Self> {
        Some(match id {
            "status" => MenuId::Status,
            "open" => MenuId::Open,
            "pause:hour" => MenuId::Pause(PauseFor::OneHour),
            "pause:tomorrow" => MenuId::Pause(PauseFor::UntilTomorrow),
            "pause:resume" => MenuId::Pause(PauseFor::Resume),
            "sign-in" => MenuId::SignIn,
            "quit" => MenuId::Quit,
            other => {
                if let Some(seq) = other.strip_prefix("change:") {
                    MenuId::Change(seq.parse().ok()?)
                } else if let Some(account) = other.strip_prefix("sign-out:") {
                    MenuId::SignOut(account.to_owned())
                } else if let Some(mute) = other.strip_prefix("unmute:") {
                    let (scope, folder) = mute.split_once('\n')?;
                    let target = match scope {
                        "all" => None,
                        one => Some(one.strip_prefix("one:")?.to_owned()),
                    };
                    MenuId::Unmute {
                        target,
                        folder: folder.to_owned(),
                    }
                } else {
                    return None;
                }
            }
        })
    }
}

/// The first, disabled line: the state and the last change (Linux trays have no tooltip).
pub fn status_line(state: TrayState, latest: Option<&Change>, catalog: &Catalog) -> String {
    let label = state.label(catalog);
    match latest {
        Some(change) => {
            let (summary, _) = describe_change(change, catalog);
            let local = change.at.with_timezone(&chrono::Local);
            let time = local.format("%H:%M").to_string();
            catalog.text(
                "tray_status",
                &[
                    ("state", Arg::from(&label)),
                    ("time", Arg::from(&time)),
                    ("change", Arg::from(&summary)),
                ],
            )
        }
        None => catalog.text("tray_statusEmpty", &[("state", Arg::from(&label))]),
    }
}

/// "12 new changes", in the catalog's plural forms.
pub fn unread_text(unread: u32, catalog: &Catalog) -> String {
    catalog.text("tray_unread", &[("count", Arg::from(unread as usize))])
}

/// The menu's first line: [`status_line`], and the unread count after it when there is one.
pub fn first_line(
    state: TrayState,
    latest: Option<&Change>,
    unread: u32,
    catalog: &Catalog,
) -> String {
    let status = status_line(state, latest, catalog);
    if unread == 0 {
        return status;
    }
    // The same separator as within the status line, in every language.
    format!("{status} · {}", unread_text(unread, catalog))
}

/// The icon's tooltip (Windows; Linux trays show none): "DriveWatch — 12 new changes" over the
/// status line while there are unread changes, the status line alone otherwise.
pub fn tooltip(
    state: TrayState,
    latest: Option<&Change>,
    unread: u32,
    catalog: &Catalog,
) -> String {
    let status = status_line(state, latest, catalog);
    if unread == 0 {
        return status;
    }
    // The app's name is the same in every language.
    format!("DriveWatch — {}\n{status}", unread_text(unread, catalog))
}

/// The label next to the icon (AppIndicator's): the unread count, or none.
pub fn badge(unread: u32) -> Option<String> {
    match unread {
        0 => None,
        1..=99 => Some(unread.to_string()),
        _ => Some("99+".to_owned()),
    }
}

/// A Muted entry: "Unmute /Photos (muted until 18:30)"; the folder is untrusted text.
pub fn unmute_label(mute: &Mute, now: DateTime<Local>, catalog: &Catalog) -> String {
    let folder = display_path(&mute.folder);
    match mute.until {
        Some(until) => {
            let local = until.with_timezone(&Local);
            let time = if local.date_naive() == now.date_naive() {
                local.format("%H:%M").to_string()
            } else {
                local.format("%Y-%m-%d %H:%M").to_string()
            };
            catalog.text(
                "tray_unmuteUntil",
                &[("folder", Arg::from(&folder)), ("time", Arg::from(&time))],
            )
        }
        None => catalog.text("tray_unmuteAlways", &[("folder", Arg::from(&folder))]),
    }
}

fn item<R: Runtime, M: Manager<R>>(
    app: &M,
    id: MenuId,
    text: &str,
    enabled: bool,
) -> tauri::Result<MenuItem<R>> {
    MenuItem::with_id(app, id.as_id(), text, enabled, None::<&str>)
}

/// Builds the whole menu from the shell's current state.
pub fn build_menu<R: Runtime, M: Manager<R>>(app: &M, shell: &Shell) -> tauri::Result<Menu<R>> {
    let state = TrayState::of(shell);
    let latest = shell.latest();
    let unread = shell.unread();
    let words = shell.words();
    let text = |key: &str| words.text(key, &[]);
    let menu = Menu::new(app)?;
    menu.append(&item(
        app,
        MenuId::Status,
        &first_line(state, latest.first(), unread, words),
        unread > 0,
    )?)?;
    menu.append(&item(app, MenuId::Open, &text("tray_open"), true)?)?;
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    if latest.is_empty() {
        menu.append(&MenuItem::with_id(
            app,
            "no-changes",
            text("tray_noChanges"),
            false,
            None::<&str>,
        )?)?;
    }
    for change in &latest {
        let (summary, _) = describe_change(change, words);
        menu.append(&item(app, MenuId::Change(change.seq), &summary, true)?)?;
    }
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    let paused = shell.paused_until().is_some();
    let pause = Submenu::with_items(
        app,
        text("tray_pause"),
        true,
        &[
            &item(
                app,
                MenuId::Pause(PauseFor::OneHour),
                &text("tray_pauseHour"),
                true,
            )?,
            &item(
                app,
                MenuId::Pause(PauseFor::UntilTomorrow),
                &text("tray_pauseTomorrow"),
                true,
            )?,
            &item(
                app,
                MenuId::Pause(PauseFor::Resume),
                &text("resume"),
                paused,
            )?,
        ],
    )?;
    menu.append(&pause)?;
    let mutes = shell.active_mutes();
    if !mutes.is_empty() {
        let muted = Submenu::new(app, text("tray_muted"), true)?;
        let now = Local::now();
        for mute in mutes {
            let label = unmute_label(&mute, now, words);
            let id = MenuId::Unmute {
                target: mute.target,
                folder: mute.folder,
            };
            muted.append(&item(app, id, &label, true)?)?;
        }
        menu.append(&muted)?;
    }
    let accounts = Submenu::new(app, text("accountsTitle"), true)?;
    for account in shell.engine().accounts() {
        let label = words.text("signOutOf", &[("name", Arg::from(&account.username))]);
        accounts.append(&item(
            app,
            MenuId::SignOut(account.id.clone()),
            &label,
            true,
        )?)?;
    }
    accounts.append(&item(app, MenuId::SignIn, &text("tray_signIn"), true)?)?;
    menu.append(&accounts)?;
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&item(app, MenuId::Quit, &text("tray_quit"), true)?)?;
    Ok(menu)
}

/// The state whose icon the tray shows. A redraw sets the icon only when the state changed: on
/// Linux the tray encodes every icon it is given to a new PNG file for the panel to load, which
/// on every change was a file written and a panel reload for the same picture. One tray per
/// process, drawn on the main thread.
static DRAWN: Mutex<Option<TrayState>> = Mutex::new(None);

fn drawn() -> MutexGuard<'static, Option<TrayState>> {
    DRAWN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Creates the tray icon. Menu and icon are refreshed by [`refresh`].
pub fn create<R: Runtime>(app: &AppHandle<R>, shell: &Shell) -> tauri::Result<TrayIcon<R>> {
    let state = TrayState::of(shell);
    *drawn() = Some(state);
    let unread = shell.unread();
    let mut builder = TrayIconBuilder::with_id(TRAY_ID)
        .icon(Image::from_bytes(state.icon_png())?)
        .tooltip(tooltip(
            state,
            shell.latest().first(),
            unread,
            shell.words(),
        ));
    if let Some(badge) = badge(unread) {
        builder = builder.title(badge);
    }
    builder
        .menu(&build_menu(app, shell)?)
        .show_menu_on_left_click(false)
        .on_menu_event(|app, event| on_menu_event(app, &event))
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                if let Some(shell) = tray.app_handle().try_state::<Shell>() {
                    shell.show_window();
                }
            }
        })
        .build(app)
}

/// Redraws icon, tooltip and menu after anything they show changed.
pub fn refresh<R: Runtime>(app: &AppHandle<R>) {
    let Some(shell) = app.try_state::<Shell>() else {
        return;
    };
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return;
    };
    let state = TrayState::of(&shell);
    let unread = shell.unread();
    let mut drawn = drawn();
    let icon = if *drawn == Some(state) {
        Ok(())
    } else {
        // Unknown until it is set: a failed attempt is made again at the next redraw.
        *drawn = None;
        Image::from_bytes(state.icon_png())
            .and_then(|icon| tray.set_icon(Some(icon)))
            .map(|()| *drawn = Some(state))
    };
    drop(drawn);
    let result = icon
        .and_then(|()| {
            let tip = tooltip(state, shell.latest().first(), unread, shell.words());
            tray.set_tooltip(Some(tip))
        })
        .and_then(|()| tray.set_title(badge(unread)))
        .and_then(|()| build_menu(app, &shell))
        .and_then(|menu| tray.set_menu(Some(menu)));
    if let Err(e) = result {
        tracing::warn!(error = %e, "could not refresh the tray");
    }
}

fn on_menu_event<R: Runtime>(app: &AppHandle<R>, event: &MenuEvent) {
    let Some(id) = MenuId::parse(event.id().as_ref()) else {
        tracing::debug!(
            id = event.id().as_ref(),
            "menu event without a DriveWatch id"
        );
        return;
    };
    let Some(shell) = app.try_state::<Shell>() else {
        return;
    };
    match id {
        MenuId::Status => shell.show_unread(),
        MenuId::Open | MenuId::SignIn => shell.show_window(),
        MenuId::Change(seq) => shell.spawn_open_change(seq, false),
        MenuId::Pause(pause) => {
            shell.set_pause(pause);
        }
        MenuId::SignOut(account) => shell.spawn_sign_out(account),
        MenuId::Unmute { target, folder } => shell.spawn_unmute(Mute {
            folder,
            target,
            until: None,
        }),
        MenuId::Quit => shell.quit(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use drivewatch_core::model::{AccountKind, TargetSpec};

    fn account(state: AccountState) -> Account {
        Account {
            id: "a".to_owned(),
            display_name: "Ann".to_owned(),
            username: "ann@example.com".to_owned(),
            kind: AccountKind::Personal,
            state,
        }
    }

    fn target(status: TargetStatus) -> TargetInfo {
        TargetInfo {
            id: "t".to_owned(),
            account: "a".to_owned(),
            label: "OneDrive".to_owned(),
            spec: TargetSpec::MyDrive,
            status,
        }
    }

    #[test]
    fn menu_ids_round_trip() {
        for id in [
            MenuId::Status,
            MenuId::Open,
            MenuId::Change(42),
            MenuId::Pause(PauseFor::OneHour),
            MenuId::Pause(PauseFor::UntilTomorrow),
            MenuId::Pause(PauseFor::Resume),
            MenuId::SignIn,
            MenuId::SignOut("acct:with:colons".to_owned()),
            MenuId::Unmute {
                target: None,
                folder: "/Photos".to_owned(),
            },
            MenuId::Unmute {
                target: Some("acct-1/me".to_owned()),
                folder: "/a\nb:one:/".to_owned(),
            },
            MenuId::Quit,
        ] {
            assert_eq!(MenuId::parse(&id.as_id()), Some(id));
        }
        assert_eq!(MenuId::parse("change:x"), None);
        assert_eq!(MenuId::parse("unmute:/Photos"), None);
        assert_eq!(MenuId::parse("unmute:some\n/Photos"), None);
        assert_eq!(MenuId::parse("something"), None);
    }

    #[test]
    fn the_most_pressing_state_wins() {
        let ok = [account(AccountState::SignedIn)];
        let live = target(TargetStatus::Live);
        let polling = target(TargetStatus::Polling {
            reason: "x".to_owned(),
        });
        let broken = target(TargetStatus::Error {
            reason: "x".to_owned(),
        });
        assert_eq!(
            TrayState::from_parts(&[], &[], false),
            TrayState::NeedsSignIn
        );
        assert_eq!(
            TrayState::from_parts(&ok, std::slice::from_ref(&live), false),
            TrayState::Live
        );
        assert_eq!(
            TrayState::from_parts(&ok, &[live.clone(), polling.clone()], false),
            TrayState::Polling
        );
        assert_eq!(
            TrayState::from_parts(&ok, &[polling, broken.clone()], false),
            TrayState::Reconnecting
        );
        assert_eq!(
            TrayState::from_parts(
                &[account(AccountState::NeedsSignIn)],
                std::slice::from_ref(&broken),
                false
            ),
            TrayState::NeedsSignIn
        );
        assert_eq!(
            TrayState::from_parts(&ok, &[broken], true),
            TrayState::Paused
        );
    }

    #[test]
    fn status_lines_speak_english_or_russian_and_name_states_as_the_window_does() {
        use drivewatch_core::i18n::Locale;
        use drivewatch_core::model::ChangeKind;
        let change = Change {
            seq: 1,
            kind: ChangeKind::Modified,
            name: "Q3 Plan.txt".to_owned(),
            path: "/Projects/Q3 Plan.txt".to_owned(),
            old_path: None,
            is_folder: false,
            item_id: "i".to_owned(),
            drive_id: "d".to_owned(),
            by: Some("Alex Wilber".to_owned()),
            own: false,
            at: chrono::Utc::now(),
            web_url: None,
            account: "a".to_owned(),
            target: "t".to_owned(),
            caught_up: false,
            group: 0,
        };
        let (en, ru) = (Catalog::get(Locale::En), Catalog::get(Locale::Ru));
        let line = |state, latest, words| status_line(state, latest, words);
        assert_eq!(
            line(TrayState::Polling, None, en),
            "Checking regularly · no changes yet"
        );
        assert_eq!(
            line(TrayState::Polling, None, ru),
            "Регулярная проверка · изменений пока нет"
        );
        assert!(
            line(TrayState::Live, Some(&change), en).starts_with("Live · ")
                && line(TrayState::Live, Some(&change), en)
                    .ends_with(" Alex Wilber edited Q3 Plan.txt")
        );
        for state in TrayState::ALL {
            assert_eq!(state.label(en), en.text(key_of(state), &[]));
            for latest in [None, Some(&change)] {
                let text = line(state, latest, ru);
                let words = text.replace("Alex Wilber", "").replace("Q3 Plan.txt", "");
                assert!(
                    !words.chars().any(|c| c.is_ascii_alphabetic()),
                    "an English word in {text:?}"
                );
            }
        }
    }

    /// The window's key for each state (ui/src/lib/status.ts uses the same).
    fn key_of(state: TrayState) -> &'static str {
        match state {
            TrayState::Live => "st_live",
            TrayState::Polling => "st_polling",
            TrayState::Reconnecting => "st_reconnecting",
            TrayState::NeedsSignIn => "st_needsSignIn",
            TrayState::Paused => "st_paused",
        }
    }

    #[test]
    fn the_unread_count_shows_in_the_first_line_the_tooltip_and_the_badge() {
        use drivewatch_core::i18n::Locale;
        let (en, ru) = (Catalog::get(Locale::En), Catalog::get(Locale::Ru));
        let live = TrayState::Live;
        assert_eq!(first_line(live, None, 0, en), status_line(live, None, en));
        assert_eq!(
            first_line(live, None, 1, en),
            "Live · no changes yet · 1 new change"
        );
        assert_eq!(
            first_line(live, None, 12, en),
            "Live · no changes yet · 12 new changes"
        );
        assert_eq!(
            tooltip(live, None, 12, en),
            "DriveWatch — 12 new changes\nLive · no changes yet"
        );
        assert_eq!(tooltip(live, None, 0, en), status_line(live, None, en));
        for (count, words) in [
            (1, "1 новое изменение"),
            (3, "3 новых изменения"),
            (5, "5 новых изменений"),
            (21, "21 новое изменение"),
        ] {
            assert_eq!(unread_text(count, ru), words);
        }
        let line = first_line(TrayState::Paused, None, 5, ru);
        assert!(line.ends_with(" · 5 новых изменений"), "{line}");
        let tip = tooltip(TrayState::Paused, None, 5, ru).replace("DriveWatch", "");
        assert!(!tip.chars().any(|c| c.is_ascii_alphabetic()), "{tip}");
        assert_eq!(badge(0), None);
        assert_eq!(badge(7).as_deref(), Some("7"));
        assert_eq!(badge(100).as_deref(), Some("99+"));
    }

    #[test]
    fn muted_entries_name_their_folder_and_when_the_mute_ends() {
        use chrono::TimeZone;
        use drivewatch_core::i18n::Locale;
        let (en, ru) = (Catalog::get(Locale::En), Catalog::get(Locale::Ru));
        let now = Local
            .with_ymd_and_hms(2026, 3, 2, 15, 0, 0)
            .single()
            .expect("a local time");
        let later = Mute {
            folder: "/Photos".to_owned(),
            target: None,
            until: Some((now + chrono::Duration::hours(3)).with_timezone(&chrono::Utc)),
        };
        assert_eq!(
            unmute_label(&later, now, en),
            "Unmute /Photos (muted until 18:00)"
        );
        let tomorrow = Mute {
            until: Some((now + chrono::Duration::hours(18)).with_timezone(&chrono::Utc)),
            ..later.clone()
        };
        assert_eq!(
            unmute_label(&tomorrow, now, en),
            "Unmute /Photos (muted until 2026-03-03 09:00)"
        );
        let always = Mute {
            until: None,
            ..later.clone()
        };
        assert_eq!(unmute_label(&always, now, en), "Unmute /Photos");
        for mute in [&later, &tomorrow, &always] {
            let text = unmute_label(mute, now, ru).replace("/Photos", "");
            assert!(!text.chars().any(|c| c.is_ascii_alphabetic()), "{text}");
        }
        // A folder's name cannot reorder the line around it.
        let evil = Mute {
            folder: "/a\u{202e}b".to_owned(),
            ..always
        };
        assert!(!unmute_label(&evil, now, en).contains('\u{202e}'));
    }

    #[test]
    fn every_state_has_a_decodable_icon() {
        for state in TrayState::ALL {
            let image = Image::from_bytes(state.icon_png()).expect("a PNG");
            assert_eq!((image.width(), image.height()), (64, 64), "{state:?}");
        }
    }
}
