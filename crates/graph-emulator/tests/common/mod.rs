//! Shared helpers for the emulator's integration tests: start an emulator on 127.0.0.1:0 with
//! fast timings, talk to it with reqwest, and normalise volatile fields before snapshots.
#![allow(dead_code)]

pub mod eio;

use std::time::Duration;

use graph_emulator::{Emulator, EmulatorConfig};
use serde_json::Value;

pub const CLIENT_ID: &str = "11111111-2222-3333-4444-555555555555";

pub async fn start() -> Emulator {
    start_with(EmulatorConfig::for_tests()).await
}

pub async fn start_with(config: EmulatorConfig) -> Emulator {
    Emulator::start(config).await.expect("emulator starts")
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// GET a Graph path (relative to `/v1.0`) with a token; returns status, headers and JSON.
pub async fn get(
    emu: &Emulator,
    token: &str,
    path: &str,
) -> (u16, reqwest::header::HeaderMap, Value) {
    send(emu, reqwest::Method::GET, token, path, None).await
}

pub async fn send(
    emu: &Emulator,
    method: reqwest::Method,
    token: &str,
    path: &str,
    body: Option<reqwest::Body>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let url = if path.starts_with("http") {
        path.to_string()
    } else {
        format!("{}{path}", emu.graph_url())
    };
    let mut req = http().request(method, url).bearer_auth(token);
    if let Some(b) = body {
        req = req.body(b);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("body");
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    (status, headers, json)
}

pub async fn send_json(
    emu: &Emulator,
    method: reqwest::Method,
    token: &str,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let url = format!("{}{path}", emu.graph_url());
    let resp = http()
        .request(method, url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    let json = resp.json().await.unwrap_or(Value::Null);
    (status, json)
}

/// POSTs a form to the identity platform.
pub async fn oauth(
    emu: &Emulator,
    tenant: &str,
    endpoint: &str,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let url = format!("{}/{tenant}/oauth2/v2.0/{endpoint}", emu.authority_url());
    let resp = http().post(url).form(form).send().await.expect("request");
    (resp.status().as_u16(), resp.json().await.expect("json"))
}

/// Replaces the base URL, dates, ids of requests and tokens with stable placeholders.
pub fn normalize(v: &Value, base: &str) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, val)| {
                    let volatile = k.ends_with("DateTime")
                        || matches!(
                            k.as_str(),
                            "date"
                                | "timestamp"
                                | "request-id"
                                | "client-request-id"
                                | "trace_id"
                                | "correlation_id"
                                | "access_token"
                                | "refresh_token"
                                | "id_token"
                                | "device_code"
                                | "user_code"
                        );
                    if volatile && !val.is_null() {
                        (k.clone(), Value::String(format!("[{k}]")))
                    } else {
                        (k.clone(), normalize(val, base))
                    }
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|x| normalize(x, base)).collect()),
        Value::String(s) => Value::String(redact_text(&s.replace(base, "http://127.0.0.1:PORT"))),
        other => other.clone(),
    }
}

/// Redacts query tokens and user codes inside free text.
fn redact_text(s: &str) -> String {
    let mut out = s.to_string();
    if let Some(i) = out.find(" Trace ID: ") {
        out.truncate(i);
    }
    for key in ["token='", "token="] {
        if let Some(i) = out
            .find(key)
            .filter(|i| !out[i + key.len()..].starts_with('\''))
        {
            let start = i + key.len();
            let end = out[start..]
                .find(['&', '\'', ')', ' '])
                .map_or(out.len(), |j| start + j);
            out.replace_range(start..end, "[token]");
        }
    }
    if let Some(i) = out.find("enter the code ") {
        let start = i + "enter the code ".len();
        let end = out[start..].find(' ').map_or(out.len(), |j| start + j);
        out.replace_range(start..end, "[user_code]");
    }
    for key in ["opaqueId-"] {
        if let Some(i) = out.find(key) {
            out.replace_range(i + key.len().., "[id]");
        }
    }
    out
}
