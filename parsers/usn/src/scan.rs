//! The walk over journal bytes shared by the slice iterator and the stream reader.
//!
//! `$J` is a sequence of 4 KiB pages. Records are 8-byte aligned and never cross a
//! page boundary; the unused end of a page is zero-filled, and the start of the
//! stream is usually a long sparse (all-zero) run left where old pages were
//! deallocated. So the walk is: skip zero 8-byte words, read a record header, take
//! the record, repeat. A header that fails the checks starts a damaged run that ends
//! at the next 8-byte word that is zero or looks like a header again.

use crate::error::RecordError;
use crate::record::{header_problem, parse_v2_v3, UsnRecord};
use binview::View;

/// Counts of what the walk stepped over rather than returned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// `USN_RECORD_V4` records recognised and skipped.
    pub skipped_v4: u64,
    /// Damaged runs and truncated records reported as errors.
    pub damaged: u64,
}

/// The outcome of one step of the walk.
pub(crate) enum Step {
    /// A record or a damage report.
    Item(Result<UsnRecord, RecordError>),
    /// The bytes end inside a record (or its first 8 bytes) and more may follow.
    NeedMore,
    /// Nothing left.
    End,
}

/// Walks `bytes` from `*pos` (relative to `bytes`, a multiple of 8) to the next
/// record or damage report. `base` is the stream offset of `bytes[0]`; `at_end` says
/// no more bytes will follow, so a cut record is damage rather than a reason to wait.
pub(crate) fn step(
    bytes: &[u8],
    pos: &mut usize,
    base: u64,
    at_end: bool,
    counts: &mut Counts,
) -> Step {
    loop {
        *pos = skip_zero_words(bytes, *pos);
        let rest = bytes.get(*pos..).unwrap_or_default();
        let offset = base.saturating_add(*pos as u64);
        let Some((length, major)) = first_word(rest).map(split_prefix) else {
            if rest.is_empty() {
                return Step::End;
            }
            if !at_end {
                return Step::NeedMore;
            }
            return truncated(pos, bytes.len(), offset, 0, counts);
        };
        if let Some(reason) = header_problem(length, major) {
            return damaged_run(bytes, pos, base, reason, counts);
        }
        let Some(record_bytes) = rest.get(..length as usize) else {
            if !at_end {
                return Step::NeedMore;
            }
            return truncated(pos, bytes.len(), offset, length, counts);
        };
        if major == 4 {
            counts.skipped_v4 += 1;
            *pos += record_bytes.len();
            continue;
        }
        return match parse_v2_v3(record_bytes, major, offset) {
            Some(record) => {
                *pos += record_bytes.len();
                Step::Item(Ok(record))
            }
            None => damaged_run(
                bytes,
                pos,
                base,
                "file name lies outside the record",
                counts,
            ),
        };
    }
}

/// The first 8 bytes as a little-endian word, if there are 8.
fn first_word(rest: &[u8]) -> Option<u64> {
    View::new(rest).u64_at(0)
}

/// Record length (low 32 bits) and major version (next 16 bits) of a header word.
fn split_prefix(word: u64) -> (u32, u16) {
    (word as u32, (word >> 32) as u16)
}

/// First position at or after `pos` whose 8-byte word is not all zero (or the end).
fn skip_zero_words(bytes: &[u8], pos: usize) -> usize {
    let rest = bytes.get(pos..).unwrap_or_default();
    let zero_words = rest
        .chunks_exact(8)
        .take_while(|word| word.iter().all(|&b| b == 0))
        .count();
    pos + zero_words * 8
}
/// Reports the bytes from `*pos` to the end as one cut record and consumes them.
fn truncated(pos: &mut usize, len: usize, offset: u64, length: u32, counts: &mut Counts) -> Step {
    let available = len.saturating_sub(*pos) as u64;
    *pos = len;
    counts.damaged += 1;
    Step::Item(Err(RecordError::Truncated {
        offset,
        record_length: length,
        available,
    }))
}

/// Consumes 8-byte words from `*pos` until one is zero or a plausible header again,
/// and reports the run as one damaged spot.
fn damaged_run(
    bytes: &[u8],
    pos: &mut usize,
    base: u64,
    reason: &'static str,
    counts: &mut Counts,
) -> Step {
    let start = *pos;
    let mut next = start + 8;
    while let Some(word) = bytes.get(next..).and_then(first_word) {
        let (length, major) = split_prefix(word);
        if word == 0 || header_problem(length, major).is_none() {
            break;
        }
        next += 8;
    }
    let next = next.min(bytes.len());
    *pos = next;
    counts.damaged += 1;
    Step::Item(Err(RecordError::Damaged {
        offset: base.saturating_add(start as u64),
        length: (next - start) as u64,
        reason,
    }))
}
