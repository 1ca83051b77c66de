//! The change history, the delta cursors and the item index, in one SQLite file.
//!
//! Why one file and one transaction: a delta run's changes, its index updates and the new
//! deltaLink must commit together, so a crash between "stored the changes" and "stored the cursor"
//! can neither lose a change (cursor saved first) nor report it twice (changes saved first). The
//! `changes` table is append-only and read by its integer `seq`. This module must never store a
//! token (the deltaLink's `token` is Graph's sync position, docs/PROTOCOL.md §3.1, not a
//! credential, but it is still never logged), and must never be called from an async task
//! without `spawn_blocking` or an equally short critical section: every method here is
//! synchronous and quick.

mod checkpoint;
mod cursors;
mod grouping;
mod migrations;
mod query;
mod resync;
mod target_drives;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{Connection, OptionalExtension, params, types::Value};

use crate::classify::{DeltaItem, IndexEntry, IndexUpdate, ItemIndex};
use crate::model::{Change, ChangeKind, DEFAULT_SESSION_MINUTES, HistoryPage, HistoryQuery};
pub use grouping::BURST_WINDOW;
pub use resync::{ResyncDiff, ResyncOutcome};

/// SQLite's page cache between resyncs, in KiB (why so small: see `setup`).
const IDLE_CACHE_KIB: i64 = 512;

/// The largest page [`HistoryStore::query`] returns, whatever the host asks for.
pub const MAX_PAGE: u32 = 500;

/// Everything that can go wrong in the history store.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("cannot open the history database: {0}")]
    Open(#[source] rusqlite::Error),
    #[error("the history database is newer (schema {found}) than this DriveWatch knows ({known})")]
    SchemaTooNew { found: i64, known: i64 },
    #[error("history migration {version} failed: {source}")]
    Migration {
        version: i64,
        #[source]
        source: rusqlite::Error,
    },
    #[error("history query failed: {0}")]
    Query(#[from] rusqlite::Error),
    #[error("the history store was poisoned by a panic in another thread")]
    Poisoned,
    /// The target's cursor changed since the run started: another engine committed first.
    #[error("the delta cursor of {target} moved during the run; it runs again")]
    CursorMoved { target: String },
    /// A resync listed more items than its marks can number (4 billion).
    #[error("a resync listed more items than it can compare")]
    ResyncTooLong,
    #[error("stored change {seq} has an unknown kind {kind:?}")]
    CorruptKind { seq: i64, kind: String },
}

/// Shared handle on the history database; cheap to clone.
#[derive(Clone)]
pub struct HistoryStore {
    conn: Arc<Mutex<Connection>>,
    /// The editing-session length commits group saves by, in minutes (the preference
    /// `session_minutes`, set by the workspace; 0: no sessions).
    session_minutes: Arc<AtomicU32>,
    /// The latest change of every grouping key (see `grouping`), shared by every clone.
    heads: Arc<Mutex<grouping::Heads>>,
    /// Each target's cursor as this store last read or committed it, so a run can start
    /// without a trip to a blocking thread and the database ([`Self::known_cursor`]). Another
    /// process's commit is not seen here: the run's commit then finds the cursor moved, and
    /// this is set to the stored one for the run made again.
    cursors: Arc<Mutex<HashMap<String, String>>>,
    /// WAL checkpoints on a thread of their own (see `checkpoint`); none in memory.
    checkpointer: Option<Arc<checkpoint::Checkpointer>>,
}

impl std::fmt::Debug for HistoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HistoryStore").finish_non_exhaustive()
    }
}

/// One delta run, ready to commit atomically.
#[derive(Debug, Clone, Copy)]
pub struct RunCommit<'a> {
    pub target: &'a str,
    pub changes: &'a [Change],
    pub index: &'a IndexUpdate,
    /// The deltaLink the run ended with: the next run starts there.
    pub delta_link: &'a str,
}

fn kind_from(seq: i64, s: &str) -> Result<ChangeKind, HistoryError> {
    Ok(match s {
        "created" => ChangeKind::Created,
        "modified" => ChangeKind::Modified,
        "renamed" => ChangeKind::Renamed,
        "moved" => ChangeKind::Moved,
        "deleted" => ChangeKind::Deleted,
        other => {
            return Err(HistoryError::CorruptKind {
                seq,
                kind: other.to_owned(),
            });
        }
    })
}

/// Lower-cased text the history filter matches against (Unicode-aware, unlike SQLite's LIKE).
fn search_text(c: &Change) -> String {
    let mut s = String::new();
    for part in [
        Some(c.name.as_str()),
        Some(c.path.as_str()),
        c.old_path.as_deref(),
        c.by.as_deref(),
    ]
    .into_iter()
    .flatten()
    {
        s.push_str(&part.to_lowercase());
        s.push('\n');
    }
    s
}

const CHANGE_COLUMNS: &str = "seq, kind, name, path, old_path, is_folder, item_id, drive_id, \
     by_name, own, at_ms, web_url, account, target, caught_up, grp";

impl HistoryStore {
    /// Opens (creating and migrating as needed) the database at `path`, in WAL mode.
    pub fn open(path: &Path) -> Result<Self, HistoryError> {
        let conn = Connection::open(path).map_err(HistoryError::Open)?;
        let mut store = Self::setup(conn)?;
        if let Some(checkpointer) = checkpoint::Checkpointer::start(path) {
            // Commits no longer checkpoint themselves, short of the safety net.
            store
                .lock()?
                .pragma_update(None, "wal_autocheckpoint", checkpoint::SAFETY_NET_PAGES)
                .map_err(HistoryError::Open)?;
            store.checkpointer = Some(Arc::new(checkpointer));
        }
        Ok(store)
    }

    /// A transaction of about `rows` written rows committed: the checkpoint thread counts them.
    fn wrote(&self, rows: usize) {
        if let Some(c) = &self.checkpointer {
            c.wrote(rows);
        }
    }

    /// How many WAL checkpoints the checkpoint thread has made (diagnostics and tests).
    pub fn checkpoints_done(&self) -> u64 {
        self.checkpointer.as_ref().map_or(0, |c| c.done())
    }

    /// A private in-memory store, for tests and previews.
    pub fn open_in_memory() -> Result<Self, HistoryError> {
        let conn = Connection::open_in_memory().map_err(HistoryError::Open)?;
        Self::setup(conn)
    }

    fn setup(mut conn: Connection) -> Result<Self, HistoryError> {
        conn.busy_timeout(Duration::from_secs(5))
            .map_err(HistoryError::Open)?;
        // WAL lets the UI read history while a delta run writes; NORMAL is durable in WAL mode
        // for everything but power loss, which at worst repeats the last delta (never loses it).
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(HistoryError::Open)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(HistoryError::Open)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(HistoryError::Open)?;
        // 512 KiB of page cache instead of SQLite's default 2 MiB: the engine reads a handful of
        // index rows per delta run and the UI reads history a page at a time, so a bigger cache
        // only grows the idle footprint (it fills up and stays resident); the OS page cache
        // still holds the file.
        conn.pragma_update(None, "cache_size", -IDLE_CACHE_KIB)
            .map_err(HistoryError::Open)?;
        // Room for every statement a commit, a resync and the index reads use, beside the
        // history queries' variants (rusqlite keeps 16), so none is parsed again per commit.
        conn.set_prepared_statement_cache_capacity(64);
        migrations::migrate(&mut conn)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            session_minutes: Arc::new(AtomicU32::new(DEFAULT_SESSION_MINUTES)),
            heads: Arc::default(),
            cursors: Arc::default(),
            checkpointer: None,
        })
    }

    /// How far apart saves of one file by one person may come and still be one editing session
    /// (see [`Change::group`]); commits from now on use it, every clone of this store shares it.
    pub fn set_session_minutes(&self, minutes: u32) {
        self.session_minutes.store(minutes, Ordering::Relaxed);
    }

    fn lock(&self) -> Result<MutexGuard<'_, Connection>, HistoryError> {
        self.conn.lock().map_err(|_| HistoryError::Poisoned)
    }

    /// The whole item index of `target` as of its last committed run, for tests and diagnostics:
    /// no run loads it (incremental runs read their part, [`Self::load_index_for`], and a resync
    /// compares a page at a time, [`Self::begin_resync`]).
    pub fn load_index(&self, target: &str) -> Result<ItemIndex, HistoryError> {
        let conn = self.lock()?;
        // Sized up front: growing a 100,000-entry map doubles it (and its peak) several times.
        let count: i64 = conn.query_row(
            "SELECT COUNT(*) FROM items WHERE target = ?1",
            [target],
            |r| r.get(0),
        )?;
        let mut stmt = conn.prepare_cached(
            "SELECT id, name, parent_id, ctag, etag, is_folder, is_root FROM items WHERE target = ?1",
        )?;
        let mut index = ItemIndex::with_capacity(usize::try_from(count).unwrap_or(0));
        let rows = stmt.query_map([target], |r| Ok((r.get::<_, String>(0)?, entry_at(r, 1)?)))?;
        for row in rows {
            let (id, entry) = row?;
            index.insert(id, entry);
        }
        Ok(index)
    }

    /// The part of `target`'s item index that classifying `items` (one incremental run) reads:
    /// the entries of the items themselves, every ancestor of their old and new parents up to
    /// the root, and everything below a folder the run deletes. The classifier gives the same
    /// answers over this as over the whole index, while memory and time follow the size of the
    /// run, not of the drive: each entry is one primary-key lookup, descendants one recursive
    /// query over `items_by_parent`.
    pub fn load_index_for(
        &self,
        target: &str,
        items: &[DeltaItem],
    ) -> Result<ItemIndex, HistoryError> {
        let conn = self.lock()?;
        index_for(&conn, target, items)
    }

    /// Stores a run's changes, index update and new cursor in ONE transaction; returns the
    /// changes with their assigned `seq` and `group` (module `grouping`).
    pub fn commit_run(&self, run: RunCommit<'_>) -> Result<Vec<Change>, HistoryError> {
        self.commit(run, None)
    }

    /// Like [`HistoryStore::commit_run`], but only if the target's cursor is still `started_from`
    /// (`None`: it had none), the one the run began at. Another engine on the same database
    /// (a second process, or a host restarting its engine) may have committed the same changes
    /// meanwhile: then nothing is written and [`HistoryError::CursorMoved`] says to run again.
    pub fn commit_run_from(
        &self,
        run: RunCommit<'_>,
        started_from: Option<&str>,
    ) -> Result<Vec<Change>, HistoryError> {
        self.commit(run, Some(started_from))
    }

    fn commit(
        &self,
        run: RunCommit<'_>,
        started_from: Option<Option<&str>>,
    ) -> Result<Vec<Change>, HistoryError> {
        let mut conn = self.lock()?;
        // Only ever locked under the connection's lock, so never contended.
        let mut heads = self.heads.lock().map_err(|_| HistoryError::Poisoned)?;
        // IMMEDIATE: the cursor check and the writes happen under one write lock.
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        if let Some(expected) = started_from {
            // Cached statements here and below: a commit is on the change-to-toast path, and
            // parsing a statement costs about as much as running it.
            let current: Option<String> = tx
                .prepare_cached("SELECT delta_link FROM cursors WHERE target = ?1")?
                .query_row([run.target], |r| r.get(0))
                .optional()?;
            if current.as_deref() != expected {
                self.remember_cursor(run.target, current.as_deref());
                return Err(HistoryError::CursorMoved {
                    target: run.target.to_owned(),
                });
            }
        }
        let mut stored = Vec::with_capacity(run.changes.len());
        let (grouper, first_seq) = {
            // Seqs are handed out here, under the write lock, so a change's group (its own seq
            // when it starts one) is known when it is inserted; never below one used before.
            let first_seq: i64 = tx
                .prepare_cached(
                    "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'changes'), \
                     0), COALESCE((SELECT MAX(seq) FROM changes), 0)) + 1",
                )?
                .query_row([], |r| r.get(0))?;
            let session =
                chrono::Duration::minutes(i64::from(self.session_minutes.load(Ordering::Relaxed)));
            let mut grouper = grouping::Grouper::start(&mut heads, &tx, session, first_seq)?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO changes (kind, name, path, old_path, is_folder, item_id, drive_id, \
                 by_name, own, at_ms, web_url, account, target, caught_up, search, seq, grp, \
                 folder) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, \
                 ?15, ?16, ?17, ?18)",
            )?;
            for (seq, c) in (first_seq..).zip(run.changes) {
                let folder = grouping::folder_key(&c.path);
                let group = grouper.assign(run.target, c, seq, &folder);
                insert.execute(params![
                    c.kind.as_str(),
                    c.name,
                    c.path,
                    c.old_path,
                    c.is_folder,
                    c.item_id,
                    c.drive_id,
                    c.by,
                    c.own,
                    c.at.timestamp_millis(),
                    c.web_url,
                    c.account,
                    run.target,
                    c.caught_up,
                    search_text(c),
                    seq,
                    group,
                    folder,
                ])?;
                let mut c = c.clone();
                c.seq = seq;
                c.group = group;
                // What was stored, so the batch a host sees equals a later history read.
                c.at = millis_to_time(c.at.timestamp_millis());
                c.target = run.target.to_owned();
                stored.push(c);
            }
            if run.index.replace {
                tx.execute("DELETE FROM items WHERE target = ?1", [run.target])?;
            }
            let mut remove =
                tx.prepare_cached("DELETE FROM items WHERE target = ?1 AND id = ?2")?;
            for id in &run.index.removals {
                remove.execute(params![run.target, id])?;
            }
            let mut upsert = tx.prepare_cached(
                "INSERT INTO items (target, id, name, parent_id, ctag, etag, is_folder, is_root) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
                 ON CONFLICT(target, id) DO UPDATE SET name = excluded.name, \
                 parent_id = excluded.parent_id, ctag = excluded.ctag, etag = excluded.etag, \
                 is_folder = excluded.is_folder, is_root = excluded.is_root",
            )?;
            for (id, e) in &run.index.upserts {
                upsert.execute(params![
                    run.target,
                    id,
                    e.name,
                    e.parent_id,
                    e.ctag,
                    e.etag,
                    e.is_folder,
                    e.is_root
                ])?;
            }
            tx.prepare_cached(
                "INSERT INTO cursors (target, delta_link, updated_ms) VALUES (?1, ?2, ?3) \
                 ON CONFLICT(target) DO UPDATE SET delta_link = excluded.delta_link, \
                 updated_ms = excluded.updated_ms",
            )?
            .execute(params![
                run.target,
                run.delta_link,
                Utc::now().timestamp_millis()
            ])?;
            // Any resync of the target still under way started from the cursor this commit
            // moves, so its commit will be refused: its marks go now, in this transaction.
            resync::clear_marks(&tx, run.target)?;
            (grouper, first_seq)
        };
        tx.commit()?;
        grouper.committed(first_seq + stored.len() as i64 - 1);
        self.remember_cursor(run.target, Some(run.delta_link));
        self.wrote(1 + stored.len() + run.index.upserts.len() + run.index.removals.len());
        Ok(stored)
    }

    /// Forgets a target's cursor, item index and resolved drive (sign-out, target removed). Its
    /// past changes stay in the history until retention prunes them.
    pub fn forget_target(&self, target: &str) -> Result<(), HistoryError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM cursors WHERE target = ?1", [target])?;
        tx.execute("DELETE FROM items WHERE target = ?1", [target])?;
        tx.execute("DELETE FROM target_drives WHERE target = ?1", [target])?;
        resync::clear_marks(&tx, target)?;
        tx.commit()?;
        self.remember_cursor(target, None);
        Ok(())
    }

    /// Drops changes that happened before `cutoff`; returns how many. The rest of a group stays
    /// readable, under the same id, when its first change goes.
    pub fn prune_before(&self, cutoff: DateTime<Utc>) -> Result<usize, HistoryError> {
        let conn = self.lock()?;
        let removed = conn.execute(
            "DELETE FROM changes WHERE at_ms < ?1",
            [cutoff.timestamp_millis()],
        )?;
        drop(conn);
        self.wrote(removed);
        Ok(removed)
    }

    /// One change by its `seq`.
    pub fn change(&self, seq: i64) -> Result<Option<Change>, HistoryError> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {CHANGE_COLUMNS} FROM changes WHERE seq = ?1"
        ))?;
        let raw = stmt.query_row([seq], raw_change).optional()?;
        raw.map(RawChange::into_change).transpose()
    }

    /// A page of history, newest first, filtered as the query says.
    pub fn query(&self, q: &HistoryQuery) -> Result<HistoryPage, HistoryError> {
        let limit = q.limit.clamp(1, MAX_PAGE);
        let mut sql = format!("SELECT {CHANGE_COLUMNS} FROM changes WHERE 1 = 1");
        let mut args: Vec<Value> = Vec::new();
        query::filter(q, &mut sql, &mut args);
        // One extra row tells whether an older page exists.
        args.push(Value::Integer(i64::from(limit) + 1));
        sql.push_str(&format!(" ORDER BY seq DESC LIMIT ?{}", args.len()));

        let conn = self.lock()?;
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args), raw_change)?;
        let mut changes = Vec::new();
        for row in rows {
            changes.push(row?.into_change()?);
        }
        let next_before = if changes.len() > limit as usize {
            changes.truncate(limit as usize);
            changes.last().map(|c| c.seq)
        } else {
            None
        };
        Ok(HistoryPage {
            changes,
            next_before,
        })
    }

    /// How many changes are stored for `target` (all targets when `None`).
    pub fn count(&self, target: Option<&str>) -> Result<i64, HistoryError> {
        let conn = self.lock()?;
        Ok(match target {
            Some(t) => {
                conn.query_row("SELECT COUNT(*) FROM changes WHERE target = ?1", [t], |r| {
                    r.get(0)
                })?
            }
            None => conn.query_row("SELECT COUNT(*) FROM changes", [], |r| r.get(0))?,
        })
    }
}

/// [`HistoryStore::load_index_for`] on a connection the caller holds (a resync's end reads it too).
fn index_for(
    conn: &Connection,
    target: &str,
    items: &[DeltaItem],
) -> Result<ItemIndex, HistoryError> {
    let mut get = conn.prepare_cached(
        "SELECT name, parent_id, ctag, etag, is_folder, is_root FROM items \
         WHERE target = ?1 AND id = ?2",
    )?;
    let mut index = ItemIndex::new();
    // Ids looked up already (found or not): each chain is walked once, and a corrupt
    // index with a parent cycle still ends.
    let mut tried: HashSet<String> = HashSet::new();
    let mut pending: Vec<String> = items
        .iter()
        .flat_map(|i| std::iter::once(&i.id).chain(i.parent_id.as_ref()))
        .cloned()
        .collect();
    while let Some(id) = pending.pop() {
        if tried.contains(&id) {
            continue;
        }
        tried.insert(id.clone());
        let entry = get
            .query_row(params![target, id], |r| entry_at(r, 0))
            .optional()?;
        if let Some(entry) = entry {
            if let Some(parent) = entry.parent_id.as_ref().filter(|p| !tried.contains(*p)) {
                pending.push(parent.clone());
            }
            index.insert(id, entry);
        }
    }
    // A deleted folder takes its contents with it: the classifier removes them too.
    let mut below = conn.prepare_cached(
        "WITH RECURSIVE below(id) AS ( \
             SELECT id FROM items WHERE target = ?1 AND parent_id = ?2 \
             UNION SELECT i.id FROM items i JOIN below b \
                 ON i.target = ?1 AND i.parent_id = b.id \
         ) \
         SELECT i.id, i.name, i.parent_id, i.ctag, i.etag, i.is_folder, i.is_root \
         FROM below b JOIN items i ON i.target = ?1 AND i.id = b.id",
    )?;
    for item in items.iter().filter(|i| i.deleted) {
        if !index.get(&item.id).is_some_and(|e| e.is_folder) {
            continue;
        }
        let rows = below.query_map(params![target, item.id], |r| {
            Ok((r.get::<_, String>(0)?, entry_at(r, 1)?))
        })?;
        for row in rows {
            let (id, entry) = row?;
            if index.get(&id).is_none() {
                index.insert(id, entry);
            }
        }
    }
    Ok(index)
}

/// An index entry from the columns `name, parent_id, ctag, etag, is_folder, is_root`, the first
/// at `at`.
fn entry_at(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<IndexEntry> {
    Ok(IndexEntry {
        name: r.get(at)?,
        parent_id: r.get(at + 1)?,
        ctag: r.get(at + 2)?,
        etag: r.get(at + 3)?,
        is_folder: r.get(at + 4)?,
        is_root: r.get(at + 5)?,
    })
}

fn millis_to_time(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

struct RawChange {
    seq: i64,
    kind: String,
    change: Change,
}

impl RawChange {
    fn into_change(self) -> Result<Change, HistoryError> {
        let mut c = self.change;
        c.kind = kind_from(self.seq, &self.kind)?;
        Ok(c)
    }
}

fn raw_change(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawChange> {
    let seq: i64 = r.get(0)?;
    let at_ms: i64 = r.get(10)?;
    Ok(RawChange {
        seq,
        kind: r.get(1)?,
        change: Change {
            seq,
            kind: ChangeKind::Modified,
            name: r.get(2)?,
            path: r.get(3)?,
            old_path: r.get(4)?,
            is_folder: r.get(5)?,
            item_id: r.get(6)?,
            drive_id: r.get(7)?,
            by: r.get(8)?,
            own: r.get(9)?,
            at: millis_to_time(at_ms),
            web_url: r.get(11)?,
            account: r.get(12)?,
            target: r.get(13)?,
            caught_up: r.get(14)?,
            group: r.get(15)?,
        },
    })
}

#[cfg(test)]
mod tests;
