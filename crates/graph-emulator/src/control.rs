//! The HTTP control API under `/_emulator/` (a prefix Graph never uses): act as a user, decide
//! device codes, issue test tokens, and switch faults. Each route mirrors an `EmulatorHandle`
//! method so out-of-process tests (the CLI's, the JS interop suite) can do what in-process tests
//! do. JSON in, JSON out. It is unauthenticated by design (loopback only) and must never be
//! mounted under `/v1.0`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{EmulatorError, EmulatorHandle, PushTiming, ResyncCode, Shared, ThrottleStatus};

/// An [`EmulatorError`] rendered for the control API.
struct Failure(EmulatorError);

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let (status, code) = match &self.0 {
            EmulatorError::UnknownUser(_) => (StatusCode::NOT_FOUND, "unknownUser"),
            EmulatorError::UnknownDrive(_) => (StatusCode::NOT_FOUND, "unknownDrive"),
            EmulatorError::ItemNotFound(_) => (StatusCode::NOT_FOUND, "itemNotFound"),
            EmulatorError::UnknownUserCode(_) => (StatusCode::NOT_FOUND, "unknownUserCode"),
            EmulatorError::AccessDenied { .. } => (StatusCode::FORBIDDEN, "accessDenied"),
            EmulatorError::WrongTenant { .. } => (StatusCode::FORBIDDEN, "wrongTenant"),
            EmulatorError::NameConflict(_) => (StatusCode::CONFLICT, "nameAlreadyExists"),
            _ => (StatusCode::BAD_REQUEST, "invalidRequest"),
        };
        (
            status,
            Json(json!({"error": code, "message": self.0.to_string()})),
        )
            .into_response()
    }
}

type Reply = Result<Json<Value>, Failure>;

fn handle(shared: Arc<Shared>) -> EmulatorHandle {
    EmulatorHandle { shared }
}

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_emulator/state", get(state))
        .route("/_emulator/mutate", post(mutate))
        .route("/_emulator/device/pending", get(pending))
        .route("/_emulator/device/approve", post(approve))
        .route("/_emulator/device/decline", post(decline))
        .route("/_emulator/tokens", post(tokens))
        .route("/_emulator/faults/drop-sockets", post(drop_sockets))
        .route("/_emulator/faults/stall-pings", post(stall_pings))
        .route("/_emulator/faults/throttle", post(throttle))
        .route("/_emulator/faults/fail", post(fail))
        .route("/_emulator/faults/latency", post(latency))
        .route(
            "/_emulator/faults/expire-notification-urls",
            post(expire_urls),
        )
        .route("/_emulator/faults/invalidate-delta", post(invalidate_delta))
        .route("/_emulator/faults/revoke-refresh-tokens", post(revoke))
        .route(
            "/_emulator/faults/expire-access-tokens",
            post(expire_access),
        )
        .route(
            "/_emulator/faults/socketio-not-supported",
            post(not_supported),
        )
        .route("/_emulator/faults/clear", post(clear))
        .route(
            "/_emulator/push/timing",
            get(push_timing).post(set_push_timing),
        )
}

async fn state(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let w = shared.lock_world();
    let users: Vec<Value> = w
        .users
        .values()
        .map(|u| json!({"id": u.id, "displayName": u.display_name, "username": u.username, "personal": u.is_personal()}))
        .collect();
    let drives: Vec<Value> = w
        .drives
        .values()
        .map(|d| json!({"id": d.id, "name": d.name, "driveType": d.drive_type.as_str(), "members": d.members}))
        .collect();
    Json(json!({
        "authority": shared.base,
        "graph": shared.graph_url(),
        "users": users,
        "drives": drives,
        "connectedSockets": shared.push.connected(),
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Op {
    Upload,
    Edit,
    CreateFolder,
    Rename,
    Move,
    Delete,
}

#[derive(Deserialize)]
struct MutateBody {
    user: String,
    drive: String,
    op: Op,
    path: String,
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    new_name: Option<String>,
    #[serde(default)]
    new_parent: Option<String>,
}

async fn mutate(State(shared): State<Arc<Shared>>, Json(b): Json<MutateBody>) -> Reply {
    let h = handle(shared);
    let content = b.content.unwrap_or_default().into_bytes();
    let missing = |what: &'static str| Failure(EmulatorError::InvalidOperation(what));
    let id = match b.op {
        Op::Upload => h.upload(&b.user, &b.drive, &b.path, content),
        Op::Edit => h.edit(&b.user, &b.drive, &b.path, content),
        Op::CreateFolder => h.create_folder(&b.user, &b.drive, &b.path),
        Op::Rename => h.rename(
            &b.user,
            &b.drive,
            &b.path,
            b.new_name
                .as_deref()
                .ok_or_else(|| missing("new_name is required"))?,
        ),
        Op::Move => h.move_item(
            &b.user,
            &b.drive,
            &b.path,
            b.new_parent
                .as_deref()
                .ok_or_else(|| missing("new_parent is required"))?,
        ),
        Op::Delete => h.delete(&b.user, &b.drive, &b.path),
    }
    .map_err(Failure)?;
    Ok(Json(json!({"id": id})))
}

async fn pending(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(json!({"userCodes": handle(shared).pending_user_codes()}))
}

#[derive(Deserialize)]
struct Decision {
    user_code: String,
    #[serde(default)]
    user: Option<String>,
}

async fn approve(State(shared): State<Arc<Shared>>, Json(b): Json<Decision>) -> Reply {
    let user = b
        .user
        .ok_or(Failure(EmulatorError::InvalidOperation("user is required")))?;
    handle(shared)
        .approve_device_code(&b.user_code, &user)
        .map_err(Failure)?;
    Ok(Json(json!({"approved": b.user_code})))
}

async fn decline(State(shared): State<Arc<Shared>>, Json(b): Json<Decision>) -> Reply {
    handle(shared)
        .decline_device_code(&b.user_code)
        .map_err(Failure)?;
    Ok(Json(json!({"declined": b.user_code})))
}

#[derive(Deserialize)]
struct TokensBody {
    user: String,
    #[serde(default)]
    scopes: Option<Vec<String>>,
}

async fn tokens(State(shared): State<Arc<Shared>>, Json(b): Json<TokensBody>) -> Reply {
    let h = handle(shared);
    let (access, refresh) = match b.scopes {
        Some(s) => {
            let s: Vec<&str> = s.iter().map(String::as_str).collect();
            h.issue_tokens_with_scopes(&b.user, &s)
        }
        None => h.issue_tokens(&b.user),
    }
    .map_err(Failure)?;
    Ok(Json(
        json!({"access_token": access, "refresh_token": refresh}),
    ))
}

async fn drop_sockets(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(json!({"dropped": handle(shared).drop_all_sockets()}))
}

#[derive(Deserialize)]
struct Switch {
    on: bool,
    #[serde(default)]
    user: Option<String>,
}

async fn stall_pings(State(shared): State<Arc<Shared>>, Json(b): Json<Switch>) -> Json<Value> {
    handle(shared).stall_pings(b.on);
    Json(json!({"stalled": b.on}))
}

#[derive(Deserialize)]
struct ThrottleBody {
    count: u32,
    status: ThrottleStatus,
    retry_after: u64,
}

async fn throttle(State(shared): State<Arc<Shared>>, Json(b): Json<ThrottleBody>) -> Json<Value> {
    handle(shared).throttle_next(b.count, b.status, Duration::from_secs(b.retry_after));
    Json(json!({"throttled": b.count}))
}

#[derive(Deserialize)]
struct Count {
    count: u32,
}

async fn fail(State(shared): State<Arc<Shared>>, Json(b): Json<Count>) -> Json<Value> {
    handle(shared).fail_next(b.count);
    Json(json!({"failing": b.count}))
}

#[derive(Deserialize)]
struct LatencyBody {
    ms: u64,
}

async fn latency(State(shared): State<Arc<Shared>>, Json(b): Json<LatencyBody>) -> Json<Value> {
    handle(shared).set_latency(Duration::from_millis(b.ms));
    Json(json!({"latencyMs": b.ms}))
}

async fn expire_urls(State(shared): State<Arc<Shared>>) -> Json<Value> {
    handle(shared).expire_notification_urls();
    Json(json!({"expired": true}))
}

#[derive(Deserialize, Default)]
struct InvalidateBody {
    #[serde(default)]
    drive: Option<String>,
    #[serde(default)]
    code: Option<ResyncCode>,
}

async fn invalidate_delta(
    State(shared): State<Arc<Shared>>,
    body: Option<Json<InvalidateBody>>,
) -> Reply {
    let b = body.map(|Json(b)| b).unwrap_or_default();
    let code = b.code.unwrap_or_default();
    handle(shared)
        .invalidate_delta_tokens(b.drive.as_deref(), code)
        .map_err(Failure)?;
    Ok(Json(json!({"code": code.as_str()})))
}

#[derive(Deserialize, Default)]
struct UserBody {
    #[serde(default)]
    user: Option<String>,
}

async fn revoke(State(shared): State<Arc<Shared>>, body: Option<Json<UserBody>>) -> Reply {
    let b = body.map(|Json(b)| b).unwrap_or_default();
    let n = handle(shared)
        .revoke_refresh_tokens(b.user.as_deref())
        .map_err(Failure)?;
    Ok(Json(json!({"revoked": n})))
}

async fn expire_access(State(shared): State<Arc<Shared>>) -> Json<Value> {
    handle(shared).expire_access_tokens();
    Json(json!({"expired": true}))
}

async fn not_supported(State(shared): State<Arc<Shared>>, Json(b): Json<Switch>) -> Reply {
    handle(shared)
        .set_socketio_not_supported(b.user.as_deref(), b.on)
        .map_err(Failure)?;
    Ok(Json(json!({"notSupported": b.on, "user": b.user})))
}

async fn clear(State(shared): State<Arc<Shared>>) -> Json<Value> {
    handle(shared).clear_faults();
    Json(json!({"cleared": true}))
}

fn timing_json(t: &PushTiming) -> Json<Value> {
    Json(json!({
        "subscription_lifetime_ms": t.subscription_lifetime.as_millis() as u64,
        "coalescing_ms": t.coalescing_delay.as_millis() as u64,
        "realistic": t.realistic,
        "delay_min_ms": t.realistic_delay_min.as_millis() as u64,
        "delay_max_ms": t.realistic_delay_max.as_millis() as u64,
    }))
}

/// Push timings to change; fields left out keep their value.
#[derive(Deserialize)]
struct TimingBody {
    #[serde(default)]
    subscription_lifetime_ms: Option<u64>,
    #[serde(default)]
    coalescing_ms: Option<u64>,
    #[serde(default)]
    realistic: Option<bool>,
    #[serde(default)]
    delay_min_ms: Option<u64>,
    #[serde(default)]
    delay_max_ms: Option<u64>,
}

async fn push_timing(State(shared): State<Arc<Shared>>) -> Json<Value> {
    timing_json(&handle(shared).push_timing())
}

async fn set_push_timing(
    State(shared): State<Arc<Shared>>,
    Json(b): Json<TimingBody>,
) -> Json<Value> {
    let h = handle(shared);
    let mut t = h.push_timing();
    let ms = Duration::from_millis;
    if let Some(v) = b.subscription_lifetime_ms {
        t.subscription_lifetime = ms(v);
    }
    if let Some(v) = b.coalescing_ms {
        t.coalescing_delay = ms(v);
    }
    if let Some(v) = b.realistic {
        t.realistic = v;
    }
    if let Some(v) = b.delay_min_ms {
        t.realistic_delay_min = ms(v);
    }
    if let Some(v) = b.delay_max_ms {
        t.realistic_delay_max = ms(v);
    }
    t.realistic_delay_max = t.realistic_delay_max.max(t.realistic_delay_min);
    h.set_push_timing(t);
    timing_json(&t)
}
