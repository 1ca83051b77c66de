//! What the window, the tray menu and the toasts' buttons ask the app to do, once, here.
//!
//! Each action checks its input, asks the engine, updates the shell's state and tells the
//! desktop what changed through the [`Surface`](super::Surface). The IPC layer awaits them and
//! hands their errors to the window; the tray and the toasts, which have nowhere to show an
//! error, use the `spawn_*` forms, which run as tracked tasks that end on Quit and log a
//! failure. Nothing here opens a URL the window chose: `open_change` and
//! `open_verification_page` look it up. Nothing here may block: the engine's calls are async,
//! and desktop effects go through the surface.

use std::time::Duration;

use chrono::{Local, Utc};
use drivewatch_core::model::{
    AccountKind, DeviceCodePrompt, HistoryPage, HistoryQuery, Mute, Preferences, SignInEvent,
    TargetInfo,
};
use drivewatch_core::toast_policy::DigestScope;

use super::{Shell, pause_deadline};
use crate::error::ShellError;
use crate::ipc::{AppSnapshot, FocusDigest, MuteFor, PauseFor};

/// How long Quit waits for the engine and the shell's tasks before exiting anyway.
pub const QUIT_GRACE: Duration = Duration::from_millis(1000);

impl Shell {
    /// Starts a device-code sign-in and returns its prompt; its progress reaches the window
    /// until an outcome, and then the prompt is cleared.
    pub async fn start_sign_in(&self, kind: AccountKind) -> Result<DeviceCodePrompt, ShellError> {
        let started = self.engine.start_sign_in(kind).await?;
        let prompt = started.prompt.clone();
        self.set_sign_in(Some(prompt.clone()));
        self.announce();
        let mut progress = started.progress;
        let cancel = self.cancel.clone();
        let shell = self.clone();
        self.spawn(async move {
            loop {
                let event = tokio::select! {
                    () = cancel.cancelled() => break,
                    event = progress.recv() => event,
                };
                let Some(event) = event else { break };
                shell.sign_in_progress(&event);
                if matches!(
                    event,
                    SignInEvent::SignedIn { .. }
                        | SignInEvent::Declined
                        | SignInEvent::Expired
                        | SignInEvent::Failed { .. }
                ) {
                    break;
                }
            }
            shell.set_sign_in(None);
            shell.announce();
        });
        Ok(prompt)
    }

    pub fn cancel_sign_in(&self) {
        self.engine.cancel_sign_in();
        self.set_sign_in(None);
        self.announce();
    }

    pub async fn sign_out(&self, account: &str) -> Result<(), ShellError> {
        self.engine.sign_out(account).await?;
        self.announce();
        Ok(())
    }

    /// The tray's "Sign out" entries: [`Self::sign_out`] as a tracked task.
    pub fn spawn_sign_out(&self, account: String) {
        let shell = self.clone();
        self.spawn(async move {
            let signed_out = tokio::select! {
                () = shell.cancel.cancelled() => return,
                result = shell.sign_out(&account) => result,
            };
            if let Err(e) = signed_out {
                tracing::warn!(error = %e, "could not sign out");
            }
        });
    }

    /// A page of the change history, for the window's list.
    pub async fn history(&self, query: HistoryQuery) -> Result<HistoryPage, ShellError> {
        Ok(self.engine.history(query).await?)
    }

    pub async fn add_target(&self, account: &str, url: &str) -> Result<TargetInfo, ShellError> {
        let target = self.engine.add_target(account, url.trim()).await?;
        self.announce();
        Ok(target)
    }

    pub async fn remove_target(&self, target: &str) -> Result<(), ShellError> {
        self.engine.remove_target(target).await?;
        self.announce();
        Ok(())
    }

    /// Saves the preferences (quiet hours must read as HH:MM) and follows a change of
    /// start-at-login on the desktop; returns the new snapshot.
    pub async fn save_preferences(
        &self,
        preferences: &Preferences,
    ) -> Result<AppSnapshot, ShellError> {
        if let Some(quiet) = &preferences.quiet_hours {
            let readable = |t: &str| drivewatch_core::toast_policy::parse_hh_mm(t).is_some();
            if !readable(&quiet.start) || !readable(&quiet.end) {
                return Err(ShellError::InvalidQuietHours);
            }
        }
        let before = self.engine.preferences();
        self.engine.save_preferences(preferences).await?;
        // Rules, the digest time or mutes may have changed: the relay's timers follow.
        self.timers_changed();
        if before.start_at_login != preferences.start_at_login {
            if let Some(surface) = self.surface() {
                surface.set_autostart(preferences.start_at_login)?;
            }
        }
        Ok(self.announce())
    }

    /// Mutes `folder` (of `target`, or of every target) for `duration` from now, as a toast's
    /// action, the list's row menu and Settings offer; returns the new snapshot.
    pub async fn mute_folder(
        &self,
        target: Option<String>,
        folder: &str,
        duration: MuteFor,
    ) -> Result<AppSnapshot, ShellError> {
        let now = Local::now();
        let until = match duration {
            MuteFor::OneHour => Some(now.with_timezone(&Utc) + chrono::Duration::hours(1)),
            MuteFor::ThreeHours => Some(now.with_timezone(&Utc) + chrono::Duration::hours(3)),
            MuteFor::UntilTomorrow => pause_deadline(PauseFor::UntilTomorrow, now),
            MuteFor::Always => None,
        };
        let mut preferences = self.engine.preferences();
        let folder = folder.trim();
        let folder = if folder.is_empty() { "/" } else { folder };
        // One mute per folder and target: a new choice replaces the old one.
        preferences
            .mutes
            .retain(|m| !(m.folder == folder && m.target == target));
        preferences
            .mutes
            .retain(|m| m.until.is_none_or(|until| until > now.with_timezone(&Utc)));
        preferences.mutes.push(Mute {
            folder: folder.to_owned(),
            target,
            until,
        });
        self.engine.save_preferences(&preferences).await?;
        self.timers_changed();
        Ok(self.announce())
    }

    /// Ends a mute (from the tray or Settings); returns the new snapshot.
    pub async fn unmute(&self, mute: &Mute) -> Result<AppSnapshot, ShellError> {
        let mut preferences = self.engine.preferences();
        preferences
            .mutes
            .retain(|m| !(m.folder == mute.folder && m.target == mute.target));
        self.engine.save_preferences(&preferences).await?;
        self.timers_changed();
        Ok(self.announce())
    }

    /// A toast's "Mute /Photos for 3 hours": [`Self::mute_folder`] as a tracked task.
    pub fn spawn_mute_folder(&self, target: Option<String>, folder: String, duration: MuteFor) {
        let shell = self.clone();
        self.spawn(async move {
            let muted = tokio::select! {
                () = shell.cancel.cancelled() => return,
                muted = shell.mute_folder(target, &folder, duration) => muted,
            };
            if let Err(e) = muted {
                tracing::warn!(error = %e, "could not mute a folder");
            }
        });
    }

    /// The tray's Muted entries: [`Self::unmute`] as a tracked task.
    pub fn spawn_unmute(&self, mute: Mute) {
        let shell = self.clone();
        self.spawn(async move {
            let unmuted = tokio::select! {
                () = shell.cancel.cancelled() => return,
                unmuted = shell.unmute(&mute) => unmuted,
            };
            if let Err(e) = unmuted {
                tracing::warn!(error = %e, "could not unmute a folder");
            }
        });
    }

    /// Saves the application (client) id, which must be a GUID; returns the new snapshot.
    pub async fn set_client_id(&self, client_id: &str) -> Result<AppSnapshot, ShellError> {
        let client_id = client_id.trim();
        if !is_guid(client_id) {
            return Err(ShellError::InvalidClientId);
        }
        self.engine.set_client_id(client_id).await?;
        Ok(self.announce())
    }

    /// Opens a stored change (`folder`: the folder it is in) in the default browser.
    pub async fn open_change(&self, seq: i64, folder: bool) -> Result<(), ShellError> {
        let url = self.engine.web_url(seq, folder).await?;
        open_in_browser(&url)
    }

    /// The tray's "latest change" entries and the toasts' Open: [`Self::open_change`] as a
    /// tracked task.
    pub fn spawn_open_change(&self, seq: i64, folder: bool) {
        let shell = self.clone();
        self.spawn(async move {
            let opened = tokio::select! {
                () = shell.cancel.cancelled() => return,
                opened = shell.open_change(seq, folder) => opened,
            };
            if let Err(e) = opened {
                tracing::warn!(seq, error = %e, "could not open a change");
            }
        });
    }

    /// Opens the sign-in page of the sign-in in progress.
    pub fn open_verification_page(&self) -> Result<(), ShellError> {
        let prompt = self.sign_in().ok_or(ShellError::NoSignInInProgress)?;
        open_in_browser(&prompt.verification_uri)
    }

    /// The tray's Open and Sign in…, a click on the tray icon.
    pub fn show_window(&self) {
        if let Some(surface) = self.surface() {
            surface.show_window();
        }
    }

    /// A toast's "Show in DriveWatch": the window, pointed at the change.
    pub fn show_change(&self, seq: i64) {
        if let Some(surface) = self.surface() {
            surface.show_change(seq);
        }
    }

    /// A digest toast's Show: the window, on the changes the digest sums up.
    pub fn show_digest(&self, scope: &DigestScope) {
        if let Some(surface) = self.surface() {
            surface.show_digest(&FocusDigest {
                target: scope.target.clone(),
                folder: scope.folder.clone(),
                since: scope.since,
                until: scope.until,
            });
        }
    }

    /// The tray's "N new changes" line: the window on the list at the newest change, which
    /// the user asked to see, so the count is seen.
    pub fn show_unread(&self) {
        match self.latest().first() {
            Some(newest) => self.show_change(newest.seq),
            None => self.show_window(),
        }
        self.mark_seen();
    }

    /// The tray's Quit: cancel every task, let the engine stop its watches and close the
    /// history, wait for the tracked tasks for at most [`QUIT_GRACE`], then exit with code 0.
    /// It never hangs: whatever has not finished by then is abandoned, since the history
    /// commits per delta run.
    pub fn quit(&self) {
        tracing::info!("quitting");
        self.cancel.cancel();
        self.tasks.close();
        let shell = self.clone();
        // Not a tracked task: it is the one that waits for them.
        tauri::async_runtime::spawn(async move {
            let stopped = tokio::time::timeout(QUIT_GRACE, async {
                shell.engine.shutdown().await;
                shell.tasks.wait().await;
            })
            .await;
            if stopped.is_err() {
                tracing::warn!(grace = ?QUIT_GRACE, "tasks still running at quit; exiting anyway");
            }
            match shell.surface() {
                Some(surface) => surface.exit(0),
                None => std::process::exit(0),
            }
        });
    }
}

/// Opens a web URL from the engine in the default browser. Only http(s) URLs are opened.
fn open_in_browser(url: &str) -> Result<(), ShellError> {
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return Err(ShellError::Open("not a web address".to_owned()));
    }
    tauri_plugin_opener::open_url(url, None::<&str>).map_err(|e| ShellError::Open(e.to_string()))
}

/// An application (client) id: a GUID in its 8-4-4-4-12 hex form.
fn is_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, len)| g.len() == len && g.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_are_guids() {
        assert!(is_guid("14d82eec-204b-4c2f-b7e8-296a70dab67e"));
        assert!(is_guid("14D82EEC-204B-4C2F-B7E8-296A70DAB67E"));
        assert!(!is_guid("14d82eec204b4c2fb7e8296a70dab67e"));
        assert!(!is_guid("14d82eec-204b-4c2f-b7e8-296a70dab67"));
        assert!(!is_guid("zzd82eec-204b-4c2f-b7e8-296a70dab67e"));
        assert!(!is_guid(""));
    }

    #[test]
    fn only_web_addresses_are_opened() {
        assert!(matches!(
            open_in_browser("file:///etc/passwd"),
            Err(ShellError::Open(_))
        ));
        assert!(matches!(
            open_in_browser("javascript:alert(1)"),
            Err(ShellError::Open(_))
        ));
    }
}
