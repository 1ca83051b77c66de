//! `history`: recent changes from the history database, newest first.
//!
//! It reads only, through the workspace, and never creates the database: with nothing recorded
//! yet it says so (or prints nothing with `--json`). The NDJSON stays one object per change; the
//! readable output shows each run of one group (a burst, an editing session) as one line.

use chrono::{DateTime, Duration, Utc};
use clap::Args;
use drivewatch_core::model::HistoryQuery;

use super::workspace;
use crate::Context;
use crate::error::CliError;
use crate::output;

/// What `history` prints.
#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    /// One JSON object per change (NDJSON), with `group` the seq of its group's first change.
    #[arg(long)]
    pub json: bool,
    /// How many changes at most.
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    /// Only changes whose name, path, old path or author contains TEXT (any case).
    #[arg(long, value_name = "TEXT")]
    pub grep: Option<String>,
    /// Only changes at or after WHEN: an RFC 3339 time (2026-11-30T09:00:00Z) or a span back
    /// from now (90m, 12h, 7d).
    #[arg(long, value_name = "WHEN", value_parser = parse_since)]
    pub since: Option<DateTime<Utc>>,
    /// Only changes in this folder or below it (/Finance), any case.
    #[arg(long, value_name = "PATH", value_parser = parse_folder)]
    pub folder: Option<String>,
    /// Only the changes of one group (the number `--json` prints as `group`): every change
    /// of a burst or an editing session, one line each.
    #[arg(long, value_name = "GROUP")]
    pub group: Option<i64>,
}

/// `--since`: an RFC 3339 instant, or a number of minutes, hours or days before now.
fn parse_since(text: &str) -> Result<DateTime<Utc>, String> {
    since_at(text, Utc::now())
}

fn since_at(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    let bad = || {
        format!(
            "`{}` is neither a time like 2026-11-30T09:00:00Z nor a span like 90m, 12h or 7d",
            output::clean(text)
        )
    };
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (number, unit) = text.split_at(split);
    let n: i64 = number.parse().map_err(|_| bad())?;
    let span = match unit {
        "m" => Duration::try_minutes(n),
        "h" => Duration::try_hours(n),
        "d" => Duration::try_days(n),
        _ => None,
    }
    .ok_or_else(bad)?;
    now.checked_sub_signed(span).ok_or_else(bad)
}

/// `--folder`: a path from the drive root.
fn parse_folder(text: &str) -> Result<String, String> {
    let text = text.trim();
    if !text.starts_with('/') || text.chars().any(char::is_control) {
        return Err(format!(
            "`{}` is not a folder path from the drive root, like /Finance",
            output::clean(text)
        ));
    }
    Ok(text.to_owned())
}

pub async fn history(ctx: &Context, args: HistoryArgs) -> Result<(), CliError> {
    if !ctx.paths.history_db().exists() {
        if !args.json {
            eprintln!("No changes recorded yet.");
        }
        return Ok(());
    }
    let query = HistoryQuery {
        limit: args.limit.max(1),
        text: args.grep.filter(|g| !g.is_empty()),
        since: args.since,
        folder: args.folder,
        group: args.group,
        ..HistoryQuery::default()
    };
    let expand = query.group.is_some();
    let page = workspace(ctx).history(query).await?;
    let mut out = std::io::stdout().lock();
    if args.json || expand {
        output::write_changes(&mut out, &page.changes, args.json)?;
    } else {
        output::write_grouped(&mut out, &page.changes)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn since_takes_a_time_or_a_span_back_from_now() {
        let now = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap();
        assert_eq!(
            since_at("2026-11-30T09:00:00+01:00", now).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 30, 8, 0, 0).unwrap()
        );
        assert_eq!(since_at("90m", now).unwrap(), now - Duration::minutes(90));
        assert_eq!(since_at("12h", now).unwrap(), now - Duration::hours(12));
        assert_eq!(since_at(" 7d ", now).unwrap(), now - Duration::days(7));
        for bad in [
            "",
            "d",
            "7",
            "7w",
            "-1d",
            "yesterday",
            "99999999999999999999d",
        ] {
            let e = since_at(bad, now).unwrap_err();
            assert!(e.contains("90m"), "{bad}: {e}");
        }
        assert!(!since_at("\u{1b}[31m", now).unwrap_err().contains('\u{1b}'));
    }

    #[test]
    fn folder_is_a_path_from_the_root() {
        assert_eq!(parse_folder(" /Finance/Q4 ").unwrap(), "/Finance/Q4");
        assert!(parse_folder("Finance").unwrap_err().contains("/Finance"));
        assert!(parse_folder("/a\nb").is_err());
    }
}
