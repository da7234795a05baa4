//! Recovering deleted evidence from unallocated clusters, or from a whole image:
//! event-log chunks and lone records, `FILE` records, Prefetch files and hive bins.
//!
//! [`scan`] finds where each structure starts in one sequential pass; [`recover`]
//! checks what was found and turns it into rows, never inventing content a checksum
//! or fixup cannot vouch for without saying so.

pub mod recover;
pub mod scan;

pub use recover::{LiveRecords, Recovery};
pub use scan::{CarveStats, Hit, HitSink};

use crate::evidence::ReadAt;
use crate::ntfs::{NtfsError, Volume};

/// Scans the unallocated clusters of `volume` (offsets are volume offsets).
pub fn unallocated(volume: &Volume, on_hit: &HitSink<'_>) -> Result<CarveStats, NtfsError> {
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
    ))
}

/// Scans every byte of `data` (allocated, unallocated, unpartitioned).
pub fn whole_image(data: &dyn ReadAt, on_hit: &HitSink<'_>) -> CarveStats {
    scan::scan_ranges(data, &[(0, data.len())], "whole image", on_hit)
}
