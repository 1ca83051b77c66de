//! The latest change of every grouping key, kept in memory between commits so grouping needs
//! no index on the history and no lookup per change.
//!
//! The heads always stand for the stored history up to `known`: a commit first reads the changes
//! stored after that (another process on the same database; everything, when the store has just
//! opened), at most the newest [`LOAD_ROWS`], so a restart continues the sessions and bursts of
//! before. Memory is bounded: at the end of a commit, keys past every window are dropped, and
//! beyond [`MAX_KEYS`] the oldest go. A group whose head was dropped while still within its
//! window (thousands of sessions or bursts at once) starts afresh: a row more in the list, never
//! a change lost.

use std::collections::HashMap;

use rusqlite::{Transaction, params};

use super::super::{HistoryError, kind_from};
use super::BURST_WINDOW;
use crate::model::ChangeKind;

/// How many of the newest stored changes a store reads to rebuild its heads. Many times the
/// changes of any session or burst window of a real drive, and read in a few milliseconds.
const LOAD_ROWS: i64 = 20_000;

/// The most keys of each kind kept after a commit (about 200 bytes each, so the heads stay
/// under half a MiB). Far more than the sessions and bursts open at once on a real drive; a
/// higher bound only made a long run's memory grow longer before it levelled off.
pub(super) const MAX_KEYS: usize = 1_024;

/// The latest save of one item by one person.
#[derive(Clone, Copy, Debug)]
pub(super) struct SessionLast {
    pub group: i64,
    pub at_ms: i64,
}

/// The latest change of one burst key.
#[derive(Clone, Debug)]
pub(super) struct BurstLast {
    pub seq: i64,
    pub group: i64,
    pub at_ms: i64,
    pub item_id: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct BurstKey {
    pub target: String,
    pub folder: String,
    pub kind: ChangeKind,
    pub by: Option<String>,
    pub own: bool,
}

/// A session as kept: its person, its latest save and that save's seq (for eviction).
type PersonSession = (Option<String>, SessionLast, i64);

#[derive(Debug, Default)]
pub(crate) struct Heads {
    /// The newest seq the heads stand for; `None`: unknown (never loaded, or a commit noted
    /// changes and did not finish).
    known: Option<i64>,
    /// Per target + item, the sessions in it: only saves are kept, and any other change of the
    /// item removes them all (it ends everyone's session).
    sessions: HashMap<(String, String), Vec<PersonSession>>,
    bursts: HashMap<BurstKey, BurstLast>,
    /// The latest change time noted: windows are measured back from it.
    newest_at_ms: i64,
    /// The session length in force for this commit (eviction keeps that much too).
    session_ms: i64,
}

impl Heads {
    /// The latest save of `item_id` in `target` by `by`, if no other change of it came since.
    pub(super) fn session(
        &self,
        target: &str,
        item_id: &str,
        by: Option<&str>,
    ) -> Option<SessionLast> {
        self.sessions
            .get(&(target.to_owned(), item_id.to_owned()))?
            .iter()
            .find(|(person, ..)| person.as_deref() == by)
            .map(|(_, last, _)| *last)
    }

    pub(super) fn burst(&self, key: &BurstKey) -> Option<&BurstLast> {
        self.bursts.get(key)
    }

    /// Notes a change stored (or about to be) as `seq` in `group`.
    pub(super) fn note(&mut self, key: BurstKey, item_id: &str, last: SessionLast, seq: i64) {
        self.newest_at_ms = self.newest_at_ms.max(last.at_ms);
        let item = (key.target.clone(), item_id.to_owned());
        if key.kind == ChangeKind::Modified {
            let people = self.sessions.entry(item).or_default();
            match people.iter_mut().find(|(person, ..)| *person == key.by) {
                Some(entry) => {
                    entry.1 = last;
                    entry.2 = seq;
                }
                None => people.push((key.by.clone(), last, seq)),
            }
        } else {
            self.sessions.remove(&item);
        }
        self.bursts.insert(
            key,
            BurstLast {
                seq,
                group: last.group,
                at_ms: last.at_ms,
                item_id: item_id.to_owned(),
            },
        );
    }

    /// A commit is noting changes that are not stored yet.
    pub(super) fn invalidate(&mut self) {
        self.known = None;
    }

    /// Reads what was stored after the heads' `known` seq, up to `newest`.
    pub(super) fn catch_up(
        &mut self,
        tx: &Transaction<'_>,
        newest: i64,
    ) -> Result<(), HistoryError> {
        let from = match self.known {
            Some(known) if known == newest => return Ok(()),
            Some(known) if newest - known <= LOAD_ROWS => known,
            _ => {
                self.sessions.clear();
                self.bursts.clear();
                newest - LOAD_ROWS
            }
        };
        let mut rows = tx.prepare_cached(
            "SELECT seq, grp, target, item_id, folder, kind, by_name, own, at_ms FROM changes \
             WHERE seq > ?1 AND seq <= ?2 ORDER BY seq",
        )?;
        let mut rows = rows.query(params![from, newest])?;
        while let Some(r) = rows.next()? {
            let seq: i64 = r.get(0)?;
            let kind: String = r.get(5)?;
            let key = BurstKey {
                target: r.get(2)?,
                folder: r.get(4)?,
                kind: kind_from(seq, &kind)?,
                by: r.get(6)?,
                own: r.get(7)?,
            };
            let item_id: String = r.get(3)?;
            let last = SessionLast {
                group: r.get(1)?,
                at_ms: r.get(8)?,
            };
            self.note(key, &item_id, last, seq);
        }
        self.known_up_to(newest);
        Ok(())
    }

    /// The heads stand for everything stored up to `seq` again; drops what no window reaches.
    pub(super) fn known_up_to(&mut self, seq: i64) {
        self.known = Some(seq);
        self.evict();
    }

    /// The session length commits group by now (kept by eviction too).
    pub(super) fn set_session_ms(&mut self, session_ms: i64) {
        self.session_ms = session_ms;
    }

    pub(super) fn session_ms(&self) -> i64 {
        self.session_ms
    }

    fn evict(&mut self) {
        // Only past a bound: a sweep by the newest change time alone would also drop the heads
        // an older catch-up change (another drive's, after a night offline) still joins.
        if self.sessions.len() <= MAX_KEYS && self.bursts.len() <= MAX_KEYS {
            return;
        }
        // Outside every window of the newest change: no later change can join them (a catch-up
        // change from long ago may, and then starts a group of its own).
        let session_from = self.newest_at_ms.saturating_sub(self.session_ms);
        let burst_from = self
            .newest_at_ms
            .saturating_sub(BURST_WINDOW.num_milliseconds());
        self.sessions.retain(|_, people| {
            people.retain(|(_, last, _)| last.at_ms >= session_from);
            !people.is_empty()
        });
        self.bursts.retain(|_, last| last.at_ms >= burst_from);
        // Still too many within their windows: the oldest by seq go, down to half the bound.
        if self.sessions.len() > MAX_KEYS {
            let keep_from = nth_newest(
                self.sessions
                    .values()
                    .map(|p| p.iter().map(|e| e.2).max().unwrap_or(0)),
                MAX_KEYS / 2,
            );
            self.sessions
                .retain(|_, people| people.iter().any(|e| e.2 >= keep_from));
        }
        if self.bursts.len() > MAX_KEYS {
            let keep_from = nth_newest(self.bursts.values().map(|l| l.seq), MAX_KEYS / 2);
            self.bursts.retain(|_, last| last.seq >= keep_from);
        }
    }

    #[cfg(test)]
    pub(super) fn sizes(&self) -> (usize, usize) {
        (self.sessions.len(), self.bursts.len())
    }
}

/// The `n`-th largest of `seqs` (1-based; the smallest when there are fewer).
fn nth_newest(seqs: impl Iterator<Item = i64>, n: usize) -> i64 {
    let mut all: Vec<i64> = seqs.collect();
    if all.len() <= n {
        return all.into_iter().min().unwrap_or(0);
    }
    let at = all.len() - n;
    *all.select_nth_unstable(at).1
}
