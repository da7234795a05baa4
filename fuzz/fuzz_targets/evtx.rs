#![no_main]
//! Reads arbitrary bytes as a scan reads a live event log (`read_log`: the `evtx`
//! crate and our flattening of its records) and as carving reads one chunk
//! (`read_chunk`, the first 64 KiB, checksums not required). Records and errors
//! are discarded: an error is an answer; a panic, hang or runaway allocation is
//! the bug. A log of two chunks or more is read again on two worker threads,
//! which must deliver the same counts (the crate hands chunks to its rayon pool
//! then, and a worker's panic reaches the caller). Every record of the first chunk
//! that the fast path (flattening from the template values) takes must flatten to
//! the record the JSON path gives. And the log is read once more with every
//! chunk's checksums made to hold: one thread then walks the chunks whose records
//! all take the fast path itself, two threads leave every chunk to the crate, and
//! both must give the same records and errors.

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use toolmark::collect::evtx::{compare_paths, read_chunk, read_log};

/// A log's file header, then its chunks.
const HEADER: usize = 4096;
const CHUNK: usize = 65536;

fuzz_target!(|data: &[u8]| {
    let one = read_log(Cursor::new(data), 1, &mut |_| {}, &mut |_| {});
    if data.len() >= HEADER + 2 * CHUNK {
        let two = read_log(Cursor::new(data), 2, &mut |_| {}, &mut |_| {});
        if let (Ok(one), Ok(two)) = (&one, &two) {
            assert_eq!(
                (one.records, one.errors),
                (two.records, two.errors),
                "one thread and two read the log differently"
            );
        }
    }
    // The first bytes as a chunk (carving's view), and the first chunk of a log.
    for start in [0, HEADER] {
        let window = data
            .get(start..data.len().min(start + CHUNK))
            .unwrap_or_default();
        if let Ok(found) = compare_paths(window.to_vec()) {
            assert!(
                found.differences.is_empty(),
                "the fast path and the JSON path differ:\n{}",
                found.differences.join("\n")
            );
        }
    }
    let chunk = data[..data.len().min(CHUNK)].to_vec();
    let _ = read_chunk(chunk, false, &mut |_| {}, &mut |_| {});
    let verified = with_checksums(data);
    assert!(
        read_all(&verified, 1) == read_all(&verified, 2),
        "one thread and two read a verified log differently"
    );
});

/// Every record (as `Debug` text) and error of reading `data` on `threads`, and
/// the counts (what the one-thread read also tells of the chunks for the
/// unused-space pass, `written_end` and `quiet`, only it tells).
fn read_all(data: &[u8], threads: usize) -> (Result<(u64, u64), String>, Vec<String>, Vec<String>) {
    let mut records = Vec::new();
    let mut errors = Vec::new();
    let stats = read_log(
        Cursor::new(data),
        threads,
        &mut |r| records.push(format!("{r:?}")),
        &mut |e| errors.push(e),
    )
    .map(|s| (s.records, s.errors))
    .map_err(|e| e.to_string());
    (stats, records, errors)
}

/// `data` with the header and records checksums of every chunk that has its
/// signature recomputed, so that a mutated chunk passes as verified.
fn with_checksums(data: &[u8]) -> Vec<u8> {
    let mut out = data.to_vec();
    let mut at = HEADER;
    while at + CHUNK <= out.len() {
        let chunk = &mut out[at..at + CHUNK];
        if chunk.starts_with(b"ElfChnk\0") {
            let free = u32::from_le_bytes(chunk[48..52].try_into().unwrap()) as usize;
            if (512..=CHUNK).contains(&free) {
                let records = crc32fast::hash(&chunk[512..free]);
                chunk[52..56].copy_from_slice(&records.to_le_bytes());
            }
            let mut header = crc32fast::Hasher::new();
            header.update(&chunk[..120]);
            header.update(&chunk[128..512]);
            chunk[124..128].copy_from_slice(&header.finalize().to_le_bytes());
        }
        at += CHUNK;
    }
    out
}
