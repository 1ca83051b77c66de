//! Generates the PNG icons from the one source image, and fails when the committed ones drift.
//!
//! `icons/drivewatch.svg` is the source; the app icon sizes and one tray icon per state are
//! rendered from it with resvg (pure Rust, so no image tool is needed on any machine). Run with
//! `DRIVEWATCH_WRITE_ICONS=1` to write them; without it the test only compares. It must never
//! touch anything outside `icons/`.

use std::path::PathBuf;

use drivewatch_desktop::tray::TrayState;
use resvg::{tiny_skia, usvg};

const MARKER: &str = "<!--badge-->";
/// The app icon sizes Tauri's bundler and window expect (file name, pixels).
const APP_SIZES: [(&str, u32); 4] = [
    ("32x32.png", 32),
    ("128x128.png", 128),
    ("128x128@2x.png", 256),
    ("icon.png", 512),
];
/// Tray icons are drawn once at this size; the desktop scales them down.
const TRAY_SIZE: u32 = 64;
/// The sizes inside `icon.ico`, the Windows exe's icon (Explorer, taskbar, toasts, the
/// Start-menu shortcut): the small ones Explorer and the taskbar ask for, and 256 for tiles.
const ICO_SIZES: [u32; 6] = [16, 24, 32, 48, 64, 256];

fn icons_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("src-tauri sits in the repository root")
        .join("icons")
}

/// A state's badge: a disc in the lower right corner with a glyph that tells the states apart
/// without relying on colour alone.
fn badge(state: TrayState) -> String {
    let disc = |color: &str| {
        format!(
            r##"<circle cx="400" cy="400" r="104" fill="#ffffff"/><circle cx="400" cy="400" r="88" fill="{color}"/>"##
        )
    };
    match state {
        TrayState::Live => disc("#2e9b47"),
        TrayState::Polling => format!(
            r##"{}<circle cx="400" cy="400" r="50" fill="none" stroke="#ffffff" stroke-width="16"/><path d="M400 368 V400 H428" fill="none" stroke="#ffffff" stroke-width="14" stroke-linecap="round"/>"##,
            disc("#d89a00")
        ),
        TrayState::Reconnecting => format!(
            r##"{}<rect x="386" y="344" width="28" height="72" rx="12" fill="#ffffff"/><circle cx="400" cy="448" r="16" fill="#ffffff"/>"##,
            disc("#c62828")
        ),
        TrayState::NeedsSignIn => format!(
            r##"{}<circle cx="400" cy="372" r="26" fill="#ffffff"/><path d="M352 452 a48 44 0 0 1 96 0 Z" fill="#ffffff"/>"##,
            disc("#e06c00")
        ),
        TrayState::Paused => format!(
            r##"{}<rect x="366" y="356" width="24" height="88" rx="8" fill="#ffffff"/><rect x="410" y="356" width="24" height="88" rx="8" fill="#ffffff"/>"##,
            disc("#6b7280")
        ),
    }
}

fn render(svg: &str, size: u32) -> Vec<u8> {
    let tree = usvg::Tree::from_str(svg, &usvg::Options::default()).expect("the source SVG parses");
    let mut pixmap = tiny_skia::Pixmap::new(size, size).expect("a non-empty pixmap");
    let scale = size as f32 / tree.size().width();
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap.encode_png().expect("PNG encoding")
}

/// An ICO file whose images are PNGs (what Windows reads since Vista): a 6-byte header, one
/// 16-byte entry per image, then the images.
fn ico(source: &str) -> Vec<u8> {
    let images: Vec<(u32, Vec<u8>)> = ICO_SIZES.iter().map(|&s| (s, render(source, s))).collect();
    let count = images.len() as u16;
    let mut out = Vec::new();
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    let mut offset = 6 + 16 * u32::from(count);
    for (size, png) in &images {
        // 256 is written as 0: the field is one byte.
        let side = if *size >= 256 { 0 } else { *size as u8 };
        out.extend_from_slice(&[side, side, 0, 0]);
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&32u16.to_le_bytes());
        out.extend_from_slice(&(png.len() as u32).to_le_bytes());
        out.extend_from_slice(&offset.to_le_bytes());
        offset += png.len() as u32;
    }
    for (_, png) in images {
        out.extend_from_slice(&png);
    }
    out
}

#[test]
fn committed_icons_are_rendered_from_the_source() {
    let dir = icons_dir();
    let source = std::fs::read_to_string(dir.join("drivewatch.svg")).expect("icons/drivewatch.svg");
    assert!(source.contains(MARKER), "the source lost its badge marker");
    let mut wanted: Vec<(PathBuf, Vec<u8>)> = APP_SIZES
        .iter()
        .map(|&(name, size)| (dir.join(name), render(&source, size)))
        .collect();
    wanted.push((dir.join("icon.ico"), ico(&source)));
    for state in TrayState::ALL {
        let svg = source.replace(MARKER, &badge(state));
        wanted.push((dir.join(state.icon_path()), render(&svg, TRAY_SIZE)));
    }

    let write = std::env::var_os("DRIVEWATCH_WRITE_ICONS").is_some();
    let mut stale = Vec::new();
    for (path, bytes) in &wanted {
        if std::fs::read(path).ok().as_deref() == Some(bytes.as_slice()) {
            continue;
        }
        if write {
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("icons dir");
            std::fs::write(path, bytes).expect("writing an icon");
        } else {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "icons differ from icons/drivewatch.svg: {stale:?}; regenerate with \
         DRIVEWATCH_WRITE_ICONS=1 cargo test -p drivewatch --test icons"
    );
}

#[test]
fn the_windows_icon_holds_every_size_as_png() {
    let bytes = std::fs::read(icons_dir().join("icon.ico")).expect("a committed icons/icon.ico");
    assert_eq!(&bytes[..4], &[0, 0, 1, 0], "an ICO header");
    let count = u16::from_le_bytes([bytes[4], bytes[5]]) as usize;
    assert_eq!(count, ICO_SIZES.len());
    for (i, &size) in ICO_SIZES.iter().enumerate() {
        let entry = &bytes[6 + 16 * i..6 + 16 * (i + 1)];
        assert_eq!(u32::from(entry[0]), size % 256, "entry {i}'s width");
        let len = u32::from_le_bytes(entry[8..12].try_into().unwrap()) as usize;
        let at = u32::from_le_bytes(entry[12..16].try_into().unwrap()) as usize;
        assert_eq!(&bytes[at + 1..at + 4], b"PNG", "entry {i} is a PNG");
        assert!(at + len <= bytes.len());
    }
}

#[test]
fn every_tray_state_looks_different() {
    let dir = icons_dir();
    let mut seen = std::collections::HashSet::new();
    for state in TrayState::ALL {
        let bytes = std::fs::read(dir.join(state.icon_path())).expect("a committed tray icon");
        assert!(seen.insert(bytes), "{state:?} looks like another state");
    }
}
