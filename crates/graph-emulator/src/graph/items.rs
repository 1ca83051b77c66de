//! What can be done to one item: read it, list its children, download, upload, create a
//! folder in it, rename or move it, delete it. Writes need a write scope; every change goes
//! through `Shared::mutate` so it is notified. It must never change an item without a write scope.

use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Value, json};

use super::route::{Action, decode};
use super::{Call, WRITE_SCOPES, json_body, json_ok, json_status, require};
use crate::Shared;
use crate::graph_error::GraphError;
use crate::store::{ConflictBehavior, split_parent};
use crate::wire::{self, ItemView};

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

/// Does `action` to `item` (or, for an upload by path, to `new_path` below it).
pub(super) async fn act(
    call: &Call<'_>,
    item: String,
    new_path: Option<String>,
    action: Action,
) -> Result<Response, GraphError> {
    let shared = call.shared;
    let grant = &call.grant;
    let q = &call.q;
    let body = &call.body;
    let base = shared.base.clone();
    let graph = shared.graph_url();
    let user = grant.user.clone();
    match (call.method.clone(), action) {
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
            let v = json_body(body)?;
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
            let v = json_body(body)?;
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
