//! A full enumeration (after Graph answers 410, `docs/PROTOCOL.md §3.4`) diffed against the stored
//! item index one page at a time, so a resync's memory follows a page and what changed, never the
//! size of the drive.
//!
//! Each page's ids are looked up in `items` by primary key, and every indexed item the page lists
//! is marked in `resync_seen` under the run's generation (a number from `resync_runs` that is
//! never handed out twice). Listed items that differ from their entry are kept in memory (the
//! last listing of an item wins); the rest are dropped. Marks are appended in enumeration order
//! (a run writes to the end of its own range, never at random into a big b-tree); at the end
//! they are read once sorted by id (SQLite's sorter, in bounded memory) beside the index in its
//! own id order, and the indexed items whose last mark is not a listing are the deleted ones.
//! Only the entries that classifying the kept and the deleted items reads are loaded: the
//! classifier then says exactly what it says over the whole index.
//!
//! The marks are scratch: no run reads another generation's, a failed or cancelled run drops its
//! own, and the target's next commit removes whatever is left in its transaction. The changes,
//! the index and the cursor still change only in the run's one commit. This module must never
//! write `items`, `changes` or `cursors`, and never keep a transaction open between pages: other
//! targets and other engines commit to the same database while an enumeration runs.

use std::cmp::Reverse;

use chrono::Utc;
use rusqlite::types::ValueRef;
use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::{HistoryError, HistoryStore, IDLE_CACHE_KIB, index_for};
use crate::classify::{DeltaItem, ItemIndex, LastListings};

/// SQLite's page cache while a resync runs, in KiB: a fixed amount, whatever the drive's size.
/// It keeps the upper levels of the index's b-tree cached, so looking up an item reads fewer
/// pages from the file, and lets the sorter of the final merge work in larger runs.
/// Back to the idle size when no resync is left. Why 40 MiB: at a million items the lookups
/// spent a third of their time reading pages the cache could not hold at 16 MiB, and the
/// resync's peak memory target (100 MiB, docs/ARCHITECTURE.md) leaves room for this much.
const RESYNC_CACHE_KIB: i64 = 40 * 1024;

/// The page cache, and so the sorter's memory, for a resync's final merge, in KiB.
const SORT_CACHE_KIB: i64 = 16 * 1024;

/// A mark's number: the generation in the high bits, the position in the enumeration below.
const POSITION_BITS: u32 = 32;

fn marks_of(generation: i64) -> (i64, i64) {
    let first = generation << POSITION_BITS;
    (first, first | ((1 << POSITION_BITS) - 1))
}

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
    /// Listed items that differ from the index.
    kept: LastListings,
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

/// Whether a listed (not deleted) item leaves its index entry (the columns `name, parent_id,
/// ctag, etag, is_folder, is_root` of `r`) exactly as it is: then it is neither a change nor an
/// index write. Compared in place, without copying the entry out: this runs for every item of the
/// drive. The classifier's resync diff keeps the same rule; the property test holds them together.
fn same_as_indexed(item: &DeltaItem, r: &rusqlite::Row<'_>) -> rusqlite::Result<bool> {
    let name = bytes(r, 0)?;
    // A missing name keeps the indexed one.
    Ok(item
        .name
        .as_deref()
        .is_none_or(|n| name == Some(n.as_bytes()))
        && bytes(r, 1)? == text(&item.parent_id)
        && bytes(r, 2)? == text(&item.ctag)
        && bytes(r, 3)? == text(&item.etag)
        && r.get::<_, bool>(4)? == item.is_folder
        && r.get::<_, bool>(5)? == item.is_root)
}

/// An optional text field as the bytes SQLite compares.
fn text(s: &Option<String>) -> Option<&[u8]> {
    s.as_deref().map(str::as_bytes)
}

/// A text column borrowed from the row (`None` for NULL).
fn bytes<'r>(r: &'r rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<&'r [u8]>> {
    match r.get_ref(i)? {
        ValueRef::Null => Ok(None),
        ValueRef::Text(t) => Ok(Some(t)),
        other => Err(rusqlite::Error::InvalidColumnType(
            i,
            String::new(),
            other.data_type(),
        )),
    }
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
        conn.pragma_update(None, "cache_size", -RESYNC_CACHE_KIB)?;
        Ok(ResyncDiff {
            store: self.clone(),
            target: target.to_owned(),
            generation,
            next: 0,
            kept: LastListings::default(),
            compared: 0,
        })
    }

    /// Drops the marks of a resync that will not commit (failed, cancelled, refused).
    pub fn abandon_resync(&self, target: &str, generation: i64) -> Result<(), HistoryError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        let (first, last) = marks_of(generation);
        tx.execute(
            "DELETE FROM resync_seen WHERE mark BETWEEN ?1 AND ?2",
            params![first, last],
        )?;
        tx.execute(
            "DELETE FROM resync_runs WHERE generation = ?1 AND target = ?2",
            params![generation, target],
        )?;
        idle_cache_unless_resyncing(&tx)?;
        tx.commit()?;
        Ok(())
    }

    /// How many resync marks `target` has stored (tests: a finished run leaves none).
    pub fn resync_marks(&self, target: &str) -> Result<i64, HistoryError> {
        let conn = self.lock()?;
        let mut count: i64 = 0;
        let mut runs =
            conn.prepare_cached("SELECT generation FROM resync_runs WHERE target = ?1")?;
        let generations = runs
            .query_map([target], |r| r.get::<_, i64>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        for generation in generations {
            let (first, last) = marks_of(generation);
            count += 1 + conn.query_row(
                "SELECT COUNT(*) FROM resync_seen WHERE mark BETWEEN ?1 AND ?2",
                params![first, last],
                |r| r.get::<_, i64>(0),
            )?;
        }
        Ok(count)
    }
}

/// The idle page cache again once no resync runs on this database.
fn idle_cache_unless_resyncing(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    let running: i64 = tx.query_row("SELECT COUNT(*) FROM resync_runs", [], |r| r.get(0))?;
    if running == 0 {
        tx.pragma_update(None, "cache_size", -IDLE_CACHE_KIB)?;
    }
    Ok(())
}

/// Removes every resync mark of `target`, inside the caller's transaction.
pub(super) fn clear_marks(tx: &rusqlite::Transaction<'_>, target: &str) -> rusqlite::Result<()> {
    let generations = {
        let mut runs = tx.prepare_cached("SELECT generation FROM resync_runs WHERE target = ?1")?;
        runs.query_map([target], |r| r.get::<_, i64>(0))?
            .collect::<Result<Vec<_>, _>>()?
    };
    if generations.is_empty() {
        return Ok(());
    }
    tx.execute("DELETE FROM resync_runs WHERE target = ?1", [target])?;
    let others: i64 = tx.query_row("SELECT COUNT(*) FROM resync_runs", [], |r| r.get(0))?;
    if others == 0 {
        // No other run's marks: SQLite empties a table deleted without a WHERE by dropping its
        // pages, instead of a million row deletes.
        tx.execute("DELETE FROM resync_seen", [])?;
        return idle_cache_unless_resyncing(tx);
    }
    let mut drop_marks =
        tx.prepare_cached("DELETE FROM resync_seen WHERE mark BETWEEN ?1 AND ?2")?;
    for generation in generations {
        let (first, last) = marks_of(generation);
        drop_marks.execute(params![first, last])?;
    }
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
    /// lists. One transaction: a page is marked whole or not at all. Once a commit of the target
    /// has ended the run (its cursor moved, so its own commit would be refused), the page is
    /// refused instead, before anything is written.
    pub fn add_page(&mut self, items: Vec<DeltaItem>) -> Result<(), HistoryError> {
        let mut conn = self.store.lock()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let alive = tx
            .query_row(
                "SELECT 1 FROM resync_runs WHERE generation = ?1",
                [self.generation],
                |_| Ok(()),
            )
            .optional()?;
        if alive.is_none() {
            return Err(HistoryError::CursorMoved {
                target: self.target.clone(),
            });
        }
        let (first, _) = marks_of(self.generation);
        let rows = items.len();
        {
            let mut get = tx.prepare_cached(
                "SELECT name, parent_id, ctag, etag, is_folder, is_root FROM items \
                 WHERE target = ?1 AND id = ?2",
            )?;
            let mut mark = tx
                .prepare_cached("INSERT INTO resync_seen (mark, id, listed) VALUES (?1, ?2, ?3)")?;
            for item in items {
                let position = self.next;
                self.next += 1;
                let number = first
                    + i64::try_from(position)
                        .ok()
                        .filter(|p| *p < 1 << POSITION_BITS)
                        .ok_or(HistoryError::ResyncTooLong)?;
                if item.deleted {
                    // An enumeration lists what exists: a deleted entry means "not there", so an
                    // indexed item whose last listing is a deletion is found with the gone ones.
                    mark.execute(params![number, item.id, false])?;
                    self.kept.forget(&item.id);
                    continue;
                }
                let indexed = get
                    .query_row(params![self.target, item.id], |r| same_as_indexed(&item, r))
                    .optional()?;
                let unchanged = match indexed {
                    Some(same) => {
                        self.compared += 1;
                        mark.execute(params![number, item.id, true])?;
                        same
                    }
                    None => false,
                };
                self.kept.note(position, item, unchanged);
            }
        }
        tx.commit()?;
        drop(conn);
        self.store.wrote(rows);
        Ok(())
    }

    /// The enumeration is complete: finds the indexed items it did not list and loads what
    /// classifying the outcome reads, in one read transaction. The marks stay until the run's
    /// commit (or [`HistoryStore::abandon_resync`]).
    pub fn finish(&mut self) -> Result<ResyncOutcome, HistoryError> {
        let mut conn = self.store.lock()?;
        let tx = conn.transaction()?;
        // The lookups are over: the sorter below takes as much memory as the page cache may
        // hold, so with both at the resync's size a million-item run peaked at 103 MiB.
        tx.pragma_update(None, "cache_size", -SORT_CACHE_KIB)?;
        let mut items = self.kept.take_in_order();
        let differing = items.len();
        {
            // Both in id order: the index by its primary key, the marks through SQLite's sorter
            // (a run's later mark of an id after its earlier ones). Memory stays at one row each.
            let mut indexed = tx.prepare_cached(
                "SELECT id FROM items WHERE target = ?1 AND is_root = 0 ORDER BY id",
            )?;
            let mut marks = tx.prepare_cached(
                "SELECT id, listed FROM resync_seen WHERE mark BETWEEN ?1 AND ?2 \
                 ORDER BY id, mark",
            )?;
            let (first, last) = marks_of(self.generation);
            let mut marks = marks.query_map(params![first, last], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?))
            })?;
            let mut mark = marks.next().transpose()?;
            let rows = indexed.query_map([&self.target], |r| r.get::<_, String>(0))?;
            for id in rows {
                let id = id?;
                // Skips the marks of ids before this one (not indexed), then takes this one's last.
                let mut listed = false;
                while let Some((marked, is_listed)) = mark.take() {
                    match marked.as_str().cmp(id.as_str()) {
                        std::cmp::Ordering::Less => {}
                        std::cmp::Ordering::Equal => listed = is_listed,
                        std::cmp::Ordering::Greater => {
                            mark = Some((marked, is_listed));
                            break;
                        }
                    }
                    mark = marks.next().transpose()?;
                }
                if !listed {
                    items.push(DeltaItem {
                        id,
                        deleted: true,
                        ..DeltaItem::default()
                    });
                }
            }
        }
        let index = index_for(&tx, &self.target, &items)?;
        tx.commit()?;
        items[differing..]
            .sort_by_cached_key(|i| Reverse(index.path_of(&i.id).unwrap_or_default()));
        Ok(ResyncOutcome {
            index,
            items,
            compared: self.compared,
        })
    }
}

#[cfg(test)]
mod tests;
