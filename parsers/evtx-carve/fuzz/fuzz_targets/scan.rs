#![no_main]
//! Any bytes: chunk and record search must not panic and must only report what
//! lies inside the input.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for chunk in evtx_carve::find_chunks(data, 0) {
        assert!(chunk.offset as usize + evtx_carve::CHUNK_SIZE <= data.len());
    }
    for record in evtx_carve::find_records(data, 0) {
        assert!(record.offset as usize + record.size as usize <= data.len());
    }
});
