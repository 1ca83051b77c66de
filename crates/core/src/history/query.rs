//! The WHERE clause of a history page: every [`HistoryQuery`] filter as SQL over bound values.
//!
//! Why in SQL: a filtered page must hold `limit` matching rows and page on by `before` like an
//! unfiltered one, and a digest's span or a group's members must not need the whole history in
//! memory. Nothing here may put a caller's text into the SQL itself: it is always a bound value.

use rusqlite::types::Value;

use super::grouping::folder_key;
use crate::model::HistoryQuery;

/// A folder filter as the history's folder keys spell it: lower-case, a leading `/`, no
/// trailing one; `None` for the whole drive (`/`, or nothing but blanks).
pub(super) fn folder_filter(folder: &str) -> Option<String> {
    let trimmed = folder.trim().trim_end_matches('/');
    let trimmed = trimmed.trim_start_matches('/');
    (!trimmed.is_empty()).then(|| format!("/{}", trimmed.to_lowercase()))
}

/// Appends `q`'s filters to `sql` (which ends in a WHERE clause) and their values to `args`.
pub(super) fn filter(q: &HistoryQuery, sql: &mut String, args: &mut Vec<Value>) {
    let mut arg = |sql: &mut String, value: Value, clause: &str| {
        args.push(value);
        sql.push_str(&clause.replace("?#", &format!("?{}", args.len())));
    };
    let kinds: Vec<Value> = q
        .kinds
        .iter()
        .map(|k| Value::Text(k.as_str().to_owned()))
        .collect();
    if let Some(before) = q.before {
        arg(sql, Value::Integer(before), " AND seq < ?#");
    }
    if let Some(group) = q.group {
        arg(sql, Value::Integer(group), " AND grp = ?#");
    }
    if let Some(since) = q.since {
        arg(
            sql,
            Value::Integer(since.timestamp_millis()),
            " AND at_ms >= ?#",
        );
    }
    if let Some(until) = q.until {
        arg(
            sql,
            Value::Integer(until.timestamp_millis()),
            " AND at_ms < ?#",
        );
    }
    if let Some(folder) = q.folder.as_deref().and_then(folder_filter) {
        // Below the folder: its key or a key under it (a range, `/` + 1 being `0`). The folder
        // itself: its parent's key, and its name as the first line of `search`.
        let leaf = folder.rsplit('/').next().unwrap_or_default().to_owned();
        let leaf_len = leaf.chars().count() as i64 + 1;
        arg(sql, Value::Text(folder.clone()), " AND (folder = ?#");
        arg(sql, Value::Text(format!("{folder}/")), " OR (folder >= ?#");
        arg(sql, Value::Text(format!("{folder}0")), " AND folder < ?#)");
        arg(sql, Value::Text(folder_key(&folder)), " OR (folder = ?#");
        arg(sql, Value::Integer(leaf_len), " AND substr(search, 1, ?#)");
        arg(sql, Value::Text(format!("{leaf}\n")), " = ?#))");
    }
    if let Some(text) = q.text.as_deref().filter(|t| !t.trim().is_empty()) {
        arg(
            sql,
            Value::Text(text.trim().to_lowercase()),
            " AND instr(search, ?#) > 0",
        );
    }
    let count = kinds.len();
    for (i, kind) in kinds.into_iter().enumerate() {
        let open = if i == 0 { " AND kind IN (" } else { ", " };
        let close = if i + 1 == count { ")" } else { "" };
        arg(sql, kind, &format!("{open}?#{close}"));
    }
    if let Some(account) = &q.account {
        arg(sql, Value::Text(account.clone()), " AND account = ?#");
    }
    if let Some(target) = &q.target {
        arg(sql, Value::Text(target.clone()), " AND target = ?#");
    }
}
