#![no_main]
//! Reads arbitrary bytes as an E01 set of three segments, opened and read through
//! as `common/ewf_set.rs` says: the chain of segment numbers and sections across
//! more than one boundary (a middle segment that is cut, missing, repeated or out
//! of order). The input is two 4-byte little-endian lengths, then the segments'
//! bytes back to back: `image.E01` takes the first `a % (rest + 1)` bytes,
//! `image.E02` the next `b % (left + 1)`, `image.E03` the others (a segment with
//! no bytes is absent).

use libfuzzer_sys::fuzz_target;

#[path = "common/ewf_set.rs"]
mod ewf_set;

fuzz_target!(|data: &[u8]| {
    let Some((first_len, rest)) = data.split_first_chunk::<4>() else {
        return;
    };
    let Some((second_len, rest)) = rest.split_first_chunk::<4>() else {
        return;
    };
    let at = u32::from_le_bytes(*first_len) as usize % (rest.len() + 1);
    let (first, rest) = rest.split_at(at);
    let at = u32::from_le_bytes(*second_len) as usize % (rest.len() + 1);
    let (second, third) = rest.split_at(at);
    ewf_set::read_set(&[first, second, third]);
});
