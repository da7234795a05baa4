//! Event-log chunks carved from unallocated clusters: exactly the records of the
//! deleted logs (evtxexport of the originals is the oracle), nothing from damaged
//! chunks, nothing from pattern-filled free space.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::*;
use toolmark::collect::carve::unallocated_chunks;
use toolmark::disk;
use toolmark::evidence::{Evidence, ReadAt, Window};
use toolmark::ntfs::Volume;

/// The corpus logs images/build.sh writes to the volume and deletes (DELETED_LOGS).
fn deleted_originals() -> Vec<PathBuf> {
    let attack = corpus().join("evtx/attack");
    vec![
        attack.join("T1053.005-Scheduled Task/ID4698-4699-Fast created & deleted task by ATexec (susp. arg.).evtx"),
        attack.join("T1070.001-Clear Windows event logs/ID104-1102-Event log cleared.evtx"),
    ]
}

/// `(record id, time)` of every carved row of a scan.
fn carved_rows(image: &Path, out: &Path) -> (BTreeSet<(u64, String)>, Vec<Vec<String>>) {
    scan_into(&[image.to_path_buf()], out, &["--artifacts", "evtx,carve"]);
    let name = std::fs::read_dir(out)
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.path().is_dir())
        .unwrap()
        .path();
    let (header, all) = read_csv(&name.join("evtx.csv"));
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let (carved, id, time) = (col("carved"), col("record_id"), col("time"));
    let rows: Vec<Vec<String>> = all.into_iter().filter(|r| r[carved] == "true").collect();
    let keys = rows
        .iter()
        .map(|r| (r[id].parse().unwrap(), r[time].clone()))
        .collect();
    (keys, rows)
}

#[test]
fn deleted_logs_are_recovered_exactly() {
    let (carved, rows) = carved_rows(
        &built_images().join("win10-aptsim.E01"),
        &cache_dir("carve-win10"),
    );
    let mut expected = BTreeSet::new();
    for original in deleted_originals() {
        for record in evtxexport(&original) {
            expected.insert((record.number, iso_from_evtxexport(&record.written)));
        }
    }
    assert_eq!(
        expected.len(),
        93,
        "2 + 91 records in the two originals (evtxinfo)"
    );
    assert_eq!(rows.len(), expected.len(), "each record carved once");
    assert_eq!(carved, expected);
    // The originals are not among the live logs, so no carved row has a live copy
    // (live_copy is the last column).
    assert!(rows
        .iter()
        .all(|r| r.last().map(String::as_str) == Some("false")));
}

#[test]
fn a_damaged_chunk_yields_no_records() {
    let raw = built_images().join("win10-aptsim.raw");
    let evidence = Evidence::open(&raw).unwrap();
    let part = disk::scan(&evidence).unwrap().partitions[0].clone();
    let window: Arc<dyn ReadAt> = Arc::new(Window::new(evidence.data(), part.offset, part.length));
    let volume = Volume::open(window).unwrap();
    let found = std::sync::Mutex::new(Vec::new());
    let stats =
        unallocated_chunks(&volume, &|offset, _| found.lock().unwrap().push(offset)).unwrap();
    let mut chunks = found.into_inner().unwrap();
    chunks.sort();
    // One chunk per deleted log (both are one chunk long).
    assert_eq!(chunks.len(), 2, "{stats:?}");
    assert_eq!(stats.intact, 2);

    // Flip one byte inside the first chunk's records in a copy of the disk.
    let copy = cache_dir("carve-damaged").join("damaged.raw");
    std::fs::copy(&raw, &copy).unwrap();
    let mut bytes = std::fs::read(&copy).unwrap();
    let at = (part.offset + chunks[0] + 600) as usize;
    bytes[at] ^= 0xFF;
    std::fs::write(&copy, &bytes).unwrap();
    let (carved, _) = carved_rows(&copy, &cache_dir("carve-damaged-out"));
    let second: BTreeSet<(u64, String)> = evtxexport(&deleted_originals()[1])
        .into_iter()
        .map(|r| (r.number, iso_from_evtxexport(&r.written)))
        .collect();
    let first: BTreeSet<(u64, String)> = evtxexport(&deleted_originals()[0])
        .into_iter()
        .map(|r| (r.number, iso_from_evtxexport(&r.written)))
        .collect();
    // Whichever chunk was damaged is gone whole; the other is recovered whole.
    assert!(
        carved == second || carved == first,
        "{} carved",
        carved.len()
    );
}

#[test]
fn pattern_filled_free_space_yields_nothing() {
    let ptrn = unpacked_samples()
        .into_iter()
        .find(|p| p.ends_with("ntfs-ptrn.raw"))
        .unwrap();
    let evidence = Evidence::open(&ptrn).unwrap();
    let layout = disk::scan(&evidence).unwrap();
    let part = layout
        .partitions
        .iter()
        .find(|p| p.fs == disk::FsKind::Ntfs)
        .unwrap();
    let window: Arc<dyn ReadAt> = Arc::new(Window::new(evidence.data(), part.offset, part.length));
    let volume = Volume::open(window).unwrap();
    let stats =
        unallocated_chunks(&volume, &|offset, _| panic!("chunk invented at {offset}")).unwrap();
    assert!(stats.bytes > 900 << 20, "scanned {} bytes", stats.bytes);
    assert_eq!(stats.signatures, 0);
}

/// `--carve-all` scans every byte of the image: the deleted logs are found again,
/// and so are the chunks of the live logs, which are marked as having a live copy.
#[test]
fn carve_all_finds_live_and_deleted_chunks() {
    let out = cache_dir("carve-all");
    let _ = std::fs::remove_dir_all(&out);
    let result = toolmark()
        .arg("scan")
        .arg(built_images().join("win10-aptsim.raw"))
        .arg("-o")
        .arg(&out)
        .args(["-q", "--artifacts", "evtx", "--carve-all"])
        .output()
        .unwrap();
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("win10-aptsim/manifest.json")).unwrap())
            .unwrap();
    let pass = &manifest["carving"][0];
    assert_eq!(pass["scope"], "whole image");
    assert_eq!(pass["bytes"], 335_544_320u64, "every byte of the disk");
    let mut reader = csv::Reader::from_path(out.join("win10-aptsim/evtx.csv")).unwrap();
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let (carved, live) = (col("carved"), col("live_copy"));
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    let live_rows = rows.iter().filter(|r| r[carved] == "false").count();
    let carved_live = rows
        .iter()
        .filter(|r| r[carved] == "true" && r[live] == "true")
        .count();
    let carved_new = rows
        .iter()
        .filter(|r| r[carved] == "true" && r[live] == "false")
        .count();
    assert_eq!(live_rows, 32_159, "records of the 94 live logs (evtxinfo)");
    assert_eq!(carved_new, 93, "the two deleted logs");
    // Every chunk of the live logs is intact here, so every live record is found
    // again, marked as having its live copy.
    assert_eq!(carved_live, live_rows);
}
