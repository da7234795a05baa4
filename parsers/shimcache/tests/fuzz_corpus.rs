//! Runs the fuzz target's check without cargo-fuzz: every seed in
//! `fuzz/corpus/parse/`, then deterministic truncations and bit flips of every corpus
//! blob. Nothing may panic and no entry may start past the blob end.

mod common;

use std::path::PathBuf;

fn check(data: &[u8]) {
    if let Ok(cache) = shimcache::parse(data) {
        assert!(cache.entries.iter().all(|e| e.offset < data.len()));
    }
}

/// xorshift64*: a fixed sequence so any failure reproduces.
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
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/parse");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz seed directory") {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        check(&data);
        seen += 1;
    }
    assert!(seen >= 8, "expected the seed files, found {seen}");
}

#[test]
fn mutated_corpus_blobs_do_not_panic() {
    let names = [
        "WinXP/WinXPx86.bin",
        "Win2008/Win2k8Standard.bin",
        "Win7/win7x86.bin",
        "Win7/win7x64.bin",
        "Win8.0/Win80.bin",
        "Win8.1/Win81.bin",
        "Win10/Win10.bin",
        "Win10/Win10Creators.bin",
    ];
    let mut rng = Rng(0x0005_41AC_ACE0);
    for name in names {
        let blob = common::read_corpus(&format!("registry/appcompatcache/{name}"));
        for _ in 0..400 {
            let mut data = blob[..rng.below(blob.len() + 1)].to_vec();
            for _ in 0..rng.below(24) {
                // Bias flips towards the headers and first entries, where they matter.
                let at = rng.below(data.len().min(1024));
                if let Some(byte) = data.get_mut(at) {
                    *byte ^= 1 << rng.below(8);
                }
            }
            check(&data);
        }
    }
}
