//! The CLI's one error type and its exit codes: 0 ok, 1 other, 2 usage, 3 sign-in needed,
//! 4 configuration error.
//!
//! The exit code is a map of the error's [`ErrorKind`], the same kind the desktop window shows,
//! so a failure reads the same in both hosts. Messages are for the person at the terminal; they
//! never carry a token (the core's errors are already redacted).

use drivewatch_core::config::ConfigError;
use drivewatch_core::engine::{EngineError, ErrorKind};

pub const EXIT_OTHER: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_NEEDS_SIGN_IN: u8 = 3;
pub const EXIT_CONFIG: u8 = 4;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Usage(String),
    #[error("no account is signed in; run `drivewatch-cli login` first")]
    NoAccount,
    #[error("{0} must sign in again; run `drivewatch-cli login`")]
    AccountNeedsSignIn(String),
    /// Anything the core reports (settings, sign-in, Graph, history, the engine).
    #[error(transparent)]
    Engine(EngineError),
    #[error("interrupted")]
    Interrupted,
    #[error("cannot start the demo service: {0}")]
    Demo(String),
    #[error("cannot write to the terminal: {0}")]
    Output(#[from] std::io::Error),
}

impl From<EngineError> for CliError {
    fn from(e: EngineError) -> Self {
        match e {
            // The CLI's own wording says what to run.
            EngineError::NoAccount => Self::NoAccount,
            other => Self::Engine(other),
        }
    }
}

impl From<ConfigError> for CliError {
    fn from(e: ConfigError) -> Self {
        EngineError::from(e).into()
    }
}

impl CliError {
    /// What kind of failure this is, in the core's terms.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Usage(_) => ErrorKind::Usage,
            Self::NoAccount | Self::AccountNeedsSignIn(_) => ErrorKind::SignInNeeded,
            Self::Engine(e) => e.kind(),
            Self::Interrupted => ErrorKind::Cancelled,
            Self::Demo(_) | Self::Output(_) => ErrorKind::Internal,
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self.kind() {
            ErrorKind::Usage => EXIT_USAGE,
            ErrorKind::SignInNeeded => EXIT_NEEDS_SIGN_IN,
            ErrorKind::Configuration => EXIT_CONFIG,
            ErrorKind::Network
            | ErrorKind::Refused
            | ErrorKind::Cancelled
            | ErrorKind::Internal => EXIT_OTHER,
        }
    }
}

#[cfg(test)]
mod tests {
    use drivewatch_core::auth::AuthError;
    use drivewatch_core::graph::GraphError;

    use super::*;

    #[test]
    fn exit_codes_are_the_documented_ones() {
        let code = |e: EngineError| CliError::from(e).exit_code();
        assert_eq!(CliError::Usage("x".into()).exit_code(), 2);
        assert_eq!(CliError::NoAccount.exit_code(), 3);
        assert_eq!(code(AuthError::NeedsSignIn.into()), 3);
        assert_eq!(code(GraphError::NeedsSignIn.into()), 3);
        assert_eq!(CliError::from(ConfigError::MissingClientId).exit_code(), 4);
        assert_eq!(
            code(AuthError::Config(ConfigError::MissingClientId).into()),
            4
        );
        assert_eq!(code(AuthError::Declined.into()), 1);
        assert_eq!(code(GraphError::Timeout.into()), 1);
    }

    /// The same failure gives the same code however deep in the engine it was raised.
    #[test]
    fn engine_errors_exit_by_their_kind() {
        let code = |e: EngineError| CliError::from(e).exit_code();
        assert_eq!(
            code(EngineError::Auth(AuthError::UnknownAccount("x".into()))),
            2
        );
        assert_eq!(code(EngineError::UnknownAccount("x".into())), 2);
        assert_eq!(code(EngineError::AmbiguousAccount("a, b".into())), 2);
        assert_eq!(code(EngineError::UnknownTarget("t".into())), 2);
        assert_eq!(code(EngineError::AlreadyWatched("t".into())), 2);
        assert_eq!(code(EngineError::NoAccount), 3);
        assert_eq!(code(EngineError::Graph(GraphError::NeedsSignIn)), 3);
        assert_eq!(
            code(EngineError::Graph(GraphError::InsecureUrl {
                url: "http://x".into()
            })),
            4
        );
        assert_eq!(code(EngineError::Graph(GraphError::AccessDenied)), 1);
        assert_eq!(code(EngineError::Graph(GraphError::NotFound)), 1);
        assert_eq!(code(EngineError::Worker), 1);
    }
}
