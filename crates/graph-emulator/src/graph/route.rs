//! Parses a `/v1.0` path into a [`Route`]: Graph addresses items with `root:/a/b.txt:` and
//! functions like `delta(token='...')` (docs/PROTOCOL.md §3.1), which routers do not express.
//! Parsing only: this module must never look at the world or at who is asking.

use percent_encoding::percent_decode_str;

use crate::graph_error::GraphError;

/// Which drive a URL names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum DriveSel {
    Me,
    Id(String),
    Group(String),
    SiteList(String, String),
    SiteDefault(String),
    User(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum ItemBase {
    Root,
    Id(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Action {
    Item,
    Children,
    Content,
    Delta(Option<String>),
    SocketIo,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Route {
    Me,
    MeDrives,
    Site(String),
    Drive(DriveSel),
    /// `/drives/{id}/list/subscriptions/socketIo`
    DriveListSocketIo(DriveSel),
    Item {
        drive: DriveSel,
        base: ItemBase,
        path: Option<String>,
        action: Action,
    },
    Share {
        id: String,
        action: Action,
    },
}

pub(super) fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// Parses the part of the path after `/v1.0/`.
pub(super) fn parse(raw: &str) -> Result<Route, GraphError> {
    // Split `…/root:/a/b.txt:/content` into head, item path and tail.
    let (head, item_path, tail) = match raw.find(':') {
        None => (raw, None, ""),
        Some(i) => {
            let after = &raw[i + 1..];
            match after.find(':') {
                Some(j) => (&raw[..i], Some(decode(&after[..j])), &after[j + 1..]),
                None => (&raw[..i], Some(decode(after)), ""),
            }
        }
    };
    let head_segs: Vec<String> = head
        .split('/')
        .filter(|s| !s.is_empty())
        .map(decode)
        .collect();
    let tail_segs: Vec<String> = tail
        .split('/')
        .filter(|s| !s.is_empty())
        .map(decode)
        .collect();
    let h: Vec<&str> = head_segs.iter().map(String::as_str).collect();
    let t: Vec<&str> = tail_segs.iter().map(String::as_str).collect();
    let unknown = |s: &str| GraphError::UnknownSegment(s.to_string());

    let (drive, rest): (DriveSel, &[&str]) = match h.as_slice() {
        ["me"] if item_path.is_none() => return Ok(Route::Me),
        ["me", "drives"] if item_path.is_none() => return Ok(Route::MeDrives),
        ["me", "drive", rest @ ..] => (DriveSel::Me, rest),
        ["drives", id, rest @ ..] => (DriveSel::Id((*id).to_string()), rest),
        ["groups", g, "drive", rest @ ..] => (DriveSel::Group((*g).to_string()), rest),
        ["sites", s, "lists", l, "drive", rest @ ..] => {
            (DriveSel::SiteList((*s).to_string(), (*l).to_string()), rest)
        }
        ["sites", s, "drive", rest @ ..] => (DriveSel::SiteDefault((*s).to_string()), rest),
        ["sites", s] if item_path.is_none() => return Ok(Route::Site((*s).to_string())),
        ["users", u, "drive", rest @ ..] => (DriveSel::User((*u).to_string()), rest),
        ["shares", id, "driveItem" | "root", rest @ ..] if item_path.is_none() => {
            return Ok(Route::Share {
                id: (*id).to_string(),
                action: parse_action(rest)?,
            });
        }
        // Name the segment after `me` that Graph would not know.
        ["me", second, ..] => return Err(unknown(second)),
        [first, ..] => return Err(unknown(first)),
        [] => return Err(unknown("")),
    };
    let (base, after): (ItemBase, &[&str]) = match rest {
        [] if item_path.is_none() => return Ok(Route::Drive(drive)),
        ["list", "subscriptions", "socketIo"] if item_path.is_none() => {
            return Ok(Route::DriveListSocketIo(drive));
        }
        ["root", after @ ..] => (ItemBase::Root, after),
        ["items", id, after @ ..] => (ItemBase::Id((*id).to_string()), after),
        [first, ..] => return Err(unknown(first)),
        [] => return Err(unknown("")),
    };
    let action = match &item_path {
        Some(_) if !after.is_empty() => return Err(unknown(after[0])),
        Some(_) => parse_action(&t)?,
        None => parse_action(after)?,
    };
    let path = item_path
        .map(|p| p.trim_matches('/').to_string())
        .filter(|p| !p.is_empty());
    Ok(Route::Item {
        drive,
        base,
        path,
        action,
    })
}

fn parse_action(segs: &[&str]) -> Result<Action, GraphError> {
    match segs {
        [] => Ok(Action::Item),
        ["children"] => Ok(Action::Children),
        ["content"] => Ok(Action::Content),
        ["delta"] | ["delta()"] => Ok(Action::Delta(None)),
        ["subscriptions", "socketIo"] => Ok(Action::SocketIo),
        [f] if f.starts_with("delta(") && f.ends_with(')') => {
            let inner = &f[6..f.len() - 1];
            let token = inner
                .strip_prefix("token=")
                .map(|v| v.trim_matches('\'').to_string())
                .ok_or_else(|| {
                    GraphError::InvalidRequest(format!("Invalid function parameters in '{f}'."))
                })?;
            Ok(Action::Delta(Some(token)))
        }
        [first, ..] => Err(GraphError::UnknownSegment((*first).to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_addressing_form() {
        let item = |drive, base, path: Option<&str>, action| Route::Item {
            drive,
            base,
            path: path.map(str::to_string),
            action,
        };
        assert_eq!(parse("/me").unwrap(), Route::Me);
        assert_eq!(parse("/me/drive").unwrap(), Route::Drive(DriveSel::Me));
        assert_eq!(
            parse("/me/drive/root:/Shared%20with%20team/a.txt:/content").unwrap(),
            item(
                DriveSel::Me,
                ItemBase::Root,
                Some("Shared with team/a.txt"),
                Action::Content
            )
        );
        assert_eq!(
            parse("/drives/b!x/items/01AB:/new.txt:/content").unwrap(),
            item(
                DriveSel::Id("b!x".into()),
                ItemBase::Id("01AB".into()),
                Some("new.txt"),
                Action::Content
            )
        );
        assert_eq!(
            parse("/drives/b!x/root/delta(token='abc')").unwrap(),
            item(
                DriveSel::Id("b!x".into()),
                ItemBase::Root,
                None,
                Action::Delta(Some("abc".into()))
            )
        );
        assert_eq!(
            parse("/drives/b!x/root/delta(token=%27abc%27)").unwrap(),
            item(
                DriveSel::Id("b!x".into()),
                ItemBase::Root,
                None,
                Action::Delta(Some("abc".into()))
            )
        );
        assert_eq!(
            parse("/sites/s1/lists/l1/drive/root/subscriptions/socketIo").unwrap(),
            item(
                DriveSel::SiteList("s1".into(), "l1".into()),
                ItemBase::Root,
                None,
                Action::SocketIo
            )
        );
        assert_eq!(
            parse("/drives/d/list/subscriptions/socketIo").unwrap(),
            Route::DriveListSocketIo(DriveSel::Id("d".into()))
        );
        assert_eq!(
            parse("/groups/g/drive/root/children").unwrap(),
            item(
                DriveSel::Group("g".into()),
                ItemBase::Root,
                None,
                Action::Children
            )
        );
        assert_eq!(
            parse("/me/drive/root:/Projects").unwrap(),
            item(DriveSel::Me, ItemBase::Root, Some("Projects"), Action::Item)
        );
        assert!(matches!(parse("/nope/x"), Err(GraphError::UnknownSegment(s)) if s == "nope"));
    }
}
