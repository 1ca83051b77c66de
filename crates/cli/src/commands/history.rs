//! `history`: recent changes from the history database, newest first.
//!
//! It reads only, through the workspace, and never creates the database: with nothing recorded
//! yet it says so (or prints nothing with `--json`).

use drivewatch_core::model::HistoryQuery;

use super::workspace;
use crate::Context;
use crate::error::CliError;
use crate::output;

pub async fn history(
    ctx: &Context,
    json: bool,
    limit: u32,
    grep: Option<String>,
) -> Result<(), CliError> {
    if !ctx.paths.history_db().exists() {
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
    let page = workspace(ctx).history(query).await?;
    let mut out = std::io::stdout().lock();
    output::write_changes(&mut out, &page.changes, json)?;
    Ok(())
}
