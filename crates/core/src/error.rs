//! One error vocabulary for the use-cases both hosts call: [`EngineError`], and the
//! [`ErrorKind`] every one of its values has.
//!
//! Hosts decide on the kind, never on the variants below it: the CLI's exit codes and the
//! window's error kinds are each one map of [`EngineError::kind`], so the same failure reads the
//! same in both. Messages come from the layers below and are already redacted; nothing here may
//! add a token or a URL with secrets in it.

use crate::auth::AuthError;
use crate::config::ConfigError;
use crate::graph::GraphError;
use crate::history::HistoryError;
pub use crate::model::ErrorKind;

/// Everything the engine API (and the [`crate::workspace::Workspace`] under it) can fail with.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[error(transparent)]
    History(#[from] HistoryError),
    /// Signed in, but reading the account's profile (`GET /me`) failed.
    #[error("signed in, but reading the account's profile failed: {0}")]
    Profile(#[source] GraphError),
    #[error("no signed-in account {0}")]
    UnknownAccount(String),
    /// No account was named, and not exactly one is signed in.
    #[error("several accounts are signed in ({0}); name one")]
    AmbiguousAccount(String),
    #[error("no account is signed in")]
    NoAccount,
    #[error("no watched target {0}")]
    UnknownTarget(String),
    #[error("this drive is already watched (target {0})")]
    AlreadyWatched(String),
    #[error("the engine is shutting down")]
    ShuttingDown,
    #[error("a background worker of the engine stopped unexpectedly")]
    Worker,
}

impl EngineError {
    /// What kind of failure this is, for hosts to act on.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Config(_) => ErrorKind::Configuration,
            Self::Auth(e) => e.kind(),
            Self::Graph(e) | Self::Profile(e) => e.kind(),
            Self::History(_) | Self::Worker => ErrorKind::Internal,
            Self::UnknownAccount(_)
            | Self::AmbiguousAccount(_)
            | Self::UnknownTarget(_)
            | Self::AlreadyWatched(_) => ErrorKind::Usage,
            Self::NoAccount => ErrorKind::SignInNeeded,
            Self::ShuttingDown => ErrorKind::Cancelled,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::transport::TokenError;

    fn kind(e: impl Into<EngineError>) -> ErrorKind {
        e.into().kind()
    }

    #[test]
    fn usage() {
        assert_eq!(
            kind(EngineError::UnknownAccount("x".into())),
            ErrorKind::Usage
        );
        assert_eq!(
            kind(AuthError::UnknownAccount("x".into())),
            ErrorKind::Usage
        );
        assert_eq!(
            kind(EngineError::AmbiguousAccount("a, b".into())),
            ErrorKind::Usage
        );
        assert_eq!(
            kind(EngineError::UnknownTarget("t".into())),
            ErrorKind::Usage
        );
        assert_eq!(
            kind(EngineError::AlreadyWatched("t".into())),
            ErrorKind::Usage
        );
        assert_eq!(
            kind(GraphError::BadShareUrl {
                reason: "it is not a URL"
            }),
            ErrorKind::Usage
        );
    }

    #[test]
    fn sign_in_needed() {
        assert_eq!(kind(AuthError::NeedsSignIn), ErrorKind::SignInNeeded);
        assert_eq!(kind(GraphError::NeedsSignIn), ErrorKind::SignInNeeded);
        assert_eq!(kind(EngineError::NoAccount), ErrorKind::SignInNeeded);
    }

    #[test]
    fn configuration() {
        assert_eq!(kind(ConfigError::MissingClientId), ErrorKind::Configuration);
        assert_eq!(
            kind(AuthError::Config(ConfigError::MissingClientId)),
            ErrorKind::Configuration
        );
        assert_eq!(
            kind(GraphError::InsecureUrl {
                url: "http://x".into()
            }),
            ErrorKind::Configuration
        );
        assert_eq!(
            kind(GraphError::from(TokenError::Misconfigured(
                "no client id".into()
            ))),
            ErrorKind::Configuration
        );
    }

    #[test]
    fn network() {
        assert_eq!(kind(AuthError::Timeout), ErrorKind::Network);
        assert_eq!(
            kind(GraphError::Network("reset".into())),
            ErrorKind::Network
        );
        assert_eq!(
            kind(EngineError::Profile(GraphError::Timeout)),
            ErrorKind::Network
        );
        assert_eq!(
            kind(GraphError::from(TokenError::Unavailable("down".into()))),
            ErrorKind::Network
        );
    }

    #[test]
    fn refused() {
        assert_eq!(kind(GraphError::AccessDenied), ErrorKind::Refused);
        assert_eq!(kind(GraphError::NotFound), ErrorKind::Refused);
        assert_eq!(kind(GraphError::PushUnsupported), ErrorKind::Refused);
        assert_eq!(
            kind(GraphError::Throttled {
                retry_after: Duration::from_secs(600)
            }),
            ErrorKind::Refused
        );
        assert_eq!(kind(AuthError::Declined), ErrorKind::Refused);
        assert_eq!(kind(AuthError::Expired), ErrorKind::Refused);
    }

    #[test]
    fn cancelled() {
        assert_eq!(kind(AuthError::Cancelled), ErrorKind::Cancelled);
        assert_eq!(kind(GraphError::Cancelled), ErrorKind::Cancelled);
        assert_eq!(kind(EngineError::ShuttingDown), ErrorKind::Cancelled);
    }

    #[test]
    fn internal() {
        assert_eq!(kind(EngineError::Worker), ErrorKind::Internal);
        assert_eq!(kind(HistoryError::Poisoned), ErrorKind::Internal);
        assert_eq!(
            kind(AuthError::StoreCorrupt {
                path: "accounts.json".into()
            }),
            ErrorKind::Internal
        );
    }

    #[test]
    fn kinds_cross_to_hosts_in_camel_case() {
        assert_eq!(
            serde_json::to_value(ErrorKind::SignInNeeded).unwrap(),
            "signInNeeded"
        );
    }
}
