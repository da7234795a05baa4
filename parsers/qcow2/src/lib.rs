//! Read-only QCOW2 (QEMU copy-on-write, versions 2 and 3) disks: L1/L2 tables,
//! deflate-compressed clusters, all-zero clusters and backing files. See
//! README.md for the format notes this follows.

// Parsers read hostile bytes: a panic would cost the whole scan, so every
// fallible step returns an error (tests may unwrap: clippy.toml).
#![deny(clippy::unwrap_used, clippy::expect_used)]

use std::io;
use std::sync::Arc;

use blockio::{
    be32, be64, inflate_at_most, invalid, read_mapped, read_vec, Piece, Source, TableCache,
    VirtualDisk,
};

/// The file's first four bytes.
pub const MAGIC: &[u8; 4] = b"QFI\xfb";
const OFFSET_MASK: u64 = 0x00ff_ffff_ffff_fe00;
const COMPRESSED: u64 = 1 << 62;
const ZERO_FLAG: u64 = 1;
/// Incompatible features that leave the data readable: bit 0 (dirty: only the
/// refcounts may be stale) and bit 1 (corrupt: QEMU found an inconsistency; the
/// image is still read, and the subformat says so).
const KNOWN_INCOMPATIBLE: u64 = 0b11;
/// Longest backing file name QEMU allows.
const MAX_BACKING_NAME: u32 = 1023;

/// A QCOW2 image opened for reading.
pub struct Qcow2 {
    file: Arc<dyn Source>,
    version: u32,
    size: u64,
    cluster_bits: u32,
    l1: Vec<u64>,
    backing: Option<String>,
    corrupt: bool,
    parent: Option<Arc<dyn Source>>,
    l2_tables: TableCache<Vec<u64>>,
    clusters: TableCache<Vec<u8>>,
    /// The file's own structures (start, length, name): an L2 table or cluster
    /// placed over one of them is damage, never data.
    reserved: Vec<(u64, u64, &'static str)>,
}

impl Qcow2 {
    /// Opens the QCOW2 image in `file`; encrypted images and features that
    /// change how data is laid out (external data file, zstd, subclusters) are
    /// refused by name.
    pub fn open(file: Arc<dyn Source>) -> io::Result<Qcow2> {
        let header = read_vec(&*file, 0, 104, "QCOW2 header")?;
        if !header.starts_with(MAGIC) {
            return Err(invalid("QCOW2: no QFI\\xfb signature"));
        }
        let version = be32(&header, 4);
        if !(2..=3).contains(&version) {
            return Err(invalid(format!("QCOW2: version {version} is not 2 or 3")));
        }
        let cluster_bits = be32(&header, 20);
        if !(9..=21).contains(&cluster_bits) {
            return Err(invalid(format!(
                "QCOW2: cluster_bits {cluster_bits} out of range 9..21"
            )));
        }
        let size = be64(&header, 24);
        match be32(&header, 32) {
            0 => {}
            1 => {
                return Err(invalid(
                    "QCOW2: image is encrypted (AES); toolmark does not decrypt",
                ))
            }
            2 => {
                return Err(invalid(
                    "QCOW2: image is encrypted (LUKS); toolmark does not decrypt",
                ))
            }
            m => return Err(invalid(format!("QCOW2: unknown encryption method {m}"))),
        }
        let mut corrupt = false;
        if version == 3 {
            let incompatible = be64(&header, 72);
            let unknown = incompatible & !KNOWN_INCOMPATIBLE;
            if unknown != 0 {
                return Err(invalid(format!(
                    "QCOW2: incompatible features {unknown:#x} (external data file, zstd or \
                     extended L2 entries) are not supported"
                )));
            }
            corrupt = incompatible & 2 != 0;
        }
        let cluster = 1u64 << cluster_bits;
        let entries_per_l2 = cluster / 8;
        let needed = size.div_ceil(cluster).div_ceil(entries_per_l2);
        let l1_size = u64::from(be32(&header, 36));
        if l1_size < needed {
            return Err(invalid(format!(
                "QCOW2: L1 table of {l1_size} entries cannot map the {size} byte disk"
            )));
        }
        let l1_at = be64(&header, 40);
        let l1_raw = read_vec(&*file, l1_at, needed * 8, "QCOW2 L1 table")?;
        let reserved = vec![
            (0, cluster, "header cluster"),
            (l1_at, l1_size * 8, "L1 table"),
            (
                be64(&header, 48),
                u64::from(be32(&header, 56)).saturating_mul(cluster),
                "refcount table",
            ),
        ];
        let l1 = l1_raw.chunks_exact(8).map(|c| be64(c, 0)).collect();
        let backing = match (be64(&header, 8), be32(&header, 16)) {
            (0, _) => None,
            (at, len) if len > 0 && len <= MAX_BACKING_NAME => {
                let name = read_vec(&*file, at, u64::from(len), "QCOW2 backing file name")?;
                Some(String::from_utf8_lossy(&name).into_owned())
            }
            (_, len) => return Err(invalid(format!("QCOW2: backing file name of {len} bytes"))),
        };
        Ok(Qcow2 {
            file,
            version,
            size,
            cluster_bits,
            l1,
            backing,
            corrupt,
            parent: None,
            l2_tables: TableCache::new(16),
            clusters: TableCache::new(8),
            reserved,
        })
    }

    /// The backing file name as stored (relative to the image's directory or absolute).
    pub fn backing_file(&self) -> Option<&str> {
        self.backing.as_deref()
    }

    fn cluster_size(&self) -> u64 {
        1 << self.cluster_bits
    }

    fn l2_entry(&self, cluster_index: u64) -> io::Result<u64> {
        let per_l2 = self.cluster_size() / 8;
        let l1_entry = self
            .l1
            .get((cluster_index / per_l2) as usize)
            .copied()
            .unwrap_or(0);
        let table_at = l1_entry & OFFSET_MASK;
        if table_at == 0 {
            return self.unallocated(l1_entry, "L1").map(|()| 0);
        }
        self.aligned(table_at, "L2 table")?;
        self.placed(table_at, self.cluster_size(), "L2 table", None)?;
        let table = self.l2_tables.get(table_at, || {
            let raw = read_vec(&*self.file, table_at, self.cluster_size(), "QCOW2 L2 table")?;
            Ok(raw.chunks_exact(8).map(|c| be64(c, 0)).collect())
        })?;
        let entry = table
            .get((cluster_index % per_l2) as usize)
            .copied()
            .unwrap_or(0);
        if entry & COMPRESSED == 0 && !(self.version == 3 && entry & ZERO_FLAG != 0) {
            match entry & OFFSET_MASK {
                0 => self.unallocated(entry, "L2")?,
                host => {
                    self.aligned(host, "data cluster")?;
                    self.placed(host, self.cluster_size(), "data cluster", Some(table_at))?;
                }
            }
        }
        Ok(entry)
    }

    /// An entry with no offset is unallocated, unless it says its cluster is in
    /// use (bit 63, "copied": refcount exactly one): then it points at offset 0,
    /// the header, which QEMU's check calls corruption.
    fn unallocated(&self, entry: u64, table: &str) -> io::Result<()> {
        if entry & 1 << 63 != 0 {
            return Err(invalid(format!(
                "QCOW2: {table} entry {entry:#x} is marked in use but points at offset 0, the \
                 header"
            )));
        }
        Ok(())
    }

    /// L2 tables and uncompressed clusters start on a cluster boundary (the
    /// specification requires it; QEMU refuses an image that breaks it).
    fn aligned(&self, host: u64, what: &str) -> io::Result<()> {
        if host % self.cluster_size() != 0 {
            return Err(invalid(format!(
                "QCOW2: {what} at {host} is not on a cluster boundary"
            )));
        }
        Ok(())
    }

    /// Checks that `len` bytes at `host`, where an entry places an L2 table or a
    /// cluster, overlap neither the header cluster, the L1 table, the refcount
    /// table nor `table` (the L2 table holding the entry): those read as disk
    /// data would be wrong bytes, not damage anyone sees.
    fn placed(&self, host: u64, len: u64, what: &str, table: Option<u64>) -> io::Result<()> {
        let end = host.saturating_add(len);
        let own = table.map(|at| (at, self.cluster_size(), "L2 table holding it"));
        match self
            .reserved
            .iter()
            .copied()
            .chain(own)
            .find(|(at, n, _)| host < at.saturating_add(*n) && *at < end)
        {
            Some((at, n, name)) => Err(invalid(format!(
                "QCOW2: {what} at {host} overlaps the {name} ({at}..{})",
                at.saturating_add(n)
            ))),
            None => Ok(()),
        }
    }

    /// The compressed cluster an L2 entry describes, inflated and cached: small
    /// reads of one cluster inflate it once.
    fn compressed_cluster(&self, entry: u64) -> io::Result<Arc<Vec<u8>>> {
        self.clusters.get(entry, || self.inflate_cluster(entry))
    }

    /// Inflates the compressed cluster an L2 entry describes; it must come to
    /// exactly one cluster (QEMU always compresses whole clusters), neither
    /// short nor long.
    fn inflate_cluster(&self, entry: u64) -> io::Result<Vec<u8>> {
        let shift = 62 - (self.cluster_bits - 8);
        let host = entry & ((1u64 << shift) - 1);
        let sectors = ((entry & ((1u64 << 62) - 1)) >> shift) + 1;
        let stored = (sectors * 512 - (host & 511)).min(self.file.len().saturating_sub(host));
        self.placed(host, stored, "compressed cluster", None)?;
        let input = read_vec(&*self.file, host, stored, "QCOW2 compressed cluster")?;
        let cluster = self.cluster_size() as usize;
        let out = inflate_at_most(&input, cluster, false)
            .map_err(|e| invalid(format!("QCOW2: cluster at {host}: {e}")))?;
        if out.len() != cluster {
            return Err(invalid(format!(
                "QCOW2: compressed cluster at {host} inflates to {} bytes, not {cluster}",
                out.len()
            )));
        }
        Ok(out)
    }

    /// Where an uncompressed cluster's bytes are, from its L2 entry.
    fn piece(&self, entry: u64, within: u64) -> Piece {
        let host = entry & OFFSET_MASK;
        if self.version == 3 && entry & ZERO_FLAG != 0 {
            Piece::Zero
        } else if host == 0 {
            Piece::Parent
        } else {
            Piece::File(host + within)
        }
    }
}

impl Source for Qcow2 {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        // Compressed clusters are served here, the rest by the shared mapper.
        if offset >= self.size {
            return Ok(0);
        }
        let total = (self.size - offset).min(buf.len() as u64) as usize;
        let mut done = 0;
        while done < total {
            let at = offset + done as u64;
            let within = at & (self.cluster_size() - 1);
            let n = ((self.cluster_size() - within) as usize).min(total - done);
            let entry = self.l2_entry(at >> self.cluster_bits)?;
            let out = &mut buf[done..done + n];
            if entry & COMPRESSED != 0 && n as u64 == self.cluster_size() {
                // A whole cluster is read once: not cached, so it evicts nothing.
                out.copy_from_slice(&self.inflate_cluster(entry)?);
            } else if entry & COMPRESSED != 0 {
                let cluster = self.compressed_cluster(entry)?;
                out.copy_from_slice(&cluster[within as usize..within as usize + n]);
            } else {
                let piece = self.piece(entry, within);
                let parent = self.parent.as_deref();
                read_mapped(out, at, self.size, &*self.file, parent, |_| {
                    Ok((piece, n as u64))
                })?;
            }
            done += n;
        }
        Ok(total)
    }

    fn len(&self) -> u64 {
        self.size
    }
}

impl VirtualDisk for Qcow2 {
    fn format(&self) -> &'static str {
        "QCOW2"
    }

    fn subformat(&self) -> String {
        let mut s = format!("v{}", self.version);
        if self.corrupt {
            s.push_str(" (marked corrupt by QEMU)");
        }
        s
    }

    fn parent_locations(&self) -> Vec<String> {
        self.backing.iter().cloned().collect()
    }

    fn set_parent(&mut self, parent: Arc<dyn Source>) {
        self.parent = Some(parent);
    }

    /// The corrupt bit: QEMU found the image inconsistent and stopped writing it.
    /// It is read through, but the evidence is not intact and the report says so.
    fn repairs(&self) -> Vec<String> {
        if self.corrupt {
            vec![
                "QCOW2: the image is marked corrupt (incompatible feature bit 1): QEMU \
                  found its metadata inconsistent; read as found"
                    .to_string(),
            ]
        } else {
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLUSTER: u64 = 64 * 1024;
    const L1_AT: u64 = CLUSTER;
    const L2_AT: u64 = 2 * CLUSTER;
    const DATA_AT: u64 = 3 * CLUSTER;

    /// A version 3 image built by hand from the QCOW2 specification: 64 KiB
    /// clusters, a 256 KiB disk, the header in cluster 0, the L1 table (one
    /// entry, pointing at the L2 table) in cluster 1, the L2 table in cluster 2,
    /// room for data from cluster 3. Every L2 entry is zero (unallocated).
    fn image() -> Vec<u8> {
        let mut file = vec![0u8; (DATA_AT + 2 * CLUSTER) as usize];
        file[..4].copy_from_slice(MAGIC);
        file[4..8].copy_from_slice(&3u32.to_be_bytes());
        file[20..24].copy_from_slice(&16u32.to_be_bytes());
        file[24..32].copy_from_slice(&(4 * CLUSTER).to_be_bytes());
        file[36..40].copy_from_slice(&1u32.to_be_bytes());
        file[40..48].copy_from_slice(&L1_AT.to_be_bytes());
        file[100..104].copy_from_slice(&104u32.to_be_bytes());
        set(&mut file, L1_AT, 1 << 63 | L2_AT);
        file
    }

    /// Writes the big-endian table entry `value` at file offset `at`.
    fn set(file: &mut [u8], at: u64, value: u64) {
        file[at as usize..at as usize + 8].copy_from_slice(&value.to_be_bytes());
    }

    /// Makes guest cluster 0 a compressed cluster holding `stream` (raw deflate)
    /// at [`DATA_AT`], its sector count as QEMU computes it.
    fn compressed(stream: &[u8]) -> Vec<u8> {
        let mut file = image();
        file[DATA_AT as usize..DATA_AT as usize + stream.len()].copy_from_slice(stream);
        let sectors = (stream.len() as u64).div_ceil(512);
        set(&mut file, L2_AT, COMPRESSED | (sectors - 1) << 54 | DATA_AT);
        file
    }

    fn read_cluster(file: Vec<u8>) -> io::Result<Vec<u8>> {
        let qcow = Qcow2::open(Arc::new(file))?;
        let mut buf = vec![0u8; CLUSTER as usize];
        qcow.read_exact_at(&mut buf, 0)?;
        Ok(buf)
    }

    #[test]
    fn compressed_cluster_must_inflate_to_exactly_its_size() {
        let deflate = |data: &[u8]| miniz_oxide::deflate::compress_to_vec(data, 6);
        let exact = vec![0x33u8; CLUSTER as usize];
        assert_eq!(read_cluster(compressed(&deflate(&exact))).unwrap(), exact);

        let short = deflate(&[0x33u8; 1024]);
        let error = read_cluster(compressed(&short)).unwrap_err();
        assert!(
            error.to_string().contains("inflates to 1024 bytes"),
            "{error}"
        );

        // 24 MiB of zeros deflate to about 24 KB: fits in the cluster's sectors.
        let bomb = deflate(&vec![0u8; 24 << 20]);
        assert!(bomb.len() < CLUSTER as usize);
        let error = read_cluster(compressed(&bomb)).unwrap_err();
        assert!(error.to_string().contains("more than 65536"), "{error}");
    }

    /// An L1 entry marked in use at offset 0 (the header), one aimed at the L1
    /// table itself, an unaligned one, and an L2 entry aimed at its own table
    /// are read errors naming what they overlap, never the metadata's bytes.
    #[test]
    fn entry_over_the_files_own_structures_is_damage() {
        let mut file = image();
        file[DATA_AT as usize..].fill(0x66);
        set(&mut file, L2_AT, 1 << 63 | DATA_AT);
        assert!(read_cluster(file.clone())
            .unwrap()
            .iter()
            .all(|&b| b == 0x66));
        let cases = [
            (L1_AT, 1 << 63, "offset 0, the header"),
            (L1_AT, 1 << 63 | L1_AT, "overlaps the L1 table"),
            (L1_AT, 1 << 63 | (L2_AT + 512), "not on a cluster boundary"),
            (L2_AT, 1 << 63 | L2_AT, "overlaps the L2 table holding it"),
            (L2_AT, 1 << 63, "offset 0, the header"),
        ];
        for (at, entry, said) in cases {
            let mut damaged = file.clone();
            set(&mut damaged, at, entry);
            let error = read_cluster(damaged).unwrap_err();
            assert!(error.to_string().contains(said), "{said}: {error}");
        }
    }

    #[test]
    fn corrupt_bit_is_reported_as_damage() {
        let clean = Qcow2::open(Arc::new(image())).unwrap();
        assert!(clean.repairs().is_empty());
        let mut file = image();
        file[72..80].copy_from_slice(&2u64.to_be_bytes());
        let marked = Qcow2::open(Arc::new(file)).unwrap();
        assert!(marked.repairs()[0].contains("marked corrupt"));
        assert!(marked.subformat().contains("corrupt"));
    }
}
