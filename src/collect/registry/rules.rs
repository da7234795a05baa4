//! registry.csv `rule` rows: every key and value that a trace of the knowledge base
//! (`src/traces`, artifact `registry`) asks about, found or not.
//!
//! A rule names a hive kind, a key pattern and optionally a value-name and a
//! data pattern. `{exe}`/`{path}` placeholders are resolved with each of the tool's
//! own executables (or `*` when it has none). Identical targets asked for by several
//! tools become one target listing every tool. Each target is looked up in every hive
//! of its kind (every user's NTUSER.DAT); it gives one row per key or value found,
//! or one `found=false` row naming the pattern and why, so the analyst sees what was
//! looked for and absent as well as what is there.

use std::collections::{BTreeMap, BTreeSet};

use crate::traces::{Artifact, Glob, Hive, KnowledgeBase};

use super::keys::{find_keys, key_row, value_row, KeyRow, KeyWriter};
use super::load::{Hives, LoadedHive};
use super::value::render;
use crate::collect::rows::truncate;

/// One thing to look for, after placeholder resolution.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Target {
    /// Hive kind.
    pub hive: Hive,
    /// Key pattern.
    pub key: String,
    /// Value-name pattern.
    pub value: Option<String>,
    /// Data pattern.
    pub data: Option<String>,
}

/// Targets by their case-folded spelling (registry names ignore case, rules do not
/// always agree on it), with the first spelling met and the ids of the tools asking.
pub type Targets = BTreeMap<Target, (Target, BTreeSet<String>)>;

/// Every registry target of the rules the scan judges with (`--rules` included), so
/// a registry trace added in a custom rules file is looked up like a built-in one.
pub fn targets(kb: &KnowledgeBase) -> Targets {
    {
        let mut out = Targets::new();
        for tool in &kb.tools {
            for trace in &tool.traces {
                let own = tool.placeholder_executables(trace.role);
                let exes: Vec<Option<&str>> = if own.is_empty() {
                    vec![None]
                } else {
                    own.iter().map(|e| Some(e.as_str())).collect()
                };
                let Artifact::Registry {
                    hive,
                    key,
                    value,
                    data,
                } = &trace.artifact
                else {
                    continue;
                };
                for exe in &exes {
                    let resolve = |g: &Glob| g.resolve(*exe).as_str().to_string();
                    let target = Target {
                        hive: *hive,
                        key: resolve(key),
                        value: value.as_ref().map(resolve),
                        data: data.as_ref().map(resolve),
                    };
                    let lower = |t: &Option<String>| t.as_ref().map(|v| v.to_lowercase());
                    let folded = Target {
                        hive: target.hive,
                        key: target.key.to_lowercase(),
                        value: lower(&target.value),
                        data: lower(&target.data),
                    };
                    out.entry(folded)
                        .or_insert_with(|| (target, BTreeSet::new()))
                        .1
                        .insert(tool.id.clone());
                }
            }
        }
        out
    }
}

/// Writes the rule rows for one volume.
pub fn collect(writer: &KeyWriter<'_>, hives: &Hives, targets: &Targets) {
    for (target, tools) in targets.values() {
        let tools = tools.iter().cloned().collect::<Vec<_>>().join(";");
        let matching: Vec<&LoadedHive> = hives
            .hives
            .iter()
            .filter(|h| h.kind.rule_hive() == Some(target.hive))
            .collect();
        // A hive of the kind that is there but could not be read hides the key.
        let unreadable: Vec<&String> = hives
            .unreadable
            .iter()
            .filter(|(kind, _)| kind.rule_hive() == Some(target.hive))
            .map(|(_, path)| path)
            .collect();
        for path in &unreadable {
            writer.write(KeyRow {
                kind: "rule",
                hive_file: path.to_string(),
                key_path: target.key.clone(),
                value_name: target.value.clone().unwrap_or_default(),
                tools: tools.clone(),
                note: "hive unreadable, key not searchable (see errors.csv)".into(),
                ..KeyRow::default()
            });
        }
        if matching.is_empty() && unreadable.is_empty() {
            writer.write(KeyRow {
                kind: "rule",
                key_path: target.key.clone(),
                value_name: target.value.clone().unwrap_or_default(),
                tools,
                note: format!("no {} hive on this volume", target.hive),
                ..KeyRow::default()
            });
            continue;
        }
        for hive in matching {
            let (rows, problems) = look_up(hive, target);
            writer.problems(hive, &problems);
            for row in rows {
                writer.write(KeyRow {
                    tools: tools.clone(),
                    ..row
                });
            }
        }
    }
}

/// The rows one target gives in one hive.
fn look_up(hive: &LoadedHive, target: &Target) -> (Vec<KeyRow>, Vec<String>) {
    let found = find_keys(&hive.hive, &target.key);
    let (keys, cut, mut problems) = (found.keys, found.cut, found.problems);
    let wanted_data = target
        .data
        .as_ref()
        .map(|d| format!("; data wanted: {}", truncate(d, MAX_NOTE_PATTERN)))
        .unwrap_or_default();
    let missing = |note: &str| KeyRow {
        kind: "rule",
        hive_file: hive.path.clone(),
        user: hive.user.clone(),
        key_path: target.key.clone(),
        value_name: target.value.clone().unwrap_or_default(),
        note: format!("{note}{wanted_data}"),
        ..KeyRow::default()
    };
    if keys.is_empty() && !problems.is_empty() {
        let row = missing(&format!(
            "hive damaged, key not searchable: {}",
            problems.join("; ")
        ));
        return (vec![row], problems);
    }
    if keys.is_empty() {
        return (vec![missing("key not present")], problems);
    }
    let mut rows = Vec::new();
    // Rule patterns were checked when the rules were loaded: `None` is no pattern.
    let value_glob = target.value.as_deref().and_then(|v| Glob::new(v).ok());
    let data_glob = target.data.as_deref().and_then(|d| Glob::new(d).ok());
    // Value lists and data that cannot be read: the value may be among them.
    let mut unreadable = Vec::new();
    for (path, key) in &keys {
        let Some(value_glob) = &value_glob else {
            rows.push(key_row("rule", hive, path, key));
            continue;
        };
        let values = match key.values() {
            Ok(values) => values,
            Err(e) => {
                unreadable.push(format!("{path}: values unreadable: {e}"));
                continue;
            }
        };
        for value in values {
            if !value_glob.matches(&value.name()) {
                continue;
            }
            let data_ok = match (&data_glob, value.data()) {
                (None, _) => true,
                (Some(g), Ok(d)) => g.matches(&render(&d)),
                (Some(_), Err(e)) => {
                    let name = value.name();
                    unreadable.push(format!("{path}: data of value {name} unreadable: {e}"));
                    false
                }
            };
            if data_ok {
                rows.push(value_row("rule", hive, path, key, &value));
            }
        }
    }
    if rows.is_empty() {
        let why = if !unreadable.is_empty() {
            format!(
                "hive damaged, value not searchable: {}",
                unreadable.join("; ")
            )
        } else if data_glob.is_some() {
            "key present, no value with matching name and data".into()
        } else {
            "key present, value not present".into()
        };
        rows.push(missing(&why));
    }
    problems.extend(unreadable);
    if cut {
        if let Some(last) = rows.last_mut() {
            let cut = format!(
                "pattern matched more than {} keys; list cut",
                super::keys::MAX_MATCHES
            );
            // A note on damage stays: it says why the row's data is missing.
            last.note = match last.note.is_empty() {
                true => cut,
                false => format!("{}; {cut}", last.note),
            };
        }
    }
    (rows, problems)
}

/// Longest data pattern quoted in a note (some rules quote whole service
/// descriptions).
const MAX_NOTE_PATTERN: usize = 120;
