//! The shell's errors, and their one shape on the IPC boundary.
//!
//! [`ShellError`] is the shell layer's error enum; [`AppError`] is what crosses into the window
//! as `{ kind, message }` so the UI can tell failures apart. A failure of the core engine gets
//! its window kind from its [`ErrorKind`] alone (one map, below), the same kind the CLI turns
//! into its exit code, so a failure reads the same in both hosts. A message must be safe to
//! show: it never carries a token, a device code or a URL with secrets in it.

use drivewatch_core::engine::{EngineError as CoreError, ErrorKind};
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

impl From<ErrorKind> for AppErrorKind {
    fn from(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::Usage => Self::InvalidInput,
            ErrorKind::SignInNeeded => Self::NeedsSignIn,
            // The one setting the window can fix is the application id.
            ErrorKind::Configuration => Self::NoClientId,
            ErrorKind::Network => Self::Network,
            ErrorKind::Refused => Self::AccessDenied,
            ErrorKind::Cancelled => Self::Cancelled,
            ErrorKind::Internal => Self::Internal,
        }
    }
}

/// A core engine failure as the shell carries it: its kind and its message.
impl From<CoreError> for EngineError {
    fn from(error: CoreError) -> Self {
        EngineError::Core {
            kind: error.kind(),
            message: error.to_string(),
        }
    }
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
                EngineError::Core { kind, .. } => (*kind).into(),
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

    /// The failures the CLI's tests exit 2, 3, 1 and 4 on reach the window as the matching
    /// kinds, however deep in the core they were raised.
    #[test]
    fn core_failures_get_the_window_kind_of_their_kind() {
        use drivewatch_core::auth::AuthError;
        use drivewatch_core::config::ConfigError;
        use drivewatch_core::graph::GraphError;
        let window = |e: CoreError| AppError::from(EngineError::from(e));
        let unknown = window(CoreError::Auth(AuthError::UnknownAccount("nobody".into())));
        assert_eq!(unknown.kind, AppErrorKind::InvalidInput);
        assert!(unknown.message.contains("nobody"), "{unknown:?}");
        assert_eq!(
            window(CoreError::UnknownAccount("nobody".into())).kind,
            AppErrorKind::InvalidInput
        );
        assert_eq!(
            window(CoreError::Graph(GraphError::BadShareUrl { reason: "no" })).kind,
            AppErrorKind::InvalidInput
        );
        assert_eq!(
            window(CoreError::Graph(GraphError::NeedsSignIn)).kind,
            AppErrorKind::NeedsSignIn
        );
        assert_eq!(
            window(CoreError::Auth(AuthError::NeedsSignIn)).kind,
            AppErrorKind::NeedsSignIn
        );
        assert_eq!(
            window(CoreError::Graph(GraphError::AccessDenied)).kind,
            AppErrorKind::AccessDenied
        );
        assert_eq!(
            window(CoreError::Graph(GraphError::NotFound)).kind,
            AppErrorKind::AccessDenied
        );
        let missing = window(CoreError::Auth(AuthError::Config(
            ConfigError::MissingClientId,
        )));
        assert_eq!(missing.kind, AppErrorKind::NoClientId);
        assert!(missing.message.contains("client id"), "{missing:?}");
        assert_eq!(
            window(CoreError::Graph(GraphError::Timeout)).kind,
            AppErrorKind::Network
        );
        assert_eq!(
            window(CoreError::ShuttingDown).kind,
            AppErrorKind::Cancelled
        );
        assert_eq!(window(CoreError::Worker).kind, AppErrorKind::Internal);
    }
}
