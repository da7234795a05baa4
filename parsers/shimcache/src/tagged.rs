//! The Windows 8.0 to 11 formats: a header, then variable-size entries, each starting
//! with a four-byte tag, a checksum and the size of the rest of the record. Entries
//! follow each other without gaps; the unused end of the value is zero.

use crate::format::{Format, TAG_00TS, TAG_10TS, WIN8_HEADER_LEN};
use crate::{Entries, Entry, Error, Result, Walk};
use binview::View;

/// Tag, checksum, record size.
const RECORD_PREFIX_LEN: usize = 12;

/// Header length, tag, and where the header keeps the entry count.
fn layout(format: Format) -> (usize, [u8; 4], Option<usize>) {
    match format {
        Format::Win80 => (WIN8_HEADER_LEN, TAG_00TS, None),
        Format::Win81 => (WIN8_HEADER_LEN, TAG_10TS, None),
        Format::Win10Creators => (0x34, TAG_10TS, Some(0x28)),
        _ => (0x30, TAG_10TS, Some(0x24)),
    }
}

pub(crate) fn walk(blob: &[u8], format: Format) -> Result<Entries<'_>> {
    let (header_len, tag, count_at) = layout(format);
    if blob.len() < header_len {
        return Err(Error::TruncatedHeader {
            len: blob.len(),
            needed: header_len,
        });
    }
    let view = View::new(blob);
    let header_entry_count = count_at.and_then(|at| view.u32_at(at));
    Ok(Entries {
        format,
        header_entry_count,
        walk: Walk::Tagged(Tagged {
            blob,
            format,
            tag,
            header_entry_count,
            offset: header_len,
            position: 0,
            found: 0,
            ended: false,
            closing: Vec::new().into_iter(),
        }),
    })
}

/// The chain of records after the header, read one at a time.
///
/// A record whose tag or size is damaged gives no way to the next one, so the
/// walk looks ahead for the next tag that starts a readable record which ends
/// where another record or the zero padding begins, and goes on from there. The
/// look-ahead only moves forward and checks each candidate in constant time
/// (a rejected record's path is never decoded), so a whole walk stays linear in
/// the blob size.
pub(crate) struct Tagged<'a> {
    blob: &'a [u8],
    format: Format,
    tag: [u8; 4],
    header_entry_count: Option<u32>,
    /// Where the next record should start.
    offset: usize,
    /// Cache position of the next record.
    position: u32,
    /// Entries read so far, for the header count check.
    found: usize,
    /// No record follows: only `closing` is left.
    ended: bool,
    /// The checks made once the last record is read (at most two).
    closing: std::vec::IntoIter<Error>,
}

impl Iterator for Tagged<'_> {
    type Item = Result<Entry, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if !self.ended {
            if let Some(item) = self.step() {
                return Some(item);
            }
            self.end();
        }
        self.closing.next().map(Err)
    }
}

impl Tagged<'_> {
    /// The record at `offset`, moving past it; `None` once no record follows.
    fn step(&mut self) -> Option<Result<Entry, Error>> {
        let (offset, position) = (self.offset, self.position);
        let found = View::new(self.blob).array::<4>(offset)?;
        let cause = if found == self.tag {
            match self.record_at(offset) {
                Ok((entry, end)) => {
                    self.advance(end);
                    self.found += 1;
                    return Some(Ok(Entry {
                        position,
                        offset,
                        ..entry
                    }));
                }
                // The record's size leads to the next record: only its fields
                // are bad, and the chain goes on after it.
                Err((what, Some(end))) if self.is_boundary(end) => {
                    self.advance(end);
                    return Some(Err(Error::BadEntry {
                        position,
                        offset,
                        what,
                    }));
                }
                Err((what, _)) => Error::BadEntry {
                    position,
                    offset,
                    what,
                },
            }
        } else {
            Error::BadSignature {
                position,
                offset,
                found,
                expected: self.tag,
            }
        };
        match self.resync(offset + 1) {
            Some(next) => {
                self.advance(next);
                Some(Err(Error::Skipped {
                    cause: Box::new(cause),
                    offset,
                    end: next,
                    resumed: true,
                }))
            }
            // Zeros where a tag should be: the end of the entries, and `end`
            // checks that only padding follows.
            None if found == [0; 4] => None,
            None => {
                self.offset = self.blob.len();
                Some(Err(Error::Skipped {
                    cause: Box::new(cause),
                    offset,
                    end: self.blob.len(),
                    resumed: false,
                }))
            }
        }
    }

    /// Moves to the record at `offset`, the one after the current position.
    fn advance(&mut self, offset: usize) {
        self.offset = offset;
        self.position = self.position.saturating_add(1);
    }

    /// Decodes the record whose tag is at `offset`, returning it and where it
    /// ends; on failure, why, and where it ends if its size fits the blob.
    fn record_at(&self, offset: usize) -> Result<(Entry, usize), (&'static str, Option<usize>)> {
        let view = View::new(self.blob);
        let Some(record) = view
            .u32_at(offset + 8)
            .and_then(|size| view.bytes(offset + RECORD_PREFIX_LEN, size as usize))
        else {
            return Err(("record runs past the end of the blob", None));
        };
        let end = offset + RECORD_PREFIX_LEN + record.len();
        match read_record(View::new(record), self.format) {
            Ok(entry) => Ok((entry, end)),
            Err(what) => Err((what, Some(end))),
        }
    }

    /// Whether a record may end at `end`: at the end of the blob, before another
    /// tag or before the zero padding.
    fn is_boundary(&self, end: usize) -> bool {
        match View::new(self.blob).array::<4>(end) {
            Some(next) => next == self.tag || next == [0; 4],
            None => end <= self.blob.len(),
        }
    }

    /// The first offset from `from` holding this format's tag and a readable
    /// record that ends at a boundary, if any.
    fn resync(&self, from: usize) -> Option<usize> {
        let rest = self.blob.get(from..)?;
        rest.windows(self.tag.len())
            .enumerate()
            .filter(|(_, window)| *window == self.tag)
            .map(|(at, _)| from + at)
            .find(|&at| {
                // The size and the boundary are checked before the record is
                // decoded: a rejected candidate costs no path decoding.
                let Some(end) = self.record_end(at) else {
                    return false;
                };
                self.is_boundary(end) && self.record_at(at).is_ok()
            })
    }

    /// Where the record whose tag is at `offset` ends, if its size fits the blob.
    fn record_end(&self, offset: usize) -> Option<usize> {
        let size = View::new(self.blob).u32_at(offset + 8)? as usize;
        let end = (offset + RECORD_PREFIX_LEN).checked_add(size)?;
        (end <= self.blob.len()).then_some(end)
    }

    /// The checks left once no record follows: only zeros after the last one, and
    /// the header's count against the entries read.
    fn end(&mut self) {
        self.ended = true;
        let mut closing = Vec::new();
        let rest = self.blob.get(self.offset..).unwrap_or_default();
        if rest.iter().any(|&b| b != 0) {
            closing.push(Error::TrailingData {
                offset: self.offset,
                len: rest.len(),
            });
        }
        if let Some(count) = self.header_entry_count {
            if count as usize != self.found {
                closing.push(Error::CountMismatch {
                    count,
                    found: self.found,
                });
            }
        }
        self.closing = closing.into_iter();
    }
}

/// Decodes the part of a record after its size field.
fn read_record(record: View<'_>, format: Format) -> Result<Entry, &'static str> {
    const CUT: &str = "fields run past the record size";
    let path_len = usize::from(record.u16_at(0).ok_or(CUT)?);
    // The path is decoded last, once the record is known to be whole: a record
    // rejected while looking for the next entry costs no decoding.
    let path = record.sub(2, path_len).ok_or(CUT)?;
    let mut at = 2 + path_len;
    let mut entry = Entry::default();
    if matches!(format, Format::Win80 | Format::Win81) {
        let package_len = usize::from(record.u16_at(at).ok_or(CUT)?);
        at += 2 + package_len;
        entry = entry.with_insert_flags(record.u32_at(at).ok_or(CUT)?);
        at += 8; // insert flags, shim flags
    }
    entry.last_modified = record.filetime_at(at).ok_or(CUT)?;
    let data_size = record.u32_at(at + 8).ok_or(CUT)?;
    record.bytes(at + 12, data_size as usize).ok_or(CUT)?;
    entry.data_size = Some(u64::from(data_size));
    entry.path = path.utf16_at(0, path_len).ok_or(CUT)?;
    Ok(entry)
}
