//! The volume information section: one fixed-size entry per volume the program
//! touched, each pointing (relative to the section start) at the volume's device
//! path and at its list of directory strings.
//!
//! Entry fields used (same first 36 bytes in every version, libscca's format
//! document): device path offset u32, device path length in UTF-16 units u32,
//! creation FILETIME, serial number u32, file references offset and size, directory
//! strings offset u32 and count u32. A directory string is a u16 length in UTF-16
//! units, the units, and a NUL unit.

use filetime::Filetime;

use crate::reader::{utf16le, Reader};
use crate::{Error, Volume};

/// Reads `count` entries of the volume section at `section`. An entry that cannot
/// be read is recorded in `damaged`; reading stops at the first entry that lies
/// (partly) outside the file, since no later one can be inside it, so a huge count
/// from a damaged header costs nothing.
pub(crate) fn read_volumes(
    file: Reader<'_>,
    section: usize,
    count: usize,
    entry_len: usize,
    damaged: &mut Vec<Error>,
) -> Vec<Volume> {
    let mut volumes = Vec::new();
    for index in 0..count {
        let entry = index
            .checked_mul(entry_len)
            .and_then(|o| o.checked_add(section))
            .unwrap_or(usize::MAX);
        let result = file
            .slice(entry, entry_len, "volume information entry")
            .and_then(|_| read_volume(file, section, entry));
        match result {
            Ok(volume) => volumes.push(volume),
            Err(e) => {
                let outside = entry.saturating_add(entry_len) > file.len();
                damaged.push(Error::Damaged {
                    what: "volume",
                    index,
                    source: Box::new(e),
                });
                if outside {
                    break;
                }
            }
        }
    }
    volumes
}

/// Reads the volume entry at `entry`; its offsets are relative to `section`.
fn read_volume(file: Reader<'_>, section: usize, entry: usize) -> Result<Volume, Error> {
    let path_offset = file.usize_at(entry, "volume device path offset")?;
    let path_units = file.usize_at(entry + 4, "volume device path length")?;
    let created: Filetime = file.filetime_at(entry + 8, "volume creation time")?;
    let serial = file.u32_at(entry + 16, "volume serial number")?;
    let dirs_offset = file.usize_at(entry + 28, "directory strings offset")?;
    let dirs_count = file.usize_at(entry + 32, "number of directory strings")?;

    let path_bytes = file.slice(
        section.saturating_add(path_offset),
        path_units.saturating_mul(2),
        "volume device path",
    )?;
    let directories = read_directories(file, section.saturating_add(dirs_offset), dirs_count)?;
    Ok(Volume {
        device_path: utf16le(path_bytes),
        serial,
        created,
        directories,
    })
}

/// Reads `count` length-prefixed directory strings starting at `offset`. The count
/// comes from the file, so the vector grows only as strings are actually read.
fn read_directories(
    file: Reader<'_>,
    mut offset: usize,
    count: usize,
) -> Result<Vec<String>, Error> {
    let mut directories = Vec::new();
    for _ in 0..count {
        let units = usize::from(file.u16_at(offset, "directory string length")?);
        let text = file.slice(offset.saturating_add(2), units * 2, "directory string")?;
        directories.push(utf16le(text));
        // Length prefix, the units, and the NUL unit after them.
        offset = offset.saturating_add(2 + units * 2 + 2);
    }
    Ok(directories)
}
