//! The engine: the one API the desktop shell and the CLI use.
//!
//! It owns the accounts' watched targets, one supervised set of tasks per target (a push
//! supervisor and a delta loop fed by a debouncer), the history store, and a broadcast of
//! [`EngineEvent`]s (change batches, status, account changes). A tap starts a delta run at
//! once, so a burst reaches hosts as several batches; grouping them into one toast (and
//! updating it) is the toast policy's job, not a reason to hold runs back here. Every task is
//! tracked and ends on the engine's cancellation token; [`Engine::shutdown`] waits for all of
//! them. The engine must never block a host's thread, never hold a token itself (the auth layer
//! does), and never report a change twice: batches are broadcast only after their run committed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use tokio::sync::{Notify, broadcast};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::{Auth, AuthError};
use crate::config::{Config, ConfigError, Paths, TargetConfig};
use crate::delta::debounce::{Debouncer, Tapper};
use crate::delta::graph_source::GraphTargetSource;
use crate::delta::source::{SourceError, TargetSource};
use crate::delta::{DeltaError, DeltaSync, Progress, TargetIdentity};
use crate::graph::GraphError;
use crate::history::{HistoryError, HistoryStore};
use crate::model::{
    Account, AccountKind, AccountState, Change, ChangeBatch, EngineEvent, HistoryPage,
    HistoryQuery, Preferences, SignInEvent, TargetInfo, TargetSpec, TargetStatus,
};
use crate::push::backoff::Backoff;
use crate::push::socketio::SocketIoTransport;
use crate::push::{PushConfig, PushSupervisor, PushTransport};
use crate::wake::{WakeSignal, WakeSource};

/// Capacity of the event broadcast; a host that lags further loses the oldest events (and can
/// re-read history).
const EVENT_CAPACITY: usize = 1024;

/// Everything the engine API can fail with.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error("no signed-in account {0}")]
    UnknownAccount(String),
    #[error("no watched target {0}")]
    UnknownTarget(String),
    #[error("this drive is already watched (target {0})")]
    AlreadyWatched(String),
    #[error("the engine is shutting down")]
    ShuttingDown,
    #[error("a background worker of the engine stopped unexpectedly")]
    Worker,
}

/// What a host asks to watch: a target spec or a pasted OneDrive/SharePoint URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetInput {
    Spec(TargetSpec),
    Url(String),
}

/// Tuning that hosts normally leave alone; tests shorten the timers.
#[derive(Clone)]
pub struct EngineOptions {
    pub push: PushConfig,
    /// Shortest time between the starts of delta runs while the drive keeps changing faster
    /// than delta reads it. A tap while idle runs delta at once and taps during a run get one
    /// more run right after it; only a longer chain of back-to-back runs is spaced by this, so
    /// a storm costs a few delta calls a second (see [`crate::delta::debounce`]).
    pub run_spacing: Duration,
    /// A delta even when push works, in case a notification was lost.
    pub safety_net: Duration,
    pub transport: Arc<dyn PushTransport>,
    /// Minimum and maximum pause after a failed delta run.
    pub delta_retry_base: Duration,
    pub delta_retry_max: Duration,
}

impl std::fmt::Debug for EngineOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineOptions")
            .field("push", &self.push)
            .field("run_spacing", &self.run_spacing)
            .field("safety_net", &self.safety_net)
            .finish_non_exhaustive()
    }
}

impl EngineOptions {
    /// The defaults, with the polling and safety-net intervals from the settings.
    pub fn from_config(config: &Config) -> Self {
        Self {
            push: PushConfig {
                poll_interval: config.poll_interval(),
                ..PushConfig::default()
            },
            // A storm's changes wait at most this long for the run that reads them; 3 to 4
            // delta calls a second is well inside Graph's per-user limits.
            run_spacing: Duration::from_millis(300),
            safety_net: config.safety_net_delta_interval(),
            transport: Arc::new(SocketIoTransport::default()),
            delta_retry_base: Duration::from_secs(2),
            delta_retry_max: Duration::from_secs(120),
        }
    }
}

/// A running target: its info as hosts see it and the handles that stop it.
struct TargetRuntime {
    config: TargetConfig,
    status: Arc<StatusBoard>,
    tapper: Tapper,
    /// Wakes the push supervisor (reconnect now).
    nudge: Arc<Notify>,
    /// Wakes the delta loop out of a retry pause.
    retry_now: Arc<Notify>,
    cancel: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

/// A target's effective status: a delta-side overlay (resyncing, throttled, error) over the push
/// mode (connecting, live, polling, ...). Emits a Status event whenever the effective one changes.
struct StatusBoard {
    info: Mutex<(TargetInfo, TargetStatus, Option<TargetStatus>)>,
    events: broadcast::Sender<EngineEvent>,
}

impl StatusBoard {
    fn new(config: &TargetConfig, events: broadcast::Sender<EngineEvent>) -> Self {
        let info = TargetInfo {
            id: config.id.clone(),
            account: config.account.clone(),
            label: config.label.clone(),
            spec: config.spec.clone(),
            status: TargetStatus::Connecting,
        };
        Self {
            info: Mutex::new((info, TargetStatus::Connecting, None)),
            events,
        }
    }

    fn update(&self, f: impl FnOnce(&mut TargetStatus, &mut Option<TargetStatus>)) {
        let snapshot = {
            let mut guard = self.info.lock().unwrap_or_else(|p| p.into_inner());
            let (info, mode, overlay) = &mut *guard;
            f(mode, overlay);
            let effective = overlay.clone().unwrap_or_else(|| mode.clone());
            if info.status == effective {
                return;
            }
            info.status = effective;
            info.clone()
        };
        let _ = self.events.send(EngineEvent::Status { target: snapshot });
    }

    fn set_mode(&self, status: TargetStatus) {
        self.update(|mode, _| *mode = status);
    }

    fn set_overlay(&self, status: Option<TargetStatus>) {
        self.update(|_, overlay| *overlay = status);
    }

    fn info(&self) -> TargetInfo {
        self.info
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .0
            .clone()
    }
}

struct Inner {
    paths: Paths,
    config: tokio::sync::Mutex<Config>,
    auth: Auth,
    store: HistoryStore,
    options: EngineOptions,
    events: broadcast::Sender<EngineEvent>,
    cancel: CancellationToken,
    tracker: TaskTracker,
    targets: Mutex<HashMap<String, TargetRuntime>>,
}

/// The DriveWatch engine. Cheap to clone; every clone drives the same engine.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, HistoryError> + Send + 'static,
) -> Result<T, EngineError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| EngineError::Worker)?
        .map_err(EngineError::from)
}

/// The identity platform tenant for a sign-in of `kind`.
fn tenant_for(kind: AccountKind, configured: &str) -> String {
    let generic = ["common", "consumers", "organizations"];
    match kind {
        AccountKind::Any => configured.to_owned(),
        AccountKind::Personal => "consumers".to_owned(),
        AccountKind::Work if generic.contains(&configured.to_ascii_lowercase().as_str()) => {
            "organizations".to_owned()
        }
        AccountKind::Work => configured.to_owned(),
    }
}

/// A stable target id from the account and what is watched. Hosts that edit the settings file
/// without a running engine (the CLI's short commands) use it too, so ids always agree.
pub fn target_id(account: &str, spec: &TargetSpec) -> String {
    let what = match spec {
        TargetSpec::MyDrive => "me".to_owned(),
        TargetSpec::Drive { drive_id } => format!("drive:{drive_id}"),
        TargetSpec::DriveList { drive_id } => format!("list:{drive_id}"),
        TargetSpec::GroupDrive { group_id } => format!("group:{group_id}"),
        TargetSpec::SiteList { site_id, list_id } => format!("site:{site_id}:{list_id}"),
    };
    format!("{account}/{what}")
}

impl Engine {
    /// Opens the history, prunes it, and starts watching every configured target.
    pub async fn start(
        config: Config,
        paths: Paths,
        options: EngineOptions,
    ) -> Result<Engine, EngineError> {
        paths.ensure()?;
        let db = paths.history_db();
        let store = blocking(move || HistoryStore::open(&db)).await?;
        let auth = Auth::open(&config, &paths).await?;
        Self::with_parts(config, paths, auth, store, options).await
    }

    /// Starts over explicit parts (tests pass their own auth or an in-memory store).
    pub async fn with_parts(
        config: Config,
        paths: Paths,
        auth: Auth,
        store: HistoryStore,
        options: EngineOptions,
    ) -> Result<Engine, EngineError> {
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        let targets = config.targets.clone();
        let retention = config.history_retention_days;
        let engine = Engine {
            inner: Arc::new(Inner {
                paths,
                config: tokio::sync::Mutex::new(config),
                auth,
                store,
                options,
                events,
                cancel: CancellationToken::new(),
                tracker: TaskTracker::new(),
                targets: Mutex::new(HashMap::new()),
            }),
        };
        engine.spawn_retention(retention);
        engine.spawn_wake_watch(WakeSource::system());
        for target in targets {
            engine.start_target(target, true).await;
        }
        Ok(engine)
    }

    /// Every event from now on: change batches, status changes, account changes.
    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.inner.events.subscribe()
    }

    /// The registered accounts.
    pub fn accounts(&self) -> Result<Vec<Account>, EngineError> {
        Ok(self
            .inner
            .auth
            .accounts()?
            .into_iter()
            .map(|r| r.account)
            .collect())
    }

    /// The watched targets with their current status.
    pub fn targets(&self) -> Vec<TargetInfo> {
        let targets = self.inner.targets.lock().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<TargetInfo> = targets.values().map(|t| t.status.info()).collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    /// Signs in with the device-code flow; `on_event` sees the prompt and the outcome. On success
    /// the account's own drive becomes a watched target.
    pub async fn sign_in(
        &self,
        kind: AccountKind,
        on_event: &(dyn Fn(SignInEvent) + Send + Sync),
    ) -> Result<Account, EngineError> {
        self.sign_in_until(kind, on_event, &CancellationToken::new())
            .await
    }

    /// [`Engine::sign_in`] that also ends (with `Auth(Cancelled)`, and no further events) when
    /// `cancel` fires, e.g. when the user closes the sign-in dialog.
    pub async fn sign_in_until(
        &self,
        kind: AccountKind,
        on_event: &(dyn Fn(SignInEvent) + Send + Sync),
        cancel: &CancellationToken,
    ) -> Result<Account, EngineError> {
        // Ends on engine shutdown or on the host's token; the flow itself sees the cancellation
        // and stops cleanly, so it is never dropped half-way through registering the account.
        let flow = self.inner.cancel.child_token();
        let watch = async {
            cancel.cancelled().await;
            flow.cancel();
            std::future::pending::<()>().await;
        };
        tokio::select! {
            biased;
            result = self.sign_in_inner(kind, on_event, &flow) => result,
            _ = watch => Err(EngineError::ShuttingDown),
        }
    }

    async fn sign_in_inner(
        &self,
        kind: AccountKind,
        on_event: &(dyn Fn(SignInEvent) + Send + Sync),
        cancel: &CancellationToken,
    ) -> Result<Account, EngineError> {
        let auth = {
            let config = self.inner.config.lock().await;
            let tenant = tenant_for(kind, &config.tenant);
            if tenant == config.tenant {
                self.inner.auth.clone()
            } else {
                let mut config = config.clone();
                config.tenant = tenant;
                Auth::with_parts(
                    &config,
                    self.inner.auth.http().clone(),
                    self.inner.auth.token_store().clone(),
                    self.inner.paths.accounts_file(),
                )?
            }
        };
        let done = auth.sign_in(on_event, cancel).await?;
        let account = done.account;
        let _ = self.inner.events.send(EngineEvent::AccountChanged {
            account: account.clone(),
        });
        // A repeated sign-in revives the account's targets instead of adding another.
        let mine: Vec<String> = {
            let targets = self.inner.targets.lock().unwrap_or_else(|p| p.into_inner());
            targets
                .values()
                .filter(|t| t.config.account == account.id)
                .map(|t| t.config.id.clone())
                .collect()
        };
        if mine.is_empty() {
            let config = TargetConfig {
                id: target_id(&account.id, &TargetSpec::MyDrive),
                account: account.id.clone(),
                label: "OneDrive".to_owned(),
                spec: TargetSpec::MyDrive,
            };
            self.persist_target(config.clone()).await?;
            self.start_target(config, false).await;
        } else {
            for id in mine {
                self.restart_target(&id).await;
            }
        }
        Ok(account)
    }

    /// Forgets an account: its tokens, targets and cursors. History and other accounts stay.
    pub async fn sign_out(&self, account: &str) -> Result<(), EngineError> {
        let record = self
            .inner
            .auth
            .accounts()?
            .into_iter()
            .find(|r| r.account.id == account || r.account.username == account)
            .ok_or_else(|| EngineError::UnknownAccount(account.to_owned()))?;
        let ids: Vec<String> = {
            let config = self.inner.config.lock().await;
            config
                .targets
                .iter()
                .filter(|t| t.account == record.account.id)
                .map(|t| t.id.clone())
                .collect()
        };
        for id in ids {
            self.remove_target(&id).await?;
        }
        self.inner.auth.sign_out(&record.account.id).await?;
        Ok(())
    }

    /// Validates and starts watching a target of `account`. Bad input changes nothing.
    pub async fn add_target(
        &self,
        account: &str,
        input: TargetInput,
    ) -> Result<TargetInfo, EngineError> {
        let record = self
            .inner
            .auth
            .accounts()?
            .into_iter()
            .find(|r| r.account.id == account || r.account.username == account)
            .ok_or_else(|| EngineError::UnknownAccount(account.to_owned()))?;
        let graph = self.inner.auth.graph_for(&record.account.id).await?;
        let cancel = self.inner.cancel.child_token();
        let (spec, label) = match input {
            TargetInput::Url(url) => {
                let shared = graph.resolve_share_url(&url, &cancel).await?;
                (
                    TargetSpec::Drive {
                        drive_id: shared.drive_id,
                    },
                    shared.label,
                )
            }
            TargetInput::Spec(spec) => {
                let drive = graph.drive(&spec, &cancel).await?;
                let label = drive.name.clone().unwrap_or_else(|| match &spec {
                    TargetSpec::MyDrive => "OneDrive".to_owned(),
                    _ => drive.id.clone(),
                });
                (spec, label)
            }
        };
        let id = target_id(&record.account.id, &spec);
        if self
            .inner
            .config
            .lock()
            .await
            .targets
            .iter()
            .any(|t| t.id == id)
        {
            return Err(EngineError::AlreadyWatched(id));
        }
        let config = TargetConfig {
            id: id.clone(),
            account: record.account.id.clone(),
            label,
            spec,
        };
        self.persist_target(config.clone()).await?;
        self.start_target(config, false).await;
        self.targets()
            .into_iter()
            .find(|t| t.id == id)
            .ok_or(EngineError::UnknownTarget(id))
    }

    /// Stops watching a target and forgets its cursor and index (its history stays).
    pub async fn remove_target(&self, id: &str) -> Result<(), EngineError> {
        let known = {
            let mut config = self.inner.config.lock().await;
            let before = config.targets.len();
            config.targets.retain(|t| t.id != id);
            let known = config.targets.len() != before;
            if known {
                config.save(&self.inner.paths.config_file())?;
            }
            known
        };
        let runtime = self
            .inner
            .targets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
        if !known && runtime.is_none() {
            return Err(EngineError::UnknownTarget(id.to_owned()));
        }
        if let Some(runtime) = runtime {
            stop_runtime(runtime).await;
        }
        let store = self.inner.store.clone();
        let target = id.to_owned();
        blocking(move || store.forget_target(&target)).await?;
        Ok(())
    }

    /// A page of history, newest first.
    pub async fn history(&self, query: HistoryQuery) -> Result<HistoryPage, EngineError> {
        let store = self.inner.store.clone();
        blocking(move || store.query(&query)).await
    }

    /// One stored change.
    pub async fn change(&self, seq: i64) -> Result<Option<Change>, EngineError> {
        let store = self.inner.store.clone();
        blocking(move || store.change(seq)).await
    }

    pub async fn preferences(&self) -> Preferences {
        self.inner.config.lock().await.preferences.clone()
    }

    pub async fn set_preferences(&self, preferences: Preferences) -> Result<(), EngineError> {
        let mut config = self.inner.config.lock().await;
        let mut next = config.clone();
        next.preferences = preferences;
        next.save(&self.inner.paths.config_file())?;
        *config = next;
        Ok(())
    }

    /// The network came back or the machine woke up: reconnect push and look for changes now.
    pub fn network_changed(&self) {
        let targets = self.inner.targets.lock().unwrap_or_else(|p| p.into_inner());
        for t in targets.values() {
            t.nudge.notify_one();
            t.retry_now.notify_one();
            t.tapper.tap();
        }
    }

    /// Same as [`Engine::network_changed`]; hosts call it on resume from sleep.
    pub fn resume(&self) {
        self.network_changed();
    }

    /// Stops every task and waits for them (push links disconnect cleanly).
    pub async fn shutdown(&self) {
        self.inner.cancel.cancel();
        self.inner.tracker.close();
        self.inner.tracker.wait().await;
    }

    async fn persist_target(&self, target: TargetConfig) -> Result<(), EngineError> {
        let mut config = self.inner.config.lock().await;
        let mut next = config.clone();
        next.targets.retain(|t| t.id != target.id);
        next.targets.push(target);
        next.save(&self.inner.paths.config_file())?;
        *config = next;
        Ok(())
    }

    async fn restart_target(&self, id: &str) {
        let runtime = self
            .inner
            .targets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
        if let Some(runtime) = runtime {
            let config = runtime.config.clone();
            stop_runtime(runtime).await;
            self.start_target(config, false).await;
        }
    }

    fn spawn_retention(&self, days: u32) {
        let store = self.inner.store.clone();
        let cancel = self.inner.cancel.clone();
        self.inner.tracker.spawn(async move {
            loop {
                let cutoff = Utc::now() - chrono::Duration::days(i64::from(days));
                let s = store.clone();
                match tokio::task::spawn_blocking(move || s.prune_before(cutoff)).await {
                    Ok(Ok(n)) if n > 0 => tracing::info!(removed = n, "pruned old history"),
                    Ok(Err(e)) => tracing::warn!(error = %e, "pruning history failed"),
                    _ => {}
                }
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_secs(24 * 3600)) => {}
                }
            }
        });
    }

    /// Nudges every target at once when `wake` reports a resume from sleep (a wall-clock set
    /// only taps delta), so push reconnects and delta looks within seconds instead of
    /// after a ping timeout. One detector per engine, whatever the number of targets; on Linux
    /// it costs no wake-up while idle (see [`crate::wake`]).
    fn spawn_wake_watch(&self, mut wake: WakeSource) {
        let engine = Engine {
            inner: self.inner.clone(),
        };
        let cancel = self.inner.cancel.clone();
        tracing::debug!(detector = wake.name(), "watching for resume from sleep");
        self.inner.tracker.spawn(async move {
            loop {
                let why = tokio::select! {
                    _ = cancel.cancelled() => return,
                    why = wake.next() => why,
                };
                tracing::info!(?why, "resumed from sleep or the clock was set");
                match why {
                    WakeSignal::Resumed { .. } => engine.network_changed(),
                    // The links are fine: only look for changes (at most once a minute).
                    WakeSignal::ClockStepped => (engine.inner.targets.lock())
                        .unwrap_or_else(|p| p.into_inner())
                        .values()
                        .for_each(|t| t.tapper.tap()),
                }
            }
        });
    }

    /// Starts the tasks of one target. `at_start`: changes its first run finds are catch-up.
    async fn start_target(&self, config: TargetConfig, at_start: bool) {
        let status = Arc::new(StatusBoard::new(&config, self.inner.events.clone()));
        let _ = self.inner.events.send(EngineEvent::Status {
            target: status.info(),
        });
        let cancel = self.inner.cancel.child_token();
        let (tapper, debouncer) = Debouncer::new(self.inner.options.run_spacing);
        let nudge = Arc::new(Notify::new());
        let retry_now = Arc::new(Notify::new());
        let mut tasks = Vec::new();

        let account = self
            .inner
            .auth
            .accounts()
            .ok()
            .and_then(|all| all.into_iter().find(|r| r.account.id == config.account));
        let mut unavailable = TargetStatus::NeedsSignIn;
        let graph = match &account {
            Some(r) if r.account.state == AccountState::NeedsSignIn => None,
            Some(_) => match self.inner.auth.graph_for(&config.account).await {
                Ok(graph) => Some(graph),
                Err(AuthError::NeedsSignIn) => None,
                Err(e) => {
                    tracing::warn!(target = %config.id, error = %e, "cannot open the account");
                    unavailable = TargetStatus::Error {
                        reason: e.to_string(),
                    };
                    None
                }
            },
            None => None,
        };
        match (graph, account) {
            (Some(graph), Some(record)) => {
                let source: Arc<dyn TargetSource> = Arc::new(
                    GraphTargetSource::new(graph, config.spec.clone(), cancel.clone())
                        .remembering_drive_in(self.inner.store.clone(), config.id.clone()),
                );
                let drive_id = match &config.spec {
                    TargetSpec::Drive { drive_id } | TargetSpec::DriveList { drive_id } => {
                        drive_id.clone()
                    }
                    _ => String::new(),
                };
                let identity = TargetIdentity {
                    target: config.id.clone(),
                    account: config.account.clone(),
                    account_user_id: Some(record.account.id.clone()),
                    drive_id,
                };
                let board = status.clone();
                let supervisor = PushSupervisor {
                    source: source.clone(),
                    transport: self.inner.options.transport.clone(),
                    tapper: tapper.clone(),
                    mode: Arc::new(move |s| board.set_mode(s)),
                    nudge: nudge.clone(),
                    config: self.inner.options.push.clone(),
                };
                tasks.push(self.inner.tracker.spawn(supervisor.run(cancel.clone())));
                let delta = DeltaSync::new(identity, source, self.inner.store.clone());
                let cursor_known = {
                    let store = self.inner.store.clone();
                    let id = config.id.clone();
                    blocking(move || store.cursor(&id))
                        .await
                        .ok()
                        .flatten()
                        .is_some()
                };
                let loop_ = DeltaLoop {
                    delta,
                    debouncer,
                    tapper: tapper.clone(),
                    status: status.clone(),
                    events: self.inner.events.clone(),
                    auth: self.inner.auth.clone(),
                    retry_now: retry_now.clone(),
                    first_is_catch_up: at_start && cursor_known,
                    safety_net: self.inner.options.safety_net,
                    retry: Backoff::new(
                        self.inner.options.delta_retry_base,
                        self.inner.options.delta_retry_max,
                    ),
                };
                tasks.push(self.inner.tracker.spawn(loop_.run(cancel.clone())));
                // Catch up (or baseline) right away, whatever push does.
                tapper.tap();
            }
            _ => status.set_mode(unavailable),
        }
        let runtime = TargetRuntime {
            config: config.clone(),
            status,
            tapper,
            nudge,
            retry_now,
            cancel,
            tasks,
        };
        let old = self
            .inner
            .targets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(config.id, runtime);
        if let Some(old) = old {
            stop_runtime(old).await;
        }
    }
}

async fn stop_runtime(runtime: TargetRuntime) {
    runtime.cancel.cancel();
    for task in runtime.tasks {
        let _ = task.await;
    }
    runtime.status.set_overlay(Some(TargetStatus::Stopped));
}

/// Runs delta for one target whenever the debouncer says so.
struct DeltaLoop {
    delta: DeltaSync,
    /// Only this loop calls `next`, between runs.
    debouncer: Debouncer,
    tapper: Tapper,
    status: Arc<StatusBoard>,
    events: broadcast::Sender<EngineEvent>,
    auth: Auth,
    retry_now: Arc<Notify>,
    first_is_catch_up: bool,
    safety_net: Duration,
    retry: Backoff,
}

impl DeltaLoop {
    async fn run(mut self, cancel: CancellationToken) {
        // Never ends by itself: only `work` decides when the loop is over, so a cancellation
        // cannot drop a run in the middle of its commit.
        let safety = {
            let tapper = self.tapper.clone();
            let every = self.safety_net;
            async move {
                loop {
                    tokio::time::sleep(every).await;
                    tapper.tap();
                }
            }
        };
        let work = async {
            let mut catch_up = self.first_is_catch_up;
            while self.debouncer.next(&cancel).await {
                let board = self.status.clone();
                let progress = move |p: Progress| {
                    board.set_overlay(Some(TargetStatus::Resyncing {
                        pages: p.pages,
                        items: p.items,
                    }))
                };
                let result = self.delta.run(&cancel, catch_up, &progress).await;
                match result {
                    Ok(report) => {
                        catch_up = false;
                        self.retry.reset();
                        self.status.set_overlay(None);
                        if !report.changes.is_empty() {
                            let batch = ChangeBatch {
                                target: self.delta.identity().target.clone(),
                                changes: report.changes,
                            };
                            let _ = self.events.send(EngineEvent::Changes { batch });
                        }
                    }
                    Err(e) if e.is_cancelled() => return,
                    Err(DeltaError::Store(HistoryError::CursorMoved { .. })) => {
                        // Another engine on this database committed first: look again from
                        // its cursor (reporting only what is still new).
                        self.tapper.tap();
                    }
                    Err(e) => {
                        if !self.handle_failure(e, &cancel).await {
                            return;
                        }
                    }
                }
            }
        };
        tokio::select! {
            biased;
            _ = work => {}
            _ = safety => {}
        }
    }

    /// Shows and waits out a failed run; false when cancelled meanwhile.
    async fn handle_failure(&mut self, e: DeltaError, cancel: &CancellationToken) -> bool {
        let wait = match &e {
            DeltaError::Source(SourceError::Throttled { retry_after }) => {
                let until =
                    Utc::now() + chrono::Duration::from_std(*retry_after).unwrap_or_default();
                self.status
                    .set_overlay(Some(TargetStatus::Throttled { until }));
                Some(*retry_after)
            }
            DeltaError::Source(SourceError::NeedsSignIn) => {
                self.status.set_overlay(Some(TargetStatus::NeedsSignIn));
                let account = self.delta.identity().account.clone();
                if self
                    .auth
                    .set_account_state(&account, AccountState::NeedsSignIn)
                    .await
                    .is_ok()
                {
                    if let Ok(all) = self.auth.accounts() {
                        if let Some(r) = all.into_iter().find(|r| r.account.id == account) {
                            let _ = self
                                .events
                                .send(EngineEvent::AccountChanged { account: r.account });
                        }
                    }
                }
                // No retry loop: a new sign-in restarts this target.
                None
            }
            other => {
                tracing::warn!(target = %self.delta.identity().target, error = %other, "delta failed");
                self.status.set_overlay(Some(TargetStatus::Error {
                    reason: other.to_string(),
                }));
                Some(self.retry.next_delay())
            }
        };
        match wait {
            Some(d) => {
                tokio::select! {
                    _ = cancel.cancelled() => return false,
                    _ = self.retry_now.notified() => {}
                    _ = tokio::time::sleep(d) => {}
                }
                self.tapper.tap();
                true
            }
            None => {
                cancel.cancelled().await;
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A resume from sleep (here an injected signal, as the detector would report it) takes
    /// the engine's reconnect path: every target's push link is nudged
    /// and its delta loop woken and tapped.
    #[tokio::test]
    async fn a_wake_event_nudges_every_target() {
        use crate::config::TokenStoreKind;
        use crate::wake::WakeSignal;
        let home = tempfile::tempdir().unwrap();
        let paths = Paths::under(home.path());
        let config = Config {
            token_store: TokenStoreKind::File,
            ..Config::default()
        };
        let auth = Auth::open(&config, &paths).await.unwrap();
        let store = HistoryStore::open_in_memory().unwrap();
        let options = EngineOptions::from_config(&config);
        let engine = Engine::with_parts(config, paths, auth, store, options)
            .await
            .unwrap();
        let target = TargetConfig {
            id: "a/me".into(),
            account: "a".into(),
            label: "OneDrive".into(),
            spec: TargetSpec::MyDrive,
        };
        let (tapper, _debouncer) = Debouncer::new(Duration::from_millis(500));
        let (nudge, retry_now) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        let runtime = TargetRuntime {
            status: Arc::new(StatusBoard::new(&target, engine.inner.events.clone())),
            config: target,
            tapper: tapper.clone(),
            nudge: nudge.clone(),
            retry_now: retry_now.clone(),
            cancel: engine.inner.cancel.child_token(),
            tasks: Vec::new(),
        };
        engine
            .inner
            .targets
            .lock()
            .unwrap()
            .insert("a/me".into(), runtime);

        let (wake, source) = WakeSource::injected();
        engine.spawn_wake_watch(source);
        assert_eq!(tapper.taps(), 0);
        wake.send(WakeSignal::Resumed { slept_secs: 30 }).unwrap();
        let within = Duration::from_secs(5);
        tokio::time::timeout(within, nudge.notified())
            .await
            .expect("push nudged");
        tokio::time::timeout(within, retry_now.notified())
            .await
            .expect("delta woken");
        assert_eq!(tapper.taps(), 1);
        engine.shutdown().await;
    }

    /// Hosts (Tauri commands, the CLI's tasks) need every engine future to be `Send`.
    #[allow(dead_code)]
    fn engine_futures_are_send(e: &Engine) {
        fn send<T: Send>(_: T) {}
        send(e.sign_in(AccountKind::Any, &|_| {}));
        send(e.sign_in_until(AccountKind::Any, &|_| {}, &CancellationToken::new()));
        send(e.sign_out("a"));
        send(e.add_target("a", TargetInput::Url("https://x".into())));
        send(e.remove_target("t"));
        send(e.history(HistoryQuery::default()));
        send(e.change(1));
        send(e.preferences());
        send(e.set_preferences(Preferences::default()));
        send(e.shutdown());
        send(Engine::start(
            Config::default(),
            Paths::under("x"),
            EngineOptions::from_config(&Config::default()),
        ));
    }

    mod delta_loop {
        use super::*;
        use crate::auth::TokenStore;
        use crate::delta::fake::FakeDrive;

        struct Harness {
            drive: FakeDrive,
            store: HistoryStore,
            tapper: Tapper,
            events: broadcast::Receiver<EngineEvent>,
            cancel: CancellationToken,
            task: JoinHandle<()>,
            _dir: tempfile::TempDir,
        }

        /// A delta loop over the fake drive; `baseline` runs the first sync before it starts.
        async fn start(drive: FakeDrive, safety_net: Duration, baseline: bool) -> Harness {
            let dir = tempfile::tempdir().unwrap();
            let auth = Auth::with_parts(
                &Config::default(),
                reqwest::Client::new(),
                TokenStore::file(dir.path().join("tokens")),
                dir.path().join("accounts.json"),
            )
            .unwrap();
            let store = HistoryStore::open_in_memory().unwrap();
            let identity = TargetIdentity {
                target: "t1".into(),
                account: "acct".into(),
                account_user_id: Some("me".into()),
                drive_id: "d1".into(),
            };
            let mut delta = DeltaSync::new(identity, Arc::new(drive.clone()), store.clone());
            let cancel = CancellationToken::new();
            if baseline {
                delta.run(&cancel, false, &|_| {}).await.unwrap();
            }
            let (events_tx, events) = broadcast::channel(64);
            let config = TargetConfig {
                id: "t1".into(),
                account: "acct".into(),
                label: "OneDrive".into(),
                spec: TargetSpec::MyDrive,
            };
            let status = Arc::new(StatusBoard::new(&config, events_tx.clone()));
            let (tapper, debouncer) = Debouncer::new(Duration::from_millis(100));
            let looped = DeltaLoop {
                delta,
                debouncer,
                tapper: tapper.clone(),
                status,
                events: events_tx,
                auth,
                retry_now: Arc::new(Notify::new()),
                first_is_catch_up: false,
                safety_net,
                retry: Backoff::new(Duration::from_secs(2), Duration::from_secs(60)),
            };
            let task = tokio::spawn(looped.run(cancel.clone()));
            Harness {
                drive,
                store,
                tapper,
                events,
                cancel,
                task,
                _dir: dir,
            }
        }

        impl Harness {
            fn drain(&mut self) -> (Vec<TargetStatus>, Vec<Change>) {
                let mut statuses = Vec::new();
                let mut changes = Vec::new();
                while let Ok(e) = self.events.try_recv() {
                    match e {
                        EngineEvent::Status { target } => statuses.push(target.status),
                        EngineEvent::Changes { batch } => changes.extend(batch.changes),
                        EngineEvent::AccountChanged { .. } => {}
                    }
                }
                (statuses, changes)
            }
            async fn stop(self) {
                self.cancel.cancel();
                self.task.await.unwrap();
            }
        }

        async fn settle() {
            // Lets spawn_blocking commits finish; the paused clock barely moves.
            for _ in 0..20 {
                tokio::task::yield_now().await;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }

        #[tokio::test(start_paused = true)]
        async fn a_throttled_run_shows_until_when_and_waits_it_out() {
            let drive = FakeDrive::new(10);
            let mut h = start(drive, Duration::from_secs(3600), true).await;
            h.drive.file("a", "a.txt", "root", "c1");
            h.drive.fail_next(SourceError::Throttled {
                retry_after: Duration::from_secs(30),
            });
            let calls_before = h.drive.calls().len();
            h.tapper.tap();
            settle().await;
            let (statuses, changes) = h.drain();
            assert!(
                matches!(statuses.last(), Some(TargetStatus::Throttled { .. })),
                "{statuses:?}"
            );
            assert!(changes.is_empty());
            assert_eq!(h.drive.calls().len(), calls_before + 1);
            tokio::time::sleep(Duration::from_secs(20)).await;
            assert_eq!(
                h.drive.calls().len(),
                calls_before + 1,
                "no request before Retry-After"
            );
            tokio::time::sleep(Duration::from_secs(15)).await;
            settle().await;
            let (statuses, changes) = h.drain();
            assert_eq!(changes.len(), 1);
            assert_eq!(
                statuses.last(),
                Some(&TargetStatus::Connecting),
                "overlay cleared"
            );
            assert_eq!(h.store.count(None).unwrap(), 1);
            h.stop().await;
        }

        #[tokio::test(start_paused = true)]
        async fn the_safety_net_looks_without_any_tap() {
            let drive = FakeDrive::new(10);
            let mut h = start(drive, Duration::from_secs(4 * 3600), true).await;
            h.drive.file("a", "lost-notification.txt", "root", "c1");
            tokio::time::sleep(Duration::from_secs(3600)).await;
            settle().await;
            assert!(h.drain().1.is_empty());
            tokio::time::sleep(Duration::from_secs(3 * 3600 + 10)).await;
            settle().await;
            let changes = h.drain().1;
            assert_eq!(changes.len(), 1);
            assert_eq!(changes[0].path, "/lost-notification.txt");
            h.stop().await;
        }

        #[tokio::test(start_paused = true)]
        async fn a_baseline_reports_progress_then_clears_it() {
            let drive = FakeDrive::new(1);
            drive.file("a", "a.txt", "root", "c1");
            drive.file("b", "b.txt", "root", "c1");
            let mut h = start(drive, Duration::from_secs(3600), false).await;
            h.tapper.tap();
            settle().await;
            let (statuses, changes) = h.drain();
            assert!(changes.is_empty(), "a baseline reports nothing");
            let progress: Vec<_> = statuses
                .iter()
                .filter_map(|s| match s {
                    TargetStatus::Resyncing { pages, items } => Some((*pages, *items)),
                    _ => None,
                })
                .collect();
            assert_eq!(progress, vec![(1, 1), (2, 2), (3, 3)]);
            assert_eq!(statuses.last(), Some(&TargetStatus::Connecting));
            h.stop().await;
        }
    }

    #[test]
    fn sign_in_kinds_pick_the_tenant() {
        assert_eq!(tenant_for(AccountKind::Any, "common"), "common");
        assert_eq!(tenant_for(AccountKind::Personal, "common"), "consumers");
        assert_eq!(tenant_for(AccountKind::Work, "common"), "organizations");
        assert_eq!(tenant_for(AccountKind::Work, "contoso.com"), "contoso.com");
    }

    #[test]
    fn target_ids_are_stable_and_distinct() {
        assert_eq!(target_id("a", &TargetSpec::MyDrive), "a/me");
        assert_ne!(
            target_id(
                "a",
                &TargetSpec::Drive {
                    drive_id: "x".into()
                }
            ),
            target_id(
                "a",
                &TargetSpec::DriveList {
                    drive_id: "x".into()
                }
            )
        );
    }
}
