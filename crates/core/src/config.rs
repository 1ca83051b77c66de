//! Where DriveWatch keeps its files and what the user configured: one TOML settings file, the
//! data folder, every endpoint, and the persisted list of watched targets.
//!
//! Endpoints are settings, never constants, so national clouds and the local emulator need no code
//! change (`docs/PROTOCOL.md §1.8`). This module must never hold a token or write one to disk, and
//! it must never accept a plain `http://` endpoint that is not a loopback host.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::{Host, Url};

use crate::model::{AccountKind, Preferences, TargetSpec};

/// The environment variable that puts config and data under one folder (tests, portable use).
pub const ENV_HOME: &str = "DRIVEWATCH_HOME";
pub const ENV_AUTHORITY_URL: &str = "DRIVEWATCH_AUTHORITY_URL";
pub const ENV_GRAPH_URL: &str = "DRIVEWATCH_GRAPH_URL";
pub const ENV_CLIENT_ID: &str = "DRIVEWATCH_CLIENT_ID";
pub const ENV_TENANT: &str = "DRIVEWATCH_TENANT";
pub const ENV_TOKEN_STORE: &str = "DRIVEWATCH_TOKEN_STORE";

pub const DEFAULT_AUTHORITY_URL: &str = "https://login.microsoftonline.com";
pub const DEFAULT_GRAPH_URL: &str = "https://graph.microsoft.com/v1.0";
pub const DEFAULT_TENANT: &str = "common";

/// What went wrong with paths or settings. Messages are meant for the user.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("no home folder found for this user; set {ENV_HOME} to a folder DriveWatch may use")]
    NoHomeDirectory,
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the settings file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("cannot write the settings: {0}")]
    Serialize(String),
    #[error("{setting} is not a valid URL: {value}")]
    InvalidUrl {
        setting: &'static str,
        value: String,
    },
    #[error(
        "{setting} must use https:// ({url}); plain http:// is allowed only for loopback hosts \
         (127.0.0.0/8, ::1, localhost)"
    )]
    InsecureUrl { setting: &'static str, url: String },
    #[error(
        "no client id is configured. Register an app in Microsoft Entra (public client flows on, \
         delegated Files.Read, User.Read, offline_access) and put its Application (client) ID in \
         the settings file as client_id, in {ENV_CLIENT_ID}, or pass --client-id; see the README \
         section \"Using a real Microsoft account\""
    )]
    MissingClientId,
    #[error("unknown token store {0:?}; use \"keyring\" or \"file\"")]
    UnknownTokenStore(String),
    #[error("the tenant must not be empty")]
    EmptyTenant,
    #[error("{0:?} is not a tenant: use common, organizations, consumers, a tenant id or a domain")]
    InvalidTenant(String),
}

/// Where the settings file and the data (history, accounts, file token store) live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    pub config_dir: PathBuf,
    pub data_dir: PathBuf,
}

impl Paths {
    /// `DRIVEWATCH_HOME` if set (config and data in that one folder), else the platform's
    /// config and data folders.
    pub fn from_env() -> Result<Self, ConfigError> {
        match std::env::var_os(ENV_HOME) {
            Some(home) if !home.is_empty() => Ok(Self::under(PathBuf::from(home))),
            _ => Self::platform(),
        }
    }

    /// Config and data both in `home`.
    pub fn under(home: impl Into<PathBuf>) -> Self {
        let home = home.into();
        Self {
            config_dir: home.clone(),
            data_dir: home,
        }
    }

    /// The platform's folders, e.g. `~/.config/drivewatch` and `~/.local/share/drivewatch`.
    pub fn platform() -> Result<Self, ConfigError> {
        let dirs = directories::ProjectDirs::from("app", "DriveWatch", "drivewatch")
            .ok_or(ConfigError::NoHomeDirectory)?;
        Ok(Self {
            config_dir: dirs.config_dir().to_path_buf(),
            // The local (not roaming) folder: on Windows %LOCALAPPDATA%, so the history and the
            // file token store never travel with a roaming profile; elsewhere the same folder.
            data_dir: dirs.data_local_dir().to_path_buf(),
        })
    }

    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }

    /// The accounts registry (ids, names, kinds, tenants; never tokens).
    pub fn accounts_file(&self) -> PathBuf {
        self.data_dir.join("accounts.json")
    }

    /// The file token store's folder, used when no keyring answers or when configured.
    pub fn tokens_dir(&self) -> PathBuf {
        self.data_dir.join("tokens")
    }

    /// The SQLite change history.
    pub fn history_db(&self) -> PathBuf {
        self.data_dir.join("history.sqlite3")
    }

    /// Creates both folders if missing.
    pub fn ensure(&self) -> Result<(), ConfigError> {
        for dir in [&self.config_dir, &self.data_dir] {
            std::fs::create_dir_all(dir).map_err(|source| ConfigError::Io {
                path: dir.clone(),
                source,
            })?;
        }
        Ok(())
    }
}

/// Where refresh tokens are kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenStoreKind {
    /// The OS keyring; falls back to the file store (with a warning) when no keyring answers.
    #[default]
    Keyring,
    /// A file per account, mode 0600, in the data folder.
    File,
}

impl std::str::FromStr for TokenStoreKind {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "keyring" => Ok(Self::Keyring),
            "file" => Ok(Self::File),
            _ => Err(ConfigError::UnknownTokenStore(s.to_string())),
        }
    }
}

/// A watched target as persisted in the settings file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetConfig {
    /// Stable id, unique across accounts.
    pub id: String,
    /// The account's stable id.
    pub account: String,
    pub label: String,
    pub spec: TargetSpec,
}

/// The settings file. Unknown keys are ignored; missing keys take their defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// The identity platform, e.g. `https://login.microsoftonline.com`.
    pub authority_url: Url,
    /// Graph's base, e.g. `https://graph.microsoft.com/v1.0`.
    pub graph_url: Url,
    /// The app registration's Application (client) ID.
    pub client_id: Option<String>,
    /// `common`, `organizations`, `consumers`, or a tenant id or domain.
    pub tenant: String,
    pub token_store: TokenStoreKind,
    /// Delta polling interval while push is unavailable.
    pub poll_interval_secs: u64,
    /// A delta even when push works, in case a notification was lost.
    pub safety_net_delta_secs: u64,
    pub history_retention_days: u32,
    /// History kept in minutes instead of days, when set: not shown in the UI, for a soak
    /// benchmark that needs retention to prune within minutes. Left out of the file when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history_retention_minutes: Option<u32>,
    pub preferences: Preferences,
    pub targets: Vec<TargetConfig>,
    /// Not a setting: the file's own values of the settings an override replaced, so
    /// [`Config::save`] never writes a value that came from the environment or a flag. Public only
    /// so `Config { .., ..Config::default() }` works outside this crate; it has no public fields.
    #[serde(skip)]
    pub file_values: FileValues,
}

/// What the settings file said before overrides, for the fields an override touched.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileValues {
    authority_url: Option<Url>,
    graph_url: Option<Url>,
    client_id: Option<Option<String>>,
    tenant: Option<String>,
    token_store: Option<TokenStoreKind>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            authority_url: Url::parse(DEFAULT_AUTHORITY_URL).expect("constant URL parses"),
            graph_url: Url::parse(DEFAULT_GRAPH_URL).expect("constant URL parses"),
            client_id: None,
            tenant: DEFAULT_TENANT.to_string(),
            token_store: TokenStoreKind::Keyring,
            poll_interval_secs: 60,
            safety_net_delta_secs: 4 * 60 * 60,
            history_retention_days: 30,
            history_retention_minutes: None,
            preferences: Preferences::default(),
            targets: Vec::new(),
            file_values: FileValues::default(),
        }
    }
}

impl Config {
    /// Reads the settings file; a missing file gives the defaults. Validates the endpoints.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => {
                return Err(ConfigError::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let config: Self = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.message().to_string(),
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Writes the settings file atomically (a temporary file renamed over the old one). Settings
    /// that an override replaced are written with the file's own values.
    pub fn save(&self, path: &Path) -> Result<(), ConfigError> {
        let mut on_disk = self.clone();
        let f = &self.file_values;
        if let Some(v) = &f.authority_url {
            on_disk.authority_url = v.clone();
        }
        if let Some(v) = &f.graph_url {
            on_disk.graph_url = v.clone();
        }
        if let Some(v) = &f.client_id {
            on_disk.client_id = v.clone();
        }
        if let Some(v) = &f.tenant {
            on_disk.tenant = v.clone();
        }
        if let Some(v) = f.token_store {
            on_disk.token_store = v;
        }
        let text =
            toml::to_string_pretty(&on_disk).map_err(|e| ConfigError::Serialize(e.to_string()))?;
        write_atomically(path, text.as_bytes()).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Applies overrides (env first, then flags, so flags win) and validates the result. The
    /// overridden values hold for this run only: [`Config::save`] keeps the file's.
    pub fn apply(&mut self, overrides: &Overrides) -> Result<(), ConfigError> {
        if let Some(v) = &overrides.authority_url {
            let url = parse_url("authority URL", v)?;
            let old = std::mem::replace(&mut self.authority_url, url);
            self.file_values.authority_url.get_or_insert(old);
        }
        if let Some(v) = &overrides.graph_url {
            let url = parse_url("Graph URL", v)?;
            let old = std::mem::replace(&mut self.graph_url, url);
            self.file_values.graph_url.get_or_insert(old);
        }
        if let Some(v) = &overrides.client_id {
            let old = self.client_id.replace(v.clone());
            self.file_values.client_id.get_or_insert(old);
        }
        if let Some(v) = &overrides.tenant {
            let old = std::mem::replace(&mut self.tenant, v.clone());
            self.file_values.tenant.get_or_insert(old);
        }
        if let Some(v) = overrides.token_store {
            let old = std::mem::replace(&mut self.token_store, v);
            self.file_values.token_store.get_or_insert(old);
        }
        self.validate()
    }

    /// Checks the endpoints (https, or http on loopback) and the tenant.
    pub fn validate(&self) -> Result<(), ConfigError> {
        require_secure_url("authority URL", &self.authority_url)?;
        require_secure_url("Graph URL", &self.graph_url)?;
        let tenant = self.tenant.trim();
        if tenant.is_empty() {
            return Err(ConfigError::EmptyTenant);
        }
        // It becomes a path segment of the identity platform's URLs.
        if !tenant
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
        {
            return Err(ConfigError::InvalidTenant(tenant.to_string()));
        }
        Ok(())
    }

    /// The client id, or an error telling the user how to get one.
    pub fn require_client_id(&self) -> Result<&str, ConfigError> {
        match self.client_id.as_deref().map(str::trim) {
            Some(id) if !id.is_empty() => Ok(id),
            _ => Err(ConfigError::MissingClientId),
        }
    }

    pub fn poll_interval(&self) -> Duration {
        Duration::from_secs(self.poll_interval_secs.max(1))
    }

    pub fn safety_net_delta_interval(&self) -> Duration {
        Duration::from_secs(self.safety_net_delta_secs.max(60))
    }

    /// How long a change stays in the history: `history_retention_minutes` when set, else
    /// `history_retention_days`; at least a minute.
    pub fn history_retention(&self) -> Duration {
        let minutes = match self.history_retention_minutes {
            Some(m) => u64::from(m),
            None => u64::from(self.history_retention_days) * 24 * 60,
        };
        Duration::from_secs(minutes.max(1) * 60)
    }

    /// The identity settings a sign-in or refresh needs.
    pub fn identity(&self) -> Result<IdentityConfig, ConfigError> {
        Ok(IdentityConfig {
            authority_url: self.authority_url.clone(),
            tenant: self.tenant.clone(),
            client_id: self.require_client_id()?.to_string(),
        })
    }
}

/// Which identity platform, tenant and app registration to talk to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityConfig {
    pub authority_url: Url,
    pub tenant: String,
    pub client_id: String,
}

impl IdentityConfig {
    /// `{authority}/{tenant}/oauth2/v2.0/{endpoint}`.
    pub fn endpoint(&self, endpoint: &str) -> Result<Url, ConfigError> {
        let base = self.authority_url.as_str().trim_end_matches('/');
        let raw = format!("{base}/{}/oauth2/v2.0/{endpoint}", self.tenant.trim());
        let url = parse_url("authority URL", &raw)?;
        require_secure_url("authority URL", &url)?;
        Ok(url)
    }

    /// What kind of account this tenant admits, as far as the tenant alone says.
    pub fn account_kind(&self) -> AccountKind {
        tenant_account_kind(&self.tenant)
    }
}

/// `consumers` admits personal accounts, `organizations` and tenant ids work accounts.
pub fn tenant_account_kind(tenant: &str) -> AccountKind {
    match tenant.trim().to_ascii_lowercase().as_str() {
        "consumers" => AccountKind::Personal,
        "common" => AccountKind::Any,
        _ => AccountKind::Work,
    }
}

/// Settings a host takes from its environment or its flags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    pub authority_url: Option<String>,
    pub graph_url: Option<String>,
    pub client_id: Option<String>,
    pub tenant: Option<String>,
    pub token_store: Option<TokenStoreKind>,
}

impl Overrides {
    /// The `DRIVEWATCH_*` variables of this process.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// The `DRIVEWATCH_*` variables as `lookup` reports them; empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        Ok(Self {
            authority_url: get(ENV_AUTHORITY_URL),
            graph_url: get(ENV_GRAPH_URL),
            client_id: get(ENV_CLIENT_ID),
            tenant: get(ENV_TENANT),
            token_store: get(ENV_TOKEN_STORE).map(|v| v.parse()).transpose()?,
        })
    }

    /// `self`, with every value `other` sets taking its place (`env.then(flags)`).
    pub fn then(mut self, other: &Overrides) -> Self {
        if other.authority_url.is_some() {
            self.authority_url.clone_from(&other.authority_url);
        }
        if other.graph_url.is_some() {
            self.graph_url.clone_from(&other.graph_url);
        }
        if other.client_id.is_some() {
            self.client_id.clone_from(&other.client_id);
        }
        if other.tenant.is_some() {
            self.tenant.clone_from(&other.tenant);
        }
        if other.token_store.is_some() {
            self.token_store = other.token_store;
        }
        self
    }
}

fn parse_url(setting: &'static str, value: &str) -> Result<Url, ConfigError> {
    Url::parse(value.trim()).map_err(|_| ConfigError::InvalidUrl {
        setting,
        value: value.to_string(),
    })
}

/// `https://` always; `http://` only for loopback hosts; any other scheme refused.
pub fn require_secure_url(setting: &'static str, url: &Url) -> Result<(), ConfigError> {
    let ok = match url.scheme() {
        "https" => url.host().is_some(),
        "http" => url.host().is_some_and(|h| is_loopback_host(&h)),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ConfigError::InsecureUrl {
            setting,
            url: crate::transport::redact::redact_url(url.as_str()),
        })
    }
}

/// 127.0.0.0/8, ::1 (also as an IPv4-mapped address) and `localhost`.
pub fn is_loopback_host(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(d) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => {
            ip.is_loopback()
                || ip
                    .to_ipv4_mapped()
                    .is_some_and(|v4| IpAddr::V4(v4).is_loopback())
        }
    }
}

/// Writes `bytes` to a sibling temporary file, then renames it over `path`.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomically_with_mode(path, bytes, None)
}

/// Like [`write_atomically`], creating the file with `mode` (unix) so it is never readable by
/// others, not even for a moment.
pub(crate) fn write_atomically_with_mode(
    path: &Path,
    bytes: &[u8],
    mode: Option<u32>,
) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".to_string());
    let tmp = path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if let Some(mode) = mode {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let result = (|| {
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn https_is_always_accepted() {
        assert!(require_secure_url("x", &url("https://graph.microsoft.com/v1.0")).is_ok());
        assert!(require_secure_url("x", &url("https://10.1.2.3/")).is_ok());
    }

    #[test]
    fn http_is_accepted_only_for_loopback_hosts() {
        for ok in [
            "http://127.0.0.1:8080/v1.0",
            "http://127.9.9.9/",
            "http://localhost:1/",
            "http://LOCALHOST/",
            "http://[::1]:9/",
            "http://[::ffff:127.0.0.1]/",
        ] {
            assert!(require_secure_url("x", &url(ok)).is_ok(), "{ok}");
        }
        for bad in [
            "http://graph.microsoft.com/v1.0",
            "http://10.0.0.1/",
            "http://192.168.1.1/",
            "http://128.0.0.1/",
            "http://localhost.evil.example/",
            "http://[::2]/",
            "ftp://127.0.0.1/",
            "file:///etc/passwd",
        ] {
            let err = require_secure_url("Graph URL", &url(bad)).unwrap_err();
            assert!(matches!(err, ConfigError::InsecureUrl { .. }), "{bad}");
            assert!(err.to_string().contains("loopback"), "{err}");
        }
    }

    #[test]
    fn defaults_match_microsoft_and_the_issue() {
        let c = Config::default();
        assert_eq!(
            c.authority_url.as_str(),
            "https://login.microsoftonline.com/"
        );
        assert_eq!(c.graph_url.as_str(), "https://graph.microsoft.com/v1.0");
        assert_eq!(c.tenant, "common");
        assert_eq!(c.token_store, TokenStoreKind::Keyring);
        assert_eq!(c.poll_interval(), Duration::from_secs(60));
        assert_eq!(c.history_retention_days, 30);
        assert!(c.client_id.is_none());
    }

    #[test]
    fn missing_client_id_explains_how_to_get_one() {
        let err = Config::default().require_client_id().unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("Using a real Microsoft account"), "{msg}");
        assert!(msg.contains("DRIVEWATCH_CLIENT_ID"), "{msg}");
        let blank = Config {
            client_id: Some("  ".into()),
            ..Config::default()
        };
        assert!(matches!(
            blank.require_client_id(),
            Err(ConfigError::MissingClientId)
        ));
    }

    #[test]
    fn file_then_env_then_flags() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            r#"
client_id = "from-file"
tenant = "organizations"
graph_url = "https://graph.microsoft.us/v1.0"
token_store = "keyring"
"#,
        )
        .unwrap();
        let mut config = Config::load(&path).unwrap();
        assert_eq!(config.client_id.as_deref(), Some("from-file"));

        let env: HashMap<&str, &str> = [
            (ENV_CLIENT_ID, "from-env"),
            (ENV_TENANT, "consumers"),
            (ENV_TOKEN_STORE, "file"),
            (ENV_GRAPH_URL, ""),
        ]
        .into_iter()
        .collect();
        let env = Overrides::from_lookup(|k| env.get(k).map(|v| v.to_string())).unwrap();
        let flags = Overrides {
            client_id: Some("from-flag".into()),
            ..Overrides::default()
        };
        config.apply(&env.then(&flags)).unwrap();
        assert_eq!(config.client_id.as_deref(), Some("from-flag"));
        assert_eq!(config.tenant, "consumers");
        assert_eq!(config.token_store, TokenStoreKind::File);
        // An empty variable counts as unset: the file's value stays.
        assert_eq!(config.graph_url.as_str(), "https://graph.microsoft.us/v1.0");
    }

    #[test]
    fn overrides_are_never_saved() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "client_id = \"from-file\"\n").unwrap();
        let mut config = Config::load(&path).unwrap();
        let env = Overrides {
            client_id: Some("from-env".into()),
            graph_url: Some("http://127.0.0.1:9/v1.0".into()),
            tenant: Some("consumers".into()),
            token_store: Some(TokenStoreKind::File),
            ..Overrides::default()
        };
        config.apply(&env).unwrap();
        config
            .apply(&Overrides {
                client_id: Some("from-flag".into()),
                ..Overrides::default()
            })
            .unwrap();
        assert_eq!(config.client_id.as_deref(), Some("from-flag"));
        // A host adds a target and saves, e.g. after a sign-in.
        config.targets.push(TargetConfig {
            id: "t".into(),
            account: "a".into(),
            label: "OneDrive".into(),
            spec: TargetSpec::MyDrive,
        });
        config.save(&path).unwrap();
        let back = Config::load(&path).unwrap();
        assert_eq!(back.client_id.as_deref(), Some("from-file"));
        assert_eq!(back.graph_url, Config::default().graph_url);
        assert_eq!(back.tenant, "common");
        assert_eq!(back.token_store, TokenStoreKind::Keyring);
        assert_eq!(back.targets.len(), 1);
        // The running copy keeps its overrides.
        assert_eq!(config.tenant, "consumers");
    }

    #[test]
    fn tenants_that_would_bend_the_url_are_refused() {
        for bad in ["common/../x", "a?b", "a b", "x#"] {
            let c = Config {
                tenant: bad.into(),
                ..Config::default()
            };
            assert!(
                matches!(c.validate(), Err(ConfigError::InvalidTenant(_))),
                "{bad}"
            );
        }
        for good in [
            "common",
            "contoso.onmicrosoft.com",
            "72f988bf-86f1-41af-91ab-2d7cd011db47",
        ] {
            let c = Config {
                tenant: good.into(),
                ..Config::default()
            };
            c.validate().unwrap();
        }
    }

    #[test]
    fn env_override_with_insecure_url_is_refused() {
        let mut config = Config::default();
        let o = Overrides {
            graph_url: Some("http://graph.example.com/v1.0".into()),
            ..Overrides::default()
        };
        assert!(matches!(
            config.apply(&o),
            Err(ConfigError::InsecureUrl { .. })
        ));
        let o = Overrides {
            authority_url: Some("not a url".into()),
            ..Overrides::default()
        };
        assert!(matches!(
            config.apply(&o),
            Err(ConfigError::InvalidUrl { .. })
        ));
    }

    #[test]
    fn bad_token_store_value_is_a_typed_error() {
        let err =
            Overrides::from_lookup(|k| (k == ENV_TOKEN_STORE).then(|| "vault".into())).unwrap_err();
        assert!(matches!(err, ConfigError::UnknownTokenStore(v) if v == "vault"));
    }

    #[test]
    fn insecure_url_in_file_is_refused_on_load() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "authority_url = \"http://login.example.com\"\n").unwrap();
        assert!(matches!(
            Config::load(&path),
            Err(ConfigError::InsecureUrl { .. })
        ));
        std::fs::write(&path, "tenant = [1]\n").unwrap();
        assert!(matches!(
            Config::load(&path),
            Err(ConfigError::Parse { .. })
        ));
    }

    #[test]
    fn save_and_load_round_trip_with_targets() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::under(dir.path());
        let mut config = Config {
            client_id: Some("abc".into()),
            ..Config::default()
        };
        config.preferences.notify_own_changes = true;
        config.targets.push(TargetConfig {
            id: "t1".into(),
            account: "acc".into(),
            label: "OneDrive".into(),
            spec: TargetSpec::MyDrive,
        });
        config.targets.push(TargetConfig {
            id: "t2".into(),
            account: "acc".into(),
            label: "Docs".into(),
            spec: TargetSpec::SiteList {
                site_id: "s".into(),
                list_id: "l".into(),
            },
        });
        config.save(&paths.config_file()).unwrap();
        let back = Config::load(&paths.config_file()).unwrap();
        assert_eq!(back, config);
        assert_eq!(
            Config::load(&dir.path().join("absent.toml")).unwrap(),
            Config::default()
        );
    }

    /// Timed mutes, rules and the digest's settings live in the settings file, so a mute
    /// chosen from a toast outlives a restart (and so does its end time).
    #[test]
    fn attention_preferences_survive_a_restart() {
        use crate::model::{ChangeKind, Mute, NotifyMode, NotifyRule};
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::under(dir.path());
        let mut config = Config::default();
        let until = chrono::DateTime::parse_from_rfc3339("2026-12-01T18:30:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        config.preferences.mutes = vec![
            Mute {
                folder: "/Photos".into(),
                target: Some("t1".into()),
                until: Some(until),
            },
            Mute {
                folder: "/Фото «отпуск»".into(),
                target: None,
                until: None,
            },
        ];
        config.preferences.rules = vec![
            NotifyRule {
                target: "t1".into(),
                folder: Some("/Finance".into()),
                mode: NotifyMode::Digest,
                kinds: Vec::new(),
            },
            NotifyRule {
                target: "t2".into(),
                folder: None,
                mode: NotifyMode::Live,
                kinds: vec![ChangeKind::Deleted],
            },
        ];
        config.preferences.digest_at = "08:30".into();
        config.preferences.session_minutes = 15;
        config.save(&paths.config_file()).unwrap();
        let back = Config::load(&paths.config_file()).unwrap();
        assert_eq!(back.preferences, config.preferences);
        assert_eq!(back.preferences.mutes[0].until, Some(until));
    }

    #[test]
    fn the_readme_example_parses() {
        let text = r#"
authority_url = "https://login.microsoftonline.com"
graph_url = "https://graph.microsoft.com/v1.0"
client_id = "00000000-0000-0000-0000-000000000000"
tenant = "common"
token_store = "keyring"
poll_interval_secs = 60
safety_net_delta_secs = 14400
history_retention_days = 30

[preferences]
notifyOwnChanges = false
mutedPatterns = ["/Photos", "*.tmp"]
digestAt = "09:00"
sessionMinutes = 10

[[preferences.mutes]]
folder = "/Photos"
target = "48d31887-.../me"
until = "2026-12-01T18:30:00Z"

[[preferences.rules]]
target = "48d31887-.../me"
folder = "/Finance"
mode = "digest"
kinds = ["deleted"]

[[targets]]
id = "48d31887-.../me"
account = "48d31887-..."
label = "OneDrive"
spec = { type = "myDrive" }
"#;
        let c: Config = toml::from_str(text).unwrap();
        c.validate().unwrap();
        assert_eq!(c.preferences.muted_patterns, ["/Photos", "*.tmp"]);
        assert_eq!(c.preferences.mutes[0].folder, "/Photos");
        assert!(c.preferences.mutes[0].until.is_some());
        assert_eq!(
            c.preferences.rules[0].mode,
            crate::model::NotifyMode::Digest
        );
        assert_eq!(
            c.preferences.rules[0].kinds,
            [crate::model::ChangeKind::Deleted]
        );
        assert_eq!(c.preferences.session_minutes, 10);
        assert_eq!(c.targets[0].spec, TargetSpec::MyDrive);
        assert_eq!(c.safety_net_delta_interval(), Duration::from_secs(14400));
        assert_eq!(c.history_retention(), Duration::from_secs(30 * 24 * 3600));
        assert_eq!(c.history_retention_minutes, None);
    }

    #[test]
    fn retention_in_minutes_replaces_days_and_stays_out_of_the_file_when_unset() {
        let c: Config =
            toml::from_str("history_retention_days = 30\nhistory_retention_minutes = 5\n").unwrap();
        assert_eq!(c.history_retention(), Duration::from_secs(300));
        let zero: Config = toml::from_str("history_retention_days = 0\n").unwrap();
        assert_eq!(zero.history_retention(), Duration::from_secs(60));
        let written = toml::to_string(&Config::default()).unwrap();
        assert!(!written.contains("history_retention_minutes"), "{written}");
        assert!(
            toml::to_string(&c)
                .unwrap()
                .contains("history_retention_minutes = 5")
        );
    }

    #[test]
    fn home_puts_config_and_data_in_one_folder() {
        let p = Paths::under("/x/y");
        assert_eq!(p.config_file(), PathBuf::from("/x/y/config.toml"));
        assert_eq!(p.accounts_file(), PathBuf::from("/x/y/accounts.json"));
        assert_eq!(p.tokens_dir(), PathBuf::from("/x/y/tokens"));
    }

    #[test]
    fn identity_endpoints_and_kinds() {
        let id = IdentityConfig {
            authority_url: url("http://127.0.0.1:5000/"),
            tenant: "consumers".into(),
            client_id: "c".into(),
        };
        assert_eq!(
            id.endpoint("devicecode").unwrap().as_str(),
            "http://127.0.0.1:5000/consumers/oauth2/v2.0/devicecode"
        );
        assert_eq!(id.account_kind(), AccountKind::Personal);
        assert_eq!(tenant_account_kind("common"), AccountKind::Any);
        assert_eq!(
            tenant_account_kind("contoso.onmicrosoft.com"),
            AccountKind::Work
        );
    }
}
