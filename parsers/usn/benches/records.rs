//! Throughput of the slice walk and the streaming reader over the corpus journals.
//! Run: `cargo bench -p toolmark-usn`.

use std::time::Instant;

fn report(what: &str, bytes: usize, records: u64, rounds: u32, seconds: f64) {
    let total = f64::from(rounds);
    println!(
        "{what}: {:.0} records/s, {:.0} MB/s ({records} records, {bytes} bytes, {rounds} rounds, {seconds:.3} s)",
        records as f64 * total / seconds,
        bytes as f64 * total / seconds / 1e6,
    );
}

fn main() {
    // A sparse head as Windows leaves it: 256 MiB of zeros before the first record.
    let zeros = vec![0u8; 256 << 20];
    let start = Instant::now();
    let found = usn::records(&zeros, 0).count();
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "zero skip: {:.0} MB/s ({} MiB, {found} records, {seconds:.3} s)",
        zeros.len() as f64 / seconds / 1e6,
        zeros.len() >> 20
    );

    for name in [
        "hosts/win10-aptsim/$Extend/$J",
        "ntfs/dfir_ntfs/usnjrnlj.bin",
    ] {
        let data = testkit::read_corpus(name);
        let rounds = (200_000_000 / data.len().max(1)).clamp(3, 2000) as u32;

        let start = Instant::now();
        let mut count = 0;
        for _ in 0..rounds {
            count = usn::records(&data, 0).filter(Result::is_ok).count() as u64;
        }
        report(
            &format!("{name} slice"),
            data.len(),
            count,
            rounds,
            start.elapsed().as_secs_f64(),
        );

        let start = Instant::now();
        for _ in 0..rounds {
            count = usn::UsnStream::new(data.as_slice(), 0)
                .filter(Result::is_ok)
                .count() as u64;
        }
        report(
            &format!("{name} stream"),
            data.len(),
            count,
            rounds,
            start.elapsed().as_secs_f64(),
        );
    }
}
