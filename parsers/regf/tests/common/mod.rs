//! Shared helpers for the integration tests: a full dump of a hive through our
//! reader, and the oracle runners (the corpus itself is found by testkit).
#![allow(dead_code)]

pub mod hivexml;
pub mod regfexport;

use std::collections::BTreeMap;

/// One value as our reader sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueDump {
    pub name: String,
    pub type_code: u32,
    pub data: Vec<u8>,
}

/// One key as our reader sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyDump {
    pub last_written: u64,
    pub class_name: Option<String>,
    pub values: Vec<ValueDump>,
}

/// Every key of the hive by path (relative to the root, `\`-joined), asserting that
/// the walk met no damaged structure.
pub fn dump(hive: &regf::Hive) -> BTreeMap<String, KeyDump> {
    let mut out = BTreeMap::new();
    let mut failures = Vec::new();
    let problems = hive
        .walk(|path, key| {
            let values = match key.values() {
                Ok(v) => v,
                Err(e) => {
                    failures.push(format!("{path}: {e}"));
                    return;
                }
            };
            let values = values
                .iter()
                .map(|v| ValueDump {
                    name: v.name(),
                    type_code: v.value_type().code(),
                    data: v.raw_data().map(|d| d.into_owned()).unwrap_or_else(|e| {
                        failures.push(format!("{path}\\{}: {e}", v.name()));
                        Vec::new()
                    }),
                })
                .collect();
            out.insert(
                path.to_owned(),
                KeyDump {
                    last_written: key.last_written().raw(),
                    class_name: key.class_name().unwrap_or(None),
                    values,
                },
            );
        })
        .expect("root key readable");
    assert!(problems.is_empty(), "walk problems: {problems:?}");
    assert!(failures.is_empty(), "value problems: {failures:?}");
    out
}
