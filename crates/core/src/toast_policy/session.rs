//! Editing sessions: one person saving one file over and over (Office and most editors autosave
//! every few seconds to a minute) is one toast, not one per save.
//!
//! The first save of a file by a person toasts as any change does ("Alice edited
//! Budget.xlsx"). While that person's saves of that file (same target and item) keep coming
//! less than [`Preferences::session_minutes`](crate::model::Preferences::session_minutes)
//! apart, they join the session: its toast is redrawn in place ("Alice is editing Budget.xlsx",
//! "12 saves since 10:02") at most once per [`ToastLimits::session_update_every`], and gets a
//! last redraw when the session ends with saves not yet shown. Redraws never count against the
//! per-minute cap. Another person's save is their own session; a rename, a move or a deletion
//! is news of its own (a toast through the usual grouping). A rename or move also renames the
//! session's toast; a deletion ends the session.
//!
//! This module keeps the sessions' memory and words their redraws; it never decides whether a
//! change is wanted at all (that is `rules` and `filter`) and, like the rest of the policy,
//! never reads a clock.
//!
//! [`ToastLimits::session_update_every`]: super::ToastLimits::session_update_every

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveTime, Utc};

use super::ToastId;
use super::text::{SessionText, session_toast};
use super::{Toast, folder_of};
use crate::i18n::Catalog;
use crate::model::{Change, ChangeKind};

/// The open editing sessions of one policy. Bounded in practice by the cap: every session
/// began with a toast, and ends `length` after its last save.
#[derive(Debug, Clone, Default)]
pub(super) struct Sessions {
    open: Vec<Session>,
    /// The session timeout the last batch was decided with (from the preferences), so
    /// [`Self::next_due`] can answer without them.
    length: Duration,
}

#[derive(Debug, Clone)]
struct Session {
    target: String,
    item_id: String,
    by: Option<String>,
    id: ToastId,
    first_seq: i64,
    /// The file's path as of its latest change: a rename or move renames the toast.
    path: String,
    name: String,
    saves: usize,
    /// Local wall-clock time of the first save, for "12 saves since 10:02".
    started_local: NaiveTime,
    last_save: DateTime<Utc>,
    drawn_at: DateTime<Utc>,
    /// Saves taken in since the toast was last drawn.
    dirty: bool,
}

impl Session {
    fn of(&self, change: &Change) -> bool {
        self.is_item(change) && self.by.as_deref() == change.by.as_deref()
    }

    fn is_item(&self, change: &Change) -> bool {
        self.target == change.target && self.item_id == change.item_id
    }

    fn toast(&self, catalog: &Catalog) -> Toast {
        session_toast(
            self.id,
            SessionText {
                target: &self.target,
                by: self.by.as_deref(),
                name: &self.name,
                folder: folder_of(&self.path),
                saves: self.saves,
                since: self.started_local,
                seq: self.first_seq,
            },
            catalog,
        )
    }
}

/// A save of a file: the only kind of change a session takes in.
fn is_save(change: &Change) -> bool {
    change.kind == ChangeKind::Modified && !change.is_folder
}

impl Sessions {
    /// Sets the session timeout from the preferences; zero turns sessions off.
    pub(super) fn set_length(&mut self, minutes: u32) {
        self.length = Duration::minutes(i64::from(minutes));
    }

    /// Hands the saves that continue an open session to it and returns the changes left for
    /// the usual grouping, in order, with how many repeated saves of a file each first save
    /// stands for (a batch may carry several saves of one file; they are one piece of news).
    /// Renames and moves rename the sessions of their file; deletions end them.
    pub(super) fn take_in<'c>(
        &mut self,
        wanted: Vec<&'c Change>,
        now: DateTime<Utc>,
    ) -> (Vec<&'c Change>, Vec<usize>) {
        let mut rest: Vec<&'c Change> = Vec::with_capacity(wanted.len());
        let mut repeats: Vec<usize> = Vec::with_capacity(wanted.len());
        // The first save of each file by each person in this batch, by its place in `rest`.
        let mut first_saves: HashMap<(&'c str, &'c str, Option<&'c str>), usize> = HashMap::new();
        let length = self.length;
        for change in wanted {
            match change.kind {
                _ if is_save(change) => {
                    if let Some(session) = self
                        .open
                        .iter_mut()
                        .find(|s| s.of(change) && now - s.last_save < length)
                    {
                        session.saves += 1;
                        session.last_save = now;
                        session.dirty = true;
                        continue;
                    }
                    let key = (
                        change.target.as_str(),
                        change.item_id.as_str(),
                        change.by.as_deref(),
                    );
                    // A second save of a file this batch already has a first save of.
                    if let Some(&i) = first_saves.get(&key) {
                        repeats[i] += 1;
                        continue;
                    }
                    first_saves.insert(key, rest.len());
                }
                ChangeKind::Renamed | ChangeKind::Moved => {
                    for session in self.open.iter_mut().filter(|s| s.is_item(change)) {
                        session.path = change.path.clone();
                        session.name = change.name.clone();
                    }
                }
                ChangeKind::Deleted => self.open.retain(|s| !s.is_item(change)),
                _ => {}
            }
            rest.push(change);
            repeats.push(0);
        }
        (rest, repeats)
    }

    /// Opens a session for a save that just got a toast of its own (`id`), with `repeats` more
    /// saves of the same file from its batch already in it.
    pub(super) fn start(
        &mut self,
        change: &Change,
        id: ToastId,
        repeats: usize,
        now: DateTime<Utc>,
        local_time: NaiveTime,
    ) {
        if !is_save(change) || self.length <= Duration::zero() {
            return;
        }
        self.open.retain(|s| !s.of(change));
        self.open.push(Session {
            target: change.target.clone(),
            item_id: change.item_id.clone(),
            by: change.by.clone(),
            id,
            first_seq: change.seq,
            path: change.path.clone(),
            name: change.name.clone(),
            saves: 1 + repeats,
            started_local: local_time,
            last_save: now,
            drawn_at: now,
            dirty: repeats > 0,
        });
    }

    /// Lets go of the session drawn on toast `id`: the toast now stands for a burst of several
    /// files, which redraws it; a later save of the file is news again.
    pub(super) fn forget(&mut self, id: ToastId) {
        self.open.retain(|s| s.id != id);
    }

    pub(super) fn clear(&mut self) {
        self.open.clear();
    }

    /// Ends sessions whose last save is a session timeout old; one with saves not yet shown
    /// gets its last redraw.
    pub(super) fn end(&mut self, now: DateTime<Utc>, catalog: &Catalog) -> Vec<Toast> {
        let length = self.length;
        let mut out = Vec::new();
        self.open.retain(|session| {
            if now - session.last_save < length {
                return true;
            }
            if session.dirty {
                out.push(session.toast(catalog));
            }
            false
        });
        out
    }

    /// Redraws of sessions with new saves whose turn (`every` after the last drawing) has come.
    pub(super) fn redraws(
        &mut self,
        now: DateTime<Utc>,
        every: Duration,
        catalog: &Catalog,
    ) -> Vec<Toast> {
        let mut out = Vec::new();
        for session in self.open.iter_mut().filter(|s| s.dirty) {
            if now - session.drawn_at >= every {
                session.dirty = false;
                session.drawn_at = now;
                out.push(session.toast(catalog));
            }
        }
        out
    }

    /// When a session next has something to draw: its redraw's turn, or its end if that comes
    /// first. Sessions with nothing new need no timer: they end quietly.
    pub(super) fn next_due(&self, every: Duration) -> Option<DateTime<Utc>> {
        self.open
            .iter()
            .filter(|s| s.dirty)
            .map(|s| (s.drawn_at + every).min(s.last_save + self.length))
            .min()
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use crate::model::{Change, ChangeKind, Preferences};
    use crate::toast_policy::fixtures::*;
    use crate::toast_policy::{MuteOffer, Toast, ToastKind, ToastPolicy};

    /// A save of the one budget workbook (one drive item) by `by`, `t` seconds in.
    fn save(seq: i64, by: &str, t: i64) -> Change {
        let mut c = change(seq, ChangeKind::Modified, "/Finance/Budget.xlsx", by);
        c.item_id = "budget".to_owned();
        c.at = at(t);
        c
    }

    /// Feeds every change as its own batch at its time (`at`), flushing whenever the policy
    /// asks, as a host's timer would, then flushes until nothing waits. Returns everything the
    /// host was asked to show or redraw, in order.
    fn timeline(policy: &mut ToastPolicy, prefs: &Preferences, changes: Vec<Change>) -> Vec<Toast> {
        let mut out = Vec::new();
        let mut now = at(0);
        let mut flushes = 0;
        let mut flush_until = |policy: &mut ToastPolicy, until: Option<_>, now: &mut _| {
            let mut out = Vec::new();
            while let Some(due) = policy.next_flush_at() {
                if until.is_some_and(|until| due > until) {
                    break;
                }
                flushes += 1;
                assert!(flushes < 1000, "the policy keeps asking for flushes");
                *now = due.max(*now);
                out.extend(policy.flush(&ctx(prefs, *now)));
            }
            out
        };
        for c in changes {
            out.extend(flush_until(policy, Some(c.at), &mut now));
            now = c.at;
            out.extend(policy.decide(&batch(vec![c]), &ctx(prefs, now)));
        }
        out.extend(flush_until(policy, None, &mut now));
        out
    }

    fn saves_of(toast: &Toast) -> usize {
        match toast.kind {
            ToastKind::Session { saves } => saves,
            ToastKind::Single => 1,
            other => panic!("not a session: {other:?}"),
        }
    }

    #[test]
    fn a_half_hour_of_autosaves_is_one_toast_and_a_few_silent_updates() {
        let prefs = Preferences::default();
        let mut policy = ToastPolicy::default();
        // Alice saves every 20 s for 30 minutes; Bob saves once in the middle; Alice renames
        // the workbook two thirds in.
        let mut changes: Vec<Change> = (0..90).map(|i| save(i + 1, "Alice", i * 20)).collect();
        changes.push(save(1000, "Bob", 910));
        let mut renamed = change(
            2000,
            ChangeKind::Renamed,
            "/Finance/Budget 2026.xlsx",
            "Alice",
        );
        renamed.item_id = "budget".to_owned();
        renamed.old_path = Some("/Finance/Budget.xlsx".to_owned());
        renamed.at = at(1210);
        changes.push(renamed);
        changes.sort_by_key(|c| c.at);
        let toasts = timeline(&mut policy, &prefs, changes);

        let new: Vec<Toast> = toasts.iter().filter(|t| !t.update).cloned().collect();
        assert_eq!(
            summaries(&new),
            vec![
                "Alice edited Budget.xlsx",
                "Bob edited Budget.xlsx",
                "Alice renamed Budget.xlsx to Budget 2026.xlsx",
            ]
        );
        let alice = new[0].id;
        assert_ne!(new[1].id, alice, "another person is news of their own");
        assert_ne!(new[2].id, alice, "a rename is news of its own");
        let updates: Vec<&Toast> = toasts.iter().filter(|t| t.update).collect();
        assert!(
            !updates.is_empty() && updates.len() <= 6,
            "{} updates: {:?}",
            updates.len(),
            summaries(&toasts)
        );
        assert!(updates.iter().all(|t| t.id == alice), "Bob saved once");
        let last = updates.last().expect("checked above");
        assert_eq!(last.kind, ToastKind::Session { saves: 90 });
        assert_eq!(last.summary, "Alice is editing Budget 2026.xlsx");
        assert_eq!(last.body, "90 saves since 12:00");
        assert_eq!(
            last.mute,
            Some(MuteOffer {
                target: "target-1".to_owned(),
                folder: "/Finance".to_owned(),
            })
        );
        let counts: Vec<usize> = updates.iter().map(|t| saves_of(t)).collect();
        assert!(counts.windows(2).all(|w| w[0] < w[1]), "{counts:?}");
        assert_eq!(policy.next_flush_at(), None, "nothing waits at the end");
    }

    #[test]
    fn a_second_person_in_the_same_file_has_a_session_of_their_own() {
        let prefs = Preferences::default();
        let mut policy = ToastPolicy::default();
        let mut changes: Vec<Change> = Vec::new();
        for i in 0..30 {
            changes.push(save(2 * i + 1, "Alice", i * 30));
            changes.push(save(2 * i + 2, "Bob", i * 30 + 15));
        }
        let toasts = timeline(&mut policy, &prefs, changes);
        let new: Vec<Toast> = toasts.iter().filter(|t| !t.update).cloned().collect();
        assert_eq!(
            summaries(&new),
            vec!["Alice edited Budget.xlsx", "Bob edited Budget.xlsx"]
        );
        for (toast, who) in new.iter().zip(["Alice", "Bob"]) {
            let last = toasts
                .iter()
                .rfind(|t| t.id == toast.id)
                .expect("the toast itself at least");
            assert_eq!(last.kind, ToastKind::Session { saves: 30 }, "{who}");
            assert_eq!(last.summary, format!("{who} is editing Budget.xlsx"));
        }
    }

    #[test]
    fn a_pause_longer_than_the_session_timeout_is_a_new_session() {
        let prefs = Preferences {
            session_minutes: 10,
            ..Preferences::default()
        };
        let mut policy = ToastPolicy::default();
        let changes = vec![
            save(1, "Alice", 0),
            save(2, "Alice", 60),
            // 9 minutes later: still the session.
            save(3, "Alice", 60 + 9 * 60),
            // 10 minutes later: news again.
            save(4, "Alice", 60 + 19 * 60),
        ];
        let toasts = timeline(&mut policy, &prefs, changes);
        let new: Vec<&Toast> = toasts.iter().filter(|t| !t.update).collect();
        assert_eq!(new.len(), 2, "{:?}", summaries(&toasts));
        let first: Vec<usize> = toasts
            .iter()
            .filter(|t| t.id == new[0].id)
            .map(saves_of)
            .collect();
        assert_eq!(first.last(), Some(&3));
        assert_ne!(new[0].id, new[1].id);
    }

    #[test]
    fn a_session_that_ends_before_its_redraw_gets_its_last_count() {
        let prefs = Preferences {
            session_minutes: 2,
            ..Preferences::default()
        };
        let mut policy = ToastPolicy::default();
        let first = policy.decide(&batch(vec![save(1, "Alice", 0)]), &ctx(&prefs, at(0)));
        assert_eq!(first.len(), 1);
        assert!(
            policy
                .decide(&batch(vec![save(2, "Alice", 30)]), &ctx(&prefs, at(30)))
                .is_empty()
        );
        // The redraw's turn would be at 5 minutes; the session ends 2 minutes after its last save.
        assert_eq!(policy.next_flush_at(), Some(at(150)));
        let last = policy.flush(&ctx(&prefs, at(150)));
        assert_eq!(last.len(), 1);
        assert_eq!(last[0].id, first[0].id);
        assert!(last[0].update);
        assert_eq!(last[0].kind, ToastKind::Session { saves: 2 });
        assert_eq!(policy.next_flush_at(), None);
        // The next save is news of its own.
        let again = policy.decide(&batch(vec![save(3, "Alice", 200)]), &ctx(&prefs, at(200)));
        assert!(!again[0].update);
    }

    #[test]
    fn several_saves_of_one_file_in_one_batch_are_one_toast() {
        let prefs = Preferences::default();
        let mut policy = ToastPolicy::default();
        let saves = batch((1..=4).map(|i| save(i, "Alice", 0)).collect());
        let toasts = policy.decide(&saves, &ctx(&prefs, at(0)));
        assert_eq!(summaries(&toasts), vec!["Alice edited Budget.xlsx"]);
        let later = policy.flush(&ctx(&prefs, at(0) + Duration::minutes(5)));
        assert_eq!(later.len(), 1);
        assert_eq!(later[0].kind, ToastKind::Session { saves: 4 });
    }

    #[test]
    fn a_deletion_ends_the_session_and_zero_minutes_turn_sessions_off() {
        let prefs = Preferences::default();
        let mut policy = ToastPolicy::default();
        policy.decide(&batch(vec![save(1, "Alice", 0)]), &ctx(&prefs, at(0)));
        let mut gone = save(2, "Bob", 20);
        gone.kind = ChangeKind::Deleted;
        let deleted = policy.decide(&batch(vec![gone]), &ctx(&prefs, at(20)));
        assert_eq!(summaries(&deleted), vec!["Bob deleted Budget.xlsx"]);
        let back = policy.decide(&batch(vec![save(3, "Alice", 40)]), &ctx(&prefs, at(40)));
        assert_eq!(summaries(&back), vec!["Alice edited Budget.xlsx"]);
        assert!(!back[0].update);

        let off = Preferences {
            session_minutes: 0,
            ..Preferences::default()
        };
        let mut policy = ToastPolicy::default();
        let toasts = timeline(
            &mut policy,
            &off,
            (0..3).map(|i| save(i + 1, "Alice", i * 20)).collect(),
        );
        assert_eq!(toasts.iter().filter(|t| !t.update).count(), 3);
    }

    #[test]
    fn session_updates_do_not_count_against_the_cap() {
        let prefs = Preferences::default();
        let mut policy = ToastPolicy::new(crate::toast_policy::ToastLimits {
            max_per_window: 1,
            window: Duration::hours(1),
            ..crate::toast_policy::ToastLimits::default()
        });
        assert_eq!(
            policy
                .decide(&batch(vec![save(1, "Alice", 0)]), &ctx(&prefs, at(0)))
                .len(),
            1
        );
        policy.decide(&batch(vec![save(2, "Alice", 20)]), &ctx(&prefs, at(20)));
        // The window is full: another file waits, but the session's redraw comes.
        let other = change(3, ChangeKind::Modified, "/Docs/a.txt", "Bob");
        assert!(
            policy
                .decide(&batch(vec![other]), &ctx(&prefs, at(40)))
                .is_empty()
        );
        assert_eq!(policy.held_back(), 1);
        let due = policy.next_flush_at().expect("the session's redraw");
        assert_eq!(due, at(300));
        let redraw = policy.flush(&ctx(&prefs, due));
        assert_eq!(redraw.len(), 1);
        assert_eq!(redraw[0].kind, ToastKind::Session { saves: 2 });
        assert_eq!(policy.held_back(), 1);
    }

    #[test]
    fn a_burst_on_the_session_s_toast_takes_the_toast_over() {
        let prefs = Preferences::default();
        let mut policy = ToastPolicy::default();
        let first = policy.decide(&batch(vec![save(1, "Alice", 0)]), &ctx(&prefs, at(0)));
        // Within the group window, Alice edits two more files in the folder: a burst.
        let others = batch(
            (2..=3)
                .map(|i| {
                    change(
                        i,
                        ChangeKind::Modified,
                        &format!("/Finance/{i}.xlsx"),
                        "Alice",
                    )
                })
                .collect(),
        );
        let burst = policy.decide(&others, &ctx(&prefs, at(2)));
        assert_eq!(summaries(&burst), vec!["Alice edited 3 files in /Finance"]);
        assert_eq!(burst[0].id, first[0].id);
        // The workbook's next save is news again rather than a redraw over the burst.
        let next = policy.decide(&batch(vec![save(4, "Alice", 30)]), &ctx(&prefs, at(30)));
        assert_eq!(summaries(&next), vec!["Alice edited Budget.xlsx"]);
        assert!(!next[0].update);
    }
}
