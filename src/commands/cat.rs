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
    let mut offset = 0u64;
    while offset < end {
        let n = (end - offset).min(BUFFER as u64) as usize;
        data.read_exact_at(&mut buf[..n], offset)?;
        out.write_all(&buf[..n])?;
        offset += n as u64;
    }
    out.flush()?;
    match damaged {
        Some(why) => {
            eprintln!(
                "toolmark: {}: {path}: {why}; wrote its first {end} bytes",
                image.display()
            );
            Ok(ExitCode::from(super::EXIT_FAILURE))
        }
        None => Ok(ExitCode::SUCCESS),
    }
}
