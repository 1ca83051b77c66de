//! The daily digest: one toast per rule in [`NotifyMode::Digest`], summing up the changes it
//! held from the screen ("Yesterday in Finance: 34 changes by 5 people").
//!
//! The host keeps the timer: at [`next_digest_at`] it fetches the history's changes of the
//! [`digest_span`] before that time and hands them to [`digest_toasts`], which counts, for every
//! digest rule, the changes that rule governs and that deserve attention under it (the same
//! test as live toasts, with mutes judged at the time of each change). A digest comes at its
//! time even during a pause or quiet hours: it is one toast a day that the user scheduled
//! themselves, and waiting would push it into the working day it was meant to precede.
//!
//! Pure like the rest of the policy: no clock (the time comes in as arguments), no history
//! access (the changes come in), and it never shows anything itself.

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Days, Duration, LocalResult, TimeZone, Utc};

use super::filter::parse_hh_mm;
use super::rules::{notice, rule_for};
use super::text::{DigestText, digest_toast};
use super::{DigestScope, Toast, ToastContext, ToastId, name_of};
use crate::i18n::Catalog;
use crate::model::{Change, DEFAULT_DIGEST_AT, NotifyMode, Preferences};

/// How far back a digest looks from its time.
pub const DIGEST_SPAN_HOURS: i64 = 24;

/// Digest toasts' ids have this bit set; the policy counts its own ids up from 1, so the two
/// never meet.
const DIGEST_IDS: u64 = 1 << 63;

/// The span a digest at `at` covers: the 24 hours before it, `[since, until)`.
pub fn digest_span(at: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    (at - Duration::hours(DIGEST_SPAN_HOURS), at)
}

/// The digest toasts for `changes` (the history's changes in `[since, until)`): one per rule in
/// digest mode that governs at least one of them that deserves attention; none when nothing
/// happened. Whole-target digests name no place (see [`digest_toasts_labelled`]).
pub fn digest_toasts(
    changes: &[Change],
    ctx: &ToastContext<'_>,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Vec<Toast> {
    digest_toasts_labelled(changes, ctx, since, until, |_| None)
}

/// [`digest_toasts`] with the targets' labels (`label(target_id)`, e.g. "Finance ›
/// Documents"), which whole-target digests name as their place. A folder rule names its
/// folder.
pub fn digest_toasts_labelled(
    changes: &[Change],
    ctx: &ToastContext<'_>,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    label: impl Fn(&str) -> Option<String>,
) -> Vec<Toast> {
    let prefs = ctx.preferences;
    let catalog = Catalog::for_language(prefs.language);
    // Pages fetched one after another may overlap; a change counts once.
    let mut seen = HashSet::new();
    let in_span: Vec<&Change> = changes
        .iter()
        .filter(|c| since <= c.at && c.at < until)
        .filter(|c| seen.insert(c.seq))
        .collect();
    let mut out = Vec::new();
    for (index, rule) in prefs.rules.iter().enumerate() {
        if rule.mode != NotifyMode::Digest {
            continue;
        }
        let governed: Vec<&Change> = in_span
            .iter()
            .copied()
            .filter(|c| rule_for(c, &prefs.rules).is_some_and(|r| std::ptr::eq(r, rule)))
            .filter(|c| notice(c, prefs, c.at) == NotifyMode::Digest)
            .collect();
        if governed.is_empty() {
            continue;
        }
        let people: BTreeSet<Option<&str>> = governed.iter().map(|c| c.by.as_deref()).collect();
        let folder = rule
            .folder
            .as_deref()
            .map(str::trim)
            .filter(|f| !f.trim_end_matches('/').is_empty());
        let place = match folder {
            Some(folder) => Some(name_of(folder).to_owned()),
            None => label(&rule.target),
        };
        let minutes = u64::try_from(until.timestamp() / 60).unwrap_or(0);
        let id = ToastId(DIGEST_IDS | (minutes << 16) | (index as u64 & 0xffff));
        out.push(digest_toast(
            id,
            DigestText {
                place: place.as_deref(),
                count: governed.len(),
                people: people.len(),
            },
            DigestScope {
                target: rule.target.clone(),
                folder: rule.folder.clone(),
                since,
                until,
            },
            catalog,
        ));
    }
    out
}

/// When the next digest is due: the first [`Preferences::digest_at`] local time strictly after
/// `now_local` (an unreadable setting reads as the default, 09:00), or `None` when no rule is
/// in digest mode, so a host without digests needs no timer. A time that a clock change skips
/// comes an hour later that day; one it repeats comes the first time.
pub fn next_digest_at<Tz: TimeZone>(
    prefs: &Preferences,
    now_local: DateTime<Tz>,
) -> Option<DateTime<Utc>> {
    if !prefs.rules.iter().any(|r| r.mode == NotifyMode::Digest) {
        return None;
    }
    let time = parse_hh_mm(&prefs.digest_at).or_else(|| parse_hh_mm(DEFAULT_DIGEST_AT))?;
    let zone = now_local.timezone();
    let today = now_local.date_naive();
    for days in 0..=2 {
        let naive = today.checked_add_days(Days::new(days))?.and_time(time);
        let at = match zone.from_local_datetime(&naive) {
            LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => at,
            LocalResult::None => match zone.from_local_datetime(&(naive + Duration::hours(1))) {
                LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => at,
                LocalResult::None => continue,
            },
        };
        if at > now_local {
            return Some(at.with_timezone(&Utc));
        }
    }
    None
}

#[cfg(test)]
mod tests;
