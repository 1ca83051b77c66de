//! Graph's drive subset under `/v1.0`: `/me`, drives in all their URL forms, items by id and by
//! path, children, uploads and mutations, delta, shares and the socketIo endpoint.
//!
//! One dispatcher authenticates the request, parses the raw path (`route`) and hands it to the
//! resource it names: `me` (the signed-in user), `drive` (drives, sites, shares and the item an
//! URL addresses), `items` (what can be done to an item), `delta` and `subscriptions`. Every
//! response shape comes from `wire`, every error from `GraphError`; this module must never answer
//! a request it could not authenticate, and never reveal a drive to a user without access.

mod delta;
mod drive;
mod items;
mod me;
mod route;
mod subscriptions;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::Shared;
use crate::graph_error::GraphError;
use crate::identity::{AccessGrant, TokenProblem, bearer};
use crate::store::{DriveOwner, World};
use route::Route;

const READ_SCOPES: &[&str] = &[
    "files.read",
    "files.readwrite",
    "files.read.all",
    "files.readwrite.all",
    "sites.read.all",
    "sites.readwrite.all",
];
const WRITE_SCOPES: &[&str] = &[
    "files.readwrite",
    "files.readwrite.all",
    "sites.readwrite.all",
];
const USER_SCOPES: &[&str] = &[
    "user.read",
    "user.readwrite",
    "user.readbasic.all",
    "user.read.all",
    "directory.read.all",
];

fn has_scope(grant: &AccessGrant, wanted: &[&str]) -> bool {
    grant
        .scopes
        .iter()
        .any(|s| wanted.contains(&s.to_ascii_lowercase().as_str()))
}

/// One authenticated request, as the resource handlers see it.
struct Call<'a> {
    shared: &'a Arc<Shared>,
    method: &'a Method,
    grant: AccessGrant,
    q: HashMap<String, String>,
    body: Bytes,
}

impl Call<'_> {
    fn user(&self) -> &str {
        &self.grant.user
    }

    fn get_only(&self) -> Result<(), GraphError> {
        if *self.method == Method::GET {
            Ok(())
        } else {
            Err(GraphError::MethodNotAllowed(self.method.to_string()))
        }
    }
}

fn query_map(uri: &Uri) -> HashMap<String, String> {
    uri.query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default()
}

/// Entry point for every request under `/v1.0/`.
pub async fn dispatch(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let client_request_id = headers
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let echo = client_request_id.clone();
    let ids = crate::graph_error::RequestIds {
        request_id: request_id.clone(),
        client_request_id: client_request_id.unwrap_or_else(|| request_id.clone()),
    };
    let mut resp = crate::graph_error::REQUEST_IDS
        .scope(ids, async move {
            match handle(&shared, &method, &uri, &headers, body).await {
                Ok(r) => r,
                Err(e) => e.into_response(),
            }
        })
        .await;
    let h = resp.headers_mut();
    h.insert(
        "request-id",
        request_id.parse().expect("uuid is a header value"),
    );
    if let Some(c) = echo.and_then(|c| c.parse().ok()) {
        h.insert("client-request-id", c);
    }
    resp
}

async fn handle(
    shared: &Arc<Shared>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, GraphError> {
    let token = bearer(headers).ok_or(GraphError::TokenMissing)?;
    let grant = shared
        .lock_auth()
        .check_access(token)
        .map_err(|p| match p {
            TokenProblem::Expired => GraphError::TokenExpired,
            TokenProblem::Invalid => GraphError::TokenInvalid,
        })?;
    let raw = uri.path().strip_prefix("/v1.0").unwrap_or(uri.path());
    let route = route::parse(raw)?;
    let call = Call {
        shared,
        method,
        grant,
        q: query_map(uri),
        body,
    };
    match route {
        Route::Me => me::me(&call),
        Route::MeDrives => me::my_drives(&call),
        Route::Site(site) => drive::site(&call, &site),
        Route::Drive(sel) => drive::drive(&call, &sel),
        Route::DriveListSocketIo(sel) => subscriptions::list_socket_io(&call, &sel),
        Route::Share { id, action } => drive::share(&call, &id, action).await,
        Route::Item {
            drive,
            base,
            path,
            action,
        } => drive::item(&call, &drive, &base, path, action).await,
    }
}

fn require(grant: &AccessGrant, scopes: &[&str]) -> Result<(), GraphError> {
    if has_scope(grant, scopes) {
        Ok(())
    } else {
        Err(GraphError::AccessDenied)
    }
}

fn json_ok(v: Value) -> Response {
    (StatusCode::OK, axum::Json(v)).into_response()
}

/// An answer already serialized (delta pages are kept as JSON text).
fn json_text_ok(body: String) -> Response {
    (
        StatusCode::OK,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

fn json_status(status: StatusCode, v: Value) -> Response {
    (status, axum::Json(v)).into_response()
}

/// A request body that must be JSON, with Graph's answer when it is not.
fn json_body(body: &[u8]) -> Result<Value, GraphError> {
    serde_json::from_slice(body)
        .map_err(|_| GraphError::InvalidRequest("The request body is not valid JSON.".into()))
}

/// Orders items so that every parent present comes before its children, otherwise by change.
pub fn parents_first(w: &World, mut ids: Vec<String>) -> Vec<String> {
    ids.sort_by_key(|id| w.items.get(id).map_or(0, |i| i.seq));
    let set: HashSet<&String> = ids.iter().collect();
    let mut done: HashSet<String> = HashSet::new();
    let mut out = Vec::with_capacity(ids.len());
    for id in &ids {
        let mut chain = vec![id.clone()];
        let mut cur = w.items.get(id).and_then(|i| i.parent.clone());
        while let Some(p) = cur {
            if set.contains(&p) && !done.contains(&p) {
                chain.push(p.clone());
            }
            cur = w.items.get(&p).and_then(|i| i.parent.clone());
        }
        for c in chain.into_iter().rev() {
            if done.insert(c.clone()) {
                out.push(c);
            }
        }
    }
    out
}

/// Owner's display name for the page (used by `web`).
pub fn owner_label(w: &World, owner: &DriveOwner) -> String {
    match owner {
        DriveOwner::User(u) => w
            .users
            .get(u)
            .map(|u| u.display_name.clone())
            .unwrap_or_default(),
        DriveOwner::Group(g) => w
            .groups
            .get(g)
            .map(|g| g.display_name.clone())
            .unwrap_or_default(),
        DriveOwner::Site(s) => w
            .sites
            .get(s)
            .map(|s| s.display_name.clone())
            .unwrap_or_default(),
    }
}
