//! Records from a journal already in memory.

use crate::error::RecordError;
use crate::record::UsnRecord;
use crate::scan::{step, Counts, Step};

/// Iterator over the records of an in-memory `$J` stream; see [`records`].
#[derive(Clone, Debug)]
pub struct Records<'a> {
    bytes: &'a [u8],
    base_offset: u64,
    pos: usize,
    counts: Counts,
}

/// Walks `bytes`, a piece of the `$J` stream that starts at stream offset
/// `base_offset` (which should be a multiple of 8, as every record boundary is),
/// yielding each V2/V3 record or damaged spot in order.
pub fn records(bytes: &[u8], base_offset: u64) -> Records<'_> {
    Records {
        bytes,
        base_offset,
        pos: 0,
        counts: Counts::default(),
    }
}

impl Records<'_> {
    /// What has been skipped or reported as damage so far.
    pub fn counts(&self) -> Counts {
        self.counts
    }
}

impl Iterator for Records<'_> {
    type Item = Result<UsnRecord, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        match step(
            self.bytes,
            &mut self.pos,
            self.base_offset,
            true,
            &mut self.counts,
        ) {
            Step::Item(item) => Some(item),
            Step::NeedMore | Step::End => None,
        }
    }
}
