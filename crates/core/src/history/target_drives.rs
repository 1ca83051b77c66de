//! The drive id each SharePoint library or group target resolved to, kept beside its cursor.
//!
//! Push subscribes such targets by drive id (`docs/PROTOCOL.md §2.11`), which takes one Graph
//! request to learn; remembering the answer here means a restart does not ask again. The id is
//! a fact about the target, not about push: this module must never store whether the service
//! accepted a subscription by it (that is decided anew on every start).

use chrono::Utc;
use rusqlite::{OptionalExtension, params};

use super::{HistoryError, HistoryStore};

impl HistoryStore {
    /// The drive id `target` resolved to before, if it ever did.
    pub fn target_drive(&self, target: &str) -> Result<Option<String>, HistoryError> {
        let conn = self.lock()?;
        Ok(conn
            .query_row(
                "SELECT drive_id FROM target_drives WHERE target = ?1",
                [target],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Remembers the drive id `target` resolved to (replacing an earlier answer).
    pub fn set_target_drive(&self, target: &str, drive_id: &str) -> Result<(), HistoryError> {
        let conn = self.lock()?;
        conn.execute(
            "INSERT INTO target_drives (target, drive_id, resolved_ms) VALUES (?1, ?2, ?3) \
             ON CONFLICT(target) DO UPDATE SET drive_id = excluded.drive_id, \
             resolved_ms = excluded.resolved_ms",
            params![target, drive_id, Utc::now().timestamp_millis()],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resolved_drive_is_kept_per_target_and_forgotten_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.db");
        {
            let store = HistoryStore::open(&path).unwrap();
            assert_eq!(store.target_drive("a/site:s:l").unwrap(), None);
            store.set_target_drive("a/site:s:l", "b!old").unwrap();
            store.set_target_drive("a/site:s:l", "b!lib").unwrap();
            store.set_target_drive("a/group:g", "b!grp").unwrap();
        }
        // Survives reopening: that is the point of keeping it here.
        let store = HistoryStore::open(&path).unwrap();
        assert_eq!(
            store.target_drive("a/site:s:l").unwrap().as_deref(),
            Some("b!lib")
        );
        store.forget_target("a/site:s:l").unwrap();
        assert_eq!(store.target_drive("a/site:s:l").unwrap(), None);
        assert_eq!(
            store.target_drive("a/group:g").unwrap().as_deref(),
            Some("b!grp")
        );
    }

    #[test]
    fn a_database_from_before_the_table_gains_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.db");
        {
            // Schema 2, as DriveWatch wrote it before drives were remembered.
            let conn = rusqlite::Connection::open(&path).unwrap();
            for sql in &super::super::migrations::MIGRATIONS[..2] {
                conn.execute_batch(sql).unwrap();
            }
            conn.pragma_update(None, "user_version", 2).unwrap();
        }
        let store = HistoryStore::open(&path).unwrap();
        store.set_target_drive("t", "b!d").unwrap();
        assert_eq!(store.target_drive("t").unwrap().as_deref(), Some("b!d"));
    }
}
