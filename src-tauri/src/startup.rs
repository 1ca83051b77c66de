//! Chooses and starts the engine the shell runs over: the real one, or the demo.
//!
//! It must never start the emulator outside `--demo`, and never print secrets.

use crate::shell::Shell;

/// Why DriveWatch could not start its engine.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the DriveWatch engine is not available in this build")]
    EngineUnavailable,
}

/// Starts the engine (and in demo mode the embedded emulator) and returns the shell over it.
pub fn start_engine(demo: bool) -> Result<Shell, StartError> {
    let _ = demo;
    Err(StartError::EngineUnavailable)
}
