#![no_main]
//! Reads arbitrary bytes as a two-segment E01 set, opened and read through as
//! `common/ewf_set.rs` says. The input is a 4-byte little-endian split offset,
//! then the segments' bytes back to back: `image.E01` is the first
//! `offset % (rest + 1)` bytes, `image.E02` the others (absent when none are
//! left). So the fuzzer mutates both segments' headers and sections, and where
//! one ends, together.

use libfuzzer_sys::fuzz_target;

#[path = "common/ewf_set.rs"]
mod ewf_set;

fuzz_target!(|data: &[u8]| {
    let Some((offset, rest)) = data.split_first_chunk::<4>() else {
        return;
    };
    let at = u32::from_le_bytes(*offset) as usize % (rest.len() + 1);
    let (first, second) = rest.split_at(at);
    ewf_set::read_set(&[first, second]);
});
