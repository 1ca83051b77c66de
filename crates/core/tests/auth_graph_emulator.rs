//! Sign-in, token refresh and the Graph request path against the Graph emulator, started
//! in-process on 127.0.0.1: the device flow and each of its outcomes, refresh-token rotation,
//! revoked refresh tokens, Retry-After and 401 handling, and the five subscription forms.

use std::time::{Duration, Instant};

use drivewatch_core::auth::{AuthError, TokenStore};
use drivewatch_core::config::{Config, Paths};
use drivewatch_core::error::EngineError;
use drivewatch_core::graph::GraphError;
use drivewatch_core::model::{AccountKind, SignInEvent, TargetSpec};
use graph_emulator::seed::demo;
use graph_emulator::{Emulator, EmulatorConfig, ThrottleStatus};
use tokio_util::sync::CancellationToken;
use url::Url;

mod auth_fixture;
mod common;
use auth_fixture::*;

#[tokio::test]
async fn device_flow_signs_in_names_the_account_and_stores_tokens() {
    let f = fixture(EmulatorConfig::for_tests().with_auto_approve(demo::DEMO_USER)).await;
    let (events, on_event) = recorder();
    let done = f
        .workspace
        .sign_in(AccountKind::Any, &on_event, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(done.account.id, demo::DEMO_USER_ID);
    assert_eq!(done.account.display_name, demo::DEMO_USER_NAME);
    assert_eq!(done.account.username, demo::DEMO_USER);
    assert_eq!(done.account.kind, AccountKind::Work);
    assert_eq!(kinds(&events), ["prompt", "signedIn"]);
    match &events.lock().unwrap()[0] {
        SignInEvent::Prompt { prompt } => {
            assert!(!prompt.user_code.is_empty());
            assert_eq!(prompt.verification_uri, f.emu.verification_uri());
            assert!(
                prompt.message.contains(&prompt.user_code),
                "Microsoft's message kept"
            );
        }
        other => panic!("{other:?}"),
    }
    let accounts = f.workspace.accounts().unwrap();
    assert_eq!(accounts.len(), 1);
    assert!(
        !stored_refresh_token(&f, demo::DEMO_USER_ID)
            .await
            .is_empty()
    );

    // A later run opens the account from the store.
    let graph = f.workspace.graph_for(demo::DEMO_USER).await.unwrap();
    let me = graph.me(&CancellationToken::new()).await.unwrap();
    assert_eq!(me.id, demo::DEMO_USER_ID);
}

#[tokio::test]
async fn two_accounts_side_by_side_and_sign_out_removes_one() {
    let f = fixture(EmulatorConfig::for_tests()).await;
    let cancel = CancellationToken::new();
    for user in [demo::DEMO_USER, demo::PERSONAL_USER] {
        let (_events, on_event) = recorder();
        let approver = approve_when_prompted(&f.emu, user);
        f.workspace
            .sign_in(AccountKind::Any, &on_event, &cancel)
            .await
            .unwrap();
        approver.await.unwrap();
    }
    let accounts = f.workspace.accounts().unwrap();
    assert_eq!(accounts.len(), 2);
    let personal = accounts
        .iter()
        .find(|a| a.account.id == demo::PERSONAL_USER_ID)
        .unwrap();
    assert_eq!(personal.account.kind, AccountKind::Personal);

    f.workspace.sign_out(demo::PERSONAL_USER_ID).await.unwrap();
    assert!(matches!(
        f.workspace.graph_for(demo::PERSONAL_USER_ID).await,
        Err(EngineError::UnknownAccount(_))
    ));
    assert!(
        TokenStore::file(f.paths.tokens_dir())
            .load(demo::PERSONAL_USER_ID)
            .await
            .unwrap()
            .is_none()
    );
    let work = f.workspace.graph_for(demo::DEMO_USER_ID).await.unwrap();
    work.me(&cancel).await.unwrap();
}

/// Approves the first pending code as `user`.
fn approve_when_prompted(emu: &Emulator, user: &'static str) -> tokio::task::JoinHandle<()> {
    let handle = emu.handle();
    tokio::spawn(async move {
        let approved =
            graph_emulator::scenario::approve_next_sign_in(&handle, user, Duration::from_secs(5))
                .await;
        assert!(approved, "no device code appeared");
    })
}

#[tokio::test]
async fn declined_sign_in_ends_in_declined() {
    let f = fixture(EmulatorConfig::for_tests()).await;
    let handle = f.emu.handle();
    tokio::spawn(async move {
        for _ in 0..200 {
            if let Some(code) = handle.pending_user_codes().first() {
                handle.decline_device_code(code).unwrap();
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    });
    let (events, on_event) = recorder();
    let err = f
        .workspace
        .sign_in(AccountKind::Any, &on_event, &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(
        matches!(err, EngineError::Auth(AuthError::Declined)),
        "{err:?}"
    );
    assert_eq!(kinds(&events), ["prompt", "declined"]);
    assert!(f.workspace.accounts().unwrap().is_empty());
}

#[tokio::test]
async fn unused_code_expires() {
    let f = fixture(EmulatorConfig::for_tests().with_device_code_lifetime(Duration::from_secs(2)))
        .await;
    let (events, on_event) = recorder();
    let err = f
        .workspace
        .sign_in(AccountKind::Any, &on_event, &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(
        matches!(err, EngineError::Auth(AuthError::Expired)),
        "{err:?}"
    );
    assert_eq!(kinds(&events), ["prompt", "expired"]);
}

#[tokio::test]
async fn slow_down_adds_five_seconds_and_still_signs_in() {
    // The code announces a 1 s interval but enforces 1.5 s: the second poll gets slow_down.
    let f =
        fixture(EmulatorConfig::for_tests().with_device_code_interval(Duration::from_millis(1500)))
            .await;
    // Approve only after the slow_down answer, so the next poll is the one that counts.
    let handle = f.emu.handle();
    let approver = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let code = handle
            .pending_user_codes()
            .first()
            .cloned()
            .expect("a pending code");
        handle.approve_device_code(&code, demo::DEMO_USER).unwrap();
    });
    let (events, on_event) = recorder();
    let start = Instant::now();
    f.workspace
        .sign_in(AccountKind::Any, &on_event, &CancellationToken::new())
        .await
        .unwrap();
    approver.await.unwrap();
    // Polls at 0 s, 1 s (slow_down), then 1 + 6 s: never sooner.
    assert!(
        start.elapsed() >= Duration::from_secs(6),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(kinds(&events), ["prompt", "signedIn"]);
}

#[tokio::test]
async fn cancelled_sign_in_stops_quietly() {
    let f = fixture(EmulatorConfig::for_tests()).await;
    let cancel = CancellationToken::new();
    let c2 = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        c2.cancel();
    });
    let (events, on_event) = recorder();
    let start = Instant::now();
    let err = f
        .workspace
        .sign_in(AccountKind::Any, &on_event, &cancel)
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::Auth(AuthError::Cancelled)));
    assert!(start.elapsed() < Duration::from_secs(2));
    assert_eq!(kinds(&events), ["prompt"]);
}

#[tokio::test]
async fn missing_client_id_is_a_config_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths::under(dir.path());
    let auth = workspace(Config::default(), &paths);
    let (events, on_event) = recorder();
    let err = auth
        .sign_in(AccountKind::Any, &on_event, &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("Using a real Microsoft account"),
        "{err}"
    );
    assert_eq!(kinds(&events), ["failed"]);
}

#[tokio::test]
async fn short_lived_access_tokens_are_refreshed_and_rotation_is_persisted() {
    // Tokens living 4 minutes are inside the 5-minute margin: every use refreshes first.
    let f = fixture(
        EmulatorConfig::for_tests()
            .with_auto_approve(demo::DEMO_USER)
            .with_access_token_lifetime(Duration::from_secs(240)),
    )
    .await;
    let (_e, on_event) = recorder();
    let cancel = CancellationToken::new();
    f.workspace
        .sign_in(AccountKind::Any, &on_event, &cancel)
        .await
        .unwrap();
    let first = stored_refresh_token(&f, demo::DEMO_USER_ID).await;
    let graph = f.workspace.graph_for(demo::DEMO_USER_ID).await.unwrap();
    graph.me(&cancel).await.unwrap();
    let second = stored_refresh_token(&f, demo::DEMO_USER_ID).await;
    assert_ne!(first, second, "the rotated refresh token was stored");
    graph.me(&cancel).await.unwrap();
    let third = stored_refresh_token(&f, demo::DEMO_USER_ID).await;
    assert_ne!(second, third);
    // A fresh process reading the store can still refresh (the old token was not kept).
    let again = f.workspace.graph_for(demo::DEMO_USER_ID).await.unwrap();
    again.me(&cancel).await.unwrap();
}

#[tokio::test]
async fn expired_access_token_gets_one_refresh_on_401() {
    let f = fixture(EmulatorConfig::for_tests().with_auto_approve(demo::DEMO_USER)).await;
    let (_e, on_event) = recorder();
    let cancel = CancellationToken::new();
    let done = f
        .workspace
        .sign_in(AccountKind::Any, &on_event, &cancel)
        .await
        .unwrap();
    let before = stored_refresh_token(&f, demo::DEMO_USER_ID).await;
    f.emu.expire_access_tokens();
    let me = done.graph.me(&cancel).await.unwrap();
    assert_eq!(me.id, demo::DEMO_USER_ID);
    assert_ne!(stored_refresh_token(&f, demo::DEMO_USER_ID).await, before);
}

#[tokio::test]
async fn revoked_refresh_token_needs_sign_in_without_looping() {
    let f = fixture(EmulatorConfig::for_tests().with_auto_approve(demo::DEMO_USER)).await;
    let (_e, on_event) = recorder();
    let cancel = CancellationToken::new();
    let done = f
        .workspace
        .sign_in(AccountKind::Any, &on_event, &cancel)
        .await
        .unwrap();
    f.emu.revoke_refresh_tokens(Some(demo::DEMO_USER)).unwrap();
    f.emu.expire_access_tokens();
    let start = Instant::now();
    assert!(matches!(
        done.graph.me(&cancel).await,
        Err(GraphError::NeedsSignIn)
    ));
    assert!(done.graph.tokens().needs_sign_in().await);
    // Later calls fail at once, without another refresh attempt.
    assert!(matches!(
        done.graph.me(&cancel).await,
        Err(GraphError::NeedsSignIn)
    ));
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    // A new process reading the (now useless) stored token is told the same.
    let again = f.workspace.graph_for(demo::DEMO_USER_ID).await.unwrap();
    assert!(matches!(
        again.me(&cancel).await,
        Err(GraphError::NeedsSignIn)
    ));
}

#[tokio::test]
async fn retry_after_is_honoured_before_the_next_request() {
    let f = fixture(EmulatorConfig::for_tests().with_auto_approve(demo::DEMO_USER)).await;
    let (_e, on_event) = recorder();
    let cancel = CancellationToken::new();
    let done = f
        .workspace
        .sign_in(AccountKind::Any, &on_event, &cancel)
        .await
        .unwrap();
    for status in [ThrottleStatus::TooManyRequests, ThrottleStatus::Unavailable] {
        f.emu.throttle_next(1, status, Duration::from_secs(2));
        let start = Instant::now();
        let drive = done
            .graph
            .drive(&TargetSpec::MyDrive, &cancel)
            .await
            .unwrap();
        assert_eq!(drive.id, demo::DEMO_DRIVE_ID);
        assert!(
            start.elapsed() >= Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
    }
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff() {
    let f = fixture(EmulatorConfig::for_tests().with_auto_approve(demo::DEMO_USER)).await;
    let (_e, on_event) = recorder();
    let cancel = CancellationToken::new();
    let done = f
        .workspace
        .sign_in(AccountKind::Any, &on_event, &cancel)
        .await
        .unwrap();
    f.emu.fail_next(2);
    done.graph.me(&cancel).await.unwrap();
    f.emu.fail_next(10);
    match done.graph.me(&cancel).await {
        Err(GraphError::Service {
            status: 500, code, ..
        }) => {
            assert_eq!(code, "generalException")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn subscriptions_and_delta_for_every_target_form() {
    let f = fixture(EmulatorConfig::for_tests().with_auto_approve(demo::DEMO_USER)).await;
    let (_e, on_event) = recorder();
    let cancel = CancellationToken::new();
    let graph = f
        .workspace
        .sign_in(AccountKind::Any, &on_event, &cancel)
        .await
        .unwrap()
        .graph;
    let specs = [
        TargetSpec::MyDrive,
        TargetSpec::Drive {
            drive_id: demo::DEMO_DRIVE_ID.into(),
        },
        TargetSpec::DriveList {
            drive_id: demo::SITE_DRIVE_ID.into(),
        },
        TargetSpec::GroupDrive {
            group_id: demo::GROUP_ID.into(),
        },
        TargetSpec::SiteList {
            site_id: demo::SITE_ID.into(),
            list_id: demo::SITE_LIST_ID.into(),
        },
    ];
    for spec in &specs {
        let sub = graph
            .socket_io_subscription(spec, &cancel)
            .await
            .unwrap_or_else(|e| panic!("{spec:?}: {e}"));
        assert!(sub.expires_at.is_some(), "{spec:?}");
        assert!(!format!("{sub:?}").contains("token=ey"), "{sub:?}");
        let start = graph.delta_start(spec, &cancel).await.unwrap();
        assert!(
            start.items.is_empty() && start.delta_link.is_some(),
            "{spec:?}"
        );
        // Everything from scratch, following nextLinks.
        let mut page = graph.delta_full(spec, &cancel).await.unwrap();
        let mut items = page.items.len();
        while let Some(next) = page.next_link.clone() {
            page = graph.delta_page(&next, &cancel).await.unwrap();
            items += page.items.len();
        }
        assert!(page.delta_link.is_some());
        assert!(items > 0, "{spec:?}: the seed has files");
    }

    // An upload after the baseline shows up in the next delta.
    let start = graph
        .delta_start(&TargetSpec::MyDrive, &cancel)
        .await
        .unwrap();
    f.emu
        .upload(
            demo::ALEX_USER,
            demo::DEMO_DRIVE_ID,
            "/Reports/q4.txt",
            b"hi".to_vec(),
        )
        .unwrap();
    let page = graph
        .delta_page(start.delta_link.as_deref().unwrap(), &cancel)
        .await
        .unwrap();
    let item = page
        .items
        .iter()
        .find(|i| i.name.as_deref() == Some("q4.txt"))
        .expect("uploaded file in delta");
    assert_eq!(
        item.last_modified_by.as_ref().unwrap().display_name(),
        Some("Alex Wilber")
    );

    // Bad input: a drive the user cannot see.
    let err = graph
        .drive(
            &TargetSpec::Drive {
                drive_id: "b!doesnotexist".into(),
            },
            &cancel,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, GraphError::NotFound | GraphError::AccessDenied),
        "{err:?}"
    );
}

#[tokio::test]
async fn invalid_delta_tokens_are_a_resync() {
    let f = fixture(EmulatorConfig::for_tests().with_auto_approve(demo::DEMO_USER)).await;
    let (_e, on_event) = recorder();
    let cancel = CancellationToken::new();
    let graph = f
        .workspace
        .sign_in(AccountKind::Any, &on_event, &cancel)
        .await
        .unwrap()
        .graph;
    let start = graph
        .delta_start(&TargetSpec::MyDrive, &cancel)
        .await
        .unwrap();
    f.emu
        .invalidate_delta_tokens(None, graph_emulator::ResyncCode::SyncStateNotFound)
        .unwrap();
    match graph
        .delta_page(start.delta_link.as_deref().unwrap(), &cancel)
        .await
    {
        Err(GraphError::ResyncRequired { code, .. }) => assert_eq!(code, "syncStateNotFound"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_sharing_link_resolves_to_its_drive() {
    let f = fixture(EmulatorConfig::for_tests().with_auto_approve(demo::DEMO_USER)).await;
    let (_e, on_event) = recorder();
    let cancel = CancellationToken::new();
    let graph = f
        .workspace
        .sign_in(AccountKind::Any, &on_event, &cancel)
        .await
        .unwrap()
        .graph;
    let drive = graph.drive(&TargetSpec::MyDrive, &cancel).await.unwrap();
    let web_url = drive.web_url.expect("drive has a webUrl");
    let shared = graph.resolve_share_url(&web_url, &cancel).await.unwrap();
    assert_eq!(shared.drive_id, demo::DEMO_DRIVE_ID);
    assert!(matches!(
        graph
            .resolve_share_url("https://contoso.sharepoint.com/nothing/here", &cancel)
            .await,
        Err(GraphError::NotFound | GraphError::AccessDenied)
    ));
}

#[tokio::test]
async fn every_client_of_an_account_shares_one_throttle_gate() {
    let f = fixture(EmulatorConfig::for_tests().with_auto_approve(demo::DEMO_USER)).await;
    let (_e, on_event) = recorder();
    let cancel = CancellationToken::new();
    f.workspace
        .sign_in(AccountKind::Any, &on_event, &cancel)
        .await
        .unwrap();
    // Two targets of one account ask separately, as the engine does.
    let a = f.workspace.graph_for(demo::DEMO_USER_ID).await.unwrap();
    let b = f.workspace.graph_for(demo::DEMO_USER).await.unwrap();
    f.emu
        .throttle_next(1, ThrottleStatus::TooManyRequests, Duration::from_secs(3));
    let start = Instant::now();
    let c2 = cancel.clone();
    let first = tokio::spawn(async move { a.me(&c2).await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Only the first request was throttled, yet the second waits out the same Retry-After.
    b.me(&cancel).await.unwrap();
    assert!(
        start.elapsed() >= Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    first.await.unwrap().unwrap();
}

#[tokio::test]
async fn losing_the_network_while_polling_reports_offline_then_expiry() {
    let emu = Emulator::start(
        EmulatorConfig::for_tests().with_device_code_lifetime(Duration::from_secs(4)),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths::under(dir.path());
    let config = Config {
        authority_url: Url::parse(&emu.authority_url()).unwrap(),
        graph_url: Url::parse(&emu.graph_url()).unwrap(),
        client_id: Some("drivewatch-tests".into()),
        ..Config::default()
    };
    let auth = workspace(config, &paths);
    let (events, on_event) = recorder();
    let watcher = events.clone();
    // Once the prompt is out, the service goes away (connections are refused from then on).
    let stopper = tokio::spawn(async move {
        while watcher.lock().unwrap().is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        emu.shutdown().await;
    });
    let start = Instant::now();
    let err = auth
        .sign_in(AccountKind::Any, &on_event, &CancellationToken::new())
        .await
        .unwrap_err();
    stopper.await.unwrap();
    assert!(
        matches!(err, EngineError::Auth(AuthError::Expired)),
        "{err:?}"
    );
    assert_eq!(kinds(&events), ["prompt", "offline", "expired"]);
    // It kept trying until the code's expiry, not longer.
    assert!(
        start.elapsed() < Duration::from_secs(15),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn an_unknown_client_id_fails_with_the_platforms_reason() {
    let f = fixture(EmulatorConfig::for_tests().with_allowed_client_ids(["someone-else"])).await;
    let (events, on_event) = recorder();
    let err = f
        .workspace
        .sign_in(AccountKind::Any, &on_event, &CancellationToken::new())
        .await
        .unwrap_err();
    match &err {
        EngineError::Auth(AuthError::TokenEndpoint { error, description }) => {
            assert_eq!(error, "invalid_client");
            assert!(
                description
                    .as_deref()
                    .unwrap_or_default()
                    .contains("client id"),
                "{err}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(kinds(&events), ["failed"]);
}
