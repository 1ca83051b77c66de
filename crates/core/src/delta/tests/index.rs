//! What a run loads of the stored index: only the entries it needs, and nothing kept between
//! runs; the partial index classifies like the whole one.

use super::*;

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
