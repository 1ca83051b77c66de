//! `…/subscriptions/socketIo` on a drive's root or a library's list (docs/PROTOCOL.md §2.1),
//! answered by `push`. It must never subscribe to anything but a whole drive the caller may read.

use axum::response::Response;

use super::drive::resolve_drive;
use super::route::{DriveSel, ItemBase};
use super::{Call, READ_SCOPES, json_ok, require};
use crate::graph_error::GraphError;

/// `GET /drives/{id}/list/subscriptions/socketIo`
pub(super) fn list_socket_io(call: &Call<'_>, sel: &DriveSel) -> Result<Response, GraphError> {
    call.get_only()?;
    require(&call.grant, READ_SCOPES)?;
    let drive = resolve_drive(&call.shared.lock_world(), call.user(), sel)?;
    crate::push::subscribe(call.shared, &call.grant, &drive).map(json_ok)
}

/// `GET …/root/subscriptions/socketIo` for a drive already resolved and readable.
pub(super) fn root_socket_io(
    call: &Call<'_>,
    drive_id: &str,
    base: &ItemBase,
    path: Option<&str>,
) -> Result<Response, GraphError> {
    call.get_only()?;
    if *base != ItemBase::Root || path.is_some() {
        return Err(GraphError::InvalidRequest(
            "Subscriptions are only supported on the root of a drive.".into(),
        ));
    }
    crate::push::subscribe(call.shared, &call.grant, drive_id).map(json_ok)
}
