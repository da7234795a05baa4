#![no_main]
//! Arbitrary bytes as a volume whose VSS header area starts at 0x1e00: opening the
//! catalog, every snapshot and reading from each must never panic or hang.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut volume = vec![0u8; vss::HEADER_OFFSET as usize];
    volume.extend_from_slice(data);
    let src = &volume;
    let Ok(Some(catalog)) = vss::Catalog::open(src, volume.len() as u64) else {
        return;
    };
    for n in 1..=catalog.stores.len() {
        if let Ok(snapshot) = catalog.snapshot(src, n) {
            let mut buf = vec![0u8; 3 * vss::BLOCK as usize];
            let _ = snapshot.read_at(src, &mut buf, 0);
            let end = snapshot.len().saturating_sub(buf.len() as u64 / 2);
            let _ = snapshot.read_at(src, &mut buf, end);
        }
    }
});
