//! Name and string decoding. Key and value names are stored either "compressed" (one
//! byte per character; Windows zero-extends each byte to a UTF-16 code unit, i.e.
//! Latin-1) or as UTF-16LE, decoded by [`binview::utf16le`]: unpaired surrogates become
//! U+FFFD rather than an error, because a name we cannot decode perfectly is still
//! worth reporting.

/// Decodes a one-byte-per-character (Latin-1) name.
pub(crate) fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

pub(crate) use binview::{utf16le, utf16le_until_nul};

/// Splits a REG_MULTI_SZ payload into its strings. The list ends at the first empty
/// string (two NULs in a row) or at the end of the data, as in the Win32 API.
pub(crate) fn multi_sz(bytes: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let end = binview::utf16le_len_before_nul(rest);
        if end == 0 {
            break;
        }
        out.push(utf16le(rest.get(..end).unwrap_or(rest)));
        rest = rest.get(end.saturating_add(2)..).unwrap_or(&[]);
    }
    out
}

/// Case-insensitive comparison of names the way the registry compares them (upper
/// case, character by character).
pub(crate) fn eq_ignore_case(a: &str, b: &str) -> bool {
    a.chars()
        .flat_map(char::to_uppercase)
        .eq(b.chars().flat_map(char::to_uppercase))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_stop_at_nul_and_tolerate_odd_sizes() {
        assert_eq!(utf16le_until_nul(b"a\0b\0\0\0c\0"), "ab");
        assert_eq!(utf16le_until_nul(b"a\0b\0c"), "ab");
        assert_eq!(utf16le(&[0x00, 0xD8, 0x61, 0x00]), "\u{FFFD}a");
    }

    #[test]
    fn multi_sz_ends_at_empty_string() {
        assert_eq!(multi_sz(b"a\0\0\0b\0c\0\0\0\0\0"), vec!["a", "bc"]);
        assert_eq!(multi_sz(b"\0\0"), Vec::<String>::new());
        assert_eq!(multi_sz(b"x\0"), vec!["x"]);
    }

    #[test]
    fn names_compare_case_insensitively() {
        assert!(eq_ignore_case("PSEXESVC", "psexesvc"));
        assert!(eq_ignore_case("Ärger", "äRGER"));
        assert!(!eq_ignore_case("a", "ab"));
    }
}
