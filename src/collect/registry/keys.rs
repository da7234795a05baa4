//! registry.csv rows: one key, or one value of a key, with why it is listed (`kind`)
//! and, for rule rows, which tools' traces ask about it. Also the key-path walker
//! that resolves wildcard key patterns.

use std::collections::BTreeSet;
use std::sync::Mutex;

use crate::collect::rows::observation;
use crate::output::Stage;
use crate::pipeline::Sinks;
use crate::traces::matcher::Observed;
use crate::traces::{Glob, Hive};

use super::load::LoadedHive;
use super::value::{render, type_name};

/// Most keys one wildcard pattern may expand to in one hive; beyond it the pattern
/// is reported as cut (a `ControlSet*\Enum\*\*` kind of rule must not list a hive).
pub const MAX_MATCHES: usize = 2000;

/// One registry.csv row (after the context columns).
#[derive(Default)]
pub struct KeyRow {
    /// `rule`, `run_key`, `rdp_client`, `mountpoints2`, `share`, `sam_account`.
    pub kind: &'static str,
    /// Volume path of the hive (empty when the hive is absent).
    pub hive_file: String,
    /// The kind of hive the row comes from, as rules name hives.
    pub hive: Option<Hive>,
    /// Profile folder for user hives.
    pub user: String,
    /// Key path inside the hive (the pattern when nothing matched).
    pub key_path: String,
    /// Value name (`""` for rows about a key; the pattern when nothing matched).
    pub value_name: String,
    /// Whether the key/value exists.
    pub found: bool,
    /// Value type name.
    pub value_type: String,
    /// Value data as text.
    pub data: String,
    /// Key LastWrite time.
    pub key_last_write: String,
    /// Tool ids whose rules ask for this row, `;`-joined.
    pub tools: String,
    /// Anything the analyst should know (why not found, cut lists).
    pub note: String,
    /// The note says what of the key could not be read: the row is also an
    /// errors.csv row, so a lost value never passes for an empty one.
    pub damaged: bool,
}

/// Writes registry.csv rows; the first row of each key found also gives a timeline
/// entry for the key's LastWrite time.
pub struct KeyWriter<'a> {
    out: &'a Sinks<'a>,
    volume: &'a str,
    timed: Mutex<BTreeSet<(String, String)>>,
}

impl<'a> KeyWriter<'a> {
    /// A writer for one volume.
    pub fn new(out: &'a Sinks<'a>, volume: &'a str) -> Self {
        KeyWriter {
            out,
            volume,
            timed: Mutex::new(BTreeSet::new()),
        }
    }

    /// Reports damage met reading `hive` (errors.csv): a key that could not be
    /// read is never written as "not present".
    pub fn problems(&self, hive: &LoadedHive, problems: &[String]) {
        for p in problems {
            self.out.error(self.volume, &hive.path, Stage::Registry, p);
        }
    }

    /// Writes one row.
    pub fn write(&self, row: KeyRow) {
        if row.damaged {
            let what = match row.value_name.is_empty() {
                true => row.key_path.clone(),
                false => format!("{} value {}", row.key_path, row.value_name),
            };
            let message = format!("{what}: {}", row.note);
            self.out
                .error(self.volume, &row.hive_file, Stage::Registry, &message);
        }
        if let (true, Some(hive)) = (row.found, row.hive) {
            let value = Some(row.value_name.clone()).filter(|v| !v.is_empty());
            let locator = match &value {
                Some(v) => format!("{} value {v}", row.key_path),
                None => row.key_path.clone(),
            };
            self.out.observe(
                self.volume,
                observation(
                    &row.key_last_write,
                    "registry",
                    &row.hive_file,
                    locator,
                    Observed::Registry {
                        hive,
                        key: row.key_path.clone(),
                        value,
                        data: Some(row.data.clone()).filter(|d| !d.is_empty()),
                    },
                ),
            );
        }
        if row.found && !row.key_last_write.is_empty() {
            let first = self
                .timed
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert((row.hive_file.clone(), row.key_path.clone()));
            if first {
                self.out.event(
                    self.volume,
                    &row.key_last_write,
                    "Registry Key Last Written",
                    format!("{} ({})", row.key_path, row.kind),
                    "registry",
                    &row.hive_file,
                    row.key_path.clone(),
                );
            }
        }
        self.out.row(
            "registry",
            self.volume,
            vec![
                row.kind.to_string(),
                row.hive_file,
                row.user,
                row.key_path,
                row.value_name,
                row.found.to_string(),
                row.value_type,
                row.data,
                row.key_last_write,
                row.tools,
                row.note,
            ],
        );
    }
}

/// A row about `key` itself (found) in `hive`.
pub fn key_row(kind: &'static str, hive: &LoadedHive, path: &str, key: &regf::Key<'_>) -> KeyRow {
    KeyRow {
        kind,
        hive_file: hive.path.clone(),
        hive: hive.kind.rule_hive(),
        user: hive.user.clone(),
        key_path: path.to_string(),
        found: true,
        key_last_write: key.last_written().to_string(),
        ..KeyRow::default()
    }
}

/// A row about value `value` of `key` (found) in `hive`.
pub fn value_row(
    kind: &'static str,
    hive: &LoadedHive,
    path: &str,
    key: &regf::Key<'_>,
    value: &regf::Value<'_>,
) -> KeyRow {
    let (data, note, damaged) = match value.data() {
        Ok(d) => (render(&d), String::new(), false),
        Err(e) => (String::new(), format!("data unreadable: {e}"), true),
    };
    KeyRow {
        value_name: value.name(),
        value_type: type_name(value.value_type()),
        data,
        note,
        damaged,
        ..key_row(kind, hive, path, key)
    }
}

/// Rows for every value of the key at `path` (nothing if the key is absent).
pub fn all_values(writer: &KeyWriter<'_>, kind: &'static str, hive: &LoadedHive, path: &str) {
    let key = match hive.hive.open_key(path) {
        Ok(Some(key)) => key,
        Ok(None) => return,
        Err(e) => return writer.problems(hive, &[format!("{path}: {e}")]),
    };
    match key.values() {
        Ok(values) => {
            for value in values {
                writer.write(value_row(kind, hive, path, &key, &value));
            }
        }
        Err(e) => writer.problems(hive, &[format!("{path}: values: {e}")]),
    }
}

/// Keys matching a pattern (see [`find_keys`]).
pub struct KeyMatches<'h> {
    /// The keys found, with their paths.
    pub keys: Vec<(String, regf::Key<'h>)>,
    /// True when more than [`MAX_MATCHES`] matched and the list was cut.
    pub cut: bool,
    /// Damage met on the way: keys that could not be searched. With any, an
    /// empty `keys` does not mean "not present".
    pub problems: Vec<String>,
}

/// The keys whose path matches `pattern` component by component (`\`-separated;
/// `*` and `?` stay within one component), with their paths; at most
/// [`MAX_MATCHES`], the flag says whether the list was cut.
pub fn find_keys<'h>(hive: &'h regf::Hive, pattern: &str) -> KeyMatches<'h> {
    let mut problems = Vec::new();
    let root = match hive.root() {
        Ok(root) => root,
        Err(e) => {
            return KeyMatches {
                keys: Vec::new(),
                cut: false,
                problems: vec![format!("root key unreadable: {e}")],
            }
        }
    };
    let mut current = vec![(String::new(), root)];
    let mut cut = false;
    for component in pattern.split('\\').filter(|c| !c.is_empty()) {
        let mut next = Vec::new();
        let wild = component.contains(['*', '?']);
        let glob = if wild {
            Glob::new(component).ok()
        } else {
            None
        };
        for (path, key) in &current {
            let join = |name: String| {
                if path.is_empty() {
                    name
                } else {
                    format!("{path}\\{name}")
                }
            };
            let shown = if path.is_empty() { "(root)" } else { path };
            if let Some(glob) = &glob {
                match key.subkeys() {
                    Ok(children) => {
                        for child in children {
                            let name = child.name();
                            if glob.matches(&name) {
                                next.push((join(name), child));
                            }
                        }
                    }
                    Err(e) => problems.push(format!("{shown}: subkeys unreadable: {e}")),
                }
            } else {
                match key.subkey(component) {
                    Ok(Some(child)) => next.push((join(child.name()), child)),
                    Ok(None) => {}
                    Err(e) => problems.push(format!("{shown}: looking for {component}: {e}")),
                }
            }
            if next.len() > MAX_MATCHES {
                next.truncate(MAX_MATCHES);
                cut = true;
                break;
            }
        }
        current = next;
        if current.is_empty() {
            break;
        }
    }
    KeyMatches {
        keys: current,
        cut,
        problems,
    }
}
