//! The `MAM` container Windows 8.1+ and 10/11 wrap Prefetch files in.
//!
//! Layout (libscca's "Windows Prefetch File (PF) format", section "Compressed
//! Prefetch file - MAM file format", checked against the corpus): bytes 0..3 are
//! `MAM`, byte 3 the format (0x04 = LZXPRESS Huffman; with bit 0x80 set a CRC32
//! would follow, which Prefetch files do not use), bytes 4..8 the uncompressed size
//! as a little-endian u32, then the compressed stream up to the end of the file.

use crate::lzxpress_huffman;
use crate::reader::Reader;
use crate::Error;

const SIGNATURE: &[u8; 3] = b"MAM";
const FORMAT_XPRESS_HUFFMAN: u8 = 0x04;
const HEADER_LEN: usize = 8;

/// True if `bytes` start with the `MAM` signature (any format byte).
pub(crate) fn is_mam(bytes: &[u8]) -> bool {
    bytes.starts_with(SIGNATURE)
}

/// Decompresses a whole `MAM\x04` file to the bytes of the Prefetch file inside.
pub fn decompress(bytes: &[u8]) -> Result<Vec<u8>, Error> {
    if !is_mam(bytes) {
        return Err(Error::NotPrefetch {
            found: bytes.iter().take(8).copied().collect(),
        });
    }
    let reader = Reader::new(bytes);
    let format = reader.slice(3, 1, "MAM format byte")?;
    if format != [FORMAT_XPRESS_HUFFMAN] {
        return Err(Error::UnsupportedMamFormat {
            format: format.first().copied().unwrap_or_default(),
        });
    }
    let size = reader.usize_at(4, "MAM uncompressed size")?;
    let payload = bytes.get(HEADER_LEN..).unwrap_or_default();
    lzxpress_huffman::decompress(payload, size)
}
