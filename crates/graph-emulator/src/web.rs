//! The page for people: `GET /` lists users, drives and files and lets a person upload, edit,
//! rename, move and delete files as any user, so demo mode can be played by hand and every toast
//! traced to its cause. Also serves downloads and a plain view behind every item's webUrl.
//!
//! Every name shown here is untrusted (anyone may create files): it must always go through
//! [`escape`], never into markup unescaped.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use percent_encoding::percent_decode_str;

use crate::graph::owner_label;
use crate::store::{Item, World};
use crate::{EmulatorHandle, Shared, wire};

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn tree(w: &World, base: &str, id: &str, depth: usize, out: &mut String) {
    for c in w.children_of(id) {
        let path = w.path_of(&c.id);
        let kind = if c.is_folder() { "folder" } else { "file" };
        let who = w
            .users
            .get(&c.modified_by)
            .map(|u| u.display_name.clone())
            .unwrap_or_default();
        out.push_str(&format!(
            "<tr><td style=\"padding-left:{}rem\" class=\"{kind}\"><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            depth as f32 * 1.2,
            escape(&wire::web_url(base, w, c)),
            escape(&c.name),
            if c.is_folder() { String::new() } else { c.size().to_string() },
            escape(&who),
            escape(&wire::date(&c.modified_at)),
            escape(&path),
        ));
        if c.is_folder() {
            tree(w, base, &c.id, depth + 1, out);
        }
    }
}

/// `GET /`
pub async fn index(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
) -> Html<String> {
    let w = shared.lock_world();
    let base = &shared.base;
    let mut users = String::new();
    let mut user_options = String::new();
    for u in w.users.values() {
        let kind = match u.tenant.as_deref().and_then(|t| w.tenant(t)) {
            None => "personal".to_string(),
            Some(t) => format!("work or school ({})", escape(&t.display_name)),
        };
        users.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{kind}</td><td><code>{}</code></td></tr>",
            escape(&u.display_name),
            escape(&u.username),
            escape(&u.id)
        ));
        user_options.push_str(&format!(
            "<option value=\"{}\">{}</option>",
            escape(&u.id),
            escape(&u.display_name)
        ));
    }
    let mut drives = String::new();
    for d in w.drives.values() {
        let members: Vec<String> = d
            .members
            .iter()
            .filter_map(|m| w.users.get(m))
            .map(|u| escape(&u.display_name))
            .collect();
        let mut rows = String::new();
        tree(&w, base, &d.root, 0, &mut rows);
        drives.push_str(&format!(
            r#"<section><h3>{} — {} <small>({}, <code>{}</code>)</small></h3>
<p>Access: {}</p>
<table><tr><th>Name</th><th>Size</th><th>Modified by</th><th>Modified</th><th>Path</th></tr>{rows}</table>
<form method="post" action="/_emulator/ui">
<input type="hidden" name="drive" value="{}">
<select name="user" aria-label="as user">{user_options}</select>
<select name="op" aria-label="action"><option value="upload">upload / overwrite</option><option value="edit">edit content</option><option value="create_folder">create folder</option><option value="rename">rename to</option><option value="move">move into folder</option><option value="delete">delete</option></select>
<input name="path" placeholder="path, e.g. Projects/notes.txt" required>
<input name="value" placeholder="content, new name or target folder">
<button>Do it</button></form></section>"#,
            escape(&owner_label(&w, &d.owner)),
            escape(&d.name),
            d.drive_type.as_str(),
            escape(&d.id),
            members.join(", "),
            escape(&d.id),
        ));
    }
    drop(w);
    let pending = shared.lock_auth().pending();
    let pending_html = if pending.is_empty() {
        "<p>No sign-in is waiting.</p>".to_string()
    } else {
        let items: String = pending
            .iter()
            .map(|(c, _, _)| {
                format!(
                    "<li><a href=\"/devicelogin?code={0}\">{0}</a></li>",
                    escape(c)
                )
            })
            .collect();
        format!("<ul>{items}</ul>")
    };
    let msg = q
        .get("msg")
        .map(|m| format!("<p class=\"msg\" role=\"status\">{}</p>", escape(m)))
        .unwrap_or_default();
    Html(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Graph emulator</title>
<style>body{{font-family:system-ui,sans-serif;margin:1.5rem}}table{{border-collapse:collapse;margin:.4rem 0}}td,th{{padding:.15rem .6rem;text-align:left;border-bottom:1px solid #ddd}}.msg{{padding:.5rem;background:#eef}}section{{margin-bottom:1.5rem}}td.folder a::after{{content:\"/\"}}</style></head>
<body><h1>Graph emulator</h1>{msg}
<p>Authority <code>{base}</code> · Graph <code>{base}/v1.0</code> · <a href="/devicelogin">Enter a sign-in code</a></p>
<h2>Sign-ins waiting</h2>{pending_html}
<h2>Users</h2><table><tr><th>Name</th><th>Username</th><th>Kind</th><th>Id</th></tr>{users}</table>
<h2>Drives</h2>{drives}</body></html>"#,
        base = escape(base),
    ))
}

#[derive(serde::Deserialize)]
pub struct ActionForm {
    drive: String,
    user: String,
    op: String,
    path: String,
    #[serde(default)]
    value: String,
}

/// `POST /_emulator/ui`: the page's form.
pub async fn action(State(shared): State<Arc<Shared>>, Form(f): Form<ActionForm>) -> Redirect {
    let h = EmulatorHandle { shared };
    let r = match f.op.as_str() {
        "upload" => h.upload(&f.user, &f.drive, &f.path, f.value.into_bytes()),
        "edit" => h.edit(&f.user, &f.drive, &f.path, f.value.into_bytes()),
        "create_folder" => h.create_folder(&f.user, &f.drive, &f.path),
        "rename" => h.rename(&f.user, &f.drive, &f.path, &f.value),
        "move" => h.move_item(&f.user, &f.drive, &f.path, &f.value),
        "delete" => h.delete(&f.user, &f.drive, &f.path),
        other => Err(crate::EmulatorError::InvalidOperation(
            if other.is_empty() {
                "no action chosen"
            } else {
                "unknown action"
            },
        )),
    };
    let msg = match r {
        Ok(_) => format!("Done: {} {}", f.op, f.path),
        Err(e) => format!("Not done: {e}"),
    };
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("msg", &msg)
        .finish();
    Redirect::to(&format!("/?{q}"))
}

/// `GET /_emulator/download/{drive}/{item}`: the target of `@microsoft.graph.downloadUrl`.
pub async fn download(
    State(shared): State<Arc<Shared>>,
    Path((drive, item)): Path<(String, String)>,
) -> Response {
    let w = shared.lock_world();
    match w.live_item(&item).filter(|i| i.drive == drive) {
        Some(Item {
            content: Some(c), ..
        }) => (
            [(header::CONTENT_TYPE, "application/octet-stream")],
            c.clone(),
        )
            .into_response(),
        _ => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// Fallback: the page behind an item's webUrl (what "open in browser" shows).
pub async fn web_view(State(shared): State<Arc<Shared>>, uri: Uri) -> Response {
    let path = percent_decode_str(uri.path())
        .decode_utf8_lossy()
        .trim_end_matches('/')
        .to_string();
    let w = shared.lock_world();
    for d in w.drives.values() {
        let dp = d.web_path.as_str();
        let rest = if path == dp {
            Some("")
        } else {
            path.strip_prefix(dp).and_then(|r| r.strip_prefix('/'))
        };
        let Some(rest) = rest else { continue };
        let Ok(id) = w.resolve_path(&d.id, rest) else {
            break;
        };
        let it = &w.items[&id];
        let who = w
            .users
            .get(&it.modified_by)
            .map(|u| u.display_name.clone())
            .unwrap_or_default();
        let body = match &it.content {
            Some(c) => format!("<pre>{}</pre>", escape(&String::from_utf8_lossy(c))),
            None => {
                let kids: String = w
                    .children_of(&id)
                    .iter()
                    .map(|c| {
                        format!(
                            "<li><a href=\"{}\">{}</a></li>",
                            escape(&wire::web_url(&shared.base, &w, c)),
                            escape(&c.name)
                        )
                    })
                    .collect();
                format!("<ul>{kids}</ul>")
            }
        };
        return Html(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{0}</title></head><body><h1>{0}</h1><p>In {1} · last modified by {2} at {3}</p>{body}<p><a href=\"/\">All drives</a></p></body></html>",
            escape(&it.name),
            escape(&owner_label(&w, &d.owner)),
            escape(&who),
            escape(&wire::date(&it.modified_at)),
        ))
        .into_response();
    }
    (
        StatusCode::NOT_FOUND,
        Html("<!doctype html><p>Not found. <a href=\"/\">All drives</a></p>".to_string()),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<img src=x onerror='a'>&\""),
            "&lt;img src=x onerror=&#39;a&#39;&gt;&amp;&quot;"
        );
    }
}
