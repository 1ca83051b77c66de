//! Noticing that the machine resumed from sleep, and telling that apart from a wall clock that was
//! merely set, so the engine reconnects every push link after a real suspend instead of waiting for
//! ping timeouts (`docs/PROTOCOL.md §2.8`), and does not reconnect anything when only the clock
//! moved.
//!
//! A clock step alone leaves every link healthy. Treating each one as a resume made an idle
//! DriveWatch on a VM whose time sync stepped the clock ten times a second reconnect ten times a
//! second. So the detector reads the clocks on each event and decides ([`Detector`], a pure state
//! machine over injected [`Clocks`]): on Linux a resume is `CLOCK_BOOTTIME` having gained on
//! `CLOCK_MONOTONIC` (the kernel adds time spent suspended to the first only); a wall clock that
//! moved 2 s or more against the monotonic one otherwise is a clock set, worth at most one delta
//! run a minute (smaller sets, nothing). Whatever the signal, reconnecting
//! everything is rate-limited too; a signal inside its limit is held and given when the limit
//! ends, never dropped.
//!
//! An idle DriveWatch should wake only for the push link's pings, so on Linux the events cost
//! nothing while nothing happens: a `timerfd` on `CLOCK_REALTIME`, armed for the end of time with
//! `TFD_TIMER_CANCEL_ON_SET`. The kernel cancels such a timer (its read fails with `ECANCELED`)
//! whenever the offset between the wall clock and the monotonic clock changes: when the clock is
//! set (`clock_settime`, an NTP step) and on resume from suspend, where `timekeeping_resume`
//! injects the time slept into the wall and boot clocks but not the monotonic one and then calls
//! `timerfd_resume` (Linux 5.14 and later; older kernels got there through `clock_was_set`).
//! After an event the timer is left alone for [`COALESCE`], so a clock stepped ten times a
//! second costs one look a second. A suspend the kernel could not time (no persistent clock or
//! RTC) moves neither offset and is not seen; neither is a slewed (not stepped) clock.
//!
//! Elsewhere, or if the timerfd cannot be created, a periodic check compares how far the
//! monotonic and the wall clock moved: the monotonic clock stands still while the machine sleeps
//! and the wall clock does not. Without a boot clock it cannot tell a large forward clock set
//! from a sleep; the rate limits still bound what either costs. This module must never act on
//! the targets itself, and never let a clock set reconnect anything where the boot clock exists.

use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;
use tokio::time::Instant;

#[cfg(target_os = "linux")]
mod linux;

/// How often the periodic fallback checks whether the machine slept: the longest a resumed
/// DriveWatch waits before it reconnects where no clock-change event exists.
pub const WAKE_CHECK_INTERVAL: Duration = Duration::from_secs(15);

/// Least time between two "reconnect every target" signals.
pub const RECONNECT_GAP: Duration = Duration::from_secs(30);

/// Least time between two delta runs asked for because the clock was set (a reconnect counts:
/// it runs delta too).
pub const DELTA_GAP: Duration = Duration::from_secs(60);

/// Clock-change events this close together are read as one.
pub const COALESCE: Duration = Duration::from_secs(1);

/// Wall-clock time beyond the monotonic gap that counts as a suspend, well above timer jitter
/// and ordinary clock corrections (fallback only).
const SLEEP_THRESHOLD: Duration = Duration::from_secs(10);

/// Boot-clock time beyond the monotonic clock that counts as a suspend. While awake both run
/// from the same source, so only reading them one after the other separates them (by far less).
const RESUME_THRESHOLD: Duration = Duration::from_secs(1);

/// A look whose wall clock moved this much more or less than its monotonic clock saw a clock
/// set. Smaller sets (time sync's usual corrections) need nothing: no DriveWatch timer depends
/// on the wall clock that finely, so they are not even worth a delta run.
const STEP_THRESHOLD: Duration = Duration::from_secs(2);

/// True when a tick that took `monotonic` by the monotonic clock took `wall` by the wall clock
/// because the machine was suspended in between.
pub(crate) fn slept_between(monotonic: Duration, wall: Duration) -> bool {
    wall.saturating_sub(monotonic) >= SLEEP_THRESHOLD
}

/// What the engine should do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WakeSignal {
    /// The machine was suspended (about this long, summed over resumes held back by the rate
    /// limit): the push links are likely dead. Reconnect every target.
    Resumed { slept_secs: u64 },
    /// The wall clock was set but the machine did not sleep: the links are fine. Run delta once.
    ClockStepped,
}

/// One reading of the clocks the detector compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    /// Stops while the machine is suspended (`CLOCK_MONOTONIC`).
    pub monotonic: Duration,
    /// Keeps running while suspended (`CLOCK_BOOTTIME`), from the same origin as `monotonic`;
    /// `None` where the platform has no such clock.
    pub boottime: Option<Duration>,
    /// The wall clock, which can be set anywhere.
    pub wall: SystemTime,
}

/// Where the detector reads time from: the system, or a test's script.
pub trait Clocks: Send + 'static {
    fn read(&self) -> Reading;
}

/// What made the source look at the clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cause {
    /// The kernel reported that the wall clock moved against the monotonic one.
    #[cfg_attr(not(any(target_os = "linux", test)), allow(dead_code))]
    ClockChanged,
    /// A periodic check, which may find nothing.
    Tick,
}

/// What one look at the clocks found, before the rate limits.
enum Seen {
    Slept(Duration),
    Stepped,
}

/// Rate limit on a timeline: an action inside `gap` of the last is held, not lost.
#[derive(Debug, Clone)]
struct Limit {
    gap: Duration,
    last: Option<Duration>,
    held: bool,
}

impl Limit {
    fn new(gap: Duration) -> Limit {
        Limit {
            gap,
            last: None,
            held: false,
        }
    }

    /// Whether to act at `at`; if not, the action is held until the gap has passed.
    fn try_now(&mut self, at: Duration) -> bool {
        if self.last.is_some_and(|last| at < last + self.gap) {
            self.held = true;
            false
        } else {
            self.ran(at);
            true
        }
    }

    fn ran(&mut self, at: Duration) {
        self.last = Some(at);
        self.held = false;
    }

    /// When a held action may run.
    fn due(&self) -> Option<Duration> {
        self.last.filter(|_| self.held).map(|last| last + self.gap)
    }

    /// Runs a held action whose time has come.
    fn take_due(&mut self, at: Duration) -> bool {
        let due = self.due().is_some_and(|due| at >= due);
        if due {
            self.ran(at);
        }
        due
    }
}

/// Decides, from successive clock readings, whether the machine slept or the clock was set, and
/// rate-limits what it reports. Pure: it never reads a clock or sleeps itself.
#[derive(Debug, Clone)]
pub struct Detector {
    last: Reading,
    /// Boot minus monotonic clock when the last suspend was counted (Linux).
    suspended_mark: Option<Duration>,
    /// Suspend time found without a boot clock.
    slept_found: Duration,
    /// Suspend time whose reconnect is held back by the rate limit.
    slept_held: Duration,
    reconnect: Limit,
    delta: Limit,
}

impl Detector {
    pub fn new(first: Reading) -> Detector {
        Detector {
            last: first,
            suspended_mark: first.boottime.map(|b| b.saturating_sub(first.monotonic)),
            slept_found: Duration::ZERO,
            slept_held: Duration::ZERO,
            reconnect: Limit::new(RECONNECT_GAP),
            delta: Limit::new(DELTA_GAP),
        }
    }

    /// Time that runs while awake and while suspended, for the rate limits: an hour asleep is
    /// an hour since the last reconnect.
    fn timeline(&self, r: &Reading) -> Duration {
        r.boottime.unwrap_or(r.monotonic + self.slept_found)
    }

    /// The clocks were read (after a clock-change event or on a periodic tick): what to do now,
    /// if anything.
    pub fn observe(&mut self, now: Reading) -> Option<WakeSignal> {
        let seen = self.classify(now)?;
        let at = self.timeline(&now);
        match seen {
            Seen::Slept(slept) => {
                self.slept_held += slept;
                self.reconnect.try_now(at).then(|| self.resumed(at))
            }
            // A held reconnect runs delta anyway.
            Seen::Stepped if self.reconnect.held => None,
            Seen::Stepped => self.delta.try_now(at).then_some(WakeSignal::ClockStepped),
        }
    }

    /// A held signal whose time has come, if any.
    pub fn poll(&mut self, now: Reading) -> Option<WakeSignal> {
        let at = self.timeline(&now);
        if self.reconnect.take_due(at) {
            return Some(self.resumed(at));
        }
        self.delta.take_due(at).then_some(WakeSignal::ClockStepped)
    }

    /// How long from `now` until a held signal is due; `None` when nothing is held.
    pub fn due_in(&self, now: Reading) -> Option<Duration> {
        let at = self.timeline(&now);
        [self.reconnect.due(), self.delta.due()]
            .into_iter()
            .flatten()
            .min()
            .map(|due| due.saturating_sub(at))
    }

    fn resumed(&mut self, at: Duration) -> WakeSignal {
        // Reconnecting runs delta: a clock set just after needs no run of its own.
        self.delta.ran(at);
        let slept = std::mem::take(&mut self.slept_held);
        WakeSignal::Resumed {
            slept_secs: slept.as_secs(),
        }
    }

    fn classify(&mut self, now: Reading) -> Option<Seen> {
        let last = std::mem::replace(&mut self.last, now);
        let mono_gap = now.monotonic.saturating_sub(last.monotonic);
        let wall_gap = wall_nanos(now.wall) - wall_nanos(last.wall);
        let slept = match (now.boottime, self.suspended_mark) {
            (Some(boot), Some(mark)) => {
                let suspended = boot.saturating_sub(now.monotonic);
                let gain = suspended.saturating_sub(mark);
                if gain < RESUME_THRESHOLD {
                    Duration::ZERO
                } else {
                    self.suspended_mark = Some(suspended);
                    gain
                }
            }
            _ => {
                let wall = u64::try_from(wall_gap)
                    .map(Duration::from_nanos)
                    .unwrap_or_default();
                if slept_between(mono_gap, wall) {
                    let slept = wall - mono_gap;
                    self.slept_found += slept;
                    slept
                } else {
                    Duration::ZERO
                }
            }
        };
        if !slept.is_zero() {
            return Some(Seen::Slept(slept));
        }
        let skew = (wall_gap - mono_gap.as_nanos() as i128).unsigned_abs();
        (skew >= STEP_THRESHOLD.as_nanos()).then_some(Seen::Stepped)
    }
}

/// Signed nanoseconds since the Unix epoch: a wall clock may be set before it.
fn wall_nanos(t: SystemTime) -> i128 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    }
}

/// Where [`WakeSignal`]s come from; one per engine, whatever the number of targets.
pub struct WakeSource {
    kind: Kind,
}

enum Kind {
    Detecting(Box<Detecting>),
    /// Signals sent by hand, for tests of their consumer.
    Injected(mpsc::UnboundedReceiver<WakeSignal>),
}

/// Events that make the detector read the clocks.
enum Trigger {
    #[cfg(target_os = "linux")]
    ClockChange(linux::ClockChange),
    Periodic {
        every: Duration,
        next: Instant,
    },
    /// A test's clock-change events, as the timerfd would report them.
    #[cfg(test)]
    Events(mpsc::UnboundedReceiver<()>),
}

struct Detecting {
    trigger: Trigger,
    clocks: Box<dyn Clocks>,
    detector: Detector,
    /// No clock-change event is read before this (see [`COALESCE`]).
    quiet_until: Option<Instant>,
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
            Ok(c) => return WakeSource::detecting(Trigger::ClockChange(c), SystemClocks::new()),
            Err(e) => tracing::warn!(
                error = %e,
                "no clock-change timer; checking for a resume from sleep every {} s instead",
                WAKE_CHECK_INTERVAL.as_secs()
            ),
        }
        WakeSource::periodic(WAKE_CHECK_INTERVAL)
    }

    /// A check every `every` comparing the system's clocks.
    pub fn periodic(every: Duration) -> WakeSource {
        WakeSource::periodic_with(every, SystemClocks::new())
    }

    /// A check every `every` comparing `clocks`.
    pub fn periodic_with(every: Duration, clocks: impl Clocks) -> WakeSource {
        let trigger = Trigger::Periodic {
            every,
            next: Instant::now() + every,
        };
        WakeSource::detecting(trigger, clocks)
    }

    /// Clock-change events sent by hand, read against `clocks`, for tests of the detector.
    #[cfg(test)]
    pub(crate) fn on_events(clocks: impl Clocks) -> (mpsc::UnboundedSender<()>, WakeSource) {
        let (tx, rx) = mpsc::unbounded_channel();
        (tx, WakeSource::detecting(Trigger::Events(rx), clocks))
    }

    fn detecting(trigger: Trigger, clocks: impl Clocks) -> WakeSource {
        let detector = Detector::new(clocks.read());
        WakeSource {
            kind: Kind::Detecting(Box::new(Detecting {
                trigger,
                clocks: Box::new(clocks),
                detector,
                quiet_until: None,
            })),
        }
    }

    /// Signals sent by hand, passed on as sent, for tests of their consumer. The source never
    /// yields once the sender is dropped.
    pub fn injected() -> (mpsc::UnboundedSender<WakeSignal>, WakeSource) {
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
            Kind::Detecting(d) => match d.trigger {
                #[cfg(target_os = "linux")]
                Trigger::ClockChange(_) => "clock-change timerfd",
                Trigger::Periodic { .. } => "periodic check",
                #[cfg(test)]
                Trigger::Events(_) => "injected clock events",
            },
            Kind::Injected(_) => "injected",
        }
    }

    /// Waits for the next signal. Cancel-safe: dropping the future loses no event. A timerfd
    /// that fails unexpectedly is replaced by the periodic check, so this never returns early.
    pub async fn next(&mut self) -> WakeSignal {
        match &mut self.kind {
            Kind::Detecting(d) => d.next().await,
            Kind::Injected(rx) => match rx.recv().await {
                Some(signal) => signal,
                None => std::future::pending().await,
            },
        }
    }
}

impl Detecting {
    async fn next(&mut self) -> WakeSignal {
        loop {
            let now = self.clocks.read();
            if let Some(signal) = self.detector.poll(now) {
                return signal;
            }
            let held = self.detector.due_in(now);
            let cause = tokio::select! {
                biased;
                _ = sleep_or_never(held) => continue,
                cause = self.trigger.next(self.quiet_until) => cause,
            };
            match cause {
                Ok(cause) => {
                    if cause == Cause::ClockChanged {
                        self.quiet_until = Some(Instant::now() + COALESCE);
                    }
                    if let Some(signal) = self.detector.observe(self.clocks.read()) {
                        return signal;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the clock-change timer failed; checking periodically");
                    self.trigger = Trigger::Periodic {
                        every: WAKE_CHECK_INTERVAL,
                        next: Instant::now() + WAKE_CHECK_INTERVAL,
                    };
                }
            }
        }
    }
}

async fn sleep_or_never(d: Option<Duration>) {
    match d {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

impl Trigger {
    /// The next event. Cancel-safe: a tick's deadline moves only once it has passed, and
    /// clock-change events wait in the kernel (or the channel) until read.
    async fn next(&mut self, quiet_until: Option<Instant>) -> std::io::Result<Cause> {
        if let Some(until) = quiet_until {
            tokio::time::sleep_until(until).await;
        }
        match self {
            #[cfg(target_os = "linux")]
            Trigger::ClockChange(c) => c.next().await.map(|()| Cause::ClockChanged),
            Trigger::Periodic { every, next } => {
                tokio::time::sleep_until(*next).await;
                *next = Instant::now() + *every;
                Ok(Cause::Tick)
            }
            #[cfg(test)]
            Trigger::Events(rx) => {
                match rx.recv().await {
                    Some(()) => {
                        // Like the timerfd: everything since the last read is one event.
                        while rx.try_recv().is_ok() {}
                        Ok(Cause::ClockChanged)
                    }
                    None => std::future::pending().await,
                }
            }
        }
    }
}

/// The system's clocks. On Linux, `CLOCK_MONOTONIC` stops while suspended and `CLOCK_BOOTTIME`
/// does not; on Windows the unbiased interrupt time and the tick count do the same; elsewhere
/// there is no boot clock and the monotonic one is `std`'s.
#[derive(Debug)]
pub struct SystemClocks {
    #[cfg(not(target_os = "linux"))]
    start: std::time::Instant,
}

impl SystemClocks {
    pub fn new() -> SystemClocks {
        SystemClocks {
            #[cfg(not(target_os = "linux"))]
            start: std::time::Instant::now(),
        }
    }
}

impl Default for SystemClocks {
    fn default() -> Self {
        Self::new()
    }
}

impl Clocks for SystemClocks {
    #[cfg(target_os = "linux")]
    fn read(&self) -> Reading {
        use rustix::time::{ClockId, clock_gettime};
        let read = |id| {
            let t = clock_gettime(id);
            Duration::new(
                u64::try_from(t.tv_sec).unwrap_or_default(),
                u32::try_from(t.tv_nsec).unwrap_or_default(),
            )
        };
        Reading {
            monotonic: read(ClockId::Monotonic),
            boottime: Some(read(ClockId::Boottime)),
            wall: SystemTime::now(),
        }
    }

    /// Windows' two boot-time counters play the parts of Linux's clocks: the unbiased interrupt
    /// time leaves out the time spent suspended, `GetTickCount64` does not (both count from
    /// boot). `std`'s `Instant` keeps counting through sleep there, so it cannot tell.
    #[cfg(windows)]
    #[allow(unsafe_code)] // two FFI reads of counters, no pointers kept
    fn read(&self) -> Reading {
        use windows_sys::Win32::System::SystemInformation::GetTickCount64;
        use windows_sys::Win32::System::WindowsProgramming::QueryUnbiasedInterruptTime;
        let mut unbiased: u64 = 0;
        // SAFETY: both calls only write the counter into the local they are given.
        let (ok, ticks_ms) =
            unsafe { (QueryUnbiasedInterruptTime(&mut unbiased), GetTickCount64()) };
        if ok == 0 {
            return Reading {
                monotonic: self.start.elapsed(),
                boottime: None,
                wall: SystemTime::now(),
            };
        }
        Reading {
            // 100-nanosecond units.
            monotonic: Duration::from_nanos(unbiased.saturating_mul(100)),
            boottime: Some(Duration::from_millis(ticks_ms)),
            wall: SystemTime::now(),
        }
    }

    #[cfg(not(any(target_os = "linux", windows)))]
    fn read(&self) -> Reading {
        Reading {
            monotonic: self.start.elapsed(),
            boottime: None,
            wall: SystemTime::now(),
        }
    }
}

#[cfg(test)]
mod tests;
