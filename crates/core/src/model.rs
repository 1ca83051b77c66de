//! The domain vocabulary hosts see: what changed, where, and how each watched target is doing.
//!
//! These types cross into the desktop UI and the CLI's NDJSON, so field names are stable and
//! serialised in camelCase. They hold no tokens and no URLs with secrets in them, ever.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What happened to an item, as the user would say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ChangeKind {
    Created,
    /// Content changed (a new cTag), not just metadata.
    Modified,
    Renamed,
    Moved,
    Deleted,
}

/// One reported change to one drive item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// Position in the append-only history; increases with every stored change.
    pub seq: i64,
    pub kind: ChangeKind,
    /// Untrusted text from the drive: hosts render it as text, never as markup.
    pub name: String,
    /// Full path from the drive root, e.g. `/Finance/Budget.xlsx`.
    pub path: String,
    /// The path before a rename or move.
    pub old_path: Option<String>,
    pub is_folder: bool,
    pub item_id: String,
    pub drive_id: String,
    /// Display name of whoever made the change, when Graph says.
    pub by: Option<String>,
    /// True when the signed-in user made the change themselves.
    pub own: bool,
    /// When the change happened on the service (lastModifiedDateTime), or when it was seen.
    pub at: DateTime<Utc>,
    pub web_url: Option<String>,
    /// The account (its stable id) whose watch reported this change.
    pub account: String,
    /// The watched target that reported this change.
    pub target: String,
    /// True for changes made while DriveWatch was not running, found on catch-up.
    pub caught_up: bool,
}

/// The changes one delta run produced for one target, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeBatch {
    pub target: String,
    pub changes: Vec<Change>,
}
