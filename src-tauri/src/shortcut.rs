//! The Start-menu shortcut that lets Windows show DriveWatch's toasts under its own name and
//! icon.
//!
//! An app that is not installed from a package (DriveWatch ships as a zip) has no identity of its
//! own for the notification system: Windows shows its toasts only when a shortcut in the Start
//! menu carries the app's AppUserModelID, the same one the app names when it shows a toast. So
//! the first run writes `DriveWatch.lnk` into the user's Start-menu programs folder pointing at
//! the running exe with [`AUMID`], a later run rewrites it when the exe moved, and
//! `drivewatch --uninstall-shortcut` removes it.
//!
//! The decisions (the path, whether to write, the identity) are plain Rust, built and tested on
//! every platform; only the COM calls at the bottom are Windows-only. This module must never
//! write anywhere but that one shortcut, and never fail the app's start: a missing shortcut
//! costs toasts their name, nothing else.

use std::path::{Path, PathBuf};

/// DriveWatch's AppUserModelID: the bundle identifier of `tauri.conf.json`, so the app, its
/// shortcut and its toasts agree on one name.
pub const AUMID: &str = "app.drivewatch.desktop";

/// The shortcut's file name, which is also the name the Start menu shows.
pub const FILE_NAME: &str = "DriveWatch.lnk";

/// The command-line flag that removes the shortcut (and does nothing else).
pub const UNINSTALL_FLAG: &str = "--uninstall-shortcut";

/// Where the shortcut lives, given the roaming application-data folder (`%APPDATA%`).
pub fn path_in(appdata: &Path) -> PathBuf {
    appdata
        .join("Microsoft")
        .join("Windows")
        .join("Start Menu")
        .join("Programs")
        .join(FILE_NAME)
}

/// Whether the shortcut must be (re)written: it is missing, or points at another exe (DriveWatch
/// was moved or a new version unzipped elsewhere). Windows paths compare without case.
pub fn needs_writing(current_target: Option<&Path>, exe: &Path) -> bool {
    match current_target {
        None => true,
        Some(target) => !same_windows_path(target, exe),
    }
}

fn same_windows_path(a: &Path, b: &Path) -> bool {
    let norm = |p: &Path| {
        p.to_string_lossy()
            .replace('/', "\\")
            .trim_end_matches('\\')
            .to_lowercase()
    };
    norm(a) == norm(b)
}

#[cfg(windows)]
pub use os::ensure;

/// `drivewatch --uninstall-shortcut`: removes the shortcut and says what it did.
pub fn uninstall() -> std::io::Result<&'static str> {
    #[cfg(windows)]
    {
        Ok(if os::remove()? {
            "removed the DriveWatch shortcut from the Start menu"
        } else {
            "there was no DriveWatch shortcut in the Start menu"
        })
    }
    #[cfg(not(windows))]
    {
        Ok("DriveWatch writes a Start-menu shortcut on Windows only; nothing to remove")
    }
}

/// The COM calls: IShellLinkW with the AppUserModelID in its property store. COM is used on a
/// thread of its own, so the UI thread's apartment (owned by the window toolkit) is untouched.
#[cfg(windows)]
#[allow(unsafe_code)] // COM calls (CoCreateInstance, IShellLinkW); each is checked for errors.
mod os {
    use std::path::{Path, PathBuf};

    use windows::Win32::Storage::EnhancedStorage::PKEY_AppUserModel_ID;
    use windows::Win32::System::Com::StructuredStorage::{
        PROPVAR_CHANGE_FLAGS, PROPVARIANT, PropVariantChangeType,
    };
    use windows::Win32::System::Com::{
        CLSCTX_INPROC_SERVER, COINIT_MULTITHREADED, CoCreateInstance, CoInitializeEx,
        CoUninitialize, IPersistFile, STGM_READ,
    };
    use windows::Win32::System::Variant::VT_LPWSTR;
    use windows::Win32::UI::Shell::PropertiesSystem::IPropertyStore;
    use windows::Win32::UI::Shell::{
        IShellLinkW, SetCurrentProcessExplicitAppUserModelID, ShellLink,
    };
    use windows::core::{HSTRING, Interface};

    use super::{AUMID, needs_writing, path_in};

    fn shortcut_path() -> Option<PathBuf> {
        std::env::var_os("APPDATA").map(|a| path_in(Path::new(&a)))
    }

    /// Names this process with [`AUMID`] and writes the shortcut when it is missing or stale.
    /// Never fails the caller: problems are logged.
    pub fn ensure() {
        // SAFETY: a plain call with a valid, NUL-terminated string that outlives it.
        if let Err(e) = unsafe { SetCurrentProcessExplicitAppUserModelID(&HSTRING::from(AUMID)) } {
            tracing::warn!(error = %e, "could not set the AppUserModelID");
        }
        let (Some(path), Ok(exe)) = (shortcut_path(), std::env::current_exe()) else {
            return;
        };
        let done = std::thread::spawn(move || with_com(|| write_if_needed(&path, &exe))).join();
        match done {
            Ok(Ok(true)) => tracing::info!("wrote the Start-menu shortcut"),
            Ok(Ok(false)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "could not write the Start-menu shortcut"),
            Err(_) => tracing::warn!("writing the Start-menu shortcut panicked"),
        }
    }

    /// Removes the shortcut; `Ok(false)` when there was none.
    pub fn remove() -> std::io::Result<bool> {
        let Some(path) = shortcut_path() else {
            return Ok(false);
        };
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn with_com<T>(f: impl FnOnce() -> windows::core::Result<T>) -> windows::core::Result<T> {
        // SAFETY: initialised and uninitialised on this one thread, around all COM use.
        unsafe { CoInitializeEx(None, COINIT_MULTITHREADED).ok()? };
        let result = f();
        // SAFETY: matches the successful CoInitializeEx above.
        unsafe { CoUninitialize() };
        result
    }

    fn write_if_needed(path: &Path, exe: &Path) -> windows::core::Result<bool> {
        let current = path.is_file().then(|| read_target(path)).flatten();
        if !needs_writing(current.as_deref(), exe) {
            return Ok(false);
        }
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        // SAFETY: COM is initialised on this thread; every pointer passed is a live HSTRING or a
        // PROPVARIANT owned here (freed by its Drop).
        unsafe {
            let link: IShellLinkW = CoCreateInstance(&ShellLink, None, CLSCTX_INPROC_SERVER)?;
            let exe_w = HSTRING::from(exe.as_os_str());
            link.SetPath(&exe_w)?;
            link.SetIconLocation(&exe_w, 0)?;
            if let Some(dir) = exe.parent() {
                link.SetWorkingDirectory(&HSTRING::from(dir.as_os_str()))?;
            }
            link.SetDescription(&HSTRING::from(
                "DriveWatch: OneDrive and SharePoint changes",
            ))?;
            // The shell wants the id as VT_LPWSTR.
            let bstr = PROPVARIANT::from(AUMID);
            let mut id = PROPVARIANT::default();
            PropVariantChangeType(&mut id, &bstr, PROPVAR_CHANGE_FLAGS(0), VT_LPWSTR)?;
            let store: IPropertyStore = link.cast()?;
            store.SetValue(&PKEY_AppUserModel_ID, &id)?;
            store.Commit()?;
            let file: IPersistFile = link.cast()?;
            file.Save(&HSTRING::from(path.as_os_str()), true)?;
        }
        Ok(true)
    }

    /// The exe an existing shortcut points at, if it can be read.
    fn read_target(path: &Path) -> Option<PathBuf> {
        // SAFETY: as in `write_if_needed`; the buffer outlives the call that fills it.
        unsafe {
            let link: IShellLinkW =
                CoCreateInstance(&ShellLink, None, CLSCTX_INPROC_SERVER).ok()?;
            let file: IPersistFile = link.cast().ok()?;
            file.Load(&HSTRING::from(path.as_os_str()), STGM_READ)
                .ok()?;
            let mut buf = [0u16; 1024];
            link.GetPath(&mut buf, std::ptr::null_mut(), 0).ok()?;
            let len = buf.iter().position(|&c| c == 0).unwrap_or(buf.len());
            (len > 0).then(|| PathBuf::from(String::from_utf16_lossy(&buf[..len])))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shortcut_sits_in_the_start_menu_programs_folder() {
        let appdata = Path::new(r"C:\Users\jo\AppData\Roaming");
        let path = path_in(appdata);
        assert!(path.starts_with(appdata));
        let parts: Vec<String> = path
            .strip_prefix(appdata)
            .unwrap()
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            parts,
            [
                "Microsoft",
                "Windows",
                "Start Menu",
                "Programs",
                "DriveWatch.lnk"
            ]
        );
    }

    #[test]
    fn the_shortcut_is_written_when_missing_or_pointing_elsewhere() {
        let exe = Path::new(r"C:\Users\jo\Programs\DriveWatch\drivewatch.exe");
        assert!(needs_writing(None, exe));
        assert!(!needs_writing(Some(exe), exe));
        assert!(!needs_writing(
            Some(Path::new(r"c:\users\JO\programs\drivewatch\DRIVEWATCH.EXE")),
            exe
        ));
        assert!(!needs_writing(
            Some(Path::new("C:/Users/jo/Programs/DriveWatch/drivewatch.exe")),
            exe
        ));
        assert!(needs_writing(
            Some(Path::new(
                r"C:\Users\jo\Downloads\DriveWatch\drivewatch.exe"
            )),
            exe
        ));
    }

    #[test]
    fn the_app_id_is_the_bundle_identifier() {
        let conf: serde_json::Value =
            serde_json::from_str(include_str!("../tauri.conf.json")).expect("tauri.conf.json");
        assert_eq!(conf["identifier"], AUMID);
        // Windows limits AppUserModelIDs to 128 characters without spaces.
        assert!(AUMID.len() <= 128 && !AUMID.contains(' '));
    }
}
