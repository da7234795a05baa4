//! Paths of the analyst's file system as text, without losing anything.
//!
//! A Linux file name is bytes; an image or folder given to toolmark may carry bytes
//! that are not UTF-8 (copied from an old share, a camera, a crafted collection). Such
//! a name is written with the escape NTFS names get (`ntfs::le::utf16_lossy`): a byte
//! that is not UTF-8 becomes U+FFFD followed by its value in four hex digits (`00FF`),
//! and a real U+FFFD becomes U+FFFD `FFFD`. Two distinct names never read the same,
//! and [`text_path`] gives back the very bytes, so a manifest naming such an image is
//! written, read back (resume, `toolmark merge`) and compared like any other.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// The escape's lead character.
const MARK: char = '\u{FFFD}';

/// `name` as text, every byte kept (see the module documentation).
pub fn os_text(name: &OsStr) -> String {
    #[cfg(unix)]
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(name);
    #[cfg(not(unix))]
    let lossy = name.to_string_lossy();
    #[cfg(not(unix))]
    let bytes = lossy.as_bytes();
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                MARK => out.push_str("\u{FFFD}FFFD"),
                c => out.push(c),
            }
        }
        for byte in chunk.invalid() {
            out.push_str(&format!("{MARK}{byte:04X}"));
        }
    }
    out
}

/// `path` as text, every byte kept.
pub fn path_text(path: &Path) -> String {
    os_text(path.as_os_str())
}

/// The path [`path_text`] wrote as `text`. An escape that is not one of ours (a
/// U+FFFD not followed by `FFFD` or `00XX`) is kept as it reads.
pub fn text_path(text: &str) -> PathBuf {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(MARK) {
        bytes.extend_from_slice(&rest.as_bytes()[..at]);
        let after = &rest[at + MARK.len_utf8()..];
        let code = after
            .get(..4)
            .filter(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|hex| u16::from_str_radix(hex, 16).ok());
        match code {
            Some(0xFFFD) => bytes.extend_from_slice(MARK.to_string().as_bytes()),
            Some(byte @ 0x80..=0xFF) => bytes.push(byte as u8),
            _ => {
                bytes.extend_from_slice(MARK.to_string().as_bytes());
                rest = after;
                continue;
            }
        }
        rest = &after[4..];
    }
    bytes.extend_from_slice(rest.as_bytes());
    PathBuf::from(os_string(bytes))
}

#[cfg(unix)]
fn os_string(bytes: Vec<u8>) -> OsString {
    std::os::unix::ffi::OsStringExt::from_vec(bytes)
}

#[cfg(not(unix))]
fn os_string(bytes: Vec<u8>) -> OsString {
    OsString::from(String::from_utf8_lossy(&bytes).into_owned())
}

/// `#[serde(with = "path_text::one")]`: a `PathBuf` as its [`path_text`].
pub mod one {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::path::{Path, PathBuf};

    /// Writes the path as text.
    pub fn serialize<S: Serializer>(path: &Path, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::path_text(path))
    }

    /// Reads a path written by [`serialize`] (or by serde's own form, which is the
    /// same text for a UTF-8 path).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<PathBuf, D::Error> {
        String::deserialize(d).map(|text| super::text_path(&text))
    }
}

/// `#[serde(with = "path_text::many")]`: a `Vec<PathBuf>` as [`path_text`]s.
pub mod many {
    use serde::ser::SerializeSeq;
    use serde::{Deserialize, Deserializer, Serializer};
    use std::path::PathBuf;

    /// Writes the paths as texts.
    pub fn serialize<S: Serializer>(paths: &[PathBuf], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(paths.len()))?;
        for path in paths {
            seq.serialize_element(&super::path_text(path))?;
        }
        seq.end()
    }

    /// Reads paths written by [`serialize`].
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<PathBuf>, D::Error> {
        Vec::<String>::deserialize(d)
            .map(|texts| texts.iter().map(|t| super::text_path(t)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn names_that_are_not_utf8_stay_distinct_and_come_back() {
        use std::os::unix::ffi::OsStrExt;
        let names: [&[u8]; 5] = [
            b"img\xff.E01",
            b"img\xfe.E01",
            "img\u{FFFD}.E01".as_bytes(),
            "img\u{FFFD}00FF.E01".as_bytes(),
            "caf\u{e9}/x".as_bytes(),
        ];
        let texts: Vec<String> = names
            .iter()
            .map(|n| path_text(Path::new(OsStr::from_bytes(n))))
            .collect();
        assert_eq!(texts[0], "img\u{FFFD}00FF.E01");
        assert_eq!(texts[2], "img\u{FFFD}FFFD.E01");
        assert_eq!(texts[4], "caf\u{e9}/x");
        for (i, a) in texts.iter().enumerate() {
            for b in &texts[i + 1..] {
                assert_ne!(a, b);
            }
        }
        for (name, text) in names.iter().zip(&texts) {
            assert_eq!(text_path(text).as_os_str().as_bytes(), *name);
        }
    }

    #[test]
    fn an_escape_that_is_not_ours_is_kept_as_it_reads() {
        for text in [
            "a\u{FFFD}",
            "a\u{FFFD}00",
            "a\u{FFFD}0041b",
            "a\u{FFFD}zzzzb",
        ] {
            assert_eq!(text_path(text), PathBuf::from(text));
        }
    }

    #[test]
    fn manifests_round_trip_such_paths_through_json() {
        #[derive(serde::Serialize, serde::Deserialize)]
        struct Paths {
            #[serde(with = "one")]
            one: PathBuf,
            #[serde(with = "many")]
            many: Vec<PathBuf>,
        }
        let before = Paths {
            one: text_path("a\u{FFFD}00FF"),
            many: vec![PathBuf::from("b"), text_path("c\u{FFFD}0080")],
        };
        let json = serde_json::to_string(&before).expect("serializes");
        let after: Paths = serde_json::from_str(&json).expect("reads back");
        assert_eq!(after.one, before.one);
        assert_eq!(after.many, before.many);
    }
}
