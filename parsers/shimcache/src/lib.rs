//! AppCompatCache ("ShimCache") value blobs from
//! `HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\AppCompatCache`
//! (`AppCompatibility\AppCompatCache` on XP).
//!
//! Windows records here executables (and on XP some DLLs) that the application
//! compatibility layer looked at: full path, the file's last-modified time from the
//! file system, and depending on the version a file size, insert flags (whose bit
//! `0x2` means the process was actually executed, Vista to 8.1) and an opaque data
//! blob. Entries are kept in most-recently-used order (XP: fixed slots plus an LRU
//! index array), and the whole value is written at shutdown.
//!
//! Layouts, in our own words (all little-endian):
//!
//! | format | header | entry |
//! |---|---|---|
//! | XP 32-bit | `0xDEADBEEF`, slot count @4, used count @8, LRU array; 400 bytes | 552-byte slot: NUL-terminated path WCHAR[264], last modified @528, file size @536, last update @544 |
//! | 2003, Vista/2008 | `0xBADC0FFE`, count @4; 8 bytes | 32-bit 24 bytes: path length u16, max u16, path offset u32, last modified, then file size u64 (2003) or insert + shim flags u32 (Vista); 64-bit 32 bytes: 4 padding bytes and a u64 path offset |
//! | 7/2008 R2 | `0xBADC0FEE`, count @4; 128 bytes | as Vista plus data size and data offset (u32 each on 32-bit, 24+8 = 32 bytes; u64 each on 64-bit, 48 bytes) |
//! | 8.0, 8.1 | 128 bytes, first u32 0 (8.0) or 0x80 (8.1) | tag `00ts`/`10ts`, checksum u32, record size u32 (bytes after it), path length u16, path, package length u16, package, insert flags u32, shim flags u32, last modified, data size u32, data |
//! | 10 | header size 0x30, count @0x24 | tag `10ts`, checksum, record size, path length, path, last modified, data size u32, data |
//! | 10 Creators+, 11 | header size 0x34, count @0x28 | as Windows 10 |
//!
//! Paths are kept as stored (including any `\??\` prefix). On Windows 10 and later a
//! packaged (Store) app is recorded not by path but by its identity: tab-separated
//! fields starting with eight hex digits, e.g.
//! `0000000b<TAB>...<TAB>8664<TAB>windows.immersivecontrolpanel<TAB>cw5n1h2txyewy<TAB>neutral`.
//! Unused space after the entries is zero.
//!
//! Sources: Andrew Davis (Mandiant), "Leveraging the Application Compatibility Cache
//! in Forensic Investigations" (2012) and its ShimCacheParser; Eric Zimmerman's
//! AppCompatCacheParser (format handling and its unit-test expectations, used as our
//! oracle); libyal winreg-kb "Application Compatibility Cache key"; the blobs in the
//! corpus read by hand.

// Parsers read hostile bytes: a panic would cost the whole scan, so every
// fallible step returns an error (tests may unwrap: clippy.toml).
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod error;
mod format;
mod table;
mod tagged;

use filetime::Filetime;

pub use error::Error;
pub use format::Format;

/// Result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A parsed AppCompatCache value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShimCache {
    /// Layout detected from the blob.
    pub format: Format,
    /// Entry count stated by the header, where the format has one (not 8.0/8.1).
    pub header_entry_count: Option<u32>,
    /// Entries in cache order.
    pub entries: Vec<Entry>,
    /// Damage met on the way; entries that could be read are still returned.
    pub problems: Vec<Error>,
}

/// One cached file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Entry {
    /// 0-based position in cache order (XP: slot number).
    pub position: u32,
    /// Offset of the entry record in the blob.
    pub offset: usize,
    /// Full path as stored.
    pub path: String,
    /// The file's last-modified time ($STANDARD_INFORMATION) when it was cached.
    pub last_modified: Filetime,
    /// XP only: when the cache entry was last updated.
    pub last_update: Option<Filetime>,
    /// XP and Server 2003: the file's size.
    pub file_size: Option<u64>,
    /// Vista to 8.1: the insert flags as stored.
    pub insert_flags: Option<u32>,
    /// Vista to 8.1: insert flag `0x2` (the process was executed). `None` where the
    /// format has no such flag (XP, 2003, 10, 11).
    pub executed: Option<bool>,
    /// Windows 7 and later: size of the entry's opaque data blob.
    pub data_size: Option<u64>,
}

/// Insert flag meaning the file was executed (Vista to 8.1).
const INSERT_FLAG_EXECUTED: u32 = 0x2;

impl Entry {
    fn with_insert_flags(mut self, flags: u32) -> Self {
        self.insert_flags = Some(flags);
        self.executed = Some(flags & INSERT_FLAG_EXECUTED != 0);
        self
    }
}

/// Parses one AppCompatCache value, detecting its format from the blob itself.
///
/// Fails only when the format is unknown or the header is cut; damaged entries are
/// reported in [`ShimCache::problems`] and the rest are still returned. This keeps
/// every entry in memory: a caller that writes entries out as it goes should use
/// [`entries`], which holds one at a time.
pub fn parse(blob: &[u8]) -> Result<ShimCache> {
    let walk = entries(blob)?;
    let (format, header_entry_count) = (walk.format(), walk.header_entry_count());
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    for item in walk {
        match item {
            Ok(entry) => entries.push(entry),
            Err(problem) => problems.push(problem),
        }
    }
    Ok(ShimCache {
        format,
        header_entry_count,
        entries,
        problems,
    })
}

/// Reads one AppCompatCache value entry by entry, detecting its format from the
/// blob itself.
///
/// Fails only when the format is unknown or the header is cut. The iterator then
/// yields, in blob order, each entry (`Ok`) and each piece of damage met on the way
/// (`Err`, never fatal: the entries after it still come). A blob can hold millions
/// of entries; nothing here grows with their number.
pub fn entries(blob: &[u8]) -> Result<Entries<'_>> {
    match format::family(blob) {
        Some(format::Family::Xp) => table::xp(blob),
        Some(format::Family::Nt52OrVista) => table::nt52_vista(blob),
        Some(format::Family::Win7) => table::win7(blob),
        Some(format::Family::Tagged(format)) => tagged::walk(blob, format),
        None => Err(Error::UnknownFormat {
            first_u32: binview::View::new(blob).u32_at(0).unwrap_or(0),
            len: blob.len(),
        }),
    }
}

/// The entries of one value, read as they are asked for (see [`entries`]).
pub struct Entries<'a> {
    format: Format,
    header_entry_count: Option<u32>,
    walk: Walk<'a>,
}

/// The two ways through a blob: a fixed-size table or a chain of tagged records.
enum Walk<'a> {
    Table(table::Table<'a>),
    Tagged(tagged::Tagged<'a>),
}

impl Entries<'_> {
    /// Layout detected from the blob.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Entry count stated by the header, where the format has one (not 8.0/8.1).
    pub fn header_entry_count(&self) -> Option<u32> {
        self.header_entry_count
    }
}

impl Iterator for Entries<'_> {
    type Item = Result<Entry, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.walk {
            Walk::Table(table) => table.next(),
            Walk::Tagged(tagged) => tagged.next(),
        }
    }
}
