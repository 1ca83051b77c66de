//! The documented exit codes of the real `drivewatch-cli` binary against the Graph emulator:
//! each is a map of the failure's kind, so the same failure exits the same way from whichever
//! command meets it.

use graph_emulator::seed::demo;

mod common;
use common::setup;

/// The same failure exits the same way from whichever command meets it: an unknown account is
/// a usage error (2), a drive Graph refuses is "other" (1), a revoked sign-in needs sign-in (3).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_accounts_refused_drives_and_revoked_sign_ins_have_their_exit_codes() {
    let s = setup().await;
    assert_eq!(s.run(&["login"]).await.code, Some(0));

    let unknown = s
        .run(&["targets", "add", "--me", "--account", "nobody@example.com"])
        .await;
    assert_eq!(unknown.code, Some(2), "{unknown:?}");
    assert!(unknown.stderr.contains("nobody@example.com"), "{unknown:?}");
    let unknown = s.run(&["logout", "nobody@example.com"]).await;
    assert_eq!(unknown.code, Some(2), "{unknown:?}");

    let refused = s
        .run(&["targets", "add", "--drive", "b!no-such-drive"])
        .await;
    assert_eq!(refused.code, Some(1), "{refused:?}");

    s.emu.revoke_refresh_tokens(None).unwrap();
    s.emu.expire_access_tokens();
    let revoked = s.run(&["targets", "add", "--group", demo::GROUP_ID]).await;
    assert_eq!(revoked.code, Some(3), "{revoked:?}");
    assert_eq!(s.run(&["status"]).await.code, Some(3));
    // Nothing was added along the way.
    let targets: serde_json::Value =
        serde_json::from_str(&s.run(&["targets", "list", "--json"]).await.stdout).unwrap();
    assert_eq!(targets.as_array().unwrap().len(), 1);
}
