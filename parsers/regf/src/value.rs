//! Key values (`vk` cells) and their data.
//!
//! Layout of the cell payload: `vk` (0), name length (2), data size (4), data offset
//! (8), data type (12), flags (16; 0x0001 = name stored one byte per character),
//! name (20). When the top bit of the data size is set, the data (at most 4 bytes)
//! sits in the data offset field itself. Otherwise the offset points at a cell with
//! the data or, for data over 16344 bytes in hives of minor version 4 and later, at a
//! `db` big data record: segment count (2), offset of a list of segment cells (4);
//! every segment but the last holds 16344 bytes.

use std::borrow::Cow;

use crate::bytes::{require_len, View};
use crate::cell::Cells;
use crate::error::{Error, Result};
use crate::hive::Hive;
use crate::text;

const FLAG_COMPRESSED_NAME: u16 = 0x0001;
const RESIDENT_FLAG: u32 = 0x8000_0000;
const BIG_DATA_SEGMENT: usize = 16344;
const NAME_OFFSET: usize = 20;

/// The declared type of a value. Unknown codes are kept, not rejected: SAM and other
/// hives abuse the type field to store numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueType {
    /// REG_NONE (0).
    None,
    /// REG_SZ (1).
    String,
    /// REG_EXPAND_SZ (2).
    ExpandString,
    /// REG_BINARY (3).
    Binary,
    /// REG_DWORD (4).
    Dword,
    /// REG_DWORD_BIG_ENDIAN (5).
    DwordBigEndian,
    /// REG_LINK (6).
    Link,
    /// REG_MULTI_SZ (7).
    MultiString,
    /// REG_RESOURCE_LIST (8).
    ResourceList,
    /// REG_FULL_RESOURCE_DESCRIPTOR (9).
    FullResourceDescriptor,
    /// REG_RESOURCE_REQUIREMENTS_LIST (10).
    ResourceRequirementsList,
    /// REG_QWORD (11).
    Qword,
    /// Any other code.
    Other(u32),
}

impl ValueType {
    /// Maps a raw type code.
    pub fn from_code(code: u32) -> Self {
        match code {
            0 => ValueType::None,
            1 => ValueType::String,
            2 => ValueType::ExpandString,
            3 => ValueType::Binary,
            4 => ValueType::Dword,
            5 => ValueType::DwordBigEndian,
            6 => ValueType::Link,
            7 => ValueType::MultiString,
            8 => ValueType::ResourceList,
            9 => ValueType::FullResourceDescriptor,
            10 => ValueType::ResourceRequirementsList,
            11 => ValueType::Qword,
            other => ValueType::Other(other),
        }
    }

    /// The raw type code.
    pub fn code(self) -> u32 {
        match self {
            ValueType::None => 0,
            ValueType::String => 1,
            ValueType::ExpandString => 2,
            ValueType::Binary => 3,
            ValueType::Dword => 4,
            ValueType::DwordBigEndian => 5,
            ValueType::Link => 6,
            ValueType::MultiString => 7,
            ValueType::ResourceList => 8,
            ValueType::FullResourceDescriptor => 9,
            ValueType::ResourceRequirementsList => 10,
            ValueType::Qword => 11,
            ValueType::Other(code) => code,
        }
    }
}

/// Value data interpreted according to its type. Data whose size does not fit its
/// type (a 2-byte DWORD, say) is returned as [`ValueData::Raw`] so nothing is lost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValueData {
    /// REG_SZ, up to the first NUL.
    String(String),
    /// REG_EXPAND_SZ (unexpanded), up to the first NUL.
    ExpandString(String),
    /// REG_LINK target (UTF-16LE, not NUL-terminated).
    Link(String),
    /// REG_MULTI_SZ strings.
    MultiString(Vec<String>),
    /// REG_DWORD, or REG_DWORD_BIG_ENDIAN already converted to a number.
    Dword(u32),
    /// REG_QWORD.
    Qword(u64),
    /// REG_NONE, REG_BINARY, the resource types, unknown types, and data whose size
    /// does not fit its type.
    Raw(Vec<u8>),
}

/// One value of a key, borrowed from its [`Hive`].
#[derive(Clone, Copy, Debug)]
pub struct Value<'h> {
    hive: &'h Hive,
    offset: u32,
    vk: View<'h>,
}

impl<'h> Value<'h> {
    /// Reads the value record at cell `offset`.
    pub(crate) fn at(hive: &'h Hive, offset: u32) -> Result<Self> {
        let vk = hive.cells().get(offset, "value")?;
        vk.expect_signature("vk")?;
        let name_len = usize::from(vk.u16(2)?);
        vk.slice(NAME_OFFSET, name_len)?;
        Ok(Value { hive, offset, vk })
    }

    /// Cell offset of the value record.
    pub fn offset(&self) -> u32 {
        self.offset
    }

    /// The value's name; empty for the key's default value.
    pub fn name(&self) -> String {
        let len = usize::from(self.vk.u16(2).unwrap_or(0));
        let raw = self.vk.slice(NAME_OFFSET, len).unwrap_or(&[]);
        if self.vk.u16(16).unwrap_or(0) & FLAG_COMPRESSED_NAME != 0 {
            text::latin1(raw)
        } else {
            text::utf16le(raw)
        }
    }

    /// The declared type.
    pub fn value_type(&self) -> ValueType {
        ValueType::from_code(self.vk.u32(12).unwrap_or(0))
    }

    /// Size of the data in bytes (resident flag removed).
    pub fn data_size(&self) -> u32 {
        self.vk.u32(4).unwrap_or(0) & !RESIDENT_FLAG
    }

    /// The data bytes exactly as stored (borrowed unless reassembled from big data).
    pub fn raw_data(&self) -> Result<Cow<'h, [u8]>> {
        let stored_size = self.vk.u32(4)?;
        let size = (stored_size & !RESIDENT_FLAG) as usize;
        if stored_size & RESIDENT_FLAG != 0 {
            // Resident data lives in the 4-byte offset field. A longer claim is
            // damage: cutting it to 4 would show offset bytes as the value.
            if size > 4 {
                return Err(Error::ResidentTooLong {
                    offset: self.offset,
                    size: size as u32,
                });
            }
            return Ok(Cow::Borrowed(self.vk.slice(8, size)?));
        }
        if size == 0 {
            return Ok(Cow::Borrowed(&[]));
        }
        let cells = self.hive.cells();
        let data_offset = self.vk.u32(8)?;
        let cell = cells.get(data_offset, "value data")?;
        if size > BIG_DATA_SEGMENT
            && self.hive.base_block().minor_version > 3
            && cell.slice(0, 2)? == b"db"
        {
            return big_data(&cells, &cell, size, self.offset).map(Cow::Owned);
        }
        cell.slice(0, size).map(Cow::Borrowed)
    }

    /// The data interpreted by type.
    pub fn data(&self) -> Result<ValueData> {
        let raw = self.raw_data()?;
        Ok(interpret(self.value_type(), &raw))
    }
}

/// Reassembles big data from its segments. Every segment is checked before a
/// byte is copied, and the whole is bounded by the hive bins data: segments that
/// repeat or overlap could otherwise turn a small hive into gigabytes.
fn big_data(cells: &Cells<'_>, db: &View<'_>, size: usize, value: u32) -> Result<Vec<u8>> {
    if size > cells.len() {
        return Err(Error::DataTooLarge {
            offset: value,
            size: size as u64,
            limit: cells.len() as u64,
        });
    }
    let count = usize::from(db.u16(2)?);
    let list_offset = db.u32(4)?;
    let list = cells.get(list_offset, "big data segment list")?;
    // At most hive size / 16344 segments are needed, whatever the count claims.
    let needed = size.div_ceil(BIG_DATA_SEGMENT).min(count);
    let mut parts = Vec::with_capacity(needed);
    let mut spans = Vec::with_capacity(needed);
    for i in 0..needed {
        let offset = list.u32(i.saturating_mul(4))?;
        let segment = cells.get(offset, "big data segment")?;
        let want = (size - i * BIG_DATA_SEGMENT).min(BIG_DATA_SEGMENT);
        parts.push(segment.slice(0, want)?);
        // The whole cell, size field included.
        let end = u64::from(offset) + 4 + segment.bytes().len() as u64;
        spans.push((u64::from(offset), end));
    }
    spans.sort_unstable();
    if let Some(pair) = spans.windows(2).find(|w| w[1].0 < w[0].1) {
        return Err(Error::SegmentReused {
            offset: list_offset,
            segment: pair[1].0 as u32,
        });
    }
    let mut out = Vec::with_capacity(size);
    for part in parts {
        out.extend_from_slice(part);
    }
    require_len(&out, size, "big data")?;
    Ok(out)
}

fn interpret(value_type: ValueType, raw: &[u8]) -> ValueData {
    let first = |n: usize| raw.get(..n);
    match value_type {
        ValueType::String => ValueData::String(text::utf16le_until_nul(raw)),
        ValueType::ExpandString => ValueData::ExpandString(text::utf16le_until_nul(raw)),
        ValueType::Link => ValueData::Link(text::utf16le(raw)),
        ValueType::MultiString => ValueData::MultiString(text::multi_sz(raw)),
        ValueType::Dword => match first(4) {
            Some(&[a, b, c, d]) if raw.len() == 4 => {
                ValueData::Dword(u32::from_le_bytes([a, b, c, d]))
            }
            _ => ValueData::Raw(raw.to_vec()),
        },
        ValueType::DwordBigEndian => match first(4) {
            Some(&[a, b, c, d]) if raw.len() == 4 => {
                ValueData::Dword(u32::from_be_bytes([a, b, c, d]))
            }
            _ => ValueData::Raw(raw.to_vec()),
        },
        ValueType::Qword => match first(8).and_then(|s| <[u8; 8]>::try_from(s).ok()) {
            Some(bytes) if raw.len() == 8 => ValueData::Qword(u64::from_le_bytes(bytes)),
            _ => ValueData::Raw(raw.to_vec()),
        },
        _ => ValueData::Raw(raw.to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_need_their_exact_size() {
        assert_eq!(
            interpret(ValueType::Dword, &[1, 0, 0, 0]),
            ValueData::Dword(1)
        );
        assert_eq!(
            interpret(ValueType::DwordBigEndian, &[0, 0, 0, 1]),
            ValueData::Dword(1)
        );
        assert_eq!(
            interpret(ValueType::Dword, &[1, 0]),
            ValueData::Raw(vec![1, 0])
        );
        assert_eq!(
            interpret(ValueType::Qword, &[2, 0, 0, 0, 0, 0, 0, 0]),
            ValueData::Qword(2)
        );
    }

    #[test]
    fn type_codes_round_trip() {
        for code in [0, 1, 7, 11, 0x1f4] {
            assert_eq!(ValueType::from_code(code).code(), code);
        }
    }
}
