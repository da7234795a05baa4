//! The unallocated clusters toolmark reads from `$Bitmap` (what carving will scan)
//! equal the ones The Sleuth Kit's `blkls -l` lists.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::*;

fn ours(image: &Path) -> (BTreeSet<u64>, u64) {
    let (volume, offset) = open_first_ntfs(image);
    let mut free = BTreeSet::new();
    volume
        .for_each_unallocated_run(|start, count| free.extend(start..start + count))
        .unwrap();
    (free, offset)
}

fn blkls(image: &Path, offset: u64) -> BTreeSet<u64> {
    let out = run_ok(
        oracle("blkls", "sleuthkit")
            .args(["-l", "-o"])
            .arg((offset / 512).to_string())
            .arg(image),
    )
    .stdout;
    String::from_utf8_lossy(&out)
        .lines()
        .filter_map(|l| l.strip_suffix("|f"))
        .filter_map(|a| a.parse().ok())
        .collect()
}

#[test]
fn unallocated_clusters_equal_blkls() {
    let mut images = vec![corpus().join("images/ntfs-crate/testfs1")];
    images.extend(
        unpacked_samples()
            .into_iter()
            .filter(|p| p.ends_with("ntfs-ptrn.raw") || p.ends_with("ntfs-lastaccess.raw")),
    );
    images.push(built_images().join("win10-aptsim.raw"));
    for image in images {
        let (free, offset) = ours(&image);
        let expected = blkls(&image, offset);
        assert!(
            expected.len() > 1000,
            "{}: blkls listed {}",
            image.display(),
            expected.len()
        );
        let missing: Vec<_> = expected.difference(&free).take(10).collect();
        let extra: Vec<_> = free.difference(&expected).take(10).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{}: {} vs blkls {}; missing {missing:?} extra {extra:?}",
            image.display(),
            free.len(),
            expected.len()
        );
    }
}
