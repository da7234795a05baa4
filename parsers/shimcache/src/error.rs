//! The crate's one error type: fatal for the blob as a whole from [`crate::parse`],
//! or collected per entry in [`crate::ShimCache::problems`].

use thiserror::Error;

/// Something wrong with a blob or one of its entries.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum Error {
    /// No known header signature; the first four bytes are given.
    #[error("unknown AppCompatCache format (first u32 {first_u32:#010x}, {len} bytes)")]
    UnknownFormat {
        /// Little-endian u32 at offset 0 (0 if the blob is shorter).
        first_u32: u32,
        /// Blob length.
        len: usize,
    },
    /// The header is cut short.
    #[error("blob of {len} bytes is shorter than the {needed}-byte header")]
    TruncatedHeader {
        /// Blob length.
        len: usize,
        /// Bytes the detected format's header needs.
        needed: usize,
    },
    /// The header's entry count does not fit in the blob; only what fits is read.
    #[error("header says {count} entries but the blob has room for {room}")]
    CountExceedsBlob {
        /// Count from the header.
        count: u32,
        /// Entries that fit.
        room: usize,
    },
    /// The header's entry count differs from the entries found (Windows 10 formats).
    #[error("header says {count} entries but {found} were found")]
    CountMismatch {
        /// Count from the header.
        count: u32,
        /// Entries found.
        found: usize,
    },
    /// An entry record does not fit in the blob or its fields do not fit in the record.
    #[error("entry {position} at offset {offset}: {what}")]
    BadEntry {
        /// Position of the entry in cache order.
        position: u32,
        /// Offset of the entry record in the blob.
        offset: usize,
        /// What did not fit.
        what: &'static str,
    },
    /// A Windows 8+ entry without its `00ts`/`10ts` tag where one was expected.
    #[error("entry {position} at offset {offset}: signature {found:?} is not {expected:?}")]
    BadSignature {
        /// Position the entry would have had.
        position: u32,
        /// Offset of the bad tag.
        offset: usize,
        /// Bytes found.
        found: [u8; 4],
        /// Tag of this format.
        expected: [u8; 4],
    },
    /// A Windows 8+ entry that could not be read and whose record size cannot be
    /// trusted to find the next one: the bytes from it to the next readable entry
    /// (or to the end of the blob, when none follows) were skipped.
    #[error("{cause}; {} bytes skipped ({offset}..{end}){}", .end - .offset, skipped_to(*.resumed))]
    Skipped {
        /// Why the entry could not be read ([`Error::BadSignature`] or
        /// [`Error::BadEntry`]).
        cause: Box<Error>,
        /// Offset of the damaged entry.
        offset: usize,
        /// Offset where reading resumed, or the blob length.
        end: usize,
        /// Whether an entry was found at `end`.
        resumed: bool,
    },
    /// Non-zero bytes after the last entry (Windows pads the value with zeros).
    #[error("{len} bytes after the last entry at offset {offset} are not zero padding")]
    TrailingData {
        /// Offset after the last entry.
        offset: usize,
        /// Bytes from there to the end.
        len: usize,
    },
}

/// The end of an [`Error::Skipped`] message.
fn skipped_to(resumed: bool) -> &'static str {
    if resumed {
        " to the next entry"
    } else {
        ", the rest of the blob: no further entry in it"
    }
}
