//! Cells: the allocation unit inside hive bins. Each cell starts with a signed 32-bit
//! size; a negative size marks an allocated cell, a positive one free space. Every
//! reference between records is a cell offset relative to the start of the hive bins
//! data (file offset 4096). Hive bins (`hbin`, 4096-byte multiples with a 32-byte
//! header) only group cells; following references never needs them, so this reader
//! resolves offsets directly and only checks that a cell lies inside the data and is
//! allocated.

use crate::base_block::BASE_BLOCK_SIZE;
use crate::bytes::View;
use crate::error::{Error, Result};

/// Offset value meaning "no cell".
pub(crate) const NO_CELL: u32 = 0xFFFF_FFFF;

/// The hive bins data of a hive (everything after the base block).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cells<'a> {
    data: &'a [u8],
}

impl<'a> Cells<'a> {
    /// Wraps the hive bins data, bounded by the base block's stated size.
    pub(crate) fn new(file: &'a [u8], hive_bins_data_size: u32) -> Self {
        let all = file.get(BASE_BLOCK_SIZE..).unwrap_or(&[]);
        let len = (hive_bins_data_size as usize).min(all.len());
        Cells {
            data: all.get(..len).unwrap_or(all),
        }
    }

    /// Length of the hive bins data; no list or value can legitimately need more
    /// entries or bytes than this.
    pub(crate) fn len(&self) -> usize {
        self.data.len()
    }

    /// The payload of the allocated cell at `offset` (without the size field).
    pub(crate) fn get(&self, offset: u32, what: &'static str) -> Result<View<'a>> {
        let start = offset as usize;
        let header = View::new(self.data, 0, what);
        let size = header
            .i32(start)
            .map_err(|_| Error::CellOutOfRange { offset, what })?;
        if size >= 0 {
            return Err(Error::CellNotAllocated { offset, what });
        }
        let len = size.unsigned_abs() as usize;
        if len < 8 {
            return Err(Error::BadCellSize { offset, size });
        }
        let payload = header
            .slice(start.saturating_add(4), len - 4)
            .map_err(|_| Error::BadCellSize { offset, size })?;
        Ok(View::new(payload, u64::from(offset) + 4, what))
    }
}
