//! drivewatch-core: everything DriveWatch does that is not drawing on a screen.
//!
//! The desktop shell and `drivewatch-cli` are two hosts of this crate. It must never depend on
//! tauri or any other GUI crate (a test in `tests/no_gui_dependencies.rs` enforces it), and it
//! never starts the Graph emulator: hosts do that in demo mode.
//!
//! # Layout
//! - [`model`]: the domain vocabulary shared with hosts (changes, batches, target status).
//! - [`transport`]: the bottom layer auth and graph share: the HTTP client, secrets, redaction,
//!   and the access-token port through which Graph gets tokens without knowing auth.
//! - [`config`]: paths (`DRIVEWATCH_HOME` or platform folders), the TOML settings file, env
//!   overrides, and the https-or-loopback rule for every endpoint.
//! - [`auth`]: device-code sign-in, per-account token sources that refresh themselves, the token
//!   store (OS keyring or 0600 files) and the accounts registry; [`auth::Auth`] is the entry point.
//!   It never imports [`graph`].
//! - [`graph`]: the one request path to Graph ([`graph::GraphClient`]: Retry-After gate, backoff,
//!   refresh-once on 401, typed errors) and its wire types. It never imports [`auth`].
//! - [`classify`]: delta items + the item index → created / modified / renamed / moved / deleted.
//! - [`history`]: SQLite: the append-only change history, delta cursors and item index.
//! - [`delta`]: per-target delta runs (paging, resync, atomic commit), the tap debouncer, and the
//!   `TargetSource` port through which delta and push reach Graph.
//! - [`workspace`]: the use-cases both hosts share over settings, accounts and history (sign in
//!   and watch the own OneDrive, sign out, add/remove targets, name an account); no watching.
//! - [`error`]: [`error::EngineError`] and the [`model::ErrorKind`] each of its values has, which
//!   hosts map to exit codes and window error kinds.
//! - [`engine`]: the API hosts use to watch: a workspace plus one supervised set of tasks per
//!   target, events and status.
//! - [`push`]: socket.io push behind `PushTransport`, and the per-target `PushSupervisor`.
//! - [`process`]: process-wide settings hosts apply at start (one malloc arena).
//! - [`wake`]: noticing a resume from sleep or a clock set (a clock-change timerfd on Linux).

pub mod auth;
pub mod classify;
pub mod config;
pub mod delta;
pub mod engine;
pub mod error;
pub mod graph;
pub mod history;
pub mod model;
pub mod process;
pub mod push;
pub mod toast_policy;
pub mod transport;
pub mod wake;
pub mod workspace;
