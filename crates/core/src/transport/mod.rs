//! What both the sign-in layer ([`crate::auth`]) and the Graph layer ([`crate::graph`]) stand on:
//! the one shared `reqwest` client, the mapping of its errors, secrets that never print, the
//! redaction of URLs and text, and the small access-token port through which Graph asks for a token
//! without knowing who keeps it. The client offers HTTP/1.1 only (`docs/PROTOCOL.md §2.10`),
//! follows no redirect (`§1.9`) and lets reqwest apply the proxy variables to Graph and sign-in
//! (`docs/PROTOCOL.md §6.1`, `§6.2`).
//!
//! This is the bottom layer: it must never import another module of this crate, so neither auth
//! nor graph can reach the other through it. Errors leaving it never carry a URL with a token.

pub mod redact;
pub mod secret;
pub mod tokens;

use std::time::Duration;

pub use redact::{redact_secret, redact_text, redact_url};
pub use secret::Secret;
pub use tokens::{AccessTokens, TokenError};

/// Time to open a TCP+TLS connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Upper bound for any single request made with the shared client.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The shared HTTP client for identity and Graph calls: HTTP/1.1 only, no redirects (token calls
/// must not be bounced elsewhere), a connect and a per-request timeout, and reqwest's default
/// `HTTPS_PROXY`/`NO_PROXY` handling.
pub fn build_http_client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .http1_only()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("DriveWatch/", env!("CARGO_PKG_VERSION")))
        .build()
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
