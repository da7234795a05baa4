//! The crate's one error type.

use thiserror::Error;

/// A problem met while walking a journal. Every variant carries the stream offset it
/// concerns so a damaged spot can be found again with a hex editor.
#[derive(Debug, Error)]
pub enum RecordError {
    /// A run of bytes that is neither zero padding nor a plausible record. Scanning
    /// resumes at the first 8-byte boundary after it that looks like a record again.
    #[error("damaged journal bytes at offset {offset} ({length} bytes): {reason}")]
    Damaged {
        /// Stream offset of the first damaged byte.
        offset: u64,
        /// Length of the damaged run in bytes (a multiple of 8 unless at the end).
        length: u64,
        /// What was wrong with the first record header of the run.
        reason: &'static str,
    },
    /// A record header whose stated length runs past the end of the input.
    #[error("record at offset {offset} claims {record_length} bytes but only {available} remain")]
    Truncated {
        /// Stream offset of the record header.
        offset: u64,
        /// The record length the header states.
        record_length: u32,
        /// Bytes actually left in the input.
        available: u64,
    },
    /// Reading the underlying stream failed; the stream ends after this error.
    #[error("read error at stream offset {offset}: {source}")]
    Io {
        /// Stream offset the failed read started at.
        offset: u64,
        /// The error from the reader.
        #[source]
        source: std::io::Error,
    },
}
