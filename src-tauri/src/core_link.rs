//! [`EngineLink`] over drivewatch-core's [`Engine`]: the shell's one way into the engine.
//!
//! It translates calls and errors, keeps the preferences the tray and toasts read without
//! waiting, and restarts the engine when the application id changes (the engine reads it at
//! start). Events of whichever engine runs are forwarded into one broadcast, so the relay
//! subscribes once. It must never hold a token or log one, and never decide anything the
//! engine decides.

use std::sync::Mutex;

use drivewatch_core::config::{Config, Paths};
use drivewatch_core::engine::{
    Engine, EngineError as CoreError, EngineOptions, ErrorKind, TargetInput,
};
use drivewatch_core::model::{
    Account, AccountKind, EngineEvent, HistoryPage, HistoryQuery, Preferences, SignInEvent,
    TargetInfo,
};
use tauri::async_runtime::JoinHandle;
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

use crate::engine::{EngineError, EngineFuture, EngineLink, SignInStarted};

/// Capacity of the shell's event broadcast (the engine's own is larger; the relay is quick).
const EVENTS: usize = 1024;
/// How long a sign-in may take to produce its prompt before the command gives up.
const PROMPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Work to finish after the engine stops (demo mode: the emulator and its activity).
pub type AfterShutdown = Box<dyn FnOnce() -> EngineFuture<'static, ()> + Send>;

/// The running engine and the task forwarding its events.
struct Running {
    engine: Engine,
    forward: CancellationToken,
}

/// The shell's link to the core engine.
pub struct CoreLink {
    paths: Paths,
    config: Mutex<Config>,
    running: Mutex<Running>,
    events: broadcast::Sender<EngineEvent>,
    preferences: Mutex<Preferences>,
    sign_in: Mutex<Option<JoinHandle<()>>>,
    /// Runs when the link shuts down, after the engine (demo mode stops its emulator here).
    on_shutdown: Mutex<Option<AfterShutdown>>,
}

impl CoreLink {
    /// Starts the engine over `config` (already saved under `paths`).
    pub async fn start(config: Config, paths: Paths) -> Result<Self, EngineError> {
        let (events, _) = broadcast::channel(EVENTS);
        let engine = Engine::start(
            config.clone(),
            paths.clone(),
            EngineOptions::from_config(&config),
        )
        .await
        .map_err(map_error)?;
        let forward = forward_events(&engine, events.clone());
        Ok(Self {
            preferences: Mutex::new(config.preferences.clone()),
            paths,
            config: Mutex::new(config),
            running: Mutex::new(Running { engine, forward }),
            events,
            sign_in: Mutex::new(None),
            on_shutdown: Mutex::new(None),
        })
    }

    /// Something to stop after the engine on shutdown.
    pub fn on_shutdown(&self, stop: AfterShutdown) {
        *lock(&self.on_shutdown) = Some(stop);
    }

    pub fn engine(&self) -> Engine {
        lock(&self.running).engine.clone()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn forward_events(engine: &Engine, to: broadcast::Sender<EngineEvent>) -> CancellationToken {
    let cancel = CancellationToken::new();
    let mut from = engine.subscribe();
    let stop = cancel.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            let event = tokio::select! {
                () = stop.cancelled() => break,
                event = from.recv() => event,
            };
            match event {
                Ok(event) => {
                    let _ = to.send(event);
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "engine events dropped before the shell saw them");
                }
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    });
    cancel
}

/// Core's errors as the window sees them: their kind and their message (already redacted).
fn map_error(error: CoreError) -> EngineError {
    error.into()
}

impl EngineLink for CoreLink {
    fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.events.subscribe()
    }

    fn accounts(&self) -> Vec<Account> {
        self.engine().accounts().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "could not read the accounts");
            Vec::new()
        })
    }

    fn targets(&self) -> Vec<TargetInfo> {
        self.engine().targets()
    }

    fn preferences(&self) -> Preferences {
        lock(&self.preferences).clone()
    }

    fn client_id_configured(&self) -> bool {
        lock(&self.config)
            .client_id
            .as_deref()
            .is_some_and(|id| !id.trim().is_empty())
    }

    fn set_client_id(&self, client_id: &str) -> EngineFuture<'_, Result<(), EngineError>> {
        let client_id = client_id.to_owned();
        Box::pin(async move {
            let mut config = lock(&self.config).clone();
            config.client_id = Some(client_id);
            config
                .save(&self.paths.config_file())
                .map_err(|e| map_error(e.into()))?;
            // The engine reads the id at start: start a new one, then stop the old one.
            let engine = Engine::start(
                config.clone(),
                self.paths.clone(),
                EngineOptions::from_config(&config),
            )
            .await
            .map_err(map_error)?;
            let forward = forward_events(&engine, self.events.clone());
            let old = std::mem::replace(&mut *lock(&self.running), Running { engine, forward });
            *lock(&self.config) = config;
            old.forward.cancel();
            old.engine.shutdown().await;
            Ok(())
        })
    }

    fn save_preferences(
        &self,
        preferences: &Preferences,
    ) -> EngineFuture<'_, Result<(), EngineError>> {
        let preferences = preferences.clone();
        Box::pin(async move {
            self.engine()
                .set_preferences(preferences.clone())
                .await
                .map_err(map_error)?;
            lock(&self.config).preferences = preferences.clone();
            *lock(&self.preferences) = preferences;
            Ok(())
        })
    }

    fn start_sign_in(
        &self,
        kind: AccountKind,
    ) -> EngineFuture<'_, Result<SignInStarted, EngineError>> {
        Box::pin(async move {
            if !self.client_id_configured() {
                return Err(EngineError::NoClientId);
            }
            self.cancel_sign_in();
            let (tx, mut rx) = mpsc::channel::<SignInEvent>(16);
            let engine = self.engine();
            let relay = tx.clone();
            let task = tauri::async_runtime::spawn(async move {
                let on_event = move |event: SignInEvent| {
                    // Bounded and never awaited: a slow window must not stall the sign-in.
                    if relay.try_send(event).is_err() {
                        tracing::warn!("a sign-in event was dropped");
                    }
                };
                if let Err(e) = engine.sign_in(kind, &on_event).await {
                    // Declined and expired arrive as events from the sign-in itself; anything
                    // else is reported here so the window leaves its waiting state.
                    if e.kind() == ErrorKind::Cancelled {
                        return;
                    }
                    let _ = tx.try_send(SignInEvent::Failed {
                        message: e.to_string(),
                    });
                }
            });
            let first = tokio::time::timeout(PROMPT_TIMEOUT, rx.recv()).await;
            match first {
                Ok(Some(SignInEvent::Prompt { prompt })) => {
                    *lock(&self.sign_in) = Some(task);
                    Ok(SignInStarted {
                        prompt,
                        progress: rx,
                    })
                }
                Ok(Some(SignInEvent::Failed { message })) => Err(EngineError::Internal(message)),
                Ok(Some(SignInEvent::Offline)) => Err(EngineError::Network(
                    "cannot reach the sign-in service".to_owned(),
                )),
                Ok(Some(other)) => Err(EngineError::Internal(format!(
                    "the sign-in ended before it started: {other:?}"
                ))),
                Ok(None) => Err(EngineError::Internal("the sign-in stopped".to_owned())),
                Err(_) => {
                    task.abort();
                    Err(EngineError::Network(
                        "the sign-in service did not answer in time".to_owned(),
                    ))
                }
            }
        })
    }

    fn cancel_sign_in(&self) {
        if let Some(task) = lock(&self.sign_in).take() {
            task.abort();
        }
    }

    fn sign_out(&self, account: &str) -> EngineFuture<'_, Result<(), EngineError>> {
        let account = account.to_owned();
        Box::pin(async move { self.engine().sign_out(&account).await.map_err(map_error) })
    }

    fn history(&self, query: HistoryQuery) -> EngineFuture<'_, Result<HistoryPage, EngineError>> {
        Box::pin(async move { self.engine().history(query).await.map_err(map_error) })
    }

    fn web_url(&self, seq: i64, folder: bool) -> EngineFuture<'_, Result<String, EngineError>> {
        Box::pin(async move {
            let change = self
                .engine()
                .change(seq)
                .await
                .map_err(map_error)?
                .ok_or(EngineError::NotFound { what: "change" })?;
            let url = change.web_url.ok_or(EngineError::NotFound {
                what: "web address",
            })?;
            Ok(if folder { parent_url(&url) } else { url })
        })
    }

    fn add_target(
        &self,
        account: &str,
        url: &str,
    ) -> EngineFuture<'_, Result<TargetInfo, EngineError>> {
        let account = account.to_owned();
        let url = url.to_owned();
        Box::pin(async move {
            if url::Url::parse(&url).is_err() {
                return Err(EngineError::InvalidInput(
                    "paste a full OneDrive or SharePoint link, starting with https://".to_owned(),
                ));
            }
            self.engine()
                .add_target(&account, TargetInput::Url(url))
                .await
                .map_err(map_error)
        })
    }

    fn remove_target(&self, target: &str) -> EngineFuture<'_, Result<(), EngineError>> {
        let target = target.to_owned();
        Box::pin(async move {
            self.engine()
                .remove_target(&target)
                .await
                .map_err(map_error)
        })
    }

    fn shutdown(&self) -> EngineFuture<'_, ()> {
        Box::pin(async move {
            self.cancel_sign_in();
            let (engine, forward) = {
                let running = lock(&self.running);
                (running.engine.clone(), running.forward.clone())
            };
            engine.shutdown().await;
            forward.cancel();
            let stop = lock(&self.on_shutdown).take();
            if let Some(stop) = stop {
                stop().await;
            }
        })
    }
}

/// The folder of an item's web URL: its last path segment removed (OneDrive and SharePoint
/// web URLs are paths to the item).
fn parent_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if let Ok(mut segments) = parsed.path_segments_mut() {
                segments.pop_if_empty().pop();
            }
            parsed.set_query(None);
            parsed.to_string()
        }
        Err(_) => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_urls_drop_the_item() {
        assert_eq!(
            parent_url("https://contoso.sharepoint.com/sites/m/Docs/Plan.docx?web=1"),
            "https://contoso.sharepoint.com/sites/m/Docs"
        );
    }

    /// Which window kind each core failure gets is `error.rs`'s to say, from its kind alone.
    #[test]
    fn core_errors_keep_their_kind_and_message() {
        use drivewatch_core::config::ConfigError;
        let missing = CoreError::Config(ConfigError::MissingClientId);
        let message = missing.to_string();
        assert_eq!(
            map_error(missing),
            EngineError::Core {
                kind: ErrorKind::Configuration,
                message
            }
        );
        assert!(matches!(
            map_error(CoreError::UnknownAccount("x".to_owned())),
            EngineError::Core {
                kind: ErrorKind::Usage,
                ..
            }
        ));
    }
}
