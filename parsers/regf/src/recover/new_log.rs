//! New-format transaction logs (Windows 8.1 and later): a partial base block copy
//! (file type 6), then from offset 512 a sequence of `HvLE` log entries, each a
//! multiple of 512 bytes: signature (0), size (4), base block flags (8), sequence
//! number (12), hive bins data size (16), dirty page count (20), Hash-1 (24: Marvin32
//! of bytes 40..size), Hash-2 (32: Marvin32 of bytes 0..32), then `count` page
//! references (offset, size; relative to the hive bins data) and the pages
//! themselves, packed. A log may also hold stale entries from earlier rounds; only
//! entries continuing the primary's secondary sequence number count.

use super::marvin::{marvin32, REGISTRY_SEED};
use super::LogFile;
use crate::bytes::View;

const SECTOR: usize = 512;
const HEADER: usize = 40;

/// One verified log entry.
pub(crate) struct Entry<'a> {
    /// Which file it came from.
    pub log: LogFile,
    /// Sequence number the base block gets once it is applied.
    pub sequence: u32,
    /// Base block flags at the time of the entry.
    pub flags: u32,
    /// Hive bins data size at the time of the entry.
    pub hive_bins_data_size: u32,
    /// (offset in hive bins data, bytes) of each dirty page.
    pub pages: Vec<(usize, &'a [u8])>,
}

/// Why reading a log's entries stopped before its end.
pub(crate) struct Stop {
    /// What was wrong with the entry, and where.
    pub reason: String,
    /// The sequence number the damaged entry states (unverified): whether it would
    /// have continued the replayed chain (data lost) or is a stale leftover.
    pub sequence: Option<u32>,
}

/// Reads entries from offset 512 until the first that is missing, damaged or fails
/// its hashes (Windows stops there too). The reason for stopping, if it is not the
/// end of the file or zero fill, is returned as the second element.
pub(crate) fn entries(log: &[u8], which: LogFile) -> (Vec<Entry<'_>>, Option<Stop>) {
    let mut out = Vec::new();
    let mut pos = SECTOR;
    while pos < log.len() {
        match entry_at(log, pos, which) {
            Ok(Some((entry, size))) => {
                out.push(entry);
                pos += size;
            }
            Ok(None) => return (out, None),
            Err(why) => {
                let stop = Stop {
                    reason: format!("{which:?} entry at {pos:#x}: {why}"),
                    sequence: View::new(log, 0, "log entry")
                        .u32(pos.saturating_add(12))
                        .ok(),
                };
                return (out, Some(stop));
            }
        }
    }
    (out, None)
}

fn entry_at(log: &[u8], pos: usize, which: LogFile) -> Result<Option<(Entry<'_>, usize)>, String> {
    let rest = log.get(pos..).unwrap_or(&[]);
    let v = View::new(rest, pos as u64, "log entry");
    if v.slice(0, 4).map_err(|e| e.to_string())? != b"HvLE" {
        // Zero fill or stale bytes after the last entry.
        return Ok(None);
    }
    let size = v.u32(4).map_err(|e| e.to_string())? as usize;
    if size < HEADER || size % SECTOR != 0 || size > rest.len() {
        return Err(format!("impossible size {size}"));
    }
    let entry = v.slice(0, size).map_err(|e| e.to_string())?;
    let v = View::new(entry, pos as u64, "log entry");
    let hash1 = v.u64(24).map_err(|e| e.to_string())?;
    let hash2 = v.u64(32).map_err(|e| e.to_string())?;
    if marvin32(REGISTRY_SEED, entry.get(HEADER..).unwrap_or(&[])) != hash1 {
        return Err("Hash-1 mismatch".into());
    }
    if marvin32(REGISTRY_SEED, entry.get(..32).unwrap_or(&[])) != hash2 {
        return Err("Hash-2 mismatch".into());
    }
    let field = |off| v.u32(off).map_err(|e| e.to_string());
    let hive_bins_data_size = field(16)?;
    if hive_bins_data_size % 4096 != 0 {
        return Err(format!(
            "hive bins data size {hive_bins_data_size} is not a multiple of 4096"
        ));
    }
    let count = field(20)? as usize;
    let refs_len = count.checked_mul(8).ok_or("page count overflows")?;
    let mut data_pos = HEADER.checked_add(refs_len).ok_or("page count overflows")?;
    // Each reference needs 8 bytes, so `count` is bounded by the entry size.
    if data_pos > size {
        return Err(format!(
            "{count} page references do not fit in {size} bytes"
        ));
    }
    let mut pages = Vec::with_capacity(count);
    for i in 0..count {
        let offset = field(HEADER + i * 8)? as usize;
        let len = field(HEADER + i * 8 + 4)? as usize;
        let data = v.slice(data_pos, len).map_err(|e| e.to_string())?;
        pages.push((offset, data));
        data_pos += len;
    }
    Ok(Some((
        Entry {
            log: which,
            sequence: field(12)?,
            flags: field(8)?,
            hive_bins_data_size,
            pages,
        },
        size,
    )))
}
