//! Windows Prefetch files (`C:\Windows\Prefetch\*.pf`): which executable ran, how
//! often, its last (up to 8) run times, the volumes it touched and the files and
//! directories it loaded in its first seconds.
//!
//! Supported: SCCA format versions 17 (XP/2003), 23 (Vista/7), 26 (8.x/2012),
//! 30 (Windows 10/11, both file-information variants, see the README) and
//! 31 (Windows 11 22H2+), plain or wrapped in a `MAM\x04` container compressed with
//! LZXPRESS Huffman, which this crate decompresses itself ([`decompress`]).
//!
//! The crate is pure: bytes in, records out. It never panics on any input, and no
//! allocation exceeds what the input itself can justify. Damaged volume entries or
//! a damaged filename section do not fail the whole file; they are collected in
//! [`Prefetch::damaged`], and so are fields that cannot be right (a run time that
//! is no date, a version-30/31 metrics offset of neither layout).
//!
//! Sources: libscca's "Windows Prefetch File (PF) format" (J. Metz), Microsoft
//! [MS-XCA] for the compression, Eric Zimmerman's Prefetch and puffyCid's artemis
//! sources for the version-30/31 variants; checked against `sccainfo` (libscca) and
//! the `dissect.util` LZXPRESS Huffman decoder in this crate's tests.

// Parsers read hostile bytes: a panic would cost the whole scan, so every
// fallible step returns an error (tests may unwrap: clippy.toml).
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod error;
mod layout;
pub mod lzxpress_huffman;
mod mam;
mod reader;
mod volumes;

pub use error::Error;
pub use filetime::Filetime;
pub use mam::decompress;

use layout::{Layout, HEADER_LEN};
use reader::{utf16le_until_nul, Reader};

const SIGNATURE: &[u8; 4] = b"SCCA";
const EXECUTABLE_NAME_OFFSET: usize = 16;
const EXECUTABLE_NAME_BYTES: usize = 60;

/// One parsed Prefetch file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefetch {
    /// SCCA format version: 17, 23, 26, 30 or 31.
    pub version: u32,
    /// Executable file name as Windows stored it (upper case, at most 29 characters).
    pub executable: String,
    /// Prefetch hash, the hex part of the `.pf` file name.
    pub hash: u32,
    /// How many times the executable ran, as Windows counted it.
    pub run_count: u32,
    /// Last run times that are set, in the order Windows stored them: one slot in
    /// versions 17 and 23, eight from version 26 on. Windows writes them roughly
    /// newest first but not strictly (48 corpus files have two neighbours swapped),
    /// and an order that breaks sharply can reveal a clock change, so they are not
    /// re-sorted; use [`Prefetch::latest_run`] for the newest.
    pub last_run_times: Vec<Filetime>,
    /// The volumes the program touched.
    pub volumes: Vec<Volume>,
    /// Full paths of the files the program loaded, in file order.
    pub files: Vec<String>,
    /// Directories the program touched, all volumes together, in file order.
    pub directories: Vec<String>,
    /// True if the input was a `MAM` compressed file.
    pub was_compressed: bool,
    /// The file size field of the (uncompressed) SCCA header.
    pub size: u32,
    /// Sub-records that could not be read; everything else is still reported.
    pub damaged: Vec<Error>,
}

impl Prefetch {
    /// The newest of the last run times, whatever slot holds it.
    pub fn latest_run(&self) -> Option<Filetime> {
        self.last_run_times.iter().copied().max()
    }
}

/// One volume entry of a Prefetch file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    /// NT device path, e.g. `\DEVICE\HARDDISKVOLUME2` or `\VOLUME{...}`.
    pub device_path: String,
    /// Volume serial number.
    pub serial: u32,
    /// Volume creation time.
    pub created: Filetime,
    /// Directories on this volume that the program touched.
    pub directories: Vec<String>,
}

/// Parses a Prefetch file, decompressing it first if it is `MAM` compressed.
pub fn parse(bytes: &[u8]) -> Result<Prefetch, Error> {
    if mam::is_mam(bytes) {
        let plain = decompress(bytes)?;
        let mut prefetch = parse_scca(&plain)?;
        prefetch.was_compressed = true;
        Ok(prefetch)
    } else {
        parse_scca(bytes)
    }
}

/// Parses an uncompressed SCCA file.
fn parse_scca(bytes: &[u8]) -> Result<Prefetch, Error> {
    let file = Reader::new(bytes);
    if bytes.get(4..8) != Some(SIGNATURE.as_slice()) {
        return Err(Error::NotPrefetch {
            found: bytes.iter().take(8).copied().collect(),
        });
    }
    let version = file.u32_at(0, "format version")?;
    let size = file.u32_at(12, "file size")?;
    let executable = utf16le_until_nul(file.slice(
        EXECUTABLE_NAME_OFFSET,
        EXECUTABLE_NAME_BYTES,
        "executable name",
    )?);
    let hash = file.u32_at(76, "prefetch hash")?;

    let info = HEADER_LEN;
    let metrics_offset = file.usize_at(info, "metrics array offset")?;
    let layout = Layout::for_version(version, metrics_offset)?;
    let strings_offset = file.usize_at(info + 16, "filename strings offset")?;
    let strings_size = file.usize_at(info + 20, "filename strings size")?;
    let volumes_offset = file.usize_at(info + 24, "volumes information offset")?;
    let volume_count = file.usize_at(info + 28, "number of volumes")?;
    let run_count = file.u32_at(layout.run_count, "run count")?;
    let mut damaged = Vec::new();
    damaged.extend(layout::implausible_metrics_offset(version, metrics_offset));
    let last_run_times = last_run_times(file, &layout, &mut damaged)?;

    let files = match file.slice(strings_offset, strings_size, "filename strings") {
        Ok(section) => split_strings(section),
        Err(e) => {
            damaged.push(Error::Damaged {
                what: "filename strings section",
                index: 0,
                source: Box::new(e),
            });
            Vec::new()
        }
    };
    let volumes = volumes::read_volumes(
        file,
        volumes_offset,
        volume_count,
        layout.volume_entry_len,
        &mut damaged,
    );
    let directories = volumes
        .iter()
        .flat_map(|v| v.directories.iter().cloned())
        .collect();

    Ok(Prefetch {
        version,
        executable,
        hash,
        run_count,
        last_run_times,
        volumes,
        files,
        directories,
        was_compressed: false,
        size,
        damaged,
    })
}

/// The set last-run times, in stored slot order. A time that is no date (beyond
/// the year 9999, as 0xFFFF... and 0x7FFF... are) is left out and recorded in
/// `damaged`: it would otherwise become an empty cell that reads as "never".
fn last_run_times(
    file: Reader<'_>,
    layout: &Layout,
    damaged: &mut Vec<Error>,
) -> Result<Vec<Filetime>, Error> {
    let mut times = Vec::with_capacity(layout.last_run_slots);
    for slot in 0..layout.last_run_slots {
        let offset = layout.last_run_times + slot * 8;
        let time = file.filetime_at(offset, "last run time")?;
        if time.is_zero() {
            continue;
        }
        if time.to_timestamp().is_none() {
            damaged.push(Error::Implausible {
                what: "last run time",
                offset,
                value: time.raw(),
                why: "is not a date: left out",
            });
        } else {
            times.push(time);
        }
    }
    Ok(times)
}

/// The NUL-terminated UTF-16LE strings of the filename section. Trailing empty
/// strings are alignment padding, not names.
fn split_strings(section: &[u8]) -> Vec<String> {
    let mut strings = Vec::new();
    let mut start = 0usize;
    for (unit, pair) in section.chunks_exact(2).enumerate() {
        if pair == [0, 0] {
            let text = section.get(start..unit * 2).unwrap_or_default();
            strings.push(reader::utf16le(text));
            start = unit * 2 + 2;
        }
    }
    if start + 1 < section.len() {
        // A final name without its NUL (truncated section) is still a name.
        strings.push(reader::utf16le(section.get(start..).unwrap_or_default()));
    }
    while strings.last().is_some_and(String::is_empty) {
        strings.pop();
    }
    strings
}
