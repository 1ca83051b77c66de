//! The window's capability lists exactly the commands the UI calls, and the app config stays
//! strict (CSP, no global Tauri object, the built UI as frontend). Fails on any drift.

use std::collections::BTreeSet;
use std::path::PathBuf;

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read_json(path: PathBuf) -> serde_json::Value {
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

/// Command names as the generated bindings invoke them (`get_snapshot`, ...).
fn declared_commands() -> BTreeSet<String> {
    let builder = drivewatch_desktop::specta_builder::<tauri::test::MockRuntime>();
    let ts = drivewatch_desktop::render_bindings(&builder).expect("bindings render");
    ts.split("__TAURI_INVOKE")
        .skip(1)
        .filter_map(|rest| {
            let start = rest.find("(\"")? + 2;
            let end = start + rest[start..].find('"')?;
            Some(rest[start..end].to_owned())
        })
        .collect()
}

fn camel(snake: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn the_window_may_call_exactly_the_declared_commands() {
    let declared = declared_commands();
    assert_eq!(declared.len(), 15, "{declared:?}");
    let capability = read_json(manifest_dir().join("capabilities/main.json"));
    assert!(capability["$schema"].is_string());
    assert_eq!(capability["windows"], serde_json::json!(["main"]));
    let allowed: BTreeSet<String> = capability["permissions"]
        .as_array()
        .expect("a permission list")
        .iter()
        .filter_map(|p| p.as_str())
        .filter_map(|p| p.strip_prefix("allow-"))
        .map(|p| p.replace('-', "_"))
        .collect();
    assert_eq!(allowed, declared);
    let others: Vec<&str> = capability["permissions"]
        .as_array()
        .expect("a permission list")
        .iter()
        .filter_map(|p| p.as_str())
        .filter(|p| !p.starts_with("allow-"))
        .collect();
    assert_eq!(
        others,
        ["core:event:allow-listen", "core:event:allow-unlisten"]
    );
}

#[test]
fn the_ui_uses_every_command_it_is_allowed() {
    let ui_src = manifest_dir().join("../ui/src");
    let mut sources = String::new();
    let mut stack = vec![ui_src];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if path.is_dir() {
                stack.push(path);
            } else if (name.ends_with(".svelte") || name.ends_with(".ts"))
                && name != "bindings.ts"
                && !name.contains(".test.")
            {
                sources.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
            }
        }
    }
    if sources.is_empty() {
        eprintln!("skipped: no ui/src sources next to src-tauri");
        return;
    }
    for command in declared_commands() {
        let call = format!("commands.{}", camel(&command));
        assert!(
            sources.contains(&call),
            "the window never calls {call}: drop its permission"
        );
    }
}

#[test]
fn the_app_config_is_strict() {
    let conf = read_json(manifest_dir().join("tauri.conf.json"));
    assert_eq!(conf["build"]["frontendDist"], "../ui/dist");
    assert_ne!(conf["app"]["withGlobalTauri"], true);
    let csp = &conf["app"]["security"]["csp"];
    assert_eq!(csp["default-src"], "'self'");
    assert_eq!(csp["script-src"], "'self'");
    assert_eq!(csp["object-src"], "'none'");
    let windows = conf["app"]["windows"].as_array().expect("windows");
    assert_eq!(windows.len(), 1);
    assert_eq!(windows[0]["label"], drivewatch_desktop::window::MAIN);
}
