//! A full enumeration (after Graph answers 410, `docs/PROTOCOL.md §3.4`) diffed against the stored
//! item index one page at a time, so a resync's memory follows a page and what changed, never the
//! size of the drive.
//!
//! Each page's ids are looked up in `items` by primary key, and every indexed item the page lists
//! is marked in `resync_seen` under the run's generation (a number from `resync_runs` that is
//! never handed out twice). Listed items that differ from their entry are kept in memory (the
//! last listing of an item wins); the rest are dropped. At the end, the indexed items without
//! this generation's mark are the deleted ones, and only the entries that classifying the kept
//! and the deleted items reads are loaded: the classifier then says exactly what it says over the
//! whole index.
//!
//! The marks are scratch: no run reads another generation's, a failed or cancelled run drops its
//! own, and the target's next commit removes whatever is left in its transaction. The changes,
//! the index and the cursor still change only in the run's one commit. This module must never
//! write `items`, `changes` or `cursors`, and never keep a transaction open between pages: other
//! targets and other engines commit to the same database while an enumeration runs.

use std::cmp::Reverse;
use std::collections::HashMap;

use chrono::Utc;
use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::{HistoryError, HistoryStore, entry_at, index_for};
use crate::classify::{DeltaItem, IndexEntry, ItemIndex};

/// One resync's diff in progress: the marks are in the store, the items that differ in here.
///
/// Pages go in with [`ResyncDiff::add_page`] in enumeration order; each call is one short
/// transaction, to be run off the async threads (`spawn_blocking`).
#[derive(Debug)]
pub struct ResyncDiff {
    store: HistoryStore,
    target: String,
    generation: i64,
    /// Position of the next item in the enumeration.
    next: u64,
    /// Listed items that differ from the index, by id: (position of the last listing, item).
    kept: HashMap<String, (u64, DeltaItem)>,
    /// Listings compared with an index entry.
    compared: u64,
}

/// What a finished diff hands to the classifier.
#[derive(Debug)]
pub struct ResyncOutcome {
    /// The entries classifying `items` reads: their own, their ancestors, a deleted folder's
    /// contents (as [`HistoryStore::load_index_for`] loads them).
    pub index: ItemIndex,
    /// The listed items that differ from the index, in the order of their last listing, then
    /// every indexed item the enumeration did not list, as deleted, deepest path first (as Graph
    /// reports a folder's contents before the folder).
    pub items: Vec<DeltaItem>,
    /// How many listings were compared with an index entry (the whole index when the enumeration
    /// lists every item), one page at a time.
    pub compared: u64,
}

/// Whether a listed (not deleted) item leaves its index entry exactly as it is: then it is
/// neither a change nor an index write. The classifier's resync diff keeps the same rule, and the
/// property test holds the two together.
fn same_as_indexed(item: &DeltaItem, old: &IndexEntry) -> bool {
    // A missing name keeps the indexed one.
    item.name.as_deref().is_none_or(|n| n == old.name)
        && item.parent_id == old.parent_id
        && item.ctag == old.ctag
        && item.etag == old.etag
        && item.is_folder == old.is_folder
        && item.is_root == old.is_root
}

impl HistoryStore {
    /// Starts a resync of `target`: a new generation for its marks.
    pub fn begin_resync(&self, target: &str) -> Result<ResyncDiff, HistoryError> {
        let conn = self.lock()?;
        conn.execute(
            "INSERT INTO resync_runs (target, started_ms) VALUES (?1, ?2)",
            params![target, Utc::now().timestamp_millis()],
        )?;
        let generation = conn.last_insert_rowid();
        Ok(ResyncDiff {
            store: self.clone(),
            target: target.to_owned(),
            generation,
            next: 0,
            kept: HashMap::new(),
            compared: 0,
        })
    }

    /// Drops the marks of a resync that will not commit (failed, cancelled, refused).
    pub fn abandon_resync(&self, target: &str, generation: i64) -> Result<(), HistoryError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        tx.execute(
            "DELETE FROM resync_seen WHERE target = ?1 AND generation = ?2",
            params![target, generation],
        )?;
        tx.execute(
            "DELETE FROM resync_runs WHERE generation = ?1",
            [generation],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// How many resync marks `target` has stored (tests: a finished run leaves none).
    pub fn resync_marks(&self, target: &str) -> Result<i64, HistoryError> {
        let conn = self.lock()?;
        Ok(conn.query_row(
            "SELECT (SELECT COUNT(*) FROM resync_seen WHERE target = ?1) + \
             (SELECT COUNT(*) FROM resync_runs WHERE target = ?1)",
            [target],
            |r| r.get(0),
        )?)
    }
}

/// Removes every resync mark of `target`, inside the caller's transaction.
pub(super) fn clear_marks(tx: &rusqlite::Transaction<'_>, target: &str) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM resync_seen WHERE target = ?1", [target])?;
    tx.execute("DELETE FROM resync_runs WHERE target = ?1", [target])?;
    Ok(())
}

impl ResyncDiff {
    /// The run's generation (for [`HistoryStore::abandon_resync`]).
    pub fn generation(&self) -> i64 {
        self.generation
    }

    /// How many listed items differ from the index so far (what the classifier will see).
    pub fn kept(&self) -> usize {
        self.kept.len()
    }

    /// Compares one page of the enumeration, in order, with the stored index and marks what it
    /// lists. One transaction: a page is marked whole or not at all.
    pub fn add_page(&mut self, items: Vec<DeltaItem>) -> Result<(), HistoryError> {
        let mut conn = self.store.lock()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut get = tx.prepare_cached(
                "SELECT name, parent_id, ctag, etag, is_folder, is_root FROM items \
                 WHERE target = ?1 AND id = ?2",
            )?;
            let mut mark = tx.prepare_cached(
                "INSERT OR IGNORE INTO resync_seen (target, generation, id) VALUES (?1, ?2, ?3)",
            )?;
            let mut unmark = tx.prepare_cached(
                "DELETE FROM resync_seen WHERE target = ?1 AND generation = ?2 AND id = ?3",
            )?;
            for item in items {
                let position = self.next;
                self.next += 1;
                if item.deleted {
                    // An enumeration lists what exists: a deleted entry means "not there", so an
                    // indexed item whose last listing is a deletion is found with the gone ones.
                    unmark.execute(params![self.target, self.generation, item.id])?;
                    self.kept.remove(&item.id);
                    continue;
                }
                let old = get
                    .query_row(params![self.target, item.id], |r| entry_at(r, 0))
                    .optional()?;
                let unchanged = match old {
                    Some(old) => {
                        self.compared += 1;
                        mark.execute(params![self.target, self.generation, item.id])?;
                        same_as_indexed(&item, &old)
                    }
                    None => false,
                };
                if unchanged {
                    // An earlier, different listing of the same item no longer counts.
                    if !self.kept.is_empty() {
                        self.kept.remove(&item.id);
                    }
                } else {
                    self.kept.insert(item.id.clone(), (position, item));
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The enumeration is complete: finds the indexed items it did not list and loads what
    /// classifying the outcome reads, in one read transaction. The marks stay until the run's
    /// commit (or [`HistoryStore::abandon_resync`]).
    pub fn finish(&mut self) -> Result<ResyncOutcome, HistoryError> {
        let mut conn = self.store.lock()?;
        let tx = conn.transaction()?;
        let mut present: Vec<(u64, DeltaItem)> =
            std::mem::take(&mut self.kept).into_values().collect();
        present.sort_unstable_by_key(|(position, _)| *position);
        let mut items: Vec<DeltaItem> = present.into_iter().map(|(_, item)| item).collect();
        let listed = items.len();
        {
            // In id order, so deletions at the same path come out the same every time.
            let mut gone = tx.prepare_cached(
                "SELECT i.id FROM items i WHERE i.target = ?1 AND i.is_root = 0 \
                 AND NOT EXISTS (SELECT 1 FROM resync_seen s \
                     WHERE s.target = ?1 AND s.generation = ?2 AND s.id = i.id) \
                 ORDER BY i.id",
            )?;
            let rows = gone.query_map(params![self.target, self.generation], |r| {
                r.get::<_, String>(0)
            })?;
            for id in rows {
                items.push(DeltaItem {
                    id: id?,
                    deleted: true,
                    ..DeltaItem::default()
                });
            }
        }
        let index = index_for(&tx, &self.target, &items)?;
        tx.commit()?;
        items[listed..].sort_by_cached_key(|i| Reverse(index.path_of(&i.id).unwrap_or_default()));
        Ok(ResyncOutcome {
            index,
            items,
            compared: self.compared,
        })
    }
}

#[cfg(test)]
mod tests;
