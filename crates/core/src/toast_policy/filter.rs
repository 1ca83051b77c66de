//! Which changes deserve no toast at all: the user's own, and those in paused periods, quiet
//! hours, muted folders and patterns, or folders muted for a while (timed mutes).
//!
//! Pure predicates over a change and the preferences; they never hide a change from the list,
//! only from the screen.

use chrono::{DateTime, NaiveTime, Utc};

use super::{ToastContext, name_of};
use crate::model::{Change, Mute, QuietHours};

pub(super) fn is_paused(ctx: &ToastContext<'_>) -> bool {
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
                folder_covers(pattern, path)
            }
        };
        covers(&change.path) || change.old_path.as_deref().is_some_and(covers)
    })
}

/// Whether a timed mute in force at `at` covers the change: same target (or a mute for every
/// target), and the change's path, or its path before a move, in the folder or below it.
/// A mute whose `until` is not after `at` has expired and covers nothing.
pub fn is_muted_at(change: &Change, mutes: &[Mute], at: DateTime<Utc>) -> bool {
    mutes.iter().any(|mute| {
        mute.until.is_none_or(|until| at < until)
            && mute.target.as_deref().is_none_or(|t| t == change.target)
            && (folder_covers(&mute.folder, &change.path)
                || change
                    .old_path
                    .as_deref()
                    .is_some_and(|old| folder_covers(&mute.folder, old)))
    })
}

/// Whether `path` is the folder or below it; case-insensitive, as OneDrive names are. `/` (or
/// an empty folder) covers the whole drive, and a folder without a leading `/` is read as if
/// it had one.
pub(super) fn folder_covers(folder: &str, path: &str) -> bool {
    let folder = folder.trim().trim_end_matches('/');
    if folder.is_empty() {
        return true;
    }
    let folder = if folder.starts_with('/') {
        folder.to_lowercase()
    } else {
        format!("/{}", folder.to_lowercase())
    };
    let lower = path.to_lowercase();
    lower == folder
        || lower
            .strip_prefix(&folder)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// How deep a folder is (`/` is 0, `/Finance` 1, `/Finance/2026` 2): the more specific of two
/// folders that both cover a path is the deeper one.
pub(super) fn folder_depth(folder: &str) -> usize {
    folder
        .trim()
        .split('/')
        .filter(|part| !part.is_empty())
        .count()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ChangeKind, Preferences};
    use crate::toast_policy::fixtures::*;
    use crate::toast_policy::{MuteOffer, ToastPolicy};
    use chrono::Duration;

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
    fn a_folder_muted_from_a_toast_is_silent_for_three_hours_and_toasts_after() {
        let mut prefs = Preferences::default();
        let mut policy = ToastPolicy::default();
        let photo = |seq: i64, path: &str| change(seq, ChangeKind::Created, path, "Adele");
        let first = policy.decide(
            &batch(vec![photo(1, "/Photos/IMG_1.jpg")]),
            &ctx(&prefs, at(0)),
        );
        let offer = first[0]
            .mute
            .clone()
            .expect("a one-folder toast offers a mute");
        assert_eq!(
            offer,
            MuteOffer {
                target: "target-1".to_owned(),
                folder: "/Photos".to_owned(),
            }
        );
        // What the host adds when the user presses "Mute /Photos for 3 hours".
        let until = at(0) + Duration::hours(3);
        prefs.mutes.push(Mute {
            folder: offer.folder,
            target: Some(offer.target),
            until: Some(until),
        });
        let mut seq = 10;
        let mut t = at(60);
        while t < until {
            seq += 3;
            let b = batch(vec![
                photo(seq, &format!("/Photos/IMG_{seq}.jpg")),
                photo(seq + 1, &format!("/photos/Trip/IMG_{seq}.jpg")),
                change(seq + 2, ChangeKind::Modified, "/Docs/Plan.docx", "Bob"),
            ]);
            let toasts = policy.decide(&b, &ctx(&prefs, t));
            assert_eq!(summaries(&toasts), vec!["Bob edited Plan.docx"], "at {t}");
            t += Duration::minutes(10);
        }
        // The mute ends by itself.
        let after = policy.decide(
            &batch(vec![photo(1000, "/Photos/Trip/IMG_1000.jpg")]),
            &ctx(&prefs, until),
        );
        assert_eq!(summaries(&after), vec!["Adele added IMG_1000.jpg"]);
        assert_eq!(
            after[0].mute.as_ref().map(|m| m.folder.as_str()),
            Some("/Photos/Trip")
        );
    }

    #[test]
    fn timed_mutes_apply_to_their_target_until_they_expire() {
        let c = change(1, ChangeKind::Modified, "/Photos/Trip/a.jpg", "A");
        let mute = |folder: &str, target: Option<&str>, until: Option<i64>| Mute {
            folder: folder.to_owned(),
            target: target.map(str::to_owned),
            until: until.map(at),
        };
        assert!(is_muted_at(&c, &[mute("/Photos", None, None)], at(0)));
        assert!(is_muted_at(
            &c,
            &[mute("/", Some("target-1"), Some(1))],
            at(0)
        ));
        assert!(!is_muted_at(&c, &[mute("/Photos", None, Some(0))], at(0)));
        assert!(!is_muted_at(
            &c,
            &[mute("/Photos", Some("target-2"), None)],
            at(0)
        ));
        assert!(!is_muted_at(&c, &[mute("/Photo", None, None)], at(0)));
        assert!(!is_muted_at(&c, &[mute("/Docs", None, None)], at(0)));
        let mut moved = change(2, ChangeKind::Moved, "/Docs/a.jpg", "A");
        moved.old_path = Some("/photos/a.jpg".to_owned());
        assert!(is_muted_at(&moved, &[mute("/Photos/", None, None)], at(0)));
    }

    #[test]
    fn bursts_offer_their_folder_and_summaries_no_mute() {
        let prefs = Preferences::default();
        let mut policy = ToastPolicy::new(crate::toast_policy::ToastLimits {
            max_per_window: 2,
            max_per_batch: 2,
            ..crate::toast_policy::ToastLimits::default()
        });
        let mut changes: Vec<_> = (1..=5)
            .map(|i| {
                change(
                    i,
                    ChangeKind::Created,
                    &format!("/Photos/Trip/{i}.jpg"),
                    "A",
                )
            })
            .collect();
        changes.push(change(6, ChangeKind::Created, "/X/a.txt", "B"));
        changes.push(change(7, ChangeKind::Created, "/Y/a.txt", "B"));
        let toasts = policy.decide(&batch(changes), &ctx(&prefs, at(0)));
        assert_eq!(toasts.len(), 2);
        assert_eq!(
            toasts[0].mute.as_ref().map(|m| m.folder.as_str()),
            Some("/Photos/Trip")
        );
        assert_eq!(
            toasts[1].kind,
            crate::toast_policy::ToastKind::Summary { count: 2 }
        );
        assert_eq!(toasts[1].mute, None);
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
}
