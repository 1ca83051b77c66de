//! The digest: what it counts, what it says in both languages, and when it comes.

use chrono::{FixedOffset, NaiveTime};

use super::*;
use crate::model::{ChangeKind, Language, NotifyRule};
use crate::toast_policy::fixtures::*;
use crate::toast_policy::{ToastKind, ToastPolicy, noteworthy};

const PEOPLE: [&str; 5] = ["Alice", "Bob", "Carol", "Dan", "Erin"];

fn rule(target: &str, folder: Option<&str>, mode: NotifyMode) -> NotifyRule {
    NotifyRule {
        target: target.to_owned(),
        folder: folder.map(str::to_owned),
        mode,
        kinds: Vec::new(),
    }
}

fn finance_digest() -> Preferences {
    Preferences {
        rules: vec![
            rule("target-1", None, NotifyMode::Live),
            rule("target-1", Some("/Finance"), NotifyMode::Digest),
        ],
        ..Preferences::default()
    }
}

/// A change `t` seconds into the day, in `target`.
fn at_time(seq: i64, path: &str, by: &str, t: i64, target: &str) -> Change {
    let mut c = change(seq, ChangeKind::Modified, path, by);
    c.at = at(t);
    c.target = target.to_owned();
    c
}

/// A day of changes: 34 in /Finance by five people, and some the Finance digest must not
/// count: the user's own, another target's, a live folder's, one from before the span.
fn a_day() -> Vec<Change> {
    let mut day: Vec<Change> = (0..34)
        .map(|i| {
            let path = format!("/Finance/Sheet{i}.xlsx");
            at_time(i + 1, &path, PEOPLE[i as usize % 5], i * 1800, "target-1")
        })
        .collect();
    let mut own = at_time(100, "/Finance/Mine.xlsx", "Me", 600, "target-1");
    own.own = true;
    day.push(own);
    day.push(at_time(101, "/Finance/a.xlsx", "Zed", 700, "target-2"));
    day.push(at_time(102, "/Docs/a.docx", "Yan", 800, "target-1"));
    day.push(at_time(103, "/Finance/old.xlsx", "Xi", -10, "target-1"));
    day
}

#[test]
fn a_digest_folder_gives_no_live_toast_but_stays_noteworthy() {
    let prefs = finance_digest();
    let b = batch(vec![
        at_time(1, "/Finance/Budget.xlsx", "Alice", 0, "target-1"),
        at_time(2, "/Docs/Plan.docx", "Bob", 0, "target-1"),
    ]);
    let mut policy = ToastPolicy::default();
    let toasts = policy.decide(&b, &ctx(&prefs, at(0)));
    assert_eq!(summaries(&toasts), vec!["Bob edited Plan.docx"]);
    assert_eq!(noteworthy(&b, &ctx(&prefs, at(0))), 2);
}

#[test]
fn one_digest_toast_counts_the_changes_and_people_of_its_rule() {
    let mut prefs = finance_digest();
    let (since, until) = digest_span(at(86_400));
    assert_eq!(since, at(0));
    let toasts = digest_toasts(&a_day(), &ctx(&prefs, until), since, until);
    assert_eq!(toasts.len(), 1, "{toasts:?}");
    let digest = &toasts[0];
    assert_eq!(
        digest.kind,
        ToastKind::Digest {
            count: 34,
            people: 5
        }
    );
    assert_eq!(
        digest.summary,
        "Yesterday in Finance: 34 changes by 5 people"
    );
    assert_eq!(digest.body, "Open DriveWatch to see them");
    assert!(!digest.update);
    assert_eq!(digest.mute, None);
    assert_eq!(digest.target, None);
    assert_eq!(
        digest.digest,
        Some(DigestScope {
            target: "target-1".to_owned(),
            folder: Some("/Finance".to_owned()),
            since,
            until,
        })
    );
    // Its id never meets one the policy hands out.
    assert!(digest.id.0 > 1 << 62);

    prefs.language = Language::Ru;
    let ru = digest_toasts(&a_day(), &ctx(&prefs, until), since, until);
    assert_eq!(
        ru[0].summary,
        "Вчера в «Finance»: 34 изменения от 5 человек"
    );
    assert_eq!(ru[0].body, "Откройте DriveWatch, чтобы их увидеть");
    let few: Vec<Change> = a_day().into_iter().filter(|c| c.seq <= 21).collect();
    let ru = digest_toasts(&few, &ctx(&prefs, until), since, until);
    assert_eq!(
        ru[0].kind,
        ToastKind::Digest {
            count: 21,
            people: 5
        }
    );
    assert_eq!(
        ru[0].summary,
        "Вчера в «Finance»: 21 изменение от 5 человек"
    );
    let one: Vec<Change> = a_day().into_iter().filter(|c| c.seq == 1).collect();
    let ru = digest_toasts(&one, &ctx(&prefs, until), since, until);
    assert_eq!(
        ru[0].summary,
        "Вчера в «Finance»: 1 изменение от 1 человека"
    );
    prefs.language = Language::En;
    let en = digest_toasts(&one, &ctx(&prefs, until), since, until);
    assert_eq!(en[0].summary, "Yesterday in Finance: 1 change by 1 person");
}

#[test]
fn a_quiet_day_gives_no_digest_and_each_digest_rule_its_own() {
    let mut prefs = finance_digest();
    let (since, until) = digest_span(at(86_400));
    assert!(digest_toasts(&[], &ctx(&prefs, until), since, until).is_empty());
    // A whole other target in digest mode, named by its label.
    prefs.rules.push(rule("target-2", None, NotifyMode::Digest));
    let label = |target: &str| (target == "target-2").then(|| "Marketing › Documents".to_owned());
    let toasts = digest_toasts_labelled(&a_day(), &ctx(&prefs, until), since, until, label);
    assert_eq!(
        summaries(&toasts),
        vec![
            "Yesterday in Finance: 34 changes by 5 people",
            "Yesterday in Marketing › Documents: 1 change by 1 person",
        ]
    );
    assert_ne!(toasts[0].id, toasts[1].id);
    assert_eq!(
        toasts[1].digest.as_ref().map(|d| d.folder.clone()),
        Some(None)
    );
    // Without labels a whole-target digest names no place.
    let toasts = digest_toasts(&a_day(), &ctx(&prefs, until), since, until);
    assert_eq!(toasts[1].summary, "Yesterday: 1 change by 1 person");
    // The same change twice (overlapping pages) counts once.
    let mut twice = a_day();
    twice.extend(a_day());
    let toasts = digest_toasts(&twice, &ctx(&prefs, until), since, until);
    assert_eq!(
        toasts[0].kind,
        ToastKind::Digest {
            count: 34,
            people: 5
        }
    );
}

#[test]
fn a_digest_skips_kinds_its_rule_leaves_out_and_changes_muted_when_made() {
    let mut prefs = finance_digest();
    prefs.rules[1].kinds = vec![ChangeKind::Deleted];
    let mut day = a_day();
    day[0].kind = ChangeKind::Deleted;
    day[1].kind = ChangeKind::Deleted;
    prefs.mutes.push(crate::model::Mute {
        folder: "/Finance/Sheet1.xlsx".to_owned(),
        target: None,
        until: Some(at(3600)),
    });
    let (since, until) = digest_span(at(86_400));
    let toasts = digest_toasts(&day, &ctx(&prefs, until), since, until);
    assert_eq!(
        toasts[0].kind,
        ToastKind::Digest {
            count: 1,
            people: 1
        }
    );
}

fn local(offset_hours: i32, y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<FixedOffset> {
    FixedOffset::east_opt(offset_hours * 3600)
        .expect("valid offset")
        .with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("valid time")
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("valid time")
}

#[test]
fn the_next_digest_is_the_next_digest_time_strictly_after_now() {
    let mut prefs = finance_digest();
    // 09:00 in Moscow (+03:00) is 06:00 UTC.
    assert_eq!(
        next_digest_at(&prefs, local(3, 2026, 3, 2, 8, 59)),
        Some(utc(2026, 3, 2, 6, 0))
    );
    assert_eq!(
        next_digest_at(&prefs, local(3, 2026, 3, 2, 9, 0)),
        Some(utc(2026, 3, 3, 6, 0))
    );
    // Across midnight, and across the end of a month.
    assert_eq!(
        next_digest_at(&prefs, local(3, 2026, 3, 31, 23, 30)),
        Some(utc(2026, 4, 1, 6, 0))
    );
    prefs.digest_at = "00:15".to_owned();
    assert_eq!(
        next_digest_at(&prefs, local(-5, 2026, 12, 31, 23, 50)),
        Some(utc(2027, 1, 1, 5, 15))
    );
    assert_eq!(
        next_digest_at(&prefs, local(0, 2026, 3, 2, 0, 10)),
        Some(utc(2026, 3, 2, 0, 15))
    );
    // An unreadable time reads as the default.
    prefs.digest_at = "soon".to_owned();
    assert_eq!(
        next_digest_at(&prefs, local(0, 2026, 3, 2, 12, 0)),
        Some(utc(2026, 3, 3, 9, 0))
    );
    assert_eq!(
        parse_hh_mm(DEFAULT_DIGEST_AT),
        NaiveTime::from_hms_opt(9, 0, 0)
    );
}

#[test]
fn no_digest_rule_needs_no_timer() {
    let mut prefs = Preferences::default();
    assert_eq!(next_digest_at(&prefs, local(0, 2026, 3, 2, 12, 0)), None);
    prefs.rules = vec![
        rule("target-1", None, NotifyMode::Live),
        rule("target-1", Some("/Old"), NotifyMode::Off),
    ];
    assert_eq!(next_digest_at(&prefs, local(0, 2026, 3, 2, 12, 0)), None);
    let (since, until) = digest_span(at(86_400));
    assert!(digest_toasts(&a_day(), &ctx(&prefs, until), since, until).is_empty());
}
