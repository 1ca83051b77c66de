//! How an emulator instance behaves: seed, lifetimes, timings, restrictions.
//!
//! Every knob a test may want to turn lives here with a default that matches Microsoft's
//! observed behaviour (see the docs of each field). It must never hold runtime state: faults that
//! change while the emulator runs live in `faults`.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::seed::Seed;

/// Configuration of one emulator instance. `Default` is Microsoft-like; tests shorten the timings.
#[derive(Clone, Debug)]
pub struct EmulatorConfig {
    /// TCP port on 127.0.0.1; 0 picks any free port.
    pub port: u16,
    /// Users, tenants, drives, sites, groups and files to start with.
    pub seed: Seed,
    /// Approve every device code as this user (id or username) at its first poll.
    pub auto_approve: Option<String>,
    /// Lifetime of access tokens (Microsoft: about 1 hour; `expires_in` 3599).
    pub access_token_lifetime: Duration,
    /// Lifetime of a device code (`expires_in`, Microsoft: 900 s).
    pub device_code_lifetime: Duration,
    /// Poll interval announced with a device code (`interval`, Microsoft: 5 s). Polling faster
    /// than this answers `slow_down`. Whole seconds on the wire.
    pub device_code_interval: Duration,
    /// Lifetime of a socketIo subscription (`expirationDateTime`), default 1 hour (the real
    /// lifetime is not observed). At expiry the subscription's sockets are dropped and its token
    /// refused; a renewal (GET of the endpoint again) gives a new URL and a new expiry.
    pub subscription_lifetime: Duration,
    /// Delay between a change and the `notification` it causes; changes within it are coalesced
    /// into one notification per socket. Default 1 s; zero sends at once. Not used in
    /// realistic mode.
    pub coalescing_delay: Duration,
    /// Realistic push (docs/PROTOCOL.md §2.9): every changed item gets its own notification, each
    /// after a delay drawn from `realistic_delay_min..=realistic_delay_max`. Default off.
    pub realistic_push: bool,
    /// Shortest delay of a notification in realistic mode (default 5 s).
    pub realistic_delay_min: Duration,
    /// Longest delay of a notification in realistic mode (default 40 s).
    pub realistic_delay_max: Duration,
    /// Engine.IO ping interval (socket.io default 25 s).
    pub ping_interval: Duration,
    /// Engine.IO ping timeout (socket.io default 20 s).
    pub ping_timeout: Duration,
    /// Items per delta page before a nextLink (default 200).
    pub delta_page_size: usize,
    /// Delta tokens older than this answer 410 `resyncRequired` (default 30 days; Microsoft
    /// does not document the limit).
    pub delta_token_max_age: Duration,
    /// Items per children page when the request has no `$top` (default 200).
    pub children_page_size: usize,
    /// Users (ids or usernames) for whom the socketIo endpoint answers `400 notSupported`.
    pub socketio_not_supported_for: BTreeSet<String>,
    /// Client ids (application ids) allowed to sign in; `None` accepts any.
    pub allowed_client_ids: Option<BTreeSet<String>>,
    /// The origin notificationUrls name (`https://push.example.test:8443`), for an emulator
    /// behind a TLS front: the real service hands out `https://` URLs on a host of its own,
    /// which is what proxy rules and `NO_PROXY` see. `None`: the emulator's own
    /// `http://127.0.0.1:PORT`.
    pub push_origin: Option<url::Url>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            port: 0,
            seed: Seed::default(),
            auto_approve: None,
            access_token_lifetime: Duration::from_secs(3599),
            device_code_lifetime: Duration::from_secs(900),
            device_code_interval: Duration::from_secs(5),
            subscription_lifetime: Duration::from_secs(3600),
            coalescing_delay: Duration::from_secs(1),
            realistic_push: false,
            realistic_delay_min: Duration::from_secs(5),
            realistic_delay_max: Duration::from_secs(40),
            ping_interval: Duration::from_secs(25),
            ping_timeout: Duration::from_secs(20),
            delta_page_size: 200,
            delta_token_max_age: Duration::from_secs(30 * 24 * 3600),
            children_page_size: 200,
            socketio_not_supported_for: BTreeSet::new(),
            allowed_client_ids: None,
            push_origin: None,
        }
    }
}

/// DriveWatch's demo mode reads this variable: `instant` delivers notifications at once,
/// anything else (or nothing) keeps Microsoft's 5-40 s delay.
pub const ENV_DEMO_PUSH: &str = "DRIVEWATCH_DEMO_PUSH";

impl EmulatorConfig {
    /// What demo mode runs, in both of DriveWatch's hosts: Microsoft-like defaults, the demo
    /// user's sign-in approved at its first poll, and realistic push unless `demo_push` (the
    /// value of [`ENV_DEMO_PUSH`]) is `instant`, so the demo shows what real users get.
    pub fn for_demo(demo_push: Option<&str>) -> Self {
        let instant = demo_push.is_some_and(|v| v.trim().eq_ignore_ascii_case("instant"));
        Self::default()
            .with_auto_approve(crate::seed::demo::DEMO_USER)
            .with_realistic_push(!instant)
    }

    /// Settings for fast tests: no coalescing, 1 s device-code interval, short pings.
    pub fn for_tests() -> Self {
        Self {
            coalescing_delay: Duration::ZERO,
            device_code_interval: Duration::from_secs(1),
            ping_interval: Duration::from_secs(2),
            ping_timeout: Duration::from_secs(2),
            ..Self::default()
        }
    }
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }
    pub fn with_seed(mut self, seed: Seed) -> Self {
        self.seed = seed;
        self
    }
    pub fn with_auto_approve(mut self, user: impl Into<String>) -> Self {
        self.auto_approve = Some(user.into());
        self
    }
    pub fn with_access_token_lifetime(mut self, d: Duration) -> Self {
        self.access_token_lifetime = d;
        self
    }
    pub fn with_device_code_interval(mut self, d: Duration) -> Self {
        self.device_code_interval = d;
        self
    }
    pub fn with_device_code_lifetime(mut self, d: Duration) -> Self {
        self.device_code_lifetime = d;
        self
    }
    pub fn with_subscription_lifetime(mut self, d: Duration) -> Self {
        self.subscription_lifetime = d;
        self
    }
    pub fn with_coalescing_delay(mut self, d: Duration) -> Self {
        self.coalescing_delay = d;
        self
    }
    /// Where notificationUrls point (see [`EmulatorConfig::push_origin`]).
    pub fn with_push_origin(mut self, origin: url::Url) -> Self {
        self.push_origin = Some(origin);
        self
    }
    /// Realistic push on or off (see [`EmulatorConfig::realistic_push`]).
    pub fn with_realistic_push(mut self, on: bool) -> Self {
        self.realistic_push = on;
        self
    }
    /// The range realistic mode draws each notification's delay from.
    pub fn with_realistic_delay(mut self, min: Duration, max: Duration) -> Self {
        self.realistic_delay_min = min;
        self.realistic_delay_max = max.max(min);
        self
    }
    /// The push timings this configuration starts with.
    pub fn push_timing(&self) -> PushTiming {
        PushTiming {
            subscription_lifetime: self.subscription_lifetime,
            coalescing_delay: self.coalescing_delay,
            realistic: self.realistic_push,
            realistic_delay_min: self.realistic_delay_min,
            realistic_delay_max: self.realistic_delay_max.max(self.realistic_delay_min),
        }
    }
    pub fn with_ping(mut self, interval: Duration, timeout: Duration) -> Self {
        self.ping_interval = interval;
        self.ping_timeout = timeout;
        self
    }
    pub fn with_delta_page_size(mut self, n: usize) -> Self {
        self.delta_page_size = n.max(1);
        self
    }
    pub fn with_delta_token_max_age(mut self, d: Duration) -> Self {
        self.delta_token_max_age = d;
        self
    }
    pub fn with_children_page_size(mut self, n: usize) -> Self {
        self.children_page_size = n.max(1);
        self
    }
    pub fn with_socketio_not_supported_for(mut self, user: impl Into<String>) -> Self {
        self.socketio_not_supported_for.insert(user.into());
        self
    }
    pub fn with_allowed_client_ids<I, S>(mut self, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allowed_client_ids = Some(ids.into_iter().map(Into::into).collect());
        self
    }
}

/// The push service's timings while it runs: they start from [`EmulatorConfig`] and the control
/// API or [`crate::EmulatorHandle::set_push_timing`] may change them. A new lifetime applies to
/// subscriptions made (or renewed) from then on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PushTiming {
    /// Lifetime of new socketIo subscriptions.
    pub subscription_lifetime: Duration,
    /// Coalescing delay outside realistic mode (zero sends at once).
    pub coalescing_delay: Duration,
    /// One notification per changed item, each after a random delay in the range below.
    pub realistic: bool,
    pub realistic_delay_min: Duration,
    pub realistic_delay_max: Duration,
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn only_instant_turns_the_demo_s_realistic_delay_off() {
        for realistic in [None, Some(""), Some("realistic")] {
            let timing = EmulatorConfig::for_demo(realistic).push_timing();
            assert!(timing.realistic, "{realistic:?}");
            assert_eq!(timing.realistic_delay_min, Duration::from_secs(5));
            assert_eq!(timing.realistic_delay_max, Duration::from_secs(40));
        }
        for instant in ["instant", " Instant ", "INSTANT "] {
            let config = EmulatorConfig::for_demo(Some(instant));
            assert!(!config.push_timing().realistic, "{instant:?}");
            assert_eq!(
                config.auto_approve.as_deref(),
                Some(crate::seed::demo::DEMO_USER)
            );
        }
    }
}
