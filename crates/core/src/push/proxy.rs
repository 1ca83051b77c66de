//! Which HTTP(S) proxy, if any, the push websocket must tunnel through (docs/PROTOCOL.md §6.1,
//! §6.2, credentials §6.4), read from the usual variables the way curl and reqwest read them.
//!
//! `HTTPS_PROXY`, then `https_proxy`, then `ALL_PROXY` and `all_proxy` name the proxy for the
//! `wss://` push host; `NO_PROXY`/`no_proxy` exempt hosts: a comma list of `*`, domain suffixes
//! (`example.com` and `.example.com` both cover `a.example.com`), `host:port`, IP addresses and
//! CIDR blocks. Loopback hosts never go through a proxy. The proxy itself may be `http://` or
//! `https://` (TLS to the proxy); other schemes are an error. Credentials in the proxy URL
//! (percent-encoded) become a Basic `Proxy-Authorization`. This module must never put those
//! credentials into a log, a `Debug` output or an error.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use base64::Engine as _;

use super::PushError;

/// Where proxy variables come from.
#[derive(Clone, Default)]
pub struct ProxyEnv {
    /// `None` reads the process environment at each lookup.
    vars: Option<Arc<BTreeMap<String, String>>>,
}

impl std::fmt::Debug for ProxyEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.vars {
            None => f.write_str("ProxyEnv(process)"),
            Some(v) => f
                .debug_tuple("ProxyEnv")
                .field(&v.keys().collect::<Vec<_>>())
                .finish(),
        }
    }
}

impl ProxyEnv {
    /// The process environment, read at each lookup.
    pub fn process() -> Self {
        Self::default()
    }

    /// A fixed set of variables instead of the process environment (tests, embedding hosts).
    pub fn from_vars<I, K, V>(vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Self {
            vars: Some(Arc::new(
                vars.into_iter()
                    .map(|(k, v)| (k.into(), v.into()))
                    .collect(),
            )),
        }
    }

    fn get(&self, name: &str) -> Option<String> {
        match &self.vars {
            None => std::env::var(name).ok(),
            Some(v) => v.get(name).cloned(),
        }
    }

    /// The first of `names` that is set and not blank.
    fn first(&self, names: &[&str]) -> Option<String> {
        names
            .iter()
            .find_map(|n| self.get(n).filter(|v| !v.trim().is_empty()))
    }

    /// The proxy to tunnel through to `host:port` over TLS, or `None` for a direct connection.
    pub fn proxy_for(&self, host: &str, port: u16) -> Result<Option<Proxy>, PushError> {
        let Some(raw) = self.first(&["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"])
        else {
            return Ok(None);
        };
        if is_loopback(host) {
            return Ok(None);
        }
        let no_proxy = self.first(&["NO_PROXY", "no_proxy"]).unwrap_or_default();
        if no_proxy_matches(&no_proxy, host, port) {
            return Ok(None);
        }
        Proxy::parse(&raw).map(Some)
    }
}

/// An HTTP proxy that accepts `CONNECT`.
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    pub host: String,
    pub port: u16,
    /// `https://` proxy: TLS to the proxy itself, then the tunnel (and TLS to the push host)
    /// inside it.
    pub tls: bool,
    /// `Basic base64(user:password)`, ready for `Proxy-Authorization`. A secret.
    authorization: Option<String>,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field(
                "authorization",
                &self.authorization.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl Proxy {
    /// Parses `http(s)://[user[:password]@]host[:port]`; a bare `host:port` means http. The
    /// error never quotes the value, which may hold a password.
    pub fn parse(raw: &str) -> Result<Self, PushError> {
        let raw = raw.trim();
        let with_scheme = if raw.contains("://") {
            raw.to_owned()
        } else {
            format!("http://{raw}")
        };
        let url = url::Url::parse(&with_scheme).map_err(|_| PushError::ProxyUnusable {
            reason: "the proxy setting is not a URL".into(),
        })?;
        let tls = match url.scheme() {
            "http" => false,
            "https" => true,
            other => {
                return Err(PushError::ProxyUnusable {
                    reason: format!(
                        "only http:// and https:// proxies can tunnel the push websocket, not {other}://"
                    ),
                });
            }
        };
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| PushError::ProxyUnusable {
                reason: "the proxy setting names no host".into(),
            })?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = url
            .port_or_known_default()
            .unwrap_or(if tls { 443 } else { 80 });
        let authorization = if url.username().is_empty() && url.password().is_none() {
            None
        } else {
            let decode = |s: &str| percent_decode(s);
            let user = decode(url.username());
            let pass = decode(url.password().unwrap_or(""));
            let mut pair = user;
            pair.push(b':');
            pair.extend(pass);
            Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            ))
        };
        Ok(Self {
            host,
            port,
            tls,
            authorization,
        })
    }

    /// The `Proxy-Authorization` value, if the proxy URL carried credentials.
    pub fn authorization(&self) -> Option<&str> {
        self.authorization.as_deref()
    }
}

fn percent_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Whether a `NO_PROXY` list exempts `host:port`.
pub fn no_proxy_matches(list: &str, host: &str, port: u16) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let host_ip = host.parse::<IpAddr>().ok();
    list.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            let (name, entry_port) = split_port(entry);
            if entry_port.is_some_and(|p| p != port) {
                return false;
            }
            let name = name.to_ascii_lowercase();
            if let Some(ip) = host_ip {
                return ip_matches(&name, ip);
            }
            let name = name
                .trim_start_matches("*.")
                .trim_start_matches('.')
                .trim_end_matches('.');
            !name.is_empty()
                && (host == name
                    || host
                        .strip_suffix(name)
                        .is_some_and(|rest| rest.ends_with('.')))
        })
}

/// Splits `host:port`, `[v6]:port`, `[v6]`, or a bare name/IP (a bare IPv6 keeps its colons).
fn split_port(entry: &str) -> (&str, Option<u16>) {
    if let Some(rest) = entry.strip_prefix('[') {
        if let Some((addr, tail)) = rest.split_once(']') {
            let port = tail.strip_prefix(':').and_then(|p| p.parse().ok());
            return (addr, port);
        }
    }
    match entry.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') => match port.parse() {
            Ok(p) => (name, Some(p)),
            Err(_) => (entry, None),
        },
        _ => (entry, None),
    }
}

/// `entry` is an IP address or a CIDR block containing `ip`.
fn ip_matches(entry: &str, ip: IpAddr) -> bool {
    let (addr, bits) = match entry.split_once('/') {
        Some((a, b)) => match b.parse::<u32>() {
            Ok(b) => (a, Some(b)),
            Err(_) => return false,
        },
        None => (entry, None),
    };
    let Ok(net) = addr.parse::<IpAddr>() else {
        return false;
    };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(h)) => prefix_eq(&n.octets(), &h.octets(), bits.unwrap_or(32)),
        (IpAddr::V6(n), IpAddr::V6(h)) => prefix_eq(&n.octets(), &h.octets(), bits.unwrap_or(128)),
        _ => false,
    }
}

fn prefix_eq(a: &[u8], b: &[u8], bits: u32) -> bool {
    let bits = (bits as usize).min(a.len() * 8);
    let (whole, rest) = (bits / 8, bits % 8);
    if a[..whole] != b[..whole] {
        return false;
    }
    rest == 0 || {
        let mask = 0xffu8 << (8 - rest);
        a[whole] & mask == b[whole] & mask
    }
}

/// Whether `HTTPS_PROXY` (or `https_proxy`, `ALL_PROXY`) applies to `host` under `NO_PROXY`.
/// Loopback hosts never go through a proxy.
pub fn proxy_applies(host: &str, env: impl Fn(&str) -> Option<String>) -> bool {
    let names = [
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
    ];
    let env = ProxyEnv::from_vars(names.iter().filter_map(|n| env(n).map(|v| (*n, v))));
    let host = host.trim_start_matches('[').trim_end_matches(']');
    // Any port: only a `host:port` NO_PROXY entry cares, and this asks about the host.
    !matches!(env.proxy_for(host, 443), Ok(None))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn the_proxy_decision_follows_https_proxy_and_no_proxy() {
        let none: [(&str, &str); 0] = [];
        assert!(!proxy_applies("push.svc.ms", env(&none)));
        let proxied = [("HTTPS_PROXY", "http://proxy:3128")];
        assert!(proxy_applies("push.svc.ms", env(&proxied)));
        assert!(!proxy_applies("127.0.0.1", env(&proxied)));
        assert!(!proxy_applies("localhost", env(&proxied)));
        let except = [
            ("https_proxy", "http://proxy:3128"),
            ("NO_PROXY", "example.com, .svc.ms"),
        ];
        assert!(!proxy_applies("f3hb0mpua.svc.ms", env(&except)));
        assert!(!proxy_applies("example.com", env(&except)));
        assert!(proxy_applies("graph.microsoft.com", env(&except)));
        let all = [("HTTPS_PROXY", "http://p"), ("no_proxy", "*")];
        assert!(!proxy_applies("anything.net", env(&all)));
    }

    #[test]
    fn variables_are_read_in_curls_order_and_blank_ones_skipped() {
        let e = ProxyEnv::from_vars([
            ("HTTPS_PROXY", "  "),
            ("https_proxy", "http://lower:1"),
            ("ALL_PROXY", "http://all:2"),
        ]);
        let p = e.proxy_for("push.example.com", 443).unwrap().unwrap();
        assert_eq!((p.host.as_str(), p.port), ("lower", 1));
        let e = ProxyEnv::from_vars([("all_proxy", "all.example:8080")]);
        let p = e.proxy_for("push.example.com", 443).unwrap().unwrap();
        assert_eq!((p.host.as_str(), p.port), ("all.example", 8080));
        assert_eq!(p.authorization(), None);
        let e = ProxyEnv::from_vars([("HTTP_PROXY", "http://only-http:1")]);
        assert_eq!(e.proxy_for("push.example.com", 443).unwrap(), None);
    }

    #[test]
    fn no_proxy_takes_suffixes_ports_ips_and_cidr_blocks() {
        let list = "corp.example, *.svc.ms,push.other:8443, 10.0.0.0/8, 192.168.1.7, [::1]:99";
        assert!(no_proxy_matches(list, "corp.example", 443));
        assert!(no_proxy_matches(list, "a.b.CORP.example", 443));
        assert!(!no_proxy_matches(list, "notcorp.example", 443));
        assert!(no_proxy_matches(list, "x.svc.ms", 443));
        assert!(no_proxy_matches(list, "push.other", 8443));
        assert!(!no_proxy_matches(list, "push.other", 443));
        assert!(no_proxy_matches(list, "10.20.30.40", 443));
        assert!(!no_proxy_matches(list, "11.0.0.1", 443));
        assert!(no_proxy_matches(list, "192.168.1.7", 443));
        assert!(!no_proxy_matches(list, "192.168.1.8", 443));
        assert!(no_proxy_matches("fd00::/8", "[fd12::1]", 443));
        assert!(!no_proxy_matches("fd00::/8", "fe80::1", 443));
        assert!(no_proxy_matches("host.test.", "host.test", 443));
        assert!(!no_proxy_matches("", "host.test", 443));
        assert!(!no_proxy_matches(" , ", "host.test", 443));
        assert!(no_proxy_matches("a, *", "anything", 1));
    }

    #[test]
    fn credentials_are_percent_decoded_into_basic_auth_and_never_shown() {
        let p = Proxy::parse("http://us%40er:p%3Ass%20w@proxy.corp:3128").unwrap();
        assert_eq!((p.host.as_str(), p.port), ("proxy.corp", 3128));
        let expected = base64::engine::general_purpose::STANDARD.encode("us@er:p:ss w");
        assert_eq!(
            p.authorization(),
            Some(format!("Basic {expected}").as_str())
        );
        let shown = format!("{p:?}");
        assert!(
            !shown.contains(&expected) && !shown.contains("p%3Ass"),
            "{shown}"
        );
        let p = Proxy::parse("http://user@proxy").unwrap();
        assert_eq!((p.port, p.tls), (80, false));
        let p = Proxy::parse("https://user@proxy").unwrap();
        assert_eq!((p.port, p.tls), (443, true));
        let expected = base64::engine::general_purpose::STANDARD.encode("user:");
        assert_eq!(
            p.authorization(),
            Some(format!("Basic {expected}").as_str())
        );
    }

    #[test]
    fn unusable_proxy_settings_are_errors_without_the_secret() {
        for raw in [
            "socks5://u:secret@p:1080",
            "ftp://u:secret@p",
            "http://:secret@/",
        ] {
            let err = Proxy::parse(raw).unwrap_err();
            assert!(
                matches!(err, PushError::ProxyUnusable { .. }),
                "{raw}: {err:?}"
            );
            assert!(!err.to_string().contains("secret"), "{err}");
        }
        let e = ProxyEnv::from_vars([("HTTPS_PROXY", "socks5://p:1080")]);
        assert!(e.proxy_for("push.example.com", 443).is_err());
        // A bad setting does not matter for hosts it does not apply to.
        assert_eq!(e.proxy_for("127.0.0.1", 443).unwrap(), None);
    }
}
