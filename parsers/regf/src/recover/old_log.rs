//! Old-format transaction logs (Windows XP to 8): a partial copy of the base block
//! (file type 1 or 2), the `DIRT` dirty vector at offset 512 (one bit per 512-byte
//! page of hive bins data), and, from the next 512-byte boundary, one 512-byte page
//! per set bit, in bit order. A log applies only if its base block is valid, its two
//! sequence numbers are equal (the log write completed) and its last-written time
//! equals the primary's (see `recover` for the case of a damaged primary base block).

use super::LogFile;
use crate::base_block::{BaseBlock, BASE_BLOCK_SIZE};
use crate::bytes::View;
use filetime::Filetime;

const SECTOR: usize = 512;

/// Checks whether `log` is a usable old-format log for a primary last written at
/// `primary_time`; `Err` explains why not.
pub(crate) fn check(
    log: &[u8],
    base: &BaseBlock,
    primary_times: &[Filetime],
) -> Result<(), String> {
    if !base.checksum_ok {
        return Err("log base block checksum is wrong".into());
    }
    if base.primary_sequence != base.secondary_sequence {
        return Err(format!(
            "log base block sequence numbers differ ({} vs {}): the log write did not complete",
            base.primary_sequence, base.secondary_sequence
        ));
    }
    if !primary_times.contains(&base.last_written) {
        return Err(format!(
            "log was written at {} but the primary at {:?}: log belongs to another state",
            base.last_written.raw(),
            primary_times.iter().map(|t| t.raw()).collect::<Vec<_>>()
        ));
    }
    View::new(log, SECTOR as u64, "dirty vector")
        .slice(SECTOR, 4)
        .ok()
        .filter(|sig| *sig == b"DIRT")
        .map(|_| ())
        .ok_or_else(|| "no DIRT signature at offset 512".to_string())
}

/// The dirty pages of a checked log: (absolute file offset in the hive, page), in
/// bit order; an error when the log ends before a page the bitmap names.
pub(crate) fn pages<'a>(
    log: &'a [u8],
    base: &BaseBlock,
    which: LogFile,
) -> Result<Vec<(usize, &'a [u8])>, String> {
    let pages = base.hive_bins_data_size as usize / SECTOR;
    let bitmap_len = pages.div_ceil(8);
    let bitmap = log
        .get(SECTOR + 4..SECTOR + 4 + bitmap_len)
        .ok_or_else(|| format!("{which:?}: dirty vector bitmap truncated"))?;
    let first_page = (SECTOR + 4 + bitmap_len).div_ceil(SECTOR) * SECTOR;
    let mut out = Vec::new();
    for bit in (0..pages).filter(|i| bitmap.get(i / 8).is_some_and(|b| b & (1 << (i % 8)) != 0)) {
        let written = out.len();
        let src_start = first_page + written * SECTOR;
        let page = log.get(src_start..src_start + SECTOR).ok_or_else(|| {
            format!("{which:?}: dirty page {written} (bit {bit}) is past the end of the log")
        })?;
        out.push((BASE_BLOCK_SIZE + bit * SECTOR, page));
    }
    Ok(out)
}
