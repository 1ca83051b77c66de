//! Turns one delta run's driveItems into the changes a user would name: created, modified,
//! renamed, moved, deleted.
//!
//! Delta reports each item's latest state, not what happened to it, and often omits
//! `parentReference.path`. The classifier therefore compares every item with a local item index
//! (id → name, parent, cTag, eTag, folder) kept from earlier runs, and builds paths by walking
//! parent ids. It is a pure function: no I/O, no clock except the fallback timestamp passed in, so
//! every rule is table-tested. It must never report folder eTag churn (a child changed) or
//! metadata-only edits as changes, and never invent a path it cannot justify.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use crate::model::{Change, ChangeKind};

/// One driveItem from a delta page, reduced to what classification needs.
///
/// Filled from Graph's wire type by the delta layer; kept here so this module has no HTTP in it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeltaItem {
    pub id: String,
    /// Absent in business deletes.
    pub name: Option<String>,
    pub parent_id: Option<String>,
    /// `parentReference.path`, e.g. `/drive/root:/Finance`, when Graph sends it.
    pub parent_path: Option<String>,
    pub drive_id: Option<String>,
    pub ctag: Option<String>,
    pub etag: Option<String>,
    pub is_folder: bool,
    /// Carries the `root` facet.
    pub is_root: bool,
    /// Carries the `deleted` facet.
    pub deleted: bool,
    pub modified_by_id: Option<String>,
    pub modified_by_name: Option<String>,
    pub modified_at: Option<DateTime<Utc>>,
    pub web_url: Option<String>,
}

/// What the index remembers about one item between delta runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    pub name: String,
    pub parent_id: Option<String>,
    pub ctag: Option<String>,
    pub etag: Option<String>,
    pub is_folder: bool,
    pub is_root: bool,
}

/// The item index of one target: id → entry. Paths are derived, never stored, so a folder rename
/// moves every descendant's path at once.
///
/// Entries live in numbered slots that stay put while their item is indexed, so a resync can
/// mark which entries its enumeration listed in a bitset (one bit per item) instead of a set of
/// id strings; freed slots are reused.
#[derive(Debug, Clone, Default)]
pub struct ItemIndex {
    /// id → slot in `slots`.
    ids: HashMap<String, u32>,
    slots: Vec<Option<IndexEntry>>,
    /// Empty slots, reused before `slots` grows.
    free: Vec<u32>,
}

impl PartialEq for ItemIndex {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(id, e)| other.get(id) == Some(e))
    }
}

/// How deep a parent chain may go before it is treated as a cycle (a corrupt index).
const MAX_DEPTH: usize = 256;

impl ItemIndex {
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty index with room for `n` entries (loading a stored index).
    pub fn with_capacity(n: usize) -> Self {
        Self {
            ids: HashMap::with_capacity(n),
            slots: Vec::with_capacity(n),
            free: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn get(&self, id: &str) -> Option<&IndexEntry> {
        self.slot_of(id).and_then(|s| self.at(s))
    }

    fn slot_of(&self, id: &str) -> Option<u32> {
        self.ids.get(id).copied()
    }

    fn at(&self, slot: u32) -> Option<&IndexEntry> {
        self.slots.get(slot as usize).and_then(Option::as_ref)
    }

    pub fn insert(&mut self, id: String, entry: IndexEntry) {
        if let Some(&slot) = self.ids.get(id.as_str()) {
            self.slots[slot as usize] = Some(entry);
            return;
        }
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some(entry);
                slot
            }
            None => {
                self.slots.push(Some(entry));
                u32::try_from(self.slots.len() - 1).expect("fewer than 4 billion items")
            }
        };
        self.ids.insert(id, slot);
    }

    pub fn remove(&mut self, id: &str) -> Option<IndexEntry> {
        let slot = self.ids.remove(id)?;
        self.free.push(slot);
        self.slots[slot as usize].take()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &IndexEntry)> {
        self.ids
            .iter()
            .filter_map(|(id, &slot)| self.at(slot).map(|e| (id, e)))
    }

    /// Applies an index update computed by [`classify`] (after its transaction committed).
    pub fn apply(&mut self, update: &IndexUpdate) {
        if update.replace {
            self.ids.clear();
            self.slots.clear();
            self.free.clear();
        }
        for id in &update.removals {
            self.remove(id);
        }
        for (id, entry) in &update.upserts {
            self.insert(id.clone(), entry.clone());
        }
    }

    /// The path of `id` from the drive root (`/A/b.txt`), or `None` when its chain is broken.
    pub fn path_of(&self, id: &str) -> Option<String> {
        path_via(id, |k| self.get(k))
    }
}

/// Walks parent ids through `lookup` to build `/a/b/c`; the root item contributes nothing.
fn path_via<'a>(id: &str, lookup: impl Fn(&str) -> Option<&'a IndexEntry>) -> Option<String> {
    let mut names = Vec::new();
    let mut current = id.to_owned();
    for _ in 0..MAX_DEPTH {
        let entry = lookup(&current)?;
        if entry.is_root {
            names.reverse();
            return Some(format!("/{}", names.join("/")));
        }
        names.push(entry.name.clone());
        match &entry.parent_id {
            Some(parent) => current = parent.clone(),
            // No parent and not the root: the top of what we know (e.g. a list's root).
            None => {
                names.reverse();
                return Some(format!("/{}", names.join("/")));
            }
        }
    }
    None
}

/// Turns Graph's `parentReference.path` (`/drive/root:/A/B`, `/drives/x/root:`) into `/A/B`.
pub fn parent_path_from_graph(path: &str) -> Option<String> {
    let (_, rest) = path.split_once("root:")?;
    let rest = rest.trim_end_matches('/');
    if rest.is_empty() {
        Some(String::new())
    } else if rest.starts_with('/') {
        Some(rest.to_owned())
    } else {
        Some(format!("/{rest}"))
    }
}

/// Who is asking and where the changes go: fills the fields of [`Change`] delta does not carry.
#[derive(Debug, Clone)]
pub struct ClassifyContext<'a> {
    pub account: &'a str,
    /// The signed-in user's id; changes whose lastModifiedBy.user.id equals it are `own`.
    pub account_user_id: Option<&'a str>,
    pub target: &'a str,
    /// Used when an item carries no driveId of its own.
    pub drive_id: &'a str,
    /// Timestamp for changes that carry none (deletes).
    pub now: DateTime<Utc>,
    pub caught_up: bool,
}

/// How the index must change once a run's transaction commits.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndexUpdate {
    /// Clear the whole index first (a re-baseline).
    pub replace: bool,
    pub upserts: Vec<(String, IndexEntry)>,
    pub removals: Vec<String>,
}

/// The outcome of classifying one run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Classified {
    /// In delta order; `seq` is 0 until the history store assigns it.
    pub changes: Vec<Change>,
    pub index: IndexUpdate,
}

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

fn entry_from(item: &DeltaItem, fallback_name: Option<&str>) -> IndexEntry {
    IndexEntry {
        name: item
            .name
            .clone()
            .or_else(|| fallback_name.map(str::to_owned))
            .unwrap_or_default(),
        parent_id: item.parent_id.clone(),
        ctag: item.ctag.clone(),
        etag: item.etag.clone(),
        is_folder: item.is_folder,
        is_root: item.is_root,
    }
}

/// Classifies one delta run's items (already deduplicated or not: this dedupes again) against
/// `index`, the state before the run.
pub fn classify(index: &ItemIndex, items: Vec<DeltaItem>, ctx: &ClassifyContext<'_>) -> Classified {
    classify_unique(index, dedupe_last_wins(items), ctx)
}

/// [`classify`] over items already deduplicated.
fn classify_unique(
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
    // parent → children of the old index, built on the first folder delete only.
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
                // Children of a deleted folder go with it; Graph may not list each one.
                let children = children.get_or_insert_with(|| children_of(index));
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

/// parent id → child ids, over the whole index.
fn children_of(index: &ItemIndex) -> HashMap<&str, Vec<&str>> {
    let mut children: HashMap<&str, Vec<&str>> = HashMap::new();
    for (id, entry) in index.iter() {
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
    }
}

/// Whether a listed (not deleted) item leaves its index entry exactly as it is: then it is
/// neither a change nor an index write, and a resync need not keep it.
fn same_as_indexed(item: &DeltaItem, old: &IndexEntry) -> bool {
    // A missing name keeps the indexed one (see `entry_from`).
    item.name.as_deref().is_none_or(|n| n == old.name)
        && item.parent_id == old.parent_id
        && item.ctag == old.ctag
        && item.etag == old.etag
        && item.is_folder == old.is_folder
        && item.is_root == old.is_root
}

/// A full enumeration (after a resync) compared with the index one page at a time, so a resync
/// of a big drive never holds the whole enumeration: items that match their index entry are only
/// marked as listed (one bit per indexed item) and dropped; the others (new, changed) are kept,
/// last occurrence wins. [`EnumerationDiff::finish`] then reports every indexed item the
/// enumeration did not list as deleted. The index must not change while pages are added.
#[derive(Debug)]
pub struct EnumerationDiff {
    /// Position of the next item in the enumeration.
    next: u64,
    /// Listed items that differ from the index, by id: (position of the last occurrence, item).
    kept: HashMap<String, (u64, DeltaItem)>,
    /// Bit per index slot: the enumeration lists that item (alive).
    listed: Vec<u64>,
    items: u64,
}

impl EnumerationDiff {
    pub fn new(index: &ItemIndex) -> Self {
        Self {
            next: 0,
            kept: HashMap::new(),
            listed: vec![0; index.slots.len().div_ceil(64)],
            items: 0,
        }
    }

    fn set_listed(&mut self, slot: u32, on: bool) {
        let (word, bit) = (slot as usize / 64, slot % 64);
        if let Some(w) = self.listed.get_mut(word) {
            if on {
                *w |= 1 << bit;
            } else {
                *w &= !(1 << bit);
            }
        }
    }

    fn is_listed(&self, slot: u32) -> bool {
        self.listed
            .get(slot as usize / 64)
            .is_some_and(|w| w & (1 << (slot % 64)) != 0)
    }

    /// How many items (kept or not) the enumeration listed so far.
    pub fn items(&self) -> u64 {
        self.items
    }

    /// How many listed items differ from the index so far (what [`Self::finish`] classifies).
    pub fn kept(&self) -> usize {
        self.kept.len()
    }

    /// Takes one page of the enumeration, in order.
    pub fn add_page(&mut self, index: &ItemIndex, items: Vec<DeltaItem>) {
        for item in items {
            let position = self.next;
            self.next += 1;
            self.items += 1;
            let slot = index.slot_of(&item.id);
            if item.deleted {
                // An enumeration lists what exists: a deleted entry means "not there", so an
                // indexed item whose last listing is a deletion is reported with the gone ones.
                if let Some(slot) = slot {
                    self.set_listed(slot, false);
                }
                self.kept.remove(&item.id);
                continue;
            }
            let unchanged = match slot {
                Some(slot) => {
                    self.set_listed(slot, true);
                    index
                        .at(slot)
                        .is_some_and(|old| same_as_indexed(&item, old))
                }
                None => false,
            };
            if unchanged {
                // An earlier, different listing of the same item no longer counts: last wins.
                if !self.kept.is_empty() {
                    self.kept.remove(&item.id);
                }
            } else {
                self.kept.insert(item.id.clone(), (position, item));
            }
        }
    }

    /// Classifies what differs: the kept items in the order of their last occurrence, then every
    /// indexed item that was not listed, as deleted (deepest first, as Graph reports a folder's
    /// contents before it). The update brings the index to exactly the enumeration without
    /// rewriting what did not change.
    pub fn finish(mut self, index: &ItemIndex, ctx: &ClassifyContext<'_>) -> Classified {
        let kept = std::mem::take(&mut self.kept);
        let mut present: Vec<(u64, DeltaItem)> = kept.into_values().collect();
        present.sort_unstable_by_key(|(position, _)| *position);
        let mut gone: Vec<DeltaItem> = index
            .ids
            .iter()
            .filter(|(_, slot)| !self.is_listed(**slot))
            .filter(|(_, slot)| index.at(**slot).is_some_and(|e| !e.is_root))
            .map(|(id, _)| DeltaItem {
                id: id.clone(),
                deleted: true,
                ..DeltaItem::default()
            })
            .collect();
        gone.sort_by_cached_key(|i| std::cmp::Reverse(index.path_of(&i.id).unwrap_or_default()));
        let mut all: Vec<DeltaItem> = present.into_iter().map(|(_, item)| item).collect();
        all.extend(gone);
        classify_unique(index, all, ctx)
    }
}

/// Compares a full enumeration (after a resync) with the index: the enumeration's items are
/// classified as usual, and every indexed item the enumeration no longer lists is reported
/// deleted. [`EnumerationDiff`] does the same a page at a time.
pub fn diff_enumeration(
    index: &ItemIndex,
    items: Vec<DeltaItem>,
    ctx: &ClassifyContext<'_>,
) -> Classified {
    let mut diff = EnumerationDiff::new(index);
    diff.add_page(index, items);
    diff.finish(index, ctx)
}

/// A fresh index built from a baseline enumeration a page at a time, reporting nothing: each
/// item is reduced to its index entry as it arrives (last occurrence wins).
#[derive(Debug, Default)]
pub struct Baseline {
    entries: HashMap<String, IndexEntry>,
}

impl Baseline {
    pub fn add_page(&mut self, items: Vec<DeltaItem>) {
        for item in items {
            if item.deleted {
                self.entries.remove(&item.id);
            } else {
                let entry = entry_from(&item, None);
                self.entries.insert(item.id, entry);
            }
        }
    }

    pub fn finish(self) -> IndexUpdate {
        IndexUpdate {
            replace: true,
            upserts: self.entries.into_iter().collect(),
            removals: Vec::new(),
        }
    }
}

/// Builds a fresh index from a baseline enumeration, reporting nothing.
pub fn baseline(items: Vec<DeltaItem>) -> IndexUpdate {
    let mut b = Baseline::default();
    b.add_page(items);
    b.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> ClassifyContext<'static> {
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

    fn root() -> DeltaItem {
        DeltaItem {
            id: "root".into(),
            name: Some("root".into()),
            is_folder: true,
            is_root: true,
            ..Default::default()
        }
    }

    fn folder(id: &str, name: &str, parent: &str) -> DeltaItem {
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

    fn file(id: &str, name: &str, parent: &str, ctag: &str) -> DeltaItem {
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

    fn gone(id: &str) -> DeltaItem {
        DeltaItem {
            id: id.into(),
            deleted: true,
            ..Default::default()
        }
    }

    fn base() -> ItemIndex {
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

    fn summary(c: &Classified) -> Vec<(ChangeKind, String, Option<String>)> {
        c.changes
            .iter()
            .map(|c| (c.kind, c.path.clone(), c.old_path.clone()))
            .collect()
    }

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
    fn enumeration_diff_reports_what_differs_and_what_is_gone() {
        let index = base();
        // After a 410: budget edited, notes.txt gone, a new file, Archive unchanged.
        let items = vec![
            root(),
            folder("f1", "Finance", "root"),
            folder("f2", "Archive", "root"),
            file("a", "budget.xlsx", "f1", "c9"),
            file("z", "new.txt", "f2", "c1"),
        ];
        let out = diff_enumeration(&index, items, &ctx());
        let mut got = summary(&out);
        got.sort_by(|a, b| a.1.cmp(&b.1));
        assert_eq!(
            got,
            vec![
                (ChangeKind::Created, "/Archive/new.txt".into(), None),
                (ChangeKind::Modified, "/Finance/budget.xlsx".into(), None),
                (ChangeKind::Deleted, "/notes.txt".into(), None),
            ]
        );
        assert!(!out.index.replace);
        assert_eq!(
            out.index.upserts.len(),
            2,
            "only changed entries are written"
        );
        let mut after = index.clone();
        after.apply(&out.index);
        assert!(after.get("b").is_none());
        assert_eq!(after.len(), 5);
    }

    #[test]
    fn enumeration_pages_keep_the_last_listing_of_an_item() {
        let index = base();
        let listed = || {
            vec![
                root(),
                folder("f1", "Finance", "root"),
                folder("f2", "Archive", "root"),
                file("b", "notes.txt", "root", "c1"),
            ]
        };
        // Edited on one page, listed as indexed on a later one: nothing happened.
        let mut diff = EnumerationDiff::new(&index);
        diff.add_page(&index, vec![file("a", "budget.xlsx", "f1", "c9")]);
        assert_eq!(diff.kept(), 1);
        diff.add_page(&index, listed());
        diff.add_page(&index, vec![file("a", "budget.xlsx", "f1", "c1")]);
        assert_eq!(diff.kept(), 0);
        assert_eq!(diff.items(), 6);
        let out = diff.finish(&index, &ctx());
        assert!(out.changes.is_empty());
        assert!(out.index.upserts.is_empty() && out.index.removals.is_empty());

        // The other way round: the later listing is the edit.
        let mut diff = EnumerationDiff::new(&index);
        diff.add_page(&index, vec![file("a", "budget.xlsx", "f1", "c1")]);
        diff.add_page(&index, listed());
        diff.add_page(&index, vec![file("a", "budget.xlsx", "f1", "c9")]);
        let out = diff.finish(&index, &ctx());
        assert_eq!(
            summary(&out),
            vec![(ChangeKind::Modified, "/Finance/budget.xlsx".into(), None)]
        );
    }

    #[test]
    fn an_item_an_enumeration_lists_as_deleted_is_gone() {
        let index = base();
        let mut diff = EnumerationDiff::new(&index);
        diff.add_page(
            &index,
            vec![
                root(),
                folder("f1", "Finance", "root"),
                folder("f2", "Archive", "root"),
                file("a", "budget.xlsx", "f1", "c1"),
            ],
        );
        diff.add_page(
            &index,
            vec![file("b", "notes.txt", "root", "c1"), gone("b")],
        );
        let out = diff.finish(&index, &ctx());
        assert_eq!(
            summary(&out),
            vec![(ChangeKind::Deleted, "/notes.txt".into(), None)]
        );
        assert_eq!(out.index.removals, vec!["b".to_owned()]);
    }

    #[test]
    fn index_slots_are_reused_and_equality_ignores_them() {
        let mut a = base();
        let b = base();
        let entry = a.get("b").cloned().unwrap();
        a.remove("b");
        assert_eq!(a.len(), 4);
        assert!(a.get("b").is_none());
        a.insert("b".into(), entry.clone());
        assert_eq!(a, b);
        // The freed slot was taken again, not a new one.
        assert_eq!(a.slots.len(), b.slots.len());
        a.remove("a");
        a.insert("z".into(), entry);
        assert_eq!(a.slots.len(), b.slots.len());
        assert_ne!(a, b);
        assert_eq!(a.path_of("z").as_deref(), Some("/notes.txt"));
        assert_eq!(a.iter().count(), 5);
    }

    #[test]
    fn graph_parent_paths_are_parsed() {
        assert_eq!(parent_path_from_graph("/drive/root:").as_deref(), Some(""));
        assert_eq!(
            parent_path_from_graph("/drives/abc/root:/A/B").as_deref(),
            Some("/A/B")
        );
        assert_eq!(parent_path_from_graph("/nonsense"), None);
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
