//! Noticing that the machine resumed from sleep (or that its wall clock was set), so the engine
//! reconnects at once instead of waiting for a ping timeout to declare the push link dead.
//!
//! An idle DriveWatch should wake only for the push link's pings, so on Linux the detector costs
//! nothing while nothing happens: a `timerfd` on `CLOCK_REALTIME`, armed for the end of time with
//! `TFD_TIMER_CANCEL_ON_SET`. The kernel cancels such a timer (its read fails with `ECANCELED`)
//! whenever the offset between the wall clock and the monotonic clock changes: when the clock is
//! set (`clock_settime`, an NTP step) and on resume from suspend, where `timekeeping_resume`
//! injects the time slept into the wall clock but not the monotonic one and then calls
//! `timerfd_resume` (Linux 5.14 and later; older kernels got there through `clock_was_set`). A
//! suspend the kernel could not time (no persistent clock or RTC) leaves the offset unchanged
//! and is not seen; neither is a slewed (not stepped) clock, which needs no reconnect.
//!
//! Elsewhere, or if the timerfd cannot be created, a periodic check compares how far the
//! monotonic and the wall clock moved: the monotonic clock stands still while the machine sleeps
//! and the wall clock does not. Tests inject the events themselves ([`WakeSource::injected`]).

use std::time::Duration;

use tokio::sync::mpsc;

/// How often the periodic fallback checks whether the machine slept: the longest a resumed
/// DriveWatch waits before it reconnects where no clock-change event exists.
pub const WAKE_CHECK_INTERVAL: Duration = Duration::from_secs(15);

/// Wall-clock time beyond the monotonic gap that counts as a suspend, well above timer jitter
/// and ordinary clock corrections.
const SLEEP_THRESHOLD: Duration = Duration::from_secs(10);

/// True when a tick that took `monotonic` by the monotonic clock took `wall` by the wall clock
/// because the machine was suspended in between.
pub(crate) fn slept_between(monotonic: Duration, wall: Duration) -> bool {
    wall.saturating_sub(monotonic) >= SLEEP_THRESHOLD
}

/// Why the engine should look again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// The kernel says the wall clock moved against the monotonic one: a resume from suspend
    /// or a clock set. It cannot tell which.
    ClockChanged,
    /// The periodic check saw this many seconds of wall-clock time the monotonic clock missed.
    Slept { secs: u64 },
}

/// Where [`Wake`]s come from; one per engine, whatever the number of targets.
pub struct WakeSource {
    kind: Kind,
}

enum Kind {
    #[cfg(target_os = "linux")]
    ClockChange(linux::ClockChange),
    Periodic(Periodic),
    Injected(mpsc::UnboundedReceiver<Wake>),
}

impl std::fmt::Debug for WakeSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("WakeSource").field(&self.name()).finish()
    }
}

impl WakeSource {
    /// The cheapest detector this platform offers: the clock-change timerfd on Linux, the
    /// periodic check elsewhere or when the timerfd cannot be created. Needs a Tokio runtime
    /// with I/O enabled (the engine's hosts build theirs with `enable_all`).
    pub fn system() -> WakeSource {
        #[cfg(target_os = "linux")]
        match linux::ClockChange::new() {
            Ok(c) => {
                return WakeSource {
                    kind: Kind::ClockChange(c),
                };
            }
            Err(e) => tracing::warn!(
                error = %e,
                "no clock-change timer; checking for a resume from sleep every {} s instead",
                WAKE_CHECK_INTERVAL.as_secs()
            ),
        }
        WakeSource::periodic(WAKE_CHECK_INTERVAL)
    }

    /// A check every `every` comparing the monotonic and the wall clock.
    pub fn periodic(every: Duration) -> WakeSource {
        WakeSource {
            kind: Kind::Periodic(Periodic::new(every)),
        }
    }

    /// Events sent by hand, for tests. The source never yields once the sender is dropped.
    pub fn injected() -> (mpsc::UnboundedSender<Wake>, WakeSource) {
        let (tx, rx) = mpsc::unbounded_channel();
        (
            tx,
            WakeSource {
                kind: Kind::Injected(rx),
            },
        )
    }

    /// Which detector this is, for logs and tests.
    pub fn name(&self) -> &'static str {
        match &self.kind {
            #[cfg(target_os = "linux")]
            Kind::ClockChange(_) => "clock-change timerfd",
            Kind::Periodic(_) => "periodic check",
            Kind::Injected(_) => "injected",
        }
    }

    /// Waits for the next wake. Cancel-safe: dropping the future loses no event. A timerfd
    /// that fails unexpectedly is replaced by the periodic check, so this never returns early.
    pub async fn next(&mut self) -> Wake {
        loop {
            match &mut self.kind {
                #[cfg(target_os = "linux")]
                Kind::ClockChange(c) => match c.next().await {
                    Ok(wake) => return wake,
                    Err(e) => {
                        tracing::warn!(error = %e, "the clock-change timer failed; checking periodically");
                        self.kind = Kind::Periodic(Periodic::new(WAKE_CHECK_INTERVAL));
                    }
                },
                Kind::Periodic(p) => {
                    if let Some(wake) = p.tick().await {
                        return wake;
                    }
                }
                Kind::Injected(rx) => match rx.recv().await {
                    Some(wake) => return wake,
                    None => std::future::pending::<()>().await,
                },
            }
        }
    }
}

/// The fallback: one timer, a comparison of both clocks per tick.
struct Periodic {
    every: Duration,
    mono: tokio::time::Instant,
    wall: std::time::SystemTime,
}

impl Periodic {
    fn new(every: Duration) -> Periodic {
        Periodic {
            every,
            mono: tokio::time::Instant::now(),
            wall: std::time::SystemTime::now(),
        }
    }

    /// One tick; `Some` when it spanned a suspend. The clocks are re-read after the sleep, so
    /// a cancelled tick only delays the next comparison.
    async fn tick(&mut self) -> Option<Wake> {
        tokio::time::sleep_until(self.mono + self.every).await;
        let (mono_now, wall_now) = (tokio::time::Instant::now(), std::time::SystemTime::now());
        let wall_gap = wall_now.duration_since(self.wall).unwrap_or_default();
        let slept = slept_between(mono_now - self.mono, wall_gap);
        (self.mono, self.wall) = (mono_now, wall_now);
        slept.then_some(Wake::Slept {
            secs: wall_gap.as_secs(),
        })
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::io;
    use std::os::fd::OwnedFd;

    use rustix::time::{
        Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags, Timespec, timerfd_create,
        timerfd_settime,
    };
    use tokio::io::Interest;
    use tokio::io::unix::AsyncFd;

    use super::Wake;

    /// A `CLOCK_REALTIME` timerfd that never expires but is cancelled by every clock change.
    pub(super) struct ClockChange {
        fd: AsyncFd<OwnedFd>,
    }

    /// Armed for the largest time the kernel accepts (it saturates), as systemd's clock-change
    /// watch does: the timer exists only to be cancelled.
    fn arm(fd: &OwnedFd) -> io::Result<()> {
        let forever = Itimerspec {
            it_interval: Timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: Timespec {
                tv_sec: i64::MAX,
                tv_nsec: 0,
            },
        };
        timerfd_settime(
            fd,
            TimerfdTimerFlags::ABSTIME | TimerfdTimerFlags::CANCEL_ON_SET,
            &forever,
        )?;
        Ok(())
    }

    /// Hands the timer to Tokio's reactor. Tokio's safe constructors are deprecated as unsound
    /// for `AsRawFd` types that may close or swap their descriptor; an `OwnedFd` cannot.
    #[allow(unsafe_code)]
    fn register(fd: OwnedFd) -> io::Result<AsyncFd<OwnedFd>> {
        // SAFETY: `fd` is an open descriptor the `OwnedFd` owns; moved into the `AsyncFd`, it
        // stays open and keeps its number until the `AsyncFd` drops it, and nothing else can
        // reach it to close or replace it.
        unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) }.map_err(io::Error::from)
    }

    impl ClockChange {
        pub(super) fn new() -> io::Result<ClockChange> {
            let fd = timerfd_create(
                TimerfdClockId::Realtime,
                TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC,
            )?;
            arm(&fd)?;
            Ok(ClockChange { fd: register(fd)? })
        }

        /// Waits until the kernel cancels (or, after a jump past the end of time, fires) the
        /// timer, then re-arms it against the new clock. Cancel-safe: readiness is only
        /// consumed by a read.
        pub(super) async fn next(&mut self) -> io::Result<Wake> {
            loop {
                let mut ready = self.fd.readable().await?;
                let mut buf = [0u8; 8];
                match ready
                    .try_io(|fd| rustix::io::read(fd.get_ref(), &mut buf).map_err(io::Error::from))
                {
                    // Spurious readiness: wait again.
                    Err(_would_block) => continue,
                    Ok(Err(e))
                        if e.raw_os_error() == Some(rustix::io::Errno::CANCELED.raw_os_error()) => {
                    }
                    // Expired: the clock was set past the end of time. Same meaning.
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => return Err(e),
                }
                arm(self.fd.get_ref())?;
                return Ok(Wake::ClockChanged);
            }
        }

        /// Whether a read would return now (test helper: nothing pending while the clock holds).
        #[cfg(test)]
        pub(super) fn pending(&self) -> bool {
            let mut buf = [0u8; 8];
            !matches!(
                rustix::io::read(self.fd.get_ref(), &mut buf),
                Err(rustix::io::Errno::AGAIN)
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suspend_shows_as_wall_time_the_monotonic_clock_did_not_see() {
        let tick = WAKE_CHECK_INTERVAL;
        // An ordinary tick: both clocks agree, give or take timer jitter.
        assert!(!slept_between(tick, tick + Duration::from_millis(40)));
        // A small clock correction (NTP) is not a sleep.
        assert!(!slept_between(tick, tick + Duration::from_secs(2)));
        // A laptop lid closed for ten minutes.
        assert!(slept_between(tick, tick + Duration::from_secs(600)));
        // A wall clock set backwards is not a sleep either.
        assert!(!slept_between(tick, Duration::ZERO));
    }

    #[tokio::test(start_paused = true)]
    async fn the_periodic_check_stays_quiet_while_both_clocks_agree() {
        let mut source = WakeSource::periodic(Duration::from_secs(15));
        // Paused time moves the monotonic clock ahead of the wall clock, never behind it: no
        // tick may look like a sleep.
        let quiet = tokio::time::timeout(Duration::from_secs(120), source.next()).await;
        assert!(quiet.is_err(), "{quiet:?}");
    }

    #[tokio::test]
    async fn injected_wakes_arrive_in_order_and_a_dropped_sender_goes_quiet() {
        let (tx, mut source) = WakeSource::injected();
        assert_eq!(source.name(), "injected");
        tx.send(Wake::ClockChanged).unwrap();
        tx.send(Wake::Slept { secs: 600 }).unwrap();
        assert_eq!(source.next().await, Wake::ClockChanged);
        assert_eq!(source.next().await, Wake::Slept { secs: 600 });
        drop(tx);
        let quiet = tokio::time::timeout(Duration::from_millis(50), source.next()).await;
        assert!(quiet.is_err());
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn on_linux_the_clock_change_timer_arms_and_stays_silent() {
        let source = WakeSource::system();
        assert_eq!(source.name(), "clock-change timerfd");
        let Kind::ClockChange(c) = &source.kind else {
            unreachable!()
        };
        // Armed for the end of time: nothing to read unless the clock is set meanwhile.
        assert!(!c.pending());
        let mut source = source;
        let quiet = tokio::time::timeout(Duration::from_millis(100), source.next()).await;
        assert!(quiet.is_err(), "{quiet:?}");
    }
}
