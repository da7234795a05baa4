//! Bounds-checked little-endian reads, so no offset taken from the blob can index
//! past its end.

use filetime::Filetime;

/// A byte slice with typed accessors returning `None` when out of bounds.
#[derive(Clone, Copy)]
pub(crate) struct View<'a>(pub(crate) &'a [u8]);

impl<'a> View<'a> {
    fn array<const N: usize>(self, offset: usize) -> Option<[u8; N]> {
        self.0.get(offset..offset.checked_add(N)?)?.try_into().ok()
    }

    pub(crate) fn u16_at(self, offset: usize) -> Option<u16> {
        self.array(offset).map(u16::from_le_bytes)
    }

    pub(crate) fn u32_at(self, offset: usize) -> Option<u32> {
        self.array(offset).map(u32::from_le_bytes)
    }

    pub(crate) fn u64_at(self, offset: usize) -> Option<u64> {
        self.array(offset).map(u64::from_le_bytes)
    }

    pub(crate) fn filetime_at(self, offset: usize) -> Option<Filetime> {
        self.u64_at(offset).map(Filetime::from_raw)
    }

    pub(crate) fn tag_at(self, offset: usize) -> Option<[u8; 4]> {
        self.array(offset)
    }

    pub(crate) fn bytes(self, offset: usize, len: usize) -> Option<&'a [u8]> {
        self.0.get(offset..offset.checked_add(len)?)
    }

    /// UTF-16LE text of `len` bytes at `offset`; unpaired surrogates become U+FFFD.
    pub(crate) fn utf16_at(self, offset: usize, len: usize) -> Option<String> {
        let bytes = self.bytes(offset, len)?;
        let units = bytes
            .chunks_exact(2)
            .map(|pair| u16::from_le_bytes([pair[0], pair[1]]));
        Some(
            char::decode_utf16(units)
                .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect(),
        )
    }
}
