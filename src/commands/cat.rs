//! `toolmark cat`: a file's bytes to standard output.

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use super::{open_volume, Outcome};
use crate::evidence::ReadAt;

/// Copy buffer: large enough that reading compressed units and E01 chunks stays
/// sequential.
const BUFFER: usize = 1 << 20;

/// Runs `toolmark cat`.
pub fn run(
    image: &Path,
    path: &str,
    volume: Option<usize>,
    snapshot: Option<usize>,
    stream: Option<&str>,
) -> Outcome {
    let opened = open_volume(image, volume, snapshot)?;
    // Windows names cannot contain ':', so `path:stream` is unambiguous.
    let (file_path, stream_name) = match (stream, path.rsplit_once(':')) {
        (Some(s), _) => (path, s),
        (None, Some((p, s))) if !p.is_empty() => (p, s),
        _ => (path, ""),
    };
    let data = opened.volume.open_stream(file_path, stream_name)?;
    // A stated size that nothing on the volume could back (a damaged or edited
    // size over sparse runs) would have us write zeros for hours: stop where the
    // data ends, as `scan` does, and say so.
    let damaged = data.unbacked_problem();
    let end = match damaged {
        Some(_) => data.data_end(),
        None => data.len(),
    };
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut buf = vec![0u8; BUFFER];
    let mut lost: Vec<(u64, u64, String)> = Vec::new();
    let mut offset = 0u64;
    while offset < end {
        let n = (end - offset).min(BUFFER as u64) as usize;
        if data.read_exact_at(&mut buf[..n], offset).is_err() {
            read_around_damage(&data, &mut buf[..n], offset, &mut lost);
        }
        out.write_all(&buf[..n])?;
        offset += n as u64;
    }
    out.flush()?;
    let mut failed = false;
    for (start, stop, why) in lost.iter().take(MAX_LOST_REPORTED) {
        eprintln!(
            "toolmark: {}: {path}: bytes {start}..{stop} unreadable ({why}); written as zeros",
            image.display()
        );
        failed = true;
    }
    if lost.len() > MAX_LOST_REPORTED {
        eprintln!(
            "toolmark: {}: {path}: {} more unreadable ranges, written as zeros",
            image.display(),
            lost.len() - MAX_LOST_REPORTED
        );
    }
    if let Some(why) = damaged {
        eprintln!(
            "toolmark: {}: {path}: {why}; wrote its first {end} bytes",
            image.display()
        );
        failed = true;
    }
    Ok(match failed {
        true => ExitCode::from(super::EXIT_FAILURE),
        false => ExitCode::SUCCESS,
    })
}

/// Ranges of unreadable bytes named on standard error, at most.
const MAX_LOST_REPORTED: usize = 100;

/// Piece a failed buffer is re-read in: one compression unit of 4 KiB clusters,
/// so a damaged unit costs itself, and a file that is all damage costs one failed
/// read per piece, not per byte.
const PIECE: usize = 64 << 10;

/// Piece a failed piece of an uncompressed stream is re-read in: a sector, the
/// smallest a cluster (and so a run, or a bad block) can be.
const SECTOR: usize = 512;

/// Re-reads `buf` (the stream's bytes from `offset`) piece by piece after a whole
/// read failed: what decodes is kept, each piece that does not is zeros (offsets
/// stay true, as `dd conv=noerror,sync` keeps them) and is added to `lost`,
/// adjacent ones merged. A compressed unit decodes whole or not at all; an
/// uncompressed piece is retried sector by sector.
fn read_around_damage(
    data: &crate::ntfs::Stream,
    buf: &mut [u8],
    offset: u64,
    lost: &mut Vec<(u64, u64, String)>,
) {
    for (i, piece) in buf.chunks_mut(PIECE).enumerate() {
        let at = offset + (i * PIECE) as u64;
        if data.read_exact_at(piece, at).is_ok() {
            continue;
        }
        let small = match data.is_compressed() {
            true => piece.len(),
            false => SECTOR,
        };
        for (j, part) in piece.chunks_mut(small).enumerate() {
            let part_at = at + (j * small) as u64;
            if let Err(e) = data.read_exact_at(part, part_at) {
                part.fill(0);
                let (stop, why) = (part_at + part.len() as u64, e.to_string());
                match lost.last_mut() {
                    Some(last) if last.1 == part_at && last.2 == why => last.1 = stop,
                    _ => lost.push((part_at, stop, why)),
                }
            }
        }
    }
}
