//! The HTTP underneath Graph and the identity platform: the one shared `reqwest` client, and a
//! small transport trait so the retry policy can be tested without a network.
//!
//! The shared client forces HTTP/1.1, never follows redirects (token calls must not be bounced
//! elsewhere), has a connect timeout and a per-request timeout, and keeps reqwest's default
//! `HTTPS_PROXY`/`NO_PROXY` handling. Errors leaving this module never carry a URL with a token.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use url::Url;

use super::redact::redact_text;
use crate::auth::Secret;

/// Time to open a TCP+TLS connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Upper bound for any single request made with the shared client.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The shared HTTP client for identity and Graph calls.
pub fn build_http_client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .http1_only()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("DriveWatch/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// One authenticated GET.
#[derive(Debug, Clone)]
pub struct GraphRequest {
    pub url: Url,
    pub bearer: Secret,
    pub timeout: Duration,
}

/// A response, whatever its status.
#[derive(Debug, Clone, Default)]
pub struct RawResponse {
    pub status: u16,
    /// `Retry-After`, already parsed.
    pub retry_after: Option<Duration>,
    /// `Location`, as sent.
    pub location: Option<String>,
    pub body: Vec<u8>,
}

/// Why no response arrived.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    #[error("timed out")]
    Timeout,
    /// Redacted description of the failure.
    #[error("{0}")]
    Network(String),
}

pub type TransportFuture<'a> =
    Pin<Box<dyn Future<Output = Result<RawResponse, TransportError>> + Send + 'a>>;

/// Sends one GET. The real one is [`ReqwestTransport`]; tests script their own.
pub trait GraphTransport: Send + Sync + 'static {
    fn get(&self, request: GraphRequest) -> TransportFuture<'_>;
}

/// [`GraphTransport`] over the shared reqwest client.
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
}

impl ReqwestTransport {
    pub fn new(client: reqwest::Client) -> Self {
        Self { client }
    }
}

impl GraphTransport for ReqwestTransport {
    fn get(&self, request: GraphRequest) -> TransportFuture<'_> {
        Box::pin(async move {
            let response = self
                .client
                .get(request.url)
                .bearer_auth(request.bearer.expose())
                .header(reqwest::header::ACCEPT, "application/json")
                .timeout(request.timeout)
                .send()
                .await
                .map_err(map_reqwest_error)?;
            let status = response.status().as_u16();
            let headers = response.headers();
            let retry_after = headers
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| super::error::parse_retry_after(v, chrono::Utc::now()));
            let location = headers
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let body = response.bytes().await.map_err(map_reqwest_error)?.to_vec();
            Ok(RawResponse {
                status,
                retry_after,
                location,
                body,
            })
        })
    }
}

/// A reqwest error as a transport error, without the URL (it may carry a token).
pub fn map_reqwest_error(e: reqwest::Error) -> TransportError {
    if e.is_timeout() {
        return TransportError::Timeout;
    }
    // The innermost cause says most (connection refused, DNS, TLS ...).
    let mut innermost: Option<String> = None;
    let mut cur = std::error::Error::source(&e);
    while let Some(c) = cur {
        innermost = Some(c.to_string());
        cur = c.source();
    }
    let mut text = e.without_url().to_string();
    if let Some(c) = innermost {
        text = format!("{text}: {c}");
    }
    TransportError::Network(redact_text(&text))
}
