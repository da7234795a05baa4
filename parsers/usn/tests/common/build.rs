//! Hand-built records for the crafted tests, laid out from Microsoft's structure docs.

/// A V2 (`major` 2) or V3 (`major` 3) record for `name` with the given USN,
/// padded to 8 bytes.
pub fn record(major: u16, usn: u64, name: &str) -> Vec<u8> {
    let name: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let fixed = if major == 3 { 76 } else { 60 };
    let length = (fixed + name.len()).next_multiple_of(8);
    let mut r = vec![0u8; length];
    r[0..4].copy_from_slice(&(length as u32).to_le_bytes());
    r[4..6].copy_from_slice(&major.to_le_bytes());
    let (reference_len, usn_at) = if major == 3 { (16, 40) } else { (8, 24) };
    // File 0x1234 sequence 2, parent 5 sequence 5.
    r[8..16].copy_from_slice(&0x0002_0000_0000_1234u64.to_le_bytes());
    r[8 + reference_len..16 + reference_len]
        .copy_from_slice(&0x0005_0000_0000_0005u64.to_le_bytes());
    r[usn_at..usn_at + 8].copy_from_slice(&usn.to_le_bytes());
    r[usn_at + 8..usn_at + 16].copy_from_slice(&0x01d4_b29a_7e00_4ce3u64.to_le_bytes());
    r[usn_at + 16..usn_at + 20].copy_from_slice(&0x8000_0002u32.to_le_bytes());
    r[usn_at + 28..usn_at + 32].copy_from_slice(&0x20u32.to_le_bytes());
    r[usn_at + 32..usn_at + 34].copy_from_slice(&(name.len() as u16).to_le_bytes());
    r[usn_at + 34..usn_at + 36].copy_from_slice(&(fixed as u16).to_le_bytes());
    r[fixed..fixed + name.len()].copy_from_slice(&name);
    r
}

/// A V4 range-tracking record with one extent.
pub fn record_v4() -> Vec<u8> {
    let mut r = vec![0u8; 80];
    r[0..4].copy_from_slice(&80u32.to_le_bytes());
    r[4..6].copy_from_slice(&4u16.to_le_bytes());
    r[8] = 0x2c;
    r
}
