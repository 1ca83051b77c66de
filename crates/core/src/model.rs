//! The domain vocabulary hosts see: what changed, where, and how each watched target is doing.
//!
//! These types cross into the desktop UI and the CLI's NDJSON, so field names are stable and
//! serialised in camelCase. They hold no tokens and no URLs with secrets in them, ever.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What happened to an item, as the user would say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum ChangeKind {
    Created,
    /// Content changed (a new cTag), not just metadata.
    Modified,
    Renamed,
    Moved,
    Deleted,
}

impl ChangeKind {
    /// The kind as stored and serialised (`created`, `modified`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Modified => "modified",
            Self::Renamed => "renamed",
            Self::Moved => "moved",
            Self::Deleted => "deleted",
        }
    }
}

/// One reported change to one drive item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
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
    /// The `seq` of the first change of the burst or editing session this change belongs to
    /// (its own `seq` when it stands alone), assigned by the history when it stores the change;
    /// 0 before that. The list shows one row per group; the NDJSON stays one object per change.
    #[serde(default)]
    pub group: i64,
}

/// The changes one delta run produced for one target, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ChangeBatch {
    pub target: String,
    pub changes: Vec<Change>,
}

/// Which accounts a sign-in accepts; maps to the identity platform's tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum AccountKind {
    /// Personal Microsoft accounts only (`consumers`).
    Personal,
    /// Work or school accounts only (`organizations`).
    Work,
    /// Either (`common`).
    Any,
}

/// Whether an account can still reach Graph without the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum AccountState {
    SignedIn,
    /// The refresh token was revoked or expired: only a new sign-in helps.
    NeedsSignIn,
}

/// A signed-in account. Never carries a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// Stable id (the user's object id from Graph).
    pub id: String,
    pub display_name: String,
    /// Sign-in name (UPN or e-mail).
    pub username: String,
    /// `Personal` or `Work` once known.
    pub kind: AccountKind,
    pub state: AccountState,
}

/// What a watched target points at, in the forms Graph's socketIo endpoint accepts
/// (docs/PROTOCOL.md §2.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum TargetSpec {
    /// `/me/drive/root`
    MyDrive,
    /// `/drives/{driveId}/root`
    Drive { drive_id: String },
    /// `/drives/{driveId}/list`
    DriveList { drive_id: String },
    /// `/groups/{groupId}/drive/root`
    GroupDrive { group_id: String },
    /// `/sites/{siteId}/lists/{listId}/drive/root`
    SiteList { site_id: String, list_id: String },
}

/// How one watched target is doing, in terms a user can act on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(
    tag = "state",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum TargetStatus {
    Connecting,
    /// Push notifications over socket.io are flowing.
    Live,
    /// Push is unavailable; delta is polled on a timer until push comes back.
    Polling {
        reason: String,
    },
    Reconnecting {
        reason: String,
    },
    Throttled {
        until: DateTime<Utc>,
    },
    /// A full enumeration is under way (first sync or after a resync).
    Resyncing {
        pages: u32,
        items: u64,
    },
    NeedsSignIn,
    Error {
        reason: String,
    },
    Stopped,
}

/// A watched target as hosts list it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct TargetInfo {
    /// Stable id, unique across accounts.
    pub id: String,
    pub account: String,
    /// Human label, e.g. "OneDrive" or "Marketing › Documents".
    pub label: String,
    pub spec: TargetSpec,
    pub status: TargetStatus,
}

/// The device-code prompt the user acts on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct DeviceCodePrompt {
    pub user_code: String,
    pub verification_uri: String,
    pub expires_at: DateTime<Utc>,
    /// Microsoft's own instruction text, possibly localised.
    pub message: String,
}

/// Progress of one sign-in, from prompt to outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum SignInEvent {
    Prompt {
        prompt: DeviceCodePrompt,
    },
    SignedIn {
        account: Account,
    },
    /// The user said no on the sign-in page.
    Declined,
    /// The code ran out before it was used; a new one is needed.
    Expired,
    /// The network is down; polling goes on until the code expires.
    Offline,
    Failed {
        message: String,
    },
}

/// A page request over the change history, newest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase", default)]
pub struct HistoryQuery {
    /// Only changes with `seq` below this (the previous page's `next_before`).
    pub before: Option<i64>,
    /// Only changes that happened at or after this instant (a digest's span).
    pub since: Option<DateTime<Utc>>,
    /// Only changes that happened before this instant (a digest's span).
    pub until: Option<DateTime<Utc>>,
    /// Only changes in this folder or below it (`/Finance`), matched case-insensitively.
    pub folder: Option<String>,
    /// Only the changes of this group (see [`Change::group`]): a row's expansion.
    pub group: Option<i64>,
    /// Page size; hosts pass 50 or so, the engine caps it.
    pub limit: u32,
    /// Case-insensitive match on name, path, old path or who.
    pub text: Option<String>,
    /// Empty means every kind.
    pub kinds: Vec<ChangeKind>,
    pub account: Option<String>,
    pub target: Option<String>,
}

/// One page of history, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct HistoryPage {
    pub changes: Vec<Change>,
    /// Pass as `before` for the next (older) page; `None` at the end.
    pub next_before: Option<i64>,
}

/// What the engine tells its hosts, in order, over a broadcast channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(
    tag = "event",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum EngineEvent {
    Changes { batch: ChangeBatch },
    Status { target: TargetInfo },
    AccountChanged { account: Account },
}

/// A daily window without toasts, in local time, e.g. 22:00 to 07:00 (may cross midnight).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct QuietHours {
    /// "HH:MM", 24-hour clock.
    pub start: String,
    /// "HH:MM", 24-hour clock.
    pub end: String,
}

/// The UI language; `System` follows the OS.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum Language {
    #[default]
    System,
    En,
    Ru,
}

/// What the user chose about notifications and the app; persisted by the engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase", default)]
pub struct Preferences {
    /// Toast for the user's own changes too (they always go to the list).
    pub notify_own_changes: bool,
    pub quiet_hours: Option<QuietHours>,
    /// Folder paths (`/Photos`) or glob patterns (`*.tmp`) that never toast.
    pub muted_patterns: Vec<String>,
    pub start_at_login: bool,
    pub language: Language,
    /// Folders muted from a toast, the list or Settings, each until a time or for good; expired
    /// ones are ignored (and dropped on the next save).
    pub mutes: Vec<Mute>,
    /// How each target, or a folder within it, notifies: live toasts, a daily digest, or none;
    /// and which kinds of change toast. The most specific rule (longest folder) wins; without a
    /// rule a change is live and every kind toasts.
    pub rules: Vec<NotifyRule>,
    /// When the daily digest toast comes, "HH:MM" local time; it covers the 24 hours before.
    pub digest_at: String,
    /// Saves of one file by one person join one editing session (one toast, one row) while
    /// they come less than this many minutes apart.
    pub session_minutes: u32,
}

impl Default for Preferences {
    fn default() -> Self {
        Self {
            notify_own_changes: false,
            quiet_hours: None,
            muted_patterns: Vec::new(),
            start_at_login: false,
            language: Language::System,
            mutes: Vec::new(),
            rules: Vec::new(),
            digest_at: DEFAULT_DIGEST_AT.to_owned(),
            session_minutes: DEFAULT_SESSION_MINUTES,
        }
    }
}

/// The digest's default time: the start of a working day.
pub const DEFAULT_DIGEST_AT: &str = "09:00";

/// The default editing-session timeout: Office autosaves every few seconds to a minute while
/// someone types, and a pause for a coffee is still the same session.
pub const DEFAULT_SESSION_MINUTES: u32 = 10;

/// A muted folder: no toasts for changes in it or below it (the list still has them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Mute {
    /// Drive path of the folder, e.g. `/Photos`; `/` mutes the whole target.
    pub folder: String,
    /// The target it applies to; `None` for every target.
    pub target: Option<String>,
    /// When the mute ends by itself; `None` mutes for good.
    pub until: Option<DateTime<Utc>>,
}

/// How changes notify.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum NotifyMode {
    /// A toast as changes arrive (grouped, capped).
    #[default]
    Live,
    /// No live toast; one toast a day at [`Preferences::digest_at`] summing them up.
    Digest,
    /// No toast at all.
    Off,
}

/// How one target, or one folder of it, notifies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase", default)]
pub struct NotifyRule {
    /// The target's id ([`TargetInfo::id`]).
    pub target: String,
    /// A folder of the target (`/Finance`) and everything below it; `None` for the whole target.
    pub folder: Option<String>,
    pub mode: NotifyMode,
    /// The kinds of change that notify; empty means every kind.
    pub kinds: Vec<ChangeKind>,
}

impl Default for NotifyRule {
    fn default() -> Self {
        Self {
            target: String::new(),
            folder: None,
            mode: NotifyMode::Live,
            kinds: Vec::new(),
        }
    }
}

/// What kind of failure an error is, in the few terms both hosts act on: the CLI turns it into
/// its exit code, the window into the `kind` of the error it shows. Every error of the engine's
/// API has exactly one (see [`crate::error::EngineError::kind`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum ErrorKind {
    /// Bad input: a malformed value or link, an unknown or ambiguous account or target, a drive
    /// that is already watched.
    Usage,
    /// No account is signed in, or an account's refresh token was revoked or expired.
    SignInNeeded,
    /// The settings do not allow it: no client id, an invalid or insecure URL, an unreadable
    /// settings file.
    Configuration,
    /// The identity platform or Graph could not be reached, or did not answer in time.
    Network,
    /// The service said no: access denied, not found, not supported, a declined or expired
    /// sign-in, throttled beyond what is waited out.
    Refused,
    /// Stopped on purpose (the user cancelled, the engine is shutting down).
    Cancelled,
    /// A fault of DriveWatch or its storage.
    Internal,
}
