//! The Linux clock-change event: a `CLOCK_REALTIME` timerfd armed for the end of time with
//! `TFD_TIMER_CANCEL_ON_SET`, which the kernel cancels on every clock set and every timed resume
//! (see the parent module for why that costs nothing while idle). It only reports that the
//! offset changed; it must never decide what the change means, which is the detector's job.

use std::io;
use std::os::fd::OwnedFd;

use rustix::time::{
    Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags, Timespec, timerfd_create,
    timerfd_settime,
};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

/// A `CLOCK_REALTIME` timerfd that never expires but is cancelled by every clock change.
/// Changes while nobody reads pile up into one: a read after a quiet spell sees them all.
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
    pub(super) async fn next(&mut self) -> io::Result<()> {
        loop {
            let mut ready = self.fd.readable().await?;
            let mut buf = [0u8; 8];
            match ready
                .try_io(|fd| rustix::io::read(fd.get_ref(), &mut buf).map_err(io::Error::from))
            {
                // Spurious readiness: wait again.
                Err(_would_block) => continue,
                Ok(Err(e))
                    if e.raw_os_error() == Some(rustix::io::Errno::CANCELED.raw_os_error()) => {}
                // Expired: the clock was set past the end of time. Same meaning.
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return Err(e),
            }
            arm(self.fd.get_ref())?;
            return Ok(());
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
