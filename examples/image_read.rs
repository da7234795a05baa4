//! The evidence layer alone: reads a whole image (raw, E01 or virtual disk)
//! front to back in 4 MiB blocks, as a scan's sequential passes do, and prints
//! the byte count and a checksum-free throughput. For bench/vdisk-read.sh.
//!
//! usage: image_read IMAGE

use std::path::PathBuf;
use std::time::Instant;

use toolmark::evidence::{Evidence, ReadAt};

fn main() {
    let path = PathBuf::from(std::env::args().nth(1).expect("usage: image_read IMAGE"));
    let start = Instant::now();
    let evidence = Evidence::open(&path).unwrap_or_else(|e| panic!("{e}"));
    let mut buf = vec![0u8; 4 << 20];
    let mut at = 0u64;
    // Touch every byte so the read cannot be skipped.
    let mut fold = 0u8;
    while at < evidence.len() {
        let n = (evidence.len() - at).min(buf.len() as u64) as usize;
        evidence
            .read_exact_at(&mut buf[..n], at)
            .unwrap_or_else(|e| panic!("{e}"));
        fold ^= buf[..n].iter().fold(0u8, |a, &b| a ^ b);
        at += n as u64;
    }
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{at} bytes in {seconds:.3} s ({:.0} MB/s) xor {fold:02x}",
        at as f64 / seconds / 1e6
    );
}
