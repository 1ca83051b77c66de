//! What the classifier's tests share: a context, items of each shape and a small indexed drive.
//!
//! Test-only; never compiled into the library.

use chrono::{DateTime, Utc};

use super::{Classified, ClassifyContext, DeltaItem, ItemIndex, baseline};
use crate::model::ChangeKind;

pub(super) fn ctx() -> ClassifyContext<'static> {
    ClassifyContext {
        account: "acct",
        account_user_id: Some("me"),
        target: "t1",
        drive_id: "d1",
        now: DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc),
        caught_up: false,
    }
}

pub(super) fn root() -> DeltaItem {
    DeltaItem {
        id: "root".into(),
        name: Some("root".into()),
        is_folder: true,
        is_root: true,
        ..Default::default()
    }
}

pub(super) fn folder(id: &str, name: &str, parent: &str) -> DeltaItem {
    DeltaItem {
        id: id.into(),
        name: Some(name.into()),
        parent_id: Some(parent.into()),
        is_folder: true,
        etag: Some(format!("e-{id}-1")),
        ctag: Some(format!("c-{id}-1")),
        ..Default::default()
    }
}

pub(super) fn file(id: &str, name: &str, parent: &str, ctag: &str) -> DeltaItem {
    DeltaItem {
        id: id.into(),
        name: Some(name.into()),
        parent_id: Some(parent.into()),
        ctag: Some(ctag.into()),
        etag: Some(format!("e-{ctag}")),
        modified_by_id: Some("other".into()),
        modified_by_name: Some("Olga".into()),
        ..Default::default()
    }
}

pub(super) fn gone(id: &str) -> DeltaItem {
    DeltaItem {
        id: id.into(),
        deleted: true,
        ..Default::default()
    }
}

pub(super) fn base() -> ItemIndex {
    let mut index = ItemIndex::new();
    index.apply(&baseline(vec![
        root(),
        folder("f1", "Finance", "root"),
        folder("f2", "Archive", "root"),
        file("a", "budget.xlsx", "f1", "c1"),
        file("b", "notes.txt", "root", "c1"),
    ]));
    index
}

pub(super) fn summary(c: &Classified) -> Vec<(ChangeKind, String, Option<String>)> {
    c.changes
        .iter()
        .map(|c| (c.kind, c.path.clone(), c.old_path.clone()))
        .collect()
}
