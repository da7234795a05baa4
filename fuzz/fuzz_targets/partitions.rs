#![no_main]
//! Reads arbitrary bytes as a disk: MBR (with extended partitions), GPT, or a bare
//! volume, as `toolmark info` and `scan` find the volumes on it.

use libfuzzer_sys::fuzz_target;
use toolmark::disk;

fuzz_target!(|data: &[u8]| {
    let disk = data.to_vec();
    let _ = disk::scan(&disk);
});
