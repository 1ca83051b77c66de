//! Which desktop toasts a batch of changes deserves, decided without a desktop.
//!
//! Hosts hand every [`ChangeBatch`] to a [`ToastPolicy`] together with the user's
//! [`Preferences`], the pause deadline and the current time (a [`ToastContext`]); it answers
//! with the toasts to show, already worded and with untrusted names made safe to display. A
//! burst in one folder becomes one toast, toasts per minute are capped with a summary for the
//! rest, and the user's own changes, paused periods, quiet hours and muted folders or patterns
//! give none. The list of changes is not this module's business: every change still goes there.
//!
//! The engine starts a delta run at the first notification, so a burst arrives as several
//! batches. Grouping therefore spans batches: a change whose group (target, folder, kind,
//! person) got a toast within [`ToastLimits::group_window`] does not make a new toast but an
//! update of that one, with the cumulative count ("Alice added 40 files to /Photos", replacing
//! "Alice added a.jpg"); the same holds for the "N more changes" summary of a storm. An update
//! keeps the id of the toast it redraws and says so ([`Toast::update`]), so hosts redraw the
//! notification in place; it does not count against the per-minute cap, and one toast is
//! redrawn at most once per [`ToastLimits::update_every`]. Counts that wait for their turn, and
//! changes the cap held back, are handed out by [`ToastPolicy::flush`] at
//! [`ToastPolicy::next_flush_at`], so a host needs a timer only while something waits.
//!
//! This module must never read a clock, touch the network or a GUI, or log names: the time
//! comes in through [`ToastContext`] so the policy is a plain function of its inputs and its
//! own small memory, and it is unit-tested as such.

use std::collections::VecDeque;

use chrono::{DateTime, Duration, NaiveTime, Utc};

use crate::model::{Change, ChangeBatch, ChangeKind, Preferences, QuietHours};

/// Longest name shown in a toast, in characters; longer names keep their start and extension.
const MAX_NAME_CHARS: usize = 60;
/// Longest folder path shown in a toast, in characters; longer paths keep their last folders.
const MAX_PATH_CHARS: usize = 80;
/// Longest person name shown in a toast, in characters.
const MAX_PERSON_CHARS: usize = 40;
/// Names a burst toast lists before "and N more".
const PREVIEW_NAMES: usize = 3;
/// Shown in place of a neutralised control or bidi character, so a hidden trick stays visible.
const REPLACEMENT: char = '\u{FFFD}';
const ELLIPSIS: char = '…';

/// Tunables of the policy; the defaults are what DriveWatch ships with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToastLimits {
    /// At most this many toasts (summaries included) within any [`Self::window`]. Updates of a
    /// toast already shown do not count: they add nothing to the screen.
    pub max_per_window: usize,
    /// At most this many toasts (a summary included) for one batch: a storm across many folders
    /// shows its first groups and one summary, and leaves room for what comes next.
    pub max_per_batch: usize,
    /// The sliding window the cap applies to.
    pub window: Duration,
    /// This many changes of one kind, by one person, in one folder, within one batch, make a
    /// burst: one toast for all of them.
    pub burst_threshold: usize,
    /// A change joins (updates) the toast of its group, or the storm's summary, when that toast
    /// last took in a change less than this long ago. Long enough to span the batches of one
    /// burst; short enough that an edit a while later is news of its own.
    pub group_window: Duration,
    /// One toast is redrawn at most this often; counts that arrive in between wait (see
    /// [`ToastPolicy::next_flush_at`]), so a long burst does not flicker.
    pub update_every: Duration,
}

impl Default for ToastLimits {
    fn default() -> Self {
        Self {
            // Enough for a lively folder (a few edits and a burst) without a wall of toasts.
            max_per_window: 10,
            max_per_batch: 3,
            window: Duration::minutes(1),
            burst_threshold: 3,
            group_window: Duration::seconds(5),
            update_every: Duration::seconds(1),
        }
    }
}

/// Everything outside the batch that the decision depends on.
#[derive(Debug, Clone, Copy)]
pub struct ToastContext<'a> {
    pub preferences: &'a Preferences,
    /// Toasts are off until this instant (the tray's "Pause"); `None` when not paused.
    pub paused_until: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
    /// The wall-clock time in the user's time zone, for quiet hours.
    pub local_time: NaiveTime,
}

/// What a toast's actions point at; the host looks the change up (never a URL from here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToastTarget {
    /// The change to open or to show in the window.
    pub seq: i64,
    /// Open the change's folder rather than the item itself (bursts).
    pub folder: bool,
}

/// Why a toast exists, for hosts that render the kinds differently and for tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToastKind {
    /// One change.
    Single,
    /// Several changes of one kind by one person in one folder.
    Burst { count: usize },
    /// Changes left out because of the per-minute cap.
    Summary { count: usize },
}

/// Names one toast for its whole life, across updates; unique within one [`ToastPolicy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ToastId(pub u64);

/// One toast to show: text safe to display as plain text, and what its actions act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    /// The same for a toast and all its updates.
    pub id: ToastId,
    /// True for an update: replace the notification shown for [`Self::id`] in place rather than
    /// showing another. False for a new toast.
    pub update: bool,
    pub kind: ToastKind,
    /// First line, e.g. "Alice edited Budget.xlsx".
    pub summary: String,
    /// Second line, e.g. "in /Finance".
    pub body: String,
    /// `None` for summaries, which stand for many unrelated changes.
    pub target: Option<ToastTarget>,
}

impl Toast {
    /// True for an update of a toast already shown.
    pub fn is_update(&self) -> bool {
        self.update
    }
}

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
    pub fn decide(&mut self, batch: &ChangeBatch, ctx: &ToastContext<'_>) -> Vec<Toast> {
        if is_paused(ctx) || is_quiet(ctx.preferences.quiet_hours.as_ref(), ctx.local_time) {
            return Vec::new();
        }
        let wanted: Vec<&Change> = batch
            .changes
            .iter()
            .filter(|c| ctx.preferences.notify_own_changes || !c.own)
            .filter(|c| !is_muted(c, &ctx.preferences.muted_patterns))
            .collect();
        if wanted.is_empty() {
            return Vec::new();
        }
        let now = ctx.now;
        // Groups that ended with a count still waiting get their last redraw first.
        let mut updates = self.end_groups(now);
        let mut fresh: Vec<Group<'_>> = Vec::new();
        for group in self.group(&wanted) {
            let key = group.key.to_owned_key();
            match self.live.iter_mut().find(|l| l.key == key) {
                Some(live) => live.join(&group.changes, now),
                None => fresh.push(group),
            }
        }
        self.expire(now);
        let room = if self.in_storm(now) {
            0
        } else {
            self.room().min(self.limits.max_per_batch.max(1))
        };
        let mut toasts: Vec<Toast> = Vec::new();
        if room == 0 {
            let count: usize = fresh.iter().map(|g| g.changes.len()).sum();
            match self.live_summary.as_mut() {
                Some(summary) if count > 0 => {
                    summary.count += count;
                    summary.last_joined = now;
                    summary.dirty = true;
                }
                _ => self.held_back += count,
            }
        } else if fresh.len() <= room {
            for group in &fresh {
                toasts.push(self.show_group(group, now));
            }
        } else {
            let (shown, rest) = fresh.split_at(room - 1);
            for group in shown {
                toasts.push(self.show_group(group, now));
            }
            let left_out: usize = rest.iter().map(|g| g.changes.len()).sum();
            let count = left_out + self.held_back;
            self.held_back = 0;
            toasts.push(self.show_summary(count, now));
        }
        updates.extend(self.due_updates(now));
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
            return Vec::new();
        }
        let mut out = self.end_groups(now);
        out.extend(self.due_updates(now));
        self.expire(now);
        if self.held_back > 0 && self.room() > 0 && !self.in_storm(now) {
            let count = self.held_back;
            self.held_back = 0;
            out.push(self.show_summary(count, now));
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
        [redraws, summary].into_iter().flatten().min()
    }

    fn next_id(&mut self) -> ToastId {
        self.last_id += 1;
        ToastId(self.last_id)
    }

    /// Shows a new toast for `group` and remembers it for later changes of the same group.
    fn show_group(&mut self, group: &Group<'_>, now: DateTime<Utc>) -> Toast {
        let id = self.next_id();
        self.shown.push_back(now);
        let key = group.key.to_owned_key();
        let toast = group.toast(id);
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

    fn show_summary(&mut self, count: usize, now: DateTime<Utc>) -> Toast {
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
        summary_toast(id, false, count)
    }

    /// Redraws of toasts whose count changed and whose turn has come.
    fn due_updates(&mut self, now: DateTime<Utc>) -> Vec<Toast> {
        let every = self.limits.update_every;
        let mut out = Vec::new();
        for live in self.live.iter_mut().filter(|l| l.dirty) {
            if now - live.drawn_at >= every {
                live.dirty = false;
                live.drawn_at = now;
                out.push(live.toast());
            }
        }
        if let Some(summary) = self.live_summary.as_mut().filter(|s| s.dirty) {
            if now - summary.drawn_at >= every {
                summary.dirty = false;
                summary.drawn_at = now;
                out.push(summary_toast(summary.id, true, summary.count));
            }
        }
        out
    }

    /// Forgets groups (and the summary) that took in nothing for a `group_window`; one with a
    /// count not yet drawn gets its last redraw now, whatever `update_every` says.
    fn end_groups(&mut self, now: DateTime<Utc>) -> Vec<Toast> {
        let window = self.limits.group_window;
        let mut out = Vec::new();
        self.live.retain(|live| {
            if now - live.last_joined < window {
                return true;
            }
            if live.dirty {
                out.push(live.toast());
            }
            false
        });
        if let Some(summary) = self.live_summary.take_if(|s| now - s.last_joined >= window) {
            if summary.dirty {
                out.push(summary_toast(summary.id, true, summary.count));
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
    fn toast(&self, id: ToastId) -> Toast {
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
                    kind: self.key.kind,
                    by: self.key.by,
                    folder: self.key.folder,
                    count: self.changes.len(),
                    folders,
                    names: &names,
                },
                first.seq,
            )
        } else {
            single_toast(id, first)
        }
    }
}

impl LiveGroup {
    fn join(&mut self, changes: &[&Change], now: DateTime<Utc>) {
        self.count += changes.len();
        self.folders += changes.iter().filter(|c| c.is_folder).count();
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
    fn toast(&self) -> Toast {
        burst_toast(
            self.id,
            true,
            BurstText {
                kind: self.key.kind,
                by: self.key.by.as_deref(),
                folder: &self.key.folder,
                count: self.count,
                folders: self.folders,
                names: &self.names,
            },
            self.first_seq,
        )
    }
}

fn single_toast(id: ToastId, change: &Change) -> Toast {
    let (summary, body) = describe_change(change);
    Toast {
        id,
        update: false,
        kind: ToastKind::Single,
        summary,
        body,
        target: Some(ToastTarget {
            seq: change.seq,
            folder: false,
        }),
    }
}

/// One change in words, as its toast says it: ("Alice edited Budget.xlsx", "in /Finance").
/// Safe to display: names are neutralised and shortened. Hosts use it for menus and lists.
pub fn describe_change(change: &Change) -> (String, String) {
    let who = person(change);
    let name = display_name(&change.name);
    let folder = display_path(folder_of(&change.path));
    let (summary, body) = match change.kind {
        ChangeKind::Created => (format!("{who} added {name}"), format!("in {folder}")),
        ChangeKind::Modified => (format!("{who} edited {name}"), format!("in {folder}")),
        ChangeKind::Deleted => (format!("{who} deleted {name}"), format!("from {folder}")),
        ChangeKind::Renamed => {
            let old = change.old_path.as_deref().map(|p| display_name(name_of(p)));
            match old {
                Some(old) if old != name => (
                    format!("{who} renamed {old} to {name}"),
                    format!("in {folder}"),
                ),
                _ => (format!("{who} renamed {name}"), format!("in {folder}")),
            }
        }
        ChangeKind::Moved => {
            let from = change
                .old_path
                .as_deref()
                .map(|p| display_path(folder_of(p)));
            match from {
                Some(from) => (
                    format!("{who} moved {name}"),
                    format!("to {folder}, from {from}"),
                ),
                None => (format!("{who} moved {name}"), format!("to {folder}")),
            }
        }
    };
    (summary, body)
}

/// What a burst toast says: "Alice added 40 files to /Photos", "a.jpg, b.jpg, c.jpg and 37
/// more". `names` are the first few, already safe to display.
struct BurstText<'a> {
    kind: ChangeKind,
    by: Option<&'a str>,
    folder: &'a str,
    count: usize,
    folders: usize,
    names: &'a [String],
}

fn burst_toast(id: ToastId, update: bool, text: BurstText<'_>, seq: i64) -> Toast {
    let BurstText {
        kind,
        by,
        folder,
        count,
        folders,
        names,
    } = text;
    let who = by
        .map(display_person)
        .unwrap_or_else(|| "Someone".to_owned());
    let noun = if folders == 0 {
        "files"
    } else if folders == count {
        "folders"
    } else {
        "items"
    };
    let folder = display_path(folder);
    let summary = match kind {
        ChangeKind::Created => format!("{who} added {count} {noun} to {folder}"),
        ChangeKind::Modified => format!("{who} edited {count} {noun} in {folder}"),
        ChangeKind::Deleted => format!("{who} deleted {count} {noun} from {folder}"),
        ChangeKind::Renamed => format!("{who} renamed {count} {noun} in {folder}"),
        ChangeKind::Moved => format!("{who} moved {count} {noun} to {folder}"),
    };
    // "a.jpg, b.jpg, c.jpg and 34 more": enough to recognise the burst at a glance.
    let rest = count.saturating_sub(names.len());
    let body = if rest == 0 {
        names.join(", ")
    } else {
        format!("{} and {rest} more", names.join(", "))
    };
    Toast {
        id,
        update,
        kind: ToastKind::Burst { count },
        summary,
        body,
        target: Some(ToastTarget { seq, folder: true }),
    }
}

fn summary_toast(id: ToastId, update: bool, count: usize) -> Toast {
    let summary = if count == 1 {
        "1 more change".to_owned()
    } else {
        format!("{count} more changes")
    };
    Toast {
        id,
        update,
        kind: ToastKind::Summary { count },
        summary,
        body: "Open DriveWatch to see them all".to_owned(),
        target: None,
    }
}

fn person(change: &Change) -> String {
    change
        .by
        .as_deref()
        .map(display_person)
        .unwrap_or_else(|| "Someone".to_owned())
}

fn display_person(name: &str) -> String {
    let clean = neutralise(name.trim());
    if clean.is_empty() {
        "Someone".to_owned()
    } else {
        shorten_end(&clean, MAX_PERSON_CHARS)
    }
}

fn is_paused(ctx: &ToastContext<'_>) -> bool {
    ctx.paused_until.is_some_and(|until| ctx.now < until)
}

/// Whether `now` falls in the quiet hours; windows may cross midnight (22:00 to 07:00).
/// Unreadable or empty windows (start equal to end) are treated as no quiet hours.
pub fn is_quiet(quiet: Option<&QuietHours>, now: NaiveTime) -> bool {
    let Some(quiet) = quiet else {
        return false;
    };
    let (Some(start), Some(end)) = (parse_hh_mm(&quiet.start), parse_hh_mm(&quiet.end)) else {
        return false;
    };
    if start <= end {
        start <= now && now < end
    } else {
        now >= start || now < end
    }
}

/// Parses "HH:MM" (24-hour clock), the format [`QuietHours`] stores.
pub fn parse_hh_mm(text: &str) -> Option<NaiveTime> {
    let (h, m) = text.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, 0)
}

/// Whether a muted pattern covers the change: folder paths (`/Photos`) mute the folder and
/// everything below it; patterns with `*` or `?` match the name, or the whole path when they
/// contain a `/`. OneDrive names are case-insensitive, and so is matching.
pub fn is_muted(change: &Change, patterns: &[String]) -> bool {
    patterns.iter().any(|pattern| {
        let pattern = pattern.trim();
        if pattern.is_empty() {
            return false;
        }
        let covers = |path: &str| -> bool {
            if pattern.contains(['*', '?']) {
                if pattern.contains('/') {
                    wildcard_match(pattern, path)
                } else {
                    wildcard_match(pattern, name_of(path))
                }
            } else {
                let folder = pattern.trim_end_matches('/');
                if folder.is_empty() {
                    return true; // "/" mutes the whole drive.
                }
                let folder = if folder.starts_with('/') {
                    folder.to_owned()
                } else {
                    format!("/{folder}")
                };
                let lower = path.to_lowercase();
                let folder = folder.to_lowercase();
                lower == folder
                    || lower
                        .strip_prefix(&folder)
                        .is_some_and(|rest| rest.starts_with('/'))
            }
        };
        covers(&change.path) || change.old_path.as_deref().is_some_and(covers)
    })
}

/// `*` matches any run of characters (including `/`), `?` exactly one; case-insensitive.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    // Iterative matcher with one backtrack point: linear in practice, no recursion.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// The folder part of a drive path: `/Finance/Budget.xlsx` → `/Finance`, `/a.txt` → `/`.
fn folder_of(path: &str) -> &str {
    match path.trim_end_matches('/').rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

fn name_of(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    trimmed.rsplit('/').next().unwrap_or(trimmed)
}

/// Replaces control characters and bidirectional formatting characters (which can make
/// `gpj.exe` read as `exe.jpg`) with U+FFFD, so a name cannot hide what it is.
pub fn neutralise(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() || is_bidi_control(c) {
                REPLACEMENT
            } else {
                c
            }
        })
        .collect()
}

fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// A name made safe and short: neutralised, and if longer than the limit, its start and its
/// extension joined by an ellipsis (`A very long report na….docx`).
pub fn display_name(name: &str) -> String {
    let clean = neutralise(name);
    let chars: Vec<char> = clean.chars().collect();
    if chars.len() <= MAX_NAME_CHARS {
        return clean;
    }
    // Keep a short extension whole; a "dot" far from the end is not an extension.
    let ext_len = chars
        .iter()
        .rposition(|&c| c == '.')
        .map(|i| chars.len() - i)
        .filter(|&n| n > 1 && n <= 8)
        .unwrap_or(0);
    let head = MAX_NAME_CHARS - 1 - ext_len;
    let mut out: String = chars[..head].iter().collect();
    out = out.trim_end().to_owned();
    out.push(ELLIPSIS);
    out.extend(&chars[chars.len() - ext_len..]);
    out
}

/// A folder path made safe and short: neutralised, and if too long, its last folders after an
/// ellipsis (`/…/Trip/Day 2`), since the nearest folders say most.
pub fn display_path(path: &str) -> String {
    let clean = neutralise(path);
    let chars: Vec<char> = clean.chars().collect();
    if chars.len() <= MAX_PATH_CHARS {
        return clean;
    }
    let keep = MAX_PATH_CHARS - 2; // room for "/…"
    let tail: String = chars[chars.len() - keep..].iter().collect();
    // Start at a folder boundary when there is one, so no folder name is cut in half.
    let tail = match tail.find('/') {
        Some(i) if i + 1 < tail.len() => tail[i..].to_owned(),
        _ => format!("/{tail}"),
    };
    format!("/{ELLIPSIS}{tail}")
}

fn shorten_end(text: &str, max: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= max {
        return text.to_owned();
    }
    let mut out: String = chars[..max - 1].iter().collect();
    out = out.trim_end().to_owned();
    out.push(ELLIPSIS);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0)
            .single()
            .expect("valid")
            + Duration::seconds(secs)
    }

    fn change(seq: i64, kind: ChangeKind, path: &str, by: &str) -> Change {
        Change {
            seq,
            kind,
            name: name_of(path).to_owned(),
            path: path.to_owned(),
            old_path: None,
            is_folder: false,
            item_id: format!("item-{seq}"),
            drive_id: "drive-1".to_owned(),
            by: Some(by.to_owned()),
            own: false,
            at: at(0),
            web_url: Some(format!("https://contoso.example/item-{seq}")),
            account: "acct-1".to_owned(),
            target: "target-1".to_owned(),
            caught_up: false,
        }
    }

    fn batch(changes: Vec<Change>) -> ChangeBatch {
        ChangeBatch {
            target: "target-1".to_owned(),
            changes,
        }
    }

    fn noon() -> NaiveTime {
        NaiveTime::from_hms_opt(12, 0, 0).expect("valid")
    }

    fn ctx(prefs: &Preferences, now: DateTime<Utc>) -> ToastContext<'_> {
        ToastContext {
            preferences: prefs,
            paused_until: None,
            now,
            local_time: noon(),
        }
    }

    fn summaries(toasts: &[Toast]) -> Vec<&str> {
        toasts.iter().map(|t| t.summary.as_str()).collect()
    }

    #[test]
    fn one_edit_names_who_what_and_where() {
        let prefs = Preferences::default();
        let mut policy = ToastPolicy::default();
        let b = batch(vec![change(
            7,
            ChangeKind::Modified,
            "/Finance/Budget.xlsx",
            "Alice",
        )]);
        let toasts = policy.decide(&b, &ctx(&prefs, at(0)));
        assert_eq!(
            toasts,
            vec![Toast {
                id: ToastId(1),
                update: false,
                kind: ToastKind::Single,
                summary: "Alice edited Budget.xlsx".to_owned(),
                body: "in /Finance".to_owned(),
                target: Some(ToastTarget {
                    seq: 7,
                    folder: false
                }),
            }]
        );
    }

    #[test]
    fn every_kind_has_its_own_wording() {
        let prefs = Preferences::default();
        let mut policy = ToastPolicy::new(ToastLimits {
            max_per_window: 100,
            max_per_batch: 100,
            ..ToastLimits::default()
        });
        let mut renamed = change(3, ChangeKind::Renamed, "/Docs/New.docx", "Carol");
        renamed.old_path = Some("/Docs/Old.docx".to_owned());
        let mut moved = change(4, ChangeKind::Moved, "/Archive/Plan.pdf", "Dan");
        moved.old_path = Some("/Projects/Plan.pdf".to_owned());
        let mut unknown = change(5, ChangeKind::Created, "/top.txt", "x");
        unknown.by = None;
        let b = batch(vec![
            change(1, ChangeKind::Created, "/Docs/a.txt", "Alice"),
            change(2, ChangeKind::Deleted, "/Docs/b.txt", "Bob"),
            renamed,
            moved,
            unknown,
        ]);
        let toasts = policy.decide(&b, &ctx(&prefs, at(0)));
        let lines: Vec<(&str, &str)> = toasts
            .iter()
            .map(|t| (t.summary.as_str(), t.body.as_str()))
            .collect();
        assert_eq!(
            lines,
            vec![
                ("Alice added a.txt", "in /Docs"),
                ("Bob deleted b.txt", "from /Docs"),
                ("Carol renamed Old.docx to New.docx", "in /Docs"),
                ("Dan moved Plan.pdf", "to /Archive, from /Projects"),
                ("Someone added top.txt", "in /"),
            ]
        );
    }

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
    fn own_changes_toast_only_when_asked() {
        let mut own = change(1, ChangeKind::Modified, "/Finance/Budget.xlsx", "Me");
        own.own = true;
        let b = batch(vec![own]);
        let mut prefs = Preferences::default();
        assert!(
            ToastPolicy::default()
                .decide(&b, &ctx(&prefs, at(0)))
                .is_empty()
        );
        prefs.notify_own_changes = true;
        assert_eq!(
            summaries(&ToastPolicy::default().decide(&b, &ctx(&prefs, at(0)))),
            vec!["Me edited Budget.xlsx"]
        );
    }

    #[test]
    fn paused_gives_nothing_until_the_deadline() {
        let prefs = Preferences::default();
        let mut policy = ToastPolicy::default();
        let b = batch(vec![change(1, ChangeKind::Modified, "/a.txt", "Alice")]);
        let paused = ToastContext {
            paused_until: Some(at(3600)),
            ..ctx(&prefs, at(0))
        };
        assert!(policy.decide(&b, &paused).is_empty());
        let after = ToastContext {
            paused_until: Some(at(3600)),
            ..ctx(&prefs, at(3600))
        };
        assert_eq!(policy.decide(&b, &after).len(), 1);
    }

    #[test]
    fn quiet_hours_cross_midnight() {
        let q = QuietHours {
            start: "22:00".to_owned(),
            end: "07:00".to_owned(),
        };
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).expect("valid");
        assert!(is_quiet(Some(&q), t(23, 30)));
        assert!(is_quiet(Some(&q), t(22, 0)));
        assert!(is_quiet(Some(&q), t(3, 0)));
        assert!(!is_quiet(Some(&q), t(7, 0)));
        assert!(!is_quiet(Some(&q), t(12, 0)));
        let day = QuietHours {
            start: "9:00".to_owned(),
            end: "17:30".to_owned(),
        };
        assert!(is_quiet(Some(&day), t(9, 0)));
        assert!(is_quiet(Some(&day), t(17, 29)));
        assert!(!is_quiet(Some(&day), t(17, 30)));
        let broken = QuietHours {
            start: "25:00".to_owned(),
            end: "soon".to_owned(),
        };
        assert!(!is_quiet(Some(&broken), t(1, 0)));
        assert!(!is_quiet(None, t(1, 0)));
    }

    #[test]
    fn quiet_hours_silence_toasts() {
        let prefs = Preferences {
            quiet_hours: Some(QuietHours {
                start: "22:00".to_owned(),
                end: "07:00".to_owned(),
            }),
            ..Preferences::default()
        };
        let b = batch(vec![change(1, ChangeKind::Modified, "/a.txt", "Alice")]);
        let night = ToastContext {
            local_time: NaiveTime::from_hms_opt(23, 0, 0).expect("valid"),
            ..ctx(&prefs, at(0))
        };
        assert!(ToastPolicy::default().decide(&b, &night).is_empty());
        assert_eq!(
            ToastPolicy::default().decide(&b, &ctx(&prefs, at(0))).len(),
            1
        );
    }

    #[test]
    fn muted_folders_and_patterns() {
        let patterns: Vec<String> = ["/Photos", "*.tmp", "/Work/*/drafts/*", "~$*"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let muted = |path: &str| is_muted(&change(1, ChangeKind::Created, path, "A"), &patterns);
        assert!(muted("/Photos"));
        assert!(muted("/photos/Trip/a.jpg"));
        assert!(!muted("/PhotosOld/a.jpg"));
        assert!(muted("/Docs/cache.TMP"));
        assert!(!muted("/Docs/cache.tmp.txt"));
        assert!(muted("/Work/Q1/drafts/plan.docx"));
        assert!(!muted("/Work/Q1/final/plan.docx"));
        assert!(muted("/Docs/~$Budget.xlsx"));
        // A move out of a muted folder is muted too: it is about the muted folder.
        let mut moved = change(1, ChangeKind::Moved, "/Docs/a.jpg", "A");
        moved.old_path = Some("/Photos/a.jpg".to_owned());
        assert!(is_muted(&moved, &patterns));
        assert!(!is_muted(
            &change(1, ChangeKind::Created, "/a", "A"),
            &[" ".to_owned()]
        ));
    }

    #[test]
    fn muted_changes_give_no_toast_but_others_do() {
        let prefs = Preferences {
            muted_patterns: vec!["/Photos".to_owned()],
            ..Preferences::default()
        };
        let b = batch(vec![
            change(1, ChangeKind::Created, "/Photos/a.jpg", "Bob"),
            change(2, ChangeKind::Modified, "/Finance/Budget.xlsx", "Alice"),
        ]);
        let toasts = ToastPolicy::default().decide(&b, &ctx(&prefs, at(0)));
        assert_eq!(summaries(&toasts), vec!["Alice edited Budget.xlsx"]);
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("a*b*c", "aXXbYYc"));
        assert!(!wildcard_match("a*b*c", "aXXbYY"));
        assert!(wildcard_match("?.txt", "a.txt"));
        assert!(!wildcard_match("?.txt", "ab.txt"));
        assert!(wildcard_match("*.JPG", "x.jpg"));
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
                ToastKind::Summary { count } | ToastKind::Burst { count } => count,
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

    #[test]
    fn control_and_bidi_characters_are_neutralised() {
        // U+202E would render "evil\u{202E}gpj.exe" as "evilexe.jpg".
        assert_eq!(neutralise("evil\u{202E}gpj.exe"), "evil\u{FFFD}gpj.exe");
        assert_eq!(neutralise("two\nlines\u{7}"), "two\u{FFFD}lines\u{FFFD}");
        assert_eq!(
            neutralise("a\u{2066}b\u{200F}c\u{9B}"),
            "a\u{FFFD}b\u{FFFD}c\u{FFFD}"
        );
        assert_eq!(neutralise("Résumé 📄.docx"), "Résumé 📄.docx");
        let mut evil = change(1, ChangeKind::Created, "/In\u{202E}box/x", "Mal\nlory\n");
        evil.name = "invoice\u{202E}fdp.exe".to_owned();
        let toasts =
            ToastPolicy::default().decide(&batch(vec![evil]), &ctx(&Preferences::default(), at(0)));
        assert_eq!(
            toasts[0].summary,
            "Mal\u{FFFD}lory added invoice\u{FFFD}fdp.exe"
        );
        assert_eq!(toasts[0].body, "in /In\u{FFFD}box");
    }

    #[test]
    fn long_names_keep_their_start_and_extension() {
        let long = format!("{}.xlsx", "Quarterly budget ".repeat(10));
        let shown = display_name(&long);
        assert_eq!(shown.chars().count(), 60);
        assert!(shown.starts_with("Quarterly budget Quarterly"));
        assert!(shown.ends_with("….xlsx"), "{shown}");
        let no_ext = "x".repeat(200);
        let shown = display_name(&no_ext);
        assert_eq!(shown.chars().count(), 60);
        assert!(shown.ends_with('…'));
        // Characters, not bytes: multi-byte names are cut on character boundaries.
        let cyrillic = "Отчёт".repeat(30);
        assert_eq!(display_name(&cyrillic).chars().count(), 60);
        assert_eq!(display_name("short.txt"), "short.txt");
    }

    #[test]
    fn long_paths_keep_their_last_folders() {
        let deep = format!("{}/Trip/Day 2", "/Very long folder name".repeat(6));
        let shown = display_path(&deep);
        assert!(shown.starts_with("/…/"), "{shown}");
        assert!(shown.ends_with("/Trip/Day 2"), "{shown}");
        assert!(shown.chars().count() <= 80);
        assert_eq!(display_path("/Finance"), "/Finance");
    }

    #[test]
    fn folders_of_paths() {
        assert_eq!(folder_of("/Finance/Budget.xlsx"), "/Finance");
        assert_eq!(folder_of("/a.txt"), "/");
        assert_eq!(folder_of("/A/B/"), "/A");
        assert_eq!(name_of("/A/B/"), "B");
        assert_eq!(parse_hh_mm("07:05"), NaiveTime::from_hms_opt(7, 5, 0));
        assert_eq!(parse_hh_mm("7:5"), None);
        assert_eq!(parse_hh_mm("24:00"), None);
    }
}
