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

/// Runs `toolmark ARGS IMAGE` for info, ls and verify, none of which may panic, and
/// checks each one's exit status and stderr with `check`. Each must name `expect`.
fn each_command(image: &Path, expect: &str, check: impl Fn(&[&str], Option<i32>, &str)) {
    for args in [vec!["info"], vec!["ls", "-r"], vec!["verify", "-q"]] {
        let out = toolmark().args(&args).arg(image).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains("panicked"),
            "{args:?} {}: {stderr}",
            image.display()
        );
        assert!(
            stderr.contains(expect),
            "{args:?}: expected '{expect}' in: {stderr}"
        );
        check(&args, out.status.code(), &stderr);
    }
}

/// `toolmark verify IMAGE` computes the MD5 md5sum(1) gives of `source`.
fn assert_verify_md5_is_md5sums(image: &Path, source: &Path, context: &str) {
    let md5sum = run_ok(oracle("md5sum", "coreutils").arg(source));
    let expected = String::from_utf8_lossy(&md5sum.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string();
    let verify = toolmark().arg("verify").arg(image).output().unwrap();
    let verified = String::from_utf8_lossy(&verify.stdout);
    assert_eq!(
        verify.status.code(),
        Some(0),
        "{context}: {verified}{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    assert!(
        verified.contains(&format!("computed MD5:  {expected}")),
        "{context}: {verified} (md5sum: {expected})"
    );
}

/// Each command fails with a single stderr line naming `expect`.
fn assert_fails_clearly(image: &Path, expect: &str) {
    each_command(image, expect, |args, code, stderr| {
        assert_ne!(code, Some(0), "{args:?} {} succeeded", image.display());
        assert_eq!(
            stderr.lines().count(),
            1,
            "{args:?}: one line expected: {stderr}"
        );
    });
}

/// An image read in part: each command exits 2 and names the damage (`expect`)
/// among whatever else it says of the part it read.
fn assert_reported(image: &Path, expect: &str) {
    each_command(image, expect, |args, code, stderr| {
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
    });
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

/// A segment of another acquisition, numbered as the one it stands in for, was
/// read as this disk's (exit 0: its chunks were another disk's bytes). Its data
/// section's media values differ from the first segment's volume section: the set
/// is read up to the segment before it, the loss named.
#[test]
fn e01_with_a_segment_of_another_acquisition() {
    let c = corpus().join("images/containers");
    let dir = scratch("foreign-segment");
    copy_prefix(&c.join("image-split.E01"), &dir.join("disk.E01"), None);
    copy_prefix(&c.join("ext2.split.E02"), &dir.join("disk.E02"), None);
    assert_reported(
        &dir.join("disk.E01"),
        "disk.E02: its media values (size, chunking or set identifier) differ from the \
         first segment's: a segment of another acquisition; the set is read up to disk.E01",
    );
}

/// A split raw set whose middle piece is short, empty or missing is read up to it (the
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
    assert_reported(
        &dir.join("disk.000"),
        "segment truncated or from another set; the set is read up to",
    );

    let dir = scratch("split-gap");
    copy_prefix(&c.join("ext2.splitraw.000"), &dir.join("disk.000"), None);
    copy_prefix(&c.join("ext2.splitraw.001"), &dir.join("disk.002"), None);
    assert_reported(
        &dir.join("disk.000"),
        "and what follows the gap is not read",
    );

    // An empty piece ended the whole set: nothing was read, not even the first.
    let dir = scratch("split-empty");
    copy_prefix(&c.join("ext2.splitraw.000"), &dir.join("disk.000"), None);
    copy_prefix(&c.join("ext2.splitraw.001"), &dir.join("disk.001"), Some(0));
    assert_reported(
        &dir.join("disk.000"),
        "disk.001: file is empty): the set is read up to",
    );
}

/// A split raw set of more than 999 pieces goes on `.999`, `.1000` (FTK Imager's
/// naming, and how The Sleuth Kit looks for them). It was read only up to `.999`,
/// with exit 0: a shorter disk, silently. `img_stat` is the oracle for the pieces,
/// md5sum of their concatenation for the bytes.
#[test]
fn a_split_raw_set_past_999_pieces_is_read_whole() {
    let dir = scratch("split-1002");
    let mut whole = Vec::new();
    for n in 1..=1002u32 {
        let piece = vec![(n % 251) as u8; 512];
        std::fs::write(dir.join(format!("disk.{n:03}")), &piece).unwrap();
        whole.extend_from_slice(&piece);
    }
    let first = dir.join("disk.001");
    let img_stat = run_ok(oracle("img_stat", "sleuthkit").arg(&first));
    let listed = String::from_utf8_lossy(&img_stat.stdout);
    assert!(listed.contains("disk.1002"), "{listed}");
    let info = run_ok(toolmark().arg("info").arg(&first));
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(info.contains("segments:    1002"), "{info}");
    assert!(
        info.contains(&format!("media size:  {} bytes", whole.len())),
        "{info}"
    );
    std::fs::write(dir.join("whole.raw"), &whole).unwrap();
    assert_verify_md5_is_md5sums(&first, &dir.join("whole.raw"), "1 002 pieces");
}

/// GNU split without `-a` widens its suffixes rather than run out: `.89` is
/// followed by `.9000` (with `-d`), `.yz` by `.zaaa`. Such sets were read up to
/// `.89` or `.yz` with exit 0. split(1) makes them here; md5sum of the source is
/// the oracle.
#[test]
fn gnu_split_sets_past_their_widening_are_read_whole() {
    for (name, args, pieces, piece_size) in [
        ("split-d", &["-d"][..], 96usize, 1000usize),
        ("split-alpha", &[][..], 700, 100),
    ] {
        let dir = scratch(name);
        let source = dir.join("source.raw");
        let bytes: Vec<u8> = (0..pieces * piece_size - 17)
            .map(|i| (i * 7 % 253) as u8)
            .collect();
        std::fs::write(&source, &bytes).unwrap();
        run_ok(
            oracle("split", "coreutils")
                .current_dir(&dir)
                .args(args)
                .arg("-b")
                .arg(piece_size.to_string())
                .arg(&source)
                .arg("disk."),
        );
        let first = dir.join(if args.is_empty() {
            "disk.aa"
        } else {
            "disk.00"
        });
        let info = run_ok(toolmark().arg("info").arg(&first));
        let info = String::from_utf8_lossy(&info.stdout);
        assert!(
            info.contains(&format!("segments:    {pieces}")),
            "{name}: {info}"
        );
        assert_verify_md5_is_md5sums(&first, &source, name);
    }
}

#[test]
fn empty_and_missing_files() {
    let dir = scratch("empty");
    std::fs::write(dir.join("empty.raw"), b"").unwrap();
    assert_fails_clearly(&dir.join("empty.raw"), "file is empty");
    assert_fails_clearly(&dir.join("nonexistent.E01"), "No such file");
}

/// A small E01 (`SCRATCH/NAME/image.E01`) made by ewfacquire (deflate, 32 KiB
/// chunks) from a 1.2 MiB mkntfs volume, as `fuzz/seeds.sh` makes its seed.
fn small_e01(name: &str) -> PathBuf {
    let dir = scratch(name);
    let volume = dir.join("volume");
    mkntfs(&volume, 1200 << 10, 512, &[]);
    run_ok(
        oracle("ewfacquire", "ewf-tools")
            .env("TZ", "UTC")
            .args([
                "-u",
                "-q",
                "-f",
                "encase6",
                "-c",
                "deflate:fast",
                "-b",
                "64",
                "-t",
            ])
            .arg(dir.join("image"))
            .arg(&volume),
    );
    dir.join("image.E01")
}

/// A chunk-table entry of a small E01 (ewfacquire, deflate) whose offset has its
/// high bits flipped, as the E01 fuzz target found: the chunk before it then
/// claims a stored size of about 1.8 GB, which the `ewf` crate allocates before
/// reading (and then served the chunk as if nothing were wrong). It is refused
/// as corrupt, naming its size, before the crate sees it.
#[test]
fn a_chunk_claiming_gigabytes_is_refused_before_it_is_allocated() {
    let image = small_e01("stored-size");
    let mut bytes = std::fs::read(&image).unwrap();
    // Sections: a 76-byte descriptor (type, next offset, ...); a table's data
    // is its entry count, 20 more header bytes, then 32-bit entries.
    let u32_at = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    let mut at = 13;
    while &bytes[at..at + 6] != b"table\0" {
        at = u64::from_le_bytes(bytes[at + 16..at + 24].try_into().unwrap()) as usize;
    }
    let count = u32_at(&bytes, at + 76) as usize;
    let entry = count / 2;
    let slot = at + 76 + 24 + 4 * entry;
    let flipped = 0xED00_0000 | (u32_at(&bytes, slot) & 0x00FF_FFFF);
    bytes[slot..slot + 4].copy_from_slice(&flipped.to_le_bytes());
    std::fs::write(&image, &bytes).unwrap();

    let out = toolmark()
        .args(["verify", "-q"])
        .arg(&image)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("E01 chunk {} ", entry - 1)) && stderr.contains("stored size"),
        "{stderr}"
    );
}

/// The first section descriptor's `next` offset set to 2^64 - 16 (the E01 fuzz
/// target's second find: an overflow that checked builds panicked on). The
/// chain ends there (the segment is cut short) and the set, which then has no
/// volume section, is refused by `info`, `ls` and `verify` with one line.
#[test]
fn a_section_pointing_near_the_end_of_u64_is_refused() {
    let image = small_e01("section-next");
    let mut bytes = std::fs::read(&image).unwrap();
    bytes[13 + 16..13 + 24].copy_from_slice(&(u64::MAX - 15).to_le_bytes());
    std::fs::write(&image, &bytes).unwrap();
    assert_fails_clearly(&image, "missing volume section");
}

/// A zeroed block over the E01's `hash` section (found by `fuzz/mutate.py`): the
/// stored MD5 reads as all zeros, which is no hash (libewf's `ewfverify` says
/// "N/A"), not a mismatch. `verify` computes the media's hashes, says nothing was
/// stored to compare with, and exits 2 for the damaged section chain, not 1.
#[test]
fn a_zeroed_hash_section_is_no_stored_hash_not_a_mismatch() {
    let dir = scratch("zeroed-hash-section");
    let image = dir.join("image.E01");
    let mut bytes = std::fs::read(corpus().join("images/containers/image.E01")).unwrap();
    // From the hash section to the end (the done section after it).
    bytes[4297..].fill(0);
    std::fs::write(&image, &bytes).unwrap();
    let out = toolmark().arg("verify").arg(&image).output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(stdout.contains("no stored hashes"), "{stdout}");
    assert!(!stdout.contains("MISMATCH"), "{stdout}");
    assert!(stderr.contains("damaged section chain"), "{stderr}");
}

/// A set of more than 775 segments goes on past `.EZZ` with `.FAA` (ewfacquire and
/// EnCase name them so: a 2 TB disk in 1.5 GB segments has 1 400). Such a set was
/// read only up to `.EZZ`; it is read whole, each segment held open once, and
/// toolmark's MD5 of it is md5sum's of the source.
#[test]
fn an_e01_set_past_ezz_is_read_whole() {
    let dir = scratch("past-ezz");
    let raw = dir.join("source.raw");
    // 1 MiB segments (ewfacquire's smallest) without compression: about 800.
    let size: u64 = 790 << 20;
    let file = std::fs::File::create(&raw).unwrap();
    file.set_len(size).unwrap();
    std::os::unix::fs::FileExt::write_all_at(&file, b"the last segment's bytes", size - 4096)
        .unwrap();
    drop(file);
    run_ok(
        oracle("ewfacquire", "ewf-tools")
            .env("TZ", "UTC")
            .args(["-u", "-q", "-c", "none", "-S", "1MiB", "-b", "64", "-t"])
            .arg(dir.join("image"))
            .arg(&raw),
    );
    assert!(dir.join("image.FAA").is_file(), "ewfacquire made no .FAA");
    let info = run_ok(toolmark().arg("info").arg(dir.join("image.E01")));
    let info = String::from_utf8_lossy(&info.stdout);
    let segments: usize = info
        .lines()
        .find_map(|l| l.trim().strip_prefix("segments:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no segment count in: {info}"));
    assert!(segments > 775, "{segments} segments");
    // A later segment given in its place names the one to give.
    let later = toolmark()
        .arg("info")
        .arg(dir.join("image.FAA"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&later.stderr);
    assert_eq!(later.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("says segment 776, expected 1; give the set's first segment, image.E01"),
        "{stderr}"
    );
    assert_verify_md5_is_md5sums(&dir.join("image.E01"), &raw, "past EZZ");
    // Each segment is held open once (the crate's reader and the chunk checks
    // share the handles), so a hard limit of 1 000 open files reads the set; one
    // below the segment count refuses it by name.
    let under_limit = |limit: u32| {
        oracle("sh", "dash")
            .arg("-c")
            .arg(format!("ulimit -n {limit} && exec \"$0\" info \"$1\""))
            .arg(env!("CARGO_BIN_EXE_toolmark"))
            .arg(dir.join("image.E01"))
            .output()
            .unwrap()
    };
    let enough = under_limit(1000);
    assert_eq!(
        enough.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&enough.stderr)
    );
    let short = under_limit(600);
    let stderr = String::from_utf8_lossy(&short.stderr);
    assert_eq!(short.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("the set has {segments} segments"))
            && stderr.contains("600 files"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The volume section's sector count raised to 2^43 (a petabyte over four chunks,
/// The corpus E01 with its volume section's sector count set to `sectors`, in
/// `SCRATCH/NAME/image.E01`.
fn e01_stating_sectors(name: &str, sectors: u64) -> PathBuf {
    let image = scratch(name).join("image.E01");
    let mut bytes = std::fs::read(corpus().join("images/containers/image.E01")).unwrap();
    // The volume section's descriptor is at 824; its data (76 bytes on) holds
    // the sector count at 16.
    assert_eq!(&bytes[824..830], b"volume");
    bytes[916..924].copy_from_slice(&sectors.to_le_bytes());
    std::fs::write(&image, &bytes).unwrap();
    image
}

/// The volume section's sector count raised to 2^43 (a petabyte over four chunks,
/// as `fuzz/mutate.py` found): the chunk tables reach 128 KiB, the rest is lost.
/// The search for volumes by signature and `--carve-all` walked the lost part a
/// MiB at a time, every read failing: hours. They pass over the part known lost,
/// and every command ends at once, exit 2, naming it.
#[test]
fn a_petabyte_claimed_over_four_chunks_is_not_walked() {
    let image = e01_stating_sectors("petabyte-sectors", 1 << 43);
    let out = image.with_file_name("out");
    for args in [
        vec!["info"],
        vec!["ls", "-r"],
        vec!["verify", "-q"],
        vec!["scan", "-q", "--carve-all", "-o", out.to_str().unwrap()],
    ] {
        let (code, stderr, took) = run_bounded(&args, &image);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(
            took < std::time::Duration::from_secs(20),
            "{args:?} took {took:?}"
        );
        if args[0] != "verify" {
            assert!(
                stderr.contains("cannot be read") || args[0] == "scan",
                "{args:?}: {stderr}"
            );
        }
    }
    let errors = std::fs::read_to_string(out.join("image/errors.csv")).unwrap();
    assert!(errors.contains("131072..4503599627370496"), "{errors}");
}

/// The sector count at its largest, 2^64 - 1 (the media size the crate computes
/// saturates at 2^64 - 1): offsets near the end of the address space wrapped round
/// to the start and the search for volumes never ended. A size past any disk's is
/// no media size: the set is read as far as its chunk tables reach, exit 2.
#[test]
fn a_media_size_at_the_end_of_the_address_space_is_not_taken() {
    let image = e01_stating_sectors("saturated-sectors", u64::MAX);
    for args in [vec!["info"], vec!["ls", "-r"]] {
        let (code, stderr, _) = run_bounded(&args, &image);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("more than any disk"), "{args:?}: {stderr}");
    }
}
