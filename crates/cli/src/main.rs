//! drivewatch-cli: the headless host of drivewatch-core.
//!
//! It parses the command line, loads the settings (file, then `DRIVEWATCH_*` variables, then
//! flags), runs one command and turns its outcome into a documented exit code. Changes go to
//! stdout (text or NDJSON); prompts, status and logs go to stderr. It must never print a token.

mod commands;
mod completions;
mod demo;
mod error;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use drivewatch_core::config::{Config, Overrides, Paths, TokenStoreKind};

use error::CliError;

/// Watch OneDrive and SharePoint for changes from a terminal.
///
/// Exit codes: 0 ok, 1 other failure, 2 usage error, 3 sign-in needed, 4 configuration error.
#[derive(Debug, Parser)]
#[command(name = "drivewatch-cli", version, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

/// Settings every command accepts; each flag wins over its environment variable.
#[derive(Debug, Clone, Args)]
struct GlobalArgs {
    /// The identity platform, e.g. https://login.microsoftonline.com.
    #[arg(
        long,
        global = true,
        env = "DRIVEWATCH_AUTHORITY_URL",
        value_name = "URL"
    )]
    authority_url: Option<String>,
    /// Graph's base URL, e.g. https://graph.microsoft.com/v1.0.
    #[arg(long, global = true, env = "DRIVEWATCH_GRAPH_URL", value_name = "URL")]
    graph_url: Option<String>,
    /// The Application (client) ID of your Microsoft Entra app registration.
    #[arg(long, global = true, env = "DRIVEWATCH_CLIENT_ID", value_name = "ID")]
    client_id: Option<String>,
    /// common, organizations, consumers, or a tenant id or domain.
    #[arg(long, global = true, env = "DRIVEWATCH_TENANT", value_name = "TENANT")]
    tenant: Option<String>,
    /// Where tokens are kept: keyring (default) or file.
    #[arg(
        long,
        global = true,
        env = "DRIVEWATCH_TOKEN_STORE",
        value_name = "STORE"
    )]
    token_store: Option<TokenStoreKind>,
    /// Run against a built-in stand-in for Microsoft with scripted activity (no account needed).
    /// Changes are notified 5-40 s late, as by Microsoft; DRIVEWATCH_DEMO_PUSH=instant delivers
    /// at once (for scripted tests and quick looks).
    #[arg(long, global = true)]
    demo: bool,
    /// More log output on stderr (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sign in with a device code (prints the page and the code on stderr). `--tenant` picks
    /// which accounts may sign in: common, organizations, consumers, or a tenant id.
    Login,
    /// Sign an account out: forget its tokens, targets and cursors.
    Logout {
        /// Account id or sign-in name; may be left out when only one account is signed in.
        account: Option<String>,
    },
    /// List signed-in accounts.
    Accounts {
        #[arg(long)]
        json: bool,
    },
    /// Manage watched targets.
    #[command(subcommand)]
    Targets(TargetsCommand),
    /// Print changes as they happen until Ctrl-C.
    Watch {
        /// One JSON object per change on stdout (NDJSON); `group` is the seq of the first change
        /// of its burst or editing session, so equal values make one group.
        #[arg(long)]
        json: bool,
    },
    /// Print recent changes, newest first. Each run of one group (a burst of files, an editing
    /// session) is one line with a count; `--group` lists its changes, `--json` prints one
    /// object per change.
    History(commands::HistoryArgs),
    /// Show settings, accounts and targets, and check each account against Graph.
    Status,
    /// Print a completion script for SHELL (e.g. `source <(drivewatch-cli completions bash)`).
    Completions(completions::CompletionsArgs),
}

#[derive(Debug, Subcommand)]
enum TargetsCommand {
    /// Watch another drive or library (checked against Graph first).
    Add(commands::AddTarget),
    /// List watched targets.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Stop watching a target (its history stays).
    Remove {
        /// The target id, as `targets list` shows it.
        id: String,
    },
}

impl GlobalArgs {
    fn overrides(&self) -> Overrides {
        Overrides {
            authority_url: self.authority_url.clone(),
            graph_url: self.graph_url.clone(),
            client_id: self.client_id.clone(),
            tenant: self.tenant.clone(),
            token_store: self.token_store,
        }
    }
}

/// Settings and paths for one run.
pub struct Context {
    pub config: Config,
    pub paths: Paths,
}

impl Context {
    fn load(global: &GlobalArgs, home: Option<PathBuf>) -> Result<Self, CliError> {
        let paths = match home {
            Some(home) => Paths::under(home),
            None => Paths::from_env()?,
        };
        let mut config = Config::load(&paths.config_file())?;
        // clap has already let each flag win over its variable.
        config.apply(&global.overrides())?;
        Ok(Self { config, paths })
    }
}

fn init_logging(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn",
        1 => "info,drivewatch_core=info",
        2 => "debug",
        _ => "trace",
    };
    let filter =
        EnvFilter::try_from_env("DRIVEWATCH_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}

fn main() -> ExitCode {
    drivewatch_core::process::limit_malloc_arenas();
    if let Some(dir) = completions::manpages_requested(std::env::args_os()) {
        return completions::write_manpages::<Cli>(&dir);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    if let Some(Command::Completions(args)) = &cli.command {
        return completions::print::<Cli>(args);
    }
    init_logging(cli.global.verbose);
    let runtime = match runtime() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("drivewatch-cli: cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    let result: anyhow::Result<()> = runtime.block_on(run(cli)).map_err(anyhow::Error::from);
    // Background tasks (keyring calls, a lingering socket) must not hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_millis(300));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let code = e
                .downcast_ref::<CliError>()
                .map(CliError::exit_code)
                .unwrap_or(1);
            eprintln!("drivewatch-cli: {e}");
            ExitCode::from(code)
        }
    }
}

/// The runtime every command runs on.
fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}

async fn run(cli: Cli) -> Result<(), CliError> {
    if cli.global.demo {
        return demo::run(&cli.global, cli.command).await;
    }
    let Some(command) = cli.command else {
        return Err(CliError::Usage(
            "a command is needed; see drivewatch-cli --help".into(),
        ));
    };
    let ctx = Context::load(&cli.global, None)?;
    match command {
        Command::Login => commands::login(&ctx).await,
        Command::Logout { account } => commands::logout(&ctx, account.as_deref()).await,
        Command::Accounts { json } => commands::accounts(&ctx, json),
        Command::Targets(TargetsCommand::Add(args)) => commands::targets_add(&ctx, args).await,
        Command::Targets(TargetsCommand::List { json }) => commands::targets_list(&ctx, json),
        Command::Targets(TargetsCommand::Remove { id }) => {
            commands::targets_remove(&ctx, &id).await
        }
        Command::Watch { json } => commands::watch(ctx, json).await,
        Command::History(args) => commands::history(&ctx, args).await,
        Command::Status => commands::status(&ctx).await,
        Command::Completions(_) => unreachable!("main prints completions before settings load"),
    }
}
