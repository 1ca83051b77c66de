//! The IPC registration layer: one `#[tauri::command]` per call the window makes.
//!
//! Each is a thin handover to the [`Shell`], which owns the state and the actions (the tray and
//! the toasts call the same methods); errors leave as [`AppError`] with a message that is safe
//! to show. Nothing but the registration in the crate root may use this module, and nothing
//! here may hold logic of its own: a check or an effect that lived here would be missing from
//! the tray's and the toasts' path to the same action.

use drivewatch_core::model::{
    AccountKind, DeviceCodePrompt, HistoryPage, HistoryQuery, Mute, Preferences, TargetInfo,
};
use tauri::State;

use crate::error::AppError;
use crate::ipc::{AppSnapshot, MuteFor, PauseFor};
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
    Ok(shell.start_sign_in(kind).await?)
}

#[tauri::command]
#[specta::specta]
pub fn cancel_sign_in(shell: State<'_, Shell>) {
    shell.cancel_sign_in();
}

#[tauri::command]
#[specta::specta]
pub async fn sign_out(shell: State<'_, Shell>, account: String) -> Result<(), AppError> {
    Ok(shell.sign_out(&account).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn list_changes(
    shell: State<'_, Shell>,
    query: HistoryQuery,
) -> Result<HistoryPage, AppError> {
    Ok(shell.history(query).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn add_target(
    shell: State<'_, Shell>,
    account: String,
    url: String,
) -> Result<TargetInfo, AppError> {
    Ok(shell.add_target(&account, &url).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn remove_target(shell: State<'_, Shell>, target: String) -> Result<(), AppError> {
    Ok(shell.remove_target(&target).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn save_preferences(
    shell: State<'_, Shell>,
    preferences: Preferences,
) -> Result<AppSnapshot, AppError> {
    Ok(shell.save_preferences(&preferences).await?)
}

#[tauri::command]
#[specta::specta]
pub fn set_pause(shell: State<'_, Shell>, pause: PauseFor) -> Result<AppSnapshot, AppError> {
    Ok(shell.set_pause(pause))
}

#[tauri::command]
#[specta::specta]
pub async fn open_change(shell: State<'_, Shell>, seq: i64, folder: bool) -> Result<(), AppError> {
    Ok(shell.open_change(seq, folder).await?)
}

#[tauri::command]
#[specta::specta]
pub fn open_verification_page(shell: State<'_, Shell>) -> Result<(), AppError> {
    Ok(shell.open_verification_page()?)
}

#[tauri::command]
#[specta::specta]
pub async fn set_client_id(
    shell: State<'_, Shell>,
    client_id: String,
) -> Result<AppSnapshot, AppError> {
    Ok(shell.set_client_id(&client_id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn mute_folder(
    shell: State<'_, Shell>,
    target: Option<String>,
    folder: String,
    duration: MuteFor,
) -> Result<AppSnapshot, AppError> {
    Ok(shell.mute_folder(target, &folder, duration).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn unmute(shell: State<'_, Shell>, mute: Mute) -> Result<AppSnapshot, AppError> {
    Ok(shell.unmute(&mute).await?)
}

#[tauri::command]
#[specta::specta]
pub fn mark_seen(shell: State<'_, Shell>) -> AppSnapshot {
    shell.mark_seen()
}
