//! A watched target's effective status, as hosts see it: a delta-side overlay (resyncing,
//! throttled, error) over the push mode (connecting, live, polling, ...).
//!
//! The board emits a Status event only when the effective status changes, so hosts never see
//! the same status twice in a row. It must never block: the lock is held only to compare and
//! copy.

use std::sync::Mutex;

use tokio::sync::broadcast;

use crate::config::TargetConfig;
use crate::model::{EngineEvent, TargetInfo, TargetStatus};

/// One target's status board: a delta-side overlay (resyncing, throttled, error) over the push
/// mode (connecting, live, polling, ...). Emits a Status event whenever the effective one changes.
pub(super) struct StatusBoard {
    info: Mutex<(TargetInfo, TargetStatus, Option<TargetStatus>)>,
    events: broadcast::Sender<EngineEvent>,
}

impl StatusBoard {
    pub(super) fn new(config: &TargetConfig, events: broadcast::Sender<EngineEvent>) -> Self {
        let info = TargetInfo {
            id: config.id.clone(),
            account: config.account.clone(),
            label: config.label.clone(),
            spec: config.spec.clone(),
            status: TargetStatus::Connecting,
        };
        Self {
            info: Mutex::new((info, TargetStatus::Connecting, None)),
            events,
        }
    }

    fn update(&self, f: impl FnOnce(&mut TargetStatus, &mut Option<TargetStatus>)) {
        let snapshot = {
            let mut guard = self.info.lock().unwrap_or_else(|p| p.into_inner());
            let (info, mode, overlay) = &mut *guard;
            f(mode, overlay);
            let effective = overlay.clone().unwrap_or_else(|| mode.clone());
            if info.status == effective {
                return;
            }
            info.status = effective;
            info.clone()
        };
        let _ = self.events.send(EngineEvent::Status { target: snapshot });
    }

    pub(super) fn set_mode(&self, status: TargetStatus) {
        self.update(|mode, _| *mode = status);
    }

    pub(super) fn set_overlay(&self, status: Option<TargetStatus>) {
        self.update(|_, overlay| *overlay = status);
    }

    pub(super) fn info(&self) -> TargetInfo {
        self.info
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .0
            .clone()
    }
}
