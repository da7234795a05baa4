//! Walking a hive for a collector without losing damage silently: a key that is
//! absent is absent, but a key, subkey list or value list that cannot be read is an
//! errors.csv row naming the hive and the key, and the walk goes on with the rest.

use std::collections::HashSet;

use regf::{Hive, Key, Value, ValueData};

use super::value::{as_number, as_text, checked_data, render};

use crate::output::Stage;
use crate::pipeline::Sinks;

/// Reads keys of one hive on behalf of a collector, reporting what it cannot read.
pub struct Reader<'a> {
    out: &'a Sinks<'a>,
    volume: &'a str,
    /// Volume path of the hive, for errors.csv.
    hive_path: &'a str,
}

impl<'a> Reader<'a> {
    /// A reader reporting into `out` for the hive at `hive_path` on `volume`.
    pub fn new(out: &'a Sinks<'a>, volume: &'a str, hive_path: &'a str) -> Self {
        Reader {
            out,
            volume,
            hive_path,
        }
    }

    /// The sinks the collector writes its rows to.
    pub fn out(&self) -> &'a Sinks<'a> {
        self.out
    }

    /// The volume the hive is on.
    pub fn volume(&self) -> &'a str {
        self.volume
    }

    /// Volume path of the hive.
    pub fn hive_path(&self) -> &'a str {
        self.hive_path
    }

    /// An errors.csv row (stage `registry`) naming the hive: `what: error`.
    pub fn report(&self, what: &str, error: &dyn std::fmt::Display) {
        self.out.error(
            self.volume,
            self.hive_path,
            Stage::Registry,
            &format!("{what}: {error}"),
        );
    }

    /// The root key, or `None` (reported) when it cannot be read.
    pub fn root<'h>(&self, hive: &'h Hive) -> Option<Key<'h>> {
        hive.root()
            .map_err(|e| self.report("root key unreadable", &e))
            .ok()
    }

    /// The key at `path`: `None` when absent, and when unreadable (reported).
    pub fn open<'h>(&self, hive: &'h Hive, path: &str) -> Option<Key<'h>> {
        match hive.open_key(path) {
            Ok(key) => key,
            Err(e) => {
                self.report(&format!("key {path} unreadable"), &e);
                None
            }
        }
    }

    /// Subkey `name` of `key`: `None` when absent, and when unreadable (reported).
    pub fn subkey<'h>(&self, key: &Key<'h>, name: &str) -> Option<Key<'h>> {
        match key.subkey(name) {
            Ok(sub) => sub,
            Err(e) => {
                self.report(&format!("subkey {name} of {} unreadable", key.name()), &e);
                None
            }
        }
    }

    /// The subkeys of `key`; a list that cannot be read is reported and empty, a
    /// subkey that cannot be read is reported and skipped (its siblings are kept).
    pub fn subkeys<'h>(&self, key: &Key<'h>) -> Vec<Key<'h>> {
        let what = || format!("subkeys of {} unreadable", key.name());
        match key.subkey_results() {
            Ok(keys) => keys
                .into_iter()
                .filter_map(|k| k.map_err(|e| self.report(&what(), &e)).ok())
                .collect(),
            Err(e) => {
                self.report(&what(), &e);
                Vec::new()
            }
        }
    }

    /// The subkeys of `key` that a walk has not reached yet (`reached`: the
    /// offsets of the keys it has, these included once returned). A subkey
    /// reached a second time means a subkey list leads back into the tree (a
    /// cycle, or a key listed by two parents): reported and not returned, so a
    /// walk ends and lists each key once, under its first path.
    pub fn unreached_subkeys<'h>(&self, key: &Key<'h>, reached: &mut HashSet<u32>) -> Vec<Key<'h>> {
        let mut fresh = self.subkeys(key);
        fresh.retain(|child| {
            let first = reached.insert(child.offset());
            if !first {
                self.report(
                    &format!("subkeys of {}", key.name()),
                    &format_args!(
                        "subkey {} (cell {:#x}) was already reached: the subkey lists form a cycle",
                        child.name(),
                        child.offset()
                    ),
                );
            }
            first
        });
        fresh
    }

    /// The values of `key`; a list that cannot be read is reported and empty.
    pub fn values<'h>(&self, key: &Key<'h>) -> Vec<Value<'h>> {
        key.values().unwrap_or_else(|e| {
            self.report(&format!("values of {} unreadable", key.name()), &e);
            Vec::new()
        })
    }

    /// Value `name` of `key`, decoded: `None` when absent, and when the value list
    /// or its data cannot be read (reported).
    pub fn data(&self, key: &Key<'_>, name: &str) -> Option<ValueData> {
        checked_data(key, name)
            .map_err(|e| self.report(&format!("key {}", key.name()), &e))
            .ok()
            .flatten()
    }

    /// Value `name` of `key` as text for a cell: empty when absent or unreadable
    /// (reported).
    pub fn text(&self, key: &Key<'_>, name: &str) -> String {
        self.data(key, name).map(|d| render(&d)).unwrap_or_default()
    }

    /// Value `name` of `key` as a string (REG_SZ/REG_EXPAND_SZ) for a cell that
    /// holds a name or a path: empty when absent, and when unreadable or of
    /// another type (reported: a number is not a path).
    pub fn string(&self, key: &Key<'_>, name: &str) -> String {
        let Some(data) = self.data(key, name) else {
            return String::new();
        };
        match as_text(&data) {
            Ok(text) => text.to_string(),
            Err(why) => {
                self.report(&format!("value {name} of {}", key.name()), &why);
                String::new()
            }
        }
    }

    /// Value `name` of `key` as a number (DWORD/QWORD, or a decimal string):
    /// `None` when absent, and when unreadable or no number (reported: an
    /// empty cell must not hide what the hive holds).
    pub fn number(&self, key: &Key<'_>, name: &str) -> Option<u64> {
        let data = self.data(key, name)?;
        let number = as_number(&data);
        if number.is_none() {
            self.report(
                &format!("value {name} of {}", key.name()),
                &format_args!("not a number: {}", render(&data)),
            );
        }
        number
    }

    /// The raw bytes of value `name` of `key`: `None` when absent, and when
    /// unreadable (reported).
    pub fn bytes(&self, key: &Key<'_>, name: &str) -> Option<Vec<u8>> {
        let value = match key.value(name) {
            Ok(value) => value?,
            Err(e) => {
                self.report(&format!("value {name} of {} unreadable", key.name()), &e);
                return None;
            }
        };
        self.raw(key, &value)
    }

    /// The raw data of `value`, or `None` (reported) when it cannot be read.
    pub fn raw(&self, key: &Key<'_>, value: &Value<'_>) -> Option<Vec<u8>> {
        value
            .raw_data()
            .map_err(|e| {
                self.report(
                    &format!(
                        "data of value {} of {} unreadable",
                        value.name(),
                        key.name()
                    ),
                    &e,
                )
            })
            .ok()
            .map(|d| d.to_vec())
    }
}
