//! The memory behind [`ToastPolicy`]: which toasts are on screen, which groups may still take
//! in changes, and how many toasts the window has room for.
//!
//! It decides which toasts exist and when they are redrawn, never what they say (that is
//! `text`) or which changes count (that is `rules` and `filter`); editing sessions keep their
//! own memory (`session`), fed from here. Like the rest of the policy it reads no clock: time
//! comes in through [`ToastContext`].

use std::collections::VecDeque;

use chrono::{DateTime, Utc};

use super::filter::{is_paused, is_quiet};
use super::rules::notice;
use super::sanitise::display_name;
use super::session::Sessions;
use super::text::{BurstText, burst_toast, single_toast, summary_toast};
use super::{Toast, ToastContext, ToastId, ToastLimits, folder_of};
use crate::i18n::Catalog;
use crate::model::{Change, ChangeBatch, ChangeKind, NotifyMode};

/// Names a burst toast lists before "and N more".
const PREVIEW_NAMES: usize = 3;

/// The toast policy with its rate-limit and grouping memory; one per host.
///
/// Not shared between threads by design: the host owns it and feeds it batches in order.
#[derive(Debug, Clone, Default)]
pub struct ToastPolicy {
    limits: ToastLimits,
    /// When each toast still inside the window was shown, oldest first (updates not included).
    shown: VecDeque<DateTime<Utc>>,
    /// Changes that deserved a toast but found the window full; told by [`Self::flush`].
    held_back: usize,
    /// When the last summary was shown. Within a window after it, everything else waits for the
    /// next summary (or joins the one on screen): once DriveWatch has said "and N more", a
    /// storm gets no more new toasts.
    last_summary: Option<DateTime<Utc>>,
    /// Groups whose toast may still take in changes; at most one per key. Bounded by the cap:
    /// every entry is a toast shown within the last [`ToastLimits::group_window`] or so.
    live: Vec<LiveGroup>,
    /// The storm's summary toast while it may still take in changes.
    live_summary: Option<LiveSummary>,
    /// Files being edited, whose saves redraw one toast each.
    sessions: Sessions,
    /// The last id handed out; ids start at 1.
    last_id: u64,
}

/// What a toast on screen stands for, kept to redraw it with a cumulative count.
#[derive(Debug, Clone)]
struct LiveGroup {
    key: OwnedKey,
    id: ToastId,
    count: usize,
    /// How many of `count` are folders (the noun: files, folders or items).
    folders: usize,
    /// The first [`PREVIEW_NAMES`] names, already made safe to display.
    names: Vec<String>,
    /// Every change it took in was found on catch-up.
    caught_up: bool,
    first_seq: i64,
    /// When a change last joined; the group ends a `group_window` after.
    last_joined: DateTime<Utc>,
    /// When the toast was last shown or redrawn.
    drawn_at: DateTime<Utc>,
    /// Changes joined since it was last drawn.
    dirty: bool,
}

#[derive(Debug, Clone)]
struct LiveSummary {
    id: ToastId,
    count: usize,
    last_joined: DateTime<Utc>,
    drawn_at: DateTime<Utc>,
    dirty: bool,
}

impl ToastPolicy {
    pub fn new(limits: ToastLimits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    pub fn limits(&self) -> ToastLimits {
        self.limits
    }

    /// How many changes wait for a summary toast because the window was full.
    pub fn held_back(&self) -> usize {
        self.held_back
    }

    /// The toasts `batch` deserves now: updates of toasts on screen first, then new toasts in
    /// the order the changes happened.
    ///
    /// When the per-window cap leaves room for fewer new toasts than the batch needs, the last
    /// slot becomes a summary of the rest; when it leaves none, the changes join the summary on
    /// screen, or are counted and [`Self::flush`] reports them once room frees up.
    /// Saves of a file someone keeps editing join that file's session (see `session`) instead.
    pub fn decide(&mut self, batch: &ChangeBatch, ctx: &ToastContext<'_>) -> Vec<Toast> {
        if is_paused(ctx) || is_quiet(ctx.preferences.quiet_hours.as_ref(), ctx.local_time) {
            self.sessions.clear();
            return Vec::new();
        }
        let now = ctx.now;
        let wanted: Vec<&Change> = batch
            .changes
            .iter()
            .filter(|c| notice(c, ctx.preferences, now) == NotifyMode::Live)
            .collect();
        if wanted.is_empty() {
            return Vec::new();
        }
        // The language is read per call, so a change in Settings reaches the next toast.
        let catalog = Catalog::for_language(ctx.preferences.language);
        self.sessions.set_length(ctx.preferences.session_minutes);
        // Groups and sessions that ended with a count still waiting get their last redraw first.
        let mut updates = self.end_groups(now, catalog);
        updates.extend(self.sessions.end(now, catalog));
        let (wanted, repeats) = self.sessions.take_in(wanted, now);
        // Almost always empty: only a batch with several saves of one file has any.
        let folded: Vec<(&Change, usize)> = wanted
            .iter()
            .zip(&repeats)
            .filter(|(_, n)| **n > 0)
            .map(|(c, n)| (*c, *n))
            .collect();
        let repeats_of = |change: &Change| {
            folded
                .iter()
                .find(|(c, _)| std::ptr::eq(*c, change))
                .map_or(0, |(_, n)| *n)
        };
        let mut fresh: Vec<Group<'_>> = Vec::new();
        for group in self.group(&wanted) {
            let key = group.key.to_owned_key();
            match self.live.iter_mut().find(|l| l.key == key) {
                Some(live) => {
                    live.join(&group.changes, now);
                    // The toast now stands for several files: no session redraws it any more.
                    self.sessions.forget(live.id);
                }
                None => fresh.push(group),
            }
        }
        self.expire(now);
        let room = if self.in_storm(now) {
            0
        } else {
            self.room().min(self.limits.max_per_batch.max(1))
        };
        // Repeated saves folded into a first save are changes the summary counts too.
        let weight = |groups: &[Group<'_>]| -> usize {
            groups
                .iter()
                .flat_map(|g| &g.changes)
                .map(|c| 1 + repeats_of(c))
                .sum()
        };
        let mut toasts: Vec<Toast> = Vec::new();
        if room == 0 {
            let count = weight(&fresh);
            match self.live_summary.as_mut() {
                Some(summary) if count > 0 => {
                    summary.count += count;
                    summary.last_joined = now;
                    summary.dirty = true;
                }
                _ => self.held_back += count,
            }
        } else {
            let shown = if fresh.len() <= room {
                &fresh[..]
            } else {
                &fresh[..room - 1]
            };
            for group in shown {
                let toast = self.show_group(group, now, catalog);
                if !group.burst {
                    let change = group.changes[0];
                    let repeats = repeats_of(change);
                    self.sessions
                        .start(change, toast.id, repeats, now, ctx.local_time);
                }
                toasts.push(toast);
            }
        }
        if room > 0 && fresh.len() > room {
            let count = weight(&fresh[room - 1..]) + self.held_back;
            self.held_back = 0;
            toasts.push(self.show_summary(count, now, catalog));
        }
        updates.extend(self.due_updates(now, catalog));
        updates.extend(
            self.sessions
                .redraws(now, self.limits.session_update_every, catalog),
        );
        updates.extend(toasts);
        updates
    }

    /// What waited: redraws whose turn came and, once the window has room for it, a summary of
    /// the changes the cap held back. Hosts call this at [`Self::next_flush_at`].
    ///
    /// Pauses and quiet hours drop what waited: the user asked for silence, and the list has
    /// every change.
    pub fn flush(&mut self, ctx: &ToastContext<'_>) -> Vec<Toast> {
        let now = ctx.now;
        if is_paused(ctx) || is_quiet(ctx.preferences.quiet_hours.as_ref(), ctx.local_time) {
            self.held_back = 0;
            self.live.clear();
            self.live_summary = None;
            self.sessions.clear();
            return Vec::new();
        }
        let catalog = Catalog::for_language(ctx.preferences.language);
        self.sessions.set_length(ctx.preferences.session_minutes);
        let mut out = self.end_groups(now, catalog);
        out.extend(self.sessions.end(now, catalog));
        out.extend(self.due_updates(now, catalog));
        out.extend(
            self.sessions
                .redraws(now, self.limits.session_update_every, catalog),
        );
        self.expire(now);
        if self.held_back > 0 && self.room() > 0 && !self.in_storm(now) {
            let count = self.held_back;
            self.held_back = 0;
            out.push(self.show_summary(count, now, catalog));
        }
        out
    }

    /// When [`Self::flush`] will have something to give (it may be in the past: flush now);
    /// `None` while nothing waits, so an idle host needs no timer.
    pub fn next_flush_at(&self) -> Option<DateTime<Utc>> {
        let every = self.limits.update_every;
        let redraws = self
            .live
            .iter()
            .filter(|l| l.dirty)
            .map(|l| l.drawn_at + every)
            .chain(
                self.live_summary
                    .iter()
                    .filter(|s| s.dirty)
                    .map(|s| s.drawn_at + every),
            )
            .min();
        let summary = (self.held_back > 0).then(|| {
            let storm_over = self.last_summary.map(|at| at + self.limits.window);
            let room_frees = (self.room() == 0)
                .then(|| self.shown.front().map(|&at| at + self.limits.window))
                .flatten();
            // Both must have passed; with neither, flush can tell them at once.
            [storm_over, room_frees]
                .into_iter()
                .flatten()
                .max()
                .unwrap_or(DateTime::<Utc>::MIN_UTC)
        });
        let sessions = self.sessions.next_due(self.limits.session_update_every);
        [redraws, summary, sessions].into_iter().flatten().min()
    }

    fn next_id(&mut self) -> ToastId {
        self.last_id += 1;
        ToastId(self.last_id)
    }

    /// Shows a new toast for `group` and remembers it for later changes of the same group.
    fn show_group(&mut self, group: &Group<'_>, now: DateTime<Utc>, catalog: &Catalog) -> Toast {
        let id = self.next_id();
        self.shown.push_back(now);
        let key = group.key.to_owned_key();
        let toast = group.toast(id, catalog);
        match self.live.iter_mut().find(|l| l.key == key) {
            // A group too small for a burst shows one toast per change; later changes of it
            // update the newest of them, with the count of them all.
            Some(live) => {
                live.join(&group.changes, now);
                live.id = id;
                live.drawn_at = now;
                live.dirty = false;
            }
            None => {
                let mut live = LiveGroup {
                    key,
                    id,
                    count: 0,
                    folders: 0,
                    names: Vec::new(),
                    caught_up: true,
                    first_seq: group.changes[0].seq,
                    last_joined: now,
                    drawn_at: now,
                    dirty: false,
                };
                live.join(&group.changes, now);
                live.dirty = false;
                self.live.push(live);
            }
        }
        toast
    }

    fn show_summary(&mut self, count: usize, now: DateTime<Utc>, catalog: &Catalog) -> Toast {
        let id = self.next_id();
        self.shown.push_back(now);
        self.last_summary = Some(now);
        self.live_summary = Some(LiveSummary {
            id,
            count,
            last_joined: now,
            drawn_at: now,
            dirty: false,
        });
        summary_toast(id, false, count, catalog)
    }

    /// Redraws of toasts whose count changed and whose turn has come.
    fn due_updates(&mut self, now: DateTime<Utc>, catalog: &Catalog) -> Vec<Toast> {
        let every = self.limits.update_every;
        let mut out = Vec::new();
        for live in self.live.iter_mut().filter(|l| l.dirty) {
            if now - live.drawn_at >= every {
                live.dirty = false;
                live.drawn_at = now;
                out.push(live.toast(catalog));
            }
        }
        if let Some(summary) = self.live_summary.as_mut().filter(|s| s.dirty) {
            if now - summary.drawn_at >= every {
                summary.dirty = false;
                summary.drawn_at = now;
                out.push(summary_toast(summary.id, true, summary.count, catalog));
            }
        }
        out
    }

    /// Forgets groups (and the summary) that took in nothing for a `group_window`; one with a
    /// count not yet drawn gets its last redraw now, whatever `update_every` says.
    fn end_groups(&mut self, now: DateTime<Utc>, catalog: &Catalog) -> Vec<Toast> {
        let window = self.limits.group_window;
        let mut out = Vec::new();
        self.live.retain(|live| {
            if now - live.last_joined < window {
                return true;
            }
            if live.dirty {
                out.push(live.toast(catalog));
            }
            false
        });
        if let Some(summary) = self.live_summary.take_if(|s| now - s.last_joined >= window) {
            if summary.dirty {
                out.push(summary_toast(summary.id, true, summary.count, catalog));
            }
        }
        out
    }

    fn in_storm(&self, now: DateTime<Utc>) -> bool {
        self.last_summary
            .is_some_and(|at| now - at < self.limits.window)
    }

    fn expire(&mut self, now: DateTime<Utc>) {
        while let Some(&first) = self.shown.front() {
            if now - first >= self.limits.window {
                self.shown.pop_front();
            } else {
                break;
            }
        }
    }

    fn room(&self) -> usize {
        self.limits.max_per_window.saturating_sub(self.shown.len())
    }

    /// Splits the wanted changes into bursts and singles, keeping first-occurrence order.
    fn group<'c>(&self, wanted: &[&'c Change]) -> Vec<Group<'c>> {
        let mut groups: Vec<Group<'c>> = Vec::new();
        for &change in wanted {
            let key = GroupKey::of(change);
            match groups.iter_mut().find(|g| g.key == key) {
                Some(group) => group.changes.push(change),
                None => groups.push(Group {
                    key,
                    changes: vec![change],
                    burst: false,
                }),
            }
        }
        // Groups too small for a burst fall apart into one toast per change, in place.
        let threshold = self.limits.burst_threshold.max(2);
        let mut out = Vec::with_capacity(groups.len());
        for group in groups {
            if group.changes.len() >= threshold {
                out.push(Group {
                    burst: true,
                    ..group
                });
            } else {
                out.extend(group.changes.into_iter().map(|c| Group {
                    key: GroupKey::of(c),
                    changes: vec![c],
                    burst: false,
                }));
            }
        }
        // Singles were split out of their group, so restore the order the changes came in.
        out.sort_by_key(|g| g.changes.first().map(|c| c.seq).unwrap_or(i64::MAX));
        out
    }
}

#[derive(Debug, PartialEq, Eq)]
struct GroupKey<'c> {
    target: &'c str,
    folder: &'c str,
    kind: ChangeKind,
    by: Option<&'c str>,
}

impl<'c> GroupKey<'c> {
    fn of(change: &'c Change) -> Self {
        Self {
            target: &change.target,
            folder: folder_of(&change.path),
            kind: change.kind,
            by: change.by.as_deref(),
        }
    }

    fn to_owned_key(&self) -> OwnedKey {
        OwnedKey {
            target: self.target.to_owned(),
            folder: self.folder.to_owned(),
            kind: self.kind,
            by: self.by.map(str::to_owned),
        }
    }
}

/// [`GroupKey`] kept beyond the batch it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
struct OwnedKey {
    target: String,
    folder: String,
    kind: ChangeKind,
    by: Option<String>,
}

#[derive(Debug)]
struct Group<'c> {
    key: GroupKey<'c>,
    changes: Vec<&'c Change>,
    burst: bool,
}

impl Group<'_> {
    fn toast(&self, id: ToastId, catalog: &Catalog) -> Toast {
        let first = self.changes[0];
        if self.burst {
            let names: Vec<String> = self
                .changes
                .iter()
                .take(PREVIEW_NAMES)
                .map(|c| display_name(&c.name))
                .collect();
            let folders = self.changes.iter().filter(|c| c.is_folder).count();
            burst_toast(
                id,
                false,
                BurstText {
                    target: self.key.target,
                    kind: self.key.kind,
                    by: self.key.by,
                    folder: self.key.folder,
                    count: self.changes.len(),
                    folders,
                    names: &names,
                    caught_up: self.changes.iter().all(|c| c.caught_up),
                },
                first.seq,
                catalog,
            )
        } else {
            single_toast(id, first, catalog)
        }
    }
}

impl LiveGroup {
    fn join(&mut self, changes: &[&Change], now: DateTime<Utc>) {
        self.count += changes.len();
        self.folders += changes.iter().filter(|c| c.is_folder).count();
        self.caught_up &= changes.iter().all(|c| c.caught_up);
        for change in changes {
            if self.names.len() == PREVIEW_NAMES {
                break;
            }
            self.names.push(display_name(&change.name));
        }
        self.first_seq = self
            .first_seq
            .min(changes.first().map_or(i64::MAX, |c| c.seq));
        self.last_joined = now;
        self.dirty = true;
    }

    /// The update of this group's toast, with everything it took in so far.
    fn toast(&self, catalog: &Catalog) -> Toast {
        burst_toast(
            self.id,
            true,
            BurstText {
                target: &self.key.target,
                kind: self.key.kind,
                by: self.key.by.as_deref(),
                folder: &self.key.folder,
                count: self.count,
                folders: self.folders,
                names: &self.names,
                caught_up: self.caught_up,
            },
            self.first_seq,
            catalog,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Preferences;
    use crate::toast_policy::fixtures::*;
    use crate::toast_policy::{MuteOffer, ToastKind, ToastTarget};
    use chrono::Duration;

    #[test]
    fn a_burst_in_one_folder_is_one_toast() {
        let prefs = Preferences::default();
        let mut policy = ToastPolicy::default();
        let changes: Vec<Change> = (1..=37)
            .map(|i| {
                change(
                    i,
                    ChangeKind::Created,
                    &format!("/Photos/Trip/IMG_{i:04}.jpg"),
                    "Bob",
                )
            })
            .collect();
        let toasts = policy.decide(&batch(changes), &ctx(&prefs, at(0)));
        assert_eq!(toasts.len(), 1);
        assert_eq!(toasts[0].kind, ToastKind::Burst { count: 37 });
        assert_eq!(toasts[0].summary, "Bob added 37 files to /Photos/Trip");
        assert_eq!(
            toasts[0].body,
            "IMG_0001.jpg, IMG_0002.jpg, IMG_0003.jpg and 34 more"
        );
        assert_eq!(
            toasts[0].target,
            Some(ToastTarget {
                seq: 1,
                folder: true
            })
        );
    }

    #[test]
    fn bursts_split_by_folder_person_and_kind_and_keep_order() {
        let prefs = Preferences::default();
        let mut policy = ToastPolicy::new(ToastLimits {
            max_per_window: 100,
            max_per_batch: 100,
            ..ToastLimits::default()
        });
        let mut changes = vec![change(1, ChangeKind::Modified, "/A/x.txt", "Alice")];
        changes
            .extend((2..=5).map(|i| change(i, ChangeKind::Deleted, &format!("/B/{i}.txt"), "Bob")));
        changes.push(change(6, ChangeKind::Modified, "/B/y.txt", "Bob"));
        let mut folders: Vec<Change> = (7..=9)
            .map(|i| change(i, ChangeKind::Created, &format!("/C/dir{i}"), "Carol"))
            .collect();
        for f in &mut folders {
            f.is_folder = true;
        }
        changes.extend(folders);
        let toasts = policy.decide(&batch(changes), &ctx(&prefs, at(0)));
        assert_eq!(
            summaries(&toasts),
            vec![
                "Alice edited x.txt",
                "Bob deleted 4 files from /B",
                "Bob edited y.txt",
                "Carol added 3 folders to /C",
            ]
        );
    }

    #[test]
    fn two_changes_are_not_a_burst() {
        let prefs = Preferences::default();
        let mut policy = ToastPolicy::default();
        let b = batch(vec![
            change(1, ChangeKind::Created, "/P/a.jpg", "Bob"),
            change(2, ChangeKind::Created, "/P/b.jpg", "Bob"),
        ]);
        let toasts = policy.decide(&b, &ctx(&prefs, at(0)));
        assert_eq!(
            summaries(&toasts),
            vec!["Bob added a.jpg", "Bob added b.jpg"]
        );
    }

    #[test]
    fn the_cap_turns_the_last_slot_into_a_summary() {
        let prefs = Preferences::default();
        let mut policy = ToastPolicy::new(ToastLimits {
            max_per_window: 5,
            max_per_batch: 5,
            ..ToastLimits::default()
        });
        let changes: Vec<Change> = (1..=8)
            .map(|i| change(i, ChangeKind::Modified, &format!("/D{i}/f.txt"), "Alice"))
            .collect();
        let toasts = policy.decide(&batch(changes), &ctx(&prefs, at(0)));
        assert_eq!(toasts.len(), 5);
        assert!(toasts[..4].iter().all(|t| t.kind == ToastKind::Single));
        assert_eq!(toasts[4].kind, ToastKind::Summary { count: 4 });
        assert_eq!(toasts[4].summary, "4 more changes");
        assert_eq!(toasts[4].target, None);
    }

    /// The newest version of every toast id, in the order the ids were first shown.
    fn on_screen(toasts: &[Toast]) -> Vec<Toast> {
        let mut out: Vec<Toast> = Vec::new();
        for t in toasts {
            match out.iter_mut().find(|o| o.id == t.id) {
                Some(o) => *o = t.clone(),
                None => out.push(t.clone()),
            }
        }
        out
    }

    fn covered(toasts: &[Toast]) -> usize {
        on_screen(toasts)
            .iter()
            .map(|t| match t.kind {
                ToastKind::Summary { count }
                | ToastKind::Burst { count }
                | ToastKind::Digest { count, .. } => count,
                ToastKind::Session { saves } => saves,
                ToastKind::Single => 1,
            })
            .sum()
    }

    /// Feeds a 10,000-change, 200-folder storm in the batches a delta loop gives it (one small
    /// batch first, then one per `every_ms`), then flushes as a host would, at the times the
    /// policy asks for. Returns everything the policy asked the host to show or redraw.
    fn storm(policy: &mut ToastPolicy, batches: usize, every_ms: i64) -> Vec<Toast> {
        let prefs = Preferences::default();
        let mut seq = 0;
        let mut toasts = Vec::new();
        let ms = |n: i64| at(0) + Duration::milliseconds(n);
        let mut next_batch = |folders: std::ops::Range<usize>, per_folder: usize| {
            let mut changes = Vec::new();
            for i in 0..per_folder {
                for f in folders.clone() {
                    seq += 1;
                    let path = format!("/Storm/F{f}/file{seq}-{i}.txt");
                    changes.push(change(seq, ChangeKind::Created, &path, "Bob"));
                }
            }
            batch(changes)
        };
        let mut now = ms(0);
        toasts.extend(policy.decide(&next_batch(0..1, 1), &ctx(&prefs, now)));
        let total: usize = 200 * 50 - 1;
        let per_batch = total.div_ceil(batches);
        let mut left = total;
        for round in 0..batches {
            now = ms(5 + every_ms * round as i64);
            // Round-robin over all folders, as the benchmark writes them.
            let n = per_batch.min(left);
            left -= n;
            let mut changes = next_batch(0..200, n.div_ceil(200)).changes;
            changes.truncate(n);
            toasts.extend(policy.decide(&batch(changes), &ctx(&prefs, now)));
        }
        // The host's timer: flush whenever the policy says something waits.
        let mut flushes = 0;
        while let Some(due) = policy.next_flush_at() {
            flushes += 1;
            assert!(flushes < 100, "the policy keeps asking for flushes");
            now = now.max(due);
            toasts.extend(policy.flush(&ctx(&prefs, now)));
        }
        toasts
    }

    #[test]
    fn a_storm_across_many_folders_stays_at_five_toasts_with_the_shipped_limits() {
        for (batches, every_ms) in [(5, 1000), (17, 300), (50, 100), (1, 0)] {
            let mut policy = ToastPolicy::new(ToastLimits::default());
            let toasts = storm(&mut policy, batches, every_ms);
            let new: Vec<&Toast> = toasts.iter().filter(|t| !t.is_update()).collect();
            assert!(
                new.len() <= 5,
                "{batches} batches: {} toasts: {:?}",
                new.len(),
                summaries(&toasts)
            );
            assert_eq!(toasts[0].summary, "Bob added file1-0.txt");
            // Every change is accounted for by the last version of some toast.
            assert_eq!(covered(&toasts), 200 * 50, "{batches} batches");
            // Redraws are rationed: at most one per toast per second, plus a last one.
            let updates = toasts.iter().filter(|t| t.is_update()).count();
            let span_s = (batches as i64 * every_ms / 1000 + 2) as usize;
            assert!(
                updates <= new.len() * span_s,
                "{updates} updates for {batches} batches"
            );
            assert_eq!(policy.next_flush_at(), None, "nothing waits at the end");
        }
    }

    #[test]
    fn a_burst_over_several_batches_is_one_toast_updated_in_place() {
        let prefs = Preferences::default();
        let mut policy = ToastPolicy::default();
        let photo = |seq| {
            change(
                seq,
                ChangeKind::Created,
                &format!("/Photos/IMG_{seq}.jpg"),
                "Adele",
            )
        };
        let ms = |n: i64| at(0) + Duration::milliseconds(n);
        let first = policy.decide(&batch(vec![photo(1)]), &ctx(&prefs, ms(0)));
        assert_eq!(summaries(&first), vec!["Adele added IMG_1.jpg"]);
        let id = first[0].id;
        assert!(!first[0].update);
        // Within a second of the first toast: nothing redrawn yet, but the flush timer is set.
        let second = policy.decide(&batch((2..=10).map(photo).collect()), &ctx(&prefs, ms(300)));
        assert!(second.is_empty(), "{second:?}");
        assert_eq!(policy.next_flush_at(), Some(ms(1000)));
        assert!(policy.flush(&ctx(&prefs, ms(900))).is_empty());
        let third = policy.decide(
            &batch((11..=40).map(photo).collect()),
            &ctx(&prefs, ms(1200)),
        );
        assert_eq!(
            third,
            vec![Toast {
                id,
                update: true,
                kind: ToastKind::Burst { count: 40 },
                summary: "Adele added 40 files to /Photos".to_owned(),
                body: "IMG_1.jpg, IMG_2.jpg, IMG_3.jpg and 37 more".to_owned(),
                target: Some(ToastTarget {
                    seq: 1,
                    folder: true
                }),
                mute: Some(MuteOffer {
                    target: "target-1".to_owned(),
                    folder: "/Photos".to_owned(),
                }),
                digest: None,
            }]
        );
        assert_eq!(policy.next_flush_at(), None, "nothing waits");
        // Updates do not use up the cap: nine more new toasts fit in the minute.
        for i in 0..9 {
            let other = change(
                100 + i,
                ChangeKind::Modified,
                &format!("/D{i}/a.txt"),
                "Bob",
            );
            assert_eq!(
                policy
                    .decide(&batch(vec![other]), &ctx(&prefs, ms(1300)))
                    .len(),
                1
            );
        }
    }

    #[test]
    fn a_pending_count_is_drawn_by_flush_at_the_time_it_names() {
        let prefs = Preferences::default();
        let mut policy = ToastPolicy::default();
        let edit = |seq| change(seq, ChangeKind::Modified, &format!("/Docs/{seq}.txt"), "Al");
        let ms = |n: i64| at(0) + Duration::milliseconds(n);
        let first = policy.decide(&batch((1..=3).map(edit).collect()), &ctx(&prefs, ms(0)));
        assert_eq!(summaries(&first), vec!["Al edited 3 files in /Docs"]);
        assert!(
            policy
                .decide(&batch(vec![edit(4)]), &ctx(&prefs, ms(200)))
                .is_empty()
        );
        assert_eq!(policy.next_flush_at(), Some(ms(1000)));
        let drawn = policy.flush(&ctx(&prefs, ms(1000)));
        assert_eq!(summaries(&drawn), vec!["Al edited 4 files in /Docs"]);
        assert!(drawn[0].update);
        assert_eq!(drawn[0].id, first[0].id);
        assert_eq!(policy.next_flush_at(), None);
        assert!(policy.flush(&ctx(&prefs, ms(5000))).is_empty());
    }

    #[test]
    fn a_group_quiet_for_its_window_gets_a_new_toast() {
        let prefs = Preferences::default();
        let mut policy = ToastPolicy::default();
        let edit = |seq| change(seq, ChangeKind::Modified, "/Finance/Budget.xlsx", "Alice");
        let a = policy.decide(&batch(vec![edit(1)]), &ctx(&prefs, at(0)));
        let b = policy.decide(&batch(vec![edit(2)]), &ctx(&prefs, at(3)));
        assert_eq!(summaries(&b), vec!["Alice edited 2 files in /Finance"]);
        assert!(b[0].update);
        assert_eq!(b[0].id, a[0].id);
        // The window slides with every change that joins; 5 s of quiet ends the group.
        let c = policy.decide(&batch(vec![edit(3)]), &ctx(&prefs, at(8)));
        assert_eq!(summaries(&c), vec!["Alice edited Budget.xlsx"]);
        assert!(!c[0].update);
        assert_ne!(c[0].id, a[0].id);
        // Another person, kind or folder is another group.
        let other = change(4, ChangeKind::Modified, "/Finance/Budget.xlsx", "Bob");
        let d = policy.decide(&batch(vec![other]), &ctx(&prefs, at(9)));
        assert!(!d[0].update);
    }

    #[test]
    fn a_group_that_ends_with_a_pending_count_gets_its_last_redraw() {
        let prefs = Preferences::default();
        let mut policy = ToastPolicy::default();
        let edit = |seq| change(seq, ChangeKind::Modified, &format!("/Docs/{seq}.txt"), "Al");
        let ms = |n: i64| at(0) + Duration::milliseconds(n);
        policy.decide(&batch(vec![edit(1)]), &ctx(&prefs, ms(0)));
        assert!(
            policy
                .decide(&batch(vec![edit(2)]), &ctx(&prefs, ms(100)))
                .is_empty()
        );
        // The host was late with its flush; the next batch comes after the group's window.
        let late = policy.decide(&batch(vec![edit(3)]), &ctx(&prefs, ms(9000)));
        assert_eq!(
            summaries(&late),
            vec!["Al edited 2 files in /Docs", "Al edited 3.txt"]
        );
        assert!(late[0].is_update() && !late[1].is_update());
    }

    #[test]
    fn a_storm_summary_takes_in_later_changes_instead_of_holding_them() {
        let prefs = Preferences::default();
        let mut policy = ToastPolicy::default();
        let spread = |from: i64, n: i64| {
            batch(
                (from..from + n)
                    .map(|i| change(i, ChangeKind::Created, &format!("/F{i}/x.txt"), "Bob"))
                    .collect(),
            )
        };
        let first = policy.decide(&spread(0, 10), &ctx(&prefs, at(0)));
        assert_eq!(summaries(&first)[2], "8 more changes");
        let summary_id = first[2].id;
        let more = policy.decide(&spread(100, 5), &ctx(&prefs, at(2)));
        assert_eq!(summaries(&more), vec!["13 more changes"]);
        assert!(more[0].update);
        assert_eq!(more[0].id, summary_id);
        assert_eq!(policy.held_back(), 0);
        // Once the summary's group window is over, the storm's changes wait for a new summary.
        assert!(
            policy
                .decide(&spread(200, 4), &ctx(&prefs, at(10)))
                .is_empty()
        );
        assert_eq!(policy.held_back(), 4);
        assert_eq!(policy.next_flush_at(), Some(at(60)));
        let later = policy.flush(&ctx(&prefs, at(60)));
        assert_eq!(summaries(&later), vec!["4 more changes"]);
        assert!(!later[0].is_update());
    }

    #[test]
    fn two_singles_of_a_group_then_one_more_updates_the_newest_with_all_three() {
        let prefs = Preferences::default();
        let mut policy = ToastPolicy::default();
        let add = |seq| change(seq, ChangeKind::Created, &format!("/P/{seq}.jpg"), "Bob");
        let two = policy.decide(&batch(vec![add(1), add(2)]), &ctx(&prefs, at(0)));
        assert_eq!(summaries(&two), vec!["Bob added 1.jpg", "Bob added 2.jpg"]);
        let third = policy.decide(&batch(vec![add(3)]), &ctx(&prefs, at(2)));
        assert_eq!(summaries(&third), vec!["Bob added 3 files to /P"]);
        assert!(third[0].update);
        assert_eq!(third[0].id, two[1].id);
        assert_eq!(third[0].body, "1.jpg, 2.jpg, 3.jpg");
    }

    #[test]
    fn a_full_window_holds_changes_back_for_a_later_summary() {
        let prefs = Preferences::default();
        let mut policy = ToastPolicy::new(ToastLimits {
            max_per_window: 5,
            max_per_batch: 5,
            ..ToastLimits::default()
        });
        let one = |seq| {
            batch(vec![change(
                seq,
                ChangeKind::Modified,
                &format!("/D{seq}/a.txt"),
                "Alice",
            )])
        };
        for seq in 1..=5 {
            assert_eq!(policy.decide(&one(seq), &ctx(&prefs, at(seq))).len(), 1);
        }
        // The window is full: nothing now, but the changes are remembered.
        assert!(policy.decide(&one(6), &ctx(&prefs, at(10))).is_empty());
        assert!(policy.decide(&one(7), &ctx(&prefs, at(20))).is_empty());
        assert_eq!(policy.held_back(), 2);
        // A minute after the first toast, one slot is free again.
        assert_eq!(policy.next_flush_at(), Some(at(61)));
        assert!(policy.flush(&ctx(&prefs, at(30))).is_empty());
        let summary = policy.flush(&ctx(&prefs, at(61)));
        assert_eq!(summaries(&summary), vec!["2 more changes"]);
        assert_eq!(summary[0].kind, ToastKind::Summary { count: 2 });
        assert_eq!(policy.held_back(), 0);
        assert!(policy.flush(&ctx(&prefs, at(62))).is_empty());
        assert_eq!(policy.next_flush_at(), None);
    }

    #[test]
    fn held_back_changes_join_the_next_summary_in_a_batch() {
        let prefs = Preferences::default();
        let mut policy = ToastPolicy::new(ToastLimits {
            max_per_window: 2,
            ..ToastLimits::default()
        });
        let one = |seq| {
            batch(vec![change(
                seq,
                ChangeKind::Modified,
                &format!("/{seq}/x.txt"),
                "A",
            )])
        };
        policy.decide(&one(1), &ctx(&prefs, at(0)));
        policy.decide(&one(2), &ctx(&prefs, at(1)));
        assert!(policy.decide(&one(3), &ctx(&prefs, at(2))).is_empty());
        // Both slots free again; a batch of three: one single plus a summary of two + one held.
        let three = batch(
            (4..=6)
                .map(|i| change(i, ChangeKind::Modified, &format!("/{i}/x"), "A"))
                .collect(),
        );
        let toasts = policy.decide(&three, &ctx(&prefs, at(70)));
        assert_eq!(summaries(&toasts), vec!["A edited x", "3 more changes"]);
        assert_eq!(policy.held_back(), 0);
    }

    #[test]
    fn a_pause_drops_held_back_changes_and_pending_redraws() {
        let prefs = Preferences::default();
        let mut policy = ToastPolicy::new(ToastLimits {
            max_per_window: 1,
            ..ToastLimits::default()
        });
        let one = |seq| {
            batch(vec![change(
                seq,
                ChangeKind::Modified,
                &format!("/{seq}/a.txt"),
                "A",
            )])
        };
        let ms = |n: i64| at(0) + Duration::milliseconds(n);
        assert_eq!(policy.decide(&one(1), &ctx(&prefs, ms(0))).len(), 1);
        // Within a second: a redraw of the first toast waits for its turn.
        let again = batch(vec![change(3, ChangeKind::Modified, "/1/b.txt", "A")]);
        assert!(policy.decide(&again, &ctx(&prefs, ms(500))).is_empty());
        // The window is full: a change of another group waits for a summary.
        assert!(policy.decide(&one(2), &ctx(&prefs, ms(600))).is_empty());
        assert_eq!(policy.held_back(), 1);
        assert_eq!(policy.next_flush_at(), Some(ms(1000)));
        let paused = ToastContext {
            paused_until: Some(at(1000)),
            ..ctx(&prefs, at(100))
        };
        assert!(policy.flush(&paused).is_empty());
        assert_eq!(policy.held_back(), 0);
        assert_eq!(policy.next_flush_at(), None);
    }
}
