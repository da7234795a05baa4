//! Writes bytes as the segment files of an E01 set and reads the set as
//! `toolmark` opens evidence (the `ewf` crate reads segments by path, so they go
//! to a temporary folder first): every 32 KiB of the first 4 MiB of the media,
//! and the last 32 KiB, with the damage the open reports. An error is an answer;
//! a panic, hang or runaway allocation is the bug.

use std::path::PathBuf;
use std::sync::OnceLock;

use toolmark::evidence::Evidence;

/// Media read at most per input: a claimed size must not decide the work.
const MAX_READ: u64 = 4 << 20;
const PIECE: usize = 32 << 10;

/// Segment file names in set order.
const NAMES: [&str; 3] = ["image.E01", "image.E02", "image.E03"];

/// This process's folder for the set.
fn folder() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("toolmark-fuzz-ewf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temporary folder");
        dir
    })
}

/// Writes `segments` (one to three; an empty one is left out, as a missing
/// segment) and opens and reads the set through its first segment.
pub fn read_set(segments: &[&[u8]]) {
    let first = segments.first().copied().unwrap_or_default();
    // Other bytes would be opened as a raw image: not these targets' subject.
    if !(first.starts_with(b"EVF") || first.starts_with(b"LVF")) {
        return;
    }
    let dir = folder();
    for (at, name) in NAMES.iter().enumerate() {
        let bytes = segments.get(at).copied().unwrap_or_default();
        let path = dir.join(name);
        let written = if bytes.is_empty() {
            // The previous input's segment must not be read as this one's.
            std::fs::remove_file(&path).or_else(|e| match e.kind() {
                std::io::ErrorKind::NotFound => Ok(()),
                _ => Err(e),
            })
        } else {
            std::fs::write(&path, bytes)
        };
        if written.is_err() {
            return;
        }
    }
    let Ok(evidence) = Evidence::open(&dir.join(NAMES[0])) else {
        return;
    };
    let _ = evidence.damage();
    let media = evidence.data();
    let len = media.len();
    let mut buf = vec![0u8; PIECE];
    let mut offset = 0u64;
    while offset < len.min(MAX_READ) {
        let _ = media.read_at(&mut buf, offset);
        offset += PIECE as u64;
    }
    let _ = media.read_at(&mut buf, len.saturating_sub(PIECE as u64));
}
