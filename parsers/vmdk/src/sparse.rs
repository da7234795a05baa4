//! A hosted sparse extent (`KDMV`): grain directory, grain tables, grains, and
//! the stream-optimized variant whose grains are deflated and whose real
//! header is a footer at the end.

use std::io;
use std::sync::Arc;

use blockio::{
    fill_from, inflate_at_most, invalid, le16, le32, le64, read_vec, Source, TableCache,
};

const SECTOR: u64 = 512;
/// `gdOffset` of a stream-optimized header: the directory is found from the footer.
const GD_AT_END: u64 = u64::MAX;
const FLAG_REDUNDANT: u32 = 1 << 1;
const FLAG_ZERO_GRAIN: u32 = 1 << 2;
const FLAG_COMPRESSED: u32 = 1 << 16;
/// Largest grain we accept (VMware writes 64 KiB): each cached inflated grain is
/// this big, so the bound keeps the cache small.
const MAX_GRAIN_SECTORS: u64 = 2048;
/// Most entries per grain table (VMware writes 512).
const MAX_GTES: u64 = 4096;

/// One sparse extent file.
pub struct SparseExtent {
    file: Arc<dyn Source>,
    capacity: u64,
    grain: u64,
    gtes: u64,
    directory: Vec<u32>,
    redundant: Option<Vec<u32>>,
    flags: u32,
    descriptor: Option<(u64, u64)>,
    tables: TableCache<Vec<u32>>,
    grains: TableCache<Vec<u8>>,
    /// Damage the redundant grain directory made good, found on opening.
    repairs: Vec<String>,
}

struct Header {
    flags: u32,
    capacity: u64,
    grain: u64,
    descriptor_at: u64,
    descriptor_len: u64,
    gtes: u64,
    rgd: u64,
    gd: u64,
    compression: u16,
}

fn parse_header(h: &[u8]) -> io::Result<Header> {
    if !h.starts_with(super::SPARSE_MAGIC) {
        return Err(invalid("VMDK: no sparse extent header (KDMV)"));
    }
    Ok(Header {
        flags: le32(h, 8),
        capacity: le64(h, 12),
        grain: le64(h, 20),
        descriptor_at: le64(h, 28),
        descriptor_len: le64(h, 36),
        gtes: u64::from(le32(h, 44)),
        rgd: le64(h, 48),
        gd: le64(h, 56),
        compression: le16(h, 77),
    })
}

impl SparseExtent {
    /// Reads the header (or, for stream-optimized extents, the footer) and the
    /// grain directory.
    pub fn open(file: Arc<dyn Source>) -> io::Result<SparseExtent> {
        let mut header = parse_header(&read_vec(&*file, 0, SECTOR, "VMDK header")?)?;
        if header.gd == GD_AT_END {
            // Stream-optimized: footer header, then end-of-stream marker.
            let at = file.len().saturating_sub(2 * SECTOR);
            let footer = read_vec(&*file, at, SECTOR, "VMDK footer")?;
            header = parse_header(&footer)
                .map_err(|_| invalid("VMDK: stream-optimized footer missing (file truncated?)"))?;
            if header.gd == GD_AT_END {
                return Err(invalid(
                    "VMDK: footer does not say where the grain directory is",
                ));
            }
        }
        if header.compression > 1 {
            return Err(invalid(format!(
                "VMDK: unknown compression algorithm {}",
                header.compression
            )));
        }
        if !header.grain.is_power_of_two() || header.grain > MAX_GRAIN_SECTORS {
            return Err(invalid(format!(
                "VMDK: grain of {} sectors (expected a power of two up to {MAX_GRAIN_SECTORS})",
                header.grain
            )));
        }
        if header.gtes == 0 || header.gtes > MAX_GTES {
            return Err(invalid(format!(
                "VMDK: {} entries per grain table",
                header.gtes
            )));
        }
        let capacity = header
            .capacity
            .checked_mul(SECTOR)
            .ok_or_else(|| invalid("VMDK: capacity overflows"))?;
        let span = header.grain * header.gtes;
        let entries = header.capacity.div_ceil(span);
        let read_directory = |sector: u64, what| -> io::Result<Vec<u32>> {
            let at = sector
                .checked_mul(SECTOR)
                .ok_or_else(|| invalid(format!("VMDK: {what} offset overflows")))?;
            let raw = read_vec(&*file, at, entries * 4, what)?;
            Ok(raw.chunks_exact(4).map(|c| le32(c, 0)).collect())
        };
        let primary = read_directory(header.gd, "VMDK grain directory");
        let redundant = (header.flags & FLAG_REDUNDANT != 0 && header.rgd != 0)
            .then(|| read_directory(header.rgd, "VMDK redundant grain directory").ok())
            .flatten();
        let mut repairs = Vec::new();
        // A primary directory that cannot be read at all falls back whole.
        let (directory, redundant) = match (primary, redundant) {
            (Ok(d), r) => (d, r),
            (Err(e), Some(r)) => {
                repairs.push(format!(
                    "{e}: the redundant grain directory is read instead"
                ));
                (r, None)
            }
            (Err(e), None) => return Err(e),
        };
        let descriptor = (header.descriptor_at != 0 && header.descriptor_len != 0).then(|| {
            (
                header.descriptor_at.saturating_mul(SECTOR),
                header.descriptor_len.saturating_mul(SECTOR),
            )
        });
        let mut extent = SparseExtent {
            file,
            capacity,
            grain: header.grain * SECTOR,
            gtes: header.gtes,
            directory,
            redundant,
            flags: header.flags,
            descriptor,
            tables: TableCache::new(16),
            grains: TableCache::new(8),
            repairs,
        };
        extent.check_primary_tables();
        Ok(extent)
    }

    /// With a redundant directory to fall back on, checks every primary grain table
    /// once against its redundant copy (a table is `gtes` × 4 bytes: a 64 GiB disk
    /// has 2 048 of 2 KiB, read twice), so a table the redundant copy replaces, or
    /// one the two copies disagree on, is known, and said, from the start rather
    /// than silently whenever a read reaches it. Without one, a damaged table is a
    /// read error where it is met.
    fn check_primary_tables(&mut self) {
        let Some(redundant) = &self.redundant else {
            return;
        };
        let (mut replaced, mut differ) = (0usize, 0usize);
        let (mut first, mut first_differ) = (None, None);
        for index in 0..self.directory.len() {
            match (
                self.read_table(&self.directory, index as u64),
                self.read_table(redundant, index as u64),
            ) {
                (Err(e), Ok(_)) => {
                    replaced += 1;
                    first.get_or_insert(e);
                }
                // Both readable but not the same: the primary is what VMware
                // reads, but which copy holds the truth cannot be told.
                (Ok(p), Ok(r)) if p != r => {
                    differ += 1;
                    first_differ.get_or_insert(index);
                }
                _ => {}
            }
        }
        if let Some(first) = first {
            self.repairs.push(format!(
                "{replaced} primary grain table(s) damaged and read from the redundant copy, \
                 first: {first}"
            ));
        }
        if let Some(index) = first_differ {
            self.repairs.push(format!(
                "{differ} grain table(s) differ between the primary and redundant copies (the \
                 primary is read), first: table {index}"
            ));
        }
    }

    /// What opening had to repair (see `VirtualDisk::repairs`).
    pub fn repairs(&self) -> &[String] {
        &self.repairs
    }

    /// Bytes the extent maps.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// True for stream-optimized (deflated) grains.
    pub fn compressed(&self) -> bool {
        self.flags & FLAG_COMPRESSED != 0
    }

    /// Where the embedded descriptor is (offset, length in bytes), if any.
    pub fn embedded_descriptor(&self) -> Option<(u64, u64)> {
        self.descriptor
    }

    /// Grain table `index`, from the primary directory, or from the redundant one
    /// when the primary's table lies outside the file or points grains outside it.
    fn table(&self, index: u64) -> io::Result<Arc<Vec<u32>>> {
        self.tables.get(index, || {
            match (self.read_table(&self.directory, index), &self.redundant) {
                (Ok(t), _) => Ok(t),
                (Err(e), Some(r)) => self.read_table(r, index).map_err(|_| e),
                (Err(e), None) => Err(e),
            }
        })
    }

    /// Grain table `index` as `directory` places it; an error when it lies outside
    /// the file or points a grain outside it.
    fn read_table(&self, directory: &[u32], index: u64) -> io::Result<Vec<u32>> {
        let sector = u64::from(*directory.get(index as usize).unwrap_or(&0));
        if sector == 0 {
            return Ok(Vec::new());
        }
        let raw = read_vec(
            &*self.file,
            sector.saturating_mul(SECTOR),
            self.gtes * 4,
            "VMDK grain table",
        )?;
        let table: Vec<u32> = raw.chunks_exact(4).map(|c| le32(c, 0)).collect();
        let limit = self.file.len();
        if let Some(bad) = table
            .iter()
            .find(|&&g| u64::from(g) * SECTOR >= limit && g > 1)
        {
            return Err(invalid(format!(
                "VMDK: grain table {index} points a grain at sector {bad}, past the end of \
                 the file ({limit} bytes)"
            )));
        }
        Ok(table)
    }

    /// Fills `out` from extent offset `at`; unallocated grains come from
    /// `parent` (already shifted to this extent) or are zeros.
    pub fn read(&self, out: &mut [u8], at: u64, parent: Option<&dyn Source>) -> io::Result<()> {
        let mut done = 0usize;
        while done < out.len() {
            let pos = at + done as u64;
            let grain_index = pos / self.grain;
            let within = pos % self.grain;
            let n = ((self.grain - within) as usize).min(out.len() - done);
            let piece = &mut out[done..done + n];
            let table = self.table(grain_index / self.gtes)?;
            let entry = u64::from(*table.get((grain_index % self.gtes) as usize).unwrap_or(&0));
            match entry {
                0 => match parent {
                    Some(p) => fill_from(p, piece, pos)?,
                    None => piece.fill(0),
                },
                1 if self.flags & FLAG_ZERO_GRAIN != 0 => piece.fill(0),
                // A whole grain is read once: not cached, so it evicts nothing.
                sector if self.compressed() && n as u64 == self.grain => {
                    piece.copy_from_slice(&self.inflate_grain(sector, grain_index)?);
                }
                sector if self.compressed() => {
                    let grain = self.inflated(sector, grain_index)?;
                    piece.copy_from_slice(&grain[within as usize..within as usize + n]);
                }
                sector => self.file.read_exact_at(piece, sector * SECTOR + within)?,
            }
            done += n;
        }
        Ok(())
    }

    /// Grain `index`, whose marker starts at `sector`, inflated and cached: small
    /// reads of one grain inflate it once.
    fn inflated(&self, sector: u64, index: u64) -> io::Result<Arc<Vec<u8>>> {
        self.grains
            .get(sector, || self.inflate_grain(sector, index))
    }

    /// Inflates grain `index`, whose marker starts at `sector`, to one grain. It
    /// must fill the grain (only the disk's last grain may stop where the disk
    /// does; zeros follow, never read) and never run past it: a grain of the
    /// wrong length is damage, not data.
    fn inflate_grain(&self, sector: u64, index: u64) -> io::Result<Vec<u8>> {
        let at = sector * SECTOR;
        let marker = read_vec(&*self.file, at, 12, "VMDK grain marker")?;
        let stored = u64::from(le32(&marker, 8));
        // Deflate never grows data by more than a few bytes per 16 KiB block.
        if stored > self.grain + 1024 {
            return Err(invalid(format!(
                "VMDK: compressed grain at {at} claims {stored} bytes for a {} byte grain",
                self.grain
            )));
        }
        let input = read_vec(&*self.file, at + 12, stored, "VMDK compressed grain")?;
        let mut out = inflate_at_most(&input, self.grain as usize, true)
            .map_err(|e| invalid(format!("VMDK: grain at {at}: {e}")))?;
        let need = self.grain.min(
            self.capacity
                .saturating_sub(index.saturating_mul(self.grain)),
        );
        if (out.len() as u64) < need {
            return Err(invalid(format!(
                "VMDK: compressed grain at {at} inflates to {} bytes, not {need}",
                out.len()
            )));
        }
        out.resize(self.grain as usize, 0);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRAIN: u64 = 64 * 1024;
    /// Where [`stream`] puts the grain's marker: after the header, directory
    /// and table sectors.
    const MARKER_SECTOR: u64 = 6;

    /// A compressed sparse extent built by hand from VMware's layout: header in
    /// sector 0 (128-sector grains, 512 entries per table, deflate), the grain
    /// directory in sector 1, its one table in sectors 2-5, and grain 0 stored at
    /// [`MARKER_SECTOR`] as a marker (LBA, size) followed by `stream` (zlib).
    fn stream(capacity_sectors: u64, stream: &[u8]) -> Vec<u8> {
        let mut file = vec![0u8; (MARKER_SECTOR * SECTOR + GRAIN * 2) as usize];
        file[..4].copy_from_slice(crate::SPARSE_MAGIC);
        file[4..8].copy_from_slice(&3u32.to_le_bytes());
        file[8..12].copy_from_slice(&(FLAG_COMPRESSED | 1).to_le_bytes());
        file[12..20].copy_from_slice(&capacity_sectors.to_le_bytes());
        file[20..28].copy_from_slice(&(GRAIN / SECTOR).to_le_bytes());
        file[44..48].copy_from_slice(&512u32.to_le_bytes());
        file[56..64].copy_from_slice(&1u64.to_le_bytes());
        file[77..79].copy_from_slice(&1u16.to_le_bytes());
        file[512..516].copy_from_slice(&2u32.to_le_bytes());
        file[1024..1028].copy_from_slice(&(MARKER_SECTOR as u32).to_le_bytes());
        let m = (MARKER_SECTOR * SECTOR) as usize;
        file[m + 8..m + 12].copy_from_slice(&(stream.len() as u32).to_le_bytes());
        file[m + 12..m + 12 + stream.len()].copy_from_slice(stream);
        file
    }

    fn zlib(data: &[u8]) -> Vec<u8> {
        miniz_oxide::deflate::compress_to_vec_zlib(data, 6)
    }

    fn read(file: Vec<u8>, at: u64, len: usize) -> io::Result<Vec<u8>> {
        let extent = SparseExtent::open(Arc::new(file))?;
        let mut buf = vec![0u8; len];
        extent.read(&mut buf, at, None)?;
        Ok(buf)
    }

    #[test]
    fn compressed_grain_must_inflate_to_exactly_its_size() {
        let grain = vec![0x44u8; GRAIN as usize];
        assert_eq!(
            read(stream(256, &zlib(&grain)), 0, GRAIN as usize).unwrap(),
            grain
        );

        // Short: whole-grain reads and partial (cached) reads alike.
        let short = stream(256, &zlib(&[0x44u8; 1024]));
        let error = read(short.clone(), 0, GRAIN as usize).unwrap_err();
        assert!(
            error.to_string().contains("inflates to 1024 bytes"),
            "{error}"
        );
        assert!(read(short, 0, 512).is_err());

        // Long: 24 MiB of zeros deflate to about 24 KB, inside the grain's claim.
        let bomb = zlib(&vec![0u8; 24 << 20]);
        assert!((bomb.len() as u64) < GRAIN);
        let error = read(stream(256, &bomb), 0, 512).unwrap_err();
        assert!(error.to_string().contains("more than 65536"), "{error}");
    }

    /// A hosted sparse extent of two 64 KiB grains with both directories: the
    /// redundant one in sector 1 (its table in sectors 2-5), the primary in
    /// sector 6 (its table in 7-10), grains 0 and 1 at sectors 11 and 139, as
    /// both tables say unless `redundant_grain0` says otherwise for grain 0.
    fn redundant(redundant_grain0: u32) -> Vec<u8> {
        let mut file = vec![0x22u8; (11 * SECTOR + 2 * GRAIN) as usize];
        file[..11 * SECTOR as usize].fill(0);
        file[..4].copy_from_slice(crate::SPARSE_MAGIC);
        file[4..8].copy_from_slice(&1u32.to_le_bytes());
        file[8..12].copy_from_slice(&(FLAG_REDUNDANT | 1).to_le_bytes());
        file[12..20].copy_from_slice(&(2 * GRAIN / SECTOR).to_le_bytes());
        file[20..28].copy_from_slice(&(GRAIN / SECTOR).to_le_bytes());
        file[44..48].copy_from_slice(&512u32.to_le_bytes());
        file[48..56].copy_from_slice(&1u64.to_le_bytes());
        file[56..64].copy_from_slice(&6u64.to_le_bytes());
        let mut put = |at: usize, v: u32| file[at..at + 4].copy_from_slice(&v.to_le_bytes());
        put(512, 2);
        put(1024, redundant_grain0);
        put(1028, 139);
        put(6 * 512, 7);
        put(7 * 512, 11);
        put(7 * 512 + 4, 139);
        file
    }

    #[test]
    fn primary_and_redundant_tables_that_differ_are_reported() {
        let same = SparseExtent::open(Arc::new(redundant(11))).unwrap();
        assert!(same.repairs().is_empty(), "{:?}", same.repairs());
        let differ = SparseExtent::open(Arc::new(redundant(139))).unwrap();
        assert_eq!(
            differ.repairs(),
            [
                "1 grain table(s) differ between the primary and redundant copies (the \
              primary is read), first: table 0"
            ]
        );
        let mut buf = vec![0u8; 512];
        differ.read(&mut buf, 0, None).unwrap();
        assert!(buf.iter().all(|&b| b == 0x22));
    }

    /// The last grain of a disk that ends inside it may stop where the disk does.
    #[test]
    fn last_grain_may_stop_at_the_end_of_the_disk() {
        let half = vec![0x55u8; GRAIN as usize / 2];
        let capacity = GRAIN / 2 / SECTOR;
        assert_eq!(
            read(stream(capacity, &zlib(&half)), 0, half.len()).unwrap(),
            half
        );
    }
}
