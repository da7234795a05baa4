//! Runs the fuzz target's check without cargo-fuzz: every seed in
//! `fuzz/corpus/parse/`, then deterministic truncations, bit flips and field
//! overwrites (testkit's `Mutator`) of every corpus blob. Nothing may panic and no
//! entry may start past the blob end.

#[path = "common/blobs.rs"]
mod blobs;

use std::path::Path;

fn check(data: &[u8]) {
    if let Ok(cache) = shimcache::parse(data) {
        assert!(cache.entries.iter().all(|e| e.offset < data.len()));
    }
}

#[test]
fn seeds_do_not_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/parse");
    testkit::check_seeds(&dir, 8, check);
}

#[test]
fn mutated_corpus_blobs_do_not_panic() {
    // Damage concentrated on the headers and first entries, where it matters.
    let mut mutator = testkit::Mutator::new(0x0005_41AC_ACE0)
        .focus(1024)
        .max_flips(24);
    for path in blobs::BLOBS {
        mutator.run(path, &testkit::read_corpus(path), 400, check);
    }
    assert_eq!(mutator.cases(), blobs::BLOBS.len() * 400);
}
