//! The use-cases both hosts share, over the settings, the accounts registry and the history:
//! sign in (and watch the account's own OneDrive), sign out, add and remove targets, name an
//! account by id or sign-in name, read the history, check an account against Graph.
//!
//! A [`Workspace`] never watches anything: [`crate::engine::Engine`] composes one and starts or
//! stops its watches around these calls, and the CLI's short commands call it directly. It is
//! also where the sign-in layer and the Graph layer meet (naming a freshly signed-in account with
//! `GET /me`, one Graph client per account), so neither of them has to know the other. It must
//! never hold a token itself (the token sources do), and never write a setting that came from a
//! flag or the environment back to the file when it was opened with [`SaveSettings::ChangesOnly`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::auth::{AccountName, AccountRecord, AccountsRegistry, Auth, AuthError};
use crate::config::{Config, Paths, TargetConfig, TokenStoreKind};
use crate::error::EngineError;
use crate::graph::{GraphClient, GraphError};
use crate::history::{HistoryError, HistoryStore};
use crate::model::{
    Account, AccountKind, AccountState, Change, HistoryPage, HistoryQuery, Preferences,
    SignInEvent, TargetSpec,
};

/// What a host asks to watch: a target spec or a pasted OneDrive/SharePoint URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetInput {
    Spec(TargetSpec),
    Url(String),
}

/// How a change of the settings reaches the settings file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveSettings {
    /// The settings this workspace was given are the ones to keep: every change saves all of
    /// them (a long-running host that loaded them once).
    All,
    /// Every change re-reads the file and saves only that change into it, so values that came
    /// from flags or the environment hold for this run only (the CLI's short commands).
    ChangesOnly,
}

/// A finished sign-in.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub account: Account,
    pub graph: GraphClient,
    /// The account's own OneDrive, when this sign-in started watching it (the account had no
    /// target yet); `None` when the account's targets were already in the settings.
    pub added: Option<TargetConfig>,
}

/// A finished sign-out.
#[derive(Debug, Clone)]
pub struct SignedOut {
    pub record: AccountRecord,
    /// The ids of the targets that were removed with the account.
    pub removed: Vec<String>,
}

/// What a check of one account against Graph found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountCheck {
    Ok,
    NeedsSignIn,
    /// Graph or the identity platform could not be asked (network, throttling, ...): the
    /// account may be fine.
    Unreachable(String),
}

/// Settings, accounts and history, and the use-cases over them. Cheap to clone.
#[derive(Clone)]
pub struct Workspace {
    inner: Arc<Inner>,
}

struct Inner {
    paths: Paths,
    /// The settings in effect; held across each change so changes apply one at a time.
    config: tokio::sync::Mutex<Config>,
    save: SaveSettings,
    /// Opened on first use: listing accounts or targets needs neither the keyring nor valid
    /// endpoints.
    auth: tokio::sync::OnceCell<Auth>,
    /// Opened on first use, and only once the database exists: a short command that only reads
    /// never creates it.
    history: std::sync::Mutex<Option<HistoryStore>>,
    /// One Graph client per account, so every target of an account shares its token source
    /// (one refresh at a time) and its throttle gate (a Retry-After pauses all of them,
    /// docs/PROTOCOL.md §4.2).
    clients: std::sync::Mutex<HashMap<String, GraphClient>>,
}

impl std::fmt::Debug for Workspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workspace")
            .field("paths", &self.inner.paths)
            .finish_non_exhaustive()
    }
}

/// A stable target id from the account and what is watched. Hosts that edit the settings file
/// without a running engine (the CLI's short commands) use it too, so ids always agree.
pub fn target_id(account: &str, spec: &TargetSpec) -> String {
    let what = match spec {
        TargetSpec::MyDrive => "me".to_owned(),
        TargetSpec::Drive { drive_id } => format!("drive:{drive_id}"),
        TargetSpec::DriveList { drive_id } => format!("list:{drive_id}"),
        TargetSpec::GroupDrive { group_id } => format!("group:{group_id}"),
        TargetSpec::SiteList { site_id, list_id } => format!("site:{site_id}:{list_id}"),
    };
    format!("{account}/{what}")
}

/// The identity platform tenant for a sign-in of `kind`.
fn tenant_for(kind: AccountKind, configured: &str) -> String {
    let generic = ["common", "consumers", "organizations"];
    match kind {
        AccountKind::Any => configured.to_owned(),
        AccountKind::Personal => "consumers".to_owned(),
        AccountKind::Work if generic.contains(&configured.to_ascii_lowercase().as_str()) => {
            "organizations".to_owned()
        }
        AccountKind::Work => configured.to_owned(),
    }
}

/// Untrusted text (names from the directory) without control characters, for a message.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

/// Runs a history call off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, HistoryError> + Send + 'static,
) -> Result<T, EngineError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| EngineError::Worker)?
        .map_err(EngineError::from)
}

impl Workspace {
    /// Over the settings and paths of this run; the sign-in layer and the history are opened
    /// when first needed.
    pub fn open(config: Config, paths: Paths, save: SaveSettings) -> Self {
        Self::build(config, paths, save, tokio::sync::OnceCell::new(), None)
    }

    /// Over explicit parts (the engine's, or a test's own sign-in layer or in-memory history).
    pub fn with_parts(
        config: Config,
        paths: Paths,
        auth: Auth,
        history: Option<HistoryStore>,
        save: SaveSettings,
    ) -> Self {
        Self::build(
            config,
            paths,
            save,
            tokio::sync::OnceCell::new_with(Some(auth)),
            history,
        )
    }

    fn build(
        config: Config,
        paths: Paths,
        save: SaveSettings,
        auth: tokio::sync::OnceCell<Auth>,
        history: Option<HistoryStore>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                paths,
                config: tokio::sync::Mutex::new(config),
                save,
                auth,
                history: std::sync::Mutex::new(history),
                clients: std::sync::Mutex::new(HashMap::new()),
            }),
        }
    }

    pub fn paths(&self) -> &Paths {
        &self.inner.paths
    }

    /// The sign-in layer (opened now if it was not yet: probes the keyring, checks endpoints).
    pub async fn auth(&self) -> Result<&Auth, EngineError> {
        let config = self.config().await;
        Ok(self
            .inner
            .auth
            .get_or_try_init(|| Auth::open(&config, &self.inner.paths))
            .await?)
    }

    /// Where tokens are kept.
    pub async fn token_store_kind(&self) -> Result<TokenStoreKind, EngineError> {
        Ok(self.auth().await?.token_store().kind())
    }

    /// The settings in effect.
    pub async fn config(&self) -> Config {
        self.inner.config.lock().await.clone()
    }

    /// The watched targets as the settings list them.
    pub async fn targets(&self) -> Vec<TargetConfig> {
        self.inner.config.lock().await.targets.clone()
    }

    /// The ids of an account's targets.
    pub async fn targets_of(&self, account_id: &str) -> Vec<String> {
        let config = self.inner.config.lock().await;
        config
            .targets
            .iter()
            .filter(|t| t.account == account_id)
            .map(|t| t.id.clone())
            .collect()
    }

    pub async fn preferences(&self) -> Preferences {
        self.inner.config.lock().await.preferences.clone()
    }

    pub async fn set_preferences(&self, preferences: Preferences) -> Result<(), EngineError> {
        self.change_settings(move |c| c.preferences = preferences.clone())
            .await
    }

    /// Applies `change` to the settings in effect and saves it (see [`SaveSettings`]).
    async fn change_settings(&self, change: impl Fn(&mut Config)) -> Result<(), EngineError> {
        let path = self.inner.paths.config_file();
        let mut config = self.inner.config.lock().await;
        let mut next = config.clone();
        change(&mut next);
        match self.inner.save {
            SaveSettings::All => next.save(&path)?,
            SaveSettings::ChangesOnly => {
                self.inner.paths.ensure()?;
                let mut on_disk = Config::load(&path)?;
                change(&mut on_disk);
                on_disk.save(&path)?;
            }
        }
        *config = next;
        Ok(())
    }

    /// The registered accounts.
    pub fn accounts(&self) -> Result<Vec<AccountRecord>, EngineError> {
        Ok(match self.inner.auth.get() {
            Some(auth) => auth.accounts()?,
            None => AccountsRegistry::load(self.inner.paths.accounts_file())?
                .list()
                .to_vec(),
        })
    }

    /// The account `wanted` names (its id, or its sign-in name in any case); with `None`, the
    /// only signed-in account.
    pub fn find_account(&self, wanted: Option<&str>) -> Result<AccountRecord, EngineError> {
        let accounts = self.accounts()?;
        match wanted {
            Some(w) => accounts
                .into_iter()
                .find(|r| r.account.id == w || r.account.username.eq_ignore_ascii_case(w))
                .ok_or_else(|| EngineError::UnknownAccount(printable(w))),
            None => match accounts.len() {
                0 => Err(EngineError::NoAccount),
                1 => Ok(accounts.into_iter().next().expect("one account")),
                _ => Err(EngineError::AmbiguousAccount(
                    accounts
                        .iter()
                        .map(|r| printable(&r.account.username))
                        .collect::<Vec<_>>()
                        .join(", "),
                )),
            },
        }
    }

    /// Marks an account as needing sign-in (or signed in); the account as it is now.
    pub async fn set_account_state(
        &self,
        id: &str,
        state: AccountState,
    ) -> Result<Option<Account>, EngineError> {
        self.auth().await?.set_account_state(id, state).await?;
        Ok(self
            .accounts()?
            .into_iter()
            .find(|r| r.account.id == id)
            .map(|r| r.account))
    }

    fn clients(&self) -> std::sync::MutexGuard<'_, HashMap<String, GraphClient>> {
        self.inner.clients.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The Graph client of a registered account (by id or sign-in name). Every call for the same
    /// account returns a clone of one client; one that needs sign-in is reloaded from the store,
    /// where a newer sign-in (in this or another process) may have put fresh tokens.
    pub async fn graph_for(&self, account: &str) -> Result<GraphClient, EngineError> {
        let auth = self.auth().await?;
        let id = self.find_account(Some(account))?.account.id;
        let cached = self.clients().get(&id).cloned();
        if let Some(client) = cached {
            if !client.tokens().needs_sign_in().await {
                return Ok(client);
            }
        }
        let (_, source) = auth.token_source(&id).await?;
        let client = GraphClient::new(auth.http().clone(), self.graph_url().await, source)?;
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

    async fn graph_url(&self) -> url::Url {
        self.inner.config.lock().await.graph_url.clone()
    }

    /// Signs in with the device-code flow, names the account with `GET /me`, stores its tokens
    /// and registers it; then, when the settings list no target of the account yet, watches its
    /// own OneDrive. Every step is reported through `on_event`, ending in exactly one of
    /// `SignedIn`, `Declined`, `Expired` or `Failed` (nothing after cancellation).
    pub async fn sign_in(
        &self,
        kind: AccountKind,
        on_event: &(dyn Fn(SignInEvent) + Send + Sync),
        cancel: &CancellationToken,
    ) -> Result<SignedIn, EngineError> {
        // A sign-in layer that cannot even open (bad endpoints) fails before any sign-in event.
        let auth = self.auth().await?.clone();
        let result = self.sign_in_steps(&auth, kind, on_event, cancel).await;
        match &result {
            Ok(done) => on_event(SignInEvent::SignedIn {
                account: done.account.clone(),
            }),
            Err(e) if e.kind() == crate::model::ErrorKind::Cancelled => {}
            Err(EngineError::Auth(AuthError::Declined)) => on_event(SignInEvent::Declined),
            Err(EngineError::Auth(AuthError::Expired)) => on_event(SignInEvent::Expired),
            Err(e) => on_event(SignInEvent::Failed {
                message: e.to_string(),
            }),
        }
        let done = result?;
        // A repeated sign-in keeps the account's targets instead of adding another.
        if self.targets_of(&done.account.id).await.is_empty() {
            let target = TargetConfig {
                id: target_id(&done.account.id, &TargetSpec::MyDrive),
                account: done.account.id.clone(),
                label: "OneDrive".to_owned(),
                spec: TargetSpec::MyDrive,
            };
            self.persist_target(target.clone()).await?;
            return Ok(SignedIn {
                added: Some(target),
                ..done
            });
        }
        Ok(done)
    }

    async fn sign_in_steps(
        &self,
        auth: &Auth,
        kind: AccountKind,
        on_event: &(dyn Fn(SignInEvent) + Send + Sync),
        cancel: &CancellationToken,
    ) -> Result<SignedIn, EngineError> {
        let config = self.config().await;
        let tenant = tenant_for(kind, &config.tenant);
        let auth = if tenant == config.tenant {
            auth.clone()
        } else {
            let mut config = config.clone();
            config.tenant = tenant;
            Auth::with_parts(
                &config,
                auth.http().clone(),
                auth.token_store().clone(),
                self.inner.paths.accounts_file(),
            )?
        };
        let pending = auth.begin_sign_in(on_event, cancel).await?;
        let graph = GraphClient::new(
            auth.http().clone(),
            config.graph_url.clone(),
            pending.tokens.clone(),
        )
        .map_err(EngineError::Profile)?;
        let me = graph.me(cancel).await.map_err(|e| match e {
            GraphError::Cancelled => EngineError::Auth(AuthError::Cancelled),
            other => EngineError::Profile(other),
        })?;
        let name = AccountName {
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
            id: me.id,
        };
        let (account, source) = auth.finish_sign_in(pending, name).await?;
        let graph = GraphClient::new(auth.http().clone(), config.graph_url, source)
            .map_err(EngineError::Profile)?;
        self.clients().insert(account.id.clone(), graph.clone());
        Ok(SignedIn {
            account,
            graph,
            added: None,
        })
    }

    /// Forgets an account (by id or sign-in name): its tokens, its targets in the settings and
    /// their cursors. History and other accounts stay. Watches of its targets must be stopped
    /// first.
    pub async fn sign_out(&self, account: &str) -> Result<SignedOut, EngineError> {
        let auth = self.auth().await?;
        let record = self.find_account(Some(account))?;
        let id = record.account.id.clone();
        let removed = self.targets_of(&id).await;
        self.change_settings(|c| c.targets.retain(|t| t.account != id))
            .await?;
        self.forget_cursors(&removed).await?;
        self.clients().remove(&id);
        auth.sign_out(&id).await?;
        Ok(SignedOut { record, removed })
    }

    /// Checks `input` against Graph and adds it to the settings as a target of `account` (by
    /// id or sign-in name; `None` for the only account). Bad input changes nothing.
    pub async fn add_target(
        &self,
        account: Option<&str>,
        input: TargetInput,
        label: Option<String>,
    ) -> Result<TargetConfig, EngineError> {
        let record = self.find_account(account)?;
        let graph = self.graph_for(&record.account.id).await?;
        let cancel = CancellationToken::new();
        let (spec, found) = match input {
            TargetInput::Url(url) => {
                let shared = graph.resolve_share_url(&url, &cancel).await?;
                (
                    TargetSpec::Drive {
                        drive_id: shared.drive_id,
                    },
                    shared.label,
                )
            }
            TargetInput::Spec(spec) => {
                let drive = graph.drive(&spec, &cancel).await?;
                let label = drive.name.clone().unwrap_or_else(|| match &spec {
                    TargetSpec::MyDrive => "OneDrive".to_owned(),
                    _ => drive.id.clone(),
                });
                (spec, label)
            }
        };
        let id = target_id(&record.account.id, &spec);
        if self.targets().await.iter().any(|t| t.id == id) {
            return Err(EngineError::AlreadyWatched(id));
        }
        let target = TargetConfig {
            id,
            account: record.account.id,
            label: label.unwrap_or(found),
            spec,
        };
        self.persist_target(target.clone()).await?;
        Ok(target)
    }

    async fn persist_target(&self, target: TargetConfig) -> Result<(), EngineError> {
        self.change_settings(move |c| {
            c.targets.retain(|t| t.id != target.id);
            c.targets.push(target.clone());
        })
        .await
    }

    /// Removes a target from the settings and forgets its cursor and index (its history
    /// stays). Its watch must be stopped first.
    pub async fn remove_target(&self, id: &str) -> Result<(), EngineError> {
        if !self.targets().await.iter().any(|t| t.id == id) {
            return Err(EngineError::UnknownTarget(id.to_owned()));
        }
        self.change_settings(|c| c.targets.retain(|t| t.id != id))
            .await?;
        self.forget_cursors(&[id.to_owned()]).await
    }

    /// The history, if there is one yet.
    async fn history_store(&self) -> Result<Option<HistoryStore>, EngineError> {
        let open = self
            .inner
            .history
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if open.is_some() {
            return Ok(open);
        }
        let db = self.inner.paths.history_db();
        if !db.exists() {
            return Ok(None);
        }
        let store = blocking(move || HistoryStore::open(&db)).await?;
        let mut slot = self.inner.history.lock().unwrap_or_else(|p| p.into_inner());
        Ok(Some(slot.get_or_insert(store).clone()))
    }

    async fn forget_cursors(&self, targets: &[String]) -> Result<(), EngineError> {
        let Some(store) = self.history_store().await? else {
            return Ok(());
        };
        if targets.is_empty() {
            return Ok(());
        }
        let targets = targets.to_vec();
        blocking(move || targets.iter().try_for_each(|t| store.forget_target(t))).await
    }

    /// A page of history, newest first (empty while nothing was ever recorded).
    pub async fn history(&self, query: HistoryQuery) -> Result<HistoryPage, EngineError> {
        match self.history_store().await? {
            Some(store) => blocking(move || store.query(&query)).await,
            None => Ok(HistoryPage {
                changes: Vec::new(),
                next_before: None,
            }),
        }
    }

    /// One stored change.
    pub async fn change(&self, seq: i64) -> Result<Option<Change>, EngineError> {
        match self.history_store().await? {
            Some(store) => blocking(move || store.change(seq)).await,
            None => Ok(None),
        }
    }

    /// The number of the newest stored change (0 when there is none).
    pub async fn newest_seq(&self) -> Result<i64, EngineError> {
        let page = self
            .history(HistoryQuery {
                limit: 1,
                ..HistoryQuery::default()
            })
            .await?;
        Ok(page.changes.first().map(|c| c.seq).unwrap_or(0))
    }

    /// Asks Graph who the account is, waiting at most `within`.
    pub async fn check_account(&self, id: &str, within: Duration) -> AccountCheck {
        let graph = match self.graph_for(id).await {
            Ok(g) => g,
            Err(EngineError::Auth(AuthError::NeedsSignIn)) => return AccountCheck::NeedsSignIn,
            Err(e) => return AccountCheck::Unreachable(e.to_string()),
        };
        let cancel = CancellationToken::new();
        match tokio::time::timeout(within, graph.me(&cancel)).await {
            Ok(Ok(_)) => AccountCheck::Ok,
            Ok(Err(GraphError::NeedsSignIn)) => AccountCheck::NeedsSignIn,
            Ok(Err(e)) => AccountCheck::Unreachable(e.to_string()),
            Err(_) => {
                cancel.cancel();
                AccountCheck::Unreachable("Microsoft Graph did not answer in time".into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn register(paths: &Paths, id: &str, username: &str) {
        AccountsRegistry::load(paths.accounts_file())
            .unwrap()
            .upsert(AccountRecord {
                account: Account {
                    id: id.into(),
                    display_name: id.into(),
                    username: username.into(),
                    kind: AccountKind::Work,
                    state: AccountState::SignedIn,
                },
                tenant: "common".into(),
            })
            .unwrap();
    }

    #[test]
    fn accounts_are_named_by_id_or_sign_in_name_or_are_the_only_one() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::under(dir.path());
        paths.ensure().unwrap();
        let ws = Workspace::open(Config::default(), paths.clone(), SaveSettings::ChangesOnly);
        assert!(matches!(ws.find_account(None), Err(EngineError::NoAccount)));
        register(&paths, "id-1", "megan@contoso.com");
        assert_eq!(ws.find_account(None).unwrap().account.id, "id-1");
        register(&paths, "id-2", "alex\u{1b}[31m@contoso.com");
        assert_eq!(
            ws.find_account(Some("MEGAN@contoso.com"))
                .unwrap()
                .account
                .id,
            "id-1"
        );
        assert_eq!(ws.find_account(Some("id-2")).unwrap().account.id, "id-2");
        match ws.find_account(None) {
            Err(EngineError::AmbiguousAccount(names)) => {
                assert!(names.contains("megan@contoso.com"), "{names}");
                assert!(!names.contains('\u{1b}'), "names are printable: {names}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            ws.find_account(Some("nobody")),
            Err(EngineError::UnknownAccount(_))
        ));
    }

    #[tokio::test]
    async fn changes_only_never_writes_a_flag_back() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::under(dir.path());
        paths.ensure().unwrap();
        Config::default().save(&paths.config_file()).unwrap();
        let with_flag = Config {
            client_id: Some("from-a-flag".into()),
            ..Config::default()
        };
        let muted = Preferences {
            muted_patterns: vec!["*.tmp".into()],
            ..Preferences::default()
        };
        let ws = Workspace::open(with_flag.clone(), paths.clone(), SaveSettings::ChangesOnly);
        ws.set_preferences(muted.clone()).await.unwrap();
        let saved = Config::load(&paths.config_file()).unwrap();
        assert_eq!(saved.preferences, muted);
        assert_eq!(saved.client_id, None);
        assert_eq!(ws.config().await.client_id.as_deref(), Some("from-a-flag"));
        assert!(matches!(
            ws.remove_target("nobody/me").await,
            Err(EngineError::UnknownTarget(_))
        ));

        // A host that keeps the settings it was given saves them whole.
        let ws = Workspace::open(with_flag, paths.clone(), SaveSettings::All);
        ws.set_preferences(muted).await.unwrap();
        let saved = Config::load(&paths.config_file()).unwrap();
        assert_eq!(saved.client_id.as_deref(), Some("from-a-flag"));
    }

    #[test]
    fn sign_in_kinds_pick_the_tenant() {
        assert_eq!(tenant_for(AccountKind::Any, "common"), "common");
        assert_eq!(tenant_for(AccountKind::Personal, "common"), "consumers");
        assert_eq!(tenant_for(AccountKind::Work, "common"), "organizations");
        assert_eq!(tenant_for(AccountKind::Work, "contoso.com"), "contoso.com");
    }

    #[test]
    fn target_ids_are_stable_and_distinct() {
        assert_eq!(target_id("a", &TargetSpec::MyDrive), "a/me");
        assert_ne!(
            target_id(
                "a",
                &TargetSpec::Drive {
                    drive_id: "x".into()
                }
            ),
            target_id(
                "a",
                &TargetSpec::DriveList {
                    drive_id: "x".into()
                }
            )
        );
    }
}
