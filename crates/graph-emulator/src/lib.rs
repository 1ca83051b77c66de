//! graph-emulator: a local stand-in for Microsoft's identity platform (device code flow),
//! Graph's drive API (OneDrive personal and business, SharePoint libraries, group drives) and
//! Graph's socket.io change notifications, on 127.0.0.1.
//!
//! It exists so every DriveWatch test, and demo mode, runs against something that behaves like
//! the real services (docs/PROTOCOL.md §1-§4) without a Microsoft account or a network. It is
//! written from Microsoft's documented behaviour alone and must never depend on drivewatch-core or
//! share its wire types: the two are independent readings of the same protocol. It listens on
//! loopback only and must never log a token.
//!
//! # Layout
//! - [`Emulator`] / [`EmulatorHandle`] (methods in `handle`): start, stop, and act on the world
//!   from Rust (mutations as a user, device-code decisions, faults).
//! - `config`, `seed`: how an instance behaves and what it starts with ([`seed::demo`] names the
//!   default seed's users and drives).
//! - `store`: the live world (one mutex); `wire`: Graph's JSON shapes; `graph` (by resource),
//!   `delta`: the `/v1.0` endpoints; `graph_error`: Graph's error bodies.
//! - `identity`: `/{tenant}/oauth2/v2.0/...` and the verification page.
//! - `push`: the socketIo endpoint, the socket.io server and the notifier.
//! - `faults`, `net`: throttling/failure/latency switches and the controllable TCP layer.
//! - `control`: the HTTP control API under `/_emulator/`; `web`: the page for people at `/`.
//! - [`scenario`]: scripted activity by other users for demo mode.

mod config;
mod control;
mod delta;
mod error;
mod faults;
mod graph;
mod graph_error;
mod handle;
mod identity;
mod net;
mod push;
pub mod scenario;
pub mod seed;
mod store;
mod web;
mod wire;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{any, get, post};
use tokio::net::TcpListener;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use config::{ENV_DEMO_PUSH, EmulatorConfig, PushTiming};
pub use error::EmulatorError;
pub use faults::ThrottleStatus;
pub use seed::Seed;

use store::World;

/// The 410 code a delta-token fault answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum ResyncCode {
    #[default]
    ResyncRequired,
    ResyncChangesApplyDifferences,
    ResyncChangesUploadDifferences,
    ResyncApplyDifferences,
    ResyncUploadDifferences,
    SyncStateNotFound,
}

impl ResyncCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ResyncCode::ResyncRequired => "resyncRequired",
            ResyncCode::ResyncChangesApplyDifferences => "resyncChangesApplyDifferences",
            ResyncCode::ResyncChangesUploadDifferences => "resyncChangesUploadDifferences",
            ResyncCode::ResyncApplyDifferences => "resyncApplyDifferences",
            ResyncCode::ResyncUploadDifferences => "resyncUploadDifferences",
            ResyncCode::SyncStateNotFound => "syncStateNotFound",
        }
    }
}

/// State shared by every request handler, the notifier and the control methods.
pub(crate) struct Shared {
    pub config: EmulatorConfig,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub world: Mutex<World>,
    pub auth: Mutex<identity::AuthState>,
    pub push: push::PushState,
    pub delta: delta::DeltaSnapshots,
    pub faults: faults::Faults,
    pub conns: Arc<net::Connections>,
    changes: UnboundedSender<push::Change>,
}

impl Shared {
    pub fn graph_url(&self) -> String {
        format!("{}/v1.0", self.base)
    }

    /// The origin of notificationUrls: the configured push origin, else `base`.
    pub fn push_base(&self) -> String {
        match &self.config.push_origin {
            Some(origin) => origin.as_str().trim_end_matches('/').to_owned(),
            None => self.base.clone(),
        }
    }

    pub fn lock_world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn lock_auth(&self) -> MutexGuard<'_, identity::AuthState> {
        self.auth.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs a change against the world and queues a notification for every drive it touched.
    pub fn mutate<T>(
        &self,
        f: impl FnOnce(&mut World) -> Result<T, EmulatorError>,
    ) -> Result<T, EmulatorError> {
        let (result, dirty) = {
            let mut w = self.lock_world();
            let r = f(&mut w);
            (r, w.take_dirty())
        };
        for (drive, items) in dirty {
            let _ = self.changes.send(push::Change {
                drive,
                items: items.into_iter().collect(),
            });
        }
        result
    }
}

/// A cheap, cloneable handle to a running emulator, for control from Rust (tests, demo mode).
#[derive(Clone)]
pub struct EmulatorHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for EmulatorHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorHandle")
            .field("base", &self.shared.base)
            .finish()
    }
}

/// A running emulator. Serves until [`Emulator::shutdown`] or drop.
pub struct Emulator {
    handle: EmulatorHandle,
    cancel: CancellationToken,
    server: Option<JoinHandle<()>>,
    notifier: Option<JoinHandle<()>>,
    addr: SocketAddr,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("addr", &self.addr)
            .finish()
    }
}

impl std::ops::Deref for Emulator {
    type Target = EmulatorHandle;
    fn deref(&self) -> &EmulatorHandle {
        &self.handle
    }
}

/// Marks connections that carry socket.io traffic so push faults can reach them.
async fn mark_push_connections(req: Request, next: Next) -> Response {
    if req.uri().path().starts_with("/socket.io") {
        if let Some(ConnectInfo(info)) = req.extensions().get::<ConnectInfo<net::ConnInfo>>() {
            info.control.mark_push();
            tracing::debug!(peer = %info.peer, "push connection");
        }
    }
    tracing::debug!(method = %req.method(), path = req.uri().path(), "request");
    next.run(req).await
}

impl Emulator {
    /// Binds 127.0.0.1:`config.port` (0 = any free port) and serves in the background.
    pub async fn start(config: EmulatorConfig) -> Result<Emulator, EmulatorError> {
        let world = World::from_seed(&config.seed)?;
        let listener = TcpListener::bind(("127.0.0.1", config.port))
            .await
            .map_err(|source| EmulatorError::Bind {
                port: config.port,
                source,
            })?;
        let addr = listener
            .local_addr()
            .map_err(|source| EmulatorError::Bind {
                port: config.port,
                source,
            })?;
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let conns = Arc::new(net::Connections::default());
        let shared = Arc::new(Shared {
            base: format!("http://127.0.0.1:{}", addr.port()),
            world: Mutex::new(world),
            auth: Mutex::new(identity::AuthState::default()),
            push: push::PushState::new(config.push_timing()),
            delta: delta::DeltaSnapshots::default(),
            faults: faults::Faults::new(config.socketio_not_supported_for.clone()),
            conns: conns.clone(),
            changes: tx,
            config,
        });
        let socket_layer = push::build_layer(&shared);
        let graph_routes = Router::new()
            .route("/v1.0/{*rest}", any(graph::dispatch))
            .layer(middleware::from_fn_with_state(
                shared.clone(),
                faults::apply,
            ));
        let app = Router::new()
            .route(
                "/{tenant}/oauth2/v2.0/devicecode",
                post(identity::devicecode),
            )
            .route("/{tenant}/oauth2/v2.0/token", post(identity::token))
            .route(
                "/devicelogin",
                get(identity::verification_page).post(identity::verification_submit),
            )
            .route("/", get(web::index))
            .route("/_emulator/ui", post(web::action))
            .route("/_emulator/download/{drive}/{item}", get(web::download))
            .merge(control::routes())
            .merge(graph_routes)
            .fallback(web::web_view)
            .with_state(shared.clone())
            .layer(socket_layer)
            .layer(middleware::from_fn(mark_push_connections));
        let cancel = CancellationToken::new();
        let listener = net::ControlledListener {
            inner: listener,
            conns,
        };
        let stop = cancel.clone();
        let server = tokio::spawn(async move {
            let svc = app.into_make_service_with_connect_info::<net::ConnInfo>();
            if let Err(e) = axum::serve(listener, svc)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await
            {
                tracing::error!(error = %e, "server stopped");
            }
        });
        let notifier = tokio::spawn(push::run_notifier(shared.clone(), rx, cancel.clone()));
        tracing::info!(%addr, "graph emulator listening");
        Ok(Emulator {
            handle: EmulatorHandle { shared },
            cancel,
            server: Some(server),
            notifier: Some(notifier),
            addr,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// A cloneable handle (e.g. to move into a spawned task).
    pub fn handle(&self) -> EmulatorHandle {
        self.handle.clone()
    }

    /// Stops serving: push connections are dropped, open HTTP requests get a moment to finish.
    pub async fn shutdown(mut self) {
        self.stop().await;
    }

    async fn stop(&mut self) {
        self.cancel.cancel();
        self.handle.shared.conns.set_stalled(false);
        self.handle.shared.conns.drop_push();
        if let Some(mut s) = self.server.take() {
            if tokio::time::timeout(Duration::from_secs(3), &mut s)
                .await
                .is_err()
            {
                s.abort();
            }
        }
        if let Some(n) = self.notifier.take() {
            let _ = n.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.cancel.cancel();
        self.handle.shared.conns.drop_push();
        if let Some(s) = self.server.take() {
            s.abort();
        }
        if let Some(n) = self.notifier.take() {
            n.abort();
        }
    }
}
