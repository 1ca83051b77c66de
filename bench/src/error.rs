//! The benchmark's one error type.
//!
//! A benchmark reports; it must never hide a failure behind a number. Every way a measurement can
//! fail has its own variant so the report can say which figure was not measured and why. No
//! variant may carry a token or a URL with one in it (reqwest errors are stripped of their URL).

use std::path::PathBuf;

/// Everything a measurement can fail with.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("the Graph emulator failed: {0}")]
    Emulator(#[from] graph_emulator::EmulatorError),
    #[error("the engine failed: {0}")]
    Engine(#[from] drivewatch_core::engine::EngineError),
    #[error("settings: {0}")]
    Config(#[from] drivewatch_core::config::ConfigError),
    #[error("sign-in failed: {message}")]
    SignInFailed { message: String },
    #[error("a polling delta call failed: {0}")]
    Http(reqwest::Error),
    #[error("a polling delta call answered HTTP {status}")]
    PollStatus { status: u16 },
    #[error("a delta page had neither a nextLink nor a deltaLink")]
    PollNoLink,
    #[error("I/O on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("could not start a process or runtime: {0}")]
    Spawn(std::io::Error),
    #[error("timed out waiting for {what}")]
    Timeout { what: &'static str },
    #[error("the engine's event stream closed")]
    EventsClosed,
    #[error("the host process ended before {what}")]
    HostEnded { what: &'static str },
    #[error("the report could not be encoded: {0}")]
    Json(#[from] serde_json::Error),
}

impl From<reqwest::Error> for BenchError {
    fn from(e: reqwest::Error) -> Self {
        // A deltaLink in an error would be noise at best; keep the kind of failure only.
        BenchError::Http(e.without_url())
    }
}

impl BenchError {
    /// A program the measurement runs is not there; `why` says which and how to build it.
    pub fn not_built(why: String) -> BenchError {
        BenchError::Spawn(std::io::Error::new(std::io::ErrorKind::NotFound, why))
    }

    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> BenchError {
        let path = path.into();
        move |source| BenchError::Io { path, source }
    }
}
