//! `/me` and `/me/drives`: the signed-in user and the drives they own. Only the caller's own
//! data: this module must never answer for another user.

use axum::response::Response;
use serde_json::{Value, json};

use super::{Call, READ_SCOPES, USER_SCOPES, has_scope, json_ok, require};
use crate::graph_error::GraphError;
use crate::wire;

/// `GET /me`
pub(super) fn me(call: &Call<'_>) -> Result<Response, GraphError> {
    call.get_only()?;
    if !has_scope(&call.grant, USER_SCOPES) {
        return Err(GraphError::InsufficientPrivileges);
    }
    let graph = call.shared.graph_url();
    let w = call.shared.lock_world();
    let u = w.user(call.user()).map_err(|_| GraphError::ItemNotFound)?;
    Ok(json_ok(wire::user_json(&graph, u)))
}

/// `GET /me/drives`
pub(super) fn my_drives(call: &Call<'_>) -> Result<Response, GraphError> {
    call.get_only()?;
    require(&call.grant, READ_SCOPES)?;
    let graph = call.shared.graph_url();
    let base = &call.shared.base;
    let w = call.shared.lock_world();
    let value: Vec<Value> = w
        .own_drive(call.user())
        .map(|d| wire::drive_json(base, &w, d))
        .into_iter()
        .collect();
    Ok(json_ok(
        json!({"@odata.context": format!("{graph}/$metadata#drives"), "value": value}),
    ))
}
