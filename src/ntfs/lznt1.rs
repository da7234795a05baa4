//! LZNT1, the compression NTFS applies per compression unit (usually 16 clusters).
//!
//! A compressed unit is a sequence of chunks, each standing for up to 4096 bytes of
//! output. A chunk starts with a 16-bit header: the low 12 bits are the chunk's
//! stored size minus 3 (header included), bit 15 says whether it is compressed.
//! Compressed chunks are groups of one flag byte and eight tokens: a clear bit is a
//! literal byte, a set bit a 16-bit back-reference whose split between offset and
//! length bits depends on how far into the chunk we are (the further in, the more
//! bits the offset needs). Sources: MS-XCA section 2.5 (LZNT1), and reading how
//! ntfs-3g and The Sleuth Kit decode it.

/// Output bytes one chunk stands for.
const CHUNK: usize = 4096;

/// Decompresses `input` into `out`, which is filled up to its length (the unit size).
/// Returns the number of bytes produced; bytes not produced stay as they were
/// (callers pass a zeroed buffer, matching how Windows reads a short unit).
pub fn decompress(input: &[u8], out: &mut [u8]) -> Result<usize, String> {
    let mut src = 0usize;
    let mut dst = 0usize;
    while dst < out.len() {
        let Some(header) = input.get(src..src + 2) else {
            break;
        };
        let header = u16::from_le_bytes([header[0], header[1]]);
        if header == 0 {
            break;
        }
        let stored = usize::from(header & 0x0FFF) + 1;
        let body_start = src + 2;
        let body_end = body_start + stored;
        let body = input
            .get(body_start..body_end)
            .ok_or_else(|| format!("chunk at {src} runs past the compressed data"))?;
        let chunk_end = (dst + CHUNK).min(out.len());
        if header & 0x8000 == 0 {
            let n = body.len().min(chunk_end - dst);
            out[dst..dst + n].copy_from_slice(&body[..n]);
            dst += n;
        } else {
            let produced = decompress_chunk(body, &mut out[dst..chunk_end])
                .map_err(|e| format!("chunk at {src}: {e}"))?;
            // A compressed chunk shorter than 4096 bytes followed by another chunk
            // leaves zeros for the rest of its 4096 bytes.
            let more = input
                .get(body_end..body_end + 2)
                .is_some_and(|h| h != [0, 0]);
            if !more {
                dst += produced;
                break;
            }
            dst = chunk_end;
        }
        src = body_end;
    }
    Ok(dst)
}

/// Whether `data` begins with an LZNT1 chunk header: a nonzero size and the
/// signature bits (12 to 14) that Windows always sets to 3.
pub fn starts_with_chunk(data: &[u8]) -> bool {
    data.get(..2)
        .map(|h| u16::from_le_bytes([h[0], h[1]]))
        .is_some_and(|h| h != 0 && h & 0x7000 == 0x3000)
}

fn decompress_chunk(body: &[u8], out: &mut [u8]) -> Result<usize, String> {
    let mut src = 0usize;
    let mut dst = 0usize;
    while src < body.len() && dst < out.len() {
        let flags = body[src];
        src += 1;
        for bit in 0..8 {
            if src >= body.len() || dst >= out.len() {
                break;
            }
            if flags & (1 << bit) == 0 {
                out[dst] = body[src];
                dst += 1;
                src += 1;
                continue;
            }
            let token = body
                .get(src..src + 2)
                .map(|t| u16::from_le_bytes([t[0], t[1]]))
                .ok_or("back-reference cut short")?;
            src += 2;
            // The offset field widens as the position in the chunk grows past
            // 16, 32, 64, ... bytes.
            let mut shift = 0u32;
            let mut pos = dst.saturating_sub(1);
            while pos >= 0x10 {
                pos >>= 1;
                shift += 1;
            }
            let offset = usize::from(token >> (12 - shift)) + 1;
            let length = usize::from(token & (0x0FFF >> shift)) + 3;
            if offset > dst {
                return Err(format!(
                    "back-reference {offset} before chunk start at {dst}"
                ));
            }
            for _ in 0..length {
                if dst >= out.len() {
                    break;
                }
                out[dst] = out[dst - offset];
                dst += 1;
            }
        }
    }
    Ok(dst)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_and_backreference() {
        // "abcabcabc": literals a b c, then a back-reference of offset 3, length 6.
        // At position 3 the shift is 0: token = ((3 - 1) << 12) | (6 - 3).
        let token: u16 = (2 << 12) | 3;
        let body = [
            0b0000_1000,
            b'a',
            b'b',
            b'c',
            token as u8,
            (token >> 8) as u8,
        ];
        let header: u16 = 0x8000 | 0x3000 | (body.len() as u16 - 1);
        let mut input = header.to_le_bytes().to_vec();
        input.extend_from_slice(&body);
        let mut out = [0u8; 9];
        assert_eq!(decompress(&input, &mut out).unwrap(), 9);
        assert_eq!(&out, b"abcabcabc");
    }

    #[test]
    fn uncompressed_chunk_is_copied() {
        let mut input = (0x3000u16 | 4).to_le_bytes().to_vec();
        input.extend_from_slice(b"hello");
        let mut out = [0u8; 5];
        assert_eq!(decompress(&input, &mut out).unwrap(), 5);
        assert_eq!(&out, b"hello");
    }

    #[test]
    fn hostile_input_errors_without_panicking() {
        let bad_ref = [0x03, 0x80, 0x01, 0xFF, 0xFF];
        let mut out = [0u8; 64];
        assert!(decompress(&bad_ref, &mut out).is_err());
        assert!(decompress(&[0xFF, 0xBF], &mut out).is_err());
        assert_eq!(decompress(&[], &mut out).unwrap(), 0);
    }

    #[test]
    fn a_chunk_header_carries_signature_three() {
        assert!(starts_with_chunk(&[0x05, 0xB0]), "compressed, 6 bytes");
        assert!(starts_with_chunk(&[0xFF, 0x3F]), "stored, 4096 bytes");
        assert!(!starts_with_chunk(b"regf"), "a hive's first bytes");
        assert!(!starts_with_chunk(&[0, 0]), "the end marker");
        assert!(!starts_with_chunk(&[0x05]));
    }
}
