//! DOS/MBR partition tables, with logical partitions chained through EBRs.
//!
//! Layout: four 16-byte entries at byte 446 and the `55 AA` signature at 510.
//! An extended partition (type 0x05, 0x0F or 0x85) holds a chain of EBRs; in each,
//! entry 0 is a logical partition relative to that EBR and entry 1 points to the
//! next EBR relative to the start of the extended partition.

use std::collections::HashSet;

use super::{DiskError, FsKind, Partition, SECTOR};
use crate::evidence::ReadAt;

/// Partition type of a GPT protective MBR entry.
pub const GPT_PROTECTIVE: u8 = 0xEE;
const EXTENDED_TYPES: [u8; 3] = [0x05, 0x0F, 0x85];
/// More logical partitions than this means a looping or hostile chain.
const MAX_LOGICAL: usize = 256;

/// One decoded 16-byte entry.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    /// Partition type byte.
    pub kind: u8,
    /// First sector, relative to whatever the entry is relative to.
    pub start: u64,
    /// Length in sectors.
    pub sectors: u64,
}

/// True if the sector ends in `55 AA`.
pub fn has_boot_signature(sector: &[u8]) -> bool {
    sector.get(510..512) == Some(&[0x55, 0xAA])
}

/// The four primary entries (unused ones have `kind == 0`).
pub fn primary_entries(sector: &[u8]) -> Vec<Entry> {
    (0..4)
        .filter_map(|i| sector.get(446 + i * 16..446 + (i + 1) * 16))
        .map(|raw| Entry {
            kind: raw[4],
            start: u64::from(u32::from_le_bytes([raw[8], raw[9], raw[10], raw[11]])),
            sectors: u64::from(u32::from_le_bytes([raw[12], raw[13], raw[14], raw[15]])),
        })
        .collect()
}

/// Primary and logical partitions, in table order (primaries first, then logicals).
pub fn read(
    disk: &dyn ReadAt,
    sector0: &[u8],
    warnings: &mut Vec<String>,
) -> Result<Vec<Partition>, DiskError> {
    let mut parts = Vec::new();
    let mut extended = None;
    for entry in primary_entries(sector0) {
        if entry.kind == 0 || entry.sectors == 0 {
            continue;
        }
        if EXTENDED_TYPES.contains(&entry.kind) {
            if extended.is_some() {
                warnings
                    .push("more than one extended partition; only the first is followed".into());
            } else {
                extended = Some(entry);
            }
            continue;
        }
        parts.push(partition(entry, 0, false));
    }
    if let Some(ext) = extended {
        read_logical(disk, ext, &mut parts, warnings);
    }
    Ok(parts)
}

fn read_logical(
    disk: &dyn ReadAt,
    ext: Entry,
    parts: &mut Vec<Partition>,
    warnings: &mut Vec<String>,
) {
    let mut seen = HashSet::new();
    let mut ebr = ext.start;
    for _ in 0..MAX_LOGICAL {
        if !seen.insert(ebr) {
            warnings.push(format!("EBR chain loops back to sector {ebr}; stopped"));
            return;
        }
        let mut sector = [0u8; SECTOR as usize];
        if let Err(e) = disk.read_exact_at(&mut sector, ebr.saturating_mul(SECTOR)) {
            warnings.push(format!("EBR at sector {ebr} unreadable: {e}"));
            return;
        }
        if !has_boot_signature(&sector) {
            warnings.push(format!(
                "EBR at sector {ebr} has no 55AA signature; chain ends"
            ));
            return;
        }
        let entries = primary_entries(&sector);
        if let Some(logical) = entries.first().filter(|e| e.kind != 0 && e.sectors > 0) {
            parts.push(partition(*logical, ebr, true));
        }
        // A link of start 0 names the first EBR again: a loop, said as one.
        match entries.get(1).filter(|e| e.kind != 0) {
            Some(next) => ebr = ext.start.saturating_add(next.start),
            None => return,
        }
    }
    warnings.push(format!(
        "more than {MAX_LOGICAL} logical partitions; stopped"
    ));
}

fn partition(entry: Entry, base_sector: u64, logical: bool) -> Partition {
    Partition {
        number: 0,
        offset: base_sector
            .saturating_add(entry.start)
            .saturating_mul(SECTOR),
        length: entry.sectors.saturating_mul(SECTOR),
        type_description: format!("0x{:02x} {}", entry.kind, type_name(entry.kind)),
        name: None,
        logical,
        fs: FsKind::Unknown,
    }
}

fn type_name(kind: u8) -> &'static str {
    match kind {
        0x01 | 0x04 | 0x06 | 0x0B | 0x0C | 0x0E => "FAT",
        0x07 => "NTFS/exFAT",
        0x27 => "Windows recovery",
        0x82 => "Linux swap",
        0x83 => "Linux",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A partition entry: type, start and length in sectors.
    fn entry(sector: &mut [u8], index: usize, kind: u8, start: u32, sectors: u32) {
        let at = 446 + index * 16;
        sector[at + 4] = kind;
        sector[at + 8..at + 12].copy_from_slice(&start.to_le_bytes());
        sector[at + 12..at + 16].copy_from_slice(&sectors.to_le_bytes());
        sector[510..512].copy_from_slice(&[0x55, 0xAA]);
    }

    /// An EBR whose link names the first EBR again (start 0 within the extended
    /// partition) was taken for the chain's end, without a word.
    #[test]
    fn an_ebr_link_back_to_the_first_is_a_loop_and_said() {
        let mut disk = vec![0u8; 200 * 512];
        entry(&mut disk[..512], 0, 0x05, 100, 90);
        let ebr = &mut disk[100 * 512..101 * 512];
        entry(ebr, 0, 0x07, 10, 20);
        entry(ebr, 1, 0x05, 0, 20);
        let sector0 = disk[..512].to_vec();
        let mut warnings = Vec::new();
        let parts = read(&disk, &sector0, &mut warnings).unwrap();
        assert_eq!(parts.len(), 1);
        assert_eq!(warnings, ["EBR chain loops back to sector 100; stopped"]);
        // A link of type 0 ends the chain quietly, as it should.
        entry(&mut disk[100 * 512..101 * 512], 1, 0, 0, 0);
        let mut warnings = Vec::new();
        assert_eq!(read(&disk, &sector0, &mut warnings).unwrap().len(), 1);
        assert!(warnings.is_empty(), "{warnings:?}");
    }
}
