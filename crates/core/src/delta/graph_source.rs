//! [`TargetSource`] over the Graph client: maps Graph's wire driveItems into classifier input and
//! `GraphError` into the engine's `SourceError`.
//!
//! This is the only place where delta and push meet Graph's wire types, so the rest of the engine
//! stays testable without HTTP. It must never retry anything itself (the Graph client already
//! applies the one retry policy) and never put a link or token into an error.

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use super::source::{DeltaPage, PushSubscription, SourceError, TargetSource};
use crate::classify::DeltaItem;
use crate::graph::wire::DriveItem;
use crate::graph::{self, GraphClient, GraphError, delta_path};
use crate::model::TargetSpec;

/// One target of one account, through that account's Graph client.
#[derive(Debug, Clone)]
pub struct GraphTargetSource {
    graph: GraphClient,
    spec: TargetSpec,
    /// Ends in-flight requests when the target stops.
    cancel: CancellationToken,
}

impl GraphTargetSource {
    pub fn new(graph: GraphClient, spec: TargetSpec, cancel: CancellationToken) -> Self {
        Self {
            graph,
            spec,
            cancel,
        }
    }
}

/// Graph's wire item → what the classifier needs.
pub fn delta_item(item: DriveItem) -> DeltaItem {
    let by = item.last_modified_by.as_ref();
    let by_user = by.and_then(|b| b.user.as_ref());
    DeltaItem {
        is_folder: item.is_folder(),
        is_root: item.is_root(),
        deleted: item.is_deleted(),
        parent_id: item.parent_id().map(str::to_owned),
        drive_id: item.drive_id().map(str::to_owned),
        parent_path: item.parent_reference.as_ref().and_then(|p| p.path.clone()),
        modified_by_id: by_user.and_then(|u| u.id.clone()),
        modified_by_name: by.and_then(|b| b.display_name()).map(str::to_owned),
        modified_at: item.last_modified_date_time,
        id: item.id,
        name: item.name,
        ctag: item.c_tag,
        etag: item.e_tag,
        web_url: item.web_url,
    }
}

/// Graph's errors in the terms delta and push act on.
pub fn source_error(e: GraphError) -> SourceError {
    match e {
        GraphError::Throttled { retry_after } => SourceError::Throttled { retry_after },
        GraphError::NeedsSignIn => SourceError::NeedsSignIn,
        GraphError::ResyncRequired { code, location } => {
            SourceError::ResyncRequired { code, location }
        }
        GraphError::PushUnsupported => SourceError::PushUnsupported,
        GraphError::Cancelled => SourceError::Cancelled,
        e if e.is_transient() => SourceError::Unavailable {
            reason: e.to_string(),
        },
        e => SourceError::Rejected {
            reason: e.to_string(),
        },
    }
}

fn page(p: graph::DeltaPage) -> DeltaPage {
    DeltaPage {
        items: p.items.into_iter().map(delta_item).collect(),
        next_link: p.next_link,
        delta_link: p.delta_link,
    }
}

impl TargetSource for GraphTargetSource {
    fn subscribe(&self) -> BoxFuture<'_, Result<PushSubscription, SourceError>> {
        async move {
            let sub = self
                .graph
                .socket_io_subscription(&self.spec, &self.cancel)
                .await
                .map_err(source_error)?;
            Ok(PushSubscription {
                notification_url: sub.notification_url.expose().to_string(),
                expires_at: sub.expires_at,
            })
        }
        .boxed()
    }

    fn enumerate<'a>(
        &'a self,
        location: Option<&'a str>,
    ) -> BoxFuture<'a, Result<DeltaPage, SourceError>> {
        async move {
            let p = match location {
                Some(link) => self.graph.delta_page(link, &self.cancel).await,
                None => {
                    self.graph
                        .delta_page(&delta_path(&self.spec), &self.cancel)
                        .await
                }
            };
            p.map(page).map_err(source_error)
        }
        .boxed()
    }

    fn page<'a>(&'a self, link: &'a str) -> BoxFuture<'a, Result<DeltaPage, SourceError>> {
        async move {
            self.graph
                .delta_page(link, &self.cancel)
                .await
                .map(page)
                .map_err(source_error)
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_items_map_to_classifier_input() {
        let item: DriveItem = serde_json::from_value(serde_json::json!({
            "id": "01ABC",
            "name": "Budget.xlsx",
            "eTag": "\"{X},2\"",
            "cTag": "\"c:{X},2\"",
            "webUrl": "https://contoso-my.sharepoint.com/x",
            "lastModifiedDateTime": "2026-03-01T10:00:00Z",
            "lastModifiedBy": {"user": {"id": "u-1", "displayName": "Olga"}},
            "parentReference": {"driveId": "b!d", "id": "01PARENT", "path": "/drive/root:/Finance"},
            "file": {"mimeType": "application/vnd.ms-excel"}
        }))
        .unwrap();
        let d = delta_item(item);
        assert_eq!(d.id, "01ABC");
        assert_eq!(d.parent_id.as_deref(), Some("01PARENT"));
        assert_eq!(d.drive_id.as_deref(), Some("b!d"));
        assert_eq!(d.parent_path.as_deref(), Some("/drive/root:/Finance"));
        assert_eq!(d.modified_by_id.as_deref(), Some("u-1"));
        assert_eq!(d.modified_by_name.as_deref(), Some("Olga"));
        assert!(!d.is_folder && !d.deleted && !d.is_root);

        let gone: DriveItem = serde_json::from_value(serde_json::json!({
            "id": "01DEL", "deleted": {"state": "deleted"}, "parentReference": {"id": "01P"}
        }))
        .unwrap();
        let d = delta_item(gone);
        assert!(d.deleted);
        assert_eq!(d.name, None);
    }

    #[test]
    fn graph_errors_map_to_engine_terms() {
        assert_eq!(
            source_error(GraphError::ResyncRequired {
                code: "resyncRequired".into(),
                location: Some("https://g/next".into()),
            }),
            SourceError::ResyncRequired {
                code: "resyncRequired".into(),
                location: Some("https://g/next".into()),
            }
        );
        assert_eq!(
            source_error(GraphError::PushUnsupported),
            SourceError::PushUnsupported
        );
        assert!(matches!(
            source_error(GraphError::Timeout),
            SourceError::Unavailable { .. }
        ));
        assert!(matches!(
            source_error(GraphError::AccessDenied),
            SourceError::Rejected { .. }
        ));
    }
}
