//! Runs the fuzz target's checks without cargo-fuzz: every seed in
//! `fuzz/corpus/records/`, then a few thousand deterministic truncations, bit flips
//! and field overwrites (testkit's `Mutator`) of the corpus journals. Nothing may
//! panic, and the slice walk and the stream (with a tiny block size, so records are
//! cut often) must find the same records.

use std::path::Path;

fn check(data: &[u8]) {
    let from_slice: Vec<_> = usn::records(data, 0).filter_map(Result::ok).collect();
    let from_stream: Vec<_> = usn::UsnStream::with_block_size(data, 0, 64)
        .filter_map(Result::ok)
        .collect();
    assert_eq!(from_slice, from_stream);
}

#[test]
fn seeds_do_not_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/records");
    testkit::check_seeds(&dir, 5, check);
}

#[test]
fn mutated_corpus_journals_do_not_panic() {
    let small = testkit::read_corpus("ntfs/dfir_ntfs/usnjrnlj.bin");
    let big = testkit::read_corpus("hosts/win10-aptsim/$Extend/$J");
    let head = &big[..big.len().min(64 * 1024)];
    let mut mutator = testkit::Mutator::new(0x005E_ED0F_05A1).max_flips(16);
    mutator.run("usnjrnlj.bin", &small, 1500, check);
    mutator.run("the first 64 KiB of the aptsim $J", head, 1500, check);
    assert_eq!(mutator.cases(), 3000);
}
