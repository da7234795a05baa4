//! Runs the fuzz target's checks without cargo-fuzz: the seeds in
//! `fuzz/corpus/scan/`, then deterministic truncations, bit flips and field
//! overwrites (testkit's `Mutator`) of the first chunk of a real log.

use std::path::Path;

fn check(data: &[u8]) {
    for chunk in evtx_carve::find_chunks(data, 0) {
        assert!(chunk.offset as usize + evtx_carve::CHUNK_SIZE <= data.len());
    }
    for record in evtx_carve::find_records(data, 0) {
        assert!(record.offset as usize + record.size as usize <= data.len());
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
