//! A bounds-checked little-endian view over a byte slice. Every on-disk structure in
//! this crate is read through it, so an offset or length taken from a hostile hive can
//! only ever produce an [`Error::Truncated`], never a panic.

use crate::error::{Error, Result};

/// A named slice with the absolute offset it starts at (for error messages).
#[derive(Clone, Copy, Debug)]
pub(crate) struct View<'a> {
    data: &'a [u8],
    origin: u64,
    what: &'static str,
}

impl<'a> View<'a> {
    /// Wraps `data`, which starts at `origin` in whatever the caller counts offsets in.
    pub(crate) fn new(data: &'a [u8], origin: u64, what: &'static str) -> Self {
        View { data, origin, what }
    }

    /// The underlying bytes.
    pub(crate) fn bytes(&self) -> &'a [u8] {
        self.data
    }

    /// `len` bytes from `off`.
    pub(crate) fn slice(&self, off: usize, len: usize) -> Result<&'a [u8]> {
        off.checked_add(len)
            .and_then(|end| self.data.get(off..end))
            .ok_or(Error::Truncated {
                what: self.what,
                offset: self.origin.saturating_add(off as u64),
                needed: len as u64,
                available: self.data.len().saturating_sub(off) as u64,
            })
    }

    fn array<const N: usize>(&self, off: usize) -> Result<[u8; N]> {
        let s = self.slice(off, N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(s);
        Ok(out)
    }

    /// Little-endian u16 at `off`.
    pub(crate) fn u16(&self, off: usize) -> Result<u16> {
        self.array(off).map(u16::from_le_bytes)
    }

    /// Little-endian u32 at `off`.
    pub(crate) fn u32(&self, off: usize) -> Result<u32> {
        self.array(off).map(u32::from_le_bytes)
    }

    /// Little-endian i32 at `off`.
    pub(crate) fn i32(&self, off: usize) -> Result<i32> {
        self.array(off).map(i32::from_le_bytes)
    }

    /// Little-endian u64 at `off`.
    pub(crate) fn u64(&self, off: usize) -> Result<u64> {
        self.array(off).map(u64::from_le_bytes)
    }

    /// Checks a signature at offset 0.
    pub(crate) fn expect_signature(&self, expected: &'static str) -> Result<()> {
        let found = self.slice(0, expected.len())?;
        if found == expected.as_bytes() {
            Ok(())
        } else {
            Err(Error::BadSignature {
                what: self.what,
                offset: self.origin,
                expected,
                found: String::from_utf8_lossy(found).into_owned(),
            })
        }
    }
}
