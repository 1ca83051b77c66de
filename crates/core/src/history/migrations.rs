//! The history schema, as an ordered list of embedded migrations tracked by `user_version`.
//!
//! Migrations only ever get appended: an existing step must never be edited, because databases in
//! the field already ran it. A database newer than this build is refused rather than guessed at.

use rusqlite::Connection;

use super::HistoryError;

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
];

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
            tx.pragma_update(None, "user_version", version)?;
            tx.commit()
        };
        step(conn).map_err(|source| HistoryError::Migration { version, source })?;
    }
    Ok(())
}
