//! What the desktop shell needs from the DriveWatch engine, as one small trait.
//!
//! The shell talks to drivewatch-core's engine only through [`EngineLink`], so the window, the
//! tray and the toasts can be tested with a scripted engine and the shell stays thin. This
//! module must never grow logic of its own: it translates, and the engine decides.

use std::future::Future;
use std::pin::Pin;

use drivewatch_core::engine::ErrorKind;
use drivewatch_core::model::{
    Account, AccountKind, DeviceCodePrompt, EngineEvent, HistoryPage, HistoryQuery, Preferences,
    SignInEvent, TargetInfo,
};
use tokio::sync::{broadcast, mpsc};

/// A boxed future, so the trait stays object-safe without a macro crate.
pub type EngineFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Failures the engine reports to the shell, in terms the window can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("no application (client) id is configured")]
    NoClientId,
    #[error("{0}")]
    InvalidInput(String),
    #[error("access denied")]
    AccessDenied,
    #[error("{what} not found")]
    NotFound { what: &'static str },
    #[error("network unavailable: {0}")]
    Network(String),
    #[error("the account must sign in again")]
    NeedsSignIn,
    #[error("the service asked to slow down")]
    Throttled,
    #[error("cancelled")]
    Cancelled,
    #[error("{0}")]
    Internal(String),
    /// A failure the core engine reported: its kind decides how the window shows it.
    #[error("{message}")]
    Core { kind: ErrorKind, message: String },
}

/// A sign-in under way: the prompt to show, then its progress until an outcome.
pub struct SignInStarted {
    pub prompt: DeviceCodePrompt,
    /// Progress after the prompt; ends after `SignedIn`, `Declined`, `Expired` or `Failed`.
    pub progress: mpsc::Receiver<SignInEvent>,
}

/// The engine as the shell sees it. Implementations are shared between threads and every
/// method returns promptly or is async; none may block the caller's thread for long.
pub trait EngineLink: Send + Sync + 'static {
    /// Changes, status updates and account changes, in order; lagging receivers lose the oldest.
    fn subscribe(&self) -> broadcast::Receiver<EngineEvent>;
    fn accounts(&self) -> Vec<Account>;
    fn targets(&self) -> Vec<TargetInfo>;
    fn preferences(&self) -> Preferences;
    fn client_id_configured(&self) -> bool;
    /// Saves the application id and restarts what depends on it.
    fn set_client_id(&self, client_id: &str) -> EngineFuture<'_, Result<(), EngineError>>;
    fn save_preferences(
        &self,
        preferences: &Preferences,
    ) -> EngineFuture<'_, Result<(), EngineError>>;
    fn start_sign_in(
        &self,
        kind: AccountKind,
    ) -> EngineFuture<'_, Result<SignInStarted, EngineError>>;
    fn cancel_sign_in(&self);
    fn sign_out(&self, account: &str) -> EngineFuture<'_, Result<(), EngineError>>;
    fn history(&self, query: HistoryQuery) -> EngineFuture<'_, Result<HistoryPage, EngineError>>;
    /// The web URL of a stored change (`folder`: of the folder it is in).
    fn web_url(&self, seq: i64, folder: bool) -> EngineFuture<'_, Result<String, EngineError>>;
    fn add_target(
        &self,
        account: &str,
        url: &str,
    ) -> EngineFuture<'_, Result<TargetInfo, EngineError>>;
    fn remove_target(&self, target: &str) -> EngineFuture<'_, Result<(), EngineError>>;
    /// Stops every watch and closes the history; returns when its tasks have ended.
    fn shutdown(&self) -> EngineFuture<'_, ()>;
}
