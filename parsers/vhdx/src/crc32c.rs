//! CRC-32C (Castagnoli), which every VHDX header, region table and log entry carries.

const POLY: u32 = 0x82f6_3b78;

const TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { (c >> 1) ^ POLY } else { c >> 1 };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// CRC-32C of `bytes` with the four bytes at `checksum_at` taken as zero (the
/// stored checksum's own place).
pub fn crc32c_zeroed(bytes: &[u8], checksum_at: usize) -> u32 {
    let mut crc = !0u32;
    for (i, &b) in bytes.iter().enumerate() {
        let b = if (checksum_at..checksum_at + 4).contains(&i) {
            0
        } else {
            b
        };
        crc = TABLE[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

#[cfg(test)]
mod tests {
    #[test]
    fn check_value() {
        // The standard check value of CRC-32C over "123456789".
        assert_eq!(
            super::crc32c_zeroed(b"123456789", usize::MAX - 4),
            0xe306_9283
        );
    }
}
