//! Issue 12: damage costs only what is damaged; hostile input costs nothing.
//!
//! Each test edits a few bytes of the built disk (a generator, not a stored
//! fixture), scans it, and checks the promise of the README's "What toolmark
//! promises on damaged input": the scan finishes in well under twice a clean
//! scan's time, its memory stays bounded, every loss is an errors.csv row, the exit
//! status is 2, and every row outside the damage is the same as the clean scan's.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::damage::{
    assert_contained, damaged_copy, data_attribute, first_lcn, hive_in_image, measured_scan,
    table_rows, Lost, Scan,
};
use common::*;
use toolmark::evidence::{Evidence, ReadAt, Window};
use toolmark::ntfs::Volume;

const ARTIFACTS: &str = "evtx,prefetch,mft,usn,registry";

fn scan(image: &Path, name: &str, extra: &[&str]) -> Scan {
    let out = scratch_dir("damage").join(format!("out-{name}"));
    let mut args = vec!["--artifacts", ARTIFACTS];
    args.extend_from_slice(extra);
    measured_scan(image, &out, &args)
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

/// The event-log folder of the built disk.
fn logs_folder(image: &[u8], offset: u64) -> toolmark::ntfs::FileEntry {
    let data: Arc<dyn ReadAt> = Arc::new(image.to_vec());
    let window: Arc<dyn ReadAt> = Arc::new(Window::new(data, offset, u64::MAX));
    Volume::open(window)
        .unwrap()
        .lookup("Windows/System32/winevt/Logs")
        .unwrap()
}

/// Where the event-log folder's `INDX` entry for `name` lies in the raw image. The
/// entry's key is a $FILE_NAME: parent reference at +0x10, name length and
/// namespace at +0x50, the name at +0x52. Only INDX blocks hold one whose parent is
/// the folder and whose 4 KiB block starts with "INDX".
fn index_entry_naming(image: &[u8], offset: u64, name: &str) -> usize {
    let folder = logs_folder(image, offset);
    let utf16: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
    memchr::memmem::find_iter(&image[offset as usize..], &utf16)
        .map(|at| offset as usize + at)
        .filter(|&at| usize::from(image[at - 2]) == name.encode_utf16().count())
        .map(|at| at - 0x52)
        .find(|&entry| {
            let parent = u64::from_le_bytes(image[entry + 0x10..entry + 0x18].try_into().unwrap());
            let block = offset as usize + (entry - offset as usize) / 4096 * 4096;
            parent & 0xFFFF_FFFF_FFFF == folder.record && &image[block..block + 4] == b"INDX"
        })
        .expect("the log's entry in the folder's index")
}

/// The start of the event-log folder's `INDX` block holding `name`'s entry.
fn index_block_naming(image: &[u8], offset: u64, name: &str) -> usize {
    let entry = index_entry_naming(image, offset, name);
    offset as usize + (entry - offset as usize) / 4096 * 4096
}

const LOG: &str = "Windows/System32/winevt/Logs/Application.evtx";
const HIVE: &str = "Windows/System32/config/SOFTWARE";

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
    assert_contained("huge-run", clean(), &damaged, Lost::Files(&[LOG]));
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
    assert_contained("sparse-run", clean(), &damaged, Lost::Files(&[LOG]));
    let errors = errors(&damaged.dir);
    assert!(
        errors.iter().any(|e| e[2] == LOG && e[3] == "hash"),
        "the hash is refused, not computed over zeros: {errors:?}"
    );

    // `cat` stops where the file's data ends (here, before it starts) and says
    // why, instead of writing a petabyte of zeros. Its output is counted, not
    // kept, and cut at 64 MiB should it ever run on.
    let mut cat = toolmark()
        .arg("cat")
        .arg(&image)
        .arg(LOG)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = cat.stdout.take().unwrap();
    let (mut written, mut buf) = (0u64, vec![0u8; 1 << 16]);
    loop {
        let n = std::io::Read::read(&mut stdout, &mut buf).unwrap();
        written += n as u64;
        if n == 0 || written > 64 << 20 {
            break;
        }
    }
    if written > 64 << 20 {
        let _ = cat.kill();
    }
    let cat = cat.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&cat.stderr);
    assert_eq!(written, 0, "cat wrote zeros nothing backs: {stderr}");
    assert_eq!(cat.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("more than the whole volume"), "{stderr}");
}

/// A file whose stated size is 8 GiB beyond what its runs map: the reader stops
/// at the data, every record is still read, and the size is named.
fn assert_stated_size_not_walked(path: &str, name: &str, table: &str) {
    let image = damaged_copy(name, |image, offset| {
        let (_, attr) = data_attribute(image, offset, path);
        let real = u64::from_le_bytes(image[attr + 0x30..attr + 0x38].try_into().unwrap());
        let size = real + (8u64 << 30);
        for field in [0x28, 0x30] {
            image[attr + field..attr + field + 8].copy_from_slice(&size.to_le_bytes());
        }
    });
    let damaged = scan(&image, name, &["--hash"]);
    assert_contained(name, clean(), &damaged, Lost::Files(&[path]));
    assert!(
        table_rows(&clean().dir, table) == table_rows(&damaged.dir, table),
        "{name}: every row of {table}.csv still read"
    );
    assert!(errors(&damaged.dir)
        .iter()
        .any(|e| e[2] == path && e[3] == table && e[4].contains("on disk")));
}

/// A sparse-claimed event log: 8 GiB stated over its 1 MiB of records.
#[test]
fn a_stated_size_beyond_the_data_is_not_walked() {
    assert_stated_size_not_walked(LOG, "huge-size", "evtx");
}

/// A sparse-claimed hive: 8 GiB stated over its bins.
#[test]
fn a_hive_stated_beyond_its_bins_is_not_walked() {
    assert_stated_size_not_walked(HIVE, "huge-hive", "registry");
}

/// An entry of the event-log folder's index whose file reference is the folder
/// itself (a cycle): the log it named is lost and said to be, every other log,
/// and everything else, is kept.
#[test]
fn an_index_entry_pointing_at_its_own_folder_costs_only_its_file() {
    let image = damaged_copy("index-cycle", |image, offset| {
        let folder = logs_folder(image, offset);
        let entry = index_entry_naming(image, offset, "Application.evtx");
        // The reference must not cover a sector's last two bytes (the fixup's).
        assert!(entry % 512 < 502, "entry at a sector end");
        let own = folder.record | u64::from(folder.sequence) << 48;
        image[entry..entry + 8].copy_from_slice(&own.to_le_bytes());
    });
    let damaged = scan(&image, "index-cycle", &["--hash"]);
    assert_contained("index-cycle", clean(), &damaged, Lost::Files(&[LOG]));
}

/// The compressed flag (and a compression unit of 16 clusters) set on the $DATA
/// of a hive that was never compressed (the built SYSTEM hive is sparse: one
/// cluster of its second unit is a hole). The unit with the hole is not
/// "decompressed" into plausible garbage: the hive's loss is reported (exit 2), the
/// last unit, where the run list ends, reads as stored, and the other hives' rows
/// are the clean scan's.
#[test]
fn a_compressed_flag_on_data_never_compressed_is_reported_not_decoded() {
    const SYSTEM: &str = "Windows/System32/config/SYSTEM";
    let image = damaged_copy("false-compression", |image, offset| {
        let (_, attr) = data_attribute(image, offset, SYSTEM);
        image[attr + 0x0C] |= 0x01;
        image[attr + 0x22] = 4;
    });
    let damaged = scan(&image, "false-compression", &[]);
    assert_eq!(damaged.code, Some(2), "a loss is exit 2");
    let errors = errors(&damaged.dir);
    assert!(
        errors
            .iter()
            .any(|e| e.iter().any(|c| c.ends_with(SYSTEM)) && e.iter().any(|c| c.contains("LZNT1"))),
        "{errors:?}"
    );
    // Rows of the other hives, without the host name (which the SYSTEM hive gives).
    let other_hives = |dir: &Path| -> Vec<Vec<String>> {
        let (header, rows) = read_csv(&dir.join("registry.csv"));
        let host = header.iter().position(|h| h == "host").unwrap();
        let image = header.iter().position(|h| h == "image").unwrap();
        let mut kept: Vec<Vec<String>> = rows
            .into_iter()
            .filter(|r| !r.iter().any(|c| c.ends_with(SYSTEM)))
            .map(|r| {
                r.into_iter()
                    .enumerate()
                    .filter(|(i, _)| *i != host && *i != image)
                    .map(|(_, c)| c)
                    .collect()
            })
            .collect();
        kept.sort();
        kept
    };
    let kept = other_hives(&damaged.dir);
    assert!(!kept.is_empty());
    assert_eq!(kept, other_hives(&clean().dir));
}

/// One `INDX` block of the event-log folder zeroed: the names it held are found
/// again from the MFT (each file's `$FILE_NAME` names the folder as its parent),
/// so the damage is reported and no log is lost.
#[test]
fn a_lost_index_block_costs_no_file() {
    let image = damaged_copy("index-block", |image, offset| {
        let block = index_block_naming(image, offset, "Application.evtx");
        image[block..block + 4096].fill(0);
    });
    let damaged = scan(&image, "index-block", &["--hash"]);
    let errors = errors(&damaged.dir);
    assert!(
        errors
            .iter()
            .any(|e| e[2] == "Windows/System32/winevt/Logs" && e[4].contains("INDX")),
        "the damaged index is named: {errors:?}"
    );
    assert_contained("index-block", clean(), &damaged, Lost::Files(&[]));
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
    // The repeated entries are reported (exit 2); no row is lost or repeated.
    assert_contained("gpt-repeat", clean(), &damaged, Lost::Files(&[]));
}

/// A FIFO given as the image is refused at once, never opened: by `info`, by `scan`,
/// and inside a folder of loose copies (where it is read for its signature), the
/// rest of the folder read.
#[test]
fn a_fifo_is_refused_without_blocking() {
    let dir = scratch_dir("damage");
    let folder = dir.join("loose-with-fifo");
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    let prefetch = "hosts/win10-aptsim/Windows/Prefetch/NET.EXE-A0964F30.pf";
    std::fs::copy(corpus().join(prefetch), folder.join("NET.EXE-A0964F30.pf")).unwrap();
    for fifo in [dir.join("image.fifo"), folder.join("SYSTEM")] {
        let _ = std::fs::remove_file(&fifo);
        assert!(Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
    }
    for input in [dir.join("image.fifo"), folder.clone()] {
        let out = dir.join("fifo-out");
        let _ = std::fs::remove_dir_all(&out);
        let (code, stderr, took) =
            run_bounded(&["scan", "-q", "-o", out.to_str().unwrap()], &input);
        assert_eq!(code, Some(2), "{stderr}");
        assert!(took < Duration::from_secs(20), "took {took:?}");
        let name = input.file_stem().unwrap().to_string_lossy().into_owned();
        let errors = std::fs::read_to_string(out.join(&name).join("errors.csv")).unwrap();
        assert!(errors.contains("not a regular file: a FIFO"), "{errors}");
        if input == folder {
            assert_eq!(read_csv(&out.join(&name).join("prefetch.csv")).1.len(), 1);
        }
    }
    let fifo = dir.join("image.fifo");
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

/// A copy of the built disk whose SOFTWARE hive has a subkey list cycle under the
/// key at `parent`: a leaf key's subkey count and list become its parent's, so the
/// leaf contains itself. Returns the image and the leaf's name.
fn subkey_cycle_under(name: &str, parent: &str) -> (PathBuf, String) {
    let mut leaf_name = String::new();
    let image = damaged_copy(name, |image, offset| {
        let (bytes, hive_at) = hive_in_image(image, offset, HIVE);
        let hive = regf::Hive::from_bytes(bytes.clone()).unwrap();
        let parent = hive.open_key(parent).unwrap().unwrap();
        let leaf = parent
            .subkeys()
            .unwrap()
            .into_iter()
            .find(|k| k.subkey_count() == 0)
            .expect("a leaf key under the parent");
        leaf_name = leaf.name();
        // Key node payloads: subkey count at +0x14, subkey list offset at +0x1C.
        let nk = |key: &regf::Key<'_>| 4096 + key.offset() as usize + 4;
        let (parent_nk, leaf_nk) = (nk(&parent), nk(&leaf));
        let at = hive_at + leaf_nk;
        image[at + 0x14..at + 0x18].copy_from_slice(&bytes[parent_nk + 0x14..parent_nk + 0x18]);
        image[at + 0x1C..at + 0x20].copy_from_slice(&bytes[parent_nk + 0x1C..parent_nk + 0x20]);
    });
    (image, leaf_name)
}

/// A subkey list cycle where the scan walks a tree of keys (the TaskCache `Tree`: a
/// task contains itself) and one where no collector looks (TaskCache `Plain`): the
/// walk ends, and the cycle is named in errors.csv either way (exit 2), the second
/// by the whole-tree check every hive gets; every row, the tasks included, is the
/// clean scan's.
#[test]
fn a_subkey_list_cycle_in_a_hive_is_named_and_costs_no_key() {
    const TASK_CACHE: &str = r"Microsoft\Windows NT\CurrentVersion\Schedule\TaskCache";
    for (name, parent) in [("subkey-cycle", "Tree"), ("subkey-cycle-unwalked", "Plain")] {
        let (image, leaf) = subkey_cycle_under(name, &format!("{TASK_CACHE}\\{parent}"));
        let damaged = scan(&image, name, &["--hash"]);
        let named = errors(&damaged.dir).into_iter().any(|e| {
            e[2] == HIVE && e[4].contains("cycle") && (parent == "Plain" || e[4].contains(&leaf))
        });
        assert!(
            named,
            "the cycle under {parent}\\{leaf} is not in errors.csv"
        );
        assert_contained(name, clean(), &damaged, Lost::Files(&[]));
    }
}

/// A triage folder holding `file` (from the corpus) at `place`, and the same with
/// the copy's size raised to `stated` over holes: both scanned for `artifact`, each
/// exits 0 under 512 MiB, and `table`'s rows are the same. One folder name for both
/// (under two parents), as rows carry the image's name.
fn padded_copy_reads_as_the_clean_one(
    name: &str,
    file: &str,
    place: &str,
    stated: u64,
    artifact: &str,
    table: &str,
) {
    let folder = |variant: &str| {
        let dir = scratch_dir("damage")
            .join(format!("{name}-{variant}"))
            .join("host");
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join(place);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::create_dir_all(dir.join("Windows")).unwrap();
        std::fs::copy(corpus().join(file), &path).unwrap();
        (dir, path)
    };
    let (clean_dir, _) = folder("clean");
    let (padded_dir, padded_file) = folder("padded");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&padded_file)
        .unwrap()
        .set_len(stated)
        .unwrap();
    let out = scratch_dir("damage");
    let args = ["--artifacts", artifact];
    let clean = measured_scan(&clean_dir, &out.join(format!("out-{name}-clean")), &args);
    let padded = measured_scan(&padded_dir, &out.join(format!("out-{name}-padded")), &args);
    assert_eq!((clean.code, padded.code), (Some(0), Some(0)), "{name}");
    assert!(
        padded.max_rss_kib < 512 * 1024,
        "{name}: peak RSS {} MiB",
        padded.max_rss_kib / 1024
    );
    let rows = |scan: &Scan| table_rows(&scan.dir, table);
    assert!(!rows(&clean).is_empty(), "{name}");
    assert_eq!(rows(&clean), rows(&padded), "{name}");
    let _ = std::fs::remove_dir_all(&padded_dir);
}

/// An event log of a triage folder (a plain file of the analyst's machine) with
/// 2 GiB of sparse zeros after its records: read through, it must not be mapped
/// into the scan's memory (a map's pages count in the resident set as they are
/// read: 2 GiB here), and it gives the clean log's records and no error.
#[test]
fn a_triage_log_padded_with_sparse_gigabytes_is_read_without_its_pages_held() {
    padded_copy_reads_as_the_clean_one(
        "triage-log",
        "hosts/win10-aptsim/Windows/System32/winevt/Logs/System.evtx",
        "Windows/System32/winevt/Logs/System.evtx",
        2 << 30,
        "evtx",
        "evtx",
    );
}

/// A user's hive in a triage folder whose size was raised to 8 GiB over holes (a
/// sparse copy, or an edit): past the 512 MiB a hive may have, it was refused whole
/// and its rows lost (exit 2). The file system says where its data is: the hive is
/// read up to there, and gives the clean copy's rows, no error.
#[test]
fn a_triage_hive_stated_past_the_limit_over_holes_is_read_up_to_its_data() {
    padded_copy_reads_as_the_clean_one(
        "triage-hive",
        "registry/hives/NTUSER-WIN7.DAT",
        "Users/nfury/NTUSER.DAT",
        8 << 30,
        "registry",
        "userassist",
    );
}

/// A raw image is read by positional reads, not mapped: carving every byte of the
/// built disk (320 MiB) keeps none of it resident (with a map, its pages counted:
/// 551 MiB at the peak), and an empty sparse file stated at 1 TiB is neither
/// searched sector by sector nor held (its volume search stops at 64 GiB, said).
#[test]
fn a_raw_image_is_read_without_its_pages_held() {
    let raw = built_images().join("win10-aptsim.raw");
    let size = std::fs::metadata(&raw).unwrap().len();
    let out = scratch_dir("damage").join("out-raw-carve-all");
    let scan = measured_scan(&raw, &out, &["--carve-all"]);
    assert_eq!(scan.code, Some(0));
    assert!(
        scan.max_rss_kib * 1024 < size,
        "peak RSS {} MiB for a {} MiB image",
        scan.max_rss_kib / 1024,
        size >> 20
    );

    let sparse = scratch_dir("damage").join("sparse-tebibyte.raw");
    std::fs::File::create(&sparse)
        .unwrap()
        .set_len(1 << 40)
        .unwrap();
    let started = Instant::now();
    let info = common::oracle("time", "time")
        .arg("-v")
        .arg(env!("CARGO_BIN_EXE_toolmark"))
        .arg("info")
        .arg(&sparse)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&info.stderr);
    assert_eq!(info.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("first 64 GiB only"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(10), "{stderr}");
    let rss_kib: u64 = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap();
    assert!(rss_kib < 64 * 1024, "peak RSS {} MiB", rss_kib / 1024);
    let _ = std::fs::remove_file(&sparse);
}
