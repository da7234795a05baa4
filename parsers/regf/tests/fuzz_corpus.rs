//! Every seed of fuzz/corpus/hive, and a few thousand deterministic truncations and
//! bit flips of real corpus hives and logs, go through the fuzz entry point without
//! panicking (a panic fails the test).

mod common;

#[path = "common/exercise.rs"]
mod exercise;

use common::read;

/// xorshift64*: deterministic, good enough to pick offsets.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn seeds_do_not_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/hive");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("seed directory") {
        let bytes = std::fs::read(entry.expect("entry").path()).expect("seed");
        exercise::exercise(&bytes);
        n += 1;
    }
    assert!(n >= 5, "expected the seeds made by fuzz/make_seeds.py");
}

#[test]
fn mutated_corpus_files_do_not_panic() {
    let sources = [
        "registry/dirty/NewDirtyHive1/NewDirtyHive",
        "registry/dirty/NewDirtyHive1/NewDirtyHive.LOG1",
        "registry/dirty/OldDirtyHive/OldDirtyHive.LOG1",
        "registry/hives/SAM",
    ];
    let mut rng = Rng(0x5EED_2E6F);
    for rel in sources {
        let original = read(rel);
        for case in 0..600 {
            let mut data = original.clone();
            if case % 3 == 0 {
                data.truncate(rng.below(data.len()));
            } else {
                // Flips concentrated in the first 16 KiB where the base block, root
                // key and log headers live, plus some anywhere.
                for _ in 0..1 + rng.below(8) {
                    let span = if rng.below(2) == 0 {
                        16384.min(data.len())
                    } else {
                        data.len()
                    };
                    let at = rng.below(span);
                    if let Some(b) = data.get_mut(at) {
                        *b ^= 1 << rng.below(8);
                    }
                }
            }
            exercise::exercise(&data);
        }
    }
}
