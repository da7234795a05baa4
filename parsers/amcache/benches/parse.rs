//! Replays and parses every Amcache hive of the corpus repeatedly; prints entries per
//! second and MB/s (hive + log bytes in). Run: `cargo bench -p toolmark-amcache`.

use std::time::Instant;

/// A primary hive and its optional .LOG1/.LOG2.
type HiveFiles = (Vec<u8>, Option<Vec<u8>>, Option<Vec<u8>>);

fn main() {
    let corpus = testkit::corpus();
    let hives = [
        "registry/amcache/Win10-RathbunVM/Amcache.hve",
        "registry/amcache/Win11-RathbunVM/Amcache.hve",
        "registry/amcache/Win2012R2-StolenSzechuan/Amcache.hve",
        "registry/amcache/plaso-dirty-nologs/Amcache.hve",
        "registry/amcache/plaso-win10/win10-Amcache.hve",
        "hosts/win10-aptsim/Windows/AppCompat/Programs/Amcache.hve",
    ];
    let inputs: Vec<HiveFiles> = hives
        .iter()
        .map(|rel| {
            let primary = testkit::read_corpus(rel);
            let log = |ext: &str| std::fs::read(corpus.join(format!("{rel}.{ext}"))).ok();
            (primary, log("LOG1"), log("LOG2"))
        })
        .collect();
    let bytes: usize = inputs
        .iter()
        .map(|(p, a, b)| p.len() + a.as_ref().map_or(0, Vec::len) + b.as_ref().map_or(0, Vec::len))
        .sum();
    let rounds = 10;
    let start = Instant::now();
    let mut entries = 0;
    for _ in 0..rounds {
        for (primary, log1, log2) in &inputs {
            let rec = regf::recover(primary, log1.as_deref(), log2.as_deref()).expect("recover");
            let hive = regf::Hive::from_bytes(rec.bytes).expect("hive");
            entries += amcache::parse(&hive).expect("amcache").entries.len();
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "amcache: {entries} entries in {secs:.3} s = {:.0} entries/s, {:.1} MB/s (replay + parse)",
        entries as f64 / secs,
        (bytes * rounds) as f64 / secs / 1e6
    );
}
