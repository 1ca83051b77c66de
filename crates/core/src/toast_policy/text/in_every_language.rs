//! Every toast kind and every tray status line, rendered in English and Russian with the
//! counts whose plural forms differ (1, 2, 5, 21, 111), so a sentence that reads wrong for one
//! of them, or an English word left in the Russian catalog, fails here.

use super::*;
use crate::i18n::Locale;
use crate::model::{Language, Preferences};
use crate::toast_policy::ToastPolicy;
use crate::toast_policy::fixtures::*;

const COUNTS: [usize; 5] = [1, 2, 5, 21, 111];
const WHO: &str = "Alex Wilber";
/// Every name the rendered texts may carry: people, files, folders, and the app's own name.
const NAMES: &[&str] = &[
    "Alex Wilber",
    "/Photos",
    "Q3 Plan.txt",
    "Old plan.txt",
    "Trip",
    "/Photos/Trip",
    "/Projects",
    "/Archive",
    "IMG_1.jpg",
    "IMG_2.jpg",
    "IMG_3.jpg",
    "DriveWatch",
    "top.txt",
    "Budget.xlsx",
    "/",
];

fn catalog(locale: Locale) -> &'static Catalog {
    Catalog::get(locale)
}

/// A text with every known name removed: what is left is the catalog's own words.
fn words_of(text: &str) -> String {
    let mut names = NAMES.to_vec();
    // Longest first, so "/Photos/Trip" goes before "/" and "Trip".
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    names
        .iter()
        .fold(text.to_owned(), |t, name| t.replace(name, " "))
}

fn assert_russian(text: &str) {
    let left = words_of(text);
    assert!(
        !left.chars().any(|c| c.is_ascii_alphabetic()),
        "an English word in {text:?}: {left:?}"
    );
    assert!(
        left.chars()
            .any(|c| ('а'..='я').contains(&c.to_lowercase().next().unwrap_or(c))),
        "no Russian word in {text:?}"
    );
}

/// One of each single change: every kind, a file and a folder, a known and an unknown person,
/// and a change found on catch-up.
fn singles() -> Vec<Change> {
    let mut out = Vec::new();
    for kind in [
        ChangeKind::Created,
        ChangeKind::Modified,
        ChangeKind::Deleted,
        ChangeKind::Renamed,
        ChangeKind::Moved,
    ] {
        for is_folder in [false, true] {
            let path = if is_folder {
                "/Photos/Trip"
            } else {
                "/Projects/Q3 Plan.txt"
            };
            let mut c = change(out.len() as i64 + 1, kind, path, WHO);
            c.is_folder = is_folder;
            match kind {
                ChangeKind::Renamed => c.old_path = Some("/Projects/Old plan.txt".to_owned()),
                ChangeKind::Moved => c.old_path = Some("/Archive/Q3 Plan.txt".to_owned()),
                _ => {}
            }
            out.push(c.clone());
            // The same without an old path: renamed in place, moved from an unknown folder.
            if matches!(kind, ChangeKind::Renamed | ChangeKind::Moved) {
                c.old_path = None;
                out.push(c);
            }
        }
    }
    let mut unknown = change(90, ChangeKind::Created, "/top.txt", WHO);
    unknown.by = None;
    out.push(unknown);
    let mut caught_up = change(91, ChangeKind::Modified, "/Projects/Budget.xlsx", WHO);
    caught_up.caught_up = true;
    out.push(caught_up);
    out
}

fn single(locale: Locale, change: &Change) -> Toast {
    single_toast(ToastId(1), change, catalog(locale))
}

fn burst(locale: Locale, kind: ChangeKind, count: usize, folders: usize, caught_up: bool) -> Toast {
    let names: Vec<String> = ["IMG_1.jpg", "IMG_2.jpg", "IMG_3.jpg"]
        .iter()
        .take(count)
        .map(|s| s.to_string())
        .collect();
    burst_toast(
        ToastId(1),
        false,
        BurstText {
            target: "target-1",
            kind,
            by: Some(WHO),
            folder: "/Photos/Trip",
            count,
            folders,
            names: &names,
            caught_up,
        },
        1,
        catalog(locale),
    )
}

const KINDS: [ChangeKind; 5] = [
    ChangeKind::Created,
    ChangeKind::Modified,
    ChangeKind::Deleted,
    ChangeKind::Renamed,
    ChangeKind::Moved,
];

/// Every toast this module can word, in `locale`.
fn every_toast(locale: Locale) -> Vec<Toast> {
    let mut out: Vec<Toast> = singles().iter().map(|c| single(locale, c)).collect();
    for kind in KINDS {
        for count in COUNTS {
            // Files, folders, and a mix of both (items).
            for folders in [0, count, count / 2] {
                out.push(burst(locale, kind, count, folders, false));
            }
        }
    }
    out.push(burst(locale, ChangeKind::Created, 5, 0, true));
    for count in COUNTS {
        out.push(summary_toast(ToastId(1), false, count, catalog(locale)));
        out.push(session(locale, count));
        for people in COUNTS {
            out.push(digest(locale, Some("Trip"), count, people));
        }
        out.push(digest(locale, None, count, 1));
    }
    out
}

fn session(locale: Locale, saves: usize) -> Toast {
    session_toast(
        ToastId(1),
        SessionText {
            target: "target-1",
            by: Some(WHO),
            name: "Budget.xlsx",
            folder: "/Photos",
            saves,
            since: chrono::NaiveTime::from_hms_opt(10, 2, 0).expect("valid"),
            seq: 1,
        },
        catalog(locale),
    )
}

fn digest(locale: Locale, place: Option<&str>, count: usize, people: usize) -> Toast {
    digest_toast(
        ToastId(1),
        DigestText {
            place,
            count,
            people,
        },
        DigestScope {
            target: "target-1".to_owned(),
            folder: None,
            since: at(0),
            until: at(86_400),
        },
        catalog(locale),
    )
}

/// The tray's status lines: every state, with and without a latest change.
fn every_tray_line(locale: Locale) -> Vec<String> {
    let c = catalog(locale);
    let (latest, _) = describe_change(
        &change(1, ChangeKind::Modified, "/Projects/Q3 Plan.txt", WHO),
        c,
    );
    let mut out = Vec::new();
    for state in [
        "st_live",
        "st_polling",
        "st_reconnecting",
        "st_needsSignIn",
        "st_paused",
    ] {
        let state = c.text(state, &[]);
        out.push(c.text(
            "tray_status",
            &[
                ("state", Arg::from(&state)),
                ("time", Arg::from("14:05")),
                ("change", Arg::from(&latest)),
            ],
        ));
        out.push(c.text("tray_statusEmpty", &[("state", Arg::from(&state))]));
    }
    for key in [
        "tray_noChanges",
        "tray_open",
        "tray_pause",
        "tray_pauseHour",
        "tray_pauseTomorrow",
        "resume",
        "accountsTitle",
        "tray_signIn",
        "tray_quit",
        "toast_open",
        "toast_show",
    ] {
        out.push(c.text(key, &[]));
    }
    out
}

#[test]
fn no_english_word_is_left_in_russian_toasts_or_tray_lines() {
    for toast in every_toast(Locale::Ru) {
        assert_russian(&toast.summary);
        if !toast.body.starts_with("IMG_") {
            assert_russian(&toast.body);
        }
        assert!(
            !toast.summary.contains(['\u{2068}', '\u{2069}']),
            "{toast:?}"
        );
        assert!(!toast.body.contains(['\u{2068}', '\u{2069}']), "{toast:?}");
    }
    for line in every_tray_line(Locale::Ru) {
        assert_russian(&line);
    }
    // And the English side is all there too, not a key shown in place of a message.
    for toast in every_toast(Locale::En) {
        assert!(!toast.summary.contains("toast_"), "{toast:?}");
        assert!(!toast.body.contains("toast_"), "{toast:?}");
    }
    for line in every_tray_line(Locale::En) {
        assert!(!line.contains("tray_") && !line.contains("st_"), "{line}");
    }
}

#[test]
fn russian_single_toasts_agree_with_the_file_or_folder_not_the_person() {
    let lines: Vec<(String, String)> = singles()
        .iter()
        .map(|c| {
            let t = single(Locale::Ru, c);
            (t.summary, t.body)
        })
        .collect();
    let expect = |s: &str, b: &str| (s.to_owned(), b.to_owned());
    assert_eq!(
        lines,
        vec![
            expect("Добавлен файл Q3 Plan.txt · Alex Wilber", "в /Projects"),
            expect("Добавлена папка Trip · Alex Wilber", "в /Photos"),
            expect("Изменён файл Q3 Plan.txt · Alex Wilber", "в /Projects"),
            expect("Изменена папка Trip · Alex Wilber", "в /Photos"),
            expect("Удалён файл Q3 Plan.txt · Alex Wilber", "из /Projects"),
            expect("Удалена папка Trip · Alex Wilber", "из /Photos"),
            expect(
                "Файл Old plan.txt переименован в Q3 Plan.txt · Alex Wilber",
                "в /Projects"
            ),
            expect("Переименован файл Q3 Plan.txt · Alex Wilber", "в /Projects"),
            expect(
                "Папка Old plan.txt переименована в Trip · Alex Wilber",
                "в /Photos"
            ),
            expect("Переименована папка Trip · Alex Wilber", "в /Photos"),
            expect(
                "Перемещён файл Q3 Plan.txt · Alex Wilber",
                "в /Projects, из /Archive"
            ),
            expect("Перемещён файл Q3 Plan.txt · Alex Wilber", "в /Projects"),
            expect(
                "Перемещена папка Trip · Alex Wilber",
                "в /Photos, из /Archive"
            ),
            expect("Перемещена папка Trip · Alex Wilber", "в /Photos"),
            expect("Добавлен файл top.txt · автор неизвестен", "в /"),
            expect(
                "Изменён файл Budget.xlsx · Alex Wilber",
                "Пока DriveWatch был закрыт: в /Projects"
            ),
        ]
    );
}

#[test]
fn russian_counts_are_declined() {
    let summaries = |kind, folders: fn(usize) -> usize| -> Vec<String> {
        COUNTS
            .iter()
            .map(|&n| burst(Locale::Ru, kind, n, folders(n), false).summary)
            .collect()
    };
    assert_eq!(
        summaries(ChangeKind::Created, |_| 0),
        [
            "Добавлен 1 файл в /Photos/Trip · Alex Wilber",
            "Добавлено 2 файла в /Photos/Trip · Alex Wilber",
            "Добавлено 5 файлов в /Photos/Trip · Alex Wilber",
            "Добавлен 21 файл в /Photos/Trip · Alex Wilber",
            "Добавлено 111 файлов в /Photos/Trip · Alex Wilber",
        ]
    );
    assert_eq!(
        summaries(ChangeKind::Deleted, |n| n),
        [
            "Удалена 1 папка из /Photos/Trip · Alex Wilber",
            "Удалено 2 папки из /Photos/Trip · Alex Wilber",
            "Удалено 5 папок из /Photos/Trip · Alex Wilber",
            "Удалена 21 папка из /Photos/Trip · Alex Wilber",
            "Удалено 111 папок из /Photos/Trip · Alex Wilber",
        ]
    );
    // A mix of files and folders is "items"; with one change there is no mix, so from 2 on.
    assert_eq!(
        summaries(ChangeKind::Moved, |n| n / 2)[1..],
        [
            "Перемещено 2 объекта в /Photos/Trip · Alex Wilber",
            "Перемещено 5 объектов в /Photos/Trip · Alex Wilber",
            "Перемещён 21 объект в /Photos/Trip · Alex Wilber",
            "Перемещено 111 объектов в /Photos/Trip · Alex Wilber",
        ]
    );
    assert_eq!(
        summaries(ChangeKind::Modified, |_| 0)[3],
        "Изменён 21 файл в /Photos/Trip · Alex Wilber"
    );
    assert_eq!(
        summaries(ChangeKind::Renamed, |_| 0)[1],
        "Переименовано 2 файла в /Photos/Trip · Alex Wilber"
    );
    let more: Vec<String> = COUNTS
        .iter()
        .map(|&n| summary_toast(ToastId(1), false, n, catalog(Locale::Ru)).summary)
        .collect();
    assert_eq!(
        more,
        [
            "Ещё 1 изменение",
            "Ещё 2 изменения",
            "Ещё 5 изменений",
            "Ещё 21 изменение",
            "Ещё 111 изменений",
        ]
    );
    assert_eq!(
        burst(Locale::Ru, ChangeKind::Created, 21, 0, true).body,
        "Пока DriveWatch был закрыт: IMG_1.jpg, IMG_2.jpg, IMG_3.jpg и ещё 18"
    );
}

#[test]
fn sessions_and_digests_are_declined_in_russian() {
    let saves: Vec<String> = COUNTS
        .iter()
        .map(|&n| session(Locale::Ru, n).body)
        .collect();
    assert_eq!(
        saves,
        [
            "1 сохранение с 10:02",
            "2 сохранения с 10:02",
            "5 сохранений с 10:02",
            "21 сохранение с 10:02",
            "111 сохранений с 10:02",
        ]
    );
    assert_eq!(
        session(Locale::Ru, 2).summary,
        "Файл Budget.xlsx редактируется · Alex Wilber"
    );
    let digests: Vec<String> = COUNTS
        .iter()
        .map(|&n| digest(Locale::Ru, Some("Trip"), n, n).summary)
        .collect();
    assert_eq!(
        digests,
        [
            "Вчера в «Trip»: 1 изменение от 1 человека",
            "Вчера в «Trip»: 2 изменения от 2 человек",
            "Вчера в «Trip»: 5 изменений от 5 человек",
            "Вчера в «Trip»: 21 изменение от 21 человека",
            "Вчера в «Trip»: 111 изменений от 111 человек",
        ]
    );
    assert_eq!(
        digest(Locale::Ru, None, 3, 1).summary,
        "Вчера: 3 изменения от 1 человека"
    );
}

#[test]
fn english_counts_are_declined_too() {
    let summaries: Vec<String> = COUNTS
        .iter()
        .map(|&n| burst(Locale::En, ChangeKind::Created, n, 0, false).summary)
        .collect();
    assert_eq!(
        summaries,
        [
            "Alex Wilber added 1 file to /Photos/Trip",
            "Alex Wilber added 2 files to /Photos/Trip",
            "Alex Wilber added 5 files to /Photos/Trip",
            "Alex Wilber added 21 files to /Photos/Trip",
            "Alex Wilber added 111 files to /Photos/Trip",
        ]
    );
    assert_eq!(
        burst(Locale::En, ChangeKind::Deleted, 1, 1, false).summary,
        "Alex Wilber deleted 1 folder from /Photos/Trip"
    );
    assert_eq!(
        burst(Locale::En, ChangeKind::Moved, 21, 10, true).body,
        "While DriveWatch was closed: IMG_1.jpg, IMG_2.jpg, IMG_3.jpg and 18 more"
    );
    assert_eq!(session(Locale::En, 1).body, "1 save since 10:02");
    let twelve = session(Locale::En, 12);
    assert_eq!(
        (twelve.summary.as_str(), twelve.body.as_str()),
        ("Alex Wilber is editing Budget.xlsx", "12 saves since 10:02")
    );
    assert_eq!(
        digest(Locale::En, Some("Trip"), 1, 1).summary,
        "Yesterday in Trip: 1 change by 1 person"
    );
    assert_eq!(
        digest(Locale::En, None, 34, 5).summary,
        "Yesterday: 34 changes by 5 people"
    );
    let one = summary_toast(ToastId(1), false, 1, catalog(Locale::En));
    assert_eq!(
        (one.summary.as_str(), one.body.as_str()),
        ("1 more change", "Open DriveWatch to see them all")
    );
}

#[test]
fn the_policy_speaks_the_language_of_the_setting_and_follows_a_change_of_it() {
    let mut prefs = Preferences {
        language: Language::Ru,
        ..Preferences::default()
    };
    let mut policy = ToastPolicy::default();
    let edit = |seq| change(seq, ChangeKind::Modified, "/Projects/Q3 Plan.txt", WHO);
    let first = policy.decide(&batch(vec![edit(1)]), &ctx(&prefs, at(0)));
    assert_eq!(first[0].summary, "Изменён файл Q3 Plan.txt · Alex Wilber");
    // The group's update, drawn after the setting changed, speaks the new language.
    prefs.language = Language::En;
    let second = policy.decide(&batch(vec![edit(2)]), &ctx(&prefs, at(3)));
    assert_eq!(second[0].summary, "Alex Wilber edited 2 files in /Projects");
    assert!(second[0].update);
}
