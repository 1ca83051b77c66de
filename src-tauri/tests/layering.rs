//! The shell's modules depend on each other one way, as `src/lib.rs` describes: the faces (tray,
//! toasts, window), the relay and the IPC layer depend on the shell; the shell only on the
//! engine link, the errors and the IPC data; `ipc` on nothing; and only the registration in
//! `lib.rs` names `commands`. Read from the sources, so a new `use crate::...` that closes a
//! loop fails here. It must never read anything outside `src/`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each top-level module of `src/` (a submodule counts as its parent) and the `crate::` modules
/// its code (not its comments) names.
fn dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src/ is readable").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let module = top_module(&src, &path);
                let deps: &mut BTreeSet<String> = graph.entry(module.clone()).or_default();
                let text = std::fs::read_to_string(&path).expect("a source file");
                for name in crate_paths(&text) {
                    if name != module {
                        deps.insert(name);
                    }
                }
            }
        }
    }
    graph
}

fn top_module(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).expect("under src/");
    let first = relative
        .components()
        .next()
        .expect("a path")
        .as_os_str()
        .to_string_lossy()
        .into_owned();
    first.trim_end_matches(".rs").to_owned()
}

/// The module names after `crate::` in code, with `//` comments (and so doc comments) removed.
fn crate_paths(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                names.insert(name);
            }
        }
    }
    names
}

/// A module that reaches itself through its dependencies, as the path that does, if any.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_modules_depend_on_each_other_one_way() {
    let graph = dependencies();
    for expected in [
        "shell", "ipc", "commands", "tray", "toasts", "relay", "window",
    ] {
        assert!(
            graph.contains_key(expected),
            "no module {expected}: {graph:?}"
        );
    }
    // lib.rs is the root that wires everything, main.rs the binary over it.
    let mut modules = graph.clone();
    modules.remove("lib");
    modules.remove("main");
    assert_eq!(find_cycle(&modules), None, "a loop in {modules:#?}");

    let none = BTreeSet::new();
    assert_eq!(graph["ipc"], none, "ipc holds data and events only");
    let allowed: BTreeSet<String> = ["engine", "error", "ipc"].map(String::from).into();
    assert!(
        graph["shell"].is_subset(&allowed),
        "the shell depends on none of its callers: {:?}",
        graph["shell"]
    );
    let users: Vec<&String> = modules
        .iter()
        .filter(|(_, deps)| deps.contains("commands"))
        .map(|(module, _)| module)
        .collect();
    assert!(
        users.is_empty(),
        "only the registration in lib.rs uses commands: {users:?}"
    );
}

#[test]
fn comments_are_not_dependencies() {
    let text = "use crate::shell::Shell; // see crate::tray\n/// [`crate::window`]\nfn f() { crate::relay::start(); }";
    let names: Vec<String> = crate_paths(text).into_iter().collect();
    assert_eq!(names, ["relay", "shell"]);
    let mut graph = BTreeMap::new();
    graph.insert("a".to_owned(), BTreeSet::from(["b".to_owned()]));
    graph.insert("b".to_owned(), BTreeSet::from(["a".to_owned()]));
    assert_eq!(
        find_cycle(&graph),
        Some(vec!["a".into(), "b".into(), "a".into()])
    );
}
