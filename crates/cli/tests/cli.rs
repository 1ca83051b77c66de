//! The real `drivewatch-cli` binary against the Graph emulator on 127.0.0.1: login through the
//! device flow (auto-approved), accounts, status, targets, watch --json seeing an upload, a rename,
//! a move and a delete, history, logout, and the documented exit codes.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use graph_emulator::seed::demo;
use graph_emulator::{Emulator, EmulatorConfig};

mod common;
use common::child::{ChildGuard, lines, wait_line, wait_until_reporting};
use common::{Setup, setup};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_accounts_status_targets_logout() {
    let s = setup().await;
    let login = s.run(&["login"]).await;
    assert_eq!(login.code, Some(0), "{login:?}");
    assert!(
        login.stderr.contains(&s.emu.verification_uri()),
        "{login:?}"
    );
    assert!(login.stderr.contains("enter the code"), "{login:?}");
    assert!(login.stderr.contains(demo::DEMO_USER_NAME), "{login:?}");

    let accounts = s.run(&["accounts"]).await;
    assert_eq!(accounts.code, Some(0));
    assert!(accounts.stdout.contains(demo::DEMO_USER), "{accounts:?}");
    let json = s.run(&["accounts", "--json"]).await;
    let list: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(list[0]["id"], demo::DEMO_USER_ID);
    assert_eq!(list[0]["state"], "signedIn");

    let status = s.run(&["status"]).await;
    assert_eq!(status.code, Some(0), "{status:?}");
    assert!(status.stdout.contains("ok"), "{status:?}");
    assert!(status.stdout.contains("token store:  file"), "{status:?}");

    let targets = s.run(&["targets", "list", "--json"]).await;
    let targets: serde_json::Value = serde_json::from_str(&targets.stdout).unwrap();
    assert_eq!(targets.as_array().unwrap().len(), 1);
    assert_eq!(targets[0]["spec"]["type"], "myDrive");

    // Another drive, checked against Graph first; a bad one changes nothing.
    let added = s.run(&["targets", "add", "--group", demo::GROUP_ID]).await;
    assert_eq!(added.code, Some(0), "{added:?}");
    let bad = s.run(&["targets", "add", "--drive", "b!nope"]).await;
    assert_eq!(bad.code, Some(1), "{bad:?}");
    let listed = s.run(&["targets", "list"]).await;
    assert_eq!(listed.stdout.lines().count(), 2, "{listed:?}");
    let removed = s.run(&["targets", "remove", added.stdout.trim()]).await;
    assert_eq!(removed.code, Some(0), "{removed:?}");
    assert_eq!(s.run(&["targets", "list"]).await.stdout.lines().count(), 1);

    // The settings file keeps no value that came from the environment.
    let settings = std::fs::read_to_string(s.home.path().join("config.toml")).unwrap();
    assert!(!settings.contains("drivewatch-cli-tests"), "{settings}");

    // Nothing secret in any output, and the token file is private.
    for out in [&login, &accounts, &status] {
        assert!(
            !out.stderr.contains("refresh_token") && !out.stdout.contains("eyJ"),
            "{out:?}"
        );
    }

    let logout = s.run(&["logout"]).await;
    assert_eq!(logout.code, Some(0), "{logout:?}");
    assert_eq!(s.run(&["accounts", "--json"]).await.stdout.trim(), "[]");
    assert_eq!(s.run(&["status"]).await.code, Some(3));
    assert_eq!(s.run(&["watch"]).await.code, Some(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_account_status_exits_3() {
    let s = setup().await;
    assert_eq!(s.run(&["login"]).await.code, Some(0));
    s.emu.revoke_refresh_tokens(None).unwrap();
    s.emu.expire_access_tokens();
    let status = s.run(&["status"]).await;
    assert_eq!(status.code, Some(3), "{status:?}");
    assert!(status.stdout.contains("needs sign-in"), "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_and_usage_errors_have_their_exit_codes() {
    let s = setup().await;
    let mut no_id = s.cli();
    no_id.env_remove("DRIVEWATCH_CLIENT_ID").arg("login");
    let out = tokio::task::spawn_blocking(move || no_id.output().unwrap())
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Using a real Microsoft account"));

    let insecure = s
        .run(&["--graph-url", "http://graph.example.com/v1.0", "status"])
        .await;
    assert_eq!(insecure.code, Some(4), "{insecure:?}");
    assert!(insecure.stderr.contains("loopback"), "{insecure:?}");

    assert_eq!(s.run(&["no-such-command"]).await.code, Some(2));
    assert_eq!(s.run(&["history", "--limit", "many"]).await.code, Some(2));
    assert_eq!(
        s.run(&["--token-store", "vault", "accounts"]).await.code,
        Some(2)
    );
    // A flag wins over its variable.
    let flag = s
        .run(&["--authority-url", "https://login.example.com", "status"])
        .await;
    assert!(
        flag.stdout.contains("https://login.example.com"),
        "{flag:?}"
    );
}

/// Kills the child when a test fails before stopping it, so no process outlives its test.
/// Sends a signal through the shell's `kill` builtin (no extra binary or unsafe code needed).
#[cfg_attr(windows, allow(dead_code))]
fn signal(pid: &str, name: &str) {
    let ok = Command::new("sh")
        .args(["-c", &format!("kill -{name} {pid}")])
        .status()
        .unwrap()
        .success();
    assert!(ok, "could not send SIG{name}");
}

/// One scripted change and the kind `watch --json` must report for it.
type Step = (&'static str, Box<dyn Fn() + Send>);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(windows, ignore = "stops the CLI with a Unix signal")]
async fn watch_json_reports_upload_rename_move_delete_and_history_keeps_them() {
    let s = setup().await;
    assert_eq!(s.run(&["login"]).await.code, Some(0));
    let mut cmd = s.cli();
    cmd.args(["watch", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = ChildGuard(Some(cmd.spawn().unwrap()));
    let (out, err) = lines(child.0.as_mut().unwrap());
    let (_err, live) = wait_line(err, |l| l.contains("live"), Duration::from_secs(20)).await;
    assert!(live.is_some(), "watch never went live");
    let out = wait_until_reporting(&s.emu, out).await;

    let d = demo::DEMO_DRIVE_ID;
    let a = demo::ALEX_USER;
    let mut out = out;
    let mut seen = Vec::new();
    let steps: Vec<Step> = vec![
        ("created", {
            let e = s.emu.handle();
            Box::new(move || {
                e.upload(a, d, "/CliTest/report.txt", b"v1".to_vec())
                    .unwrap();
            })
        }),
        ("renamed", {
            let e = s.emu.handle();
            Box::new(move || {
                e.rename(a, d, "/CliTest/report.txt", "final.txt").unwrap();
            })
        }),
        ("moved", {
            let e = s.emu.handle();
            Box::new(move || {
                e.create_folder(a, d, "/CliArchive").unwrap();
                e.move_item(a, d, "/CliTest/final.txt", "/CliArchive")
                    .unwrap();
            })
        }),
        ("deleted", {
            let e = s.emu.handle();
            Box::new(move || {
                e.delete(a, d, "/CliArchive/final.txt").unwrap();
            })
        }),
    ];
    for (kind, act) in steps {
        act();
        let want = kind.to_string();
        let (rx, line) = wait_line(
            out,
            move |l| {
                serde_json::from_str::<serde_json::Value>(l)
                    .map(|v| {
                        v["kind"] == want.as_str()
                            && v["isFolder"] == false
                            && v["path"].as_str().is_some_and(|p| p.starts_with("/Cli"))
                    })
                    .unwrap_or(false)
            },
            Duration::from_secs(30),
        )
        .await;
        out = rx;
        let line = line.unwrap_or_else(|| panic!("no {kind} change printed"));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        for key in [
            "kind", "name", "path", "oldPath", "isFolder", "itemId", "driveId", "by", "own", "at",
            "webUrl", "account", "group",
        ] {
            assert!(v.get(key).is_some(), "{key} missing in {line}");
        }
        // Graph's deleted items carry no lastModifiedBy.
        if kind != "deleted" {
            assert_eq!(v["by"], "Alex Wilber", "{line}");
        }
        assert_eq!(v["own"], false);
        assert_eq!(v["account"], demo::DEMO_USER_ID);
        seen.push(v);
    }
    assert_eq!(seen[1]["oldPath"], "/CliTest/report.txt");
    assert_eq!(seen[1]["path"], "/CliTest/final.txt");
    assert_eq!(seen[2]["path"], "/CliArchive/final.txt");

    // SIGTERM ends it cleanly within 2 seconds.
    let mut child = child.take();
    let pid = child.id().to_string();
    let started = Instant::now();
    let status = tokio::task::spawn_blocking(move || {
        signal(&pid, "TERM");
        child.wait().unwrap()
    })
    .await
    .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(status.code(), Some(0));

    let history = s.run(&["history", "--json"]).await;
    assert_eq!(history.code, Some(0), "{history:?}");
    let kinds: Vec<String> = history
        .stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    for k in ["created", "renamed", "moved", "deleted"] {
        assert!(
            kinds.iter().any(|x| x == k),
            "{k} not in history: {kinds:?}"
        );
    }
    let grep = s
        .run(&["history", "--grep", "FINAL.TXT", "--limit", "10"])
        .await;
    assert!(grep.stdout.lines().count() >= 2, "{grep:?}");
    assert!(
        grep.stdout
            .lines()
            .all(|l| l.to_lowercase().contains("final.txt")),
        "{grep:?}"
    );
    let one = s.run(&["history", "--limit", "1"]).await;
    assert_eq!(one.stdout.lines().count(), 1, "{one:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(windows, ignore = "stops the CLI with a Unix signal")]
async fn no_token_reaches_the_logs_of_a_full_run() {
    let s = setup().await;
    let mut logs = String::new();
    let run_logged = |args: &'static [&'static str]| {
        let mut cmd = s.cli();
        cmd.env("DRIVEWATCH_LOG", "trace").args(args);
        cmd
    };
    for args in [
        &["login"][..],
        &["status"][..],
        &["targets", "add", "--group", demo::GROUP_ID][..],
    ] {
        let mut cmd = run_logged(args);
        let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        logs.push_str(&String::from_utf8_lossy(&out.stderr));
        logs.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    // Force a refresh inside watch, and let push and delta run for a moment.
    s.emu.expire_access_tokens();
    let mut cmd = run_logged(&["watch", "--json"]);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = ChildGuard(Some(cmd.spawn().unwrap()));
    let (out, err) = lines(child.0.as_mut().unwrap());
    let (err, live) = wait_line(err, |l| l.contains("live (push)"), Duration::from_secs(20)).await;
    assert!(live.is_some());
    let out = wait_until_reporting(&s.emu, out).await;
    s.emu
        .upload(
            demo::ALEX_USER,
            demo::DEMO_DRIVE_ID,
            "/LogTest/a.txt",
            b"x".to_vec(),
        )
        .unwrap();
    let (out, line) = wait_line(out, |l| l.contains("a.txt"), Duration::from_secs(30)).await;
    assert!(line.is_some());
    let mut child = child.take();
    let pid = child.id().to_string();
    tokio::task::spawn_blocking(move || {
        signal(&pid, "TERM");
        child.wait().unwrap()
    })
    .await
    .unwrap();
    logs.extend(err.try_iter().map(|l| l + "\n"));
    logs.extend(out.try_iter().map(|l| l + "\n"));
    assert!(logs.len() > 1000, "trace logging produced output");

    let tokens_dir = s.home.path().join("tokens");
    let mut secrets = Vec::new();
    for entry in std::fs::read_dir(&tokens_dir).unwrap() {
        let stored: serde_json::Value =
            serde_json::from_slice(&std::fs::read(entry.unwrap().path()).unwrap()).unwrap();
        for key in ["refresh_token", "access_token"] {
            if let Some(t) = stored[key].as_str() {
                secrets.push(t.to_string());
            }
        }
    }
    assert!(!secrets.is_empty());
    for secret in &secrets {
        assert!(secret.len() > 16);
        assert!(
            !logs.contains(secret.as_str()),
            "a token appears in the logs"
        );
        // Not even a long piece of it.
        assert!(
            !logs.contains(&secret[..16]),
            "part of a token appears in the logs"
        );
    }
    assert!(
        !logs.to_lowercase().contains("bearer "),
        "an Authorization header was logged"
    );
}

/// Runs `--demo watch --json` (with `DRIVEWATCH_DEMO_PUSH` set to `push` when given) until three
/// changes were printed, each within `per_line`, all within `within` of the start; then Ctrl-C.
async fn demo_prints_three_changes(push: Option<&str>, per_line: Duration, within: Duration) {
    let started = Instant::now();
    let mut cmd = Command::cargo_bin("drivewatch-cli").unwrap();
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .args(["--demo", "watch", "--json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(push) = push {
        cmd.env("DRIVEWATCH_DEMO_PUSH", push);
    }
    let mut child = ChildGuard(Some(cmd.spawn().unwrap()));
    let (mut out, err) = lines(child.0.as_mut().unwrap());
    let (_err, signed_in) = wait_line(
        err,
        |l| l.starts_with("Signed in as"),
        Duration::from_secs(30),
    )
    .await;
    assert!(signed_in.is_some(), "the demo user was not signed in");
    let mut kinds = Vec::new();
    while kinds.len() < 3 {
        let left = within.saturating_sub(started.elapsed()).min(per_line);
        let (rx, line) = wait_line(out, |l| l.starts_with('{'), left).await;
        out = rx;
        let line = line.expect("scripted activity shows up");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["account"], demo::DEMO_USER_ID);
        kinds.push(v["kind"].as_str().unwrap().to_string());
    }
    let mut child = child.take();
    let pid = child.id().to_string();
    let status = tokio::task::spawn_blocking(move || {
        signal(&pid, "INT");
        child.wait().unwrap()
    })
    .await
    .unwrap();
    assert_eq!(status.code(), Some(0), "{kinds:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(windows, ignore = "stops the CLI with a Unix signal")]
async fn demo_mode_signs_in_and_streams_scripted_changes() {
    let per_line = Duration::from_secs(30);
    demo_prints_three_changes(Some("instant"), per_line, Duration::from_secs(300)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(windows, ignore = "stops the CLI with a Unix signal")]
async fn demo_mode_with_microsofts_delay_still_shows_three_changes_within_a_minute() {
    // Notifications come 5-40 s after each change, but the first one's delta run brings every
    // change made so far, and the script makes one every 3 s.
    let minute = Duration::from_secs(60);
    demo_prints_three_changes(None, minute, minute).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graph_calls_go_through_the_proxy_from_the_environment() {
    let s = setup().await;
    // `graph.localhost:9` is reachable only through the proxy (the emulator, which serves
    // absolute-form requests); the identity platform on 127.0.0.1 is exempt by NO_PROXY.
    let port = s.emu.local_addr().port();
    let proxied = |args: &'static [&'static str], proxy: bool| {
        let mut cmd = s.cli();
        cmd.env("DRIVEWATCH_GRAPH_URL", "http://graph.localhost:9/v1.0")
            .env("NO_PROXY", "127.0.0.1")
            .args(args);
        if proxy {
            cmd.env("HTTP_PROXY", format!("http://127.0.0.1:{port}"));
        }
        cmd
    };
    let run = |mut cmd: Command| async move {
        tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap()
    };
    let login = run(proxied(&["login"], true)).await;
    assert_eq!(login.status.code(), Some(0), "{login:?}");
    let status = run(proxied(&["status"], true)).await;
    let text = String::from_utf8_lossy(&status.stdout).into_owned();
    assert_eq!(status.status.code(), Some(0), "{text}");
    assert!(text.contains(")  ok"), "{text}");
    // Without the proxy the same call cannot get through: the proxy was really used.
    let direct = run(proxied(&["status"], false)).await;
    let text = String::from_utf8_lossy(&direct.stdout).into_owned();
    assert!(text.contains("not checked: network error"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_accounts_side_by_side_and_logout_names_one() {
    let emu = Emulator::start(EmulatorConfig::for_tests()).await.unwrap();
    let s = Setup {
        emu,
        home: tempfile::tempdir().unwrap(),
    };
    for user in [demo::DEMO_USER, demo::PERSONAL_USER] {
        let handle = s.emu.handle();
        let approver = tokio::spawn(async move {
            let approved = graph_emulator::scenario::approve_next_sign_in(
                &handle,
                user,
                Duration::from_secs(10),
            )
            .await;
            assert!(approved, "no device code appeared");
        });
        let login = s.run(&["login"]).await;
        approver.await.unwrap();
        assert_eq!(login.code, Some(0), "{login:?}");
    }
    let list: serde_json::Value =
        serde_json::from_str(&s.run(&["accounts", "--json"]).await.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    let targets: serde_json::Value =
        serde_json::from_str(&s.run(&["targets", "list", "--json"]).await.stdout).unwrap();
    assert_eq!(
        targets.as_array().unwrap().len(),
        2,
        "one OneDrive per account"
    );

    // With two accounts, logout must be told which one.
    let ambiguous = s.run(&["logout"]).await;
    assert_eq!(ambiguous.code, Some(2), "{ambiguous:?}");
    assert!(
        ambiguous.stderr.contains(demo::PERSONAL_USER),
        "{ambiguous:?}"
    );
    let unknown = s.run(&["logout", "nobody@example.com"]).await;
    assert_eq!(unknown.code, Some(2), "{unknown:?}");

    let out = s.run(&["logout", demo::PERSONAL_USER]).await;
    assert_eq!(out.code, Some(0), "{out:?}");
    let list: serde_json::Value =
        serde_json::from_str(&s.run(&["accounts", "--json"]).await.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], demo::DEMO_USER_ID);
    let targets: serde_json::Value =
        serde_json::from_str(&s.run(&["targets", "list", "--json"]).await.stdout).unwrap();
    assert_eq!(targets.as_array().unwrap().len(), 1);
    assert_eq!(targets[0]["account"], demo::DEMO_USER_ID);
    assert_eq!(s.run(&["status"]).await.code, Some(0));
}

/// A burst of uploads into one folder is one group: `watch --json` and `history --json` give
/// every object of it the same `group` (the seq of its first change), `history` shows it as one
/// line, and `--folder`, `--group` and `--since` select in the history.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(windows, ignore = "stops the CLI with a Unix signal")]
async fn a_burst_is_one_group_in_watch_and_history() {
    let s = setup().await;
    assert_eq!(s.run(&["login"]).await.code, Some(0));
    let mut cmd = s.cli();
    cmd.args(["watch", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = ChildGuard(Some(cmd.spawn().unwrap()));
    let (out, err) = lines(child.0.as_mut().unwrap());
    let (_err, live) = wait_line(err, |l| l.contains("live"), Duration::from_secs(20)).await;
    assert!(live.is_some(), "watch never went live");
    let mut out = wait_until_reporting(&s.emu, out).await;

    let (a, d) = (demo::ALEX_USER, demo::DEMO_DRIVE_ID);
    for i in 0..6 {
        let path = format!("/CliBurst/photo-{i}.jpg");
        s.emu.upload(a, d, &path, b"jpg".to_vec()).unwrap();
    }
    let mut watched = Vec::new();
    while watched.len() < 6 {
        let (rx, line) = wait_line(
            out,
            |l| l.contains("/CliBurst/photo-"),
            Duration::from_secs(30),
        )
        .await;
        out = rx;
        let line = line.expect("the burst was not printed");
        watched.push(serde_json::from_str::<serde_json::Value>(&line).unwrap());
    }
    let first = watched.iter().map(|v| v["seq"].as_i64().unwrap()).min();
    assert!(
        watched.iter().all(|v| v["group"].as_i64() == first),
        "{watched:?}"
    );
    let mut child = child.take();
    let pid = child.id().to_string();
    tokio::task::spawn_blocking(move || {
        signal(&pid, "TERM");
        child.wait().unwrap()
    })
    .await
    .unwrap();

    let objects = |stdout: &str| -> Vec<serde_json::Value> {
        stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let history = s.run(&["history", "--json", "--folder", "/clIBURST"]).await;
    assert_eq!(history.code, Some(0), "{history:?}");
    // The folder itself (created by the first upload) and the six photos in it.
    let all = objects(&history.stdout);
    assert_eq!(all.len(), 7, "{history:?}");
    assert!(all.iter().any(|v| v["path"] == "/CliBurst"), "{all:?}");
    let burst: Vec<_> = all
        .into_iter()
        .filter(|v| v["path"] != "/CliBurst")
        .collect();
    assert_eq!(burst.len(), 6, "{history:?}");
    assert!(
        burst.iter().all(|v| v["group"].as_i64() == first),
        "{burst:?}"
    );
    let group = first.unwrap().to_string();
    let members = s.run(&["history", "--json", "--group", &group]).await;
    assert_eq!(objects(&members.stdout), burst);
    let recent = s
        .run(&[
            "history",
            "--json",
            "--since",
            "1h",
            "--folder",
            "/CliBurst",
        ])
        .await;
    assert_eq!(objects(&recent.stdout).len(), 7, "{recent:?}");
    let future = s
        .run(&["history", "--json", "--since", "2999-01-01T00:00:00Z"])
        .await;
    assert_eq!(future.stdout, "", "{future:?}");

    // Readable: the burst is one line with its count (and the folder's creation one more).
    let human = s.run(&["history", "--folder", "/CliBurst"]).await;
    assert_eq!(human.stdout.lines().count(), 2, "{human:?}");
    assert!(
        human.stdout.contains(&format!("[+5 more, group {group}]")),
        "{human:?}"
    );
    for bad in [
        ["history", "--since", "yesterday"],
        ["history", "--folder", "CliBurst"],
    ] {
        let out = s.run(&bad).await;
        assert_eq!(out.code, Some(2), "{out:?}");
        assert!(out.stderr.contains("like"), "{out:?}");
    }
}
