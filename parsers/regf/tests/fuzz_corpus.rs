//! Every seed of fuzz/corpus/hive, and a few thousand deterministic truncations, bit
//! flips and field overwrites (testkit's `Mutator`) of real corpus hives and logs, go
//! through the fuzz entry point without panicking (a panic fails the test).

#[path = "common/exercise.rs"]
mod exercise;

#[test]
fn seeds_do_not_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/hive");
    testkit::check_seeds(&dir, 5, exercise::exercise);
}

#[test]
fn mutated_corpus_files_do_not_panic() {
    let sources = [
        "registry/dirty/NewDirtyHive1/NewDirtyHive",
        "registry/dirty/NewDirtyHive1/NewDirtyHive.LOG1",
        "registry/dirty/OldDirtyHive/OldDirtyHive.LOG1",
        "registry/hives/SAM",
    ];
    // Half the damage lands in the first 16 KiB, where the base block, root key and
    // log headers live.
    let mut mutator = testkit::Mutator::new(0x5EED_2E6F).focus(16384).max_flips(8);
    for rel in sources {
        mutator.run(rel, &testkit::read_corpus(rel), 600, exercise::exercise);
    }
    assert_eq!(mutator.cases(), 4 * 600);
}
