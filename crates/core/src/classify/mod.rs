//! Turns one delta run's driveItems into the changes a user would name: created, modified,
//! renamed, moved, deleted.
//!
//! Delta reports each item's latest state, not what happened to it, and often omits
//! `parentReference.path` (`docs/PROTOCOL.md §3.2`, `§3.3`). The classifier therefore compares
//! every item with a local item index (id → name, parent, cTag, eTag, folder) kept from earlier
//! runs, and builds paths by walking parent ids. It is a pure function: no I/O, no clock except the
//! fallback timestamp passed in, so every rule is table-tested. It must never report folder eTag
//! churn (a child changed) or metadata-only edits as changes, and never invent a path it cannot
//! justify.
//!
//! # Layout
//! - `index`: the item index (id → entry in reusable slots) and paths built from parent ids.
//! - `incremental`: one delta run classified against the index.
//! - `resync`: a full enumeration compared with the index (after a resync), and baselines.

#[cfg(test)]
mod fixtures;
mod incremental;
mod index;
mod resync;

use chrono::{DateTime, Utc};

use crate::model::Change;

pub use incremental::{classify, dedupe_last_wins};
pub use index::{IndexEntry, IndexUpdate, ItemIndex, parent_path_from_graph};
pub use resync::{Baseline, EnumerationDiff, LastListings, baseline, diff_enumeration};

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

/// The outcome of classifying one run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Classified {
    /// In delta order; `seq` is 0 until the history store assigns it.
    pub changes: Vec<Change>,
    pub index: IndexUpdate,
}
