//! The fixture of the sign-in and Graph tests (`auth_graph_emulator.rs`): an emulator and a
//! workspace signed in through it over a file token store, and a recorder of sign-in events.

use std::sync::{Arc, Mutex};

use drivewatch_core::auth::{Auth, TokenStore};
use drivewatch_core::config::{Config, Paths};
use drivewatch_core::graph::build_http_client;
use drivewatch_core::model::SignInEvent;
use drivewatch_core::workspace::{SaveSettings, Workspace};
use graph_emulator::{Emulator, EmulatorConfig};

pub struct Fixture {
    pub emu: Emulator,
    pub workspace: Workspace,
    pub paths: Paths,
    _dir: tempfile::TempDir,
}

pub async fn fixture(config: EmulatorConfig) -> Fixture {
    let emu = Emulator::start(config).await.expect("emulator starts");
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths::under(dir.path());
    let config = Config {
        client_id: Some("drivewatch-tests".into()),
        ..crate::common::config(&emu)
    };
    let workspace = workspace(config, &paths);
    Fixture {
        emu,
        workspace,
        paths,
        _dir: dir,
    }
}

/// Sign-in through the layer that joins auth and Graph, over a file token store.
pub fn workspace(config: Config, paths: &Paths) -> Workspace {
    let auth = Auth::with_parts(
        &config,
        build_http_client().unwrap(),
        TokenStore::file(paths.tokens_dir()),
        paths.accounts_file(),
    )
    .unwrap();
    Workspace::with_parts(config, paths.clone(), auth, None, SaveSettings::All)
}

pub type Events = Arc<Mutex<Vec<SignInEvent>>>;

pub fn recorder() -> (Events, impl Fn(SignInEvent) + Send + Sync) {
    let events: Events = Arc::default();
    let e2 = events.clone();
    (events, move |e| e2.lock().unwrap().push(e))
}

pub fn kinds(events: &Events) -> Vec<String> {
    events
        .lock()
        .unwrap()
        .iter()
        .map(|e| {
            serde_json::to_value(e).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

pub async fn stored_refresh_token(f: &Fixture, account: &str) -> String {
    TokenStore::file(f.paths.tokens_dir())
        .load(account)
        .await
        .unwrap()
        .expect("tokens stored")
        .refresh_token
        .expose()
        .to_string()
}
