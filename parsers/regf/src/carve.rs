//! Hive bins found loose, outside any hive file (deleted hives in unallocated
//! clusters), put back together by the offsets they carry.
//!
//! Every hive bin starts with `hbin`, its own offset relative to the hive bins data
//! (offset 4), and its size (offset 8, a multiple of 4096). Cell references are
//! relative to the same origin, so bins placed at their stated offsets in an
//! otherwise empty buffer resolve each other's references exactly as in the
//! original file; references into bins that were not found land on zeroed space and
//! fail as "not allocated", never as wrong data. The base block, when it survived,
//! contributes the hive's name and root; without it the hive is opened with a
//! synthetic one.

use crate::base_block::{BaseBlock, BASE_BLOCK_SIZE, OFF_HBINS_SIZE};
use crate::bytes::View;
use crate::cell::NO_CELL;
use crate::error::Result;
use crate::hive::{Hive, MAX_KEY_DEPTH};
use crate::key::Key;

/// Bytes in a hive bin header.
const BIN_HEADER_SIZE: usize = 32;
/// Largest hive rebuilt from carved bins. Real hives stay far below (SOFTWARE is
/// ~100 MiB); a bin claiming an offset beyond this is not believed.
pub const MAX_CARVED_HIVE: u32 = 512 << 20;
/// Key node flag: the root key of a hive.
const KEY_HIVE_ENTRY: u16 = 0x0004;

/// A hive bin header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BinHeader {
    /// Offset of the bin relative to the hive bins data.
    pub offset: u32,
    /// Size of the bin in bytes (header included).
    pub size: u32,
}

/// Reads a hive bin header, accepting only values a real hive can have.
pub fn bin_header(bytes: &[u8]) -> Option<BinHeader> {
    let v = View::new(bytes, 0, "hive bin");
    if v.slice(0, 4).ok()? != b"hbin" {
        return None;
    }
    let offset = v.u32(4).ok()?;
    let size = v.u32(8).ok()?;
    let plausible = offset % 4096 == 0
        && size % 4096 == 0
        && size != 0
        && offset
            .checked_add(size)
            .is_some_and(|end| end <= MAX_CARVED_HIVE);
    plausible.then_some(BinHeader { offset, size })
}

/// Cell offsets (relative to the hive bins data) of the allocated key nodes in one
/// bin. `bin` is the whole bin as found.
pub fn key_cells(bin: &[u8]) -> Vec<u32> {
    let Some(header) = bin_header(bin) else {
        return Vec::new();
    };
    let end = (header.size as usize).min(bin.len());
    let view = View::new(bin, 0, "hive bin");
    let mut out = Vec::new();
    let mut at = BIN_HEADER_SIZE;
    while at + 8 <= end {
        let Ok(size) = view.i32(at) else { break };
        let len = size.unsigned_abs() as usize;
        // Cells are 8-byte multiples and never cross their bin.
        if len < 8 || len % 8 != 0 || at + len > end {
            break;
        }
        if size < 0 && view.slice(at + 4, 2).ok() == Some(b"nk".as_slice()) {
            out.push(header.offset + at as u32);
        }
        at += len;
    }
    out
}

impl Hive {
    /// Rebuilds a hive from loose bins (each given whole, with its header) and, if
    /// found, the base block that preceded them. Bins overlapping an earlier one are
    /// dropped.
    pub fn from_carved(base_block: Option<&[u8]>, bins: &[&[u8]]) -> Result<Hive> {
        let placed: Vec<(BinHeader, &[u8])> = bins
            .iter()
            .filter_map(|b| Some((bin_header(b)?, *b)))
            .collect();
        let data_len = placed
            .iter()
            .map(|(h, _)| h.offset + h.size)
            .max()
            .unwrap_or(0);
        let mut bytes = vec![0u8; BASE_BLOCK_SIZE + data_len as usize];
        match base_block.and_then(|b| b.get(..BASE_BLOCK_SIZE)) {
            Some(base) => bytes[..BASE_BLOCK_SIZE].copy_from_slice(base),
            None => {
                bytes[..4].copy_from_slice(b"regf");
                bytes[36..40].copy_from_slice(&NO_CELL.to_le_bytes());
            }
        }
        // The data size is what was found, whatever the base block claims.
        bytes[OFF_HBINS_SIZE..OFF_HBINS_SIZE + 4].copy_from_slice(&data_len.to_le_bytes());
        let mut filled = vec![false; (data_len / 4096) as usize];
        for (header, bin) in placed {
            let pages =
                (header.offset / 4096) as usize..((header.offset + header.size) / 4096) as usize;
            if filled[pages.clone()].iter().any(|&f| f) {
                continue;
            }
            filled[pages].iter_mut().for_each(|f| *f = true);
            let len = (header.size as usize).min(bin.len());
            let at = BASE_BLOCK_SIZE + header.offset as usize;
            bytes[at..at + len].copy_from_slice(&bin[..len]);
        }
        let base = BaseBlock::parse(&bytes)?;
        Ok(Hive::with_base(bytes, base))
    }

    /// The key node at cell `offset` (as [`key_cells`] reports them).
    pub fn key_at(&self, offset: u32) -> Result<Key<'_>> {
        Key::at(self, offset)
    }

    /// The path of `key` from its hive's root (`\`-joined, root excluded, as
    /// [`Hive::walk`] gives it), and whether the chain of parents reached the root.
    /// A chain broken by a missing bin starts with `?`.
    pub fn path_of(&self, key: &Key<'_>) -> (String, bool) {
        let mut names = Vec::new();
        let mut current = *key;
        for _ in 0..MAX_KEY_DEPTH {
            if current.flags() & KEY_HIVE_ENTRY != 0 {
                names.reverse();
                return (names.join("\\"), true);
            }
            names.push(current.name());
            match self.key_at(current.parent_offset()) {
                Ok(parent) => current = parent,
                Err(_) => break,
            }
        }
        names.push("?".into());
        names.reverse();
        (names.join("\\"), false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bin at hive offset `offset` holding one allocated nk cell named `name`
    /// whose parent is `parent` (flags 0x24: root + ASCII name when `root`).
    fn bin_with_key(offset: u32, name: &str, parent: u32, root: bool) -> Vec<u8> {
        let mut bin = vec![0u8; 4096];
        bin[..4].copy_from_slice(b"hbin");
        bin[4..8].copy_from_slice(&offset.to_le_bytes());
        bin[8..12].copy_from_slice(&4096u32.to_le_bytes());
        let cell_len = (4 + 76 + name.len()).next_multiple_of(8);
        let c = BIN_HEADER_SIZE;
        bin[c..c + 4].copy_from_slice(&(-(cell_len as i32)).to_le_bytes());
        let p = c + 4;
        bin[p..p + 2].copy_from_slice(b"nk");
        let flags: u16 = if root { 0x24 } else { 0x20 };
        bin[p + 2..p + 4].copy_from_slice(&flags.to_le_bytes());
        bin[p + 16..p + 20].copy_from_slice(&parent.to_le_bytes());
        bin[p + 28..p + 32].copy_from_slice(&NO_CELL.to_le_bytes());
        bin[p + 40..p + 44].copy_from_slice(&NO_CELL.to_le_bytes());
        bin[p + 48..p + 52].copy_from_slice(&NO_CELL.to_le_bytes());
        bin[p + 72..p + 74].copy_from_slice(&(name.len() as u16).to_le_bytes());
        bin[p + 76..p + 76 + name.len()].copy_from_slice(name.as_bytes());
        // The rest of the bin is one free cell.
        let free = c + cell_len;
        bin[free..free + 4].copy_from_slice(&((4096 - free) as i32).to_le_bytes());
        bin
    }

    #[test]
    fn loose_bins_resolve_paths_across_bins() {
        let root = bin_with_key(0, "ROOT", NO_CELL, true);
        let child = bin_with_key(8192, "Run", 32, false);
        assert_eq!(key_cells(&root), vec![32]);
        assert_eq!(key_cells(&child), vec![8192 + 32]);
        let hive = Hive::from_carved(None, &[&child, &root]).unwrap();
        let key = hive.key_at(8192 + 32).unwrap();
        assert_eq!(hive.path_of(&key), ("Run".to_string(), true));
        // Without the root's bin the chain is broken and says so.
        let alone = Hive::from_carved(None, &[&child]).unwrap();
        let key = alone.key_at(8192 + 32).unwrap();
        assert_eq!(alone.path_of(&key), ("?\\Run".to_string(), false));
    }

    #[test]
    fn implausible_bins_are_refused() {
        let mut bin = bin_with_key(0, "A", NO_CELL, true);
        bin[4..8].copy_from_slice(&MAX_CARVED_HIVE.to_le_bytes());
        assert_eq!(bin_header(&bin), None);
        bin[4..8].copy_from_slice(&100u32.to_le_bytes());
        assert_eq!(bin_header(&bin), None);
        assert!(key_cells(&bin).is_empty());
        assert!(key_cells(b"hbin").is_empty());
    }
}
