//! Identity state: pending device codes and the access and refresh tokens issued, with the
//! decisions a person (or a test) makes on a device code; refresh rotates and revocation is
//! `invalid_grant` (docs/PROTOCOL.md §1.5). It must never hand out a token's text
//! in a Debug print or log line.

use std::collections::HashMap;

use tokio::time::Instant;

use super::TenantRule;
use crate::Shared;
use crate::error::EmulatorError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum DeviceStatus {
    Pending,
    Approved(String),
    Declined,
    Redeemed,
}

#[derive(Clone, Debug)]
pub(super) struct DeviceCode {
    pub(super) user_code: String,
    pub(super) client_id: String,
    pub(super) scopes: Vec<String>,
    pub(super) tenant: TenantRule,
    pub(super) expires: Instant,
    pub(super) last_poll: Option<Instant>,
    pub(super) status: DeviceStatus,
}

/// What an access token grants. Never Debug-printed with its token.
#[derive(Clone, Debug)]
pub struct AccessGrant {
    pub user: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub(super) expires: Instant,
}

#[derive(Clone, Debug)]
pub(super) struct RefreshGrant {
    pub(super) user: String,
    pub(super) client_id: String,
    pub(super) scopes: Vec<String>,
}

/// Device codes and issued tokens.
#[derive(Default)]
pub struct AuthState {
    pub(super) device_codes: HashMap<String, DeviceCode>,
    pub(super) access: HashMap<String, AccessGrant>,
    pub(super) refresh: HashMap<String, RefreshGrant>,
}

impl std::fmt::Debug for AuthState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthState")
            .field("device_codes", &self.device_codes.len())
            .field("access_tokens", &self.access.len())
            .field("refresh_tokens", &self.refresh.len())
            .finish()
    }
}

/// Why an access token was refused (both answer 401 InvalidAuthenticationToken).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    Invalid,
    Expired,
}

impl AuthState {
    pub fn check_access(&self, token: &str) -> Result<AccessGrant, TokenProblem> {
        match self.access.get(token) {
            None => Err(TokenProblem::Invalid),
            Some(g) if g.expires <= Instant::now() => Err(TokenProblem::Expired),
            Some(g) => Ok(g.clone()),
        }
    }

    /// Issues an access (and, with offline_access, refresh) token pair.
    pub(super) fn issue(
        &mut self,
        user: &str,
        client_id: &str,
        scopes: &[String],
        lifetime: std::time::Duration,
    ) -> (String, Option<String>) {
        let access = format!("EwA{}", random_token());
        self.access.insert(
            access.clone(),
            AccessGrant {
                user: user.to_string(),
                client_id: client_id.to_string(),
                scopes: scopes.to_vec(),
                expires: Instant::now() + lifetime,
            },
        );
        let refresh = scopes
            .iter()
            .any(|s| s.eq_ignore_ascii_case("offline_access"))
            .then(|| {
                let r = format!("M.C5{}", random_token());
                self.refresh.insert(
                    r.clone(),
                    RefreshGrant {
                        user: user.to_string(),
                        client_id: client_id.to_string(),
                        scopes: scopes.to_vec(),
                    },
                );
                r
            });
        (access, refresh)
    }

    /// Revokes refresh tokens (of one user, or all).
    pub fn revoke_refresh_tokens(&mut self, user: Option<&str>) -> usize {
        let before = self.refresh.len();
        self.refresh
            .retain(|_, g| user.is_some_and(|u| g.user != u));
        before - self.refresh.len()
    }

    /// Makes every access token expire now.
    pub fn expire_access_tokens(&mut self) {
        let now = Instant::now();
        for g in self.access.values_mut() {
            g.expires = now;
        }
    }

    /// Test convenience: tokens for a user without the device flow.
    pub fn issue_for_test(
        &mut self,
        user: &str,
        scopes: &[String],
        lifetime: std::time::Duration,
    ) -> (String, String) {
        let (a, r) = self.issue(user, "graph-emulator-test", scopes, lifetime);
        (a, r.unwrap_or_default())
    }

    /// Pending device codes, for the verification page: (user code, client id, tenant).
    pub fn pending(&self) -> Vec<(String, String, String)> {
        let now = Instant::now();
        let mut v: Vec<_> = self
            .device_codes
            .values()
            .filter(|d| d.status == DeviceStatus::Pending && d.expires > now)
            .map(|d| (d.user_code.clone(), d.client_id.clone(), d.tenant.label()))
            .collect();
        v.sort();
        v
    }
}

/// Approves or declines the pending device code with this user code.
pub fn decide(shared: &Shared, user_code: &str, user: Option<&str>) -> Result<(), EmulatorError> {
    let user_id = match user {
        Some(u) => Some(
            shared
                .world
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .user(u)?
                .clone(),
        ),
        None => None,
    };
    let mut auth = shared.lock_auth();
    let norm = normalize_user_code(user_code);
    let now = Instant::now();
    let dc = auth
        .device_codes
        .values_mut()
        .find(|d| {
            normalize_user_code(&d.user_code) == norm
                && d.status == DeviceStatus::Pending
                && d.expires > now
        })
        .ok_or_else(|| EmulatorError::UnknownUserCode(user_code.to_string()))?;
    match user_id {
        Some(u) => {
            if !dc.tenant.admits(&u) {
                return Err(EmulatorError::WrongTenant {
                    user: u.username.clone(),
                    tenant: dc.tenant.label(),
                });
            }
            dc.status = DeviceStatus::Approved(u.id.clone());
        }
        None => dc.status = DeviceStatus::Declined,
    }
    Ok(())
}

fn normalize_user_code(c: &str) -> String {
    c.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_uppercase()
}

pub fn random_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

pub(super) fn user_code() -> String {
    // Microsoft's codes are 9 upper-case letters and digits without look-alikes.
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let bytes = uuid::Uuid::new_v4().into_bytes();
    bytes[..9]
        .iter()
        .map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char)
        .collect()
}
