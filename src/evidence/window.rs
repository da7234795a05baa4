//! Views onto part of an image, and the `Read + Seek` adapter for crates that need it.

use std::io::{self, Read, Seek, SeekFrom};
use std::ops::Range;
use std::sync::Arc;

use super::ReadAt;

/// A sub-range (a partition or volume) of another `ReadAt`, clamped to its bounds.
#[derive(Clone)]
pub struct Window {
    inner: Arc<dyn ReadAt>,
    offset: u64,
    len: u64,
}

impl Window {
    /// The bytes `offset .. offset + len` of `inner`, cut to what `inner` has.
    pub fn new(inner: Arc<dyn ReadAt>, offset: u64, len: u64) -> Window {
        let available = inner.len().saturating_sub(offset);
        Window {
            inner,
            offset,
            len: len.min(available),
        }
    }

    /// Where the window starts in the underlying range.
    pub fn offset(&self) -> u64 {
        self.offset
    }
}

impl ReadAt for Window {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        if offset >= self.len {
            return Ok(0);
        }
        let want = (self.len - offset).min(buf.len() as u64) as usize;
        self.inner.read_at(&mut buf[..want], self.offset + offset)
    }

    fn len(&self) -> u64 {
        self.len
    }

    fn unreadable_ranges(&self) -> Vec<Range<u64>> {
        let end = self.offset.saturating_add(self.len);
        self.inner
            .unreadable_ranges()
            .into_iter()
            .filter_map(|r| {
                let (start, stop) = (r.start.max(self.offset), r.end.min(end));
                (start < stop).then(|| start - self.offset..stop - self.offset)
            })
            .collect()
    }
}

/// A cursor over any `ReadAt`, for APIs that take `Read + Seek`.
pub struct ReadSeekAdapter<R> {
    inner: R,
    position: u64,
}

impl<R: ReadAt> ReadSeekAdapter<R> {
    /// A cursor at offset 0.
    pub fn new(inner: R) -> Self {
        ReadSeekAdapter { inner, position: 0 }
    }
}

impl<R: ReadAt> Read for ReadSeekAdapter<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read_at(buf, self.position)?;
        self.position += n as u64;
        Ok(n)
    }
}

impl<R: ReadAt> Seek for ReadSeekAdapter<R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let target = match pos {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.inner.len().checked_add_signed(d),
            SeekFrom::Current(d) => self.position.checked_add_signed(d),
        };
        self.position = target.ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "seek before start of image")
        })?;
        Ok(self.position)
    }
}

impl<T: ReadAt + ?Sized> ReadAt for Arc<T> {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        (**self).read_at(buf, offset)
    }

    fn len(&self) -> u64 {
        (**self).len()
    }

    fn unbacked_problem(&self) -> Option<String> {
        (**self).unbacked_problem()
    }

    fn unreadable_ranges(&self) -> Vec<Range<u64>> {
        (**self).unreadable_ranges()
    }
}

impl<T: ReadAt + ?Sized> ReadAt for &T {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        (**self).read_at(buf, offset)
    }

    fn len(&self) -> u64 {
        (**self).len()
    }

    fn unbacked_problem(&self) -> Option<String> {
        (**self).unbacked_problem()
    }

    fn unreadable_ranges(&self) -> Vec<Range<u64>> {
        (**self).unreadable_ranges()
    }
}

/// An image held in memory (tests, carved buffers); the same reads as the
/// virtual-disk readers' in-memory source.
impl ReadAt for Vec<u8> {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        blockio::Source::read_at(self, buf, offset)
    }

    fn len(&self) -> u64 {
        self.len() as u64
    }
}
