//! The live world: users, drives and items, and every change made to them.
//!
//! One `World` sits behind one mutex in `Shared`; every HTTP handler and every Rust control
//! method goes through it, so Graph, the people's page and the scenario see one consistent state.
//! Each change bumps a global sequence number on the item and on its ancestors (a folder's eTag
//! changes when a child changes, as on OneDrive); delta is answered from those numbers. This
//! module knows nothing about HTTP or JSON and must never block (no I/O under the lock).
//!
//! `load` builds the world from a seed; `changes` holds every mutation; this file the types and
//! the read-only queries.

mod changes;
mod load;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::error::EmulatorError;

pub type ItemId = String;

/// What kind of drive this is, as Graph's `driveType` says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DriveType {
    Personal,
    Business,
    DocumentLibrary,
}

impl DriveType {
    pub fn as_str(self) -> &'static str {
        match self {
            DriveType::Personal => "personal",
            DriveType::Business => "business",
            DriveType::DocumentLibrary => "documentLibrary",
        }
    }
}

#[derive(Clone, Debug)]
pub struct User {
    pub id: String,
    pub display_name: String,
    pub username: String,
    /// Tenant id of a work/school user; `None` for a personal Microsoft account.
    pub tenant: Option<String>,
}

impl User {
    pub fn is_personal(&self) -> bool {
        self.tenant.is_none()
    }
}

#[derive(Clone, Debug)]
pub struct Tenant {
    pub id: String,
    pub domain: String,
    pub display_name: String,
}

#[derive(Clone, Debug)]
pub struct Group {
    pub display_name: String,
    pub drive: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Site {
    pub id: String,
    pub name: String,
    pub display_name: String,
    /// (list id, drive id) of each document library.
    pub lists: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DriveOwner {
    User(String),
    Group(String),
    Site(String),
}

#[derive(Clone, Debug)]
pub struct Drive {
    pub id: String,
    pub name: String,
    pub drive_type: DriveType,
    pub owner: DriveOwner,
    /// Users who may read and change this drive (owner and members included).
    pub members: BTreeSet<String>,
    pub root: ItemId,
    /// Unencoded URL path of the drive's web view (`/sites/Marketing/Shared Documents`).
    pub web_path: String,
    /// Delta tokens carry this; bumping it makes every earlier token answer 410.
    pub delta_generation: u64,
    /// The 410 code given for tokens of an older generation.
    pub resync_code: &'static str,
}

#[derive(Clone, Debug)]
pub struct Item {
    pub id: ItemId,
    pub drive: String,
    pub name: String,
    pub parent: Option<ItemId>,
    /// `None` for folders.
    pub content: Option<Vec<u8>>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub modified_at: DateTime<Utc>,
    pub modified_by: String,
    pub etag_version: u64,
    pub ctag_version: u64,
    pub guid: String,
    /// Global sequence number of this item's last change (itself or, for folders, a child).
    pub seq: u64,
    pub deleted: bool,
}

impl Item {
    pub fn is_folder(&self) -> bool {
        self.content.is_none()
    }
    pub fn size(&self) -> u64 {
        self.content.as_ref().map_or(0, |c| c.len() as u64)
    }
}

/// What to do when a name is taken (`@microsoft.graph.conflictBehavior`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConflictBehavior {
    Fail,
    Replace,
    Rename,
}

impl ConflictBehavior {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "fail" => Some(Self::Fail),
            "replace" => Some(Self::Replace),
            "rename" => Some(Self::Rename),
            _ => None,
        }
    }
}

/// The whole mutable world. Identity and push state live beside it in `Shared`.
#[derive(Debug)]
pub struct World {
    pub tenants: Vec<Tenant>,
    pub users: BTreeMap<String, User>,
    pub groups: BTreeMap<String, Group>,
    pub sites: BTreeMap<String, Site>,
    pub drives: BTreeMap<String, Drive>,
    pub items: HashMap<ItemId, Item>,
    pub seq: u64,
    next_item: u64,
    /// Drives changed since the last `take_dirty` (each gets a notification), with the items
    /// changed in each (realistic push notifies once per item).
    dirty: BTreeMap<String, BTreeSet<ItemId>>,
    /// Live children per folder, so lookups never scan the whole world.
    children: ChildIndex,
    /// Each folder's size (its live descendants' bytes) as last computed: a folder's JSON
    /// carries it, and summing a drive's whole tree for the root on every delta page made a
    /// delta answer grow with the drive. A change drops the entries of the folders it
    /// touches (`touch_ancestors`, which every change walks), so an entry is never stale.
    folder_sizes: Mutex<HashMap<ItemId, u64>>,
    /// Every item (deleted ones too) of each drive under the sequence number of its last
    /// change, kept in step with `Item::seq` by [`World::stamp`], so an incremental delta reads
    /// what changed since its token instead of scanning every item of the world.
    by_seq: HashMap<String, BTreeMap<u64, ItemId>>,
}

/// Live children of every folder, kept in step with `items` by each mutation of `World`.
///
/// `sorted` holds the listing order (`to_lowercase` name, then id) and `by_name` the
/// case-insensitive name lookup (ASCII case folding, as `eq_ignore_ascii_case`). Deleted items
/// are never in it.
#[derive(Debug, Default)]
struct ChildIndex {
    sorted: HashMap<ItemId, BTreeSet<(String, ItemId)>>,
    by_name: HashMap<ItemId, HashMap<String, ItemId>>,
}

impl ChildIndex {
    fn add(&mut self, parent: &str, name: &str, id: &str) {
        self.sorted
            .entry(parent.to_string())
            .or_default()
            .insert((name.to_lowercase(), id.to_string()));
        self.by_name
            .entry(parent.to_string())
            .or_default()
            .insert(name.to_ascii_lowercase(), id.to_string());
    }

    fn remove(&mut self, parent: &str, name: &str, id: &str) {
        if let Some(set) = self.sorted.get_mut(parent) {
            set.remove(&(name.to_lowercase(), id.to_string()));
            if set.is_empty() {
                self.sorted.remove(parent);
            }
        }
        if let Some(names) = self.by_name.get_mut(parent) {
            let key = name.to_ascii_lowercase();
            if names.get(&key).is_some_and(|c| c == id) {
                names.remove(&key);
            }
            if names.is_empty() {
                self.by_name.remove(parent);
            }
        }
    }
}

fn fnv(data: &str, salt: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ salt;
    for b in data.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn base32_of(a: u64, b: u64, len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut words = [
        a,
        b,
        a.rotate_left(29) ^ b.wrapping_mul(0x9E37_79B9_7F4A_7C15),
    ];
    for i in 0..len {
        let w = &mut words[(i / 12).min(2)];
        out.push(BASE32[(*w & 31) as usize] as char);
        *w >>= 5;
    }
    out
}

/// OneDrive forbids these characters in names.
pub fn valid_name(name: &str) -> bool {
    !name.trim().is_empty()
        && name.len() <= 255
        && !name.ends_with('.')
        && !name.ends_with(' ')
        && !name.chars().any(|c| {
            matches!(c, '"' | '*' | ':' | '<' | '>' | '?' | '/' | '\\' | '|') || c.is_control()
        })
}

impl World {
    /// Drives changed since the last call.
    pub fn take_dirty(&mut self) -> BTreeMap<String, BTreeSet<ItemId>> {
        std::mem::take(&mut self.dirty)
    }

    fn new_item_id(&mut self, drive: &str, drive_type: DriveType) -> ItemId {
        self.next_item += 1;
        match drive_type {
            DriveType::Personal => {
                format!("{}!{}", drive.to_ascii_uppercase(), 100 + self.next_item)
            }
            _ => {
                let a = fnv(drive, self.next_item);
                let b = fnv(drive, self.next_item.wrapping_mul(0x9E37_79B9_7F4A_7C15));
                format!("01{}", base32_of(a, b, 32))
            }
        }
    }

    /// A tenant by id or domain.
    pub fn tenant(&self, key: &str) -> Option<&Tenant> {
        self.tenants
            .iter()
            .find(|t| t.id.eq_ignore_ascii_case(key) || t.domain.eq_ignore_ascii_case(key))
    }

    /// A user by id or username (case-insensitive).
    pub fn user(&self, key: &str) -> Result<&User, EmulatorError> {
        self.users
            .get(key)
            .or_else(|| {
                self.users.values().find(|u| {
                    u.username.eq_ignore_ascii_case(key) || u.id.eq_ignore_ascii_case(key)
                })
            })
            .ok_or_else(|| EmulatorError::UnknownUser(key.to_string()))
    }

    pub fn drive(&self, id: &str) -> Result<&Drive, EmulatorError> {
        self.drives
            .get(id)
            .or_else(|| self.drives.values().find(|d| d.id.eq_ignore_ascii_case(id)))
            .ok_or_else(|| EmulatorError::UnknownDrive(id.to_string()))
    }

    /// The user's own OneDrive.
    pub fn own_drive(&self, user_id: &str) -> Option<&Drive> {
        self.drives
            .values()
            .find(|d| d.owner == DriveOwner::User(user_id.to_string()))
    }

    pub fn can_access(&self, user_id: &str, drive_id: &str) -> bool {
        self.drives
            .get(drive_id)
            .is_some_and(|d| d.members.contains(user_id))
    }

    /// Checks access and returns the drive, with errors Graph can map to 404 / 403.
    pub fn accessible_drive(&self, user_id: &str, drive_id: &str) -> Result<&Drive, EmulatorError> {
        let d = self.drive(drive_id)?;
        if d.members.contains(user_id) {
            Ok(d)
        } else {
            Err(EmulatorError::AccessDenied {
                user: user_id.to_string(),
                drive: d.id.clone(),
            })
        }
    }

    pub fn live_item(&self, id: &str) -> Option<&Item> {
        self.items.get(id).filter(|i| !i.deleted)
    }

    /// Path from the drive root, without leading slash ("" for the root).
    pub fn path_of(&self, id: &str) -> String {
        let mut parts = vec![];
        let mut cur = self.items.get(id);
        while let Some(it) = cur {
            match &it.parent {
                Some(p) => {
                    parts.push(it.name.clone());
                    cur = self.items.get(p);
                }
                None => break,
            }
        }
        parts.reverse();
        parts.join("/")
    }

    /// The live child of `parent` with this name (case-insensitive, as OneDrive).
    pub fn child_named(&self, parent: &str, name: &str) -> Option<&Item> {
        self.children
            .by_name
            .get(parent)?
            .get(&name.to_ascii_lowercase())
            .and_then(|id| self.items.get(id))
    }

    /// Live children, sorted by name (lowercased), then id.
    pub fn children_of(&self, parent: &str) -> Vec<&Item> {
        self.children
            .sorted
            .get(parent)
            .map_or_else(Vec::new, |set| {
                set.iter()
                    .filter_map(|(_, id)| self.items.get(id))
                    .collect()
            })
    }

    /// Resolves a path below `from` (an item id) to a live item.
    pub fn resolve_below(&self, from: &str, rel: &str) -> Result<ItemId, EmulatorError> {
        let mut cur = self
            .live_item(from)
            .ok_or_else(|| EmulatorError::ItemNotFound(from.to_string()))?
            .id
            .clone();
        for part in rel.split('/').filter(|p| !p.is_empty()) {
            cur = self
                .child_named(&cur, part)
                .ok_or_else(|| EmulatorError::ItemNotFound(rel.to_string()))?
                .id
                .clone();
        }
        Ok(cur)
    }

    /// Resolves a path from the drive root.
    pub fn resolve_path(&self, drive: &str, rel: &str) -> Result<ItemId, EmulatorError> {
        let root = self.drive(drive)?.root.clone();
        self.resolve_below(&root, rel)
    }

    /// Sets the sequence number of `id`'s last change, and files it under that number.
    fn stamp(&mut self, id: &str, seq: u64) {
        if let Some(it) = self.items.get_mut(id) {
            // Every change stamps its item and each ancestor: no allocation once the drive has
            // a log and the item an entry (its id moves to the new number).
            if !self.by_seq.contains_key(&it.drive) {
                self.by_seq.insert(it.drive.clone(), BTreeMap::new());
            }
            let Some(log) = self.by_seq.get_mut(&it.drive) else {
                return;
            };
            let key = log.remove(&it.seq).unwrap_or_else(|| id.to_string());
            it.seq = seq;
            log.insert(seq, key);
        }
    }

    /// The items of `drive` (deleted ones too) changed after sequence number `since`, oldest
    /// change first. `since` comes from a token the client sent back, so it may be any number.
    pub fn changed_since(&self, drive: &str, since: u64) -> Vec<ItemId> {
        use std::ops::Bound::{Excluded, Unbounded};
        self.by_seq.get(drive).map_or_else(Vec::new, |log| {
            log.range((Excluded(since), Unbounded))
                .map(|(_, id)| id.clone())
                .collect()
        })
    }

    /// The bytes of every live file below folder `id` (cached: see `folder_sizes`).
    pub fn folder_size(&self, id: &str) -> u64 {
        if let Some(size) = self.sizes().get(id) {
            return *size;
        }
        // Not under the lock: the children's sizes take it in turn.
        let size = self
            .children_of(id)
            .iter()
            .map(|c| {
                if c.is_folder() {
                    self.folder_size(&c.id)
                } else {
                    c.size()
                }
            })
            .sum();
        self.sizes().insert(id.to_string(), size);
        size
    }

    /// Forgets the cached size of folder `id` (its subtree changed).
    fn forget_size(&self, id: &str) {
        self.sizes().remove(id);
    }

    fn sizes(&self) -> std::sync::MutexGuard<'_, HashMap<ItemId, u64>> {
        self.folder_sizes.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Number of live children (the `folder.childCount` facet).
    pub fn child_count(&self, id: &str) -> usize {
        self.children.sorted.get(id).map_or(0, BTreeSet::len)
    }
}

/// Splits `a/b/c.txt` into (`a/b`, `c.txt`).
pub fn split_parent(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => ("", path),
    }
}

pub(crate) fn guid_of(id: &str) -> String {
    let a = fnv(id, 1);
    let b = fnv(id, 2);
    format!(
        "{:08X}-{:04X}-{:04X}-{:04X}-{:012X}",
        (a >> 32) as u32,
        (a >> 16) as u16,
        a as u16,
        (b >> 48) as u16,
        b & 0xFFFF_FFFF_FFFF
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::{Seed, demo};

    fn world() -> World {
        World::from_seed(&Seed::default()).expect("default seed is valid")
    }

    #[test]
    fn parent_etag_changes_when_a_child_changes() {
        let mut w = world();
        let folder = w.resolve_path(demo::DEMO_DRIVE_ID, "Projects").unwrap();
        let file = w
            .resolve_path(demo::DEMO_DRIVE_ID, "Projects/Q3 Plan.txt")
            .unwrap();
        let (f_etag, f_ctag) = (w.items[&folder].etag_version, w.items[&folder].ctag_version);
        let (etag, ctag) = (w.items[&file].etag_version, w.items[&file].ctag_version);
        w.replace_content(demo::ALEX_USER_ID, &file, b"new".to_vec())
            .unwrap();
        assert_eq!(w.items[&file].etag_version, etag + 1);
        assert_eq!(w.items[&file].ctag_version, ctag + 1);
        assert_eq!(w.items[&file].modified_by, demo::ALEX_USER_ID);
        assert_eq!(w.items[&folder].etag_version, f_etag + 1);
        assert_eq!(
            w.items[&folder].ctag_version, f_ctag,
            "folder content tag unchanged"
        );
        // A rename changes the eTag but not the cTag.
        w.update(demo::ALEX_USER_ID, &file, Some("Q3.txt"), None)
            .unwrap();
        assert_eq!(w.items[&file].ctag_version, ctag + 1);
        assert_eq!(w.items[&file].etag_version, etag + 2);
    }

    #[test]
    fn access_and_name_rules() {
        let mut w = world();
        let root = w.drive(demo::DEMO_DRIVE_ID).unwrap().root.clone();
        let err = w
            .put_file(
                demo::PERSONAL_USER_ID,
                &root,
                "x.txt",
                vec![],
                ConflictBehavior::Fail,
            )
            .unwrap_err();
        assert!(matches!(err, EmulatorError::AccessDenied { .. }));
        let err = w
            .put_file(
                demo::DEMO_USER_ID,
                &root,
                "Welcome.txt",
                vec![],
                ConflictBehavior::Fail,
            )
            .unwrap_err();
        assert!(matches!(err, EmulatorError::NameConflict(_)));
        let (id, created) = w
            .put_file(
                demo::DEMO_USER_ID,
                &root,
                "Welcome.txt",
                vec![],
                ConflictBehavior::Rename,
            )
            .unwrap();
        assert!(created);
        assert_eq!(w.items[&id].name, "Welcome 1.txt");
        assert!(matches!(
            w.put_file(
                demo::DEMO_USER_ID,
                &root,
                "a:b",
                vec![],
                ConflictBehavior::Fail
            ),
            Err(EmulatorError::InvalidName(_))
        ));
        let projects = w.resolve_path(demo::DEMO_DRIVE_ID, "Projects").unwrap();
        assert!(matches!(
            w.update(demo::DEMO_USER_ID, &root, Some("x"), None),
            Err(EmulatorError::InvalidOperation(_))
        ));
        let sub = w
            .create_folder(demo::DEMO_USER_ID, &projects, "Sub", ConflictBehavior::Fail)
            .unwrap()
            .0;
        assert!(matches!(
            w.update(demo::DEMO_USER_ID, &projects, None, Some(&sub)),
            Err(EmulatorError::InvalidOperation(_))
        ));
    }

    #[test]
    fn deleting_a_folder_deletes_its_descendants() {
        let mut w = world();
        let folder = w.resolve_path(demo::DEMO_DRIVE_ID, "Projects").unwrap();
        let file = w
            .resolve_path(demo::DEMO_DRIVE_ID, "Projects/Budget.csv")
            .unwrap();
        w.delete(demo::DEMO_USER_ID, &folder).unwrap();
        assert!(w.live_item(&folder).is_none());
        assert!(w.live_item(&file).is_none());
        assert!(w.items[&folder].seq > w.items[&file].seq);
        assert!(w.resolve_path(demo::DEMO_DRIVE_ID, "Projects").is_err());
    }

    /// The listing and lookups the full scan gave before the child index existed.
    fn brute_children(w: &World, parent: &str) -> Vec<ItemId> {
        let mut v: Vec<&Item> = w
            .items
            .values()
            .filter(|i| !i.deleted && i.parent.as_deref() == Some(parent))
            .collect();
        v.sort_by(|a, b| {
            a.name
                .to_lowercase()
                .cmp(&b.name.to_lowercase())
                .then(a.id.cmp(&b.id))
        });
        v.into_iter().map(|i| i.id.clone()).collect()
    }

    fn brute_size(w: &World, folder: &str) -> u64 {
        brute_children(w, folder)
            .iter()
            .map(|c| match &w.items[c].content {
                Some(bytes) => bytes.len() as u64,
                None => brute_size(w, c),
            })
            .sum()
    }

    fn assert_index_matches_scan(w: &World, step: usize) {
        for it in w.items.values() {
            let listed: Vec<ItemId> = w.children_of(&it.id).iter().map(|c| c.id.clone()).collect();
            let scanned = brute_children(w, &it.id);
            assert_eq!(listed, scanned, "children of {} after step {step}", it.name);
            assert_eq!(w.child_count(&it.id), scanned.len());
            for c in &scanned {
                let name = &w.items[c].name;
                for probe in [name.clone(), name.to_ascii_uppercase()] {
                    let found = w.child_named(&it.id, &probe).map(|i| i.id.clone());
                    assert_eq!(found.as_ref(), Some(c), "lookup {probe} after step {step}");
                }
            }
            if !it.deleted {
                assert!(w.child_named(&it.id, "no such name").is_none());
            }
        }
        // The change log lists each drive's items by their last change, as a scan finds them.
        for drive in w.drives.keys() {
            let mut scanned: Vec<&Item> = w.items.values().filter(|i| &i.drive == drive).collect();
            scanned.sort_by_key(|i| i.seq);
            let scanned: Vec<ItemId> = scanned.into_iter().map(|i| i.id.clone()).collect();
            assert_eq!(
                w.changed_since(drive, 0),
                scanned,
                "log of {drive} after step {step}"
            );
        }
        // Every live folder's cached size is what summing its subtree gives now.
        for it in w.items.values().filter(|i| i.is_folder() && !i.deleted) {
            assert_eq!(
                w.folder_size(&it.id),
                brute_size(w, &it.id),
                "size of {} after step {step}",
                it.name
            );
        }
        // Nothing deleted, and nothing under a dead parent, is indexed.
        for (parent, set) in &w.children.sorted {
            for (_, id) in set {
                assert!(!w.items[id].deleted, "deleted {id} indexed under {parent}");
                assert_eq!(w.items[id].parent.as_deref(), Some(parent.as_str()));
            }
        }
    }

    #[test]
    fn child_index_change_log_and_folder_sizes_agree_with_a_full_scan_after_mixed_mutations() {
        let mut w = world();
        let drive = demo::DEMO_DRIVE_ID;
        let actor = demo::DEMO_USER_ID;
        let root = w.drive(drive).unwrap().root.clone();
        assert_index_matches_scan(&w, 0);
        // Small deterministic generator (64-bit LCG) so failures reproduce.
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move |n: usize| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 33) as usize) % n
        };
        let names = [
            "a.txt",
            "A.TXT",
            "b",
            "Caf\u{e9}",
            "CAF\u{c9}",
            "z 1.txt",
            "z.txt",
        ];
        let conflicts = [
            ConflictBehavior::Fail,
            ConflictBehavior::Replace,
            ConflictBehavior::Rename,
        ];
        for step in 1..=400 {
            let live: Vec<ItemId> = w
                .items
                .values()
                .filter(|i| !i.deleted && i.drive == drive)
                .map(|i| i.id.clone())
                .collect();
            let mut sorted_live = live.clone();
            sorted_live.sort();
            let folders: Vec<ItemId> = sorted_live
                .iter()
                .filter(|id| w.items[*id].is_folder())
                .cloned()
                .collect();
            let pick_folder = folders[next(folders.len())].clone();
            let pick_any = sorted_live[next(sorted_live.len())].clone();
            let name = names[next(names.len())];
            let conflict = conflicts[next(conflicts.len())];
            // Errors (conflicts, moves into self, root changes) are part of the exercise.
            let _ = match next(6) {
                0 => w
                    .put_file(actor, &pick_folder, name, vec![1; 1 + next(4)], conflict)
                    .map(|_| ()),
                1 => w
                    .create_folder(actor, &pick_folder, name, conflict)
                    .map(|_| ()),
                2 => w.update(actor, &pick_any, Some(name), None),
                3 => w.update(actor, &pick_any, None, Some(&pick_folder)),
                4 => w.update(actor, &pick_any, Some(name), Some(&pick_folder)),
                _ if pick_any != root && next(3) == 0 => w.delete(actor, &pick_any),
                _ => w.ensure_folders(actor, drive, "x/y/Z").map(|_| ()),
            };
            assert_index_matches_scan(&w, step);
        }
        assert!(w.items.values().any(|i| i.deleted), "some deletes ran");
    }

    #[test]
    fn the_change_log_reads_only_what_changed_after_any_number() {
        let mut w = world();
        let drive = demo::DEMO_DRIVE_ID;
        let root = w.drive(drive).unwrap().root.clone();
        let before = w.seq;
        let (file, _) = w
            .put_file(
                demo::DEMO_USER_ID,
                &root,
                "new.txt",
                vec![1],
                ConflictBehavior::Fail,
            )
            .unwrap();
        // The file, then the root its change bumped.
        assert_eq!(w.changed_since(drive, before), vec![file, root]);
        assert!(w.changed_since(drive, w.seq).is_empty());
        // A token can carry any number: the largest one reads nothing, it does not wrap round.
        assert!(w.changed_since(drive, u64::MAX).is_empty());
    }
}
