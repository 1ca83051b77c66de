//! The one error type of the Graph layer, and the decoding of Graph's error bodies into it
//! (`docs/PROTOCOL.md §4.1`; the codes acted on: `§3.4`, `§4.2`–`§4.4`).
//!
//! Decisions branch on `error.code` (case-insensitively, at any nesting depth), never on the
//! message. Nothing here may carry a token: URLs are redacted before they are stored in a variant.

use std::time::Duration;

use super::wire::ErrorResponse;
use crate::model::ErrorKind;
use crate::transport::TokenError;

/// Codes Graph uses on `410 Gone` when a delta cursor must be re-baselined.
const RESYNC_CODES: &[&str] = &[
    "resyncrequired",
    "resyncchangesapplydifferences",
    "resyncchangesuploaddifferences",
    "resyncapplydifferences",
    "resyncuploaddifferences",
];

/// What a Graph call can end in, in terms the engine acts on.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// 429/503: wait until `retry_after` has passed (every request of this account waits too).
    #[error("Microsoft Graph asks to wait {} s before the next request", retry_after.as_secs())]
    Throttled { retry_after: Duration },
    /// The refresh token is gone, revoked or expired: only a new sign-in helps.
    #[error("the account must sign in again")]
    NeedsSignIn,
    /// The delta cursor is no longer valid: enumerate again (from `location` when given).
    #[error("the delta cursor must be rebuilt ({code})")]
    ResyncRequired {
        code: String,
        /// A fresh enumeration link from the `Location` header, redaction-safe to follow only.
        location: Option<String>,
    },
    /// This tenant does not offer socket.io push (400 `notSupported`).
    #[error("push notifications are not supported for this drive")]
    PushUnsupported,
    #[error("not found")]
    NotFound,
    #[error("access denied")]
    AccessDenied,
    #[error("Microsoft Graph did not answer in time")]
    Timeout,
    #[error("network error: {0}")]
    Network(String),
    #[error("cancelled")]
    Cancelled,
    #[error("refusing an insecure URL (https required, http only on loopback): {url}")]
    InsecureUrl { url: String },
    /// A nextLink/deltaLink that points at another host than the configured Graph base.
    #[error("refusing to follow a link to another host than Graph's: {url}")]
    ForeignUrl { url: String },
    /// A pasted link that cannot name a drive item.
    #[error("that link cannot be used: {reason}")]
    BadShareUrl { reason: &'static str },
    #[error("Microsoft Graph answered {status} {code}: {message}")]
    Service {
        status: u16,
        code: String,
        message: String,
    },
    #[error("unexpected response from Microsoft Graph: {0}")]
    InvalidResponse(String),
    /// Getting a token failed for a reason other than a needed sign-in.
    #[error("could not get an access token: {0}")]
    Token(#[source] TokenError),
}

impl GraphError {
    /// Worth retrying later without the user doing anything.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Throttled { .. } | Self::Timeout | Self::Network(_) => true,
            Self::Service { status, .. } => *status >= 500,
            Self::Token(e) => e.is_transient(),
            _ => false,
        }
    }
}

impl GraphError {
    /// What kind of failure this is, for hosts (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::NeedsSignIn => ErrorKind::SignInNeeded,
            Self::Throttled { .. }
            | Self::PushUnsupported
            | Self::NotFound
            | Self::AccessDenied
            | Self::Service { .. } => ErrorKind::Refused,
            Self::Timeout | Self::Network(_) => ErrorKind::Network,
            Self::Cancelled => ErrorKind::Cancelled,
            Self::InsecureUrl { .. } => ErrorKind::Configuration,
            Self::BadShareUrl { .. } => ErrorKind::Usage,
            Self::ResyncRequired { .. } | Self::ForeignUrl { .. } | Self::InvalidResponse(_) => {
                ErrorKind::Internal
            }
            Self::Token(e) => match e {
                TokenError::NeedsSignIn => ErrorKind::SignInNeeded,
                TokenError::Cancelled => ErrorKind::Cancelled,
                TokenError::Unavailable(_) => ErrorKind::Network,
                TokenError::Misconfigured(_) => ErrorKind::Configuration,
                TokenError::Refused(_) => ErrorKind::Refused,
                TokenError::Failed(_) => ErrorKind::Internal,
            },
        }
    }
}

impl From<TokenError> for GraphError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::NeedsSignIn => Self::NeedsSignIn,
            TokenError::Cancelled => Self::Cancelled,
            other => Self::Token(other),
        }
    }
}

/// Turns a non-success response into a typed error.
pub fn decode_error(
    status: u16,
    body: &[u8],
    retry_after: Option<Duration>,
    location: Option<&str>,
) -> GraphError {
    let detail = serde_json::from_slice::<ErrorResponse>(body)
        .map(|r| r.error)
        .unwrap_or_default();
    let codes: Vec<String> = detail
        .codes()
        .into_iter()
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let has = |c: &str| codes.iter().any(|x| x == c);
    let top_code = detail.code.clone().unwrap_or_default();

    if let Some(resync) = codes
        .iter()
        .find(|c| RESYNC_CODES.contains(&c.as_str()) || c.as_str() == "syncstatenotfound")
    {
        // Report the code as Graph spelled it.
        let code = detail
            .codes()
            .into_iter()
            .find(|c| c.eq_ignore_ascii_case(resync))
            .unwrap_or(resync)
            .to_string();
        return GraphError::ResyncRequired {
            code,
            location: location.map(str::to_string),
        };
    }
    if status == 410 {
        return GraphError::ResyncRequired {
            code: if top_code.is_empty() {
                "resyncRequired".into()
            } else {
                top_code
            },
            location: location.map(str::to_string),
        };
    }
    if status == 429 || status == 503 || has("activitylimitreached") {
        return GraphError::Throttled {
            retry_after: retry_after.unwrap_or(Duration::from_secs(5)),
        };
    }
    if status == 401 || has("invalidauthenticationtoken") || has("unauthenticated") {
        return GraphError::NeedsSignIn;
    }
    if has("notsupported") && status == 400 {
        return GraphError::PushUnsupported;
    }
    if status == 404 || has("itemnotfound") {
        return GraphError::NotFound;
    }
    if status == 403 || has("accessdenied") {
        return GraphError::AccessDenied;
    }
    GraphError::Service {
        status,
        code: top_code,
        message: detail
            .message
            .map(|m| crate::transport::redact::redact_text(&m))
            .unwrap_or_default(),
    }
}

/// Parses `Retry-After`: delta-seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    Some(
        (when.with_timezone(&chrono::Utc) - now)
            .to_std()
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(code: &str) -> Vec<u8> {
        format!(
            r#"{{"error":{{"code":"{code}","message":"m","innerError":{{"request-id":"r"}}}}}}"#
        )
        .into_bytes()
    }

    #[test]
    fn resync_codes_in_any_case_and_spelling() {
        for code in [
            "resyncRequired",
            "RESYNCREQUIRED",
            "resyncChangesApplyDifferences",
            "resyncChangesUploadDifferences",
            "resyncApplyDifferences",
            "resyncUploadDifferences",
        ] {
            match decode_error(410, &body(code), None, Some("https://g/x?token=1")) {
                GraphError::ResyncRequired { code: c, location } => {
                    assert_eq!(c, code);
                    assert_eq!(location.as_deref(), Some("https://g/x?token=1"));
                }
                other => panic!("{code}: {other:?}"),
            }
        }
    }

    #[test]
    fn sync_state_not_found_is_a_resync_at_any_status() {
        assert!(matches!(
            decode_error(400, &body("syncStateNotFound"), None, None),
            GraphError::ResyncRequired { code, .. } if code == "syncStateNotFound"
        ));
        let nested =
            br#"{"error":{"code":"invalidRequest","innerError":{"code":"SyncStateNotFound"}}}"#;
        assert!(matches!(
            decode_error(400, nested, None, None),
            GraphError::ResyncRequired { .. }
        ));
    }

    #[test]
    fn bare_410_is_still_a_resync() {
        assert!(matches!(
            decode_error(410, b"", None, None),
            GraphError::ResyncRequired { code, location: None } if code == "resyncRequired"
        ));
    }

    #[test]
    fn throttling_keeps_retry_after() {
        let e = decode_error(
            429,
            &body("activityLimitReached"),
            Some(Duration::from_secs(7)),
            None,
        );
        assert!(
            matches!(e, GraphError::Throttled { retry_after } if retry_after == Duration::from_secs(7))
        );
        let e = decode_error(503, &body("serviceNotAvailable"), None, None);
        assert!(
            matches!(e, GraphError::Throttled { retry_after } if retry_after == Duration::from_secs(5))
        );
    }

    #[test]
    fn common_codes_map_to_domain_variants() {
        assert!(matches!(
            decode_error(400, &body("notSupported"), None, None),
            GraphError::PushUnsupported
        ));
        assert!(matches!(
            decode_error(400, &body("NOTSUPPORTED"), None, None),
            GraphError::PushUnsupported
        ));
        assert!(matches!(
            decode_error(404, &body("itemNotFound"), None, None),
            GraphError::NotFound
        ));
        assert!(matches!(
            decode_error(403, &body("accessDenied"), None, None),
            GraphError::AccessDenied
        ));
        assert!(matches!(
            decode_error(401, &body("InvalidAuthenticationToken"), None, None),
            GraphError::NeedsSignIn
        ));
        match decode_error(507, &body("quotaLimitReached"), None, None) {
            GraphError::Service {
                status,
                code,
                message,
            } => {
                assert_eq!(
                    (status, code.as_str(), message.as_str()),
                    (507, "quotaLimitReached", "m")
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unparsable_body_still_gives_a_typed_error() {
        match decode_error(500, b"<html>oops</html>", None, None) {
            GraphError::Service {
                status: 500, code, ..
            } => assert!(code.is_empty()),
            other => panic!("{other:?}"),
        }
        assert!(decode_error(500, b"", None, None).is_transient());
        assert!(!decode_error(404, b"", None, None).is_transient());
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-24T06:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(parse_retry_after("12", now), Some(Duration::from_secs(12)));
        assert_eq!(
            parse_retry_after("Tue, 24 Nov 2026 06:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Tue, 24 Nov 2026 05:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
