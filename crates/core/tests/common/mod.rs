//! Engine timings for the integration tests, in one place: short enough for tests and the same
//! shape everywhere, so a new knob of `PushConfig` or `EngineOptions` is added once. Each suite
//! overrides only what it is about, with struct-update syntax.

// Each test binary uses part of this module.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use drivewatch_core::config::{Config, TokenStoreKind};
use drivewatch_core::engine::EngineOptions;
use drivewatch_core::push::socketio::SocketIoTransport;
use drivewatch_core::push::{PushConfig, PushTransport};
use graph_emulator::Emulator;
use url::Url;

/// Push timings for tests: a quick subscribe timeout, renewal and backoff; polling and the
/// return to push an hour away, so only push starts the runs a test waits for.
pub fn push_config() -> PushConfig {
    PushConfig {
        subscribe_timeout: Duration::from_secs(5),
        renew_before: Duration::from_secs(2),
        renew_floor: Duration::from_secs(1),
        renew_without_expiry: Duration::from_secs(3600),
        poll_interval: Duration::from_secs(3600),
        push_retry_interval: Duration::from_secs(3600),
        failures_before_polling: 3,
        backoff_base: Duration::from_millis(100),
        backoff_max: Duration::from_millis(800),
    }
}

/// Engine options for tests over `transport`, with [`push_config`].
pub fn engine_options(transport: Arc<dyn PushTransport>) -> EngineOptions {
    EngineOptions {
        push: push_config(),
        run_spacing: Duration::from_millis(100),
        safety_net: Duration::from_secs(3600),
        transport,
        delta_retry_base: Duration::from_millis(200),
        delta_retry_max: Duration::from_secs(1),
    }
}

/// The socket.io transport with a 5 s connect timeout.
pub fn socket_io() -> Arc<SocketIoTransport> {
    Arc::new(SocketIoTransport {
        connect_timeout: Duration::from_secs(5),
    })
}

/// Settings that point at `emu`, with a test client id and the file token store (no OS keyring).
pub fn config(emu: &Emulator) -> Config {
    Config {
        authority_url: Url::parse(&emu.authority_url()).unwrap(),
        graph_url: Url::parse(&emu.graph_url()).unwrap(),
        client_id: Some("11111111-2222-3333-4444-555555555555".into()),
        token_store: TokenStoreKind::File,
        ..Config::default()
    }
}
