//! Drive names are untrusted text: this makes them safe and short enough to show.
//!
//! Control and bidirectional formatting characters become U+FFFD, so a name cannot disguise
//! itself; long names and paths are shortened where they say least. It must never drop a
//! character silently or emit markup: hosts escape for their own renderers.

/// Longest name shown in a toast, in characters; longer names keep their start and extension.
const MAX_NAME_CHARS: usize = 60;
/// Longest folder path shown in a toast, in characters; longer paths keep their last folders.
const MAX_PATH_CHARS: usize = 80;
/// Shown in place of a neutralised control or bidi character, so a hidden trick stays visible.
const REPLACEMENT: char = '\u{FFFD}';
const ELLIPSIS: char = '…';

/// Replaces control characters and bidirectional formatting characters (which can make
/// `gpj.exe` read as `exe.jpg`) with U+FFFD, so a name cannot hide what it is.
pub fn neutralise(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() || is_bidi_control(c) {
                REPLACEMENT
            } else {
                c
            }
        })
        .collect()
}

fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// A name made safe and short: neutralised, and if longer than the limit, its start and its
/// extension joined by an ellipsis (`A very long report na….docx`).
pub fn display_name(name: &str) -> String {
    let clean = neutralise(name);
    let chars: Vec<char> = clean.chars().collect();
    if chars.len() <= MAX_NAME_CHARS {
        return clean;
    }
    // Keep a short extension whole; a "dot" far from the end is not an extension.
    let ext_len = chars
        .iter()
        .rposition(|&c| c == '.')
        .map(|i| chars.len() - i)
        .filter(|&n| n > 1 && n <= 8)
        .unwrap_or(0);
    let head = MAX_NAME_CHARS - 1 - ext_len;
    let mut out: String = chars[..head].iter().collect();
    out = out.trim_end().to_owned();
    out.push(ELLIPSIS);
    out.extend(&chars[chars.len() - ext_len..]);
    out
}

/// A folder path made safe and short: neutralised, and if too long, its last folders after an
/// ellipsis (`/…/Trip/Day 2`), since the nearest folders say most.
pub fn display_path(path: &str) -> String {
    let clean = neutralise(path);
    let chars: Vec<char> = clean.chars().collect();
    if chars.len() <= MAX_PATH_CHARS {
        return clean;
    }
    let keep = MAX_PATH_CHARS - 2; // room for "/…"
    let tail: String = chars[chars.len() - keep..].iter().collect();
    // Start at a folder boundary when there is one, so no folder name is cut in half.
    let tail = match tail.find('/') {
        Some(i) if i + 1 < tail.len() => tail[i..].to_owned(),
        _ => format!("/{tail}"),
    };
    format!("/{ELLIPSIS}{tail}")
}

pub(super) fn shorten_end(text: &str, max: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= max {
        return text.to_owned();
    }
    let mut out: String = chars[..max - 1].iter().collect();
    out = out.trim_end().to_owned();
    out.push(ELLIPSIS);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ChangeKind, Preferences};
    use crate::toast_policy::ToastPolicy;
    use crate::toast_policy::fixtures::*;

    #[test]
    fn control_and_bidi_characters_are_neutralised() {
        // U+202E would render "evil\u{202E}gpj.exe" as "evilexe.jpg".
        assert_eq!(neutralise("evil\u{202E}gpj.exe"), "evil\u{FFFD}gpj.exe");
        assert_eq!(neutralise("two\nlines\u{7}"), "two\u{FFFD}lines\u{FFFD}");
        assert_eq!(
            neutralise("a\u{2066}b\u{200F}c\u{9B}"),
            "a\u{FFFD}b\u{FFFD}c\u{FFFD}"
        );
        assert_eq!(neutralise("Résumé 📄.docx"), "Résumé 📄.docx");
        let mut evil = change(1, ChangeKind::Created, "/In\u{202E}box/x", "Mal\nlory\n");
        evil.name = "invoice\u{202E}fdp.exe".to_owned();
        let toasts =
            ToastPolicy::default().decide(&batch(vec![evil]), &ctx(&Preferences::default(), at(0)));
        assert_eq!(
            toasts[0].summary,
            "Mal\u{FFFD}lory added invoice\u{FFFD}fdp.exe"
        );
        assert_eq!(toasts[0].body, "in /In\u{FFFD}box");
    }

    #[test]
    fn long_names_keep_their_start_and_extension() {
        let long = format!("{}.xlsx", "Quarterly budget ".repeat(10));
        let shown = display_name(&long);
        assert_eq!(shown.chars().count(), 60);
        assert!(shown.starts_with("Quarterly budget Quarterly"));
        assert!(shown.ends_with("….xlsx"), "{shown}");
        let no_ext = "x".repeat(200);
        let shown = display_name(&no_ext);
        assert_eq!(shown.chars().count(), 60);
        assert!(shown.ends_with('…'));
        // Characters, not bytes: multi-byte names are cut on character boundaries.
        let cyrillic = "Отчёт".repeat(30);
        assert_eq!(display_name(&cyrillic).chars().count(), 60);
        assert_eq!(display_name("short.txt"), "short.txt");
    }

    #[test]
    fn long_paths_keep_their_last_folders() {
        let deep = format!("{}/Trip/Day 2", "/Very long folder name".repeat(6));
        let shown = display_path(&deep);
        assert!(shown.starts_with("/…/"), "{shown}");
        assert!(shown.ends_with("/Trip/Day 2"), "{shown}");
        assert!(shown.chars().count() <= 80);
        assert_eq!(display_path("/Finance"), "/Finance");
    }
}
