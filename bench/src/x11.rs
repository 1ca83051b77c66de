//! Closing the desktop app's window as a user does, over a few lines of X11 protocol.
//!
//! The footprint after a window was opened and closed needs a close that goes the way a
//! window manager's close button goes (WM_DELETE_WINDOW to the window's owner), so the app runs
//! its own close path. Xvfb has no window manager, so top-level windows are the root window's
//! children. This module must never touch another display than the benchmark's own Xvfb.

/// An X client (x11rb) to find a process's windows and ask them to close as a window manager's
/// close button does (WM_DELETE_WINDOW). Xvfb started here has no window manager, so top-level
/// windows are the root window's children.
pub struct X11 {
    conn: x11rb::rust_connection::RustConnection,
    root: u32,
}

fn x_err(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

impl X11 {
    /// Connects to `display` (":N").
    pub fn connect(display: &str) -> std::io::Result<Self> {
        use x11rb::connection::Connection as _;
        let (conn, screen) = x11rb::connect(Some(display)).map_err(x_err)?;
        let root = conn.setup().roots[screen].root;
        Ok(Self { conn, root })
    }

    fn atom(&self, name: &str) -> std::io::Result<u32> {
        use x11rb::protocol::xproto::ConnectionExt as _;
        Ok(self
            .conn
            .intern_atom(false, name.as_bytes())
            .map_err(x_err)?
            .reply()
            .map_err(x_err)?
            .atom)
    }

    /// The mapped top-level windows whose `_NET_WM_PID` is one of `pids`.
    pub fn windows_of(&mut self, pids: &[u32]) -> std::io::Result<Vec<u32>> {
        use x11rb::protocol::xproto::{AtomEnum, ConnectionExt as _, MapState};
        let net_wm_pid = self.atom("_NET_WM_PID")?;
        let tree = self
            .conn
            .query_tree(self.root)
            .map_err(x_err)?
            .reply()
            .map_err(x_err)?;
        let mut found = Vec::new();
        for window in tree.children {
            // A window that went away meanwhile answers with an error: not one of ours.
            let Ok(attributes) = self
                .conn
                .get_window_attributes(window)
                .map_err(x_err)?
                .reply()
            else {
                continue;
            };
            if attributes.map_state != MapState::VIEWABLE {
                continue;
            }
            let Ok(owner) = self
                .conn
                .get_property(false, window, net_wm_pid, AtomEnum::CARDINAL, 0, 1)
                .map_err(x_err)?
                .reply()
            else {
                continue;
            };
            if owner
                .value32()
                .and_then(|mut v| v.next())
                .is_some_and(|owner| pids.contains(&owner))
            {
                found.push(window);
            }
        }
        Ok(found)
    }

    /// Asks `window` to close, as a window manager's close button does.
    pub fn close(&mut self, window: u32) -> std::io::Result<()> {
        use x11rb::connection::Connection as _;
        use x11rb::protocol::xproto::{ClientMessageEvent, ConnectionExt as _, EventMask};
        let protocols = self.atom("WM_PROTOCOLS")?;
        let delete = self.atom("WM_DELETE_WINDOW")?;
        let event = ClientMessageEvent::new(32, window, protocols, [delete, 0, 0, 0, 0]);
        // No event mask: the event goes straight to the window's owner.
        self.conn
            .send_event(false, window, EventMask::NO_EVENT, event)
            .map_err(x_err)?
            .check()
            .map_err(x_err)?;
        self.conn.flush().map_err(x_err)
    }
}
