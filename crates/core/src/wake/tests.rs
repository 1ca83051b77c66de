//! The resume detector: its decisions over scripted clocks (pure), the same decisions through a
//! [`WakeSource`] in paused time (clock steps every 100 ms, a 30 s suspend, repeated resumes),
//! the periodic fallback, and the Linux timerfd's quiet state.

use std::sync::{Arc, Mutex};

use super::*;

/// Where every scripted clock starts: a machine up for a while, a wall clock in 2026.
const UP: Duration = Duration::from_secs(1_000);
const WALL_ORIGIN: Duration = Duration::from_secs(1_780_000_000);

/// Clocks driven by hand (pure tests) or by the paused Tokio clock (source tests), plus what a
/// test injects: a suspend moves the boot and wall clocks but not the monotonic one; a clock set
/// moves only the wall clock.
#[derive(Clone)]
struct FakeClocks {
    inner: Arc<Mutex<FakeState>>,
}

struct FakeState {
    /// `Some`: monotonic time follows the paused Tokio clock from this instant.
    tokio_start: Option<Instant>,
    /// Awake time moved by hand.
    awake: Duration,
    suspended: Duration,
    stepped_ns: i128,
    has_boot_clock: bool,
    reads: usize,
}

impl FakeClocks {
    fn new(has_boot_clock: bool, follow_tokio: bool) -> FakeClocks {
        FakeClocks {
            inner: Arc::new(Mutex::new(FakeState {
                tokio_start: follow_tokio.then(Instant::now),
                awake: Duration::ZERO,
                suspended: Duration::ZERO,
                stepped_ns: 0,
                has_boot_clock,
                reads: 0,
            })),
        }
    }
    /// Linux-like clocks moved by hand.
    fn linux() -> FakeClocks {
        FakeClocks::new(true, false)
    }
    fn run(&self, d: Duration) {
        self.inner.lock().unwrap().awake += d;
    }
    fn suspend(&self, d: Duration) {
        self.inner.lock().unwrap().suspended += d;
    }
    fn step_ms(&self, ms: i64) {
        self.inner.lock().unwrap().stepped_ns += i128::from(ms) * 1_000_000;
    }
    fn reads(&self) -> usize {
        self.inner.lock().unwrap().reads
    }
    fn now(&self) -> Reading {
        self.read()
    }
}

impl Clocks for FakeClocks {
    fn read(&self) -> Reading {
        let mut s = self.inner.lock().unwrap();
        s.reads += 1;
        let ran = s.tokio_start.map(|t| t.elapsed()).unwrap_or_default() + s.awake;
        let monotonic = UP + ran;
        let wall_ns = (WALL_ORIGIN + ran + s.suspended).as_nanos() as i128 + s.stepped_ns;
        Reading {
            monotonic,
            boottime: s.has_boot_clock.then_some(monotonic + s.suspended),
            wall: SystemTime::UNIX_EPOCH + Duration::from_nanos(wall_ns as u64),
        }
    }
}

/// What a run of signals held.
#[derive(Debug, Default, PartialEq, Eq)]
struct Tally {
    reconnects: usize,
    delta_runs: usize,
}

impl Tally {
    fn add(&mut self, signal: Option<WakeSignal>) {
        match signal {
            Some(WakeSignal::Resumed { .. }) => self.reconnects += 1,
            Some(WakeSignal::ClockStepped) => self.delta_runs += 1,
            None => {}
        }
    }
}

const MS_100: Duration = Duration::from_millis(100);

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

#[test]
fn clock_steps_every_100_ms_for_a_minute_reconnect_nothing_and_run_delta_once() {
    let clocks = FakeClocks::linux();
    let mut d = Detector::new(clocks.now());
    let mut tally = Tally::default();
    for i in 0..600 {
        clocks.run(MS_100);
        // Time sync stepping back and forth, with a large set now and then.
        clocks.step_ms(match i % 100 {
            0 => 3_600_000,
            50 => -3_600_000,
            _ if i % 2 == 0 => 2_500,
            _ => -2_500,
        });
        tally.add(d.observe(clocks.now()));
        tally.add(d.poll(clocks.now()));
    }
    assert_eq!(
        tally,
        Tally {
            reconnects: 0,
            delta_runs: 1
        }
    );
    // The minute's remaining sets are held, not lost: one more run once the minute is over.
    assert_eq!(d.due_in(clocks.now()), Some(Duration::from_millis(100)));
    clocks.run(MS_100);
    assert_eq!(d.poll(clocks.now()), Some(WakeSignal::ClockStepped));
    assert_eq!(d.due_in(clocks.now()), None);
}

#[test]
fn time_sync_corrections_under_two_seconds_need_nothing() {
    let clocks = FakeClocks::linux();
    let mut d = Detector::new(clocks.now());
    let mut tally = Tally::default();
    for i in 0..600 {
        clocks.run(MS_100);
        clocks.step_ms(if i % 2 == 0 { 150 } else { -100 });
        tally.add(d.observe(clocks.now()));
        tally.add(d.poll(clocks.now()));
    }
    assert_eq!(tally, Tally::default());
    assert_eq!(d.due_in(clocks.now()), None);
}

#[test]
fn a_30_second_suspend_reconnects_exactly_once() {
    let clocks = FakeClocks::linux();
    let mut d = Detector::new(clocks.now());
    clocks.run(Duration::from_secs(5));
    clocks.suspend(Duration::from_secs(30));
    assert_eq!(
        d.observe(clocks.now()),
        Some(WakeSignal::Resumed { slept_secs: 30 })
    );
    // The kernel may report the same resume twice.
    let mut tally = Tally::default();
    tally.add(d.observe(clocks.now()));
    for _ in 0..100 {
        clocks.run(Duration::from_secs(1));
        tally.add(d.poll(clocks.now()));
    }
    assert_eq!(tally, Tally::default(), "one suspend, one reconnect");
}

#[test]
fn repeated_resumes_reconnect_at_most_every_30_seconds_and_the_last_is_not_lost() {
    let clocks = FakeClocks::linux();
    let mut d = Detector::new(clocks.now());
    let mut at = Vec::new();
    let line = |c: &FakeClocks| c.now().boottime.unwrap();
    // A lid opened and closed again: 4 s awake, 2 s asleep, for two minutes.
    for _ in 0..20 {
        for _ in 0..4 {
            clocks.run(Duration::from_secs(1));
            if d.poll(clocks.now()).is_some() {
                at.push(line(&clocks));
            }
        }
        clocks.suspend(Duration::from_secs(2));
        if d.observe(clocks.now()).is_some() {
            at.push(line(&clocks));
        }
    }
    let gaps: Vec<Duration> = at.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.iter().all(|g| *g >= RECONNECT_GAP), "{gaps:?}");
    assert_eq!(
        at.len(),
        4,
        "120 s of resumes, one reconnect per 30 s: {at:?}"
    );
    // The last resumes are held; their reconnect comes when the gap is over, with their sleep.
    let wait = d.due_in(clocks.now()).expect("a reconnect is held");
    clocks.run(wait);
    assert!(matches!(
        d.poll(clocks.now()),
        Some(WakeSignal::Resumed { slept_secs }) if slept_secs >= 2
    ));
}

#[test]
fn without_a_boot_clock_ticks_tell_sleeps_from_small_sets() {
    let clocks = FakeClocks::new(false, false);
    let mut d = Detector::new(clocks.now());
    let tick = |c: &FakeClocks, d: &mut Detector| {
        c.run(WAKE_CHECK_INTERVAL);
        d.observe(c.now())
    };
    assert_eq!(tick(&clocks, &mut d), None, "nothing happened");
    clocks.step_ms(800);
    assert_eq!(tick(&clocks, &mut d), None, "a small correction");
    clocks.step_ms(-5_000);
    assert_eq!(tick(&clocks, &mut d), Some(WakeSignal::ClockStepped));
    clocks.suspend(Duration::from_secs(30));
    assert_eq!(
        tick(&clocks, &mut d),
        Some(WakeSignal::Resumed { slept_secs: 30 })
    );
    // The sleep counts towards the limits: the next reconnect needs no awake wait of 30 s.
    clocks.suspend(Duration::from_secs(30));
    assert_eq!(
        tick(&clocks, &mut d),
        Some(WakeSignal::Resumed { slept_secs: 30 })
    );
}

/// Collects what `source` yields, with when (paused time since the start) it came.
fn collect(mut source: WakeSource) -> Arc<Mutex<Vec<(Duration, WakeSignal)>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let out = seen.clone();
    let start = Instant::now();
    tokio::spawn(async move {
        loop {
            let signal = source.next().await;
            out.lock().unwrap().push((start.elapsed(), signal));
        }
    });
    seen
}

fn tally(seen: &Mutex<Vec<(Duration, WakeSignal)>>) -> Tally {
    let mut t = Tally::default();
    for (_, s) in seen.lock().unwrap().iter() {
        t.add(Some(*s));
    }
    t
}

#[tokio::test(start_paused = true)]
async fn a_source_under_a_step_storm_stays_put_then_sees_one_suspend() {
    let clocks = FakeClocks::new(true, true);
    let (events, source) = WakeSource::on_events(clocks.clone());
    assert_eq!(source.name(), "injected clock events");
    let seen = collect(source);
    // A clock-change event every 100 ms for a minute, as the timerfd reports each step; the
    // steps are large (3 s forward each), so every look sees a set.
    for _ in 0..600 {
        tokio::time::sleep(MS_100).await;
        clocks.step_ms(3_000);
        events.send(()).unwrap();
    }
    // And a few quiet seconds, for a run held back during the minute.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let storm = tally(&seen);
    let looks = clocks.reads();
    eprintln!("a minute of steps every 100 ms: {storm:?}, {looks} clock reads");
    assert_eq!(storm.reconnects, 0);
    assert!((1..=2).contains(&storm.delta_runs), "{storm:?}");
    // Events within a second are read as one: about one look a second, not ten (600 events,
    // two reads a look).
    assert!(looks < 200, "{looks} clock reads");

    // A 30 s suspend, then a quiet while.
    clocks.suspend(Duration::from_secs(30));
    events.send(()).unwrap();
    tokio::time::sleep(Duration::from_secs(300)).await;
    let after = tally(&seen);
    let all = seen.lock().unwrap().clone();
    eprintln!("then a 30 s suspend and 5 quiet minutes: {after:?} ({all:?})");
    assert_eq!(after.reconnects, 1, "{all:?}");
    assert_eq!(
        after.delta_runs, storm.delta_runs,
        "the reconnect runs delta"
    );
    let (when, signal) = *all.last().unwrap();
    assert_eq!(signal, WakeSignal::Resumed { slept_secs: 30 });
    assert!(
        when < Duration::from_secs(67),
        "seen within a second: {when:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_periodic_fallback_ignores_a_step_storm_and_sees_one_suspend() {
    let clocks = FakeClocks::new(false, true);
    let seen = collect(WakeSource::periodic_with(
        WAKE_CHECK_INTERVAL,
        clocks.clone(),
    ));
    for i in 0..600 {
        tokio::time::sleep(MS_100).await;
        clocks.step_ms(if i % 2 == 0 { 300 } else { -300 });
    }
    assert_eq!(tally(&seen), Tally::default());
    clocks.suspend(Duration::from_secs(30));
    tokio::time::sleep(Duration::from_secs(300)).await;
    assert_eq!(
        tally(&seen),
        Tally {
            reconnects: 1,
            delta_runs: 0
        }
    );
    // A 5 s set forward shows as a set (one delta run), not as a sleep. Set between two ticks.
    tokio::time::sleep(Duration::from_secs(7)).await;
    clocks.step_ms(5_000);
    tokio::time::sleep(WAKE_CHECK_INTERVAL).await;
    assert_eq!(
        tally(&seen),
        Tally {
            reconnects: 1,
            delta_runs: 1
        }
    );
}

#[tokio::test(start_paused = true)]
async fn the_periodic_check_stays_quiet_while_both_clocks_agree() {
    let mut source = WakeSource::periodic(Duration::from_secs(15));
    // Paused time fires the ticks without moving the real clocks: no tick may look like a
    // sleep or a clock set.
    let quiet = tokio::time::timeout(Duration::from_secs(120), source.next()).await;
    assert!(quiet.is_err(), "{quiet:?}");
}

#[tokio::test]
async fn injected_wakes_arrive_in_order_and_a_dropped_sender_goes_quiet() {
    let (tx, mut source) = WakeSource::injected();
    assert_eq!(source.name(), "injected");
    tx.send(WakeSignal::ClockStepped).unwrap();
    tx.send(WakeSignal::Resumed { slept_secs: 600 }).unwrap();
    assert_eq!(source.next().await, WakeSignal::ClockStepped);
    assert_eq!(source.next().await, WakeSignal::Resumed { slept_secs: 600 });
    drop(tx);
    let quiet = tokio::time::timeout(Duration::from_millis(50), source.next()).await;
    assert!(quiet.is_err());
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn on_linux_the_clock_change_timer_arms_and_stays_silent() {
    let source = WakeSource::system();
    assert_eq!(source.name(), "clock-change timerfd");
    let Kind::Detecting(d) = &source.kind else {
        unreachable!()
    };
    let Trigger::ClockChange(c) = &d.trigger else {
        unreachable!()
    };
    // Armed for the end of time: nothing to read unless the clock is set meanwhile.
    assert!(!c.pending());
    // The boot clock is there, from the monotonic clock's origin.
    let r = SystemClocks::new().read();
    assert!(r.boottime.is_some_and(|b| b >= r.monotonic), "{r:?}");
    let mut source = source;
    let quiet = tokio::time::timeout(Duration::from_millis(100), source.next()).await;
    assert!(quiet.is_err(), "{quiet:?}");
}
