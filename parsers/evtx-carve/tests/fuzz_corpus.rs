//! Runs the fuzz target's checks without cargo-fuzz: the seeds in
//! `fuzz/corpus/scan/`, then deterministic truncations, bit flips and field
//! overwrites (testkit's `Mutator`) of the first chunk of a real log.

use std::path::Path;

fn check(data: &[u8]) {
    for chunk in evtx_carve::find_chunks(data, 0) {
        assert!(chunk.offset as usize + evtx_carve::CHUNK_SIZE <= data.len());
    }
    // A log's own chunk: what its unused space holds lies inside it.
    for record in evtx_carve::unused_space_records(data, 0) {
        assert!(record.offset as usize + record.size as usize + 4 <= data.len());
    }
    let donor = data.get(..evtx_carve::CHUNK_SIZE);
    for template in donor
        .map(evtx_carve::template_definitions)
        .unwrap_or_default()
    {
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
}

#[test]
fn seeds_do_not_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/scan");
    testkit::check_seeds(&dir, 4, check);
}

#[test]
fn the_synthetic_seed_chunk_is_intact() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/scan");
    let bytes = std::fs::read(dir.join("one-record-chunk")).unwrap();
    let chunks = evtx_carve::find_chunks(&bytes, 0);
    assert_eq!(chunks.len(), 1);
    assert!(chunks[0].is_intact());
}

#[test]
fn mutated_real_chunks_do_not_panic() {
    let log = testkit::read_corpus(
        "evtx/attack/T1070.001-Clear Windows event logs/ID104-1102-Event log cleared.evtx",
    );
    // The file header is 4 KiB; the first chunk follows.
    let first_chunk = &log[4096..4096 + evtx_carve::CHUNK_SIZE];
    let chunks = evtx_carve::find_chunks(first_chunk, 0);
    assert!(
        chunks.len() == 1 && chunks[0].is_intact(),
        "a real chunk checks out"
    );
    let mut mutator = testkit::Mutator::new(0xC4_4E_0F_E7_0C)
        .focus(512)
        .max_flips(8);
    mutator.run(
        "first chunk of the log-clearing log",
        first_chunk,
        2000,
        check,
    );
    assert_eq!(mutator.cases(), 2000);
}
