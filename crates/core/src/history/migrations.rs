//! The history schema, as an ordered list of embedded migrations tracked by `user_version`.
//!
//! Migrations only ever get appended: an existing step must never be edited, because databases in
//! the field already ran it. A database newer than this build is refused rather than guessed at.

use rusqlite::Connection;

use super::HistoryError;
use super::grouping::folder_key;

/// Step `i` brings the schema from version `i` to `i + 1`.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: changes (append-only, read by seq), delta cursors, item index.
    "CREATE TABLE changes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        path TEXT NOT NULL,
        old_path TEXT,
        is_folder INTEGER NOT NULL,
        item_id TEXT NOT NULL,
        drive_id TEXT NOT NULL,
        by_name TEXT,
        own INTEGER NOT NULL,
        at_ms INTEGER NOT NULL,
        web_url TEXT,
        account TEXT NOT NULL,
        target TEXT NOT NULL,
        caught_up INTEGER NOT NULL,
        search TEXT NOT NULL
    );
    CREATE INDEX changes_by_target ON changes (target, seq);
    CREATE INDEX changes_by_account ON changes (account, seq);
    CREATE INDEX changes_by_time ON changes (at_ms);
    CREATE TABLE cursors (
        target TEXT PRIMARY KEY,
        delta_link TEXT NOT NULL,
        updated_ms INTEGER NOT NULL
    );
    CREATE TABLE items (
        target TEXT NOT NULL,
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        parent_id TEXT,
        ctag TEXT,
        etag TEXT,
        is_folder INTEGER NOT NULL,
        is_root INTEGER NOT NULL,
        PRIMARY KEY (target, id)
    ) WITHOUT ROWID;",
    // 2: children by parent, so a deleted folder's descendants are found without a scan (the
    // item index is read per run, a few entries at a time, not held in memory).
    "CREATE INDEX items_by_parent ON items (target, parent_id);",
    // 3: the drive id a SharePoint library or group target resolved to, so push can subscribe
    // by drive without asking Graph again on every start.
    "CREATE TABLE target_drives (
        target TEXT PRIMARY KEY,
        drive_id TEXT NOT NULL,
        resolved_ms INTEGER NOT NULL
    );",
    // 4: a resync's marks, so it diffs its enumeration against the stored index a page at a
    // time instead of loading the index. A run's generation is a number AUTOINCREMENT never
    // hands out twice, so concurrent or failed runs never read each other's marks. A mark is
    // `generation << 32 | position in the enumeration`: a run appends to the end of its own
    // range (no random writes into a big b-tree), and its marks are read once, sorted by id,
    // at the end. Scratch only: a target's commit removes its marks in the same transaction.
    "CREATE TABLE resync_runs (
        generation INTEGER PRIMARY KEY AUTOINCREMENT,
        target TEXT NOT NULL,
        started_ms INTEGER NOT NULL
    );
    CREATE INDEX resync_runs_by_target ON resync_runs (target);
    CREATE TABLE resync_seen (
        mark INTEGER PRIMARY KEY,
        id TEXT NOT NULL,
        listed INTEGER NOT NULL
    );",
    // 5: change groups (bursts and editing sessions, see `grouping`): each change's `grp` is the
    // seq of its group's first change, so a page of history shows its groups without reading
    // their neighbours; `folder` is the lower-cased parent folder a burst is keyed by and the
    // folder filter ranges over. Changes stored before stand alone (grp = seq); their folder is
    // filled in by `fill_folders`, below, in the same transaction.
    "ALTER TABLE changes ADD COLUMN grp INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE changes ADD COLUMN folder TEXT NOT NULL DEFAULT '';
    UPDATE changes SET grp = seq;
    CREATE INDEX changes_by_group ON changes (grp, seq);
    CREATE INDEX changes_by_item ON changes (target, item_id, seq);
    CREATE INDEX changes_by_burst ON changes (target, folder, kind, by_name, own, seq);",
    // 6: grouping follows the latest change of each key in memory (`grouping::heads`): the two
    // indexes of step 5 made every stored change dirty two more b-tree pages, and a one-change
    // commit 70 % slower.
    "DROP INDEX changes_by_item;
    DROP INDEX changes_by_burst;",
];

/// The schema version whose step adds `changes.folder`, filled in by [`fill_folders`].
const FOLDERS_ADDED: i64 = 5;

/// The folder key of every change stored before `changes.folder` existed. In Rust, not SQL:
/// SQLite's `lower()` only folds ASCII, and a key must equal what a commit computes.
fn fill_folders(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    let mut read = tx.prepare("SELECT seq, path FROM changes")?;
    let mut write = tx.prepare("UPDATE changes SET folder = ?2 WHERE seq = ?1")?;
    let mut rows = read.query([])?;
    while let Some(row) = rows.next()? {
        let path: String = row.get(1)?;
        write.execute(rusqlite::params![row.get::<_, i64>(0)?, folder_key(&path)])?;
    }
    Ok(())
}

/// Brings the schema up to date, one transaction per step.
pub(super) fn migrate(conn: &mut Connection) -> Result<(), HistoryError> {
    let known = MIGRATIONS.len() as i64;
    let found: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(HistoryError::Open)?;
    if found > known {
        return Err(HistoryError::SchemaTooNew { found, known });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let version = i as i64 + 1;
        let step = |conn: &mut Connection| -> rusqlite::Result<()> {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            if version == FOLDERS_ADDED {
                fill_folders(&tx)?;
            }
            tx.pragma_update(None, "user_version", version)?;
            tx.commit()
        };
        step(conn).map_err(|source| HistoryError::Migration { version, source })?;
    }
    Ok(())
}
