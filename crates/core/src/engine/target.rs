//! One watched target's supervision: its runtime (the handles that stop it), how its tasks are
//! started (a push supervisor and a delta loop fed by a debouncer, both tracked and ended by the
//! target's cancellation token), and the delta loop that turns taps into committed runs.
//!
//! A batch is broadcast only after its run committed, and a cancellation never drops a run in the
//! middle of its commit. Nothing here may retry without bound: a failed run waits out its backoff
//! (or Retry-After, `docs/PROTOCOL.md §4.2`), and a refused refresh token stops the loop until a
//! new sign-in (`§1.5`). The safety-net tap every few hours is `docs/PROTOCOL.md §3.5`'s.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::{Notify, broadcast};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::Engine;
use super::status::StatusBoard;
use crate::auth::AuthError;
use crate::config::TargetConfig;
use crate::delta::debounce::{Debouncer, Tapper};
use crate::delta::graph_source::GraphTargetSource;
use crate::delta::source::{SourceError, TargetSource};
use crate::delta::{DeltaError, DeltaSync, Progress, TargetIdentity};
use crate::error::EngineError;
use crate::history::HistoryError;
use crate::model::{AccountState, ChangeBatch, EngineEvent, TargetSpec, TargetStatus};
use crate::process;
use crate::push::PushSupervisor;
use crate::push::backoff::Backoff;
use crate::workspace::{Workspace, blocking};

/// A running target: its info as hosts see it and the handles that stop it.
pub(super) struct TargetRuntime {
    pub(super) config: TargetConfig,
    pub(super) status: Arc<StatusBoard>,
    pub(super) tapper: Tapper,
    /// Wakes the push supervisor (reconnect now).
    pub(super) nudge: Arc<Notify>,
    /// Wakes the delta loop out of a retry pause.
    pub(super) retry_now: Arc<Notify>,
    pub(super) cancel: CancellationToken,
    pub(super) tasks: Vec<JoinHandle<()>>,
}

impl Engine {
    /// Starts the tasks of one target. `at_start`: changes its first run finds are catch-up.
    pub(super) async fn start_target(&self, config: TargetConfig, at_start: bool) {
        let status = Arc::new(StatusBoard::new(&config, self.inner.events.clone()));
        let _ = self.inner.events.send(EngineEvent::Status {
            target: status.info(),
        });
        let cancel = self.inner.cancel.child_token();
        let (tapper, debouncer) = Debouncer::new(self.inner.options.run_spacing);
        let nudge = Arc::new(Notify::new());
        let retry_now = Arc::new(Notify::new());
        let mut tasks = Vec::new();

        let workspace = &self.inner.workspace;
        let account = workspace
            .accounts()
            .ok()
            .and_then(|all| all.into_iter().find(|r| r.account.id == config.account));
        let mut unavailable = TargetStatus::NeedsSignIn;
        let graph = match &account {
            Some(r) if r.account.state == AccountState::NeedsSignIn => None,
            Some(_) => match workspace.graph_for(&config.account).await {
                Ok(graph) => Some(graph),
                Err(EngineError::Auth(AuthError::NeedsSignIn)) => None,
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
                    workspace: workspace.clone(),
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

pub(super) async fn stop_runtime(runtime: TargetRuntime) {
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
    /// Where a refused refresh token is recorded (the account then needs sign-in).
    workspace: Workspace,
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
                        process::after_delta_run(report.items).await;
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
                if let Ok(Some(account)) = self
                    .workspace
                    .set_account_state(&account, AccountState::NeedsSignIn)
                    .await
                {
                    let _ = self.events.send(EngineEvent::AccountChanged { account });
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

    mod delta_loop {
        use super::*;
        use crate::auth::{Auth, TokenStore};
        use crate::config::{Config, Paths};
        use crate::delta::fake::FakeDrive;
        use crate::history::HistoryStore;
        use crate::model::Change;
        use crate::workspace::SaveSettings;

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
            let workspace = Workspace::with_parts(
                Config::default(),
                Paths::under(dir.path()),
                auth,
                Some(store.clone()),
                SaveSettings::All,
            );
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
                workspace,
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

        /// A run over a thousand items gives the heap's free pages back. Real time and a
        /// multi-thread runtime: the trim runs on a blocking thread, which a paused clock would
        /// not wait for.
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn a_thousand_items_handled_give_the_free_heap_back() {
            let drive = FakeDrive::new(200);
            for k in 0..process::TRIM_EVERY_ITEMS {
                drive.file(&format!("f{k}"), &format!("f{k}.txt"), "root", "c1");
            }
            let trims = process::heap_trims();
            let h = start(drive, Duration::from_secs(3600), false).await;
            h.tapper.tap();
            let trimmed = tokio::time::timeout(Duration::from_secs(20), async {
                while process::heap_trims() == trims {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            })
            .await;
            assert!(trimmed.is_ok(), "no trim after the first run's items");
            h.stop().await;
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
}
