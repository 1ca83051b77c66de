//! drivewatch-cli: the headless host of drivewatch-core.

use clap::Parser;

/// Watch OneDrive and SharePoint for changes from a terminal.
#[derive(Debug, Parser)]
#[command(name = "drivewatch-cli", version)]
struct Cli {}

fn main() -> anyhow::Result<()> {
    let _cli = Cli::parse();
    Ok(())
}
