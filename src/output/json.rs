//! JSON strings written by hand, escaped exactly as `serde_json` escapes them, for the
//! per-record outputs (the `event_data` cell, observations.jsonl) where going
//! through `serde_json`'s serializer costs more than the rest of the line.

/// Where escaped text goes: a `String` or a byte buffer.
pub trait Out {
    /// Appends `s`.
    fn put(&mut self, s: &str);
    /// Appends one ASCII byte (quotes and escapes: no slice copy for one byte).
    fn put_ascii(&mut self, b: u8);
}

impl Out for String {
    fn put(&mut self, s: &str) {
        self.push_str(s);
    }
    fn put_ascii(&mut self, b: u8) {
        debug_assert!(b.is_ascii());
        self.push(char::from(b));
    }
}

impl Out for Vec<u8> {
    fn put(&mut self, s: &str) {
        self.extend_from_slice(s.as_bytes());
    }
    fn put_ascii(&mut self, b: u8) {
        self.push(b);
    }
}

/// What each byte becomes inside a JSON string: 0 for itself, `u` for `\u00XX`, or
/// the letter after a backslash.
const ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = b'u';
        b += 1;
    }
    table[0x08] = b'b';
    table[0x0c] = b'f';
    table[b'\n' as usize] = b'n';
    table[b'\r' as usize] = b'r';
    table[b'\t' as usize] = b't';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

/// Appends `s` as a JSON string (quotes included), escaped as `serde_json` escapes it:
/// `"`, `\\` and control characters only, `\u00xx` in lower-case hex where there is
/// no short form.
pub fn push_str(out: &mut impl Out, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.put_ascii(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Eight bytes at a time past the (usual) stretches with nothing to escape.
        if let Some(word) = bytes.get(i..i + 8) {
            let w = u64::from_le_bytes(word.try_into().unwrap_or_default());
            if swar::json_special(w) == 0 {
                i += 8;
                continue;
            }
        }
        let end = bytes.len().min(i + 8);
        while i < end {
            let b = bytes[i];
            let escape = ESCAPE[usize::from(b)];
            i += 1;
            if escape == 0 {
                continue;
            }
            // Escaped bytes are ASCII, so they sit on character boundaries.
            out.put(&s[start..i - 1]);
            out.put_ascii(b'\\');
            if escape == b'u' {
                out.put("u00");
                out.put_ascii(HEX[usize::from(b >> 4)]);
                out.put_ascii(HEX[usize::from(b & 0xf)]);
            } else {
                out.put_ascii(escape);
            }
            start = i;
        }
    }
    out.put(&s[start..]);
    out.put_ascii(b'"');
}

/// Byte tests on eight bytes at once. Each is non-zero exactly when some byte of
/// the word passes (the classic "has zero byte" trick; its stray high bits only
/// ever appear beside a true hit, so the word-level answer is exact).
pub(crate) mod swar {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;

    /// Non-zero when some byte of `w` equals `c`.
    #[inline]
    pub fn eq(w: u64, c: u8) -> u64 {
        let x = w ^ (LO * u64::from(c));
        x.wrapping_sub(LO) & !x & HI
    }

    /// Non-zero when some byte of `w` is below `n` (`n` at most 0x80).
    #[inline]
    pub fn below(w: u64, n: u8) -> u64 {
        w.wrapping_sub(LO * u64::from(n)) & !w & HI
    }

    /// Non-zero when some byte of `w` must be escaped inside a JSON string (a quote,
    /// a backslash, a control character). Its lowest set bit is the high bit of the
    /// first such byte (little-endian), exactly: stray bits only sit above a hit.
    #[inline]
    pub fn json_special(w: u64) -> u64 {
        eq(w, b'"') | eq(w, b'\\') | below(w, 0x20)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_serde_json_does() {
        let mut every = String::new();
        for c in (0u32..0x80).chain([0xe9, 0x2028, 0x1f600]) {
            every.push(char::from_u32(c).unwrap());
        }
        let long = format!("{every}{}{every}x", "0123456789".repeat(3));
        for s in [
            "",
            "plain",
            "a\"b\\c",
            &every,
            &long,
            "日本語\n",
            "abcdefgh\"ijklmnop",
        ] {
            let mut text = String::new();
            push_str(&mut text, s);
            let mut bytes = Vec::new();
            push_str(&mut bytes, s);
            let expected = serde_json::to_string(s).unwrap();
            assert_eq!(text, expected);
            assert_eq!(bytes, expected.as_bytes());
        }
    }

    #[test]
    fn word_tests_agree_with_byte_tests() {
        for b in 0..=255u8 {
            for pos in 0..8 {
                let mut word = [b'a'; 8];
                word[pos] = b;
                let w = u64::from_le_bytes(word);
                for c in [b'"', b'\\', b',', b'\n', b'\r', b'a'] {
                    assert_eq!(swar::eq(w, c) != 0, word.contains(&c), "{b} at {pos} = {c}");
                }
                assert_eq!(swar::below(w, 0x20) != 0, b < 0x20, "{b} at {pos}");
            }
        }
    }
}
