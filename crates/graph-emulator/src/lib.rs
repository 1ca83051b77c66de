//! graph-emulator: a local stand-in for Microsoft's identity platform (device code flow),
//! Graph's drive API (OneDrive personal and business, SharePoint libraries, group drives) and
//! Graph's socket.io change notifications, on 127.0.0.1.
//!
//! It exists so every DriveWatch test, and demo mode, runs against something that behaves like
//! the real services (PROTOCOL.md) without a Microsoft account or a network. It is written from
//! Microsoft's documented behaviour alone and must never depend on drivewatch-core or share its
//! wire types: the two are independent readings of the same protocol. It listens on loopback only
//! and must never log a token.
//!
//! # Layout
//! - [`Emulator`] / [`EmulatorHandle`]: start, stop, and act on the world from Rust (mutations as
//!   a user, device-code decisions, faults).
//! - `config`, `seed`: how an instance behaves and what it starts with ([`seed::demo`] names the
//!   default seed's users and drives).
//! - `store`: the live world (one mutex); `wire`: Graph's JSON shapes; `graph`, `delta`: the
//!   `/v1.0` endpoints; `graph_error`: Graph's error bodies.
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

pub use config::EmulatorConfig;
pub use error::EmulatorError;
pub use faults::ThrottleStatus;
pub use seed::Seed;

use store::{ConflictBehavior, World};

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
    changes: UnboundedSender<String>,
}

impl Shared {
    pub fn graph_url(&self) -> String {
        format!("{}/v1.0", self.base)
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
        for d in dirty {
            let _ = self.changes.send(d);
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
            push: push::PushState::default(),
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

/// Control from Rust: every method mirrors one of the HTTP control API's (`/_emulator/...`).
impl EmulatorHandle {
    /// `http://127.0.0.1:PORT`: the identity platform's authority.
    pub fn authority_url(&self) -> String {
        self.shared.base.clone()
    }

    /// `http://127.0.0.1:PORT/v1.0`: Graph's base URL.
    pub fn graph_url(&self) -> String {
        self.shared.graph_url()
    }

    /// `http://127.0.0.1:PORT/devicelogin`
    pub fn verification_uri(&self) -> String {
        format!("{}/devicelogin", self.shared.base)
    }

    /// The id of a user (given id or username).
    pub fn user_id(&self, user: &str) -> Result<String, EmulatorError> {
        Ok(self.shared.lock_world().user(user)?.id.clone())
    }

    /// The user's own OneDrive.
    pub fn drive_of(&self, user: &str) -> Result<String, EmulatorError> {
        let w = self.shared.lock_world();
        let id = w.user(user)?.id.clone();
        w.own_drive(&id)
            .map(|d| d.id.clone())
            .ok_or_else(|| EmulatorError::UnknownDrive(format!("OneDrive of {user}")))
    }

    /// The id of the live item at `path` (from the drive root; "" is the root).
    pub fn item_id(&self, drive: &str, path: &str) -> Result<String, EmulatorError> {
        self.shared
            .lock_world()
            .resolve_path(drive, path.trim_matches('/'))
    }

    /// Whether a live item exists at `path`.
    pub fn exists(&self, drive: &str, path: &str) -> bool {
        self.item_id(drive, path).is_ok()
    }

    /// The content of the file at `path`.
    pub fn content(&self, drive: &str, path: &str) -> Result<Vec<u8>, EmulatorError> {
        let w = self.shared.lock_world();
        let id = w.resolve_path(drive, path.trim_matches('/'))?;
        w.items[&id]
            .content
            .clone()
            .ok_or(EmulatorError::InvalidOperation("a folder has no content"))
    }

    /// Uploads (creates or replaces) a file as `user`; missing folders are created. Returns the id.
    pub fn upload(
        &self,
        user: &str,
        drive: &str,
        path: &str,
        content: impl Into<Vec<u8>>,
    ) -> Result<String, EmulatorError> {
        let content = content.into();
        self.shared.mutate(|w| {
            let actor = w.user(user)?.id.clone();
            let drive = w.drive(drive)?.id.clone();
            w.accessible_drive(&actor, &drive)?;
            let (parent, name) = store::split_parent(path.trim_matches('/'));
            let parent = w.ensure_folders(&actor, &drive, parent)?;
            Ok(
                w.put_file(&actor, &parent, name, content, ConflictBehavior::Replace)?
                    .0,
            )
        })
    }

    /// Replaces the content of an existing file as `user`.
    pub fn edit(
        &self,
        user: &str,
        drive: &str,
        path: &str,
        content: impl Into<Vec<u8>>,
    ) -> Result<String, EmulatorError> {
        let content = content.into();
        self.shared.mutate(|w| {
            let actor = w.user(user)?.id.clone();
            let id = w.resolve_path(drive, path.trim_matches('/'))?;
            w.replace_content(&actor, &id, content)?;
            Ok(id)
        })
    }

    /// Creates a folder (and missing parents) as `user`.
    pub fn create_folder(
        &self,
        user: &str,
        drive: &str,
        path: &str,
    ) -> Result<String, EmulatorError> {
        self.shared.mutate(|w| {
            let actor = w.user(user)?.id.clone();
            let drive = w.drive(drive)?.id.clone();
            w.accessible_drive(&actor, &drive)?;
            w.ensure_folders(&actor, &drive, path.trim_matches('/'))
        })
    }

    /// Renames the item at `path` as `user`.
    pub fn rename(
        &self,
        user: &str,
        drive: &str,
        path: &str,
        new_name: &str,
    ) -> Result<String, EmulatorError> {
        self.shared.mutate(|w| {
            let actor = w.user(user)?.id.clone();
            let id = w.resolve_path(drive, path.trim_matches('/'))?;
            w.update(&actor, &id, Some(new_name), None)?;
            Ok(id)
        })
    }

    /// Moves the item at `path` into the folder at `new_parent` as `user`.
    pub fn move_item(
        &self,
        user: &str,
        drive: &str,
        path: &str,
        new_parent: &str,
    ) -> Result<String, EmulatorError> {
        self.shared.mutate(|w| {
            let actor = w.user(user)?.id.clone();
            let id = w.resolve_path(drive, path.trim_matches('/'))?;
            let parent = w.resolve_path(drive, new_parent.trim_matches('/'))?;
            w.update(&actor, &id, None, Some(&parent))?;
            Ok(id)
        })
    }

    /// Deletes the item at `path` as `user`.
    pub fn delete(&self, user: &str, drive: &str, path: &str) -> Result<String, EmulatorError> {
        self.shared.mutate(|w| {
            let actor = w.user(user)?.id.clone();
            let id = w.resolve_path(drive, path.trim_matches('/'))?;
            w.delete(&actor, &id)?;
            Ok(id)
        })
    }

    /// User codes of the pending device-code sign-ins.
    pub fn pending_user_codes(&self) -> Vec<String> {
        self.shared
            .lock_auth()
            .pending()
            .into_iter()
            .map(|(c, _, _)| c)
            .collect()
    }

    /// Approves a pending device code as `user` (as the verification page does).
    pub fn approve_device_code(&self, user_code: &str, user: &str) -> Result<(), EmulatorError> {
        identity::decide(&self.shared, user_code, Some(user))
    }

    /// Declines a pending device code.
    pub fn decline_device_code(&self, user_code: &str) -> Result<(), EmulatorError> {
        identity::decide(&self.shared, user_code, None)
    }

    /// Test convenience: an access and a refresh token for `user`, without the device flow,
    /// with scopes `Files.ReadWrite.All User.Read offline_access openid profile`.
    pub fn issue_tokens(&self, user: &str) -> Result<(String, String), EmulatorError> {
        self.issue_tokens_with_scopes(
            user,
            &[
                "Files.ReadWrite.All",
                "User.Read",
                "offline_access",
                "openid",
                "profile",
            ],
        )
    }

    /// Like [`EmulatorHandle::issue_tokens`] with chosen scopes.
    pub fn issue_tokens_with_scopes(
        &self,
        user: &str,
        scopes: &[&str],
    ) -> Result<(String, String), EmulatorError> {
        let id = self.user_id(user)?;
        let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_string()).collect();
        let lifetime = self.shared.config.access_token_lifetime;
        Ok(self
            .shared
            .lock_auth()
            .issue_for_test(&id, &scopes, lifetime))
    }

    /// Fault: resets every socket.io connection (clients see the transport drop).
    pub fn drop_all_sockets(&self) -> usize {
        self.shared.conns.drop_push()
    }

    /// Fault: stop (true) or resume (false) all traffic on socket.io connections: no pings are
    /// sent and no pongs are read, and the TCP connection stays open.
    pub fn stall_pings(&self, on: bool) {
        self.shared.conns.set_stalled(on);
    }

    /// Fault: answer the next `count` Graph requests with 429 or 503 and `Retry-After`.
    pub fn throttle_next(&self, count: u32, status: ThrottleStatus, retry_after: Duration) {
        self.shared
            .faults
            .throttle(count, status, retry_after.as_secs());
    }

    /// Fault: answer the next `count` Graph requests with 500 `generalException`.
    pub fn fail_next(&self, count: u32) {
        self.shared.faults.fail_next(count);
    }

    /// Fault: delay every Graph request by this much (zero clears).
    pub fn set_latency(&self, latency: Duration) {
        self.shared.faults.set_latency(latency);
    }

    /// Fault: every notificationUrl expires now; connected sockets are disconnected.
    pub fn expire_notification_urls(&self) {
        self.shared.push.expire_all();
    }

    /// Fault: every delta token (of one drive, or all) answers 410 with `code` from now on.
    pub fn invalidate_delta_tokens(
        &self,
        drive: Option<&str>,
        code: ResyncCode,
    ) -> Result<(), EmulatorError> {
        let mut w = self.shared.lock_world();
        let ids: Vec<String> = match drive {
            Some(d) => vec![w.drive(d)?.id.clone()],
            None => w.drives.keys().cloned().collect(),
        };
        for id in ids {
            if let Some(d) = w.drives.get_mut(&id) {
                d.delta_generation += 1;
                d.resync_code = code.as_str();
            }
            self.shared.delta.forget_drive(&id);
        }
        Ok(())
    }

    /// Fault: revoke refresh tokens (of one user, or everyone's). Returns how many.
    pub fn revoke_refresh_tokens(&self, user: Option<&str>) -> Result<usize, EmulatorError> {
        let id = user.map(|u| self.user_id(u)).transpose()?;
        Ok(self.shared.lock_auth().revoke_refresh_tokens(id.as_deref()))
    }

    /// Fault: every access token issued so far expires now.
    pub fn expire_access_tokens(&self) {
        self.shared.lock_auth().expire_access_tokens();
    }

    /// Switch: socketIo answers `400 notSupported` for `user` (or for everyone with `None`).
    pub fn set_socketio_not_supported(
        &self,
        user: Option<&str>,
        on: bool,
    ) -> Result<(), EmulatorError> {
        match user {
            None => self.shared.faults.set_socketio_not_supported_all(on),
            Some(u) => {
                let id = self.user_id(u)?;
                self.shared.faults.set_socketio_not_supported_for(&id, on);
            }
        }
        Ok(())
    }

    /// Clears throttling, failures, latency, the notSupported-for-all switch and stalled pings.
    pub fn clear_faults(&self) {
        self.shared.faults.clear();
        self.shared.conns.set_stalled(false);
    }

    /// Sockets currently joined to `/notifications`.
    pub fn connected_sockets(&self) -> usize {
        self.shared.push.connected()
    }
}
