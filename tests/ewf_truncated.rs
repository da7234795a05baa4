//! Issue 12: a truncated last E01 segment costs what it held, and errors.csv says
//! exactly what that is: the media bytes lost (as `ewfverify` reports them) and
//! every file whose data runs lie there (as The Sleuth Kit's `istat` gives the
//! runs, on the raw image of the same media), even a file no folder listing
//! reaches any more.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::Path;

use common::*;

/// The media bytes `ewfverify` cannot read in the set starting at `first`.
fn ewfverify_lost(first: &Path) -> Range<u64> {
    let out = oracle("ewfverify", "ewf-tools")
        .arg("-q")
        .arg(first)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success(),
        "ewfverify accepts the cut set: {text}"
    );
    // `at sector(s): 596800 - 655359 (number: 58560) in segment file(s): ...`
    let sectors = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("at sector(s):"))
        .unwrap_or_else(|| panic!("no damaged sectors from ewfverify: {text}"));
    let mut numbers = sectors
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty());
    let first: u64 = numbers.next().unwrap().parse().unwrap();
    let last: u64 = numbers.next().unwrap().parse().unwrap();
    first * 512..(last + 1) * 512
}

/// The clusters of every attribute `istat` lists for `inode`, by its `type-id`.
fn istat_clusters(image: &Path, sector_offset: u64, inode: &str) -> BTreeMap<String, Vec<u64>> {
    let out = run_ok(
        oracle("istat", "sleuthkit")
            .arg("-o")
            .arg(sector_offset.to_string())
            .arg(image)
            .arg(inode),
    );
    let mut attributes: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut current = None;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let Some(rest) = line.strip_prefix("Type: ") {
            // `Type: $DATA (128-4)   Name: $J   Non-Resident ...`
            current = rest
                .split_once('(')
                .and_then(|(_, r)| r.split_once(')'))
                .map(|(id, _)| id.to_string());
        } else if let Some(id) = &current {
            let numbers: Option<Vec<u64>> =
                line.split_whitespace().map(|n| n.parse().ok()).collect();
            match numbers {
                Some(n) if !n.is_empty() => attributes.entry(id.clone()).or_default().extend(n),
                _ => current = None,
            }
        }
    }
    attributes
}

#[test]
fn a_truncated_last_segment_names_the_bytes_and_the_files_it_held() {
    let built = built_images();
    let dir = scratch_dir("ewf_truncated");
    for segment in ["E01", "E02"] {
        let name = format!("win10-aptsim.{segment}");
        std::fs::copy(built.join(&name), dir.join(&name)).unwrap();
    }
    let last = std::fs::read(built.join("win10-aptsim.E03")).unwrap();
    std::fs::write(dir.join("win10-aptsim.E03"), &last[..last.len() * 6 / 10]).unwrap();
    let first = dir.join("win10-aptsim.E01");
    let lost = ewfverify_lost(&first);
    assert!(lost.start > 0, "the cut leaves the start readable");

    // The files The Sleuth Kit says have data clusters there, on the raw image of
    // the same media (allocated regular files, each $DATA stream fls lists).
    let raw = built.join("win10-aptsim.raw");
    let volume_offset = first_ntfs_offset(&raw);
    let cluster = 4096; // the built volume's (mkntfs -c 4096)
    let entries: Vec<FlsEntry> = fls_entries(&raw, volume_offset)
        .into_iter()
        .filter(|e| e.kind == "r/r")
        .collect();
    let inodes: BTreeSet<&str> = entries
        .iter()
        .map(|e| e.address.split('-').next().unwrap())
        .collect();
    let inodes: Vec<&str> = inodes.into_iter().collect();
    let clusters: BTreeMap<String, BTreeMap<String, Vec<u64>>> = std::thread::scope(|s| {
        let workers: Vec<_> = inodes
            .chunks(inodes.len().div_ceil(4))
            .map(|part| {
                let raw = &raw;
                s.spawn(move || {
                    part.iter()
                        .map(|i| (i.to_string(), istat_clusters(raw, volume_offset / 512, i)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let in_lost = |c: &u64| lost.contains(&(volume_offset + c * cluster));
    let expected: BTreeSet<String> = entries
        .iter()
        .filter(|e| {
            let (inode, id) = e.address.split_once('-').unwrap();
            id.starts_with("128-")
                && clusters[inode]
                    .get(id)
                    .is_some_and(|c| c.iter().any(in_lost))
        })
        .map(|e| e.path.clone())
        .collect();
    assert!(expected.len() > 10, "the cut holds files: {expected:?}");

    let out = dir.join("out");
    let result = scan_into(&[first], &out, &["--artifacts", "mft"]);
    assert_eq!(result.status.code(), Some(2));
    let (_, errors) = read_csv(&out.join("win10-aptsim/errors.csv"));
    let range = format!("media bytes {}..{} ", lost.start, lost.end);
    assert!(
        errors
            .iter()
            .any(|e| e[3] == "image" && e[4].contains(&range)),
        "no image row naming {range}: {errors:?}"
    );
    let named: BTreeSet<String> = errors
        .iter()
        .filter(|e| e[3] == "image" && e[4].contains("lie in the part of the evidence"))
        .map(|e| e[2].clone())
        .collect();
    assert_eq!(named, expected);
    eprintln!(
        "{} files with data in media bytes {}..{} named",
        named.len(),
        lost.start,
        lost.end
    );
}

/// A segment before the last that is missing, cut short or another segment's copy
/// (here E02, in a set of three) costs what follows it, not the set: the set is
/// read up to E01, exactly as if E01 were all there is. `ewfverify` on E01 alone
/// gives the media bytes lost; each damaged set names that range in errors.csv
/// (exit 2) and lists the same `$MFT` rows as E01 alone.
#[test]
fn a_damaged_middle_segment_costs_what_follows_it() {
    let built = built_images();
    let dir = scratch_dir("ewf_middle");
    let segment = |n: u8| std::fs::read(built.join(format!("win10-aptsim.E0{n}"))).unwrap();
    let (e01, e02, e03) = (segment(1), segment(2), segment(3));
    let sets: [(&str, Vec<Option<Vec<u8>>>); 4] = [
        ("alone", vec![Some(e01.clone())]),
        ("missing", vec![Some(e01.clone()), None, Some(e03.clone())]),
        (
            "cut",
            vec![
                Some(e01.clone()),
                Some(e02[..e02.len() / 10].to_vec()),
                Some(e03.clone()),
            ],
        ),
        ("copy", vec![Some(e01.clone()), Some(e01), Some(e03)]),
    ];
    let mut first_of = BTreeMap::new();
    for (name, files) in &sets {
        let set = dir.join(name);
        std::fs::create_dir_all(&set).unwrap();
        for (i, bytes) in files.iter().enumerate() {
            if let Some(bytes) = bytes {
                std::fs::write(set.join(format!("x.E0{}", i + 1)), bytes).unwrap();
            }
        }
        first_of.insert(*name, set.join("x.E01"));
    }
    let lost = ewfverify_lost(&first_of["alone"]);
    let range = format!("media bytes {}..{} ", lost.start, lost.end);
    let mft_rows = |name: &str| {
        let out = dir.join(format!("out-{name}"));
        let result = scan_into(&[first_of[name].clone()], &out, &["--artifacts", "mft"]);
        assert_eq!(result.status.code(), Some(2), "{name}");
        let (_, errors) = read_csv(&out.join("x/errors.csv"));
        let image_row = errors
            .iter()
            .find(|e| e[3] == "image" && e[4].contains(&range))
            .unwrap_or_else(|| panic!("{name}: no image row naming {range}: {errors:?}"));
        if *name != *"alone" {
            assert!(image_row[4].contains("read up to x.E01"), "{image_row:?}");
        }
        read_csv(&out.join("x/mft.csv")).1
    };
    let alone = mft_rows("alone");
    assert!(alone.len() > 100, "E01 alone holds the MFT's start");
    for name in ["missing", "cut", "copy"] {
        assert_eq!(mft_rows(name), alone, "{name}");
    }
}
