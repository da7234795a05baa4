//! Marvin32, the keyed hash Windows uses to protect new-format log entries. The seed
//! is the 64-bit number 0x82EF4D887A4E55C5 (its low half seeds the low lane; checked
//! against the hashes stored in the corpus logs). Written from the algorithm's published
//! description (the .NET runtime documents it): two 32-bit lanes mixed by an
//! add-rotate-xor block function, a one-byte 0x80 terminator, two final rounds.

/// The seed of registry log entry hashes.
pub(crate) const REGISTRY_SEED: u64 = 0x82EF_4D88_7A4E_55C5;

fn mix(lo: &mut u32, hi: &mut u32) {
    *hi ^= *lo;
    *lo = lo.rotate_left(20);
    *lo = lo.wrapping_add(*hi);
    *hi = hi.rotate_left(9);
    *hi ^= *lo;
    *lo = lo.rotate_left(27);
    *lo = lo.wrapping_add(*hi);
    *hi = hi.rotate_left(19);
}

/// The 64-bit Marvin32 hash of `data` (high lane in the upper half).
pub(crate) fn marvin32(seed: u64, data: &[u8]) -> u64 {
    let mut lo = seed as u32;
    let mut hi = (seed >> 32) as u32;
    let mut words = data.chunks_exact(4);
    for w in &mut words {
        lo = lo.wrapping_add(u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
        mix(&mut lo, &mut hi);
    }
    let mut last = [0u8; 4];
    let tail = words.remainder();
    if let Some(dst) = last.get_mut(..tail.len()) {
        dst.copy_from_slice(tail);
    }
    if let Some(slot) = last.get_mut(tail.len()) {
        *slot = 0x80;
    }
    lo = lo.wrapping_add(u32::from_le_bytes(last));
    mix(&mut lo, &mut hi);
    mix(&mut lo, &mut hi);
    (u64::from(hi) << 32) | u64::from(lo)
}
