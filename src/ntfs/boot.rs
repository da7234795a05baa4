//! The NTFS boot sector: geometry of the volume and where the MFT is.

use super::le::Fields;
use super::NtfsError;

/// Largest cluster Windows formats (2 MiB, since Windows 10 1709).
const MAX_CLUSTER: u64 = 2 << 20;

/// Geometry read from the boot sector.
#[derive(Clone, Copy, Debug)]
pub struct BootSector {
    /// Bytes per sector.
    pub sector_size: u64,
    /// Bytes per cluster.
    pub cluster_size: u64,
    /// Sectors in the volume, as the boot sector states.
    pub total_sectors: u64,
    /// First cluster of the $MFT.
    pub mft_lcn: u64,
    /// First cluster of `$MFTMirr`, the copy of the first MFT records (not
    /// validated: it is only read when the `$MFT`'s own record 0 is damaged).
    pub mft_mirror_lcn: u64,
    /// Bytes per MFT record.
    pub record_size: u64,
    /// Bytes per index (INDX) record.
    pub index_record_size: u64,
    /// 64-bit volume serial number.
    pub serial: u64,
}

impl BootSector {
    /// Parses and validates the first sector of a volume.
    pub fn parse(raw: &[u8]) -> Result<BootSector, NtfsError> {
        let f = Fields(raw);
        let bad = |why: String| NtfsError::BootSector(why);
        if f.bytes(3, 8) != Some(b"NTFS    ") {
            return Err(bad(
                "no NTFS signature at offset 3 (boot sector zeroed or not NTFS)".into(),
            ));
        }
        let sector_size = u64::from(f.u16(0x0B).unwrap_or(0));
        if !sector_size.is_power_of_two() || !(256..=4096).contains(&sector_size) {
            return Err(bad(format!("bytes per sector {sector_size} invalid")));
        }
        // Values above 0x80 encode 2^(256 - value) sectors, for clusters over 64 KiB.
        let spc_raw = f.u8(0x0D).unwrap_or(0);
        let sectors_per_cluster = match spc_raw {
            0 => return Err(bad("sectors per cluster is 0".into())),
            1..=0x80 => u64::from(spc_raw),
            _ => 1u64.checked_shl(256 - u32::from(spc_raw)).unwrap_or(0),
        };
        // 2^127 sectors of 4 KiB overflow: checked, not wrapped into a small size.
        let cluster_size = sectors_per_cluster.checked_mul(sector_size).unwrap_or(0);
        if !cluster_size.is_power_of_two() || cluster_size > MAX_CLUSTER {
            return Err(bad(format!("cluster size {cluster_size} invalid")));
        }
        let total_sectors = f.u64(0x28).unwrap_or(0);
        let total_clusters = total_sectors / sectors_per_cluster;
        let mft_lcn = f.u64(0x30).unwrap_or(0);
        if mft_lcn == 0 || mft_lcn >= total_clusters {
            return Err(bad(format!(
                "MFT cluster {mft_lcn} outside the volume's {total_clusters} clusters"
            )));
        }
        let record_size = size_from_encoding(f.u8(0x40).unwrap_or(0), cluster_size)
            .filter(|s| s.is_power_of_two() && (256..=65536).contains(s))
            .ok_or_else(|| bad("MFT record size invalid".into()))?;
        let index_record_size = size_from_encoding(f.u8(0x44).unwrap_or(0), cluster_size)
            .filter(|s| s.is_power_of_two() && (256..=65536).contains(s))
            .ok_or_else(|| bad("index record size invalid".into()))?;
        Ok(BootSector {
            sector_size,
            cluster_size,
            total_sectors,
            mft_lcn,
            mft_mirror_lcn: f.u64(0x38).unwrap_or(0),
            record_size,
            index_record_size,
            serial: f.u64(0x48).unwrap_or(0),
        })
    }

    /// Volume size in bytes according to the boot sector.
    pub fn volume_size(&self) -> u64 {
        self.total_sectors.saturating_mul(self.sector_size)
    }

    /// Number of clusters in the volume.
    pub fn total_clusters(&self) -> u64 {
        self.volume_size() / self.cluster_size
    }
}

/// Record sizes are stored as clusters per record, or, when negative, as 2^-n bytes.
fn size_from_encoding(raw: u8, cluster_size: u64) -> Option<u64> {
    let signed = raw as i8;
    if signed > 0 {
        cluster_size.checked_mul(signed as u64)
    } else {
        1u64.checked_shl(u32::from(signed.unsigned_abs()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal valid boot sector: 512-byte sectors, 8 per cluster, 1 KiB
    /// records, 4 KiB index records.
    fn sector() -> Vec<u8> {
        let mut b = vec![0u8; 512];
        b[3..11].copy_from_slice(b"NTFS    ");
        b[0x0B..0x0D].copy_from_slice(&512u16.to_le_bytes());
        b[0x0D] = 8;
        b[0x28..0x30].copy_from_slice(&8192u64.to_le_bytes());
        b[0x30..0x38].copy_from_slice(&4u64.to_le_bytes());
        b[0x40] = 0xF6; // 2^10
        b[0x44] = 1;
        b
    }

    #[test]
    fn a_valid_sector_parses() {
        let boot = BootSector::parse(&sector()).unwrap();
        assert_eq!(
            (boot.cluster_size, boot.record_size, boot.index_record_size),
            (4096, 1024, 4096)
        );
        assert_eq!(boot.total_clusters(), 1024);
    }

    /// Found by the `ntfs` fuzz target: a sectors-per-cluster byte of 0xC1 says
    /// 2^63 sectors, whose size in bytes overflows.
    #[test]
    fn a_cluster_size_that_overflows_is_refused() {
        for (spc, sector_size) in [(0xC1u8, 4096u16), (0x81, 512), (0xC0, 512)] {
            let mut b = sector();
            b[0x0D] = spc;
            b[0x0B..0x0D].copy_from_slice(&sector_size.to_le_bytes());
            let err = BootSector::parse(&b).unwrap_err().to_string();
            assert!(err.contains("cluster size"), "{spc:#x}: {err}");
        }
    }
}
