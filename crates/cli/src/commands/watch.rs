//! `watch`: the one command that runs the engine, printing its changes (text or NDJSON on
//! stdout) and status (stderr) until Ctrl-C or SIGTERM.
//!
//! A change is printed once: what the engine committed before the subscription is read back
//! from history, and anything at or below the last printed number is skipped. Stopping waits for
//! the engine a bounded time only.

use std::time::Duration;

use drivewatch_core::engine::{Engine, EngineOptions};
use drivewatch_core::model::{AccountState, EngineEvent, HistoryQuery};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use super::{stop_signal, workspace};
use crate::Context;
use crate::error::CliError;
use crate::output;

/// How long `watch` gives the engine to stop after Ctrl-C or SIGTERM.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(1200);

pub async fn watch(ctx: Context, json: bool) -> Result<(), CliError> {
    let workspace = workspace(&ctx);
    if workspace.accounts()?.is_empty() {
        return Err(CliError::NoAccount);
    }
    if ctx.config.targets.is_empty() {
        return Err(CliError::Usage(
            "nothing to watch; add a target with `drivewatch-cli targets add`".into(),
        ));
    }
    ctx.paths.ensure()?;
    let baseline = workspace.newest_seq().await?;
    let options = EngineOptions::from_config(&ctx.config);
    let engine = Engine::start(ctx.config, ctx.paths, options).await?;
    let events = engine.subscribe();
    eprintln!("Watching; press Ctrl-C to stop.");
    watch_loop(&engine, events, json, baseline, CancellationToken::new()).await
}

/// Prints engine events until Ctrl-C, SIGTERM or `stop`; then stops the engine (bounded wait).
/// Changes at or below `printed` are already known and skipped; changes committed between that
/// point and the subscription are read back from history so none is missed.
pub async fn watch_loop(
    engine: &Engine,
    mut events: broadcast::Receiver<EngineEvent>,
    json: bool,
    mut printed: i64,
    stop: CancellationToken,
) -> Result<(), CliError> {
    let catch_up = engine
        .history(HistoryQuery {
            limit: 500,
            ..HistoryQuery::default()
        })
        .await?;
    let mut early: Vec<_> = catch_up
        .changes
        .into_iter()
        .filter(|c| c.seq > printed)
        .collect();
    early.sort_by_key(|c| c.seq);
    if let Some(last) = early.last() {
        output::write_changes(&mut std::io::stdout().lock(), &early, json)?;
        printed = last.seq;
    }
    let signal = stop_signal();
    tokio::pin!(signal);
    let result = loop {
        tokio::select! {
            _ = &mut signal => break Ok(()),
            _ = stop.cancelled() => break Ok(()),
            event = events.recv() => match event {
                Ok(EngineEvent::Changes { batch }) => {
                    let fresh: Vec<_> = batch.changes.into_iter().filter(|c| c.seq > printed).collect();
                    if let Some(last) = fresh.last() {
                        printed = last.seq;
                        if let Err(e) = output::write_changes(&mut std::io::stdout().lock(), &fresh, json) {
                            // stdout closed (a pipe reader went away): stop cleanly.
                            break Err(CliError::Output(e));
                        }
                    }
                }
                Ok(EngineEvent::Status { target }) => eprintln!("{}", output::target_status_line(&target)),
                Ok(EngineEvent::AccountChanged { account }) => {
                    if account.state == AccountState::NeedsSignIn {
                        eprintln!("{} must sign in again: run `drivewatch-cli login`.", output::clean(&account.username));
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    eprintln!("(fell behind by {n} events; `drivewatch-cli history` has every change)");
                }
                Err(broadcast::error::RecvError::Closed) => break Ok(()),
            },
        }
    };
    eprintln!("Stopping...");
    if tokio::time::timeout(SHUTDOWN_GRACE, engine.shutdown())
        .await
        .is_err()
    {
        eprintln!("(some connections did not close in time)");
    }
    result
}
