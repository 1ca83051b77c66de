//! drivewatch-core: everything DriveWatch does that is not drawing on a screen.
//!
//! The desktop shell and `drivewatch-cli` are two hosts of this crate. It must never depend on
//! tauri or any other GUI crate (a test in `tests/no_gui_dependencies.rs` enforces it), and it
//! never starts the Graph emulator: hosts do that in demo mode.
//!
//! # Layout
//!
//! In the order a change flows through them; `docs/ARCHITECTURE.md` has the whole map, and
//! `docs/PROTOCOL.md` the facts about Microsoft's services that modules cite.
//!
//! The vocabulary every layer uses:
//! - [`model`]: what hosts see (changes, batches, accounts, targets and their status, events).
//! - [`config`]: paths (`DRIVEWATCH_HOME` or platform folders), the TOML settings file, env
//!   overrides, and the https-or-loopback rule for every endpoint.
//!
//! Reaching Microsoft, each layer importing only those above it:
//! - [`transport`]: the leaf: [`transport::Secret`], redaction of URLs and text, the one shared
//!   HTTP client and the mapping of its errors (never with a URL that could carry a token).
//! - [`auth`]: device-code sign-in, per-account token sources that refresh themselves (the
//!   access-token port Graph asks), the token store (OS keyring or 0600 files); no Graph.
//! - [`graph`]: the one request path to Graph ([`graph::GraphClient`]: Retry-After gate,
//!   backoff, refresh-once on 401, typed errors) and its wire types.
//! - [`workspace`]: settings, accounts registry and history as use-cases: sign-in with the
//!   default-target rule, sign-out, add and remove targets, account resolution. No watching.
//!
//! The watch loop of one target, in data-flow order:
//! - [`push`]: the per-target `PushSupervisor` (subscribe, stay live, renew, fall back to polling)
//!   over a `PushTransport`: rust_socketio's websocket directly, or a CONNECT tunnel through a
//!   proxy. Every notification is a tap.
//! - [`delta`]: the tap debouncer, per-target delta runs (paging, resync, atomic commit) and the
//!   `TargetSource` port through which delta and push reach Graph.
//! - [`classify`]: delta items + the item index → created / modified / renamed / moved / deleted;
//!   the index, incremental runs, and the baseline and resync diff.
//! - [`history`]: SQLite: the append-only change history, delta cursors and item index, one
//!   transaction per run.
//! - [`error`]: [`error::EngineError`] and the [`model::ErrorKind`] each of its values has, which
//!   hosts map to exit codes and window error kinds.
//! - [`engine`]: the API hosts use (start/stop, sign in/out, targets, events, history), each
//!   target's tasks and status, and the broadcast hosts listen to.
//!
//! What hosts make of a batch:
//! - [`toast_policy`]: which toasts a batch deserves (grouping and updates, rate caps, pause,
//!   quiet hours, muted folders, own changes) and their words; a pure function of time passed in.
//! - [`i18n`]: the Fluent catalogs (English, Russian) for toasts, tray and window.
//!
//! Around the loop:
//! - [`wake`]: telling a resume from sleep (boot clock gaining on the monotonic clock) from a
//!   wall-clock step, each rate-limited.
//! - [`process`]: process-wide memory settings: one malloc arena from the start, free heap given
//!   back after every thousand items delta runs handle.

pub mod auth;
pub mod classify;
pub mod config;
pub mod delta;
pub mod engine;
pub mod error;
pub mod graph;
pub mod history;
pub mod i18n;
pub mod model;
pub mod process;
pub mod push;
pub mod toast_policy;
pub mod transport;
pub mod wake;
pub mod workspace;
