//! Recovering deleted evidence from unallocated clusters, or from a whole image:
//! event-log chunks and lone records, `FILE` records, Prefetch files and hive bins;
//! and the event records left in the unused space of live logs' chunks.
//!
//! [`scan`] finds where each structure starts in one sequential pass; [`recover`]
//! checks what was found and turns it into rows, never inventing content a checksum
//! or fixup cannot vouch for without saying so.

pub mod recover;
pub mod scan;

pub use recover::{LiveRecords, Recovery};
pub use scan::{any_order, CarveStats, Hit, HitSink, Runner};

use super::evtx::chunks::Quiet;
use super::CollectError;
use crate::evidence::ReadAt;
use crate::ntfs::{NtfsError, Volume};

/// Scans the unallocated clusters of `volume` (offsets are volume offsets), its
/// regions run by `run`.
pub fn unallocated(
    volume: &Volume,
    on_hit: &HitSink<'_>,
    run: &Runner<'_>,
) -> Result<CarveStats, NtfsError> {
    let cluster = volume.boot().cluster_size;
    let mut ranges = Vec::new();
    volume.for_each_unallocated_run(|first, count| {
        ranges.push((first * cluster, (first + count) * cluster))
    })?;
    let data = volume.bytes();
    Ok(scan::scan_ranges(
        data.as_ref(),
        &ranges,
        "unallocated clusters",
        on_hit,
        run,
    ))
}

/// Scans every byte of `data` (allocated, unallocated, unpartitioned), its
/// regions run by `run`.
pub fn whole_image(data: &dyn ReadAt, on_hit: &HitSink<'_>, run: &Runner<'_>) -> CarveStats {
    scan::scan_ranges(data, &[(0, data.len())], "whole image", on_hit, run)
}

/// Feeds every chunk of a live log (`data`: its bytes) to `recovery`, built with
/// [`Recovery::in_log`]; returns what could not be read. A chunk the read of the
/// log found `quiet` (its unused space holds no record) is only looked at for the
/// templates it defines. Chunks follow the 4 KiB
/// file header, 64 KiB each, to the last whole one, as libevtx reads them, one
/// chunk at a time into one buffer.
pub fn live_log(
    data: &dyn ReadAt,
    quiet: &Quiet,
    recovery: &Recovery<'_>,
) -> Result<(), CollectError> {
    const FILE_HEADER: u64 = 4096;
    let size = evtx_carve::CHUNK_SIZE as u64;
    let mut chunk = vec![0u8; evtx_carve::CHUNK_SIZE];
    let mut offset = FILE_HEADER;
    while offset + size <= data.len() {
        data.read_exact_at(&mut chunk, offset)
            .map_err(|e| CollectError::Unreadable(format!("chunk at offset {offset}: {e}")))?;
        let chunk = &chunk[..];
        // An empty chunk (never used, or a hole) holds nothing.
        if !evtx_carve::never_written(chunk) {
            if quiet.contains((offset - FILE_HEADER) / size) {
                recovery.templates_only(offset, chunk);
            } else {
                recovery.log_chunk(offset, chunk);
            }
        }
        offset += size;
    }
    Ok(())
}
