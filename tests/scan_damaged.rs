//! `toolmark scan` on copies of the built disk with random sectors overwritten in
//! the volume's data area (MFT, logs, hives, Prefetch, index blocks): it must finish,
//! never panic, exit 0 or 2, and write every table.

mod common;

use std::path::Path;

use common::*;

/// Byte ranges that hold data on the built volume: the allocated clusters, from
/// The Sleuth Kit's `blkls -a -l`.
fn allocated_clusters(image: &Path, offset: u64) -> Vec<u64> {
    let out = run_ok(
        oracle("blkls", "sleuthkit")
            .args(["-a", "-l", "-o"])
            .arg((offset / 512).to_string())
            .arg(image),
    )
    .stdout;
    String::from_utf8_lossy(&out)
        .lines()
        .filter_map(|l| l.strip_suffix("|a"))
        .filter_map(|a| a.parse().ok())
        .collect()
}

#[test]
fn scans_of_randomly_damaged_disks_finish_without_panics() {
    let raw = built_images().join("win10-aptsim.raw");
    let offset = first_ntfs_offset(&raw);
    let clusters = allocated_clusters(&raw, offset);
    assert!(
        clusters.len() > 10_000,
        "{} allocated clusters",
        clusters.len()
    );
    let original = std::fs::read(&raw).unwrap();
    let dir = scratch_dir("scan-damaged");
    let mut rng = Rng(0xD15C_0DE5_2026_0001);
    for round in 0..4 {
        let mut image = original.clone();
        // 400 sectors of garbage, or zeros, in allocated clusters.
        for _ in 0..400 {
            let cluster = clusters[(rng.next() % clusters.len() as u64) as usize];
            let sector = (rng.next() % 8) as usize;
            let at = (offset + cluster * 4096) as usize + sector * 512;
            let zero = rng.next() % 2 == 0;
            for b in &mut image[at..at + 512] {
                *b = if zero { 0 } else { rng.next() as u8 };
            }
        }
        let path = dir.join(format!("damaged-{round}.raw"));
        write_sparse(&path, &image);
        let out = dir.join(format!("out-{round}"));
        let _ = std::fs::remove_dir_all(&out);
        let result = toolmark()
            .arg("scan")
            .arg(&path)
            .arg("-o")
            .arg(&out)
            .args(["-q", "--jobs", "2"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert!(!stderr.contains("panicked"), "round {round}: {stderr}");
        assert!(
            matches!(result.status.code(), Some(0 | 2)),
            "round {round}: {:?} {stderr}",
            result.status
        );
        let tables = out.join(format!("damaged-{round}"));
        for table in [
            "evtx", "prefetch", "mft", "usn", "registry", "timeline", "errors",
        ] {
            assert!(
                tables.join(format!("{table}.csv")).is_file(),
                "round {round}: no {table}.csv"
            );
        }
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(tables.join("manifest.json")).unwrap()).unwrap();
        assert_eq!(
            manifest["failed"], false,
            "round {round}: the volume itself still opens"
        );
        // The damage is seen and reported, artifact by artifact, or, when it hit
        // a directory index on the way to the artifacts, as that directory.
        let (_, errors) = read_csv(&tables.join("errors.csv"));
        let index_damage = errors
            .iter()
            .any(|e| e[3] == "list" && e[4].contains("damaged"));
        assert!(
            errors.len() > 50 || index_damage,
            "round {round}: {errors:?}"
        );
        assert_eq!(result.status.code(), Some(2));
        let _ = std::fs::remove_file(&path);
    }
}

/// 3 000 look-alike compressed Prefetch headers (`MAM\x04`, then noise) carved from
/// the whole image: each fails to decompress, at its own offset. errors.csv lists
/// the first 1 000 of the pass's problems of that stage and counts the rest in one
/// row, rather than one row (and one tracked source) per offset.
#[test]
fn a_region_of_look_alike_signatures_lists_a_thousand_problems_and_counts_the_rest() {
    let dir = scratch_dir("look-alike-signatures");
    let mut rng = Rng(0x5CA1_AB1E_2026_1201);
    let mut image = Vec::new();
    for _ in 0..3000 {
        let mut block = vec![0u8; 4096];
        for b in block.iter_mut() {
            *b = rng.next() as u8;
        }
        block[..4].copy_from_slice(b"MAM\x04");
        block[4..8].copy_from_slice(&100_000u32.to_le_bytes());
        image.extend_from_slice(&block);
    }
    let path = dir.join("noise.raw");
    std::fs::write(&path, &image).unwrap();
    let out = dir.join("out");
    let result = scan_into(std::slice::from_ref(&path), &out, &["--carve-all"]);
    assert_eq!(result.status.code(), Some(2));
    let errors = std::fs::read_to_string(out.join("noise/errors.csv")).unwrap();
    let carved: Vec<&str> = errors
        .lines()
        .filter(|l| l.contains(",carve prefetch,"))
        .collect();
    assert_eq!(carved.len(), 1001, "{}", &errors[..errors.len().min(2000)]);
    assert!(
        carved[0].contains(",(image),carve prefetch,offset 0: "),
        "{}",
        carved[0]
    );
    assert!(
        carved[1000].contains("2000 more problems of this stage in this file"),
        "{}",
        carved[1000]
    );
}
