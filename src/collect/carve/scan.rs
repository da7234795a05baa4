//! The carving pass: one sequential read of the chosen byte ranges, looking for
//! the starts of structures worth recovering.
//!
//! Deleted files leave their clusters behind, and clusters start on sector
//! boundaries: an EVTX chunk (at file offset 4096 + 64 KiB·n), a `FILE` record, a
//! Prefetch file (`SCCA`, or `MAM\x04` when compressed) and a hive bin (`hbin`, or
//! the `regf` base block) all begin at a multiple of 512 bytes, so only those
//! positions are probed — a few thousand comparisons per 8 MiB. Event records can sit
//! anywhere inside a chunk, so `**\0\0` is searched at every byte with memchr; only
//! records outside every chunk (whose header was overwritten) are reported as lone.
//!
//! Blocks overlap their neighbours by one chunk on each side, so nothing that starts
//! in a block is cut off and a record can be tested against a chunk that began in
//! the block before. Ranges are cut into regions scanned in parallel.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use evtx_carve::{check_chunk, record_at, CHUNK_MAGIC, CHUNK_SIZE, RECORD_MAGIC};
use memchr::memmem;
use rayon::prelude::*;
use serde::Serialize;

use crate::evidence::ReadAt;

/// Bytes read per step.
const BLOCK: u64 = 8 << 20;
/// Largest region one worker takes at a time.
const REGION: u64 = 64 << 20;
/// Granularity of the aligned probes.
pub const SECTOR: u64 = 512;
/// Overlap on each side of a block.
const MARGIN: u64 = CHUNK_SIZE as u64;

/// What a carving pass saw.
#[derive(Clone, Debug, Default, Serialize, serde::Deserialize)]
pub struct CarveStats {
    /// What was scanned: a volume's unallocated clusters, or the whole image.
    pub scope: String,
    /// Bytes scanned.
    pub bytes: u64,
    /// Chunk signatures found.
    pub signatures: u64,
    /// Chunks whose checksums hold.
    pub intact: u64,
    /// Event records found outside any chunk.
    pub lone_records: u64,
    /// `FILE` record signatures.
    pub mft_records: u64,
    /// Prefetch (`SCCA` / `MAM\x04`) signatures.
    pub prefetch: u64,
    /// Hive bin and base block signatures.
    pub hive_bins: u64,
    /// Blocks that could not be read.
    pub unreadable: u64,
    /// Seconds taken.
    pub seconds: f64,
    /// Throughput.
    pub mb_per_second: f64,
}

/// A structure start found by the pass. Offsets are in the scanned address space
/// (volume or image); `limit` is the end of the free range it was found in, which
/// a handler reading further must not cross.
pub enum Hit<'w> {
    /// A 64 KiB EVTX chunk and whether both its checksums hold.
    Chunk {
        /// Offset of the chunk.
        offset: u64,
        /// The chunk's bytes.
        data: &'w [u8],
        /// Header and record checksums both hold.
        intact: bool,
    },
    /// An event record outside any chunk.
    Record {
        /// Offset of the record.
        offset: u64,
        /// The record's bytes (its own size).
        data: &'w [u8],
    },
    /// A `FILE` signature (the bytes up to the record size its header claims).
    MftRecord {
        /// Offset of the record.
        offset: u64,
        /// The record's bytes.
        data: &'w [u8],
    },
    /// The start of a Prefetch file; the handler reads as much as the header says.
    Prefetch {
        /// Offset of the file start.
        offset: u64,
        /// End of the range it lies in.
        limit: u64,
    },
    /// A hive bin or base block start.
    Hive {
        /// Offset of the bin or base block.
        offset: u64,
        /// End of the range it lies in.
        limit: u64,
    },
}

/// Receives every hit; called from several threads.
pub type HitSink<'a> = dyn Fn(&dyn ReadAt, Hit<'_>) + Sync + 'a;

/// Runs `work(0..count)`, in parallel: a scan's regions are its units, and the
/// runner decides in what order their rows are written (see
/// `crate::pipeline::Sinks::in_order`).
pub type Runner<'a> = dyn Fn(usize, &(dyn Fn(usize) + Sync)) + Sync + 'a;

/// A [`Runner`] that lets units write in whatever order they run.
pub fn any_order(count: usize, work: &(dyn Fn(usize) + Sync)) {
    (0..count).into_par_iter().for_each(work);
}

#[derive(Default)]
struct Counters {
    bytes: AtomicU64,
    signatures: AtomicU64,
    intact: AtomicU64,
    lone_records: AtomicU64,
    mft_records: AtomicU64,
    prefetch: AtomicU64,
    hive_bins: AtomicU64,
    unreadable: AtomicU64,
}

fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

/// Scans `ranges` (start, end) of `data`, less its known-lost parts, calling
/// `on_hit` for everything found, each region of the ranges a unit of `run`: hits
/// within a region come in offset order.
pub fn scan_ranges(
    data: &dyn ReadAt,
    ranges: &[(u64, u64)],
    scope: &str,
    on_hit: &HitSink<'_>,
    run: &Runner<'_>,
) -> CarveStats {
    let started = Instant::now();
    let len = data.len();
    // What lies in a part of the data known lost (an E01 set's missing end)
    // would only give failed reads: only the readable parts of the ranges are
    // scanned.
    let readable = data.readable_ranges();
    let ranges: Vec<(u64, u64)> = ranges
        .iter()
        .flat_map(|&(start, end)| {
            readable
                .iter()
                .map(move |r| (start.max(r.start), end.min(r.end)))
                .filter(|(s, e)| s < e)
        })
        .collect();
    // Cut long ranges into regions so both cores work.
    let regions: Vec<(u64, u64, (u64, u64))> = ranges
        .iter()
        .flat_map(|&(start, end)| {
            let end = end.min(len);
            (start..end)
                .step_by(REGION as usize)
                .map(move |s| (s, (s + REGION).min(end), (start, end)))
        })
        .collect();
    let counters = Counters::default();
    run(regions.len(), &|i| {
        let (start, stop, range) = regions[i];
        // One block and its margins at a time, read into a buffer kept per region:
        // nothing of the image stays mapped or resident.
        let mut buf = Vec::new();
        let mut at = start;
        while at < stop {
            let block_end = (at + BLOCK).min(stop);
            let from = at.saturating_sub(MARGIN).max(range.0);
            let to = (block_end + MARGIN).min(range.1);
            let n = (to - from) as usize;
            buf.resize(n.max(buf.len()), 0);
            if data.read_exact_at(&mut buf[..n], from).is_err() {
                add(&counters.unreadable, 1);
                at = block_end;
                continue;
            }
            let window = &buf[..n];
            add(&counters.bytes, block_end - at);
            scan_block(
                data,
                Block {
                    window,
                    base: from,
                    start: at,
                    end: block_end,
                    limit: range.1,
                },
                &counters,
                on_hit,
            );
            at = block_end;
        }
    });
    let seconds = started.elapsed().as_secs_f64();
    let c = counters;
    let bytes = c.bytes.into_inner();
    CarveStats {
        scope: scope.to_string(),
        bytes,
        signatures: c.signatures.into_inner(),
        intact: c.intact.into_inner(),
        lone_records: c.lone_records.into_inner(),
        mft_records: c.mft_records.into_inner(),
        prefetch: c.prefetch.into_inner(),
        hive_bins: c.hive_bins.into_inner(),
        unreadable: c.unreadable.into_inner(),
        seconds,
        mb_per_second: if seconds > 0.0 {
            bytes as f64 / seconds / 1e6
        } else {
            0.0
        },
    }
}

/// One block and the margins read around it.
struct Block<'w> {
    /// Bytes from `base` on, margins included.
    window: &'w [u8],
    base: u64,
    /// The block proper: hits starting in `start..end` are its to report.
    start: u64,
    end: u64,
    /// End of the range the block belongs to.
    limit: u64,
}

impl<'w> Block<'w> {
    fn at(&self, offset: u64) -> &'w [u8] {
        self.window
            .get((offset - self.base) as usize..)
            .unwrap_or_default()
    }
}

fn scan_block(data: &dyn ReadAt, block: Block<'_>, counters: &Counters, on_hit: &HitSink<'_>) {
    // Chunk starts anywhere in the window (margins too), for telling lone records
    // from records inside a chunk.
    let mut chunk_starts = Vec::new();
    let first = block.base.next_multiple_of(SECTOR);
    let window_end = block.base + block.window.len() as u64;
    for offset in (first..window_end).step_by(SECTOR as usize) {
        let head = block.at(offset);
        // Nearly every sector starts with none of the signatures: one load and a
        // few integer compares rule it out.
        if !may_start_something(head) {
            continue;
        }
        if head.starts_with(CHUNK_MAGIC) {
            chunk_starts.push(offset);
        }
        if offset < block.start || offset >= block.end {
            continue;
        }
        probe(data, &block, offset, head, counters, on_hit);
    }
    // Lone records: starting in the block, not inside any chunk.
    let from = (block.start - block.base) as usize;
    let to = (block.end - block.base) as usize;
    let Some(searched) = block.window.get(from..to) else {
        return;
    };
    for found in memmem::find_iter(searched, RECORD_MAGIC) {
        let offset = block.start + found as u64;
        let inside_chunk = match chunk_starts.partition_point(|&s| s <= offset) {
            0 => false,
            i => offset < chunk_starts[i - 1] + CHUNK_SIZE as u64,
        };
        if inside_chunk {
            continue;
        }
        let position = (offset - block.base) as usize;
        if let Some(record) = record_at(block.window, position, block.base) {
            add(&counters.lone_records, 1);
            let data_end = position + record.size as usize;
            on_hit(
                data,
                Hit::Record {
                    offset,
                    data: &block.window[position..data_end],
                },
            );
        }
    }
}

/// The first four bytes of each signature probed at sector starts, as numbers.
const STARTS: [u32; 5] = [
    u32::from_le_bytes(*b"ElfC"),
    u32::from_le_bytes(*b"FILE"),
    u32::from_le_bytes(*b"MAM\x04"),
    u32::from_le_bytes(*b"hbin"),
    u32::from_le_bytes(*b"regf"),
];
/// `SCCA` sits at offset 4 of an uncompressed Prefetch file.
const SCCA_AT_4: u32 = u32::from_le_bytes(*b"SCCA");

/// Whether `head` can start one of the probed structures at all.
fn may_start_something(head: &[u8]) -> bool {
    let word = |at: usize| {
        head.get(at..at + 4)
            .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    STARTS.contains(&word(0)) || word(4) == SCCA_AT_4
}

/// Tests one sector-aligned position for every signature.
fn probe(
    data: &dyn ReadAt,
    block: &Block<'_>,
    offset: u64,
    head: &[u8],
    counters: &Counters,
    on_hit: &HitSink<'_>,
) {
    if head.starts_with(CHUNK_MAGIC) {
        // A chunk cut by the end of its range is not whole, so not reported.
        if let Some(chunk) = head.get(..CHUNK_SIZE) {
            add(&counters.signatures, 1);
            let intact = check_chunk(chunk, offset).is_intact();
            if intact {
                add(&counters.intact, 1);
            }
            on_hit(
                data,
                Hit::Chunk {
                    offset,
                    data: chunk,
                    intact,
                },
            );
        }
    } else if head.starts_with(b"FILE") {
        // Allocated record size at 0x1C: 1 KiB or 4 KiB on every real volume.
        let size = head
            .get(0x1C..0x20)
            .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize);
        if size.is_power_of_two() && (512..=4096).contains(&size) {
            if let Some(record) = head.get(..size) {
                add(&counters.mft_records, 1);
                on_hit(
                    data,
                    Hit::MftRecord {
                        offset,
                        data: record,
                    },
                );
            }
        }
    } else if head.starts_with(b"MAM\x04") || head.get(4..8) == Some(b"SCCA".as_slice()) {
        add(&counters.prefetch, 1);
        on_hit(
            data,
            Hit::Prefetch {
                offset,
                limit: block.limit,
            },
        );
    } else if head.starts_with(b"hbin") || head.starts_with(b"regf") {
        add(&counters.hive_bins, 1);
        on_hit(
            data,
            Hit::Hive {
                offset,
                limit: block.limit,
            },
        );
    }
}
