//! The IPC layer: one `#[tauri::command]` per call the window makes, and [`dispatch`], which
//! runs the call the window process forwarded.
//!
//! Each command is a thin handover to the [`Shell`], which owns the state and the actions (the
//! tray and the toasts call the same methods); errors leave as [`AppError`] with a message that
//! is safe to show. The window lives in a process of its own, so its calls reach the app as a
//! command name and JSON arguments, which [`dispatch`] reads the way Tauri's own handler would
//! (camelCase argument names) before calling the same function; the functions' signatures are
//! also what tauri-specta generates the UI's bindings from, so the two cannot drift apart.
//! Nothing but the wiring in the crate root may use this module, and nothing here may hold
//! logic of its own: a check or an effect that lived here would be missing from the tray's and
//! the toasts' path to the same action.

use std::future::Future;
use std::pin::Pin;

use drivewatch_core::model::{
    AccountKind, DeviceCodePrompt, HistoryPage, HistoryQuery, Mute, Preferences, TargetInfo,
};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tauri::{AppHandle, Manager, Runtime, State};

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

/// A call's answer as the page receives it: resolved with the value, or rejected with it.
pub type Answer = Result<Value, Value>;

/// The future [`dispatch`] returns.
pub type Dispatched = Pin<Box<dyn Future<Output = Answer> + Send>>;

/// Runs the command `command` the window forwarded, with its JSON `args`, on the app's shell.
/// An unknown command or arguments that do not fit are rejected with a message, as Tauri's own
/// handler rejects them; the window's capability has already allowed the command.
pub fn dispatch<R: Runtime>(app: AppHandle<R>, command: String, args: Value) -> Dispatched {
    Box::pin(async move {
        let Some(shell) = app.try_state::<Shell>() else {
            return Err(Value::String("DriveWatch is shutting down".into()));
        };
        let args = Args {
            command: &command,
            args: &args,
        };
        match command.as_str() {
            "get_snapshot" => value(get_snapshot(shell)),
            "start_sign_in" => result(start_sign_in(shell, args.get("kind")?).await),
            "cancel_sign_in" => {
                cancel_sign_in(shell);
                Ok(Value::Null)
            }
            "sign_out" => result(sign_out(shell, args.get("account")?).await),
            "list_changes" => result(list_changes(shell, args.get("query")?).await),
            "add_target" => result(add_target(shell, args.get("account")?, args.get("url")?).await),
            "remove_target" => result(remove_target(shell, args.get("target")?).await),
            "save_preferences" => result(save_preferences(shell, args.get("preferences")?).await),
            "set_pause" => result(set_pause(shell, args.get("pause")?)),
            "open_change" => {
                result(open_change(shell, args.get("seq")?, args.get("folder")?).await)
            }
            "open_verification_page" => result(open_verification_page(shell)),
            "set_client_id" => result(set_client_id(shell, args.get("clientId")?).await),
            "mute_folder" => result(
                mute_folder(
                    shell,
                    args.get("target")?,
                    args.get("folder")?,
                    args.get("duration")?,
                )
                .await,
            ),
            "unmute" => result(unmute(shell, args.get("mute")?).await),
            "mark_seen" => value(mark_seen(shell)),
            other => Err(Value::String(format!("command {other} not found"))),
        }
    })
}

/// A forwarded call's arguments, read by name.
struct Args<'a> {
    command: &'a str,
    args: &'a Value,
}

impl Args<'_> {
    /// The argument `key` (absent reads as `null`, which an `Option` takes as `None`).
    fn get<T: DeserializeOwned>(&self, key: &str) -> Result<T, Value> {
        let raw = self.args.get(key).cloned().unwrap_or(Value::Null);
        serde_json::from_value(raw).map_err(|e| {
            Value::String(format!(
                "invalid args `{key}` for command `{}`: {e}",
                self.command
            ))
        })
    }
}

fn value<T: serde::Serialize>(value: T) -> Answer {
    serde_json::to_value(value).map_err(|e| Value::String(e.to_string()))
}

fn result<T: serde::Serialize>(outcome: Result<T, AppError>) -> Answer {
    match outcome {
        Ok(ok) => value(ok),
        Err(error) => Err(value(error)?),
    }
}
