//! Field reads for the Prefetch parser: a [`binview::View`] whose misses become
//! [`Error::Truncated`] naming the field, so every on-disk field goes through one
//! bounds-checked path and an offset taken from the file can never index out of range.

use binview::View;
use filetime::Filetime;

use crate::Error;

pub(crate) use binview::{utf16le, utf16le_until_nul};

/// A view of the file that answers reads at absolute offsets with `Result`s.
#[derive(Clone, Copy)]
pub(crate) struct Reader<'a> {
    view: View<'a>,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader {
            view: View::new(bytes),
        }
    }

    /// Length of the underlying data.
    pub(crate) fn len(&self) -> usize {
        self.view.len()
    }

    /// The error for a `needed`-byte field named `what` at `offset` that does not fit.
    fn truncated(&self, what: &'static str, offset: usize, needed: usize) -> Error {
        Error::Truncated {
            what,
            offset,
            needed,
            available: self.view.remaining(offset),
        }
    }

    /// `len` bytes at `offset`, or `Truncated` naming `what`.
    pub(crate) fn slice(
        &self,
        offset: usize,
        len: usize,
        what: &'static str,
    ) -> Result<&'a [u8], Error> {
        self.view
            .bytes(offset, len)
            .ok_or_else(|| self.truncated(what, offset, len))
    }

    pub(crate) fn u16_at(&self, offset: usize, what: &'static str) -> Result<u16, Error> {
        self.view
            .u16_at(offset)
            .ok_or_else(|| self.truncated(what, offset, 2))
    }

    pub(crate) fn u32_at(&self, offset: usize, what: &'static str) -> Result<u32, Error> {
        self.view
            .u32_at(offset)
            .ok_or_else(|| self.truncated(what, offset, 4))
    }

    /// A u32 used as an offset or count, widened for index arithmetic.
    pub(crate) fn usize_at(&self, offset: usize, what: &'static str) -> Result<usize, Error> {
        // u32 always fits in usize on the 32/64-bit targets we build for.
        self.u32_at(offset, what).map(|v| v as usize)
    }

    pub(crate) fn filetime_at(&self, offset: usize, what: &'static str) -> Result<Filetime, Error> {
        self.view
            .filetime_at(offset)
            .ok_or_else(|| self.truncated(what, offset, 8))
    }
}
