//! The identity platform: device-code responses and every poll error, tenants, clients,
//! refresh with rotation, revoked refresh tokens, and expired access tokens on Graph.

mod common;

use std::time::Duration;

use common::*;
use graph_emulator::EmulatorConfig;
use graph_emulator::seed::demo;

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const SCOPES: &str = "Files.Read offline_access User.Read openid profile";

async fn begin(emu: &graph_emulator::Emulator, tenant: &str) -> serde_json::Value {
    let (status, body) = oauth(
        emu,
        tenant,
        "devicecode",
        &[("client_id", CLIENT_ID), ("scope", SCOPES)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn poll(
    emu: &graph_emulator::Emulator,
    tenant: &str,
    device_code: &str,
) -> (u16, serde_json::Value) {
    oauth(
        emu,
        tenant,
        "token",
        &[
            ("client_id", CLIENT_ID),
            ("grant_type", DEVICE_GRANT),
            ("device_code", device_code),
        ],
    )
    .await
}

fn error_of(body: &serde_json::Value) -> &str {
    body["error"].as_str().unwrap_or("")
}

#[tokio::test]
async fn device_code_response_has_every_field() {
    let emu = start().await;
    let body = begin(&emu, "common").await;
    assert_eq!(body["verification_uri"], emu.verification_uri());
    assert!(body.get("verification_url").is_none());
    assert!(body.get("verification_uri_complete").is_none());
    insta::assert_json_snapshot!(
        "devicecode_response",
        normalize(&body, &emu.authority_url())
    );
}

#[tokio::test]
async fn pending_then_slow_down_then_tokens_then_redeemed() {
    // A 3 s interval leaves a loaded machine plenty of room to poll twice within it.
    let emu =
        start_with(EmulatorConfig::for_tests().with_device_code_interval(Duration::from_secs(3)))
            .await;
    let body = begin(&emu, "organizations").await;
    let dc = body["device_code"].as_str().unwrap();
    let (s, e) = poll(&emu, "organizations", dc).await;
    assert_eq!((s, error_of(&e)), (400, "authorization_pending"));
    insta::assert_json_snapshot!("authorization_pending", normalize(&e, &emu.authority_url()));
    // Polled again at once: faster than the 3 s interval.
    let (s, e) = poll(&emu, "organizations", dc).await;
    assert_eq!((s, error_of(&e)), (400, "slow_down"));
    // A personal account cannot approve an `organizations` sign-in.
    let code = body["user_code"].as_str().unwrap();
    assert!(emu.approve_device_code(code, demo::PERSONAL_USER).is_err());
    emu.approve_device_code(code, demo::DEMO_USER).unwrap();
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let (s, t) = poll(&emu, "organizations", dc).await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["expires_in"], 3599);
    assert!(t["ext_expires_in"].is_u64());
    assert_eq!(t["scope"], "Files.Read User.Read openid profile");
    for k in ["access_token", "refresh_token", "id_token"] {
        assert!(t[k].as_str().is_some_and(|s| s.len() > 20), "{k}");
    }
    insta::assert_json_snapshot!("token_response", normalize(&t, &emu.authority_url()));
    let (s, e) = poll(&emu, "organizations", dc).await;
    assert_eq!((s, error_of(&e)), (400, "invalid_grant"));
}

#[tokio::test]
async fn declined_expired_and_unknown_codes() {
    let emu =
        start_with(EmulatorConfig::for_tests().with_device_code_lifetime(Duration::from_secs(3)))
            .await;
    let a = begin(&emu, "common").await;
    emu.decline_device_code(a["user_code"].as_str().unwrap())
        .unwrap();
    let (s, e) = poll(&emu, "common", a["device_code"].as_str().unwrap()).await;
    assert_eq!((s, error_of(&e)), (400, "authorization_declined"));

    let b = begin(&emu, "common").await;
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let (s, e) = poll(&emu, "common", b["device_code"].as_str().unwrap()).await;
    assert_eq!((s, error_of(&e)), (400, "expired_token"));
    assert_eq!(e["error_codes"][0], 70019);

    let (s, e) = poll(&emu, "common", "not-a-code").await;
    assert_eq!((s, error_of(&e)), (400, "bad_verification_code"));
}

#[tokio::test]
async fn tenants_and_clients() {
    let emu = start_with(EmulatorConfig::for_tests().with_allowed_client_ids([CLIENT_ID])).await;
    let (s, e) = oauth(
        &emu,
        "nowhere.example",
        "devicecode",
        &[("client_id", CLIENT_ID), ("scope", SCOPES)],
    )
    .await;
    assert_eq!((s, error_of(&e)), (400, "invalid_request"));
    assert_eq!(e["error_codes"][0], 90002);
    let (s, e) = oauth(
        &emu,
        "common",
        "devicecode",
        &[("client_id", "someone-else"), ("scope", SCOPES)],
    )
    .await;
    assert_eq!(error_of(&e), "invalid_client", "{s} {e}");
    let (s, e) = oauth(&emu, "common", "devicecode", &[("scope", SCOPES)]).await;
    assert_eq!((s, error_of(&e)), (400, "invalid_request"));

    // `consumers` admits only personal accounts; a tenant domain only its own users.
    let c = begin(&emu, "consumers").await;
    assert!(
        emu.approve_device_code(c["user_code"].as_str().unwrap(), demo::DEMO_USER)
            .is_err()
    );
    emu.approve_device_code(c["user_code"].as_str().unwrap(), demo::PERSONAL_USER)
        .unwrap();
    let t = begin(&emu, demo::TENANT_DOMAIN).await;
    assert!(
        emu.approve_device_code(t["user_code"].as_str().unwrap(), demo::PERSONAL_USER)
            .is_err()
    );
    emu.approve_device_code(t["user_code"].as_str().unwrap(), demo::ALEX_USER)
        .unwrap();
    let (s, tok) = poll(
        &emu,
        demo::TENANT_DOMAIN,
        t["device_code"].as_str().unwrap(),
    )
    .await;
    assert_eq!(s, 200, "{tok}");
    // The code belongs to its tenant: polling through another one does not redeem it.
    let (s, e) = poll(&emu, "common", c["device_code"].as_str().unwrap()).await;
    assert_eq!((s, error_of(&e)), (400, "bad_verification_code"));
}

#[tokio::test]
async fn auto_approve_answers_the_first_poll_with_tokens() {
    let emu = start_with(EmulatorConfig::for_tests().with_auto_approve(demo::DEMO_USER)).await;
    let b = begin(&emu, "common").await;
    let (s, t) = poll(&emu, "common", b["device_code"].as_str().unwrap()).await;
    assert_eq!(s, 200, "{t}");
    let (s, _, me) = get(&emu, t["access_token"].as_str().unwrap(), "/me").await;
    assert_eq!(s, 200);
    assert_eq!(me["userPrincipalName"], demo::DEMO_USER);
}

#[tokio::test]
async fn refresh_rotates_and_revocation_is_invalid_grant() {
    let emu = start().await;
    let (_, refresh) = emu.issue_tokens(demo::DEMO_USER).unwrap();
    let form = |rt: &str| {
        vec![
            ("client_id".to_string(), "graph-emulator-test".to_string()),
            ("grant_type".to_string(), "refresh_token".to_string()),
            ("refresh_token".to_string(), rt.to_string()),
        ]
    };
    let f = form(&refresh);
    let f: Vec<(&str, &str)> = f.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let (s, t) = oauth(&emu, "common", "token", &f).await;
    assert_eq!(s, 200, "{t}");
    let rotated = t["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(
        rotated, refresh,
        "every refresh returns a new refresh token"
    );
    let (s, _, _) = get(&emu, t["access_token"].as_str().unwrap(), "/me/drive").await;
    assert_eq!(s, 200);

    assert!(emu.revoke_refresh_tokens(Some(demo::DEMO_USER)).unwrap() >= 2);
    let f = form(&rotated);
    let f: Vec<(&str, &str)> = f.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let (s, e) = oauth(&emu, "common", "token", &f).await;
    assert_eq!((s, error_of(&e)), (400, "invalid_grant"));
    let (s, e) = oauth(
        &emu,
        "common",
        "token",
        &[("client_id", "x"), ("grant_type", "password")],
    )
    .await;
    assert_eq!((s, error_of(&e)), (400, "unsupported_grant_type"));
}

#[tokio::test]
async fn expired_or_unknown_access_tokens_are_401() {
    let emu =
        start_with(EmulatorConfig::for_tests().with_access_token_lifetime(Duration::from_secs(2)))
            .await;
    let (access, _) = emu.issue_tokens(demo::DEMO_USER).unwrap();
    assert_eq!(get(&emu, &access, "/me").await.0, 200);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (s, h, e) = get(&emu, &access, "/me").await;
    assert_eq!(s, 401);
    assert_eq!(e["error"]["code"], "InvalidAuthenticationToken");
    assert!(h.contains_key("www-authenticate"));
    insta::assert_json_snapshot!("expired_token_error", normalize(&e, &emu.authority_url()));
    let (s, _, e) = get(&emu, "made-up", "/me/drive").await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (401, Some("InvalidAuthenticationToken"))
    );
    let resp = http()
        .get(format!("{}/me", emu.graph_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
}

#[tokio::test]
async fn verification_page_approves_and_escapes_names() {
    let mut seed = graph_emulator::Seed::default();
    seed.users[2].display_name = "<script>alert(1)</script> Alex".into();
    let emu = start_with(EmulatorConfig::for_tests().with_seed(seed)).await;
    let b = begin(&emu, "common").await;
    let code = b["user_code"].as_str().unwrap();
    let page = http()
        .get(format!("{}?code={code}", emu.verification_uri()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt; Alex"));
    assert!(!page.contains("<script>"));
    assert!(page.contains(code));
    let resp = http()
        .post(emu.verification_uri())
        .form(&[
            ("code", code),
            ("user", demo::ALEX_USER),
            ("decision", "approve"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let (s, t) = poll(&emu, "common", b["device_code"].as_str().unwrap()).await;
    assert_eq!(s, 200, "{t}");
    let (_, _, me) = get(&emu, t["access_token"].as_str().unwrap(), "/me").await;
    assert_eq!(me["id"], demo::ALEX_USER_ID);
}

#[tokio::test]
async fn a_seed_can_restrict_client_ids() {
    let seed = graph_emulator::Seed {
        client_ids: vec![CLIENT_ID.to_string()],
        ..Default::default()
    };
    let emu = start_with(EmulatorConfig::for_tests().with_seed(seed)).await;
    let (s, e) = oauth(
        &emu,
        "common",
        "devicecode",
        &[("client_id", "unknown-app"), ("scope", SCOPES)],
    )
    .await;
    assert_eq!((s, error_of(&e)), (401, "invalid_client"));
    assert_eq!(e["error_codes"][0], 700016);
    let (s, _) = oauth(
        &emu,
        "common",
        "devicecode",
        &[("client_id", CLIENT_ID), ("scope", SCOPES)],
    )
    .await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn the_message_is_localised_with_mkt() {
    let emu = start().await;
    let url = format!(
        "{}/common/oauth2/v2.0/devicecode?mkt=ru-RU",
        emu.authority_url()
    );
    let body: serde_json::Value = http()
        .post(url)
        .form(&[("client_id", CLIENT_ID), ("scope", SCOPES)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let message = body["message"].as_str().unwrap();
    assert!(message.starts_with("Чтобы выполнить вход"), "{message}");
    assert!(message.contains(body["user_code"].as_str().unwrap()));
    assert!(message.contains(&emu.verification_uri()));
}
