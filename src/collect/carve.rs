//! Carving event-log chunks out of a volume's unallocated clusters.
//!
//! Deleted or cleared logs leave their 64 KiB chunks in clusters `$Bitmap` marks
//! free. One sequential pass over each free run, in large blocks that overlap by a
//! chunk so none is cut in two, finds `ElfChnk` signatures with memchr; only chunks
//! whose header and record CRCs both hold are parsed, so overwritten chunks are
//! never turned into invented records.

use std::time::Instant;

use evtx_carve::{find_chunks, CHUNK_SIZE};

use crate::evidence::ReadAt;
use crate::ntfs::{NtfsError, Volume};

/// Bytes read per step.
const BLOCK: u64 = 8 << 20;

/// What a carving pass saw.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct CarveStats {
    /// Unallocated bytes scanned.
    pub bytes: u64,
    /// Chunk signatures found.
    pub signatures: u64,
    /// Chunks whose checksums hold.
    pub intact: u64,
    /// Blocks that could not be read.
    pub unreadable: u64,
    /// Seconds taken.
    pub seconds: f64,
}

/// Calls `on_chunk(volume offset, chunk bytes)` for every intact chunk in the
/// unallocated clusters of `volume`.
pub fn unallocated_chunks(
    volume: &Volume,
    on_chunk: &mut dyn FnMut(u64, Vec<u8>),
) -> Result<CarveStats, NtfsError> {
    let started = Instant::now();
    let data = volume.bytes();
    let cluster = volume.boot().cluster_size;
    let mut stats = CarveStats::default();
    let mut buf = vec![0u8; (BLOCK as usize) + CHUNK_SIZE];
    volume.for_each_unallocated_run(|first, count| {
        let start = first * cluster;
        let end = (start + count * cluster).min(data.len());
        let mut at = start;
        while at < end {
            // Read a block plus one chunk of look-ahead; report only chunks that
            // start inside the block itself, the next block finds the rest.
            let block_end = (at + BLOCK).min(end);
            let read_end = (block_end + CHUNK_SIZE as u64).min(end);
            let len = (read_end - at) as usize;
            if data.read_exact_at(&mut buf[..len], at).is_err() {
                stats.unreadable += 1;
                at = block_end;
                continue;
            }
            stats.bytes += block_end - at;
            for chunk in find_chunks(&buf[..len], at) {
                if chunk.offset >= block_end {
                    continue;
                }
                stats.signatures += 1;
                if chunk.is_intact() {
                    stats.intact += 1;
                    let from = (chunk.offset - at) as usize;
                    on_chunk(chunk.offset, buf[from..from + CHUNK_SIZE].to_vec());
                }
            }
            at = block_end;
        }
    })?;
    stats.seconds = started.elapsed().as_secs_f64();
    Ok(stats)
}
