//! The identity platform, spoken through the `oauth2` crate: the device-code flow (with Microsoft's
//! `message` kept) and the refresh-token grant, both over the shared reqwest client
//! (`docs/PROTOCOL.md §1.1`–`§1.5`; the crate's own handling of pending and `slow_down` polls:
//! `§1.9`).
//!
//! This module must never log a token or a device code, never follow a redirect from the token
//! endpoint, and never retry `invalid_grant`: that answer means the user has to sign in again.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use oauth2::basic::{
    BasicErrorResponse, BasicErrorResponseType, BasicRevocationErrorResponse,
    BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    AuthType, Client, ClientId, DeviceAuthorizationUrl, DeviceCodeErrorResponseType,
    EndpointNotSet, EndpointSet, ExtraDeviceAuthorizationFields, ExtraTokenFields, RefreshToken,
    RequestTokenError, Scope, StandardRevocableToken, StandardTokenResponse, TokenResponse,
    TokenUrl,
};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info};

use super::token_source::{TokenRefresher, TokenSet};
use super::{AuthError, Secret};
use crate::config::IdentityConfig;
use crate::model::{DeviceCodePrompt, SignInEvent};
use crate::transport::{TransportError, map_reqwest_error};

/// Least privilege for push and delta, plus the account's name and a refresh token.
pub const SCOPES: &[&str] = &[
    "Files.Read",
    "User.Read",
    "offline_access",
    "openid",
    "profile",
];

/// Time limit of one call to the identity platform.
const IDENTITY_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Microsoft's extra device-authorization field: the instruction text shown to the user.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MicrosoftDeviceFields {
    #[serde(default)]
    pub message: Option<String>,
}
impl ExtraDeviceAuthorizationFields for MicrosoftDeviceFields {}

/// The `id_token` Microsoft returns with `openid`, kept to tell personal from work accounts.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct IdTokenField {
    #[serde(default)]
    pub id_token: Option<String>,
}
impl std::fmt::Debug for IdTokenField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdTokenField(REDACTED)")
    }
}
impl ExtraTokenFields for IdTokenField {}

type MsTokenResponse = StandardTokenResponse<IdTokenField, BasicTokenType>;
type MsClient = Client<
    BasicErrorResponse,
    MsTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointNotSet,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

fn client(identity: &IdentityConfig) -> Result<MsClient, AuthError> {
    let device = identity.endpoint("devicecode")?;
    let token = identity.endpoint("token")?;
    Ok(Client::new(ClientId::new(identity.client_id.clone()))
        .set_auth_type(AuthType::RequestBody)
        .set_device_authorization_url(DeviceAuthorizationUrl::from_url(device))
        .set_token_uri(TokenUrl::from_url(token)))
}

type HttpFuture =
    Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, TransportError>> + Send>>;

/// Reports whether the network answered, for the "offline" sign-in event.
type ReachabilityHook = Arc<dyn Fn(bool) + Send + Sync>;

/// The shared reqwest client as an `oauth2` async HTTP client.
fn http_adapter(
    client: reqwest::Client,
    reachability: Option<ReachabilityHook>,
) -> impl Fn(oauth2::HttpRequest) -> HttpFuture {
    move |request: oauth2::HttpRequest| {
        let client = client.clone();
        let reachability = reachability.clone();
        Box::pin(async move {
            let mut request = reqwest::Request::try_from(request).map_err(|e| {
                TransportError::Network(crate::transport::redact::redact_text(&e.to_string()))
            })?;
            *request.timeout_mut() = Some(IDENTITY_REQUEST_TIMEOUT);
            let result = async {
                let response = client.execute(request).await.map_err(map_reqwest_error)?;
                let mut builder = http::Response::builder().status(response.status());
                for (name, value) in response.headers() {
                    builder = builder.header(name, value);
                }
                let body = response.bytes().await.map_err(map_reqwest_error)?.to_vec();
                builder
                    .body(body)
                    .map_err(|e| TransportError::Network(e.to_string()))
            }
            .await;
            if let Some(hook) = &reachability {
                hook(result.is_ok());
            }
            result
        }) as HttpFuture
    }
}

fn token_set(response: &MsTokenResponse) -> TokenSet {
    let expires_in = response.expires_in().unwrap_or(Duration::from_secs(3600));
    TokenSet {
        access_token: Secret::new(response.access_token().secret().clone()),
        refresh_token: response
            .refresh_token()
            .map(|r| Secret::new(r.secret().clone())),
        expires_at: Utc::now()
            + chrono::Duration::from_std(expires_in).unwrap_or(chrono::Duration::hours(1)),
        id_token: response
            .extra_fields()
            .id_token
            .as_ref()
            .map(|t| Secret::new(t.clone())),
    }
}

fn server_error(error: &str, description: Option<&String>) -> AuthError {
    let mut description = description.map(|d| crate::transport::redact::redact_text(d));
    // The two registration mistakes people make, said in their terms.
    let hint = match description.as_deref() {
        Some(d) if d.contains("AADSTS7000218") => Some(
            "the app registration must allow public client flows (Authentication, Advanced settings)",
        ),
        Some(d) if d.contains("AADSTS700016") => {
            Some("no app with this client id in this tenant; check the client id and the tenant")
        }
        _ => None,
    };
    if let (Some(d), Some(h)) = (description.as_mut(), hint) {
        d.push_str(" — ");
        d.push_str(h);
    }
    AuthError::TokenEndpoint {
        error: error.to_string(),
        description,
    }
}

/// Runs the device-code flow to the end: prompt, poll, tokens. Emits `Prompt` (and `Offline`
/// while the network is down); the caller turns the result into the final event.
pub async fn device_code_sign_in(
    http: &reqwest::Client,
    identity: &IdentityConfig,
    on_event: &(dyn Fn(SignInEvent) + Send + Sync),
    cancel: &CancellationToken,
) -> Result<TokenSet, AuthError> {
    let client = client(identity)?;
    let start_http = http_adapter(http.clone(), None);
    let request = client
        .exchange_device_code()
        .add_scopes(SCOPES.iter().map(|s| Scope::new((*s).to_string())));
    let details: oauth2::DeviceAuthorizationResponse<MicrosoftDeviceFields> = tokio::select! {
        _ = cancel.cancelled() => return Err(AuthError::Cancelled),
        r = request.request_async(&start_http) => r.map_err(|e| match e {
            RequestTokenError::ServerResponse(e) => server_error(e.error().as_ref(), e.error_description()),
            RequestTokenError::Request(TransportError::Timeout) => AuthError::Timeout,
            RequestTokenError::Request(TransportError::Network(m)) => AuthError::Network(m),
            RequestTokenError::Parse(e, _) => AuthError::InvalidResponse(e.to_string()),
            RequestTokenError::Other(m) => AuthError::InvalidResponse(m),
        })?,
    };
    let expires_at: DateTime<Utc> = Utc::now()
        + chrono::Duration::from_std(details.expires_in()).unwrap_or(chrono::Duration::minutes(15));
    let verification_uri = details.verification_uri().to_string();
    let message = details.extra_fields().message.clone().unwrap_or_else(|| {
        format!(
            "To sign in, use a web browser to open the page {verification_uri} and enter the code {} to authenticate.",
            details.user_code().secret()
        )
    });
    info!(verification_uri = %verification_uri, "device-code sign-in started");
    on_event(SignInEvent::Prompt {
        prompt: DeviceCodePrompt {
            user_code: details.user_code().secret().clone(),
            verification_uri,
            expires_at,
            message,
        },
    });

    // Tell the host once each time the network goes away while polling.
    let on_event_ptr: &(dyn Fn(SignInEvent) + Send + Sync) = on_event;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<bool>();
    let hook: ReachabilityHook = Arc::new(move |ok| {
        let _ = tx.send(ok);
    });
    let poll_http = http_adapter(http.clone(), Some(hook));
    let poll = client.exchange_device_access_token(&details).request_async(
        &poll_http,
        tokio::time::sleep,
        None,
    );
    tokio::pin!(poll);
    let mut offline = false;
    let result = loop {
        tokio::select! {
            _ = cancel.cancelled() => return Err(AuthError::Cancelled),
            Some(ok) = rx.recv() => {
                if !ok && !offline {
                    debug!("identity platform unreachable; polling on until the code expires");
                    on_event_ptr(SignInEvent::Offline);
                }
                offline = !ok;
            }
            r = &mut poll => break r,
        }
    };
    match result {
        Ok(response) => Ok(token_set(&response)),
        Err(RequestTokenError::ServerResponse(e)) => Err(match e.error() {
            DeviceCodeErrorResponseType::AccessDenied => AuthError::Declined,
            DeviceCodeErrorResponseType::ExpiredToken => AuthError::Expired,
            DeviceCodeErrorResponseType::Basic(BasicErrorResponseType::Extension(code))
                if code == "authorization_declined" =>
            {
                AuthError::Declined
            }
            other => server_error(other.as_ref(), e.error_description()),
        }),
        Err(RequestTokenError::Request(TransportError::Timeout)) => Err(AuthError::Timeout),
        Err(RequestTokenError::Request(TransportError::Network(m))) => Err(AuthError::Network(m)),
        Err(RequestTokenError::Parse(e, _)) => Err(AuthError::InvalidResponse(e.to_string())),
        Err(RequestTokenError::Other(m)) => Err(AuthError::InvalidResponse(m)),
    }
}

/// The refresh-token grant against the configured identity platform.
#[derive(Clone)]
pub struct OAuthRefresher {
    http: reqwest::Client,
    identity: IdentityConfig,
}

impl OAuthRefresher {
    pub fn new(http: reqwest::Client, identity: IdentityConfig) -> Self {
        Self { http, identity }
    }
}

impl TokenRefresher for OAuthRefresher {
    fn refresh<'a>(
        &'a self,
        refresh_token: &'a Secret,
    ) -> Pin<Box<dyn Future<Output = Result<TokenSet, AuthError>> + Send + 'a>> {
        Box::pin(async move {
            let client = client(&self.identity)?;
            let http = http_adapter(self.http.clone(), None);
            let rt = RefreshToken::new(refresh_token.expose().to_string());
            let response = client
                .exchange_refresh_token(&rt)
                .add_scopes(SCOPES.iter().map(|s| Scope::new((*s).to_string())))
                .request_async(&http)
                .await
                .map_err(|e| match e {
                    RequestTokenError::ServerResponse(e) => match e.error() {
                        BasicErrorResponseType::InvalidGrant => AuthError::NeedsSignIn,
                        BasicErrorResponseType::Extension(code)
                            if code == "interaction_required" =>
                        {
                            AuthError::NeedsSignIn
                        }
                        other => server_error(other.as_ref(), e.error_description()),
                    },
                    RequestTokenError::Request(TransportError::Timeout) => AuthError::Timeout,
                    RequestTokenError::Request(TransportError::Network(m)) => AuthError::Network(m),
                    RequestTokenError::Parse(e, _) => AuthError::InvalidResponse(e.to_string()),
                    RequestTokenError::Other(m) => AuthError::InvalidResponse(m),
                })?;
            Ok(token_set(&response))
        })
    }
}

/// Personal or work, from the id token's tenant id (not verified: used only for display).
pub fn account_kind_from_id_token(id_token: &Secret) -> Option<crate::model::AccountKind> {
    use base64::Engine as _;
    const CONSUMERS_TENANT: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";
    let payload = id_token.expose().split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let tid = claims.get("tid")?.as_str()?;
    Some(if tid.eq_ignore_ascii_case(CONSUMERS_TENANT) {
        crate::model::AccountKind::Personal
    } else {
        crate::model::AccountKind::Work
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn jwt(claims: &str) -> Secret {
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        Secret::new(format!("{}.{}.sig", e.encode(b"{}"), e.encode(claims)))
    }

    #[test]
    fn registration_mistakes_get_a_hint() {
        let e = server_error(
            "invalid_client",
            Some(&"AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.".to_string()),
        );
        assert!(e.to_string().contains("allow public client flows"), "{e}");
        let e = server_error("invalid_grant", Some(&"AADSTS70008: expired".to_string()));
        assert!(!e.to_string().contains(" — "), "{e}");
    }

    #[test]
    fn tenant_claim_tells_personal_from_work() {
        use crate::model::AccountKind;
        assert_eq!(
            account_kind_from_id_token(&jwt(r#"{"tid":"9188040d-6c67-4c5b-b112-36a304b66dad"}"#)),
            Some(AccountKind::Personal)
        );
        assert_eq!(
            account_kind_from_id_token(&jwt(r#"{"tid":"72f988bf-86f1-41af-91ab-2d7cd011db47"}"#)),
            Some(AccountKind::Work)
        );
        assert_eq!(account_kind_from_id_token(&Secret::new("garbage")), None);
    }

    #[test]
    fn microsoft_device_response_keeps_its_message() {
        let body = r#"{"user_code":"ABCD-EFGH","device_code":"dc","verification_uri":"https://microsoft.com/devicelogin","expires_in":900,"interval":5,"message":"To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code ABCD-EFGH to authenticate."}"#;
        let r: oauth2::DeviceAuthorizationResponse<MicrosoftDeviceFields> =
            serde_json::from_str(body).unwrap();
        assert!(
            r.extra_fields()
                .message
                .as_deref()
                .unwrap()
                .contains("ABCD-EFGH")
        );
        assert_eq!(r.interval(), Duration::from_secs(5));
        assert_eq!(r.expires_in(), Duration::from_secs(900));
    }

    #[test]
    fn token_response_keeps_the_id_token_and_rotated_refresh_token() {
        let body = r#"{"token_type":"Bearer","scope":"Files.Read User.Read profile openid","expires_in":3599,"ext_expires_in":3599,"access_token":"AT","refresh_token":"RT2","id_token":"a.b.c"}"#;
        let r: MsTokenResponse = serde_json::from_str(body).unwrap();
        let set = token_set(&r);
        assert_eq!(set.access_token.expose(), "AT");
        assert_eq!(set.refresh_token.unwrap().expose(), "RT2");
        assert!(set.id_token.is_some());
        let left = set.expires_at - Utc::now();
        assert!(left > chrono::Duration::seconds(3500) && left <= chrono::Duration::seconds(3599));
        assert!(!format!("{:?}", r.extra_fields()).contains("a.b.c"));
    }
}
