#![no_main]
//! Reads arbitrary bytes as a scan reads a live event log (`read_log`: the `evtx`
//! crate and our flattening of its records) and as carving reads one chunk
//! (`read_chunk`, the first 64 KiB, checksums not required). Records and errors
//! are discarded: an error is an answer; a panic, hang or runaway allocation is
//! the bug. A log of two chunks or more is read again on two worker threads,
//! which must deliver the same counts (the crate hands chunks to its rayon pool
//! then, and a worker's panic reaches the caller). Every record of the first chunk
//! that the fast path (flattening from the template values) takes must flatten to
//! the record the JSON path gives.

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
            assert_eq!(one, two, "one thread and two read the log differently");
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
});
