//! Issue 12: one corrupt 32 KiB chunk of a real E01 costs only that chunk's data.
//!
//! The built E01 is copied and one stored chunk is corrupted inside each of
//! `$MFT`, `$UsnJrnl:$J` and `Amcache.hve` (the chunk is found by reading the
//! file through a volume that records where it reads, and its place in the
//! segment file from the chunk table). The scan must name each damaged chunk in
//! errors.csv, exit 2, take at most twice the clean scan's time and 512 MiB, and
//! keep everything outside the damage: at least 99 % of the scan's rows, and
//! every row the clean scan has outside the lost records. The
//! journal is read as the collector reads it (through `Holes`), records counted.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use common::damage::{assert_contained, measured_scan, Lost, Scan};
use common::*;
use toolmark::evidence::{Evidence, ReadAt, Window};

const CHUNK: u64 = 32_768;
// The journal (275 000 records) is checked through the library below: a debug
// scan of it alone takes longer than this whole test may. The logs and Prefetch
// are outside the damage: they must come through whole.
const ARTIFACTS: &str = "evtx,prefetch,mft,amcache";

/// The media offsets of the reads below it.
struct Recorder {
    inner: Arc<dyn ReadAt>,
    reads: Mutex<Vec<u64>>,
}

impl ReadAt for Recorder {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        self.reads.lock().unwrap().push(offset);
        self.inner.read_at(buf, offset)
    }

    fn len(&self) -> u64 {
        self.inner.len()
    }
}

/// The media chunk holding byte `at` of `path:stream` on the first NTFS volume.
fn chunk_of(image: &Path, path: &str, stream: &str, at: impl Fn(u64) -> u64) -> u64 {
    let evidence = Evidence::open(image).unwrap();
    let offset = first_ntfs_offset(image);
    let recorder = Arc::new(Recorder {
        inner: evidence.data(),
        reads: Mutex::new(Vec::new()),
    });
    let window: Arc<dyn ReadAt> = Arc::new(Window::new(recorder.clone(), offset, u64::MAX));
    let volume = toolmark::ntfs::Volume::open(window).unwrap();
    let file = volume.open_stream(path, stream).unwrap();
    let extents = file.extents();
    let data_start = extents.iter().find(|e| !e.sparse).unwrap().offset;
    let within = at(data_start).min(file.len() - 512) / 512 * 512;
    recorder.reads.lock().unwrap().clear();
    let mut sector = [0u8; 512];
    file.read_exact_at(&mut sector, within).unwrap();
    let media = *recorder.reads.lock().unwrap().last().unwrap();
    media / CHUNK
}

/// A copy of the E01 set with the stored bytes of each chunk in `chunks`
/// corrupted; returns the first segment's path.
fn corrupt_copy(chunks: &[u64]) -> PathBuf {
    let dir = scratch_dir("ewf-chunk-damage");
    let source = built_images();
    let mut segments = Vec::new();
    for ext in ["E01", "E02", "E03"] {
        let copy = dir.join(format!("win10-aptsim.{ext}"));
        std::fs::copy(source.join(format!("win10-aptsim.{ext}")), &copy).unwrap();
        segments.push(copy);
    }
    let reader = ewf::EwfReader::open_segments(&segments).unwrap();
    let mut edits: Vec<(usize, u64, u64, bool)> = Vec::new();
    for &chunk in chunks {
        let (offset, size, compressed, segment) = reader.debug_chunk(chunk as usize).unwrap();
        eprintln!(
            "chunk {chunk}: segment {segment} offset {offset} size {size} compressed {compressed}"
        );
        edits.push((segment, offset, size, compressed));
    }
    drop(reader);
    for (segment, offset, size, _) in edits {
        let mut bytes = std::fs::read(&segments[segment]).unwrap();
        // Bytes in the middle of the stored chunk, as a bad sector would.
        for b in &mut bytes[(offset + size / 2) as usize..][..64] {
            *b ^= 0x5A;
        }
        std::fs::write(&segments[segment], bytes).unwrap();
    }
    segments.remove(0)
}

/// True if `error` names media chunk `chunk`: "E01 chunk N ..." or "E01 chunks A-B ...".
fn names(error: &str, chunk: u64) -> bool {
    let Some((_, rest)) = error.split_once("E01 chunk") else {
        return false;
    };
    let range = rest.trim_start_matches('s').trim_start();
    let range = range.split(' ').next().unwrap_or_default();
    let (a, b) = range.split_once('-').unwrap_or((range, range));
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(a), Ok(b)) => (a..=b).contains(&chunk),
        _ => false,
    }
}

fn scan(image: &Path, name: &str) -> Scan {
    let out = scratch_dir("ewf-chunk-damage").join(format!("out-{name}"));
    measured_scan(image, &out, &["--artifacts", ARTIFACTS])
}

/// Rows of a table, whole.
fn rows(dir: &Path, table: &str) -> BTreeSet<Vec<String>> {
    read_csv(&dir.join(format!("{table}.csv")))
        .1
        .into_iter()
        .collect()
}

#[test]
fn one_corrupt_chunk_costs_only_its_data() {
    let clean_image = built_images().join("win10-aptsim.E01");
    let mft = chunk_of(&clean_image, "$MFT", "", |_| 5 * CHUNK + 100);
    let journal_at = std::cell::Cell::new(0);
    let journal = chunk_of(&clean_image, "$Extend/$UsnJrnl", "$J", |start| {
        journal_at.set(start + 40 * CHUNK);
        journal_at.get()
    });
    // 2 MiB of whole 4 KiB pages (where USN records start) around the damage.
    let journal_span = (journal_at.get() - (1 << 20)) / 4096 * 4096..journal_at.get() + (1 << 20);
    let amcache = chunk_of(
        &clean_image,
        "Windows/AppCompat/Programs/Amcache.hve",
        "",
        |_| 16 * CHUNK,
    );
    let damaged = corrupt_copy(&[mft, journal, amcache]);

    let clean = scan(&clean_image, "clean");
    assert_eq!(clean.code, Some(0));
    let damaged_scan = scan(&damaged, "damaged");
    // Exit 2, time and memory, at least 99 % of the rows kept, each loss named.
    assert_contained(
        "chunks",
        &clean,
        &damaged_scan,
        Lost::Block { min_kept: 0.99 },
    );
    let (clean, dir) = (clean.dir, damaged_scan.dir);

    let (_, errors) = read_csv(&dir.join("errors.csv"));
    let named = |chunk: u64| errors.iter().any(|e| names(&e.join(","), chunk));
    for (what, chunk) in [("$MFT", mft), ("Amcache.hve", amcache)] {
        assert!(
            named(chunk),
            "{what}: chunk {chunk} not in errors.csv: {errors:?}"
        );
    }

    // Every row lost is accounted for: the MFT loses exactly the 32 records of
    // 1 KiB the chunk held (each an errors.csv row); Amcache loses at most one
    // row per key or value errors.csv names, and keeps the rest.
    let stage_errors = |stage: &str| errors.iter().filter(|e| e[3] == stage).count();
    for (table, most_lost) in [("mft", 32), ("amcache", stage_errors("amcache"))] {
        let before = rows(&clean, table);
        let after = rows(&dir, table);
        let lost = before.len() - before.intersection(&after).count();
        assert!(
            lost <= most_lost,
            "{table}: lost {lost}, reported {most_lost}"
        );
        assert!(lost > 0, "{table}: the damage must cost something");
        assert!(
            stage_errors(table) >= lost,
            "{table}: {lost} lost, not all named"
        );
    }

    // The 2 MiB of journal around the damage (the whole journal is 275 000
    // records, too slow to read twice in a debug test): reading goes on after it.
    let (clean_records, clean_lost) = journal_records(&clean_image, journal_span.clone());
    assert!(clean_records > 5_000 && clean_lost.is_empty());
    let (records, lost) = journal_records(&damaged, journal_span);
    eprintln!("$J: {records} of {clean_records} records, lost {lost:?}");
    assert!(lost.iter().any(|l| names(l, journal)), "{lost:?}");
    // USN records are at least 64 bytes: at most 512 in a chunk, +1 straddling.
    assert!(
        records + 513 >= clean_records,
        "{records} of {clean_records}"
    );
    assert!(records < clean_records, "the damage must cost something");
}

/// Journal records read as `scan` reads them: unreadable blocks as zeros, each
/// unreadable range reported.
fn journal_records(image: &Path, span: std::ops::Range<u64>) -> (usize, Vec<String>) {
    let (volume, _) = open_first_ntfs(image);
    let stream = volume.usn_journal().unwrap().unwrap();
    let extents = stream.extents();
    let journal: Arc<dyn ReadAt> = Arc::new(stream);
    let holes = Arc::new(toolmark::evidence::Holes::new(journal, 4096));
    let mut records = 0;
    for extent in extents.iter().filter(|e| !e.sparse) {
        let from = extent.offset.max(span.start);
        let to = (extent.offset + extent.length).min(span.end);
        if from >= to {
            continue;
        }
        let window = Window::new(holes.clone(), from, to - from);
        let stream = usn::UsnStream::new(toolmark::evidence::ReadSeekAdapter::new(window), from);
        records += stream.filter(Result::is_ok).count();
    }
    (records, holes.take_lost())
}

/// An E01 of a small NTFS image made by ewfacquire (`compression`: `none` or
/// `fast`) under `dir`: the media's bytes and the segment's path.
fn acquire(dir: &Path, compression: &str) -> (Vec<u8>, PathBuf) {
    let raw = dir.join("raw");
    std::fs::copy(corpus().join("images/ntfs-crate/testfs1"), &raw).unwrap();
    let made = oracle("ewfacquire", "ewf-tools")
        .args(["-u", "-q", "-f", "encase6", "-c", compression, "-t"])
        .arg(dir.join(compression))
        .arg(&raw)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let segment = dir.join(format!("{compression}.E01"));
    let clean = toolmark().arg("verify").arg(&segment).output().unwrap();
    assert_eq!(
        clean.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&clean.stderr)
    );
    (std::fs::read(&raw).unwrap(), segment)
}

/// `toolmark verify` of `segment` written as `bytes`: it must exit 2 naming chunk
/// `chunk` and saying `why`.
fn assert_verify_names(dir: &Path, bytes: &[u8], chunk: u64, why: &str) {
    let bad = dir.join("bad.E01");
    std::fs::write(&bad, bytes).unwrap();
    let out = toolmark().arg("verify").arg(&bad).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("E01 chunk {chunk} ")) && stderr.contains(why),
        "{stderr}"
    );
}

fn fresh_dir(name: &str) -> PathBuf {
    let dir = scratch_dir("ewf-chunk-damage").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A chunk stored uncompressed carries an Adler-32 the `ewf` crate does not check:
/// one flipped byte in it must be a read error naming the chunk, never evidence.
/// The E01 is made by ewfacquire without compression from a small NTFS image.
#[test]
fn an_uncompressed_chunk_with_a_bad_checksum_is_an_error() {
    let dir = fresh_dir("uncompressed");
    let (media, plain) = acquire(&dir, "none");
    let mut segment = std::fs::read(&plain).unwrap();
    // The first chunk whose bytes occur once in the segment: that is where it is stored.
    let (chunk, at) = (1..media.len() / CHUNK as usize)
        .find_map(|c| {
            let data = &media[c * CHUNK as usize..][..CHUNK as usize];
            let first = segment.windows(data.len()).position(|w| w == data)?;
            let again = segment[first + 1..].windows(data.len()).any(|w| w == data);
            (!again && data.iter().any(|&b| b != 0)).then_some((c as u64, first))
        })
        .expect("a chunk stored uncompressed");
    segment[at + 1000] ^= 0xFF;
    assert_verify_names(&dir, &segment, chunk, "Adler-32");
}

/// A compressed chunk whose zlib stream is valid but ends after 100 bytes: the
/// `ewf` crate would serve those bytes and 32 668 zeros. It must be a read error
/// naming the chunk. The stream is written by hand (one stored deflate block) over
/// the chunk's stored bytes, whose place the chunk table gives.
#[test]
fn a_compressed_chunk_that_inflates_short_is_an_error() {
    let dir = fresh_dir("compressed");
    let (media, packed) = acquire(&dir, "fast");
    let reader = ewf::EwfReader::open(&packed).unwrap();
    let chunk = (1..media.len() as u64 / CHUNK)
        .find(|&c| {
            let (_, size, compressed, _) = reader.debug_chunk(c as usize).unwrap();
            compressed && size > 120
        })
        .expect("a compressed chunk with room for the short stream");
    let (offset, _, _, _) = reader.debug_chunk(chunk as usize).unwrap();
    drop(reader);
    let payload = [b'A'; 100];
    let mut stream = vec![0x78, 0x01, 0x01, 100, 0, !100u8, 0xFF];
    stream.extend_from_slice(&payload);
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in &payload {
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    stream.extend_from_slice(&((b << 16) | a).to_be_bytes());
    let mut segment = std::fs::read(&packed).unwrap();
    segment[offset as usize..][..stream.len()].copy_from_slice(&stream);
    assert_verify_names(&dir, &segment, chunk, "inflates to 100 bytes");
}
