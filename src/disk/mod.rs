//! Volume systems: find the partitions of a disk and say which hold NTFS.
//!
//! A disk image may carry an MBR (with extended/logical partitions), a GPT behind a
//! protective MBR, or no table at all (a volume image). Every value read from a
//! table is checked against the image size before use; a table that points outside
//! the image is reported, not followed.

mod gpt;
mod mbr;
pub mod shadow;

use std::fmt;

use crate::evidence::ReadAt;

/// Sector size assumed for partition tables (4Kn disks are tried for GPT too).
pub const SECTOR: u64 = 512;

/// Which table described a partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scheme {
    /// Classic DOS partition table, including logical partitions in EBRs.
    Mbr,
    /// GUID partition table.
    Gpt,
    /// No partition table: the image is one volume.
    None,
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Scheme::Mbr => "MBR",
            Scheme::Gpt => "GPT",
            Scheme::None => "none",
        })
    }
}

/// File system found at the start of a partition, from its boot sector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FsKind {
    /// NTFS (`NTFS    ` OEM id).
    Ntfs,
    /// FAT12/16/32 or exFAT.
    Fat,
    /// Something else, or unreadable.
    Unknown,
}

/// One partition (or the whole image, for a bare volume).
#[derive(Clone, Debug, serde::Serialize)]
pub struct Partition {
    /// 1-based number in table order, as `--volume N` selects it.
    pub number: usize,
    /// Byte offset in the image.
    pub offset: u64,
    /// Length in bytes.
    pub length: u64,
    /// Type as the table gives it (`0x07`, a GPT type GUID and its name).
    pub type_description: String,
    /// GPT partition name, if any.
    pub name: Option<String>,
    /// True for logical partitions inside an MBR extended partition.
    pub logical: bool,
    /// File system detected from the partition's first sector.
    pub fs: FsKind,
}

/// Everything found about a disk's layout.
#[derive(Clone, Debug, serde::Serialize)]
pub struct DiskLayout {
    /// The table that was used.
    pub scheme: Scheme,
    /// Partitions in table order.
    pub partitions: Vec<Partition>,
    /// Problems seen in the tables that did not stop the scan.
    pub warnings: Vec<String>,
}

/// Why no layout could be determined.
#[derive(Debug, thiserror::Error)]
pub enum DiskError {
    /// Reading the image failed.
    #[error("reading partition tables: {0}")]
    Io(#[from] std::io::Error),
    /// A table exists but nothing usable could be read from it.
    #[error("{0}")]
    Damaged(String),
}

/// The layout warning of media that hold neither a partition table nor a file
/// system toolmark knows at offset 0: nothing Windows to read, but no damage seen
/// either (an ext2 disk, a wiped one).
pub const NOTHING_RECOGNISED: &str =
    "no partition table and no known file system boot sector at offset 0";

/// Reads the partition layout of `disk`.
pub fn scan(disk: &dyn ReadAt) -> Result<DiskLayout, DiskError> {
    let mut layout = scan_tables(disk)?;
    if let Some(why) = disk.unbacked_problem() {
        layout.warnings.push(format!(
            "{why}: volumes missing from its partition table were looked for in its first {} GiB only",
            UNBACKED_SCAN_LIMIT >> 30
        ));
    }
    Ok(layout)
}

fn scan_tables(disk: &dyn ReadAt) -> Result<DiskLayout, DiskError> {
    let mut first = [0u8; SECTOR as usize];
    disk.read_exact_at(&mut first, 0)?;
    // A volume boot record at sector 0 means there is no partition table: its boot
    // code occupies the bytes where MBR entries would be, and must not be read as
    // entries.
    if detect_fs(&first) != FsKind::Unknown {
        return Ok(bare_volume(disk, &first));
    }
    if !mbr::has_boot_signature(&first) {
        let mut layout = bare_volume(disk, &first);
        if has_ntfs_backup(disk, 0, disk.len()) {
            layout.partitions[0].fs = FsKind::Ntfs;
            layout.warnings.push(
                "no boot sector at offset 0, but an NTFS backup boot sector at the image's end: \
                 read as one NTFS volume with a damaged boot sector"
                    .into(),
            );
            return Ok(layout);
        }
        let found = signature_scan(disk);
        if !found.is_empty() {
            return Ok(found_by_signature(
                found,
                "no partition table and no file system at offset 0".into(),
            ));
        }
        layout.warnings.push(NOTHING_RECOGNISED.into());
        return Ok(layout);
    }
    let mut warnings = Vec::new();
    let entries = mbr::primary_entries(&first);
    let (scheme, table) = if entries.iter().any(|e| e.kind == mbr::GPT_PROTECTIVE) {
        (
            Scheme::Gpt,
            gpt::read(disk).map(|(parts, gpt_warnings)| {
                warnings.extend(gpt_warnings);
                parts
            }),
        )
    } else {
        (Scheme::Mbr, mbr::read(disk, &first, &mut warnings))
    };
    let mut parts = match table {
        Ok(parts) => parts,
        // A table that cannot be read does not hide the volumes behind it.
        Err(DiskError::Damaged(why)) => {
            let found = signature_scan(disk);
            if found.is_empty() {
                return Err(DiskError::Damaged(why));
            }
            return Ok(found_by_signature(found, why));
        }
        Err(e) => return Err(e),
    };
    finish(disk, &mut parts, &mut warnings);
    if !parts.iter().any(|p| p.fs == FsKind::Ntfs) {
        let found = signature_scan(disk);
        if !found.is_empty() {
            let mut layout =
                found_by_signature(found, format!("the {scheme} table names no NTFS volume"));
            warnings.append(&mut layout.warnings);
            layout.warnings = warnings;
            return Ok(layout);
        }
    }
    Ok(DiskLayout {
        scheme,
        partitions: parts,
        warnings,
    })
}

/// Where a volume scan by signature looks: the classic 63-sector start and every
/// 1 MiB boundary (where Windows has aligned partitions since Vista).
const SCAN_STEP: u64 = 1 << 20;

/// How far the signature scan looks on a disk whose size nothing backs (see
/// `ReadAt::unbacked_problem`): what a virtual disk may present beyond its files
/// before it is called so.
const UNBACKED_SCAN_LIMIT: u64 = 64 << 30;

/// NTFS volumes found by their boot sectors (or, where the boot sector is gone, a
/// backup boot sector whose stated size leads back to the start), when no usable
/// table describes them. Each volume found is skipped whole, so the cost is one
/// sector read per MiB of space outside NTFS volumes.
fn signature_scan(disk: &dyn ReadAt) -> Vec<(u64, u64)> {
    // A container presenting far more than its files store (an edited size: a
    // petabyte over megabytes) is searched only as far as such files could reach,
    // not a sector per MiB of the claim (2^30 reads for a petabyte).
    let size = match disk.unbacked_problem() {
        Some(_) => disk.len().min(UNBACKED_SCAN_LIMIT),
        None => disk.len(),
    };
    // The part of the media known to be lost (an E01 set's missing or truncated
    // end) is passed over whole: every read there would fail.
    let lost = disk.unreadable_ranges();
    let mut found = Vec::new();
    let mut boot = [0u8; SECTOR as usize];
    let mut at = 63 * SECTOR;
    // Sizes near 2^64 (a claim saturated at the end of the address space) must
    // not wrap the offsets round to the start: every step is checked.
    let step_after = |offset: u64| offset.div_ceil(SCAN_STEP).saturating_mul(SCAN_STEP);
    while at.checked_add(SECTOR).is_some_and(|end| end <= size) {
        let next = if let Some(gap) = lost.iter().find(|r| r.contains(&at)) {
            step_after(gap.end)
        } else {
            // This scan runs only where the table is already reported unusable (or
            // names no NTFS); a sector it cannot read or parse is no volume it can add.
            let mut next = step_after(at.saturating_add(1));
            if disk.read_exact_at(&mut boot, at).is_ok() && detect_fs(&boot) == FsKind::Ntfs {
                if let Ok(b) = crate::ntfs::BootSector::parse(&boot) {
                    // The volume, plus the backup boot sector that follows it.
                    let length = b.volume_size().saturating_add(b.sector_size).min(size - at);
                    found.push((at, length));
                    next = next.max(step_after(at.saturating_add(length)));
                }
            }
            next
        };
        if next <= at {
            break;
        }
        at = next;
    }
    found
}

fn found_by_signature(found: Vec<(u64, u64)>, why: String) -> DiskLayout {
    let partitions: Vec<Partition> = found
        .into_iter()
        .enumerate()
        .map(|(i, (offset, length))| Partition {
            number: i + 1,
            offset,
            length,
            type_description: "found by NTFS boot sector signature".into(),
            name: None,
            logical: false,
            fs: FsKind::Ntfs,
        })
        .collect();
    let warning = format!(
        "{why}; {} NTFS volume(s) found by boot sector signature instead",
        partitions.len()
    );
    DiskLayout {
        scheme: Scheme::None,
        partitions,
        warnings: vec![warning],
    }
}

/// True if the last sector of `offset .. offset + length` is an NTFS boot sector
/// (the backup Windows keeps at the volume's end).
fn has_ntfs_backup(disk: &dyn ReadAt, offset: u64, length: u64) -> bool {
    let mut backup = [0u8; SECTOR as usize];
    length >= 2 * SECTOR
        && disk
            .read_exact_at(&mut backup, offset + length - SECTOR)
            .is_ok()
        && detect_fs(&backup) == FsKind::Ntfs
}

fn bare_volume(disk: &dyn ReadAt, boot: &[u8]) -> DiskLayout {
    DiskLayout {
        scheme: Scheme::None,
        partitions: vec![Partition {
            number: 1,
            offset: 0,
            length: disk.len(),
            type_description: "whole image".into(),
            name: None,
            logical: false,
            fs: detect_fs(boot),
        }],
        warnings: Vec::new(),
    }
}

/// Numbers the partitions, drops those wholly outside the image, clamps the rest
/// and detects each one's file system.
fn finish(disk: &dyn ReadAt, parts: &mut Vec<Partition>, warnings: &mut Vec<String>) {
    let size = disk.len();
    parts.retain(|p| {
        let inside = p.offset < size && p.length > 0;
        if !inside {
            warnings.push(format!(
                "partition at byte {} ({} bytes) lies outside the {size}-byte image; ignored",
                p.offset, p.length
            ));
        }
        inside
    });
    for (index, part) in parts.iter_mut().enumerate() {
        part.number = index + 1;
        if part.offset.saturating_add(part.length) > size {
            warnings.push(format!(
                "partition {} runs past the end of the image; truncated to what exists",
                part.number
            ));
            part.length = size - part.offset;
        }
        let mut boot = [0u8; SECTOR as usize];
        part.fs = match disk.read_exact_at(&mut boot, part.offset) {
            Ok(()) => detect_fs(&boot),
            Err(_) => FsKind::Unknown,
        };
        if part.fs == FsKind::Unknown && has_ntfs_backup(disk, part.offset, part.length) {
            warnings.push(format!(
                "partition {}: boot sector damaged; its NTFS backup boot sector at the \
                 partition's end is used",
                part.number
            ));
            part.fs = FsKind::Ntfs;
        }
    }
    // Several entries naming the same bytes are one volume, read once.
    let mut seen = std::collections::HashSet::new();
    let before = parts.len();
    parts.retain(|p| seen.insert((p.offset, p.length)));
    if parts.len() < before {
        warnings.push(format!(
            "{} partition entries repeat an earlier entry's bytes; each volume is read once",
            before - parts.len()
        ));
    }
}

/// Identifies a file system from its boot sector's OEM id and signature.
pub fn detect_fs(boot: &[u8]) -> FsKind {
    match boot.get(3..11) {
        Some(b"NTFS    ") => FsKind::Ntfs,
        Some(b"EXFAT   ") => FsKind::Fat,
        _ if matches!(boot.get(54..59), Some(b"FAT12" | b"FAT16"))
            || boot.get(82..87) == Some(b"FAT32") =>
        {
            FsKind::Fat
        }
        _ => FsKind::Unknown,
    }
}

/// Says why a partition shows no file system, for error messages: a zeroed first
/// sector, and whether NTFS's backup boot sector survives at the partition's end.
pub fn explain_unknown_fs(disk: &dyn ReadAt, part: &Partition) -> String {
    let mut boot = [0u8; SECTOR as usize];
    let first = match disk.read_exact_at(&mut boot, part.offset) {
        Ok(()) if boot.iter().all(|&b| b == 0) => "its boot sector is zeroed".to_string(),
        // The volume behind a valid boot sector failed to open (its error is
        // reported on its own): the boot sector is not what is wrong.
        Ok(()) if crate::ntfs::BootSector::parse(&boot).is_ok() => {
            "its NTFS boot sector is valid but the volume behind it is unreadable".to_string()
        }
        Ok(()) => "its boot sector is not NTFS".to_string(),
        Err(e) => format!("its boot sector is unreadable ({e})"),
    };
    let mut backup = [0u8; SECTOR as usize];
    let last = part.offset + part.length.saturating_sub(SECTOR);
    let has_backup = part.length >= 2 * SECTOR
        && disk.read_exact_at(&mut backup, last).is_ok()
        && detect_fs(&backup) == FsKind::Ntfs;
    if has_backup {
        format!("{first}; an NTFS backup boot sector survives at byte {last}")
    } else {
        first
    }
}

/// Why none of `layout`'s partitions could be read as NTFS, one clause per partition
/// (`partition 1: its boot sector is zeroed; ...`), or `no partitions`.
pub fn explain_no_ntfs(disk: &dyn ReadAt, layout: &DiskLayout) -> String {
    let reasons: Vec<String> = layout
        .partitions
        .iter()
        .map(|p| format!("partition {}: {}", p.number, explain_unknown_fs(disk, p)))
        .collect();
    if reasons.is_empty() {
        "no partitions".to_string()
    } else {
        reasons.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::signature_scan;
    use crate::evidence::ReadAt;
    use std::ops::Range;

    /// A disk claiming the whole address space, readable (as zeros) only in its
    /// first MiB, the rest known lost: the claim an E01's saturated sector count
    /// makes.
    struct Claim;

    impl ReadAt for Claim {
        fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
            if offset >= 1 << 20 {
                return Err(std::io::Error::other("lost"));
            }
            buf.fill(0);
            Ok(buf.len())
        }
        fn len(&self) -> u64 {
            u64::MAX
        }
        #[allow(clippy::single_range_in_vec_init)]
        fn unreadable_ranges(&self) -> Vec<Range<u64>> {
            vec![(1 << 20)..u64::MAX - 512]
        }
    }

    /// The offsets wrapped round to the start past 2^64 - 1 MiB and the search
    /// never ended; it ends now, having found nothing in zeros.
    #[test]
    fn a_search_near_the_end_of_the_address_space_ends() {
        assert!(signature_scan(&Claim).is_empty());
    }
}
