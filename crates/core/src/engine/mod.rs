//! The engine: the one API the desktop shell and the CLI use to watch.
//!
//! It composes a [`Workspace`] (settings, accounts, history and the use-cases over them) and
//! adds the watching: one supervised set of tasks per target (a push supervisor and a delta loop
//! fed by a debouncer, see `target`), each target's status board (`status`), and a broadcast
//! of [`EngineEvent`]s (change batches, status, account changes). Its sign-in, sign-out and
//! target calls delegate to the workspace and start or stop watches around them. A tap starts a
//! delta run at once, so a burst reaches hosts as several batches; grouping them into one toast
//! (and updating it) is the toast policy's job, not a reason to hold runs back here. Every task
//! is tracked and ends on the engine's cancellation token; [`Engine::shutdown`] waits for all of
//! them. The engine must never block a host's thread, never hold a token itself (the auth layer
//! does), and never report a change twice: batches are broadcast only after their run committed.

mod status;
mod target;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use crate::error::{EngineError, ErrorKind};
pub use crate::workspace::{TargetInput, target_id};

use crate::auth::Auth;
use crate::config::{Config, Paths};
use crate::history::HistoryStore;
use crate::model::{
    Account, AccountKind, Change, EngineEvent, HistoryPage, HistoryQuery, Preferences, SignInEvent,
    TargetInfo,
};
use crate::push::socketio::SocketIoTransport;
use crate::push::{PushConfig, PushTransport};
use crate::wake::{WakeSignal, WakeSource};
use crate::workspace::{SaveSettings, Workspace, blocking};
use target::{TargetRuntime, stop_runtime};

/// Capacity of the event broadcast; a host that lags further loses the oldest events (and can
/// re-read history).
const EVENT_CAPACITY: usize = 1024;

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

struct Inner {
    workspace: Workspace,
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

    /// Starts over explicit parts (tests pass their own auth or an in-memory store). The
    /// settings given are the ones kept: every change saves them whole.
    pub async fn with_parts(
        config: Config,
        paths: Paths,
        auth: Auth,
        store: HistoryStore,
        options: EngineOptions,
    ) -> Result<Engine, EngineError> {
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        let targets = config.targets.clone();
        let retention = config.history_retention();
        store.set_session_minutes(config.preferences.session_minutes);
        let workspace =
            Workspace::with_parts(config, paths, auth, Some(store.clone()), SaveSettings::All);
        let engine = Engine {
            inner: Arc::new(Inner {
                workspace,
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

    /// The settings, accounts and history this engine watches over.
    pub fn workspace(&self) -> &Workspace {
        &self.inner.workspace
    }

    /// Every event from now on: change batches, status changes, account changes.
    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.inner.events.subscribe()
    }

    /// The registered accounts.
    pub fn accounts(&self) -> Result<Vec<Account>, EngineError> {
        Ok(self
            .inner
            .workspace
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
        let done = self.inner.workspace.sign_in(kind, on_event, cancel).await?;
        let account = done.account;
        let _ = self.inner.events.send(EngineEvent::AccountChanged {
            account: account.clone(),
        });
        match done.added {
            Some(target) => self.start_target(target, false).await,
            // A repeated sign-in revives the account's targets instead of adding another.
            None => {
                for id in self.inner.workspace.targets_of(&account.id).await {
                    self.restart_target(&id).await;
                }
            }
        }
        Ok(account)
    }

    /// Forgets an account: its tokens, targets and cursors. History and other accounts stay.
    pub async fn sign_out(&self, account: &str) -> Result<(), EngineError> {
        let record = self.inner.workspace.find_account(Some(account))?;
        for id in self.inner.workspace.targets_of(&record.account.id).await {
            self.stop_target(&id).await;
        }
        self.inner.workspace.sign_out(&record.account.id).await?;
        Ok(())
    }

    /// Validates and starts watching a target of `account`. Bad input changes nothing.
    pub async fn add_target(
        &self,
        account: &str,
        input: TargetInput,
    ) -> Result<TargetInfo, EngineError> {
        let config = self
            .inner
            .workspace
            .add_target(Some(account), input, None)
            .await?;
        let id = config.id.clone();
        self.start_target(config, false).await;
        self.targets()
            .into_iter()
            .find(|t| t.id == id)
            .ok_or(EngineError::UnknownTarget(id))
    }

    /// Stops watching a target and forgets its cursor and index (its history stays).
    pub async fn remove_target(&self, id: &str) -> Result<(), EngineError> {
        let watched = self.stop_target(id).await;
        match self.inner.workspace.remove_target(id).await {
            Err(EngineError::UnknownTarget(_)) if watched => Ok(()),
            other => other,
        }
    }

    /// The running target `id`, taken out of the engine's set (its tasks still run).
    fn take_runtime(&self, id: &str) -> Option<TargetRuntime> {
        self.inner
            .targets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id)
    }

    /// Stops a target's watch, if it has one; true if it had.
    async fn stop_target(&self, id: &str) -> bool {
        match self.take_runtime(id) {
            Some(runtime) => {
                stop_runtime(runtime).await;
                true
            }
            None => false,
        }
    }

    /// A page of history, newest first.
    pub async fn history(&self, query: HistoryQuery) -> Result<HistoryPage, EngineError> {
        self.inner.workspace.history(query).await
    }

    /// One stored change.
    pub async fn change(&self, seq: i64) -> Result<Option<Change>, EngineError> {
        self.inner.workspace.change(seq).await
    }

    pub async fn preferences(&self) -> Preferences {
        self.inner.workspace.preferences().await
    }

    pub async fn set_preferences(&self, preferences: Preferences) -> Result<(), EngineError> {
        let session_minutes = preferences.session_minutes;
        self.inner.workspace.set_preferences(preferences).await?;
        // Commits group editing sessions by the preference in effect.
        self.inner.store.set_session_minutes(session_minutes);
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

    async fn restart_target(&self, id: &str) {
        if let Some(runtime) = self.take_runtime(id) {
            let config = runtime.config.clone();
            stop_runtime(runtime).await;
            self.start_target(config, false).await;
        }
    }

    fn spawn_retention(&self, retention: Duration) {
        let store = self.inner.store.clone();
        let cancel = self.inner.cancel.clone();
        let every = prune_interval(retention);
        self.inner.tracker.spawn(async move {
            loop {
                // A retention too long for the calendar keeps everything.
                let cutoff = chrono::Duration::from_std(retention)
                    .ok()
                    .and_then(|r| Utc::now().checked_sub_signed(r));
                if let Some(cutoff) = cutoff {
                    let s = store.clone();
                    match tokio::task::spawn_blocking(move || s.prune_before(cutoff)).await {
                        Ok(Ok(n)) if n > 0 => tracing::info!(removed = n, "pruned old history"),
                        Ok(Err(e)) => tracing::warn!(error = %e, "pruning history failed"),
                        _ => {}
                    }
                }
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(every) => {}
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
}

/// How often retention prunes: daily, or every tenth of a shorter retention (at least a
/// minute), so the history never holds much more than retention asks.
fn prune_interval(retention: Duration) -> Duration {
    (retention / 10).clamp(Duration::from_secs(60), Duration::from_secs(24 * 3600))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TargetConfig;

    #[test]
    fn pruning_is_daily_for_shipped_retention_and_tighter_for_a_short_one() {
        let day = Duration::from_secs(24 * 3600);
        assert_eq!(prune_interval(30 * day), day);
        assert_eq!(
            prune_interval(Duration::from_secs(600)),
            Duration::from_secs(60)
        );
        assert_eq!(
            prune_interval(Duration::from_secs(3000)),
            Duration::from_secs(300)
        );
    }
    use crate::delta::debounce::Debouncer;
    use crate::model::TargetSpec;
    use status::StatusBoard;
    use tokio::sync::Notify;

    /// The history groups editing sessions by the preference: as the engine starts, and after
    /// every save of the preferences.
    #[tokio::test]
    async fn the_history_groups_sessions_by_the_preferences_in_effect() {
        use crate::classify::IndexUpdate;
        use crate::config::TokenStoreKind;
        use crate::history::RunCommit;
        use crate::model::ChangeKind;
        let home = tempfile::tempdir().unwrap();
        let paths = Paths::under(home.path());
        let mut config = Config {
            token_store: TokenStoreKind::File,
            ..Config::default()
        };
        config.preferences.session_minutes = 2;
        let auth = Auth::open(&config, &paths).await.unwrap();
        let store = HistoryStore::open_in_memory().unwrap();
        let options = EngineOptions::from_config(&config);
        let engine = Engine::with_parts(config, paths, auth, store.clone(), options)
            .await
            .unwrap();
        let at = chrono::Utc::now();
        let save = |seconds: i64| {
            let change = Change {
                seq: 0,
                kind: ChangeKind::Modified,
                name: "Budget.xlsx".into(),
                path: "/Finance/Budget.xlsx".into(),
                old_path: None,
                is_folder: false,
                item_id: "budget".into(),
                drive_id: "d".into(),
                by: Some("Alice".into()),
                own: false,
                at: at + chrono::Duration::seconds(seconds),
                web_url: None,
                account: "a".into(),
                target: "a/me".into(),
                caught_up: false,
                group: 0,
            };
            let run = RunCommit {
                target: "a/me",
                changes: std::slice::from_ref(&change),
                index: &IndexUpdate::default(),
                delta_link: "l",
            };
            store.commit_run(run).unwrap().remove(0)
        };
        let first = save(0);
        assert_eq!(save(90).group, first.seq, "90 s apart: within 2 minutes");
        let mut prefs = engine.preferences().await;
        prefs.session_minutes = 1;
        engine.set_preferences(prefs).await.unwrap();
        let late = save(180);
        assert_eq!(late.group, late.seq, "90 s apart: past 1 minute");
        engine.shutdown().await;
    }

    /// A resume from sleep or a clock set (here an injected event, as the clock-change timerfd
    /// would report it) takes the engine's reconnect path: every target's push link is nudged
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
}
