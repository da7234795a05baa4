//! The Windows 8.0 to 11 formats: a header, then variable-size entries, each starting
//! with a four-byte tag, a checksum and the size of the rest of the record. Entries
//! follow each other without gaps; the unused end of the value is zero.

use crate::format::{Format, TAG_00TS, TAG_10TS, WIN8_HEADER_LEN};
use crate::{Entry, Error, Result, ShimCache};
use binview::View;

/// Tag, checksum, record size.
const RECORD_PREFIX_LEN: usize = 12;

/// Header length, tag, and where the header keeps the entry count.
fn layout(format: Format) -> (usize, [u8; 4], Option<usize>) {
    match format {
        Format::Win80 => (WIN8_HEADER_LEN, TAG_00TS, None),
        Format::Win81 => (WIN8_HEADER_LEN, TAG_10TS, None),
        Format::Win10Creators => (0x34, TAG_10TS, Some(0x28)),
        _ => (0x30, TAG_10TS, Some(0x24)),
    }
}

pub(crate) fn parse(blob: &[u8], format: Format) -> Result<ShimCache> {
    let (header_len, tag, count_at) = layout(format);
    if blob.len() < header_len {
        return Err(Error::TruncatedHeader {
            len: blob.len(),
            needed: header_len,
        });
    }
    let view = View::new(blob);
    let header_entry_count = count_at.and_then(|at| view.u32_at(at));
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    let mut offset = header_len;
    let mut position = 0u32;
    while let Some(found) = view.array::<4>(offset) {
        if found != tag {
            if found != [0; 4] {
                problems.push(Error::BadSignature {
                    position,
                    offset,
                    found,
                    expected: tag,
                });
            }
            break;
        }
        let bad = |what| Error::BadEntry {
            position,
            offset,
            what,
        };
        let Some(record) = view
            .u32_at(offset + 8)
            .and_then(|size| view.bytes(offset + RECORD_PREFIX_LEN, size as usize))
        else {
            problems.push(bad("record runs past the end of the blob"));
            offset = blob.len();
            break;
        };
        match read_record(View::new(record), format) {
            Ok(entry) => entries.push(Entry {
                position,
                offset,
                ..entry
            }),
            Err(what) => problems.push(bad(what)),
        }
        offset += RECORD_PREFIX_LEN + record.len();
        position += 1;
    }
    let rest = blob.get(offset..).unwrap_or_default();
    if rest.iter().any(|&b| b != 0) {
        problems.push(Error::TrailingData {
            offset,
            len: rest.len(),
        });
    }
    if let Some(count) = header_entry_count {
        if count as usize != entries.len() {
            problems.push(Error::CountMismatch {
                count,
                found: entries.len(),
            });
        }
    }
    Ok(ShimCache {
        format,
        header_entry_count,
        entries,
        problems,
    })
}

/// Decodes the part of a record after its size field.
fn read_record(record: View<'_>, format: Format) -> Result<Entry, &'static str> {
    const CUT: &str = "fields run past the record size";
    let path_len = usize::from(record.u16_at(0).ok_or(CUT)?);
    let path = record.utf16_at(2, path_len).ok_or(CUT)?;
    let mut at = 2 + path_len;
    let mut entry = Entry {
        path,
        ..Entry::default()
    };
    if matches!(format, Format::Win80 | Format::Win81) {
        let package_len = usize::from(record.u16_at(at).ok_or(CUT)?);
        at += 2 + package_len;
        entry = entry.with_insert_flags(record.u32_at(at).ok_or(CUT)?);
        at += 8; // insert flags, shim flags
    }
    entry.last_modified = record.filetime_at(at).ok_or(CUT)?;
    let data_size = record.u32_at(at + 8).ok_or(CUT)?;
    record.bytes(at + 12, data_size as usize).ok_or(CUT)?;
    entry.data_size = Some(u64::from(data_size));
    Ok(entry)
}
