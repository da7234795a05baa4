//! Reading an attribute's value: resident bytes, or runs of clusters that may be
//! sparse, partly initialised, or LZNT1-compressed.
//!
//! `Stream` implements [`ReadAt`], so a file inside a volume is read exactly like an
//! image. Sparse runs and the area past the initialised size read as zeros without
//! touching the disk or allocating their size; a cluster no run maps is an error,
//! never silent zeros.

use std::io;
use std::sync::{Arc, Mutex};

use super::attribute::{Attribute, Body, NonResident, FLAG_COMPRESSED, FLAG_ENCRYPTED};
use super::lznt1;
use super::runs::Run;
use crate::evidence::ReadAt;

/// Largest compression unit accepted (Windows uses 16 clusters of at most 4 KiB).
const MAX_UNIT_BYTES: u64 = 1 << 20;

/// One piece of a stream's byte range, for callers that want to skip sparse parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Extent {
    /// Offset in the stream.
    pub offset: u64,
    /// Length in bytes.
    pub length: u64,
    /// True if the piece is unallocated and reads as zeros.
    pub sparse: bool,
}

enum Content {
    Resident(Vec<u8>),
    Runs {
        runs: Vec<Run>,
        compression: Option<Compression>,
    },
}

struct Compression {
    unit_clusters: u64,
    /// The last unit decompressed, so sequential reads decompress each unit once.
    cache: Mutex<Option<(u64, Arc<Vec<u8>>)>>,
}

/// The value of one attribute (e.g. a file's `$DATA`, or a named stream).
pub struct Stream {
    volume: Arc<dyn ReadAt>,
    cluster_size: u64,
    size: u64,
    initialized: u64,
    encrypted: bool,
    content: Content,
}

impl Stream {
    /// Builds a stream from the extents of one attribute (same type and name),
    /// which may come from several MFT records.
    pub fn from_extents(
        volume: Arc<dyn ReadAt>,
        cluster_size: u64,
        extents: &[&Attribute],
    ) -> Result<Stream, String> {
        let first = extents.first().ok_or("attribute has no extents")?;
        let encrypted = first.flags & FLAG_ENCRYPTED != 0;
        if let Body::Resident(value) = &first.body {
            return Ok(Stream {
                volume,
                cluster_size,
                size: value.len() as u64,
                initialized: value.len() as u64,
                encrypted,
                content: Content::Resident(value.clone()),
            });
        }
        let mut pieces: Vec<_> = extents
            .iter()
            .filter_map(|a| match &a.body {
                Body::NonResident(n) => Some(n),
                Body::Resident(_) => None,
            })
            .collect();
        pieces.sort_by_key(|n| n.first_vcn);
        let head = pieces
            .first()
            .filter(|n| n.first_vcn == 0)
            .ok_or("no extent starts at cluster 0")?;
        let (size, initialized) = readable_sizes(first, head);
        let compression = if first.flags & FLAG_COMPRESSED != 0 && head.compression_unit > 0 {
            let unit_clusters = 1u64
                .checked_shl(u32::from(head.compression_unit))
                .filter(|&c| c.saturating_mul(cluster_size) <= MAX_UNIT_BYTES)
                .ok_or_else(|| {
                    format!(
                        "compression unit 2^{} clusters too large",
                        head.compression_unit
                    )
                })?;
            Some(Compression {
                unit_clusters,
                cache: Mutex::new(None),
            })
        } else {
            None
        };
        let mut runs: Vec<Run> = Vec::new();
        let volume_clusters = volume.len() / cluster_size;
        for piece in pieces {
            let expected = runs.last().map_or(0, |r| r.vcn + r.clusters);
            if piece.first_vcn != expected {
                return Err(format!(
                    "attribute extents leave a gap: expected cluster {expected}, next extent starts at {}",
                    piece.first_vcn
                ));
            }
            // A run the volume cannot hold is damage to this file, never a read
            // (or an allocation) of the size it claims.
            if let Some(bad) = piece.runs.iter().find(|r| {
                r.lcn
                    .is_some_and(|l| l.saturating_add(r.clusters) > volume_clusters)
            }) {
                return Err(format!(
                    "data run at virtual cluster {} claims clusters {}..{} but the volume has {volume_clusters}",
                    bad.vcn,
                    bad.lcn.unwrap_or(0),
                    bad.lcn.unwrap_or(0).saturating_add(bad.clusters),
                ));
            }
            runs.extend_from_slice(&piece.runs);
        }
        Ok(Stream {
            volume,
            cluster_size,
            size,
            initialized,
            encrypted,
            content: Content::Runs { runs, compression },
        })
    }

    /// True if the value is LZNT1-compressed on disk (reads return it decompressed).
    pub fn is_compressed(&self) -> bool {
        matches!(
            &self.content,
            Content::Runs {
                compression: Some(_),
                ..
            }
        )
    }

    /// True if the value is EFS-encrypted (reads return the ciphertext).
    pub fn is_encrypted(&self) -> bool {
        self.encrypted
    }

    /// Bytes the run list maps (allocated or sparse), which damaged metadata can
    /// make smaller than the stated size; reads past it fail.
    pub fn mapped_len(&self) -> u64 {
        match &self.content {
            Content::Resident(v) => v.len() as u64,
            Content::Runs { runs, .. } => runs
                .last()
                .map_or(0, |r| {
                    (r.vcn + r.clusters).saturating_mul(self.cluster_size)
                })
                .min(self.size),
        }
    }

    /// The volume byte ranges of the clusters the stream's runs allocate, in run
    /// order (none for resident data and sparse runs; a run whose extent does not
    /// fit in 64 bits is left out, the reads report it).
    pub fn volume_ranges(&self) -> Vec<std::ops::Range<u64>> {
        let Content::Runs { runs, .. } = &self.content else {
            return Vec::new();
        };
        runs.iter()
            .filter_map(|run| {
                let start = run.lcn?.checked_mul(self.cluster_size)?;
                let end = start.checked_add(run.clusters.checked_mul(self.cluster_size)?)?;
                Some(start..end)
            })
            .collect()
    }

    /// Which parts of the stream hold data and which read as zeros without
    /// touching the disk (sparse runs, and everything past the initialised size),
    /// in order.
    pub fn extents(&self) -> Vec<Extent> {
        let Content::Runs { runs, .. } = &self.content else {
            return vec![Extent {
                offset: 0,
                length: self.size,
                sparse: false,
            }];
        };
        let mut out: Vec<Extent> = Vec::new();
        let mut push = |offset: u64, length: u64, sparse: bool| {
            if length == 0 {
                return;
            }
            match out.last_mut() {
                Some(last) if last.sparse == sparse && last.offset + last.length == offset => {
                    last.length += length
                }
                _ => out.push(Extent {
                    offset,
                    length,
                    sparse,
                }),
            }
        };
        // A compressed stream's allocated clusters hold compressed units: the whole
        // of every unit that has any is data.
        let compressed = self.is_compressed();
        for run in runs {
            let offset = run.vcn.saturating_mul(self.cluster_size);
            if offset >= self.size {
                break;
            }
            let length = run
                .clusters
                .saturating_mul(self.cluster_size)
                .min(self.size - offset);
            let sparse = run.lcn.is_none() && !compressed;
            let init = self.initialized.clamp(offset, offset + length);
            push(offset, init - offset, sparse);
            push(init, offset + length - init, true);
        }
        out
    }

    /// Where the bytes that exist on disk end: past it the stream is only zeros
    /// (sparse or never written). A reader of a format that never ends in zeros
    /// (event logs, hives) stops here rather than at the stated size.
    pub fn data_end(&self) -> u64 {
        self.extents()
            .iter()
            .rev()
            .find(|e| !e.sparse)
            .map_or(0, |e| e.offset + e.length)
    }

    /// Bytes of the stated size that nothing on disk backs: sparse or unwritten
    /// (they read as zeros) or past the end of the run list (they fail to read).
    pub fn unbacked_len(&self) -> u64 {
        let sparse: u64 = self
            .extents()
            .iter()
            .filter(|e| e.sparse)
            .map(|e| e.length)
            .sum();
        sparse + (self.size - self.mapped_len())
    }

    fn read_runs(&self, runs: &[Run], buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let want = (self.size - offset).min(buf.len() as u64) as usize;
        let cs = self.cluster_size;
        let mut done = 0usize;
        while done < want {
            let pos = offset + done as u64;
            if pos >= self.initialized {
                buf[done..want].fill(0);
                done = want;
                break;
            }
            let vcn = pos / cs;
            let run = find_run(runs, vcn).ok_or_else(|| unmapped_vcn(vcn))?;
            let run_end = (run.vcn + run.clusters).saturating_mul(cs);
            let n = ((run_end - pos).min(self.initialized - pos) as usize).min(want - done);
            match run.lcn {
                None => buf[done..done + n].fill(0),
                Some(lcn) => {
                    let at = lcn
                        .checked_mul(cs)
                        .and_then(|b| b.checked_add(pos - run.vcn * cs))
                        .ok_or_else(|| unmapped_vcn(vcn))?;
                    self.volume.read_exact_at(&mut buf[done..done + n], at)?;
                }
            }
            done += n;
        }
        Ok(done)
    }

    fn read_compressed(
        &self,
        runs: &[Run],
        compression: &Compression,
        buf: &mut [u8],
        offset: u64,
    ) -> io::Result<usize> {
        let want = (self.size - offset).min(buf.len() as u64) as usize;
        let unit_bytes = compression.unit_clusters * self.cluster_size;
        let mut done = 0usize;
        while done < want {
            let pos = offset + done as u64;
            let unit = pos / unit_bytes;
            let unit_data = self.unit(runs, compression, unit)?;
            let data: &[u8] = &unit_data;
            let within = (pos - unit * unit_bytes) as usize;
            if within >= data.len() {
                // A unit stored as is ends where its run list does.
                return Err(unmapped_vcn(pos / self.cluster_size));
            }
            let n = (data.len() - within).min(want - done);
            buf[done..done + n].copy_from_slice(&data[within..within + n]);
            done += n;
        }
        Ok(done)
    }

    /// One compression unit's uncompressed bytes. A unit whose clusters are all
    /// allocated is stored as is; one that ends in sparse clusters holds LZNT1 data
    /// in its allocated head; an all-sparse unit is zeros.
    ///
    /// NTFS pads a compressed stream's run list with sparse clusters to a whole
    /// unit. A run list that ends inside a unit instead (the last unit of a file
    /// whose compressed flag was set on data never compressed, by damage or by
    /// hand) holds LZNT1 only if its first chunk header says so; otherwise its
    /// clusters are the data as stored. A unit with sparse clusters whose data does
    /// not begin with a chunk header is an error: Windows writes one at the start
    /// of every compressed unit.
    fn unit(&self, runs: &[Run], compression: &Compression, unit: u64) -> io::Result<Arc<Vec<u8>>> {
        let mut cache = compression.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((cached, data)) = cache.as_ref() {
            if *cached == unit {
                return Ok(Arc::clone(data));
            }
        }
        let cs = self.cluster_size;
        let first_vcn = unit * compression.unit_clusters;
        let mut allocated: Vec<u64> = Vec::new();
        let (mut sparse, mut unmapped) = (0u64, 0u64);
        for vcn in first_vcn..first_vcn + compression.unit_clusters {
            match find_run(runs, vcn) {
                Some(Run {
                    lcn: Some(lcn),
                    vcn: start,
                    ..
                }) => allocated.push(lcn + (vcn - start)),
                Some(_) => sparse += 1,
                None => unmapped += 1,
            }
        }
        let unit_bytes = (compression.unit_clusters * cs) as usize;
        let mut stored = vec![0u8; allocated.len() * cs as usize];
        for (i, lcn) in allocated.iter().enumerate() {
            let at = lcn.checked_mul(cs).ok_or_else(|| unmapped_vcn(first_vcn))?;
            let slot = i * cs as usize;
            self.volume
                .read_exact_at(&mut stored[slot..slot + cs as usize], at)?;
        }
        let decompress = |stored: &[u8]| {
            let mut out = vec![0u8; unit_bytes];
            lznt1::decompress(stored, &mut out).map(|_| out)
        };
        let data = if allocated.is_empty() {
            vec![0u8; unit_bytes]
        } else if sparse == 0 && unmapped == 0 {
            stored
        } else if sparse == 0 {
            // As stored unless it reads as LZNT1 (the unmapped clusters past it
            // read as an error).
            lznt1::starts_with_chunk(&stored)
                .then(|| decompress(&stored).ok())
                .flatten()
                .unwrap_or(stored)
        } else if !lznt1::starts_with_chunk(&stored) {
            // Sparse clusters after data that is not LZNT1: a compressed flag on a
            // sparse file never compressed, or a damaged unit. Reported, never
            // "decompressed" into plausible garbage.
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "compression unit {unit} holds no LZNT1 data (the attribute's \
                     compressed flag does not fit its clusters)"
                ),
            ));
        } else {
            decompress(&stored).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("LZNT1 compression unit {unit}: {e}"),
                )
            })?
        };
        let data = Arc::new(data);
        *cache = Some((unit, Arc::clone(&data)));
        Ok(data)
    }
}

impl ReadAt for Stream {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        if offset >= self.size || buf.is_empty() {
            return Ok(0);
        }
        match &self.content {
            Content::Resident(value) => {
                let start = offset as usize;
                let n = (value.len() - start).min(buf.len());
                buf[..n].copy_from_slice(&value[start..start + n]);
                Ok(n)
            }
            Content::Runs {
                runs,
                compression: None,
            } => self.read_runs(runs, buf, offset),
            Content::Runs {
                runs,
                compression: Some(c),
            } => self.read_compressed(runs, c, buf, offset),
        }
    }

    fn len(&self) -> u64 {
        self.size
    }

    fn unbacked_problem(&self) -> Option<String> {
        let zeros = self.unbacked_len();
        (zeros > self.volume.len()).then(|| {
            format!(
                "{zeros} of its {} bytes are sparse, unwritten or unmapped, more than the \
                 whole volume ({} bytes) holds: a damaged size, not read",
                self.size,
                self.volume.len()
            )
        })
    }
}

/// The size to read and the initialised size of a non-resident value whose
/// first extent is `head` (the problem, if any, is [`size_problem`]'s to report).
///
/// An initialised size above the data size is invalid NTFS: one of the two is
/// damaged, and the written bytes are read (up to the allocated size) rather than
/// cut at a data size that may be a single flipped field. The change journal's
/// `$J` is written whole: an initialised size below its size hides records its
/// clusters still hold, so they are read.
fn readable_sizes(attr: &Attribute, head: &NonResident) -> (u64, u64) {
    let written = head.initialized_size.min(head.allocated_size);
    if written > head.data_size {
        (written, written)
    } else if is_journal(attr) {
        (head.data_size, head.data_size)
    } else {
        (head.data_size, head.initialized_size)
    }
}

/// Whether `attr` is the change journal's `$J` stream.
fn is_journal(attr: &Attribute) -> bool {
    attr.kind == super::attribute::kind::DATA && attr.name == "$J"
}

/// What [`readable_sizes`] departs from in the sizes an attribute states, for the
/// file's problems (so the listing, and errors.csv, say it).
pub fn size_problem(attr: &Attribute, head: &NonResident) -> Option<String> {
    let (size, _) = readable_sizes(attr, head);
    if head.initialized_size > head.data_size {
        Some(format!(
            "stream '{}': initialised size {} exceeds its data size {} (invalid, a damaged \
             size): read up to {size}",
            attr.name, head.initialized_size, head.data_size
        ))
    } else if is_journal(attr) && head.initialized_size < head.data_size {
        Some(format!(
            "$J initialised size {} is below its size {}: the journal is written whole, \
             so the records past it are read from its clusters",
            head.initialized_size, head.data_size
        ))
    } else {
        None
    }
}

fn find_run(runs: &[Run], vcn: u64) -> Option<Run> {
    let index = runs.partition_point(|r| r.vcn + r.clusters <= vcn);
    runs.get(index).filter(|r| r.vcn <= vcn).copied()
}

fn unmapped_vcn(vcn: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("no data run maps virtual cluster {vcn} (run list shorter than the stream)"),
    )
}
