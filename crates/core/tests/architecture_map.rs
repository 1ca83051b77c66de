//! `docs/ARCHITECTURE.md` stays a true map of the code, and every citation of the protocol notes
//! points inside the repository.
//!
//! The first test reads `crates/core/src/lib.rs`, collects its `pub mod NAME;` lines and fails
//! when the document's "Code map" section does not name `crates/core/src/NAME.rs` or
//! `crates/core/src/NAME/`: a module added without a place on the map is a module nobody can find.
//! The second fails when a tracked source or Markdown file names the protocol notes in any way
//! other than `docs/PROTOCOL.md` (or a relative Markdown link that resolves to it), so no file
//! cites a document outside the repository. Both only read files; they must never write any.

use std::path::{Component, Path, PathBuf};
use std::process::Command;

/// The file name searched for, spelled in two halves so this file does not cite it bare itself.
const PROTOCOL_FILE: &str = concat!("PROTOCOL", ".md");

/// Where protocol citations are checked, from the repository root.
const CITING_ROOTS: &[&str] = &["crates", "src-tauri", "bench", "xtask", "ui/src"];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/core sits two levels under the repository root")
        .to_path_buf()
}

/// The names of `pub mod NAME;` declarations (not inline modules, not `pub(crate)`).
fn public_modules(lib_rs: &str) -> Vec<String> {
    lib_rs
        .lines()
        .map(str::trim)
        .filter_map(|line| line.strip_prefix("pub mod "))
        .filter_map(|rest| rest.strip_suffix(';'))
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .collect()
}

/// The text of the `## Code map` section: from its heading to the next `## ` heading.
fn code_map(doc: &str) -> Option<&str> {
    let start = doc.find("\n## Code map")? + 1;
    let body = &doc[start..];
    let after_heading = body.find('\n').map_or(body.len(), |i| i + 1);
    let end = body[after_heading..]
        .find("\n## ")
        .map_or(body.len(), |i| after_heading + i);
    Some(&body[..end])
}

/// Modules of `lib_rs` the code map does not mention as a file or a folder.
fn unmapped_modules(lib_rs: &str, map: &str) -> Vec<String> {
    public_modules(lib_rs)
        .into_iter()
        .filter(|name| {
            let file = format!("crates/core/src/{name}.rs");
            let folder = format!("crates/core/src/{name}/");
            !map.contains(&file) && !map.contains(&folder)
        })
        .collect()
}

#[test]
fn every_public_core_module_is_on_the_code_map() {
    let root = repo_root();
    let lib_rs = std::fs::read_to_string(root.join("crates/core/src/lib.rs"))
        .expect("crates/core/src/lib.rs is readable");
    let doc = std::fs::read_to_string(root.join("docs/ARCHITECTURE.md"))
        .expect("docs/ARCHITECTURE.md is readable");
    let map = code_map(&doc).expect("docs/ARCHITECTURE.md has a `## Code map` section");
    assert!(
        public_modules(&lib_rs).len() >= 5,
        "found too few `pub mod` lines in lib.rs; is the parser still right?"
    );
    let missing = unmapped_modules(&lib_rs, map);
    assert!(
        missing.is_empty(),
        "docs/ARCHITECTURE.md's code map does not mention these modules of crates/core/src/lib.rs \
         (as `crates/core/src/NAME.rs` or `crates/core/src/NAME/`): {missing:?}"
    );
}

/// Whether a character can be part of a path written in prose or code.
fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '/' | '_' | '-' | '~')
}

/// Resolves `link` (relative to the folder of `file`, both relative to the repository root) to a
/// repository path, or `None` when it climbs out of the repository.
fn resolve_relative(file: &Path, link: &str) -> Option<PathBuf> {
    let mut parts: Vec<String> = file
        .parent()
        .into_iter()
        .flat_map(Path::components)
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    for segment in link.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other.to_owned()),
        }
    }
    Some(parts.iter().collect())
}

/// Every way `text` (the contents of `file`) names the protocol notes other than
/// `docs/PROTOCOL.md`, as `line: citation`. A Markdown file may also link to it by a relative
/// path that resolves to it, since that is how Markdown links inside a repository work.
fn bad_citations(file: &Path, text: &str) -> Vec<String> {
    let wanted = format!("docs/{PROTOCOL_FILE}");
    let markdown = file.extension().is_some_and(|e| e == "md");
    let mut bad = Vec::new();
    for (number, line) in text.lines().enumerate() {
        for (at, _) in line.match_indices(PROTOCOL_FILE) {
            let start = line[..at]
                .char_indices()
                .rev()
                .take_while(|(_, c)| is_path_char(*c))
                .last()
                .map_or(at, |(i, _)| i);
            let cited = &line[start..at + PROTOCOL_FILE.len()];
            let ok = cited == wanted
                || (markdown
                    && cited.starts_with("../")
                    && resolve_relative(file, cited).is_some_and(|p| p == Path::new(&wanted)));
            if !ok {
                bad.push(format!("{}: {}", number + 1, cited));
            }
        }
    }
    bad
}

/// Tracked `.rs` and `.md` files under `roots`, relative to the repository root. Falls back to
/// walking the folders (skipping build output and installed packages) where git is missing.
fn tracked_sources(root: &Path, roots: &[&str]) -> Vec<PathBuf> {
    let wanted = |p: &Path| p.extension().is_some_and(|e| e == "rs" || e == "md");
    let listed = Command::new("git")
        .arg("ls-files")
        .arg("-z")
        .arg("--")
        .args(roots)
        .current_dir(root)
        .output()
        .ok()
        .filter(|out| out.status.success());
    if let Some(out) = listed {
        return out
            .stdout
            .split(|b| *b == 0)
            .filter(|name| !name.is_empty())
            .map(|name| PathBuf::from(String::from_utf8_lossy(name).into_owned()))
            .filter(|p| wanted(p))
            .collect();
    }
    let mut found = Vec::new();
    let mut folders: Vec<PathBuf> = roots.iter().map(PathBuf::from).collect();
    while let Some(folder) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(root.join(&folder)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = folder.join(&name);
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            if is_dir {
                if !name.starts_with('.') && !["target", "node_modules", "dist"].contains(&&*name) {
                    folders.push(rel);
                }
            } else if wanted(&rel) {
                found.push(rel);
            }
        }
    }
    found
}

#[test]
fn protocol_citations_name_the_document_in_the_repository() {
    let root = repo_root();
    assert!(
        root.join("docs").join(PROTOCOL_FILE).is_file(),
        "docs/PROTOCOL.md is missing"
    );
    let files = tracked_sources(&root, CITING_ROOTS);
    assert!(
        files.iter().any(|f| f.ends_with("crates/core/src/lib.rs")),
        "the file list is incomplete: {} files",
        files.len()
    );
    let mut bad = Vec::new();
    for file in &files {
        let Ok(text) = std::fs::read_to_string(root.join(file)) else {
            continue;
        };
        for citation in bad_citations(file, &text) {
            bad.push(format!("{}:{citation}", file.display()));
        }
    }
    assert!(
        bad.is_empty(),
        "cite the protocol notes as `docs/PROTOCOL.md §N` (the document in this repository), \
         not like this:\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_checks_themselves_tell_good_from_bad() {
    let lib =
        "//! pub mod not_this;\npub mod auth;\npub(crate) mod hidden;\n  pub mod push;\nmod x;\n";
    assert_eq!(public_modules(lib), ["auth", "push"]);
    let doc = "# A\n\n## Code map\n\n`crates/core/src/auth/` and\n## Invariants\n\
               `crates/core/src/push.rs`\n";
    let map = code_map(doc).unwrap();
    assert!(map.contains("auth/") && !map.contains("push.rs"));
    assert_eq!(unmapped_modules(lib, map), ["push"]);

    let rs = Path::new("crates/core/src/push/mod.rs");
    let good = format!("//! as docs/{PROTOCOL_FILE} §2.5 says");
    assert!(bad_citations(rs, &good).is_empty());
    let bare = format!("//! as {PROTOCOL_FILE} §2 says");
    assert_eq!(bad_citations(rs, &bare), [format!("1: {PROTOCOL_FILE}")]);
    let outside = format!("// see ../shared/docs/{PROTOCOL_FILE}");
    assert_eq!(bad_citations(rs, &outside).len(), 1);
    let absolute = format!("// see /srv/notes/docs/{PROTOCOL_FILE}");
    assert_eq!(bad_citations(rs, &absolute).len(), 1);

    let readme = Path::new("crates/graph-emulator/README.md");
    let link = format!("[the notes](../../docs/{PROTOCOL_FILE}#2-the-socketio-endpoint)");
    assert!(bad_citations(readme, &link).is_empty());
    let wrong_depth = format!("[the notes](../docs/{PROTOCOL_FILE})");
    assert_eq!(bad_citations(readme, &wrong_depth).len(), 1);
    assert_eq!(
        bad_citations(rs, &link).len(),
        1,
        "relative links only in Markdown"
    );
}
