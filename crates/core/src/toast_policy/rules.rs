//! Which changes deserve the user's attention, and how: the per-target and per-folder notify
//! rules ([`NotifyRule`]: live, digest or off, and which kinds), on top of the user's own
//! changes, muted patterns and timed mutes.
//!
//! A change is *noteworthy* when it would toast if nothing held it: not the user's own (unless
//! they asked), not muted, its rule not `Off` and its kind listed. Pause, quiet hours and
//! digest mode hold a noteworthy change back from the screen, but it stays noteworthy: the
//! unread count and the digest are made of exactly these changes. This module only answers
//! questions about one change; it never decides when a toast is shown or what it says.

use chrono::{DateTime, Utc};

use super::ToastContext;
use super::filter::{folder_covers, folder_depth, is_muted, is_muted_at};
use crate::model::{Change, ChangeBatch, NotifyMode, NotifyRule, Preferences};

/// The rule that governs `change`: of the rules for its target whose folder covers its path
/// (case-insensitive; `None` covers the whole target), the one with the deepest folder; among
/// equally deep ones the first listed. `None` when no rule applies: live, every kind.
pub fn rule_for<'r>(change: &Change, rules: &'r [NotifyRule]) -> Option<&'r NotifyRule> {
    let mut best: Option<(usize, &NotifyRule)> = None;
    for rule in rules.iter().filter(|r| r.target == change.target) {
        let depth = match rule.folder.as_deref() {
            None => 0,
            Some(folder) if folder_covers(folder, &change.path) => folder_depth(folder),
            Some(_) => continue,
        };
        if best.is_none_or(|(deepest, _)| depth > deepest) {
            best = Some((depth, rule));
        }
    }
    best.map(|(_, rule)| rule)
}

/// How `rule` notifies about `change`: its mode when the rule lists the change's kind (or lists
/// none), `Off` when it leaves the kind out. No rule is live.
pub(super) fn mode_for(change: &Change, rule: Option<&NotifyRule>) -> NotifyMode {
    match rule {
        None => NotifyMode::Live,
        Some(rule) if rule.kinds.is_empty() || rule.kinds.contains(&change.kind) => rule.mode,
        Some(_) => NotifyMode::Off,
    }
}

/// Whether the user wants to hear of `change` at all, rules aside: not their own (unless they
/// asked for those), not under a muted pattern, not in a folder muted at `at`.
pub(super) fn wanted(change: &Change, prefs: &Preferences, at: DateTime<Utc>) -> bool {
    (prefs.notify_own_changes || !change.own)
        && !is_muted(change, &prefs.muted_patterns)
        && !is_muted_at(change, &prefs.mutes, at)
}

/// How the user is told of `change` at `at`: `Off` for changes they do not want at all.
pub(super) fn notice(change: &Change, prefs: &Preferences, at: DateTime<Utc>) -> NotifyMode {
    if wanted(change, prefs, at) {
        mode_for(change, rule_for(change, &prefs.rules))
    } else {
        NotifyMode::Off
    }
}

/// How many changes of `batch` deserve the user's attention: those that would toast if
/// nothing held them back. Pause, quiet hours and digest mode do not reduce it; hosts add it
/// to the unread count.
pub fn noteworthy(batch: &ChangeBatch, ctx: &ToastContext<'_>) -> usize {
    batch
        .changes
        .iter()
        .filter(|c| notice(c, ctx.preferences, ctx.now) != NotifyMode::Off)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ChangeKind, Mute};
    use crate::toast_policy::fixtures::*;
    use crate::toast_policy::{ToastContext, ToastPolicy};
    use chrono::{Duration, NaiveTime};

    fn rule(folder: Option<&str>, mode: NotifyMode, kinds: &[ChangeKind]) -> NotifyRule {
        NotifyRule {
            target: "target-1".to_owned(),
            folder: folder.map(str::to_owned),
            mode,
            kinds: kinds.to_vec(),
        }
    }

    fn all_kinds(path: &str) -> ChangeBatch {
        batch(vec![
            change(1, ChangeKind::Created, &format!("{path}/a.txt"), "Alice"),
            change(2, ChangeKind::Modified, &format!("{path}/b.txt"), "Bob"),
            change(3, ChangeKind::Deleted, &format!("{path}/c.txt"), "Carol"),
            change(4, ChangeKind::Renamed, &format!("{path}/d.txt"), "Dan"),
            change(5, ChangeKind::Moved, &format!("{path}/e.txt"), "Erin"),
        ])
    }

    #[test]
    fn only_deletions_toast_in_an_archive_target() {
        let prefs = Preferences {
            rules: vec![rule(None, NotifyMode::Live, &[ChangeKind::Deleted])],
            ..Preferences::default()
        };
        let b = all_kinds("/Old");
        let toasts = ToastPolicy::default().decide(&b, &ctx(&prefs, at(0)));
        assert_eq!(summaries(&toasts), vec!["Carol deleted c.txt"]);
        assert_eq!(noteworthy(&b, &ctx(&prefs, at(0))), 1);
        // Another target has no rule: everything toasts there.
        let mut elsewhere = all_kinds("/Old");
        for c in &mut elsewhere.changes {
            c.target = "target-2".to_owned();
        }
        assert_eq!(noteworthy(&elsewhere, &ctx(&prefs, at(0))), 5);
    }

    #[test]
    fn off_gives_nothing_and_nothing_is_noteworthy() {
        let prefs = Preferences {
            rules: vec![rule(None, NotifyMode::Off, &[])],
            ..Preferences::default()
        };
        let b = all_kinds("/Docs");
        let mut policy = ToastPolicy::default();
        assert!(policy.decide(&b, &ctx(&prefs, at(0))).is_empty());
        assert_eq!(noteworthy(&b, &ctx(&prefs, at(0))), 0);
        assert_eq!(policy.next_flush_at(), None);
    }

    #[test]
    fn the_most_specific_folder_rule_wins() {
        let prefs = Preferences {
            rules: vec![
                rule(Some("/Finance/Reports"), NotifyMode::Live, &[]),
                rule(None, NotifyMode::Off, &[]),
                rule(Some("/finance"), NotifyMode::Digest, &[]),
            ],
            ..Preferences::default()
        };
        let at_path = |path: &str| change(1, ChangeKind::Modified, path, "Alice");
        let mode = |path: &str| {
            let c = at_path(path);
            mode_for(&c, rule_for(&c, &prefs.rules))
        };
        assert_eq!(mode("/Finance/Reports/Q1/a.xlsx"), NotifyMode::Live);
        assert_eq!(mode("/FINANCE/reports"), NotifyMode::Live);
        assert_eq!(mode("/Finance/Budget.xlsx"), NotifyMode::Digest);
        assert_eq!(mode("/Finance Old/Budget.xlsx"), NotifyMode::Off);
        assert_eq!(mode("/a.txt"), NotifyMode::Off);
        let b = batch(vec![
            at_path("/Finance/Reports/a.xlsx"),
            change(2, ChangeKind::Modified, "/Finance/b.xlsx", "Bob"),
            change(3, ChangeKind::Modified, "/Other/c.txt", "Carol"),
        ]);
        let toasts = ToastPolicy::default().decide(&b, &ctx(&prefs, at(0)));
        assert_eq!(summaries(&toasts), vec!["Alice edited a.xlsx"]);
        // The digest's change is held from the screen but still deserves attention.
        assert_eq!(noteworthy(&b, &ctx(&prefs, at(0))), 2);
        // No rules: live, every kind.
        let none = at_path("/x.txt");
        assert_eq!(mode_for(&none, rule_for(&none, &[])), NotifyMode::Live);
    }

    #[test]
    fn noteworthy_ignores_pause_and_quiet_hours_but_not_own_or_muted_changes() {
        let mut own = change(3, ChangeKind::Modified, "/Docs/mine.txt", "Me");
        own.own = true;
        let b = batch(vec![
            change(1, ChangeKind::Modified, "/Docs/a.txt", "Alice"),
            change(2, ChangeKind::Created, "/Photos/b.jpg", "Bob"),
            own,
            change(4, ChangeKind::Created, "/Temp/x.tmp", "Bob"),
        ]);
        let mut prefs = Preferences {
            muted_patterns: vec!["*.tmp".to_owned()],
            mutes: vec![Mute {
                folder: "/Photos".to_owned(),
                target: None,
                until: Some(at(3600)),
            }],
            quiet_hours: Some(crate::model::QuietHours {
                start: "00:00".to_owned(),
                end: "23:59".to_owned(),
            }),
            ..Preferences::default()
        };
        let held = ToastContext {
            paused_until: Some(at(7200)),
            local_time: NaiveTime::from_hms_opt(12, 0, 0).expect("valid"),
            ..ctx(&prefs, at(0))
        };
        assert_eq!(noteworthy(&b, &held), 1);
        assert!(ToastPolicy::default().decide(&b, &held).is_empty());
        // Once the mute has expired, the photo deserves attention again.
        let later = ToastContext {
            now: at(0) + Duration::hours(1),
            ..held
        };
        assert_eq!(noteworthy(&b, &later), 2);
        prefs.notify_own_changes = true;
        assert_eq!(noteworthy(&b, &ctx(&prefs, at(0))), 2);
    }
}
