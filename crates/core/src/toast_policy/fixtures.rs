//! What the toast policy's tests share: a fixed clock, changes and batches, and a context.
//!
//! Test-only; never compiled into the library.

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};

use super::{Toast, ToastContext, name_of};
use crate::model::{Change, ChangeBatch, ChangeKind, Preferences};

pub(super) fn at(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0)
        .single()
        .expect("valid")
        + Duration::seconds(secs)
}

pub(super) fn change(seq: i64, kind: ChangeKind, path: &str, by: &str) -> Change {
    Change {
        seq,
        kind,
        name: name_of(path).to_owned(),
        path: path.to_owned(),
        old_path: None,
        is_folder: false,
        item_id: format!("item-{seq}"),
        drive_id: "drive-1".to_owned(),
        by: Some(by.to_owned()),
        own: false,
        at: at(0),
        web_url: Some(format!("https://contoso.example/item-{seq}")),
        account: "acct-1".to_owned(),
        target: "target-1".to_owned(),
        caught_up: false,
        group: 0,
    }
}

pub(super) fn batch(changes: Vec<Change>) -> ChangeBatch {
    ChangeBatch {
        target: "target-1".to_owned(),
        changes,
    }
}

pub(super) fn noon() -> NaiveTime {
    NaiveTime::from_hms_opt(12, 0, 0).expect("valid")
}

pub(super) fn ctx(prefs: &Preferences, now: DateTime<Utc>) -> ToastContext<'_> {
    ToastContext {
        preferences: prefs,
        paused_until: None,
        now,
        local_time: noon(),
    }
}

pub(super) fn summaries(toasts: &[Toast]) -> Vec<&str> {
    toasts.iter().map(|t| t.summary.as_str()).collect()
}
