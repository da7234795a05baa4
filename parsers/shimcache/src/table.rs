//! The formats with a fixed-size entry table after the header: XP, Server 2003,
//! Vista/2008 and 7/2008 R2. The header states the entry count; paths live either in
//! the entry itself (XP) or elsewhere in the blob at an offset the entry gives.

use crate::format::Format;
use crate::{Entry, Error, Result, ShimCache};
use binview::View;

const XP_HEADER_LEN: usize = 400;
const XP_SLOT_LEN: usize = 552;
const XP_PATH_BYTES: usize = 528;
const NT52_HEADER_LEN: usize = 8;
const WIN7_HEADER_LEN: usize = 128;

/// A 2003 entry stores a file size where Vista stores insert flags (low u32) and shim
/// flags (high u32). Insert flags seen in practice are small bit sets, so any value
/// of 0x100 or more in that low u32 means a file size, i.e. Server 2003.
const MAX_PLAUSIBLE_INSERT_FLAGS: u32 = 0xFF;

pub(crate) fn parse_xp(blob: &[u8]) -> Result<ShimCache> {
    let header = header(blob, XP_HEADER_LEN)?;
    let used = header.u32_at(8).unwrap_or(0);
    let (entries, problems) = read_table(blob, XP_HEADER_LEN, XP_SLOT_LEN, used, |slot| {
        let raw = slot
            .utf16_at(0, XP_PATH_BYTES)
            .ok_or("path outside the slot")?;
        let path = raw.split('\0').next().unwrap_or_default().to_owned();
        Ok(Entry {
            path,
            last_modified: slot.filetime_at(528).ok_or("slot cut short")?,
            file_size: slot.u64_at(536),
            last_update: slot.filetime_at(544),
            ..Entry::default()
        })
    });
    Ok(ShimCache {
        format: Format::WinXp,
        header_entry_count: Some(used),
        entries,
        problems,
    })
}

pub(crate) fn parse_nt52_vista(blob: &[u8]) -> Result<ShimCache> {
    let header = header(blob, NT52_HEADER_LEN)?;
    let count = header.u32_at(4).unwrap_or(0);
    let is_64bit = is_64bit_table(blob, NT52_HEADER_LEN, count);
    let entry_len = if is_64bit { 32 } else { 24 };
    let tail = if is_64bit { 24 } else { 16 };
    let is_vista = (0..count as usize)
        .map_while(|i| View::new(blob).u32_at(NT52_HEADER_LEN + i * entry_len + tail))
        .all(|low| low <= MAX_PLAUSIBLE_INSERT_FLAGS);
    let (entries, problems) = read_table(blob, NT52_HEADER_LEN, entry_len, count, |entry| {
        let base = counted_path_entry(blob, entry, is_64bit)?;
        if is_vista {
            Ok(base.with_insert_flags(entry.u32_at(tail).ok_or("entry cut short")?))
        } else {
            Ok(Entry {
                file_size: entry.u64_at(tail),
                ..base
            })
        }
    });
    let format = if is_vista {
        Format::Vista { is_64bit }
    } else {
        Format::Win2003 { is_64bit }
    };
    Ok(ShimCache {
        format,
        header_entry_count: Some(count),
        entries,
        problems,
    })
}

pub(crate) fn parse_win7(blob: &[u8]) -> Result<ShimCache> {
    let header = header(blob, WIN7_HEADER_LEN)?;
    let count = header.u32_at(4).unwrap_or(0);
    let is_64bit = is_64bit_table(blob, WIN7_HEADER_LEN, count);
    let (entry_len, flags_at) = if is_64bit { (48, 24) } else { (32, 16) };
    let (entries, problems) = read_table(blob, WIN7_HEADER_LEN, entry_len, count, |entry| {
        let base = counted_path_entry(blob, entry, is_64bit)?;
        let data_size = if is_64bit {
            entry.u64_at(flags_at + 8)
        } else {
            entry.u32_at(flags_at + 8).map(u64::from)
        };
        let flags = entry.u32_at(flags_at).ok_or("entry cut short")?;
        Ok(Entry {
            data_size,
            ..base.with_insert_flags(flags)
        })
    });
    Ok(ShimCache {
        format: Format::Win7 { is_64bit },
        header_entry_count: Some(count),
        entries,
        problems,
    })
}

/// The header as a view, or the error for a blob shorter than it.
fn header(blob: &[u8], needed: usize) -> Result<View<'_>> {
    match blob.get(..needed) {
        Some(bytes) => Ok(View::new(bytes)),
        None => Err(Error::TruncatedHeader {
            len: blob.len(),
            needed,
        }),
    }
}

/// 64-bit entries start with path length, maximum length and four zero padding
/// bytes before a u64 path offset; 32-bit entries have the (never zero, since paths
/// follow the table) u32 path offset in those bytes.
fn is_64bit_table(blob: &[u8], header_len: usize, count: u32) -> bool {
    count > 0 && View::new(blob).u32_at(header_len + 4) == Some(0)
}

/// Reads `count` entries of `entry_len` bytes after the header with `read`, which
/// sees one entry's bytes; numbering and offsets are filled in here. Entries that do
/// not fit are reported once; unreadable entries are reported and skipped.
fn read_table(
    blob: &[u8],
    header_len: usize,
    entry_len: usize,
    count: u32,
    read: impl Fn(View<'_>) -> Result<Entry, &'static str>,
) -> (Vec<Entry>, Vec<Error>) {
    let mut problems = Vec::new();
    let room = blob.len().saturating_sub(header_len) / entry_len;
    if count as usize > room {
        problems.push(Error::CountExceedsBlob { count, room });
    }
    let mut entries = Vec::with_capacity(room.min(count as usize));
    for (index, offset) in (0..room.min(count as usize)).map(|i| (i, header_len + i * entry_len)) {
        let position = index as u32;
        let bytes = blob.get(offset..offset + entry_len).unwrap_or_default();
        match read(View::new(bytes)) {
            Ok(entry) => entries.push(Entry {
                position,
                offset,
                ..entry
            }),
            Err(what) => problems.push(Error::BadEntry {
                position,
                offset,
                what,
            }),
        }
    }
    (entries, problems)
}

/// The part shared by 2003, Vista and 7 entries: a counted path stored elsewhere in
/// the blob and the last-modified time.
fn counted_path_entry(blob: &[u8], entry: View<'_>, is_64bit: bool) -> Result<Entry, &'static str> {
    let path_len = entry.u16_at(0).ok_or("entry cut short")?;
    let (path_offset, modified_at) = if is_64bit {
        (entry.u64_at(8).and_then(|o| usize::try_from(o).ok()), 16)
    } else {
        (entry.u32_at(4).map(|o| o as usize), 8)
    };
    let path = path_offset
        .and_then(|offset| View::new(blob).utf16_at(offset, usize::from(path_len)))
        .ok_or("path lies outside the blob")?;
    Ok(Entry {
        path,
        last_modified: entry.filetime_at(modified_at).ok_or("entry cut short")?,
        ..Entry::default()
    })
}
