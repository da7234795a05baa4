//! Volume Shadow Copies against libvshadow: `vshadowinfo` for the catalog,
//! `vshadowmount` (FUSE, as root) with The Sleuth Kit's `fls`/`icat` for every
//! file of every snapshot.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// Byte offset of the NTFS partition in the Windows-made `ntfs.raw` (mmls: sector 2048).
const SAMPLE_OFFSET: u64 = 2048 * 512;

fn vsstest() -> PathBuf {
    built_images().join("vsstest.raw")
}

fn windows_sample() -> PathBuf {
    unpacked_samples()
        .into_iter()
        .find(|p| p.file_name().is_some_and(|n| n == "ntfs.raw"))
        .expect("ntfs.raw among the unpacked samples")
}

/// A `vshadowmount` of an image's stores, unmounted when dropped.
struct Mount(PathBuf);

impl Mount {
    fn new(image: &Path, offset: u64, name: &str) -> Mount {
        let dir = scratch_dir("vss-mounts").join(name);
        let _ = Command::new("fusermount").arg("-u").arg(&dir).status();
        std::fs::create_dir_all(&dir).unwrap();
        run_ok(
            oracle("vshadowmount", "libvshadow-utils")
                .arg("-o")
                .arg(offset.to_string())
                .arg(image)
                .arg(&dir),
        );
        Mount(dir)
    }

    fn store(&self, n: usize) -> PathBuf {
        self.0.join(format!("vss{n}"))
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("fusermount").arg("-u").arg(&self.0).status();
    }
}

/// What vshadowinfo says of each store: identifier, shadow copy id, creation time
/// (as ISO-8601 with toolmark's seven fractional digits).
fn vshadowinfo(image: &Path, offset: u64) -> Vec<(String, String, String)> {
    let out = run_ok(
        oracle("vshadowinfo", "libvshadow-utils")
            .arg("-o")
            .arg(offset.to_string())
            .arg(image),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let value = |line: &str| line.split_once(':').map(|(_, v)| v.trim().to_string());
    let mut stores = Vec::new();
    // Per store: Identifier, Shadow copy set ID, Creation time, Shadow copy ID.
    let (mut id, mut time) = (String::new(), String::new());
    for line in text.lines().map(str::trim) {
        if line.starts_with("Identifier") {
            id = value(line).unwrap();
        } else if line.starts_with("Creation time") {
            time = iso(line.split_once(':').unwrap().1.trim());
        } else if line.starts_with("Shadow copy ID") {
            stores.push((id.clone(), value(line).unwrap(), time.clone()));
        }
    }
    stores
}

/// `Dec 03, 2013 06:35:09.736378700 UTC` -> `2013-12-03T06:35:09.7363787Z`.
fn iso(text: &str) -> String {
    let parts: Vec<&str> = text.split_whitespace().collect();
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = months.iter().position(|m| *m == parts[0]).unwrap() + 1;
    let day = parts[1].trim_end_matches(',');
    let (clock, fraction) = parts[3].split_once('.').unwrap();
    format!("{}-{month:02}-{day}T{clock}.{}Z", parts[2], &fraction[..7])
}

/// The paths `toolmark ls` prints with `args` (after the image).
fn listed(image: &Path, args: &[&str]) -> BTreeSet<String> {
    let out = run_ok(toolmark().arg("ls").arg(image).args(args));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.splitn(4, '\t').nth(3).map(str::to_string))
        .collect()
}

/// The snapshots `toolmark info --json` lists for the partition at `offset`.
fn toolmark_snapshots(image: &Path, offset: u64) -> Vec<(String, String, String)> {
    let out = run_ok(toolmark().args(["info", "--json"]).arg(image));
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let part = info[0]["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["offset"] == offset)
        .expect("the NTFS partition");
    assert_eq!(part["snapshot_errors"], serde_json::json!([]));
    part["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let text = |k: &str| s[k].as_str().unwrap().to_string();
            (text("store_id"), text("shadow_copy_id"), text("created"))
        })
        .collect()
}

#[test]
fn info_lists_the_stores_vshadowinfo_lists() {
    for (image, offset) in [(vsstest(), 0), (windows_sample(), SAMPLE_OFFSET)] {
        let expected = vshadowinfo(&image, offset);
        assert_eq!(expected.len(), 2, "{}: two shadow copies", image.display());
        assert_eq!(
            toolmark_snapshots(&image, offset),
            expected,
            "{}",
            image.display()
        );
    }
    let text = run_ok(toolmark().arg("info").arg(vsstest()));
    assert!(String::from_utf8_lossy(&text.stdout).contains(
        "volume 1 @ snapshot 2013-12-03T06:35:09.7363787Z {4e3c03c2-7bc6-4288-ad96-c1eac1a55f71}"
    ));
}

/// Every file of every snapshot: the same paths as `fls -r -p` on the mounted
/// store, and the same bytes as `icat` there.
#[test]
fn every_file_of_each_snapshot_equals_icat_on_the_mounted_store() {
    let image = vsstest();
    let mount = Mount::new(&image, 0, "vsstest");
    for n in 1..=2 {
        let store = mount.store(n);
        let entries = fls_entries(&store, 0);
        let expected: BTreeSet<String> = entries.iter().map(|e| e.path.clone()).collect();
        let ours = listed(&image, &["-r", "--snapshot", &n.to_string()]);
        assert_same_paths(&ours, &expected, &format!("snapshot {n}"));
        let mut files = 0;
        // icat prints nothing for the all-sparse `$BadClus:$Bad` (a TSK special
        // case, see ntfs_corpus.rs); every other file is compared.
        for e in entries
            .iter()
            .filter(|e| e.kind == "r/r" && e.path != "$BadClus:$Bad")
        {
            let ours = run_ok(
                toolmark()
                    .args(["cat", "--snapshot", &n.to_string()])
                    .arg(&image)
                    .arg(&e.path),
            );
            let theirs = run_ok(oracle("icat", "sleuthkit").arg(&store).arg(&e.address));
            assert_eq!(
                sha256(&ours.stdout),
                sha256(&theirs.stdout),
                "snapshot {n}: {} ({})",
                e.path,
                e.address
            );
            files += 1;
        }
        assert!(files > 20, "snapshot {n}: only {files} files compared");
    }
}

/// The Windows-made sample: two copies, one of them marked offline (which Windows'
/// own tools do not show); the latest holds `shadow_2.txt` in its root, the older
/// one `shadow_1.txt`, with the bytes `icat` reads from the mounted stores.
#[test]
fn both_copies_of_the_windows_sample_are_found_with_their_root_files() {
    let image = windows_sample();
    let mount = Mount::new(&image, SAMPLE_OFFSET, "ntfs-sample");
    for (n, name) in [(1, "shadow_1.txt"), (2, "shadow_2.txt")] {
        let store = mount.store(n);
        let root = run_ok(oracle("fls", "sleuthkit").arg("-p").arg(&store));
        let expected: BTreeSet<String> = String::from_utf8_lossy(&root.stdout)
            .lines()
            .filter_map(|l| l.split_once('\t').map(|(_, p)| p.to_string()))
            .filter(|p| p != "$OrphanFiles")
            .collect();
        assert!(expected.contains(name), "fls: {expected:?}");
        let ours: BTreeSet<String> = listed(&image, &["--snapshot", &n.to_string()])
            .into_iter()
            .filter(|p| !p.contains(':'))
            .collect();
        let expected: BTreeSet<String> =
            expected.into_iter().filter(|p| !p.contains(':')).collect();
        assert_same_paths(&ours, &expected, &format!("root of snapshot {n}"));
        let address = String::from_utf8_lossy(&root.stdout)
            .lines()
            .find(|l| l.ends_with(&format!("\t{name}")))
            .and_then(|l| l.split_whitespace().nth(1))
            .map(|a| a.trim_end_matches(':').to_string())
            .unwrap();
        let ours = run_ok(
            toolmark()
                .args(["cat", "--snapshot", &n.to_string()])
                .arg(&image)
                .arg(name),
        );
        let theirs = run_ok(oracle("icat", "sleuthkit").arg(&store).arg(&address));
        assert_eq!(sha256(&ours.stdout), sha256(&theirs.stdout), "{name}");
    }
    // The live volume has neither.
    let live = toolmark_paths(&image);
    assert!(!live.contains("shadow_1.txt") && !live.contains("shadow_2.txt"));
}

/// `scan` collects each snapshot like a volume, naming it in the `snapshot` column;
/// `--snapshots` chooses which.
#[test]
fn scan_collects_the_chosen_snapshots_in_the_snapshot_column() {
    let image = vsstest();
    for (choice, expected) in [
        ("all", vec!["", "1", "2"]),
        ("latest", vec!["", "2"]),
        ("none", vec![""]),
    ] {
        let out = scratch_dir("vss-scan").join(choice);
        let result = scan_into(
            std::slice::from_ref(&image),
            &out,
            &["--artifacts", "mft", "--snapshots", choice],
        );
        assert!(result.status.success(), "{choice}: {result:?}");
        let (header, rows) = read_csv(&out.join("vsstest").join("mft.csv"));
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        let (snap, path, in_use) = (col("snapshot"), col("path"), col("in_use"));
        let seen: BTreeSet<&str> = rows.iter().map(|r| r[snap].as_str()).collect();
        assert_eq!(seen, expected.into_iter().collect(), "{choice}");
        // Each snapshot's in-use records are the files fls lists in its store.
        if choice == "all" {
            let mount = Mount::new(&image, 0, "vsstest-scan");
            for n in ["1", "2"] {
                let ours: BTreeSet<&str> = rows
                    .iter()
                    .filter(|r| r[snap] == n && r[in_use] == "true")
                    .map(|r| r[path].as_str())
                    .collect();
                let theirs: BTreeSet<String> = fls_entries(&mount.store(n.parse().unwrap()), 0)
                    .into_iter()
                    .map(|e| e.path)
                    .filter(|p| !p.contains(':'))
                    .collect();
                for p in &theirs {
                    assert!(
                        ours.contains(p.as_str()),
                        "snapshot {n}: {p} not in mft.csv"
                    );
                }
            }
        }
    }
}
