//! Containers checked against libewf's `ewfverify` and against each other: the same
//! media through E01, split E01, split raw and raw must give the same bytes.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// `(computed MD5, exit code)` from `toolmark verify`.
fn toolmark_verify(image: &Path) -> (String, i32, String) {
    let out = toolmark()
        .args(["verify", "-q"])
        .arg(image)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let md5 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("computed MD5:"))
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (md5, out.status.code().unwrap_or(-1), text + &stderr)
}

/// MD5 that `ewfverify` computes over the media.
fn ewfverify_md5(image: &Path) -> String {
    let out = oracle("ewfverify", "ewf-tools")
        .arg("-q")
        .arg(image)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("MD5 hash calculated over data:"))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| panic!("no MD5 in ewfverify output for {}: {text}", image.display()))
}

fn corpus_e01s() -> Vec<PathBuf> {
    let c = corpus().join("images");
    let mut found = Vec::new();
    for dir in ["containers", "ewf-ntfs"] {
        for entry in std::fs::read_dir(c.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "E01") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

#[test]
fn verify_agrees_with_ewfverify_on_every_corpus_e01() {
    let images = corpus_e01s();
    assert_eq!(images.len(), 7, "{images:?}");
    for image in images {
        let (ours, code, text) = toolmark_verify(&image);
        assert_eq!(ours, ewfverify_md5(&image), "{}", image.display());
        assert_eq!(code, 0, "{}: {text}", image.display());
        assert!(text.contains("match"), "{text}");
    }
}

#[test]
fn one_media_through_every_container_gives_the_same_bytes() {
    let c = corpus().join("images/containers");
    let (e01, _, _) = toolmark_verify(&c.join("ext2.E01"));
    let (split_e01, _, _) = toolmark_verify(&c.join("ext2.split.E01"));
    let (split_raw, code, text) = toolmark_verify(&c.join("ext2.splitraw.000"));
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("no stored hashes"));
    assert_eq!(e01, ewfverify_md5(&c.join("ext2.E01")));
    assert_eq!(split_e01, e01);
    assert_eq!(split_raw, e01);

    let (raw, _, _) = toolmark_verify(&c.join("tsk_volume_system.raw"));
    assert_eq!(raw, ewfverify_md5(&c.join("image-split.E01")));
    let info = run_ok(
        toolmark()
            .args(["info", "--json"])
            .arg(c.join("ext2.splitraw.000")),
    )
    .stdout;
    let info: serde_json::Value = serde_json::from_slice(&info).unwrap();
    assert_eq!(info[0]["container"], "split_raw");
    assert_eq!(info[0]["segments"].as_array().unwrap().len(), 2);
}

#[test]
fn partitions_equal_mmls() {
    let c = corpus().join("images");
    for image in [
        c.join("containers/tsk_volume_system.raw"),
        c.join("ewf-ntfs/partitioned_ntfs.E01"),
        c.join("ewf-ntfs/gpt_ntfs.E01"),
    ] {
        let mmls = run_ok(oracle("mmls", "sleuthkit").arg(&image)).stdout;
        // mmls rows: index, slot, start, end, length, description; real partitions
        // have a numeric slot (`000:000` for DOS tables, `000` for GPT), while
        // metadata and gaps show `Meta` or `-------`.
        let mut expected: Vec<(u64, u64)> = String::from_utf8_lossy(&mmls)
            .lines()
            .filter_map(|l| {
                let cols: Vec<&str> = l.split_whitespace().collect();
                let slot = cols.get(1)?;
                if !slot.starts_with(|c: char| c.is_ascii_digit()) {
                    return None;
                }
                Some((cols.get(2)?.parse().ok()?, cols.get(4)?.parse().ok()?))
            })
            .collect();
        expected.sort();
        let info = run_ok(toolmark().args(["info", "--json"]).arg(&image)).stdout;
        let info: serde_json::Value = serde_json::from_slice(&info).unwrap();
        let mut ours: Vec<(u64, u64)> = info[0]["partitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["offset"].as_u64().unwrap() / 512,
                    p["length"].as_u64().unwrap() / 512,
                )
            })
            .collect();
        ours.sort();
        assert_eq!(ours, expected, "{}", image.display());
    }
}

/// A copy whose stored MD5 was altered must be reported as a mismatch (exit 1); a
/// copy with damaged chunk data must fail with a message, never panic.
#[test]
fn corrupted_copies_are_reported() {
    let src = corpus().join("images/ewf-ntfs/ntfs_sample.E01");
    let bytes = std::fs::read(&src).unwrap();
    let stored = hex_to_bytes(&ewfverify_md5(&src));
    let dir = scratch_dir("evidence-corrupt");

    let at = find(&bytes, &stored).expect("stored MD5 present in the hash section");
    let mut altered = bytes.clone();
    altered[at] ^= 0xFF;
    let wrong_hash = dir.join("wrong-hash.E01");
    std::fs::write(&wrong_hash, &altered).unwrap();
    let (_, code, text) = toolmark_verify(&wrong_hash);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("MISMATCH"), "{text}");

    let mut damaged = bytes.clone();
    let middle = damaged.len() / 2;
    for b in &mut damaged[middle..middle + 64] {
        *b ^= 0x5A;
    }
    let bad_data = dir.join("bad-data.E01");
    std::fs::write(&bad_data, &damaged).unwrap();
    let (_, code, text) = toolmark_verify(&bad_data);
    assert_ne!(code, 0, "{text}");

    // The oracle agrees that the data no longer matches.
    let status = Command::new("ewfverify")
        .arg("-q")
        .arg(&bad_data)
        .output()
        .unwrap();
    assert!(!status.status.success());
}

fn hex_to_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
