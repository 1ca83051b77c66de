//! The item index of one target, and paths derived from it by walking parent ids.
//!
//! Only the index's own bookkeeping lives here (slots, lookups, applying an update); it never
//! decides what a change is, and it never stores a path: paths are derived so that a folder
//! rename moves every descendant at once.

use std::collections::HashMap;

use super::DeltaItem;

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
    pub(super) ids: HashMap<String, u32>,
    pub(super) slots: Vec<Option<IndexEntry>>,
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

    pub(super) fn slot_of(&self, id: &str) -> Option<u32> {
        self.ids.get(id).copied()
    }

    pub(super) fn at(&self, slot: u32) -> Option<&IndexEntry> {
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

    /// Applies an index update computed by [`classify`](super::classify) (after its transaction
    /// committed).
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
pub(super) fn path_via<'a>(
    id: &str,
    lookup: impl Fn(&str) -> Option<&'a IndexEntry>,
) -> Option<String> {
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

/// How the index must change once a run's transaction commits.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndexUpdate {
    /// Clear the whole index first (a re-baseline).
    pub replace: bool,
    pub upserts: Vec<(String, IndexEntry)>,
    pub removals: Vec<String>,
}

pub(super) fn entry_from(item: &DeltaItem, fallback_name: Option<&str>) -> IndexEntry {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::fixtures::*;

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
}
