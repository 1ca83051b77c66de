//! The request path's policy on a scripted transport and a paused clock: Retry-After gating,
//! backoff, refresh-once on 401, cancellation, link checks and target paths.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use url::Url;

use super::transport::{GraphRequest, RawResponse, TransportError, TransportFuture};
use super::*;
use crate::transport::{AccessTokens, Secret, TokenError};

/// Access tokens as the sign-in layer hands them out: `AT{n}` after the n-th refresh, one
/// refresh at a time, a stale rejection answered with the newer token, and no refresh at all
/// once the refresh token was refused.
struct ScriptedTokens {
    current: tokio::sync::Mutex<(Option<Secret>, bool)>,
    /// Refreshes asked for.
    calls: AtomicUsize,
    /// The refresh token is refused (only a new sign-in helps).
    revoked: AtomicBool,
    /// The next this-many refreshes fail on the network.
    network_failures: AtomicUsize,
}

impl ScriptedTokens {
    /// Starting with `access`, still valid unless `expired`.
    fn new(access: &str, expired: bool) -> Arc<Self> {
        Arc::new(Self {
            current: tokio::sync::Mutex::new((Some(Secret::new(access)), expired)),
            calls: AtomicUsize::new(0),
            revoked: AtomicBool::new(false),
            network_failures: AtomicUsize::new(0),
        })
    }

    fn refresh_locked(&self, current: &mut (Option<Secret>, bool)) -> Result<Secret, TokenError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if self
            .network_failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(TokenError::Unavailable("unreachable".into()));
        }
        if self.revoked.load(Ordering::SeqCst) {
            current.0 = None;
            return Err(TokenError::NeedsSignIn);
        }
        let fresh = Secret::new(format!("AT{n}"));
        *current = (Some(fresh.clone()), false);
        Ok(fresh)
    }
}

impl AccessTokens for Arc<ScriptedTokens> {
    fn account_id(&self) -> &str {
        "acc"
    }

    fn access_token(&self) -> BoxFuture<'_, Result<Secret, TokenError>> {
        Box::pin(async move {
            let mut current = self.current.lock().await;
            match &*current {
                (None, _) => Err(TokenError::NeedsSignIn),
                (Some(token), false) => Ok(token.clone()),
                (Some(_), true) => self.refresh_locked(&mut current),
            }
        })
    }

    fn refresh_after_rejection<'a>(
        &'a self,
        rejected: &'a Secret,
    ) -> BoxFuture<'a, Result<Secret, TokenError>> {
        Box::pin(async move {
            let mut current = self.current.lock().await;
            match &current.0 {
                None => Err(TokenError::NeedsSignIn),
                Some(token) if token != rejected => Ok(token.clone()),
                Some(_) => self.refresh_locked(&mut current),
            }
        })
    }

    fn needs_sign_in(&self) -> BoxFuture<'_, bool> {
        Box::pin(async move { self.current.lock().await.0.is_none() })
    }
}

type Step = Result<RawResponse, TransportError>;

/// Answers each request with the next scripted step; records what was sent and when.
struct ScriptedTransport {
    steps: Mutex<VecDeque<Step>>,
    seen: Mutex<Vec<(Instant, String, String)>>,
    /// When set, requests never answer (for cancellation tests).
    hang: bool,
}

impl ScriptedTransport {
    fn new(steps: Vec<Step>) -> Arc<Self> {
        Arc::new(Self {
            steps: Mutex::new(steps.into()),
            seen: Mutex::new(Vec::new()),
            hang: false,
        })
    }
    fn seen(&self) -> Vec<(Instant, String, String)> {
        self.seen.lock().unwrap().clone()
    }
}

impl GraphTransport for ScriptedTransport {
    fn get(&self, request: GraphRequest) -> TransportFuture<'_> {
        self.seen.lock().unwrap().push((
            Instant::now(),
            request.url.to_string(),
            request.bearer.expose().to_string(),
        ));
        let step = self.steps.lock().unwrap().pop_front();
        let hang = self.hang;
        Box::pin(async move {
            if hang {
                std::future::pending::<()>().await;
            }
            step.unwrap_or_else(|| Err(TransportError::Network("script exhausted".into())))
        })
    }
}

fn ok(body: &str) -> Step {
    Ok(RawResponse {
        status: 200,
        body: body.as_bytes().to_vec(),
        ..RawResponse::default()
    })
}

fn status(code: u16, body: &str, retry_after: Option<u64>) -> Step {
    Ok(RawResponse {
        status: code,
        retry_after: retry_after.map(Duration::from_secs),
        location: None,
        body: body.as_bytes().to_vec(),
    })
}

fn client(transport: Arc<ScriptedTransport>) -> (GraphClient, Arc<ScriptedTokens>) {
    let refresher = ScriptedTokens::new("AT0", false);
    let graph = GraphClient::with_transport(
        transport,
        Url::parse("https://graph.example.com/v1.0/").unwrap(),
        refresher.clone(),
        RetryPolicy::default(),
    )
    .unwrap();
    (graph, refresher)
}

const ME: &str = r#"{"id":"u1","displayName":"Megan"}"#;

#[tokio::test(start_paused = true)]
async fn retry_after_gates_every_request_of_the_account() {
    let t = ScriptedTransport::new(vec![
        status(
            429,
            r#"{"error":{"code":"activityLimitReached"}}"#,
            Some(30),
        ),
        ok(ME),
        ok(ME),
    ]);
    let (graph, _) = client(t.clone());
    let cancel = CancellationToken::new();
    let start = Instant::now();
    let other = graph.clone();
    let c2 = cancel.clone();
    // A second request started while throttled must wait too (the gate is shared).
    let second = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        other.me(&c2).await
    });
    let me = graph.me(&cancel).await.unwrap();
    assert_eq!(me.id, "u1");
    second.await.unwrap().unwrap();
    let seen = t.seen();
    assert_eq!(seen.len(), 3);
    for (at, _, _) in &seen[1..] {
        assert!(
            *at - start >= Duration::from_secs(30),
            "a request went out before Retry-After"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn throttled_error_after_bounded_retries_and_for_long_waits() {
    let body = r#"{"error":{"code":"serviceNotAvailable"}}"#;
    let t = ScriptedTransport::new(vec![
        status(503, body, Some(1)),
        status(503, body, Some(1)),
        status(503, body, Some(1)),
        status(503, body, Some(1)),
        ok(ME),
    ]);
    let (graph, _) = client(t.clone());
    let err = graph.me(&CancellationToken::new()).await.unwrap_err();
    assert!(
        matches!(err, GraphError::Throttled { retry_after } if retry_after == Duration::from_secs(1))
    );
    assert_eq!(t.seen().len(), 4, "1 try + 3 throttle retries, no more");

    let t = ScriptedTransport::new(vec![status(429, "", Some(3600)), ok(ME)]);
    let (graph, _) = client(t.clone());
    let err = graph.me(&CancellationToken::new()).await.unwrap_err();
    assert!(
        matches!(err, GraphError::Throttled { retry_after } if retry_after == Duration::from_secs(3600))
    );
    assert_eq!(t.seen().len(), 1);
    assert!(graph.throttled_until().is_some());
}

#[tokio::test(start_paused = true)]
async fn server_errors_and_network_errors_back_off_then_give_up() {
    let t = ScriptedTransport::new(vec![
        status(500, "", None),
        Err(TransportError::Network("connection reset".into())),
        status(502, "", None),
        ok(ME),
    ]);
    let (graph, _) = client(t.clone());
    let start = Instant::now();
    graph.me(&CancellationToken::new()).await.unwrap();
    let seen = t.seen();
    assert_eq!(seen.len(), 4);
    // Backoffs of at least 0.25 s, 0.5 s, 1 s (half of 0.5, 1, 2 s, jittered).
    assert!(seen[1].0 - seen[0].0 >= Duration::from_millis(250));
    assert!(seen[3].0 - start >= Duration::from_millis(1750));

    let t = ScriptedTransport::new(vec![
        Err(TransportError::Timeout),
        Err(TransportError::Timeout),
        Err(TransportError::Timeout),
        Err(TransportError::Timeout),
        ok(ME),
    ]);
    let (graph, _) = client(t.clone());
    assert!(matches!(
        graph.me(&CancellationToken::new()).await,
        Err(GraphError::Timeout)
    ));
    assert_eq!(t.seen().len(), 4, "bounded by max_attempts");
}

#[tokio::test(start_paused = true)]
async fn a_401_refreshes_once_and_retries_with_the_new_token() {
    let unauth =
        r#"{"error":{"code":"InvalidAuthenticationToken","message":"Access token has expired."}}"#;
    let t = ScriptedTransport::new(vec![status(401, unauth, None), ok(ME)]);
    let (graph, refresher) = client(t.clone());
    graph.me(&CancellationToken::new()).await.unwrap();
    let seen = t.seen();
    assert_eq!(seen[0].2, "AT0");
    assert_eq!(seen[1].2, "AT1");
    assert_eq!(refresher.calls.load(Ordering::SeqCst), 1);

    // A second 401 right after the refresh is not retried again.
    let t = ScriptedTransport::new(vec![
        status(401, unauth, None),
        status(401, unauth, None),
        ok(ME),
    ]);
    let (graph, refresher) = client(t.clone());
    assert!(matches!(
        graph.me(&CancellationToken::new()).await,
        Err(GraphError::NeedsSignIn)
    ));
    assert_eq!(t.seen().len(), 2);
    assert_eq!(refresher.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn revoked_refresh_token_gives_needs_sign_in_without_a_loop() {
    let t = ScriptedTransport::new(vec![
        status(
            401,
            r#"{"error":{"code":"InvalidAuthenticationToken"}}"#,
            None,
        ),
        ok(ME),
        ok(ME),
    ]);
    let (graph, refresher) = client(t.clone());
    refresher.revoked.store(true, Ordering::SeqCst);
    assert!(matches!(
        graph.me(&CancellationToken::new()).await,
        Err(GraphError::NeedsSignIn)
    ));
    assert!(matches!(
        graph.me(&CancellationToken::new()).await,
        Err(GraphError::NeedsSignIn)
    ));
    assert_eq!(t.seen().len(), 1, "no Graph request once sign-in is needed");
    assert_eq!(refresher.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn a_refresh_that_fails_on_the_network_is_retried_with_backoff() {
    let t = ScriptedTransport::new(vec![ok(ME)]);
    let refresher = ScriptedTokens::new("EXPIRED", true);
    refresher.network_failures.store(2, Ordering::SeqCst);
    let graph = GraphClient::with_transport(
        t.clone(),
        Url::parse("https://graph.example.com/v1.0").unwrap(),
        refresher.clone(),
        RetryPolicy::default(),
    )
    .unwrap();
    let start = Instant::now();
    graph.me(&CancellationToken::new()).await.unwrap();
    assert_eq!(refresher.calls.load(Ordering::SeqCst), 3);
    assert!(
        Instant::now() - start >= Duration::from_millis(750),
        "backed off twice"
    );
    assert_eq!(t.seen()[0].2, "AT3", "the expired token was never sent");

    // Down for longer than the policy allows: the error comes back, bounded.
    let t = ScriptedTransport::new(vec![ok(ME)]);
    let refresher = ScriptedTokens::new("EXPIRED", true);
    refresher.network_failures.store(100, Ordering::SeqCst);
    let graph = GraphClient::with_transport(
        t.clone(),
        Url::parse("https://graph.example.com/v1.0").unwrap(),
        refresher.clone(),
        RetryPolicy::default(),
    )
    .unwrap();
    let err = graph.me(&CancellationToken::new()).await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert_eq!(refresher.calls.load(Ordering::SeqCst), 4);
    assert!(t.seen().is_empty());
}

#[tokio::test(start_paused = true)]
async fn cancellation_stops_waiting_and_is_never_retried() {
    let t = Arc::new(ScriptedTransport {
        steps: Mutex::new(VecDeque::new()),
        seen: Mutex::new(Vec::new()),
        hang: true,
    });
    let (graph, _) = client(t.clone());
    let cancel = CancellationToken::new();
    let c2 = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        c2.cancel();
    });
    assert!(matches!(
        graph.me(&cancel).await,
        Err(GraphError::Cancelled)
    ));
    assert_eq!(t.seen().len(), 1);

    let t = ScriptedTransport::new(vec![status(500, "", None), ok(ME)]);
    let (graph, _) = client(t.clone());
    let cancel = CancellationToken::new();
    let c2 = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(10)).await;
        c2.cancel();
    });
    assert!(matches!(
        graph.me(&cancel).await,
        Err(GraphError::Cancelled)
    ));
    assert_eq!(t.seen().len(), 1, "no retry after cancellation");
}

#[tokio::test(start_paused = true)]
async fn links_are_followed_only_on_graphs_own_host() {
    let page = r#"{"value":[],"@odata.deltaLink":"https://graph.example.com/v1.0/drives/d/root/delta?token=abc"}"#;
    let t = ScriptedTransport::new(vec![ok(page)]);
    let (graph, _) = client(t.clone());
    let cancel = CancellationToken::new();
    let p = graph
        .delta_page(
            "https://graph.example.com/v1.0/drives/d/root/delta(token='x')",
            &cancel,
        )
        .await
        .unwrap();
    assert!(p.delta_link.is_some());
    assert_eq!(
        t.seen()[0].1,
        "https://graph.example.com/v1.0/drives/d/root/delta(token='x')"
    );

    for foreign in [
        "https://evil.example.com/v1.0/me/drive/root/delta",
        "http://graph.example.com/v1.0/me",
        "https://graph.example.com:8443/v1.0/me",
    ] {
        let err = graph.delta_page(foreign, &cancel).await.unwrap_err();
        assert!(
            matches!(err, GraphError::ForeignUrl { .. }),
            "{foreign}: {err:?}"
        );
    }
    assert_eq!(t.seen().len(), 1, "nothing sent to a foreign host");
}

#[tokio::test(start_paused = true)]
async fn typed_errors_come_from_the_body() {
    let t = ScriptedTransport::new(vec![
        status(410, r#"{"error":{"code":"resyncRequired"}}"#, None),
        status(
            400,
            r#"{"error":{"code":"notSupported","message":"Not supported"}}"#,
            None,
        ),
        status(404, r#"{"error":{"code":"itemNotFound"}}"#, None),
    ]);
    let (graph, _) = client(t);
    let c = CancellationToken::new();
    assert!(matches!(
        graph.delta_start(&TargetSpec::MyDrive, &c).await,
        Err(GraphError::ResyncRequired { .. })
    ));
    assert!(matches!(
        graph.socket_io_subscription(&TargetSpec::MyDrive, &c).await,
        Err(GraphError::PushUnsupported)
    ));
    assert!(matches!(
        graph
            .drive(
                &TargetSpec::Drive {
                    drive_id: "x".into()
                },
                &c
            )
            .await,
        Err(GraphError::NotFound)
    ));
}

#[tokio::test(start_paused = true)]
async fn subscription_url_is_redacted_in_debug_and_display() {
    let body = r#"{"id":"sub1","notificationUrl":"https://push.example.com/notifications?token=SECRET123&applicationId=app","expirationDateTime":"2030-01-01T00:00:00Z"}"#;
    let t = ScriptedTransport::new(vec![ok(body)]);
    let (graph, _) = client(t.clone());
    let s = graph
        .socket_io_subscription(
            &TargetSpec::Drive {
                drive_id: "b!x".into(),
            },
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(
        t.seen()[0].1,
        "https://graph.example.com/v1.0/drives/b!x/root/subscriptions/socketIo"
    );
    assert_eq!(s.id, "sub1");
    assert!(s.expires_at.is_some());
    assert!(s.notification_url.expose().as_str().contains("SECRET123"));
    assert!(!format!("{s:?}").contains("SECRET123"));
    assert!(!s.notification_url.to_string().contains("SECRET123"));
    assert!(!format!("{graph:?}").contains("AT0"));
}

#[tokio::test(start_paused = true)]
async fn share_urls_are_encoded_as_graph_expects() {
    let item =
        r#"{"id":"i1","name":"Reports","folder":{},"parentReference":{"driveId":"b!drive"}}"#;
    let t = ScriptedTransport::new(vec![ok(item)]);
    let (graph, _) = client(t.clone());
    let shared = graph
        .resolve_share_url(
            "https://contoso.sharepoint.com/:f:/s/team/EkLr?e=1",
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(shared.drive_id, "b!drive");
    assert_eq!(shared.label, "Reports");
    let sent = &t.seen()[0].1;
    assert!(
        sent.starts_with("https://graph.example.com/v1.0/shares/u!aHR0cHM6"),
        "{sent}"
    );
    assert!(sent.ends_with("/driveItem"));
    assert!(!sent.contains('='));
    assert!(matches!(
        graph
            .resolve_share_url("not a url", &CancellationToken::new())
            .await,
        Err(GraphError::BadShareUrl { .. })
    ));
}

#[test]
fn five_target_forms_and_their_delta_paths() {
    let d = || "b!d".to_string();
    assert_eq!(resource_path(&TargetSpec::MyDrive), "/me/drive/root");
    assert_eq!(
        resource_path(&TargetSpec::Drive { drive_id: d() }),
        "/drives/b!d/root"
    );
    assert_eq!(
        resource_path(&TargetSpec::DriveList { drive_id: d() }),
        "/drives/b!d/list"
    );
    assert_eq!(
        resource_path(&TargetSpec::GroupDrive {
            group_id: "g".into()
        }),
        "/groups/g/drive/root"
    );
    assert_eq!(
        resource_path(&TargetSpec::SiteList {
            site_id: "contoso.sharepoint.com,1,2".into(),
            list_id: "l/x".into()
        }),
        "/sites/contoso.sharepoint.com,1,2/lists/l%2Fx/drive/root"
    );
    assert_eq!(
        delta_path(&TargetSpec::DriveList { drive_id: d() }),
        "/drives/b!d/root/delta"
    );
    assert_eq!(delta_path(&TargetSpec::MyDrive), "/me/drive/root/delta");
    assert_eq!(
        drive_path(&TargetSpec::GroupDrive {
            group_id: "g".into()
        }),
        "/groups/g/drive"
    );
    assert_eq!(
        encode_sharing_url(
            "https://onedrive.live.com/redir?resid=1231244193912!12&authKey=1201919!12921!1"
        ),
        "u!aHR0cHM6Ly9vbmVkcml2ZS5saXZlLmNvbS9yZWRpcj9yZXNpZD0xMjMxMjQ0MTkzOTEyITEyJmF1dGhLZXk9MTIwMTkxOSExMjkyMSEx"
    );
}

#[test]
fn insecure_graph_base_is_refused() {
    let t = ScriptedTransport::new(vec![]);
    let err = GraphClient::with_transport(
        t,
        Url::parse("http://graph.example.com/v1.0").unwrap(),
        ScriptedTokens::new("x", true),
        RetryPolicy::default(),
    )
    .unwrap_err();
    assert!(matches!(err, GraphError::InsecureUrl { .. }));
}
