//! What a toast says: one change, a burst, an editing session, the storm's summary and a
//! digest, in the user's language.
//!
//! Every sentence comes from the catalogs ([`crate::i18n`]); this module only picks the message
//! and fills in names that have been through `sanitise` first, so no sentence is put together
//! here. It must never decide whether or when a toast is shown: that is the policy's.

use super::sanitise::{display_name, display_path, neutralise, shorten_end};
use chrono::NaiveTime;

use super::{DigestScope, MuteOffer, Toast, ToastId, ToastKind, ToastTarget, folder_of, name_of};
use crate::i18n::{Arg, Catalog};
use crate::model::{Change, ChangeKind};

/// Longest person name shown in a toast, in characters.
const MAX_PERSON_CHARS: usize = 40;

pub(super) fn single_toast(id: ToastId, change: &Change, catalog: &Catalog) -> Toast {
    let (summary, body) = describe_change(change, catalog);
    let body = if change.caught_up {
        caught_up(&body, catalog)
    } else {
        body
    };
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
        mute: Some(mute_offer(&change.target, folder_of(&change.path))),
        digest: None,
    }
}

/// The toast's "Mute this folder" action; the folder as the drive names it (the host stores
/// it), never the shortened form shown.
fn mute_offer(target: &str, folder: &str) -> MuteOffer {
    MuteOffer {
        target: target.to_owned(),
        folder: folder.to_owned(),
    }
}

/// One change in words, as its toast says it: ("Alice edited Budget.xlsx", "in /Finance").
/// Safe to display: names are neutralised and shortened. Hosts use it for menus and lists.
pub fn describe_change(change: &Change, catalog: &Catalog) -> (String, String) {
    let who = person(change.by.as_deref(), catalog);
    let name = display_name(&change.name);
    let folder = display_path(folder_of(&change.path));
    let is_folder = if change.is_folder { "yes" } else { "no" };
    let base = [
        ("who", Arg::from(&who)),
        ("name", Arg::from(&name)),
        ("isFolder", Arg::from(is_folder)),
    ];
    let sentence = |key: &str| catalog.text(key, &base);
    let place = |key: &str| catalog.text(key, &[("folder", Arg::from(&folder))]);
    match change.kind {
        ChangeKind::Created => (sentence("toast_created"), place("toast_in")),
        ChangeKind::Modified => (sentence("toast_modified"), place("toast_in")),
        ChangeKind::Deleted => (sentence("toast_deleted"), place("toast_from")),
        ChangeKind::Renamed => {
            let old = change.old_path.as_deref().map(|p| display_name(name_of(p)));
            match old {
                Some(old) if old != name => {
                    let mut args = base.to_vec();
                    args.push(("old", Arg::from(&old)));
                    (catalog.text("toast_renamedFrom", &args), place("toast_in"))
                }
                _ => (sentence("toast_renamed"), place("toast_in")),
            }
        }
        ChangeKind::Moved => {
            let from = change
                .old_path
                .as_deref()
                .map(|p| display_path(folder_of(p)));
            let body = match from {
                Some(from) => catalog.text(
                    "toast_toFrom",
                    &[("folder", Arg::from(&folder)), ("from", Arg::from(&from))],
                ),
                None => place("toast_to"),
            };
            (sentence("toast_moved"), body)
        }
    }
}

/// What a burst toast says: "Alice added 40 files to /Photos", "a.jpg, b.jpg, c.jpg and 37
/// more". `names` are the first few, already safe to display.
pub(super) struct BurstText<'a> {
    pub(super) target: &'a str,
    pub(super) kind: ChangeKind,
    pub(super) by: Option<&'a str>,
    pub(super) folder: &'a str,
    pub(super) count: usize,
    pub(super) folders: usize,
    pub(super) names: &'a [String],
    /// Every change of the burst was found on catch-up.
    pub(super) caught_up: bool,
}

pub(super) fn burst_toast(
    id: ToastId,
    update: bool,
    text: BurstText<'_>,
    seq: i64,
    catalog: &Catalog,
) -> Toast {
    let BurstText {
        target,
        kind,
        by,
        folder,
        count,
        folders,
        names,
        caught_up: all_caught_up,
    } = text;
    let who = person(by, catalog);
    let noun = if folders == 0 {
        "files"
    } else if folders == count {
        "folders"
    } else {
        "items"
    };
    let mute = mute_offer(target, folder);
    let folder = display_path(folder);
    let items = catalog.text(
        "toast_count",
        &[("count", Arg::from(count)), ("noun", Arg::from(noun))],
    );
    let key = match kind {
        ChangeKind::Created => "toast_burstCreated",
        ChangeKind::Modified => "toast_burstModified",
        ChangeKind::Deleted => "toast_burstDeleted",
        ChangeKind::Renamed => "toast_burstRenamed",
        ChangeKind::Moved => "toast_burstMoved",
    };
    let summary = catalog.text(
        key,
        &[
            ("who", Arg::from(&who)),
            ("items", Arg::from(&items)),
            ("count", Arg::from(count)),
            ("noun", Arg::from(noun)),
            ("folder", Arg::from(&folder)),
        ],
    );
    // "a.jpg, b.jpg, c.jpg and 34 more": enough to recognise the burst at a glance.
    let rest = count.saturating_sub(names.len());
    let listed = names.join(", ");
    let body = if rest == 0 {
        listed
    } else {
        catalog.text(
            "toast_andMore",
            &[("names", Arg::from(&listed)), ("rest", Arg::from(rest))],
        )
    };
    let body = if all_caught_up {
        caught_up(&body, catalog)
    } else {
        body
    };
    Toast {
        id,
        update,
        kind: ToastKind::Burst { count },
        summary,
        body,
        target: Some(ToastTarget { seq, folder: true }),
        mute: Some(mute),
        digest: None,
    }
}

/// What an editing session's redraw says: "Alice is editing Budget.xlsx", "12 saves since
/// 10:02". `name` and `folder` are the drive's, not yet made safe.
pub(super) struct SessionText<'a> {
    pub(super) target: &'a str,
    pub(super) by: Option<&'a str>,
    pub(super) name: &'a str,
    pub(super) folder: &'a str,
    pub(super) saves: usize,
    /// Local time of the first save.
    pub(super) since: NaiveTime,
    /// The first save's change.
    pub(super) seq: i64,
}

/// An editing session's toast; always an update, since its first save had a toast of its own.
pub(super) fn session_toast(id: ToastId, text: SessionText<'_>, catalog: &Catalog) -> Toast {
    let who = person(text.by, catalog);
    let name = display_name(text.name);
    let since = text.since.format("%H:%M").to_string();
    Toast {
        id,
        update: true,
        kind: ToastKind::Session { saves: text.saves },
        summary: catalog.text(
            "toast_session",
            &[("who", Arg::from(&who)), ("name", Arg::from(&name))],
        ),
        body: catalog.text(
            "toast_sessionSaves",
            &[
                ("count", Arg::from(text.saves)),
                ("time", Arg::from(&since)),
            ],
        ),
        target: Some(ToastTarget {
            seq: text.seq,
            folder: false,
        }),
        mute: Some(mute_offer(text.target, text.folder)),
        digest: None,
    }
}

/// What a digest toast says: "Yesterday in Finance: 34 changes by 5 people". `place` is the
/// folder's name or the target's label, not yet made safe; `None` names no place.
pub(super) struct DigestText<'a> {
    pub(super) place: Option<&'a str>,
    pub(super) count: usize,
    pub(super) people: usize,
}

pub(super) fn digest_toast(
    id: ToastId,
    text: DigestText<'_>,
    scope: DigestScope,
    catalog: &Catalog,
) -> Toast {
    let changes = catalog.text("toast_digestChanges", &[("count", Arg::from(text.count))]);
    let people = catalog.text("toast_digestPeople", &[("count", Arg::from(text.people))]);
    let place = text.place.map(display_name);
    let summary = match &place {
        Some(place) => catalog.text(
            "toast_digest",
            &[
                ("folder", Arg::from(place)),
                ("items", Arg::from(&changes)),
                ("who", Arg::from(&people)),
            ],
        ),
        None => catalog.text(
            "toast_digestAll",
            &[("items", Arg::from(&changes)), ("who", Arg::from(&people))],
        ),
    };
    Toast {
        id,
        update: false,
        kind: ToastKind::Digest {
            count: text.count,
            people: text.people,
        },
        summary,
        body: catalog.text("toast_digestOpen", &[]),
        target: None,
        mute: None,
        digest: Some(scope),
    }
}

pub(super) fn summary_toast(id: ToastId, update: bool, count: usize, catalog: &Catalog) -> Toast {
    Toast {
        id,
        update,
        kind: ToastKind::Summary { count },
        summary: catalog.text("toast_moreChanges", &[("count", Arg::from(count))]),
        body: catalog.text("toast_seeAll", &[]),
        target: None,
        mute: None,
        digest: None,
    }
}

/// A toast's second line marked as found on catch-up (made while DriveWatch was closed).
fn caught_up(body: &str, catalog: &Catalog) -> String {
    catalog.text("toast_caughtUp", &[("body", Arg::from(body))])
}

/// Who made a change, safe to display; the catalog's "someone" when Graph does not say.
fn person(by: Option<&str>, catalog: &Catalog) -> String {
    by.and_then(display_person)
        .unwrap_or_else(|| catalog.text("someone", &[]))
}

fn display_person(name: &str) -> Option<String> {
    let clean = neutralise(name.trim());
    (!clean.is_empty()).then(|| shorten_end(&clean, MAX_PERSON_CHARS))
}

#[cfg(test)]
mod in_every_language;

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
                mute: Some(MuteOffer {
                    target: "target-1".to_owned(),
                    folder: "/Finance".to_owned(),
                }),
                digest: None,
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
