//! Records left in the unused space of a log's own chunks: what libevtx calls
//! recovered records.
//!
//! Windows fills a chunk from offset 512 on and never wipes it: when a log is
//! cleared or wraps, a chunk is written again from its start, and whatever lay
//! past the new records stays behind, earlier records among it. The region read
//! follows libevtx's rule (learnt from reading its `libevtx_chunk_read`, our
//! own code), so that our count is its count:
//!
//! - the live records are walked from 512 while the walk stands at or before the
//!   header's last-record offset (44) and each record header holds (signature, a
//!   size of at least 24 that leaves four bytes of the chunk after it, the size
//!   repeated in the record's last four bytes); the unused space starts where the
//!   walk stops, which on every intact chunk is the free-space offset (sizes of
//!   24 to 27, which libevtx would also step over, are refused here: no record
//!   is that small);
//! - a chunk without the `ElfChnk` signature has no live records: all of it is
//!   unused space;
//! - the unused space is probed every four bytes from its start (records are
//!   8-byte aligned); a probe holds a record when its header holds (as above) and
//!   its binary XML starts like an event: a fragment header `0F 01 01 00`, or the
//!   `0A` token libevtx also accepts. A record found is skipped whole.
//!
//! No time check is made (libevtx makes none): a record that passed the size and
//! size-copy checks and starts like binary XML is shown, and its time is the one
//! it says.

use binview::View;

use crate::{record_header, Record, CHUNK_HEADER_SIZE, CHUNK_MAGIC};

/// Bytes of a record header (signature, size, id, written time).
const RECORD_HEADER: usize = 24;
/// Offset of the header's last-record offset.
const LAST_RECORD_OFFSET: usize = 44;

/// The records in the unused space of one chunk of a log (`chunk` is its 64 KiB;
/// shorter input is read as far as it goes). `base` is added to offsets, so a
/// caller passing the chunk's file offset gets file offsets.
pub fn unused_space_records(chunk: &[u8], base: u64) -> Vec<Record> {
    let mut at = if chunk.starts_with(CHUNK_MAGIC) {
        live_end(chunk)
    } else {
        0
    };
    let mut found = Vec::new();
    while at + 4 <= chunk.len() {
        match header(chunk, at).filter(|r| starts_like_an_event(chunk, at, r.size)) {
            Some(mut record) => {
                at += record.size as usize;
                record.offset += base;
                found.push(record);
            }
            None => at += 4,
        }
    }
    found
}

/// Where the walk of the live records stops.
fn live_end(chunk: &[u8]) -> usize {
    live_walk(chunk).1
}

/// Where each live record of a chunk starts (the walk libevtx makes, see above).
pub fn live_record_offsets(chunk: &[u8]) -> Vec<usize> {
    live_walk(chunk).0
}

/// The live records' offsets and where the walk stops.
fn live_walk(chunk: &[u8]) -> (Vec<usize>, usize) {
    let last = View::new(chunk).u32_at(LAST_RECORD_OFFSET).unwrap_or(0) as usize;
    let (mut starts, mut at) = (Vec::new(), CHUNK_HEADER_SIZE);
    while at <= last {
        match header(chunk, at) {
            Some(record) => {
                starts.push(at);
                at += record.size as usize;
            }
            None => break,
        }
    }
    (starts, at)
}

/// The record header at `at` if it holds, ending at least four bytes before the
/// end of the chunk as libevtx requires (offset relative to `chunk`).
fn header(chunk: &[u8], at: usize) -> Option<Record> {
    let room = chunk.len().checked_sub(at)?;
    record_header(chunk, at, room.checked_sub(4)?)
}

/// Whether the binary XML of the record at `at` starts like an event's.
fn starts_like_an_event(chunk: &[u8], at: usize, size: u32) -> bool {
    let xml = (size as usize).saturating_sub(RECORD_HEADER + 4);
    let body = chunk.get(at + RECORD_HEADER..).unwrap_or_default();
    (xml >= 5 && body.first() == Some(&0x0A))
        || (xml >= 4 && body.starts_with(&[0x0F, 0x01, 0x01, 0x00]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CHUNK_SIZE, RECORD_MAGIC};

    /// A record of `size` bytes with id `id` whose body starts with `body`.
    fn record(size: usize, id: u64, body: &[u8]) -> Vec<u8> {
        let mut r = vec![0u8; size];
        r[..4].copy_from_slice(RECORD_MAGIC);
        r[4..8].copy_from_slice(&(size as u32).to_le_bytes());
        r[8..16].copy_from_slice(&id.to_le_bytes());
        r[16..24].copy_from_slice(&0x01D8_34B5_4842_FB73u64.to_le_bytes());
        r[24..24 + body.len()].copy_from_slice(body);
        r[size - 4..].copy_from_slice(&(size as u32).to_le_bytes());
        r
    }

    const EVENT: &[u8] = &[0x0F, 0x01, 0x01, 0x00, 0x0C];

    /// A chunk with live records `live` and, from `stale_at`, the records `stale`.
    fn chunk(live: &[Vec<u8>], stale_at: usize, stale: &[Vec<u8>]) -> Vec<u8> {
        let mut c = vec![0u8; CHUNK_SIZE];
        c[..8].copy_from_slice(CHUNK_MAGIC);
        let mut at = CHUNK_HEADER_SIZE;
        let mut last = at;
        for r in live {
            c[at..at + r.len()].copy_from_slice(r);
            last = at;
            at += r.len();
        }
        c[44..48].copy_from_slice(&(last as u32).to_le_bytes());
        c[48..52].copy_from_slice(&(at as u32).to_le_bytes());
        let mut at = stale_at;
        for r in stale {
            c[at..at + r.len()].copy_from_slice(r);
            at += r.len();
        }
        c
    }

    #[test]
    fn only_the_records_past_the_live_ones_are_found() {
        let live = [record(64, 1, EVENT), record(72, 2, EVENT)];
        let stale = [record(80, 7, EVENT), record(96, 8, EVENT)];
        let c = chunk(&live, 512 + 136 + 8, &stale);
        let found = unused_space_records(&c, 4096);
        let ids: Vec<u64> = found.iter().map(|r| r.record_id).collect();
        assert_eq!(ids, [7, 8]);
        assert_eq!(found[0].offset, 4096 + 512 + 136 + 8);
        assert_eq!(found[1].offset, found[0].offset + 80);
    }

    #[test]
    fn probes_are_four_byte_aligned_and_need_an_event_body() {
        let live = [record(64, 1, EVENT)];
        // Two bytes off the 4-byte grid: libevtx does not see it, nor do we.
        let c = chunk(&live, 512 + 64 + 2, &[record(64, 9, EVENT)]);
        assert!(unused_space_records(&c, 0).is_empty());
        // A body that is not binary XML.
        let c = chunk(&live, 512 + 64 + 8, &[record(64, 9, &[0xFF; 5])]);
        assert!(unused_space_records(&c, 0).is_empty());
        // The `0A` start libevtx also takes.
        let c = chunk(&live, 512 + 64 + 8, &[record(64, 9, &[0x0A; 5])]);
        assert_eq!(unused_space_records(&c, 0).len(), 1);
    }

    #[test]
    fn a_chunk_without_signature_is_unused_space_throughout() {
        let mut c = chunk(&[record(64, 1, EVENT)], 1024, &[record(64, 2, EVENT)]);
        assert_eq!(unused_space_records(&c, 0).len(), 1);
        c[0] = b'X';
        let ids: Vec<u64> = unused_space_records(&c, 0)
            .iter()
            .map(|r| r.record_id)
            .collect();
        assert_eq!(ids, [1, 2]);
    }

    #[test]
    fn hostile_sizes_and_short_input_are_refused() {
        let mut c = chunk(&[], 512, &[record(64, 3, EVENT)]);
        c[516..520].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(unused_space_records(&c, 0).is_empty());
        // A record reaching the chunk's last four bytes is not taken.
        let c = chunk(&[], CHUNK_SIZE - 64, &[record(64, 3, EVENT)]);
        assert!(unused_space_records(&c, 0).is_empty());
        let c = chunk(&[], CHUNK_SIZE - 72, &[record(64, 3, EVENT)]);
        assert_eq!(unused_space_records(&c, 0).len(), 1);
        assert!(unused_space_records(&c[..100], 0).is_empty());
        assert!(unused_space_records(&[], 0).is_empty());
    }
}
