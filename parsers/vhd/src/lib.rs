//! Read-only VHD (Virtual PC, Hyper-V generation 1) disks: fixed, dynamic and
//! differencing. See README.md for the format notes this follows.

// Parsers read hostile bytes: a panic would cost the whole scan, so every
// fallible step returns an error (tests may unwrap: clippy.toml).
#![deny(clippy::unwrap_used, clippy::expect_used)]

use std::io;
use std::sync::Arc;

use blockio::{
    be32, be64, invalid, read_mapped, read_vec, utf16, Piece, Source, TableCache, VirtualDisk,
};

const FOOTER_LEN: u64 = 512;
const SECTOR: u64 = 512;
const UNUSED: u32 = u32::MAX;
/// Longest parent locator we read: a path, never more than a few KiB.
const MAX_LOCATOR: u64 = 64 * 1024;

/// The three kinds of VHD.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Data stored flat before the footer.
    Fixed,
    /// Blocks allocated on write, listed by the block allocation table.
    Dynamic,
    /// A dynamic disk whose unwritten sectors come from a parent.
    Differencing,
}

/// A VHD opened for reading.
pub struct Vhd {
    file: Arc<dyn Source>,
    kind: Kind,
    size: u64,
    block_size: u64,
    bitmap_len: u64,
    bat: Vec<u32>,
    parent_locations: Vec<String>,
    /// The footer's unique id.
    unique_id: [u8; 16],
    /// A differencing disk's record of its parent's unique id.
    parent_id: Option<[u8; 16]>,
    parent: Option<Arc<dyn Source>>,
    bitmaps: TableCache<Vec<u8>>,
    /// The file's own structures (start, length, name): a block placed over one
    /// of them is damage, never data.
    reserved: Vec<(u64, u64, &'static str)>,
    /// Damage found on opening that leaves the disk readable (see
    /// `VirtualDisk::repairs`): failed checksums, a missing trailing footer.
    repairs: Vec<String>,
}

/// Sixteen bytes at `at` (the caller has checked the length).
fn id_at(b: &[u8], at: usize) -> [u8; 16] {
    let mut id = [0u8; 16];
    id.copy_from_slice(&b[at..at + 16]);
    id
}

/// An id as lower-case hex.
fn hex(id: &[u8; 16]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

/// True if `first` (the file's first sector) or `last` (its last) is a VHD footer.
pub fn is_vhd(first: &[u8], last: &[u8]) -> bool {
    first.starts_with(b"conectix") || last.starts_with(b"conectix")
}

impl Vhd {
    /// Opens the VHD in `file`, from its footer (or, when the end is damaged or
    /// cut, from the footer copy dynamic disks keep in their first sector).
    pub fn open(file: Arc<dyn Source>) -> io::Result<Vhd> {
        let len = file.len();
        let end = len
            .checked_sub(FOOTER_LEN)
            .ok_or_else(|| invalid("VHD: file is smaller than its footer"))?;
        let at_end = read_vec(&*file, end, FOOTER_LEN, "VHD footer")?;
        let at_start = read_vec(&*file, 0, FOOTER_LEN, "VHD footer copy")?;
        let footer = [&at_end, &at_start]
            .into_iter()
            .find(|f| f.starts_with(b"conectix") && checksum_ok(f, 64))
            .or_else(|| {
                [&at_end, &at_start]
                    .into_iter()
                    .find(|f| f.starts_with(b"conectix"))
            })
            .ok_or_else(|| invalid("VHD: no footer (conectix) at the start or end"))?;
        let size = be64(footer, 48);
        let kind = match be32(footer, 60) {
            2 => Kind::Fixed,
            3 => Kind::Dynamic,
            4 => Kind::Differencing,
            other => return Err(invalid(format!("VHD: unknown disk type {other}"))),
        };
        let mut vhd = Vhd {
            file: Arc::clone(&file),
            kind,
            size,
            block_size: 0,
            bitmap_len: 0,
            bat: Vec::new(),
            parent_locations: Vec::new(),
            // The footer is FOOTER_LEN (512) bytes: offsets 68..84 lie inside.
            unique_id: id_at(footer, 68),
            parent_id: None,
            parent: None,
            bitmaps: TableCache::new(16),
            reserved: Vec::new(),
            repairs: footer_damage(&at_end, &at_start, std::ptr::eq(footer, &at_start)),
        };
        if kind == Kind::Fixed {
            if size > end {
                return Err(invalid(format!(
                    "VHD: fixed disk of {size} bytes but the file holds only {end}: truncated"
                )));
            }
            return Ok(vhd);
        }
        let header_at = be64(footer, 16);
        if at_start.starts_with(b"conectix") {
            vhd.reserved.push((0, FOOTER_LEN, "footer copy"));
        }
        vhd.reserved.push((header_at, 1024, "dynamic header"));
        // Only a footer that is there: a file cut short has data in its place.
        if at_end.starts_with(b"conectix") {
            vhd.reserved.push((end, FOOTER_LEN, "footer"));
        }
        vhd.read_dynamic_header(header_at)?;
        Ok(vhd)
    }

    fn read_dynamic_header(&mut self, at: u64) -> io::Result<()> {
        let header = read_vec(&*self.file, at, 1024, "VHD dynamic header")?;
        if !header.starts_with(b"cxsparse") {
            return Err(invalid(format!(
                "VHD: no dynamic header (cxsparse) at {at}"
            )));
        }
        if !checksum_ok(&header, 36) {
            self.repairs.push(format!(
                "VHD: the dynamic header at {at} fails its checksum; read as found"
            ));
        }
        let table = be64(&header, 16);
        let entries = u64::from(be32(&header, 28));
        let block_size = u64::from(be32(&header, 32));
        if block_size == 0 || block_size % SECTOR != 0 {
            return Err(invalid(format!(
                "VHD: block size {block_size} is not whole sectors"
            )));
        }
        if entries.saturating_mul(block_size) < self.size {
            return Err(invalid(format!(
                "VHD: {entries} blocks of {block_size} bytes cannot hold the {} byte disk",
                self.size
            )));
        }
        let needed = self.size.div_ceil(block_size);
        let raw = read_vec(&*self.file, table, needed * 4, "VHD block allocation table")?;
        self.bat = raw.chunks_exact(4).map(|c| be32(c, 0)).collect();
        self.reserved.push((
            table,
            (needed * 4).next_multiple_of(SECTOR),
            "block allocation table",
        ));
        self.block_size = block_size;
        self.bitmap_len = (block_size / SECTOR).div_ceil(8).div_ceil(SECTOR) * SECTOR;
        if self.kind == Kind::Differencing {
            self.parent_id = Some(id_at(&header, 40));
            self.parent_locations = self.locators(&header);
            let name = utf16(&header[64..576], true);
            if !name.is_empty() {
                self.parent_locations.push(name);
            }
            if self.parent_locations.is_empty() {
                return Err(invalid("VHD: differencing disk names no parent"));
            }
        }
        Ok(())
    }

    /// The parent paths the eight locator entries hold: relative (`W2ru`) before
    /// absolute (`W2ku`); Mac locators are ignored.
    fn locators(&self, header: &[u8]) -> Vec<String> {
        let mut found: Vec<(u8, String)> = Vec::new();
        for entry in header[576..768].chunks_exact(24) {
            let rank = match &entry[..4] {
                b"W2ru" => 0,
                b"W2ku" => 1,
                _ => continue,
            };
            let len = u64::from(be32(entry, 8)).min(MAX_LOCATOR);
            let Ok(bytes) = read_vec(&*self.file, be64(entry, 16), len, "VHD parent locator")
            else {
                continue;
            };
            let path = utf16(&bytes, false);
            if !path.is_empty() {
                found.push((rank, path));
            }
        }
        found.sort_by_key(|(rank, _)| *rank);
        found.into_iter().map(|(_, p)| p).collect()
    }

    /// The kind of disk.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    fn map(&self, at: u64) -> io::Result<(Piece, u64)> {
        if self.kind == Kind::Fixed {
            return Ok((Piece::File(at), self.size - at));
        }
        let block = at / self.block_size;
        let within = at % self.block_size;
        let rest = self.block_size - within;
        let entry = *self.bat.get(block as usize).unwrap_or(&UNUSED);
        if entry == UNUSED {
            let piece = match self.kind {
                Kind::Differencing => Piece::Parent,
                _ => Piece::Zero,
            };
            return Ok((piece, rest));
        }
        let start = self.placed(block, u64::from(entry) * SECTOR)?;
        let data = start + self.bitmap_len;
        if self.kind == Kind::Dynamic {
            return Ok((Piece::File(data + within), rest));
        }
        // Differencing: the block's sector bitmap says, per sector, whether this
        // file or the parent holds it.
        let bitmap = self.bitmaps.get(block, || {
            read_vec(&*self.file, start, self.bitmap_len, "VHD sector bitmap")
        })?;
        let bit = |sector: u64| {
            let byte = bitmap.get((sector / 8) as usize).copied().unwrap_or(0);
            byte & (0x80 >> (sector % 8)) != 0
        };
        let first = within / SECTOR;
        let mine = bit(first);
        let last = self.block_size / SECTOR;
        let mut next = first + 1;
        while next < last && bit(next) == mine {
            next += 1;
        }
        let run = next * SECTOR - within;
        Ok(if mine {
            (Piece::File(data + within), run)
        } else {
            (Piece::Parent, run)
        })
    }
}

impl Vhd {
    /// `start`, where the BAT places `block` (its sector bitmap, then its data),
    /// unless that overlaps the footers, the dynamic header or the BAT: those
    /// read as disk data would be wrong bytes, not damage anyone sees.
    fn placed(&self, block: u64, start: u64) -> io::Result<u64> {
        let end = start.saturating_add(self.bitmap_len + self.block_size);
        match self
            .reserved
            .iter()
            .find(|(at, n, _)| start < at.saturating_add(*n) && *at < end)
        {
            Some((at, n, name)) => Err(invalid(format!(
                "VHD: block {block} at {start} overlaps the {name} ({at}..{})",
                at.saturating_add(*n)
            ))),
            None => Ok(start),
        }
    }
}

/// True if the one's complement of the byte sum of `bytes` (the four at `at`,
/// the stored checksum, left out) is the checksum stored there: footers keep
/// theirs at 64, dynamic headers at 36.
fn checksum_ok(bytes: &[u8], at: usize) -> bool {
    let sum = bytes
        .iter()
        .enumerate()
        .filter(|(i, _)| !(at..at + 4).contains(i))
        .fold(0u32, |s, (_, &b)| s.wrapping_add(u32::from(b)));
    !sum == be32(bytes, at)
}

/// What is wrong with the two footers (the last sector, and the copy dynamic
/// disks keep in the first), given whether the copy is the one read: each
/// failed checksum, and a trailing footer that is missing.
fn footer_damage(at_end: &[u8], at_start: &[u8], copy_read: bool) -> Vec<String> {
    let mut damage = Vec::new();
    let read = if copy_read {
        "; the copy at the start is read"
    } else {
        "; read as found"
    };
    if !at_end.starts_with(b"conectix") {
        damage.push(format!(
            "VHD: no footer in the last sector (file cut short?){read}"
        ));
    } else if !checksum_ok(at_end, 64) {
        damage.push(format!("VHD: the footer fails its checksum{read}"));
    }
    if at_start.starts_with(b"conectix") && !checksum_ok(at_start, 64) {
        damage.push("VHD: the footer copy at the start fails its checksum".to_string());
    }
    damage
}

impl Source for Vhd {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        read_mapped(
            buf,
            offset,
            self.size,
            &*self.file,
            self.parent.as_deref(),
            |at| self.map(at),
        )
    }

    fn len(&self) -> u64 {
        self.size
    }
}

impl VirtualDisk for Vhd {
    fn format(&self) -> &'static str {
        "VHD"
    }

    fn subformat(&self) -> String {
        match self.kind {
            Kind::Fixed => "fixed",
            Kind::Dynamic => "dynamic",
            Kind::Differencing => "differencing",
        }
        .to_string()
    }

    fn parent_locations(&self) -> Vec<String> {
        self.parent_locations.clone()
    }

    fn set_parent(&mut self, parent: Arc<dyn Source>) {
        self.parent = Some(parent);
    }

    fn identity(&self) -> Option<String> {
        Some(hex(&self.unique_id))
    }

    fn parent_identities(&self) -> Vec<String> {
        self.parent_id.iter().map(hex).collect()
    }

    fn repairs(&self) -> Vec<String> {
        self.repairs.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn footer(kind: u32, size: u64) -> Vec<u8> {
        let mut f = vec![0u8; 512];
        f[..8].copy_from_slice(b"conectix");
        f[16..24].copy_from_slice(&512u64.to_be_bytes());
        f[48..56].copy_from_slice(&size.to_be_bytes());
        f[60..64].copy_from_slice(&kind.to_be_bytes());
        f[68..84].copy_from_slice(&[0x5c; 16]);
        let sum = f.iter().fold(0u32, |s, &b| s.wrapping_add(u32::from(b)));
        f[64..68].copy_from_slice(&(!sum).to_be_bytes());
        f
    }

    /// A differencing disk built by hand from the specification: two 4 KiB
    /// blocks, block 0 present with sectors 0 and 2 marked in its bitmap (most
    /// significant bit first), block 1 absent; everything else is the parent's.
    #[test]
    fn differencing_disk_takes_unmarked_sectors_from_the_parent() {
        let mut file = vec![0u8; 7168];
        file[..512].copy_from_slice(&footer(4, 8192));
        let header = &mut file[512..1536];
        header[..8].copy_from_slice(b"cxsparse");
        header[16..24].copy_from_slice(&1536u64.to_be_bytes());
        header[28..32].copy_from_slice(&2u32.to_be_bytes());
        header[32..36].copy_from_slice(&4096u32.to_be_bytes());
        header[40..56].copy_from_slice(&[0xab; 16]);
        for (i, u) in "p.vhd".encode_utf16().enumerate() {
            header[64 + 2 * i..66 + 2 * i].copy_from_slice(&u.to_be_bytes());
        }
        let relative: Vec<u8> = ".\\p.vhd"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let locator = &mut header[576..600];
        locator[..4].copy_from_slice(b"W2ru");
        locator[8..12].copy_from_slice(&(relative.len() as u32).to_be_bytes());
        locator[16..24].copy_from_slice(&1800u64.to_be_bytes());
        file[1800..1800 + relative.len()].copy_from_slice(&relative);
        file[1536..1540].copy_from_slice(&4u32.to_be_bytes());
        file[1540..1544].copy_from_slice(&UNUSED.to_be_bytes());
        file[2048] = 0b1010_0000;
        file[2560..6656].fill(0x11);
        file[6656..].copy_from_slice(&footer(4, 8192));

        let mut vhd = Vhd::open(Arc::new(file)).unwrap();
        assert_eq!(vhd.kind(), Kind::Differencing);
        assert_eq!(vhd.parent_locations(), [".\\p.vhd", "p.vhd"]);
        assert_eq!(vhd.identity().unwrap(), "5c".repeat(16));
        assert_eq!(vhd.parent_identities(), ["ab".repeat(16)]);
        vhd.set_parent(Arc::new(vec![0x22u8; 8192]));
        let mut disk = vec![0u8; 8192];
        vhd.read_exact_at(&mut disk, 0).unwrap();
        let sector = |n: usize| disk[n * 512..(n + 1) * 512].to_vec();
        assert!(sector(0).iter().all(|&b| b == 0x11));
        assert!(sector(1).iter().all(|&b| b == 0x22));
        assert!(sector(2).iter().all(|&b| b == 0x11));
        assert!((3..16).all(|n| sector(n).iter().all(|&b| b == 0x22)));
    }

    #[test]
    fn fixed_disk_larger_than_its_file_is_refused() {
        let mut file = vec![0u8; 1024];
        file[512..].copy_from_slice(&footer(2, 1 << 20));
        let error = Vhd::open(Arc::new(file)).err().unwrap();
        assert!(error.to_string().contains("truncated"), "{error}");
    }

    /// A dynamic disk of two 4 KiB blocks: footer copy, dynamic header at 512,
    /// BAT at 1536 (block 0 at sector `block0`, block 1 absent), block 0's
    /// bitmap and data at 2048, the footer at 6656.
    fn dynamic(block0: u32) -> Vec<u8> {
        let mut file = vec![0x11u8; 7168];
        file[..512].copy_from_slice(&footer(3, 8192));
        let header = &mut file[512..1536];
        header.fill(0);
        header[..8].copy_from_slice(b"cxsparse");
        header[16..24].copy_from_slice(&1536u64.to_be_bytes());
        header[28..32].copy_from_slice(&2u32.to_be_bytes());
        header[32..36].copy_from_slice(&4096u32.to_be_bytes());
        file[1536..1540].copy_from_slice(&block0.to_be_bytes());
        file[1540..1544].copy_from_slice(&UNUSED.to_be_bytes());
        file[6656..].copy_from_slice(&footer(3, 8192));
        file
    }

    #[test]
    fn block_over_the_files_own_structures_is_damage() {
        let vhd = Vhd::open(Arc::new(dynamic(4))).unwrap();
        let mut buf = vec![0u8; 4096];
        vhd.read_exact_at(&mut buf, 0).unwrap();
        assert!(buf.iter().all(|&b| b == 0x11));
        for (sector, name) in [
            (0, "footer copy"),
            (1, "dynamic header"),
            (3, "block allocation table"),
            (5, "footer"),
        ] {
            let vhd = Vhd::open(Arc::new(dynamic(sector))).unwrap();
            let error = vhd.read_exact_at(&mut buf, 0).unwrap_err();
            assert!(error.to_string().contains(name), "{sector}: {error}");
        }
    }

    /// Stores the dynamic header's checksum (at 36 of its 1024 bytes at 512).
    fn seal_header(file: &mut [u8]) {
        let header = &mut file[512..1536];
        header[36..40].fill(0);
        let sum = header
            .iter()
            .fold(0u32, |s, &b| s.wrapping_add(u32::from(b)));
        header[36..40].copy_from_slice(&(!sum).to_be_bytes());
    }

    #[test]
    fn failed_checksums_and_a_missing_footer_are_reported() {
        let mut file = dynamic(4);
        seal_header(&mut file);
        assert!(Vhd::open(Arc::new(file.clone()))
            .unwrap()
            .repairs()
            .is_empty());

        let mut header = file.clone();
        header[600] ^= 1;
        let said = Vhd::open(Arc::new(header)).unwrap().repairs();
        assert!(said[0].contains("dynamic header at 512 fails"), "{said:?}");

        let mut tail = file.clone();
        tail[6656 + 100] ^= 1;
        let said = Vhd::open(Arc::new(tail)).unwrap().repairs();
        assert_eq!(
            said,
            ["VHD: the footer fails its checksum; the copy at the start is read"]
        );

        let mut both = file.clone();
        both[6656 + 100] ^= 1;
        both[100] ^= 1;
        let said = Vhd::open(Arc::new(both)).unwrap().repairs();
        assert_eq!(said.len(), 2, "{said:?}");
        assert!(said[0].ends_with("read as found"), "{said:?}");

        let cut = file[..6656].to_vec();
        let vhd = Vhd::open(Arc::new(cut)).unwrap();
        assert!(vhd.repairs()[0].contains("no footer in the last sector"));
    }
}
