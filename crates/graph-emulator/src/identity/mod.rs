//! Microsoft identity platform v2 subset: the device authorization grant, refresh with
//! rotation, access-token checks for Graph, and the verification page a person approves on.
//!
//! Responses and errors follow docs/PROTOCOL.md §1.2–§1.5 field by field. Tokens are opaque random
//! strings; this module must never log or echo a token, and never accept a token it did not
//! issue. `tokens` holds the state (device codes, issued tokens), `oauth` the two endpoints,
//! `page` the verification page's HTML.

mod oauth;
mod page;
mod tokens;

use axum::http::{HeaderMap, header};

use crate::store::{User, World};

pub use oauth::{devicecode, token};
pub use page::{verification_page, verification_submit};
pub use tokens::{AccessGrant, AuthState, TokenProblem, decide, random_token};

/// The consumers tenant's well-known GUID.
pub(crate) const CONSUMERS_TENANT_ID: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

/// Who a tenant segment lets in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TenantRule {
    Common,
    Consumers,
    Organizations,
    Tenant(String),
}

impl TenantRule {
    pub(super) fn parse(w: &World, segment: &str) -> Option<TenantRule> {
        match segment.to_ascii_lowercase().as_str() {
            "common" => Some(TenantRule::Common),
            "consumers" | CONSUMERS_TENANT_ID => Some(TenantRule::Consumers),
            "organizations" => Some(TenantRule::Organizations),
            _ => w.tenant(segment).map(|t| TenantRule::Tenant(t.id.clone())),
        }
    }

    pub fn admits(&self, u: &User) -> bool {
        match self {
            TenantRule::Common => true,
            TenantRule::Consumers => u.is_personal(),
            TenantRule::Organizations => !u.is_personal(),
            TenantRule::Tenant(t) => u.tenant.as_deref() == Some(t.as_str()),
        }
    }

    pub(super) fn label(&self) -> String {
        match self {
            TenantRule::Common => "common".into(),
            TenantRule::Consumers => "consumers".into(),
            TenantRule::Organizations => "organizations".into(),
            TenantRule::Tenant(t) => t.clone(),
        }
    }
}

/// Reads the bearer token of a Graph request.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}
