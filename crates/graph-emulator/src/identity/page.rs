//! The verification page at `/devicelogin`, where a person enters a user code, picks who signs
//! in and approves or declines. Every value it shows is escaped; it never shows a token.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::decide;
use crate::Shared;
use crate::store::User;
use crate::web::escape;

#[derive(serde::Deserialize)]
pub struct PageQuery {
    code: Option<String>,
}

/// `GET /devicelogin`: where a person enters the code, picks a user and approves or declines.
pub async fn verification_page(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<PageQuery>,
) -> Html<String> {
    Html(render_verification(
        &shared,
        q.code.as_deref().unwrap_or(""),
        None,
    ))
}

#[derive(serde::Deserialize)]
pub struct DecisionForm {
    code: String,
    user: Option<String>,
    decision: String,
}

/// `POST /devicelogin`
pub async fn verification_submit(
    State(shared): State<Arc<Shared>>,
    Form(f): Form<DecisionForm>,
) -> Response {
    let approve = f.decision == "approve";
    let user = f.user.as_deref().filter(|u| !u.is_empty());
    let outcome = if approve && user.is_none() {
        Err("Pick a user to sign in as.".to_string())
    } else {
        decide(&shared, &f.code, if approve { user } else { None }).map_err(|e| e.to_string())
    };
    let message = match outcome {
        Ok(()) if approve => {
            "Signed in. You can close this window and return to the app.".to_string()
        }
        Ok(()) => "Sign-in declined.".to_string(),
        Err(e) => format!("Not done: {e}"),
    };
    let status = if message.starts_with("Not done") {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    (
        status,
        Html(render_verification(&shared, "", Some(&message))),
    )
        .into_response()
}

fn render_verification(shared: &Shared, code: &str, message: Option<&str>) -> String {
    let users: Vec<User> = shared.lock_world().users.values().cloned().collect();
    let pending = shared.lock_auth().pending();
    let mut options = String::new();
    for u in &users {
        let kind = if u.is_personal() {
            "personal"
        } else {
            "work or school"
        };
        options.push_str(&format!(
            "<option value=\"{}\">{} &lt;{}&gt; ({kind})</option>",
            escape(&u.id),
            escape(&u.display_name),
            escape(&u.username)
        ));
    }
    let pending_list: String = pending
        .iter()
        .map(|(c, client, tenant)| {
            format!(
                "<li><code>{}</code> for application <code>{}</code> via <code>{}</code></li>",
                escape(c),
                escape(client),
                escape(tenant)
            )
        })
        .collect();
    let msg = message
        .map(|m| format!("<p class=\"msg\" role=\"status\">{}</p>", escape(m)))
        .unwrap_or_default();
    format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Enter code</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto}}label{{display:block;margin:.6rem 0}}.msg{{padding:.5rem;background:#eef}}</style></head>
<body><h1>Enter code</h1>{msg}
<p>Enter the code displayed on your app or device, choose who signs in, then approve or decline.</p>
<form method="post" action="/devicelogin">
<label>Code <input name="code" value="{}" autocomplete="off" required></label>
<label>Sign in as <select name="user">{options}</select></label>
<button name="decision" value="approve">Approve</button> <button name="decision" value="decline">Decline</button>
</form>
<h2>Pending sign-ins</h2><ul>{pending_list}</ul>
<p><a href="/">Back to the emulator</a></p></body></html>"#,
        escape(code)
    )
}
