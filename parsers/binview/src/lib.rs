//! Bounds-checked little-endian reads over a byte slice, shared by toolmark's parser
//! crates.
//!
//! Every Windows artifact toolmark reads (Prefetch, registry hives, ShimCache, the
//! USN journal) is a little-endian structure whose offsets and lengths come from
//! the data itself, so any of them may point past the end of a damaged file. A
//! [`View`] answers every read with `None` instead of panicking; each parser turns
//! that `None` into its own error, with the context (which field, which absolute
//! offset) only it knows. [`View::remaining`] gives the figure those errors report
//! as "available".
//!
//! Text in these formats is UTF-16LE. [`utf16le`] decodes it without failing:
//! unpaired surrogates (damaged or remnant data) become U+FFFD and a trailing odd
//! byte is ignored, because a readable name is worth more to an examiner than an
//! error.

// Parsers read hostile bytes: a panic would cost the whole scan, so every
// fallible step returns an error (tests may unwrap: clippy.toml).
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod text;

pub use filetime::Filetime;
pub use text::{utf16le, utf16le_len_before_nul, utf16le_until_nul};

/// A byte slice with typed little-endian accessors at absolute offsets; every
/// accessor returns `None` when the field does not fit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct View<'a> {
    data: &'a [u8],
}

impl<'a> View<'a> {
    /// Wraps `data`; offsets are counted from its first byte.
    pub const fn new(data: &'a [u8]) -> Self {
        View { data }
    }

    /// The underlying bytes.
    pub const fn data(self) -> &'a [u8] {
        self.data
    }

    /// Length of the underlying bytes.
    pub const fn len(self) -> usize {
        self.data.len()
    }

    /// True when there are no bytes at all.
    pub const fn is_empty(self) -> bool {
        self.data.is_empty()
    }

    /// How many bytes there are from `offset` to the end (0 at or past the end).
    pub const fn remaining(self, offset: usize) -> usize {
        self.data.len().saturating_sub(offset)
    }

    /// `len` bytes at `offset`.
    pub fn bytes(self, offset: usize, len: usize) -> Option<&'a [u8]> {
        self.data.get(offset..offset.checked_add(len)?)
    }

    /// The `len` bytes at `offset` as a view of their own (offsets restart at 0).
    pub fn sub(self, offset: usize, len: usize) -> Option<View<'a>> {
        self.bytes(offset, len).map(View::new)
    }

    /// The `N` bytes at `offset`, copied out.
    pub fn array<const N: usize>(self, offset: usize) -> Option<[u8; N]> {
        self.bytes(offset, N)?.try_into().ok()
    }

    /// The byte at `offset`.
    pub fn u8_at(self, offset: usize) -> Option<u8> {
        self.data.get(offset).copied()
    }

    /// Little-endian u16 at `offset`.
    pub fn u16_at(self, offset: usize) -> Option<u16> {
        self.array(offset).map(u16::from_le_bytes)
    }

    /// Little-endian u32 at `offset`.
    pub fn u32_at(self, offset: usize) -> Option<u32> {
        self.array(offset).map(u32::from_le_bytes)
    }

    /// Little-endian i32 at `offset`.
    pub fn i32_at(self, offset: usize) -> Option<i32> {
        self.array(offset).map(i32::from_le_bytes)
    }

    /// Little-endian u64 at `offset`.
    pub fn u64_at(self, offset: usize) -> Option<u64> {
        self.array(offset).map(u64::from_le_bytes)
    }

    /// Little-endian u128 at `offset` (NTFS 128-bit file references).
    pub fn u128_at(self, offset: usize) -> Option<u128> {
        self.array(offset).map(u128::from_le_bytes)
    }

    /// Little-endian FILETIME at `offset`.
    pub fn filetime_at(self, offset: usize) -> Option<Filetime> {
        self.u64_at(offset).map(Filetime::from_raw)
    }

    /// UTF-16LE text in the `len` bytes at `offset`, decoded as [`utf16le`] does.
    pub fn utf16_at(self, offset: usize, len: usize) -> Option<String> {
        self.bytes(offset, len).map(utf16le)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATA: [u8; 10] = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0xFF, 0xFF];

    #[test]
    fn integers_are_little_endian() {
        let v = View::new(&DATA);
        assert_eq!(v.u8_at(1), Some(0x02));
        assert_eq!(v.u16_at(0), Some(0x0201));
        assert_eq!(v.u32_at(1), Some(0x0504_0302));
        assert_eq!(v.u64_at(0), Some(0x0807_0605_0403_0201));
        assert_eq!(v.i32_at(6), Some(i32::from_le_bytes([7, 8, 0xFF, 0xFF])));
        assert_eq!(v.i32_at(6).map(i32::is_negative), Some(true));
        assert_eq!(v.filetime_at(2), Some(Filetime(0xFFFF_0807_0605_0403)));
    }

    #[test]
    fn reads_past_the_end_are_none() {
        let v = View::new(&DATA);
        assert_eq!(v.u8_at(10), None);
        assert_eq!(v.u16_at(9), None);
        assert_eq!(v.u32_at(7), None);
        assert_eq!(v.u64_at(3), None);
        assert_eq!(v.u128_at(0), None);
        assert_eq!(v.bytes(usize::MAX, 2), None);
        assert_eq!(v.bytes(2, usize::MAX), None);
        assert_eq!(v.bytes(10, 0), Some(&[][..]));
        assert_eq!(v.bytes(11, 0), None);
        assert_eq!(View::new(&[]).u8_at(0), None);
    }

    #[test]
    fn sub_views_restart_at_zero() {
        let v = View::new(&DATA);
        let sub = v.sub(4, 4).unwrap();
        assert_eq!(sub.len(), 4);
        assert_eq!(sub.u32_at(0), Some(0x0807_0605));
        assert_eq!(sub.u8_at(4), None);
        assert_eq!(v.sub(8, 3), None);
    }

    #[test]
    fn remaining_never_underflows() {
        let v = View::new(&DATA);
        assert_eq!(v.remaining(0), 10);
        assert_eq!(v.remaining(7), 3);
        assert_eq!(v.remaining(10), 0);
        assert_eq!(v.remaining(usize::MAX), 0);
        assert!(!v.is_empty() && View::default().is_empty());
    }

    #[test]
    fn utf16_at_is_bounded() {
        let v = View::new(b"x\0a\0b\0");
        assert_eq!(v.utf16_at(2, 4).as_deref(), Some("ab"));
        assert_eq!(v.utf16_at(2, 6), None);
    }
}
