//! One change journal record: the header check shared by every version and the
//! field layout of `USN_RECORD_V2` / `USN_RECORD_V3`.
//!
//! Layouts (Microsoft, "USN_RECORD_V2 structure" / "USN_RECORD_V3 structure",
//! winioctl.h), all little-endian:
//!
//! | field | V2 offset | V3 offset |
//! |---|---|---|
//! | RecordLength u32, MajorVersion u16, MinorVersion u16 | 0, 4, 6 | 0, 4, 6 |
//! | FileReferenceNumber | 8 (u64) | 8 (u128) |
//! | ParentFileReferenceNumber | 16 (u64) | 24 (u128) |
//! | Usn i64 | 24 | 40 |
//! | TimeStamp FILETIME | 32 | 48 |
//! | Reason, SourceInfo, SecurityId, FileAttributes u32 | 40, 44, 48, 52 | 56, 60, 64, 68 |
//! | FileNameLength u16 (bytes), FileNameOffset u16 | 56, 58 | 72, 74 |
//! | fixed part ends | 60 | 76 |
//!
//! `USN_RECORD_V4` (range tracking, Windows 8.1+) has no name and no time; it starts
//! the same way and is only recognised so it can be stepped over and counted.

use std::fmt;

use filetime::Filetime;

use crate::flags;
use binview::View;

/// Size of the V4 fixed part (header, references, USN, reason, source, extent counts).
const V4_FIXED_LEN: u32 = 56;

/// No record can be longer than the 4 KiB journal page it must fit in.
pub(crate) const MAX_RECORD_LEN: u32 = 4096;

/// Where the variable fields sit in one record version.
struct Layout {
    fixed_len: u32,
    reference_is_128: bool,
    usn: usize,
    timestamp: usize,
    reason: usize,
    name_length: usize,
}

const V2: Layout = Layout {
    fixed_len: 60,
    reference_is_128: false,
    usn: 24,
    timestamp: 32,
    reason: 40,
    name_length: 56,
};

const V3: Layout = Layout {
    fixed_len: 76,
    reference_is_128: true,
    usn: 40,
    timestamp: 48,
    reason: 56,
    name_length: 72,
};

/// An NTFS file reference (MFT entry number and sequence number) or, for a V3 record
/// from ReFS, an opaque 128-bit file id. V2 references are stored zero-extended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileReference(pub u128);

impl FileReference {
    /// The MFT entry number: the low 48 bits.
    pub const fn entry(self) -> u64 {
        (self.0 as u64) & 0x0000_FFFF_FFFF_FFFF
    }

    /// The sequence number: bits 48..64.
    pub const fn sequence(self) -> u16 {
        (self.0 >> 48) as u16
    }

    /// True when the upper 64 bits are zero, i.e. the value is an NTFS entry/sequence
    /// pair; false for a genuine 128-bit (ReFS) id, where `entry`/`sequence` mean nothing.
    pub const fn is_ntfs(self) -> bool {
        self.0 >> 64 == 0
    }
}

/// `entry-sequence` for NTFS references (the usual forensic notation), else 32 hex digits.
impl fmt::Display for FileReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_ntfs() {
            write!(f, "{}-{}", self.entry(), self.sequence())
        } else {
            write!(f, "{:032x}", self.0)
        }
    }
}

/// One V2 or V3 change journal record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsnRecord {
    /// Offset of the record in the `$J` stream (the slice/stream base plus position).
    pub offset: u64,
    /// 2 or 3.
    pub major_version: u16,
    /// Minor version as stored (0 on every Windows seen).
    pub minor_version: u16,
    /// Record length as stored, including padding to 8 bytes.
    pub record_length: u32,
    /// The file or directory that changed.
    pub file_reference: FileReference,
    /// Its parent directory at the time of the change.
    pub parent_reference: FileReference,
    /// Update sequence number: the record's own offset in the `$J` stream when written.
    pub usn: u64,
    /// When the change was recorded (UTC).
    pub timestamp: Filetime,
    /// `USN_REASON_*` bits; see [`UsnRecord::reason_names`].
    pub reason: u32,
    /// `USN_SOURCE_*` bits (non-zero for changes made by system components).
    pub source_info: u32,
    /// Security descriptor id (0 on current Windows).
    pub security_id: u32,
    /// `FILE_ATTRIBUTE_*` bits; see [`UsnRecord::attribute_names`].
    pub file_attributes: u32,
    /// File name (no path). Unpaired UTF-16 surrogates become U+FFFD.
    pub file_name: String,
}

impl UsnRecord {
    /// Reason bits by name, e.g. `DATA_EXTEND|CLOSE`.
    pub fn reason_names(&self) -> String {
        flags::reason_names(self.reason)
    }

    /// File attribute bits by name, e.g. `HIDDEN|SYSTEM|ARCHIVE`.
    pub fn attribute_names(&self) -> String {
        flags::attribute_names(self.file_attributes)
    }

    /// Source-info bits by name; empty for ordinary changes.
    pub fn source_info_names(&self) -> String {
        flags::source_info_names(self.source_info)
    }
}

/// Checks the length/version prefix without needing the rest of the record, so the
/// scanner can decide whether to wait for more bytes or to treat the spot as damage.
/// Returns what is wrong, or `None` for a plausible header.
pub(crate) fn header_problem(length: u32, major: u16) -> Option<&'static str> {
    let fixed = match major {
        2 => V2.fixed_len,
        3 => V3.fixed_len,
        4 => V4_FIXED_LEN,
        _ => return Some("major version is not 2, 3 or 4"),
    };
    if length % 8 != 0 {
        Some("record length is not a multiple of 8")
    } else if length < fixed {
        Some("record length is shorter than the fixed part")
    } else if length > MAX_RECORD_LEN {
        Some("record length exceeds a 4 KiB journal page")
    } else {
        None
    }
}

/// Decodes a V2/V3 record occupying exactly `bytes`; `None` if the name does not lie
/// inside the record (the caller reports that as damage).
pub(crate) fn parse_v2_v3(bytes: &[u8], major: u16, offset: u64) -> Option<UsnRecord> {
    let layout = if major == 3 { &V3 } else { &V2 };
    let view = View::new(bytes);
    let reference = |at: usize| {
        if layout.reference_is_128 {
            view.u128_at(at)
        } else {
            view.u64_at(at).map(u128::from)
        }
    };
    let parent_at = if layout.reference_is_128 { 24 } else { 16 };
    let name_length = usize::from(view.u16_at(layout.name_length)?);
    let name_offset = usize::from(view.u16_at(layout.name_length + 2)?);
    if name_length % 2 != 0 || name_offset < layout.fixed_len as usize {
        return None;
    }
    let name_bytes = view.bytes(name_offset, name_length)?;
    Some(UsnRecord {
        offset,
        major_version: major,
        minor_version: view.u16_at(6)?,
        record_length: view.u32_at(0)?,
        file_reference: FileReference(reference(8)?),
        parent_reference: FileReference(reference(parent_at)?),
        usn: view.u64_at(layout.usn)?,
        timestamp: Filetime::from_raw(view.u64_at(layout.timestamp)?),
        reason: view.u32_at(layout.reason)?,
        source_info: view.u32_at(layout.reason + 4)?,
        security_id: view.u32_at(layout.reason + 8)?,
        file_attributes: view.u32_at(layout.reason + 12)?,
        file_name: binview::utf16le(name_bytes),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_reference_parts() {
        let r = FileReference(0x0001_0000_0000_0028);
        assert_eq!((r.entry(), r.sequence(), r.is_ntfs()), (0x28, 1, true));
        assert_eq!(r.to_string(), "40-1");
        let refs = FileReference(1 << 100);
        assert!(!refs.is_ntfs());
        assert_eq!(refs.to_string().len(), 32);
    }

    #[test]
    fn header_checks() {
        assert_eq!(header_problem(80, 2), None);
        assert_eq!(header_problem(80, 4), None);
        assert!(header_problem(84, 2).is_some());
        assert!(header_problem(64, 3).is_some());
        assert!(header_problem(80, 5).is_some());
        assert!(header_problem(8192, 2).is_some());
    }
}
