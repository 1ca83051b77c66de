//! [`EmulatorHandle`]'s methods: control of a running emulator from Rust (tests, demo mode),
//! each mirroring a route of the HTTP control API in `control`. They act as a named user or
//! switch a fault; they must never bypass the access checks a Graph request would meet when they
//! act as a user.

use std::time::Duration;

use crate::store::{self, ConflictBehavior};
use crate::{EmulatorError, EmulatorHandle, PushTiming, ResyncCode, ThrottleStatus, identity};

/// Control from Rust: every method mirrors one of the HTTP control API's (`/_emulator/...`).
impl EmulatorHandle {
    /// `http://127.0.0.1:PORT`: the identity platform's authority.
    pub fn authority_url(&self) -> String {
        self.shared.base.clone()
    }

    /// `http://127.0.0.1:PORT/v1.0`: Graph's base URL.
    pub fn graph_url(&self) -> String {
        self.shared.graph_url()
    }

    /// `http://127.0.0.1:PORT/devicelogin`
    pub fn verification_uri(&self) -> String {
        format!("{}/devicelogin", self.shared.base)
    }

    /// The id of a user (given id or username).
    pub fn user_id(&self, user: &str) -> Result<String, EmulatorError> {
        Ok(self.shared.lock_world().user(user)?.id.clone())
    }

    /// The user's own OneDrive.
    pub fn drive_of(&self, user: &str) -> Result<String, EmulatorError> {
        let w = self.shared.lock_world();
        let id = w.user(user)?.id.clone();
        w.own_drive(&id)
            .map(|d| d.id.clone())
            .ok_or_else(|| EmulatorError::UnknownDrive(format!("OneDrive of {user}")))
    }

    /// The id of the live item at `path` (from the drive root; "" is the root).
    pub fn item_id(&self, drive: &str, path: &str) -> Result<String, EmulatorError> {
        self.shared
            .lock_world()
            .resolve_path(drive, path.trim_matches('/'))
    }

    /// Whether a live item exists at `path`.
    pub fn exists(&self, drive: &str, path: &str) -> bool {
        self.item_id(drive, path).is_ok()
    }

    /// The content of the file at `path`.
    pub fn content(&self, drive: &str, path: &str) -> Result<Vec<u8>, EmulatorError> {
        let w = self.shared.lock_world();
        let id = w.resolve_path(drive, path.trim_matches('/'))?;
        w.items[&id]
            .content
            .clone()
            .ok_or(EmulatorError::InvalidOperation("a folder has no content"))
    }

    /// Uploads (creates or replaces) a file as `user`; missing folders are created. Returns the id.
    pub fn upload(
        &self,
        user: &str,
        drive: &str,
        path: &str,
        content: impl Into<Vec<u8>>,
    ) -> Result<String, EmulatorError> {
        let content = content.into();
        self.shared.mutate(|w| {
            let actor = w.user(user)?.id.clone();
            let drive = w.drive(drive)?.id.clone();
            w.accessible_drive(&actor, &drive)?;
            let (parent, name) = store::split_parent(path.trim_matches('/'));
            let parent = w.ensure_folders(&actor, &drive, parent)?;
            Ok(
                w.put_file(&actor, &parent, name, content, ConflictBehavior::Replace)?
                    .0,
            )
        })
    }

    /// Replaces the content of an existing file as `user`.
    pub fn edit(
        &self,
        user: &str,
        drive: &str,
        path: &str,
        content: impl Into<Vec<u8>>,
    ) -> Result<String, EmulatorError> {
        let content = content.into();
        self.shared.mutate(|w| {
            let actor = w.user(user)?.id.clone();
            let id = w.resolve_path(drive, path.trim_matches('/'))?;
            w.replace_content(&actor, &id, content)?;
            Ok(id)
        })
    }

    /// Creates a folder (and missing parents) as `user`.
    pub fn create_folder(
        &self,
        user: &str,
        drive: &str,
        path: &str,
    ) -> Result<String, EmulatorError> {
        self.shared.mutate(|w| {
            let actor = w.user(user)?.id.clone();
            let drive = w.drive(drive)?.id.clone();
            w.accessible_drive(&actor, &drive)?;
            w.ensure_folders(&actor, &drive, path.trim_matches('/'))
        })
    }

    /// Renames the item at `path` as `user`.
    pub fn rename(
        &self,
        user: &str,
        drive: &str,
        path: &str,
        new_name: &str,
    ) -> Result<String, EmulatorError> {
        self.shared.mutate(|w| {
            let actor = w.user(user)?.id.clone();
            let id = w.resolve_path(drive, path.trim_matches('/'))?;
            w.update(&actor, &id, Some(new_name), None)?;
            Ok(id)
        })
    }

    /// Moves the item at `path` into the folder at `new_parent` as `user`.
    pub fn move_item(
        &self,
        user: &str,
        drive: &str,
        path: &str,
        new_parent: &str,
    ) -> Result<String, EmulatorError> {
        self.shared.mutate(|w| {
            let actor = w.user(user)?.id.clone();
            let id = w.resolve_path(drive, path.trim_matches('/'))?;
            let parent = w.resolve_path(drive, new_parent.trim_matches('/'))?;
            w.update(&actor, &id, None, Some(&parent))?;
            Ok(id)
        })
    }

    /// Deletes the item at `path` as `user`.
    pub fn delete(&self, user: &str, drive: &str, path: &str) -> Result<String, EmulatorError> {
        self.shared.mutate(|w| {
            let actor = w.user(user)?.id.clone();
            let id = w.resolve_path(drive, path.trim_matches('/'))?;
            w.delete(&actor, &id)?;
            Ok(id)
        })
    }

    /// User codes of the pending device-code sign-ins.
    pub fn pending_user_codes(&self) -> Vec<String> {
        self.shared
            .lock_auth()
            .pending()
            .into_iter()
            .map(|(c, _, _)| c)
            .collect()
    }

    /// Approves a pending device code as `user` (as the verification page does).
    pub fn approve_device_code(&self, user_code: &str, user: &str) -> Result<(), EmulatorError> {
        identity::decide(&self.shared, user_code, Some(user))
    }

    /// Declines a pending device code.
    pub fn decline_device_code(&self, user_code: &str) -> Result<(), EmulatorError> {
        identity::decide(&self.shared, user_code, None)
    }

    /// Test convenience: an access and a refresh token for `user`, without the device flow,
    /// with scopes `Files.ReadWrite.All User.Read offline_access openid profile`.
    pub fn issue_tokens(&self, user: &str) -> Result<(String, String), EmulatorError> {
        self.issue_tokens_with_scopes(
            user,
            &[
                "Files.ReadWrite.All",
                "User.Read",
                "offline_access",
                "openid",
                "profile",
            ],
        )
    }

    /// Like [`EmulatorHandle::issue_tokens`] with chosen scopes.
    pub fn issue_tokens_with_scopes(
        &self,
        user: &str,
        scopes: &[&str],
    ) -> Result<(String, String), EmulatorError> {
        let id = self.user_id(user)?;
        let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_string()).collect();
        let lifetime = self.shared.config.access_token_lifetime;
        Ok(self
            .shared
            .lock_auth()
            .issue_for_test(&id, &scopes, lifetime))
    }

    /// Fault: resets every socket.io connection (clients see the transport drop).
    pub fn drop_all_sockets(&self) -> usize {
        self.shared.conns.drop_push()
    }

    /// Fault: stop (true) or resume (false) all traffic on socket.io connections: no pings are
    /// sent and no pongs are read, and the TCP connection stays open.
    pub fn stall_pings(&self, on: bool) {
        self.shared.conns.set_stalled(on);
    }

    /// Fault: answer the next `count` Graph requests with 429 or 503 and `Retry-After`.
    pub fn throttle_next(&self, count: u32, status: ThrottleStatus, retry_after: Duration) {
        self.shared
            .faults
            .throttle(count, status, retry_after.as_secs());
    }

    /// Fault: answer the next `count` Graph requests with 500 `generalException`.
    pub fn fail_next(&self, count: u32) {
        self.shared.faults.fail_next(count);
    }

    /// Fault: delay every Graph request by this much (zero clears).
    pub fn set_latency(&self, latency: Duration) {
        self.shared.faults.set_latency(latency);
    }

    /// Fault: every notificationUrl expires now; connected sockets are disconnected.
    pub fn expire_notification_urls(&self) {
        self.shared.push.expire_all();
    }

    /// Fault: every delta token (of one drive, or all) answers 410 with `code` from now on.
    pub fn invalidate_delta_tokens(
        &self,
        drive: Option<&str>,
        code: ResyncCode,
    ) -> Result<(), EmulatorError> {
        let mut w = self.shared.lock_world();
        let ids: Vec<String> = match drive {
            Some(d) => vec![w.drive(d)?.id.clone()],
            None => w.drives.keys().cloned().collect(),
        };
        for id in ids {
            if let Some(d) = w.drives.get_mut(&id) {
                d.delta_generation += 1;
                d.resync_code = code.as_str();
            }
            self.shared.delta.forget_drive(&id);
        }
        Ok(())
    }

    /// Fault: revoke refresh tokens (of one user, or everyone's). Returns how many.
    pub fn revoke_refresh_tokens(&self, user: Option<&str>) -> Result<usize, EmulatorError> {
        let id = user.map(|u| self.user_id(u)).transpose()?;
        Ok(self.shared.lock_auth().revoke_refresh_tokens(id.as_deref()))
    }

    /// Fault: every access token issued so far expires now.
    pub fn expire_access_tokens(&self) {
        self.shared.lock_auth().expire_access_tokens();
    }

    /// Switch: socketIo answers `400 notSupported` for `user` (or for everyone with `None`).
    pub fn set_socketio_not_supported(
        &self,
        user: Option<&str>,
        on: bool,
    ) -> Result<(), EmulatorError> {
        match user {
            None => self.shared.faults.set_socketio_not_supported_all(on),
            Some(u) => {
                let id = self.user_id(u)?;
                self.shared.faults.set_socketio_not_supported_for(&id, on);
            }
        }
        Ok(())
    }

    /// Clears throttling, failures, latency, the notSupported-for-all switch and stalled pings.
    pub fn clear_faults(&self) {
        self.shared.faults.clear();
        self.shared.conns.set_stalled(false);
    }

    /// Sockets currently joined to `/notifications`.
    pub fn connected_sockets(&self) -> usize {
        self.shared.push.connected()
    }

    /// The push timings in force (subscription lifetime, delivery delays, realistic mode).
    pub fn push_timing(&self) -> PushTiming {
        self.shared.push.timing()
    }

    /// Changes the push timings; a new lifetime applies to subscriptions made from now on.
    pub fn set_push_timing(&self, timing: PushTiming) {
        self.shared.push.set_timing(timing);
    }
}
