//! Which group a change joins when the history stores it: an editing session or a burst.
//!
//! Why here, at commit time, and persisted: the list shows one row per group and pages through
//! the history a page at a time, so a group must be known for every stored change, the same on
//! every read and after a restart, without reading the neighbours of a page. A group's id is the
//! `seq` of its first change; `seq` is never handed out twice (AUTOINCREMENT), so an id stays
//! unique even after retention pruned the change it names.
//!
//! - An editing session: a `Modified` change joins the group of the latest change of the same
//!   target + item + person when that change is a `Modified` one less than the session length
//!   before it, and no rename, move, delete or re-creation of the item (by anyone) came since.
//! - A burst: otherwise, a change joins the group of the latest change with the same target +
//!   parent folder + kind + person + own flag that came less than [`BURST_WINDOW`] before (or
//!   after: catch-up runs are not ordered by time), or of the same run whatever its times. A
//!   modification never bursts into a group of the same item's earlier save: the session rule
//!   above has already said no (a rename ended it).
//! - Otherwise its own `seq`.
//!
//! Cost: every distinct key is looked up in the database at most once per commit (through
//! `changes_by_item` or `changes_by_burst`) and then followed in memory, so a 10,000-file burst
//! costs one lookup, not 10,000. This module must never scan the history, and never write
//! anything but the group of the change being stored.

use std::collections::HashMap;

use chrono::Duration;
use rusqlite::{OptionalExtension, Statement, Transaction, params};

use crate::model::{Change, ChangeKind};

/// How close two changes of one folder, kind and person must be to make one burst. Longer than
/// the toast's group window (a burst is a list row, not a pop-up), short enough that two
/// separate uploads of the same morning stay two rows.
pub const BURST_WINDOW: Duration = Duration::seconds(60);

/// The folder key a change is grouped and filtered by: its parent folder, lower-cased
/// (OneDrive's names are case-insensitive). `/Finance/Budget.xlsx` → `/finance`, `/a.txt` → `/`.
pub fn folder_key(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    match trimmed.rfind('/') {
        Some(0) | None => "/".to_owned(),
        Some(i) => trimmed[..i].to_lowercase(),
    }
}

/// The latest change of one item by one person, as far as a session cares.
#[derive(Clone, Copy)]
struct SessionLast {
    seq: i64,
    group: i64,
    at_ms: i64,
    /// False when the latest is not a save (a rename, a move...): no session continues it.
    modified: bool,
}

/// The latest change of one burst key.
#[derive(Clone)]
struct BurstLast {
    group: i64,
    at_ms: i64,
    item_id: String,
}

#[derive(PartialEq, Eq, Hash)]
struct BurstKey {
    folder: String,
    kind: ChangeKind,
    by: Option<String>,
    own: bool,
}

/// The grouping state of one commit: the latest change of every key the run stored so far (a
/// key not here is looked up in the database once, then followed here).
pub(super) struct Grouper {
    session_ms: i64,
    sessions: HashMap<(String, Option<String>), SessionLast>,
    /// The latest non-save change of each item this run stored: it ends every session of it.
    breaks: HashMap<String, i64>,
    /// Keys of this run: a change joins them whatever the times.
    bursts: HashMap<BurstKey, BurstLast>,
}

impl Grouper {
    pub(super) fn new(session: Duration) -> Self {
        Self {
            session_ms: session.num_milliseconds(),
            sessions: HashMap::new(),
            breaks: HashMap::new(),
            bursts: HashMap::new(),
        }
    }

    /// The group of `c`, about to be stored as `seq` in `target` with the folder key `folder`;
    /// notes it for the changes after it in the same run.
    pub(super) fn assign(
        &mut self,
        db: &mut Lookups<'_>,
        target: &str,
        c: &Change,
        seq: i64,
        folder: &str,
    ) -> rusqlite::Result<i64> {
        let at_ms = c.at.timestamp_millis();
        let session_key = (c.item_id.clone(), c.by.clone());
        let mut group = None;
        if c.kind == ChangeKind::Modified && self.session_ms > 0 {
            let last = match self.sessions.get(&session_key) {
                Some(last) => Some(*last),
                None => db.session(target, c)?,
            };
            let broken =
                |last: &SessionLast| self.breaks.get(&c.item_id).is_some_and(|b| *b > last.seq);
            if let Some(last) = last
                .filter(|l| l.modified && (at_ms - l.at_ms).abs() < self.session_ms && !broken(l))
            {
                group = Some(last.group);
            }
        }
        let burst_key = BurstKey {
            folder: folder.to_owned(),
            kind: c.kind,
            by: c.by.clone(),
            own: c.own,
        };
        if group.is_none() {
            let (last, same_run) = match self.bursts.get(&burst_key) {
                Some(last) => (Some(last.clone()), true),
                None => (db.burst(target, &burst_key)?, false),
            };
            // A save the session rule turned down never rejoins its own item's group.
            let other_item =
                |last: &BurstLast| c.kind != ChangeKind::Modified || last.item_id != c.item_id;
            let near = |last: &BurstLast| {
                same_run || (at_ms - last.at_ms).abs() < BURST_WINDOW.num_milliseconds()
            };
            if let Some(last) = last.filter(|l| near(l) && other_item(l)) {
                group = Some(last.group);
            }
        }
        let group = group.unwrap_or(seq);

        let modified = c.kind == ChangeKind::Modified;
        if !modified {
            self.breaks.insert(c.item_id.clone(), seq);
        }
        self.sessions.insert(
            session_key,
            SessionLast {
                seq,
                group,
                at_ms,
                modified,
            },
        );
        self.bursts.insert(
            burst_key,
            BurstLast {
                group,
                at_ms,
                item_id: c.item_id.clone(),
            },
        );
        Ok(group)
    }
}

/// The latest stored change of `c`'s item that either is by the same person or is not a save
/// (which ends everyone's session): one seek on `changes_by_item`.
const SESSION_LOOKUP: [&str; 2] = [
    "SELECT seq, grp, at_ms, kind FROM changes INDEXED BY changes_by_item \
     WHERE target = ?1 AND item_id = ?2 AND (by_name = ?3 OR kind <> 'modified') \
     ORDER BY seq DESC LIMIT 1",
    "SELECT seq, grp, at_ms, kind FROM changes INDEXED BY changes_by_item \
     WHERE target = ?1 AND item_id = ?2 AND (by_name IS NULL OR kind <> 'modified') \
     AND ?3 IS NULL ORDER BY seq DESC LIMIT 1",
];

/// The latest stored change of a burst key: one seek on `changes_by_burst`.
const BURST_LOOKUP: [&str; 2] = [
    "SELECT grp, at_ms, item_id FROM changes INDEXED BY changes_by_burst \
     WHERE target = ?1 AND folder = ?2 AND kind = ?3 AND by_name = ?4 AND own = ?5 \
     ORDER BY seq DESC LIMIT 1",
    "SELECT grp, at_ms, item_id FROM changes INDEXED BY changes_by_burst \
     WHERE target = ?1 AND folder = ?2 AND kind = ?3 AND by_name IS NULL AND ?4 IS NULL \
     AND own = ?5 ORDER BY seq DESC LIMIT 1",
];

/// The commit's lookup statements, prepared on first use and kept for the commit. Not through
/// the connection's statement cache: handing a statement back clears its bindings, which makes
/// SQLite re-prepare these (their plan depends on bound values) on every use, a parse per change.
/// `= ?` and `IS NULL` are separate statements because `IS ?` would not seek by person.
pub(super) struct Lookups<'t> {
    tx: &'t Transaction<'t>,
    session: [Option<Statement<'t>>; 2],
    burst: [Option<Statement<'t>>; 2],
}

impl<'t> Lookups<'t> {
    pub(super) fn new(tx: &'t Transaction<'t>) -> Self {
        Self {
            tx,
            session: [None, None],
            burst: [None, None],
        }
    }

    fn statement<'s>(
        tx: &'t Transaction<'t>,
        slot: &'s mut Option<Statement<'t>>,
        sql: &str,
    ) -> rusqlite::Result<&'s mut Statement<'t>> {
        if slot.is_none() {
            *slot = Some(tx.prepare(sql)?);
        }
        Ok(slot.as_mut().expect("prepared just now"))
    }

    fn session(&mut self, target: &str, c: &Change) -> rusqlite::Result<Option<SessionLast>> {
        let which = usize::from(c.by.is_none());
        let stmt = Self::statement(self.tx, &mut self.session[which], SESSION_LOOKUP[which])?;
        stmt.query_row(params![target, c.item_id, c.by], |r| {
            Ok(SessionLast {
                seq: r.get(0)?,
                group: r.get(1)?,
                at_ms: r.get(2)?,
                modified: r.get::<_, String>(3)? == ChangeKind::Modified.as_str(),
            })
        })
        .optional()
    }

    fn burst(&mut self, target: &str, key: &BurstKey) -> rusqlite::Result<Option<BurstLast>> {
        let which = usize::from(key.by.is_none());
        let stmt = Self::statement(self.tx, &mut self.burst[which], BURST_LOOKUP[which])?;
        stmt.query_row(
            params![target, key.folder, key.kind.as_str(), key.by, key.own],
            |r| {
                Ok(BurstLast {
                    group: r.get(0)?,
                    at_ms: r.get(1)?,
                    item_id: r.get(2)?,
                })
            },
        )
        .optional()
    }
}

#[cfg(test)]
mod tests;
