//! Graph's JSON shapes: driveItem, drive, user, identity sets, and the quickXorHash they carry.
//!
//! Written from Microsoft's documented examples, field by field; the logic modules never build
//! JSON themselves. Nothing here may include a token.

use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde_json::{Map, Value, json};

use crate::store::{Drive, DriveOwner, DriveType, Item, User, World};

/// Characters escaped in webUrl path segments.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'/');

pub fn date(d: &DateTime<Utc>) -> String {
    d.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Percent-encodes every segment of an unencoded path.
pub fn encode_path(path: &str) -> String {
    path.split('/')
        .map(|s| utf8_percent_encode(s, SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

/// `{"user":{"id","displayName"[,"email"]}}`; work users carry their e-mail as on SharePoint.
pub fn identity_set(w: &World, user_id: &str) -> Value {
    match w.users.get(user_id) {
        Some(u) if u.is_personal() => json!({"user": {"id": u.id, "displayName": u.display_name}}),
        Some(u) => {
            json!({"user": {"email": u.username, "id": u.id, "displayName": u.display_name}})
        }
        None => json!({"user": {"displayName": "System Account"}}),
    }
}

/// How an item is rendered: a plain GET carries `parentReference.path`, delta usually does not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemView {
    Full,
    Delta,
}

pub fn web_url(base: &str, w: &World, item: &Item) -> String {
    let drive_path = w
        .drives
        .get(&item.drive)
        .map(|d| d.web_path.clone())
        .unwrap_or_default();
    let rel = w.path_of(&item.id);
    if rel.is_empty() {
        format!("{base}{}", encode_path(&drive_path))
    } else {
        format!("{base}{}/{}", encode_path(&drive_path), encode_path(&rel))
    }
}

fn mime_of(name: &str) -> &'static str {
    let ext = name.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "txt" | "md" | "log" => "text/plain",
        "csv" => "text/csv",
        "json" => "application/json",
        "html" | "htm" => "text/html",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "pdf" => "application/pdf",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        _ => "application/octet-stream",
    }
}

pub fn etag(item: &Item) -> String {
    format!("\"{{{}}},{}\"", item.guid, item.etag_version)
}

pub fn ctag(item: &Item) -> String {
    format!("\"c:{{{}}},{}\"", item.guid, item.ctag_version)
}

/// A driveItem. `base` is the emulator's origin (`http://127.0.0.1:PORT`).
pub fn item_json(base: &str, w: &World, item: &Item, view: ItemView) -> Value {
    let drive = w.drives.get(&item.drive);
    let drive_type = drive.map_or(DriveType::Business, |d| d.drive_type);
    let mut parent = Map::new();
    parent.insert("driveType".into(), json!(drive_type.as_str()));
    parent.insert("driveId".into(), json!(item.drive));
    if let Some(p) = &item.parent {
        parent.insert("id".into(), json!(p));
        if view == ItemView::Full && !item.deleted {
            let ppath = w.path_of(p);
            let path = if ppath.is_empty() {
                format!("/drives/{}/root:", item.drive)
            } else {
                format!("/drives/{}/root:/{}", item.drive, ppath)
            };
            parent.insert("path".into(), json!(path));
        }
    }
    if let Some(DriveOwner::Site(site)) = drive.map(|d| &d.owner) {
        parent.insert("siteId".into(), json!(site));
    }

    let mut o = Map::new();
    o.insert("id".into(), json!(item.id));
    if item.deleted {
        // Business drives omit the name (and most fields) of deleted items; personal drives
        // keep the name but drop size and cTag.
        o.insert("eTag".into(), json!(etag(item)));
        o.insert(
            "lastModifiedDateTime".into(),
            json!(date(&item.modified_at)),
        );
        if drive_type == DriveType::Personal {
            o.insert("name".into(), json!(item.name));
            o.insert("lastModifiedBy".into(), identity_set(w, &item.modified_by));
        }
        o.insert("parentReference".into(), Value::Object(parent));
        o.insert("deleted".into(), json!({"state": "deleted"}));
        if item.is_folder() {
            o.insert("folder".into(), json!({"childCount": 0}));
        } else {
            o.insert("file".into(), json!({}));
        }
        return Value::Object(o);
    }
    o.insert("createdDateTime".into(), json!(date(&item.created_at)));
    o.insert("eTag".into(), json!(etag(item)));
    o.insert(
        "lastModifiedDateTime".into(),
        json!(date(&item.modified_at)),
    );
    o.insert("name".into(), json!(item.name));
    o.insert("webUrl".into(), json!(web_url(base, w, item)));
    o.insert("cTag".into(), json!(ctag(item)));
    let size = if item.is_folder() {
        w.folder_size(&item.id)
    } else {
        item.size()
    };
    o.insert("size".into(), json!(size));
    o.insert("createdBy".into(), identity_set(w, &item.created_by));
    o.insert("lastModifiedBy".into(), identity_set(w, &item.modified_by));
    o.insert("parentReference".into(), Value::Object(parent));
    o.insert(
        "fileSystemInfo".into(),
        json!({"createdDateTime": date(&item.created_at), "lastModifiedDateTime": date(&item.modified_at)}),
    );
    match &item.content {
        Some(content) => {
            if view == ItemView::Full {
                o.insert(
                    "@microsoft.graph.downloadUrl".into(),
                    json!(format!(
                        "{base}/_emulator/download/{}/{}",
                        encode_path(&item.drive),
                        item.id
                    )),
                );
            }
            let mut hashes = Map::new();
            hashes.insert("quickXorHash".into(), json!(quick_xor_hash(content)));
            o.insert(
                "file".into(),
                json!({"mimeType": mime_of(&item.name), "hashes": hashes}),
            );
        }
        None => {
            o.insert(
                "folder".into(),
                json!({"childCount": w.child_count(&item.id)}),
            );
        }
    }
    if item.parent.is_none() {
        o.insert("root".into(), json!({}));
    }
    Value::Object(o)
}

/// A drive resource.
pub fn drive_json(base: &str, w: &World, d: &Drive) -> Value {
    let owner = match &d.owner {
        DriveOwner::User(u) => identity_set(w, u),
        DriveOwner::Group(g) => {
            let name = w
                .groups
                .get(g)
                .map(|g| g.display_name.clone())
                .unwrap_or_default();
            json!({"group": {"id": g, "displayName": name}})
        }
        DriveOwner::Site(_) => json!({"group": {"displayName": d.name}}),
    };
    // Every live file of the drive is below its root.
    let used = w.folder_size(&d.root);
    let root_created = w.items.get(&d.root).map(|r| date(&r.created_at));
    json!({
        "id": d.id,
        "driveType": d.drive_type.as_str(),
        "name": d.name,
        "createdDateTime": root_created,
        "description": "",
        "owner": owner,
        "quota": {
            "deleted": 0,
            "remaining": 1_099_511_627_776u64 - used,
            "state": "normal",
            "total": 1_099_511_627_776u64,
            "used": used
        },
        "webUrl": format!("{base}{}", encode_path(&d.web_path)),
    })
}

/// The `/me` user resource.
pub fn user_json(graph: &str, u: &User) -> Value {
    let (given, surname) = match u.display_name.split_once(' ') {
        Some((g, s)) => (g.to_string(), s.to_string()),
        None => (u.display_name.clone(), String::new()),
    };
    json!({
        "@odata.context": format!("{graph}/$metadata#users/$entity"),
        "businessPhones": [],
        "displayName": u.display_name,
        "givenName": given,
        "jobTitle": null,
        "mail": if u.is_personal() { Value::Null } else { json!(u.username) },
        "mobilePhone": null,
        "officeLocation": null,
        "preferredLanguage": "en-US",
        "surname": surname,
        "userPrincipalName": u.username,
        "id": u.id,
    })
}

/// Microsoft's QuickXorHash (160-bit, shift 11, length folded into the last 8 bytes), base64.
pub fn quick_xor_hash(data: &[u8]) -> String {
    const WIDTH: usize = 160;
    const SHIFT: usize = 11;
    let mut cells = [0u64; 3];
    let mut shift_so_far = 0usize;
    for &b in data {
        let cell = shift_so_far / 64;
        let offset = shift_so_far % 64;
        let bits_in_cell = if cell == 2 { 32 } else { 64 };
        if offset <= bits_in_cell - 8 {
            cells[cell] ^= u64::from(b) << offset;
        } else {
            let next = if cell == 2 { 0 } else { cell + 1 };
            cells[cell] ^= u64::from(b) << offset;
            cells[next] ^= u64::from(b) >> (bits_in_cell - offset);
        }
        shift_so_far = (shift_so_far + SHIFT) % WIDTH;
    }
    let mut out = [0u8; 20];
    out[..8].copy_from_slice(&cells[0].to_le_bytes());
    out[8..16].copy_from_slice(&cells[1].to_le_bytes());
    out[16..].copy_from_slice(&cells[2].to_le_bytes()[..4]);
    let len = (data.len() as u64).to_le_bytes();
    for (i, b) in len.iter().enumerate() {
        out[12 + i] ^= b;
    }
    base64::engine::general_purpose::STANDARD.encode(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_xor_hash_of_known_inputs() {
        assert_eq!(quick_xor_hash(b""), "AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
        // One byte sits in the low bits of the first cell; the length lands at byte 12.
        assert_eq!(quick_xor_hash(b"a"), "YQAAAAAAAAAAAAAAAQAAAAAAAAA=");
    }

    #[test]
    fn web_url_segments_are_encoded() {
        assert_eq!(
            encode_path("/sites/M/Shared Documents/a#b.txt"),
            "/sites/M/Shared%20Documents/a%23b.txt"
        );
    }
}
