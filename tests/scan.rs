//! `toolmark scan` end to end on the built images and on triage directories,
//! checked against libevtx, The Sleuth Kit, the USN parser on the loose journal, and
//! the roll-up arithmetic.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::*;

fn scan(inputs: &[PathBuf], out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["--jobs", "2"];
    args.extend_from_slice(extra);
    scan_into(inputs, out, &args)
}

fn column(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

/// Scans the three containers of win10-aptsim once for all tests that need it.
fn scanned_win10() -> PathBuf {
    static DONE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DONE.get_or_init(|| {
        let images = built_images();
        let out = scratch_dir("scan-win10");
        let inputs = [
            images.join("win10-aptsim.raw"),
            images.join("win10-aptsim.split.001"),
            images.join("win10-aptsim.E01"),
        ];
        let result = scan(&inputs, &out, &[]);
        assert!(
            result.status.success(),
            "{}",
            String::from_utf8_lossy(&result.stderr)
        );
        out
    })
    .clone()
}

/// A scan's tables are the same files at one thread and at four: rows of the
/// artifact files, logs and carving regions read in parallel come in one order.
#[test]
fn tables_are_byte_identical_at_one_thread_and_four() {
    let image = [built_images().join("win10-aptsim.raw")];
    let scanned = |jobs: &str| {
        let out = scratch_dir(&format!("scan-win10-jobs-{jobs}"));
        let result = scan_into(&image, &out, &["--jobs", jobs]);
        assert!(result.status.success());
        out.join("win10-aptsim")
    };
    let (one, four) = (scanned("1"), scanned("4"));
    let mut compared = 0;
    for entry in std::fs::read_dir(&one).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "csv") {
            let name = path.file_name().unwrap();
            let a = std::fs::read(&path).unwrap();
            let b = std::fs::read(four.join(name)).unwrap();
            assert!(a == b, "{name:?} differs between --jobs 1 and --jobs 4");
            compared += usize::from(a.len() > 1000);
        }
    }
    // The tables that many files feed in parallel are among those compared.
    assert!(compared >= 8, "{compared} non-trivial tables");
    for busy in ["evtx.csv", "carved.csv", "prefetch.csv", "mft.csv"] {
        assert!(
            std::fs::metadata(one.join(busy)).unwrap().len() > 1000,
            "{busy}"
        );
    }
}

#[test]
fn raw_split_and_e01_give_identical_tables() {
    let out = scanned_win10();
    for table in [
        "evtx",
        "prefetch",
        "mft",
        "usn",
        "amcache",
        "shimcache",
        "userassist",
        "services",
        "tasks",
        "registry",
        "timeline",
    ] {
        let mut contents = Vec::new();
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
        let names: Vec<String> = manifest["images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["image"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            names,
            ["win10-aptsim", "win10-aptsim.split", "win10-aptsim-2"]
        );
        for image in &names {
            let (header, mut rows) = read_csv(&out.join(image).join(format!("{table}.csv")));
            // The image column names the container; everything else must be
            // identical (host comes from the SYSTEM hive, the same in all three).
            let drop: Vec<usize> = ["image"].iter().map(|c| column(&header, c)).collect();
            for row in &mut rows {
                for &i in drop.iter().rev() {
                    row.remove(i);
                }
            }
            // Collectors run in parallel, so row order within a table may differ.
            rows.sort();
            contents.push(rows);
        }
        assert!(!contents[0].is_empty(), "{table} is empty");
        for (other, form) in [(1, "split"), (2, "E01")] {
            let first_difference = contents[0]
                .iter()
                .zip(&contents[other])
                .find(|(a, b)| a != b);
            assert!(
                contents[0].len() == contents[other].len() && first_difference.is_none(),
                "{table}: raw ({} rows) vs {form} ({} rows), first difference {first_difference:?}",
                contents[0].len(),
                contents[other].len()
            );
        }
    }
}

#[test]
fn evtx_rows_per_file_equal_evtxinfo() {
    let out = scanned_win10();
    let (header, rows) = read_csv(&out.join("win10-aptsim/evtx.csv"));
    let (file, carved) = (column(&header, "file"), column(&header, "carved"));
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for row in rows.iter().filter(|r| r[carved] == "false") {
        let name = row[file].rsplit('/').next().unwrap().to_string();
        *counts.entry(name).or_default() += 1;
    }
    let logs = corpus().join("hosts/win10-aptsim/Windows/System32/winevt/Logs");
    let mut compared = 0;
    for entry in std::fs::read_dir(&logs).unwrap() {
        let mut path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        // images/build.sh clears Security.evtx: the image holds the empty log
        // written over it (EMPTY_LOG), not the host's original.
        if name == "Security.evtx" {
            path = logs.join("Microsoft-Windows-MUI%4Admin.evtx");
        }
        let out = run_ok(oracle("evtxinfo", "libevtx-utils").arg(&path));
        let text = String::from_utf8_lossy(&out.stdout);
        let expected: usize = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("Number of records"))
            .and_then(|v| v.trim_start_matches([' ', '\t', ':']).trim().parse().ok())
            .unwrap();
        assert_eq!(counts.get(&name).copied().unwrap_or(0), expected, "{name}");
        compared += 1;
    }
    assert_eq!(compared, 94);
}

#[test]
fn prefetch_rows_equal_sccainfo() {
    let out = scanned_win10();
    let (header, rows) = read_csv(&out.join("win10-aptsim/prefetch.csv"));
    // Carved (deleted) Prefetch files are tests/carve.rs's business.
    let carved = column(&header, "carved");
    let rows: Vec<Vec<String>> = rows.into_iter().filter(|r| r[carved] == "false").collect();
    assert_eq!(
        rows.len(),
        191,
        "images/expected/win10-aptsim.layout prefetch_count"
    );
    let (path, exe, count) = (
        column(&header, "path"),
        column(&header, "executable"),
        column(&header, "run_count"),
    );
    let pf_dir = corpus().join("hosts/win10-aptsim/Windows/Prefetch");
    for row in rows.iter().step_by(10) {
        let name = row[path].rsplit('/').next().unwrap();
        let info = run_ok(oracle("sccainfo", "libscca-utils").arg(pf_dir.join(name))).stdout;
        let info = String::from_utf8_lossy(&info);
        let field = |key: &str| {
            info.lines()
                .find_map(|l| l.trim().strip_prefix(key))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).trim().to_string())
                .unwrap_or_default()
        };
        assert_eq!(row[exe], field("Executable filename"), "{name}");
        assert_eq!(row[count], field("Run count"), "{name}");
    }
}

#[test]
fn mft_paths_equal_fls_and_usn_count_equals_the_loose_journal() {
    let out = scanned_win10();
    let (header, rows) = read_csv(&out.join("win10-aptsim/mft.csv"));
    let (path, in_use) = (column(&header, "path"), column(&header, "in_use"));
    let ours: BTreeSet<String> = rows
        .iter()
        // Records carved from free space belong to other (deleted) $MFTs.
        .filter(|r| r[column(&header, "carved")] == "false")
        .filter(|r| r[in_use] == "true" && !r[path].is_empty() && r[path] != ".")
        .map(|r| r[path].clone())
        .collect();
    let raw = built_images().join("win10-aptsim.raw");
    let expected: BTreeSet<String> = fls_entries(&raw, first_ntfs_offset(&raw))
        .into_iter()
        .map(|e| e.path.split(':').next().unwrap().to_string())
        .collect();
    // fls lists streams (`$Secure:$SDS`) where mft.csv has one row per file.
    assert_same_paths(&ours, &expected, "mft.csv in-use paths vs fls");

    let journal = std::fs::read(corpus().join("hosts/win10-aptsim/$Extend/$J")).unwrap();
    let loose = usn::records(&journal, 0).filter(|r| r.is_ok()).count();
    let (_, rows) = read_csv(&out.join("win10-aptsim/usn.csv"));
    assert_eq!(rows.len(), loose);
}

#[test]
fn a_batch_with_damaged_images_finishes_and_rolls_up() {
    let images = built_images();
    let dir = scratch_dir("scan-batch-inputs");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // Eight inputs: three containers of one disk, the MBR disk and four damaged sets.
    let link = |from: &Path| {
        let to = dir.join(from.file_name().unwrap());
        std::os::unix::fs::symlink(from, to).unwrap();
    };
    for name in [
        "win10-aptsim.raw",
        "win10-aptsim.E01",
        "win10-aptsim.E02",
        "win10-aptsim.E03",
        "mbr-logical.raw",
    ] {
        link(&images.join(name));
    }
    for i in 1..=5 {
        link(&images.join(format!("win10-aptsim.split.{i:03}")));
    }
    for entry in std::fs::read_dir(images.join("damaged")).unwrap() {
        link(&entry.unwrap().path());
    }
    let out = scratch_dir("scan-batch");
    let result = scan(
        std::slice::from_ref(&dir),
        &out,
        &["--artifacts", "evtx,prefetch,mft"],
    );
    assert_eq!(
        result.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let reports = manifest["images"].as_array().unwrap();
    assert_eq!(reports.len(), 8);
    let failed: BTreeSet<&str> = reports
        .iter()
        .filter(|r| r["failed"] == true)
        .map(|r| r["image"].as_str().unwrap())
        .collect();
    // None is refused whole: a set missing a middle segment is read up to it, a
    // truncated last segment up to the cut, a zeroed boot sector through its
    // backup and a damaged GPT by finding the volume's boot sector.
    assert_eq!(failed, BTreeSet::new());
    let damaged = [
        "win10-aptsim-corrupt-gpt",
        "win10-aptsim-missing-E02",
        "win10-aptsim-truncated",
        "win10-aptsim-zeroed-boot",
    ];
    for table in ["evtx", "prefetch", "mft", "errors", "timeline"] {
        let (_, rolled) = read_csv(&out.join(format!("{table}.csv")));
        let sum: usize = reports
            .iter()
            .map(|r| {
                let path = out
                    .join(r["image"].as_str().unwrap())
                    .join(format!("{table}.csv"));
                if path.exists() {
                    read_csv(&path).1.len()
                } else {
                    0
                }
            })
            .sum();
        assert_eq!(rolled.len(), sum, "{table}");
    }
    let (header, errors) = read_csv(&out.join("errors.csv"));
    let image = column(&header, "image");
    for name in damaged {
        assert!(
            errors.iter().any(|r| r[image] == name),
            "{name} not in errors.csv"
        );
    }
}

/// A triage directory whose event log carries a formula in an event field, and
/// whose name tries to climb out of the output folder.
#[test]
fn formulas_are_neutralised_and_outputs_stay_inside() {
    let root = scratch_dir("scan-triage");
    let _ = std::fs::remove_dir_all(&root);
    let triage = root.join(r"..\..\evil");
    let logs = triage.join("Windows/System32/winevt/Logs");
    std::fs::create_dir_all(&logs).unwrap();
    let source = corpus().join("evtx/attack/T1021.002-SMB Windows Admin Shares/ID4688,4697,5140-5145 PSexec remote execution + admin share.evtx");
    let mut bytes = std::fs::read(source).unwrap();
    // Overwrite a UTF-16 value of the same length in place (the evtx crate does not
    // need the record checksums to match).
    let utf16 = |s: &str| {
        s.encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect::<Vec<u8>>()
    };
    let needle = utf16("C:\\Windows\\System32\\");
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle.as_slice())
        .expect("path in log");
    let formula = utf16("=cmd|' /C calc'!A0  ");
    bytes[at..at + formula.len()].copy_from_slice(&formula);
    std::fs::write(logs.join("Security.evtx"), &bytes).unwrap();

    let out = root.join("out");
    let before: BTreeSet<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let result = scan(std::slice::from_ref(&triage), &out, &[]);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let after: BTreeSet<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(after.difference(&before).collect::<Vec<_>>(), vec![&out]);
    let folders: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(folders, vec![".._.._evil".to_string()]);

    let (_, rows) = read_csv(&out.join(".._.._evil/evtx.csv"));
    assert!(!rows.is_empty());
    let cells: Vec<&String> = rows.iter().flatten().collect();
    assert!(
        cells.iter().any(|c| c.starts_with("'=cmd|' /C calc'!A0")),
        "planted value not found"
    );
    assert!(cells.iter().all(|c| !c.starts_with('=')));
    // Inside the JSON cell the formula is data, not a cell start.
    assert!(cells.iter().any(|c| c.contains("=cmd|' /C calc'!A0")));
}

/// `--hash` puts the media SHA-256 and every collected file's SHA-256 in the
/// manifest; they equal `sha256sum` of the raw disk and the committed file facts.
#[test]
fn hash_lists_media_and_every_collected_file() {
    let images = built_images();
    let out = scratch_dir("scan-hash");
    let result = scan(
        &[images.join("win10-aptsim.E01")],
        &out,
        &["--hash", "--artifacts", "evtx,prefetch,usn"],
    );
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("win10-aptsim/manifest.json")).unwrap())
            .unwrap();
    let sha256sum =
        run_ok(std::process::Command::new("sha256sum").arg(images.join("win10-aptsim.raw"))).stdout;
    let media = String::from_utf8_lossy(&sha256sum)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    assert_eq!(manifest["sha256"], media.as_str());
    let facts = std::fs::read_to_string(root().join("images/expected/win10-aptsim.tsv")).unwrap();
    let expected: BTreeMap<&str, &str> = facts
        .lines()
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (cols.len() == 3).then(|| (cols[0], cols[2]))
        })
        .collect();
    let files = manifest["files"].as_array().unwrap();
    // The $MFT is read for the journal's parent paths, SYSTEM and SOFTWARE for the
    // host facts, even when not tabulated.
    let listed: BTreeSet<&str> = files.iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(
        files.len(),
        94 + 191 + 2 + 2,
        "logs, prefetch, $MFT, journal, 2 hives"
    );
    assert!(listed.contains("Windows/System32/config/SYSTEM"));
    assert!(listed.contains("Windows/System32/config/SOFTWARE"));
    let raw = images.join("win10-aptsim.raw");
    let mft = run_ok(
        oracle("icat", "sleuthkit")
            .arg("-o")
            .arg((first_ntfs_offset(&raw) / 512).to_string())
            .arg(&raw)
            .arg("0"),
    )
    .stdout;
    for file in files {
        let path = file["path"].as_str().unwrap();
        let want = if path == "$MFT" {
            sha256(&mft)
        } else {
            expected[path].to_string()
        };
        assert_eq!(file["sha256"], want.as_str(), "{path}");
    }
}

/// The corpus host folder itself, scanned as a triage collection, gives the same
/// event and Prefetch rows as the disk image built from it (except the log the image
/// recipe cleared), and the same journal
/// records (its `$J` extract lacks the sparse head, so offsets differ, USNs do not).
#[test]
fn a_triage_directory_scans_like_the_image_built_from_it() {
    let image_out = scanned_win10();
    let out = scratch_dir("scan-triage-host");
    let host = corpus().join("hosts/win10-aptsim");
    let result = scan(std::slice::from_ref(&host), &out, &[]);
    let stderr = String::from_utf8_lossy(&result.stderr);
    // No $MFT in the folder is not an error: a collection need not have one.
    assert_eq!(result.status.code(), Some(0), "{stderr}");
    let (_, errors) = read_csv(&out.join("win10-aptsim/errors.csv"));
    assert!(errors.is_empty(), "{errors:?}");
    for table in ["evtx", "prefetch", "usn"] {
        let rows = |dir: &Path| {
            let (header, rows) = read_csv(&dir.join(format!("{table}.csv")));
            let skip: Vec<usize> = ["image", "host", "volume", "offset", "parent_path"]
                .iter()
                .filter_map(|c| header.iter().position(|h| h == c))
                .collect();
            // A folder has no unallocated space: compare the live records only,
            // and not those of Security.evtx, which images/build.sh cleared.
            let carved = header.iter().position(|h| h == "carved");
            let file = header.iter().position(|h| h == "file");
            let mut kept: Vec<Vec<String>> = rows
                .into_iter()
                .filter(|r| carved.is_none_or(|c| r[c] != "true"))
                .filter(|r| file.is_none_or(|f| !r[f].ends_with("/Security.evtx")))
                .map(|r| {
                    r.into_iter()
                        .enumerate()
                        .filter(|(i, _)| !skip.contains(i))
                        .map(|(_, c)| c)
                        .collect()
                })
                .collect();
            kept.sort();
            kept
        };
        let from_dir = rows(&out.join("win10-aptsim"));
        let from_image = rows(&image_out.join("win10-aptsim"));
        assert!(!from_dir.is_empty(), "{table}");
        assert_eq!(from_dir.len(), from_image.len(), "{table} row count");
        assert!(from_dir == from_image, "{table}: rows differ");
    }
}
