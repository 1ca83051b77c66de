//! The access-token port: how the Graph request path asks for a bearer token (and for a new one
//! after a 401, docs/PROTOCOL.md §4.3) without depending on the sign-in layer that keeps and
//! refreshes tokens.
//!
//! The sign-in layer's `TokenSource` implements [`AccessTokens`]; tests of the request path
//! script their own. A [`TokenError`] never carries a token, only redacted text.

use futures_util::future::BoxFuture;

use super::Secret;

/// Why no access token could be had, in the terms the request path acts on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The refresh token is gone, revoked or expired: only a new sign-in helps.
    #[error("the account must sign in again")]
    NeedsSignIn,
    #[error("cancelled")]
    Cancelled,
    /// The identity platform or the keyring did not answer; worth trying again soon.
    #[error("{0}")]
    Unavailable(String),
    /// The settings do not allow getting a token (no client id, say).
    #[error("{0}")]
    Misconfigured(String),
    /// The identity platform said no for another reason (a refused client id, say).
    #[error("{0}")]
    Refused(String),
    /// Anything else (a damaged token store, an answer that makes no sense).
    #[error("{0}")]
    Failed(String),
}

impl TokenError {
    /// Worth retrying later without the user doing anything.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

/// One account's access tokens, as the request path sees them. Implementations are shared
/// between tasks; concurrent callers must not cause more than one refresh.
pub trait AccessTokens: Send + Sync + 'static {
    /// The account these tokens belong to (for logs; never a secret).
    fn account_id(&self) -> &str;

    /// A valid access token, refreshed first if it is about to expire.
    fn access_token(&self) -> BoxFuture<'_, Result<Secret, TokenError>>;

    /// Graph refused `rejected` (a 401): a new token, unless another caller already got one.
    fn refresh_after_rejection<'a>(
        &'a self,
        rejected: &'a Secret,
    ) -> BoxFuture<'a, Result<Secret, TokenError>>;

    /// True once only a new sign-in helps.
    fn needs_sign_in(&self) -> BoxFuture<'_, bool>;
}
