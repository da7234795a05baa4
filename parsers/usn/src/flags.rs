//! Names for the bit fields of a USN record, spelled like the Windows SDK constants
//! without their prefix (`USN_REASON_DATA_EXTEND` is `DATA_EXTEND`) so they can be
//! looked up in Microsoft's documentation (winioctl.h, winnt.h).

/// `USN_REASON_*` bits, lowest bit first (the order `fsutil` prints them in).
const REASONS: &[(u32, &str)] = &[
    (0x0000_0001, "DATA_OVERWRITE"),
    (0x0000_0002, "DATA_EXTEND"),
    (0x0000_0004, "DATA_TRUNCATION"),
    (0x0000_0010, "NAMED_DATA_OVERWRITE"),
    (0x0000_0020, "NAMED_DATA_EXTEND"),
    (0x0000_0040, "NAMED_DATA_TRUNCATION"),
    (0x0000_0100, "FILE_CREATE"),
    (0x0000_0200, "FILE_DELETE"),
    (0x0000_0400, "EA_CHANGE"),
    (0x0000_0800, "SECURITY_CHANGE"),
    (0x0000_1000, "RENAME_OLD_NAME"),
    (0x0000_2000, "RENAME_NEW_NAME"),
    (0x0000_4000, "INDEXABLE_CHANGE"),
    (0x0000_8000, "BASIC_INFO_CHANGE"),
    (0x0001_0000, "HARD_LINK_CHANGE"),
    (0x0002_0000, "COMPRESSION_CHANGE"),
    (0x0004_0000, "ENCRYPTION_CHANGE"),
    (0x0008_0000, "OBJECT_ID_CHANGE"),
    (0x0010_0000, "REPARSE_POINT_CHANGE"),
    (0x0020_0000, "STREAM_CHANGE"),
    (0x0040_0000, "TRANSACTED_CHANGE"),
    (0x0080_0000, "INTEGRITY_CHANGE"),
    (0x0100_0000, "DESIRED_STORAGE_CLASS_CHANGE"),
    (0x8000_0000, "CLOSE"),
];

/// `FILE_ATTRIBUTE_*` bits.
const ATTRIBUTES: &[(u32, &str)] = &[
    (0x0000_0001, "READONLY"),
    (0x0000_0002, "HIDDEN"),
    (0x0000_0004, "SYSTEM"),
    (0x0000_0010, "DIRECTORY"),
    (0x0000_0020, "ARCHIVE"),
    (0x0000_0040, "DEVICE"),
    (0x0000_0080, "NORMAL"),
    (0x0000_0100, "TEMPORARY"),
    (0x0000_0200, "SPARSE_FILE"),
    (0x0000_0400, "REPARSE_POINT"),
    (0x0000_0800, "COMPRESSED"),
    (0x0000_1000, "OFFLINE"),
    (0x0000_2000, "NOT_CONTENT_INDEXED"),
    (0x0000_4000, "ENCRYPTED"),
    (0x0000_8000, "INTEGRITY_STREAM"),
    (0x0001_0000, "VIRTUAL"),
    (0x0002_0000, "NO_SCRUB_DATA"),
    (0x0004_0000, "RECALL_ON_OPEN"),
    (0x0008_0000, "PINNED"),
    (0x0010_0000, "UNPINNED"),
    (0x0040_0000, "RECALL_ON_DATA_ACCESS"),
];

/// `USN_SOURCE_*` bits.
const SOURCES: &[(u32, &str)] = &[
    (0x0000_0001, "DATA_MANAGEMENT"),
    (0x0000_0002, "AUXILIARY_DATA"),
    (0x0000_0004, "REPLICATION_MANAGEMENT"),
    (0x0000_0008, "CLIENT_REPLICATION_MANAGEMENT"),
];

/// Names of the reason bits in `value`, e.g. `DATA_EXTEND|CLOSE`.
pub fn reason_names(value: u32) -> String {
    join_names(value, REASONS)
}

/// Names of the file attribute bits in `value`, e.g. `HIDDEN|SYSTEM|ARCHIVE`.
pub fn attribute_names(value: u32) -> String {
    join_names(value, ATTRIBUTES)
}

/// Names of the source-info bits in `value`; empty for 0 (an ordinary change).
pub fn source_info_names(value: u32) -> String {
    join_names(value, SOURCES)
}

/// Joins the names of the set bits with `|`; bits without a name are kept as one hex
/// value at the end so nothing the record says is dropped.
fn join_names(value: u32, table: &[(u32, &str)]) -> String {
    let mut names: Vec<String> = Vec::new();
    let mut unknown = value;
    for &(bit, name) in table {
        if value & bit != 0 {
            names.push(name.to_owned());
            unknown &= !bit;
        }
    }
    if unknown != 0 {
        names.push(format!("0x{unknown:08x}"));
    }
    names.join("|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_bit_order_with_unknown_bits_kept() {
        assert_eq!(reason_names(0x8000_0002), "DATA_EXTEND|CLOSE");
        assert_eq!(reason_names(0), "");
        assert_eq!(reason_names(0x0200_0001), "DATA_OVERWRITE|0x02000000");
        assert_eq!(attribute_names(0x26), "HIDDEN|SYSTEM|ARCHIVE");
        assert_eq!(source_info_names(0), "");
    }
}
