//! Each target's delta cursor (its deltaLink): stored with every commit, and remembered in
//! memory so a run can start without a trip to a blocking thread and the database.

use rusqlite::OptionalExtension;

use super::{HistoryError, HistoryStore};

impl HistoryStore {
    /// The saved deltaLink of `target`, if it ever completed a run.
    pub fn cursor(&self, target: &str) -> Result<Option<String>, HistoryError> {
        let conn = self.lock()?;
        let cursor: Option<String> = conn
            .query_row(
                "SELECT delta_link FROM cursors WHERE target = ?1",
                [target],
                |r| r.get(0),
            )
            .optional()?;
        self.remember_cursor(target, cursor.as_deref());
        Ok(cursor)
    }

    /// The cursor of `target` as this store last read or committed it, without touching the
    /// database (a map lookup: callable from async code). `None`: not known here; ask
    /// [`Self::cursor`]. It may be stale if another process committed since: a commit from it
    /// is then refused ([`Self::commit_run_from`]), never stored twice.
    pub fn known_cursor(&self, target: &str) -> Option<String> {
        let cursors = self.cursors.lock().unwrap_or_else(|p| p.into_inner());
        cursors.get(target).cloned()
    }

    pub(super) fn remember_cursor(&self, target: &str, cursor: Option<&str>) {
        let mut cursors = self.cursors.lock().unwrap_or_else(|p| p.into_inner());
        match cursor {
            Some(link) => cursors.insert(target.to_owned(), link.to_owned()),
            None => cursors.remove(target),
        };
    }
}
