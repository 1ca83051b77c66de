//! Signing in and staying signed in: the device-code flow (docs/PROTOCOL.md §1.1–§1.3), per-account
//! token sources that refresh themselves (§1.5), the token store (OS keyring or private files)
//! and the accounts registry.
//!
//! [`Auth`] runs the device-code flow up to the tokens ([`Auth::begin_sign_in`]), registers the
//! account once the layer above has named it ([`Auth::finish_sign_in`]), opens the token source
//! of a registered account and signs out. It knows nothing of Graph: the request path reaches a
//! [`TokenSource`] only through the [`crate::transport::AccessTokens`] port. Nothing in this
//! module may log, print or put into an error an access token, a refresh token, an id token or a
//! device code.

pub mod accounts;
pub mod oauth;
pub mod store;
pub mod token_source;

use std::path::PathBuf;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use tracing::info;

pub use accounts::{AccountRecord, AccountsRegistry};
pub use oauth::{OAuthRefresher, SCOPES};
pub use store::TokenStore;
pub use token_source::{StoredTokens, TokenRefresher, TokenSet, TokenSource};

use crate::config::{Config, ConfigError, IdentityConfig, Paths};
use crate::model::{Account, AccountKind, AccountState, ErrorKind, SignInEvent};
pub use crate::transport::Secret;
use crate::transport::{TokenError, build_http_client};

/// What can go wrong signing in, refreshing or keeping tokens.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The refresh token was refused (or none is kept): only a new sign-in helps.
    #[error("the account must sign in again")]
    NeedsSignIn,
    #[error("the sign-in was declined")]
    Declined,
    #[error("the sign-in code expired before it was used; ask for a new one")]
    Expired,
    #[error("cancelled")]
    Cancelled,
    #[error("the identity platform did not answer in time")]
    Timeout,
    #[error("cannot reach the identity platform: {0}")]
    Network(String),
    /// An error answer other than the ones above, e.g. `invalid_client`, `AADSTS7000218`.
    #[error("the identity platform refused: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    TokenEndpoint {
        error: String,
        description: Option<String>,
    },
    #[error("unexpected answer from the identity platform: {0}")]
    InvalidResponse(String),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("the OS keyring failed: {0}")]
    Keyring(String),
    #[error("cannot read or write {path}: {source}")]
    StoreIo {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is damaged; sign in again to rewrite it")]
    StoreCorrupt { path: PathBuf },
    #[error("no account {0} is signed in")]
    UnknownAccount(String),
}

impl AuthError {
    /// Worth trying again later without the user doing anything.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Timeout | Self::Network(_) | Self::Keyring(_))
    }

    /// What kind of failure this is, for hosts (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::NeedsSignIn => ErrorKind::SignInNeeded,
            Self::Declined | Self::Expired | Self::TokenEndpoint { .. } => ErrorKind::Refused,
            Self::Cancelled => ErrorKind::Cancelled,
            Self::Timeout | Self::Network(_) => ErrorKind::Network,
            Self::Config(_) => ErrorKind::Configuration,
            Self::UnknownAccount(_) => ErrorKind::Usage,
            Self::InvalidResponse(_)
            | Self::Keyring(_)
            | Self::StoreIo { .. }
            | Self::StoreCorrupt { .. } => ErrorKind::Internal,
        }
    }
}

impl From<AuthError> for TokenError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::NeedsSignIn => Self::NeedsSignIn,
            AuthError::Cancelled => Self::Cancelled,
            AuthError::Config(c) => Self::Misconfigured(c.to_string()),
            e if e.is_transient() => Self::Unavailable(e.to_string()),
            e @ (AuthError::Declined | AuthError::Expired | AuthError::TokenEndpoint { .. }) => {
                Self::Refused(e.to_string())
            }
            other => Self::Failed(other.to_string()),
        }
    }
}

/// A device-code sign-in whose tokens arrived but whose account is not known yet: the layer
/// above reads who signed in (Graph's `/me`) through [`PendingSignIn::tokens`], then hands the
/// names to [`Auth::finish_sign_in`].
#[derive(Debug)]
pub struct PendingSignIn {
    /// Not bound to an account and not stored yet.
    pub tokens: TokenSource,
    /// What the id token says, or what the tenant implies.
    pub kind: AccountKind,
    tenant: String,
}

/// Who signed in, as the profile says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountName {
    pub id: String,
    pub display_name: String,
    pub username: String,
}

/// Sign-in, sign-out and per-account token sources over one HTTP client and one token store.
/// Cheap to clone.
#[derive(Clone, Debug)]
pub struct Auth {
    inner: Arc<AuthInner>,
}

#[derive(Debug)]
struct AuthInner {
    http: reqwest::Client,
    /// `None` without a client id: registry and status still work, sign-in and refresh do not.
    identity: Option<IdentityConfig>,
    tenant: String,
    store: TokenStore,
    accounts_file: PathBuf,
    /// Serialises registry read-modify-write within this process.
    registry_lock: tokio::sync::Mutex<()>,
}

impl Auth {
    /// From settings and paths: probes the keyring (falling back to files) and builds the
    /// shared HTTP client.
    pub async fn open(config: &Config, paths: &Paths) -> Result<Self, AuthError> {
        let http = build_http_client().map_err(|e| {
            AuthError::Network(crate::transport::redact::redact_text(&e.to_string()))
        })?;
        let store = TokenStore::open(config.token_store, paths.tokens_dir()).await;
        Self::with_parts(config, http, store, paths.accounts_file())
    }

    /// From explicit parts (an existing HTTP client or token store).
    pub fn with_parts(
        config: &Config,
        http: reqwest::Client,
        store: TokenStore,
        accounts_file: PathBuf,
    ) -> Result<Self, AuthError> {
        config.validate()?;
        Ok(Self {
            inner: Arc::new(AuthInner {
                http,
                identity: config.identity().ok(),
                tenant: config.tenant.clone(),
                store,
                accounts_file,
                registry_lock: tokio::sync::Mutex::new(()),
            }),
        })
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    pub fn token_store(&self) -> &TokenStore {
        &self.inner.store
    }

    fn identity(&self) -> Result<&IdentityConfig, AuthError> {
        self.inner
            .identity
            .as_ref()
            .ok_or(AuthError::Config(ConfigError::MissingClientId))
    }

    fn refresher(&self, tenant: &str) -> Result<Arc<dyn TokenRefresher>, AuthError> {
        let mut identity = self.identity()?.clone();
        identity.tenant = tenant.to_string();
        Ok(Arc::new(OAuthRefresher::new(
            self.inner.http.clone(),
            identity,
        )))
    }

    /// The registered accounts.
    pub fn accounts(&self) -> Result<Vec<AccountRecord>, AuthError> {
        Ok(AccountsRegistry::load(&self.inner.accounts_file)?
            .list()
            .to_vec())
    }

    /// A registered account by id or sign-in name (case-insensitive).
    pub fn find(&self, account: &str) -> Result<AccountRecord, AuthError> {
        AccountsRegistry::load(&self.inner.accounts_file)?
            .find(account)
            .cloned()
            .ok_or_else(|| AuthError::UnknownAccount(account.to_string()))
    }

    /// Marks an account as needing sign-in (or signed in) in the registry.
    pub async fn set_account_state(&self, id: &str, state: AccountState) -> Result<(), AuthError> {
        let _guard = self.inner.registry_lock.lock().await;
        AccountsRegistry::load(&self.inner.accounts_file)?.set_state(id, state)
    }

    /// Runs the device-code flow until the tokens arrive, reporting the prompt (and offline
    /// spells) through `on_event`; the outcome events are the caller's, which knows when the
    /// sign-in is complete.
    pub async fn begin_sign_in(
        &self,
        on_event: &(dyn Fn(SignInEvent) + Send + Sync),
        cancel: &CancellationToken,
    ) -> Result<PendingSignIn, AuthError> {
        let identity = self.identity()?.clone();
        let tokens =
            oauth::device_code_sign_in(&self.inner.http, &identity, on_event, cancel).await?;
        let kind = tokens
            .id_token
            .as_ref()
            .and_then(oauth::account_kind_from_id_token)
            .unwrap_or_else(|| identity.account_kind());
        let refresher = self.refresher(&identity.tenant)?;
        // The account id is known only once the caller has read the profile.
        let tokens = TokenSource::new("(signing in)", tokens, refresher, None);
        Ok(PendingSignIn {
            tokens,
            kind,
            tenant: identity.tenant,
        })
    }

    /// Stores the tokens of a sign-in under the account's id and registers the account.
    pub async fn finish_sign_in(
        &self,
        pending: PendingSignIn,
        name: AccountName,
    ) -> Result<(Account, TokenSource), AuthError> {
        let source = pending
            .tokens
            .bind(name.id.clone(), self.inner.store.clone())
            .await?;
        let account = Account {
            id: name.id,
            display_name: name.display_name,
            username: name.username,
            kind: pending.kind,
            state: AccountState::SignedIn,
        };
        {
            let _guard = self.inner.registry_lock.lock().await;
            AccountsRegistry::load(&self.inner.accounts_file)?.upsert(AccountRecord {
                account: account.clone(),
                tenant: pending.tenant,
            })?;
        }
        info!(account = %account.id, "signed in");
        Ok((account, source))
    }

    /// The token source of a registered account (by id or sign-in name), from what the store
    /// keeps; `NeedsSignIn` when it keeps nothing.
    pub async fn token_source(
        &self,
        account: &str,
    ) -> Result<(AccountRecord, TokenSource), AuthError> {
        let record = self.find(account)?;
        let tenant = if record.tenant.is_empty() {
            self.inner.tenant.clone()
        } else {
            record.tenant.clone()
        };
        let source = TokenSource::load(
            record.account.id.clone(),
            self.inner.store.clone(),
            self.refresher(&tenant)?,
        )
        .await?;
        Ok((record, source))
    }

    /// Forgets one account: its tokens and its registry entry. Other accounts are untouched;
    /// the layer above drops the account's targets and cursors.
    pub async fn sign_out(&self, account: &str) -> Result<AccountRecord, AuthError> {
        let _guard = self.inner.registry_lock.lock().await;
        let mut registry = AccountsRegistry::load(&self.inner.accounts_file)?;
        let record = registry
            .find(account)
            .cloned()
            .ok_or_else(|| AuthError::UnknownAccount(account.to_string()))?;
        self.inner.store.remove(&record.account.id).await?;
        registry.remove(&record.account.id)?;
        info!(account = %record.account.id, "signed out");
        Ok(record)
    }
}
