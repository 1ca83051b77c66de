//! `--demo`: DriveWatch against the built-in Graph emulator on 127.0.0.1, with no Microsoft
//! account. The demo user signs in through the real device-code flow (the emulator approves it),
//! the engine watches their OneDrive and the Marketing library, and the emulator's scripted
//! activity plays until Ctrl-C.
//!
//! Push is as slow as Microsoft's by default (docs/PROTOCOL.md §2): one notification per changed
//! item, each 5-40 s after the change, so the demo shows what real users get.
//! `DRIVEWATCH_DEMO_PUSH=instant` delivers at once instead, for scripted tests and quick looks.
//!
//! Demo mode keeps its settings and data in a fresh temporary folder unless `DRIVEWATCH_HOME` is
//! set, so it never touches a real setup. It must never talk to anything but loopback.

use drivewatch_core::config::{Config, ENV_HOME, Paths, TokenStoreKind};
use drivewatch_core::engine::{Engine, EngineOptions, TargetInput};
use drivewatch_core::model::{AccountKind, SignInEvent, TargetSpec};
use graph_emulator::seed::demo as seed;
use graph_emulator::{ENV_DEMO_PUSH, Emulator, EmulatorConfig};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::error::CliError;
use crate::{Command, GlobalArgs, commands, output};

/// The client id the emulator is given in demo mode (it accepts any).
const DEMO_CLIENT_ID: &str = "drivewatch-demo";

pub async fn run(_global: &GlobalArgs, command: Option<Command>) -> Result<(), CliError> {
    let json = match command {
        None => false,
        Some(Command::Watch { json }) => json,
        Some(_) => {
            return Err(CliError::Usage(
                "--demo runs `watch` only: `drivewatch-cli --demo [watch --json]`".into(),
            ));
        }
    };
    let temp;
    let paths = match std::env::var_os(ENV_HOME).filter(|h| !h.is_empty()) {
        Some(home) => Paths::under(home),
        None => {
            temp = tempfile::tempdir().map_err(|e| CliError::Demo(e.to_string()))?;
            Paths::under(temp.path())
        }
    };
    paths.ensure()?;

    let config = EmulatorConfig::for_demo(std::env::var(ENV_DEMO_PUSH).ok().as_deref());
    let instant = !config.realistic_push;
    let emulator = Emulator::start(config)
        .await
        .map_err(|e| CliError::Demo(e.to_string()))?;
    eprintln!(
        "Demo: a stand-in for Microsoft runs at {} (open it in a browser to change files yourself).",
        emulator.authority_url()
    );
    if instant {
        eprintln!("Demo: changes are notified at once ({ENV_DEMO_PUSH}=instant).");
    } else {
        let t = emulator.push_timing();
        eprintln!(
            "Demo: as with Microsoft, each change is notified {}-{} s after it happens \
             ({ENV_DEMO_PUSH}=instant for no delay).",
            t.realistic_delay_min.as_secs(),
            t.realistic_delay_max.as_secs()
        );
    }
    let config = Config {
        authority_url: Url::parse(&emulator.authority_url())
            .map_err(|e| CliError::Demo(e.to_string()))?,
        graph_url: Url::parse(&emulator.graph_url()).map_err(|e| CliError::Demo(e.to_string()))?,
        client_id: Some(DEMO_CLIENT_ID.into()),
        token_store: TokenStoreKind::File,
        ..Config::default()
    };
    config.save(&paths.config_file())?;

    let options = EngineOptions::from_config(&config);
    let engine = Engine::start(config, paths, options).await?;
    let events = engine.subscribe();
    let print = |e: SignInEvent| eprintln!("{}", output::sign_in_text(&e));
    let account = engine.sign_in(AccountKind::Any, &print).await?;
    if let Err(e) = engine
        .add_target(
            &account.id,
            TargetInput::Spec(TargetSpec::Drive {
                drive_id: seed::SITE_DRIVE_ID.into(),
            }),
        )
        .await
    {
        eprintln!("(the Marketing library is not watched: {e})");
    }

    let activity = CancellationToken::new();
    let handle = emulator.handle();
    let player = {
        let activity = activity.clone();
        tokio::spawn(async move {
            graph_emulator::scenario::play_demo_activity(&handle, activity).await
        })
    };
    eprintln!("Watching; scripted activity starts now. Press Ctrl-C to stop.");
    let result = commands::watch_loop(&engine, events, json, 0, CancellationToken::new()).await;
    activity.cancel();
    let _ = player.await;
    emulator.shutdown().await;
    result
}
