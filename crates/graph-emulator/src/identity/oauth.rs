//! The two OAuth endpoints, `POST /{tenant}/oauth2/v2.0/devicecode` and `.../token`, with
//! Microsoft's error bodies (docs/PROTOCOL.md §1.1–§1.5). They must never put a token into an error
//! description or a log line.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use chrono::Utc;
use serde_json::json;
use tokio::time::Instant;

use super::tokens::{DeviceCode, DeviceStatus, random_token, user_code};
use super::{CONSUMERS_TENANT_ID, TenantRule};
use crate::Shared;
use crate::store::User;

/// Errors of the identity endpoints, rendered as Microsoft's OAuth error JSON.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("AADSTS900144: The request body must contain the following parameter: '{0}'.")]
    MissingParameter(&'static str),
    #[error(
        "AADSTS90002: Tenant '{0}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
    )]
    TenantNotFound(String),
    #[error("AADSTS700016: Application with identifier '{0}' was not found in the directory.")]
    UnknownClient(String),
    #[error(
        "AADSTS70016: OAuth 2.0 device flow error. Authorization is pending. Continue polling."
    )]
    AuthorizationPending,
    #[error(
        "AADSTS70016: The client is polling too frequently. Slow down, adding 5 seconds to the interval."
    )]
    SlowDown,
    #[error("AADSTS70000: The user has declined the authorization request.")]
    AuthorizationDeclined,
    #[error("AADSTS70019: Verification code expired.")]
    ExpiredToken,
    #[error("AADSTS70000: The provided device code was not recognized.")]
    BadVerificationCode,
    #[error(
        "AADSTS70000: The provided value for the input parameter 'device_code' is not valid: the code was already redeemed."
    )]
    AlreadyRedeemed,
    #[error(
        "AADSTS70008: The provided authorization code or refresh token has expired due to inactivity or was revoked. Send a new interactive authorization request for this user and resource."
    )]
    RefreshTokenRevoked,
    #[error("AADSTS50020: User account from identity provider does not exist in tenant '{0}'.")]
    UserNotInTenant(String),
    #[error("AADSTS700016: The refresh token was issued to a different client.")]
    ClientMismatch,
    #[error("AADSTS70003: The app requested an unsupported grant type '{0}'.")]
    UnsupportedGrantType(String),
}

impl OAuthError {
    fn code(&self) -> (&'static str, u32) {
        match self {
            OAuthError::MissingParameter(_) => ("invalid_request", 900144),
            OAuthError::TenantNotFound(_) => ("invalid_request", 90002),
            OAuthError::UnknownClient(_) => ("invalid_client", 700016),
            OAuthError::AuthorizationPending => ("authorization_pending", 70016),
            OAuthError::SlowDown => ("slow_down", 70016),
            OAuthError::AuthorizationDeclined => ("authorization_declined", 70000),
            OAuthError::ExpiredToken => ("expired_token", 70019),
            OAuthError::BadVerificationCode => ("bad_verification_code", 70000),
            OAuthError::AlreadyRedeemed => ("invalid_grant", 70000),
            OAuthError::RefreshTokenRevoked => ("invalid_grant", 70008),
            OAuthError::UserNotInTenant(_) => ("invalid_grant", 50020),
            OAuthError::ClientMismatch => ("invalid_grant", 700016),
            OAuthError::UnsupportedGrantType(_) => ("unsupported_grant_type", 70003),
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let (code, number) = self.code();
        let trace = uuid::Uuid::new_v4().to_string();
        let correlation = uuid::Uuid::new_v4().to_string();
        let ts = Utc::now().format("%Y-%m-%d %H:%M:%SZ").to_string();
        let status = if matches!(self, OAuthError::UnknownClient(_)) {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::BAD_REQUEST
        };
        let body = json!({
            "error": code,
            "error_description": format!("{self} Trace ID: {trace} Correlation ID: {correlation} Timestamp: {ts}"),
            "error_codes": [number],
            "timestamp": ts,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": format!("https://login.microsoftonline.com/error?code={number}"),
        });
        (
            status,
            [(header::CACHE_CONTROL, "no-store")],
            axum::Json(body),
        )
            .into_response()
    }
}

fn normalize_scopes(raw: &str) -> Vec<String> {
    raw.split_whitespace()
        .map(|s| {
            let s = s.strip_prefix("https://graph.microsoft.com/").unwrap_or(s);
            s.rsplit_once("/v1.0/").map_or(s, |(_, t)| t).to_string()
        })
        .collect()
}

fn check_client(shared: &Shared, form: &HashMap<String, String>) -> Result<String, OAuthError> {
    let client = form
        .get("client_id")
        .filter(|c| !c.is_empty())
        .ok_or(OAuthError::MissingParameter("client_id"))?;
    if let Some(allowed) = &shared.config.allowed_client_ids {
        if !allowed.contains(client) {
            return Err(OAuthError::UnknownClient(client.clone()));
        }
    }
    let seeded = &shared.config.seed.client_ids;
    if !seeded.is_empty() && !seeded.contains(client) {
        return Err(OAuthError::UnknownClient(client.clone()));
    }
    Ok(client.clone())
}

fn tenant_rule(shared: &Shared, tenant: &str) -> Result<TenantRule, OAuthError> {
    let w = shared.lock_world();
    TenantRule::parse(&w, tenant).ok_or_else(|| OAuthError::TenantNotFound(tenant.to_string()))
}

/// `POST /{tenant}/oauth2/v2.0/devicecode`
pub async fn devicecode(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, OAuthError> {
    let tenant = tenant_rule(&shared, &tenant)?;
    let client_id = check_client(&shared, &form)?;
    let russian = query
        .get("mkt")
        .is_some_and(|m| m.to_ascii_lowercase().starts_with("ru"));
    let scopes = normalize_scopes(form.get("scope").map(String::as_str).unwrap_or(""));
    if scopes.is_empty() {
        return Err(OAuthError::MissingParameter("scope"));
    }
    let device_code = format!("DAQABAAEAAAA{}", random_token());
    let code = user_code();
    let lifetime = shared.config.device_code_lifetime;
    let interval = shared.config.device_code_interval.as_secs();
    shared.lock_auth().device_codes.insert(
        device_code.clone(),
        DeviceCode {
            user_code: code.clone(),
            client_id,
            scopes,
            tenant,
            expires: Instant::now() + lifetime,
            last_poll: None,
            status: DeviceStatus::Pending,
        },
    );
    let uri = format!("{}/devicelogin", shared.base);
    let body = json!({
        "user_code": code,
        "device_code": device_code,
        "verification_uri": uri,
        "expires_in": lifetime.as_secs(),
        "interval": interval,
        // `?mkt=` localises the message (only Russian besides English here).
        "message": if russian {
            format!("Чтобы выполнить вход, откройте страницу {uri} в веб-браузере и введите код {code} для проверки подлинности.")
        } else {
            format!("To sign in, use a web browser to open the page {uri} and enter the code {code} to authenticate.")
        },
    });
    Ok(axum::Json(body).into_response())
}

/// `POST /{tenant}/oauth2/v2.0/token`
pub async fn token(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, OAuthError> {
    let tenant = tenant_rule(&shared, &tenant)?;
    let client_id = check_client(&shared, &form)?;
    let grant = form
        .get("grant_type")
        .ok_or(OAuthError::MissingParameter("grant_type"))?;
    match grant.as_str() {
        "urn:ietf:params:oauth:grant-type:device_code" | "device_code" => {
            let code = form
                .get("device_code")
                .ok_or(OAuthError::MissingParameter("device_code"))?;
            poll_device_code(&shared, &tenant, &client_id, code)
        }
        "refresh_token" => {
            let rt = form
                .get("refresh_token")
                .ok_or(OAuthError::MissingParameter("refresh_token"))?;
            let requested = form.get("scope").map(|s| normalize_scopes(s));
            refresh(&shared, &tenant, &client_id, rt, requested)
        }
        other => Err(OAuthError::UnsupportedGrantType(other.to_string())),
    }
}

fn poll_device_code(
    shared: &Shared,
    tenant: &TenantRule,
    client_id: &str,
    code: &str,
) -> Result<Response, OAuthError> {
    let auto = shared
        .config
        .auto_approve
        .as_ref()
        .and_then(|u| shared.lock_world().user(u).ok().cloned());
    let mut auth = shared.lock_auth();
    let now = Instant::now();
    let interval = shared.config.device_code_interval;
    let dc = auth
        .device_codes
        .get_mut(code)
        .ok_or(OAuthError::BadVerificationCode)?;
    if dc.client_id != client_id || &dc.tenant != tenant {
        return Err(OAuthError::BadVerificationCode);
    }
    if dc.expires <= now && dc.status != DeviceStatus::Redeemed {
        return Err(OAuthError::ExpiredToken);
    }
    // A little slack so a client that sleeps exactly `interval` between polls is never told to
    // slow down because of scheduling jitter.
    let slack = (interval / 10).min(std::time::Duration::from_millis(250));
    let too_fast = dc
        .last_poll
        .is_some_and(|t| now.duration_since(t) + slack < interval);
    dc.last_poll = Some(now);
    if let (DeviceStatus::Pending, Some(u)) = (&dc.status, &auto) {
        if !dc.tenant.admits(u) {
            return Err(OAuthError::UserNotInTenant(dc.tenant.label()));
        }
        dc.status = DeviceStatus::Approved(u.id.clone());
    }
    match dc.status.clone() {
        DeviceStatus::Pending if too_fast => Err(OAuthError::SlowDown),
        DeviceStatus::Pending => Err(OAuthError::AuthorizationPending),
        DeviceStatus::Declined => Err(OAuthError::AuthorizationDeclined),
        DeviceStatus::Redeemed => Err(OAuthError::AlreadyRedeemed),
        DeviceStatus::Approved(user) => {
            dc.status = DeviceStatus::Redeemed;
            let scopes = dc.scopes.clone();
            drop(auth);
            Ok(token_response(shared, &user, client_id, &scopes))
        }
    }
}

fn refresh(
    shared: &Shared,
    tenant: &TenantRule,
    client_id: &str,
    rt: &str,
    requested: Option<Vec<String>>,
) -> Result<Response, OAuthError> {
    let grant = shared
        .lock_auth()
        .refresh
        .get(rt)
        .cloned()
        .ok_or(OAuthError::RefreshTokenRevoked)?;
    if grant.client_id != client_id {
        return Err(OAuthError::ClientMismatch);
    }
    let user = shared
        .lock_world()
        .user(&grant.user)
        .ok()
        .cloned()
        .ok_or(OAuthError::RefreshTokenRevoked)?;
    if !tenant.admits(&user) {
        return Err(OAuthError::UserNotInTenant(tenant.label()));
    }
    let mut scopes = requested
        .filter(|s| !s.is_empty())
        .unwrap_or(grant.scopes.clone());
    // A refresh keeps offline access even when the scope parameter leaves it out.
    if !scopes
        .iter()
        .any(|s| s.eq_ignore_ascii_case("offline_access"))
    {
        scopes.push("offline_access".into());
    }
    Ok(token_response(shared, &grant.user, client_id, &scopes))
}

fn token_response(shared: &Shared, user_id: &str, client_id: &str, scopes: &[String]) -> Response {
    let lifetime = shared.config.access_token_lifetime;
    let (access, refresh) = shared
        .lock_auth()
        .issue(user_id, client_id, scopes, lifetime);
    let granted: Vec<&str> = scopes
        .iter()
        .map(String::as_str)
        .filter(|s| !s.eq_ignore_ascii_case("offline_access"))
        .collect();
    let mut body = json!({
        "token_type": "Bearer",
        "scope": granted.join(" "),
        "expires_in": lifetime.as_secs(),
        "ext_expires_in": lifetime.as_secs(),
        "access_token": access,
    });
    if let Some(r) = refresh {
        body["refresh_token"] = json!(r);
    }
    if scopes.iter().any(|s| s == "openid") {
        if let Ok(u) = shared.lock_world().user(user_id) {
            body["id_token"] = json!(id_token(shared, u, client_id));
        }
    }
    (
        StatusCode::OK,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(body),
    )
        .into_response()
}

/// An unsigned-looking JWT with the claims clients read for the account name.
fn id_token(shared: &Shared, u: &User, client_id: &str) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let now = Utc::now().timestamp();
    let tid = u
        .tenant
        .clone()
        .unwrap_or_else(|| CONSUMERS_TENANT_ID.to_string());
    let header = json!({"typ": "JWT", "alg": "RS256", "kid": "graph-emulator"});
    let claims = json!({
        "aud": client_id,
        "iss": format!("{}/{tid}/v2.0", shared.base),
        "iat": now, "nbf": now, "exp": now + 3600,
        "name": u.display_name,
        "oid": u.id,
        "preferred_username": u.username,
        "sub": u.id,
        "tid": tid,
        "ver": "2.0",
    });
    format!(
        "{}.{}.{}",
        b64.encode(header.to_string()),
        b64.encode(claims.to_string()),
        b64.encode("graph-emulator-signature")
    )
}
