//! The crate's single error type. Every variant says where in the hive (offset relative
//! to the start of the hive bins data, or absolute file offset for the base block) and
//! what was expected, so a damaged hive can be reported precisely.

/// Everything that can go wrong while reading a hive or replaying its logs.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// A structure ran past the end of the bytes available to it.
    #[error("{what} at offset {offset:#x} needs {needed} bytes, only {available} available")]
    Truncated {
        /// The structure being read.
        what: &'static str,
        /// Offset of the structure.
        offset: u64,
        /// Bytes the read needed.
        needed: u64,
        /// Bytes actually there.
        available: u64,
    },
    /// A structure did not start with its signature.
    #[error("{what} at offset {offset:#x}: expected signature {expected:?}, found {found:?}")]
    BadSignature {
        /// The structure being read.
        what: &'static str,
        /// Offset of the structure.
        offset: u64,
        /// The signature the format requires.
        expected: &'static str,
        /// The bytes found instead (lossy text).
        found: String,
    },
    /// A cell offset points outside the hive bins data.
    #[error("cell offset {offset:#x} is outside the hive bins data ({what})")]
    CellOutOfRange {
        /// The referenced cell offset (relative to the hive bins data).
        offset: u32,
        /// Who referenced it.
        what: &'static str,
    },
    /// A referenced cell is marked free; a consistent hive never points at free cells.
    #[error("cell at offset {offset:#x} ({what}) is not allocated")]
    CellNotAllocated {
        /// The referenced cell offset (relative to the hive bins data).
        offset: u32,
        /// Who referenced it.
        what: &'static str,
    },
    /// A cell has a size field that cannot be right (too small or past the end).
    #[error("cell at offset {offset:#x} has an impossible size {size}")]
    BadCellSize {
        /// The cell offset (relative to the hive bins data).
        offset: u32,
        /// The size field as stored.
        size: i32,
    },
    /// Nested subkey index lists or a key tree went deeper than any real hive does.
    #[error(
        "structure at offset {offset:#x} nests deeper than {limit} levels (loop or hostile hive)"
    )]
    TooDeep {
        /// The cell where the limit was hit.
        offset: u32,
        /// The depth limit.
        limit: usize,
    },
    /// A subkey list names more keys than the hive has room for (a list repeated
    /// through an index root).
    #[error(
        "subkey list at offset {offset:#x} exceeds {limit} entries, more than the hive can hold"
    )]
    ListTooLong {
        /// The list cell where the limit was hit.
        offset: u32,
        /// The limit (hive bins data size / 8).
        limit: usize,
    },
    /// A key node claims more subkeys or values than its list holds: the rest
    /// were lost to damage, so an absent name cannot be called absent.
    #[error("key node at offset {offset:#x} claims {claimed} {what}s but its list holds {listed}")]
    CountMismatch {
        /// The key node.
        offset: u32,
        /// `subkey` or `value`.
        what: &'static str,
        /// The count the node states.
        claimed: u32,
        /// Entries its list holds.
        listed: usize,
    },
    /// A key reached a second time while walking the tree: a subkey list points
    /// back at an ancestor or repeats a key.
    #[error(
        "key node at offset {offset:#x} is reached twice (subkey list cycle); not entered again"
    )]
    Cycle {
        /// The key node reached again.
        offset: u32,
    },
    /// A value list names the same value record more than once: the value is read
    /// once (a list repeating one big value could otherwise multiply it without
    /// bound).
    #[error(
        "value list of key node at offset {key:#x} names value record {value:#x} {times} times; read once"
    )]
    ValueRepeated {
        /// The key node.
        key: u32,
        /// The value record named more than once.
        value: u32,
        /// How often the list names it.
        times: usize,
    },
    /// A value claims more data than the whole hive bins data holds.
    #[error(
        "value at offset {offset:#x} claims {size} bytes of data, more than the {limit} bytes of hive bins data"
    )]
    DataTooLarge {
        /// The value record.
        offset: u32,
        /// The size it claims.
        size: u64,
        /// The hive bins data size.
        limit: u64,
    },
    /// A big data segment list names one cell twice, or cells that overlap: the
    /// same bytes would be counted more than once.
    #[error(
        "big data segment list at offset {offset:#x} names cell {segment:#x} twice or overlapping another segment"
    )]
    SegmentReused {
        /// The segment list cell.
        offset: u32,
        /// The segment cell met again.
        segment: u32,
    },
    /// A value says its data is resident in the record (bit 31 of the size) but
    /// claims more than the 4 bytes that field holds.
    #[error("value at offset {offset:#x} claims {size} bytes of resident data, at most 4 fit")]
    ResidentTooLong {
        /// The value record.
        offset: u32,
        /// The size claimed (flag removed).
        size: u32,
    },
    /// A key path given to `open_key` nests deeper than any key can.
    #[error("invalid key path {0:?}")]
    BadPath(String),
}

/// Shorthand used throughout the crate.
pub type Result<T> = std::result::Result<T, Error>;
