//! Builds the live world from a seed, checking every reference the seed makes (tenants,
//! members, owners). It runs once at start and must never be used to change a running world.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::Utc;

use super::{
    ChildIndex, ConflictBehavior, Drive, DriveOwner, DriveType, Group, Item, Site, Tenant, User,
    World, guid_of, split_parent,
};
use crate::error::EmulatorError;
use crate::seed::Seed;

fn slug_of_username(username: &str) -> String {
    username
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

impl World {
    /// Builds the world a seed describes, checking its references.
    pub fn from_seed(seed: &Seed) -> Result<World, EmulatorError> {
        let now = Utc::now();
        let mut w = World {
            tenants: seed
                .tenants
                .iter()
                .map(|t| Tenant {
                    id: t.id.clone(),
                    domain: t.domain.clone(),
                    display_name: t.display_name.clone(),
                })
                .collect(),
            users: BTreeMap::new(),
            groups: BTreeMap::new(),
            sites: BTreeMap::new(),
            drives: BTreeMap::new(),
            items: HashMap::new(),
            children: ChildIndex::default(),
            folder_sizes: Default::default(),
            by_seq: HashMap::new(),
            seq: 0,
            next_item: 0,
            dirty: BTreeMap::new(),
        };
        let invalid = |m: String| EmulatorError::SeedInvalid(m);
        for u in &seed.users {
            let tenant = match &u.tenant {
                None => None,
                Some(t) => Some(
                    w.tenant(t)
                        .ok_or_else(|| invalid(format!("user {} names unknown tenant {t}", u.id)))?
                        .id
                        .clone(),
                ),
            };
            if w.users.contains_key(&u.id) {
                return Err(invalid(format!("duplicate user id {}", u.id)));
            }
            w.users.insert(
                u.id.clone(),
                User {
                    id: u.id.clone(),
                    display_name: u.display_name.clone(),
                    username: u.username.clone(),
                    tenant,
                },
            );
        }
        let resolve_all = |w: &World, list: &[String]| -> Result<BTreeSet<String>, EmulatorError> {
            list.iter()
                .map(|m| {
                    w.user(m)
                        .map(|u| u.id.clone())
                        .map_err(|_| invalid(format!("unknown member {m}")))
                })
                .collect()
        };
        let mut group_members = HashMap::new();
        for g in &seed.groups {
            group_members.insert(g.id.clone(), resolve_all(&w, &g.members)?);
            w.groups.insert(
                g.id.clone(),
                Group {
                    display_name: g.display_name.clone(),
                    drive: None,
                },
            );
        }
        let mut site_members = HashMap::new();
        for s in &seed.sites {
            site_members.insert(s.id.clone(), resolve_all(&w, &s.members)?);
            w.sites.insert(
                s.id.clone(),
                Site {
                    id: s.id.clone(),
                    name: s.name.clone(),
                    display_name: s.display_name.clone(),
                    lists: vec![],
                },
            );
        }
        for d in &seed.drives {
            if w.drives.contains_key(&d.id) {
                return Err(invalid(format!("duplicate drive id {}", d.id)));
            }
            let mut members = resolve_all(&w, &d.shared_with)?;
            let (owner, drive_type, web_path) = match (&d.owner_user, &d.group, &d.site) {
                (Some(u), None, None) => {
                    let user = w
                        .user(u)
                        .map_err(|_| invalid(format!("drive {} owner {u}", d.id)))?;
                    members.insert(user.id.clone());
                    if user.is_personal() {
                        (
                            DriveOwner::User(user.id.clone()),
                            DriveType::Personal,
                            format!("/onedrive/{}", d.id),
                        )
                    } else {
                        (
                            DriveOwner::User(user.id.clone()),
                            DriveType::Business,
                            format!("/personal/{}/Documents", slug_of_username(&user.username)),
                        )
                    }
                }
                (None, Some(g), None) => {
                    let group = w
                        .groups
                        .get_mut(g)
                        .ok_or_else(|| invalid(format!("drive {} group {g}", d.id)))?;
                    group.drive = Some(d.id.clone());
                    members.extend(group_members.get(g).cloned().unwrap_or_default());
                    let slug: String = group
                        .display_name
                        .chars()
                        .filter(|c| c.is_alphanumeric())
                        .collect();
                    (
                        DriveOwner::Group(g.clone()),
                        DriveType::DocumentLibrary,
                        format!("/sites/{slug}/Shared Documents"),
                    )
                }
                (None, None, Some(s)) => {
                    let site = w
                        .sites
                        .get_mut(s)
                        .ok_or_else(|| invalid(format!("drive {} site {s}", d.id)))?;
                    let list = d
                        .list_id
                        .clone()
                        .ok_or_else(|| invalid(format!("site drive {} needs list_id", d.id)))?;
                    site.lists.push((list, d.id.clone()));
                    members.extend(site_members.get(s).cloned().unwrap_or_default());
                    let lib = if d.name == "Documents" {
                        "Shared Documents".to_string()
                    } else {
                        d.name.clone()
                    };
                    (
                        DriveOwner::Site(s.clone()),
                        DriveType::DocumentLibrary,
                        format!("/sites/{}/{lib}", site.name),
                    )
                }
                _ => {
                    return Err(invalid(format!(
                        "drive {} needs exactly one of owner_user, group, site",
                        d.id
                    )));
                }
            };
            let default_actor = match &owner {
                DriveOwner::User(u) => u.clone(),
                _ => members.iter().next().cloned().unwrap_or_default(),
            };
            let root_id = w.new_item_id(&d.id, drive_type);
            w.seq += 1;
            let root = Item {
                id: root_id.clone(),
                drive: d.id.clone(),
                name: "root".into(),
                parent: None,
                content: None,
                created_at: now,
                created_by: default_actor.clone(),
                modified_at: now,
                modified_by: default_actor.clone(),
                etag_version: 1,
                ctag_version: 1,
                guid: guid_of(&root_id),
                seq: w.seq,
                deleted: false,
            };
            w.items.insert(root_id.clone(), root);
            w.stamp(&root_id, w.seq);
            w.drives.insert(
                d.id.clone(),
                Drive {
                    id: d.id.clone(),
                    name: d.name.clone(),
                    drive_type,
                    owner,
                    members,
                    root: root_id.clone(),
                    web_path,
                    delta_generation: 1,
                    resync_code: "resyncRequired",
                },
            );
            for it in &d.items {
                let actor = match &it.by {
                    Some(b) => w
                        .user(b)
                        .map_err(|_| invalid(format!("item {} by {b}", it.path)))?
                        .id
                        .clone(),
                    None => default_actor.clone(),
                };
                let path = it.path.trim_matches('/');
                if it.folder {
                    w.ensure_folders(&actor, &d.id, path)
                        .map_err(|e| invalid(format!("item {}: {e}", it.path)))?;
                } else {
                    let (parent_path, name) = split_parent(path);
                    let parent = w
                        .ensure_folders(&actor, &d.id, parent_path)
                        .map_err(|e| invalid(format!("item {}: {e}", it.path)))?;
                    let bytes = it.content.clone().unwrap_or_default().into_bytes();
                    w.put_file(&actor, &parent, name, bytes, ConflictBehavior::Replace)
                        .map_err(|e| invalid(format!("item {}: {e}", it.path)))?;
                }
            }
        }
        w.dirty.clear();
        Ok(w)
    }
}
