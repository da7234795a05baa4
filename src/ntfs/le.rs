//! Bounds-checked little-endian field access for on-disk structures.
//!
//! Every NTFS structure is read through `Fields`, which returns `None` instead of
//! panicking when a damaged length or offset points outside the buffer.

/// A byte slice read as little-endian fields at offsets.
#[derive(Clone, Copy)]
pub struct Fields<'a>(pub &'a [u8]);

impl<'a> Fields<'a> {
    /// `n` bytes at `offset`.
    pub fn bytes(self, offset: usize, n: usize) -> Option<&'a [u8]> {
        self.0.get(offset..offset.checked_add(n)?)
    }

    /// Everything from `offset` on.
    pub fn tail(self, offset: usize) -> Option<&'a [u8]> {
        self.0.get(offset..)
    }

    /// Byte at `offset`.
    pub fn u8(self, offset: usize) -> Option<u8> {
        self.0.get(offset).copied()
    }

    /// Little-endian u16 at `offset`.
    pub fn u16(self, offset: usize) -> Option<u16> {
        Some(u16::from_le_bytes(self.bytes(offset, 2)?.try_into().ok()?))
    }

    /// Little-endian u32 at `offset`.
    pub fn u32(self, offset: usize) -> Option<u32> {
        Some(u32::from_le_bytes(self.bytes(offset, 4)?.try_into().ok()?))
    }

    /// Little-endian u64 at `offset`.
    pub fn u64(self, offset: usize) -> Option<u64> {
        Some(u64::from_le_bytes(self.bytes(offset, 8)?.try_into().ok()?))
    }

    /// UTF-16LE text of `units` code units at `offset`, lossily decoded.
    pub fn utf16(self, offset: usize, units: usize) -> Option<String> {
        let raw = self.bytes(offset, units.checked_mul(2)?)?;
        Some(utf16_lossy(raw))
    }
}

/// Decodes UTF-16LE bytes without losing anything: names on NTFS are any 16-bit
/// units, not necessarily valid UTF-16. An unpaired surrogate becomes U+FFFD
/// followed by its four upper-case hex digits (`\u{FFFD}D800`), and a real U+FFFD
/// is written `\u{FFFD}FFFD`, so two distinct names never read the same and the
/// original units can be recovered (README, "What toolmark promises on damaged
/// input").
pub fn utf16_lossy(raw: &[u8]) -> String {
    let units = raw
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]));
    let mut out = String::with_capacity(raw.len() / 2);
    for unit in char::decode_utf16(units) {
        match unit {
            Ok('\u{FFFD}') => out.push_str("\u{FFFD}FFFD"),
            Ok(c) => out.push(c),
            Err(e) => {
                out.push('\u{FFFD}');
                out.push_str(&format!("{:04X}", e.unpaired_surrogate()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::utf16_lossy;

    fn le(units: &[u16]) -> Vec<u8> {
        units.iter().flat_map(|u| u.to_le_bytes()).collect()
    }

    #[test]
    fn distinct_invalid_names_stay_distinct() {
        let a = utf16_lossy(&le(&[0x61, 0xD800]));
        let b = utf16_lossy(&le(&[0x61, 0xDC00]));
        let c = utf16_lossy(&le(&[0x61, 0xFFFD]));
        assert_eq!(a, "a\u{FFFD}D800");
        assert_eq!(b, "a\u{FFFD}DC00");
        assert_eq!(c, "a\u{FFFD}FFFD");
        assert_eq!(utf16_lossy(&le(&[0xD83D, 0xDE00])), "\u{1F600}");
    }
}
