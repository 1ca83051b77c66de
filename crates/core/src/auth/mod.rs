//! Signing in and staying signed in: the device-code flow, per-account token sources that refresh
//! themselves, the token store (OS keyring or private files) and the accounts registry.
//!
//! [`Auth`] is what hosts and the engine use: sign in (events from prompt to outcome), open a
//! [`GraphClient`] for a registered account, sign out. Nothing in this module may log, print or
//! put into an error an access token, a refresh token, an id token or a device code.

pub mod accounts;
pub mod oauth;
pub mod secret;
pub mod store;
pub mod token_source;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use tracing::info;
use url::Url;

pub use accounts::{AccountRecord, AccountsRegistry};
pub use oauth::{OAuthRefresher, SCOPES};
pub use secret::Secret;
pub use store::TokenStore;
pub use token_source::{StoredTokens, TokenRefresher, TokenSet, TokenSource};

use crate::config::{Config, ConfigError, IdentityConfig, Paths};
use crate::graph::{GraphClient, GraphError, build_http_client};
use crate::model::{Account, AccountState, SignInEvent};

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
    /// Signed in, but reading the profile (`GET /me`) failed.
    #[error("signed in, but reading the account's profile failed: {0}")]
    Profile(#[source] Box<GraphError>),
    #[error("no account {0} is signed in")]
    UnknownAccount(String),
}

impl AuthError {
    /// Worth trying again later without the user doing anything.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Timeout | Self::Network(_) | Self::Keyring(_))
    }
}

/// A finished sign-in.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub account: Account,
    pub graph: GraphClient,
}

/// Sign-in, sign-out and per-account Graph clients over one HTTP client and one token store.
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
    graph_url: Url,
    store: TokenStore,
    accounts_file: PathBuf,
    /// Serialises registry read-modify-write within this process.
    registry_lock: tokio::sync::Mutex<()>,
    /// One Graph client per account, so every target of an account shares its token source
    /// (one refresh at a time) and its throttle gate (a Retry-After pauses all of them).
    clients: std::sync::Mutex<HashMap<String, GraphClient>>,
}

impl Auth {
    /// From settings and paths: probes the keyring (falling back to files) and builds the
    /// shared HTTP client.
    pub async fn open(config: &Config, paths: &Paths) -> Result<Self, AuthError> {
        let http = build_http_client()
            .map_err(|e| AuthError::Network(crate::graph::redact::redact_text(&e.to_string())))?;
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
                graph_url: config.graph_url.clone(),
                store,
                accounts_file,
                registry_lock: tokio::sync::Mutex::new(()),
                clients: std::sync::Mutex::new(HashMap::new()),
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

    /// Marks an account as needing sign-in (or signed in) in the registry.
    pub async fn set_account_state(&self, id: &str, state: AccountState) -> Result<(), AuthError> {
        let _guard = self.inner.registry_lock.lock().await;
        AccountsRegistry::load(&self.inner.accounts_file)?.set_state(id, state)
    }

    /// Runs the device-code flow, names the account with `GET /me`, stores its tokens and
    /// registers it. Every step is reported through `on_event`, ending in exactly one of
    /// `SignedIn`, `Declined`, `Expired` or `Failed` (nothing after cancellation).
    pub async fn sign_in(
        &self,
        on_event: &(dyn Fn(SignInEvent) + Send + Sync),
        cancel: &CancellationToken,
    ) -> Result<SignedIn, AuthError> {
        let result = self.sign_in_inner(on_event, cancel).await;
        match &result {
            Ok(done) => on_event(SignInEvent::SignedIn {
                account: done.account.clone(),
            }),
            Err(AuthError::Cancelled) => {}
            Err(AuthError::Declined) => on_event(SignInEvent::Declined),
            Err(AuthError::Expired) => on_event(SignInEvent::Expired),
            Err(e) => on_event(SignInEvent::Failed {
                message: e.to_string(),
            }),
        }
        result
    }

    async fn sign_in_inner(
        &self,
        on_event: &(dyn Fn(SignInEvent) + Send + Sync),
        cancel: &CancellationToken,
    ) -> Result<SignedIn, AuthError> {
        let identity = self.identity()?.clone();
        let tokens =
            oauth::device_code_sign_in(&self.inner.http, &identity, on_event, cancel).await?;
        let kind_from_token = tokens
            .id_token
            .as_ref()
            .and_then(oauth::account_kind_from_id_token);
        let refresher = self.refresher(&identity.tenant)?;
        // The account id is known only after `/me`: read it with an unbound source first.
        let pending = TokenSource::new("(signing in)", tokens, refresher, None);
        let graph = GraphClient::new(
            self.inner.http.clone(),
            self.inner.graph_url.clone(),
            pending.clone(),
        )
        .map_err(|e| AuthError::Profile(Box::new(e)))?;
        let me = graph.me(cancel).await.map_err(|e| match e {
            GraphError::Cancelled => AuthError::Cancelled,
            other => AuthError::Profile(Box::new(other)),
        })?;
        let source = pending
            .bind(me.id.clone(), self.inner.store.clone())
            .await?;
        let kind = kind_from_token.unwrap_or_else(|| identity.account_kind());
        let account = Account {
            id: me.id.clone(),
            display_name: me
                .display_name
                .clone()
                .or_else(|| me.user_principal_name.clone())
                .unwrap_or_else(|| me.id.clone()),
            username: me
                .user_principal_name
                .clone()
                .or_else(|| me.mail.clone())
                .unwrap_or_default(),
            kind,
            state: AccountState::SignedIn,
        };
        {
            let _guard = self.inner.registry_lock.lock().await;
            AccountsRegistry::load(&self.inner.accounts_file)?.upsert(AccountRecord {
                account: account.clone(),
                tenant: identity.tenant.clone(),
            })?;
        }
        info!(account = %account.id, "signed in");
        let graph = GraphClient::new(
            self.inner.http.clone(),
            self.inner.graph_url.clone(),
            source,
        )
        .map_err(|e| AuthError::Profile(Box::new(e)))?;
        self.clients().insert(account.id.clone(), graph.clone());
        Ok(SignedIn { account, graph })
    }

    fn clients(&self) -> std::sync::MutexGuard<'_, HashMap<String, GraphClient>> {
        self.inner.clients.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The Graph client of a registered account (by id or sign-in name). Every call for the same
    /// account returns a clone of one client; one that needs sign-in is reloaded from the store,
    /// where a newer sign-in (in this or another process) may have put fresh tokens.
    pub async fn graph_for(&self, account: &str) -> Result<GraphClient, AuthError> {
        let record = AccountsRegistry::load(&self.inner.accounts_file)?
            .find(account)
            .cloned()
            .ok_or_else(|| AuthError::UnknownAccount(account.to_string()))?;
        let id = record.account.id.clone();
        let cached = self.clients().get(&id).cloned();
        if let Some(client) = cached {
            if !client.tokens().needs_sign_in().await {
                return Ok(client);
            }
        }
        let tenant = if record.tenant.is_empty() {
            self.inner.tenant.clone()
        } else {
            record.tenant.clone()
        };
        let source = TokenSource::load(
            id.clone(),
            self.inner.store.clone(),
            self.refresher(&tenant)?,
        )
        .await?;
        let client = GraphClient::new(
            self.inner.http.clone(),
            self.inner.graph_url.clone(),
            source,
        )
        .map_err(|e| AuthError::Profile(Box::new(e)))?;
        // Another caller may have loaded one meanwhile: keep the first, so all share one client.
        let existing = self.clients().get(&id).cloned();
        if let Some(existing) = existing {
            if !existing.tokens().needs_sign_in().await {
                return Ok(existing);
            }
        }
        self.clients().insert(id, client.clone());
        Ok(client)
    }

    /// Forgets one account: its tokens and its registry entry. Other accounts are untouched;
    /// the engine drops the account's targets and cursors.
    pub async fn sign_out(&self, account: &str) -> Result<AccountRecord, AuthError> {
        let _guard = self.inner.registry_lock.lock().await;
        let mut registry = AccountsRegistry::load(&self.inner.accounts_file)?;
        let record = registry
            .find(account)
            .cloned()
            .ok_or_else(|| AuthError::UnknownAccount(account.to_string()))?;
        self.clients().remove(&record.account.id);
        self.inner.store.remove(&record.account.id).await?;
        registry.remove(&record.account.id)?;
        info!(account = %record.account.id, "signed out");
        Ok(record)
    }
}
