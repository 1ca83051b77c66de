//! Chooses and starts the engine the shell runs over: the real one, or the demo.
//!
//! The real start reads the settings (`DRIVEWATCH_HOME` or the platform folders, then the
//! `DRIVEWATCH_*` overrides). `--demo` starts the Graph emulator on 127.0.0.1, points a fresh
//! settings folder at it, signs the demo user in through the real device-code flow (the
//! emulator approves it), watches their OneDrive and the shared Marketing library, and plays
//! the emulator's scripted activity. Its push is as slow as Microsoft's (docs/PROTOCOL.md §2:
//! one notification per changed item, 5-40 s after the change) unless
//! `DRIVEWATCH_DEMO_PUSH=instant`, for scripted tests and quick looks. It must never start the
//! emulator outside `--demo`, never let demo mode touch a real setup, and never print secrets.

use std::sync::Arc;

use drivewatch_core::config::{Config, ConfigError, ENV_HOME, Overrides, Paths, TokenStoreKind};
use drivewatch_core::engine::TargetInput;
use drivewatch_core::model::{AccountKind, SignInEvent, TargetSpec};
use graph_emulator::seed::demo as seed;
use graph_emulator::{ENV_DEMO_PUSH, Emulator, EmulatorConfig};
use tokio_util::sync::CancellationToken;

use crate::core_link::CoreLink;
use crate::engine::EngineError;
use crate::shell::Shell;

/// The application id the emulator is given in demo mode (it accepts any).
const DEMO_CLIENT_ID: &str = "00000000-0000-0000-0000-00000000d3e0";

/// Why DriveWatch could not start its engine.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("the engine did not start: {0}")]
    Engine(#[from] EngineError),
    #[error("the demo emulator did not start: {0}")]
    Emulator(String),
    #[error("cannot create the demo folder: {0}")]
    DemoFolder(std::io::Error),
}

/// Starts the engine (and in demo mode the embedded emulator) and returns the shell over it.
/// Runs on Tauri's async runtime, so the engine's tasks live there.
pub fn start_engine(demo: bool) -> Result<Shell, StartError> {
    tauri::async_runtime::block_on(async move {
        if demo {
            start_demo().await
        } else {
            start_real().await
        }
    })
}

async fn start_real() -> Result<Shell, StartError> {
    let paths = Paths::from_env()?;
    paths.ensure()?;
    let mut config = Config::load(&paths.config_file())?;
    config.apply(&Overrides::from_env()?)?;
    let link = CoreLink::start(config, paths).await?;
    Ok(Shell::new(Arc::new(link), false))
}

async fn start_demo() -> Result<Shell, StartError> {
    // A throw-away folder unless DRIVEWATCH_HOME names one: the demo never touches a real setup.
    let temp = match std::env::var_os(ENV_HOME).filter(|h| !h.is_empty()) {
        Some(_) => None,
        None => Some(tempfile::tempdir().map_err(StartError::DemoFolder)?),
    };
    let paths = match &temp {
        Some(dir) => Paths::under(dir.path()),
        None => Paths::from_env()?,
    };
    paths.ensure()?;
    let config = EmulatorConfig::for_demo(std::env::var(ENV_DEMO_PUSH).ok().as_deref());
    let realistic = config.realistic_push;
    let emulator = Emulator::start(config)
        .await
        .map_err(|e| StartError::Emulator(e.to_string()))?;
    tracing::info!(
        authority = %emulator.authority_url(),
        realistic,
        "demo: the stand-in for Microsoft runs on loopback (open it in a browser to change files); \
         realistic: changes are notified 5-40 s late, as by Microsoft (DRIVEWATCH_DEMO_PUSH=instant \
         for no delay)"
    );
    let parse = |u: String| url::Url::parse(&u).map_err(|e| StartError::Emulator(e.to_string()));
    // A demo folder named by DRIVEWATCH_HOME keeps the Settings chosen in an earlier demo
    // (language, muted folders); everything else points at this run's emulator.
    let preferences = Config::load(&paths.config_file())
        .map(|c| c.preferences)
        .unwrap_or_default();
    let config = Config {
        authority_url: parse(emulator.authority_url())?,
        graph_url: parse(emulator.graph_url())?,
        client_id: Some(DEMO_CLIENT_ID.to_owned()),
        token_store: TokenStoreKind::File,
        preferences,
        ..Config::default()
    };
    config.save(&paths.config_file())?;
    let link = Arc::new(CoreLink::start(config, paths).await?);

    let activity = CancellationToken::new();
    let handle = emulator.handle();
    {
        let activity = activity.clone();
        link.on_shutdown(Box::new(move || {
            Box::pin(async move {
                activity.cancel();
                emulator.shutdown().await;
                drop(temp);
            })
        }));
    }
    let shell = Shell::new(link.clone(), true);
    let ready = shell.ready();
    let cancel = shell.cancel.clone();
    shell.spawn(async move {
        // Wait for the window and tray to listen, so the first changes are not missed.
        tokio::select! {
            () = cancel.cancelled() => return,
            () = ready.cancelled() => {}
        }
        tokio::select! {
            () = cancel.cancelled() => {}
            () = run_demo(&link, handle, activity) => {}
        }
    });
    Ok(shell)
}

/// Signs the demo user in, adds the shared library, then plays the scripted activity.
async fn run_demo(
    link: &CoreLink,
    handle: graph_emulator::EmulatorHandle,
    activity: CancellationToken,
) {
    let engine = link.engine();
    let log = |event: SignInEvent| {
        if let SignInEvent::Prompt { .. } = event {
            tracing::info!("demo: signing the demo user in (the emulator approves the code)");
        }
    };
    let account = match engine.sign_in(AccountKind::Any, &log).await {
        Ok(account) => account,
        Err(e) => {
            tracing::error!(error = %e, "demo: the demo user could not sign in");
            return;
        }
    };
    let library = TargetInput::Spec(TargetSpec::Drive {
        drive_id: seed::SITE_DRIVE_ID.to_owned(),
    });
    if let Err(e) = engine.add_target(&account.id, library).await {
        tracing::warn!(error = %e, "demo: the Marketing library is not watched");
    }
    tracing::info!("demo: scripted activity starts now");
    graph_emulator::scenario::play_demo_activity(&handle, activity).await;
}
