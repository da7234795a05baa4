//! Bounds-checked little-endian field access for on-disk structures.
//!
//! Every NTFS structure is read through `Fields`, which returns `None` instead of
//! panicking when a damaged length or offset points outside the buffer.

/// A byte slice read as little-endian fields at offsets.
#[derive(Clone, Copy)]
pub struct Fields<'a>(pub &'a [u8]);

impl<'a> Fields<'a> {
    /// `n` bytes at `offset`.
    pub fn bytes(self, offset: usize, n: usize) -> Option<&'a [u8]> {
        self.0.get(offset..offset.checked_add(n)?)
    }

    /// Everything from `offset` on.
    pub fn tail(self, offset: usize) -> Option<&'a [u8]> {
        self.0.get(offset..)
    }

    /// Byte at `offset`.
    pub fn u8(self, offset: usize) -> Option<u8> {
        self.0.get(offset).copied()
    }

    /// Little-endian u16 at `offset`.
    pub fn u16(self, offset: usize) -> Option<u16> {
        Some(u16::from_le_bytes(self.bytes(offset, 2)?.try_into().ok()?))
    }

    /// Little-endian u32 at `offset`.
    pub fn u32(self, offset: usize) -> Option<u32> {
        Some(u32::from_le_bytes(self.bytes(offset, 4)?.try_into().ok()?))
    }

    /// Little-endian u64 at `offset`.
    pub fn u64(self, offset: usize) -> Option<u64> {
        Some(u64::from_le_bytes(self.bytes(offset, 8)?.try_into().ok()?))
    }

    /// UTF-16LE text of `units` code units at `offset`, lossily decoded.
    pub fn utf16(self, offset: usize, units: usize) -> Option<String> {
        let raw = self.bytes(offset, units.checked_mul(2)?)?;
        Some(utf16_lossy(raw))
    }
}

/// Decodes UTF-16LE bytes, replacing unpaired surrogates (names on NTFS are not
/// guaranteed to be valid UTF-16).
pub fn utf16_lossy(raw: &[u8]) -> String {
    let units: Vec<u16> = raw
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16_lossy(&units)
}
