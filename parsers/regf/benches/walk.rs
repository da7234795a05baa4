//! Walks every key and decodes every value of the corpus hives, and replays the
//! Win10 Amcache logs, repeatedly; prints records (keys + values) per second and MB/s.
//! Run: `cargo bench -p toolmark-regf`.

use std::time::Instant;

use testkit::read_corpus;

fn walk(bytes: &[u8]) -> usize {
    let hive = regf::Hive::from_bytes(bytes.to_vec()).expect("hive");
    let mut records = 0;
    hive.walk(|_, key| {
        records += 1;
        let _ = key.name();
        for v in key.values().unwrap_or_default() {
            records += 1;
            let _ = (v.name(), v.data());
        }
    })
    .expect("walk");
    records
}

fn main() {
    let hives: Vec<Vec<u8>> = [
        "registry/hives/NTUSER.DAT",
        "registry/hives/NTUSER-WIN7.DAT",
        "registry/hives/SAM",
        "registry/hives/UsrClass.dat",
        "registry/amcache/plaso-win10/win10-Amcache.hve",
        "registry/amcache/plaso-dirty-nologs/Amcache.hve",
    ]
    .iter()
    .map(|rel| read_corpus(rel))
    .collect();
    let bytes: usize = hives.iter().map(Vec::len).sum();
    let rounds = 10;
    let start = Instant::now();
    let mut records = 0;
    for _ in 0..rounds {
        records += hives.iter().map(|h| walk(h)).sum::<usize>();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "walk: {records} keys+values in {secs:.3} s = {:.0} records/s, {:.1} MB/s",
        records as f64 / secs,
        (bytes * rounds) as f64 / secs / 1e6
    );

    let base = "registry/amcache/Win10-RathbunVM/Amcache.hve";
    let (primary, log1, log2) = (
        read_corpus(base),
        read_corpus(&format!("{base}.LOG1")),
        read_corpus(&format!("{base}.LOG2")),
    );
    let input = primary.len() + log1.len() + log2.len();
    let start = Instant::now();
    for _ in 0..rounds {
        let rec = regf::recover(&primary, Some(&log1), Some(&log2)).expect("recover");
        assert!(!rec.report.logs_applied.is_empty(), "{:?}", rec.report);
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "replay: {rounds} replays of the Win10 Amcache + logs in {secs:.3} s = {:.1} MB/s of input",
        (input * rounds) as f64 / secs / 1e6
    );
}
