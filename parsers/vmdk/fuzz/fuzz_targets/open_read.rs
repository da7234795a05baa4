#![no_main]
//! Opens arbitrary bytes as an image (with a small parent) and reads its first
//! 8 MiB and its last sector: no panic, no hang, no allocation beyond the input.

use std::sync::Arc;

use blockio::{Source, VirtualDisk};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let file: Arc<dyn Source> = Arc::new(data.to_vec());
    let Ok(mut disk) = vmdk::Vmdk::open(file, &mut |_| {
        Err(std::io::Error::other("no extents while fuzzing"))
    }) else {
        return;
    };
    if !disk.parent_locations().is_empty() {
        disk.set_parent(Arc::new(vec![0x5au8; 4096]));
    }
    let mut buf = vec![0u8; 64 * 1024];
    let mut at = 0u64;
    while at < disk.len().min(8 << 20) {
        if disk.read_at(&mut buf, at).is_err() {
            break;
        }
        at += buf.len() as u64;
    }
    let _ = disk.read_at(&mut buf[..512], disk.len().saturating_sub(512));
});
