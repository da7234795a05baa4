//! A strict pull reader of JSON text: the caller asks for the next value, member or
//! item, and decides what to keep while reading; nothing is built that it did not ask
//! for. Strings are borrowed from the text and unescaped only when they hold an
//! escape.
//!
//! It exists for one hot path: the `evtx` crate renders every event record as
//! compact JSON, and flattening that through `serde_json`'s visitors cost 26 % of an
//! event-log scan's instructions, more than the crate's own rendering (12 %).
//!
//! Bounds: nesting deeper than [`MAX_DEPTH`] is refused (as `serde_json` refuses it),
//! every byte is looked at a bounded number of times, and what `serde_json` refuses
//! is refused too (raw control characters in strings, lone surrogates, leading
//! zeros, trailing commas, text after the value).

use std::borrow::Cow;

use crate::output::json::swar::json_special;

/// Containers nested deeper than this are refused.
pub const MAX_DEPTH: usize = 128;

/// Why a text is not JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// Byte offset where reading stopped.
    pub at: usize,
    /// What was wrong there.
    pub what: &'static str,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at byte {}", self.what, self.at)
    }
}

/// One value as it starts: scalars whole, containers opened (read their content
/// with [`Pull::member`] or [`Pull::item`], or [`Pull::skip`] it).
#[derive(Debug, PartialEq)]
pub enum Value<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as written.
    Number(&'a str),
    /// A string, unescaped.
    String(Cow<'a, str>),
    /// `[`: the items follow.
    Array,
    /// `{`: the members follow.
    Object,
}

/// Reads one JSON text.
pub struct Pull<'a> {
    text: &'a str,
    i: usize,
    depth: usize,
}

/// What each byte is inside a string: 0 plain, 1 the closing quote, 2 a backslash,
/// 3 a control character (not allowed raw).
const STRING_CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = 3;
        b += 1;
    }
    table[b'"' as usize] = 1;
    table[b'\\' as usize] = 2;
    table
};

impl<'a> Pull<'a> {
    /// A reader at the start of `text`.
    pub fn new(text: &'a str) -> Self {
        Pull {
            text,
            i: 0,
            depth: 0,
        }
    }

    /// An error at the current position: for a text that is JSON but not of the
    /// shape the caller reads.
    pub fn fail<T>(&self, what: &'static str) -> Result<T, Error> {
        Err(Error { at: self.i, what })
    }

    fn peek(&mut self) -> Option<u8> {
        let b = self.text.as_bytes();
        while let Some(&c) = b.get(self.i) {
            if !matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
                return Some(c);
            }
            self.i += 1;
        }
        None
    }

    /// The next value.
    pub fn value(&mut self) -> Result<Value<'a>, Error> {
        let Some(c) = self.peek() else {
            return self.fail("end of text where a value was expected");
        };
        match c {
            b'{' | b'[' => {
                if self.depth >= MAX_DEPTH {
                    return self.fail("nesting too deep");
                }
                self.depth += 1;
                self.i += 1;
                Ok(if c == b'{' {
                    Value::Object
                } else {
                    Value::Array
                })
            }
            b'"' => self.string().map(Value::String),
            b't' => self.word("true", Value::Bool(true)),
            b'f' => self.word("false", Value::Bool(false)),
            b'n' => self.word("null", Value::Null),
            b'-' | b'0'..=b'9' => self.number().map(Value::Number),
            _ => self.fail("not a JSON value"),
        }
    }

    /// The next member's key of the object being read (its value is next), or `None`
    /// at the object's end. `first` is the caller's flag for this object, true
    /// before its first member.
    pub fn member(&mut self, first: &mut bool) -> Result<Option<Cow<'a, str>>, Error> {
        if !self.more(first, b'}')? {
            return Ok(None);
        }
        if self.peek() != Some(b'"') {
            return self.fail("expected a key");
        }
        let key = self.string()?;
        if self.peek() != Some(b':') {
            return self.fail("expected `:`");
        }
        self.i += 1;
        Ok(Some(key))
    }

    /// Reads every member of the object just opened, handing each key and value
    /// start to `each` (which must read or skip the value).
    pub fn members(
        &mut self,
        mut each: impl FnMut(&mut Self, Cow<'a, str>, Value<'a>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut first = true;
        while let Some(key) = self.member(&mut first)? {
            let value = self.value()?;
            each(self, key, value)?;
        }
        Ok(())
    }

    /// Whether the array being read has another item (read it with
    /// [`Pull::value`]); false at its end. `first` as for [`Pull::member`].
    pub fn item(&mut self, first: &mut bool) -> Result<bool, Error> {
        self.more(first, b']')
    }

    fn more(&mut self, first: &mut bool, close: u8) -> Result<bool, Error> {
        let c = self.peek();
        if c == Some(close) {
            self.i += 1;
            self.depth -= 1;
            return Ok(false);
        }
        if !std::mem::replace(first, false) {
            if c != Some(b',') {
                return self.fail("expected `,` or the container's end");
            }
            self.i += 1;
        }
        Ok(true)
    }

    /// Reads past the rest of a value whose start [`Pull::value`] returned.
    pub fn skip(&mut self, value: Value<'a>) -> Result<(), Error> {
        // Containers are skipped without recursion: count the depth back down.
        let floor = match value {
            Value::Array | Value::Object => self.depth - 1,
            _ => return Ok(()),
        };
        let mut first = true;
        let mut in_object = value == Value::Object;
        // Which containers above the current one are objects, one bit each (the
        // depth is at most MAX_DEPTH = 128).
        let mut outer: u128 = 0;
        while self.depth > floor {
            let more = if in_object {
                self.member(&mut first)?.is_some()
            } else {
                self.item(&mut first)?
            };
            if !more {
                in_object = outer & 1 == 1;
                outer >>= 1;
                first = false;
                continue;
            }
            if let v @ (Value::Array | Value::Object) = self.value()? {
                outer = outer << 1 | u128::from(in_object);
                in_object = v == Value::Object;
                first = true;
            }
        }
        Ok(())
    }

    /// Ends the text: only whitespace may follow the top-level value.
    pub fn end(mut self) -> Result<(), Error> {
        match self.peek() {
            None => Ok(()),
            Some(_) => self.fail("text after the value"),
        }
    }

    /// A string starting at its opening quote.
    fn string(&mut self) -> Result<Cow<'a, str>, Error> {
        let b = self.text.as_bytes();
        let start = self.i + 1;
        let mut at = start;
        let mut escaped = false;
        loop {
            // Eight bytes at a time up to the first that is not plain.
            while let Some(eight) = b.get(at..at + 8).and_then(|e| <[u8; 8]>::try_from(e).ok()) {
                let special = json_special(u64::from_le_bytes(eight));
                if special != 0 {
                    at += (special.trailing_zeros() / 8) as usize;
                    break;
                }
                at += 8;
            }
            let Some(&c) = b.get(at) else {
                self.i = b.len();
                return self.fail("unterminated string");
            };
            match STRING_CLASS[usize::from(c)] {
                0 => at += 1,
                1 => break,
                2 => {
                    escaped = true;
                    self.i = at;
                    at += match b.get(at + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => 2,
                        Some(b'u') => match self.code_unit(at) {
                            Some(0xD800..=0xDBFF) if b.get(at + 6) == Some(&b'\\') => {
                                match self.code_unit(at + 6) {
                                    Some(0xDC00..=0xDFFF) => 12,
                                    _ => return self.fail("lone surrogate in \\u escape"),
                                }
                            }
                            Some(0xD800..=0xDFFF) => {
                                return self.fail("lone surrogate in \\u escape")
                            }
                            Some(_) => 6,
                            None => return self.fail("bad \\u escape"),
                        },
                        _ => return self.fail("bad escape"),
                    };
                }
                _ => {
                    // The crate writes raw ones when a damaged record's names are
                    // garbage; such a rendering is refused, as `serde_json` refuses it.
                    self.i = at;
                    return self.fail("control character in a string");
                }
            }
        }
        self.i = at + 1;
        let raw = &self.text[start..at];
        Ok(if escaped {
            Cow::Owned(unescape(raw))
        } else {
            Cow::Borrowed(raw)
        })
    }

    /// The code unit of the `\uXXXX` escape at `at`.
    fn code_unit(&self, at: usize) -> Option<u16> {
        let hex = self.text.get(at + 2..at + 6)?;
        if self.text.as_bytes().get(at + 1) != Some(&b'u')
            || !hex.bytes().all(|h| h.is_ascii_hexdigit())
        {
            return None;
        }
        u16::from_str_radix(hex, 16).ok()
    }

    fn word(&mut self, word: &str, value: Value<'a>) -> Result<Value<'a>, Error> {
        if !self.text[self.i..].starts_with(word) {
            return self.fail("not a JSON value");
        }
        self.i += word.len();
        Ok(value)
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn number(&mut self) -> Result<&'a str, Error> {
        let b = self.text.as_bytes();
        let start = self.i;
        let digits = |p: &mut Self| {
            let from = p.i;
            while b.get(p.i).is_some_and(u8::is_ascii_digit) {
                p.i += 1;
            }
            p.i - from
        };
        if b.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        let int = self.i;
        let whole = digits(self);
        if whole == 0 || (whole > 1 && b[int] == b'0') {
            return self.fail("bad number");
        }
        if b.get(self.i) == Some(&b'.') {
            self.i += 1;
            if digits(self) == 0 {
                return self.fail("bad number");
            }
        }
        if let Some(b'e' | b'E') = b.get(self.i) {
            self.i += 1;
            if let Some(b'+' | b'-') = b.get(self.i) {
                self.i += 1;
            }
            if digits(self) == 0 {
                return self.fail("bad number");
            }
        }
        Ok(&self.text[start..self.i])
    }
}

/// The text of a string whose escapes [`Pull::string`] checked (so surrogates come
/// in pairs; U+FFFD stands for anything that could still not be decoded).
fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let unit = |from: usize| {
            rest.get(from..from + 4)
                .and_then(|h| u16::from_str_radix(h, 16).ok())
        };
        let (c, used) = match rest.as_bytes().get(at + 1) {
            Some(b'b') => ('\u{8}', 2),
            Some(b'f') => ('\u{c}', 2),
            Some(b'n') => ('\n', 2),
            Some(b'r') => ('\r', 2),
            Some(b't') => ('\t', 2),
            Some(b'u') => match (unit(at + 2), unit(at + 8)) {
                (Some(high @ 0xD800..=0xDBFF), Some(low @ 0xDC00..=0xDFFF)) => {
                    let c =
                        0x10000 + ((u32::from(high) - 0xD800) << 10) + (u32::from(low) - 0xDC00);
                    (char::from_u32(c).unwrap_or('\u{fffd}'), 12)
                }
                (Some(unit), _) => (char::from_u32(unit.into()).unwrap_or('\u{fffd}'), 6),
                (None, _) => ('\u{fffd}', 2),
            },
            // `"`, `\`, `/`: the character itself.
            Some(&c) => (char::from(c), 2),
            None => ('\u{fffd}', 1),
        };
        out.push(c);
        rest = rest.get(at + used..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

/// The next value read whole into the tree `serde_json` builds, for checking this
/// reader against `serde_json`'s own parse (the unit tests and the `json_pull` fuzz
/// target). A number `serde_json` refuses (beyond `f64`) becomes `null`.
pub fn to_serde(p: &mut Pull<'_>) -> Result<serde_json::Value, Error> {
    Ok(match p.value()? {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(b),
        Value::Number(n) => serde_json::from_str(n).unwrap_or(serde_json::Value::Null),
        Value::String(s) => serde_json::Value::String(s.into_owned()),
        Value::Array => {
            let (mut items, mut first) = (Vec::new(), true);
            while p.item(&mut first)? {
                items.push(to_serde(p)?);
            }
            serde_json::Value::Array(items)
        }
        Value::Object => {
            let (mut map, mut first) = (serde_json::Map::new(), true);
            while let Some(key) = p.member(&mut first)? {
                map.insert(key.into_owned(), to_serde(p)?);
            }
            serde_json::Value::Object(map)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<serde_json::Value, Error> {
        let mut p = Pull::new(text);
        let value = to_serde(&mut p)?;
        p.end()?;
        Ok(value)
    }

    /// The text skipped whole: `Ok` when it is JSON.
    fn skipped(text: &str) -> Result<(), Error> {
        let mut p = Pull::new(text);
        let value = p.value()?;
        p.skip(value)?;
        p.end()
    }

    const JSON: [&str; 7] = [
        r#"{"a":[1,-2,3.5e-3,true,false,null,"x"],"b":{},"c":[],"d":{"e":{"f":[[]]}}}"#,
        r#" [ "tab\there", "q\"uote", "back\\slash", "\u00e9\u0001", "\ud83d\ude00", "\/" ] "#,
        r#""just a string""#,
        "0",
        "-0.0E+5",
        r#"{"k":1,"k":2}"#,
        r#"["0123456789abcdef\"0123456789", "0123456\u00e9789abcdef01234567\\"]"#,
    ];

    const NOT_JSON: [&str; 24] = [
        "",
        "{",
        "[1,]",
        "[,1]",
        r#"{"a"}"#,
        r#"{"a":1,}"#,
        r#"{,"a":1}"#,
        r#"{a:1}"#,
        "[1 2]",
        "01",
        "1.",
        "-",
        "1e",
        "tru",
        r#""open"#,
        r#""bad \x escape""#,
        r#""\u12""#,
        "\"raw \u{1} control\"",
        "\"a long plain run, then a raw \u{1f} control\"",
        r#""\ud83d""#,
        r#""\ude00x""#,
        r#""\ud83d\u0041""#,
        "[] []",
        "}",
    ];

    #[test]
    fn reads_what_serde_json_reads() {
        for text in JSON {
            let theirs: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(read(text).unwrap(), theirs, "{text}");
            assert_eq!(skipped(text), Ok(()), "{text}");
        }
    }

    #[test]
    fn refuses_what_serde_json_refuses() {
        for text in NOT_JSON {
            assert!(serde_json::from_str::<serde_json::Value>(text).is_err());
            assert!(read(text).is_err(), "{text:?} was read");
            assert!(skipped(text).is_err(), "{text:?} was skipped");
        }
    }

    #[test]
    fn skipping_stops_at_the_value_end() {
        let mut p = Pull::new(r#"{"a":{"b":[1,{"c":[]}],"d":2},"e":"f"}"#);
        assert_eq!(p.value(), Ok(Value::Object));
        let mut first = true;
        assert_eq!(p.member(&mut first).unwrap().as_deref(), Some("a"));
        let a = p.value().unwrap();
        p.skip(a).unwrap();
        assert_eq!(p.member(&mut first).unwrap().as_deref(), Some("e"));
        assert_eq!(p.value(), Ok(Value::String("f".into())));
        assert_eq!(p.member(&mut first), Ok(None));
        assert_eq!(p.end(), Ok(()));
    }

    #[test]
    fn the_eight_byte_scan_finds_the_first_special_byte() {
        let plain = *b"abcdefgh";
        assert_eq!(json_special(u64::from_le_bytes(plain)), 0);
        for at in 0..8 {
            for special in [b'"', b'\\', 0x00, 0x1f, b'\n'] {
                let mut eight = plain;
                eight[at] = special;
                // Specials above it must not move the answer.
                eight[at + 1..].fill(b'"');
                let found = json_special(u64::from_le_bytes(eight));
                assert_eq!(found.trailing_zeros() / 8, at as u32, "{eight:?}");
            }
        }
        // Bytes from 0x20 up, 0x7f and non-ASCII are plain.
        let high = [0x20, 0x7f, 0x80, 0xc3, 0xa9, 0xff, b'/', b'#'];
        assert_eq!(json_special(u64::from_le_bytes(high)), 0);
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(read(&deep(MAX_DEPTH)).is_ok());
        assert_eq!(
            read(&deep(MAX_DEPTH + 1)).unwrap_err().what,
            "nesting too deep"
        );
        assert_eq!(
            skipped(&deep(MAX_DEPTH + 1)).unwrap_err().what,
            "nesting too deep"
        );
    }
}
