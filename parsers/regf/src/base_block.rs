//! The base block: the first 4096 bytes of a primary hive file (and the first 512
//! bytes of a transaction log, which holds a partial copy of it).
//!
//! Layout (offsets in bytes): `regf` signature (0), primary sequence number (4),
//! secondary sequence number (8), last written FILETIME (12), major/minor version
//! (20/24), file type (28: 0 primary, 1 or 2 old-format log, 6 new-format log), file
//! format (32), root cell offset (36), hive bins data size (40), clustering factor
//! (44), file name, the last 64 bytes of the path in UTF-16LE (48), flags (144), and
//! an XOR checksum of the first 508 bytes stored at 508. Windows writes the primary
//! sequence number before a write and the secondary one after it, so unequal numbers
//! mean an interrupted write: the hive is "dirty" and its logs hold the missing data.

use crate::bytes::View;
use crate::error::Result;
use filetime::Filetime;

/// Size of the base block in a primary file; hive bins data starts right after it.
pub const BASE_BLOCK_SIZE: usize = 4096;
/// The part of the base block covered by the checksum (and copied into logs).
pub(crate) const CHECKSUMMED_LEN: usize = 508;
pub(crate) const OFF_PRIMARY_SEQ: usize = 4;
pub(crate) const OFF_SECONDARY_SEQ: usize = 8;
pub(crate) const OFF_FILE_TYPE: usize = 28;
pub(crate) const OFF_HBINS_SIZE: usize = 40;
pub(crate) const OFF_FLAGS: usize = 144;
pub(crate) const OFF_CHECKSUM: usize = 508;

/// What the base block says about the file it heads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaseBlock {
    /// Incremented before each write of the primary file.
    pub primary_sequence: u32,
    /// Incremented after each completed write; equal to `primary_sequence` when clean.
    pub secondary_sequence: u32,
    /// When the hive was last written.
    pub last_written: Filetime,
    /// Format major version (1).
    pub major_version: u32,
    /// Format minor version (3 for NT 4, 5 for XP and later, 6 for some Win10 hives).
    pub minor_version: u32,
    /// 0 for a primary file, 1/2 for an old-format log, 6 for a new-format log.
    pub file_type: u32,
    /// Offset of the root key's cell, relative to the hive bins data.
    pub root_cell_offset: u32,
    /// Length of the hive bins data that follows the base block.
    pub hive_bins_data_size: u32,
    /// Sector multiplier; 1 on every Windows version seen.
    pub clustering_factor: u32,
    /// Tail of the path the hive was loaded from (e.g. `\??\C:\Windows\AppCompat\Programs\Amcache.hve`).
    pub file_name: String,
    /// Base block flags (bit 0: KTM locked; bit 1: defragmented).
    pub flags: u32,
    /// Checksum as stored.
    pub checksum: u32,
    /// Whether `checksum` matches the XOR of the first 508 bytes.
    pub checksum_ok: bool,
}

impl BaseBlock {
    /// Parses a base block (at least the first 512 bytes of a primary or log file).
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let v = View::new(bytes, 0, "base block");
        v.expect_signature("regf")?;
        let checksum = v.u32(OFF_CHECKSUM)?;
        let name = v.slice(48, 64)?;
        Ok(BaseBlock {
            primary_sequence: v.u32(OFF_PRIMARY_SEQ)?,
            secondary_sequence: v.u32(OFF_SECONDARY_SEQ)?,
            last_written: Filetime::from_raw(v.u64(12)?),
            major_version: v.u32(20)?,
            minor_version: v.u32(24)?,
            file_type: v.u32(OFF_FILE_TYPE)?,
            root_cell_offset: v.u32(36)?,
            hive_bins_data_size: v.u32(OFF_HBINS_SIZE)?,
            clustering_factor: v.u32(44)?,
            file_name: crate::text::utf16le_until_nul(name),
            flags: v.u32(OFF_FLAGS)?,
            checksum,
            checksum_ok: compute_checksum(bytes) == Some(checksum),
        })
    }

    /// True when the sequence numbers differ or the checksum is wrong: the primary
    /// file misses data that only its transaction logs hold.
    pub fn is_dirty(&self) -> bool {
        !self.checksum_ok || self.primary_sequence != self.secondary_sequence
    }
}

/// XOR of the first 127 little-endian u32 words, with 0 and 0xFFFFFFFF remapped to 1
/// and 0xFFFFFFFE as Windows does. `None` if fewer than 508 bytes are given.
pub(crate) fn compute_checksum(bytes: &[u8]) -> Option<u32> {
    let covered = bytes.get(..CHECKSUMMED_LEN)?;
    let xor = covered
        .chunks_exact(4)
        .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
        .fold(0u32, |acc, w| acc ^ w);
    Some(match xor {
        0 => 1,
        0xFFFF_FFFF => 0xFFFF_FFFE,
        x => x,
    })
}

/// Overwrites a little-endian u32 in a base block held in `bytes` (no-op if short).
pub(crate) fn put_u32(bytes: &mut [u8], off: usize, value: u32) {
    if let Some(dst) = off.checked_add(4).and_then(|end| bytes.get_mut(off..end)) {
        dst.copy_from_slice(&value.to_le_bytes());
    }
}

/// Recomputes and stores the checksum of the base block at the start of `bytes`.
pub(crate) fn reseal(bytes: &mut [u8]) {
    if let Some(sum) = compute_checksum(bytes) {
        put_u32(bytes, OFF_CHECKSUM, sum);
    }
}
