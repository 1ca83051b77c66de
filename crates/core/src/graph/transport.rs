//! The HTTP underneath Graph: a small transport trait so the retry policy can be tested without
//! a network, and its implementation over the shared `reqwest` client (built in
//! [`crate::transport`]).
//!
//! Errors leaving this module never carry a URL with a token.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use url::Url;

use crate::transport::Secret;
pub use crate::transport::{TransportError, map_reqwest_error};

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
