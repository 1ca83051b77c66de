//! Push for a SharePoint library against the Graph emulator on 127.0.0.1: the library's drive id
//! is resolved once and kept in the history database, push subscribes by
//! `/drives/{id}/root/subscriptions/socketIo` (what peers found SharePoint needs,
//! `docs/PROTOCOL.md §2.11`), a restart subscribes without resolving again, and when the service
//! refuses the drive form the target's own `/sites/...` form is used and push still delivers.
//!
//! The emulator serves both forms alike and has no request log or per-path refusal, so the
//! source-level tests put a recording transport in front of the real HTTP one: it counts every
//! request and, when told, answers the drive form the way a refusing tenant does.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use drivewatch_core::auth::{Auth, TokenStore};
use drivewatch_core::config::{Config, Paths};
use drivewatch_core::delta::debounce::Debouncer;
use drivewatch_core::delta::graph_source::GraphTargetSource;
use drivewatch_core::delta::{DeltaSync, RunKind, RunReport, TargetIdentity, TargetSource};
use drivewatch_core::engine::{Engine, EngineOptions, TargetInput, target_id};
use drivewatch_core::graph::transport::{
    GraphRequest, GraphTransport, RawResponse, ReqwestTransport, TransportFuture,
};
use drivewatch_core::graph::{GraphClient, RetryPolicy, build_http_client};
use drivewatch_core::history::HistoryStore;
use drivewatch_core::model::AccountKind;
use drivewatch_core::model::{EngineEvent, HistoryQuery, SignInEvent, TargetSpec, TargetStatus};
use drivewatch_core::push::PushSupervisor;
use drivewatch_core::workspace::{SaveSettings, Workspace};
use graph_emulator::seed::demo;
use graph_emulator::{Emulator, EmulatorConfig};
use tokio::sync::{Notify, mpsc};
use tokio::time::{Instant, timeout};
use tokio_util::sync::CancellationToken;

mod common;
use common::{push_config, socket_io};

const USER: &str = demo::DEMO_USER;
const WITHIN: Duration = Duration::from_secs(20);

fn library() -> TargetSpec {
    TargetSpec::SiteList {
        site_id: demo::SITE_ID.into(),
        list_id: demo::SITE_LIST_ID.into(),
    }
}

fn lookup_path() -> String {
    format!(
        "/v1.0/sites/{}/lists/{}/drive?$select=id",
        demo::SITE_ID,
        demo::SITE_LIST_ID
    )
}

fn drive_form() -> String {
    format!(
        "/v1.0/drives/{}/root/subscriptions/socketIo",
        demo::SITE_DRIVE_ID
    )
}

fn own_form() -> String {
    format!(
        "/v1.0/sites/{}/lists/{}/drive/root/subscriptions/socketIo",
        demo::SITE_ID,
        demo::SITE_LIST_ID
    )
}

/// The real transport, with a log of every path asked and an optional refusal of the drive form.
struct Recorder {
    inner: ReqwestTransport,
    seen: Mutex<Vec<String>>,
    refuse_drive_form: AtomicBool,
}

impl Recorder {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            inner: ReqwestTransport::new(build_http_client().unwrap()),
            seen: Mutex::default(),
            refuse_drive_form: AtomicBool::new(false),
        })
    }

    fn count(&self, path: &str) -> usize {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|p| *p == path)
            .count()
    }
}

impl GraphTransport for Recorder {
    fn get(&self, request: GraphRequest) -> TransportFuture<'_> {
        let url = &request.url;
        let key = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        self.seen.lock().unwrap().push(key.clone());
        if key == drive_form() && self.refuse_drive_form.load(Ordering::SeqCst) {
            return Box::pin(async {
                Ok(RawResponse {
                    status: 400,
                    body: br#"{"error":{"code":"notSupported","message":"Not supported."}}"#
                        .to_vec(),
                    ..RawResponse::default()
                })
            });
        }
        self.inner.get(request)
    }
}

/// A signed-in account on the emulator, and a history database that outlives one run.
struct Fixture {
    emu: Emulator,
    workspace: Workspace,
    dir: tempfile::TempDir,
}

impl Fixture {
    async fn new(emu: EmulatorConfig) -> Fixture {
        let emu = Emulator::start(emu.with_auto_approve(USER)).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::under(dir.path());
        let auth = Auth::with_parts(
            &config(&emu),
            build_http_client().unwrap(),
            TokenStore::file(paths.tokens_dir()),
            paths.accounts_file(),
        )
        .unwrap();
        let workspace = Workspace::with_parts(config(&emu), paths, auth, None, SaveSettings::All);
        workspace
            .sign_in(
                AccountKind::Any,
                &|_: SignInEvent| {},
                &CancellationToken::new(),
            )
            .await
            .unwrap();
        Fixture {
            emu,
            workspace,
            dir,
        }
    }

    fn store(&self) -> HistoryStore {
        HistoryStore::open(&self.dir.path().join("history.db")).unwrap()
    }

    /// One run of the library target, as the engine would start it, over `recorder`.
    async fn start(&self, recorder: &Arc<Recorder>, store: &HistoryStore) -> Run {
        let real = self.workspace.graph_for(demo::DEMO_USER_ID).await.unwrap();
        let auth = self.workspace.auth().await.unwrap();
        let (_, tokens) = auth.token_source(demo::DEMO_USER_ID).await.unwrap();
        let graph = GraphClient::with_transport(
            recorder.clone(),
            real.graph_url().clone(),
            tokens,
            RetryPolicy::default(),
        )
        .unwrap();
        let target = target_id(demo::DEMO_USER_ID, &library());
        let cancel = CancellationToken::new();
        let source: Arc<dyn TargetSource> = Arc::new(
            GraphTargetSource::new(graph, library(), cancel.clone())
                .remembering_drive_in(store.clone(), target.clone()),
        );
        let (tapper, mut debouncer) = Debouncer::new(Duration::from_millis(100));
        let (mode_tx, modes) = mpsc::unbounded_channel();
        let supervisor = PushSupervisor {
            source: source.clone(),
            transport: socket_io(),
            tapper: tapper.clone(),
            mode: Arc::new(move |s| {
                let _ = mode_tx.send(s);
            }),
            nudge: Arc::new(Notify::new()),
            config: push_config(),
        };
        let identity = TargetIdentity {
            target,
            account: demo::DEMO_USER_ID.into(),
            account_user_id: Some(demo::DEMO_USER_ID.into()),
            drive_id: String::new(),
        };
        let mut delta = DeltaSync::new(identity, source, store.clone());
        let (report_tx, reports) = mpsc::unbounded_channel();
        let c = cancel.clone();
        let runs = tokio::spawn(async move {
            while debouncer.next(&c).await {
                match delta.run(&c, false, &|_| {}).await {
                    Ok(report) => {
                        let _ = report_tx.send(report);
                    }
                    Err(e) if e.is_cancelled() => break,
                    Err(e) => panic!("delta run failed: {e}"),
                }
            }
        });
        let push = tokio::spawn(supervisor.run(cancel.clone()));
        tapper.tap();
        let mut run = Run {
            cancel,
            tasks: vec![runs, push],
            modes,
            reports,
        };
        run.wait_live().await;
        // The first run (a baseline, or a catch-up from the kept cursor) is done before the test
        // changes anything: a baseline reports nothing it finds.
        timeout(WITHIN, run.reports.recv())
            .await
            .expect("a first run in time")
            .expect("runs going on");
        run
    }
}

fn config(emu: &Emulator) -> Config {
    common::config(emu)
}

struct Run {
    cancel: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    modes: mpsc::UnboundedReceiver<TargetStatus>,
    reports: mpsc::UnboundedReceiver<RunReport>,
}

impl Run {
    async fn wait_live(&mut self) {
        let deadline = Instant::now() + WITHIN;
        loop {
            let mode = timeout(deadline - Instant::now(), self.modes.recv())
                .await
                .expect("push live in time")
                .expect("supervisor running");
            match mode {
                TargetStatus::Live => return,
                TargetStatus::Polling { reason } => panic!("push fell back to polling: {reason}"),
                _ => {}
            }
        }
    }

    /// Waits for a run that reports `path`; earlier runs (the baseline, echoes) are skipped.
    async fn wait_change(&mut self, path: &str) -> RunReport {
        let deadline = Instant::now() + WITHIN;
        loop {
            let report = timeout(deadline - Instant::now(), self.reports.recv())
                .await
                .unwrap_or_else(|_| panic!("{path} reported in time"))
                .expect("runs going on");
            if report.changes.iter().any(|c| c.path == path) {
                return report;
            }
        }
    }

    async fn stop(self) {
        self.cancel.cancel();
        for t in self.tasks {
            t.await.unwrap();
        }
    }
}

fn stored_paths(store: &HistoryStore, target: &str) -> Vec<String> {
    store
        .query(&HistoryQuery {
            limit: 100,
            target: Some(target.to_owned()),
            ..Default::default()
        })
        .unwrap()
        .changes
        .into_iter()
        .map(|c| c.path)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_library_subscribes_by_drive_id_resolved_once_across_restarts() {
    // Subscriptions last 4 s and renew 2 s early: the first run renews at least once.
    let f = Fixture::new(
        EmulatorConfig::for_tests().with_subscription_lifetime(Duration::from_secs(4)),
    )
    .await;
    let target = target_id(demo::DEMO_USER_ID, &library());
    let recorder = Recorder::new();
    let store = f.store();

    let mut run = f.start(&recorder, &store).await;
    assert_eq!(
        store.target_drive(&target).unwrap().as_deref(),
        Some(demo::SITE_DRIVE_ID),
        "the resolved drive is kept with the target"
    );
    f.emu
        .upload(
            demo::ALEX_USER,
            demo::SITE_DRIVE_ID,
            "Campaigns/Summer.txt",
            "x",
        )
        .unwrap();
    let report = run.wait_change("/Campaigns/Summer.txt").await;
    assert_eq!(report.kind, RunKind::Incremental);
    tokio::time::sleep(Duration::from_secs(3)).await;
    run.stop().await;
    assert!(
        recorder.count(&drive_form()) >= 2,
        "subscribed and renewed by drive id"
    );
    assert_eq!(recorder.count(&lookup_path()), 1);

    // A restart, with the history database opened anew: no second lookup.
    drop(store);
    let store = f.store();
    let mut run = f.start(&recorder, &store).await;
    f.emu
        .upload(
            demo::ALEX_USER,
            demo::SITE_DRIVE_ID,
            "Brand/Logo.txt",
            "blue",
        )
        .unwrap();
    run.wait_change("/Brand/Logo.txt").await;
    run.stop().await;
    assert_eq!(recorder.count(&lookup_path()), 1, "resolved once, ever");
    assert_eq!(recorder.count(&own_form()), 0);
    let stored = stored_paths(&store, &target);
    assert!(
        stored.contains(&"/Campaigns/Summer.txt".to_owned()),
        "{stored:?}"
    );
    assert!(stored.contains(&"/Brand/Logo.txt".to_owned()), "{stored:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_drive_form_falls_back_to_the_site_form_and_push_still_works() {
    let f = Fixture::new(
        EmulatorConfig::for_tests().with_subscription_lifetime(Duration::from_secs(4)),
    )
    .await;
    let target = target_id(demo::DEMO_USER_ID, &library());
    let recorder = Recorder::new();
    recorder.refuse_drive_form.store(true, Ordering::SeqCst);
    let store = f.store();

    let mut run = f.start(&recorder, &store).await;
    f.emu
        .upload(
            demo::ALEX_USER,
            demo::SITE_DRIVE_ID,
            "Campaigns/Fallback.txt",
            "x",
        )
        .unwrap();
    run.wait_change("/Campaigns/Fallback.txt").await;
    // Renewals (every 2 s here) and a forced re-subscription keep to the form that works.
    tokio::time::sleep(Duration::from_secs(3)).await;
    f.emu.expire_notification_urls();
    f.emu
        .upload(
            demo::ALEX_USER,
            demo::SITE_DRIVE_ID,
            "Campaigns/Again.txt",
            "x",
        )
        .unwrap();
    run.wait_change("/Campaigns/Again.txt").await;
    run.stop().await;
    assert_eq!(
        recorder.count(&drive_form()),
        1,
        "the refused form is not asked again"
    );
    assert!(recorder.count(&own_form()) >= 2, "renewed in the site form");
    let stored = stored_paths(&store, &target);
    assert!(
        stored.contains(&"/Campaigns/Fallback.txt".to_owned()),
        "{stored:?}"
    );
    assert!(
        stored.contains(&"/Campaigns/Again.txt".to_owned()),
        "{stored:?}"
    );

    // A restart tries the drive form again (once), then falls back again.
    let run = f.start(&recorder, &store).await;
    run.stop().await;
    assert_eq!(recorder.count(&drive_form()), 2);
    assert_eq!(recorder.count(&lookup_path()), 1);
}

fn engine_options() -> EngineOptions {
    common::engine_options(socket_io())
}

/// Waits until `target` is live, after its first enumeration when `baseline`.
async fn wait_target_live(
    events: &mut tokio::sync::broadcast::Receiver<EngineEvent>,
    target: &str,
    baseline: bool,
) {
    let deadline = Instant::now() + WITHIN;
    let mut enumerated = !baseline;
    loop {
        let e = timeout(deadline - Instant::now(), events.recv())
            .await
            .expect("the library live in time")
            .unwrap();
        if let EngineEvent::Status { target: info } = e
            && info.id == target
        {
            match info.status {
                TargetStatus::Resyncing { .. } => enumerated = true,
                TargetStatus::Live if enumerated => return,
                TargetStatus::Polling { reason } => panic!("push fell back to polling: {reason}"),
                _ => {}
            }
        }
    }
}

async fn wait_engine_change(
    events: &mut tokio::sync::broadcast::Receiver<EngineEvent>,
    path: &str,
) {
    let deadline = Instant::now() + WITHIN;
    loop {
        let e = timeout(deadline - Instant::now(), events.recv())
            .await
            .unwrap_or_else(|_| panic!("{path} reported in time"))
            .unwrap();
        if let EngineEvent::Changes { batch } = e
            && batch.changes.iter().any(|c| c.path == path)
        {
            return;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_keeps_a_library_target_drive_and_reports_its_changes() {
    let emu = Emulator::start(EmulatorConfig::for_tests().with_auto_approve(USER))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths::under(dir.path());
    let engine = Engine::start(config(&emu), paths.clone(), engine_options())
        .await
        .unwrap();
    let mut events = engine.subscribe();
    let account = engine
        .sign_in(
            drivewatch_core::model::AccountKind::Any,
            &|_: SignInEvent| {},
        )
        .await
        .unwrap();
    let info = engine
        .add_target(&account.id, TargetInput::Spec(library()))
        .await
        .unwrap();
    wait_target_live(&mut events, &info.id, true).await;
    emu.upload(
        demo::ALEX_USER,
        demo::SITE_DRIVE_ID,
        "Campaigns/Engine.txt",
        "x",
    )
    .unwrap();
    wait_engine_change(&mut events, "/Campaigns/Engine.txt").await;
    engine.shutdown().await;
    drop(engine);
    let kept = HistoryStore::open(&paths.history_db())
        .unwrap()
        .target_drive(&info.id)
        .unwrap();
    assert_eq!(kept.as_deref(), Some(demo::SITE_DRIVE_ID));

    // Started again from the saved settings, the library is live again and still reports.
    let saved = Config::load(&paths.config_file()).unwrap();
    let engine = Engine::start(saved, paths.clone(), engine_options())
        .await
        .unwrap();
    let mut events = engine.subscribe();
    // It may have gone live before the subscription to events.
    if !engine
        .targets()
        .iter()
        .any(|t| t.id == info.id && t.status == TargetStatus::Live)
    {
        wait_target_live(&mut events, &info.id, false).await;
    }
    emu.upload(
        demo::ALEX_USER,
        demo::SITE_DRIVE_ID,
        "Campaigns/Restarted.txt",
        "x",
    )
    .unwrap();
    wait_engine_change(&mut events, "/Campaigns/Restarted.txt").await;
    let page = engine
        .history(HistoryQuery {
            limit: 100,
            target: Some(info.id.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    let paths: Vec<&str> = page.changes.iter().map(|c| c.path.as_str()).collect();
    assert!(paths.contains(&"/Campaigns/Engine.txt"), "{paths:?}");
    assert!(paths.contains(&"/Campaigns/Restarted.txt"), "{paths:?}");
    engine.shutdown().await;
}
