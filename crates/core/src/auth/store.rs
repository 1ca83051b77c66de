//! Where refresh tokens live between runs: the OS keyring by default, or one file per account
//! (mode 0600) when no keyring service answers or when the settings ask for it.
//!
//! The keyring holds only the refresh token (Windows limits an entry's size); the file store also
//! keeps the access token so short-lived commands need no refresh. This module must never log a
//! token, never create a token file readable by others, and removes only the named account's
//! entries.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tracing::warn;

use super::token_source::StoredTokens;
use super::{AuthError, Secret};
use crate::config::{TokenStoreKind, write_atomically_with_mode};

/// The keyring service name entries are filed under.
pub const KEYRING_SERVICE: &str = "drivewatch";
/// A keyring that does not answer within this is treated as absent.
const KEYRING_TIMEOUT: Duration = Duration::from_secs(5);

/// The token store. Cheap to clone.
#[derive(Clone, Debug)]
pub struct TokenStore {
    inner: Arc<StoreInner>,
}

#[derive(Debug)]
struct StoreInner {
    backend: Backend,
    /// The file store's folder; also read as a fallback when the keyring has no entry.
    dir: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Keyring,
    File,
}

impl TokenStore {
    /// The configured store. `Keyring` is probed first; when no keyring service answers, the
    /// file store is used and a warning logged.
    pub async fn open(kind: TokenStoreKind, dir: impl Into<PathBuf>) -> Self {
        let dir = dir.into();
        let backend = match kind {
            TokenStoreKind::File => Backend::File,
            TokenStoreKind::Keyring => match probe_keyring().await {
                Ok(()) => Backend::Keyring,
                Err(reason) => {
                    warn!(
                        reason = %reason,
                        folder = %dir.display(),
                        "no OS keyring answered; keeping tokens in files readable only by this user (set token_store = \"file\" to choose this outright)"
                    );
                    Backend::File
                }
            },
        };
        Self {
            inner: Arc::new(StoreInner { backend, dir }),
        }
    }

    /// The file store in `dir`, without probing anything.
    pub fn file(dir: impl Into<PathBuf>) -> Self {
        Self {
            inner: Arc::new(StoreInner {
                backend: Backend::File,
                dir: dir.into(),
            }),
        }
    }

    /// `keyring` or `file`: what is actually in use.
    pub fn kind(&self) -> TokenStoreKind {
        match self.inner.backend {
            Backend::Keyring => TokenStoreKind::Keyring,
            Backend::File => TokenStoreKind::File,
        }
    }

    pub async fn load(&self, account: &str) -> Result<Option<StoredTokens>, AuthError> {
        if self.inner.backend == Backend::Keyring {
            if let Some(refresh) = keyring_get(account).await? {
                return Ok(Some(StoredTokens {
                    refresh_token: refresh,
                    access_token: None,
                    expires_at: None,
                }));
            }
        }
        self.file_load(account)
    }

    pub async fn save(&self, account: &str, tokens: &StoredTokens) -> Result<(), AuthError> {
        match self.inner.backend {
            Backend::Keyring => {
                keyring_set(account, tokens.refresh_token.clone()).await?;
                // A stale file from an earlier fallback must not shadow the keyring later.
                self.file_remove(account)
            }
            Backend::File => self.file_save(account, tokens),
        }
    }

    /// Forgets this account's tokens (keyring entry and file); other accounts are untouched.
    pub async fn remove(&self, account: &str) -> Result<(), AuthError> {
        if self.inner.backend == Backend::Keyring {
            keyring_delete(account).await?;
        }
        self.file_remove(account)
    }

    fn file_path(&self, account: &str) -> PathBuf {
        self.inner.dir.join(format!("{}.json", file_stem(account)))
    }

    fn file_load(&self, account: &str) -> Result<Option<StoredTokens>, AuthError> {
        let path = self.file_path(account);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|_| AuthError::StoreCorrupt { path }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(AuthError::StoreIo { path, source }),
        }
    }

    fn file_save(&self, account: &str, tokens: &StoredTokens) -> Result<(), AuthError> {
        let path = self.file_path(account);
        ensure_private_dir(&self.inner.dir).map_err(|source| AuthError::StoreIo {
            path: self.inner.dir.clone(),
            source,
        })?;
        let bytes = serde_json::to_vec(tokens)
            .map_err(|_| AuthError::StoreCorrupt { path: path.clone() })?;
        write_atomically_with_mode(&path, &bytes, Some(0o600))
            .map_err(|source| AuthError::StoreIo { path, source })
    }

    fn file_remove(&self, account: &str) -> Result<(), AuthError> {
        let path = self.file_path(account);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(AuthError::StoreIo { path, source }),
        }
    }
}

/// A file name for an account id: safe characters kept, anything else hex-escaped.
fn file_stem(account: &str) -> String {
    let mut out = String::with_capacity(account.len());
    for c in account.chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("~{b:02x}"));
            }
        }
    }
    if out.is_empty() {
        out.push_str("~empty");
    }
    out
}

fn ensure_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Runs a blocking keyring call off the async threads, with a time limit.
async fn with_keyring<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, keyring::Error> + Send + 'static,
) -> Result<T, AuthError> {
    let task = tokio::task::spawn_blocking(f);
    match tokio::time::timeout(KEYRING_TIMEOUT, task).await {
        Err(_) => Err(AuthError::Keyring(
            "the keyring did not answer in time".into(),
        )),
        Ok(Err(_)) => Err(AuthError::Keyring("the keyring call failed".into())),
        Ok(Ok(r)) => r.map_err(|e| AuthError::Keyring(keyring_error_text(&e))),
    }
}

/// The error's kind, never its payload.
fn keyring_error_text(e: &keyring::Error) -> String {
    match e {
        keyring::Error::PlatformFailure(_) => "the keyring service failed".into(),
        keyring::Error::NoStorageAccess(_) => "the keyring is locked or not reachable".into(),
        keyring::Error::NoEntry => "no entry".into(),
        keyring::Error::TooLong(..) => "the value is too long for the keyring".into(),
        keyring::Error::Invalid(..) => "invalid keyring attribute".into(),
        keyring::Error::Ambiguous(_) => "several keyring entries match".into(),
        keyring::Error::BadEncoding(_) => "the keyring entry is not text".into(),
        _ => "keyring error".into(),
    }
}

async fn probe_keyring() -> Result<(), AuthError> {
    with_keyring(|| {
        let entry = keyring::Entry::new(KEYRING_SERVICE, "__drivewatch_probe__")?;
        match entry.get_password() {
            Ok(_) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(e),
        }
    })
    .await
}

async fn keyring_get(account: &str) -> Result<Option<Secret>, AuthError> {
    let account = account.to_string();
    with_keyring(move || {
        let entry = keyring::Entry::new(KEYRING_SERVICE, &account)?;
        match entry.get_password() {
            Ok(v) => Ok(Some(Secret::new(v))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(e),
        }
    })
    .await
}

async fn keyring_set(account: &str, refresh: Secret) -> Result<(), AuthError> {
    let account = account.to_string();
    with_keyring(move || {
        keyring::Entry::new(KEYRING_SERVICE, &account)?.set_password(refresh.expose())
    })
    .await
}

async fn keyring_delete(account: &str) -> Result<(), AuthError> {
    let account = account.to_string();
    with_keyring(move || {
        match keyring::Entry::new(KEYRING_SERVICE, &account)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(e),
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(rt: &str) -> StoredTokens {
        StoredTokens {
            refresh_token: Secret::new(rt),
            access_token: Some(Secret::new("AT")),
            expires_at: Some(chrono::Utc::now()),
        }
    }

    #[tokio::test]
    async fn file_store_round_trip_is_private_and_per_account() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::file(dir.path().join("tokens"));
        assert_eq!(store.kind(), TokenStoreKind::File);
        store.save("alice", &stored("RTA")).await.unwrap();
        store.save("bob@contoso.com", &stored("RTB")).await.unwrap();
        assert_eq!(
            store.load("alice").await.unwrap().unwrap(),
            stored_eq(&store, "alice").await
        );
        assert_eq!(
            store
                .load("bob@contoso.com")
                .await
                .unwrap()
                .unwrap()
                .refresh_token
                .expose(),
            "RTB"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(store.file_path("alice"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
            let dmode = std::fs::metadata(dir.path().join("tokens"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(dmode & 0o077, 0);
        }
        store.remove("alice").await.unwrap();
        assert!(store.load("alice").await.unwrap().is_none());
        assert!(store.load("bob@contoso.com").await.unwrap().is_some());
        store.remove("alice").await.unwrap(); // removing twice is fine
    }

    async fn stored_eq(store: &TokenStore, account: &str) -> StoredTokens {
        store.file_load(account).unwrap().unwrap()
    }

    #[tokio::test]
    async fn corrupt_file_is_a_typed_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::file(dir.path());
        std::fs::write(store.file_path("x"), b"{nope").unwrap();
        assert!(matches!(
            store.load("x").await,
            Err(AuthError::StoreCorrupt { .. })
        ));
    }

    #[test]
    fn file_names_cannot_escape_the_folder() {
        assert_eq!(file_stem("48d31887-5fad"), "48d31887-5fad");
        let s = file_stem("../../etc/passwd");
        assert!(!s.contains('/') && !s.contains(".."), "{s}");
        assert_ne!(file_stem("a.b"), file_stem("a_b"));
    }

    /// Runs only when asked (`DRIVEWATCH_TEST_KEYRING=1`) in a session with an unlocked keyring,
    /// e.g. `dbus-run-session` with `gnome-keyring-daemon --unlock`: a desktop keyring may prompt,
    /// which a test run must never wait on.
    #[tokio::test]
    async fn keyring_round_trip_when_asked() {
        if std::env::var_os("DRIVEWATCH_TEST_KEYRING").is_none() {
            eprintln!("set DRIVEWATCH_TEST_KEYRING=1 to test the OS keyring");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::open(TokenStoreKind::Keyring, dir.path()).await;
        assert_eq!(store.kind(), TokenStoreKind::Keyring);
        let account = format!("drivewatch-test-{}", fastrand::u64(..));
        let other = format!("{account}-other");
        store.save(&account, &stored("RT-keyring")).await.unwrap();
        store.save(&other, &stored("RT-other")).await.unwrap();
        let back = store.load(&account).await.unwrap().unwrap();
        assert_eq!(back.refresh_token.expose(), "RT-keyring");
        assert!(
            back.access_token.is_none(),
            "the keyring keeps only the refresh token"
        );
        assert!(
            !store.file_path(&account).exists(),
            "nothing written to files"
        );
        store.remove(&account).await.unwrap();
        assert!(store.load(&account).await.unwrap().is_none());
        assert!(
            store.load(&other).await.unwrap().is_some(),
            "other accounts untouched"
        );
        store.remove(&other).await.unwrap();
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn keyring_without_a_service_falls_back_to_files() {
        // Tests run with no session bus, so the keyring probe fails and files are used.
        if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::open(TokenStoreKind::Keyring, dir.path()).await;
        assert_eq!(store.kind(), TokenStoreKind::File);
        store.save("a", &stored("RT")).await.unwrap();
        assert!(store.load("a").await.unwrap().is_some());
    }
}
