//! UTF-16LE decoding that never fails. Windows stores names as UTF-16 without
//! checking them, so damaged or remnant data can hold unpaired surrogates; we keep
//! everything that decodes and mark the rest with U+FFFD.

/// Decodes UTF-16LE code units, replacing unpaired surrogates with U+FFFD and
/// ignoring a trailing odd byte.
pub fn utf16le(bytes: &[u8]) -> String {
    let units = bytes
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]));
    char::decode_utf16(units)
        .map(|unit| unit.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// Byte length of the UTF-16LE string at the start of `bytes`: up to (not including)
/// the first NUL code unit, or all of `bytes` when there is none.
pub fn utf16le_len_before_nul(bytes: &[u8]) -> usize {
    bytes
        .chunks_exact(2)
        .position(|pair| pair == [0, 0])
        .map_or(bytes.len(), |units| units * 2)
}

/// The UTF-16LE string at the start of `bytes`, up to the first NUL code unit or
/// the end of `bytes` (C strings in fixed-size fields, registry string values).
pub fn utf16le_until_nul(bytes: &[u8]) -> String {
    let end = utf16le_len_before_nul(bytes);
    utf16le(bytes.get(..end).unwrap_or(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        assert_eq!(utf16le(&[0x00, 0xD8, 0x61, 0x00]), "\u{FFFD}a");
        assert_eq!(utf16le(&[0x61, 0x00, 0x00, 0xDC]), "a\u{FFFD}");
        // A valid pair survives: U+1F600 is D83D DE00.
        assert_eq!(utf16le(&[0x3D, 0xD8, 0x00, 0xDE]), "\u{1F600}");
    }

    #[test]
    fn odd_trailing_byte_is_ignored() {
        assert_eq!(utf16le(b"a\0b"), "a");
        assert_eq!(utf16le(b""), "");
    }

    #[test]
    fn strings_stop_at_the_first_nul_unit() {
        assert_eq!(utf16le_until_nul(b"a\0b\0\0\0c\0"), "ab");
        assert_eq!(utf16le_until_nul(b"a\0b\0c"), "ab");
        // Two zero bytes that straddle code units are not a NUL unit.
        assert_eq!(utf16le_len_before_nul(b"a\0\0b\0\0"), 4);
        assert_eq!(utf16le_len_before_nul(b"a\0\0\0"), 2);
        assert_eq!(utf16le_len_before_nul(b"abc"), 3);
    }
}
