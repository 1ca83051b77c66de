//! How the CLI writes: changes as NDJSON or as one readable line each (stdout), sign-in prompts
//! and target status as plain sentences (stderr).
//!
//! Names and paths come from the drive and are untrusted: control characters are replaced before
//! they reach a terminal. Nothing here may print a token.

use std::io::Write;

use drivewatch_core::model::{Change, ChangeKind, SignInEvent, TargetInfo, TargetStatus};

/// Control characters (escape sequences, newlines) out of untrusted text.
pub fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

/// One change as one JSON object (camelCase, as in the model) on one line.
pub fn change_json(change: &Change) -> String {
    serde_json::to_string(change).unwrap_or_else(|_| "{}".to_string())
}

/// One change as a line a person reads.
pub fn change_line(change: &Change) -> String {
    let when = change
        .at
        .with_timezone(&chrono::Local)
        .format("%Y-%m-%d %H:%M:%S");
    let mut line = format!("{when}  {:<8}  ", change.kind.as_str());
    match (&change.old_path, change.kind) {
        (Some(old), ChangeKind::Renamed | ChangeKind::Moved) => {
            line.push_str(&format!("{} -> {}", clean(old), clean(&change.path)));
        }
        _ => line.push_str(&clean(&change.path)),
    }
    if change.is_folder {
        line.push('/');
    }
    match (&change.by, change.own) {
        (_, true) => line.push_str("  (you)"),
        (Some(by), false) => line.push_str(&format!("  by {}", clean(by))),
        (None, false) => {}
    }
    if change.caught_up {
        line.push_str("  [while away]");
    }
    line
}

pub fn write_changes(out: &mut impl Write, changes: &[Change], json: bool) -> std::io::Result<()> {
    for c in changes {
        if json {
            writeln!(out, "{}", change_json(c))?;
        } else {
            writeln!(out, "{}", change_line(c))?;
        }
    }
    out.flush()
}

/// Changes as lines a person reads, each run of one group (a burst, an editing session; the
/// page is newest first) as one line: its newest change and how many more the group has here,
/// with the group's number for `history --group`.
pub fn write_grouped(out: &mut impl Write, changes: &[Change]) -> std::io::Result<()> {
    let mut rest = changes;
    while let Some(first) = rest.first() {
        let run = rest
            .iter()
            .take_while(|c| first.group != 0 && c.group == first.group)
            .count()
            .max(1);
        let mut line = change_line(first);
        if run > 1 {
            line.push_str(&format!("  [+{} more, group {}]", run - 1, first.group));
        }
        writeln!(out, "{line}")?;
        rest = &rest[run..];
    }
    out.flush()
}

/// A sign-in step, for stderr.
pub fn sign_in_text(event: &SignInEvent) -> String {
    match event {
        SignInEvent::Prompt { prompt } => format!(
            "To sign in, open {} and enter the code {}\n{}\n(The code expires at {}.)",
            prompt.verification_uri,
            prompt.user_code,
            clean(&prompt.message),
            prompt
                .expires_at
                .with_timezone(&chrono::Local)
                .format("%H:%M:%S")
        ),
        SignInEvent::SignedIn { account } => format!(
            "Signed in as {} ({}).",
            clean(&account.display_name),
            clean(&account.username)
        ),
        SignInEvent::Declined => "The sign-in was declined.".to_string(),
        SignInEvent::Expired => {
            "The code expired before it was used; run login again for a new one.".to_string()
        }
        SignInEvent::Offline => {
            "The network is unreachable; still trying until the code expires...".to_string()
        }
        SignInEvent::Failed { message } => format!("Sign-in failed: {}", clean(message)),
    }
}

/// A target's status in a few words.
pub fn status_text(status: &TargetStatus) -> String {
    match status {
        TargetStatus::Connecting => "connecting".into(),
        TargetStatus::Live => "live (push)".into(),
        TargetStatus::Polling { reason } => format!("polling ({})", clean(reason)),
        TargetStatus::Reconnecting { reason } => format!("reconnecting ({})", clean(reason)),
        TargetStatus::Throttled { until } => format!(
            "throttled until {}",
            until.with_timezone(&chrono::Local).format("%H:%M:%S")
        ),
        TargetStatus::Resyncing { pages, items } => {
            format!("resyncing ({pages} pages, {items} items)")
        }
        TargetStatus::NeedsSignIn => "needs sign-in (run drivewatch-cli login)".into(),
        TargetStatus::Error { reason } => format!("error: {}", clean(reason)),
        TargetStatus::Stopped => "stopped".into(),
    }
}

pub fn target_status_line(target: &TargetInfo) -> String {
    format!("[{}] {}", clean(&target.label), status_text(&target.status))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn change(kind: ChangeKind) -> Change {
        Change {
            seq: 7,
            kind,
            name: "b.txt".into(),
            path: "/Docs/b.txt".into(),
            old_path: Some("/Docs/a.txt".into()),
            is_folder: false,
            item_id: "i1".into(),
            drive_id: "d1".into(),
            by: Some("Alex\u{1b}[31m Wilber".into()),
            own: false,
            at: chrono::Utc.with_ymd_and_hms(2026, 11, 24, 6, 0, 0).unwrap(),
            web_url: Some("https://contoso/b.txt".into()),
            account: "acc".into(),
            target: "acc/me".into(),
            caught_up: false,
            group: 7,
        }
    }

    #[test]
    fn ndjson_has_the_documented_fields() {
        let v: serde_json::Value =
            serde_json::from_str(&change_json(&change(ChangeKind::Renamed))).unwrap();
        for key in [
            "kind", "name", "path", "oldPath", "isFolder", "itemId", "driveId", "by", "own", "at",
            "webUrl", "account", "group",
        ] {
            assert!(v.get(key).is_some(), "missing {key}: {v}");
        }
        assert_eq!(v["group"], 7);
        assert_eq!(v["kind"], "renamed");
        assert_eq!(v["oldPath"], "/Docs/a.txt");
        assert!(!change_json(&change(ChangeKind::Created)).contains('\n'));
    }

    #[test]
    fn human_line_shows_rename_and_strips_escapes() {
        let line = change_line(&change(ChangeKind::Renamed));
        assert!(line.contains("/Docs/a.txt -> /Docs/b.txt"), "{line}");
        assert!(line.contains("renamed"));
        assert!(!line.contains('\u{1b}'), "{line:?}");
        let mut own = change(ChangeKind::Deleted);
        own.own = true;
        own.old_path = None;
        assert!(change_line(&own).ends_with("/Docs/b.txt  (you)"));
    }

    #[test]
    fn grouped_lines_show_each_run_of_a_group_once() {
        let member = |seq, group| Change {
            seq,
            group,
            ..change(ChangeKind::Created)
        };
        let page = [
            member(12, 9),
            member(11, 9),
            member(10, 10),
            member(9, 9),
            member(8, 0),
            member(7, 0),
        ];
        let mut out = Vec::new();
        write_grouped(&mut out, &page).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines.len(), 5, "{text}");
        assert!(lines[0].ends_with("  [+1 more, group 9]"), "{text}");
        assert!(lines[1..].iter().all(|l| !l.contains("more")), "{text}");
    }
}
