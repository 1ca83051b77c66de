//! Graph's error responses: `{"error":{"code","message","innerError":{"date","request-id",
//! "client-request-id"}}}` with the status, `Retry-After` and `Location` headers Graph sends
//! (docs/PROTOCOL.md §4.1, §4.2, §3.4).
//!
//! Every Graph handler returns this enum so no error body is ever hand-written elsewhere. Its
//! messages must never contain a token.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::json;

use crate::error::EmulatorError;

/// Ids of the request being answered: ours (`request-id`) and the caller's
/// (`client-request-id`, echoed; ours when the caller sent none).
#[derive(Clone, Debug)]
pub struct RequestIds {
    pub request_id: String,
    pub client_request_id: String,
}

tokio::task_local! {
    /// Set by the Graph dispatcher so error bodies and headers carry the same ids.
    pub static REQUEST_IDS: RequestIds;
}

/// A Graph error, one variant per code this emulator can answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GraphError {
    #[error("Access token is empty.")]
    TokenMissing,
    #[error("Access token has expired or is not yet valid.")]
    TokenExpired,
    #[error("Invalid authentication token.")]
    TokenInvalid,
    #[error("The resource could not be found.")]
    ItemNotFound,
    #[error("Access denied")]
    AccessDenied,
    #[error("Insufficient privileges to complete the operation.")]
    InsufficientPrivileges,
    #[error("Name already exists")]
    NameAlreadyExists,
    #[error("{0}")]
    InvalidRequest(String),
    #[error("Resource not found for the segment '{0}'.")]
    UnknownSegment(String),
    #[error("The requested operation is not supported for this account.")]
    NotSupported,
    #[error(
        "Resync required. Replace any local items with the server's version (including deletes) if you're sure that the service was up to date with your local changes when you last sync'd. Upload any local changes that the server doesn't know about."
    )]
    Resync {
        code: &'static str,
        location: Option<String>,
    },
    #[error("The request has been throttled")]
    Throttled { retry_after: u64 },
    #[error(
        "The service is not available. Try the request again after a delay. There may be a Retry-After header."
    )]
    Unavailable { retry_after: u64 },
    #[error("An unexpected error occurred.")]
    Internal,
    #[error("The HTTP method '{0}' is not allowed for this resource.")]
    MethodNotAllowed(String),
}

impl GraphError {
    pub fn status(&self) -> StatusCode {
        match self {
            GraphError::TokenMissing | GraphError::TokenExpired | GraphError::TokenInvalid => {
                StatusCode::UNAUTHORIZED
            }
            GraphError::ItemNotFound => StatusCode::NOT_FOUND,
            GraphError::AccessDenied | GraphError::InsufficientPrivileges => StatusCode::FORBIDDEN,
            GraphError::NameAlreadyExists => StatusCode::CONFLICT,
            GraphError::InvalidRequest(_)
            | GraphError::UnknownSegment(_)
            | GraphError::NotSupported => StatusCode::BAD_REQUEST,
            GraphError::Resync { .. } => StatusCode::GONE,
            GraphError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            GraphError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            GraphError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            GraphError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            GraphError::TokenMissing | GraphError::TokenExpired | GraphError::TokenInvalid => {
                "InvalidAuthenticationToken"
            }
            GraphError::ItemNotFound => "itemNotFound",
            GraphError::AccessDenied => "accessDenied",
            GraphError::InsufficientPrivileges => "Authorization_RequestDenied",
            GraphError::NameAlreadyExists => "nameAlreadyExists",
            GraphError::InvalidRequest(_) => "invalidRequest",
            GraphError::UnknownSegment(_) => "BadRequest",
            GraphError::NotSupported => "notSupported",
            GraphError::Resync { code, .. } => code,
            GraphError::Throttled { .. } => "activityLimitReached",
            GraphError::Unavailable { .. } => "serviceNotAvailable",
            GraphError::Internal => "generalException",
            GraphError::MethodNotAllowed(_) => "Request_BadRequest",
        }
    }
}

impl From<EmulatorError> for GraphError {
    fn from(e: EmulatorError) -> Self {
        match e {
            EmulatorError::UnknownDrive(_)
            | EmulatorError::ItemNotFound(_)
            | EmulatorError::UnknownUser(_) => GraphError::ItemNotFound,
            EmulatorError::AccessDenied { .. } => GraphError::AccessDenied,
            EmulatorError::NameConflict(_) => GraphError::NameAlreadyExists,
            EmulatorError::InvalidName(n) => {
                GraphError::InvalidRequest(format!("The provided name '{n}' is not valid."))
            }
            other => GraphError::InvalidRequest(other.to_string()),
        }
    }
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        let RequestIds {
            request_id,
            client_request_id,
        } = REQUEST_IDS.try_with(Clone::clone).unwrap_or_else(|_| {
            let id = uuid::Uuid::new_v4().to_string();
            RequestIds {
                request_id: id.clone(),
                client_request_id: id,
            }
        });
        let body = json!({
            "error": {
                "code": self.code(),
                "message": self.to_string(),
                "innerError": {
                    "date": Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string(),
                    "request-id": request_id,
                    "client-request-id": client_request_id,
                }
            }
        });
        let mut resp = (self.status(), axum::Json(body)).into_response();
        let headers = resp.headers_mut();
        if let GraphError::Throttled { retry_after } | GraphError::Unavailable { retry_after } =
            &self
        {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
        }
        if let GraphError::Resync {
            location: Some(l), ..
        } = &self
        {
            if let Ok(v) = HeaderValue::from_str(l) {
                headers.insert(header::LOCATION, v);
            }
        }
        if matches!(
            self,
            GraphError::TokenMissing | GraphError::TokenExpired | GraphError::TokenInvalid
        ) {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"\", error=\"invalid_token\""),
            );
        }
        resp
    }
}
