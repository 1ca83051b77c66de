//! Which desktop toasts a batch of changes deserves, decided without a desktop.
//!
//! Hosts hand every [`ChangeBatch`](crate::model::ChangeBatch) to a [`ToastPolicy`] together
//! with the user's [`Preferences`], the pause deadline and the current time (a
//! [`ToastContext`]); it answers with the toasts to show, already worded in the language of
//! [`Preferences::language`] (see [`crate::i18n`]) and with untrusted names made safe to
//! display. A burst in one folder becomes one toast, toasts per minute are
//! capped with a summary for the rest, and the user's own changes, paused periods, quiet hours
//! and muted folders or patterns give none. The list of changes is not this module's business:
//! every change still goes there, whatever a rule or a mute says.
//!
//! On top of that the policy respects attention:
//! - **Editing sessions.** One person saving one file again and again (autosave) is one toast:
//!   the first save toasts, later saves less than [`Preferences::session_minutes`] apart redraw
//!   that toast silently ("Alice is editing Budget.xlsx", "12 saves since 10:02") at most once
//!   per [`ToastLimits::session_update_every`]. Another person, a rename, a move or a deletion
//!   is news of its own.
//! - **Timed mutes.** [`Preferences::mutes`] silence a folder and everything below it until
//!   their `until` (judged at [`ToastContext::now`]); expired ones are ignored. Every toast that
//!   stands for one folder (a change, a burst, a session) carries a [`MuteOffer`] for it, which
//!   the host turns into a mute when the user presses "Mute for 3 hours"; summaries and digests
//!   carry none.
//! - **Notify rules.** [`Preferences::rules`] say per target, or per folder of one, whether its
//!   changes toast live, wait for the daily digest or do not notify at all, and which kinds do;
//!   the most specific rule wins ([`rule_for`]). [`noteworthy`] counts the changes of a batch
//!   that deserve attention (what would toast if pause, quiet hours or a digest did not hold
//!   it), for the host's unread count.
//! - **Digests.** [`digest_toasts`] sums up a digest rule's changes of the day before in one
//!   toast ("Yesterday in Finance: 34 changes by 5 people", with a [`DigestScope`] for the
//!   window's digest view), due at [`next_digest_at`]; see [`digest`].
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
//! own small memory (the OS locale, which `Language::System` stands for, is read once per
//! process), and it is unit-tested as such.
//!
//! # Layout
//! - `policy`: the grouping and rate-limit state machine ([`ToastPolicy`]).
//! - `session`: editing sessions, the policy's memory of files being edited.
//! - `rules`: which changes deserve attention and how (live, digest, off), and [`noteworthy`].
//! - [`digest`]: the daily digest's toasts and time.
//! - `filter`: which changes deserve no toast at all (own, paused, quiet hours, muted, timed
//!   mutes).
//! - `text`: what a toast says, from the catalogs.
//! - `sanitise`: untrusted names made safe and short to display.

pub mod digest;
mod filter;
#[cfg(test)]
mod fixtures;
mod policy;
mod rules;
mod sanitise;
mod session;
mod text;

use chrono::{DateTime, Duration, NaiveTime, Utc};

use crate::model::Preferences;

pub use digest::{digest_span, digest_toasts, digest_toasts_labelled, next_digest_at};
pub use filter::{is_muted, is_muted_at, is_quiet, parse_hh_mm};
pub use policy::ToastPolicy;
pub use rules::{noteworthy, rule_for};
pub use sanitise::{display_name, display_path, neutralise};
pub use text::describe_change;

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
    /// An editing session's toast is redrawn at most this often: a half-hour session of
    /// autosaves is one toast and a handful of silent updates.
    pub session_update_every: Duration,
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
            session_update_every: Duration::minutes(5),
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
    /// Saves of one file by one person while they keep editing it (an editing session).
    Session { saves: usize },
    /// The daily digest of a target or folder in digest mode.
    Digest { count: usize, people: usize },
}

/// A toast's "Mute this folder for 3 hours" action: what the host adds to
/// [`Preferences::mutes`] when the user presses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MuteOffer {
    pub target: String,
    /// Drive path of the folder, e.g. `/Photos`.
    pub folder: String,
}

/// What a digest toast sums up; its action opens the window on exactly these changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestScope {
    pub target: String,
    /// `None` for the whole target.
    pub folder: Option<String>,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
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
    /// The folder the toast's mute action silences; `None` when it has no such action.
    pub mute: Option<MuteOffer>,
    /// For digest toasts: the changes the digest sums up.
    pub digest: Option<DigestScope>,
}

impl Toast {
    /// True for an update of a toast already shown.
    pub fn is_update(&self) -> bool {
        self.update
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
