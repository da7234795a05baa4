//! Records from any `Read`, in bounded memory.

use std::io::{ErrorKind, Read};

use crate::error::RecordError;
use crate::record::{UsnRecord, MAX_RECORD_LEN};
use crate::scan::{step, Counts, Step};

/// Bytes read from the source per refill.
pub const DEFAULT_BLOCK_SIZE: usize = 1 << 20;

/// Streaming reader over a `$J` stream; an iterator of records and damaged spots.
///
/// It holds one buffer of `block_size` bytes plus room for one cut record, so memory
/// does not depend on the journal's size. A record cut by a block end is kept and
/// completed by the next read. A damaged run that crosses a block end is reported as
/// two spots.
#[derive(Debug)]
pub struct UsnStream<R: Read> {
    reader: R,
    buffer: Vec<u8>,
    /// Next unread position in `buffer`.
    pos: usize,
    /// Bytes of `buffer` holding data.
    filled: usize,
    /// Stream offset of `buffer[0]`.
    base: u64,
    source_done: bool,
    counts: Counts,
}

impl<R: Read> UsnStream<R> {
    /// Reads `reader` as the `$J` stream from stream offset `base_offset` onwards,
    /// in blocks of [`DEFAULT_BLOCK_SIZE`].
    pub fn new(reader: R, base_offset: u64) -> Self {
        Self::with_block_size(reader, base_offset, DEFAULT_BLOCK_SIZE)
    }

    /// As [`UsnStream::new`] with a chosen block size (rounded up to a multiple of 8;
    /// at least 8).
    pub fn with_block_size(reader: R, base_offset: u64, block_size: usize) -> Self {
        let block = block_size.max(8).next_multiple_of(8);
        UsnStream {
            reader,
            buffer: vec![0; block + MAX_RECORD_LEN as usize],
            pos: 0,
            filled: 0,
            base: base_offset,
            source_done: false,
            counts: Counts::default(),
        }
    }

    /// What has been skipped or reported as damage so far.
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// Bytes held by the internal buffer: the stream's whole working memory.
    pub fn buffer_capacity(&self) -> usize {
        self.buffer.capacity()
    }

    /// Moves the unread tail to the front and reads until the buffer is full or the
    /// source ends.
    fn refill(&mut self) -> Result<(), RecordError> {
        self.buffer.copy_within(self.pos..self.filled, 0);
        self.base = self.base.saturating_add(self.pos as u64);
        self.filled -= self.pos;
        self.pos = 0;
        while self.filled < self.buffer.len() {
            let free = self.buffer.get_mut(self.filled..).unwrap_or_default();
            match self.reader.read(free) {
                Ok(0) => {
                    self.source_done = true;
                    break;
                }
                Ok(n) => self.filled += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(source) => {
                    self.source_done = true;
                    return Err(RecordError::Io {
                        offset: self.base.saturating_add(self.filled as u64),
                        source,
                    });
                }
            }
        }
        Ok(())
    }
}

impl<R: Read> Iterator for UsnStream<R> {
    type Item = Result<UsnRecord, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let data = self.buffer.get(..self.filled).unwrap_or_default();
            match step(
                data,
                &mut self.pos,
                self.base,
                self.source_done,
                &mut self.counts,
            ) {
                Step::Item(item) => return Some(item),
                Step::End if self.source_done => return None,
                Step::End | Step::NeedMore => {
                    if let Err(e) = self.refill() {
                        return Some(Err(e));
                    }
                }
            }
        }
    }
}
