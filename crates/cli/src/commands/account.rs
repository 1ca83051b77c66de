//! `login`, `logout`, `accounts` and `status`: the account commands.
//!
//! They call the workspace directly and start no watch (see the module above); `status` asks
//! Graph about each account but never changes anything. Names from the directory are untrusted
//! and cleaned before they reach the terminal.

use std::time::Duration;

use drivewatch_core::auth::AuthError;
use drivewatch_core::engine::EngineError;
use drivewatch_core::model::{AccountKind, AccountState, SignInEvent};
use drivewatch_core::workspace::AccountCheck;
use tokio_util::sync::CancellationToken;

use super::{stop_signal, workspace};
use crate::Context;
use crate::error::CliError;
use crate::output;

/// How long `status` waits for Graph per account.
const STATUS_CHECK_TIMEOUT: Duration = Duration::from_secs(15);

pub async fn login(ctx: &Context) -> Result<(), CliError> {
    ctx.paths.ensure()?;
    let workspace = workspace(ctx);
    let cancel = CancellationToken::new();
    let stopper = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            stop_signal().await;
            cancel.cancel();
        })
    };
    let print = |e: SignInEvent| eprintln!("{}", output::sign_in_text(&e));
    // `--tenant` already chose which accounts may sign in.
    let result = workspace.sign_in(AccountKind::Any, &print, &cancel).await;
    stopper.abort();
    let done = match result {
        Ok(done) => done,
        Err(EngineError::Auth(AuthError::Cancelled)) => return Err(CliError::Interrupted),
        // The event already said what happened; the exit code says it to scripts.
        Err(e) => return Err(e.into()),
    };
    if let Some(target) = done.added {
        eprintln!("Watching this account's OneDrive (target {}).", target.id);
    }
    Ok(())
}

pub async fn logout(ctx: &Context, account: Option<&str>) -> Result<(), CliError> {
    let workspace = workspace(ctx);
    let record = workspace.find_account(account)?;
    let out = workspace.sign_out(&record.account.id).await?;
    eprintln!(
        "Signed out {} ({}); {} target(s) removed.",
        output::clean(&out.record.account.display_name),
        output::clean(&out.record.account.username),
        out.removed.len()
    );
    Ok(())
}

pub fn accounts(ctx: &Context, json: bool) -> Result<(), CliError> {
    let list: Vec<_> = workspace(ctx)
        .accounts()?
        .into_iter()
        .map(|r| r.account)
        .collect();
    if json {
        println!(
            "{}",
            serde_json::to_string(&list).unwrap_or_else(|_| "[]".into())
        );
    } else if list.is_empty() {
        eprintln!("No account is signed in; run `drivewatch-cli login`.");
    } else {
        for a in &list {
            println!(
                "{}  {}  {}  {}  {}",
                a.id,
                output::clean(&a.username),
                output::clean(&a.display_name),
                serde_json::to_value(a.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                match a.state {
                    AccountState::SignedIn => "signed in",
                    AccountState::NeedsSignIn => "needs sign-in",
                }
            );
        }
    }
    Ok(())
}

pub async fn status(ctx: &Context) -> Result<(), CliError> {
    let workspace = workspace(ctx);
    let store = workspace.token_store_kind().await?;
    println!("settings:     {}", ctx.paths.config_file().display());
    println!("data:         {}", ctx.paths.data_dir.display());
    println!(
        "identity:     {} (tenant {})",
        ctx.config.authority_url, ctx.config.tenant
    );
    println!("graph:        {}", ctx.config.graph_url);
    println!(
        "client id:    {}",
        ctx.config
            .client_id
            .as_deref()
            .unwrap_or("(not set: see README, \"Using a real Microsoft account\")")
    );
    println!(
        "token store:  {}",
        serde_json::to_value(store)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    );
    let accounts = workspace.accounts()?;
    if accounts.is_empty() {
        println!("accounts:     none");
        return Err(CliError::NoAccount);
    }
    let mut needs_sign_in = None;
    for r in &accounts {
        let state = match workspace
            .check_account(&r.account.id, STATUS_CHECK_TIMEOUT)
            .await
        {
            AccountCheck::Ok => "ok".to_string(),
            AccountCheck::NeedsSignIn => {
                needs_sign_in.get_or_insert_with(|| r.account.username.clone());
                "needs sign-in".to_string()
            }
            AccountCheck::Unreachable(reason) => format!("not checked: {}", output::clean(&reason)),
        };
        println!(
            "account:      {} ({})  {state}",
            output::clean(&r.account.display_name),
            output::clean(&r.account.username),
        );
    }
    for t in &ctx.config.targets {
        println!("target:       {}  {}", t.id, output::clean(&t.label));
    }
    match needs_sign_in {
        Some(who) => Err(CliError::AccountNeedsSignIn(output::clean(&who))),
        None => Ok(()),
    }
}
