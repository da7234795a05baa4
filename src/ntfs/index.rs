//! Directory indexes (`$I30`): the entries of `$INDEX_ROOT` and of every in-use
//! `INDX` block of `$INDEX_ALLOCATION`.
//!
//! Rather than descend the B+ tree by child pointers (whose VCN units vary with the
//! cluster size), every block the `$BITMAP` marks in use is read in order: that
//! yields each live entry exactly once and cannot loop on a damaged tree.

use super::attribute::FileName;
use super::le::Fields;
use super::record::apply_fixups;
use super::stream::Stream;
use crate::evidence::ReadAt;

/// Entry flag: this is the last entry of the node (it carries no key).
const ENTRY_LAST: u32 = 0x02;

/// One name in a directory.
#[derive(Clone, Debug)]
pub struct IndexEntry {
    /// MFT record the name points to.
    pub record: u64,
    /// Sequence number the record must have for the entry to be current.
    pub sequence: u16,
    /// The `$FILE_NAME` key.
    pub name: FileName,
}

/// Entries of an index node; `node` starts at the node header.
pub fn node_entries(node: &[u8], out: &mut Vec<IndexEntry>) -> Result<(), String> {
    let f = Fields(node);
    let first = f.u32(0).ok_or("index node header cut short")? as usize;
    let used = (f.u32(4).ok_or("index node header cut short")? as usize).min(node.len());
    // Every node holds at least its last entry: entries starting inside the
    // header or past the used part are a damaged offset, not an empty node.
    if first < 16 || first.saturating_add(16) > used {
        return Err(format!(
            "entries offset {first} outside the node ({used} bytes used)"
        ));
    }
    let mut offset = first;
    let mut bad_keys = Vec::new();
    while offset + 16 <= used {
        // In bounds: the loop condition holds the 16-byte entry header.
        let file_ref = f.u64(offset).unwrap_or(0);
        let length = usize::from(f.u16(offset + 8).unwrap_or(0));
        let key_len = usize::from(f.u16(offset + 10).unwrap_or(0));
        let flags = f.u32(offset + 12).unwrap_or(0);
        if flags & ENTRY_LAST != 0 {
            break;
        }
        if length < 16 || offset + length > used {
            return Err(format!("index entry at {offset} has bad length {length}"));
        }
        let key = f
            .bytes(offset + 16, key_len)
            .ok_or_else(|| format!("index entry at {offset}: key outside the entry"))?;
        match FileName::parse(key) {
            Some(name) => out.push(IndexEntry {
                record: file_ref & 0x0000_FFFF_FFFF_FFFF,
                sequence: (file_ref >> 48) as u16,
                name,
            }),
            // A key that is no file name is a lost entry: say so, read on.
            None if key_len > 0 => bad_keys.push(offset),
            None => {}
        }
        offset += length;
    }
    match bad_keys.as_slice() {
        [] => Ok(()),
        [first, ..] => Err(format!(
            "{} index entries (first at {first}) hold no readable file name",
            bad_keys.len()
        )),
    }
}

/// Entries of an `$INDEX_ROOT` value (16-byte root header, then the node).
pub fn root_entries(value: &[u8], out: &mut Vec<IndexEntry>) -> Result<(), String> {
    let node = value.get(16..).ok_or("index root cut short")?;
    node_entries(node, out)
}

/// Entries of every in-use `INDX` block of an `$INDEX_ALLOCATION` stream.
pub fn allocation_entries(
    allocation: &Stream,
    bitmap: Option<&[u8]>,
    block_size: u64,
    out: &mut Vec<IndexEntry>,
    problems: &mut Vec<String>,
) {
    // Only blocks the run list maps can exist; a damaged size must not make us
    // try (and report) billions of unreadable blocks.
    let blocks = allocation.mapped_len() / block_size;
    let mut block = vec![0u8; block_size as usize];
    for index in 0..blocks {
        let in_use = bitmap.is_none_or(|b| {
            b.get((index / 8) as usize)
                .is_some_and(|byte| byte & (1 << (index % 8)) != 0)
        });
        if !in_use {
            continue;
        }
        let result = allocation
            .read_exact_at(&mut block, index * block_size)
            .map_err(|e| e.to_string())
            .and_then(|()| apply_fixups(&mut block, b"INDX"))
            .and_then(|()| node_entries(block.get(24..).unwrap_or_default(), out));
        if let Err(e) = result {
            problems.push(format!("index block {index}: {e}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A node header (entries at 16, `used` bytes used) and its last entry.
    fn node(first: u32) -> Vec<u8> {
        let mut n = vec![0u8; 32];
        n[..4].copy_from_slice(&first.to_le_bytes());
        n[4..8].copy_from_slice(&32u32.to_le_bytes());
        n[8..12].copy_from_slice(&32u32.to_le_bytes());
        n[16 + 8..16 + 10].copy_from_slice(&16u16.to_le_bytes());
        n[16 + 12..16 + 16].copy_from_slice(&ENTRY_LAST.to_le_bytes());
        n
    }

    #[test]
    fn an_empty_node_has_no_entries() {
        let mut out = Vec::new();
        node_entries(&node(16), &mut out).unwrap();
        assert!(out.is_empty());
    }

    /// An entries offset of 0xFFFFFFF0 once listed a folder of 11 files as empty.
    #[test]
    fn an_entries_offset_outside_the_node_is_damage() {
        for first in [0xFFFF_FFF0, 0, 8, 24] {
            let err = node_entries(&node(first), &mut Vec::new()).unwrap_err();
            assert!(err.contains("entries offset"), "{first}: {err}");
        }
    }
}
