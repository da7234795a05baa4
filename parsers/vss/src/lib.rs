//! Volume Shadow Copies (VSS) of an NTFS volume, read from the volume itself.
//!
//! Windows keeps the shadow copies of a volume on that volume: a header at byte
//! 0x1e00 names a catalog of stores, and each store holds the old contents of the
//! 16 KiB blocks that changed after its snapshot was taken. A snapshot is read by
//! taking each block from its own store if the store holds it, else from the next
//! newer store, else from the live volume. The format notes, in our own words and
//! with their sources, are in this crate's README.
//!
//! The crate is pure: it reads through the caller's [`ReadAt`] (volume-relative
//! offsets), never opens files, never panics on any input, and bounds every list
//! walk and every map by the volume's size. [`Catalog::open`] finds the stores;
//! [`Catalog::snapshot`] loads the block maps one snapshot needs and returns a
//! [`Snapshot`] that reads like a volume of the snapshot's size.

// Parsers read hostile bytes: a panic would cost the whole scan, so every
// fallible step returns an error (tests may unwrap: clippy.toml).
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod catalog;
mod chain;
mod error;
mod guid;
mod map;
mod snapshot;

pub use catalog::{Catalog, StoreInfo, VolumeHeader};
pub use error::VssError;
pub use guid::Guid;
pub use snapshot::Snapshot;

/// Every VSS structure comes in blocks of this size, and a store copies volume
/// data in blocks of this size.
pub const BLOCK: u64 = 0x4000;

/// Where the VSS volume header sits in the NTFS volume (inside `$Boot`).
pub const HEADER_OFFSET: u64 = 0x1e00;

/// Positional reads over the NTFS volume (offset 0 = its boot sector).
pub trait ReadAt {
    /// Fills `buf` from `offset`, or fails (a short read is an error).
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()>;
}

/// A volume held in memory (tests, fuzzing).
impl ReadAt for &[u8] {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        let start = usize::try_from(offset).ok();
        let piece = start
            .and_then(|s| s.checked_add(buf.len()).map(|e| (s, e)))
            .and_then(|(s, e)| self.get(s..e));
        match piece {
            Some(piece) => {
                buf.copy_from_slice(piece);
                Ok(())
            }
            None => Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("read of {} bytes at {offset} passes the end", buf.len()),
            )),
        }
    }
}

/// A volume held in memory (tests, fuzzing).
impl ReadAt for Vec<u8> {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        self.as_slice().read_exact_at(buf, offset)
    }
}
