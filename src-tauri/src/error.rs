//! The shell's errors, and their one shape on the IPC boundary.
//!
//! [`ShellError`] is the shell layer's error enum; [`AppError`] is what crosses into the window
//! as `{ kind, message }` so the UI can tell failures apart. A message must be safe to show:
//! it never carries a token, a device code or a URL with secrets in it.

use serde::{Deserialize, Serialize};

use crate::engine::EngineError;

/// What went wrong, for the UI to branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum AppErrorKind {
    NoClientId,
    InvalidInput,
    AccessDenied,
    NotFound,
    Network,
    NeedsSignIn,
    Throttled,
    Cancelled,
    Internal,
}

/// An error as the window receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type, thiserror::Error)]
#[serde(rename_all = "camelCase")]
#[error("{message}")]
pub struct AppError {
    pub kind: AppErrorKind,
    /// Safe to show as is.
    pub message: String,
}

/// Failures of the desktop shell itself, and the engine's as they reach it.
#[derive(Debug, thiserror::Error)]
pub enum ShellError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("the application id must be a GUID like 00000000-0000-0000-0000-000000000000")]
    InvalidClientId,
    #[error("quiet hours must be written as HH:MM, e.g. 22:00")]
    InvalidQuietHours,
    #[error("no sign-in is in progress")]
    NoSignInInProgress,
    #[error("could not open the browser: {0}")]
    Open(String),
    #[error("could not change the start-at-login setting: {0}")]
    Autostart(String),
}

impl From<ShellError> for AppError {
    fn from(error: ShellError) -> Self {
        let message = error.to_string();
        let kind = match &error {
            ShellError::Engine(e) => match e {
                EngineError::NoClientId => AppErrorKind::NoClientId,
                EngineError::InvalidInput(_) => AppErrorKind::InvalidInput,
                EngineError::AccessDenied => AppErrorKind::AccessDenied,
                EngineError::NotFound { .. } => AppErrorKind::NotFound,
                EngineError::Network(_) => AppErrorKind::Network,
                EngineError::NeedsSignIn => AppErrorKind::NeedsSignIn,
                EngineError::Throttled => AppErrorKind::Throttled,
                EngineError::Cancelled => AppErrorKind::Cancelled,
                EngineError::Internal(_) => AppErrorKind::Internal,
            },
            ShellError::InvalidClientId | ShellError::InvalidQuietHours => {
                AppErrorKind::InvalidInput
            }
            ShellError::NoSignInInProgress => AppErrorKind::NotFound,
            ShellError::Open(_) | ShellError::Autostart(_) => AppErrorKind::Internal,
        };
        AppError { kind, message }
    }
}

impl From<EngineError> for AppError {
    fn from(error: EngineError) -> Self {
        ShellError::Engine(error).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_cross_as_kind_and_message() {
        let e: AppError = ShellError::InvalidClientId.into();
        assert_eq!(e.kind, AppErrorKind::InvalidInput);
        let json = serde_json::to_value(&e).expect("serialises");
        assert_eq!(json["kind"], "invalidInput");
        assert!(json["message"].as_str().is_some_and(|m| m.contains("GUID")));
        let e: AppError = EngineError::NotFound { what: "change" }.into();
        assert_eq!(
            serde_json::to_value(&e).expect("serialises")["kind"],
            "notFound"
        );
        assert_eq!(e.message, "change not found");
    }
}
