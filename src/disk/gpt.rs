//! GUID partition tables.
//!
//! The header at LBA 1 (512-byte sectors, or LBA 1 of a 4096-byte-sector disk) is
//! checked with its CRC32, then the entry array with its own CRC32. If the primary
//! header is damaged the backup at the disk's last LBA is used, with a warning.

use super::{DiskError, FsKind, Partition};
use crate::evidence::ReadAt;

const SIGNATURE: &[u8; 8] = b"EFI PART";
/// Entry arrays larger than this are not real (128 entries of 128 bytes is normal).
const MAX_ARRAY_BYTES: u64 = 1 << 20;

/// Header fields we use.
struct Header {
    entries_lba: u64,
    entry_count: u32,
    entry_size: u32,
    entries_crc: u32,
}

/// Reads the GPT, preferring the primary header and falling back to the backup.
pub fn read(disk: &dyn ReadAt) -> Result<(Vec<Partition>, Vec<String>), DiskError> {
    let mut warnings = Vec::new();
    let mut problems = Vec::new();
    for sector in [512u64, 4096] {
        let last_lba = (disk.len() / sector).saturating_sub(1);
        for (which, lba) in [("primary", 1u64), ("backup", last_lba)] {
            match read_header(disk, sector, lba).and_then(|h| read_entries(disk, sector, &h)) {
                Ok(parts) => {
                    if which == "backup" {
                        warnings.push(format!(
                            "primary GPT header damaged ({}); used the backup",
                            problems.join("; ")
                        ));
                    }
                    return Ok((parts, warnings));
                }
                Err(e) => problems.push(format!("{which} header ({sector}-byte sectors): {e}")),
            }
        }
    }
    Err(DiskError::Damaged(format!(
        "protective MBR present but no valid GPT: {}",
        problems.join("; ")
    )))
}

fn read_header(disk: &dyn ReadAt, sector: u64, lba: u64) -> Result<Header, String> {
    let mut raw = [0u8; 512];
    disk.read_exact_at(&mut raw, lba.saturating_mul(sector))
        .map_err(|e| e.to_string())?;
    if &raw[..8] != SIGNATURE {
        return Err("no 'EFI PART' signature".into());
    }
    let u32_at = |o: usize| u32::from_le_bytes([raw[o], raw[o + 1], raw[o + 2], raw[o + 3]]);
    let u64_at = |o: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&raw[o..o + 8]);
        u64::from_le_bytes(b)
    };
    let header_size = u32_at(12) as usize;
    if !(92..=512).contains(&header_size) {
        return Err(format!("header size {header_size} out of range"));
    }
    let stored_crc = u32_at(16);
    let mut covered = raw[..header_size].to_vec();
    covered[16..20].fill(0);
    let actual = crc32fast::hash(&covered);
    if actual != stored_crc {
        return Err(format!(
            "header CRC32 {actual:08x} does not match stored {stored_crc:08x}"
        ));
    }
    Ok(Header {
        entries_lba: u64_at(72),
        entry_count: u32_at(80),
        entry_size: u32_at(84),
        entries_crc: u32_at(88),
    })
}

fn read_entries(disk: &dyn ReadAt, sector: u64, header: &Header) -> Result<Vec<Partition>, String> {
    let entry_size = u64::from(header.entry_size);
    if entry_size < 128 || entry_size % 8 != 0 {
        return Err(format!("entry size {entry_size} invalid"));
    }
    let array_len = entry_size * u64::from(header.entry_count);
    if array_len > MAX_ARRAY_BYTES {
        return Err(format!("entry array of {array_len} bytes is implausible"));
    }
    let mut array = vec![0u8; array_len as usize];
    disk.read_exact_at(&mut array, header.entries_lba.saturating_mul(sector))
        .map_err(|e| format!("entry array: {e}"))?;
    let actual = crc32fast::hash(&array);
    if actual != header.entries_crc {
        return Err(format!(
            "entry array CRC32 {actual:08x} does not match stored {:08x}",
            header.entries_crc
        ));
    }
    let mut parts = Vec::new();
    for raw in array.chunks_exact(entry_size as usize) {
        let type_guid = &raw[..16];
        if type_guid.iter().all(|&b| b == 0) {
            continue;
        }
        let first = u64::from_le_bytes(raw[32..40].try_into().unwrap_or_default());
        let last = u64::from_le_bytes(raw[40..48].try_into().unwrap_or_default());
        if last < first {
            continue;
        }
        let name_units: Vec<u16> = raw[56..128]
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .take_while(|&u| u != 0)
            .collect();
        let name = String::from_utf16_lossy(&name_units);
        let guid = format_guid(type_guid);
        parts.push(Partition {
            number: 0,
            offset: first.saturating_mul(sector),
            length: (last - first + 1).saturating_mul(sector),
            type_description: format!("{guid} {}", type_name(&guid)),
            name: (!name.is_empty()).then_some(name),
            logical: false,
            fs: FsKind::Unknown,
        });
    }
    Ok(parts)
}

/// Mixed-endian GUID text as Windows prints it.
fn format_guid(b: &[u8]) -> String {
    format!(
        "{:02X}{:02X}{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}{:02X}{:02X}{:02X}{:02X}",
        b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]
    )
}

fn type_name(guid: &str) -> &'static str {
    match guid {
        "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7" => "Microsoft basic data",
        "E3C9E316-0B5C-4DB8-817D-F92DF00215AE" => "Microsoft reserved",
        "DE94BBA4-06D1-4D40-A16A-BFD50179D6AC" => "Windows recovery",
        "C12A7328-F81F-11D2-BA4B-00A0C93EC93B" => "EFI system",
        "0FC63DAF-8483-4772-8E79-3D69D8477DE4" => "Linux filesystem",
        _ => "",
    }
}
