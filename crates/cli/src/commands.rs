//! The CLI's commands over drivewatch-core.
//!
//! `watch` runs the engine. The short commands (login, logout, accounts, targets, history,
//! status) work on the settings, the accounts registry, the token store and the history directly,
//! so they never start watching: a catch-up that a short command consumed would be lost to the
//! next `watch`. Settings are re-read from the file before each change so values that came from
//! flags or the environment are never written back.

use std::time::Duration;

use clap::ArgGroup;
use drivewatch_core::auth::{AccountRecord, Auth, AuthError};
use drivewatch_core::config::{Config, Paths, TargetConfig};
use drivewatch_core::engine::{Engine, EngineOptions, target_id};
use drivewatch_core::graph::GraphError;
use drivewatch_core::history::HistoryStore;
use drivewatch_core::model::{AccountState, EngineEvent, HistoryQuery, SignInEvent, TargetSpec};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::Context;
use crate::error::CliError;
use crate::output;

/// How long `status` waits for Graph per account.
const STATUS_CHECK_TIMEOUT: Duration = Duration::from_secs(15);
/// How long `watch` gives the engine to stop after Ctrl-C or SIGTERM.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(1200);

/// What `targets add` watches: exactly one of the forms.
#[derive(Debug, Clone, clap::Args)]
#[command(group(ArgGroup::new("what").required(true).args(["me", "drive", "drive_list", "group", "site", "url"])))]
pub struct AddTarget {
    /// The signed-in user's own OneDrive.
    #[arg(long)]
    me: bool,
    /// A drive by id (`/drives/{id}/root`).
    #[arg(long, value_name = "DRIVE_ID")]
    drive: Option<String>,
    /// A document library's list by drive id (`/drives/{id}/list`).
    #[arg(long, value_name = "DRIVE_ID")]
    drive_list: Option<String>,
    /// A Microsoft 365 group's drive (`/groups/{id}/drive/root`).
    #[arg(long, value_name = "GROUP_ID")]
    group: Option<String>,
    /// A SharePoint site's list (`/sites/{site}/lists/{list}/drive/root`); needs --list.
    #[arg(long, value_name = "SITE_ID", requires = "list")]
    site: Option<String>,
    #[arg(long, value_name = "LIST_ID", requires = "site")]
    list: Option<String>,
    /// A pasted OneDrive or SharePoint link.
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// Which account (id or sign-in name); may be left out with one account.
    #[arg(long)]
    account: Option<String>,
    /// A name to show instead of the drive's own.
    #[arg(long)]
    label: Option<String>,
}

impl AddTarget {
    fn spec(&self) -> Option<TargetSpec> {
        if self.me {
            return Some(TargetSpec::MyDrive);
        }
        if let Some(d) = &self.drive {
            return Some(TargetSpec::Drive {
                drive_id: d.clone(),
            });
        }
        if let Some(d) = &self.drive_list {
            return Some(TargetSpec::DriveList {
                drive_id: d.clone(),
            });
        }
        if let Some(g) = &self.group {
            return Some(TargetSpec::GroupDrive {
                group_id: g.clone(),
            });
        }
        if let (Some(s), Some(l)) = (&self.site, &self.list) {
            return Some(TargetSpec::SiteList {
                site_id: s.clone(),
                list_id: l.clone(),
            });
        }
        None
    }
}

/// Re-reads the settings file, changes it, saves it; the run's own copy follows.
fn update_file_config(ctx: &mut Context, change: impl Fn(&mut Config)) -> Result<(), CliError> {
    let path = ctx.paths.config_file();
    ctx.paths.ensure()?;
    let mut on_disk = Config::load(&path)?;
    change(&mut on_disk);
    on_disk.save(&path)?;
    change(&mut ctx.config);
    Ok(())
}

fn pick_account(auth: &Auth, wanted: Option<&str>) -> Result<AccountRecord, CliError> {
    let accounts = auth.accounts()?;
    match wanted {
        Some(w) => accounts
            .into_iter()
            .find(|r| r.account.id == w || r.account.username.eq_ignore_ascii_case(w))
            .ok_or_else(|| {
                CliError::Usage(format!(
                    "no signed-in account {w}; see `drivewatch-cli accounts`"
                ))
            }),
        None => match accounts.len() {
            0 => Err(CliError::NoAccount),
            1 => Ok(accounts.into_iter().next().expect("one account")),
            _ => Err(CliError::Usage(format!(
                "several accounts are signed in ({}); name one",
                accounts
                    .iter()
                    .map(|r| output::clean(&r.account.username))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        },
    }
}

/// Ctrl-C or SIGTERM.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

pub async fn login(ctx: &mut Context) -> Result<(), CliError> {
    ctx.paths.ensure()?;
    let auth = Auth::open(&ctx.config, &ctx.paths).await?;
    let cancel = CancellationToken::new();
    let stopper = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            stop_signal().await;
            cancel.cancel();
        })
    };
    let print = |e: SignInEvent| eprintln!("{}", output::sign_in_text(&e));
    let result = auth.sign_in(&print, &cancel).await;
    stopper.abort();
    let done = match result {
        Ok(done) => done,
        Err(AuthError::Cancelled) => return Err(CliError::Interrupted),
        // The event already said what happened; the exit code says it to scripts.
        Err(e) => return Err(e.into()),
    };
    let account = done.account.id.clone();
    if !ctx.config.targets.iter().any(|t| t.account == account) {
        let target = TargetConfig {
            id: target_id(&account, &TargetSpec::MyDrive),
            account: account.clone(),
            label: "OneDrive".into(),
            spec: TargetSpec::MyDrive,
        };
        update_file_config(ctx, |c| {
            if !c.targets.iter().any(|t| t.id == target.id) {
                c.targets.push(target.clone());
            }
        })?;
        eprintln!(
            "Watching this account's OneDrive (target {}).",
            target_id(&account, &TargetSpec::MyDrive)
        );
    }
    Ok(())
}

pub async fn logout(ctx: &mut Context, account: Option<&str>) -> Result<(), CliError> {
    let auth = Auth::open(&ctx.config, &ctx.paths).await?;
    let record = pick_account(&auth, account)?;
    let id = record.account.id.clone();
    let removed: Vec<String> = ctx
        .config
        .targets
        .iter()
        .filter(|t| t.account == id)
        .map(|t| t.id.clone())
        .collect();
    update_file_config(ctx, |c| c.targets.retain(|t| t.account != id))?;
    forget_cursors(&ctx.paths, &removed).await?;
    auth.sign_out(&id).await?;
    eprintln!(
        "Signed out {} ({}); {} target(s) removed.",
        output::clean(&record.account.display_name),
        output::clean(&record.account.username),
        removed.len()
    );
    Ok(())
}

async fn forget_cursors(paths: &Paths, targets: &[String]) -> Result<(), CliError> {
    let db = paths.history_db();
    if targets.is_empty() || !db.exists() {
        return Ok(());
    }
    let targets = targets.to_vec();
    tokio::task::spawn_blocking(move || -> Result<(), CliError> {
        let store = HistoryStore::open(&db)?;
        for t in &targets {
            store.forget_target(t)?;
        }
        Ok(())
    })
    .await
    .map_err(|_| CliError::Worker)?
}

pub fn accounts(ctx: &Context, json: bool) -> Result<(), CliError> {
    let records = drivewatch_core::auth::AccountsRegistry::load(ctx.paths.accounts_file())?;
    let list: Vec<_> = records.list().iter().map(|r| r.account.clone()).collect();
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

pub async fn targets_add(ctx: &mut Context, args: AddTarget) -> Result<(), CliError> {
    let auth = Auth::open(&ctx.config, &ctx.paths).await?;
    let record = pick_account(&auth, args.account.as_deref())?;
    let graph = auth.graph_for(&record.account.id).await?;
    let cancel = CancellationToken::new();
    let (spec, label) = match (&args.url, args.spec()) {
        (Some(url), _) => {
            let shared = graph.resolve_share_url(url, &cancel).await?;
            (
                TargetSpec::Drive {
                    drive_id: shared.drive_id,
                },
                shared.label,
            )
        }
        (None, Some(spec)) => {
            let drive = graph.drive(&spec, &cancel).await?;
            let label = drive.name.clone().unwrap_or_else(|| match &spec {
                TargetSpec::MyDrive => "OneDrive".to_owned(),
                _ => drive.id.clone(),
            });
            (spec, label)
        }
        (None, None) => return Err(CliError::Usage("say what to watch".into())),
    };
    let target = TargetConfig {
        id: target_id(&record.account.id, &spec),
        account: record.account.id.clone(),
        label: args.label.clone().unwrap_or(label),
        spec,
    };
    if ctx.config.targets.iter().any(|t| t.id == target.id) {
        return Err(CliError::Usage(format!(
            "already watched (target {})",
            target.id
        )));
    }
    update_file_config(ctx, |c| {
        c.targets.retain(|t| t.id != target.id);
        c.targets.push(target.clone());
    })?;
    println!("{}", target.id);
    eprintln!(
        "Added {} for {}.",
        output::clean(&target.label),
        output::clean(&record.account.username)
    );
    Ok(())
}

pub fn targets_list(ctx: &Context, json: bool) -> Result<(), CliError> {
    if json {
        println!(
            "{}",
            serde_json::to_string(&ctx.config.targets).unwrap_or_else(|_| "[]".into())
        );
        return Ok(());
    }
    if ctx.config.targets.is_empty() {
        eprintln!("No targets; `drivewatch-cli login` adds the account's OneDrive.");
    }
    for t in &ctx.config.targets {
        println!(
            "{}  {}  {}",
            t.id,
            output::clean(&t.label),
            serde_json::to_string(&t.spec).unwrap_or_default()
        );
    }
    Ok(())
}

pub async fn targets_remove(ctx: &mut Context, id: &str) -> Result<(), CliError> {
    if !ctx.config.targets.iter().any(|t| t.id == id) {
        return Err(CliError::Usage(format!(
            "no watched target {id}; see `drivewatch-cli targets list`"
        )));
    }
    update_file_config(ctx, |c| c.targets.retain(|t| t.id != id))?;
    forget_cursors(&ctx.paths, &[id.to_string()]).await?;
    eprintln!("Removed target {id}.");
    Ok(())
}

pub async fn history(
    ctx: &Context,
    json: bool,
    limit: u32,
    grep: Option<String>,
) -> Result<(), CliError> {
    let db = ctx.paths.history_db();
    if !db.exists() {
        if !json {
            eprintln!("No changes recorded yet.");
        }
        return Ok(());
    }
    let query = HistoryQuery {
        limit: limit.max(1),
        text: grep.filter(|g| !g.is_empty()),
        ..HistoryQuery::default()
    };
    let page = tokio::task::spawn_blocking(move || HistoryStore::open(&db)?.query(&query))
        .await
        .map_err(|_| CliError::Worker)??;
    let mut out = std::io::stdout().lock();
    output::write_changes(&mut out, &page.changes, json)?;
    Ok(())
}

pub async fn status(ctx: &Context) -> Result<(), CliError> {
    let auth = Auth::open(&ctx.config, &ctx.paths).await?;
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
        serde_json::to_value(auth.token_store().kind())
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    );
    let accounts = auth.accounts()?;
    if accounts.is_empty() {
        println!("accounts:     none");
        return Err(CliError::NoAccount);
    }
    let mut needs_sign_in = None;
    for r in &accounts {
        let state = match check_account(&auth, &r.account.id).await {
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

/// What `status` found out about one account.
enum AccountCheck {
    Ok,
    NeedsSignIn,
    /// Graph or the identity platform could not be asked (network, throttling, ...): the
    /// account may be fine.
    Unreachable(String),
}

async fn check_account(auth: &Auth, id: &str) -> AccountCheck {
    let graph = match auth.graph_for(id).await {
        Ok(g) => g,
        Err(AuthError::NeedsSignIn) => return AccountCheck::NeedsSignIn,
        Err(e) => return AccountCheck::Unreachable(e.to_string()),
    };
    let cancel = CancellationToken::new();
    match tokio::time::timeout(STATUS_CHECK_TIMEOUT, graph.me(&cancel)).await {
        Ok(Ok(_)) => AccountCheck::Ok,
        Ok(Err(GraphError::NeedsSignIn)) => AccountCheck::NeedsSignIn,
        Ok(Err(e)) => AccountCheck::Unreachable(e.to_string()),
        Err(_) => {
            cancel.cancel();
            AccountCheck::Unreachable("Microsoft Graph did not answer in time".into())
        }
    }
}

/// The newest stored change before watching starts; changes after it are this run's to print.
async fn newest_seq(paths: &Paths) -> Result<i64, CliError> {
    let db = paths.history_db();
    if !db.exists() {
        return Ok(0);
    }
    let page = tokio::task::spawn_blocking(move || {
        HistoryStore::open(&db)?.query(&HistoryQuery {
            limit: 1,
            ..HistoryQuery::default()
        })
    })
    .await
    .map_err(|_| CliError::Worker)??;
    Ok(page.changes.first().map(|c| c.seq).unwrap_or(0))
}

pub async fn watch(ctx: Context, json: bool) -> Result<(), CliError> {
    let auth_accounts = drivewatch_core::auth::AccountsRegistry::load(ctx.paths.accounts_file())?;
    if auth_accounts.list().is_empty() {
        return Err(CliError::NoAccount);
    }
    if ctx.config.targets.is_empty() {
        return Err(CliError::Usage(
            "nothing to watch; add a target with `drivewatch-cli targets add`".into(),
        ));
    }
    ctx.paths.ensure()?;
    let baseline = newest_seq(&ctx.paths).await?;
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
