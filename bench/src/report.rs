//! The report: every figure of one run, its target and whether it was met, as Markdown for
//! people (`bench/REPORT.md`) and JSON for tools (`bench/report.json`).
//!
//! A figure that could not be measured stays in the table as "not measured" with its reason; it
//! must never be dropped or filled with a guess. This module only formats: it never measures.

use std::fmt::Write as _;

use serde::Serialize;

use crate::procfs::Machine;

/// How a value compares with its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Goal {
    /// The value must be strictly below the target.
    Below,
    /// The value must not exceed the target.
    AtMost,
    /// The value must reach the target.
    AtLeast,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Target {
    pub goal: Goal,
    pub value: f64,
}

impl Target {
    pub fn below(value: f64) -> Option<Target> {
        Some(Target {
            goal: Goal::Below,
            value,
        })
    }
    pub fn at_most(value: f64) -> Option<Target> {
        Some(Target {
            goal: Goal::AtMost,
            value,
        })
    }
    pub fn at_least(value: f64) -> Option<Target> {
        Some(Target {
            goal: Goal::AtLeast,
            value,
        })
    }

    pub fn met_by(&self, v: f64) -> bool {
        match self.goal {
            Goal::Below => v < self.value,
            Goal::AtMost => v <= self.value,
            Goal::AtLeast => v >= self.value,
        }
    }
}

/// One row of the table.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    /// Stable machine-readable name, e.g. `latency.push.p50_ms`.
    pub id: String,
    /// Which section of the issue it belongs to (1 to 5).
    pub section: u8,
    pub name: String,
    /// `None` when not measured.
    pub value: Option<f64>,
    pub unit: String,
    pub target: Option<Target>,
    /// `None` when there is no target or no value.
    pub met: Option<bool>,
    /// Why there is no value, when there is none.
    pub not_measured: Option<String>,
}

impl Figure {
    pub fn new(
        section: u8,
        id: &str,
        name: &str,
        value: Option<f64>,
        unit: &str,
        target: Option<Target>,
    ) -> Figure {
        Figure {
            id: id.to_owned(),
            section,
            name: name.to_owned(),
            value,
            unit: unit.to_owned(),
            met: match (target, value) {
                (Some(t), Some(v)) => Some(t.met_by(v)),
                _ => None,
            },
            target,
            not_measured: None,
        }
    }

    pub fn missing(
        section: u8,
        id: &str,
        name: &str,
        unit: &str,
        target: Option<Target>,
        why: &str,
    ) -> Figure {
        Figure {
            not_measured: Some(why.to_owned()),
            ..Figure::new(section, id, name, None, unit, target)
        }
    }
}

/// What a section measured, how, and what limits its figures.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    pub number: u8,
    pub title: String,
    pub how: String,
    pub limits: String,
    /// Extra measured detail (e.g. distributions) worth keeping with the section.
    pub detail: serde_json::Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub date: String,
    pub machine: Machine,
    pub build_profile: String,
    pub run_seconds: f64,
    /// The machine's 1-minute load average when the run began and ended: other work on the
    /// machine (builds) takes cores from every figure.
    pub load_before: Option<f64>,
    pub load_after: Option<f64>,
    pub figures: Vec<Figure>,
    pub sections: Vec<Section>,
}

fn number(v: f64) -> String {
    if v.abs() >= 100.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn target_text(t: &Target, unit: &str) -> String {
    let op = match t.goal {
        Goal::Below => "<",
        Goal::AtMost => "≤",
        Goal::AtLeast => "≥",
    };
    format!("{op} {} {unit}", number(t.value))
        .trim_end()
        .to_owned()
}

impl Report {
    pub fn to_markdown(&self) -> String {
        let mut md = String::new();
        let m = &self.machine;
        let _ = writeln!(md, "# DriveWatch benchmarks\n");
        let _ = writeln!(
            md,
            "Written by `cargo xtask bench` from one run; every number below comes from that run. \
             The Graph emulator serves on 127.0.0.1; nothing leaves the machine.\n"
        );
        let _ = writeln!(md, "- Date: {}", self.date);
        let _ = writeln!(
            md,
            "- Machine: {} cores, {} MiB RAM, {}; {} (Linux {})",
            m.cores, m.ram_mib, m.cpu_model, m.os, m.kernel
        );
        let _ = writeln!(md, "- Build: {} profile", self.build_profile);
        let _ = writeln!(md, "- Whole run: {:.0} s", self.run_seconds);
        let load = |l: Option<f64>| l.map_or_else(|| "unknown".to_owned(), |l| format!("{l:.2}"));
        let _ = writeln!(
            md,
            "- Load average (1 min) at start / end: {} / {} (other processes share the cores)\n",
            load(self.load_before),
            load(self.load_after)
        );
        let _ = writeln!(md, "| # | Figure | Value | Target | Met |");
        let _ = writeln!(md, "|---|---|---|---|---|");
        for f in &self.figures {
            let value = match (f.value, &f.not_measured) {
                (Some(v), _) => format!("{} {}", number(v), f.unit).trim_end().to_owned(),
                (None, Some(why)) => format!("not measured: {why}"),
                (None, None) => "not measured".to_owned(),
            };
            let target = f
                .target
                .as_ref()
                .map(|t| target_text(t, &f.unit))
                .unwrap_or_else(|| "—".into());
            let met = match f.met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "—",
            };
            let _ = writeln!(
                md,
                "| {} | {} | {value} | {target} | {met} |",
                f.section, f.name
            );
        }
        for s in &self.sections {
            let _ = writeln!(md, "\n## {}. {}\n", s.number, s.title);
            let _ = writeln!(md, "**How it was measured.** {}\n", s.how);
            let _ = writeln!(md, "**What limits it.** {}", s.limits);
            if let Some(table) = s.detail.get("table") {
                md.push_str(&table_markdown(table));
            }
        }
        md
    }

    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }
}

/// A section's `detail.table` (`{"columns": [...], "rows": [[...], ...]}`) as a Markdown table.
fn table_markdown(table: &serde_json::Value) -> String {
    let cells = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|c| c.as_str().map_or_else(|| c.to_string(), str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let columns = cells(&table["columns"]);
    if columns.is_empty() {
        return String::new();
    }
    let mut md = format!(
        "\n| {} |\n|{}\n",
        columns.join(" | "),
        "---|".repeat(columns.len())
    );
    for row in table["rows"].as_array().into_iter().flatten() {
        let _ = writeln!(md, "| {} |", cells(row).join(" | "));
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        Report {
            date: "2026-01-01T00:00:00Z".into(),
            machine: Machine {
                cores: 2,
                cpu_model: "Test CPU".into(),
                ram_mib: 1024,
                os: "Test OS".into(),
                kernel: "6.0".into(),
            },
            build_profile: "release".into(),
            run_seconds: 10.0,
            load_before: Some(0.5),
            load_after: None,
            figures: vec![
                Figure::new(1, "a", "p50", Some(12.345), "ms", Target::below(25.0)),
                Figure::new(3, "b", "toasts", Some(7.0), "", Target::at_most(5.0)),
                Figure::missing(
                    5,
                    "c",
                    "desktop RSS",
                    "MiB",
                    Target::below(20.0),
                    "no display",
                ),
            ],
            sections: vec![Section {
                number: 1,
                title: "Latency".into(),
                how: "timed".into(),
                limits: "debounce".into(),
                detail: serde_json::Value::Null,
            }],
        }
    }

    #[test]
    fn targets_compare_the_way_they_read() {
        assert!(Target::below(25.0).unwrap().met_by(24.9));
        assert!(!Target::below(25.0).unwrap().met_by(25.0));
        assert!(Target::at_most(5.0).unwrap().met_by(5.0));
        assert!(Target::at_least(50_000.0).unwrap().met_by(50_000.0));
        assert!(!Target::at_least(50_000.0).unwrap().met_by(49_999.0));
    }

    #[test]
    fn markdown_shows_values_targets_misses_and_gaps() {
        let md = report().to_markdown();
        assert!(md.contains("| 1 | p50 | 12.3 ms | < 25 ms | yes |"), "{md}");
        assert!(md.contains("| 3 | toasts | 7 | ≤ 5 | **no** |"), "{md}");
        assert!(md.contains("not measured: no display"), "{md}");
        assert!(md.contains("2 cores, 1024 MiB RAM, Test CPU"), "{md}");
        assert!(md.contains("## 1. Latency"));
        assert!(md.contains("start / end: 0.50 / unknown"), "{md}");
    }

    #[test]
    fn a_section_s_table_follows_its_text() {
        let mut r = report();
        r.sections[0].detail = serde_json::json!({
            "table": {"columns": ["t (s)", "cli RSS MiB"], "rows": [["0", "9.5"], ["60", "9.6"]]}
        });
        let md = r.to_markdown();
        assert!(
            md.contains(
                "debounce\n\n| t (s) | cli RSS MiB |\n|---|---|\n| 0 | 9.5 |\n| 60 | 9.6 |\n"
            ),
            "{md}"
        );
    }

    #[test]
    fn json_carries_the_same_numbers() {
        let v: serde_json::Value = serde_json::from_str(&report().to_json().unwrap()).unwrap();
        assert_eq!(v["figures"][0]["value"], 12.345);
        assert_eq!(v["figures"][1]["met"], false);
        assert!(v["figures"][2]["value"].is_null());
        assert_eq!(v["machine"]["cores"], 2);
    }
}
