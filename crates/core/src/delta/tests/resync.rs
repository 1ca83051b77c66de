//! Resyncs over many pages: the same changes as the whole-enumeration diff, nothing committed
//! by a failed or cancelled one, and no marks left behind.

use super::*;

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
