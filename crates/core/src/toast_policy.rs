//! Which desktop toasts a batch of changes deserves, decided without a desktop.
//!
//! Hosts hand every [`ChangeBatch`] to a [`ToastPolicy`] together with the user's
//! [`Preferences`], the pause deadline and the current time (a [`ToastContext`]); it answers
//! with the toasts to show, already worded and with untrusted names made safe to display. A
//! burst in one folder becomes one toast, toasts per minute are capped with a summary for the
//! rest, and the user's own changes, paused periods, quiet hours and muted folders or patterns
//! give none. The list of changes is not this module's business: every change still goes there.
//!
//! This module must never read a clock, touch the network or a GUI, or log names: the time
//! comes in through [`ToastContext`] so the policy is a plain function of its inputs and its
//! own small rate-limit memory, and it is unit-tested as such.

use std::collections::VecDeque;

use chrono::{DateTime, Duration, NaiveTime, Utc};

use crate::model::{Change, ChangeBatch, ChangeKind, Preferences, QuietHours};

/// Longest name shown in a toast, in characters; longer names keep their start and extension.
const MAX_NAME_CHARS: usize = 60;
/// Longest folder path shown in a toast, in characters; longer paths keep their last folders.
const MAX_PATH_CHARS: usize = 80;
/// Longest person name shown in a toast, in characters.
const MAX_PERSON_CHARS: usize = 40;
/// Shown in place of a neutralised control or bidi character, so a hidden trick stays visible.
const REPLACEMENT: char = '\u{FFFD}';
const ELLIPSIS: char = '…';

/// Tunables of the policy; the defaults are what DriveWatch ships with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToastLimits {
    /// At most this many toasts (summaries included) within any [`Self::window`].
    pub max_per_window: usize,
    /// At most this many toasts (a summary included) for one batch: a storm across many folders
    /// shows its first groups and one summary, and leaves room for what comes next.
    pub max_per_batch: usize,
    /// The sliding window the cap applies to.
    pub window: Duration,
    /// This many changes of one kind, by one person, in one folder, within one batch, make a
    /// burst: one toast for all of them.
    pub burst_threshold: usize,
}

impl Default for ToastLimits {
    fn default() -> Self {
        Self {
            // Enough for a lively folder (a few edits and a burst) without a wall of toasts.
            max_per_window: 10,
            max_per_batch: 3,
            window: Duration::minutes(1),
            burst_threshold: 3,
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

/// One toast to show: text safe to display as plain text, and what its actions act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub kind: ToastKind,
    /// First line, e.g. "Alice edited Budget.xlsx".
    pub summary: String,
    /// Second line, e.g. "in /Finance".
    pub body: String,
    /// `None` for summaries, which stand for many unrelated changes.
    pub target: Option<ToastTarget>,
}

/// The toast policy with its rate-limit memory; one per host.
///
/// Not shared between threads by design: the host owns it and feeds it batches in order.
#[derive(Debug, Clone, Default)]
pub struct ToastPolicy {
    limits: ToastLimits,
    /// When each toast still inside the window was shown, oldest first.
    shown: VecDeque<DateTime<Utc>>,
    /// Changes that deserved a toast but found the window full; told by [`Self::flush`].
    held_back: usize,
    /// When the last summary was shown. Within a window after it, everything else waits for the
    /// next summary: once DriveWatch has said "and N more", a storm gets no more toasts.
    last_summary: Option<DateTime<Utc>>,
}

impl ToastPolicy {
    pub fn new(limits: ToastLimits) -> Self {
        Self {
            limits,
            shown: VecDeque::new(),
            held_back: 0,
            last_summary: None,
        }
    }

    pub fn limits(&self) -> ToastLimits {
        self.limits
    }

    /// How many changes wait for a summary toast because the window was full.
    pub fn held_back(&self) -> usize {
        self.held_back
    }

    /// The toasts `batch` deserves now, in the order the changes happened.
    ///
    /// When the per-window cap leaves room for fewer toasts than the batch needs, the last slot
    /// becomes a summary of the rest; when it leaves none, the changes are counted and
    /// [`Self::flush`] reports them once room frees up.
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
        let candidates = self.group(&wanted);
        self.expire(ctx.now);
        let room = if self.in_storm(ctx.now) {
            0
        } else {
            self.room().min(self.limits.max_per_batch.max(1))
        };
        if room == 0 {
            self.held_back += candidates.iter().map(|g| g.changes.len()).sum::<usize>();
            return Vec::new();
        }
        let mut toasts: Vec<Toast> = Vec::new();
        if candidates.len() <= room {
            toasts.extend(candidates.iter().map(Group::toast));
        } else {
            let (shown, rest) = candidates.split_at(room - 1);
            toasts.extend(shown.iter().map(Group::toast));
            let left_out: usize = rest.iter().map(|g| g.changes.len()).sum();
            toasts.push(summary_toast(left_out + self.held_back));
            self.held_back = 0;
            self.last_summary = Some(ctx.now);
        }
        for _ in &toasts {
            self.shown.push_back(ctx.now);
        }
        toasts
    }

    /// A summary of the changes held back by the cap, once the window has room for it.
    ///
    /// Hosts call this on a timer (every few seconds is plenty). Pauses and quiet hours drop
    /// the held-back count: the user asked for silence, and the list has every change.
    pub fn flush(&mut self, ctx: &ToastContext<'_>) -> Option<Toast> {
        if self.held_back == 0 {
            return None;
        }
        if is_paused(ctx) || is_quiet(ctx.preferences.quiet_hours.as_ref(), ctx.local_time) {
            self.held_back = 0;
            return None;
        }
        self.expire(ctx.now);
        if self.room() == 0 || self.in_storm(ctx.now) {
            return None;
        }
        let toast = summary_toast(self.held_back);
        self.held_back = 0;
        self.shown.push_back(ctx.now);
        self.last_summary = Some(ctx.now);
        Some(toast)
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
}

#[derive(Debug)]
struct Group<'c> {
    key: GroupKey<'c>,
    changes: Vec<&'c Change>,
    burst: bool,
}

impl Group<'_> {
    fn toast(&self) -> Toast {
        let first = self.changes[0];
        if self.burst {
            burst_toast(&self.key, &self.changes)
        } else {
            single_toast(first)
        }
    }
}

fn single_toast(change: &Change) -> Toast {
    let (summary, body) = describe_change(change);
    Toast {
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

fn burst_toast(key: &GroupKey<'_>, changes: &[&Change]) -> Toast {
    let count = changes.len();
    let who = key
        .by
        .map(display_person)
        .unwrap_or_else(|| "Someone".to_owned());
    let folders = changes.iter().filter(|c| c.is_folder).count();
    let noun = if folders == 0 {
        "files"
    } else if folders == count {
        "folders"
    } else {
        "items"
    };
    let folder = display_path(key.folder);
    let summary = match key.kind {
        ChangeKind::Created => format!("{who} added {count} {noun} to {folder}"),
        ChangeKind::Modified => format!("{who} edited {count} {noun} in {folder}"),
        ChangeKind::Deleted => format!("{who} deleted {count} {noun} from {folder}"),
        ChangeKind::Renamed => format!("{who} renamed {count} {noun} in {folder}"),
        ChangeKind::Moved => format!("{who} moved {count} {noun} to {folder}"),
    };
    Toast {
        kind: ToastKind::Burst { count },
        summary,
        body: names_preview(changes),
        target: Some(ToastTarget {
            seq: changes[0].seq,
            folder: true,
        }),
    }
}

/// "a.jpg, b.jpg, c.jpg and 34 more": enough to recognise the burst at a glance.
fn names_preview(changes: &[&Change]) -> String {
    const SHOWN: usize = 3;
    let names: Vec<String> = changes
        .iter()
        .take(SHOWN)
        .map(|c| display_name(&c.name))
        .collect();
    let rest = changes.len().saturating_sub(SHOWN);
    if rest == 0 {
        names.join(", ")
    } else {
        format!("{} and {rest} more", names.join(", "))
    }
}

fn summary_toast(count: usize) -> Toast {
    let summary = if count == 1 {
        "1 more change".to_owned()
    } else {
        format!("{count} more changes")
    };
    Toast {
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

    #[test]
    fn a_storm_across_many_folders_stays_at_five_toasts_with_the_shipped_limits() {
        // 10,000 changes in 200 folders, delivered as a delta run would: one small batch first,
        // then a few big ones.
        let prefs = Preferences::default();
        let mut policy = ToastPolicy::new(ToastLimits::default());
        let mut seq = 0;
        let mut toasts = Vec::new();
        let mut next_batch = |folders: std::ops::Range<usize>, per_folder: usize| {
            let mut changes = Vec::new();
            for f in folders {
                for i in 0..per_folder {
                    seq += 1;
                    let path = format!("/Storm/F{f}/file{seq}-{i}.txt");
                    changes.push(change(seq, ChangeKind::Created, &path, "Bob"));
                }
            }
            batch(changes)
        };
        toasts.extend(policy.decide(&next_batch(0..1, 1), &ctx(&prefs, at(0))));
        for (round, start) in (0..200).step_by(40).enumerate() {
            let b = next_batch(start..start + 40, 49);
            toasts.extend(policy.decide(&b, &ctx(&prefs, at(1 + round as i64))));
        }
        // A host flushes held-back changes on a timer, once the window has room again.
        for secs in (10..=180).step_by(10) {
            toasts.extend(policy.flush(&ctx(&prefs, at(secs))));
        }
        assert!(
            toasts.len() <= 5,
            "{} toasts: {:?}",
            toasts.len(),
            summaries(&toasts)
        );
        assert_eq!(toasts[0].summary, "Bob added file1-0.txt");
        // Every change is accounted for: shown one by one, in a burst, or in a summary.
        let covered: usize = toasts
            .iter()
            .map(|t| match t.kind {
                ToastKind::Summary { count } => count,
                ToastKind::Burst { count } => count,
                ToastKind::Single => 1,
            })
            .sum();
        assert_eq!(covered, 1 + 200 * 49);
    }

    #[test]
    fn a_full_window_holds_changes_back_for_a_later_summary() {
        let prefs = Preferences::default();
        let mut policy = ToastPolicy::new(ToastLimits {
            max_per_window: 5,
            max_per_batch: 5,
            ..ToastLimits::default()
        });
        let one = |seq| batch(vec![change(seq, ChangeKind::Modified, "/a.txt", "Alice")]);
        for seq in 1..=5 {
            assert_eq!(policy.decide(&one(seq), &ctx(&prefs, at(seq))).len(), 1);
        }
        // The window is full: nothing now, but the changes are remembered.
        assert!(policy.decide(&one(6), &ctx(&prefs, at(10))).is_empty());
        assert!(policy.decide(&one(7), &ctx(&prefs, at(20))).is_empty());
        assert_eq!(policy.held_back(), 2);
        assert_eq!(policy.flush(&ctx(&prefs, at(30))), None);
        // A minute after the first toast, one slot is free again.
        let summary = policy.flush(&ctx(&prefs, at(61))).expect("a summary");
        assert_eq!(summary.kind, ToastKind::Summary { count: 2 });
        assert_eq!(summary.summary, "2 more changes");
        assert_eq!(policy.held_back(), 0);
        assert_eq!(policy.flush(&ctx(&prefs, at(62))), None);
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
                &format!("/{seq}.txt"),
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
    fn a_pause_drops_held_back_changes() {
        let prefs = Preferences::default();
        let mut policy = ToastPolicy::new(ToastLimits {
            max_per_window: 1,
            ..ToastLimits::default()
        });
        let one = |seq| batch(vec![change(seq, ChangeKind::Modified, "/a.txt", "A")]);
        policy.decide(&one(1), &ctx(&prefs, at(0)));
        policy.decide(&one(2), &ctx(&prefs, at(1)));
        assert_eq!(policy.held_back(), 1);
        let paused = ToastContext {
            paused_until: Some(at(1000)),
            ..ctx(&prefs, at(100))
        };
        assert_eq!(policy.flush(&paused), None);
        assert_eq!(policy.held_back(), 0);
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
