//! drivewatch-bench: DriveWatch's benchmarks (issue 7), run by `cargo xtask bench`.
//!
//! `run` measures change-to-toast latency beside delta polling (with instant delivery and with
//! Microsoft's 5-40 s delivery delay), a burst, a 100,000-item resync, the idle footprint and a soak (a day of changes in 20 minutes) against the Graph emulator on 127.0.0.1, and writes `REPORT.md` and
//! `report.json`. `drivewatch-bench-host` (`src/bin`) is the measured process itself: the engine
//! hosted as the CLI hosts it, started by `run` as a child so its memory and CPU are its own. A benchmark reports; it must
//! never fail because a target was missed, and it must never talk to anything but loopback.
//!
//! # Layout
//! - `scenarios`: the measurements; `world`: the emulator on its own runtime and
//!   signed-in engines; `observe`: the toast policy timed on an engine's batches; `poller`: the
//!   plain-HTTP delta pollers compared with push; `host` / `subject`: the measured child process.
//! - `counter`: delta requests counted from the emulator's trace events; `procfs`: /proc
//!   readers and the machine; `stats`: percentiles; `report`: Markdown and JSON.

mod counter;
mod error;
mod observe;
mod poller;
mod procfs;
mod report;
mod scenarios;
mod session;
mod stats;
mod subject;
mod world;
mod x11;

use std::path::PathBuf;
use std::time::Instant;

use clap::{Parser, Subcommand};
use drivewatch_bench::host;
use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::report::{Figure, Report, Section};
use crate::scenarios::{Outcome, Sizes};

#[derive(Debug, Parser)]
#[command(
    name = "drivewatch-bench",
    version,
    about = "DriveWatch's benchmarks against the Graph emulator on loopback"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run every measurement and write REPORT.md and report.json.
    Run {
        /// Folder for REPORT.md and report.json.
        #[arg(long, default_value = "bench")]
        out: PathBuf,
        /// Small sizes, to check the harness in seconds (the numbers mean little).
        #[arg(long)]
        quick: bool,
        /// Items of the drive in the scale measurement (default: 100,000, then 1,000,000 in
        /// section 11; 5,000 and no section 11 with --quick). Given, only that size is measured.
        #[arg(long)]
        scale_items: Option<usize>,
        /// Run only these sections (repeatable); the report then holds just them.
        #[arg(long, value_enum)]
        only: Vec<Only>,
        /// Length of the soak (section 10) in minutes (default: 20, or 2 with --quick).
        #[arg(long)]
        soak_minutes: Option<f64>,
    },
}

/// A section of the run, for `--only`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Only {
    /// Sections 1 and 2: change to toast, push vs. polling.
    Latency,
    /// Section 3.
    Burst,
    /// Sections 4 and 11 (a million items).
    Scale,
    /// Sections 5, 6, 7 and 9: idle footprint and start to live (CLI, engine alone, desktop
    /// app, never opened and after its window was opened and closed), and change → `Notify` in
    /// the desktop app (the sections that need the desktop app built).
    Footprint,
    /// Section 8: change to toast with Microsoft's delivery delay (5-40 s), vs. 60 s polling.
    Realistic,
    /// Section 10: a day of changes in `--soak-minutes`, for the CLI and the desktop app at once.
    Soak,
}

/// Turns a failed measurement into "not measured" rows, so one failure never hides the rest.
fn or_missing(
    number: u8,
    title: &str,
    ids: &[(&str, &str)],
    outcome: Result<Outcome, error::BenchError>,
) -> Outcome {
    match outcome {
        Ok(o) => o,
        Err(e) => {
            eprintln!("drivewatch-bench: {title}: {e}");
            let why = e.to_string();
            Outcome {
                figures: ids
                    .iter()
                    .map(|(id, name)| Figure::missing(number, id, name, "", None, &why))
                    .collect(),
                section: Section {
                    number,
                    title: title.to_owned(),
                    how: format!("Failed in this run: {why}"),
                    limits: "Not measured.".into(),
                    detail: serde_json::Value::Null,
                },
            }
        }
    }
}

async fn run(
    out: PathBuf,
    quick: bool,
    scale_items: Option<usize>,
    only: Vec<Only>,
    soak_minutes: Option<f64>,
    counter: counter::DeltaRequests,
    notifications: counter::Notifications,
) -> anyhow::Result<()> {
    let wanted = |section: Only| only.is_empty() || only.contains(&section);
    let began = Instant::now();
    let load_before = procfs::load_average();
    let mut sizes = if quick { Sizes::quick() } else { Sizes::full() };
    if let Some(n) = scale_items {
        sizes.scale_items = n;
        sizes.scale_large = None;
    }
    let date = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut outcomes = Vec::new();

    let emu = scenarios::small_emulator().await?;
    let handle = emu.handle();
    if wanted(Only::Latency) {
        eprintln!(
            "drivewatch-bench: 1-2 latency, push vs. polling ({:?} stream)",
            sizes.stream_span
        );
        outcomes.push(or_missing(
            1,
            "Change → toast decision, push vs. delta polling",
            &[("latency", "Change → toast decision")],
            scenarios::latency(&handle, sizes).await,
        ));
    }
    if wanted(Only::Burst) {
        eprintln!("drivewatch-bench: 3 burst");
        outcomes.push(or_missing(
            3,
            "Burst",
            &[("burst", "Burst")],
            scenarios::burst(&handle, sizes, &counter).await,
        ));
    }
    let mut footprints = Vec::new();
    if wanted(Only::Footprint) {
        footprints = footprint_sections(&handle, sizes).await?;
    }
    drop(emu);
    if wanted(Only::Scale) {
        eprintln!("drivewatch-bench: 4 scale ({} items)", sizes.scale_items);
        let run = scenarios::ScaleRun {
            items: sizes.scale_items,
            section: 4,
            id: "scale",
        };
        outcomes.push(or_missing(
            4,
            "Scale",
            &[("scale", "Scale")],
            scenarios::scale(run).await,
        ));
        if let Some(items) = sizes.scale_large {
            eprintln!("drivewatch-bench: 11 scale ({items} items)");
            let run = scenarios::ScaleRun {
                items,
                section: 11,
                id: "scale_1m",
            };
            outcomes.push(or_missing(
                11,
                "Scale, a million items",
                &[("scale_1m", "Scale, a million items")],
                scenarios::scale(run).await,
            ));
        }
    }
    outcomes.extend(footprints);
    if wanted(Only::Realistic) {
        eprintln!(
            "drivewatch-bench: 8 latency with Microsoft's delivery delay ({} lanes, {:?})",
            sizes.realistic_lanes, sizes.realistic_span
        );
        outcomes.push(or_missing(
            8,
            "Change → toast decision with Microsoft's delivery delay",
            &[("realistic", "Change → toast decision, realistic push")],
            scenarios::realistic(sizes, &notifications).await,
        ));
    }
    if wanted(Only::Soak) {
        let minutes = soak_minutes.unwrap_or(if quick { 2.0 } else { 20.0 });
        eprintln!("drivewatch-bench: 10 soak ({minutes} min, CLI and desktop app at once)");
        outcomes.push(scenarios::soak(minutes, soak_apps(), &counter).await);
    }
    finish(out, date, began, load_before, outcomes)
}

/// The two apps the soak watches with, next to this binary, or why one cannot run.
fn soak_apps() -> scenarios::Apps {
    scenarios::Apps {
        cli: subject::built_next_to_this("drivewatch-cli", "drivewatch-cli"),
        desktop: subject::desktop_app(),
    }
}

/// Sections 5, 6, 7 and 9: the CLI's footprint, the engine alone's, the desktop app's, and
/// change → `Notify` in the desktop app.
async fn footprint_sections(
    handle: &graph_emulator::EmulatorHandle,
    sizes: Sizes,
) -> anyhow::Result<Vec<Outcome>> {
    let footprint_cli = match subject::built_next_to_this("drivewatch-cli", "drivewatch-cli") {
        Ok(cli) => {
            eprintln!(
                "drivewatch-bench: 5 footprint of drivewatch-cli watch ({:?} idle)",
                sizes.idle
            );
            scenarios::footprint(handle, sizes, scenarios::Measured::Cli(cli)).await
        }
        Err(why) => Err(error::BenchError::not_built(why)),
    };
    let footprint_cli = or_missing(
        5,
        "Footprint of drivewatch-cli watch",
        &[("footprint.cli", "drivewatch-cli watch footprint")],
        footprint_cli,
    );
    eprintln!(
        "drivewatch-bench: 6 footprint of the engine alone ({:?} idle)",
        sizes.idle
    );
    let footprint_host = or_missing(
        6,
        "Footprint of the engine alone",
        &[("footprint.host", "engine-only host footprint")],
        scenarios::footprint(handle, sizes, scenarios::Measured::Host).await,
    );
    let app = subject::desktop_app();
    eprintln!(
        "drivewatch-bench: 7 footprint of the desktop app, window closed ({:?} idle)",
        sizes.idle
    );
    let footprint_desktop = or_missing(
        7,
        "Footprint of the desktop app with its window closed",
        &[("footprint.desktop", "desktop app footprint, window closed")],
        match &app {
            Ok(app) => {
                scenarios::footprint(handle, sizes, scenarios::Measured::Desktop(app.clone())).await
            }
            Err(why) => Err(error::BenchError::not_built(why.clone())),
        },
    );
    eprintln!("drivewatch-bench: 9 change → Notify in the desktop app");
    let notify_desktop = or_missing(
        9,
        "Change → Notify in the desktop app",
        &[("desktop.notify", "Change → Notify, desktop app")],
        match &app {
            Ok(app) => scenarios::desktop_notify(handle, sizes, app).await,
            Err(why) => Err(error::BenchError::not_built(why.clone())),
        },
    );
    Ok(vec![
        footprint_cli,
        footprint_host,
        footprint_desktop,
        notify_desktop,
    ])
}

fn finish(
    out: PathBuf,
    date: String,
    began: Instant,
    load_before: Option<f64>,
    mut outcomes: Vec<Outcome>,
) -> anyhow::Result<()> {
    // In the order of their numbers, whatever order they ran in (stable: a section's figures
    // keep theirs).
    outcomes.sort_by_key(|o| o.section.number);
    let mut figures = Vec::new();
    let mut sections = Vec::new();
    for o in outcomes {
        figures.extend(o.figures);
        sections.push(o.section);
    }
    let report = Report {
        date,
        machine: procfs::machine(),
        build_profile: if cfg!(debug_assertions) {
            "debug (numbers not representative)"
        } else {
            "release"
        }
        .into(),
        run_seconds: began.elapsed().as_secs_f64(),
        load_before,
        load_after: procfs::load_average(),
        figures,
        sections,
    };
    std::fs::create_dir_all(&out)?;
    std::fs::write(out.join("REPORT.md"), report.to_markdown())?;
    std::fs::write(out.join("report.json"), report.to_json()? + "\n")?;
    eprintln!(
        "drivewatch-bench: wrote {} and {} in {:.0} s",
        out.join("REPORT.md").display(),
        out.join("report.json").display(),
        report.run_seconds
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let logs = || {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_filter(LevelFilter::WARN)
    };
    match cli.command {
        Command::Run {
            out,
            quick,
            scale_items,
            only,
            soak_minutes,
        } => {
            let (layer, counter, notifications) = counter::layer();
            tracing_subscriber::registry()
                .with(logs())
                .with(layer)
                .init();
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(run(
                    out,
                    quick,
                    scale_items,
                    only,
                    soak_minutes,
                    counter,
                    notifications,
                ))?;
        }
    }
    Ok(())
}
