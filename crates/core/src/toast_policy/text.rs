//! What a toast says: one change, a burst and the storm's summary, in words.
//!
//! Every name it puts in a sentence has been through `sanitise` first. It must never decide
//! whether or when a toast is shown: that is the policy's.

use super::sanitise::{display_name, display_path, neutralise, shorten_end};
use super::{Toast, ToastId, ToastKind, ToastTarget, folder_of, name_of};
use crate::model::{Change, ChangeKind};

/// Longest person name shown in a toast, in characters.
const MAX_PERSON_CHARS: usize = 40;

pub(super) fn single_toast(id: ToastId, change: &Change) -> Toast {
    let (summary, body) = describe_change(change);
    Toast {
        id,
        update: false,
        kind: ToastKind::Single,
        summary,
        body,
        target: Some(ToastTarget {
            seq: change.seq,
            folder: false,
        }),
    }
}

/// One change in words, as its toast says it: ("Alice edited Budget.xlsx", "in /Finance").
/// Safe to display: names are neutralised and shortened. Hosts use it for menus and lists.
pub fn describe_change(change: &Change) -> (String, String) {
    let who = person(change);
    let name = display_name(&change.name);
    let folder = display_path(folder_of(&change.path));
    let (summary, body) = match change.kind {
        ChangeKind::Created => (format!("{who} added {name}"), format!("in {folder}")),
        ChangeKind::Modified => (format!("{who} edited {name}"), format!("in {folder}")),
        ChangeKind::Deleted => (format!("{who} deleted {name}"), format!("from {folder}")),
        ChangeKind::Renamed => {
            let old = change.old_path.as_deref().map(|p| display_name(name_of(p)));
            match old {
                Some(old) if old != name => (
                    format!("{who} renamed {old} to {name}"),
                    format!("in {folder}"),
                ),
                _ => (format!("{who} renamed {name}"), format!("in {folder}")),
            }
        }
        ChangeKind::Moved => {
            let from = change
                .old_path
                .as_deref()
                .map(|p| display_path(folder_of(p)));
            match from {
                Some(from) => (
                    format!("{who} moved {name}"),
                    format!("to {folder}, from {from}"),
                ),
                None => (format!("{who} moved {name}"), format!("to {folder}")),
            }
        }
    };
    (summary, body)
}

/// What a burst toast says: "Alice added 40 files to /Photos", "a.jpg, b.jpg, c.jpg and 37
/// more". `names` are the first few, already safe to display.
pub(super) struct BurstText<'a> {
    pub(super) kind: ChangeKind,
    pub(super) by: Option<&'a str>,
    pub(super) folder: &'a str,
    pub(super) count: usize,
    pub(super) folders: usize,
    pub(super) names: &'a [String],
}

pub(super) fn burst_toast(id: ToastId, update: bool, text: BurstText<'_>, seq: i64) -> Toast {
    let BurstText {
        kind,
        by,
        folder,
        count,
        folders,
        names,
    } = text;
    let who = by
        .map(display_person)
        .unwrap_or_else(|| "Someone".to_owned());
    let noun = if folders == 0 {
        "files"
    } else if folders == count {
        "folders"
    } else {
        "items"
    };
    let folder = display_path(folder);
    let summary = match kind {
        ChangeKind::Created => format!("{who} added {count} {noun} to {folder}"),
        ChangeKind::Modified => format!("{who} edited {count} {noun} in {folder}"),
        ChangeKind::Deleted => format!("{who} deleted {count} {noun} from {folder}"),
        ChangeKind::Renamed => format!("{who} renamed {count} {noun} in {folder}"),
        ChangeKind::Moved => format!("{who} moved {count} {noun} to {folder}"),
    };
    // "a.jpg, b.jpg, c.jpg and 34 more": enough to recognise the burst at a glance.
    let rest = count.saturating_sub(names.len());
    let body = if rest == 0 {
        names.join(", ")
    } else {
        format!("{} and {rest} more", names.join(", "))
    };
    Toast {
        id,
        update,
        kind: ToastKind::Burst { count },
        summary,
        body,
        target: Some(ToastTarget { seq, folder: true }),
    }
}

pub(super) fn summary_toast(id: ToastId, update: bool, count: usize) -> Toast {
    let summary = if count == 1 {
        "1 more change".to_owned()
    } else {
        format!("{count} more changes")
    };
    Toast {
        id,
        update,
        kind: ToastKind::Summary { count },
        summary,
        body: "Open DriveWatch to see them all".to_owned(),
        target: None,
    }
}

fn person(change: &Change) -> String {
    change
        .by
        .as_deref()
        .map(display_person)
        .unwrap_or_else(|| "Someone".to_owned())
}

fn display_person(name: &str) -> String {
    let clean = neutralise(name.trim());
    if clean.is_empty() {
        "Someone".to_owned()
    } else {
        shorten_end(&clean, MAX_PERSON_CHARS)
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{ChangeKind, Preferences};
    use crate::toast_policy::fixtures::*;
    use crate::toast_policy::*;

    #[test]
    fn one_edit_names_who_what_and_where() {
        let prefs = Preferences::default();
        let mut policy = ToastPolicy::default();
        let b = batch(vec![change(
            7,
            ChangeKind::Modified,
            "/Finance/Budget.xlsx",
            "Alice",
        )]);
        let toasts = policy.decide(&b, &ctx(&prefs, at(0)));
        assert_eq!(
            toasts,
            vec![Toast {
                id: ToastId(1),
                update: false,
                kind: ToastKind::Single,
                summary: "Alice edited Budget.xlsx".to_owned(),
                body: "in /Finance".to_owned(),
                target: Some(ToastTarget {
                    seq: 7,
                    folder: false
                }),
            }]
        );
    }

    #[test]
    fn every_kind_has_its_own_wording() {
        let prefs = Preferences::default();
        let mut policy = ToastPolicy::new(ToastLimits {
            max_per_window: 100,
            max_per_batch: 100,
            ..ToastLimits::default()
        });
        let mut renamed = change(3, ChangeKind::Renamed, "/Docs/New.docx", "Carol");
        renamed.old_path = Some("/Docs/Old.docx".to_owned());
        let mut moved = change(4, ChangeKind::Moved, "/Archive/Plan.pdf", "Dan");
        moved.old_path = Some("/Projects/Plan.pdf".to_owned());
        let mut unknown = change(5, ChangeKind::Created, "/top.txt", "x");
        unknown.by = None;
        let b = batch(vec![
            change(1, ChangeKind::Created, "/Docs/a.txt", "Alice"),
            change(2, ChangeKind::Deleted, "/Docs/b.txt", "Bob"),
            renamed,
            moved,
            unknown,
        ]);
        let toasts = policy.decide(&b, &ctx(&prefs, at(0)));
        let lines: Vec<(&str, &str)> = toasts
            .iter()
            .map(|t| (t.summary.as_str(), t.body.as_str()))
            .collect();
        assert_eq!(
            lines,
            vec![
                ("Alice added a.txt", "in /Docs"),
                ("Bob deleted b.txt", "from /Docs"),
                ("Carol renamed Old.docx to New.docx", "in /Docs"),
                ("Dan moved Plan.pdf", "to /Archive, from /Projects"),
                ("Someone added top.txt", "in /"),
            ]
        );
    }
}
