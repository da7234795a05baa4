#![no_main]
//! Reads arbitrary bytes as a one-segment E01 set, as `toolmark` opens evidence:
//! the `ewf` crate reads segments by path, so the bytes go to a temporary
//! `image.E01` first. Then every 32 KiB of the first 4 MiB of the media, and the
//! last 32 KiB, is read (an error is an answer; a panic, hang or runaway
//! allocation is the bug), with the damage the open reports.

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use toolmark::evidence::Evidence;

/// Media read at most per input: a claimed size must not decide the work.
const MAX_READ: u64 = 4 << 20;
const PIECE: usize = 32 << 10;

fn image_path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("toolmark-fuzz-e01-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temporary folder");
        dir.join("image.E01")
    })
}

fuzz_target!(|data: &[u8]| {
    // Other bytes would be opened as a raw image: not this target's subject.
    if !(data.starts_with(b"EVF") || data.starts_with(b"LVF")) {
        return;
    }
    let path = image_path();
    if std::fs::write(path, data).is_err() {
        return;
    }
    let Ok(evidence) = Evidence::open(path) else {
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
});
