//! Throughput of `shimcache::parse` over every corpus blob.
//! Run: `cargo bench -p toolmark-shimcache`.

use std::time::Instant;

#[path = "../tests/common/blobs.rs"]
mod blobs;

fn main() {
    for name in blobs::BLOBS {
        let blob = testkit::read_corpus(name);
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
