//! Issue 12: damage costs only what is damaged; hostile input costs nothing.
//!
//! Each test edits a few bytes of the built disk (a generator, not a stored
//! fixture), scans it, and checks the promise of the README's "What toolmark
//! promises on damaged input": the scan finishes in well under twice a clean
//! scan's time, its memory stays bounded, every loss is an errors.csv row, the exit
//! status is 2, and every row outside the damage is the same as the clean scan's.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use toolmark::evidence::{Evidence, ReadAt, Window};
use toolmark::ntfs::Volume;

const ARTIFACTS: &str = "evtx,prefetch,mft,usn,registry";

/// A copy of the built raw disk, edited by `edit`, under the scratch directory `damage`.
fn damaged_copy(name: &str, edit: impl FnOnce(&mut Vec<u8>, u64)) -> PathBuf {
    let raw = built_images().join("win10-aptsim.raw");
    let mut image = std::fs::read(&raw).unwrap();
    let offset = first_ntfs_offset(&raw);
    edit(&mut image, offset);
    let path = scratch_dir("damage").join(format!("{name}.raw"));
    write_sparse(&path, &image);
    path
}

struct Scan {
    code: Option<i32>,
    took: Duration,
    /// Peak resident set of the scan, KiB (from /usr/bin/time -v).
    max_rss_kib: u64,
    dir: PathBuf,
}

fn scan(image: &Path, name: &str, extra: &[&str]) -> Scan {
    // One scan at a time, so their times compare.
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let out = scratch_dir("damage").join(format!("out-{name}"));
    let _ = std::fs::remove_dir_all(&out);
    let started = Instant::now();
    let result = std::process::Command::new("/usr/bin/time")
        .arg("-v")
        .arg(env!("CARGO_BIN_EXE_toolmark"))
        .arg("scan")
        .arg(image)
        .arg("-o")
        .arg(&out)
        .args(["-q", "--jobs", "2", "--artifacts", ARTIFACTS])
        .args(extra)
        .output()
        .unwrap();
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    let max_rss_kib = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let stem = image.file_stem().unwrap().to_string_lossy().into_owned();
    eprintln!(
        "{name}: exit {:?} in {took:?}, peak RSS {} MiB",
        result.status.code(),
        max_rss_kib / 1024
    );
    Scan {
        code: result.status.code(),
        took,
        max_rss_kib,
        dir: out.join(stem),
    }
}

/// Rows per value of `column` in `table`.
fn rows_by(dir: &Path, table: &str, column: &str) -> BTreeMap<String, usize> {
    let (header, rows) = read_csv(&dir.join(format!("{table}.csv")));
    let at = header.iter().position(|h| h == column).unwrap();
    let mut counts = BTreeMap::new();
    for row in rows {
        *counts.entry(row[at].clone()).or_default() += 1;
    }
    counts
}

fn errors(dir: &Path) -> Vec<Vec<String>> {
    read_csv(&dir.join("errors.csv")).1
}

/// The clean scan every damaged one is compared with (made once per test binary).
fn clean() -> &'static Scan {
    static CLEAN: std::sync::OnceLock<Scan> = std::sync::OnceLock::new();
    CLEAN.get_or_init(|| {
        let raw = built_images().join("win10-aptsim.raw");
        let s = scan(&raw, "clean", &["--hash"]);
        assert_eq!(s.code, Some(0), "the clean disk scans without errors");
        s
    })
}

/// Asserts the cost promise: time under twice the clean scan's (plus a second of
/// slack for a loaded machine) and memory under twice its peak plus 64 MiB.
fn assert_costs_little(name: &str, damaged: &Scan) {
    let clean = clean();
    let slack = Duration::from_secs(1);
    assert!(
        damaged.took < clean.took * 2 + slack,
        "{name}: {:?} against a clean {:?}",
        damaged.took,
        clean.took
    );
    if clean.max_rss_kib > 0 {
        assert!(
            damaged.max_rss_kib < clean.max_rss_kib * 2 + 64 * 1024,
            "{name}: peak {} KiB against a clean {} KiB",
            damaged.max_rss_kib,
            clean.max_rss_kib
        );
    }
}

/// Where `path`'s MFT record lies in the raw image, and the offset of its unnamed
/// `$DATA` attribute in that record (the built volume's MFT is contiguous).
fn data_attribute(image: &[u8], volume_offset: u64, path: &str) -> (usize, usize) {
    let data: Arc<dyn ReadAt> = Arc::new(image.to_vec());
    let window: Arc<dyn ReadAt> = Arc::new(Window::new(data, volume_offset, u64::MAX));
    let volume = Volume::open(window).unwrap();
    let record = volume.lookup(path).unwrap().record;
    let boot = volume.boot();
    let at =
        (volume_offset + boot.mft_lcn * boot.cluster_size + record * boot.record_size) as usize;
    assert_eq!(&image[at..at + 4], b"FILE");
    let u16_at = |o: usize| u16::from_le_bytes([image[o], image[o + 1]]) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(image[o..o + 4].try_into().unwrap());
    assert_eq!(u32_at(at + 0x2C) as u64, record, "contiguous MFT");
    let mut attr = at + u16_at(at + 0x14);
    loop {
        let kind = u32_at(attr);
        assert_ne!(kind, 0xFFFF_FFFF, "{path}: no $DATA");
        if kind == 0x80 && image[attr + 9] == 0 && image[attr + 8] == 1 {
            return (at, attr);
        }
        attr += u32_at(attr + 4) as usize;
    }
}

/// Replaces the run list of `path`'s `$DATA` with `runs` (and, if given, states
/// `size` as its data, allocated and initialised size).
fn rewrite_runs(image: &mut [u8], volume_offset: u64, path: &str, runs: &[u8], size: Option<u64>) {
    let (_, attr) = data_attribute(image, volume_offset, path);
    let length = u32::from_le_bytes(image[attr + 4..attr + 8].try_into().unwrap()) as usize;
    let list = attr + u16::from_le_bytes([image[attr + 0x20], image[attr + 0x21]]) as usize;
    assert!(list + runs.len() <= attr + length, "{path}: run list space");
    image[list..list + runs.len()].copy_from_slice(runs);
    if let Some(size) = size {
        for field in [0x28, 0x30, 0x38] {
            image[attr + field..attr + field + 8].copy_from_slice(&size.to_le_bytes());
        }
    }
}

/// The first run's LCN of `path`'s `$DATA`, from our own reader.
fn first_lcn(image: &[u8], volume_offset: u64, path: &str) -> u64 {
    let (_, attr) = data_attribute(image, volume_offset, path);
    let list = attr + u16::from_le_bytes([image[attr + 0x20], image[attr + 0x21]]) as usize;
    let header = image[list];
    let (len_size, off_size) = (usize::from(header & 0xF), usize::from(header >> 4));
    let mut lcn = [0u8; 8];
    lcn[..off_size].copy_from_slice(&image[list + 1 + len_size..list + 1 + len_size + off_size]);
    u64::from_le_bytes(lcn)
}

const LOG: &str = "Windows/System32/winevt/Logs/Application.evtx";

/// Every events file but the damaged one keeps its rows; the damaged one is named
/// in errors.csv.
fn assert_only_log_lost(name: &str, damaged: &Scan) {
    assert_eq!(damaged.code, Some(2), "{name}: a loss is exit 2");
    let mut before = rows_by(&clean().dir, "evtx", "file");
    let mut after = rows_by(&damaged.dir, "evtx", "file");
    // The log's rows, and those of the records in its chunks' unused space
    // (`LOG (templates of the chunk at N)`).
    before.retain(|file, _| !file.starts_with(LOG));
    after.retain(|file, _| !file.starts_with(LOG));
    assert_eq!(before, after, "{name}: other logs untouched");
    assert_eq!(
        rows_by(&clean().dir, "prefetch", "path"),
        rows_by(&damaged.dir, "prefetch", "path"),
        "{name}: Prefetch untouched"
    );
    let errors = errors(&damaged.dir);
    assert!(
        errors.iter().any(|e| e[2] == LOG),
        "{name}: {LOG} not in errors.csv: {errors:?}"
    );
}

/// A data run claiming 2^24 - 1 clusters (64 GiB, 200 times the volume) at the
/// log's real place: more than the volume holds, an error for that file and
/// nothing else.
#[test]
fn a_run_longer_than_the_volume_costs_only_its_file() {
    let image = damaged_copy("huge-run", |image, offset| {
        let lcn = first_lcn(image, offset, LOG);
        let mut runs = vec![0x33, 0xFF, 0xFF, 0xFF];
        runs.extend_from_slice(&lcn.to_le_bytes()[..3]);
        runs.push(0);
        rewrite_runs(image, offset, LOG, &runs, None);
    });
    let damaged = scan(&image, "huge-run", &["--hash"]);
    assert_costs_little("huge-run", &damaged);
    assert_only_log_lost("huge-run", &damaged);
}

/// The same run marked sparse, and the file's sizes set to its 1 PiB: nothing of it
/// exists on disk, so nothing is read, allocated or hashed.
#[test]
fn a_sparse_petabyte_is_neither_read_nor_hashed() {
    let image = damaged_copy("sparse-run", |image, offset| {
        let mut runs = vec![0x05];
        runs.extend_from_slice(&(1u64 << 38).to_le_bytes()[..5]);
        runs.push(0);
        rewrite_runs(image, offset, LOG, &runs, Some((1u64 << 38) * 4096));
    });
    let damaged = scan(&image, "sparse-run", &["--hash"]);
    assert_costs_little("sparse-run", &damaged);
    assert_only_log_lost("sparse-run", &damaged);
    let errors = errors(&damaged.dir);
    assert!(
        errors.iter().any(|e| e[2] == LOG && e[3] == "hash"),
        "the hash is refused, not computed over zeros: {errors:?}"
    );
}

/// A log whose stated size is 8 GiB while its runs map its real 1 MiB: the reader
/// stops at the data, every record is still read, and the size is named.
#[test]
fn a_stated_size_beyond_the_data_is_not_walked() {
    let image = damaged_copy("huge-size", |image, offset| {
        let (_, attr) = data_attribute(image, offset, LOG);
        let size = 1_118_208u64 + (8u64 << 30);
        for field in [0x28, 0x30] {
            image[attr + field..attr + field + 8].copy_from_slice(&size.to_le_bytes());
        }
    });
    let damaged = scan(&image, "huge-size", &["--hash"]);
    assert_costs_little("huge-size", &damaged);
    assert_eq!(damaged.code, Some(2), "the edited size is reported");
    assert_eq!(
        rows_by(&clean().dir, "evtx", "file"),
        rows_by(&damaged.dir, "evtx", "file"),
        "every record still read"
    );
    assert!(errors(&damaged.dir)
        .iter()
        .any(|e| e[2] == LOG && e[3] == "evtx" && e[4].contains("on disk")));
}

/// A GPT whose 128 entries all name the one NTFS volume: it is scanned once.
#[test]
fn partition_entries_repeating_one_volume_scan_it_once() {
    let image = damaged_copy("gpt-repeat", |image, _| {
        for lba in [1usize, image.len() / 512 - 1] {
            let h = lba * 512;
            let u32_at =
                |image: &[u8], o: usize| u32::from_le_bytes(image[o..o + 4].try_into().unwrap());
            let entries =
                u64::from_le_bytes(image[h + 72..h + 80].try_into().unwrap()) as usize * 512;
            let (count, size) = (
                u32_at(image, h + 80) as usize,
                u32_at(image, h + 84) as usize,
            );
            let first = image[entries..entries + size].to_vec();
            for i in 1..count {
                image[entries + i * size..entries + (i + 1) * size].copy_from_slice(&first);
            }
            let crc = crc32fast::hash(&image[entries..entries + count * size]);
            image[h + 88..h + 92].copy_from_slice(&crc.to_le_bytes());
            let header_size = u32_at(image, h + 12) as usize;
            image[h + 16..h + 20].fill(0);
            let crc = crc32fast::hash(&image[h..h + header_size]);
            image[h + 16..h + 20].copy_from_slice(&crc.to_le_bytes());
        }
    });
    let evidence = Evidence::open(&image).unwrap();
    let layout = toolmark::disk::scan(&evidence).unwrap();
    assert_eq!(layout.partitions.len(), 1, "{:?}", layout.warnings);
    let damaged = scan(&image, "gpt-repeat", &["--hash"]);
    assert_costs_little("gpt-repeat", &damaged);
    assert_eq!(damaged.code, Some(2), "the repeated entries are reported");
    assert_eq!(
        rows_by(&clean().dir, "mft", "volume"),
        rows_by(&damaged.dir, "mft", "volume")
    );
}

/// A FIFO given as the image is refused at once, never opened.
#[test]
fn a_fifo_is_refused_without_blocking() {
    let fifo = scratch_dir("damage").join("image.fifo");
    let _ = std::fs::remove_file(&fifo);
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let started = Instant::now();
    let out = toolmark().arg("info").arg(&fifo).output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a regular file: a FIFO"));
}

/// Reads fail over one range, as an unreadable E01 chunk does.
struct Unreadable {
    inner: Arc<dyn ReadAt>,
    bad: std::ops::Range<u64>,
}

impl ReadAt for Unreadable {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        let end = offset + buf.len() as u64;
        if offset < self.bad.end && end > self.bad.start {
            return Err(std::io::Error::other(format!(
                "chunk at {offset} unreadable"
            )));
        }
        self.inner.read_at(buf, offset)
    }

    fn len(&self) -> u64 {
        self.inner.len()
    }
}

/// One unreadable 32 KiB chunk inside the `$MFT` costs the records it holds, each
/// reported; every other record is still listed.
#[test]
fn an_unreadable_chunk_in_the_mft_costs_only_its_records() {
    use toolmark::collect::mft::{directory_map, walk};
    let raw = built_images().join("win10-aptsim.raw");
    let evidence = Evidence::open(&raw).unwrap();
    let offset = first_ntfs_offset(&raw);
    let window: Arc<dyn ReadAt> = Arc::new(Window::new(evidence.data(), offset, u64::MAX));
    let volume = Volume::open(window).unwrap();
    let mft = volume.mft_stream();
    let extents = mft.extents();
    let count = |data: &dyn ReadAt| {
        let mut dirs = directory_map(data, &extents);
        let (mut rows, mut lost) = (0u64, Vec::new());
        walk(
            data,
            &extents,
            &mut dirs,
            &mut |_| rows += 1,
            &mut |record, e| lost.push((record, e)),
        );
        (rows, lost)
    };
    let (clean_rows, clean_lost) = count(mft.as_ref());
    assert!(clean_rows > 300 && clean_lost.is_empty());
    // Record 0 itself is in the damage: the record size still comes from the rest.
    for bad in [32_768..65_536, 0..32_768] {
        let damaged = Unreadable {
            inner: mft.clone(),
            bad: bad.clone(),
        };
        let (rows, lost) = count(&damaged);
        let per_chunk = (bad.end - bad.start) / volume.boot().record_size;
        assert_eq!(lost.len() as u64, per_chunk, "{bad:?}: {lost:?}");
        assert!(lost.iter().all(|(_, e)| e.contains("unreadable")));
        assert!(
            rows + per_chunk >= clean_rows,
            "{bad:?}: {rows} of {clean_rows}"
        );
    }
}

/// Scanning into a folder that holds another run's results needs `--force`, which
/// clears it first; a folder that is not a toolmark output is never cleared.
#[test]
fn an_output_folder_in_use_needs_force() {
    let root = scratch_dir("damage").join("force");
    let _ = std::fs::remove_dir_all(&root);
    let logs = root.join("triage/Windows/System32/winevt/Logs");
    std::fs::create_dir_all(&logs).unwrap();
    let log = corpus()
        .join("evtx/attack/T1070.001-Clear Windows event logs/ID104-1102-Event log cleared.evtx");
    std::fs::copy(&log, logs.join("System.evtx")).unwrap();
    let out = root.join("out");
    let run = |out: &Path, force: bool| {
        let mut cmd = toolmark();
        cmd.arg("scan")
            .arg(root.join("triage"))
            .arg("-o")
            .arg(out)
            .args(["-q", "--artifacts", "evtx"]);
        if force {
            cmd.arg("--force");
        }
        cmd.output().unwrap()
    };
    assert_eq!(run(&out, false).status.code(), Some(0));
    let stale = out.join("stale-from-an-earlier-run.csv");
    std::fs::write(&stale, "x").unwrap();
    let refused = run(&out, false);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--force"));
    assert!(stale.exists(), "nothing touched without --force");
    assert_eq!(run(&out, true).status.code(), Some(0));
    assert!(!stale.exists(), "--force clears the earlier results");

    let other = root.join("not-an-output");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("notes.txt"), "keep me").unwrap();
    assert_eq!(run(&other, true).status.code(), Some(1));
    assert!(other.join("notes.txt").exists(), "never cleared");
}
