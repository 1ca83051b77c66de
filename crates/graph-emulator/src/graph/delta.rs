//! The delta function on a drive's root (`root/delta`, `root/delta(token='...')`, `?token=`),
//! answered by the crate's `delta` module. It must never accept delta on anything but a root.

use axum::response::Response;

use super::route::ItemBase;
use super::{Call, json_text_ok};
use crate::graph_error::GraphError;

/// `GET …/root/delta…` for a drive the caller may read.
pub(super) fn answer(
    call: &Call<'_>,
    drive_id: &str,
    base: &ItemBase,
    path: Option<&str>,
    token: Option<String>,
) -> Result<Response, GraphError> {
    call.get_only()?;
    if *base != ItemBase::Root || path.is_some() {
        return Err(GraphError::InvalidRequest(
            "Delta is only supported on the root of a drive.".into(),
        ));
    }
    let token = token.or_else(|| call.q.get("token").cloned());
    crate::delta::answer(call.shared, drive_id, token.as_deref()).map(json_text_ok)
}
