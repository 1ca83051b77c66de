//! Which group a change joins when the history stores it: an editing session or a burst.
//!
//! Why here, at commit time, and persisted: the list shows one row per group and pages through
//! the history a page at a time, so a group must be known for every stored change, the same on
//! every read and after a restart, without reading the neighbours of a page. A group's id is the
//! `seq` of its first change; `seq` is never handed out twice (AUTOINCREMENT), so an id stays
//! unique even after retention pruned the change it names.
//!
//! - An editing session: a `Modified` change joins the group of the latest save of the same
//!   target + item + person when that save came less than the session length before it, and no
//!   rename, move, delete or re-creation of the item (by anyone) came since.
//! - A burst: otherwise, a change joins the group of the latest change with the same target +
//!   parent folder + kind + person + own flag that came less than [`BURST_WINDOW`] before (or
//!   after: catch-up runs are not ordered by time), or of the same run whatever its times. A
//!   modification never bursts into a group of the same item's earlier save: the session rule
//!   above has already said no (a rename ended it).
//! - Otherwise its own `seq`.
//!
//! Cost: the latest change of every key is followed in memory ([`heads`]), loaded from the
//! newest stored changes when a store first commits, so grouping adds no index and no lookup to
//! a commit. Two indexes on the keys (schema 5) made every stored change dearer to commit, each
//! dirtying two more b-tree pages: +70 % for a one-change commit, which the change-to-toast
//! latency pays. This module must never scan the history, and never write anything but the
//! group of the change being stored.

mod heads;

use chrono::Duration;
use rusqlite::Transaction;

use super::HistoryError;
use crate::model::{Change, ChangeKind};
pub(super) use heads::Heads;
use heads::{BurstKey, BurstLast, SessionLast};

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

/// The grouping of one commit: the heads, brought up to date with the database, and the seq
/// the commit's first change gets (a burst head at or after it is of the same run).
pub(super) struct Grouper<'h> {
    heads: &'h mut Heads,
    first_seq: i64,
}

impl<'h> Grouper<'h> {
    /// Starts a commit whose first change will be `first_seq`. Changes stored since the heads
    /// last looked (by another process on the same database, or before this store opened) are
    /// read first. From here until [`Grouper::committed`] the heads count as unknown, so a
    /// commit that fails after noting its changes makes the next one read them afresh.
    pub(super) fn start(
        heads: &'h mut Heads,
        tx: &Transaction<'_>,
        session: Duration,
        first_seq: i64,
    ) -> Result<Self, HistoryError> {
        heads.catch_up(tx, first_seq - 1)?;
        heads.invalidate();
        heads.set_session_ms(session.num_milliseconds());
        Ok(Self { heads, first_seq })
    }

    /// The group of `c`, about to be stored as `seq` in `target` with the folder key `folder`;
    /// notes it for the changes after it.
    pub(super) fn assign(&mut self, target: &str, c: &Change, seq: i64, folder: &str) -> i64 {
        let at_ms = c.at.timestamp_millis();
        let mut group = None;
        let session_ms = self.heads.session_ms();
        if c.kind == ChangeKind::Modified && session_ms > 0 {
            let last = self
                .heads
                .session(target, &c.item_id, c.by.as_deref())
                .filter(|l| (at_ms - l.at_ms).abs() < session_ms);
            group = last.map(|l| l.group);
        }
        let key = BurstKey {
            target: target.to_owned(),
            folder: folder.to_owned(),
            kind: c.kind,
            by: c.by.clone(),
            own: c.own,
        };
        if group.is_none() {
            let first_seq = self.first_seq;
            // A save the session rule turned down never rejoins its own item's group.
            let other_item =
                |last: &BurstLast| c.kind != ChangeKind::Modified || last.item_id != c.item_id;
            let near = |last: &BurstLast| {
                last.seq >= first_seq
                    || (at_ms - last.at_ms).abs() < BURST_WINDOW.num_milliseconds()
            };
            group = self
                .heads
                .burst(&key)
                .filter(|l| near(l) && other_item(l))
                .map(|l| l.group);
        }
        let group = group.unwrap_or(seq);
        self.heads
            .note(key, &c.item_id, SessionLast { group, at_ms }, seq);
        group
    }

    /// The commit is in the database: the heads are known again, up to `last_seq`.
    pub(super) fn committed(self, last_seq: i64) {
        self.heads.known_up_to(last_seq);
    }
}

#[cfg(test)]
mod tests;
