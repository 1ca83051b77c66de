//! A full enumeration (after Graph asks for a resync) compared with the item index, and the
//! baseline that builds a fresh index from one (`docs/PROTOCOL.md §3.4`).
//!
//! It must never hold a big drive's whole enumeration: pages are compared as they arrive and
//! only what differs is kept.

use std::collections::HashMap;

use super::incremental::classify_unique;
use super::index::{IndexEntry, IndexUpdate, ItemIndex, entry_from};
use super::{Classified, ClassifyContext, DeltaItem};

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

/// The listed items of an enumeration that differ from their index entry, by id, each with
/// the position of its last listing. Graph may list an item twice; the last listing wins, so a
/// later one replaces an earlier one, and a later listing that matches the index cancels it.
/// Both resync diffs (this module's and the store's page-by-page one) keep their items here.
#[derive(Debug, Default)]
pub struct LastListings(HashMap<String, (u64, DeltaItem)>);

impl LastListings {
    /// Records the listing of `item` at `position`; `unchanged`: it matches its index entry.
    pub fn note(&mut self, position: u64, item: DeltaItem, unchanged: bool) {
        if unchanged {
            if !self.0.is_empty() {
                self.0.remove(&item.id);
            }
        } else {
            self.0.insert(item.id.clone(), (position, item));
        }
    }

    /// A later listing says the item is gone: no earlier one counts.
    pub fn forget(&mut self, id: &str) {
        self.0.remove(id);
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The items, in the order of their last listing; leaves the set empty.
    pub fn take_in_order(&mut self) -> Vec<DeltaItem> {
        let mut present: Vec<(u64, DeltaItem)> =
            std::mem::take(&mut self.0).into_values().collect();
        present.sort_unstable_by_key(|(position, _)| *position);
        present.into_iter().map(|(_, item)| item).collect()
    }
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
    /// Listed items that differ from the index.
    kept: LastListings,
    /// Bit per index slot: the enumeration lists that item (alive).
    listed: Vec<u64>,
    items: u64,
}

impl EnumerationDiff {
    pub fn new(index: &ItemIndex) -> Self {
        Self {
            next: 0,
            kept: LastListings::default(),
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
                self.kept.forget(&item.id);
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
            self.kept.note(position, item, unchanged);
        }
    }

    /// Classifies what differs: the kept items in the order of their last occurrence, then every
    /// indexed item that was not listed, as deleted (deepest first, as Graph reports a folder's
    /// contents before it). The update brings the index to exactly the enumeration without
    /// rewriting what did not change.
    pub fn finish(mut self, index: &ItemIndex, ctx: &ClassifyContext<'_>) -> Classified {
        let mut all = self.kept.take_in_order();
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

    /// The index, in id order: the store then appends to its b-tree instead of writing at
    /// random into it (a million-item baseline stores in a fraction of the time).
    pub fn finish(self) -> IndexUpdate {
        let mut upserts: Vec<(String, IndexEntry)> = self.entries.into_iter().collect();
        upserts.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        IndexUpdate {
            replace: true,
            upserts,
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
    use crate::classify::fixtures::*;
    use crate::model::ChangeKind;

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
}
