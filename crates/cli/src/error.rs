//! The CLI's one error type and its exit codes: 0 ok, 1 other, 2 usage, 3 sign-in needed,
//! 4 configuration error.
//!
//! Messages are for the person at the terminal; they never carry a token (the core's errors are
//! already redacted).

use drivewatch_core::auth::AuthError;
use drivewatch_core::config::ConfigError;
use drivewatch_core::engine::EngineError;
use drivewatch_core::graph::GraphError;
use drivewatch_core::history::HistoryError;

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
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error("interrupted")]
    Interrupted,
    #[error("a background worker stopped unexpectedly")]
    Worker,
    #[error("cannot start the demo service: {0}")]
    Demo(String),
    #[error("cannot write to the terminal: {0}")]
    Output(#[from] std::io::Error),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) => EXIT_USAGE,
            Self::NoAccount | Self::AccountNeedsSignIn(_) => EXIT_NEEDS_SIGN_IN,
            Self::Config(_) => EXIT_CONFIG,
            Self::Auth(e) => auth_code(e),
            Self::Graph(GraphError::NeedsSignIn) => EXIT_NEEDS_SIGN_IN,
            Self::Graph(GraphError::InsecureUrl { .. }) => EXIT_CONFIG,
            Self::Graph(GraphError::Auth(e)) => auth_code(e),
            Self::Engine(EngineError::Config(_)) => EXIT_CONFIG,
            Self::Engine(EngineError::Auth(e)) => auth_code(e),
            Self::Engine(EngineError::Graph(GraphError::NeedsSignIn)) => EXIT_NEEDS_SIGN_IN,
            Self::Engine(EngineError::UnknownAccount(_) | EngineError::UnknownTarget(_)) => {
                EXIT_USAGE
            }
            _ => EXIT_OTHER,
        }
    }
}

fn auth_code(e: &AuthError) -> u8 {
    match e {
        AuthError::NeedsSignIn => EXIT_NEEDS_SIGN_IN,
        AuthError::Config(_) => EXIT_CONFIG,
        AuthError::UnknownAccount(_) => EXIT_USAGE,
        _ => EXIT_OTHER,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_the_documented_ones() {
        assert_eq!(CliError::Usage("x".into()).exit_code(), 2);
        assert_eq!(CliError::NoAccount.exit_code(), 3);
        assert_eq!(CliError::Auth(AuthError::NeedsSignIn).exit_code(), 3);
        assert_eq!(CliError::Graph(GraphError::NeedsSignIn).exit_code(), 3);
        assert_eq!(
            CliError::Config(ConfigError::MissingClientId).exit_code(),
            4
        );
        assert_eq!(
            CliError::Auth(AuthError::Config(ConfigError::MissingClientId)).exit_code(),
            4
        );
        assert_eq!(CliError::Auth(AuthError::Declined).exit_code(), 1);
        assert_eq!(CliError::Graph(GraphError::Timeout).exit_code(), 1);
    }
}
