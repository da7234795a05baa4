//! Bounds-checked little-endian reads from a byte slice, so record parsing never
//! indexes past the data it was given.

/// A slice with typed little-endian accessors that return `None` when out of bounds.
#[derive(Clone, Copy)]
pub(crate) struct View<'a>(pub(crate) &'a [u8]);

impl<'a> View<'a> {
    fn array<const N: usize>(self, offset: usize) -> Option<[u8; N]> {
        let end = offset.checked_add(N)?;
        self.0.get(offset..end)?.try_into().ok()
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

    pub(crate) fn u128_at(self, offset: usize) -> Option<u128> {
        self.array(offset).map(u128::from_le_bytes)
    }

    pub(crate) fn bytes(self, offset: usize, len: usize) -> Option<&'a [u8]> {
        self.0.get(offset..offset.checked_add(len)?)
    }
}
