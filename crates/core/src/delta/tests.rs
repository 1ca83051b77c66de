//! DeltaSync over the in-memory fake drive: baseline, paging with last-wins dedupe, failures that
//! commit nothing, 410 resync diffing, restart catch-up and cancellation.

use std::sync::Mutex;

use super::fake::FakeDrive;
use super::*;
use crate::model::ChangeKind;

fn identity() -> TargetIdentity {
    TargetIdentity {
        target: "t1".into(),
        account: "acct".into(),
        account_user_id: Some("me".into()),
        drive_id: "d1".into(),
    }
}

fn sync(drive: &FakeDrive, store: &HistoryStore) -> DeltaSync {
    DeltaSync::new(identity(), Arc::new(drive.clone()), store.clone())
}

fn kinds(report: &RunReport) -> Vec<(ChangeKind, String)> {
    report
        .changes
        .iter()
        .map(|c| (c.kind, c.path.clone()))
        .collect()
}

fn no_progress(_: Progress) {}

#[tokio::test]
async fn baseline_then_incremental_paging_and_last_wins() {
    let drive = FakeDrive::new(2);
    drive.folder("f", "Docs", "root");
    drive.file("a", "a.txt", "f", "c1");
    let store = HistoryStore::open_in_memory().unwrap();
    let mut sync = sync(&drive, &store);
    let cancel = CancellationToken::new();

    let progress = Mutex::new(Vec::new());
    let report = sync
        .run(&cancel, false, &|p| progress.lock().unwrap().push(p))
        .await
        .unwrap();
    assert_eq!(report.kind, RunKind::Baseline);
    assert!(report.changes.is_empty());
    assert_eq!(report.pages, 2, "3 items at 2 per page");
    assert_eq!(progress.lock().unwrap().len(), 2);
    assert_eq!(store.load_index("t1").unwrap().len(), 3);

    // Five changes over three pages; `a` changes twice (last wins: one Modified).
    drive.file("b", "b.txt", "f", "c1");
    drive.file("a", "a.txt", "f", "c2");
    drive.file("c", "c.txt", "root", "c1");
    drive.file("a", "a.txt", "f", "c3");
    drive.file("d", "d.txt", "root", "c1");
    let report = sync.run(&cancel, false, &no_progress).await.unwrap();
    assert_eq!(report.kind, RunKind::Incremental);
    assert_eq!(report.pages, 2);
    assert_eq!(
        kinds(&report),
        vec![
            (ChangeKind::Created, "/Docs/b.txt".into()),
            (ChangeKind::Created, "/c.txt".into()),
            (ChangeKind::Modified, "/Docs/a.txt".into()),
            (ChangeKind::Created, "/d.txt".into()),
        ]
    );
    assert!(report.changes.iter().all(|c| c.seq > 0 && !c.caught_up));

    // Nothing new: nothing reported.
    let report = sync.run(&cancel, false, &no_progress).await.unwrap();
    assert!(report.changes.is_empty());
    assert_eq!(store.count(Some("t1")).unwrap(), 4);
}

#[tokio::test]
async fn a_failure_mid_run_commits_nothing_and_the_retry_reports_once() {
    let drive = FakeDrive::new(1);
    let store = HistoryStore::open_in_memory().unwrap();
    let cancel = CancellationToken::new();
    sync(&drive, &store)
        .run(&cancel, false, &no_progress)
        .await
        .unwrap();
    let cursor = store.cursor("t1").unwrap();
    drive.file("a", "a.txt", "root", "c1");
    drive.file("b", "b.txt", "root", "c1");
    drive.file("c", "c.txt", "root", "c1");
    // Page 1 arrives, page 2 fails.
    let mut s = sync(&drive, &store);
    drive.fail_second(SourceError::Unavailable {
        reason: "connection reset".into(),
    });
    let err = s.run(&cancel, false, &no_progress).await.unwrap_err();
    assert!(matches!(
        err,
        DeltaError::Source(SourceError::Unavailable { .. })
    ));
    assert_eq!(store.count(None).unwrap(), 0);
    assert_eq!(store.cursor("t1").unwrap(), cursor, "cursor untouched");
    let report = s.run(&cancel, false, &no_progress).await.unwrap();
    assert_eq!(report.changes.len(), 3);
    assert_eq!(store.count(None).unwrap(), 3);
}

#[tokio::test]
async fn an_expired_cursor_resyncs_and_still_reports_what_changed() {
    let drive = FakeDrive::new(3);
    drive.folder("f", "Docs", "root");
    drive.file("a", "a.txt", "f", "c1");
    drive.file("b", "b.txt", "f", "c1");
    let store = HistoryStore::open_in_memory().unwrap();
    let cancel = CancellationToken::new();
    let mut s = sync(&drive, &store);
    s.run(&cancel, false, &no_progress).await.unwrap();

    drive.file("a", "a.txt", "f", "c2");
    drive.delete("b");
    drive.file("n", "new.txt", "root", "c1");
    drive.expire_cursors();
    let progress = Mutex::new(Vec::new());
    let report = s
        .run(&cancel, false, &|p| progress.lock().unwrap().push(p))
        .await
        .unwrap();
    assert_eq!(report.kind, RunKind::Resync);
    let mut got = kinds(&report);
    got.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(
        got,
        vec![
            (ChangeKind::Modified, "/Docs/a.txt".into()),
            (ChangeKind::Deleted, "/Docs/b.txt".into()),
            (ChangeKind::Created, "/new.txt".into()),
        ]
    );
    assert_eq!(progress.lock().unwrap().last().unwrap().items, 4);
    // The new cursor works and reports nothing twice.
    let report = s.run(&cancel, false, &no_progress).await.unwrap();
    assert_eq!(report.kind, RunKind::Incremental);
    assert!(report.changes.is_empty());
}

#[tokio::test]
async fn a_stale_resync_location_falls_back_to_a_fresh_enumeration() {
    let drive = FakeDrive::new(3);
    drive.file("a", "a.txt", "root", "c1");
    let store = HistoryStore::open_in_memory().unwrap();
    let cancel = CancellationToken::new();
    let mut s = sync(&drive, &store);
    s.run(&cancel, false, &no_progress).await.unwrap();

    drive.file("a", "a.txt", "root", "c2");
    let gone = |location: Option<&str>| SourceError::ResyncRequired {
        code: "resyncRequired".into(),
        location: location.map(str::to_owned),
    };
    // The cursor is gone and Graph names where to enumerate from; that place is gone too.
    drive.fail_next(gone(Some("fake:stale")));
    drive.fail_next(gone(None));
    let report = s.run(&cancel, false, &no_progress).await.unwrap();
    assert_eq!(report.kind, RunKind::Resync);
    assert_eq!(
        kinds(&report),
        vec![(ChangeKind::Modified, "/a.txt".into())]
    );
    let calls = drive.calls();
    let enumerations: Vec<&String> = calls
        .iter()
        .filter(|c| c.starts_with("enumerate"))
        .collect();
    assert_eq!(
        enumerations,
        ["enumerate -", "enumerate fake:stale", "enumerate -"],
        "baseline, then the named Location, then from scratch: {calls:?}"
    );
}

#[tokio::test]
async fn a_restart_continues_from_the_stored_cursor_and_marks_catch_up() {
    let drive = FakeDrive::new(10);
    let store = HistoryStore::open_in_memory().unwrap();
    let cancel = CancellationToken::new();
    sync(&drive, &store)
        .run(&cancel, false, &no_progress)
        .await
        .unwrap();
    drive.file("a", "while-away.txt", "root", "c1");
    // A new DeltaSync (a restarted engine) loads index and cursor from the store.
    let report = sync(&drive, &store)
        .run(&cancel, true, &no_progress)
        .await
        .unwrap();
    assert_eq!(report.kind, RunKind::Incremental);
    assert_eq!(report.changes.len(), 1);
    assert!(report.changes[0].caught_up);
    let again = sync(&drive, &store)
        .run(&cancel, true, &no_progress)
        .await
        .unwrap();
    assert!(again.changes.is_empty());
}

#[tokio::test]
async fn cancellation_stops_a_run_without_committing() {
    let drive = FakeDrive::new(10);
    let store = HistoryStore::open_in_memory().unwrap();
    let cancel = CancellationToken::new();
    cancel.cancel();
    let err = sync(&drive, &store)
        .run(&cancel, false, &no_progress)
        .await
        .unwrap_err();
    assert!(err.is_cancelled());
    assert_eq!(store.cursor("t1").unwrap(), None);
}

#[tokio::test]
async fn two_engines_on_one_database_report_each_change_once() {
    let drive = FakeDrive::new(10);
    let store = HistoryStore::open_in_memory().unwrap();
    let cancel = CancellationToken::new();
    let mut first = sync(&drive, &store);
    let mut second = sync(&drive, &store);
    first.run(&cancel, false, &no_progress).await.unwrap();
    // The second engine starts from the first one's baseline.
    assert!(
        second
            .run(&cancel, false, &no_progress)
            .await
            .unwrap()
            .changes
            .is_empty()
    );

    drive.file("a", "a.txt", "root", "c1");
    let one = first.run(&cancel, false, &no_progress).await.unwrap();
    assert_eq!(one.changes.len(), 1);
    // The second one's next run starts from the moved cursor: nothing twice.
    let two = second.run(&cancel, false, &no_progress).await.unwrap();
    assert!(two.changes.is_empty());

    // And its index follows: an edit by then is a modification, not a creation.
    drive.file("a", "a.txt", "root", "c2");
    let edit = second.run(&cancel, false, &no_progress).await.unwrap();
    assert_eq!(kinds(&edit), vec![(ChangeKind::Modified, "/a.txt".into())]);
    assert_eq!(store.count(None).unwrap(), 2);
}

#[test]
fn a_commit_from_a_stale_cursor_is_refused() {
    let store = HistoryStore::open_in_memory().unwrap();
    let empty = crate::classify::IndexUpdate::default();
    let run = |link: &'static str| RunCommit {
        target: "t1",
        changes: &[],
        index: &empty,
        delta_link: link,
    };
    store.commit_run_from(run("one"), None).unwrap();
    assert!(matches!(
        store.commit_run_from(run("two"), None),
        Err(HistoryError::CursorMoved { .. })
    ));
    store.commit_run_from(run("two"), Some("one")).unwrap();
    assert_eq!(store.cursor("t1").unwrap().as_deref(), Some("two"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_runs_on_one_database_store_a_change_once() {
    let drive = FakeDrive::new(10);
    let store = HistoryStore::open_in_memory().unwrap();
    let cancel = CancellationToken::new();
    let mut first = sync(&drive, &store);
    let mut second = sync(&drive, &store);
    first.run(&cancel, false, &no_progress).await.unwrap();
    for i in 0..20 {
        drive.file(&format!("f{i}"), &format!("f{i}.txt"), "root", "c1");
        let (a, b) = tokio::join!(
            first.run(&cancel, false, &no_progress),
            second.run(&cancel, false, &no_progress)
        );
        let reported: usize = [a, b]
            .into_iter()
            .map(|r| match r {
                Ok(report) => report.changes.len(),
                Err(DeltaError::Store(HistoryError::CursorMoved { .. })) => 0,
                Err(e) => panic!("{e}"),
            })
            .sum();
        assert_eq!(reported, 1, "round {i}");
    }
    assert_eq!(store.count(None).unwrap(), 20);
}

#[tokio::test]
async fn a_target_without_a_drive_id_learns_it_from_its_items() {
    let drive = FakeDrive::new(10);
    drive.put(DeltaItem {
        id: "a".into(),
        name: Some("a.txt".into()),
        parent_id: Some("root".into()),
        drive_id: Some("real-drive".into()),
        ctag: Some("c1".into()),
        ..Default::default()
    });
    let store = HistoryStore::open_in_memory().unwrap();
    let cancel = CancellationToken::new();
    let mut identity = identity();
    identity.drive_id = String::new();
    let mut s = DeltaSync::new(identity, Arc::new(drive.clone()), store.clone());
    s.run(&cancel, false, &no_progress).await.unwrap();
    // A personal delete carries no parentReference at all.
    drive.delete("a");
    let report = s.run(&cancel, false, &no_progress).await.unwrap();
    assert_eq!(report.changes.len(), 1);
    assert_eq!(report.changes[0].drive_id, "real-drive");
}

/// A drive of `folders` folders with `per` files each, baselined by a fresh sync.
async fn big_drive(
    folders: usize,
    per: usize,
    page: usize,
) -> (FakeDrive, HistoryStore, DeltaSync) {
    let drive = FakeDrive::new(page);
    for f in 0..folders {
        drive.folder(&format!("f{f}"), &format!("D{f}"), "root");
        for i in 0..per {
            drive.file(
                &format!("f{f}-{i}"),
                &format!("{i}.txt"),
                &format!("f{f}"),
                "c1",
            );
        }
    }
    let store = HistoryStore::open_in_memory().unwrap();
    let mut s = sync(&drive, &store);
    s.run(&CancellationToken::new(), false, &no_progress)
        .await
        .unwrap();
    (drive, store, s)
}

#[tokio::test]
async fn a_resync_over_many_pages_reports_what_the_whole_enumeration_diff_reports() {
    let (drive, store, mut s) = big_drive(6, 20, 7).await;
    let before = store.load_index("t1").unwrap();
    // Spread over the enumeration (it lists items by their last change): edits, a rename, a
    // move, a new folder on one page with a file in it on a later one, a lone delete and a
    // folder deleted with its contents.
    drive.file("f0-3", "3.txt", "f0", "c2");
    drive.file("f1-4", "renamed.txt", "f1", "c1");
    drive.file("f2-5", "5.txt", "f3", "c1");
    drive.folder("new", "New", "f4");
    for i in 0..10 {
        drive.file(&format!("pad{i}"), &format!("pad{i}.txt"), "root", "c1");
    }
    drive.file("in-new", "inside.txt", "new", "c1");
    drive.delete("f4-0");
    drive.delete("f5");
    for i in 0..20 {
        drive.delete(&format!("f5-{i}"));
    }
    drive.expire_cursors();

    // What the whole enumeration, diffed at once, says.
    let mut whole = Vec::new();
    let mut link: Option<String> = None;
    loop {
        let page = match &link {
            None => drive.enumerate(None).await.unwrap(),
            Some(l) => drive.page(l).await.unwrap(),
        };
        whole.extend(page.items);
        match page.next_link {
            Some(l) => link = Some(l),
            None => break,
        }
    }
    let ctx = crate::classify::ClassifyContext {
        account: "acct",
        account_user_id: Some("me"),
        target: "t1",
        drive_id: "d1",
        now: chrono::Utc::now(),
        caught_up: false,
    };
    let expected = crate::classify::diff_enumeration(&before, whole, &ctx);
    assert!(expected.changes.len() > 20);

    let progress = Mutex::new(Vec::new());
    let report = s
        .run(&CancellationToken::new(), false, &|p| {
            progress.lock().unwrap().push(p)
        })
        .await
        .unwrap();
    assert_eq!(report.kind, RunKind::Resync);
    assert!(report.pages > 10, "{} pages", report.pages);
    assert_eq!(progress.lock().unwrap().len() as u32, report.pages);
    let summary = |c: &[crate::model::Change]| -> Vec<(ChangeKind, String, Option<String>)> {
        c.iter()
            .map(|c| (c.kind, c.path.clone(), c.old_path.clone()))
            .collect()
    };
    assert_eq!(summary(&report.changes), summary(&expected.changes));
    let got = kinds(&report);
    assert!(got.contains(&(ChangeKind::Modified, "/D0/3.txt".into())));
    assert!(got.contains(&(ChangeKind::Renamed, "/D1/renamed.txt".into())));
    assert!(got.contains(&(ChangeKind::Moved, "/D3/5.txt".into())));
    assert!(got.contains(&(ChangeKind::Created, "/D4/New/inside.txt".into())));
    // Deletions are found at the end, a folder's contents before the folder.
    let deleted: Vec<&String> = got
        .iter()
        .filter(|(k, _)| *k == ChangeKind::Deleted)
        .map(|(_, p)| p)
        .collect();
    assert_eq!(deleted.len(), 22);
    let folder_at = deleted.iter().position(|p| p.as_str() == "/D5").unwrap();
    assert!(
        deleted
            .iter()
            .enumerate()
            .all(|(i, p)| !p.starts_with("/D5/") || i < folder_at)
    );
    assert!(deleted.contains(&&"/D4/0.txt".to_owned()));
    assert!(
        got.iter()
            .rev()
            .take(22)
            .all(|(k, _)| *k == ChangeKind::Deleted)
    );

    // The stored index is the enumeration, and the new cursor reports nothing twice.
    let mut after = before.clone();
    after.apply(&expected.index);
    assert_eq!(store.load_index("t1").unwrap(), after);
    assert!(after.get("f5-3").is_none() && after.get("in-new").is_some());
    let again = s
        .run(&CancellationToken::new(), false, &no_progress)
        .await
        .unwrap();
    assert_eq!(again.kind, RunKind::Incremental);
    assert!(again.changes.is_empty());
}

#[tokio::test]
async fn a_resync_failing_half_way_commits_nothing_and_the_retry_reports_once() {
    let (drive, store, mut s) = big_drive(3, 10, 5).await;
    let cursor = store.cursor("t1").unwrap();
    let index = store.load_index("t1").unwrap();
    drive.file("f0-1", "1.txt", "f0", "c2");
    drive.delete("f2-2");
    drive.expire_cursors();
    // The cursor's 410, the enumeration's first page, its second page, then its third fails.
    drive.fail_nth(
        4,
        SourceError::Unavailable {
            reason: "connection reset".into(),
        },
    );
    let progress = Mutex::new(Vec::new());
    let err = s
        .run(&CancellationToken::new(), false, &|p| {
            progress.lock().unwrap().push(p)
        })
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        DeltaError::Source(SourceError::Unavailable { .. })
    ));
    assert_eq!(progress.lock().unwrap().len(), 2, "two pages arrived");
    assert_eq!(store.count(None).unwrap(), 0);
    assert_eq!(store.cursor("t1").unwrap(), cursor, "cursor untouched");
    assert_eq!(store.load_index("t1").unwrap(), index, "index untouched");

    let report = s
        .run(&CancellationToken::new(), false, &no_progress)
        .await
        .unwrap();
    assert_eq!(report.kind, RunKind::Resync);
    assert_eq!(
        kinds(&report),
        vec![
            (ChangeKind::Modified, "/D0/1.txt".into()),
            (ChangeKind::Deleted, "/D2/2.txt".into()),
        ]
    );
    assert_eq!(store.count(None).unwrap(), 2);
}

#[tokio::test]
async fn a_resync_cancelled_half_way_commits_nothing() {
    let (drive, store, mut s) = big_drive(2, 10, 3).await;
    let cursor = store.cursor("t1").unwrap();
    drive.file("f0-1", "1.txt", "f0", "c2");
    drive.expire_cursors();
    let cancel = CancellationToken::new();
    let err = s
        .run(&cancel, false, &|p| {
            if p.pages == 2 {
                cancel.cancel();
            }
        })
        .await
        .unwrap_err();
    assert!(err.is_cancelled());
    assert_eq!(store.cursor("t1").unwrap(), cursor);
    assert_eq!(store.count(None).unwrap(), 0);
    let report = s
        .run(&CancellationToken::new(), false, &no_progress)
        .await
        .unwrap();
    assert_eq!(
        kinds(&report),
        vec![(ChangeKind::Modified, "/D0/1.txt".into())]
    );
}

#[tokio::test]
async fn an_incremental_run_loads_only_the_entries_it_needs() {
    // 1 root + 50 folders + 1,000 files in the store.
    let (drive, store, mut s) = big_drive(50, 20, 200).await;
    assert_eq!(s.index_entries_loaded(), 0, "a baseline loads no index");
    assert_eq!(store.load_index("t1").unwrap().len(), 1_051);

    drive.file("f7-3", "3.txt", "f7", "c2");
    let report = s
        .run(&CancellationToken::new(), false, &no_progress)
        .await
        .unwrap();
    assert_eq!(
        kinds(&report),
        vec![(ChangeKind::Modified, "/D7/3.txt".into())]
    );
    // The file, its folder and the root.
    assert_eq!(s.index_entries_loaded(), 3);

    // Nothing changed: nothing loaded.
    let report = s
        .run(&CancellationToken::new(), false, &no_progress)
        .await
        .unwrap();
    assert!(report.changes.is_empty());
    assert_eq!(s.index_entries_loaded(), 0);

    // A resync needs the whole index, for that run only.
    drive.expire_cursors();
    let report = s
        .run(&CancellationToken::new(), false, &no_progress)
        .await
        .unwrap();
    assert_eq!(report.kind, RunKind::Resync);
    assert_eq!(s.index_entries_loaded(), 1_051);
    drive.file("f9-0", "0.txt", "f9", "c2");
    let report = s
        .run(&CancellationToken::new(), false, &no_progress)
        .await
        .unwrap();
    assert_eq!(
        kinds(&report),
        vec![(ChangeKind::Modified, "/D9/0.txt".into())]
    );
    assert_eq!(s.index_entries_loaded(), 3);
}

#[tokio::test]
async fn deleting_a_folder_removes_its_contents_from_the_stored_index() {
    let (drive, store, mut s) = big_drive(3, 4, 50).await;
    drive.folder("sub", "Sub", "f1");
    drive.file("deep", "deep.txt", "sub", "c1");
    drive.folder("sub2", "Sub2", "sub");
    drive.file("deeper", "deeper.txt", "sub2", "c1");
    s.run(&CancellationToken::new(), false, &no_progress)
        .await
        .unwrap();
    assert_eq!(store.load_index("t1").unwrap().len(), 1 + 3 + 12 + 4);

    // Graph lists only the folder's tombstone (not each child).
    drive.delete("f1");
    let report = s
        .run(&CancellationToken::new(), false, &no_progress)
        .await
        .unwrap();
    assert_eq!(kinds(&report), vec![(ChangeKind::Deleted, "/D1".into())]);
    assert!(report.changes[0].is_folder);
    let index = store.load_index("t1").unwrap();
    assert_eq!(
        index.len(),
        1 + 2 + 8,
        "the folder and its 8 descendants are gone"
    );
    for id in ["f1", "f1-0", "f1-3", "sub", "deep", "sub2", "deeper"] {
        assert!(index.get(id).is_none(), "{id} still indexed");
    }
    assert!(index.get("f0-0").is_some() && index.get("f2-3").is_some());

    // A file moved out of a folder deleted in the same run stays, at its new place.
    drive.folder("keep", "Keep", "root");
    drive.file("k1", "k1.txt", "keep", "c1");
    drive.file("k2", "k2.txt", "keep", "c1");
    s.run(&CancellationToken::new(), false, &no_progress)
        .await
        .unwrap();
    drive.file("k1", "k1.txt", "f0", "c1");
    drive.delete("keep");
    let report = s
        .run(&CancellationToken::new(), false, &no_progress)
        .await
        .unwrap();
    assert_eq!(
        kinds(&report),
        vec![
            (ChangeKind::Moved, "/D0/k1.txt".into()),
            (ChangeKind::Deleted, "/Keep".into()),
        ]
    );
    let index = store.load_index("t1").unwrap();
    assert!(index.get("keep").is_none() && index.get("k2").is_none());
    assert_eq!(
        index.get("k1").and_then(|e| e.parent_id.as_deref()),
        Some("f0")
    );
}

#[tokio::test]
async fn a_move_builds_both_paths_from_ancestors_outside_the_run() {
    let drive = FakeDrive::new(50);
    drive.folder("a", "A", "root");
    drive.folder("b", "B", "a");
    drive.folder("c", "C", "b");
    drive.folder("x", "X", "root");
    drive.folder("y", "Y", "x");
    drive.file("f", "f.txt", "c", "c1");
    drive.file("g", "g.txt", "c", "c1");
    let store = HistoryStore::open_in_memory().unwrap();
    let mut s = sync(&drive, &store);
    s.run(&CancellationToken::new(), false, &no_progress)
        .await
        .unwrap();

    // Only the file is in the run; both chains come from the store.
    drive.file("f", "f.txt", "y", "c1");
    let report = s
        .run(&CancellationToken::new(), false, &no_progress)
        .await
        .unwrap();
    assert_eq!(report.changes.len(), 1);
    let moved = &report.changes[0];
    assert_eq!(moved.kind, ChangeKind::Moved);
    assert_eq!(moved.path, "/X/Y/f.txt");
    assert_eq!(moved.old_path.as_deref(), Some("/A/B/C/f.txt"));
    // f, its old chain c, b, a, its new chain y, x, and the root.
    assert_eq!(s.index_entries_loaded(), 7);

    // A folder renamed in the same run as a move below it: the new path takes the new name.
    drive.folder("b", "B2", "a");
    drive.file("g", "g.txt", "x", "c1");
    drive.file("f", "f2.txt", "y", "c1");
    let report = s
        .run(&CancellationToken::new(), false, &no_progress)
        .await
        .unwrap();
    assert_eq!(
        report
            .changes
            .iter()
            .map(|c| (c.kind, c.path.as_str(), c.old_path.as_deref()))
            .collect::<Vec<_>>(),
        vec![
            (ChangeKind::Renamed, "/A/B2", Some("/A/B")),
            (ChangeKind::Moved, "/X/g.txt", Some("/A/B/C/g.txt")),
            (ChangeKind::Renamed, "/X/Y/f2.txt", Some("/X/Y/f.txt")),
        ]
    );
}

/// The partial index an incremental run loads classifies every batch as the whole index does.
#[tokio::test]
async fn the_partial_index_classifies_like_the_whole_index() {
    let (drive, store, _s) = big_drive(4, 5, 100).await;
    drive.folder("sub", "Sub", "f2");
    drive.file("deep", "deep.txt", "sub", "c1");
    let mut s = sync(&drive, &store);
    s.run(&CancellationToken::new(), false, &no_progress)
        .await
        .unwrap();
    let item = |id: &str, name: Option<&str>, parent: Option<&str>, folder: bool, deleted: bool| {
        DeltaItem {
            id: id.into(),
            name: name.map(Into::into),
            parent_id: parent.map(Into::into),
            ctag: (!folder && !deleted).then(|| "c9".into()),
            is_folder: folder,
            deleted,
            ..Default::default()
        }
    };
    let batches = vec![
        vec![item("f0-1", Some("1.txt"), Some("f3"), false, false)],
        vec![item("f2", None, None, false, true)],
        vec![
            item("f1", Some("E1"), Some("f0"), true, false),
            item("f1-2", Some("2b.txt"), Some("sub"), false, false),
            item("new", Some("n.txt"), Some("f1"), false, false),
            item("f2", None, None, false, true),
            item("deep", Some("deep.txt"), Some("root"), false, false),
            item("f0-0", None, None, false, true),
            item("ghost", None, None, false, true),
        ],
    ];
    let whole = store.load_index("t1").unwrap();
    let ctx = ClassifyContext {
        account: "acct",
        account_user_id: Some("me"),
        target: "t1",
        drive_id: "d1",
        now: Utc::now(),
        caught_up: false,
    };
    let sorted = |mut c: classify::Classified| {
        c.index.removals.sort();
        c.index.upserts.sort_by(|a, b| a.0.cmp(&b.0));
        c
    };
    for batch in batches {
        let partial = store.load_index_for("t1", &batch).unwrap();
        assert!(partial.len() < whole.len());
        let want = sorted(classify::classify(&whole, batch.clone(), &ctx));
        let got = sorted(classify::classify(&partial, batch, &ctx));
        assert!(!want.changes.is_empty());
        assert_eq!(got, want);
    }
}

#[tokio::test]
async fn a_run_keeps_no_index_between_runs() {
    let drive = FakeDrive::new(10);
    drive.file("a", "a.txt", "root", "c1");
    let store = HistoryStore::open_in_memory().unwrap();
    let mut s = sync(&drive, &store);
    s.run(&CancellationToken::new(), false, &no_progress)
        .await
        .unwrap();
    drive.file("b", "b.txt", "root", "c1");
    s.run(&CancellationToken::new(), false, &no_progress)
        .await
        .unwrap();

    // The stored entry changes behind the engine's back (same cursor): the next run must see
    // it, which it only does when it kept no copy of the index from the last run.
    let cursor = store.cursor("t1").unwrap().unwrap();
    let mut entry = store.load_index("t1").unwrap().get("a").cloned().unwrap();
    entry.name = "old.txt".into();
    let update = classify::IndexUpdate {
        upserts: vec![("a".into(), entry)],
        ..Default::default()
    };
    store
        .commit_run_from(
            RunCommit {
                target: "t1",
                changes: &[],
                index: &update,
                delta_link: &cursor,
            },
            Some(&cursor),
        )
        .unwrap();
    drive.file("a", "a.txt", "root", "c2");
    let report = s
        .run(&CancellationToken::new(), false, &no_progress)
        .await
        .unwrap();
    assert_eq!(kinds(&report), vec![(ChangeKind::Renamed, "/a.txt".into())]);
    assert_eq!(report.changes[0].old_path.as_deref(), Some("/old.txt"));
}

#[tokio::test]
async fn a_resync_leaves_no_marks_behind_whether_it_fails_is_cancelled_or_commits() {
    let (drive, store, mut s) = big_drive(3, 10, 4).await;
    drive.file("f0-1", "1.txt", "f0", "c2");
    drive.expire_cursors();
    // The cursor's 410, two enumeration pages, then the third fails.
    drive.fail_nth(
        4,
        SourceError::Unavailable {
            reason: "connection reset".into(),
        },
    );
    let err = s
        .run(&CancellationToken::new(), false, &no_progress)
        .await
        .unwrap_err();
    assert!(matches!(err, DeltaError::Source(_)));
    assert_eq!(store.resync_marks("t1").unwrap(), 0);

    let cancel = CancellationToken::new();
    let err = s
        .run(&cancel, false, &|p| {
            if p.pages == 3 {
                cancel.cancel();
            }
        })
        .await
        .unwrap_err();
    assert!(err.is_cancelled());
    assert_eq!(store.resync_marks("t1").unwrap(), 0);

    let report = s
        .run(&CancellationToken::new(), false, &no_progress)
        .await
        .unwrap();
    assert_eq!(report.kind, RunKind::Resync);
    assert_eq!(
        kinds(&report),
        vec![(ChangeKind::Modified, "/D0/1.txt".into())]
    );
    // Every entry was compared (a page at a time), only the changed one classified.
    assert_eq!(s.index_entries_loaded(), 34 + 3);
    assert_eq!(store.resync_marks("t1").unwrap(), 0);
}
