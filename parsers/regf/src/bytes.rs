//! A bounds-checked little-endian view over a byte slice ([`binview::View`] plus the
//! name and absolute offset our errors report). Every on-disk structure in this crate
//! is read through it, so an offset or length taken from a hostile hive can only ever
//! produce an [`Error::Truncated`], never a panic.

use crate::error::{Error, Result};

/// A named slice with the absolute offset it starts at (for error messages).
#[derive(Clone, Copy, Debug)]
pub(crate) struct View<'a> {
    data: binview::View<'a>,
    origin: u64,
    what: &'static str,
}

impl<'a> View<'a> {
    /// Wraps `data`, which starts at `origin` in whatever the caller counts offsets in.
    pub(crate) fn new(data: &'a [u8], origin: u64, what: &'static str) -> Self {
        View {
            data: binview::View::new(data),
            origin,
            what,
        }
    }

    /// The underlying bytes.
    pub(crate) fn bytes(&self) -> &'a [u8] {
        self.data.data()
    }

    /// The error for a `needed`-byte read at `off` that does not fit.
    fn truncated(&self, off: usize, needed: usize) -> Error {
        Error::Truncated {
            what: self.what,
            offset: self.origin.saturating_add(off as u64),
            needed: needed as u64,
            available: self.data.remaining(off) as u64,
        }
    }

    /// `len` bytes from `off`.
    pub(crate) fn slice(&self, off: usize, len: usize) -> Result<&'a [u8]> {
        self.data
            .bytes(off, len)
            .ok_or_else(|| self.truncated(off, len))
    }

    /// Little-endian u16 at `off`.
    pub(crate) fn u16(&self, off: usize) -> Result<u16> {
        self.data.u16_at(off).ok_or_else(|| self.truncated(off, 2))
    }

    /// Little-endian u32 at `off`.
    pub(crate) fn u32(&self, off: usize) -> Result<u32> {
        self.data.u32_at(off).ok_or_else(|| self.truncated(off, 4))
    }

    /// Little-endian i32 at `off`.
    pub(crate) fn i32(&self, off: usize) -> Result<i32> {
        self.data.i32_at(off).ok_or_else(|| self.truncated(off, 4))
    }

    /// Little-endian u64 at `off`.
    pub(crate) fn u64(&self, off: usize) -> Result<u64> {
        self.data.u64_at(off).ok_or_else(|| self.truncated(off, 8))
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

/// Fails with [`Error::Truncated`] (at offset 0) unless `data` holds at least `needed`
/// bytes; for whole buffers whose minimum size is known before any field is read.
pub(crate) fn require_len(data: &[u8], needed: usize, what: &'static str) -> Result<()> {
    View::new(data, 0, what).slice(0, needed).map(drop)
}
