//! A string that must never be printed: access tokens, refresh tokens, device codes.
//!
//! `Debug` and `Display` show only a placeholder, so a secret inside any struct, error or log
//! field stays hidden. Code reads the value with [`Secret::expose`], and only where it is sent
//! (an `Authorization` header, a token request body, the token store).

use serde::{Deserialize, Serialize};

use super::redact::redact_secret;

/// A secret string; compares by value, prints as `REDACTED(n chars)`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself. Call only where the secret is sent or stored.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({})", redact_secret(&self.0))
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact_secret(&self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let s = Secret::new("eyJhbGciOi.secret-part");
        assert!(!format!("{s:?}").contains("secret-part"));
        assert!(!format!("{s}").contains("secret-part"));
        assert!(!format!("{:#?}", Some(&s)).contains("secret-part"));
        assert_eq!(s.expose(), "eyJhbGciOi.secret-part");
    }

    #[test]
    fn serialises_as_the_plain_value_for_the_store() {
        let s = Secret::new("v");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"v\"");
        let back: Secret = serde_json::from_str("\"v\"").unwrap();
        assert_eq!(back, s);
    }
}
