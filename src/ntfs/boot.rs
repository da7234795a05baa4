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
        let cluster_size = sectors_per_cluster * sector_size;
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
