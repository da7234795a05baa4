//! Runs libregf's `regfexport` (an independent implementation) and parses its text
//! output into keys and values, so tests can compare our reader with it.
//!
//! Output format (regfexport 20201007), one block per key, blank-line separated:
//! `Key path: ROOT\a\b`, `Key: b`, then per value `Value: <index> <name or
//! (default)>`, `Type: <description> (REG_X)` or `Type: unknown: 0x...`,
//! `Data size: <n>`, and unless n is 0 either `Data: <text>` (strings, numbers) or
//! `Data:` followed by hexdump lines `00000000: 4d 00 ...` (everything else).
//! For REG_SZ/REG_EXPAND_SZ the printed size is that of the string up to and
//! including its first NUL (plus 2 if the data has no NUL), not the stored size.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// How regfexport printed a value's data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Printed {
    /// No `Data` line (zero size).
    Nothing,
    /// `Data: text` (may span lines for strings with line breaks).
    Text(String),
    /// A hexdump, decoded back to bytes.
    Bytes(Vec<u8>),
    /// "Mismatch in data size and that required for data type." (e.g. an 8-byte
    /// REG_DWORD); regfexport prints no data then.
    SizeMismatch,
}

/// One value as regfexport printed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportedValue {
    pub name: String,
    pub type_code: u32,
    pub size: u32,
    pub data: Printed,
}

/// Runs regfexport on `path`; fails the test if the tool is missing or fails.
pub fn run(path: &Path) -> String {
    let out = Command::new("regfexport")
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("regfexport (Debian package libregf-utils) is required: {e}"));
    assert!(
        out.status.success(),
        "regfexport failed on {}",
        path.display()
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn type_code(desc: &str) -> u32 {
    if let Some(hex) = desc.strip_prefix("unknown: 0x") {
        return u32::from_str_radix(hex.trim(), 16).expect("type code");
    }
    let name = desc
        .rsplit_once('(')
        .and_then(|(_, n)| n.strip_suffix(')'))
        .unwrap_or_else(|| panic!("unparsed type {desc:?}"));
    match name {
        "REG_NONE" => 0,
        "REG_SZ" => 1,
        "REG_EXPAND_SZ" => 2,
        "REG_BINARY" => 3,
        "REG_DWORD_LITTLE_ENDIAN" => 4,
        "REG_DWORD_BIG_ENDIAN" => 5,
        "REG_LINK" => 6,
        "REG_MULTI_SZ" => 7,
        "REG_RESOURCE_LIST" => 8,
        "REG_FULL_RESOURCE_DESCRIPTOR" => 9,
        "REG_RESOURCE_REQUIREMENTS_LIST" => 10,
        "REG_QWORD_LITTLE_ENDIAN" => 11,
        other => panic!("unknown type name {other:?}"),
    }
}

fn hexdump_bytes(line: &str) -> Option<Vec<u8>> {
    let (offset, rest) = line.split_once(": ")?;
    if offset.len() != 8 || !offset.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    // 16 bytes as "xx " groups with an extra space in the middle, then the ASCII column.
    let hex = rest.get(..49.min(rest.len()))?;
    Some(
        hex.split_whitespace()
            .map(|h| u8::from_str_radix(h, 16).expect("hex byte"))
            .collect(),
    )
}

/// Parses regfexport output into key path -> values (in printed order).
pub fn parse(text: &str) -> BTreeMap<String, Vec<ExportedValue>> {
    let lines: Vec<&str> = text.lines().collect();
    let mut keys: BTreeMap<String, Vec<ExportedValue>> = BTreeMap::new();
    let mut current: Option<String> = None;
    let starts_record = |l: &str| l.starts_with("Key path: ") || l.starts_with("Value: ");
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if let Some(path) = line.strip_prefix("Key path: ") {
            current = Some(path.to_owned());
            keys.entry(path.to_owned()).or_default();
            i += 1;
        } else if let Some(rest) = line.strip_prefix("Value: ") {
            let (_, name) = rest.split_once(' ').unwrap_or((rest, ""));
            let name = if name == "(default)" { "" } else { name };
            let ty = lines[i + 1].strip_prefix("Type: ").expect("Type line");
            let size: u32 = lines[i + 2]
                .strip_prefix("Data size: ")
                .expect("Data size line")
                .parse()
                .expect("size");
            i += 3;
            let mut data = Printed::Nothing;
            if lines
                .get(i)
                .is_some_and(|l| l.starts_with("Mismatch in data size"))
            {
                data = Printed::SizeMismatch;
                i += 2;
            } else if let Some(first) = lines.get(i).and_then(|l| l.strip_prefix("Data:")) {
                i += 1;
                if first.is_empty() {
                    let mut bytes = Vec::new();
                    while let Some(chunk) = lines.get(i).and_then(|l| hexdump_bytes(l)) {
                        bytes.extend(chunk);
                        i += 1;
                    }
                    data = Printed::Bytes(bytes);
                } else {
                    let mut text = first.strip_prefix(' ').unwrap_or(first).to_owned();
                    // Continuation lines of a multi-line string run up to the blank
                    // line that precedes the next record (or the end).
                    while i < lines.len() {
                        let next = lines[i];
                        let after_blanks = lines[i..].iter().find(|l| !l.is_empty());
                        let record_follows =
                            next.is_empty() && after_blanks.is_none_or(|l| starts_record(l));
                        if record_follows {
                            break;
                        }
                        text.push('\n');
                        text.push_str(next);
                        i += 1;
                    }
                    data = Printed::Text(text);
                }
            }
            let key = current.clone().expect("value before any key");
            keys.entry(key).or_default().push(ExportedValue {
                name: name.to_owned(),
                type_code: type_code(ty),
                size,
                data,
            });
        } else {
            i += 1;
        }
    }
    keys
}
