//! GUIDs as Windows stores them (first three fields little-endian).

use std::fmt;

/// A GUID in its on-disk byte order; `Display` gives the usual lowercase form.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Guid(pub [u8; 16]);

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        write!(
            f,
            "{:08x}-{:04x}-{:04x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
            u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            u16::from_le_bytes([b[4], b[5]]),
            u16::from_le_bytes([b[6], b[7]]),
            b[8],
            b[9],
            b[10],
            b[11],
            b[12],
            b[13],
            b[14],
            b[15]
        )
    }
}

#[cfg(test)]
mod tests {
    use super::Guid;

    #[test]
    fn displays_in_mixed_endian_order() {
        // The VSS identifier as libvshadow's documentation spells it.
        let g = Guid([
            0x6b, 0x87, 0x08, 0x38, 0x76, 0xc1, 0x48, 0x4e, 0xb7, 0xae, 0x04, 0x04, 0x6e, 0x6c,
            0xc7, 0x52,
        ]);
        assert_eq!(g.to_string(), "3808876b-c176-4e48-b7ae-04046e6cc752");
    }
}
