//! Our own reader of a BinXML template definition (MS-EVEN6 2.2.12 and 3.1.4.7) as a
//! chunk stores it, for the fast path that maps a record's substitution values
//! straight to its fields (see `plan`).
//!
//! A definition sits at an offset in its 64 KiB chunk: a 24-byte header (the next
//! definition's offset, a GUID, the size of what follows), then a token stream: a
//! fragment header, the root element (with a dependency id on every element start),
//! and an end-of-file token. Names are offsets into the chunk, where a name is a
//! link (6 bytes), a UTF-16 character count (2) and the characters; a name first used
//! in the definition is stored right after its offset, which is then skipped.
//!
//! Only what the fast path can prove it renders as the crate does is read: elements,
//! attributes, static text and (optional) substitutions. Anything else (CDATA,
//! character and entity references, processing instructions, nested instances,
//! values of other types than text, names that JSON would need to escape, nesting
//! past [`MAX_DEPTH`]) makes the definition unreadable here, and its records take
//! the JSON path. The walk is bounded by the bytes that exist: every token moves
//! forward, and nothing is allocated for a size the data claims.

use std::ops::Range;

use binview::View;

use super::value::utf16_text;

/// Deepest element nesting read (real event templates are four or five deep).
pub const MAX_DEPTH: usize = 32;

/// The definition header's size (next offset, GUID, data size).
const HEADER_SIZE: usize = 24;

/// A definition's content or an attribute's value: its nodes in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// A child element, by its index in [`Template::elements`].
    Element(usize),
    /// Static text.
    Text(String),
    /// A substitution: the value at `index` of the record's instance; an optional
    /// one renders nothing when its value is empty.
    Substitution {
        /// Which value.
        index: u16,
        /// Whether it is an optional substitution (token 0x0e).
        optional: bool,
    },
}

/// One element of a definition.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Element {
    /// Its name.
    pub name: String,
    /// The substitution whose NULL value leaves the element out (its DependencyId).
    pub dependency: Option<u16>,
    /// Its attributes: name and value nodes, in order.
    pub attributes: Vec<(String, Vec<Node>)>,
    /// Its content in order.
    pub children: Vec<Node>,
}

/// A template definition read from a chunk: its elements, the root first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Template {
    /// Every element; index 0 is the root.
    pub elements: Vec<Element>,
}

/// Reads the definition at `offset` of `chunk`; `None` when it is not one this
/// reader understands whole.
pub fn read(chunk: &[u8], offset: usize) -> Option<Template> {
    let size = View::new(chunk).u32_at(offset.checked_add(20)?)? as usize;
    let start = offset.checked_add(HEADER_SIZE)?;
    let end = start.checked_add(size)?;
    if end > chunk.len() {
        return None;
    }
    Reader {
        chunk,
        at: start,
        end,
    }
    .template()
}

/// Whether a name can go into JSON as it is: the crate writes element and
/// attribute names unescaped (and the fast path keeps `Data` names as they are).
pub fn plain_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c == '"' || c == '\\' || c < ' ')
}

/// The token walk over `chunk[at..end]`.
struct Reader<'a> {
    chunk: &'a [u8],
    at: usize,
    end: usize,
}

impl Reader<'_> {
    /// Takes `n` bytes of the stream.
    fn take(&mut self, n: usize) -> Option<Range<usize>> {
        let range = self.at..self.at.checked_add(n)?;
        if range.end > self.end {
            return None;
        }
        self.at = range.end;
        Some(range)
    }

    fn u8(&mut self) -> Option<u8> {
        let range = self.take(1)?;
        Some(self.chunk[range.start])
    }

    fn u16(&mut self) -> Option<u16> {
        let range = self.take(2)?;
        View::new(self.chunk).u16_at(range.start)
    }

    fn u32(&mut self) -> Option<u32> {
        let range = self.take(4)?;
        View::new(self.chunk).u32_at(range.start)
    }

    /// A name reference: the name at its offset, skipping it when it is stored
    /// right here.
    fn name(&mut self) -> Option<String> {
        let offset = self.u32()? as usize;
        let name = name_at(self.chunk, offset)?;
        if offset == self.at {
            let units = usize::from(View::new(self.chunk).u16_at(offset + 6)?);
            // Link (6), count (2), characters, NUL (2).
            self.take(10 + 2 * units)?;
        }
        plain_name(&name).then_some(name)
    }

    /// Static text: a value token's type (UTF-16 string only) and its text.
    fn text(&mut self) -> Option<String> {
        if self.u8()? != 0x01 {
            return None;
        }
        let units = usize::from(self.u16()?);
        let range = self.take(2 * units)?;
        utf16_text(&self.chunk[range], true)
    }

    /// A substitution token's index and type (the type is checked by the crate).
    fn substitution(&mut self, optional: bool) -> Option<Node> {
        let index = self.u16()?;
        self.u8()?;
        Some(Node::Substitution { index, optional })
    }

    /// The whole definition.
    fn template(mut self) -> Option<Template> {
        let mut template = Template::default();
        // Open elements, innermost last; whether the innermost is still in its start
        // tag (taking attributes).
        let mut open: Vec<usize> = Vec::new();
        let mut in_start = false;
        let mut closed_root = false;
        loop {
            let token = self.u8()?;
            if closed_root && token != 0x00 {
                return None;
            }
            match token & 0xbf {
                0x00 => break,
                0x0f if template.elements.is_empty() => {
                    self.take(3)?;
                }
                0x01 => {
                    if in_start || open.len() >= MAX_DEPTH {
                        return None;
                    }
                    let dependency = self.u16()?;
                    self.u32()?; // the element's size
                    let name = self.name()?;
                    if token & 0x40 != 0 {
                        self.u32()?; // the attribute list's size
                    }
                    let index = template.elements.len();
                    template.elements.push(Element {
                        name,
                        dependency: (dependency != 0xffff).then_some(dependency),
                        ..Element::default()
                    });
                    match open.last() {
                        Some(&parent) => template.elements[parent]
                            .children
                            .push(Node::Element(index)),
                        None if index == 0 => {}
                        None => return None,
                    }
                    open.push(index);
                    in_start = true;
                }
                0x06 if in_start => {
                    let name = self.name()?;
                    let element = *open.last()?;
                    template.elements[element]
                        .attributes
                        .push((name, Vec::new()));
                }
                0x02 if in_start => in_start = false,
                0x03 | 0x04 => {
                    // An empty element's close (0x03) ends its start tag too.
                    if (token == 0x03) != in_start {
                        return None;
                    }
                    in_start = false;
                    open.pop()?;
                    closed_root = open.is_empty();
                }
                0x05 | 0x0d | 0x0e => {
                    let node = match token & 0xbf {
                        0x05 => Node::Text(self.text()?),
                        kind => self.substitution(kind == 0x0e)?,
                    };
                    let element = &mut template.elements[*open.last()?];
                    if in_start {
                        element.attributes.last_mut()?.1.push(node);
                    } else {
                        element.children.push(node);
                    }
                }
                _ => return None,
            }
        }
        (closed_root && !template.elements.is_empty()).then_some(template)
    }
}

/// The name stored at `offset` of the chunk.
fn name_at(chunk: &[u8], offset: usize) -> Option<String> {
    let units = usize::from(View::new(chunk).u16_at(offset.checked_add(6)?)?);
    let start = offset + 8;
    utf16_text(chunk.get(start..start.checked_add(2 * units)?)?, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a chunk-like buffer: names stored where first used.
    #[derive(Default)]
    struct Writer {
        bytes: Vec<u8>,
    }

    impl Writer {
        fn u8(&mut self, v: u8) -> &mut Self {
            self.bytes.push(v);
            self
        }
        fn u16(&mut self, v: u16) -> &mut Self {
            self.bytes.extend_from_slice(&v.to_le_bytes());
            self
        }
        fn u32(&mut self, v: u32) -> &mut Self {
            self.bytes.extend_from_slice(&v.to_le_bytes());
            self
        }
        fn utf16(&mut self, s: &str) -> &mut Self {
            for unit in s.encode_utf16() {
                self.u16(unit);
            }
            self
        }
        /// A name reference with the name stored inline.
        fn name(&mut self, s: &str) -> &mut Self {
            let at = self.bytes.len() as u32 + 4;
            self.u32(at)
                .u32(0)
                .u16(0)
                .u16(s.encode_utf16().count() as u16);
            self.utf16(s).u16(0)
        }
        fn open(&mut self, name: &str, dependency: u16, attributes: bool) -> &mut Self {
            self.u8(if attributes { 0x41 } else { 0x01 })
                .u16(dependency)
                .u32(0);
            self.name(name);
            if attributes {
                self.u32(0);
            }
            self
        }
        fn text(&mut self, s: &str) -> &mut Self {
            self.u8(0x05)
                .u8(0x01)
                .u16(s.encode_utf16().count() as u16)
                .utf16(s)
        }
    }

    /// A definition at offset 0: `<Event><System><EventID Q="1">%0</EventID></System>
    /// <EventData><Data Name="A">%?1</Data></EventData></Event>`.
    fn sample() -> Vec<u8> {
        let mut w = Writer::default();
        w.u32(0).bytes.extend_from_slice(&[0; 16]);
        w.u32(0); // size, patched below
        w.u8(0x0f).u8(1).u8(1).u8(0);
        w.open("Event", 0xffff, false).u8(0x02);
        w.open("System", 0xffff, false).u8(0x02);
        w.open("EventID", 0xffff, true);
        w.u8(0x06).name("Q").text("1").u8(0x02);
        w.u8(0x0d).u16(0).u8(0x06).u8(0x04);
        w.u8(0x04);
        w.open("EventData", 3, false).u8(0x02);
        w.open("Data", 0xffff, true);
        w.u8(0x06).name("Name").text("A").u8(0x02);
        w.u8(0x0e).u16(1).u8(0x01).u8(0x04);
        w.open("Empty", 0xffff, false).u8(0x03);
        w.u8(0x04).u8(0x04).u8(0x00);
        let size = (w.bytes.len() - HEADER_SIZE) as u32;
        w.bytes[20..24].copy_from_slice(&size.to_le_bytes());
        w.bytes
    }

    #[test]
    fn reads_elements_attributes_text_and_substitutions() {
        let t = read(&sample(), 0).unwrap();
        let names: Vec<&str> = t.elements.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            ["Event", "System", "EventID", "EventData", "Data", "Empty"]
        );
        assert_eq!(t.elements[0].children, [Node::Element(1), Node::Element(3)]);
        assert_eq!(
            t.elements[2].attributes,
            [("Q".to_string(), vec![Node::Text("1".into())])]
        );
        assert_eq!(
            t.elements[2].children,
            [Node::Substitution {
                index: 0,
                optional: false
            }]
        );
        assert_eq!(t.elements[3].dependency, Some(3));
        assert_eq!(t.elements[1].dependency, None);
        assert_eq!(
            t.elements[4].children,
            [Node::Substitution {
                index: 1,
                optional: true
            }]
        );
        assert!(t.elements[5].children.is_empty());
        assert_eq!(t.elements[3].children, [Node::Element(4), Node::Element(5)]);
    }

    #[test]
    fn every_truncation_and_unknown_token_is_refused_without_panic() {
        let whole = sample();
        for len in 0..whole.len() {
            let mut cut = whole.clone();
            cut.truncate(len);
            assert_eq!(read(&cut, 0), None, "{len}");
        }
        // A CDATA token where the first substitution is.
        let mut cdata = whole.clone();
        let at = whole
            .windows(4)
            .position(|w| w == [0x0d, 0, 0, 0x06])
            .unwrap();
        cdata[at] = 0x07;
        assert_eq!(read(&cdata, 0), None);
        // Every single byte changed: never a panic.
        for i in 0..whole.len() {
            let mut changed = whole.clone();
            changed[i] ^= 0xff;
            let _ = read(&changed, 0);
        }
        assert_eq!(read(&whole, usize::MAX - 3), None);
    }

    #[test]
    fn names_json_would_escape_are_refused() {
        assert!(plain_name("EventData"));
        assert!(!plain_name("a\"b"));
        assert!(!plain_name("a\\b"));
        assert!(!plain_name("a\nb"));
        assert!(!plain_name(""));
    }
}
