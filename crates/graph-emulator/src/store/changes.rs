//! Every change to the world: uploads, edits, folders, renames, moves and deletes. Each bumps
//! the sequence numbers delta is answered from and marks its drive dirty for a notification; it
//! must never leave the child index out of step with `items`.

use chrono::Utc;

use super::{ConflictBehavior, DriveType, Item, ItemId, World, guid_of, valid_name};
use crate::error::EmulatorError;

impl World {
    /// Records a change to `id` by `actor`, and the eTag change it causes on every ancestor.
    fn touch(&mut self, id: &str, actor: &str, content_changed: bool) {
        let now = Utc::now();
        self.seq += 1;
        let seq = self.seq;
        let mut parent = None;
        let mut drive = None;
        if let Some(it) = self.items.get_mut(id) {
            it.etag_version += 1;
            if content_changed {
                it.ctag_version += 1;
            }
            it.modified_at = now;
            it.modified_by = actor.to_string();
            parent = it.parent.clone();
            drive = Some(it.drive.clone());
        }
        if let Some(d) = drive {
            self.stamp(id, seq);
            self.mark_changed(&d, id);
        }
        self.touch_ancestors(parent);
    }

    /// Queues `id` for the notifications of its drive (realistic push sends one per item).
    fn mark_changed(&mut self, drive: &str, id: &str) {
        self.dirty
            .entry(drive.to_string())
            .or_default()
            .insert(id.to_string());
    }

    /// Every change walks here, for each chain of folders whose contents it changed (a move:
    /// both), which is why the folder sizes are forgotten here and nowhere else.
    fn touch_ancestors(&mut self, mut parent: Option<ItemId>) {
        while let Some(p) = parent {
            self.forget_size(&p);
            self.seq += 1;
            let seq = self.seq;
            match self.items.get_mut(&p) {
                Some(it) => {
                    it.etag_version += 1;
                    parent = it.parent.clone();
                    self.dirty.entry(it.drive.clone()).or_default();
                }
                None => break,
            }
            self.stamp(&p, seq);
        }
    }

    fn unique_name(&self, parent: &str, name: &str) -> String {
        if self.child_named(parent, name).is_none() {
            return name.to_string();
        }
        let (stem, ext) = match name.rfind('.') {
            Some(i) if i > 0 => (&name[..i], &name[i..]),
            _ => (name, ""),
        };
        (1..)
            .map(|n| format!("{stem} {n}{ext}"))
            .find(|c| self.child_named(parent, c).is_none())
            .unwrap_or_else(|| name.to_string())
    }

    fn folder_for_write(
        &self,
        actor: &str,
        parent: &str,
    ) -> Result<(String, DriveType), EmulatorError> {
        let p = self
            .live_item(parent)
            .ok_or_else(|| EmulatorError::ItemNotFound(parent.to_string()))?;
        if !p.is_folder() {
            return Err(EmulatorError::InvalidOperation(
                "the parent is a file, not a folder",
            ));
        }
        let d = self.accessible_drive(actor, &p.drive)?;
        Ok((d.id.clone(), d.drive_type))
    }

    fn insert_item(
        &mut self,
        actor: &str,
        drive: &str,
        dt: DriveType,
        parent: &str,
        name: &str,
        content: Option<Vec<u8>>,
    ) -> ItemId {
        let id = self.new_item_id(drive, dt);
        let now = Utc::now();
        self.seq += 1;
        let it = Item {
            id: id.clone(),
            drive: drive.to_string(),
            name: name.to_string(),
            parent: Some(parent.to_string()),
            content,
            created_at: now,
            created_by: actor.to_string(),
            modified_at: now,
            modified_by: actor.to_string(),
            etag_version: 1,
            ctag_version: 1,
            guid: guid_of(&id),
            seq: self.seq,
            deleted: false,
        };
        self.items.insert(id.clone(), it);
        self.stamp(&id, self.seq);
        self.children.add(parent, name, &id);
        self.mark_changed(drive, &id);
        self.touch_ancestors(Some(parent.to_string()));
        id
    }

    /// Creates or replaces a file in a folder. Returns the item and whether it was created.
    pub fn put_file(
        &mut self,
        actor: &str,
        parent: &str,
        name: &str,
        content: Vec<u8>,
        conflict: ConflictBehavior,
    ) -> Result<(ItemId, bool), EmulatorError> {
        if !valid_name(name) {
            return Err(EmulatorError::InvalidName(name.to_string()));
        }
        let (drive, dt) = self.folder_for_write(actor, parent)?;
        let existing = self
            .child_named(parent, name)
            .map(|i| (i.id.clone(), i.is_folder()));
        let name = match (existing, conflict) {
            (Some((id, false)), ConflictBehavior::Replace) => {
                if let Some(it) = self.items.get_mut(&id) {
                    it.content = Some(content);
                }
                self.touch(&id, actor, true);
                return Ok((id, false));
            }
            (Some(_), ConflictBehavior::Rename) => self.unique_name(parent, name),
            (Some(_), _) => return Err(EmulatorError::NameConflict(name.to_string())),
            (None, _) => name.to_string(),
        };
        let id = self.insert_item(actor, &drive, dt, parent, &name, Some(content));
        Ok((id, true))
    }

    /// Replaces the content of an existing file.
    pub fn replace_content(
        &mut self,
        actor: &str,
        id: &str,
        content: Vec<u8>,
    ) -> Result<(), EmulatorError> {
        let it = self
            .live_item(id)
            .ok_or_else(|| EmulatorError::ItemNotFound(id.to_string()))?;
        if it.is_folder() {
            return Err(EmulatorError::InvalidOperation("a folder has no content"));
        }
        let drive = it.drive.clone();
        self.accessible_drive(actor, &drive)?;
        if let Some(it) = self.items.get_mut(id) {
            it.content = Some(content);
        }
        self.touch(id, actor, true);
        Ok(())
    }

    /// Creates a folder. Returns the item and whether it was created.
    pub fn create_folder(
        &mut self,
        actor: &str,
        parent: &str,
        name: &str,
        conflict: ConflictBehavior,
    ) -> Result<(ItemId, bool), EmulatorError> {
        if !valid_name(name) {
            return Err(EmulatorError::InvalidName(name.to_string()));
        }
        let (drive, dt) = self.folder_for_write(actor, parent)?;
        let name = match (
            self.child_named(parent, name)
                .map(|i| (i.id.clone(), i.is_folder())),
            conflict,
        ) {
            (Some((id, true)), ConflictBehavior::Replace) => return Ok((id, false)),
            (Some(_), ConflictBehavior::Rename) => self.unique_name(parent, name),
            (Some(_), _) => return Err(EmulatorError::NameConflict(name.to_string())),
            (None, _) => name.to_string(),
        };
        let id = self.insert_item(actor, &drive, dt, parent, &name, None);
        Ok((id, true))
    }

    /// Makes sure every folder of `rel` exists (as OneDrive does for uploads by path).
    pub fn ensure_folders(
        &mut self,
        actor: &str,
        drive: &str,
        rel: &str,
    ) -> Result<ItemId, EmulatorError> {
        let mut cur = self.drive(drive)?.root.clone();
        for part in rel.split('/').filter(|p| !p.is_empty()) {
            cur = match self.child_named(&cur, part) {
                Some(i) if i.is_folder() => i.id.clone(),
                Some(_) => return Err(EmulatorError::InvalidOperation("a path segment is a file")),
                None => {
                    self.create_folder(actor, &cur, part, ConflictBehavior::Fail)?
                        .0
                }
            };
        }
        Ok(cur)
    }

    /// Renames and/or moves an item within its drive.
    pub fn update(
        &mut self,
        actor: &str,
        id: &str,
        new_name: Option<&str>,
        new_parent: Option<&str>,
    ) -> Result<(), EmulatorError> {
        let it = self
            .live_item(id)
            .ok_or_else(|| EmulatorError::ItemNotFound(id.to_string()))?;
        let old_parent = it.parent.clone().ok_or(EmulatorError::InvalidOperation(
            "the root cannot be renamed or moved",
        ))?;
        let drive = it.drive.clone();
        let name = new_name.unwrap_or(&it.name).to_string();
        self.accessible_drive(actor, &drive)?;
        if !valid_name(&name) {
            return Err(EmulatorError::InvalidName(name));
        }
        let parent = new_parent.unwrap_or(&old_parent).to_string();
        let p = self
            .live_item(&parent)
            .ok_or_else(|| EmulatorError::ItemNotFound(parent.clone()))?;
        if !p.is_folder() {
            return Err(EmulatorError::InvalidOperation("the new parent is a file"));
        }
        if p.drive != drive {
            return Err(EmulatorError::InvalidOperation(
                "moving across drives is not supported",
            ));
        }
        // A folder cannot move into itself or a descendant.
        let mut cur = Some(parent.clone());
        while let Some(c) = cur {
            if c == id {
                return Err(EmulatorError::InvalidOperation(
                    "a folder cannot move into itself",
                ));
            }
            cur = self.items.get(&c).and_then(|i| i.parent.clone());
        }
        if let Some(other) = self.child_named(&parent, &name) {
            if other.id != id {
                return Err(EmulatorError::NameConflict(name));
            }
        }
        if let Some(it) = self.items.get_mut(id) {
            self.children.remove(&old_parent, &it.name, id);
            self.children.add(&parent, &name, id);
            it.name = name;
            it.parent = Some(parent.clone());
        }
        self.touch(id, actor, false);
        if parent != old_parent {
            self.touch_ancestors(Some(old_parent));
        }
        Ok(())
    }

    /// Deletes an item (and a folder's descendants).
    pub fn delete(&mut self, actor: &str, id: &str) -> Result<(), EmulatorError> {
        let it = self
            .live_item(id)
            .ok_or_else(|| EmulatorError::ItemNotFound(id.to_string()))?;
        let parent = it.parent.clone().ok_or(EmulatorError::InvalidOperation(
            "the root cannot be deleted",
        ))?;
        let drive = it.drive.clone();
        self.accessible_drive(actor, &drive)?;
        let mut stack = vec![id.to_string()];
        let mut doomed = vec![];
        while let Some(cur) = stack.pop() {
            stack.extend(self.children_of(&cur).into_iter().map(|c| c.id.clone()));
            doomed.push(cur);
        }
        // Children first, so the folder itself is the last (and latest) change.
        for d in doomed.iter().rev() {
            self.seq += 1;
            let seq = self.seq;
            if let Some(it) = self.items.get_mut(d) {
                if let Some(p) = &it.parent {
                    self.children.remove(p, &it.name, d);
                }
                it.deleted = true;
                it.etag_version += 1;
                it.modified_by = actor.to_string();
                it.modified_at = Utc::now();
            }
            self.stamp(d, seq);
            self.mark_changed(&drive, d);
            self.forget_size(d);
        }
        self.touch_ancestors(Some(parent));
        Ok(())
    }
}
