//! A `watch` child process and its output: killed when the test ends however it ends, its lines
//! read off the async threads, and waiting for the baseline to be done.

use std::io::{BufRead, BufReader};
use std::process::Child;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use graph_emulator::Emulator;
use graph_emulator::seed::demo;

/// Kills and reaps the child when dropped, so no test leaves a `watch` running.
pub struct ChildGuard(pub Option<Child>);

impl ChildGuard {
    pub fn take(&mut self) -> Child {
        self.0.take().expect("child still here")
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Reads a child's stdout and stderr lines into channels.
pub fn lines(child: &mut Child) -> (mpsc::Receiver<String>, mpsc::Receiver<String>) {
    let (out_tx, out_rx) = mpsc::channel();
    let (err_tx, err_rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = out_tx.send(line);
        }
    });
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = err_tx.send(line);
        }
    });
    (out_rx, err_rx)
}

/// Waits (off the async threads) for a line matching `pred`.
pub async fn wait_line(
    rx: mpsc::Receiver<String>,
    pred: impl Fn(&str) -> bool + Send + 'static,
    timeout: Duration,
) -> (mpsc::Receiver<String>, Option<String>) {
    tokio::task::spawn_blocking(move || {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) if pred(&line) => return (rx, Some(line)),
                Ok(_) => continue,
                Err(_) => return (rx, None),
            }
        }
    })
    .await
    .unwrap()
}

/// Uploads a marker file every 2 s until `watch` prints one: from then on the first delta
/// (the baseline) is certainly done and every later change will be reported.
pub async fn wait_until_reporting(
    emu: &Emulator,
    mut out: mpsc::Receiver<String>,
) -> mpsc::Receiver<String> {
    for n in 0..15 {
        let name = format!("warm-up-{n}.txt");
        emu.upload(
            demo::ADELE_USER,
            demo::DEMO_DRIVE_ID,
            &format!("/WarmUp/{name}"),
            b"w".to_vec(),
        )
        .unwrap();
        let (rx, line) = wait_line(out, |l| l.contains("warm-up-"), Duration::from_secs(2)).await;
        out = rx;
        if line.is_some() {
            return out;
        }
    }
    panic!("watch never reported a change");
}
