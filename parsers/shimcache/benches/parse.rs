//! Throughput of `shimcache::parse` over every corpus blob.
//! Run: `cargo bench -p toolmark-shimcache`.

use std::time::Instant;

const BLOBS: &[&str] = &[
    "WinXP/WinXPx86.bin",
    "Win2008/Win2k8Standard.bin",
    "Win7/win7x86.bin",
    "Win7/win7x64.bin",
    "Win8.0/Win80.bin",
    "Win8.1/Win81.bin",
    "Win10/Win10.bin",
    "Win10/Win10Creators.bin",
];

fn main() {
    for name in BLOBS {
        let blob = testkit::read_corpus(&format!("registry/appcompatcache/{name}"));
        let rounds = 2000u32;
        let start = Instant::now();
        let mut entries = 0;
        for _ in 0..rounds {
            entries = shimcache::parse(&blob).map_or(0, |c| c.entries.len());
        }
        let seconds = start.elapsed().as_secs_f64();
        println!(
            "{name}: {:.0} entries/s, {:.0} MB/s ({entries} entries, {} bytes, {rounds} rounds, {seconds:.3} s)",
            entries as f64 * f64::from(rounds) / seconds,
            blob.len() as f64 * f64::from(rounds) / seconds / 1e6,
            blob.len(),
        );
    }
}
