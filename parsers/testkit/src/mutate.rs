//! Deterministic mutation of real inputs, so the parsers meet damaged data in every
//! `cargo test` run, not only under cargo-fuzz. The generator is seeded, so a
//! failure message (input label, case number, seed) names a reproducible case.
//!
//! Each case is one of four damages, chosen at random:
//! - truncation to a random shorter length (cut files, short reads);
//! - 1..=`max_flips` single-bit flips (media errors, remnant data);
//! - one 4-byte little-endian field overwritten with 0, 1, 0x7FFF_FFFF, 0xFFFF_FFFF
//!   or a random value (offsets and counts at the edges of arithmetic);
//! - a truncation followed by bit flips.
//!
//! Half of the flip and overwrite positions fall in the first `focus` bytes, where
//! the headers that steer the rest of the parse usually are.

use std::panic::{catch_unwind, AssertUnwindSafe};

/// xorshift64*: tiny, deterministic, and good enough to pick offsets.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator starting from `seed` (0 is replaced, as xorshift would stay at 0).
    pub fn new(seed: u64) -> Self {
        Rng(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// Values that break offset and count arithmetic when written into a u32 field.
const EDGE_VALUES: [u32; 4] = [0, 1, 0x7FFF_FFFF, 0xFFFF_FFFF];

/// Makes damaged copies of inputs and runs a check on each; see the module docs.
#[derive(Clone, Debug)]
pub struct Mutator {
    seed: u64,
    rng: Rng,
    focus: usize,
    max_flips: usize,
    cases: usize,
}

impl Mutator {
    /// A driver seeded with `seed`; by default flips land anywhere and there are at
    /// most 16 per case.
    pub fn new(seed: u64) -> Self {
        Mutator {
            seed,
            rng: Rng::new(seed),
            focus: usize::MAX,
            max_flips: 16,
            cases: 0,
        }
    }

    /// Sends half of the flips and overwrites into the first `bytes` bytes.
    pub fn focus(mut self, bytes: usize) -> Self {
        self.focus = bytes;
        self
    }

    /// At most `flips` bit flips per case (at least one is always made).
    pub fn max_flips(mut self, flips: usize) -> Self {
        self.max_flips = flips.max(1);
        self
    }

    /// How many cases [`Mutator::run`] has checked so far.
    pub fn cases(&self) -> usize {
        self.cases
    }

    /// One damaged copy of `data`.
    pub fn mutate(&mut self, data: &[u8]) -> Vec<u8> {
        let mut out = data.to_vec();
        match self.rng.below(4) {
            0 => self.truncate(&mut out),
            1 => self.flip(&mut out),
            2 => self.overwrite(&mut out),
            _ => {
                self.truncate(&mut out);
                self.flip(&mut out);
            }
        }
        out
    }

    /// Runs `check` on `cases` damaged copies of `original`; a panic fails with
    /// `label`, the case number and the seed.
    pub fn run(&mut self, label: &str, original: &[u8], cases: usize, check: impl Fn(&[u8])) {
        for case in 0..cases {
            let data = self.mutate(original);
            let name = format!(
                "{label}, case {case} of Mutator::new({:#x}) (run case {})",
                self.seed, self.cases
            );
            no_panic(&name, &data, &check);
            self.cases += 1;
        }
    }

    fn truncate(&mut self, data: &mut Vec<u8>) {
        let len = self.rng.below(data.len());
        data.truncate(len);
    }

    /// A position in `0..len`, half the time within the focus window.
    fn position(&mut self, len: usize) -> usize {
        let span = if self.rng.below(2) == 0 {
            self.focus.min(len)
        } else {
            len
        };
        self.rng.below(span)
    }

    fn flip(&mut self, data: &mut [u8]) {
        for _ in 0..1 + self.rng.below(self.max_flips) {
            let at = self.position(data.len());
            let bit = self.rng.below(8);
            if let Some(byte) = data.get_mut(at) {
                *byte ^= 1 << bit;
            }
        }
    }

    fn overwrite(&mut self, data: &mut [u8]) {
        let pick = self.rng.below(EDGE_VALUES.len() + 1);
        let value = match EDGE_VALUES.get(pick) {
            Some(&edge) => edge,
            None => self.rng.next_u64() as u32,
        };
        let at = self.position(data.len().saturating_sub(3));
        if let Some(field) = data.get_mut(at..at + 4) {
            field.copy_from_slice(&value.to_le_bytes());
        }
    }
}

/// Runs `check(data)`, turning a panic into a test failure that names `what`.
pub fn no_panic(what: &str, data: &[u8], check: impl Fn(&[u8])) {
    if catch_unwind(AssertUnwindSafe(|| check(data))).is_err() {
        panic!("panic on {what} ({} bytes)", data.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_cases() {
        let data: Vec<u8> = (0..=255).collect();
        let mut a = Mutator::new(7).focus(32);
        let mut b = Mutator::new(7).focus(32);
        for _ in 0..200 {
            assert_eq!(a.mutate(&data), b.mutate(&data));
        }
        assert_ne!(Mutator::new(8).mutate(&data), Mutator::new(7).mutate(&data));
    }

    #[test]
    fn every_kind_of_damage_happens() {
        let data = vec![0x55u8; 4096];
        let mut m = Mutator::new(1).focus(64).max_flips(4);
        let (mut shorter, mut flipped, mut edge, mut in_focus) = (0, 0, 0, 0);
        for _ in 0..2000 {
            let out = m.mutate(&data);
            assert!(out.len() <= data.len());
            if out.len() < data.len() {
                shorter += 1;
            }
            let changed: Vec<usize> = (0..out.len()).filter(|&i| out[i] != 0x55).collect();
            if changed.iter().any(|&i| (out[i] ^ 0x55).count_ones() == 1) {
                flipped += 1;
            }
            if out
                .windows(4)
                .any(|w| EDGE_VALUES.iter().any(|v| w == v.to_le_bytes()))
            {
                edge += 1;
            }
            if changed.first().is_some_and(|&i| i < 64) {
                in_focus += 1;
            }
        }
        // Each damage is picked with probability 1/4 (truncation 1/2 with the combined
        // kind); the bounds leave a wide margin.
        assert!(shorter > 700, "{shorter} truncations");
        assert!(flipped > 700, "{flipped} flips");
        assert!(edge > 250, "{edge} edge-value overwrites");
        assert!(in_focus > 500, "{in_focus} cases touching the focus window");
    }

    #[test]
    fn empty_and_tiny_inputs_are_fine() {
        let mut m = Mutator::new(3);
        for len in 0..6 {
            for _ in 0..50 {
                assert!(m.mutate(&vec![1; len]).len() <= len);
            }
        }
    }

    #[test]
    fn run_counts_cases_and_names_a_panicking_one() {
        let mut m = Mutator::new(5);
        m.run("input", &[1, 2, 3, 4, 5, 6, 7, 8], 100, |_| {});
        assert_eq!(m.cases(), 100);
        let failure = catch_unwind(AssertUnwindSafe(|| {
            m.run("the input", &[0; 64], 10, |_| panic!("parser bug"))
        }))
        .expect_err("a panicking check must fail the run");
        let message = failure.downcast_ref::<String>().expect("formatted message");
        assert!(
            message.contains("the input, case 0 of Mutator::new(0x5)"),
            "{message}"
        );
    }

    #[test]
    fn rng_is_xorshift64_star() {
        // The shift/multiply steps of xorshift64* as published (Vigna 2016), written
        // out independently of `next_u64`.
        let mut r = Rng::new(1);
        let mut s: u64 = 1;
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        assert_eq!(r.next_u64(), s.wrapping_mul(0x2545_F491_4F6C_DD1D));
        assert!(Rng::new(0).next_u64() != 0);
        assert_eq!(Rng::new(9).below(0), 0);
    }
}
