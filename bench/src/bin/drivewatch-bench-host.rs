//! drivewatch-bench-host: the engine alone over a home folder, until stdin closes; the process
//! the benchmark measures (see `drivewatch_bench::host`). Started by `drivewatch-bench run`.

use std::path::PathBuf;

use anyhow::Context;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::prelude::*;

fn main() -> anyhow::Result<()> {
    // One argument pair, `--home PATH`: no argument parser, so the binary carries the engine
    // and little else.
    let mut args = std::env::args_os().skip(1);
    let home = match (args.next(), args.next(), args.next()) {
        (Some(flag), Some(home), None) if flag == "--home" => PathBuf::from(home),
        _ => anyhow::bail!("usage: drivewatch-bench-host --home PATH"),
    };
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(LevelFilter::WARN),
        )
        .init();
    // The process set-up of `drivewatch-cli`: one malloc arena, Tokio's multi-thread runtime,
    // so the two footprints compare the same thing.
    drivewatch_core::process::limit_malloc_arenas();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("the runtime")?
        .block_on(drivewatch_bench::host::run(&home))
}
