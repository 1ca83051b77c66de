//! The measurements of issue 7 (and section 8, latency with Microsoft's delivery delay; section 9,
//! change → `Notify` in the desktop app), each against the emulator on loopback.
//!
//! Each returns its figures and a section saying how it was measured and what limits it. They
//! run one after another, never overlapping, so no figure pays for another's load (except where
//! a section says it compares two observers of the same stream on purpose). None of them may
//! fail the build or the test suite: an error becomes "not measured" in the report.

mod burst;
mod desktop_notify;
mod footprint;
mod idle;
mod latency;
mod realistic;
mod scale;
mod soak;

use std::collections::HashMap;
use std::time::Duration;

use graph_emulator::EmulatorConfig;
use graph_emulator::seed::demo;
use tokio::time::Instant;

use crate::error::BenchError;
use crate::report::{Figure, Section};
use crate::stats::Summary;
use crate::world::EmulatorOnItsOwn;

pub use burst::burst;
pub use desktop_notify::desktop_notify;
pub use footprint::{Measured, footprint};
pub use latency::latency;
pub use realistic::realistic;
pub use scale::{ScaleRun, scale};
pub use soak::{Apps, soak};

pub(crate) const DRIVE: &str = demo::DEMO_DRIVE_ID;
pub(crate) const MIB: f64 = 1024.0;

/// How big each measurement is; `full` is what the report uses, `quick` checks the harness.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub stream_changes: usize,
    pub stream_span: Duration,
    pub slow_poll: Duration,
    pub fast_poll: Duration,
    pub burst_changes: usize,
    pub burst_span: Duration,
    pub burst_folders: usize,
    pub scale_items: usize,
    /// Section 11: the same on a drive this big (a full run: a million items).
    pub scale_large: Option<usize>,
    pub idle: Duration,
    /// Section 8: drives changed side by side, one change in flight each.
    pub realistic_lanes: usize,
    /// Section 8: how long lanes keep making changes.
    pub realistic_span: Duration,
    /// Section 8: the range each notification's delay is drawn from.
    pub realistic_delay: (Duration, Duration),
}

impl Sizes {
    pub fn full() -> Sizes {
        Sizes {
            stream_changes: 1_050,
            stream_span: Duration::from_secs(150),
            slow_poll: Duration::from_secs(60),
            fast_poll: Duration::from_secs(30),
            burst_changes: 10_000,
            burst_span: Duration::from_secs(5),
            burst_folders: 200,
            scale_items: 100_000,
            scale_large: Some(1_000_000),
            idle: Duration::from_secs(60),
            realistic_lanes: 12,
            realistic_span: Duration::from_secs(170),
            realistic_delay: (Duration::from_secs(5), Duration::from_secs(40)),
        }
    }

    pub fn quick() -> Sizes {
        Sizes {
            stream_changes: 60,
            stream_span: Duration::from_secs(12),
            slow_poll: Duration::from_secs(6),
            fast_poll: Duration::from_secs(3),
            burst_changes: 1_000,
            burst_span: Duration::from_secs(1),
            burst_folders: 20,
            scale_items: 5_000,
            scale_large: None,
            idle: Duration::from_secs(5),
            realistic_lanes: 4,
            realistic_span: Duration::from_secs(12),
            realistic_delay: (Duration::from_secs(1), Duration::from_secs(4)),
        }
    }
}

/// What one section produced.
pub struct Outcome {
    pub figures: Vec<Figure>,
    pub section: Section,
}

pub(crate) fn latencies(
    commits: &HashMap<String, Instant>,
    seen: &HashMap<String, Instant>,
) -> (Vec<Duration>, usize) {
    let mut out = Vec::with_capacity(commits.len());
    let mut missed = 0;
    for (name, committed) in commits {
        match seen.get(name) {
            Some(at) => out.push(at.saturating_duration_since(*committed)),
            None => missed += 1,
        }
    }
    (out, missed)
}

/// The emulator of sections 1, 2, 3 and 5: default seed, no coalescing, Microsoft's pings.
pub async fn small_emulator() -> Result<EmulatorOnItsOwn, BenchError> {
    EmulatorOnItsOwn::start(EmulatorConfig::default().with_coalescing_delay(Duration::ZERO)).await
}

pub(crate) fn p(summary: &Option<Summary>, f: impl Fn(&Summary) -> f64) -> Option<f64> {
    summary.as_ref().map(f)
}
