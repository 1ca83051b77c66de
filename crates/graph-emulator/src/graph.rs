//! Graph's drive subset under `/v1.0`: `/me`, drives in all their URL forms, items by id and by
//! path, children, uploads and mutations, delta, shares and the socketIo endpoint.
//!
//! Graph addresses items with `root:/a/b.txt:` and functions like `delta(token='...')`, which
//! routers do not express, so one dispatcher parses the raw path. Every response shape comes from
//! `wire`, every error from `GraphError`; this module must never answer a request it could not
//! authenticate, and never reveal a drive to a user without access.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use percent_encoding::percent_decode_str;
use serde_json::{Value, json};

use crate::Shared;
use crate::graph_error::GraphError;
use crate::identity::{AccessGrant, TokenProblem, bearer};
use crate::store::{ConflictBehavior, DriveOwner, World, split_parent};
use crate::wire::{self, ItemView};

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

/// Which drive a URL names.
#[derive(Clone, Debug, PartialEq, Eq)]
enum DriveSel {
    Me,
    Id(String),
    Group(String),
    SiteList(String, String),
    SiteDefault(String),
    User(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum ItemBase {
    Root,
    Id(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Action {
    Item,
    Children,
    Content,
    Delta(Option<String>),
    SocketIo,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Route {
    Me,
    MeDrives,
    Site(String),
    Drive(DriveSel),
    /// `/drives/{id}/list/subscriptions/socketIo`
    DriveListSocketIo(DriveSel),
    Item {
        drive: DriveSel,
        base: ItemBase,
        path: Option<String>,
        action: Action,
    },
    Share {
        id: String,
        action: Action,
    },
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// Parses the part of the path after `/v1.0/`.
fn parse(raw: &str) -> Result<Route, GraphError> {
    // Split `…/root:/a/b.txt:/content` into head, item path and tail.
    let (head, item_path, tail) = match raw.find(':') {
        None => (raw, None, ""),
        Some(i) => {
            let after = &raw[i + 1..];
            match after.find(':') {
                Some(j) => (&raw[..i], Some(decode(&after[..j])), &after[j + 1..]),
                None => (&raw[..i], Some(decode(after)), ""),
            }
        }
    };
    let head_segs: Vec<String> = head
        .split('/')
        .filter(|s| !s.is_empty())
        .map(decode)
        .collect();
    let tail_segs: Vec<String> = tail
        .split('/')
        .filter(|s| !s.is_empty())
        .map(decode)
        .collect();
    let h: Vec<&str> = head_segs.iter().map(String::as_str).collect();
    let t: Vec<&str> = tail_segs.iter().map(String::as_str).collect();
    let unknown = |s: &str| GraphError::UnknownSegment(s.to_string());

    let (drive, rest): (DriveSel, &[&str]) = match h.as_slice() {
        ["me"] if item_path.is_none() => return Ok(Route::Me),
        ["me", "drives"] if item_path.is_none() => return Ok(Route::MeDrives),
        ["me", "drive", rest @ ..] => (DriveSel::Me, rest),
        ["drives", id, rest @ ..] => (DriveSel::Id((*id).to_string()), rest),
        ["groups", g, "drive", rest @ ..] => (DriveSel::Group((*g).to_string()), rest),
        ["sites", s, "lists", l, "drive", rest @ ..] => {
            (DriveSel::SiteList((*s).to_string(), (*l).to_string()), rest)
        }
        ["sites", s, "drive", rest @ ..] => (DriveSel::SiteDefault((*s).to_string()), rest),
        ["sites", s] if item_path.is_none() => return Ok(Route::Site((*s).to_string())),
        ["users", u, "drive", rest @ ..] => (DriveSel::User((*u).to_string()), rest),
        ["shares", id, "driveItem" | "root", rest @ ..] if item_path.is_none() => {
            return Ok(Route::Share {
                id: (*id).to_string(),
                action: parse_action(rest)?,
            });
        }
        // Name the segment after `me` that Graph would not know.
        ["me", second, ..] => return Err(unknown(second)),
        [first, ..] => return Err(unknown(first)),
        [] => return Err(unknown("")),
    };
    let (base, after): (ItemBase, &[&str]) = match rest {
        [] if item_path.is_none() => return Ok(Route::Drive(drive)),
        ["list", "subscriptions", "socketIo"] if item_path.is_none() => {
            return Ok(Route::DriveListSocketIo(drive));
        }
        ["root", after @ ..] => (ItemBase::Root, after),
        ["items", id, after @ ..] => (ItemBase::Id((*id).to_string()), after),
        [first, ..] => return Err(unknown(first)),
        [] => return Err(unknown("")),
    };
    let action = match &item_path {
        Some(_) if !after.is_empty() => return Err(unknown(after[0])),
        Some(_) => parse_action(&t)?,
        None => parse_action(after)?,
    };
    let path = item_path
        .map(|p| p.trim_matches('/').to_string())
        .filter(|p| !p.is_empty());
    Ok(Route::Item {
        drive,
        base,
        path,
        action,
    })
}

fn parse_action(segs: &[&str]) -> Result<Action, GraphError> {
    match segs {
        [] => Ok(Action::Item),
        ["children"] => Ok(Action::Children),
        ["content"] => Ok(Action::Content),
        ["delta"] | ["delta()"] => Ok(Action::Delta(None)),
        ["subscriptions", "socketIo"] => Ok(Action::SocketIo),
        [f] if f.starts_with("delta(") && f.ends_with(')') => {
            let inner = &f[6..f.len() - 1];
            let token = inner
                .strip_prefix("token=")
                .map(|v| v.trim_matches('\'').to_string())
                .ok_or_else(|| {
                    GraphError::InvalidRequest(format!("Invalid function parameters in '{f}'."))
                })?;
            Ok(Action::Delta(Some(token)))
        }
        [first, ..] => Err(GraphError::UnknownSegment((*first).to_string())),
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
    let route = parse(raw)?;
    let q = query_map(uri);
    let graph = shared.graph_url();
    let base = shared.base.clone();
    let user = grant.user.clone();

    let get_only = |m: &Method| {
        if m == Method::GET {
            Ok(())
        } else {
            Err(GraphError::MethodNotAllowed(m.to_string()))
        }
    };
    match route {
        Route::Me => {
            get_only(method)?;
            if !has_scope(&grant, USER_SCOPES) {
                return Err(GraphError::InsufficientPrivileges);
            }
            let w = shared.lock_world();
            let u = w.user(&user).map_err(|_| GraphError::ItemNotFound)?;
            Ok(json_ok(wire::user_json(&graph, u)))
        }
        Route::MeDrives => {
            get_only(method)?;
            require(&grant, READ_SCOPES)?;
            let w = shared.lock_world();
            let value: Vec<Value> = w
                .own_drive(&user)
                .map(|d| wire::drive_json(&base, &w, d))
                .into_iter()
                .collect();
            Ok(json_ok(
                json!({"@odata.context": format!("{graph}/$metadata#drives"), "value": value}),
            ))
        }
        Route::Site(site) => {
            get_only(method)?;
            require(&grant, READ_SCOPES)?;
            let w = shared.lock_world();
            let s = w.sites.get(&site).ok_or(GraphError::ItemNotFound)?;
            if !s.lists.iter().any(|(_, d)| w.can_access(&user, d)) {
                return Err(GraphError::AccessDenied);
            }
            let created = s
                .lists
                .first()
                .and_then(|(_, d)| w.drives.get(d))
                .and_then(|d| w.items.get(&d.root))
                .map(|r| wire::date(&r.created_at));
            Ok(json_ok(json!({
                "@odata.context": format!("{graph}/$metadata#sites/$entity"),
                "id": s.id,
                "name": s.name,
                "displayName": s.display_name,
                "createdDateTime": created,
                "webUrl": format!("{base}/sites/{}", wire::encode_path(&s.name)),
            })))
        }
        Route::Drive(sel) => {
            get_only(method)?;
            require(&grant, READ_SCOPES)?;
            let w = shared.lock_world();
            let d = resolve_drive(&w, &user, &sel)?;
            let mut v =
                wire::drive_json(&base, &w, w.drives.get(&d).ok_or(GraphError::ItemNotFound)?);
            v["@odata.context"] = json!(format!("{graph}/$metadata#drives/$entity"));
            Ok(json_ok(v))
        }
        Route::DriveListSocketIo(sel) => {
            get_only(method)?;
            require(&grant, READ_SCOPES)?;
            let drive = resolve_drive(&shared.lock_world(), &user, &sel)?;
            crate::push::subscribe(shared, &grant, &drive).map(json_ok)
        }
        Route::Share { id, action } => {
            require(&grant, READ_SCOPES)?;
            let item = {
                let w = shared.lock_world();
                let (drive, item) = resolve_share(&w, &base, &id)?;
                if !w.can_access(&user, &drive) {
                    return Err(GraphError::AccessDenied);
                }
                item
            };
            item_action(
                shared, method, &grant, &q, headers, body, item, None, action,
            )
            .await
        }
        Route::Item {
            drive,
            base: item_base,
            path,
            action,
        } => {
            require(&grant, READ_SCOPES)?;
            let (drive_id, start) = {
                let w = shared.lock_world();
                let d = resolve_drive(&w, &user, &drive)?;
                let start = match &item_base {
                    ItemBase::Root => w.drives[&d].root.clone(),
                    ItemBase::Id(id) => {
                        let it = w.live_item(id).ok_or(GraphError::ItemNotFound)?;
                        if it.drive != d {
                            return Err(GraphError::ItemNotFound);
                        }
                        it.id.clone()
                    }
                };
                (d, start)
            };
            if let Action::Delta(token) = &action {
                get_only(method)?;
                if item_base != ItemBase::Root || path.is_some() {
                    return Err(GraphError::InvalidRequest(
                        "Delta is only supported on the root of a drive.".into(),
                    ));
                }
                let token = token.clone().or_else(|| q.get("token").cloned());
                return crate::delta::answer(shared, &drive_id, token.as_deref()).map(json_text_ok);
            }
            if action == Action::SocketIo {
                get_only(method)?;
                if item_base != ItemBase::Root || path.is_some() {
                    return Err(GraphError::InvalidRequest(
                        "Subscriptions are only supported on the root of a drive.".into(),
                    ));
                }
                return crate::push::subscribe(shared, &grant, &drive_id).map(json_ok);
            }
            // Uploads by path may name an item that does not exist yet, and honour
            // conflictBehavior when it does.
            if *method == Method::PUT && action == Action::Content {
                if let Some(p) = path {
                    return item_action(
                        shared,
                        method,
                        &grant,
                        &q,
                        headers,
                        body,
                        start,
                        Some(p),
                        action,
                    )
                    .await;
                }
            }
            let target = {
                let w = shared.lock_world();
                match &path {
                    None => Some(start.clone()),
                    Some(p) => w.resolve_below(&start, p).ok(),
                }
            };
            match target {
                Some(id) => {
                    item_action(shared, method, &grant, &q, headers, body, id, None, action).await
                }
                None if *method == Method::PUT && action == Action::Content => {
                    let p = path.unwrap_or_default();
                    item_action(
                        shared,
                        method,
                        &grant,
                        &q,
                        headers,
                        body,
                        start,
                        Some(p),
                        action,
                    )
                    .await
                }
                None => Err(GraphError::ItemNotFound),
            }
        }
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

/// Graph's answer to an upload or folder creation: the item as it now is, with 201 when the
/// request created it and 200 when it replaced or reused an existing one.
fn created_or_replaced(
    shared: &Shared,
    base: &str,
    id: &str,
    created: bool,
) -> Result<Response, GraphError> {
    let w = shared.lock_world();
    let it = w.live_item(id).ok_or(GraphError::ItemNotFound)?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(json_status(
        status,
        wire::item_json(base, &w, it, ItemView::Full),
    ))
}

/// Resolves a drive selector to a drive id the user may access (403 otherwise, 404 unknown).
fn resolve_drive(w: &World, user: &str, sel: &DriveSel) -> Result<String, GraphError> {
    let id = match sel {
        DriveSel::Me => w
            .own_drive(user)
            .map(|d| d.id.clone())
            .ok_or(GraphError::ItemNotFound)?,
        DriveSel::Id(id) => w.drive(id)?.id.clone(),
        DriveSel::Group(g) => w
            .groups
            .get(g)
            .and_then(|g| g.drive.clone())
            .ok_or(GraphError::ItemNotFound)?,
        DriveSel::SiteList(s, l) => w
            .sites
            .get(s)
            .and_then(|s| s.lists.iter().find(|(lid, _)| lid.eq_ignore_ascii_case(l)))
            .map(|(_, d)| d.clone())
            .ok_or(GraphError::ItemNotFound)?,
        DriveSel::SiteDefault(s) => w
            .sites
            .get(s)
            .and_then(|s| s.lists.first())
            .map(|(_, d)| d.clone())
            .ok_or(GraphError::ItemNotFound)?,
        DriveSel::User(u) => {
            let uid = w.user(u).map_err(|_| GraphError::ItemNotFound)?.id.clone();
            w.own_drive(&uid)
                .map(|d| d.id.clone())
                .ok_or(GraphError::ItemNotFound)?
        }
    };
    w.accessible_drive(user, &id)?;
    Ok(id)
}

/// Resolves `u!{base64url(url)}` to (drive, item) by matching webUrls.
fn resolve_share(w: &World, base: &str, share_id: &str) -> Result<(String, String), GraphError> {
    let encoded = share_id
        .strip_prefix("u!")
        .ok_or_else(|| GraphError::InvalidRequest("Only u! sharing ids are supported.".into()))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded.trim_end_matches('='))
        .map_err(|_| GraphError::InvalidRequest("The sharing id is not valid base64url.".into()))?;
    let url_text = String::from_utf8(bytes)
        .map_err(|_| GraphError::InvalidRequest("The sharing url is not UTF-8.".into()))?;
    let parsed = url::Url::parse(&url_text)
        .map_err(|_| GraphError::InvalidRequest("The sharing url is not a URL.".into()))?;
    let path = decode(parsed.path()).trim_end_matches('/').to_string();
    let _ = base;
    for d in w.drives.values() {
        let dp = d.web_path.trim_end_matches('/');
        let rest = if path.eq_ignore_ascii_case(dp) {
            Some(String::new())
        } else if path.len() > dp.len()
            && path[..dp.len()].eq_ignore_ascii_case(dp)
            && path.as_bytes()[dp.len()] == b'/'
        {
            Some(path[dp.len() + 1..].to_string())
        } else {
            None
        };
        if let Some(rest) = rest {
            let item = w
                .resolve_path(&d.id, &rest)
                .map_err(|_| GraphError::ItemNotFound)?;
            return Ok((d.id.clone(), item));
        }
    }
    Err(GraphError::ItemNotFound)
}

#[allow(clippy::too_many_arguments)]
async fn item_action(
    shared: &Arc<Shared>,
    method: &Method,
    grant: &AccessGrant,
    q: &HashMap<String, String>,
    _headers: &HeaderMap,
    body: Bytes,
    item: String,
    new_path: Option<String>,
    action: Action,
) -> Result<Response, GraphError> {
    let base = shared.base.clone();
    let graph = shared.graph_url();
    let user = grant.user.clone();
    match (method.clone(), action) {
        (Method::GET, Action::Item) => {
            let w = shared.lock_world();
            let it = w.live_item(&item).ok_or(GraphError::ItemNotFound)?;
            let mut v = wire::item_json(&base, &w, it, ItemView::Full);
            v["@odata.context"] = json!(format!(
                "{graph}/$metadata#drives('{}')/items/$entity",
                it.drive
            ));
            Ok(json_ok(v))
        }
        (Method::GET, Action::Children) => {
            let w = shared.lock_world();
            let it = w.live_item(&item).ok_or(GraphError::ItemNotFound)?;
            if !it.is_folder() {
                return Ok(json_ok(json!({"value": []})));
            }
            let top = q
                .get("$top")
                .and_then(|t| t.parse::<usize>().ok())
                .unwrap_or(shared.config.children_page_size)
                .max(1);
            let skip = q
                .get("$skiptoken")
                .and_then(|s| {
                    base64::engine::general_purpose::URL_SAFE_NO_PAD
                        .decode(s)
                        .ok()
                })
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|s| {
                    s.strip_prefix("skip.")
                        .and_then(|n| n.parse::<usize>().ok())
                })
                .unwrap_or(0);
            let children = w.children_of(&item);
            let page: Vec<Value> = children
                .iter()
                .skip(skip)
                .take(top)
                .map(|c| wire::item_json(&base, &w, c, ItemView::Full))
                .collect();
            let mut v = json!({
                "@odata.context": format!("{graph}/$metadata#drives('{}')/items('{}')/children", it.drive, it.id),
                "@odata.count": children.len(),
                "value": page,
            });
            if skip + top < children.len() {
                let tok = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(format!("skip.{}", skip + top));
                v["@odata.nextLink"] = json!(format!(
                    "{graph}/drives/{}/items/{}/children?$top={top}&$skiptoken={tok}",
                    it.drive, it.id
                ));
            }
            Ok(json_ok(v))
        }
        (Method::GET, Action::Content) => {
            let w = shared.lock_world();
            let it = w.live_item(&item).ok_or(GraphError::ItemNotFound)?;
            if it.is_folder() {
                return Err(GraphError::ItemNotFound);
            }
            let url = format!(
                "{base}/_emulator/download/{}/{}",
                wire::encode_path(&it.drive),
                it.id
            );
            Ok((StatusCode::FOUND, [(header::LOCATION, url)]).into_response())
        }
        (Method::PUT, Action::Content) => {
            require(grant, WRITE_SCOPES)?;
            let conflict = match q.get("@microsoft.graph.conflictBehavior") {
                None => ConflictBehavior::Replace,
                Some(c) => ConflictBehavior::parse(c).ok_or_else(|| {
                    GraphError::InvalidRequest(format!("Invalid conflict behavior '{c}'."))
                })?,
            };
            let content = body.to_vec();
            let (id, created) = shared.mutate(|w| match &new_path {
                Some(p) => {
                    let (parent_rel, name) = split_parent(p);
                    let drive = w
                        .live_item(&item)
                        .map(|i| i.drive.clone())
                        .ok_or(crate::EmulatorError::ItemNotFound(item.clone()))?;
                    w.accessible_drive(&user, &drive)?;
                    let mut parent = item.clone();
                    for part in parent_rel.split('/').filter(|s| !s.is_empty()) {
                        parent = match w.child_named(&parent, part) {
                            Some(c) => c.id.clone(),
                            None => {
                                w.create_folder(&user, &parent, part, ConflictBehavior::Fail)?
                                    .0
                            }
                        };
                    }
                    w.put_file(&user, &parent, name, content, conflict)
                }
                None => {
                    let it = w
                        .live_item(&item)
                        .ok_or(crate::EmulatorError::ItemNotFound(item.clone()))?;
                    if it.is_folder() {
                        return Err(crate::EmulatorError::InvalidOperation(
                            "cannot upload content to a folder",
                        ));
                    }
                    w.replace_content(&user, &item, content)
                        .map(|()| (item.clone(), false))
                }
            })?;
            created_or_replaced(shared, &base, &id, created)
        }
        (Method::POST, Action::Children) => {
            require(grant, WRITE_SCOPES)?;
            let v = json_body(&body)?;
            let name = v
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| GraphError::InvalidRequest("A name is required.".into()))?
                .to_string();
            if v.get("folder").is_none() {
                return Err(GraphError::InvalidRequest(
                    "Only folders can be created this way; upload files with PUT .../content."
                        .into(),
                ));
            }
            let conflict = match v
                .get("@microsoft.graph.conflictBehavior")
                .and_then(Value::as_str)
            {
                None => ConflictBehavior::Fail,
                Some(c) => ConflictBehavior::parse(c).ok_or_else(|| {
                    GraphError::InvalidRequest(format!("Invalid conflict behavior '{c}'."))
                })?,
            };
            let (id, created) =
                shared.mutate(|w| w.create_folder(&user, &item, &name, conflict))?;
            created_or_replaced(shared, &base, &id, created)
        }
        (Method::PATCH, Action::Item) => {
            require(grant, WRITE_SCOPES)?;
            let v = json_body(&body)?;
            let name = v.get("name").and_then(Value::as_str).map(str::to_string);
            let parent_ref = v.get("parentReference").cloned();
            shared.mutate(|w| {
                let drive = w
                    .live_item(&item)
                    .map(|i| i.drive.clone())
                    .ok_or(crate::EmulatorError::ItemNotFound(item.clone()))?;
                let new_parent = match &parent_ref {
                    None => None,
                    Some(p) => {
                        if let Some(id) = p.get("id").and_then(Value::as_str) {
                            Some(id.to_string())
                        } else if let Some(path) = p.get("path").and_then(Value::as_str) {
                            let rel = path.split_once("root:").map(|(_, r)| r).unwrap_or("");
                            Some(w.resolve_path(&drive, &decode(rel))?)
                        } else {
                            None
                        }
                    }
                };
                w.update(&user, &item, name.as_deref(), new_parent.as_deref())
            })?;
            let w = shared.lock_world();
            let it = w.live_item(&item).ok_or(GraphError::ItemNotFound)?;
            Ok(json_ok(wire::item_json(&base, &w, it, ItemView::Full)))
        }
        (Method::DELETE, Action::Item) => {
            require(grant, WRITE_SCOPES)?;
            shared.mutate(|w| w.delete(&user, &item))?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        (m, _) => Err(GraphError::MethodNotAllowed(m.to_string())),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_addressing_form() {
        let item = |drive, base, path: Option<&str>, action| Route::Item {
            drive,
            base,
            path: path.map(str::to_string),
            action,
        };
        assert_eq!(parse("/me").unwrap(), Route::Me);
        assert_eq!(parse("/me/drive").unwrap(), Route::Drive(DriveSel::Me));
        assert_eq!(
            parse("/me/drive/root:/Shared%20with%20team/a.txt:/content").unwrap(),
            item(
                DriveSel::Me,
                ItemBase::Root,
                Some("Shared with team/a.txt"),
                Action::Content
            )
        );
        assert_eq!(
            parse("/drives/b!x/items/01AB:/new.txt:/content").unwrap(),
            item(
                DriveSel::Id("b!x".into()),
                ItemBase::Id("01AB".into()),
                Some("new.txt"),
                Action::Content
            )
        );
        assert_eq!(
            parse("/drives/b!x/root/delta(token='abc')").unwrap(),
            item(
                DriveSel::Id("b!x".into()),
                ItemBase::Root,
                None,
                Action::Delta(Some("abc".into()))
            )
        );
        assert_eq!(
            parse("/drives/b!x/root/delta(token=%27abc%27)").unwrap(),
            item(
                DriveSel::Id("b!x".into()),
                ItemBase::Root,
                None,
                Action::Delta(Some("abc".into()))
            )
        );
        assert_eq!(
            parse("/sites/s1/lists/l1/drive/root/subscriptions/socketIo").unwrap(),
            item(
                DriveSel::SiteList("s1".into(), "l1".into()),
                ItemBase::Root,
                None,
                Action::SocketIo
            )
        );
        assert_eq!(
            parse("/drives/d/list/subscriptions/socketIo").unwrap(),
            Route::DriveListSocketIo(DriveSel::Id("d".into()))
        );
        assert_eq!(
            parse("/groups/g/drive/root/children").unwrap(),
            item(
                DriveSel::Group("g".into()),
                ItemBase::Root,
                None,
                Action::Children
            )
        );
        assert_eq!(
            parse("/me/drive/root:/Projects").unwrap(),
            item(DriveSel::Me, ItemBase::Root, Some("Projects"), Action::Item)
        );
        assert!(matches!(parse("/nope/x"), Err(GraphError::UnknownSegment(s)) if s == "nope"));
    }
}
