//! The formats with a fixed-size entry table after the header: XP, Server 2003,
//! Vista/2008 and 7/2008 R2. The header states the entry count; paths live either in
//! the entry itself (XP) or elsewhere in the blob at an offset the entry gives.

use crate::format::Format;
use crate::{Entries, Entry, Error, Result, Walk};
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

pub(crate) fn xp(blob: &[u8]) -> Result<Entries<'_>> {
    let header = header(blob, XP_HEADER_LEN)?;
    let used = header.u32_at(8).unwrap_or(0);
    Ok(Entries {
        format: Format::WinXp,
        header_entry_count: Some(used),
        walk: Walk::Table(Table::new(blob, Kind::Xp, XP_HEADER_LEN, used)),
    })
}

pub(crate) fn nt52_vista(blob: &[u8]) -> Result<Entries<'_>> {
    let header = header(blob, NT52_HEADER_LEN)?;
    let count = header.u32_at(4).unwrap_or(0);
    let is_64bit = is_64bit_table(blob, NT52_HEADER_LEN, count);
    // The entry size is the same for 2003 and Vista, which tells them apart.
    let entry_len = Kind::Nt52 {
        is_64bit,
        is_vista: true,
    }
    .entry_len();
    let tail = nt52_tail(is_64bit);
    let is_vista = (0..count as usize)
        .map_while(|i| View::new(blob).u32_at(NT52_HEADER_LEN + i * entry_len + tail))
        .all(|low| low <= MAX_PLAUSIBLE_INSERT_FLAGS);
    let format = if is_vista {
        Format::Vista { is_64bit }
    } else {
        Format::Win2003 { is_64bit }
    };
    let kind = Kind::Nt52 { is_64bit, is_vista };
    Ok(Entries {
        format,
        header_entry_count: Some(count),
        walk: Walk::Table(Table::new(blob, kind, NT52_HEADER_LEN, count)),
    })
}

pub(crate) fn win7(blob: &[u8]) -> Result<Entries<'_>> {
    let header = header(blob, WIN7_HEADER_LEN)?;
    let count = header.u32_at(4).unwrap_or(0);
    let is_64bit = is_64bit_table(blob, WIN7_HEADER_LEN, count);
    Ok(Entries {
        format: Format::Win7 { is_64bit },
        header_entry_count: Some(count),
        walk: Walk::Table(Table::new(
            blob,
            Kind::Win7 { is_64bit },
            WIN7_HEADER_LEN,
            count,
        )),
    })
}

/// Which table layout an entry has, with what was told from the whole table.
#[derive(Clone, Copy)]
enum Kind {
    Xp,
    Nt52 { is_64bit: bool, is_vista: bool },
    Win7 { is_64bit: bool },
}

impl Kind {
    fn entry_len(self) -> usize {
        match self {
            Kind::Xp => XP_SLOT_LEN,
            Kind::Nt52 { is_64bit, .. } => {
                if is_64bit {
                    32
                } else {
                    24
                }
            }
            Kind::Win7 { is_64bit } => {
                if is_64bit {
                    48
                } else {
                    32
                }
            }
        }
    }

    /// Decodes one entry's bytes; `blob` holds the paths the entry points to.
    fn read(self, blob: &[u8], entry: View<'_>) -> Result<Entry, &'static str> {
        match self {
            Kind::Xp => read_xp(entry),
            Kind::Nt52 { is_64bit, is_vista } => {
                let base = counted_path_entry(blob, entry, is_64bit)?;
                let tail = nt52_tail(is_64bit);
                if is_vista {
                    Ok(base.with_insert_flags(entry.u32_at(tail).ok_or("entry cut short")?))
                } else {
                    Ok(Entry {
                        file_size: entry.u64_at(tail),
                        ..base
                    })
                }
            }
            Kind::Win7 { is_64bit } => {
                let base = counted_path_entry(blob, entry, is_64bit)?;
                let flags_at = if is_64bit { 24 } else { 16 };
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
            }
        }
    }
}

/// Where a 2003/Vista entry keeps its file size or flags, after the time.
fn nt52_tail(is_64bit: bool) -> usize {
    if is_64bit {
        24
    } else {
        16
    }
}

fn read_xp(slot: View<'_>) -> Result<Entry, &'static str> {
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
}

/// The entries of a table after the header, read one at a time: numbering and
/// offsets are filled in here. Entries that do not fit are reported once, before
/// the first; unreadable entries are reported and skipped.
pub(crate) struct Table<'a> {
    blob: &'a [u8],
    kind: Kind,
    header_len: usize,
    /// Entries to read: the header's count, or as many as fit.
    readable: usize,
    next: usize,
    /// A count larger than the blob has room for, not yet reported.
    overflow: Option<Error>,
}

impl<'a> Table<'a> {
    fn new(blob: &'a [u8], kind: Kind, header_len: usize, count: u32) -> Self {
        let room = blob.len().saturating_sub(header_len) / kind.entry_len();
        Table {
            blob,
            kind,
            header_len,
            readable: room.min(count as usize),
            next: 0,
            overflow: (count as usize > room).then_some(Error::CountExceedsBlob { count, room }),
        }
    }
}

impl Iterator for Table<'_> {
    type Item = Result<Entry, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(overflow) = self.overflow.take() {
            return Some(Err(overflow));
        }
        if self.next >= self.readable {
            return None;
        }
        let index = self.next;
        self.next += 1;
        // Below `readable`, the position fits u32 (the count did).
        let position = index as u32;
        let entry_len = self.kind.entry_len();
        let offset = self.header_len + index * entry_len;
        let bytes = self
            .blob
            .get(offset..offset + entry_len)
            .unwrap_or_default();
        Some(match self.kind.read(self.blob, View::new(bytes)) {
            Ok(entry) => Ok(Entry {
                position,
                offset,
                ..entry
            }),
            Err(what) => Err(Error::BadEntry {
                position,
                offset,
                what,
            }),
        })
    }
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
