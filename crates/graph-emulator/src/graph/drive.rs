//! Drives in all their URL forms (`/me/drive`, `/drives/{id}`, group, site and user drives;
//! docs/PROTOCOL.md §2.1), sites, shares (`/shares/u!…`), and the item an URL addresses below a
//! drive. It decides which drive and item a request is about and must never let a user reach a
//! drive without access.

use axum::http::Method;
use axum::response::Response;
use base64::Engine as _;
use serde_json::json;

use super::route::{Action, DriveSel, ItemBase, decode};
use super::{Call, READ_SCOPES, items, json_ok, require};
use crate::graph_error::GraphError;
use crate::store::World;
use crate::wire;

/// `GET /sites/{id}`
pub(super) fn site(call: &Call<'_>, site: &str) -> Result<Response, GraphError> {
    call.get_only()?;
    require(&call.grant, READ_SCOPES)?;
    let graph = call.shared.graph_url();
    let base = &call.shared.base;
    let user = call.user();
    let w = call.shared.lock_world();
    let s = w.sites.get(site).ok_or(GraphError::ItemNotFound)?;
    if !s.lists.iter().any(|(_, d)| w.can_access(user, d)) {
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

/// `GET` of a drive in any of its URL forms.
pub(super) fn drive(call: &Call<'_>, sel: &DriveSel) -> Result<Response, GraphError> {
    call.get_only()?;
    require(&call.grant, READ_SCOPES)?;
    let graph = call.shared.graph_url();
    let w = call.shared.lock_world();
    let d = resolve_drive(&w, call.user(), sel)?;
    let mut v = wire::drive_json(
        &call.shared.base,
        &w,
        w.drives.get(&d).ok_or(GraphError::ItemNotFound)?,
    );
    v["@odata.context"] = json!(format!("{graph}/$metadata#drives/$entity"));
    Ok(json_ok(v))
}

/// `/shares/{id}/driveItem…`: the shared item, if the caller may access its drive.
pub(super) async fn share(
    call: &Call<'_>,
    id: &str,
    action: Action,
) -> Result<Response, GraphError> {
    require(&call.grant, READ_SCOPES)?;
    let item = {
        let w = call.shared.lock_world();
        let (drive, item) = resolve_share(&w, &call.shared.base, id)?;
        if !w.can_access(call.user(), &drive) {
            return Err(GraphError::AccessDenied);
        }
        item
    };
    items::act(call, item, None, action).await
}

/// An item addressed below a drive (by id or by root, optionally by path), and what to do to it.
pub(super) async fn item(
    call: &Call<'_>,
    drive: &DriveSel,
    item_base: &ItemBase,
    path: Option<String>,
    action: Action,
) -> Result<Response, GraphError> {
    require(&call.grant, READ_SCOPES)?;
    let (drive_id, start) = {
        let w = call.shared.lock_world();
        let d = resolve_drive(&w, call.user(), drive)?;
        let start = match item_base {
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
    let is_upload = *call.method == Method::PUT && action == Action::Content;
    match action {
        Action::Delta(token) => {
            return super::delta::answer(call, &drive_id, item_base, path.as_deref(), token);
        }
        Action::SocketIo => {
            return super::subscriptions::root_socket_io(
                call,
                &drive_id,
                item_base,
                path.as_deref(),
            );
        }
        _ => {}
    }
    // Uploads by path may name an item that does not exist yet, and honour
    // conflictBehavior when it does.
    if is_upload {
        if let Some(p) = path {
            return items::act(call, start, Some(p), action).await;
        }
    }
    let target = {
        let w = call.shared.lock_world();
        match &path {
            None => Some(start.clone()),
            Some(p) => w.resolve_below(&start, p).ok(),
        }
    };
    match target {
        Some(id) => items::act(call, id, None, action).await,
        None if is_upload => items::act(call, start, Some(path.unwrap_or_default()), action).await,
        None => Err(GraphError::ItemNotFound),
    }
}

/// Resolves a drive selector to a drive id the user may access (403 otherwise, 404 unknown).
pub(super) fn resolve_drive(w: &World, user: &str, sel: &DriveSel) -> Result<String, GraphError> {
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
