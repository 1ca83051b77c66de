//! The IPC commands the window calls, and the tray actions that share their code.
//!
//! Each command is a thin translation: check the input, ask the engine or the shell, tell the
//! window and tray what changed. The window never passes a URL to open: `open_change` and
//! `open_verification_page` look the URL up here. Errors leave as [`AppError`] with a message
//! that is safe to show.

use drivewatch_core::model::{
    AccountKind, DeviceCodePrompt, HistoryPage, HistoryQuery, Preferences, TargetInfo,
};
use tauri::State;

use crate::error::{AppError, ShellError};
use crate::ipc::{AppSnapshot, PauseFor};
use crate::shell::Shell;

#[tauri::command]
#[specta::specta]
pub fn get_snapshot(shell: State<'_, Shell>) -> AppSnapshot {
    shell.snapshot()
}

#[tauri::command]
#[specta::specta]
pub async fn start_sign_in(
    shell: State<'_, Shell>,
    kind: AccountKind,
) -> Result<DeviceCodePrompt, AppError> {
    let started = shell.engine().start_sign_in(kind).await?;
    let prompt = started.prompt.clone();
    shell.set_sign_in(Some(prompt.clone()));
    shell.announce();
    let mut progress = started.progress;
    let cancel = shell.cancel.clone();
    let shell_ref = shell.inner().clone();
    shell.spawn(async move {
        loop {
            let event = tokio::select! {
                () = cancel.cancelled() => break,
                event = progress.recv() => event,
            };
            let Some(event) = event else { break };
            shell_ref.sign_in_progress(&event);
            use drivewatch_core::model::SignInEvent as E;
            if matches!(
                event,
                E::SignedIn { .. } | E::Declined | E::Expired | E::Failed { .. }
            ) {
                break;
            }
        }
        shell_ref.set_sign_in(None);
        shell_ref.announce();
    });
    Ok(prompt)
}

#[tauri::command]
#[specta::specta]
pub fn cancel_sign_in(shell: State<'_, Shell>) {
    shell.engine().cancel_sign_in();
    shell.set_sign_in(None);
    shell.announce();
}

#[tauri::command]
#[specta::specta]
pub async fn sign_out(shell: State<'_, Shell>, account: String) -> Result<(), AppError> {
    shell.engine().sign_out(&account).await?;
    shell.announce();
    Ok(())
}

#[tauri::command]
#[specta::specta]
pub async fn list_changes(
    shell: State<'_, Shell>,
    query: HistoryQuery,
) -> Result<HistoryPage, AppError> {
    Ok(shell.engine().history(query).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn add_target(
    shell: State<'_, Shell>,
    account: String,
    url: String,
) -> Result<TargetInfo, AppError> {
    let target = shell.engine().add_target(&account, url.trim()).await?;
    shell.announce();
    Ok(target)
}

#[tauri::command]
#[specta::specta]
pub async fn remove_target(shell: State<'_, Shell>, target: String) -> Result<(), AppError> {
    shell.engine().remove_target(&target).await?;
    shell.announce();
    Ok(())
}

#[tauri::command]
#[specta::specta]
pub async fn save_preferences(
    shell: State<'_, Shell>,
    preferences: Preferences,
) -> Result<AppSnapshot, AppError> {
    if let Some(quiet) = &preferences.quiet_hours {
        let readable = |t: &str| drivewatch_core::toast_policy::parse_hh_mm(t).is_some();
        if !readable(&quiet.start) || !readable(&quiet.end) {
            return Err(ShellError::InvalidQuietHours.into());
        }
    }
    let before = shell.engine().preferences();
    shell.engine().save_preferences(&preferences).await?;
    if before.start_at_login != preferences.start_at_login {
        shell.surface_set_autostart(preferences.start_at_login)?;
    }
    Ok(shell.announce())
}

#[tauri::command]
#[specta::specta]
pub fn set_pause(shell: State<'_, Shell>, pause: PauseFor) -> Result<AppSnapshot, AppError> {
    shell.set_pause(pause);
    Ok(shell.announce())
}

#[tauri::command]
#[specta::specta]
pub async fn open_change(shell: State<'_, Shell>, seq: i64, folder: bool) -> Result<(), AppError> {
    let url = shell.engine().web_url(seq, folder).await?;
    open_in_browser(&url)?;
    Ok(())
}

#[tauri::command]
#[specta::specta]
pub fn open_verification_page(shell: State<'_, Shell>) -> Result<(), AppError> {
    let prompt = shell.sign_in().ok_or(ShellError::NoSignInInProgress)?;
    open_in_browser(&prompt.verification_uri)?;
    Ok(())
}

#[tauri::command]
#[specta::specta]
pub async fn set_client_id(
    shell: State<'_, Shell>,
    client_id: String,
) -> Result<AppSnapshot, AppError> {
    let client_id = client_id.trim();
    if !is_guid(client_id) {
        return Err(ShellError::InvalidClientId.into());
    }
    shell.engine().set_client_id(client_id).await?;
    Ok(shell.announce())
}

/// The tray's pause entries: same effect as the window's `set_pause`.
pub fn apply_pause(shell: &Shell, pause: PauseFor) {
    shell.set_pause(pause);
    shell.announce();
}

/// The tray's "latest change" entries and the toasts' Open action.
pub fn spawn_open_change(shell: &Shell, seq: i64, folder: bool) {
    let engine = shell.engine().clone();
    let cancel = shell.cancel.clone();
    shell.spawn(async move {
        let opened = tokio::select! {
            () = cancel.cancelled() => return,
            url = engine.web_url(seq, folder) => match url {
                Ok(url) => open_in_browser(&url).map_err(AppError::from),
                Err(e) => Err(e.into()),
            },
        };
        if let Err(e) = opened {
            tracing::warn!(seq, error = %e.message, "could not open a change");
        }
    });
}

/// The tray's "Sign out" entries.
pub fn spawn_sign_out(shell: &Shell, account: String) {
    let task_shell = shell.clone();
    shell.spawn(async move {
        let signed_out = tokio::select! {
            () = task_shell.cancel.cancelled() => return,
            result = task_shell.engine().sign_out(&account) => result,
        };
        match signed_out {
            Ok(()) => {
                task_shell.announce();
            }
            Err(e) => tracing::warn!(error = %e, "could not sign out"),
        }
    });
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
pub fn is_guid(text: &str) -> bool {
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
