//! Key nodes (`nk` cells).
//!
//! Layout of the cell payload: `nk` (0), flags (2), last written FILETIME (4), access
//! bits (12), parent (16), subkey count (20), volatile subkey count (24), subkey list
//! offset (28), volatile subkey list offset (32, meaningless on disk), value count
//! (36), value list offset (40), security offset (44), class name offset (48), five
//! size hints (52..72), key name length (72), class name length (74), key name (76).
//! Flag 0x0020 means the name is stored one byte per character.

use std::collections::{HashMap, HashSet};

use crate::bytes::View;
use crate::cell::NO_CELL;
use crate::error::{Error, Result};
use crate::hive::Hive;
use crate::subkey_list;
use crate::text;
use crate::value::Value;
use filetime::Filetime;

const FLAG_COMPRESSED_NAME: u16 = 0x0020;
const NAME_OFFSET: usize = 76;

/// One registry key, borrowed from its [`Hive`].
#[derive(Clone, Copy, Debug)]
pub struct Key<'h> {
    hive: &'h Hive,
    offset: u32,
    nk: View<'h>,
}

impl<'h> Key<'h> {
    /// Reads the key node at cell `offset`.
    pub(crate) fn at(hive: &'h Hive, offset: u32) -> Result<Self> {
        let nk = hive.cells().get(offset, "key node")?;
        nk.expect_signature("nk")?;
        // Validate the name now so accessors below cannot fail.
        let name_len = usize::from(nk.u16(72)?);
        nk.slice(NAME_OFFSET, name_len)?;
        nk.u32(48)?;
        Ok(Key { hive, offset, nk })
    }

    /// Cell offset of this key node (relative to the hive bins data); unique per key.
    pub fn offset(&self) -> u32 {
        self.offset
    }

    fn field(&self, off: usize) -> u32 {
        // Every field below 76 was checked in `at` (the name follows them).
        self.nk.u32(off).unwrap_or(0)
    }

    /// Key node flags (0x0004 root, 0x0010 symbolic link, 0x0020 ASCII name...).
    pub fn flags(&self) -> u16 {
        self.nk.u16(2).unwrap_or(0)
    }

    /// The key's name, decoded from ASCII (Latin-1) or UTF-16LE.
    pub fn name(&self) -> String {
        let len = usize::from(self.nk.u16(72).unwrap_or(0));
        let raw = self.nk.slice(NAME_OFFSET, len).unwrap_or(&[]);
        if self.flags() & FLAG_COMPRESSED_NAME != 0 {
            text::latin1(raw)
        } else {
            text::utf16le(raw)
        }
    }

    /// When the key (its name, values or subkey set) was last changed.
    pub fn last_written(&self) -> Filetime {
        Filetime::from_raw(self.nk.u64(4).unwrap_or(0))
    }

    /// Cell offset of the parent key node.
    pub fn parent_offset(&self) -> u32 {
        self.field(16)
    }

    /// The class name, if the key has one (UTF-16LE; some tools hide data here).
    pub fn class_name(&self) -> Result<Option<String>> {
        let offset = self.field(48);
        let len = usize::from(self.nk.u16(74).unwrap_or(0));
        if offset == NO_CELL || len == 0 {
            return Ok(None);
        }
        let cell = self.hive.cells().get(offset, "class name")?;
        Ok(Some(text::utf16le(cell.slice(0, len)?)))
    }

    /// Number of (non-volatile) subkeys the node claims.
    pub fn subkey_count(&self) -> u32 {
        self.field(20)
    }

    /// Number of values the node claims.
    pub fn value_count(&self) -> u32 {
        self.field(36)
    }

    /// Cell offsets of the subkey nodes, in stored (sorted) order.
    fn subkey_offsets(&self) -> Result<Vec<u32>> {
        let list = self.field(28);
        let mut out = Vec::new();
        if self.subkey_count() != 0 && list != NO_CELL {
            subkey_list::collect(&self.hive.cells(), list, &mut out)?;
        }
        Ok(out)
    }

    /// The subkeys one by one: the error of a list that cannot be read, else each
    /// subkey or the reason it cannot be read, so a damaged bin costs the keys in
    /// it and not their siblings.
    pub fn subkey_results(&self) -> Result<Vec<Result<Key<'h>>>> {
        Ok(self
            .subkey_offsets()?
            .into_iter()
            .map(|off| Key::at(self.hive, off))
            .collect())
    }

    /// The subkeys (stable ones only; volatile keys never reach the file).
    pub fn subkeys(&self) -> Result<Vec<Key<'h>>> {
        self.subkey_offsets()?
            .into_iter()
            .map(|off| Key::at(self.hive, off))
            .collect()
    }

    /// The subkey called `name` (case-insensitive), if any. `Ok(None)` only when
    /// the whole list was read and holds as many keys as the node claims: a key
    /// missing from a damaged list is an error, not an absence.
    pub fn subkey(&self, name: &str) -> Result<Option<Key<'h>>> {
        let offsets = self.subkey_offsets()?;
        for &off in &offsets {
            let key = Key::at(self.hive, off)?;
            if text::eq_ignore_case(&key.name(), name) {
                return Ok(Some(key));
            }
        }
        self.check_count("subkey", self.subkey_count(), offsets.len())?;
        Ok(None)
    }

    /// An error when the node claims more entries than its list holds.
    fn check_count(&self, what: &'static str, claimed: u32, listed: usize) -> Result<()> {
        if claimed as usize > listed {
            return Err(Error::CountMismatch {
                offset: self.offset,
                what,
                claimed,
                listed,
            });
        }
        Ok(())
    }

    /// The value list as stored, bounded by the cell's own size whatever the
    /// count claims.
    fn value_list(&self) -> Result<Vec<u32>> {
        let count = self.value_count() as usize;
        let list = self.field(40);
        if count == 0 || list == NO_CELL {
            return Ok(Vec::new());
        }
        let cell = self.hive.cells().get(list, "value list")?;
        let available = cell.bytes().len() / 4;
        (0..count.min(available)).map(|i| cell.u32(i * 4)).collect()
    }

    /// Cell offsets of the values, each once, where the list first names it (see
    /// [`Key::value_problems`]), and the number of entries the list holds.
    fn value_offsets(&self) -> Result<(Vec<u32>, usize)> {
        let mut listed = self.value_list()?;
        let entries = listed.len();
        let mut seen = HashSet::with_capacity(entries);
        listed.retain(|&off| seen.insert(off));
        Ok((listed, entries))
    }

    /// Damage in the value list that reading values passes over: a value record
    /// the list names more than once (read once), and a value count larger than
    /// the list holds. An unreadable list is the error of [`Key::values`], not
    /// repeated here.
    pub fn value_problems(&self) -> Vec<Error> {
        let Ok(listed) = self.value_list() else {
            return Vec::new();
        };
        let mut problems = Vec::new();
        if let Err(e) = self.check_count("value", self.value_count(), listed.len()) {
            problems.push(e);
        }
        let mut times: HashMap<u32, usize> = HashMap::with_capacity(listed.len());
        for &off in &listed {
            *times.entry(off).or_default() += 1;
        }
        let mut reported = HashSet::new();
        for &off in &listed {
            let n = times.get(&off).copied().unwrap_or(1);
            if n > 1 && reported.insert(off) {
                problems.push(Error::ValueRepeated {
                    key: self.offset,
                    value: off,
                    times: n,
                });
            }
        }
        problems
    }

    /// All values of the key, in stored order.
    /// A value the list names twice is returned once ([`Key::value_problems`]
    /// reports the repeat).
    pub fn values(&self) -> Result<Vec<Value<'h>>> {
        self.value_offsets()?
            .0
            .into_iter()
            .map(|off| Value::at(self.hive, off))
            .collect()
    }

    /// The value called `name` (case-insensitive; `""` is the default value);
    /// `Ok(None)` only when the whole value list was read.
    pub fn value(&self, name: &str) -> Result<Option<Value<'h>>> {
        let (offsets, entries) = self.value_offsets()?;
        for &off in &offsets {
            let value = Value::at(self.hive, off)?;
            if text::eq_ignore_case(&value.name(), name) {
                return Ok(Some(value));
            }
        }
        self.check_count("value", self.value_count(), entries)?;
        Ok(None)
    }
}
