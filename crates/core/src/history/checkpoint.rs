//! WAL checkpoints off the commit path, on a thread and a connection of their own.
//!
//! Why: SQLite's automatic checkpoint runs inside the commit that pushes the WAL past its limit,
//! and copying a thousand pages into the database (with its fsync) took that commit 20-40 ms:
//! the 1 % of changes whose toast came that much later (the change-to-toast p99). A PASSIVE
//! checkpoint on another connection runs alongside the writer instead: WAL mode lets readers,
//! one writer and a checkpointer work at once. The writer's own automatic checkpoint stays as a
//! safety net far above this one's threshold ([`SAFETY_NET_PAGES`]), for the case this thread
//! could not start.
//!
//! The thread sleeps on a channel and is woken only when a checkpoint is due; it ends when the
//! last clone of its store is dropped.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use rusqlite::Connection;

/// Rows written (changes, index entries, resync marks, deletions) after which the thread
/// checkpoints: a few hundred pages, about what SQLite's default of 1,000 pages allows.
const CHECKPOINT_AFTER_ROWS: u64 = 2_000;

/// Commits after which the thread checkpoints even if they were small: a one-change commit
/// writes half a dozen pages.
const CHECKPOINT_AFTER_COMMITS: u64 = 100;

/// The writer's own automatic checkpoint, in pages (SQLite's default is 1,000).
pub(super) const SAFETY_NET_PAGES: i64 = 10_000;

/// Writes since the last checkpoint was asked for.
#[derive(Debug, Default)]
struct Pending {
    rows: u64,
    commits: u64,
}

/// The writing side: counts what was written and wakes the thread only when a checkpoint is
/// due, so a commit costs the thread nothing (no wake-up, no context switch) the other 99 times.
#[derive(Debug)]
pub(super) struct Checkpointer {
    pending: Mutex<Pending>,
    due: mpsc::Sender<()>,
    /// Checkpoints done, for tests and diagnostics.
    done: Arc<AtomicU64>,
}

impl Checkpointer {
    /// Starts the thread for the database at `path`; `None` if it cannot be had (the writer's
    /// safety net then checkpoints). Its connection is opened at the first checkpoint, so a
    /// store that writes little (a CLI reading the history, an idle tray) never holds one.
    pub(super) fn start(path: &Path) -> Option<Self> {
        let path = path.to_owned();
        let (due, wake) = mpsc::channel::<()>();
        let done = Arc::new(AtomicU64::new(0));
        let counter = done.clone();
        std::thread::Builder::new()
            .name("history-checkpoint".into())
            .spawn(move || run(&path, wake, counter))
            .ok()?;
        Some(Self {
            pending: Mutex::default(),
            due,
            done,
        })
    }

    /// A transaction that wrote about `rows` rows committed.
    pub(super) fn wrote(&self, rows: usize) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        pending.rows += rows as u64;
        pending.commits += 1;
        if pending.rows >= CHECKPOINT_AFTER_ROWS || pending.commits >= CHECKPOINT_AFTER_COMMITS {
            *pending = Pending::default();
            let _ = self.due.send(());
        }
    }

    pub(super) fn done(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }
}

/// The checkpointing connection: a checkpoint copies frames straight from the WAL, so it needs
/// no page cache beyond the schema's few pages.
fn open(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "cache_size", -64)?;
    Ok(conn)
}

fn run(path: &Path, wake: mpsc::Receiver<()>, done: Arc<AtomicU64>) {
    let mut conn: Option<Connection> = None;
    // Ends when every sender is gone: the store was dropped.
    while wake.recv().is_ok() {
        // Requests that piled up while the last checkpoint ran are served by this one.
        while wake.try_recv().is_ok() {}
        if conn.is_none() {
            conn = open(path)
                .map_err(|e| tracing::warn!(error = %e, "cannot open the history to checkpoint"))
                .ok();
        }
        let Some(c) = &conn else { continue };
        // PASSIVE: copies what no reader still needs and never waits for the writer; what it
        // could not copy goes with the next one.
        match c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(0)) {
            Ok(_) => {
                done.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => tracing::warn!(error = %e, "history checkpoint failed"),
        }
    }
}
