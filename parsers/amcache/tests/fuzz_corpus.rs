//! Seeds of fuzz/corpus/amcache and deterministic truncations, bit flips and field
//! overwrites (testkit's `Mutator`) of a real Amcache hive go through the fuzz entry
//! point without panicking.

#[path = "common/exercise.rs"]
mod exercise;

#[test]
fn seeds_do_not_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/amcache");
    testkit::check_seeds(&dir, 3, exercise::exercise);
}

#[test]
fn mutated_hive_does_not_panic() {
    let rel = "registry/amcache/plaso-win10/win10-Amcache.hve";
    let mut mutator = testkit::Mutator::new(0x9E37_79B9_7F4A_7C15).max_flips(16);
    mutator.run(rel, &testkit::read_corpus(rel), 1500, exercise::exercise);
    assert_eq!(mutator.cases(), 1500);
}
