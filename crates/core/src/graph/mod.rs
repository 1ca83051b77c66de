//! The one request path to Microsoft Graph: every Graph call DriveWatch makes goes through
//! [`GraphClient`], which owns the retry policy (Retry-After on 429/503 pausing all requests of the
//! account, bounded backoff with jitter on 5xx and network errors, one token refresh on 401) and
//! decodes Graph's error bodies into [`GraphError`] (`docs/PROTOCOL.md §4.1`–`§4.4`). Links are
//! followed as Graph returned them (`docs/PROTOCOL.md §3.1`).
//!
//! It must never follow a link to another host than the configured Graph base, never retry after
//! cancellation, never send a token over plain `http://` to a non-loopback host, and never put a
//! token (or the notification URL's token) in a log line, an error or Debug output.

pub mod error;
pub mod retry;
pub mod transport;
pub mod wire;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};
use url::Url;

pub use crate::transport::build_http_client;
pub use error::GraphError;
pub use retry::{RetryPolicy, ThrottleGate};
pub use transport::{GraphTransport, ReqwestTransport};
pub use wire::{DeltaEntry, DriveItem};

use crate::config::require_secure_url;
use crate::model::TargetSpec;
use crate::transport::redact::redact_url;
use crate::transport::{AccessTokens, Secret};
use transport::{GraphRequest, RawResponse, TransportError};

/// A socket.io notification URL. It carries a token: Debug and Display show it redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct NotificationUrl(Url);

impl NotificationUrl {
    /// The URL itself, token included. Use only to connect.
    pub fn expose(&self) -> &Url {
        &self.0
    }
}

impl std::fmt::Debug for NotificationUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NotificationUrl({})", redact_url(self.0.as_str()))
    }
}

impl std::fmt::Display for NotificationUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact_url(self.0.as_str()))
    }
}

/// A socketIo subscription: where to connect, until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub id: String,
    pub notification_url: NotificationUrl,
    /// Absent when Graph does not say (the seed document's example): renew hourly then.
    pub expires_at: Option<DateTime<Utc>>,
}

/// One page of a delta enumeration. Exactly one of the links is set on a well-formed page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeltaPage {
    pub items: Vec<DeltaEntry>,
    /// Follow this (as given) for the next page.
    pub next_link: Option<String>,
    /// The cursor to save once every page before it is processed.
    pub delta_link: Option<String>,
}

/// What a pasted OneDrive/SharePoint link points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedTarget {
    pub drive_id: String,
    pub item: DriveItem,
    /// A human label (the item's or drive's name).
    pub label: String,
}

/// Graph for one account. Cheap to clone; clones share the token source and the throttle gate.
#[derive(Clone)]
pub struct GraphClient {
    inner: Arc<Inner>,
}

struct Inner {
    /// e.g. `https://graph.microsoft.com/v1.0`, without a trailing slash.
    base: Url,
    transport: Arc<dyn GraphTransport>,
    /// The account's tokens (in the app, its `TokenSource`), shared by every client of it.
    tokens: Arc<dyn AccessTokens>,
    /// Shared by every clone: a Retry-After pauses all requests of this account.
    gate: ThrottleGate,
    policy: RetryPolicy,
}

impl std::fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphClient")
            .field("base", &self.inner.base.as_str())
            .field("account", &self.inner.tokens.account_id())
            .finish_non_exhaustive()
    }
}

impl GraphClient {
    /// A client over the shared reqwest client, with the default retry policy.
    pub fn new(
        http: reqwest::Client,
        graph_url: Url,
        tokens: impl AccessTokens,
    ) -> Result<Self, GraphError> {
        Self::with_transport(
            Arc::new(ReqwestTransport::new(http)),
            graph_url,
            tokens,
            RetryPolicy::default(),
        )
    }

    /// A client over any transport (tests script one) with a given policy.
    pub fn with_transport(
        transport: Arc<dyn GraphTransport>,
        graph_url: Url,
        tokens: impl AccessTokens,
        policy: RetryPolicy,
    ) -> Result<Self, GraphError> {
        require_secure_url("Graph URL", &graph_url).map_err(|_| GraphError::InsecureUrl {
            url: redact_url(graph_url.as_str()),
        })?;
        let mut base = graph_url;
        let trimmed = base.path().trim_end_matches('/').to_string();
        base.set_path(&trimmed);
        base.set_query(None);
        base.set_fragment(None);
        Ok(Self {
            inner: Arc::new(Inner {
                base,
                transport,
                tokens: Arc::new(tokens),
                gate: ThrottleGate::new(),
                policy,
            }),
        })
    }

    pub fn tokens(&self) -> &dyn AccessTokens {
        self.inner.tokens.as_ref()
    }

    pub fn account_id(&self) -> &str {
        self.inner.tokens.account_id()
    }

    pub fn graph_url(&self) -> &Url {
        &self.inner.base
    }

    /// Until when Graph asked this account to wait, for status display.
    pub fn throttled_until(&self) -> Option<DateTime<Utc>> {
        self.inner.gate.until_utc()
    }

    /// GET a path under the Graph base (`/me/drive`) or an absolute link Graph returned
    /// (nextLink, deltaLink) — the latter followed as given, only on Graph's own scheme and host.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        path_or_url: &str,
        cancel: &CancellationToken,
    ) -> Result<T, GraphError> {
        let url = self.resolve(path_or_url)?;
        let response = self.send(url, cancel).await?;
        serde_json::from_slice(&response.body).map_err(|e| {
            GraphError::InvalidResponse(format!("{e} (from {})", redact_url(path_or_url)))
        })
    }

    /// The signed-in user.
    pub async fn me(&self, cancel: &CancellationToken) -> Result<wire::User, GraphError> {
        self.get_json("/me", cancel).await
    }

    /// The drive a target lives on.
    pub async fn drive(
        &self,
        spec: &TargetSpec,
        cancel: &CancellationToken,
    ) -> Result<wire::Drive, GraphError> {
        self.get_json(&drive_path(spec), cancel).await
    }

    /// Just the id of the drive a target lives on (`$select=id`): what push subscribes a
    /// SharePoint library or group drive by (`docs/PROTOCOL.md §2.11`).
    pub async fn drive_id(
        &self,
        spec: &TargetSpec,
        cancel: &CancellationToken,
    ) -> Result<String, GraphError> {
        let path = format!("{}?$select=id", drive_path(spec));
        let drive: wire::Drive = self.get_json(&path, cancel).await?;
        if drive.id.is_empty() {
            return Err(GraphError::InvalidResponse(
                "the drive has no id".to_string(),
            ));
        }
        Ok(drive.id)
    }

    /// `GET {target}/subscriptions/socketIo`: where to connect for push notifications.
    pub async fn socket_io_subscription(
        &self,
        spec: &TargetSpec,
        cancel: &CancellationToken,
    ) -> Result<Subscription, GraphError> {
        let path = format!("{}/subscriptions/socketIo", resource_path(spec));
        let raw: wire::SocketIoSubscription = self.get_json(&path, cancel).await?;
        let url = Url::parse(&raw.notification_url)
            .map_err(|_| GraphError::InvalidResponse("notificationUrl is not a URL".to_string()))?;
        require_secure_url("notification URL", &url).map_err(|_| GraphError::InsecureUrl {
            url: redact_url(url.as_str()),
        })?;
        Ok(Subscription {
            id: raw.id.unwrap_or_default(),
            notification_url: NotificationUrl(url),
            expires_at: raw.expiration_date_time,
        })
    }

    /// `delta?token=latest`: no items, a deltaLink meaning "now". The cheap baseline.
    pub async fn delta_start(
        &self,
        spec: &TargetSpec,
        cancel: &CancellationToken,
    ) -> Result<DeltaPage, GraphError> {
        self.delta_page(&format!("{}?token=latest", delta_path(spec)), cancel)
            .await
    }

    /// The first page of a full enumeration from scratch; follow `next_link` with
    /// [`Self::delta_page`] until a page carries a `delta_link`.
    pub async fn delta_full(
        &self,
        spec: &TargetSpec,
        cancel: &CancellationToken,
    ) -> Result<DeltaPage, GraphError> {
        self.delta_page(&delta_path(spec), cancel).await
    }

    /// One delta page from a saved deltaLink, a nextLink, or a path.
    pub async fn delta_page(
        &self,
        url: &str,
        cancel: &CancellationToken,
    ) -> Result<DeltaPage, GraphError> {
        let raw: wire::DeltaResponse = self.get_json(url, cancel).await?;
        if raw.next_link.is_none() && raw.delta_link.is_none() {
            return Err(GraphError::InvalidResponse(
                "a delta page carried neither a nextLink nor a deltaLink".to_string(),
            ));
        }
        Ok(DeltaPage {
            items: raw.value,
            next_link: raw.next_link,
            delta_link: raw.delta_link,
        })
    }

    /// What a pasted sharing link (or plain OneDrive/SharePoint URL) points at, through
    /// `/shares/u!{base64url}/driveItem`.
    pub async fn resolve_share_url(
        &self,
        shared: &str,
        cancel: &CancellationToken,
    ) -> Result<SharedTarget, GraphError> {
        let parsed = Url::parse(shared.trim()).map_err(|_| GraphError::BadShareUrl {
            reason: "it is not a URL",
        })?;
        if parsed.scheme() != "https" && parsed.scheme() != "http" {
            return Err(GraphError::BadShareUrl {
                reason: "it must start with https://",
            });
        }
        let item: DriveItem = self
            .get_json(
                &format!("/shares/{}/driveItem", encode_sharing_url(shared.trim())),
                cancel,
            )
            .await?;
        let drive_id = item
            .drive_id()
            .map(str::to_string)
            .ok_or_else(|| GraphError::InvalidResponse("shared item has no driveId".into()))?;
        let label = item.name.clone().unwrap_or_else(|| drive_id.clone());
        Ok(SharedTarget {
            drive_id,
            item,
            label,
        })
    }

    /// A path under the base, or an absolute URL on the base's scheme, host and port.
    fn resolve(&self, path_or_url: &str) -> Result<Url, GraphError> {
        let base = &self.inner.base;
        if path_or_url.starts_with("http://") || path_or_url.starts_with("https://") {
            let url = Url::parse(path_or_url).map_err(|_| GraphError::ForeignUrl {
                url: redact_url(path_or_url),
            })?;
            let same_origin = url.scheme() == base.scheme()
                && url.host_str().map(str::to_ascii_lowercase)
                    == base.host_str().map(str::to_ascii_lowercase)
                && url.port_or_known_default() == base.port_or_known_default();
            if !same_origin {
                return Err(GraphError::ForeignUrl {
                    url: redact_url(path_or_url),
                });
            }
            return Ok(url);
        }
        let path = path_or_url.trim_start_matches('/');
        let joined = format!("{}/{path}", base.as_str().trim_end_matches('/'));
        Url::parse(&joined).map_err(|_| GraphError::ForeignUrl {
            url: redact_url(&joined),
        })
    }

    /// The request loop: gate, token, send, classify, retry within the policy.
    #[tracing::instrument(level = "debug", name = "graph", skip_all, fields(account = %self.account_id(), url = %redact_url(url.as_str())))]
    async fn send(&self, url: Url, cancel: &CancellationToken) -> Result<RawResponse, GraphError> {
        let inner = &self.inner;
        let policy = &inner.policy;
        let mut transient_failures = 0u32;
        let mut throttle_retries = 0u32;
        let mut refreshed = false;
        loop {
            inner.gate.wait(cancel).await?;
            let token = match self.token(cancel).await {
                Ok(token) => token,
                // The identity platform is unreachable for a moment: same policy as Graph.
                Err(e) if e.is_transient() && transient_failures + 1 < policy.max_attempts => {
                    transient_failures += 1;
                    let delay = policy.backoff(transient_failures - 1);
                    debug!(error = %e, ?delay, "getting a token failed; retrying");
                    retry::sleep_or_cancel(delay, cancel).await?;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let request = GraphRequest {
                url: url.clone(),
                bearer: token.clone(),
                timeout: policy.request_timeout,
            };
            let result = tokio::select! {
                _ = cancel.cancelled() => return Err(GraphError::Cancelled),
                r = inner.transport.get(request) => r,
            };
            let response = match result {
                Ok(r) => r,
                Err(e) => {
                    transient_failures += 1;
                    let final_error = match &e {
                        TransportError::Timeout => GraphError::Timeout,
                        TransportError::Network(m) => GraphError::Network(m.clone()),
                    };
                    if transient_failures >= policy.max_attempts {
                        return Err(final_error);
                    }
                    let delay = policy.backoff(transient_failures - 1);
                    debug!(url = %redact_url(url.as_str()), error = %e, ?delay, "Graph request failed; retrying");
                    retry::sleep_or_cancel(delay, cancel).await?;
                    continue;
                }
            };
            let status = response.status;
            if (200..300).contains(&status) {
                return Ok(response);
            }
            let location = response.location.as_deref().map(str::to_string);
            match status {
                401 if !refreshed => {
                    refreshed = true;
                    debug!(account = %inner.tokens.account_id(), "Graph said 401; refreshing the token once");
                    self.refresh_after_401(&token, cancel).await?;
                    continue;
                }
                429 | 503 => {
                    let wait = response
                        .retry_after
                        .unwrap_or_else(|| policy.backoff(throttle_retries));
                    inner.gate.pause_for(wait);
                    warn!(account = %inner.tokens.account_id(), status, wait_secs = wait.as_secs(), "Graph throttled this account");
                    if throttle_retries >= policy.max_throttle_retries
                        || wait > policy.max_throttle_wait
                    {
                        return Err(GraphError::Throttled { retry_after: wait });
                    }
                    throttle_retries += 1;
                    continue;
                }
                500..=599 => {
                    transient_failures += 1;
                    if transient_failures >= policy.max_attempts {
                        return Err(error::decode_error(
                            status,
                            &response.body,
                            response.retry_after,
                            location.as_deref(),
                        ));
                    }
                    let delay = policy.backoff(transient_failures - 1);
                    debug!(url = %redact_url(url.as_str()), status, ?delay, "Graph server error; retrying");
                    retry::sleep_or_cancel(delay, cancel).await?;
                    continue;
                }
                _ => {
                    return Err(error::decode_error(
                        status,
                        &response.body,
                        response.retry_after,
                        location.as_deref(),
                    ));
                }
            }
        }
    }

    async fn token(&self, cancel: &CancellationToken) -> Result<Secret, GraphError> {
        tokio::select! {
            _ = cancel.cancelled() => Err(GraphError::Cancelled),
            t = self.inner.tokens.access_token() => Ok(t?),
        }
    }

    async fn refresh_after_401(
        &self,
        rejected: &Secret,
        cancel: &CancellationToken,
    ) -> Result<Secret, GraphError> {
        tokio::select! {
            _ = cancel.cancelled() => Err(GraphError::Cancelled),
            t = self.inner.tokens.refresh_after_rejection(rejected) => Ok(t?),
        }
    }
}

/// `u!` + unpadded base64url of the URL, as `/shares/{id}` expects.
pub fn encode_sharing_url(url: &str) -> String {
    format!(
        "u!{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url.as_bytes())
    )
}

/// Percent-encodes an id for one path segment (drive ids like `b!x-y_z` stay readable).
fn seg(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The resource a target names, in the socketIo endpoint's five forms.
pub fn resource_path(spec: &TargetSpec) -> String {
    match spec {
        TargetSpec::MyDrive => "/me/drive/root".to_string(),
        TargetSpec::Drive { drive_id } => format!("/drives/{}/root", seg(drive_id)),
        TargetSpec::DriveList { drive_id } => format!("/drives/{}/list", seg(drive_id)),
        TargetSpec::GroupDrive { group_id } => format!("/groups/{}/drive/root", seg(group_id)),
        TargetSpec::SiteList { site_id, list_id } => {
            format!("/sites/{}/lists/{}/drive/root", seg(site_id), seg(list_id))
        }
    }
}

/// The delta endpoint of a target (a list's delta runs over its drive's root).
pub fn delta_path(spec: &TargetSpec) -> String {
    match spec {
        TargetSpec::DriveList { drive_id } => format!("/drives/{}/root/delta", seg(drive_id)),
        other => format!("{}/delta", resource_path(other)),
    }
}

/// The drive resource of a target.
pub fn drive_path(spec: &TargetSpec) -> String {
    match spec {
        TargetSpec::MyDrive => "/me/drive".to_string(),
        TargetSpec::Drive { drive_id } | TargetSpec::DriveList { drive_id } => {
            format!("/drives/{}", seg(drive_id))
        }
        TargetSpec::GroupDrive { group_id } => format!("/groups/{}/drive", seg(group_id)),
        TargetSpec::SiteList { site_id, list_id } => {
            format!("/sites/{}/lists/{}/drive", seg(site_id), seg(list_id))
        }
    }
}

/// How long to wait for a renewal when Graph gives no expiry.
pub const DEFAULT_SUBSCRIPTION_LIFETIME: Duration = Duration::from_secs(3600);

#[cfg(test)]
mod tests;
