//! NTFS reading checked against The Sleuth Kit on the real NTFS images of the corpus.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use common::*;

fn corpus_ntfs_images() -> Vec<PathBuf> {
    let c = corpus().join("images");
    let mut images = vec![
        c.join("ntfs-crate/testfs1"),
        c.join("ewf-ntfs/ntfs_sample.E01"),
        c.join("ewf-ntfs/partitioned_ntfs.E01"),
        c.join("ewf-ntfs/gpt_ntfs.E01"),
    ];
    // ntfs-2m has 2 MiB clusters, which neither TSK 4.11 nor libfsntfs opens; it
    // is checked separately below.
    images.extend(
        unpacked_samples()
            .into_iter()
            .filter(|p| !p.ends_with("ntfs-2m.raw")),
    );
    images
}

#[test]
fn listing_of_every_corpus_ntfs_image_equals_fls() {
    let images = corpus_ntfs_images();
    assert_eq!(images.len(), 9, "expected 9 corpus NTFS images");
    for image in images {
        let offset = first_ntfs_offset(&image);
        let expected: BTreeSet<String> = fls_entries(&image, offset)
            .into_iter()
            .map(|e| e.path)
            .collect();
        let ours = toolmark_paths(&image);
        assert!(
            expected.len() > 30,
            "{}: fls listed only {}",
            image.display(),
            expected.len()
        );
        assert_same_paths(&ours, &expected, &image.display().to_string());
    }
}

#[test]
fn cat_equals_icat_for_every_file_of_small_corpus_images() {
    let c = corpus().join("images");
    for image in [
        c.join("ntfs-crate/testfs1"),
        c.join("ewf-ntfs/gpt_ntfs.E01"),
    ] {
        let offset = first_ntfs_offset(&image);
        let entries: Vec<_> = fls_entries(&image, offset)
            .into_iter()
            .filter(|e| e.kind == "r/r")
            // icat prints nothing for this all-sparse stream of volume size, a
            // special case of TSK's; we return its zeros like any sparse stream
            // (checked by its length below).
            .filter(|e| e.path != "$BadClus:$Bad")
            .collect();
        assert!(entries.len() > 15);
        for entry in entries {
            let expected = run_ok(
                oracle("icat", "sleuthkit")
                    .arg("-o")
                    .arg((offset / 512).to_string())
                    .arg(&image)
                    .arg(&entry.address),
            )
            .stdout;
            let ours = run_ok(toolmark().arg("cat").arg(&image).arg(&entry.path)).stdout;
            assert_eq!(
                sha256(&ours),
                sha256(&expected),
                "{} {} ({}): {} bytes vs icat {}",
                image.display(),
                entry.path,
                entry.address,
                ours.len(),
                expected.len()
            );
        }
        let bad = run_ok(toolmark().arg("cat").arg(&image).arg("$BadClus:$Bad")).stdout;
        assert!(bad.iter().all(|&b| b == 0));
        assert_eq!(bad.len() as u64 % 512, 0);
    }
}

/// No oracle here opens 2 MiB clusters, so the volume is checked against facts that
/// hold for any Windows-formatted NTFS: `$MFTMirr` mirrors the first four MFT
/// records, and `$UpCase` is the same table Windows 10 writes on every volume (taken
/// from another sample through icat).
#[test]
fn two_mib_cluster_volume_reads_consistently() {
    let samples = unpacked_samples();
    let big = samples.iter().find(|p| p.ends_with("ntfs-2m.raw")).unwrap();
    let ptrn = samples
        .iter()
        .find(|p| p.ends_with("ntfs-ptrn.raw"))
        .unwrap();
    let out = run_ok(toolmark().args(["info", "--json"]).arg(big)).stdout;
    let info: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(info[0]["partitions"][0]["ntfs"]["cluster_size"], 2_097_152);

    let mft = run_ok(toolmark().arg("cat").arg(big).arg("$MFT")).stdout;
    let mirror = run_ok(toolmark().arg("cat").arg(big).arg("$MFTMirr")).stdout;
    assert!(mft.len() >= 4096 && mirror.len() >= 4096);
    assert_eq!(
        &mft[..4096],
        &mirror[..4096],
        "$MFTMirr must mirror records 0-3"
    );

    let upcase = run_ok(toolmark().arg("cat").arg(big).arg("$UpCase")).stdout;
    let ptrn_offset = first_ntfs_offset(ptrn) / 512;
    let reference = run_ok(
        oracle("icat", "sleuthkit")
            .arg("-o")
            .arg(ptrn_offset.to_string())
            .arg(ptrn)
            .arg("10"),
    )
    .stdout;
    assert_eq!(upcase.len(), 131_072);
    assert_eq!(sha256(&upcase), sha256(&reference));
}

#[test]
fn lookups_are_case_insensitive_and_accept_both_separators() {
    let image = corpus().join("images/ntfs-crate/testfs1");
    let a = run_ok(toolmark().arg("cat").arg(&image).arg("FILE-with-12345"));
    let b = run_ok(toolmark().arg("cat").arg(&image).arg(r"\.\file-WITH-12345"));
    assert_eq!(a.stdout, b.stdout);
    assert_eq!(a.stdout, b"12345");
    let listed = run_ok(toolmark().args(["ls"]).arg(&image).arg("Many_Subdirs"));
    let count = String::from_utf8_lossy(&listed.stdout).lines().count();
    assert_eq!(count, 512, "mkntfs script made 512 subdirectories");
}
