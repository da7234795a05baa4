//! Carving event-log chunks out of unallocated clusters, or out of a whole image.
//!
//! Deleted or cleared logs leave their 64 KiB chunks in clusters `$Bitmap` marks
//! free. The pass reads each region sequentially in large blocks that overlap by a
//! chunk so none is cut in two, finds `ElfChnk` signatures with memchr, and hands
//! on only chunks whose header and record CRCs both hold, so overwritten chunks are
//! never turned into invented records. Regions are scanned in parallel.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use evtx_carve::{find_chunks, CHUNK_SIZE};
use rayon::prelude::*;
use serde::Serialize;

use crate::evidence::ReadAt;
use crate::ntfs::{NtfsError, Volume};

/// Bytes read per step.
const BLOCK: u64 = 8 << 20;
/// Largest region one worker takes at a time.
const REGION: u64 = 64 << 20;

/// What a carving pass saw.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CarveStats {
    /// What was scanned: a volume's unallocated clusters, or the whole image.
    pub scope: String,
    /// Bytes scanned.
    pub bytes: u64,
    /// Chunk signatures found.
    pub signatures: u64,
    /// Chunks whose checksums hold.
    pub intact: u64,
    /// Blocks that could not be read.
    pub unreadable: u64,
    /// Seconds taken.
    pub seconds: f64,
    /// Throughput.
    pub mb_per_second: f64,
}

/// Called with (offset in the scanned range, 64 KiB chunk) for every intact chunk.
pub type ChunkSink<'a> = dyn Fn(u64, Vec<u8>) + Sync + 'a;

/// Every intact chunk in the unallocated clusters of `volume` (offsets are volume
/// offsets).
pub fn unallocated_chunks(
    volume: &Volume,
    on_chunk: &ChunkSink<'_>,
) -> Result<CarveStats, NtfsError> {
    let cluster = volume.boot().cluster_size;
    let mut ranges = Vec::new();
    volume.for_each_unallocated_run(|first, count| {
        ranges.push((first * cluster, (first + count) * cluster))
    })?;
    let data = volume.bytes();
    Ok(scan_ranges(
        data.as_ref(),
        &ranges,
        "unallocated clusters",
        on_chunk,
    ))
}

/// Every intact chunk anywhere in `data` (allocated, unallocated, unpartitioned).
pub fn all_chunks(data: &dyn ReadAt, on_chunk: &ChunkSink<'_>) -> CarveStats {
    scan_ranges(data, &[(0, data.len())], "whole image", on_chunk)
}

fn scan_ranges(
    data: &dyn ReadAt,
    ranges: &[(u64, u64)],
    scope: &str,
    on_chunk: &ChunkSink<'_>,
) -> CarveStats {
    let started = Instant::now();
    let len = data.len();
    // Cut long ranges into regions so both cores work; a chunk that starts in one
    // region is found by that region's look-ahead.
    let regions: Vec<(u64, u64, u64)> = ranges
        .iter()
        .flat_map(|&(start, end)| {
            let end = end.min(len);
            (start..end)
                .step_by(REGION as usize)
                .map(move |s| (s, (s + REGION).min(end), end))
        })
        .collect();
    let bytes = AtomicU64::new(0);
    let signatures = AtomicU64::new(0);
    let intact = AtomicU64::new(0);
    let unreadable = AtomicU64::new(0);
    regions.par_iter().for_each(|&(start, stop, range_end)| {
        let mut buf = vec![0u8; BLOCK as usize + CHUNK_SIZE];
        let mut at = start;
        while at < stop {
            let block_end = (at + BLOCK).min(stop);
            let read_end = (block_end + CHUNK_SIZE as u64).min(range_end);
            let n = (read_end - at) as usize;
            // Memory-mapped raw images are scanned in place; others are copied in.
            let window: &[u8] = match data.slice(at, n) {
                Some(mapped) => mapped,
                None => {
                    if data.read_exact_at(&mut buf[..n], at).is_err() {
                        unreadable.fetch_add(1, Ordering::Relaxed);
                        at = block_end;
                        continue;
                    }
                    &buf[..n]
                }
            };
            bytes.fetch_add(block_end - at, Ordering::Relaxed);
            // Only chunks starting inside this block: the look-ahead is the next
            // block's to report.
            for chunk in find_chunks(window, at)
                .into_iter()
                .filter(|c| c.offset < block_end)
            {
                signatures.fetch_add(1, Ordering::Relaxed);
                if chunk.is_intact() {
                    intact.fetch_add(1, Ordering::Relaxed);
                    let from = (chunk.offset - at) as usize;
                    on_chunk(chunk.offset, window[from..from + CHUNK_SIZE].to_vec());
                }
            }
            at = block_end;
        }
    });
    let seconds = started.elapsed().as_secs_f64();
    let bytes = bytes.into_inner();
    CarveStats {
        scope: scope.to_string(),
        bytes,
        signatures: signatures.into_inner(),
        intact: intact.into_inner(),
        unreadable: unreadable.into_inner(),
        seconds,
        mb_per_second: if seconds > 0.0 {
            bytes as f64 / seconds / 1e6
        } else {
            0.0
        },
    }
}
