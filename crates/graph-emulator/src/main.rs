//! The `graph-emulator` binary: starts the emulator on 127.0.0.1, prints one JSON line
//! `{"authority":…,"graph":…}` first on stdout, logs to stderr, and serves until SIGTERM or
//! Ctrl-C. It must never print anything else on stdout (tests parse that first line).

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use graph_emulator::{Emulator, EmulatorConfig, Seed};
use tokio_util::sync::CancellationToken;

/// A local Microsoft identity platform + Graph drive + socket.io push service.
#[derive(Debug, Parser)]
#[command(name = "graph-emulator", version)]
struct Args {
    /// Port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Approve every device code as this user (id or username) at its first poll.
    #[arg(long)]
    auto_approve: Option<String>,
    /// Seed file (TOML, or JSON with a .json extension); default: the built-in seed.
    #[arg(long)]
    seed: Option<PathBuf>,
    /// Delay before a change's notification, in milliseconds (0 = at once).
    #[arg(long, default_value_t = 1000)]
    coalescing_ms: u64,
    /// Access-token lifetime in seconds.
    #[arg(long, default_value_t = 3599)]
    access_token_lifetime: u64,
    /// socketIo subscription lifetime in seconds (sockets are dropped at expiry).
    #[arg(long, default_value_t = 3600)]
    subscription_lifetime: u64,
    /// Realistic push: one notification per changed item, each after a random delay.
    #[arg(long)]
    realistic_push: bool,
    /// Range of the realistic delay in seconds, `MIN-MAX`.
    #[arg(long, default_value = "5-40", value_parser = parse_range)]
    realistic_delay: (u64, u64),
    /// Device-code poll interval in seconds.
    #[arg(long, default_value_t = 5)]
    device_code_interval: u64,
    /// Engine.IO ping interval in milliseconds.
    #[arg(long, default_value_t = 25_000)]
    ping_interval_ms: u64,
    /// Engine.IO ping timeout in milliseconds.
    #[arg(long, default_value_t = 20_000)]
    ping_timeout_ms: u64,
    /// Items per delta page.
    #[arg(long, default_value_t = 200)]
    delta_page_size: usize,
    /// Users (id or username) for whom socketIo answers 400 notSupported (repeatable).
    #[arg(long = "not-supported")]
    not_supported: Vec<String>,
    /// Allowed client ids (repeatable); default: any.
    #[arg(long = "client-id")]
    client_ids: Vec<String>,
    /// Play the demo activity script (other users changing the demo user's files).
    #[arg(long)]
    demo: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let seed = match &args.seed {
        Some(p) => Seed::load(p).with_context(|| format!("loading seed {}", p.display()))?,
        None => Seed::default(),
    };
    let mut config = EmulatorConfig {
        port: args.port,
        seed,
        auto_approve: args.auto_approve.clone(),
        access_token_lifetime: Duration::from_secs(args.access_token_lifetime),
        subscription_lifetime: Duration::from_secs(args.subscription_lifetime),
        device_code_interval: Duration::from_secs(args.device_code_interval),
        coalescing_delay: Duration::from_millis(args.coalescing_ms),
        realistic_push: args.realistic_push,
        realistic_delay_min: Duration::from_secs(args.realistic_delay.0),
        realistic_delay_max: Duration::from_secs(args.realistic_delay.1),
        ping_interval: Duration::from_millis(args.ping_interval_ms),
        ping_timeout: Duration::from_millis(args.ping_timeout_ms),
        delta_page_size: args.delta_page_size.max(1),
        ..EmulatorConfig::default()
    };
    config
        .socketio_not_supported_for
        .extend(args.not_supported.iter().cloned());
    if !args.client_ids.is_empty() {
        config.allowed_client_ids = Some(args.client_ids.iter().cloned().collect());
    }
    let emu = Emulator::start(config)
        .await
        .context("starting the emulator")?;
    {
        let line = serde_json::json!({"authority": emu.authority_url(), "graph": emu.graph_url()});
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}").context("writing the address line")?;
        out.flush().context("flushing stdout")?;
    }
    let cancel = CancellationToken::new();
    let demo = args.demo.then(|| {
        let h = emu.handle();
        let c = cancel.clone();
        tokio::spawn(async move { graph_emulator::scenario::play_demo_activity(&h, c).await })
    });
    wait_for_stop().await;
    tracing::info!("stopping");
    cancel.cancel();
    if let Some(d) = demo {
        let _ = d.await;
    }
    emu.shutdown().await;
    Ok(())
}

/// `MIN-MAX` (whole seconds, MIN <= MAX).
fn parse_range(s: &str) -> Result<(u64, u64), String> {
    let (a, b) = s.split_once('-').ok_or("expected MIN-MAX")?;
    let a: u64 = a.trim().parse().map_err(|_| "MIN is not a number")?;
    let b: u64 = b.trim().parse().map_err(|_| "MAX is not a number")?;
    if a > b {
        return Err("MIN is larger than MAX".into());
    }
    Ok((a, b))
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
