//! NTFS: open a volume, find files by path, list directories, read streams.
//!
//! Our own reader, written after the `ntfs` crate (0.4) fell short in ways a
//! forensic tool cannot work around from outside: it cannot open a `$MFT` whose
//! `$DATA` is spread over extension records through an attribute list (its issue
//! #32; the record constructor it would take to fix is private), it returns the
//! raw on-disk bytes of LZNT1-compressed files, and it panics when a lookup runs
//! before the upcase table is loaded. Here every structure is read through
//! bounds-checked views, every damaged record is an error value, and files are read
//! through [`Stream`], which handles sparse, compressed and partly initialised data.

mod attribute;
mod boot;
mod file;
mod index;
mod le;
mod lznt1;
mod record;
mod runs;
mod stream;
mod volume;

pub use attribute::{FileName, StandardInformation};
pub use boot::BootSector;
pub use file::{FileEntry, StreamInfo};
pub use index::IndexEntry;
pub use stream::{Extent, Stream};
pub use volume::{is_listed_name, Volume};

/// Parses one raw MFT record (fixups not yet applied) on its own, without
/// following an attribute list: what a `$MFT` extracted from a system yields.
pub fn parse_record(number: u64, raw: Vec<u8>) -> Result<FileEntry, String> {
    let record = record::Record::from_raw(number, raw)?;
    let mut problems: Vec<String> = record.misplaced_problem().into_iter().collect();
    let mut attributes = Vec::new();
    for attr in record.attributes() {
        match attr {
            Ok(a) => attributes.push(a),
            Err(e) => problems.push(e),
        }
    }
    Ok(FileEntry::new(&record, attributes, problems))
}

/// Record numbers of the metadata files toolmark reads.
pub mod known {
    /// `$MFT`.
    pub const MFT: u64 = 0;
    /// `$Volume` (label, version).
    pub const VOLUME: u64 = 3;
    /// The root directory.
    pub const ROOT: u64 = 5;
    /// `$Bitmap`: one bit per cluster, set when allocated.
    pub const BITMAP: u64 = 6;
    /// `$UpCase`: the case-folding table names are compared with.
    pub const UPCASE: u64 = 10;
}

/// Errors reading an NTFS volume.
#[derive(Debug, thiserror::Error)]
pub enum NtfsError {
    /// The underlying image could not be read.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The boot sector is not a usable NTFS boot sector.
    #[error("NTFS boot sector: {0}")]
    BootSector(String),
    /// An MFT record is damaged.
    #[error("MFT record {record}: {reason}")]
    Record {
        /// Record number.
        record: u64,
        /// What is wrong.
        reason: String,
    },
    /// No file at that path.
    #[error("not found: {0}")]
    NotFound(String),
    /// No file at that path as far as a damaged directory index shows.
    #[error("not found: {path}, but the index of {directory} is damaged: {problems}")]
    DamagedIndex {
        /// The path looked up.
        path: String,
        /// The directory whose index is damaged.
        directory: String,
        /// What is wrong with the index.
        problems: String,
    },
    /// A path component is a file, not a directory.
    #[error("not a directory: {0}")]
    NotADirectory(String),
    /// The file has no stream of that name.
    #[error("{path}: no stream named '{stream}'")]
    NoSuchStream {
        /// File path.
        path: String,
        /// Stream name asked for.
        stream: String,
    },
}
