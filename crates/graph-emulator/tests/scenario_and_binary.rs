//! Demo mode's scripted activity (on a paused clock) and the binary's contract: first stdout
//! line, seed files, clean exit on SIGTERM.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use graph_emulator::scenario::play_demo_activity;
use graph_emulator::seed::demo;
use tokio_util::sync::CancellationToken;

#[tokio::test(start_paused = true)]
async fn demo_activity_changes_shared_drives_as_other_users_then_stops() {
    let emu = start().await;
    let cancel = CancellationToken::new();
    let h = emu.handle();
    let c = cancel.clone();
    let task = tokio::spawn(async move { play_demo_activity(&h, c).await });
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        emu.exists(demo::DEMO_DRIVE_ID, "Shared with team/Agenda.txt"),
        "starts within a couple of seconds"
    );
    tokio::time::sleep(Duration::from_secs(35)).await;
    assert!(emu.exists(demo::DEMO_DRIVE_ID, "Projects/Budget v2.csv"));
    assert!(emu.exists(demo::DEMO_DRIVE_ID, "Projects/Meeting notes.txt"));
    assert!(!emu.exists(demo::DEMO_DRIVE_ID, "Welcome.txt"));
    assert!(emu.exists(demo::SITE_DRIVE_ID, "Campaigns/Summer teaser.txt"));
    for n in 1..=40 {
        assert!(
            emu.exists(
                demo::DEMO_DRIVE_ID,
                &format!("Photos/Offsite/IMG_{n:04}.txt")
            ),
            "{n}"
        );
    }
    assert_eq!(
        emu.content(demo::DEMO_DRIVE_ID, "Projects/Q3 Plan.txt")
            .unwrap(),
        b"Goals for Q3\n- ship the launch\n- hire\n",
        "the demo user's own edit came last"
    );
    // Who did what is visible through Graph.
    let (t, _) = emu.issue_tokens(demo::DEMO_USER).unwrap();
    let (_, _, agenda) = get(&emu, &t, "/me/drive/root:/Shared with team/Agenda.txt").await;
    assert_eq!(
        agenda["lastModifiedBy"]["user"]["displayName"],
        "Alex Wilber"
    );
    cancel.cancel();
    tokio::time::timeout(Duration::from_secs(1), task)
        .await
        .expect("stops when cancelled")
        .unwrap();
}

#[test]
fn binary_prints_its_endpoints_first_serves_a_seed_file_and_exits_on_sigterm() {
    let dir = std::env::temp_dir().join(format!("graph-emulator-seed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let seed_path = dir.join("seed.toml");
    std::fs::write(
        &seed_path,
        r#"
[[users]]
id = "0000000000000001"
display_name = "Solo Person"
username = "solo@example.com"

[[drives]]
id = "0000000000000001"
name = "OneDrive"
owner_user = "solo@example.com"
items = [{ path = "Hello.txt", content = "hi" }]
"#,
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_graph-emulator"))
        .args(["--port", "0", "--seed"])
        .arg(&seed_path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    let authority = v["authority"].as_str().unwrap().to_string();
    assert!(authority.starts_with("http://127.0.0.1:"));
    assert_eq!(v["graph"], format!("{authority}/v1.0"));
    assert_eq!(v.as_object().unwrap().len(), 2);

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let page = rt.block_on(async {
        http()
            .get(&authority)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    assert!(page.contains("Solo Person") && page.contains("Hello.txt"));

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(std::time::Instant::now() < deadline, "exits after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn inconsistent_seeds_are_refused() {
    let mut seed = graph_emulator::Seed::default();
    seed.drives[0].owner_user = Some("nobody@example.com".into());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let err = rt
        .block_on(graph_emulator::Emulator::start(
            graph_emulator::EmulatorConfig::default().with_seed(seed),
        ))
        .unwrap_err();
    assert!(
        matches!(err, graph_emulator::EmulatorError::SeedInvalid(_)),
        "{err}"
    );
}
