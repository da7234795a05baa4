//! `$MFT` extracts of the corpus walked record by record: the paths rebuilt from
//! parent references and the file sizes equal The Sleuth Kit's `fls -l` listing of
//! the volumes they came from (stored beside them), and the real `$MFT` files of
//! other systems parse without damage.

mod common;

use std::collections::HashMap;
use std::path::Path;

use common::*;
use toolmark::collect::mft::{directory_map, walk};
use toolmark::evidence::ReadAt;
use toolmark::ntfs::Extent;

/// `record -> (path, size)` for every record of an MFT extract.
fn our_rows(path: &Path) -> (HashMap<u64, (String, u64, bool)>, u64) {
    let data = std::fs::read(path).unwrap();
    let extents = [Extent {
        offset: 0,
        length: data.len() as u64,
        sparse: false,
    }];
    let mut dirs = directory_map(&data, &extents);
    let mut rows = HashMap::new();
    let mut damaged = 0;
    walk(
        &data as &dyn ReadAt,
        &extents,
        &mut dirs,
        &mut |row| {
            let size = row
                .entry
                .streams()
                .iter()
                .find(|s| s.is_data && s.name.is_empty())
                .map_or(0, |s| s.size);
            rows.insert(row.entry.record, (row.path, size, row.entry.in_use));
        },
        &mut |_, _| damaged += 1,
    );
    (rows, damaged)
}

#[test]
fn paths_and_sizes_equal_fls_of_the_source_volume() {
    let dir = corpus().join("ntfs/dfir_ntfs");
    let mut compared = 0;
    for name in ["4k-large", "orphan", "unicode"] {
        let (rows, damaged) = our_rows(&dir.join(format!("{name}.mft")));
        assert_eq!(damaged, 0, "{name}");
        let listing = std::fs::read_to_string(dir.join(format!("{name}.fls"))).unwrap();
        for line in listing.lines() {
            let cols: Vec<&str> = line.split('\t').collect();
            let head: Vec<&str> = cols[0].split_whitespace().collect();
            if head.get(1) == Some(&"*")
                || cols[1].contains(':')
                || cols[1].starts_with("$OrphanFiles")
            {
                continue;
            }
            let record: u64 = head[1].split('-').next().unwrap().parse().unwrap();
            let (path, size, in_use) = rows
                .get(&record)
                .unwrap_or_else(|| panic!("{name}: record {record} ({}) missing", cols[1]));
            assert!(in_use, "{name}: {}", cols[1]);
            assert_eq!(path, cols[1], "{name}: record {record}");
            if head[0] == "r/r" {
                let fls_size: u64 = cols[6].parse().unwrap();
                assert_eq!(*size, fls_size, "{name}: {}", cols[1]);
            }
            compared += 1;
        }
    }
    // 81 allocated entries in the three listings, all compared.
    assert_eq!(compared, 81);
}

/// Damage counted independently of toolmark's parser: records marked `BAAD` by
/// Windows, and `FILE` records whose 512-byte strides do not all end in the update
/// sequence number (torn writes).
fn damaged_records(data: &[u8]) -> u64 {
    data.chunks_exact(1024)
        .filter(|r| {
            if r.starts_with(b"BAAD") {
                return true;
            }
            if !r.starts_with(b"FILE") {
                return false;
            }
            let offset = u16::from_le_bytes([r[4], r[5]]) as usize;
            let count = u16::from_le_bytes([r[6], r[7]]) as usize;
            (1..count).any(|i| r[i * 512 - 2..i * 512] != r[offset..offset + 2])
        })
        .count() as u64
}

#[test]
fn real_mft_files_parse_and_report_exactly_their_damage() {
    for (system, expected_damage) in [("DFR-16", 0), ("xw", 12)] {
        let path = corpus().join("ntfs/mft-real").join(system).join("$MFT");
        let (rows, damaged) = our_rows(&path);
        let data = std::fs::read(&path).unwrap();
        assert_eq!(
            damaged_records(&data),
            expected_damage,
            "{system}: independent count"
        );
        assert_eq!(damaged, expected_damage, "{system}");
        // Record 0 names itself and the root is `.`, on every NTFS volume.
        assert_eq!(rows[&0].0, "$MFT", "{system}");
        assert_eq!(rows[&5].0, ".", "{system}");
        let size = std::fs::metadata(&path).unwrap().len();
        assert!(
            rows.len() as u64 * 1024 <= size && rows.len() > 100,
            "{system}: {} rows",
            rows.len()
        );
    }
}
