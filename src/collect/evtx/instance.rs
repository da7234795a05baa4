//! Our own reader of a template instance (MS-EVEN6 2.2.12 TemplateInstance): a
//! record's own stream, and the nested BinXML value in which Windows 10 logs give
//! `EventData` (the crate reads those only while rendering).
//!
//! A stream is an optional fragment header (`0f` and three bytes), the instance
//! token (`0c`), a byte, the template's id and its definition's offset in the chunk
//! (the definition itself follows when this is its first use), the number of values,
//! a descriptor per value (size, type, a byte), and the values. Then the stream
//! ends, or an end-of-file token follows. Anything else makes the stream unreadable
//! here (the record takes the JSON path). Everything read lies inside the stream:
//! nothing is sized by a claimed count before the bytes for it are there.
//!
//! Each value is checked to have the size its type has, so that the values are
//! where the crate, which trusts a fixed-size type's own size, reads them too.

use super::value;

/// One stored value: its type and where its bytes are in the chunk.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Raw {
    /// The value type (MS-EVEN6 2.2.13).
    pub ty: u8,
    /// Where its bytes start in the chunk.
    pub at: usize,
    /// How many there are.
    pub len: usize,
}

/// The type of nested BinXML.
pub const BINXML: u8 = 0x21;

/// A template instance: its definition's offset in the chunk and its values.
#[derive(Clone, Debug, PartialEq)]
pub struct Instance {
    /// Where the template's definition is in the chunk.
    pub definition: u32,
    /// Its values in order.
    pub values: Vec<Raw>,
}

/// An instance's values with the chunk that holds them, as the plans read them.
pub struct Values<'a> {
    /// The chunk's bytes.
    pub chunk: &'a [u8],
    /// The values.
    pub values: &'a [Raw],
}

impl Values<'_> {
    /// The value at `index`, when there is one.
    pub fn get(&self, index: u16) -> Option<Raw> {
        self.values.get(usize::from(index)).copied()
    }

    /// Whether the value at `index` is NULL (an element depending on it is left
    /// out); false when there is none.
    pub fn is_null(&self, index: u16) -> bool {
        self.get(index).is_some_and(|raw| raw.ty == value::NULL)
    }

    /// The value's text; `None` when there is none or it is not one we render.
    pub fn text(&self, index: u16) -> Option<String> {
        let raw = self.get(index)?;
        value::text(raw.ty, self.chunk.get(raw.at..raw.at + raw.len)?)
    }
}

/// Reads the instance stream in `chunk[start..end]`.
pub fn read(chunk: &[u8], start: usize, end: usize) -> Option<Instance> {
    let data = chunk.get(..end)?;
    let mut at = start;
    let mut take = |n: usize| -> Option<(usize, &[u8])> {
        let bytes = data.get(at..at.checked_add(n)?)?;
        at += n;
        Some((at - n, bytes))
    };
    let u32_of = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    let fragment = data.get(start) == Some(&0x0f);
    if fragment {
        take(4)?;
    }
    if take(1)?.1 != [0x0c] {
        return None;
    }
    let (_, head) = take(9)?; // a byte, the template id, the definition offset
    let definition = u32_of(&head[5..9]);
    // Where the definition would start if it is stored right here.
    let here = start + if fragment { 14 } else { 10 };
    if definition as usize == here {
        // The definition is stored here: its header (24 bytes) and its data.
        let (_, header) = take(24)?;
        take(u32_of(&header[20..24]) as usize)?;
    }
    let count = u32_of(take(4)?.1) as usize;
    let (_, descriptors) = take(count.checked_mul(4)?)?;
    let mut values = Vec::with_capacity(count);
    for descriptor in descriptors.chunks_exact(4) {
        let size = usize::from(u16::from_le_bytes([descriptor[0], descriptor[1]]));
        let (at, bytes) = take(size)?;
        let ty = descriptor[2];
        if !value::well_sized(ty, bytes) {
            return None;
        }
        values.push(Raw { ty, at, len: size });
    }
    let rest = &data[at..];
    matches!(rest, [] | [0x00, ..]).then_some(Instance { definition, values })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let values = Values {
            chunk: &v,
            values: &whole.values,
        };
        assert_eq!(values.text(0).unwrap(), "7");
        assert_eq!(values.text(1).unwrap(), "hi");
        assert_eq!(values.text(2), None);
        assert!(!values.is_null(0));
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
        // A fixed-size type of another size is refused (the crate would read past it).
        let mut short = v.clone();
        short[18] = 1;
        assert_eq!(read(&short, 0, short.len()), None);
    }

    #[test]
    fn a_definition_stored_in_place_is_skipped() {
        let mut v = vec![0x0c, 1];
        v.extend_from_slice(&9u32.to_le_bytes());
        v.extend_from_slice(&10u32.to_le_bytes()); // right here
        v.extend_from_slice(&[0; 20]);
        v.extend_from_slice(&3u32.to_le_bytes()); // data size
        v.extend_from_slice(&[0xaa; 3]);
        v.extend_from_slice(&1u32.to_le_bytes());
        v.extend_from_slice(&[1, 0, 0x04, 0, 42]);
        let instance = read(&v, 0, v.len()).unwrap();
        assert_eq!(instance.definition, 10);
        assert_eq!(
            instance.values,
            [Raw {
                ty: 0x04,
                at: v.len() - 1,
                len: 1
            }]
        );
    }
}
