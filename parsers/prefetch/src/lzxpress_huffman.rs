//! LZXPRESS Huffman ("Xpress Huffman", `COMPRESSION_FORMAT_XPRESS_HUFF`) decompression.
//!
//! Format, in our words (source: Microsoft's [MS-XCA] section 2.2.4 "LZ77+Huffman
//! Decompression Algorithm Details"; the libscca notes on MAM files, which call this
//! the "stream variant" because matches may reach back into earlier blocks):
//!
//! - The output is produced in blocks of 65,536 bytes (the last one shorter). Each
//!   block starts with a 256-byte table of 512 four-bit code lengths (low nibble
//!   first). Symbols 0..=255 are literal bytes; symbols 256..=511 are matches, whose
//!   low 4 bits give the length (15 = "read more") and high bits the number of
//!   offset bits.
//! - The Huffman codes are canonical (shorter codes first, ties by symbol value),
//!   at most 15 bits long, and read MSB first from a stream of little-endian 16-bit
//!   words held in a 32-bit window. Extra match-length bytes are read directly from
//!   the byte stream at the current position, not from the bit window.
//! - Matches copy from the output already produced, across block boundaries.
//!
//! What this module adds for untrusted input: the output is allocated once at the
//! stated size, which is refused above [`MAX_OUTPUT`] and above what the input could
//! possibly encode (each 64 KiB block needs its own 256-byte table, so no input
//! yields more than 256 output bytes per input byte); any read past the input, any
//! code that is not in the table, any match reaching before the start or past the
//! stated end is an error; and the result must be exactly the stated length. Some
//! decoders stop at the end of input and return whatever they have (a few bytes
//! short, or a few long from the end-of-stream padding); we return an error instead.

use crate::Error;

/// Largest output we agree to produce. Real Prefetch files are well under 4 MiB.
pub const MAX_OUTPUT: usize = 64 * 1024 * 1024;

const BLOCK_OUTPUT: usize = 65_536;
const TABLE_BYTES: usize = 256;
const SYMBOLS: usize = 512;
const MAX_CODE_BITS: u32 = 15;
const TABLE_SLOTS: usize = 1 << MAX_CODE_BITS;
/// Output bytes one input byte can at most account for (see module docs).
const MAX_RATIO: usize = BLOCK_OUTPUT / TABLE_BYTES;

/// Decompresses `input` (the data after any container header) to exactly
/// `expected_len` bytes.
pub fn decompress(input: &[u8], expected_len: usize) -> Result<Vec<u8>, Error> {
    check_size(input.len(), expected_len)?;
    let mut out = Vec::with_capacity(expected_len);
    let mut table = DecodeTable::new();
    let mut pos = 0usize;
    while out.len() < expected_len {
        table.build(input, pos)?;
        pos += TABLE_BYTES;
        let block_end = out.len().saturating_add(BLOCK_OUTPUT).min(expected_len);
        let mut bits = BitStream::new(input, pos);
        while out.len() < block_end {
            decode_one(&table, &mut bits, &mut out, expected_len)?;
        }
        pos = bits.pos;
    }
    if out.len() != expected_len {
        return Err(Error::SizeMismatch {
            stated: expected_len,
            produced: out.len(),
        });
    }
    Ok(out)
}

fn check_size(input_len: usize, expected_len: usize) -> Result<(), Error> {
    if expected_len > MAX_OUTPUT {
        return Err(Error::SizeLimit {
            stated: expected_len as u64,
            limit: MAX_OUTPUT as u64,
            why: "hard limit for decompressed Prefetch data",
        });
    }
    let possible = input_len.saturating_mul(MAX_RATIO);
    if expected_len > possible {
        return Err(Error::SizeLimit {
            stated: expected_len as u64,
            limit: possible as u64,
            why: "at most 256 output bytes per compressed byte",
        });
    }
    Ok(())
}

/// Decodes one literal or match and appends it to `out`.
fn decode_one(
    table: &DecodeTable,
    bits: &mut BitStream<'_>,
    out: &mut Vec<u8>,
    expected_len: usize,
) -> Result<(), Error> {
    let (symbol, length) = table
        .lookup(bits.peek15())
        .ok_or_else(|| bits.corrupt(out, "bit pattern matches no Huffman code"))?;
    bits.consume(length, out)?;
    if symbol < 256 {
        // A symbol below 256 is the literal byte itself.
        out.push(symbol as u8);
        return Ok(());
    }
    let symbol = symbol - 256;
    let offset_bits = u32::from(symbol >> 4);
    let mut match_len = usize::from(symbol & 0xF);
    if match_len == 15 {
        match_len = usize::from(bits.raw_u8(out)?);
        if match_len == 255 {
            let long = usize::from(bits.raw_u16(out)?);
            match_len = long
                .checked_sub(15)
                .ok_or_else(|| bits.corrupt(out, "long match length below 15"))?;
        }
        match_len += 15;
    }
    match_len += 3;
    let distance = bits.take(offset_bits, out)? as usize + (1usize << offset_bits);
    copy_match(out, distance, match_len, expected_len).map_err(|reason| bits.corrupt(out, reason))
}

/// Appends `len` bytes starting `distance` back; overlapping copies repeat the
/// pattern byte by byte as LZ77 requires.
fn copy_match(
    out: &mut Vec<u8>,
    distance: usize,
    len: usize,
    limit: usize,
) -> Result<(), &'static str> {
    let start = out
        .len()
        .checked_sub(distance)
        .ok_or("match reaches before the start of the output")?;
    if out.len() + len > limit {
        return Err("match runs past the stated uncompressed size");
    }
    if distance >= len {
        out.extend_from_within(start..start + len);
    } else {
        for i in start..start + len {
            let byte = out.get(i).copied().ok_or("match source out of range")?;
            out.push(byte);
        }
    }
    Ok(())
}

/// A 15-bit lookup table: slot = next 15 stream bits, value = symbol | length << 9,
/// 0 for bit patterns no code starts with.
struct DecodeTable {
    slots: Vec<u16>,
}

impl DecodeTable {
    fn new() -> Self {
        DecodeTable {
            slots: vec![0; TABLE_SLOTS],
        }
    }

    fn build(&mut self, input: &[u8], offset: usize) -> Result<(), Error> {
        let raw = offset
            .checked_add(TABLE_BYTES)
            .and_then(|end| input.get(offset..end))
            .ok_or(Error::Truncated {
                what: "Huffman code-length table",
                offset,
                needed: TABLE_BYTES,
                available: input.len().saturating_sub(offset),
            })?;
        let mut lengths = [0u8; SYMBOLS];
        for (pair, byte) in lengths.chunks_exact_mut(2).zip(raw) {
            pair.copy_from_slice(&[byte & 0xF, byte >> 4]);
        }
        self.slots.fill(0);
        let mut next = 0usize;
        for length in 1..=MAX_CODE_BITS {
            let span = 1usize << (MAX_CODE_BITS - length);
            for (symbol, _) in lengths
                .iter()
                .enumerate()
                .filter(|(_, &l)| u32::from(l) == length)
            {
                let end = next + span;
                let slots = self.slots.get_mut(next..end).ok_or(Error::HuffmanTable {
                    offset,
                    reason: "code lengths over-subscribe the code space",
                })?;
                // symbol < 512 and length <= 15, so the packing fits in 13 bits.
                slots.fill(symbol as u16 | (length as u16) << 9);
                next = end;
            }
        }
        if next == 0 {
            return Err(Error::HuffmanTable {
                offset,
                reason: "all code lengths are zero",
            });
        }
        Ok(())
    }

    fn lookup(&self, next15: usize) -> Option<(u16, u32)> {
        let entry = *self.slots.get(next15)?;
        let length = u32::from(entry >> 9);
        (length != 0).then_some((entry & 0x1FF, length))
    }
}

/// The MS-XCA bit window: `window` holds the next bits MSB first; `extra` counts
/// how many of them beyond the first 16 are valid. Words read past the end of the
/// input are zeros and counted in `phantom_words`, so we can tell padding that is
/// only peeked at from bits that are actually consumed.
struct BitStream<'a> {
    input: &'a [u8],
    pos: usize,
    window: u32,
    extra: i32,
    phantom_words: usize,
}

impl<'a> BitStream<'a> {
    fn new(input: &'a [u8], pos: usize) -> Self {
        let mut s = BitStream {
            input,
            pos,
            window: 0,
            extra: 16,
            phantom_words: 0,
        };
        let high = u32::from(s.next_word());
        let low = u32::from(s.next_word());
        s.window = high << 16 | low;
        s
    }

    fn next_word(&mut self) -> u16 {
        let word = self
            .input
            .get(self.pos..self.pos + 2)
            .map(|w| u16::from_le_bytes([w[0], w[1]]));
        self.pos += 2;
        word.unwrap_or_else(|| {
            self.phantom_words += 1;
            0
        })
    }

    fn peek15(&self) -> usize {
        (self.window >> (32 - MAX_CODE_BITS)) as usize
    }

    /// Drops `n` (at most 16) bits and refills; fails if a dropped bit was padding.
    fn consume(&mut self, n: u32, out: &[u8]) -> Result<(), Error> {
        if n == 0 {
            return Ok(());
        }
        self.window = self.window.checked_shl(n).unwrap_or(0);
        self.extra -= n as i32;
        if self.extra < 0 {
            let word = u32::from(self.next_word());
            self.window |= word << (-self.extra) as u32;
            self.extra += 16;
        }
        if self.phantom_words > 0 {
            // Valid bits left in the window are 16 + extra; the newest
            // phantom_words * 16 of them are padding and must not have been used.
            let padding = self.phantom_words * 16;
            if padding > (16 + self.extra) as usize {
                return Err(self.corrupt(out, "compressed data ends inside a code"));
            }
        }
        Ok(())
    }

    /// The next `n` (0..=15) bits as a number, consumed.
    fn take(&mut self, n: u32, out: &[u8]) -> Result<u32, Error> {
        let value = self.window.checked_shr(32 - n).unwrap_or(0);
        self.consume(n, out)?;
        Ok(value)
    }

    fn raw_u8(&mut self, out: &[u8]) -> Result<u8, Error> {
        let byte = self
            .input
            .get(self.pos)
            .copied()
            .ok_or_else(|| self.corrupt(out, "compressed data ends inside a match length"))?;
        self.pos += 1;
        Ok(byte)
    }

    fn raw_u16(&mut self, out: &[u8]) -> Result<u16, Error> {
        let low = self.raw_u8(out)?;
        let high = self.raw_u8(out)?;
        Ok(u16::from_le_bytes([low, high]))
    }

    fn corrupt(&self, out: &[u8], reason: &'static str) -> Error {
        Error::CorruptStream {
            offset: self.pos.min(self.input.len()),
            output: out.len(),
            reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table where every literal has an 8-bit code and the other symbols none:
    /// canonical order then makes literal b's code equal to b itself, so the bit
    /// stream is simply the bytes, packed into 16-bit words high byte first.
    fn identity_block(data: &[u8]) -> Vec<u8> {
        let mut out = vec![0x88u8; 128];
        out.resize(256, 0);
        let mut padded = data.to_vec();
        // Four spare bytes keep the 32-bit window fed with real input.
        padded.resize(data.len().div_ceil(2) * 2 + 4, 0);
        for pair in padded.chunks_exact(2) {
            out.extend_from_slice(&[pair[1], pair[0]]);
        }
        out
    }

    #[test]
    fn literal_only_block_round_trips() {
        let data = b"toolmark prefetch";
        let compressed = identity_block(data);
        assert_eq!(decompress(&compressed, data.len()).unwrap(), data);
    }

    #[test]
    fn asking_for_more_than_the_stream_holds_is_an_error() {
        let data = b"abcd";
        let compressed = identity_block(data);
        // The stream carries 4 literals plus zero padding; asking for far more must
        // fail rather than return a short or padded buffer.
        let err = decompress(&compressed, 64).unwrap_err();
        assert!(matches!(err, Error::CorruptStream { .. }), "{err}");
    }

    #[test]
    fn sizes_beyond_the_limits_are_refused_before_allocating() {
        let err = decompress(&[0u8; 300], MAX_OUTPUT + 1).unwrap_err();
        assert!(matches!(err, Error::SizeLimit { .. }));
        let err = decompress(&[0u8; 300], 300 * 256 + 1).unwrap_err();
        assert!(matches!(err, Error::SizeLimit { .. }));
    }

    #[test]
    fn empty_or_oversubscribed_tables_are_rejected() {
        assert!(matches!(
            decompress(&[0u8; 300], 10),
            Err(Error::HuffmanTable { .. })
        ));
        // 512 one-bit codes cannot all fit.
        assert!(matches!(
            decompress(&[0x11u8; 300], 10),
            Err(Error::HuffmanTable { .. })
        ));
    }

    /// Literal `a` (symbol 97) and match symbol 271 (no offset bits, length
    /// nibble 15) get one-bit codes, so canonical order makes them `0` and `1`.
    fn two_symbol_table() -> Vec<u8> {
        let mut table = vec![0u8; 256];
        table[97 / 2] = 0x10; // odd symbols use the high nibble
        table[271 / 2] = 0x10;
        table
    }

    #[test]
    fn long_match_lengths_use_the_byte_then_word_escape() {
        // Bits "0" (literal a) then "1" (match); then, from the byte stream after
        // the two preloaded words: 255 = "16-bit length follows", 300 as u16.
        // MS-XCA: 300 - 15 + 15 + 3 = 303 bytes at distance 1.
        let mut stream = two_symbol_table();
        stream.extend_from_slice(&[0x00, 0x40, 0x00, 0x00, 0xFF, 0x2C, 0x01]);
        assert_eq!(decompress(&stream, 304).unwrap(), vec![b'a'; 304]);
    }

    #[test]
    fn a_match_before_any_output_is_rejected() {
        // Bit "1" first: a match with nothing to copy from.
        let mut stream = two_symbol_table();
        stream.extend_from_slice(&[0x00, 0x80, 0x00, 0x00, 0x05]);
        let err = decompress(&stream, 30).unwrap_err();
        assert!(matches!(err, Error::CorruptStream { .. }), "{err}");
    }

    #[test]
    fn zero_length_output_needs_no_input() {
        assert_eq!(decompress(&[], 0).unwrap(), Vec::<u8>::new());
    }
}
