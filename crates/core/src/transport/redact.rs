//! Redaction for everything that may reach a log line, an error message or Debug output:
//! URLs whose query or OData arguments carry tokens (a notificationUrl's `token`,
//! `docs/PROTOCOL.md §2.2`; a delta link's `token`, `§3.1`), and raw secrets.
//!
//! Every log and error that mentions a URL goes through [`redact_url`]. This module must never
//! return its input unchanged when it cannot parse it: unknown shapes are redacted harder.

use url::Url;

/// What replaces a secret.
pub const REDACTED: &str = "REDACTED";

/// Query keys whose values are secret (compared case-insensitively, by substring).
const SECRET_KEY_PARTS: &[&str] = &[
    "token",
    "code",
    "secret",
    "password",
    "sig",
    "key",
    "assertion",
];

fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECRET_KEY_PARTS.iter().any(|p| key.contains(p))
}

/// The URL with secret query values, user info and OData `token='...'` arguments replaced.
/// Scheme, host, port and path stay readable so a log line still says where a call went.
pub fn redact_url(raw: &str) -> String {
    let Ok(mut url) = Url::parse(raw) else {
        // Not a URL we understand: keep only what precedes a query, and redact OData args.
        let head = raw.split(['?', '#']).next().unwrap_or_default();
        let mut out = redact_odata_args(head);
        if head.len() < raw.len() {
            out.push_str("?REDACTED");
        }
        return out;
    };
    if !url.username().is_empty() || url.password().is_some() {
        let _ = url.set_username(REDACTED);
        let _ = url.set_password(None);
    }
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if is_secret_key(&k) {
                    REDACTED.to_string()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.set_fragment(None);
    let path = redact_odata_args(url.path());
    if path != url.path() {
        url.set_path(&path);
    }
    url.to_string()
}

/// Replaces the quoted value of OData function arguments such as `delta(token='abc')`.
fn redact_odata_args(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    loop {
        let lower = rest.to_ascii_lowercase();
        let found = ["token='", "token=%27"]
            .iter()
            .filter_map(|pat| lower.find(pat).map(|i| (i, pat.len())))
            .min_by_key(|(i, _)| *i);
        let Some((start, pat_len)) = found else {
            out.push_str(rest);
            return out;
        };
        let value_start = start + pat_len;
        out.push_str(&rest[..value_start]);
        out.push_str(REDACTED);
        let tail = &rest[value_start..];
        let tail_lower = &lower[value_start..];
        let end = [tail_lower.find('\''), tail_lower.find("%27")]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(tail.len());
        rest = &tail[end..];
    }
}

/// A short, non-reversible stand-in for a secret: its length only.
pub fn redact_secret(secret: &str) -> String {
    format!("{REDACTED}({} chars)", secret.chars().count())
}

/// Text (an error message from a library, say) with every URL in it redacted.
pub fn redact_text(text: &str) -> String {
    text.split_inclusive(char::is_whitespace)
        .map(|word| {
            let trimmed = word.trim_end();
            let body = trimmed.trim_matches(|c| {
                matches!(
                    c,
                    '(' | ')' | '"' | '\'' | ',' | '<' | '>' | ':' | ';' | '.'
                )
            });
            if body.starts_with("http://")
                || body.starts_with("https://")
                || body.starts_with("wss://")
            {
                word.replace(body, &redact_url(body))
            } else {
                word.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notification_url_token_is_redacted_but_host_stays() {
        let raw = "https://f3hb0mpua.svc.ms/notifications?token=eyJ0eXAiOiJKV1Qi.abc.def&applicationId=3b1e";
        let out = redact_url(raw);
        assert!(!out.contains("eyJ0eXAiOiJKV1Qi"), "{out}");
        assert!(out.contains("f3hb0mpua.svc.ms/notifications"), "{out}");
        assert!(out.contains("applicationId=3b1e"), "{out}");
        assert!(out.contains("token=REDACTED"), "{out}");
    }

    #[test]
    fn odata_function_tokens_are_redacted() {
        let raw =
            "https://graph.microsoft.com/v1.0/drives/b!x/root/delta(token='MzslMjM0OTsyNA')?$top=5";
        let out = redact_url(raw);
        assert!(!out.contains("MzslMjM0OTsyNA"), "{out}");
        assert!(out.contains("delta(token='REDACTED')"), "{out}");
        assert!(out.contains("%24top=5") || out.contains("$top=5"), "{out}");
    }

    #[test]
    fn delta_and_code_query_values_are_redacted() {
        let out = redact_url(
            "http://127.0.0.1:9/me/drive/root/delta?token=aaa&$skiptoken=bbb&code=ccc&x=1",
        );
        for s in ["aaa", "bbb", "ccc"] {
            assert!(!out.contains(s), "{out}");
        }
        assert!(out.contains("x=1"));
    }

    #[test]
    fn userinfo_and_unparsable_urls_are_redacted() {
        let out = redact_url("https://user:pw@proxy.example/x");
        assert!(!out.contains("pw") && !out.contains("user:"), "{out}");
        let out = redact_url("/relative/delta(token='zzz')?token=yyy");
        assert!(!out.contains("zzz") && !out.contains("yyy"), "{out}");
    }

    #[test]
    fn secrets_show_only_their_length() {
        assert_eq!(redact_secret("abcd"), "REDACTED(4 chars)");
    }

    #[test]
    fn urls_inside_text_are_redacted() {
        let out =
            redact_text("error sending request for url (https://h/n?token=sss&a=b): timed out");
        assert!(!out.contains("sss"), "{out}");
        assert!(out.contains("timed out"));
    }
}
