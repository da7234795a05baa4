//! Our own reader of the template instance that a value of nested BinXML holds
//! (MS-EVEN6 2.2.12 TemplateInstance): how Windows 10 logs give `EventData`, as
//! the last value of the event's template. The crate reads such values only while
//! rendering, so the fast path reads them itself.
//!
//! The value is a token stream: an optional fragment header (`0f` and three bytes),
//! the instance token (`0c`), a byte, the template's id and its definition's offset
//! in the chunk (the definition itself follows when this is its first use), the
//! number of values, a descriptor per value (size, type, a byte), and the values.
//! Then the stream ends, or an end-of-file token follows. Anything else, and any
//! value type or size we do not render as the crate does, makes the value unreadable
//! here (the record takes the JSON path). Everything read lies inside the value:
//! nothing is sized by a claimed count before the bytes for it are there.

use evtx::binxml::value_variant::{BinXmlValue, FileTime, SysTime};

use super::plan::value_text;
use super::template::utf16_text;

/// One value of a nested instance, as the plans read it.
#[derive(Clone, Debug, PartialEq)]
pub enum Slot {
    /// A NULL value (elements that depend on it are left out).
    Null,
    /// Any other value, as text.
    Text(String),
}

/// A nested template instance: its definition's offset in the chunk and its values.
#[derive(Clone, Debug, PartialEq)]
pub struct Instance {
    /// Where the template's definition is in the chunk.
    pub definition: u32,
    /// Its values in order.
    pub values: Vec<Slot>,
}

/// Reads the instance in `chunk[start..end]` (the nested value's bytes).
pub fn read(chunk: &[u8], start: usize, end: usize) -> Option<Instance> {
    let data = chunk.get(..end)?;
    let mut at = start;
    let mut take = |n: usize| -> Option<&[u8]> {
        let bytes = data.get(at..at.checked_add(n)?)?;
        at += n;
        Some(bytes)
    };
    let u32_of = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    let fragment = data.get(start) == Some(&0x0f);
    if fragment {
        take(4)?;
    }
    if take(1)? != [0x0c] {
        return None;
    }
    let head = take(9)?; // a byte, the template id, the definition offset
    let definition = u32_of(&head[5..9]);
    // Where the definition would start if it is stored right here.
    let here = start + if fragment { 14 } else { 10 };
    if definition as usize == here {
        // The definition is stored here: its header (24 bytes) and its data.
        let header = take(24)?;
        take(u32_of(&header[20..24]) as usize)?;
    }
    let count = u32_of(take(4)?) as usize;
    let descriptors = take(count.checked_mul(4)?)?;
    let mut values = Vec::with_capacity(count);
    for descriptor in descriptors.chunks_exact(4) {
        let size = usize::from(u16::from_le_bytes([descriptor[0], descriptor[1]]));
        values.push(slot(descriptor[2], take(size)?)?);
    }
    let rest = &data[at..];
    matches!(rest, [] | [0x00, ..]).then_some(Instance { definition, values })
}

/// A value of type `ty` stored as `bytes`, as text (see the module docs); `None`
/// for a type or size we do not render.
fn slot(ty: u8, bytes: &[u8]) -> Option<Slot> {
    let value = match ty {
        0x00 => return Some(Slot::Null),
        0x01 => {
            // Up to the first NUL, as the crate reads sized text.
            let units = bytes.len() / 2;
            let end = (0..units)
                .find(|&i| bytes[2 * i] == 0 && bytes[2 * i + 1] == 0)
                .unwrap_or(units);
            if bytes.len() % 2 != 0 {
                return None;
            }
            return Some(Slot::Text(utf16_text(&bytes[..2 * end])?));
        }
        0x02 => return Some(Slot::Text(windows_1252(bytes))),
        0x03 => BinXmlValue::Int8Type(i8::from_le_bytes(exact::<1>(bytes)?)),
        0x04 => BinXmlValue::UInt8Type(u8::from_le_bytes(exact::<1>(bytes)?)),
        0x05 => BinXmlValue::Int16Type(i16::from_le_bytes(exact::<2>(bytes)?)),
        0x06 => BinXmlValue::UInt16Type(u16::from_le_bytes(exact::<2>(bytes)?)),
        0x07 => BinXmlValue::Int32Type(i32::from_le_bytes(exact::<4>(bytes)?)),
        0x08 => BinXmlValue::UInt32Type(u32::from_le_bytes(exact::<4>(bytes)?)),
        0x09 => BinXmlValue::Int64Type(i64::from_le_bytes(exact::<8>(bytes)?)),
        0x0a => BinXmlValue::UInt64Type(u64::from_le_bytes(exact::<8>(bytes)?)),
        0x0b => BinXmlValue::Real32Type(f32::from_le_bytes(exact::<4>(bytes)?)),
        0x0c => BinXmlValue::Real64Type(f64::from_le_bytes(exact::<8>(bytes)?)),
        // Windows writes bit masks into some booleans: the crate keeps those as numbers.
        0x0d => match i32::from_le_bytes(exact::<4>(bytes)?) {
            0 => BinXmlValue::BoolType(false),
            1 => BinXmlValue::BoolType(true),
            raw => BinXmlValue::Int32Type(raw),
        },
        0x0e => BinXmlValue::BinaryType(bytes),
        0x0f => BinXmlValue::GuidType(exact::<16>(bytes)?),
        // SizeT renders as the hex integer of its width.
        0x10 | 0x14 if bytes.len() == 4 => {
            BinXmlValue::HexInt32Type(u32::from_le_bytes(exact::<4>(bytes)?))
        }
        0x10 | 0x15 if bytes.len() == 8 => {
            BinXmlValue::HexInt64Type(u64::from_le_bytes(exact::<8>(bytes)?))
        }
        0x11 => BinXmlValue::FileTimeType(FileTime(u64::from_le_bytes(exact::<8>(bytes)?))),
        0x12 => BinXmlValue::SysTimeType(SysTime::from_bytes(&exact::<16>(bytes)?)),
        0x13 => return sid_text(bytes).map(Slot::Text),
        _ => return None,
    };
    value_text(&value).map(Slot::Text)
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

/// `bytes` as an array, when it is exactly that long.
fn exact<const N: usize>(bytes: &[u8]) -> Option<[u8; N]> {
    bytes.try_into().ok()
}

/// A SID as `S-R-A-S1-...-Sn` (revision, 48-bit big-endian authority, 32-bit
/// little-endian sub-authorities), when `bytes` is exactly one.
fn sid_text(bytes: &[u8]) -> Option<String> {
    let (revision, count) = (*bytes.first()?, *bytes.get(1)?);
    if bytes.len() != 8 + 4 * usize::from(count) {
        return None;
    }
    let mut wide = [0u8; 8];
    wide[2..].copy_from_slice(&bytes[2..8]);
    let mut text = format!("S-{revision}-{}", u64::from_be_bytes(wide));
    for sub in bytes[8..].chunks_exact(4) {
        let sub = u32::from_le_bytes([sub[0], sub[1], sub[2], sub[3]]);
        text.push('-');
        text.push_str(&sub.to_string());
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sids_read_as_the_crate_writes_them() {
        // S-1-5-21-1-2-3-500
        let mut sid = vec![1u8, 5, 0, 0, 0, 0, 0, 5];
        for sub in [21u32, 1, 2, 3, 500] {
            sid.extend_from_slice(&sub.to_le_bytes());
        }
        assert_eq!(sid_text(&sid).unwrap(), "S-1-5-21-1-2-3-500");
        assert_eq!(sid_text(&sid[..sid.len() - 1]), None);
        assert_eq!(sid_text(&[1, 0, 0, 0, 0, 0, 0, 18]).unwrap(), "S-1-18");
        assert_eq!(sid_text(&[1, 0]), None);
    }

    #[test]
    fn values_read_as_the_crate_renders_them() {
        let text = |ty, bytes: &[u8]| match slot(ty, bytes) {
            Some(Slot::Text(t)) => t,
            other => panic!("{other:?}"),
        };
        assert_eq!(text(0x01, b"a\0b\0\0\0c\0"), "ab");
        assert_eq!(text(0x07, &(-5i32).to_le_bytes()), "-5");
        assert_eq!(text(0x0d, &1i32.to_le_bytes()), "true");
        assert_eq!(text(0x0d, &16i32.to_le_bytes()), "16");
        assert_eq!(text(0x0e, &[0xab, 0x01]), "AB01");
        assert_eq!(text(0x14, &255u32.to_le_bytes()), "0xff");
        assert_eq!(text(0x10, &255u64.to_le_bytes()), "0xff");
        assert_eq!(
            text(0x11, &132_914_222_379_101_061u64.to_le_bytes()),
            "2022-03-10T21:43:57.9101061Z"
        );
        assert_eq!(slot(0x00, &[1, 2]), Some(Slot::Null));
        assert_eq!(slot(0x07, &[1, 2]), None);
        assert_eq!(slot(0x01, b"a"), None);
        assert_eq!(text(0x02, b"a\0\x80\xe9\x9f\0"), "a\u{20ac}\u{e9}\u{178}");
        assert_eq!(slot(0x21, b"a"), None);
        assert_eq!(slot(0x81, b"a\0\0\0"), None);
    }

    #[test]
    fn an_instance_and_its_bounds() {
        // Fragment header, instance of the definition at 0x100 (stored elsewhere),
        // two values: UInt16 7 and the string "hi".
        let mut v = vec![0x0f, 1, 1, 0, 0x0c, 1];
        v.extend_from_slice(&9u32.to_le_bytes());
        v.extend_from_slice(&0x100u32.to_le_bytes());
        v.extend_from_slice(&2u32.to_le_bytes());
        v.extend_from_slice(&[2, 0, 0x06, 0, 4, 0, 0x01, 0]);
        v.extend_from_slice(&7u16.to_le_bytes());
        v.extend_from_slice(b"h\0i\0");
        let whole = read(&v, 0, v.len()).unwrap();
        assert_eq!(whole.definition, 0x100);
        assert_eq!(
            whole.values,
            [Slot::Text("7".into()), Slot::Text("hi".into())]
        );
        // An end-of-file token may follow, nothing else.
        let mut eof = v.clone();
        eof.push(0);
        assert!(read(&eof, 0, eof.len()).is_some());
        eof.push(1);
        assert!(read(&eof, 0, eof.len()).is_some());
        let mut more = v.clone();
        more.push(1);
        assert_eq!(read(&more, 0, more.len()), None);
        for len in 0..v.len() {
            assert_eq!(read(&v, 0, len), None, "{len}");
        }
        // A count past the bytes there is refused without allocating for it.
        let mut huge = v.clone();
        huge[14..18].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(read(&huge, 0, huge.len()), None);
    }
}
