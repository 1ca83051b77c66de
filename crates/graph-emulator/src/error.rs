//! Errors of the emulator's Rust API (starting it, loading a seed, acting as a user).
//!
//! HTTP-facing errors live with their layer (`graph::GraphError`, `identity::OAuthError`) because
//! they must render exactly as Microsoft's; this enum is for Rust callers and must never carry a
//! token or other secret in its text.

use std::path::PathBuf;

/// What went wrong when a Rust caller (a test, demo mode, the binary) used the emulator.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// The listening socket could not be bound.
    #[error("could not listen on 127.0.0.1:{port}: {source}")]
    Bind {
        port: u16,
        #[source]
        source: std::io::Error,
    },
    /// A seed file could not be read.
    #[error("could not read seed file {path}: {source}")]
    SeedRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A seed file is not valid TOML/JSON of the seed's shape.
    #[error("seed file {path} is malformed: {reason}")]
    SeedParse { path: PathBuf, reason: String },
    /// The seed describes something inconsistent (duplicate ids, unknown references...).
    #[error("seed is inconsistent: {0}")]
    SeedInvalid(String),
    /// No user with this id or username.
    #[error("unknown user {0:?}")]
    UnknownUser(String),
    /// No drive with this id.
    #[error("unknown drive {0:?}")]
    UnknownDrive(String),
    /// No (live) item at this path or with this id.
    #[error("no item {0:?}")]
    ItemNotFound(String),
    /// The user has no access to the drive.
    #[error("user {user:?} has no access to drive {drive:?}")]
    AccessDenied { user: String, drive: String },
    /// An item with this name already exists in the target folder.
    #[error("an item named {0:?} already exists there")]
    NameConflict(String),
    /// The name is empty or contains characters OneDrive forbids.
    #[error("invalid item name {0:?}")]
    InvalidName(String),
    /// The operation does not apply to this item (a file used as a folder, moving the root,
    /// moving a folder into itself, moving across drives).
    #[error("invalid operation: {0}")]
    InvalidOperation(&'static str),
    /// No pending device code has this user code.
    #[error("no pending sign-in with code {0:?}")]
    UnknownUserCode(String),
    /// The user may not sign in through this device code's tenant.
    #[error("user {user:?} cannot sign in through tenant {tenant:?}")]
    WrongTenant { user: String, tenant: String },
}
