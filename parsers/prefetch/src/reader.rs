//! Bounds-checked little-endian reads over a byte slice. Every on-disk field goes
//! through here so that an offset taken from the file can never index out of range.

use filetime::Filetime;

use crate::Error;

/// A view of `bytes` that answers reads at absolute offsets with `Result`s.
#[derive(Clone, Copy)]
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes }
    }

    /// Length of the underlying data.
    pub(crate) fn len(&self) -> usize {
        self.bytes.len()
    }

    /// `len` bytes at `offset`, or `Truncated` naming `what`.
    pub(crate) fn slice(
        &self,
        offset: usize,
        len: usize,
        what: &'static str,
    ) -> Result<&'a [u8], Error> {
        offset
            .checked_add(len)
            .and_then(|end| self.bytes.get(offset..end))
            .ok_or(Error::Truncated {
                what,
                offset,
                needed: len,
                available: self.bytes.len().saturating_sub(offset),
            })
    }

    fn array<const N: usize>(&self, offset: usize, what: &'static str) -> Result<[u8; N], Error> {
        let bytes = self.slice(offset, N, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    pub(crate) fn u16_at(&self, offset: usize, what: &'static str) -> Result<u16, Error> {
        self.array(offset, what).map(u16::from_le_bytes)
    }

    pub(crate) fn u32_at(&self, offset: usize, what: &'static str) -> Result<u32, Error> {
        self.array(offset, what).map(u32::from_le_bytes)
    }

    /// A u32 used as an offset or count, widened for index arithmetic.
    pub(crate) fn usize_at(&self, offset: usize, what: &'static str) -> Result<usize, Error> {
        // u32 always fits in usize on the 32/64-bit targets we build for.
        self.u32_at(offset, what).map(|v| v as usize)
    }

    pub(crate) fn filetime_at(&self, offset: usize, what: &'static str) -> Result<Filetime, Error> {
        self.array(offset, what)
            .map(|b| Filetime(u64::from_le_bytes(b)))
    }
}

/// Decodes UTF-16LE code units, replacing unpaired surrogates (damaged or remnant
/// data) with U+FFFD rather than failing: a readable name beats none.
pub(crate) fn utf16le(bytes: &[u8]) -> String {
    let units = bytes
        .chunks_exact(2)
        .map(|p| u16::from_le_bytes([p[0], p[1]]));
    char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// The UTF-16LE string at the start of `bytes`, up to (not including) the first NUL
/// code unit or the end of `bytes`.
pub(crate) fn utf16le_until_nul(bytes: &[u8]) -> String {
    let end = bytes
        .chunks_exact(2)
        .position(|p| p == [0, 0])
        .map_or(bytes.len(), |units| units * 2);
    utf16le(bytes.get(..end).unwrap_or(bytes))
}
