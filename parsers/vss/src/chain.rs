//! Chains of 16 KiB blocks: the catalog, a store's block list and its bitmaps are
//! each a list of blocks that starts with a 128-byte header naming the next block.

use std::collections::HashSet;

use binview::View;

use crate::{ReadAt, VssError, BLOCK};

/// The VSS identifier GUID (3808876b-c176-4e48-b7ae-04046e6cc752) that starts the
/// volume header and every block header.
pub(crate) const VSS_ID: [u8; 16] = [
    0x6b, 0x87, 0x08, 0x38, 0x76, 0xc1, 0x48, 0x4e, 0xb7, 0xae, 0x04, 0x04, 0x6e, 0x6c, 0xc7, 0x52,
];

/// Size of the header at the start of every catalog and store block.
pub(crate) const HEADER: usize = 128;

/// Record types of block headers.
pub(crate) mod kind {
    pub const CATALOG: u32 = 2;
    pub const BLOCK_LIST: u32 = 3;
    pub const STORE_HEADER: u32 = 4;
    pub const BITMAP: u32 = 6;
}

/// Reads one 16 KiB block at `offset` and checks its header's identifier and type.
pub(crate) fn read_block(
    src: &dyn ReadAt,
    volume_size: u64,
    offset: u64,
    what: &'static str,
    record_type: u32,
) -> Result<Vec<u8>, VssError> {
    if offset
        .checked_add(BLOCK)
        .is_none_or(|end| end > volume_size)
    {
        return Err(VssError::damaged(
            what,
            offset,
            format!("block lies outside the volume ({volume_size} bytes)"),
        ));
    }
    let mut block = vec![0u8; BLOCK as usize];
    src.read_exact_at(&mut block, offset)
        .map_err(|error| VssError::Io {
            what,
            offset,
            error,
        })?;
    let view = View::new(&block);
    if view.bytes(0, 16) != Some(&VSS_ID[..]) {
        return Err(VssError::damaged(what, offset, "no VSS identifier"));
    }
    let found = view.u32_at(20).unwrap_or(0);
    if found != record_type {
        return Err(VssError::damaged(
            what,
            offset,
            format!("record type {found}, expected {record_type}"),
        ));
    }
    Ok(block)
}

/// Walks the chain of blocks starting at `start` (0 = empty chain), handing each
/// block to `each`. A chain that revisits a block, or is longer than the volume
/// has blocks, is damage: no walk is longer than the volume.
pub(crate) fn walk(
    src: &dyn ReadAt,
    volume_size: u64,
    start: u64,
    what: &'static str,
    record_type: u32,
    mut each: impl FnMut(&[u8]) -> Result<(), VssError>,
) -> Result<(), VssError> {
    let limit = volume_size / BLOCK;
    let mut seen = HashSet::new();
    let mut at = start;
    while at != 0 {
        if !seen.insert(at) || seen.len() as u64 > limit {
            return Err(VssError::damaged(
                what,
                at,
                "the chain of blocks loops or is longer than the volume",
            ));
        }
        let block = read_block(src, volume_size, at, what, record_type)?;
        each(&block)?;
        at = View::new(&block).u64_at(40).unwrap_or(0);
    }
    Ok(())
}
