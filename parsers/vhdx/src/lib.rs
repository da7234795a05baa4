//! Read-only Hyper-V VHDX disks: fixed, dynamic and differencing, with an
//! active metadata log replayed in memory. See README.md for the format notes
//! this follows.

// Parsers read hostile bytes: a panic would cost the whole scan, so every
// fallible step returns an error (tests may unwrap: clippy.toml).
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod crc32c;
mod log;

use std::io;
use std::sync::Arc;

use blockio::{
    invalid, le16, le32, le64, read_mapped, read_vec, utf16, Piece, Source, TableCache, VirtualDisk,
};

use crate::crc32c::crc32c_zeroed;

/// The file's first eight bytes.
pub const MAGIC: &[u8; 8] = b"vhdxfile";
const KIB64: u64 = 64 * 1024;
const MIB: u64 = 1024 * 1024;
/// Largest metadata region we read (Hyper-V writes 1 MiB).
const MAX_METADATA: u64 = 16 * MIB;
/// Most entries a region table or metadata table may list (MS-VHDX; QEMU
/// refuses more). Duplicates are refused by a linear search: at most 2047² / 2
/// GUID comparisons, once per open.
const MAX_ENTRIES: usize = 2047;

const BAT_REGION: &str = "2dc27766-f623-4200-9d64-115e9bfd4a08";
const METADATA_REGION: &str = "8b7ca206-4790-4b9a-b8fe-575f050f886e";
const FILE_PARAMETERS: &str = "caa16737-fa36-4d43-b3b6-33f0aa44e76b";
const VIRTUAL_DISK_SIZE: &str = "2fa54224-cd1b-4876-b211-5dbed83bf4b8";
const LOGICAL_SECTOR_SIZE: &str = "8141bf1d-a96f-4709-ba47-f233a8faab5f";
/// MS-VHDX 2.6.2.6 (libvhdi and QEMU agree): `A8D35F2D-B30B-454D-ABF7-D3D84834AB0C`.
const PARENT_LOCATOR: &str = "a8d35f2d-b30b-454d-abf7-d3d84834ab0c";

/// A VHDX disk opened for reading.
pub struct Vhdx {
    file: Arc<dyn Source>,
    size: u64,
    block_size: u64,
    sector_size: u64,
    chunk_ratio: u64,
    bat: Vec<u64>,
    has_parent: bool,
    fixed: bool,
    log_replayed: bool,
    parent_locations: Vec<String>,
    /// The current header's `DataWriteGuid`: what children record of this disk.
    data_write_guid: String,
    /// A differencing disk's `parent_linkage` (and `parent_linkage2`): the
    /// parent's `DataWriteGuid` when this disk was made.
    parent_linkage: Vec<String>,
    parent: Option<Arc<dyn Source>>,
    bitmaps: TableCache<Vec<u8>>,
    /// The file's own structures (start, length, name): a block placed over one
    /// of them is damage, never data.
    reserved: Vec<(u64, u64, String)>,
}

/// A GUID in its usual text form, from its on-disk (mixed-endian) bytes.
fn guid(b: &[u8]) -> String {
    format!(
        "{:08x}-{:04x}-{:04x}-{:02x}{:02x}-{}",
        le32(b, 0),
        le16(b, 4),
        le16(b, 6),
        b[8],
        b[9],
        b[10..16]
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect::<String>()
    )
}

impl Vhdx {
    /// Opens the VHDX in `file`, replaying its log in memory when it is active.
    pub fn open(file: Arc<dyn Source>) -> io::Result<Vhdx> {
        let magic = read_vec(&*file, 0, 8, "VHDX signature")?;
        if magic != MAGIC {
            return Err(invalid("VHDX: no vhdxfile signature"));
        }
        let header = current_header(&*file)?;
        let data_write_guid = guid(&header[32..48]);
        let log_guid = &header[48..64];
        let (file, log_replayed): (Arc<dyn Source>, bool) = if log_guid.iter().any(|&b| b != 0) {
            let replayed = log::Replayed::replay(
                file,
                le64(&header, 72),
                u64::from(le32(&header, 68)),
                log_guid,
            )?;
            (Arc::new(replayed), true)
        } else {
            (file, false)
        };
        let regions = region_table(&*file)?;
        let reserved = reserved_ranges(&regions, le64(&header, 72), le32(&header, 68));
        let find = |id: &str| {
            regions
                .iter()
                .find(|(g, _, _)| g == id)
                .map(|&(_, at, len)| (at, len))
        };
        let (bat_at, bat_len) = find(BAT_REGION).ok_or_else(|| invalid("VHDX: no BAT region"))?;
        let (meta_at, meta_len) =
            find(METADATA_REGION).ok_or_else(|| invalid("VHDX: no metadata region"))?;
        if meta_len > MAX_METADATA {
            return Err(invalid(format!(
                "VHDX: metadata region of {meta_len} bytes"
            )));
        }
        let meta = read_vec(&*file, meta_at, meta_len, "VHDX metadata region")?;
        let items = metadata_items(&meta)?;
        // An item shorter than its fixed layout is damage, not a short read.
        let item = |id: &str, min: usize| -> io::Result<&[u8]> {
            items
                .iter()
                .find(|(g, _)| g == id)
                .map(|(_, v)| *v)
                .filter(|v| v.len() >= min)
                .ok_or_else(|| invalid(format!("VHDX: metadata item {id} missing or short")))
        };
        let parameters = item(FILE_PARAMETERS, 8)?;
        let block_size = u64::from(le32(parameters, 0));
        let flags = le32(parameters, 4);
        let size = le64(item(VIRTUAL_DISK_SIZE, 8)?, 0);
        let sector_size = u64::from(le32(item(LOGICAL_SECTOR_SIZE, 4)?, 0));
        if !block_size.is_power_of_two() || !(MIB..=256 * MIB).contains(&block_size) {
            return Err(invalid(format!("VHDX: block size {block_size}")));
        }
        if sector_size != 512 && sector_size != 4096 {
            return Err(invalid(format!("VHDX: logical sector size {sector_size}")));
        }
        if size == 0 || size > 64 << 40 {
            return Err(invalid(format!("VHDX: virtual size {size}")));
        }
        let has_parent = flags & 2 != 0;
        let chunk_ratio = (1u64 << 23) * sector_size / block_size;
        let blocks = size.div_ceil(block_size);
        let entries = if has_parent {
            blocks.div_ceil(chunk_ratio) * (chunk_ratio + 1)
        } else {
            blocks + (blocks - 1) / chunk_ratio
        };
        if entries * 8 > bat_len {
            return Err(invalid(format!(
                "VHDX: BAT region of {bat_len} bytes cannot hold its {entries} entries"
            )));
        }
        let raw = read_vec(&*file, bat_at, entries * 8, "VHDX BAT")?;
        let bat: Vec<u64> = raw.chunks_exact(8).map(|c| le64(c, 0)).collect();
        let (parent_locations, parent_linkage) = if has_parent {
            let pairs = locator_pairs(item(PARENT_LOCATOR, 20)?);
            let found = values_of(
                &pairs,
                &["relative_path", "absolute_win32_path", "volume_path"],
            );
            if found.is_empty() {
                return Err(invalid("VHDX: differencing disk names no parent path"));
            }
            (found, linkage(&pairs))
        } else {
            (Vec::new(), Vec::new())
        };
        // LeaveBlocksAllocated: what makes a disk "fixed".
        let fixed = flags & 1 != 0;
        Ok(Vhdx {
            file,
            size,
            block_size,
            sector_size,
            chunk_ratio,
            bat,
            has_parent,
            fixed,
            log_replayed,
            parent_locations,
            data_write_guid,
            parent_linkage,
            parent: None,
            bitmaps: TableCache::new(16),
            reserved,
        })
    }

    /// `host`, where a BAT entry places `len` bytes (a block or a sector
    /// bitmap), unless that overlaps the file's own structures.
    fn placed(&self, host: u64, len: u64, what: &str) -> io::Result<u64> {
        let end = host.saturating_add(len);
        match self
            .reserved
            .iter()
            .find(|(at, n, _)| host < at.saturating_add(*n) && *at < end)
        {
            Some((at, n, name)) => Err(invalid(format!(
                "VHDX: {what} at {host} overlaps the {name} ({at}..{})",
                at.saturating_add(*n)
            ))),
            None => Ok(host),
        }
    }

    fn map(&self, at: u64) -> io::Result<(Piece, u64)> {
        let block = at / self.block_size;
        let within = at % self.block_size;
        let rest = self.block_size - within;
        let index = block + block / self.chunk_ratio;
        let entry = self.bat.get(index as usize).copied().unwrap_or(0);
        let host = (entry >> 20) * MIB;
        let state = entry & 7;
        if state == 6 || state == 7 {
            self.placed(host, self.block_size, &format!("block {block}"))?;
        }
        Ok(match (state, self.has_parent) {
            (6, _) | (7, false) => (Piece::File(host + within), rest),
            (0..=3, false) | (2, true) => (Piece::Zero, rest),
            (0 | 1 | 3, true) => (Piece::Parent, rest),
            (7, true) => self.partial(block, within, host)?,
            (other, _) => {
                return Err(invalid(format!(
                    "VHDX: block {block} has unknown BAT state {other}"
                )))
            }
        })
    }

    /// A partially present block of a differencing disk: the chunk's sector
    /// bitmap says, per logical sector, whether this file or the parent holds it.
    fn partial(&self, block: u64, within: u64, host: u64) -> io::Result<(Piece, u64)> {
        let chunk = block / self.chunk_ratio;
        let entry = self
            .bat
            .get((chunk * (self.chunk_ratio + 1) + self.chunk_ratio) as usize)
            .copied()
            .unwrap_or(0);
        if entry & 7 != 6 {
            return Err(invalid(format!(
                "VHDX: block {block} is partly present but its sector bitmap is not"
            )));
        }
        let bitmap_at = self.placed(
            (entry >> 20) * MIB,
            MIB,
            &format!("sector bitmap of chunk {chunk}"),
        )?;
        let sector = ((block % self.chunk_ratio) * self.block_size + within) / self.sector_size;
        // Bitmaps are read a 4 KiB page (32 768 sectors) at a time.
        let page_bits = 4096 * 8;
        let page_at = bitmap_at + sector / page_bits * 4096;
        let page = self.bitmaps.get(page_at, || {
            read_vec(&*self.file, page_at, 4096, "VHDX sector bitmap")
        })?;
        let bit = |s: u64| {
            let i = s % page_bits;
            page[(i / 8) as usize] & (1 << (i % 8)) != 0
        };
        let mine = bit(sector);
        let block_end = (block % self.chunk_ratio + 1) * self.block_size / self.sector_size;
        let page_end = (sector / page_bits + 1) * page_bits;
        let mut next = sector + 1;
        while next < block_end.min(page_end) && bit(next) == mine {
            next += 1;
        }
        let run = (next - sector) * self.sector_size - within % self.sector_size;
        Ok(if mine {
            (Piece::File(host + within), run)
        } else {
            (Piece::Parent, run)
        })
    }
}

/// The valid header with the higher sequence number (headers at 64 and 128 KiB).
fn current_header(file: &dyn Source) -> io::Result<Vec<u8>> {
    let mut best: Option<Vec<u8>> = None;
    for at in [KIB64, 2 * KIB64] {
        let Ok(h) = read_vec(file, at, 4096, "VHDX header") else {
            continue;
        };
        if !h.starts_with(b"head") || crc32c_zeroed(&h, 4) != le32(&h, 4) {
            continue;
        }
        if best.as_ref().is_none_or(|b| le64(&h, 8) > le64(b, 8)) {
            best = Some(h);
        }
    }
    best.ok_or_else(|| invalid("VHDX: neither header (at 64 and 128 KiB) is valid"))
}

/// The ranges no block may overlap: the 1 MiB header section (file identifier,
/// headers, region tables), every region the table lists and the log. Checking
/// a block against these few is what keeps a BAT entry aimed at the BAT itself
/// or the metadata from reading them as disk data (QEMU refuses such files).
fn reserved_ranges(
    regions: &[(String, u64, u64)],
    log_at: u64,
    log_len: u32,
) -> Vec<(u64, u64, String)> {
    let mut reserved = vec![(0, MIB, "header section".to_string())];
    for (id, at, len) in regions {
        let name = match id.as_str() {
            BAT_REGION => "BAT region".to_string(),
            METADATA_REGION => "metadata region".to_string(),
            other => format!("region {other}"),
        };
        reserved.push((*at, *len, name));
    }
    if log_len != 0 {
        reserved.push((log_at, u64::from(log_len), "log".to_string()));
    }
    reserved
}

/// (GUID, offset, length) of each region, from the first intact region table.
fn region_table(file: &dyn Source) -> io::Result<Vec<(String, u64, u64)>> {
    for at in [3 * KIB64, 4 * KIB64] {
        let Ok(t) = read_vec(file, at, KIB64, "VHDX region table") else {
            continue;
        };
        if !t.starts_with(b"regi") || crc32c_zeroed(&t, 4) != le32(&t, 4) {
            continue;
        }
        let count = le32(&t, 8) as usize;
        if count > MAX_ENTRIES {
            return Err(invalid(format!("VHDX: region table lists {count} regions")));
        }
        let mut regions: Vec<(String, u64, u64)> = Vec::with_capacity(count);
        for e in t[16..16 + 32 * count].chunks_exact(32) {
            let id = guid(e);
            let required = le32(e, 28) & 1 != 0;
            if required && id != BAT_REGION && id != METADATA_REGION {
                return Err(invalid(format!("VHDX: unknown required region {id}")));
            }
            // Two BATs or metadata regions: no telling which is the disk's.
            if regions.iter().any(|(seen, _, _)| *seen == id) {
                return Err(invalid(format!("VHDX: region {id} listed twice")));
            }
            regions.push((id, le64(e, 16), u64::from(le32(e, 24))));
        }
        return Ok(regions);
    }
    Err(invalid(
        "VHDX: neither region table (at 192 and 256 KiB) is valid",
    ))
}

/// (GUID, value bytes) of each metadata item.
fn metadata_items(meta: &[u8]) -> io::Result<Vec<(String, &[u8])>> {
    if !meta.starts_with(b"metadata") || meta.len() < 32 {
        return Err(invalid("VHDX: metadata region has no signature"));
    }
    let count = usize::from(le16(meta, 10));
    if count > MAX_ENTRIES {
        return Err(invalid(format!("VHDX: metadata table lists {count} items")));
    }
    let mut items: Vec<(String, &[u8])> = Vec::with_capacity(count);
    for i in 0..count {
        let Some(e) = meta.get(32 + 32 * i..64 + 32 * i) else {
            break;
        };
        let at = le32(e, 16) as usize;
        let len = le32(e, 20) as usize;
        let value = at
            .checked_add(len)
            .and_then(|end| meta.get(at..end))
            .ok_or_else(|| invalid("VHDX: metadata item lies outside its region"))?;
        let id = guid(e);
        // Two block sizes or disk sizes: no telling which is the disk's.
        if items.iter().any(|(seen, _)| *seen == id) {
            return Err(invalid(format!("VHDX: metadata item {id} listed twice")));
        }
        items.push((id, value));
    }
    Ok(items)
}

/// The key-value pairs of a parent locator, as stored.
fn locator_pairs(locator: &[u8]) -> Vec<(String, String)> {
    if locator.len() < 20 {
        return Vec::new();
    }
    let count = usize::from(le16(locator, 18));
    let mut pairs = Vec::new();
    for i in 0..count {
        let Some(e) = locator.get(20 + 12 * i..32 + 12 * i) else {
            break;
        };
        let text = |at: usize, len: usize| locator.get(at..at + len).map(|b| utf16(b, false));
        let key = text(le32(e, 0) as usize, usize::from(le16(e, 8)));
        let value = text(le32(e, 4) as usize, usize::from(le16(e, 10)));
        if let (Some(k), Some(v)) = (key, value) {
            pairs.push((k, v));
        }
    }
    pairs
}

/// The parent's `DataWriteGuid`s a locator accepts, as [`guid`] writes them.
fn linkage(pairs: &[(String, String)]) -> Vec<String> {
    values_of(pairs, &["parent_linkage", "parent_linkage2"])
        .into_iter()
        .map(|g| {
            g.trim_matches(|c| c == '{' || c == '}')
                .to_ascii_lowercase()
        })
        .collect()
}

/// The values of `keys` that the pairs hold, in the order of `keys` (parent paths:
/// relative before absolute).
fn values_of(pairs: &[(String, String)], keys: &[&str]) -> Vec<String> {
    keys.iter()
        .filter_map(|want| {
            pairs
                .iter()
                .find(|(k, _)| k == want)
                .map(|(_, v)| v.clone())
        })
        .collect()
}

impl Source for Vhdx {
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

impl VirtualDisk for Vhdx {
    fn format(&self) -> &'static str {
        "VHDX"
    }

    fn subformat(&self) -> String {
        let kind = if self.has_parent {
            "differencing"
        } else if self.fixed {
            "fixed"
        } else {
            "dynamic"
        };
        if self.log_replayed {
            format!("{kind} (log replayed in memory)")
        } else {
            kind.to_string()
        }
    }

    fn parent_locations(&self) -> Vec<String> {
        self.parent_locations.clone()
    }

    fn set_parent(&mut self, parent: Arc<dyn Source>) {
        self.parent = Some(parent);
    }

    fn identity(&self) -> Option<String> {
        Some(self.data_write_guid.clone())
    }

    fn parent_identities(&self) -> Vec<String> {
        self.parent_linkage.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On-disk (mixed-endian) bytes of a GUID in its text form: what [`guid`] reads.
    fn guid_bytes(text: &str) -> [u8; 16] {
        let hex: String = text.chars().filter(|c| *c != '-').collect();
        let mut b = [0u8; 16];
        for (i, byte) in b.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
        }
        b[..4].reverse();
        b[4..6].reverse();
        b[6..8].reverse();
        b
    }

    /// A parent locator item as the specification lays it out: a 20-byte header
    /// (type GUID, reserved, count), 12-byte entries, then UTF-16LE keys and values.
    fn locator_item(pairs: &[(&str, &str)]) -> Vec<u8> {
        let utf16 = |t: &str| -> Vec<u8> { t.encode_utf16().flat_map(u16::to_le_bytes).collect() };
        let mut item = vec![0u8; 20];
        item[18..20].copy_from_slice(&(pairs.len() as u16).to_le_bytes());
        let mut strings = Vec::new();
        let table_end = 20 + 12 * pairs.len();
        for (key, value) in pairs {
            let (k, v) = (utf16(key), utf16(value));
            let key_at = table_end + strings.len();
            strings.extend_from_slice(&k);
            let value_at = table_end + strings.len();
            strings.extend_from_slice(&v);
            item.extend_from_slice(&(key_at as u32).to_le_bytes());
            item.extend_from_slice(&(value_at as u32).to_le_bytes());
            item.extend_from_slice(&(k.len() as u16).to_le_bytes());
            item.extend_from_slice(&(v.len() as u16).to_le_bytes());
        }
        item.extend_from_slice(&strings);
        item
    }

    /// Where [`disk`] puts things: the log at 1 MiB, metadata at 2 MiB, the BAT
    /// at 3 MiB (1 MiB each), payload blocks from 4 MiB.
    const LOG_AT: u64 = MIB;
    const META_AT: u64 = 2 * MIB;
    const BAT_AT: u64 = 3 * MIB;
    const DATA_AT: u64 = 4 * MIB;

    /// Writes the region table (at 192 KiB) listing `regions` (GUID, offset, length).
    fn write_regions(file: &mut [u8], regions: &[(&str, u64, u32)]) {
        let at = 3 * KIB64 as usize;
        let t = &mut file[at..at + KIB64 as usize];
        t.fill(0);
        t[..4].copy_from_slice(b"regi");
        t[8..12].copy_from_slice(&(regions.len() as u32).to_le_bytes());
        for (i, (id, offset, len)) in regions.iter().enumerate() {
            let e = &mut t[16 + 32 * i..48 + 32 * i];
            e[..16].copy_from_slice(&guid_bytes(id));
            e[16..24].copy_from_slice(&offset.to_le_bytes());
            e[24..28].copy_from_slice(&len.to_le_bytes());
            e[28..32].copy_from_slice(&1u32.to_le_bytes());
        }
        let crc = crc32c_zeroed(t, 4);
        t[4..8].copy_from_slice(&crc.to_le_bytes());
    }

    /// Writes the metadata region (at [`META_AT`]) holding `items`, values from 64 KiB in.
    fn write_metadata(file: &mut [u8], items: &[(&str, Vec<u8>)]) {
        let m = &mut file[META_AT as usize..(META_AT + MIB) as usize];
        m.fill(0);
        m[..8].copy_from_slice(b"metadata");
        m[10..12].copy_from_slice(&(items.len() as u16).to_le_bytes());
        let mut value_at = KIB64 as usize;
        for (i, (id, value)) in items.iter().enumerate() {
            let e = &mut m[32 + 32 * i..64 + 32 * i];
            e[..16].copy_from_slice(&guid_bytes(id));
            e[16..20].copy_from_slice(&(value_at as u32).to_le_bytes());
            e[20..24].copy_from_slice(&(value.len() as u32).to_le_bytes());
            m[value_at..value_at + value.len()].copy_from_slice(value);
            value_at += value.len().next_multiple_of(8);
        }
    }

    /// The standard metadata items of a disk of `size` bytes in 1 MiB blocks of
    /// 512-byte sectors, with file parameter `flags` (2: has a parent).
    fn items(size: u64, flags: u32) -> Vec<(&'static str, Vec<u8>)> {
        let mut parameters = (MIB as u32).to_le_bytes().to_vec();
        parameters.extend_from_slice(&flags.to_le_bytes());
        vec![
            (FILE_PARAMETERS, parameters),
            (VIRTUAL_DISK_SIZE, size.to_le_bytes().to_vec()),
            (LOGICAL_SECTOR_SIZE, 512u32.to_le_bytes().to_vec()),
        ]
    }

    /// A VHDX built by hand from MS-VHDX: one header (64 KiB, sequence 1, a
    /// 1 MiB log that is not active), the region table, `items`, and a zeroed BAT;
    /// room for `blocks` payload blocks after [`DATA_AT`].
    fn disk(items: &[(&str, Vec<u8>)], blocks: u64) -> Vec<u8> {
        let mut file = vec![0u8; (DATA_AT + blocks * MIB) as usize];
        file[..8].copy_from_slice(MAGIC);
        let h = &mut file[KIB64 as usize..KIB64 as usize + 4096];
        h[..4].copy_from_slice(b"head");
        h[8..16].copy_from_slice(&1u64.to_le_bytes());
        h[32..48].copy_from_slice(&[0x11; 16]);
        h[68..72].copy_from_slice(&(MIB as u32).to_le_bytes());
        h[72..80].copy_from_slice(&LOG_AT.to_le_bytes());
        let crc = crc32c_zeroed(h, 4);
        h[4..8].copy_from_slice(&crc.to_le_bytes());
        write_regions(
            &mut file,
            &[
                (BAT_REGION, BAT_AT, MIB as u32),
                (METADATA_REGION, META_AT, MIB as u32),
            ],
        );
        write_metadata(&mut file, items);
        file
    }

    /// Sets BAT entry `index` to `state` at file offset `at` (whole MiB).
    fn set_bat(file: &mut [u8], index: u64, at: u64, state: u64) {
        let e = (BAT_AT + 8 * index) as usize;
        file[e..e + 8].copy_from_slice(&((at / MIB) << 20 | state).to_le_bytes());
    }

    #[test]
    fn parent_locator_gives_paths_and_linkage() {
        let item = locator_item(&[
            ("parent_linkage", "{6B1F3C2A-0D4E-4F5A-9B8C-7D6E5F4A3B2C}"),
            ("absolute_win32_path", "C:\\vms\\base.vhdx"),
            ("relative_path", ".\\base.vhdx"),
        ]);
        let pairs = super::locator_pairs(&item);
        assert_eq!(
            super::values_of(
                &pairs,
                &["relative_path", "absolute_win32_path", "volume_path"]
            ),
            [".\\base.vhdx", "C:\\vms\\base.vhdx"]
        );
        assert_eq!(
            super::linkage(&pairs),
            ["6b1f3c2a-0d4e-4f5a-9b8c-7d6e5f4a3b2c"]
        );
        // The form the header's DataWriteGuid is written in, from its on-disk bytes.
        let on_disk = [
            0x2a, 0x3c, 0x1f, 0x6b, 0x4e, 0x0d, 0x5a, 0x4f, 0x9b, 0x8c, 0x7d, 0x6e, 0x5f, 0x4a,
            0x3b, 0x2c,
        ];
        assert_eq!(
            super::guid(&on_disk),
            "6b1f3c2a-0d4e-4f5a-9b8c-7d6e5f4a3b2c"
        );
        assert_eq!(guid_bytes("6b1f3c2a-0d4e-4f5a-9b8c-7d6e5f4a3b2c"), on_disk);
    }

    /// A differencing child as Hyper-V writes one: its parent locator item under
    /// the GUID MS-VHDX gives (`A8D35F2D-…`, typed here from the specification, not
    /// from the constant), every block absent, so every byte is the parent's.
    #[test]
    fn differencing_child_with_the_spec_locator_guid_reads_its_parent() {
        let mut meta = items(2 * MIB, 2);
        let locator = locator_item(&[
            ("parent_linkage", "{6B1F3C2A-0D4E-4F5A-9B8C-7D6E5F4A3B2C}"),
            ("relative_path", ".\\parent.vhdx"),
        ]);
        meta.push(("A8D35F2D-B30B-454D-ABF7-D3D84834AB0C", locator));
        let mut child = Vhdx::open(Arc::new(disk(&meta, 0))).unwrap();
        assert_eq!(child.subformat(), "differencing");
        assert_eq!(child.parent_locations(), [".\\parent.vhdx"]);
        assert_eq!(
            child.parent_identities(),
            ["6b1f3c2a-0d4e-4f5a-9b8c-7d6e5f4a3b2c"]
        );
        child.set_parent(Arc::new(vec![0x5au8; 2 * MIB as usize]));
        let mut buf = vec![0u8; 4096];
        child.read_exact_at(&mut buf, MIB + 512).unwrap();
        assert!(buf.iter().all(|&b| b == 0x5a));
    }

    /// A block the BAT places over the file's own header section, BAT, metadata
    /// or log is a read error for that block (QEMU refuses the file), while a
    /// block placed in free space reads.
    #[test]
    fn block_over_the_files_own_structures_is_damage() {
        let mut file = disk(&items(5 * MIB, 0), 1);
        file[DATA_AT as usize..].fill(0x77);
        set_bat(&mut file, 0, DATA_AT, 6);
        let cases = [
            (0, "header section"),
            (LOG_AT, "log"),
            (META_AT, "metadata region"),
            (BAT_AT, "BAT region"),
        ];
        for (i, (at, _)) in cases.iter().enumerate() {
            set_bat(&mut file, 1 + i as u64, *at, 6);
        }
        let vhdx = Vhdx::open(Arc::new(file)).unwrap();
        let mut buf = vec![0u8; 4096];
        vhdx.read_exact_at(&mut buf, 0).unwrap();
        assert!(buf.iter().all(|&b| b == 0x77));
        for (i, (_, name)) in cases.iter().enumerate() {
            let error = vhdx
                .read_exact_at(&mut buf, (1 + i as u64) * MIB)
                .unwrap_err();
            assert!(error.to_string().contains(name), "{error}");
        }
    }

    /// A region or metadata item listed twice leaves no telling which copy is
    /// the disk's: refused, as QEMU refuses it.
    #[test]
    fn duplicate_regions_and_metadata_items_are_refused() {
        let meta = items(MIB, 0);
        assert!(Vhdx::open(Arc::new(disk(&meta, 0))).is_ok());

        let mut file = disk(&meta, 0);
        write_regions(
            &mut file,
            &[
                (BAT_REGION, BAT_AT, MIB as u32),
                (METADATA_REGION, META_AT, MIB as u32),
                (BAT_REGION, DATA_AT, MIB as u32),
            ],
        );
        let error = Vhdx::open(Arc::new(file)).err().unwrap();
        assert!(error.to_string().contains("listed twice"), "{error}");

        let mut twice = meta.clone();
        twice.push(items(2 * MIB, 0)[0].clone());
        let error = Vhdx::open(Arc::new(disk(&twice, 0))).err().unwrap();
        assert!(error.to_string().contains("listed twice"), "{error}");
    }
}
