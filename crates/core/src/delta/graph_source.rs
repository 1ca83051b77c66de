//! [`TargetSource`] over the Graph client: maps Graph's wire driveItems into classifier input and
//! `GraphError` into the engine's `SourceError`.
//!
//! This is the only place where delta and push meet Graph's wire types, so the rest of the engine
//! stays testable without HTTP. It must never retry anything itself (the Graph client already
//! applies the one retry policy) and never put a link or token into an error.
//!
//! It also decides which form of the socketIo resource a target subscribes: SharePoint libraries
//! and group drives by their drive id, which it resolves once and keeps in the history store, and
//! the target's own form when the service refuses that (`docs/PROTOCOL.md §2.1`, `§2.11`). It must
//! never retry a refused form within one run of the target, and never let a failed lookup or store
//! stop push altogether.

use std::sync::{Arc, Mutex};

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use super::source::{DeltaPage, PushSubscription, SourceError, TargetSource};
use crate::classify::DeltaItem;
use crate::graph::wire::DeltaEntry;
use crate::graph::{self, GraphClient, GraphError, Subscription, delta_path};
use crate::history::HistoryStore;
use crate::model::TargetSpec;

/// One target of one account, through that account's Graph client.
#[derive(Debug, Clone)]
pub struct GraphTargetSource {
    graph: GraphClient,
    spec: TargetSpec,
    /// Ends in-flight requests when the target stops.
    cancel: CancellationToken,
    /// Where a resolved drive id outlives this run; without it, it is resolved once per run.
    memo: Option<DriveMemo>,
    /// How push subscribes during this run: decided at the first subscription, kept for the
    /// renewals. A new source (a restart of the target) decides again.
    route: Arc<Mutex<PushRoute>>,
}

/// Which form of the socketIo resource this run subscribes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PushRoute {
    Undecided,
    /// `/drives/{id}/root/subscriptions/socketIo`.
    Drive(String),
    /// The target's own form ([`graph::resource_path`]): for targets that already name a drive's
    /// root, and after the service refused the drive form.
    Own,
}

/// A target's resolved drive id, kept in the history store under the target's id.
#[derive(Debug, Clone)]
struct DriveMemo {
    store: HistoryStore,
    target: String,
}

impl GraphTargetSource {
    pub fn new(graph: GraphClient, spec: TargetSpec, cancel: CancellationToken) -> Self {
        Self {
            graph,
            spec,
            cancel,
            memo: None,
            route: Arc::new(Mutex::new(PushRoute::Undecided)),
        }
    }

    /// Keeps the drive id a library or group target resolves to in `store`, under `target`
    /// (the target's id), so later starts subscribe by it without asking Graph first.
    pub fn remembering_drive_in(mut self, store: HistoryStore, target: impl Into<String>) -> Self {
        self.memo = Some(DriveMemo {
            store,
            target: target.into(),
        });
        self
    }

    fn set_route(&self, route: PushRoute) {
        *self.route.lock().unwrap_or_else(|p| p.into_inner()) = route;
    }

    /// Subscribes by drive id where that is the form that works, else in the target's own form.
    async fn subscription(&self) -> Result<Subscription, GraphError> {
        if let PushRoute::Drive(drive_id) = self.push_route().await? {
            let by_drive = TargetSpec::Drive { drive_id };
            match self
                .graph
                .socket_io_subscription(&by_drive, &self.cancel)
                .await
            {
                Err(e) if refused(&e) => {
                    tracing::info!(
                        target_id = self.memo.as_ref().map(|m| m.target.as_str()),
                        error = %e,
                        "the service refused the subscription by drive id; using the target's own form"
                    );
                    self.set_route(PushRoute::Own);
                }
                other => return other,
            }
        }
        self.graph
            .socket_io_subscription(&self.spec, &self.cancel)
            .await
    }

    /// This run's route, deciding it on the first call. SharePoint libraries and group drives
    /// need their drive id (`docs/PROTOCOL.md §2.11`): a list target already names it; the others
    /// take it from the store, or from one lookup whose answer the store then keeps.
    async fn push_route(&self) -> Result<PushRoute, GraphError> {
        let current = self.route.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if current != PushRoute::Undecided {
            return Ok(current);
        }
        let decided = match &self.spec {
            TargetSpec::MyDrive | TargetSpec::Drive { .. } => PushRoute::Own,
            // Its own form is the list; push for the drive's root is what its delta follows.
            TargetSpec::DriveList { drive_id } => PushRoute::Drive(drive_id.clone()),
            TargetSpec::GroupDrive { .. } | TargetSpec::SiteList { .. } => {
                match self.stored_drive().await {
                    Some(id) => PushRoute::Drive(id),
                    None => match self.graph.drive_id(&self.spec, &self.cancel).await {
                        Ok(id) => {
                            self.store_drive(&id).await;
                            PushRoute::Drive(id)
                        }
                        Err(e) if refused(&e) => {
                            tracing::info!(error = %e, "cannot name the target's drive; using its own form");
                            PushRoute::Own
                        }
                        // Passing trouble, or the account: the next subscription decides again.
                        Err(e) => return Err(e),
                    },
                }
            }
        };
        self.set_route(decided.clone());
        Ok(decided)
    }

    async fn stored_drive(&self) -> Option<String> {
        let memo = self.memo.clone()?;
        match tokio::task::spawn_blocking(move || memo.store.target_drive(&memo.target)).await {
            Ok(Ok(found)) => found,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot read the target's drive id; looking it up");
                None
            }
            Err(_) => None,
        }
    }

    /// Best effort: a drive id not kept is looked up again at the next start, nothing worse.
    async fn store_drive(&self, drive_id: &str) {
        let Some(memo) = self.memo.clone() else {
            return;
        };
        let drive_id = drive_id.to_owned();
        let stored = tokio::task::spawn_blocking(move || {
            memo.store.set_target_drive(&memo.target, &drive_id)
        })
        .await;
        if let Ok(Err(e)) = stored {
            tracing::warn!(error = %e, "cannot keep the target's drive id");
        }
    }
}

/// The service will not serve this form of the request (bad request, not found, access denied,
/// `notSupported`): another form may work. Passing failures and sign-in trouble are not refusals.
fn refused(e: &GraphError) -> bool {
    match e {
        GraphError::PushUnsupported | GraphError::NotFound | GraphError::AccessDenied => true,
        GraphError::Service { status, .. } => (400..500).contains(status),
        _ => false,
    }
}

/// Graph's wire item → what the classifier needs.
pub fn delta_item(item: DeltaEntry) -> DeltaItem {
    let by = item.last_modified_by.as_ref();
    let modified_by_name = by.and_then(|b| b.display_name()).map(str::to_owned);
    let modified_by_id = by.and_then(|b| b.user.as_ref()?.id.clone());
    let (is_folder, is_root, deleted) = (item.is_folder(), item.is_root(), item.is_deleted());
    let parent = item.parent_reference.unwrap_or_default();
    DeltaItem {
        is_folder,
        is_root,
        deleted,
        parent_id: parent.id,
        drive_id: parent.drive_id,
        parent_path: parent.path,
        modified_by_id,
        modified_by_name,
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
            let sub = self.subscription().await.map_err(source_error)?;
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
        // Delta keeps the target's own path even where push goes by drive id: only the
        // subscription needs the drive's form (docs/PROTOCOL.md §2.11), the target's delta serves
        // its drive as it is, and its links are followed as given (§3.1), so cursors saved before
        // stay valid and a delta run never waits on a drive lookup.
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
        let item: DeltaEntry = serde_json::from_value(serde_json::json!({
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

        let gone: DeltaEntry = serde_json::from_value(serde_json::json!({
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

    #[test]
    fn only_refusals_of_a_form_turn_to_another_form() {
        for e in [
            GraphError::PushUnsupported,
            GraphError::NotFound,
            GraphError::AccessDenied,
            GraphError::Service {
                status: 400,
                code: "invalidRequest".into(),
                message: String::new(),
            },
        ] {
            assert!(refused(&e), "{e:?}");
        }
        for e in [
            GraphError::NeedsSignIn,
            GraphError::Timeout,
            GraphError::Cancelled,
            GraphError::Throttled {
                retry_after: std::time::Duration::from_secs(5),
            },
            GraphError::Service {
                status: 502,
                code: String::new(),
                message: String::new(),
            },
        ] {
            assert!(!refused(&e), "{e:?}");
        }
    }

    mod push_route {
        use std::collections::HashMap;
        use std::sync::{Arc, Mutex};

        use url::Url;

        use super::*;
        use crate::auth::token_source::tests::ScriptedRefresher;
        use crate::auth::{Secret, TokenSet, TokenSource};
        use crate::graph::RetryPolicy;
        use crate::graph::transport::{
            GraphRequest, GraphTransport, RawResponse, TransportError, TransportFuture,
        };

        const SITE: &str = "contoso.sharepoint.com,s1,w1";
        const LIST: &str = "list-1";
        const SITE_ROOT: &str = "/v1.0/sites/contoso.sharepoint.com,s1,w1/lists/list-1/drive";
        const LIB: &str = "b!lib";
        const TARGET: &str = "acc/site:s:l";

        fn sub(n: u32) -> String {
            format!(
                r#"{{"id":"sub-{n}","notificationUrl":"https://push.example.com/notifications?token=t{n}"}}"#
            )
        }

        const NOT_SUPPORTED: &str = r#"{"error":{"code":"notSupported","message":"no"}}"#;
        const DENIED: &str = r#"{"error":{"code":"accessDenied","message":"no"}}"#;
        const NOT_FOUND: &str = r#"{"error":{"code":"itemNotFound","message":"no"}}"#;

        /// Answers by path (query included) like one tenant would; records every request.
        #[derive(Default)]
        struct Service {
            answers: Mutex<HashMap<String, (u16, String)>>,
            seen: Mutex<Vec<String>>,
        }

        impl Service {
            fn new(answers: &[(&str, u16, &str)]) -> Arc<Self> {
                let s = Arc::new(Self::default());
                for (path, status, body) in answers {
                    s.answer(path, *status, body);
                }
                s
            }
            fn answer(&self, path: &str, status: u16, body: &str) {
                self.answers
                    .lock()
                    .unwrap()
                    .insert(path.to_owned(), (status, body.to_owned()));
            }
            /// The requests since the last call.
            fn take(&self) -> Vec<String> {
                std::mem::take(&mut *self.seen.lock().unwrap())
            }
        }

        impl GraphTransport for Service {
            fn get(&self, request: GraphRequest) -> TransportFuture<'_> {
                let url = &request.url;
                let key = match url.query() {
                    Some(q) => format!("{}?{q}", url.path()),
                    None => url.path().to_owned(),
                };
                self.seen.lock().unwrap().push(key.clone());
                let answer = self.answers.lock().unwrap().get(&key).cloned();
                Box::pin(async move {
                    let (status, body) = answer.ok_or_else(|| {
                        TransportError::Network(format!("nothing scripted for {key}"))
                    })?;
                    Ok(RawResponse {
                        status,
                        body: body.into_bytes(),
                        ..RawResponse::default()
                    })
                })
            }
        }

        fn graph(service: Arc<Service>) -> GraphClient {
            let tokens = TokenSource::new(
                "acc",
                TokenSet {
                    access_token: Secret::new("AT0"),
                    refresh_token: Some(Secret::new("RT0")),
                    expires_at: chrono::Utc::now() + chrono::Duration::hours(1),
                    id_token: None,
                },
                ScriptedRefresher::new(),
                None,
            );
            let policy = RetryPolicy {
                max_attempts: 1,
                ..RetryPolicy::default()
            };
            let url = Url::parse("https://graph.example.com/v1.0").unwrap();
            GraphClient::with_transport(service, url, tokens, policy).unwrap()
        }

        fn site_list() -> TargetSpec {
            TargetSpec::SiteList {
                site_id: SITE.into(),
                list_id: LIST.into(),
            }
        }

        fn source(
            service: &Arc<Service>,
            spec: TargetSpec,
            store: &HistoryStore,
        ) -> GraphTargetSource {
            GraphTargetSource::new(graph(service.clone()), spec, CancellationToken::new())
                .remembering_drive_in(store.clone(), TARGET)
        }

        fn lookup() -> String {
            format!("{SITE_ROOT}?$select=id")
        }

        fn by_drive() -> String {
            format!("/v1.0/drives/{LIB}/root/subscriptions/socketIo")
        }

        fn own_form() -> String {
            format!("{SITE_ROOT}/root/subscriptions/socketIo")
        }

        fn library(by_drive_status: u16, by_drive_body: &str) -> Arc<Service> {
            Service::new(&[
                (&lookup(), 200, &format!(r#"{{"id":"{LIB}"}}"#)),
                (&by_drive(), by_drive_status, by_drive_body),
                (&own_form(), 200, &sub(2)),
            ])
        }

        #[tokio::test]
        async fn a_library_resolves_its_drive_once_and_subscribes_by_it_across_restarts() {
            let service = library(200, &sub(1));
            let store = HistoryStore::open_in_memory().unwrap();
            let first = source(&service, site_list(), &store);
            let s = first.subscribe().await.unwrap();
            assert!(s.notification_url.ends_with("token=t1"));
            assert_eq!(service.take(), [lookup(), by_drive()]);
            assert_eq!(store.target_drive(TARGET).unwrap().as_deref(), Some(LIB));

            // A renewal asks for the subscription only.
            first.subscribe().await.unwrap();
            assert_eq!(service.take(), [by_drive()]);

            // A restart (a new source over the same store) does not look the drive up again.
            let again = source(&service, site_list(), &store);
            again.subscribe().await.unwrap();
            assert_eq!(service.take(), [by_drive()]);
        }

        #[tokio::test]
        async fn a_refused_drive_form_falls_back_to_the_own_form_until_a_restart() {
            for (status, body) in [(400, NOT_SUPPORTED), (403, DENIED), (404, NOT_FOUND)] {
                let service = library(status, body);
                let store = HistoryStore::open_in_memory().unwrap();
                let first = source(&service, site_list(), &store);
                let s = first.subscribe().await.unwrap();
                assert!(s.notification_url.ends_with("token=t2"), "{status}");
                assert_eq!(
                    service.take(),
                    [lookup(), by_drive(), own_form()],
                    "{status}"
                );

                // Renewals remember the refusal.
                first.subscribe().await.unwrap();
                first.subscribe().await.unwrap();
                assert_eq!(service.take(), [own_form(), own_form()], "{status}");

                // A restart tries the drive form again, with the drive id it kept.
                let again = source(&service, site_list(), &store);
                again.subscribe().await.unwrap();
                assert_eq!(service.take(), [by_drive(), own_form()], "{status}");
            }
        }

        #[tokio::test]
        async fn push_unsupported_for_both_forms_is_still_push_unsupported() {
            let service = library(400, NOT_SUPPORTED);
            service.answer(&own_form(), 400, NOT_SUPPORTED);
            let store = HistoryStore::open_in_memory().unwrap();
            let s = source(&service, site_list(), &store);
            assert_eq!(s.subscribe().await, Err(SourceError::PushUnsupported));
            // The retry every few minutes asks the form that is left, once.
            assert_eq!(s.subscribe().await, Err(SourceError::PushUnsupported));
            assert_eq!(
                service.take(),
                [lookup(), by_drive(), own_form(), own_form()]
            );
        }

        #[tokio::test]
        async fn a_lookup_that_fails_for_now_decides_nothing() {
            let service = library(200, &sub(1));
            service.answer(&lookup(), 500, "{}");
            let store = HistoryStore::open_in_memory().unwrap();
            let s = source(&service, site_list(), &store);
            assert!(matches!(
                s.subscribe().await,
                Err(SourceError::Unavailable { .. })
            ));
            assert_eq!(service.take(), [lookup()]);
            assert_eq!(store.target_drive(TARGET).unwrap(), None);

            service.answer(&lookup(), 200, &format!(r#"{{"id":"{LIB}"}}"#));
            s.subscribe().await.unwrap();
            assert_eq!(service.take(), [lookup(), by_drive()]);
        }

        #[tokio::test]
        async fn a_group_whose_drive_cannot_be_named_subscribes_its_own_form() {
            let group = "/v1.0/groups/g-1/drive";
            let service = Service::new(&[
                (&format!("{group}?$select=id"), 403, DENIED),
                (
                    &format!("{group}/root/subscriptions/socketIo"),
                    200,
                    &sub(3),
                ),
            ]);
            let store = HistoryStore::open_in_memory().unwrap();
            let spec = TargetSpec::GroupDrive {
                group_id: "g-1".into(),
            };
            let s = source(&service, spec, &store);
            s.subscribe().await.unwrap();
            s.subscribe().await.unwrap();
            assert_eq!(
                service.take(),
                [
                    format!("{group}?$select=id"),
                    format!("{group}/root/subscriptions/socketIo"),
                    format!("{group}/root/subscriptions/socketIo"),
                ]
            );
            assert_eq!(store.target_drive(TARGET).unwrap(), None);
        }

        #[tokio::test]
        async fn a_group_without_a_store_resolves_once_per_run() {
            let group = "/v1.0/groups/g-1/drive";
            let service = Service::new(&[
                (&format!("{group}?$select=id"), 200, r#"{"id":"b!grp"}"#),
                (
                    "/v1.0/drives/b!grp/root/subscriptions/socketIo",
                    200,
                    &sub(4),
                ),
            ]);
            let spec = TargetSpec::GroupDrive {
                group_id: "g-1".into(),
            };
            let s = GraphTargetSource::new(graph(service.clone()), spec, CancellationToken::new());
            s.subscribe().await.unwrap();
            s.subscribe().await.unwrap();
            assert_eq!(
                service.take(),
                [
                    format!("{group}?$select=id"),
                    "/v1.0/drives/b!grp/root/subscriptions/socketIo".to_owned(),
                    "/v1.0/drives/b!grp/root/subscriptions/socketIo".to_owned(),
                ]
            );
        }

        #[tokio::test]
        async fn a_list_target_subscribes_its_drive_root_and_falls_back_to_the_list() {
            let root = "/v1.0/drives/b!d/root/subscriptions/socketIo";
            let list = "/v1.0/drives/b!d/list/subscriptions/socketIo";
            let service = Service::new(&[(root, 200, &sub(5)), (list, 200, &sub(6))]);
            let store = HistoryStore::open_in_memory().unwrap();
            let spec = TargetSpec::DriveList {
                drive_id: "b!d".into(),
            };
            let s = source(&service, spec.clone(), &store);
            assert!(
                s.subscribe()
                    .await
                    .unwrap()
                    .notification_url
                    .ends_with("t5")
            );
            assert_eq!(service.take(), [root]);

            service.answer(root, 403, DENIED);
            let s = source(&service, spec, &store);
            assert!(
                s.subscribe()
                    .await
                    .unwrap()
                    .notification_url
                    .ends_with("t6")
            );
            s.subscribe().await.unwrap();
            assert_eq!(service.take(), [root, list, list]);
            // It names its drive already: nothing to look up or keep.
            assert_eq!(store.target_drive(TARGET).unwrap(), None);
        }

        #[tokio::test]
        async fn drives_named_by_root_keep_their_form() {
            let service = Service::new(&[
                ("/v1.0/me/drive/root/subscriptions/socketIo", 200, &sub(7)),
                ("/v1.0/drives/b!x/root/subscriptions/socketIo", 200, &sub(8)),
            ]);
            let store = HistoryStore::open_in_memory().unwrap();
            source(&service, TargetSpec::MyDrive, &store)
                .subscribe()
                .await
                .unwrap();
            let drive = TargetSpec::Drive {
                drive_id: "b!x".into(),
            };
            source(&service, drive, &store).subscribe().await.unwrap();
            assert_eq!(
                service.take(),
                [
                    "/v1.0/me/drive/root/subscriptions/socketIo",
                    "/v1.0/drives/b!x/root/subscriptions/socketIo"
                ]
            );
        }

        #[tokio::test]
        async fn delta_of_a_library_keeps_its_own_path() {
            let delta = format!("{SITE_ROOT}/root/delta");
            let service = library(200, &sub(1));
            service.answer(
                &delta,
                200,
                r#"{"value":[],"@odata.deltaLink":"https://graph.example.com/v1.0/x?token=1"}"#,
            );
            let store = HistoryStore::open_in_memory().unwrap();
            let s = source(&service, site_list(), &store);
            s.subscribe().await.unwrap();
            service.take();
            s.enumerate(None).await.unwrap();
            assert_eq!(service.take(), [delta]);
        }
    }
}
