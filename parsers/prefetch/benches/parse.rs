//! Parses every corpus Prefetch file repeatedly and prints files/s and MB/s, both
//! for the whole `parse` (MAM decompression included) and for decompression alone.
//! Run: `CARGO_BUILD_JOBS=1 cargo bench -p toolmark-prefetch`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

const ROUNDS: usize = 20;

fn main() {
    let inputs: Vec<Vec<u8>> = common::prefetch_files()
        .iter()
        .map(|p| std::fs::read(p).expect("read corpus file"))
        .collect();
    let input_bytes: usize = inputs.iter().map(Vec::len).sum();

    let start = Instant::now();
    let mut records = 0usize;
    for _ in 0..ROUNDS {
        for bytes in &inputs {
            let parsed = prefetch::parse(bytes).expect("corpus file parses");
            records += 1 + parsed.files.len();
        }
    }
    report(
        "parse",
        start,
        ROUNDS * inputs.len(),
        ROUNDS * input_bytes,
        records,
    );

    let compressed: Vec<&Vec<u8>> = inputs.iter().filter(|b| b.starts_with(b"MAM")).collect();
    let compressed_bytes: usize = compressed.iter().map(|b| b.len()).sum();
    let start = Instant::now();
    let mut produced = 0usize;
    for _ in 0..ROUNDS {
        for bytes in &compressed {
            produced += prefetch::decompress(bytes)
                .expect("corpus file decompresses")
                .len();
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "decompress: {} MAM files x {ROUNDS}: {:.1} MB/s compressed in, {:.1} MB/s out",
        compressed.len(),
        (ROUNDS * compressed_bytes) as f64 / secs / 1e6,
        produced as f64 / secs / 1e6
    );
}

fn report(what: &str, start: Instant, files: usize, bytes: usize, records: usize) {
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{what}: {files} files in {secs:.3} s: {:.0} files/s, {:.0} records/s \
         (file + referenced names), {:.1} MB/s of file bytes",
        files as f64 / secs,
        records as f64 / secs,
        bytes as f64 / secs / 1e6
    );
}
