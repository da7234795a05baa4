//! Reading values the way the collectors need them: as text for a CSV cell, as a
//! number, or as a type name; damage is an error for the caller to report
//! ([`super::reader::Reader`] does).

use regf::{Key, ValueData, ValueType};

/// Longest binary value shown in full as hex in a cell; longer ones are cut (the
/// size is given) so one big blob cannot blow up a spreadsheet row.
const MAX_HEX_BYTES: usize = 256;

/// A value's data as one line of text: strings as they are, MULTI_SZ joined with
/// ` | `, numbers in decimal, anything else as hex.
pub fn render(data: &ValueData) -> String {
    match data {
        ValueData::String(s) | ValueData::ExpandString(s) | ValueData::Link(s) => s.clone(),
        ValueData::MultiString(items) => items.join(" | "),
        ValueData::Dword(n) => n.to_string(),
        ValueData::Qword(n) => n.to_string(),
        ValueData::Raw(bytes) => hex(bytes),
    }
}

/// Lower-case hex, cut after [`MAX_HEX_BYTES`] with the full size noted.
pub fn hex(bytes: &[u8]) -> String {
    let shown = bytes.get(..MAX_HEX_BYTES).unwrap_or(bytes);
    let mut text: String = shown.iter().map(|b| format!("{b:02x}")).collect();
    if shown.len() < bytes.len() {
        text.push_str(&format!("… ({} bytes)", bytes.len()));
    }
    text
}

/// The registry's name for a value type (`REG_SZ`, ...).
pub fn type_name(kind: ValueType) -> String {
    match kind {
        ValueType::None => "REG_NONE".into(),
        ValueType::String => "REG_SZ".into(),
        ValueType::ExpandString => "REG_EXPAND_SZ".into(),
        ValueType::Binary => "REG_BINARY".into(),
        ValueType::Dword => "REG_DWORD".into(),
        ValueType::DwordBigEndian => "REG_DWORD_BIG_ENDIAN".into(),
        ValueType::Link => "REG_LINK".into(),
        ValueType::MultiString => "REG_MULTI_SZ".into(),
        ValueType::ResourceList => "REG_RESOURCE_LIST".into(),
        ValueType::FullResourceDescriptor => "REG_FULL_RESOURCE_DESCRIPTOR".into(),
        ValueType::ResourceRequirementsList => "REG_RESOURCE_REQUIREMENTS_LIST".into(),
        ValueType::Qword => "REG_QWORD".into(),
        ValueType::Other(code) => format!("0x{code:x}"),
    }
}

/// Value `name` of `key`, decoded: `Ok(None)` when absent, an error when the
/// value list or the value's data cannot be read.
pub fn checked_data(key: &Key<'_>, name: &str) -> Result<Option<ValueData>, String> {
    let unreadable = |e: regf::Error| format!("value {name} of {} unreadable: {e}", key.name());
    match key.value(name).map_err(unreadable)? {
        Some(value) => value.data().map(Some).map_err(unreadable),
        None => Ok(None),
    }
}

/// A value decoded as a number (DWORD/QWORD, or a decimal string).
pub fn as_number(data: &ValueData) -> Option<u64> {
    match data {
        ValueData::Dword(n) => Some(u64::from(*n)),
        ValueData::Qword(n) => Some(*n),
        ValueData::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A value's data as text when it is a string (REG_SZ or REG_EXPAND_SZ), else why
/// not: for a name or a path, a number or a blob is damage, not something to show
/// as one.
pub fn as_text(data: &ValueData) -> Result<&str, String> {
    let other = match data {
        ValueData::String(s) | ValueData::ExpandString(s) => return Ok(s),
        ValueData::Link(_) => "a link",
        ValueData::MultiString(_) => "a list of strings",
        ValueData::Dword(_) => "a DWORD",
        ValueData::Qword(_) => "a QWORD",
        ValueData::Raw(_) => "binary data",
    };
    Err(format!("is {other} ({}), not text", render(data)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_strings_are_text() {
        assert_eq!(
            as_text(&ValueData::ExpandString("C:\\x.exe".into())),
            Ok("C:\\x.exe")
        );
        let dword = as_text(&ValueData::Dword(1)).unwrap_err();
        assert!(dword.contains("DWORD") && dword.contains('1'), "{dword}");
        assert!(as_text(&ValueData::Raw(vec![1, 2])).is_err());
    }
}
