//! Runs the fuzz target's checks without cargo-fuzz: every seed in
//! `fuzz/corpus/records/`, then a few thousand deterministic truncations and bit
//! flips of the corpus journals. Nothing may panic, and the slice walk and the
//! stream (with a tiny block size, so records are cut often) must find the same
//! records.

mod common;

use std::path::PathBuf;

fn check(data: &[u8]) {
    let from_slice: Vec<_> = usn::records(data, 0).filter_map(Result::ok).collect();
    let from_stream: Vec<_> = usn::UsnStream::with_block_size(data, 0, 64)
        .filter_map(Result::ok)
        .collect();
    assert_eq!(from_slice, from_stream);
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
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/records");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz seed directory") {
        check(&std::fs::read(entry.unwrap().path()).unwrap());
        seen += 1;
    }
    assert!(seen >= 5, "expected the seed files, found {seen}");
}

#[test]
fn mutated_corpus_journals_do_not_panic() {
    let small = common::read_corpus("ntfs/dfir_ntfs/usnjrnlj.bin");
    let big = common::read_corpus("hosts/win10-aptsim/$Extend/$J");
    let head = &big[..big.len().min(64 * 1024)];
    let mut rng = Rng(0x005E_ED0F_05A1);
    for source in [small.as_slice(), head] {
        for _ in 0..1500 {
            let mut data = source[..rng.below(source.len() + 1)].to_vec();
            for _ in 0..rng.below(16) {
                let at = rng.below(data.len());
                if let Some(byte) = data.get_mut(at) {
                    *byte ^= 1 << rng.below(8);
                }
            }
            check(&data);
        }
    }
}
