//! Finding event-log (EVTX) chunks and lone records in raw bytes.
//!
//! When a log is cleared or a `.evtx` file deleted, its 64 KiB chunks often stay in
//! unallocated clusters. A chunk is self-describing: it starts with `ElfChnk\0`,
//! its 512-byte header carries the first/last record numbers and ids, and two
//! CRC32s — one over the header (bytes 0..120 and 128..512), one over the record
//! area up to the free-space offset. A chunk whose both CRCs hold is complete and
//! can be parsed on its own (its string and template tables are inside it). A
//! record (`**\0\0`, size, record id, FILETIME, body, size again) outside any
//! valid chunk is reported as a lone record with its offset; whether it can be
//! rendered depends on templates from other chunks, which is the caller's business.
//!
//! Sources: the libyal "Windows XML Event Log (EVTX)" format notes and reading how
//! the `evtx` crate and libevtx validate chunks. This crate only finds and checks;
//! it never renders.
//!
//! The scan is a memchr search for the 8-byte and 4-byte signatures over whatever
//! buffer the caller passes, with no allocation per byte; the caller reads the
//! image in large aligned blocks and passes overlapping windows.

// Parsers read hostile bytes: a panic would cost the whole scan, so every
// fallible step returns an error (tests may unwrap: clippy.toml).
#![deny(clippy::unwrap_used, clippy::expect_used)]

use binview::View;
use memchr::memmem;

mod templates;
mod unused;
pub use templates::{
    definition_at, host_chunk, in_place_chunk, rebase_record, template_definitions, template_id,
    template_references,
};
pub use unused::{live_record_offsets, unused_space_records};

/// Bytes in an EVTX chunk.
pub const CHUNK_SIZE: usize = 0x10000;
/// Bytes in a chunk header.
pub const CHUNK_HEADER_SIZE: usize = 512;
/// Signature that starts a chunk.
pub const CHUNK_MAGIC: &[u8; 8] = b"ElfChnk\0";
/// Signature that starts a record.
pub const RECORD_MAGIC: &[u8; 4] = b"**\0\0";
/// Smallest possible record: header (24) plus trailing size (4).
const MIN_RECORD: usize = 28;

/// A chunk found in the buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk {
    /// Offset of the chunk in the caller's address space (`base + position`).
    pub offset: u64,
    /// First record id the header names.
    pub first_record_id: u64,
    /// Last record id the header names.
    pub last_record_id: u64,
    /// Offset (within the chunk) where unused space begins.
    pub free_space_offset: u32,
    /// The header CRC32 matches.
    pub header_crc_ok: bool,
    /// The records CRC32 matches.
    pub data_crc_ok: bool,
}

impl Chunk {
    /// True when both checksums hold: the chunk is as Windows last wrote it.
    pub fn is_intact(&self) -> bool {
        self.header_crc_ok && self.data_crc_ok
    }
}

/// A record found by its own signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Offset in the caller's address space.
    pub offset: u64,
    /// Record size (header, body and trailing size).
    pub size: u32,
    /// Record id.
    pub record_id: u64,
    /// Written time as a raw FILETIME.
    pub written: u64,
}

/// Whether a chunk was never written: all of its bytes zero (a log grows by
/// preallocated chunks, so most logs end in such). Tested a block at a time: the
/// fold within a block vectorises, a byte-wise test with an early exit does not.
pub fn never_written(chunk: &[u8]) -> bool {
    chunk
        .chunks(512)
        .all(|block| block.iter().fold(0u8, |acc, &b| acc | b) == 0)
}

/// Every chunk signature in `buf` whose full 64 KiB lies inside `buf`, checked.
/// `base` is added to positions so offsets are in the caller's space.
pub fn find_chunks(buf: &[u8], base: u64) -> Vec<Chunk> {
    memmem::find_iter(buf, CHUNK_MAGIC)
        .filter_map(|at| {
            let data = buf.get(at..at + CHUNK_SIZE)?;
            Some(check_chunk(data, base + at as u64))
        })
        .collect()
}

/// Checks one 64 KiB chunk (`data` must be exactly `CHUNK_SIZE` bytes long).
pub fn check_chunk(data: &[u8], offset: u64) -> Chunk {
    let u64_at = |o: usize| {
        data.get(o..o + 8)
            .map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap_or_default()))
    };
    let u32_at = |o: usize| {
        data.get(o..o + 4)
            .map_or(0, |b| u32::from_le_bytes(b.try_into().unwrap_or_default()))
    };
    let free_space_offset = u32_at(48);
    let header_crc_ok = data.len() >= CHUNK_HEADER_SIZE && {
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&data[..120]);
        hasher.update(&data[128..CHUNK_HEADER_SIZE]);
        hasher.finalize() == u32_at(124)
    };
    let end = free_space_offset as usize;
    let data_crc_ok = (CHUNK_HEADER_SIZE..=CHUNK_SIZE).contains(&end)
        && data
            .get(CHUNK_HEADER_SIZE..end)
            .is_some_and(|records| crc32fast::hash(records) == u32_at(52));
    Chunk {
        offset,
        first_record_id: u64_at(24),
        last_record_id: u64_at(32),
        free_space_offset,
        header_crc_ok,
        data_crc_ok,
    }
}

/// Every plausible record in `buf` (see [`record_at`]).
pub fn find_records(buf: &[u8], base: u64) -> Vec<Record> {
    memmem::find_iter(buf, RECORD_MAGIC)
        .filter_map(|at| record_at(buf, at, base))
        .collect()
}

/// The record starting at `buf[at..]` if it is plausible: signature, a size that
/// fits the buffer (and a chunk), the size repeated in the last four bytes, and a
/// FILETIME between 1990 and 2100. `base` is added to the reported offset.
pub fn record_at(buf: &[u8], at: usize, base: u64) -> Option<Record> {
    const FT_1990: u64 = 0x01B6_5DA0_3F18_0000;
    const FT_2100: u64 = 0x0234_0F8E_4420_0000;
    let mut record = record_header(buf, at, CHUNK_SIZE - CHUNK_HEADER_SIZE)?;
    record.offset += base;
    (FT_1990..FT_2100)
        .contains(&record.written)
        .then_some(record)
}

/// The record header at `buf[at..]` if it holds: signature, a size of at least 28
/// and at most `max` that fits the buffer, repeated in the record's last four
/// bytes. No time check: a record already known to be one (kept, or found where
/// libevtx looks) keeps whatever time it says. The offset is `at`.
pub fn record_header(buf: &[u8], at: usize, max: usize) -> Option<Record> {
    let view = View::new(buf.get(at..)?);
    if view.bytes(0, 4)? != RECORD_MAGIC {
        return None;
    }
    let size = view.u32_at(4)?;
    let len = size as usize;
    if !(MIN_RECORD..=max).contains(&len) || view.u32_at(len - 4)? != size {
        return None;
    }
    Some(Record {
        offset: at as u64,
        size,
        record_id: view.u64_at(8)?,
        written: view.u64_at(16)?,
    })
}

/// The UTF-16LE strings of at least `min_chars` characters in `bytes`, in the
/// order they appear (a record's substitution values are mostly UTF-16 text): what
/// can still be shown of a record whose templates are gone. Values are 2-byte
/// aligned only relative to their record, so both alignments are tried. Only
/// Latin characters (printable ASCII, Latin-1, Latin Extended-A) count: binary
/// read as UTF-16 is mostly CJK, and showing it would invent text.
pub fn utf16_strings(bytes: &[u8], min_chars: usize) -> Vec<String> {
    let latin = |c: u16| (0x20..0x7F).contains(&c) || (0xA0..0x180).contains(&c);
    let mut found: Vec<(usize, String)> = Vec::new();
    for parity in [0usize, 1] {
        let mut start = parity;
        let mut current = String::new();
        let units = bytes.get(parity..).unwrap_or_default().chunks_exact(2);
        for (i, unit) in units.enumerate() {
            let c = u16::from_le_bytes([unit[0], unit[1]]);
            if latin(c) {
                if current.is_empty() {
                    start = parity + 2 * i;
                }
                current.push(char::from_u32(u32::from(c)).unwrap_or('?'));
            } else {
                if current.chars().count() >= min_chars {
                    found.push((start, std::mem::take(&mut current)));
                }
                current.clear();
            }
        }
        if current.chars().count() >= min_chars {
            found.push((start, current));
        }
    }
    found.sort();
    found.into_iter().map(|(_, s)| s).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A synthetic chunk with one record and correct CRCs.
    fn chunk_with_record() -> Vec<u8> {
        let mut c = vec![0u8; CHUNK_SIZE];
        c[..8].copy_from_slice(CHUNK_MAGIC);
        c[24..32].copy_from_slice(&7u64.to_le_bytes());
        c[32..40].copy_from_slice(&7u64.to_le_bytes());
        let record_size = 40u32;
        let at = CHUNK_HEADER_SIZE;
        c[at..at + 4].copy_from_slice(RECORD_MAGIC);
        c[at + 4..at + 8].copy_from_slice(&record_size.to_le_bytes());
        c[at + 8..at + 16].copy_from_slice(&7u64.to_le_bytes());
        c[at + 16..at + 24].copy_from_slice(&0x01D8_34B5_4842_FB73u64.to_le_bytes());
        let end = at + record_size as usize;
        c[end - 4..end].copy_from_slice(&record_size.to_le_bytes());
        c[48..52].copy_from_slice(&(end as u32).to_le_bytes());
        let data_crc = crc32fast::hash(&c[CHUNK_HEADER_SIZE..end]);
        c[52..56].copy_from_slice(&data_crc.to_le_bytes());
        let mut h = crc32fast::Hasher::new();
        h.update(&c[..120]);
        h.update(&c[128..CHUNK_HEADER_SIZE]);
        let header_crc = h.finalize();
        c[124..128].copy_from_slice(&header_crc.to_le_bytes());
        c
    }

    #[test]
    fn intact_chunk_is_found_at_its_offset() {
        let mut buf = vec![0xAAu8; 1000];
        buf.extend(chunk_with_record());
        buf.extend(vec![0u8; 300]);
        let chunks = find_chunks(&buf, 4096);
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].offset, 4096 + 1000);
        assert!(chunks[0].is_intact());
        assert_eq!(chunks[0].first_record_id, 7);
        let records = find_records(&buf, 0);
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].offset, 1000 + 512);
        assert_eq!(records[0].record_id, 7);
    }

    #[test]
    fn damage_is_detected_not_invented() {
        let mut chunk = chunk_with_record();
        chunk[CHUNK_HEADER_SIZE + 30] ^= 1;
        let c = check_chunk(&chunk, 0);
        assert!(c.header_crc_ok && !c.data_crc_ok);
        chunk[60] ^= 1;
        assert!(!check_chunk(&chunk, 0).header_crc_ok);
        // A chunk cut by the end of the buffer is not reported.
        assert!(find_chunks(&chunk[..CHUNK_SIZE - 1], 0).is_empty());
        // Pattern-filled space yields nothing.
        let pattern: Vec<u8> = b"PTRN".iter().copied().cycle().take(1 << 20).collect();
        assert!(find_chunks(&pattern, 0).is_empty() && find_records(&pattern, 0).is_empty());
    }

    #[test]
    fn hostile_record_sizes_are_rejected() {
        let mut buf = vec![0u8; 64];
        buf[..4].copy_from_slice(RECORD_MAGIC);
        buf[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(find_records(&buf, 0).is_empty());
        buf[4..8].copy_from_slice(&8u32.to_le_bytes());
        assert!(find_records(&buf, 0).is_empty());
    }

    #[test]
    fn utf16_text_is_pulled_out_of_binary() {
        let mut buf = vec![0x0Fu8, 0x01, 0x01, 0x00];
        for c in "psexesvc.exe".encode_utf16() {
            buf.extend(c.to_le_bytes());
        }
        buf.extend([0, 0, 0x41, 0]);
        assert_eq!(utf16_strings(&buf, 4), vec!["psexesvc.exe".to_string()]);
        assert!(utf16_strings(&[0u8; 64], 4).is_empty());
    }
}
