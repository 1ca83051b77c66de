//! What the benchmark shares with the process it measures: the host mode's output lines and the
//! host itself, which runs as a binary of its own (`src/bin/drivewatch-bench-host.rs`) so that
//! its footprint is the engine's and not the benchmark's.

pub mod host;
