//! Damaged NTFS metadata must give errors, never panics, hangs or huge allocations:
//! the corpus volume is read whole after random bytes of its MFT are corrupted.

mod common;

use std::sync::Arc;

use toolmark::evidence::ReadAt;
use toolmark::ntfs::{is_listed_name, known, Volume};

/// Reads everything reachable: every directory, every stream (first MiB of each).
fn read_everything(volume: &Volume) -> usize {
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![known::ROOT];
    let mut bytes = 0usize;
    let mut buf = vec![0u8; 1 << 20];
    while let Some(record) = stack.pop() {
        if !seen.insert(record) || seen.len() > 5000 {
            continue;
        }
        let Ok(file) = volume.file(record) else {
            continue;
        };
        for info in file.streams() {
            if let Ok(stream) = volume.stream(&file, &info.name) {
                let n = stream.len().min(buf.len() as u64) as usize;
                if stream.read_exact_at(&mut buf[..n], 0).is_ok() {
                    bytes += n;
                }
            }
        }
        if file.is_directory {
            if let Ok((entries, _)) = volume.read_dir(&file) {
                stack.extend(
                    entries
                        .iter()
                        .filter(|e| is_listed_name(e, record))
                        .map(|e| e.record),
                );
            }
        }
    }
    bytes
}

#[test]
fn corrupted_mft_never_panics() {
    let original = std::fs::read(common::corpus().join("images/ntfs-crate/testfs1")).unwrap();
    let clean = Volume::open(Arc::new(original.clone())).unwrap();
    assert!(read_everything(&clean) > 1000);
    let mft_start = (clean.boot().mft_lcn * clean.boot().cluster_size) as usize;
    let mft_len = (clean.record_count() * clean.boot().record_size) as usize;
    let mut rng = common::Rng(0x5EED_1234_ABCD_0001);
    let mut opened = 0;
    for round in 0..600 {
        let mut image = original.clone();
        let flips = 1 + rng.next() % 64;
        // Even rounds hit the MFT, odd ones anywhere (index blocks, $UpCase, data).
        let (start, len) = if round % 2 == 0 {
            (mft_start, mft_len)
        } else {
            (0, image.len())
        };
        for _ in 0..flips {
            let at = start + (rng.next() as usize % len);
            image[at] = rng.next() as u8;
        }
        if let Ok(volume) = Volume::open(Arc::new(image)) {
            opened += 1;
            read_everything(&volume);
        }
    }
    assert!(
        opened > 100,
        "most corruptions leave the volume openable ({opened})"
    );
}

#[test]
fn corrupted_boot_sector_is_an_error() {
    let mut image = std::fs::read(common::corpus().join("images/ntfs-crate/testfs1")).unwrap();
    // The primary gone: the backup in the last sector opens the volume, and says so.
    image[..512].fill(0);
    let volume = Volume::open(Arc::new(image.clone())).expect("backup boot sector");
    assert!(
        volume
            .warnings()
            .iter()
            .any(|w| w.contains("backup boot sector")),
        "{:?}",
        volume.warnings()
    );
    assert!(read_everything(&volume) > 1000);
    // Both gone: an error naming the boot sector.
    let last = image.len() - 512;
    image[last..].fill(0);
    let err = Volume::open(Arc::new(image)).err().expect("must fail");
    assert!(err.to_string().contains("boot sector"), "{err}");
}
