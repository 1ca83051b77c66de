//! Group tests: editing sessions, bursts across runs, what ends a group, persistence, the
//! migration of older databases, the group/folder/time filters, and the cost of a big burst.

use std::time::Instant;

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::super::migrations::MIGRATIONS;
use super::super::{HistoryStore, RunCommit};
use crate::classify::IndexUpdate;
use crate::model::{Change, ChangeKind, HistoryQuery};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 10, 2, 0).unwrap()
}

fn change(path: &str, kind: ChangeKind, by: &str, at: DateTime<Utc>) -> Change {
    let name = path.rsplit('/').next().unwrap().to_owned();
    Change {
        seq: 0,
        kind,
        name,
        path: path.into(),
        old_path: None,
        is_folder: false,
        item_id: format!("id:{}", path.to_lowercase()),
        drive_id: "d1".into(),
        by: Some(by.into()),
        own: false,
        at,
        web_url: None,
        account: "acct".into(),
        target: "t".into(),
        caught_up: false,
        group: 0,
    }
}

/// Alice's `i`-th save of the budget, 20 s after the one before.
fn alice_saves(i: i64) -> Change {
    change(
        "/Finance/Budget.xlsx",
        ChangeKind::Modified,
        "Alice",
        t0() + Duration::seconds(20 * i),
    )
}

/// A store on disk that already holds 30,000 changes in 100 folders: the measurements' start.
fn store_with_30_000_changes(dir: &std::path::Path) -> HistoryStore {
    let store = HistoryStore::open(&dir.join("h.sqlite3")).unwrap();
    for round in 0..3 {
        let prior: Vec<_> = (0..10_000)
            .map(|i| {
                let path = format!("/Old{}/p{round}-{i}.txt", i % 100);
                change(&path, ChangeKind::Modified, "Ann", t0())
            })
            .collect();
        commit(&store, &prior);
    }
    store
}

fn commit(store: &HistoryStore, changes: &[Change]) -> Vec<Change> {
    store
        .commit_run(RunCommit {
            target: "t",
            changes,
            index: &IndexUpdate::default(),
            delta_link: "l",
        })
        .unwrap()
}

fn commit_one(store: &HistoryStore, c: Change) -> Change {
    commit(store, &[c]).remove(0)
}

fn all(store: &HistoryStore, q: HistoryQuery) -> Vec<Change> {
    let mut q = HistoryQuery { limit: 7, ..q };
    let mut out = Vec::new();
    loop {
        let page = store.query(&q).unwrap();
        out.extend(page.changes);
        match page.next_before {
            Some(b) => q.before = Some(b),
            None => return out,
        }
    }
}

fn group_of(store: &HistoryStore, group: i64) -> Vec<Change> {
    all(
        store,
        HistoryQuery {
            group: Some(group),
            ..Default::default()
        },
    )
}

#[test]
fn ninety_saves_twenty_seconds_apart_are_one_session() {
    let store = HistoryStore::open_in_memory().unwrap();
    let saves: Vec<Change> = (0..90)
        .map(|i| commit_one(&store, alice_saves(i)))
        .collect();
    let first = saves[0].seq;
    assert_eq!(
        saves[0].group, first,
        "a session is named by its first save"
    );
    assert!(saves.iter().all(|c| c.group == first));
    // What a later read gives equals what the commit returned (and the engine broadcast).
    let members = group_of(&store, first);
    assert_eq!(members.len(), 90);
    assert_eq!(members.last(), saves.first());

    // Past the session length, the next save starts a new session.
    let late = commit_one(
        &store,
        change(
            "/Finance/Budget.xlsx",
            ChangeKind::Modified,
            "Alice",
            saves[89].at + Duration::minutes(10),
        ),
    );
    assert_eq!(late.group, late.seq);
}

#[test]
fn a_second_person_in_the_same_file_has_a_session_of_their_own() {
    let store = HistoryStore::open_in_memory().unwrap();
    let mut alice = Vec::new();
    let mut bob = Vec::new();
    for i in 0..10 {
        let at = t0() + Duration::seconds(20 * i);
        let path = "/Finance/Budget.xlsx";
        alice.push(commit_one(
            &store,
            change(path, ChangeKind::Modified, "Alice", at),
        ));
        let at = at + Duration::seconds(5);
        bob.push(commit_one(
            &store,
            change(path, ChangeKind::Modified, "Bob", at),
        ));
    }
    assert!(alice.iter().all(|c| c.group == alice[0].seq));
    assert!(bob.iter().all(|c| c.group == bob[0].seq));
    assert_ne!(alice[0].group, bob[0].group);
}

#[test]
fn a_rename_ends_a_session_whoever_renames() {
    let store = HistoryStore::open_in_memory().unwrap();
    let path = "/Finance/Budget.xlsx";
    let at = |s| t0() + Duration::seconds(s);
    let first = commit_one(&store, change(path, ChangeKind::Modified, "Alice", at(0)));
    let second = commit_one(&store, change(path, ChangeKind::Modified, "Alice", at(20)));
    assert_eq!(second.group, first.seq);
    let mut rename = change(path, ChangeKind::Renamed, "Alice", at(30));
    rename.old_path = Some("/Finance/Budget old.xlsx".into());
    let rename = commit_one(&store, rename);
    assert_eq!(rename.group, rename.seq, "the rename is news of its own");
    let third = commit_one(&store, change(path, ChangeKind::Modified, "Alice", at(40)));
    assert_eq!(third.group, third.seq, "a new session after the rename");
    let fourth = commit_one(&store, change(path, ChangeKind::Modified, "Alice", at(60)));
    assert_eq!(fourth.group, third.seq);

    // Someone else's move ends it too, also within one run.
    let mut run = vec![change(path, ChangeKind::Modified, "Alice", at(80))];
    let mut moved = change(path, ChangeKind::Moved, "Bob", at(85));
    moved.old_path = Some("/Old/Budget.xlsx".into());
    run.push(moved);
    run.push(change(path, ChangeKind::Modified, "Alice", at(90)));
    let stored = commit(&store, &run);
    assert_eq!(stored[0].group, third.seq);
    assert_eq!(stored[1].group, stored[1].seq);
    assert_eq!(stored[2].group, stored[2].seq);
}

#[test]
fn a_forty_file_burst_over_two_runs_is_one_group() {
    let store = HistoryStore::open_in_memory().unwrap();
    let photos = |range: std::ops::Range<u32>, at| -> Vec<Change> {
        range
            .map(|i| {
                let path = format!("/Photos/Offsite/IMG_{i:04}.jpg");
                change(&path, ChangeKind::Created, "Adele Vance", at)
            })
            .collect()
    };
    let one = commit(&store, &photos(0..25, t0()));
    let two = commit(&store, &photos(25..40, t0() + Duration::seconds(2)));
    let group = one[0].seq;
    assert!(one.iter().chain(&two).all(|c| c.group == group));
    assert_eq!(group_of(&store, group).len(), 40);

    // Another folder, kind or person, or a minute later: other groups.
    let mut other = vec![
        change(
            "/Photos/Home/a.jpg",
            ChangeKind::Created,
            "Adele Vance",
            t0(),
        ),
        change(
            "/Photos/Offsite/x.jpg",
            ChangeKind::Deleted,
            "Adele Vance",
            t0(),
        ),
        change("/Photos/Offsite/y.jpg", ChangeKind::Created, "Bob", t0()),
    ];
    let late = t0() + Duration::seconds(2 + 61);
    other.push(change(
        "/Photos/Offsite/z.jpg",
        ChangeKind::Created,
        "Adele Vance",
        late,
    ));
    let stored = commit(&store, &other);
    let groups: Vec<_> = stored.iter().map(|c| c.group).collect();
    let seqs: Vec<_> = stored.iter().map(|c| c.seq).collect();
    assert_eq!(groups, seqs);
    // The folder key is case-insensitive, as OneDrive's names are.
    let same = commit_one(
        &store,
        change(
            "/photos/OFFSITE/w.jpg",
            ChangeKind::Created,
            "Adele Vance",
            late,
        ),
    );
    assert_eq!(same.group, stored[3].seq);
}

#[test]
fn groups_survive_reopening_and_pruning() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite3");
    let stored = {
        let store = HistoryStore::open(&path).unwrap();
        let saves: Vec<Change> = (0..5)
            .map(|i| {
                let at = Utc::now() - Duration::days(40) + Duration::minutes(3 * i);
                change("/Docs/Notes.docx", ChangeKind::Modified, "Alice", at)
            })
            .collect();
        let mut recent = change(
            "/Docs/Notes.docx",
            ChangeKind::Modified,
            "Alice",
            Utc::now(),
        );
        recent.item_id = "other".into();
        let mut stored: Vec<Change> = saves.into_iter().map(|c| commit_one(&store, c)).collect();
        stored.push(commit_one(&store, recent));
        stored
    };
    let store = HistoryStore::open(&path).unwrap();
    let group = stored[0].seq;
    assert_eq!(group_of(&store, group).len(), 5);
    assert_eq!(store.change(stored[3].seq).unwrap().unwrap(), stored[3]);
    // The next save after a restart still joins the session it continues.
    let next = commit_one(
        &store,
        change(
            "/Docs/Notes.docx",
            ChangeKind::Modified,
            "Alice",
            stored[4].at + Duration::minutes(1),
        ),
    );
    assert_eq!(next.group, group);

    // Retention drops the first two saves: the rest keep their group, and seqs are not reused.
    let cutoff = stored[2].at - Duration::seconds(1);
    assert_eq!(store.prune_before(cutoff).unwrap(), 2);
    let left = group_of(&store, group);
    assert_eq!(left.len(), 4);
    assert!(left.iter().all(|c| c.group == group && c.seq > group));
    let fresh = commit_one(
        &store,
        change("/New/a.txt", ChangeKind::Created, "Bob", Utc::now()),
    );
    assert!(fresh.seq > next.seq && fresh.group == fresh.seq);
}

#[test]
fn the_session_length_comes_from_the_caller() {
    let store = HistoryStore::open_in_memory().unwrap();
    store.set_session_minutes(1);
    let path = "/Finance/Budget.xlsx";
    let a = commit_one(&store, change(path, ChangeKind::Modified, "Alice", t0()));
    let at = t0() + Duration::seconds(50);
    let b = commit_one(&store, change(path, ChangeKind::Modified, "Alice", at));
    // 90 s: past the session, and past the burst window too.
    let at = t0() + Duration::seconds(140);
    let c = commit_one(&store, change(path, ChangeKind::Modified, "Alice", at));
    assert_eq!(b.group, a.seq);
    assert_eq!(c.group, c.seq);

    // 0: no sessions at all, however close the saves.
    store.set_session_minutes(0);
    let at = t0() + Duration::seconds(160);
    let d = commit_one(&store, change(path, ChangeKind::Modified, "Alice", at));
    assert_eq!(d.group, d.seq);
}

#[test]
fn queries_filter_by_group_folder_and_time_and_page_by_before() {
    let store = HistoryStore::open_in_memory().unwrap();
    let mut run = Vec::new();
    for i in 0..20 {
        let at = t0() + Duration::minutes(i);
        let folder = ["/Finance", "/Finance/Q4", "/Financial", "/Other", "/ФИН"][i as usize % 5];
        run.push(change(
            &format!("{folder}/f{i}.txt"),
            ChangeKind::Created,
            "Ann",
            at,
        ));
    }
    let mut folder_itself = change("/Finance", ChangeKind::Renamed, "Ann", t0());
    folder_itself.is_folder = true;
    run.push(folder_itself);
    let stored = commit(&store, &run);

    let paths = |q: HistoryQuery| -> Vec<String> {
        let got = all(&store, q);
        assert!(got.windows(2).all(|w| w[0].seq > w[1].seq), "newest first");
        got.into_iter().map(|c| c.path).collect()
    };
    let finance = paths(HistoryQuery {
        folder: Some("/finance/".into()),
        ..Default::default()
    });
    assert_eq!(finance.len(), 9, "{finance:?}");
    assert!(finance.contains(&"/Finance".to_owned()));
    assert!(
        finance.iter().all(|p| p.starts_with("/Finance")),
        "{finance:?}"
    );
    let cyrillic = paths(HistoryQuery {
        folder: Some("фин".into()),
        ..Default::default()
    });
    assert_eq!(
        cyrillic.len(),
        4,
        "Unicode-aware case folding: {cyrillic:?}"
    );
    assert_eq!(
        paths(HistoryQuery {
            folder: Some("/".into()),
            ..Default::default()
        })
        .len(),
        21
    );

    // since is inclusive, until exclusive.
    let span = paths(HistoryQuery {
        since: Some(t0() + Duration::minutes(5)),
        until: Some(t0() + Duration::minutes(10)),
        ..Default::default()
    });
    assert_eq!(
        span,
        [
            "/ФИН/f9.txt",
            "/Other/f8.txt",
            "/Financial/f7.txt",
            "/Finance/Q4/f6.txt",
            "/Finance/f5.txt"
        ]
    );
    let both = paths(HistoryQuery {
        since: Some(t0() + Duration::minutes(5)),
        folder: Some("/Finance".into()),
        text: Some("F1".into()),
        ..Default::default()
    });
    assert_eq!(
        both,
        [
            "/Finance/Q4/f16.txt",
            "/Finance/f15.txt",
            "/Finance/Q4/f11.txt",
            "/Finance/f10.txt"
        ]
    );

    // One run by one person: the same folder is one group, whatever the times.
    let group = stored[0].group;
    let members = paths(HistoryQuery {
        group: Some(group),
        ..Default::default()
    });
    assert_eq!(members.len(), 4);
    assert!(members.iter().all(|p| p.starts_with("/Finance/f")));
    assert!(
        paths(HistoryQuery {
            group: Some(group),
            before: Some(group),
            ..Default::default()
        })
        .is_empty()
    );
}

#[test]
fn older_databases_migrate_with_every_change_its_own_group() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite3");
    // Schema 4, the last one before groups: step 5 (groups, folders) and step 6 both run.
    let previous = 4;
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        for sql in &MIGRATIONS[..previous] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", previous as i64)
            .unwrap();
        for (i, path) in [
            "/Photos/Offsite/a.jpg",
            "/Photos/Offsite/b.jpg",
            "/ÄRGER/c.txt",
        ]
        .iter()
        .enumerate()
        {
            conn.execute(
                "INSERT INTO changes (kind, name, path, old_path, is_folder, item_id, drive_id, \
                 by_name, own, at_ms, web_url, account, target, caught_up, search) \
                 VALUES ('created', 'n', ?1, NULL, 0, ?2, 'd', 'Adele', 0, ?3, NULL, 'a', 't', \
                 0, 'n')",
                rusqlite::params![path, format!("i{i}"), t0().timestamp_millis()],
            )
            .unwrap();
        }
    }
    let store = HistoryStore::open(&path).unwrap();
    let old = all(&store, HistoryQuery::default());
    assert_eq!(old.len(), 3);
    assert!(old.iter().all(|c| c.group == c.seq));
    // Their folder keys are filled in: the folder filter finds them, in any case.
    let ärger = all(
        &store,
        HistoryQuery {
            folder: Some("/ärger".into()),
            ..Default::default()
        },
    );
    assert_eq!(ärger.len(), 1);
    // And a new change of the same burst joins the last old one's group.
    let next = commit_one(
        &store,
        change("/Photos/Offsite/c.jpg", ChangeKind::Created, "Adele", t0()),
    );
    assert_eq!(next.group, old[1].seq);
    assert!(next.seq > old[0].seq);
    // Grouping costs a commit no index of its own (see `heads`).
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mut names: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'changes'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    names.sort();
    assert_eq!(
        names,
        [
            "changes_by_account",
            "changes_by_group",
            "changes_by_target",
            "changes_by_time"
        ]
    );
}

/// Another process on the same database (a second store here) commits between two of ours:
/// the session goes on across both, in both directions.
#[test]
fn a_session_continues_across_two_processes_on_one_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite3");
    let (a, b) = (
        HistoryStore::open(&path).unwrap(),
        HistoryStore::open(&path).unwrap(),
    );
    let first = commit_one(&a, alice_saves(0));
    let second = commit_one(&b, alice_saves(1));
    let third = commit_one(&a, alice_saves(2));
    assert_eq!(second.group, first.seq);
    assert_eq!(third.group, first.seq);
    // And a rename through one ends the session for the other.
    let mut rename = change(
        "/Finance/Budget.xlsx",
        ChangeKind::Renamed,
        "Bob",
        t0() + Duration::seconds(70),
    );
    rename.old_path = Some("/Finance/Budget 2026.xlsx".into());
    commit_one(&b, rename);
    let after = commit_one(&a, alice_saves(4));
    assert_eq!(after.group, after.seq);
}

/// A commit that fails after its changes were grouped leaves nothing of them behind: the
/// rename it held never happened, so the session goes on.
#[test]
fn a_failed_commit_leaves_no_trace_in_the_grouping() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite3");
    let store = HistoryStore::open(&path).unwrap();
    let first = commit_one(&store, alice_saves(0));
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute_batch(
        "CREATE TRIGGER refuse BEFORE INSERT ON cursors BEGIN SELECT RAISE(ABORT, 'refused'); END;",
    )
    .unwrap();
    // The cursor row exists already: the upsert updates it, so refuse updates too.
    raw.execute_batch(
        "CREATE TRIGGER refuse_update BEFORE UPDATE ON cursors BEGIN SELECT RAISE(ABORT, 'refused'); END;",
    )
    .unwrap();
    let rename = change(
        "/Finance/Budget.xlsx",
        ChangeKind::Renamed,
        "Bob",
        t0() + Duration::seconds(10),
    );
    let failed = store.commit_run(RunCommit {
        target: "t",
        changes: &[rename],
        index: &IndexUpdate::default(),
        delta_link: "l",
    });
    assert!(failed.is_err());
    raw.execute_batch("DROP TRIGGER refuse; DROP TRIGGER refuse_update;")
        .unwrap();
    let next = commit_one(&store, alice_saves(1));
    assert_eq!(next.group, first.seq);
    assert_eq!(all(&store, HistoryQuery::default()).len(), 2);
}

/// Memory stays bounded whatever the history holds: after a commit of 10,000 folders' worth
/// of changes, only the bounded number of keys is kept, and the next change still groups.
#[test]
fn the_grouping_keeps_a_bounded_number_of_keys() {
    let store = HistoryStore::open_in_memory().unwrap();
    let spread: Vec<_> = (0..10_000)
        .map(|i| {
            let at = t0() - Duration::hours(2) + Duration::milliseconds(i);
            change(
                &format!("/Spread/{i}/{i}.txt"),
                ChangeKind::Modified,
                "Ann",
                at,
            )
        })
        .collect();
    let stored = commit(&store, &spread);
    assert_eq!(
        stored
            .iter()
            .map(|c| c.group)
            .collect::<std::collections::HashSet<_>>()
            .len(),
        10_000
    );
    let (sessions, bursts) = store.heads.lock().unwrap().sizes();
    let bound = super::heads::MAX_KEYS;
    assert!(sessions <= bound && bursts <= bound, "{sessions} {bursts}");
    let a = commit_one(
        &store,
        change("/Docs/a.txt", ChangeKind::Created, "Ann", t0()),
    );
    let b = commit_one(
        &store,
        change(
            "/Docs/b.txt",
            ChangeKind::Created,
            "Ann",
            t0() + Duration::seconds(5),
        ),
    );
    assert_eq!(b.group, a.seq);
}

/// The commit of a 10,000-change burst, after 30,000 stored changes, into one folder and into
/// 10,000 folders (a new key per change). A measurement, not part of the default run:
/// `cargo test -p drivewatch-core --lib -- --ignored --nocapture burst_commit_scale`.
#[test]
#[ignore = "a measurement"]
fn burst_commit_scale() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_30_000_changes(dir.path());
    for (label, spread) in [("one folder", false), ("10k folders", true)] {
        let burst: Vec<_> = (0..10_000)
            .map(|i| {
                let path = if spread {
                    format!("/Spread/{i}/{i}.jpg")
                } else {
                    format!("/Photos/Offsite/{i}.jpg")
                };
                change(&path, ChangeKind::Created, "Ann", t0())
            })
            .collect();
        let started = Instant::now();
        let stored = commit(&store, &burst);
        eprintln!("MEASURE 10k commit ({label}): {:?}", started.elapsed());
        let groups: std::collections::HashSet<_> = stored.iter().map(|c| c.group).collect();
        assert_eq!(groups.len(), if spread { 10_000 } else { 1 });
    }
}

/// One change per commit, as push delivers a user's changes one at a time, after 30,000 stored
/// changes: what grouping adds to each commit on the change-to-toast path. A measurement:
/// `cargo test --release -p drivewatch-core --lib -- --ignored --nocapture one_change_commit`.
#[test]
#[ignore = "a measurement"]
fn one_change_commit_cost() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_30_000_changes(dir.path());
    let n = 3_000;
    let started = Instant::now();
    for i in 0..n {
        let (path, kind) = if i % 2 == 0 {
            (format!("/Docs/f{}/{i}.txt", i % 50), ChangeKind::Created)
        } else {
            (
                format!("/Docs/f{}/shared.xlsx", i % 50),
                ChangeKind::Modified,
            )
        };
        let at = t0() + Duration::seconds(i64::from(i));
        commit_one(&store, change(&path, kind, "Ann", at));
    }
    let each = started.elapsed() / n;
    eprintln!("MEASURE one-change commit: {each:?} each");
    assert!(each < std::time::Duration::from_millis(50));
}
