//! The accounts registry: which accounts are signed in (ids, names, kinds, tenants), persisted as
//! JSON in the data folder so several accounts can be used side by side across runs.
//!
//! It must never hold a token; tokens live in the token store, keyed by the account id here.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::AuthError;
use crate::config::write_atomically;
use crate::model::{Account, AccountState};

/// One registered account and the tenant it signed in through (refreshes use the same one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountRecord {
    #[serde(flatten)]
    pub account: Account,
    pub tenant: String,
}

/// The registry file's content.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct RegistryFile {
    #[serde(default)]
    accounts: Vec<AccountRecord>,
}

/// The accounts registry, loaded from and saved to one file.
#[derive(Debug, Clone)]
pub struct AccountsRegistry {
    path: PathBuf,
    records: Vec<AccountRecord>,
}

impl AccountsRegistry {
    /// Reads the registry; a missing file is an empty registry.
    pub fn load(path: impl Into<PathBuf>) -> Result<Self, AuthError> {
        let path = path.into();
        let records = match std::fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice::<RegistryFile>(&bytes)
                    .map_err(|_| AuthError::StoreCorrupt { path: path.clone() })?
                    .accounts
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(source) => return Err(AuthError::StoreIo { path, source }),
        };
        Ok(Self { path, records })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn list(&self) -> &[AccountRecord] {
        &self.records
    }

    pub fn get(&self, id: &str) -> Option<&AccountRecord> {
        self.records.iter().find(|r| r.account.id == id)
    }

    /// By id, or by sign-in name (case-insensitive).
    pub fn find(&self, id_or_username: &str) -> Option<&AccountRecord> {
        self.get(id_or_username).or_else(|| {
            self.records
                .iter()
                .find(|r| r.account.username.eq_ignore_ascii_case(id_or_username))
        })
    }

    /// Adds or replaces (by id) and saves.
    pub fn upsert(&mut self, record: AccountRecord) -> Result<(), AuthError> {
        match self
            .records
            .iter_mut()
            .find(|r| r.account.id == record.account.id)
        {
            Some(existing) => *existing = record,
            None => self.records.push(record),
        }
        self.save()
    }

    /// Marks an account's state and saves; unknown ids are ignored.
    pub fn set_state(&mut self, id: &str, state: AccountState) -> Result<(), AuthError> {
        if let Some(r) = self.records.iter_mut().find(|r| r.account.id == id) {
            if r.account.state != state {
                r.account.state = state;
                return self.save();
            }
        }
        Ok(())
    }

    /// Removes one account and saves; returns it if it was there.
    pub fn remove(&mut self, id: &str) -> Result<Option<AccountRecord>, AuthError> {
        let Some(pos) = self.records.iter().position(|r| r.account.id == id) else {
            return Ok(None);
        };
        let removed = self.records.remove(pos);
        self.save()?;
        Ok(Some(removed))
    }

    fn save(&self) -> Result<(), AuthError> {
        let file = RegistryFile {
            accounts: self.records.clone(),
        };
        let bytes = serde_json::to_vec_pretty(&file).map_err(|_| AuthError::StoreCorrupt {
            path: self.path.clone(),
        })?;
        write_atomically(&self.path, &bytes).map_err(|source| AuthError::StoreIo {
            path: self.path.clone(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AccountKind;

    fn record(id: &str, user: &str, kind: AccountKind) -> AccountRecord {
        AccountRecord {
            account: Account {
                id: id.into(),
                display_name: format!("{id} name"),
                username: user.into(),
                kind,
                state: AccountState::SignedIn,
            },
            tenant: "common".into(),
        }
    }

    #[test]
    fn several_accounts_persist_and_one_can_be_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("accounts.json");
        let mut reg = AccountsRegistry::load(&path).unwrap();
        assert!(reg.list().is_empty());
        reg.upsert(record("p1", "me@outlook.com", AccountKind::Personal))
            .unwrap();
        reg.upsert(record("w1", "me@contoso.com", AccountKind::Work))
            .unwrap();
        // Signing in again replaces, never duplicates.
        reg.upsert(record("p1", "me@outlook.com", AccountKind::Personal))
            .unwrap();

        let mut again = AccountsRegistry::load(&path).unwrap();
        assert_eq!(again.list().len(), 2);
        assert_eq!(again.find("ME@CONTOSO.COM").unwrap().account.id, "w1");
        again.set_state("w1", AccountState::NeedsSignIn).unwrap();
        assert_eq!(again.remove("p1").unwrap().unwrap().account.id, "p1");
        assert!(again.remove("p1").unwrap().is_none());

        let last = AccountsRegistry::load(&path).unwrap();
        assert_eq!(last.list().len(), 1);
        assert_eq!(last.list()[0].account.state, AccountState::NeedsSignIn);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("\"displayName\"") && text.contains("\"tenant\""),
            "{text}"
        );
    }
}
