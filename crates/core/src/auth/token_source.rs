//! One account's access token, kept fresh: refreshed about five minutes before it expires, or
//! once when Graph rejects it, with every rotated refresh token persisted at once
//! (`docs/PROTOCOL.md §1.5` rotation and revocation, `§4.3` the 401 that asks for one refresh).
//!
//! Concurrency: one lock serialises refreshes, so many tasks asking at once cause one refresh.
//! After `invalid_grant` the source stays in "needs sign-in" and never calls the identity
//! platform again (no retry loop). Tokens never appear in its Debug output or errors.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use tracing::{debug, warn};

use super::store::TokenStore;
use super::{AuthError, Secret};
use crate::transport::{AccessTokens, TokenError};

/// Refresh when less than this is left.
pub const REFRESH_MARGIN: chrono::Duration = chrono::Duration::minutes(5);

/// What a token response gives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenSet {
    pub access_token: Secret,
    /// Absent when the platform did not rotate it: keep the old one.
    pub refresh_token: Option<Secret>,
    pub expires_at: DateTime<Utc>,
    /// Only on sign-in (scope `openid`); not stored.
    #[serde(skip)]
    pub id_token: Option<Secret>,
}

/// What the token store keeps for an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredTokens {
    pub refresh_token: Secret,
    /// Kept by the file store only, so short-lived commands need no refresh.
    #[serde(default)]
    pub access_token: Option<Secret>,
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// Exchanges a refresh token for new tokens. The real one is `OAuthRefresher`.
pub trait TokenRefresher: Send + Sync + 'static {
    fn refresh<'a>(
        &'a self,
        refresh_token: &'a Secret,
    ) -> Pin<Box<dyn Future<Output = Result<TokenSet, AuthError>> + Send + 'a>>;
}

/// An account's tokens. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct TokenSource {
    inner: Arc<Inner>,
}

struct Inner {
    account_id: String,
    /// Held across a refresh so concurrent callers wait for it instead of refreshing again.
    state: tokio::sync::Mutex<State>,
    refresher: Arc<dyn TokenRefresher>,
    /// Where rotated refresh tokens go; `None` only before the account id is known.
    store: Option<TokenStore>,
}

struct State {
    access: Option<Secret>,
    expires_at: Option<DateTime<Utc>>,
    refresh: Option<Secret>,
    /// Set by `invalid_grant`; from then on no call reaches the identity platform.
    needs_sign_in: bool,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSource")
            .field("account_id", &self.inner.account_id)
            .finish_non_exhaustive()
    }
}

impl TokenSource {
    /// A source from fresh tokens (just signed in).
    pub fn new(
        account_id: impl Into<String>,
        tokens: TokenSet,
        refresher: Arc<dyn TokenRefresher>,
        store: Option<TokenStore>,
    ) -> Self {
        Self::from_state(
            account_id.into(),
            State {
                access: Some(tokens.access_token),
                expires_at: Some(tokens.expires_at),
                refresh: tokens.refresh_token,
                needs_sign_in: false,
            },
            refresher,
            store,
        )
    }

    /// A source from what the store kept for `account_id`; `NeedsSignIn` if nothing is kept.
    pub async fn load(
        account_id: impl Into<String>,
        store: TokenStore,
        refresher: Arc<dyn TokenRefresher>,
    ) -> Result<Self, AuthError> {
        let account_id = account_id.into();
        let stored = store
            .load(&account_id)
            .await?
            .ok_or(AuthError::NeedsSignIn)?;
        Ok(Self::from_state(
            account_id,
            State {
                access: stored.access_token,
                expires_at: stored.expires_at,
                refresh: Some(stored.refresh_token),
                needs_sign_in: false,
            },
            refresher,
            Some(store),
        ))
    }

    fn from_state(
        account_id: String,
        state: State,
        refresher: Arc<dyn TokenRefresher>,
        store: Option<TokenStore>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                account_id,
                state: tokio::sync::Mutex::new(state),
                refresher,
                store,
            }),
        }
    }

    /// The same tokens under a known account id, persisted to `store`.
    pub async fn bind(
        &self,
        account_id: impl Into<String>,
        store: TokenStore,
    ) -> Result<Self, AuthError> {
        let account_id = account_id.into();
        let state = self.inner.state.lock().await;
        let source = Self::from_state(
            account_id.clone(),
            State {
                access: state.access.clone(),
                expires_at: state.expires_at,
                refresh: state.refresh.clone(),
                needs_sign_in: state.needs_sign_in,
            },
            self.inner.refresher.clone(),
            Some(store.clone()),
        );
        if let Some(stored) = stored_of(&state) {
            store.save(&account_id, &stored).await?;
        }
        Ok(source)
    }

    pub fn account_id(&self) -> &str {
        &self.inner.account_id
    }

    /// True once the refresh token was refused; only a new sign-in helps.
    pub async fn needs_sign_in(&self) -> bool {
        self.inner.state.lock().await.needs_sign_in
    }

    /// A valid access token, refreshed first when less than five minutes are left.
    pub async fn access_token(&self) -> Result<Secret, AuthError> {
        let mut state = self.inner.state.lock().await;
        if state.needs_sign_in {
            return Err(AuthError::NeedsSignIn);
        }
        if let (Some(access), Some(expires_at)) = (&state.access, state.expires_at) {
            if expires_at - Utc::now() > REFRESH_MARGIN {
                return Ok(access.clone());
            }
        }
        match self.refresh_locked(&mut state).await {
            Ok(token) => Ok(token),
            // A transient failure while the old token still works: use it, refresh next time.
            Err(e) if e.is_transient() => match (&state.access, state.expires_at) {
                (Some(access), Some(exp)) if exp > Utc::now() + chrono::Duration::seconds(30) => {
                    debug!(account = %self.inner.account_id, error = %e, "early refresh failed; the current token is still valid");
                    Ok(access.clone())
                }
                _ => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    /// Graph refused `rejected`: refresh once, unless another caller already did.
    pub async fn refresh_after_401(&self, rejected: &Secret) -> Result<Secret, AuthError> {
        let mut state = self.inner.state.lock().await;
        if state.needs_sign_in {
            return Err(AuthError::NeedsSignIn);
        }
        if let Some(current) = &state.access {
            if current != rejected {
                return Ok(current.clone());
            }
        }
        self.refresh_locked(&mut state).await
    }

    async fn refresh_locked(&self, state: &mut State) -> Result<Secret, AuthError> {
        let Some(refresh) = state.refresh.clone() else {
            state.needs_sign_in = true;
            return Err(AuthError::NeedsSignIn);
        };
        debug!(account = %self.inner.account_id, "refreshing the access token");
        let mut result = self.inner.refresher.refresh(&refresh).await;
        if matches!(result, Err(AuthError::NeedsSignIn)) {
            // Another process (a second host, a CLI command) may have rotated the token since we
            // read it, or signed in again: try the stored one, once.
            if let Some(newer) = self.newer_stored_refresh_token(&refresh).await {
                debug!(account = %self.inner.account_id, "refresh refused; trying the token another process stored");
                state.refresh = Some(newer.clone());
                result = self.inner.refresher.refresh(&newer).await;
            }
        }
        match result {
            Ok(set) => {
                state.access = Some(set.access_token.clone());
                state.expires_at = Some(set.expires_at);
                if let Some(rotated) = set.refresh_token {
                    state.refresh = Some(rotated);
                }
                if let (Some(store), Some(stored)) = (&self.inner.store, stored_of(state)) {
                    // Persist at once: the old refresh token may stop working soon.
                    if let Err(e) = store.save(&self.inner.account_id, &stored).await {
                        warn!(account = %self.inner.account_id, error = %e, "could not persist the rotated refresh token");
                    }
                }
                Ok(set.access_token)
            }
            Err(AuthError::NeedsSignIn) => {
                warn!(account = %self.inner.account_id, "the refresh token was refused; the account must sign in again");
                state.needs_sign_in = true;
                state.access = None;
                Err(AuthError::NeedsSignIn)
            }
            Err(e) => Err(e),
        }
    }

    /// The stored refresh token, if it differs from `used`.
    async fn newer_stored_refresh_token(&self, used: &Secret) -> Option<Secret> {
        let store = self.inner.store.as_ref()?;
        let stored = store.load(&self.inner.account_id).await.ok()??;
        (stored.refresh_token != *used).then_some(stored.refresh_token)
    }
}

/// The port through which Graph's request path gets this account's tokens.
impl AccessTokens for TokenSource {
    fn account_id(&self) -> &str {
        TokenSource::account_id(self)
    }

    fn access_token(&self) -> BoxFuture<'_, Result<Secret, TokenError>> {
        Box::pin(async move { Ok(TokenSource::access_token(self).await?) })
    }

    fn refresh_after_rejection<'a>(
        &'a self,
        rejected: &'a Secret,
    ) -> BoxFuture<'a, Result<Secret, TokenError>> {
        Box::pin(async move { Ok(self.refresh_after_401(rejected).await?) })
    }

    fn needs_sign_in(&self) -> BoxFuture<'_, bool> {
        Box::pin(TokenSource::needs_sign_in(self))
    }
}

fn stored_of(state: &State) -> Option<StoredTokens> {
    Some(StoredTokens {
        refresh_token: state.refresh.clone()?,
        access_token: state.access.clone(),
        expires_at: state.expires_at,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Hands out `AT{n}`/`RT{n}`, or the scripted failure.
    pub(crate) struct ScriptedRefresher {
        pub calls: AtomicUsize,
        pub fail_with: Mutex<Option<fn() -> AuthError>>,
        pub seen: Mutex<Vec<String>>,
        /// Refresh tokens answered with `invalid_grant`.
        pub revoked: Mutex<Vec<String>>,
        /// The next this-many calls fail with a network error.
        pub network_failures: AtomicUsize,
    }

    impl ScriptedRefresher {
        pub fn new() -> Arc<Self> {
            Arc::new(Self {
                calls: AtomicUsize::new(0),
                fail_with: Mutex::new(None),
                seen: Mutex::new(Vec::new()),
                revoked: Mutex::new(Vec::new()),
                network_failures: AtomicUsize::new(0),
            })
        }
    }

    impl TokenRefresher for ScriptedRefresher {
        fn refresh<'a>(
            &'a self,
            refresh_token: &'a Secret,
        ) -> Pin<Box<dyn Future<Output = Result<TokenSet, AuthError>> + Send + 'a>> {
            Box::pin(async move {
                let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
                self.seen
                    .lock()
                    .unwrap()
                    .push(refresh_token.expose().to_string());
                if let Some(f) = *self.fail_with.lock().unwrap() {
                    return Err(f());
                }
                if self
                    .network_failures
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok()
                {
                    return Err(AuthError::Network("unreachable".into()));
                }
                if self
                    .revoked
                    .lock()
                    .unwrap()
                    .iter()
                    .any(|r| r == refresh_token.expose())
                {
                    return Err(AuthError::NeedsSignIn);
                }
                Ok(TokenSet {
                    access_token: Secret::new(format!("AT{n}")),
                    refresh_token: Some(Secret::new(format!("RT{n}"))),
                    expires_at: Utc::now() + chrono::Duration::hours(1),
                    id_token: None,
                })
            })
        }
    }

    fn tokens(access: &str, expires_in: chrono::Duration) -> TokenSet {
        TokenSet {
            access_token: Secret::new(access),
            refresh_token: Some(Secret::new("RT0")),
            expires_at: Utc::now() + expires_in,
            id_token: None,
        }
    }

    #[tokio::test]
    async fn fresh_token_is_used_as_is() {
        let r = ScriptedRefresher::new();
        let ts = TokenSource::new(
            "a",
            tokens("AT0", chrono::Duration::hours(1)),
            r.clone(),
            None,
        );
        assert_eq!(ts.access_token().await.unwrap().expose(), "AT0");
        assert_eq!(r.calls.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn refreshes_five_minutes_before_expiry_and_persists_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::file(dir.path());
        let r = ScriptedRefresher::new();
        let ts = TokenSource::new(
            "acc",
            tokens("AT0", chrono::Duration::minutes(4)),
            r.clone(),
            Some(store.clone()),
        );
        assert_eq!(ts.access_token().await.unwrap().expose(), "AT1");
        assert_eq!(r.seen.lock().unwrap().as_slice(), ["RT0"]);
        let kept = store.load("acc").await.unwrap().unwrap();
        assert_eq!(kept.refresh_token.expose(), "RT1");
        // The next refresh uses the rotated token.
        ts.refresh_after_401(&Secret::new("AT1")).await.unwrap();
        assert_eq!(r.seen.lock().unwrap().as_slice(), ["RT0", "RT1"]);
        assert_eq!(
            store
                .load("acc")
                .await
                .unwrap()
                .unwrap()
                .refresh_token
                .expose(),
            "RT2"
        );
    }

    #[tokio::test]
    async fn concurrent_401s_cause_one_refresh() {
        let r = ScriptedRefresher::new();
        let ts = TokenSource::new(
            "a",
            tokens("AT0", chrono::Duration::hours(1)),
            r.clone(),
            None,
        );
        let rejected = Secret::new("AT0");
        let (a, b) = tokio::join!(
            ts.refresh_after_401(&rejected),
            ts.refresh_after_401(&rejected)
        );
        assert_eq!(a.unwrap().expose(), "AT1");
        assert_eq!(b.unwrap().expose(), "AT1");
        assert_eq!(r.calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn invalid_grant_means_needs_sign_in_without_retrying() {
        let r = ScriptedRefresher::new();
        *r.fail_with.lock().unwrap() = Some(|| AuthError::NeedsSignIn);
        let ts = TokenSource::new(
            "a",
            tokens("AT0", chrono::Duration::seconds(10)),
            r.clone(),
            None,
        );
        for _ in 0..5 {
            assert!(matches!(
                ts.access_token().await,
                Err(AuthError::NeedsSignIn)
            ));
            assert!(matches!(
                ts.refresh_after_401(&Secret::new("AT0")).await,
                Err(AuthError::NeedsSignIn)
            ));
        }
        assert_eq!(r.calls.load(Ordering::SeqCst), 1);
        assert!(ts.needs_sign_in().await);
    }

    #[tokio::test]
    async fn a_token_rotated_by_another_process_is_picked_up_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::file(dir.path());
        let r = ScriptedRefresher::new();
        let ts = TokenSource::new(
            "acc",
            tokens("AT0", chrono::Duration::seconds(10)),
            r.clone(),
            Some(store.clone()),
        );
        // Another process rotated RT0 into RTX and stored it; RT0 no longer works.
        store
            .save(
                "acc",
                &StoredTokens {
                    refresh_token: Secret::new("RTX"),
                    access_token: None,
                    expires_at: None,
                },
            )
            .await
            .unwrap();
        r.revoked.lock().unwrap().push("RT0".into());
        assert_eq!(ts.access_token().await.unwrap().expose(), "AT2");
        assert_eq!(r.seen.lock().unwrap().as_slice(), ["RT0", "RTX"]);
        assert_eq!(
            store
                .load("acc")
                .await
                .unwrap()
                .unwrap()
                .refresh_token
                .expose(),
            "RT2"
        );

        // When the stored one is refused too, that is the end: no third try, no loop.
        r.revoked.lock().unwrap().extend(["RT2".to_string()]);
        assert!(matches!(
            ts.refresh_after_401(&Secret::new("AT2")).await,
            Err(AuthError::NeedsSignIn)
        ));
        assert_eq!(r.calls.load(Ordering::SeqCst), 3);
        assert!(matches!(
            ts.access_token().await,
            Err(AuthError::NeedsSignIn)
        ));
        assert_eq!(r.calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn transient_refresh_failure_keeps_a_still_valid_token() {
        let r = ScriptedRefresher::new();
        *r.fail_with.lock().unwrap() = Some(|| AuthError::Network("down".into()));
        let ts = TokenSource::new(
            "a",
            tokens("AT0", chrono::Duration::minutes(3)),
            r.clone(),
            None,
        );
        assert_eq!(ts.access_token().await.unwrap().expose(), "AT0");
        let expired = TokenSource::new("b", tokens("AT0", chrono::Duration::seconds(-1)), r, None);
        assert!(matches!(
            expired.access_token().await,
            Err(AuthError::Network(_))
        ));
        assert!(!expired.needs_sign_in().await);
    }

    #[tokio::test]
    async fn load_without_stored_tokens_needs_sign_in() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::file(dir.path());
        let r = ScriptedRefresher::new();
        assert!(matches!(
            TokenSource::load("nobody", store, r).await,
            Err(AuthError::NeedsSignIn)
        ));
    }

    #[tokio::test]
    async fn the_access_token_port_refreshes_once_and_maps_errors() {
        let r = ScriptedRefresher::new();
        let ts = TokenSource::new(
            "a",
            tokens("AT0", chrono::Duration::hours(1)),
            r.clone(),
            None,
        );
        let port: &dyn AccessTokens = &ts;
        assert_eq!(port.account_id(), "a");
        assert_eq!(port.access_token().await.unwrap().expose(), "AT0");
        let rejected = Secret::new("AT0");
        assert_eq!(
            port.refresh_after_rejection(&rejected)
                .await
                .unwrap()
                .expose(),
            "AT1"
        );
        // Someone else already refreshed: the newer token, no second refresh.
        assert_eq!(
            port.refresh_after_rejection(&rejected)
                .await
                .unwrap()
                .expose(),
            "AT1"
        );
        assert_eq!(r.calls.load(Ordering::SeqCst), 1);
        r.revoked.lock().unwrap().push("RT1".into());
        assert_eq!(
            port.refresh_after_rejection(&Secret::new("AT1")).await,
            Err(TokenError::NeedsSignIn)
        );
        assert!(port.needs_sign_in().await);
        *r.fail_with.lock().unwrap() = Some(|| AuthError::Network("down".into()));
        let offline = TokenSource::new("b", tokens("AT0", chrono::Duration::seconds(-1)), r, None);
        assert!(matches!(
            AccessTokens::access_token(&offline).await,
            Err(TokenError::Unavailable(_))
        ));
    }

    #[test]
    fn debug_shows_no_tokens() {
        let set = tokens("ACCESS-SECRET", chrono::Duration::hours(1));
        assert!(!format!("{set:?}").contains("ACCESS-SECRET"));
        let ts = TokenSource::new("a", set, ScriptedRefresher::new(), None);
        assert!(!format!("{ts:?}").contains("ACCESS-SECRET"));
    }
}
