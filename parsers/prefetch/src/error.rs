//! The crate's single error type. Every variant says where in the input it happened
//! and what was expected there, so a row in `errors.csv` is enough to locate the damage.

/// Everything that can go wrong while decompressing or parsing a Prefetch file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Neither an `SCCA` signature at offset 4 nor a `MAM` header at offset 0.
    #[error(
        "not a Prefetch file: expected signature \"SCCA\" at offset 4 or a compressed \
         \"MAM\\x04\" header at offset 0, found {found:02x?} at offset 0"
    )]
    NotPrefetch {
        /// Up to the first 8 bytes of the input.
        found: Vec<u8>,
    },

    /// An SCCA file whose format version this crate does not know.
    #[error(
        "unsupported Prefetch format version {version} at offset 0 (expected 17, 23, 26, 30 or 31)"
    )]
    UnsupportedVersion {
        /// The version field as found.
        version: u32,
    },

    /// A `MAM` header whose format byte is not plain LZXPRESS Huffman (0x04).
    #[error(
        "unsupported MAM compression format 0x{format:02x} at offset 3 \
         (expected 0x04, LZXPRESS Huffman without checksum)"
    )]
    UnsupportedMamFormat {
        /// The fourth header byte.
        format: u8,
    },

    /// A structure runs past the end of the data.
    #[error("{what} at offset {offset} needs {needed} bytes but only {available} are left")]
    Truncated {
        /// The structure being read.
        what: &'static str,
        /// Where it starts.
        offset: usize,
        /// How many bytes it needs.
        needed: usize,
        /// How many bytes the input has from `offset` on.
        available: usize,
    },

    /// The stated uncompressed size is larger than this input could ever produce
    /// or than the crate's hard limit; refusing avoids allocating on a lie.
    #[error("stated uncompressed size {stated} exceeds the limit of {limit} bytes ({why})")]
    SizeLimit {
        /// The size the header claims.
        stated: u64,
        /// The largest size accepted for this input.
        limit: u64,
        /// Which limit applied.
        why: &'static str,
    },

    /// A Huffman code-length table that does not describe a usable prefix code.
    #[error("invalid Huffman table at compressed offset {offset}: {reason}")]
    HuffmanTable {
        /// Offset of the 256-byte table in the compressed data.
        offset: usize,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// The compressed bit stream is damaged.
    #[error(
        "corrupt LZXPRESS Huffman stream near compressed offset {offset} \
         (output position {output}): {reason}"
    )]
    CorruptStream {
        /// Approximate position in the compressed data.
        offset: usize,
        /// Bytes already produced.
        output: usize,
        /// What was found instead of a valid code.
        reason: &'static str,
    },

    /// The decompressed data does not have the length the header states.
    #[error("decompressed {produced} bytes but the header states {stated}")]
    SizeMismatch {
        /// The size from the header.
        stated: usize,
        /// The size the stream actually produced.
        produced: usize,
    },

    /// A field whose value cannot be what it stands for: a time that is no date,
    /// an offset no known layout has. Collected in [`crate::Prefetch::damaged`];
    /// what depends on it is left out or named there as uncertain.
    #[error("{what} at offset {offset} holds {value:#x}, which {why}")]
    Implausible {
        /// The field.
        what: &'static str,
        /// Where it is.
        offset: usize,
        /// Its raw value.
        value: u64,
        /// Why it cannot be right, and what was done about it.
        why: &'static str,
    },

    /// A counted sub-record (volume, string) that could not be read; collected in
    /// [`crate::Prefetch::damaged`] while the rest of the file is still reported.
    #[error("{what} #{index} damaged: {source}")]
    Damaged {
        /// Which kind of sub-record.
        what: &'static str,
        /// Its index in its table.
        index: usize,
        /// Why it could not be read.
        source: Box<Error>,
    },
}
