//! Damaged containers made from corpus images: each must fail with one clear line
//! naming the problem and a non-zero exit, never a panic or silent zeros.

mod common;

use std::path::{Path, PathBuf};

use common::*;

fn scratch(name: &str) -> PathBuf {
    let dir = scratch_dir("evidence-damage").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn copy_prefix(src: &Path, dest: &Path, len: Option<usize>) {
    let bytes = std::fs::read(src).unwrap();
    let len = len.unwrap_or(bytes.len()).min(bytes.len());
    std::fs::write(dest, &bytes[..len]).unwrap();
}

/// Runs `toolmark ARGS IMAGE` for info, ls and verify; each must fail with a single
/// stderr line containing `expect`.
fn assert_fails_clearly(image: &Path, expect: &str) {
    for args in [vec!["info"], vec!["ls", "-r"], vec!["verify", "-q"]] {
        let out = toolmark().args(&args).arg(image).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains("panicked"),
            "{args:?} {}: {stderr}",
            image.display()
        );
        assert_ne!(
            out.status.code(),
            Some(0),
            "{args:?} {} succeeded",
            image.display()
        );
        assert_eq!(
            stderr.lines().count(),
            1,
            "{args:?}: one line expected: {stderr}"
        );
        assert!(
            stderr.contains(expect),
            "{args:?}: expected '{expect}' in: {stderr}"
        );
    }
}

#[test]
fn e01_with_missing_last_segment() {
    // The set is read up to where it ends (README, "What toolmark promises on
    // damaged input"); the loss is named, and the exit status says it.
    let c = corpus().join("images/containers");
    let dir = scratch("missing");
    copy_prefix(&c.join("image-split.E01"), &dir.join("disk.E01"), None);
    assert_fails_clearly(&dir.join("disk.E01"), "segment set incomplete");
    let out = toolmark()
        .arg("info")
        .arg(dir.join("disk.E01"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("partitions:  2 (MBR)"), "{stdout}");
}

#[test]
fn e01_with_truncated_segments() {
    let c = corpus().join("images/containers");
    let dir = scratch("truncated-last");
    copy_prefix(&c.join("image-split.E01"), &dir.join("disk.E01"), None);
    copy_prefix(
        &c.join("image-split.E02"),
        &dir.join("disk.E02"),
        Some(200_000),
    );
    assert_fails_clearly(&dir.join("disk.E01"), "disk.E02: segment truncated");

    let dir = scratch("truncated-first");
    copy_prefix(
        &c.join("image-split.E01"),
        &dir.join("disk.E01"),
        Some(500_000),
    );
    copy_prefix(&c.join("image-split.E02"), &dir.join("disk.E02"), None);
    assert_fails_clearly(&dir.join("disk.E01"), "disk.E01: segment truncated");
}

/// A split raw set whose middle piece is short, or missing, is read up to it (the
/// README's promise): `info` and `ls` name that and exit 2, and `verify` refuses to
/// give a hash that is not the media's.
#[test]
fn split_raw_with_short_or_missing_middle_piece() {
    let c = corpus().join("images/containers");
    let dir = scratch("split-short");
    copy_prefix(&c.join("ext2.splitraw.000"), &dir.join("disk.000"), None);
    copy_prefix(
        &c.join("ext2.splitraw.000"),
        &dir.join("disk.001"),
        Some(1_000_000),
    );
    copy_prefix(&c.join("ext2.splitraw.001"), &dir.join("disk.002"), None);
    assert_fails_clearly(
        &dir.join("disk.000"),
        "segment truncated or from another set; the set is read up to",
    );

    let dir = scratch("split-gap");
    copy_prefix(&c.join("ext2.splitraw.000"), &dir.join("disk.000"), None);
    copy_prefix(&c.join("ext2.splitraw.001"), &dir.join("disk.002"), None);
    assert_fails_clearly(
        &dir.join("disk.000"),
        "and what follows the gap is not read",
    );
}

#[test]
fn empty_and_missing_files() {
    let dir = scratch("empty");
    std::fs::write(dir.join("empty.raw"), b"").unwrap();
    assert_fails_clearly(&dir.join("empty.raw"), "file is empty");
    assert_fails_clearly(&dir.join("nonexistent.E01"), "No such file");
}
