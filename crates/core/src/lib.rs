//! drivewatch-core: everything DriveWatch does that is not drawing on a screen.
//!
//! The desktop shell and `drivewatch-cli` are two hosts of this crate. It must never depend on
//! tauri or any other GUI crate (a test in `tests/no_gui_dependencies.rs` enforces it), and it
//! never starts the Graph emulator: hosts do that in demo mode.
//!
//! # Layout
//! - [`model`]: the domain vocabulary shared with hosts (changes, batches, target status).
//! - [`config`]: paths (`DRIVEWATCH_HOME` or platform folders), the TOML settings file, env
//!   overrides, and the https-or-loopback rule for every endpoint.
//! - [`auth`]: device-code sign-in, per-account token sources that refresh themselves, the token
//!   store (OS keyring or 0600 files) and the accounts registry; [`auth::Auth`] is the entry point.
//! - [`graph`]: the one request path to Graph ([`graph::GraphClient`]: Retry-After gate, backoff,
//!   refresh-once on 401, typed errors), its wire types and the redaction helper.
//! - [`classify`]: delta items + the item index → created / modified / renamed / moved / deleted.
//! - [`i18n`]: the message catalogs (English, Russian) toasts, tray and window share, and the
//!   choice of language (the setting, then the OS).
//! - [`history`]: SQLite: the append-only change history, delta cursors and item index.
//! - [`delta`]: per-target delta runs (paging, resync, atomic commit), the tap debouncer, and the
//!   `TargetSource` port through which delta and push reach Graph.
//! - [`engine`]: the API hosts use: start/stop, sign in/out, targets, events, history.
//! - [`push`]: socket.io push behind `PushTransport`, and the per-target `PushSupervisor`.
//! - [`process`]: process-wide settings hosts apply at start (one malloc arena).
//! - [`wake`]: noticing a resume from sleep or a clock set (a clock-change timerfd on Linux).

pub mod auth;
pub mod classify;
pub mod config;
pub mod delta;
pub mod engine;
pub mod graph;
pub mod history;
pub mod i18n;
pub mod model;
pub mod process;
pub mod push;
pub mod toast_policy;
pub mod wake;
