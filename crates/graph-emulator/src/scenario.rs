//! Scripted activity for demo mode: other people of the default seed change the demo user's
//! shared OneDrive and the Marketing library (uploads, edits, renames, moves, deletes, a burst of
//! 40 files), plus one change by the demo user, paced over about 30 s; then a slow trickle.
//!
//! It acts only through the public control methods, so what it does is exactly what a test or a
//! person on the page could do. It must stop promptly when cancelled and never panic on a world
//! that a person changed in the meantime (failed steps are logged and skipped).

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::EmulatorHandle;
use crate::seed::demo::{ADELE_USER, ALEX_USER, DEMO_DRIVE_ID, DEMO_USER, SITE_DRIVE_ID};

/// One scripted step: seconds to wait before it, what it is, what it does.
type Step = (
    u64,
    &'static str,
    Box<dyn Fn(&EmulatorHandle) -> Result<String, crate::EmulatorError> + Send + Sync>,
);

/// Sleeps unless cancelled; returns false when cancelled.
async fn pause(cancel: &CancellationToken, d: Duration) -> bool {
    tokio::select! {
        _ = cancel.cancelled() => false,
        _ = tokio::time::sleep(d) => true,
    }
}

fn log_step(step: &str, r: Result<String, crate::EmulatorError>) {
    match r {
        Ok(_) => tracing::info!(step, "demo activity"),
        Err(e) => tracing::warn!(step, error = %e, "demo activity step skipped"),
    }
}

/// Plays the demo script against the default seed until `cancel` fires.
pub async fn play_demo_activity(emu: &EmulatorHandle, cancel: CancellationToken) {
    let steps: Vec<Step> = vec![
        (
            2,
            "Alex uploads an agenda",
            Box::new(|e| {
                e.upload(
                    ALEX_USER,
                    DEMO_DRIVE_ID,
                    "Shared with team/Agenda.txt",
                    "1. Welcome\n2. Numbers\n",
                )
            }),
        ),
        (
            3,
            "Adele edits the Q3 plan",
            Box::new(|e| {
                e.edit(
                    ADELE_USER,
                    DEMO_DRIVE_ID,
                    "Projects/Q3 Plan.txt",
                    "Goals for Q3\n- ship the launch\n",
                )
            }),
        ),
        (
            3,
            "Alex renames the budget",
            Box::new(|e| {
                e.rename(
                    ALEX_USER,
                    DEMO_DRIVE_ID,
                    "Projects/Budget.csv",
                    "Budget v2.csv",
                )
            }),
        ),
        (
            3,
            "Adele uploads to the Marketing library",
            Box::new(|e| {
                e.upload(
                    ADELE_USER,
                    SITE_DRIVE_ID,
                    "Campaigns/Summer teaser.txt",
                    "Teaser copy\n",
                )
            }),
        ),
        (
            3,
            "Alex moves the meeting notes",
            Box::new(|e| {
                e.move_item(
                    ALEX_USER,
                    DEMO_DRIVE_ID,
                    "Shared with team/Meeting notes.txt",
                    "Projects",
                )
            }),
        ),
        (
            3,
            "Adele creates a photo folder",
            Box::new(|e| e.create_folder(ADELE_USER, DEMO_DRIVE_ID, "Photos/Offsite")),
        ),
    ];
    for (wait, step, f) in &steps {
        if !pause(&cancel, Duration::from_secs(*wait)).await {
            return;
        }
        log_step(step, f(emu));
    }
    // A burst: 40 files into one folder within about two seconds.
    for n in 1..=40 {
        if !pause(&cancel, Duration::from_millis(50)).await {
            return;
        }
        let path = format!("Photos/Offsite/IMG_{n:04}.txt");
        log_step(
            "Adele uploads a photo",
            emu.upload(ADELE_USER, DEMO_DRIVE_ID, &path, format!("photo {n}")),
        );
    }
    let tail: Vec<Step> = vec![
        (
            3,
            "Alex deletes the welcome note",
            Box::new(|e| e.delete(ALEX_USER, DEMO_DRIVE_ID, "Welcome.txt")),
        ),
        (
            3,
            "Megan edits her own plan",
            Box::new(|e| {
                e.edit(
                    DEMO_USER,
                    DEMO_DRIVE_ID,
                    "Projects/Q3 Plan.txt",
                    "Goals for Q3\n- ship the launch\n- hire\n",
                )
            }),
        ),
        (
            3,
            "Alex edits the brand guidelines",
            Box::new(|e| {
                e.edit(
                    ALEX_USER,
                    SITE_DRIVE_ID,
                    "Brand/Guidelines.txt",
                    "Use the blue logo.\nNever stretch it.\n",
                )
            }),
        ),
    ];
    for (wait, step, f) in &tail {
        if !pause(&cancel, Duration::from_secs(*wait)).await {
            return;
        }
        log_step(step, f(emu));
    }
    // Then a slow trickle so a long-running demo keeps showing life.
    let mut n = 0u64;
    loop {
        if !pause(&cancel, Duration::from_secs(20)).await {
            return;
        }
        n += 1;
        let (who, drive) = if n % 2 == 0 {
            (ALEX_USER, DEMO_DRIVE_ID)
        } else {
            (ADELE_USER, SITE_DRIVE_ID)
        };
        let path = if drive == DEMO_DRIVE_ID {
            "Shared with team/Log.txt"
        } else {
            "Campaigns/Log.txt"
        };
        log_step(
            "a colleague appends to a log",
            emu.upload(who, drive, path, format!("entry {n}\n")),
        );
    }
}

/// Approves the next device-code sign-in as `user` once one is pending, as a person on the
/// verification page would. False when none appeared within `within` or the approval failed.
pub async fn approve_next_sign_in(emu: &EmulatorHandle, user: &str, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(code) = emu.pending_user_codes().first() {
            return emu.approve_device_code(code, user).is_ok();
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
