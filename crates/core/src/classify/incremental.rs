//! One delta run classified against the item index: created, modified, renamed, moved, deleted. The
//! last occurrence of an item wins (`docs/PROTOCOL.md §3.2`); `lastModifiedBy` tells the user's own
//! changes and a missing `name` on a deleted item is taken from the index (`§3.3`).
//!
//! It reads the index as it was before the run and never writes it: the index changes only
//! through the [`IndexUpdate`](super::IndexUpdate) it returns, once the run's transaction
//! commits.

use std::collections::{HashMap, HashSet};

use super::index::{IndexEntry, ItemIndex, entry_from, parent_path_from_graph, path_via};
use super::{Classified, ClassifyContext, DeltaItem};
use crate::model::{Change, ChangeKind};

/// Keeps the last occurrence of each item id (delta may list an item twice in one run), in the
/// order of those last occurrences.
pub fn dedupe_last_wins(items: Vec<DeltaItem>) -> Vec<DeltaItem> {
    let mut last: HashMap<String, usize> = HashMap::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        last.insert(item.id.clone(), i);
    }
    items
        .into_iter()
        .enumerate()
        .filter(|(i, item)| last.get(&item.id) == Some(i))
        .map(|(_, item)| item)
        .collect()
}

/// Classifies one delta run's items (already deduplicated or not: this dedupes again) against
/// `index`, the state before the run.
pub fn classify(index: &ItemIndex, items: Vec<DeltaItem>, ctx: &ClassifyContext<'_>) -> Classified {
    classify_unique(index, dedupe_last_wins(items), ctx)
}

/// [`classify`] over items already deduplicated.
pub(super) fn classify_unique(
    index: &ItemIndex,
    items: Vec<DeltaItem>,
    ctx: &ClassifyContext<'_>,
) -> Classified {
    // The index as it will be after the run, for building new paths.
    let mut overlay: HashMap<String, IndexEntry> = HashMap::new();
    let mut deleted: HashSet<String> = HashSet::new();
    for item in &items {
        if item.deleted {
            deleted.insert(item.id.clone());
        } else {
            let old_name = index.get(&item.id).map(|e| e.name.as_str());
            overlay.insert(item.id.clone(), entry_from(item, old_name));
        }
    }
    let new_lookup = |k: &str| -> Option<&IndexEntry> {
        if deleted.contains(k) {
            None
        } else {
            overlay.get(k).or_else(|| index.get(k))
        }
    };

    let mut out = Classified::default();
    // parent → children of the index, less what the run moves away; built on the first folder
    // delete only.
    let mut children: Option<HashMap<&str, Vec<&str>>> = None;
    for item in &items {
        if item.deleted {
            let Some(old) = index.get(&item.id) else {
                // Never seen: created and deleted between two looks, nothing to tell.
                continue;
            };
            if old.is_root {
                continue;
            }
            let path = index
                .path_of(&item.id)
                .unwrap_or_else(|| format!("/{}", old.name));
            let name = item.name.clone().unwrap_or_else(|| old.name.clone());
            out.changes.push(make_change(
                ChangeKind::Deleted,
                item,
                name,
                path,
                None,
                old.is_folder,
                ctx,
            ));
            out.index.removals.push(item.id.clone());
            if old.is_folder {
                // Children of a deleted folder go with it; Graph may not list each one. What the
                // run moved out of it (and what lies below that, listed or not) lives on.
                let children = children.get_or_insert_with(|| children_of(index, &overlay));
                out.index.removals.extend(descendants(children, &item.id));
            }
            continue;
        }
        // Every live item of the run is in the overlay (built above from the same items).
        let Some(new_entry) = overlay.get(&item.id) else {
            continue;
        };
        if item.is_root {
            continue;
        }
        let kind = match index.get(&item.id) {
            None => Some(ChangeKind::Created),
            Some(old) if old.parent_id != new_entry.parent_id && new_entry.parent_id.is_some() => {
                Some(ChangeKind::Moved)
            }
            Some(old) if old.name != new_entry.name => Some(ChangeKind::Renamed),
            Some(old) => {
                // cTag moves with content; folders' tags move with their children: not a change.
                let content_changed = !new_entry.is_folder
                    && new_entry.ctag.is_some()
                    && old.ctag.is_some()
                    && new_entry.ctag != old.ctag;
                content_changed.then_some(ChangeKind::Modified)
            }
        };
        let Some(kind) = kind else { continue };
        // Paths only for what is reported: a resync may list every item of a large drive.
        let new_path = new_path_of(item, new_entry, &new_lookup);
        let old_path = matches!(kind, ChangeKind::Renamed | ChangeKind::Moved)
            .then(|| index.path_of(&item.id))
            .flatten();
        out.changes.push(make_change(
            kind,
            item,
            new_entry.name.clone(),
            new_path,
            old_path,
            new_entry.is_folder,
            ctx,
        ));
    }
    // The overlay holds the run's new entries; only those that differ from the index are
    // written (a resync lists every item, most of them unchanged). Moved, not cloned.
    out.index.upserts = overlay
        .into_iter()
        .filter(|(id, entry)| index.get(id) != Some(entry))
        .collect();
    out
}

/// parent id → child ids, over the index, leaving out the children the run moves elsewhere
/// (`overlay` holds the run's live entries): a deleted folder's cascade then never reaches what
/// was moved out of it nor what lies below that. Only what the index already holds below the
/// folder is walked, so the few entries a resync loads for its deleted folders (their subtrees,
/// see `history`'s `index_for`) give the same answer as the whole index.
fn children_of<'a>(
    index: &'a ItemIndex,
    overlay: &HashMap<String, IndexEntry>,
) -> HashMap<&'a str, Vec<&'a str>> {
    let mut children: HashMap<&str, Vec<&str>> = HashMap::new();
    for (id, entry) in index.iter() {
        let moved_away = overlay
            .get(id.as_str())
            .is_some_and(|new| new.parent_id.is_some() && new.parent_id != entry.parent_id);
        if moved_away {
            continue;
        }
        if let Some(parent) = &entry.parent_id {
            children
                .entry(parent.as_str())
                .or_default()
                .push(id.as_str());
        }
    }
    children
}

/// Every id below `folder`, given the index's parent → children map.
fn descendants(children: &HashMap<&str, Vec<&str>>, folder: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![folder];
    let mut seen = HashSet::new();
    while let Some(id) = stack.pop() {
        for child in children.get(id).map(Vec::as_slice).unwrap_or_default() {
            if seen.insert(*child) {
                out.push((*child).to_owned());
                stack.push(child);
            }
        }
    }
    out
}

fn new_path_of<'a>(
    item: &DeltaItem,
    entry: &IndexEntry,
    lookup: &impl Fn(&str) -> Option<&'a IndexEntry>,
) -> String {
    // Graph's own path, when given, is authoritative.
    if let Some(parent) = item.parent_path.as_deref().and_then(parent_path_from_graph) {
        return format!("{parent}/{}", entry.name);
    }
    let parent_path = entry
        .parent_id
        .as_deref()
        .and_then(|p| path_via(p, |k| lookup(k)));
    match parent_path {
        Some(p) if p == "/" => format!("/{}", entry.name),
        Some(p) => format!("{p}/{}", entry.name),
        None => format!("/{}", entry.name),
    }
}

fn make_change(
    kind: ChangeKind,
    item: &DeltaItem,
    name: String,
    path: String,
    old_path: Option<String>,
    is_folder: bool,
    ctx: &ClassifyContext<'_>,
) -> Change {
    let own = match (&item.modified_by_id, ctx.account_user_id) {
        (Some(by), Some(me)) => by.eq_ignore_ascii_case(me),
        _ => false,
    };
    Change {
        seq: 0,
        kind,
        name,
        path,
        old_path,
        is_folder,
        item_id: item.id.clone(),
        drive_id: item
            .drive_id
            .clone()
            .unwrap_or_else(|| ctx.drive_id.to_owned()),
        by: item.modified_by_name.clone(),
        own,
        at: item.modified_at.unwrap_or(ctx.now),
        web_url: item.web_url.clone(),
        account: ctx.account.to_owned(),
        target: ctx.target.to_owned(),
        caught_up: ctx.caught_up,
        group: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::fixtures::*;

    #[test]
    fn classification_table() {
        use ChangeKind::*;
        type Expected<'a> = Vec<(ChangeKind, &'a str, Option<&'a str>)>;
        let cases: Vec<(&str, Vec<DeltaItem>, Expected)> = vec![
            (
                "new file",
                vec![file("n", "new.txt", "f1", "c1")],
                vec![(Created, "/Finance/new.txt", None)],
            ),
            (
                "content edit (new cTag)",
                vec![file("a", "budget.xlsx", "f1", "c2")],
                vec![(Modified, "/Finance/budget.xlsx", None)],
            ),
            (
                "metadata only (same cTag, new eTag)",
                vec![DeltaItem {
                    etag: Some("e-other".into()),
                    ..file("a", "budget.xlsx", "f1", "c1")
                }],
                vec![],
            ),
            (
                "rename",
                vec![file("a", "budget-2026.xlsx", "f1", "c1")],
                vec![(
                    Renamed,
                    "/Finance/budget-2026.xlsx",
                    Some("/Finance/budget.xlsx"),
                )],
            ),
            (
                "move",
                vec![file("a", "budget.xlsx", "f2", "c1")],
                vec![(Moved, "/Archive/budget.xlsx", Some("/Finance/budget.xlsx"))],
            ),
            (
                "move and rename is a move",
                vec![file("a", "old.xlsx", "f2", "c1")],
                vec![(Moved, "/Archive/old.xlsx", Some("/Finance/budget.xlsx"))],
            ),
            (
                "business delete without name uses the index",
                vec![gone("a")],
                vec![(Deleted, "/Finance/budget.xlsx", None)],
            ),
            (
                "folder eTag churn from a child is not a change",
                vec![
                    DeltaItem {
                        etag: Some("e-f1-2".into()),
                        ctag: Some("c-f1-2".into()),
                        ..folder("f1", "Finance", "root")
                    },
                    file("a", "budget.xlsx", "f1", "c2"),
                ],
                vec![(Modified, "/Finance/budget.xlsx", None)],
            ),
            (
                "root churn is silent",
                vec![DeltaItem {
                    etag: Some("new".into()),
                    ..root()
                }],
                vec![],
            ),
            (
                "new folder and a file in it, parent built from the same run",
                vec![
                    folder("f3", "Photos", "f1"),
                    file("p", "cat.jpg", "f3", "c1"),
                ],
                vec![
                    (Created, "/Finance/Photos", None),
                    (Created, "/Finance/Photos/cat.jpg", None),
                ],
            ),
            (
                "unknown delete is a no-op",
                vec![gone("never-seen")],
                vec![],
            ),
            (
                "last occurrence wins",
                vec![
                    file("a", "budget.xlsx", "f1", "c2"),
                    file("a", "renamed.xlsx", "f1", "c2"),
                ],
                vec![(
                    Renamed,
                    "/Finance/renamed.xlsx",
                    Some("/Finance/budget.xlsx"),
                )],
            ),
            (
                "graph path wins when given",
                vec![DeltaItem {
                    parent_path: Some("/drive/root:/Elsewhere".into()),
                    ..file("n", "x.txt", "zz", "c1")
                }],
                vec![(Created, "/Elsewhere/x.txt", None)],
            ),
        ];
        for (name, items, want) in cases {
            let got = classify(&base(), items, &ctx());
            let want: Vec<_> = want
                .into_iter()
                .map(|(k, p, o)| (k, p.to_owned(), o.map(str::to_owned)))
                .collect();
            assert_eq!(summary(&got), want, "case: {name}");
        }
    }

    #[test]
    fn folder_rename_moves_descendant_paths() {
        let mut index = base();
        let out = classify(&index, vec![folder("f1", "Money", "root")], &ctx());
        assert_eq!(
            summary(&out),
            vec![(
                ChangeKind::Renamed,
                "/Money".to_owned(),
                Some("/Finance".to_owned())
            )]
        );
        assert!(out.changes[0].is_folder);
        index.apply(&out.index);
        assert_eq!(index.path_of("a").as_deref(), Some("/Money/budget.xlsx"));
    }

    #[test]
    fn deleting_a_folder_drops_its_children_from_the_index() {
        let mut index = base();
        let out = classify(&index, vec![gone("f1")], &ctx());
        assert_eq!(
            summary(&out),
            vec![(ChangeKind::Deleted, "/Finance".into(), None)]
        );
        index.apply(&out.index);
        assert!(index.get("a").is_none());
        assert!(index.get("f1").is_none());
        assert!(index.get("b").is_some());
    }

    #[test]
    fn what_a_run_moves_out_of_a_folder_it_deletes_stays_with_what_lies_below_it() {
        // Finance holds Sub, Sub holds x.txt. The run moves Sub to the root and deletes Finance;
        // x.txt is not listed (it did not change). In either order, only budget.xlsx goes.
        let mut start = ItemIndex::new();
        start.apply(&crate::classify::baseline(vec![
            root(),
            folder("f1", "Finance", "root"),
            folder("f2", "Archive", "root"),
            file("a", "budget.xlsx", "f1", "c1"),
            file("b", "notes.txt", "root", "c1"),
            folder("s", "Sub", "f1"),
            file("x", "x.txt", "s", "c1"),
        ]));
        for items in [
            vec![folder("s", "Sub", "root"), gone("f1")],
            vec![gone("f1"), folder("s", "Sub", "root")],
        ] {
            let mut index = start.clone();
            let out = classify(&index, items, &ctx());
            let mut got = summary(&out);
            got.sort_by(|a, b| a.1.cmp(&b.1));
            assert_eq!(
                got,
                vec![
                    (ChangeKind::Deleted, "/Finance".to_owned(), None),
                    (
                        ChangeKind::Moved,
                        "/Sub".to_owned(),
                        Some("/Finance/Sub".to_owned())
                    ),
                ]
            );
            index.apply(&out.index);
            assert!(index.get("f1").is_none() && index.get("a").is_none());
            assert_eq!(index.path_of("s").as_deref(), Some("/Sub"));
            assert_eq!(index.path_of("x").as_deref(), Some("/Sub/x.txt"));
            assert_eq!(index.len(), 5);
        }
    }

    #[test]
    fn by_and_own_come_from_last_modified_by() {
        let mut mine = file("n", "mine.txt", "root", "c1");
        mine.modified_by_id = Some("ME".into());
        mine.modified_by_name = Some("Me Myself".into());
        let theirs = file("m", "theirs.txt", "root", "c1");
        let out = classify(&base(), vec![mine, theirs], &ctx());
        assert!(out.changes[0].own);
        assert_eq!(out.changes[0].by.as_deref(), Some("Me Myself"));
        assert!(!out.changes[1].own);
        assert_eq!(out.changes[1].by.as_deref(), Some("Olga"));
        assert_eq!(out.changes[0].drive_id, "d1");
        assert_eq!(out.changes[0].target, "t1");
        assert_eq!(out.changes[0].account, "acct");
    }

    #[test]
    fn dedupe_keeps_last_in_order_of_last_occurrence() {
        let items = vec![
            file("a", "1", "root", "c"),
            file("b", "2", "root", "c"),
            file("a", "3", "root", "c"),
        ];
        let names: Vec<_> = dedupe_last_wins(items)
            .into_iter()
            .map(|i| i.name.unwrap())
            .collect();
        assert_eq!(names, vec!["2", "3"]);
    }
}
