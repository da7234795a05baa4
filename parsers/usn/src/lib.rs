//! NTFS change journal (`$Extend\$UsnJrnl:$J`) records.
//!
//! The `$J` data stream is an append-only log of `USN_RECORD` structures. A record's
//! update sequence number (USN) is the offset at which it was written into the
//! stream, so USNs grow strictly along the stream. Windows deallocates old pages from
//! the front of the stream, which leaves a long sparse run of zeros before the first
//! live record; tools that extract `$J` often drop that run, in which case every
//! record's USN equals its offset in the extract plus one constant.
//!
//! The stream is written in 4 KiB pages. Records are 8-byte aligned, are never split
//! across a page boundary, and the unused tail of each page is zero (checked on the
//! corpus: none of the 275,540 records of a Windows 10 journal, nor of the
//! `dfir_ntfs` sample, crosses a page boundary).
//!
//! Versions: `USN_RECORD_V2` (64-bit file references, written by NTFS), `USN_RECORD_V3`
//! (128-bit file ids, ReFS and the `FSCTL_READ_USN_JOURNAL` API), and `USN_RECORD_V4`
//! (range-tracking records without name or time, written when range tracking is on),
//! which are recognised, skipped and counted.
//!
//! Sources: Microsoft documentation of `USN_RECORD_V2`, `USN_RECORD_V3`,
//! `USN_RECORD_V4`, the `USN_REASON_*` and `FILE_ATTRIBUTE_*` constants and
//! `fsutil usn`; Maxim Suhanov's `dfir_ntfs` (whose test data and `fsutil` output the
//! tests use); the records in the corpus itself.
//!
//! Two entry points share one walk: [`records`] over a slice and [`UsnStream`] over
//! any [`std::io::Read`] with bounded memory.

// Parsers read hostile bytes: a panic would cost the whole scan, so every
// fallible step returns an error (tests may unwrap: clippy.toml).
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod error;
mod flags;
mod record;
mod scan;
mod slice;
mod stream;

pub use error::RecordError;
pub use flags::{attribute_names, reason_names, source_info_names};
pub use record::{FileReference, UsnRecord};
pub use scan::Counts;
pub use slice::{records, Records};
pub use stream::{UsnStream, DEFAULT_BLOCK_SIZE};
