#![no_main]
//! Any bytes: chunk and record search must not panic and must only report what
//! lies inside the input.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for chunk in evtx_carve::find_chunks(data, 0) {
        assert!(chunk.offset as usize + evtx_carve::CHUNK_SIZE <= data.len());
    }
    // A log's own chunk: what its unused space holds lies inside it.
    for record in evtx_carve::unused_space_records(data, 0) {
        assert!(record.offset as usize + record.size as usize + 4 <= data.len());
    }
    let donor = data.get(..evtx_carve::CHUNK_SIZE);
    for template in donor.map(evtx_carve::template_definitions).unwrap_or_default() {
        assert!((template.1 as usize) < evtx_carve::CHUNK_SIZE);
    }
    for record in evtx_carve::find_records(data, 0) {
        let (start, size) = (record.offset as usize, record.size as usize);
        assert!(start + size <= data.len());
        // Rebuilding onto another chunk's templates yields a well-formed record
        // (or nothing), and hosting it never reaches outside the chunk.
        let bytes = &data[start..start + size];
        let _ = evtx_carve::template_id(bytes);
        if let Some(rebased) = evtx_carve::rebase_record(bytes, &|id| Some(id % 65536)) {
            assert!(evtx_carve::record_at(&rebased, 0, 0).is_some());
            if let Some((chunk, placed)) =
                donor.and_then(|d| evtx_carve::host_chunk(d, &[rebased.as_slice()]))
            {
                assert_eq!(chunk.len(), evtx_carve::CHUNK_SIZE);
                assert!(placed.len() <= 1);
            }
        }
    }
});
