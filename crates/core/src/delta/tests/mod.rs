//! DeltaSync over the in-memory fake drive: baseline, paging with last-wins dedupe, failures that
//! commit nothing, 410 resync diffing, restart catch-up and cancellation. The resync over many
//! pages is in `resync.rs`, what a run loads of the stored index in `index.rs`.

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

/// One run that must succeed, with no progress wanted.
async fn run_ok(s: &mut DeltaSync, cancel: &CancellationToken) -> RunReport {
    s.run(cancel, false, &no_progress).await.unwrap()
}

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
    assert!(run_ok(&mut second, &cancel).await.changes.is_empty());

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

/// Two processes on one database (two stores on one file): a run starts from the cursor its
/// store remembers, without reading it; when the other process moved it, the commit is refused
/// and the run made again starts from the stored cursor, so nothing is reported twice or lost.
#[tokio::test]
async fn a_cursor_remembered_in_memory_is_checked_at_commit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite3");
    let (here, there) = (
        HistoryStore::open(&path).unwrap(),
        HistoryStore::open(&path).unwrap(),
    );
    let drive = FakeDrive::new(10);
    let cancel = CancellationToken::new();
    let mut first = sync(&drive, &here);
    let mut second = sync(&drive, &there);
    run_ok(&mut first, &cancel).await;
    assert!(here.known_cursor("t1").is_some());
    run_ok(&mut second, &cancel).await;
    let remembered = there.known_cursor("t1");
    assert_eq!(remembered, there.cursor("t1").unwrap());

    drive.file("a", "a.txt", "root", "c1");
    assert_eq!(run_ok(&mut first, &cancel).await.changes.len(), 1);
    // `there` still remembers the older cursor: its run is refused, and it learns the new one.
    assert!(matches!(
        second.run(&cancel, false, &no_progress).await,
        Err(DeltaError::Store(HistoryError::CursorMoved { .. }))
    ));
    assert_ne!(there.known_cursor("t1"), remembered);
    assert!(run_ok(&mut second, &cancel).await.changes.is_empty());
    assert_eq!(here.count(None).unwrap(), 1);

    // Forgetting the target forgets the cursor in memory too: the next run is a baseline.
    here.forget_target("t1").unwrap();
    assert_eq!(here.known_cursor("t1"), None);
    let report = run_ok(&mut first, &cancel).await;
    assert_eq!(report.kind, RunKind::Baseline);
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

mod index;
mod resync;
