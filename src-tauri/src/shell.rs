//! The shell: the desktop app's own state, and every action the window, the tray and the
//! toasts can ask for.
//!
//! [`Shell`] holds the pause deadline, the sign-in prompt in progress, the latest changes for
//! the tray menu and the toast policy's rate-limit memory, plus the cancellation token and task
//! tracker that Quit uses. It also counts the changes that deserved the user's attention since
//! the list was last seen (the unread count the tray shows), and knows when the next digest is
//! due. Its actions (signing in and out, targets, preferences, pausing, muting, opening a
//! change, Quit) live in its `actions` module, the gathering of a digest in `digest`; the IPC layer, the tray menu and the
//! toasts' buttons are all thin callers of them, and the shell reaches the desktop back only
//! through its [`Surface`]. So the dependencies point one way: everything depends on the
//! shell, the shell on none of its callers. It must never block: every lock is held for a few
//! field updates only, and never across an `.await`.

mod actions;
mod digest;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use chrono::{DateTime, Days, Duration, Local, NaiveTime, TimeZone, Utc};
use drivewatch_core::i18n::Catalog;
use drivewatch_core::model::{Change, ChangeBatch, DeviceCodePrompt, Mute, SignInEvent};
use drivewatch_core::toast_policy::{Toast, ToastContext, ToastPolicy, noteworthy};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::engine::EngineLink;
use crate::error::ShellError;
use crate::ipc::{AppSnapshot, FocusDigest, PauseFor};

pub use actions::QUIT_GRACE;

/// How many changes the tray menu lists.
pub const TRAY_CHANGES: usize = 5;
/// "Pause until tomorrow" ends at this local time on the next day.
const TOMORROW_AT: NaiveTime = match NaiveTime::from_hms_opt(8, 0, 0) {
    Some(t) => t,
    None => NaiveTime::MIN,
};

/// What the shell tells the desktop (window, tray, OS) when its state changes.
///
/// Implemented over the app handle in the `surface` module; kept as a trait so the shell is not
/// generic over the Tauri runtime and tests can watch what the shell announces.
pub trait Surface: Send + Sync + 'static {
    /// The snapshot changed: tell the window and redraw the tray.
    fn snapshot_changed(&self, snapshot: &AppSnapshot);
    /// Only the tray shows something new (latest changes, a status).
    fn tray_changed(&self);
    fn sign_in_progress(&self, event: &SignInEvent);
    fn set_autostart(&self, enabled: bool) -> Result<(), ShellError>;
    /// Shows, restores and focuses the main window, building it again if it was closed.
    fn show_window(&self);
    /// Shows the window and points its list at this change.
    fn show_change(&self, seq: i64);
    /// Shows the window on the changes a digest toast sums up.
    fn show_digest(&self, focus: &FocusDigest);
    /// Ends the process with this exit code; Quit calls it once everything has stopped.
    fn exit(&self, code: i32);
}

/// Shared state of the running desktop app; clones share everything.
#[derive(Clone)]
pub struct Shell {
    engine: Arc<dyn EngineLink>,
    demo: bool,
    /// Short critical sections only; never held across an await.
    state: Arc<Mutex<ShellState>>,
    /// Set once the app is set up; before that, announcements go nowhere.
    surface: Arc<OnceLock<Box<dyn Surface>>>,
    /// Cancelled by Quit: every task the shell spawns selects on it.
    pub cancel: CancellationToken,
    /// Every task the shell spawns, awaited (bounded) on Quit.
    pub tasks: TaskTracker,
    /// Cancelled (used as a one-shot latch) once the desktop listens; see [`Self::ready`].
    attached: CancellationToken,
    /// Wakes the relay to read its deadlines again (digest time, mute expiry) after the
    /// preferences changed; see [`Self::timers_changed`].
    timers: Arc<Notify>,
}

#[derive(Default)]
struct ShellState {
    paused_until: Option<DateTime<Utc>>,
    sign_in: Option<DeviceCodePrompt>,
    /// Newest first, at most [`TRAY_CHANGES`].
    latest: VecDeque<Change>,
    policy: ToastPolicy,
    /// See [`AppSnapshot::unread`].
    unread: u32,
}

impl Shell {
    pub fn new(engine: Arc<dyn EngineLink>, demo: bool) -> Self {
        Self {
            engine,
            demo,
            state: Arc::new(Mutex::new(ShellState::default())),
            surface: Arc::new(OnceLock::new()),
            cancel: CancellationToken::new(),
            tasks: TaskTracker::new(),
            attached: CancellationToken::new(),
            timers: Arc::new(Notify::new()),
        }
    }

    /// Something the relay's timers depend on (rules, digest time, mutes) changed: it reads
    /// them again. A wake-up asked for while it is busy is kept, not lost.
    pub fn timers_changed(&self) {
        self.timers.notify_one();
    }

    /// Completes once [`Self::timers_changed`] was called (since the last completion).
    pub fn timers(&self) -> Arc<Notify> {
        self.timers.clone()
    }

    /// Spawns a task on Tauri's runtime, tracked for Quit. Works from any thread (menu
    /// callbacks run outside the runtime). The task must itself watch [`Self::cancel`].
    pub fn spawn<F>(&self, task: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        tauri::async_runtime::spawn(self.tasks.track_future(task));
    }

    /// Connects the shell to the desktop; later calls are ignored.
    pub fn attach(&self, surface: Box<dyn Surface>) {
        if self.surface.set(surface).is_err() {
            tracing::warn!("the shell was already attached to a desktop");
        }
        self.attached.cancel();
    }

    /// Completes (`.cancelled().await`) once the window, tray and relay listen.
    pub fn ready(&self) -> CancellationToken {
        self.attached.clone()
    }

    /// Tells the window and tray that the snapshot changed; returns the new snapshot.
    pub fn announce(&self) -> AppSnapshot {
        let snapshot = self.snapshot();
        if let Some(surface) = self.surface.get() {
            surface.snapshot_changed(&snapshot);
        }
        snapshot
    }

    pub fn tray_changed(&self) {
        if let Some(surface) = self.surface() {
            surface.tray_changed();
        }
    }

    fn sign_in_progress(&self, event: &SignInEvent) {
        if let Some(surface) = self.surface() {
            surface.sign_in_progress(event);
        }
    }

    /// The desktop, once attached; before that, announcements and requests go nowhere.
    fn surface(&self) -> Option<&dyn Surface> {
        self.surface.get().map(|surface| &**surface)
    }

    pub fn engine(&self) -> &Arc<dyn EngineLink> {
        &self.engine
    }

    /// The words of toasts and the tray, in the language Settings chose: read at every use, so
    /// a change of it shows at once.
    pub fn words(&self) -> &'static Catalog {
        Catalog::for_language(self.engine.preferences().language)
    }

    fn state(&self) -> MutexGuard<'_, ShellState> {
        // A panic while holding the lock leaves plain data behind; keep serving it.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn snapshot(&self) -> AppSnapshot {
        let state = self.state();
        AppSnapshot {
            accounts: self.engine.accounts(),
            targets: self.engine.targets(),
            preferences: self.engine.preferences(),
            paused_until: state.paused_until.filter(|until| *until > Utc::now()),
            demo: self.demo,
            client_id_configured: self.engine.client_id_configured(),
            sign_in: state.sign_in.clone(),
            unread: state.unread,
        }
    }

    /// The list was seen: the unread count starts again from zero; returns the new snapshot.
    /// The window calls it whenever its list is in view, so a count already at zero announces
    /// nothing.
    pub fn mark_seen(&self) -> AppSnapshot {
        let was = std::mem::take(&mut self.state().unread);
        if was == 0 {
            return self.snapshot();
        }
        self.announce()
    }

    /// See [`AppSnapshot::unread`].
    pub fn unread(&self) -> u32 {
        self.state().unread
    }

    /// The mutes in force now (timed ones not yet over), for the tray's Muted menu.
    pub fn active_mutes(&self) -> Vec<Mute> {
        let now = Utc::now();
        let mut mutes = self.engine.preferences().mutes;
        mutes.retain(|m| m.until.is_none_or(|until| until > now));
        mutes
    }

    /// When the next timed mute ends (the tray then drops it); `None` while none is timed.
    pub fn next_mute_expiry(&self) -> Option<DateTime<Utc>> {
        self.active_mutes().iter().filter_map(|m| m.until).min()
    }

    pub fn paused_until(&self) -> Option<DateTime<Utc>> {
        self.state()
            .paused_until
            .filter(|until| *until > Utc::now())
    }

    /// Pauses toasts (or resumes them) from now, as the window and the tray menu offer, and
    /// tells both; returns the new snapshot.
    pub fn set_pause(&self, pause: PauseFor) -> AppSnapshot {
        self.state().paused_until = pause_deadline(pause, Local::now());
        self.announce()
    }

    fn set_sign_in(&self, prompt: Option<DeviceCodePrompt>) {
        self.state().sign_in = prompt;
    }

    /// The sign-in prompt in progress, if any.
    pub fn sign_in(&self) -> Option<DeviceCodePrompt> {
        self.state().sign_in.clone()
    }

    /// Records a batch for the tray, counts what deserves attention in it as unread, and asks
    /// the toast policy what to show for it now.
    pub fn take_batch(&self, batch: &ChangeBatch) -> Vec<Toast> {
        let preferences = self.engine.preferences();
        let now = Local::now();
        let mut state = self.state();
        for change in &batch.changes {
            state.latest.push_front(change.clone());
        }
        state.latest.truncate(TRAY_CHANGES);
        let ctx = ToastContext {
            preferences: &preferences,
            paused_until: state.paused_until,
            now: now.with_timezone(&Utc),
            local_time: now.time(),
        };
        // Counted whether or not a pause, quiet hours or a digest holds the toast back.
        let added = u32::try_from(noteworthy(batch, &ctx)).unwrap_or(u32::MAX);
        state.unread = state.unread.saturating_add(added);
        state.policy.decide(batch, &ctx)
    }

    /// What the toast policy held for later (redraws of toasts on screen whose turn came, a
    /// summary of changes the cap held back); call at [`Self::next_toast_flush`].
    pub fn flush_toasts(&self) -> Vec<Toast> {
        let preferences = self.engine.preferences();
        let now = Local::now();
        let mut state = self.state();
        let ctx = ToastContext {
            preferences: &preferences,
            paused_until: state.paused_until,
            now: now.with_timezone(&Utc),
            local_time: now.time(),
        };
        state.policy.flush(&ctx)
    }

    /// When the toast policy next has something for [`Self::flush_toasts`]; `None` while
    /// nothing waits, so the relay sets no timer and an idle app is not woken.
    pub fn next_toast_flush(&self) -> Option<DateTime<Utc>> {
        self.state().policy.next_flush_at()
    }

    /// The latest changes, newest first, for the tray menu.
    pub fn latest(&self) -> Vec<Change> {
        self.state().latest.iter().cloned().collect()
    }
}

/// When a pause chosen now ends: in an hour, tomorrow morning, or not at all (resume).
pub fn pause_deadline<Tz: TimeZone>(pause: PauseFor, now: DateTime<Tz>) -> Option<DateTime<Utc>> {
    match pause {
        PauseFor::OneHour => Some(now.with_timezone(&Utc) + Duration::hours(1)),
        PauseFor::UntilTomorrow => {
            let tomorrow = now.date_naive().checked_add_days(Days::new(1))?;
            let local = tomorrow.and_time(TOMORROW_AT);
            // A DST gap at 08:00 is not a reason to pause forever: fall back to 24 hours.
            Some(
                now.timezone()
                    .from_local_datetime(&local)
                    .earliest()
                    .map(|t| t.with_timezone(&Utc))
                    .unwrap_or_else(|| now.with_timezone(&Utc) + Duration::hours(24)),
            )
        }
        PauseFor::Resume => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;

    #[test]
    fn pauses_end_in_an_hour_or_tomorrow_morning() {
        let tz = FixedOffset::east_opt(3 * 3600).expect("valid offset");
        let now = tz
            .with_ymd_and_hms(2026, 3, 2, 22, 15, 0)
            .single()
            .expect("valid time");
        assert_eq!(
            pause_deadline(PauseFor::OneHour, now),
            Some(now.with_timezone(&Utc) + Duration::hours(1))
        );
        let tomorrow = tz
            .with_ymd_and_hms(2026, 3, 3, 8, 0, 0)
            .single()
            .expect("valid time");
        assert_eq!(
            pause_deadline(PauseFor::UntilTomorrow, now),
            Some(tomorrow.with_timezone(&Utc))
        );
        assert_eq!(pause_deadline(PauseFor::Resume, now), None);
    }
}
