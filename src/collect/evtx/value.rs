//! A stored substitution value's text, as the JSON path ends up with it: strings as
//! they are (up to a NUL, lone surrogates as U+FFFD, as the crate's JSON writer has
//! them), ANSI strings through Windows-1252 (the crate's default code page) without
//! their NULs, integers and booleans as written, SIDs and FILETIMEs as the crate
//! writes them (checked against it in the tests), every other scalar through the
//! crate's own formatter (`Display for BinXmlValue`, its JSON value writer, whose
//! text only strings would escape). Arrays, nested BinXML and handles have no text
//! here: their records take the JSON path.

use evtx::binxml::value_variant::{BinXmlValue, FileTime, SysTime};

/// The NULL type.
pub const NULL: u8 = 0x00;

/// Whether `bytes` is a whole value of type `ty` that we can render: fixed-size
/// types exactly their size, text of whole UTF-16 units, a SID as long as its count
/// of sub-authorities says.
pub fn well_sized(ty: u8, bytes: &[u8]) -> bool {
    let len = bytes.len();
    match ty {
        0x00 | 0x02 | 0x0e | 0x21 => true,
        0x01 => len % 2 == 0,
        0x03 | 0x04 => len == 1,
        0x05 | 0x06 => len == 2,
        0x07 | 0x08 | 0x0b | 0x0d | 0x14 => len == 4,
        0x09 | 0x0a | 0x0c | 0x11 | 0x15 => len == 8,
        0x0f | 0x12 => len == 16,
        0x10 => len == 4 || len == 8,
        0x13 => bytes.get(1).is_some_and(|&n| len == 8 + 4 * usize::from(n)),
        _ => false,
    }
}

/// The text of a value of type `ty` stored as `bytes` (see the module docs).
pub fn text(ty: u8, bytes: &[u8]) -> Option<String> {
    if !well_sized(ty, bytes) {
        return None;
    }
    let value = match ty {
        0x00 => return Some(String::new()),
        0x01 => return utf16_text(bytes, true),
        0x02 => return Some(windows_1252(bytes)),
        0x03 => return Some(i8::from_le_bytes(exact(bytes)?).to_string()),
        0x04 => return Some(u8::from_le_bytes(exact(bytes)?).to_string()),
        0x05 => return Some(i16::from_le_bytes(exact(bytes)?).to_string()),
        0x06 => return Some(u16::from_le_bytes(exact(bytes)?).to_string()),
        0x07 => return Some(i32::from_le_bytes(exact(bytes)?).to_string()),
        0x08 => return Some(u32::from_le_bytes(exact(bytes)?).to_string()),
        0x09 => return Some(i64::from_le_bytes(exact(bytes)?).to_string()),
        0x0a => return Some(u64::from_le_bytes(exact(bytes)?).to_string()),
        // Windows writes bit masks into some booleans: the crate keeps those as numbers.
        0x0d => {
            return Some(match i32::from_le_bytes(exact(bytes)?) {
                0 => "false".into(),
                1 => "true".into(),
                raw => raw.to_string(),
            })
        }
        0x11 => return Some(filetime_text(u64::from_le_bytes(exact(bytes)?))),
        0x13 => return Some(sid_text(bytes)),
        0x0b => BinXmlValue::Real32Type(f32::from_le_bytes(exact(bytes)?)),
        0x0c => BinXmlValue::Real64Type(f64::from_le_bytes(exact(bytes)?)),
        0x0e => BinXmlValue::BinaryType(bytes),
        0x0f => BinXmlValue::GuidType(exact(bytes)?),
        // SizeT renders as the hex integer of its width.
        0x10 | 0x14 if bytes.len() == 4 => {
            BinXmlValue::HexInt32Type(u32::from_le_bytes(exact(bytes)?))
        }
        0x10 | 0x15 => BinXmlValue::HexInt64Type(u64::from_le_bytes(exact(bytes)?)),
        0x12 => BinXmlValue::SysTimeType(SysTime::from_bytes(&exact(bytes)?)),
        _ => return None,
    };
    Some(value.to_string())
}

/// `bytes` as an array, when it is exactly that long.
fn exact<const N: usize>(bytes: &[u8]) -> Option<[u8; N]> {
    bytes.try_into().ok()
}

/// UTF-16LE code units as text, each lone surrogate as U+FFFD (as the crate's JSON
/// writer renders them), up to the first NUL with `until_nul` (as the crate reads
/// text values); `None` for an odd byte count. Runs of ASCII without NUL, most of
/// any event's text, are measured eight bytes at a time and copied in one go.
pub fn utf16_text(bytes: &[u8], until_nul: bool) -> Option<String> {
    if bytes.len() % 2 != 0 {
        return None;
    }
    let unit = |i: usize| u16::from_le_bytes([bytes[2 * i], bytes[2 * i + 1]]);
    let units = bytes.len() / 2;
    let mut out: Vec<u8> = Vec::with_capacity(units);
    let mut i = 0;
    while i < units {
        let run = ascii_run(&bytes[2 * i..]);
        if run > 0 {
            out.extend(bytes[2 * i..2 * (i + run)].chunks_exact(2).map(|u| u[0]));
            i += run;
            continue;
        }
        let first = unit(i);
        i += 1;
        let c = match first {
            0 if until_nul => break,
            0 => '\0',
            0xd800..=0xdbff if i < units && (0xdc00..=0xdfff).contains(&unit(i)) => {
                let low = unit(i);
                i += 1;
                let code =
                    0x10000 + ((u32::from(first) - 0xd800) << 10) + (u32::from(low) - 0xdc00);
                char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER)
            }
            _ => char::from_u32(u32::from(first)).unwrap_or(char::REPLACEMENT_CHARACTER),
        };
        out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
    }
    String::from_utf8(out).ok()
}

/// How many UTF-16LE units at the start of `bytes` are ASCII and not NUL.
fn ascii_run(bytes: &[u8]) -> usize {
    let mut words = bytes.chunks_exact(8);
    let mut run = 0;
    for four in words.by_ref() {
        let word = u64::from_le_bytes([
            four[0], four[1], four[2], four[3], four[4], four[5], four[6], four[7],
        ]);
        // No unit past 0x7F, and none zero (a zero unit's lane borrows into its
        // top bit, and nothing else can set it when all are below 0x80).
        let zero = word.wrapping_sub(0x0001_0001_0001_0001) & 0x8000_8000_8000_8000;
        if word & 0xff80_ff80_ff80_ff80 != 0 || zero != 0 {
            break;
        }
        run += 4;
    }
    // The units of the word that stopped the count (or the last, short one).
    run + bytes[2 * run..]
        .chunks_exact(2)
        .take_while(|u| u[1] == 0 && (1..=0x7f).contains(&u[0]))
        .count()
}

/// ANSI text as the crate decodes it with its default code page, Windows-1252 (the
/// WHATWG mapping, which gives every byte a character), NULs dropped.
fn windows_1252(bytes: &[u8]) -> String {
    /// The characters of bytes 0x80 to 0x9F; the other bytes are their own code points.
    const HIGH: [char; 32] = [
        '\u{20AC}', '\u{0081}', '\u{201A}', '\u{0192}', '\u{201E}', '\u{2026}', '\u{2020}',
        '\u{2021}', '\u{02C6}', '\u{2030}', '\u{0160}', '\u{2039}', '\u{0152}', '\u{008D}',
        '\u{017D}', '\u{008F}', '\u{0090}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}',
        '\u{2022}', '\u{2013}', '\u{2014}', '\u{02DC}', '\u{2122}', '\u{0161}', '\u{203A}',
        '\u{0153}', '\u{009D}', '\u{017E}', '\u{0178}',
    ];
    bytes
        .iter()
        .filter(|&&b| b != 0)
        .map(|&b| match b {
            0x80..=0x9f => HIGH[usize::from(b - 0x80)],
            _ => char::from(b),
        })
        .collect()
}

/// A SID as `S-R-A-S1-...-Sn` (revision, 48-bit big-endian authority, 32-bit
/// little-endian sub-authorities); `bytes` is well sized.
fn sid_text(bytes: &[u8]) -> String {
    let mut wide = [0u8; 8];
    wide[2..].copy_from_slice(&bytes[2..8]);
    let mut text = format!("S-{}-{}", bytes[0], u64::from_be_bytes(wide));
    for sub in bytes[8..].chunks_exact(4) {
        let sub = u32::from_le_bytes([sub[0], sub[1], sub[2], sub[3]]);
        text.push('-');
        text.push_str(&sub.to_string());
    }
    text
}

/// A FILETIME as the crate writes it; from 1970 to 9999 without its formatter
/// (every record has one).
fn filetime_text(ticks: u64) -> String {
    match FileTime(ticks).to_timestamp() {
        Some(ts) if ts.as_second() >= 0 => super::iso_time_fast(ts),
        _ => BinXmlValue::FileTimeType(FileTime(ticks)).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn some(ty: u8, bytes: &[u8]) -> String {
        text(ty, bytes).unwrap()
    }

    #[test]
    fn values_read_as_the_crate_renders_them() {
        assert_eq!(some(0x01, b"a\0b\0\0\0c\0"), "ab");
        assert_eq!(some(0x02, b"a\0\x80\xe9\x9f\0"), "a\u{20ac}\u{e9}\u{178}");
        assert_eq!(some(0x07, &(-5i32).to_le_bytes()), "-5");
        assert_eq!(some(0x0d, &1i32.to_le_bytes()), "true");
        assert_eq!(some(0x0d, &16i32.to_le_bytes()), "16");
        assert_eq!(some(0x0e, &[0xab, 0x01]), "AB01");
        assert_eq!(some(0x14, &255u32.to_le_bytes()), "0xff");
        assert_eq!(some(0x10, &255u64.to_le_bytes()), "0xff");
        assert_eq!(
            some(0x11, &132_914_222_379_101_061u64.to_le_bytes()),
            "2022-03-10T21:43:57.9101061Z"
        );
        assert_eq!(some(0x00, &[1, 2]), "");
        assert_eq!(text(0x07, &[1, 2]), None);
        assert_eq!(text(0x01, b"a"), None);
        assert_eq!(text(0x21, b"a"), None);
        assert_eq!(text(0x81, b"a\0\0\0"), None);
        assert_eq!(text(0x20, b""), None);
    }

    #[test]
    fn sids_read_as_the_crate_writes_them() {
        // S-1-5-21-1-2-3-500
        let mut sid = vec![1u8, 5, 0, 0, 0, 0, 0, 5];
        for sub in [21u32, 1, 2, 3, 500] {
            sid.extend_from_slice(&sub.to_le_bytes());
        }
        assert_eq!(some(0x13, &sid), "S-1-5-21-1-2-3-500");
        assert_eq!(text(0x13, &sid[..sid.len() - 1]), None);
        assert_eq!(some(0x13, &[1, 0, 0, 0, 0, 0, 0, 18]), "S-1-18");
        assert_eq!(
            some(0x13, &[1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            "S-1-281474976710655"
        );
        assert_eq!(text(0x13, &[1, 0]), None);
    }

    #[test]
    fn filetimes_equal_the_crates_formatter() {
        let mut x = 0x9E37_79B9_7F4A_7C15_u64;
        let edges = [
            0,
            1,
            116_444_736_000_000_000,
            2_650_467_743_999_999_999,
            2_650_467_744_000_000_000,
            i64::MAX as u64,
            u64::MAX,
        ];
        for ticks in edges.into_iter().chain((0..20_000).map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Mostly plausible times, sometimes any 64 bits.
            if x % 4 == 0 {
                x
            } else {
                x % 3_000_000_000_000_000_000
            }
        })) {
            let crate_text = BinXmlValue::FileTimeType(FileTime(ticks)).to_string();
            assert_eq!(filetime_text(ticks), crate_text, "{ticks}");
        }
    }

    #[test]
    fn utf16_equals_the_standard_lossy_decoding() {
        let cases: [&[u16]; 6] = [
            &[0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49],
            &[0x41, 0xe9, 0x42, 0x43, 0x44, 0x45, 0x46],
            &[0xd83d, 0xde00, 0x41, 0x42, 0x43, 0x44],
            &[0xd800, 0x41, 0xdc00, 0xdbff],
            &[0x41, 0x42, 0x43, 0xd800],
            &[0x7f, 0x80, 0x7ff, 0x800, 0xffff, 0xfffe],
        ];
        for units in cases {
            let bytes: Vec<u8> = units.iter().flat_map(|u| u.to_le_bytes()).collect();
            assert_eq!(
                utf16_text(&bytes, false).unwrap(),
                String::from_utf16_lossy(units)
            );
            let before_nul = units.split(|&u| u == 0).next().unwrap_or_default();
            let mut with_nul = bytes.clone();
            with_nul.extend_from_slice(&[0, 0, 0x41, 0]);
            assert_eq!(
                utf16_text(&with_nul, true).unwrap(),
                String::from_utf16_lossy(before_nul)
            );
        }
        let nul_in_word: Vec<u8> = [0x41u16, 0x42, 0, 0x43, 0x44, 0x45, 0x46, 0x47]
            .iter()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        assert_eq!(utf16_text(&nul_in_word, true).unwrap(), "AB");
        assert_eq!(utf16_text(&nul_in_word, false).unwrap(), "AB\0CDEFG");
        assert_eq!(utf16_text(&[0x41], false), None);
    }
}
