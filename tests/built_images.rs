//! The images made by images/build.sh, read through every container and checked
//! against The Sleuth Kit, libewf and the facts committed beside the recipes.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::*;

fn image(name: &str) -> PathBuf {
    built_images().join(name)
}

/// The three containers of the same disk.
fn win10_forms() -> [PathBuf; 3] {
    [
        image("win10-aptsim.raw"),
        image("win10-aptsim.split.001"),
        image("win10-aptsim.E01"),
    ]
}

/// `path -> (size, sha256)` from images/expected/NAME.tsv.
fn expected_files(name: &str) -> BTreeMap<String, (u64, String)> {
    let text = std::fs::read_to_string(root().join("images/expected").join(name)).unwrap();
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (
                cols[0].to_string(),
                (cols[1].parse().unwrap(), cols[2].to_string()),
            )
        })
        .collect()
}

/// `key -> value` from images/expected/NAME.layout.
fn layout(name: &str) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(root().join("images/expected").join(name)).unwrap();
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn info(path: &Path) -> serde_json::Value {
    let out = run_ok(toolmark().args(["info", "--json"]).arg(path)).stdout;
    serde_json::from_slice::<serde_json::Value>(&out).unwrap()[0].clone()
}

#[test]
fn every_container_lists_like_fls_on_the_raw_disk() {
    let raw = image("win10-aptsim.raw");
    let offset = first_ntfs_offset(&raw);
    let expected: BTreeSet<String> = fls_entries(&raw, offset)
        .into_iter()
        .map(|e| e.path)
        .collect();
    assert!(expected.len() > 300, "fls listed {}", expected.len());
    for form in win10_forms() {
        assert_same_paths(
            &toolmark_paths(&form),
            &expected,
            &form.display().to_string(),
        );
    }
    let mbr = image("mbr-logical.raw");
    let facts = layout("mbr-logical.layout");
    let start: u64 = facts["partition2_start_sector"].parse().unwrap();
    let expected: BTreeSet<String> = fls_entries(&mbr, start * 512)
        .into_iter()
        .map(|e| e.path)
        .collect();
    assert_same_paths(
        &toolmark_paths_of(&mbr, Some(2)),
        &expected,
        "mbr-logical volume 2",
    );
}

/// Every file and stream, through every container, equals `icat` on the raw disk:
/// the compressed folder, the ADS, the sparse `$J`, the hives, logs and Prefetch.
#[test]
fn every_file_equals_icat_in_every_container() {
    let raw = image("win10-aptsim.raw");
    let offset = first_ntfs_offset(&raw);
    let entries: Vec<FlsEntry> = fls_entries(&raw, offset)
        .into_iter()
        .filter(|e| e.kind == "r/r" && e.path != "$BadClus:$Bad")
        .collect();
    assert!(entries.len() > 300);
    let mut checked = 0;
    for entry in &entries {
        let icat = run_ok(
            oracle("icat", "sleuthkit")
                .arg("-o")
                .arg((offset / 512).to_string())
                .arg(&raw)
                .arg(&entry.address),
        )
        .stdout;
        let want = sha256(&icat);
        for form in win10_forms() {
            let ours = run_ok(toolmark().arg("cat").arg(&form).arg(&entry.path)).stdout;
            assert_eq!(sha256(&ours), want, "{} in {}", entry.path, form.display());
        }
        checked += 1;
    }
    let must_cover = [
        "Users/analyst/Documents/compressed/access.log",
        "Users/analyst/Downloads/tool.exe:Zone.Identifier",
        "$Extend/$UsnJrnl:$J",
        "Windows/System32/config/SYSTEM",
    ];
    for path in must_cover {
        assert!(
            entries.iter().any(|e| e.path == path),
            "{path} not listed by fls"
        );
    }
    assert_eq!(checked, entries.len());
}

#[test]
fn files_have_the_committed_sizes_and_hashes() {
    for (image_name, facts, volume) in [
        ("win10-aptsim.E01", "win10-aptsim.tsv", None),
        ("mbr-logical.raw", "mbr-logical.tsv", Some(2)),
    ] {
        let expected = expected_files(facts);
        assert!(!expected.is_empty());
        for (path, (size, hash)) in expected {
            let mut cmd = toolmark();
            cmd.arg("cat").arg(image(image_name)).arg(&path);
            if let Some(v) = volume {
                cmd.arg("--volume").arg(v.to_string());
            }
            let bytes = run_ok(&mut cmd).stdout;
            assert_eq!(bytes.len() as u64, size, "{image_name}: {path}");
            assert_eq!(sha256(&bytes), hash, "{image_name}: {path}");
        }
    }
}

#[test]
fn layouts_equal_the_committed_facts() {
    let facts = layout("win10-aptsim.layout");
    for form in win10_forms() {
        let info = info(&form);
        assert_eq!(
            info["media_size"].as_u64().unwrap().to_string(),
            facts["disk_bytes"]
        );
        assert_eq!(info["scheme"], "gpt");
        let part = &info["partitions"][0];
        assert_eq!(
            (part["offset"].as_u64().unwrap() / 512).to_string(),
            facts["partition1_start_sector"]
        );
        assert_eq!(
            (part["length"].as_u64().unwrap() / 512).to_string(),
            facts["partition1_sectors"]
        );
        assert!(part["type_description"]
            .as_str()
            .unwrap()
            .starts_with(&facts["partition1_type_guid"]));
        assert_eq!(part["ntfs"]["serial"], facts["ntfs_volume_serial"]);
        assert_eq!(part["ntfs"]["label"], facts["ntfs_label"]);
        assert_eq!(
            part["ntfs"]["cluster_size"].as_u64().unwrap().to_string(),
            facts["ntfs_cluster_size"]
        );
    }
    let e01 = info(&image("win10-aptsim.E01"));
    assert_eq!(e01["segments"].as_array().unwrap().len(), 3);
    assert_eq!(e01["container"], "ewf");
    assert_eq!(
        info(&image("win10-aptsim.split.001"))["container"],
        "split_raw"
    );

    let facts = layout("mbr-logical.layout");
    let info = info(&image("mbr-logical.raw"));
    assert_eq!(info["scheme"], "mbr");
    let parts = info["partitions"].as_array().unwrap();
    assert_eq!(parts.len(), 2);
    for (i, part) in parts.iter().enumerate() {
        let n = i + 1;
        assert_eq!(
            (part["offset"].as_u64().unwrap() / 512).to_string(),
            facts[&format!("partition{n}_start_sector")]
        );
        assert_eq!(
            (part["length"].as_u64().unwrap() / 512).to_string(),
            facts[&format!("partition{n}_sectors")]
        );
    }
    assert_eq!(parts[0]["fs"], "fat");
    assert_eq!(parts[1]["logical"], true);
    assert_eq!(
        parts[1]["ntfs"]["serial"],
        facts["logical_ntfs_volume_serial"]
    );
    assert_eq!(parts[1]["ntfs"]["label"], facts["logical_ntfs_label"]);
}

#[test]
fn verify_passes_on_the_e01_and_matches_the_raw_disk() {
    let e01 = run_ok(
        toolmark()
            .args(["verify", "-q"])
            .arg(image("win10-aptsim.E01")),
    )
    .stdout;
    let e01 = String::from_utf8_lossy(&e01);
    assert_eq!(e01.matches(" match").count(), 2, "{e01}");
    let raw = run_ok(
        toolmark()
            .args(["verify", "-q"])
            .arg(image("win10-aptsim.split.001")),
    )
    .stdout;
    let md5 = |text: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix("computed MD5:"))
            .map(|s| s.trim().to_string())
    };
    assert_eq!(md5(&e01), md5(&String::from_utf8_lossy(&raw)));
}

/// Damage that leaves the volume reachable costs only what it covers: `ls` lists
/// what can be read, names the damage on stderr and exits 2 (README, "What
/// toolmark promises on damaged input").
#[test]
fn damaged_variants_are_read_around_the_damage() {
    let clean = run_ok(toolmark().args(["ls", "-r"]).arg(image("win10-aptsim.raw"))).stdout;
    let clean_system = run_ok(
        toolmark()
            .arg("cat")
            .arg(image("win10-aptsim.raw"))
            .arg("Windows/System32/config/SYSTEM"),
    )
    .stdout;
    let cases = [
        // The last segment cut in half: the media up to its lost chunks is read.
        (
            "damaged/win10-aptsim-truncated.E01",
            "segment truncated",
            false,
        ),
        // A segment missing in the middle: the set is read up to the one before.
        (
            "damaged/win10-aptsim-missing-E02.E01",
            "win10-aptsim-missing-E02.E02 is missing",
            false,
        ),
        // The boot sector zeroed: its backup at the volume's end is used.
        (
            "damaged/win10-aptsim-zeroed-boot.raw",
            "backup boot sector",
            true,
        ),
        // Both GPT headers damaged: the volume is found by its boot sector.
        (
            "damaged/win10-aptsim-corrupt-gpt.raw",
            "found by boot sector signature",
            true,
        ),
    ];
    for (name, expect, whole) in cases {
        let out = toolmark()
            .args(["ls", "-r"])
            .arg(image(name))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(
            stderr.contains(expect),
            "{name}: expected '{expect}' in {stderr}"
        );
        if whole {
            assert_eq!(out.stdout, clean, "{name}: every file still listed");
            let system = run_ok(
                toolmark()
                    .arg("cat")
                    .arg(image(name))
                    .arg("Windows/System32/config/SYSTEM"),
            )
            .stdout;
            assert!(system == clean_system, "{name}: SYSTEM read whole");
        } else {
            let listed = String::from_utf8_lossy(&out.stdout).lines().count();
            let all = String::from_utf8_lossy(&clean).lines().count();
            assert!(listed * 10 > all * 6, "{name}: {listed} of {all} listed");
        }
    }
}

/// The change journal is a real `$Extend/$UsnJrnl:$J` with a sparse head: the
/// extents say where data starts, without reading or allocating the hole.
#[test]
fn usn_journal_extents_skip_the_sparse_head() {
    use std::sync::Arc;
    use toolmark::disk;
    use toolmark::evidence::{Evidence, ReadAt, Window};
    use toolmark::ntfs::Volume;

    let evidence = Evidence::open(&image("win10-aptsim.E01")).unwrap();
    let layout = disk::scan(&evidence).unwrap();
    let part = &layout.partitions[0];
    let window: Arc<dyn ReadAt> = Arc::new(Window::new(evidence.data(), part.offset, part.length));
    let volume = Volume::open(window).unwrap();
    let journal = volume.usn_journal().unwrap().expect("journal present");
    let (size, _) = expected_files("win10-aptsim.tsv")["$Extend/$UsnJrnl:$J"].clone();
    assert_eq!(journal.len(), size);
    let extents = journal.extents();
    assert!(extents[0].sparse && extents[0].offset == 0);
    assert_eq!(
        extents[0].length,
        200 << 20,
        "200 MiB hole, as images/README.md states"
    );
    assert!(extents.iter().skip(1).any(|e| !e.sparse));
}

/// A deleted file keeps its name in its freed MFT record: `ls --deleted` shows it
/// as The Sleuth Kit's `fls -d` does, and plain `ls` does not.
#[test]
fn deleted_files_are_listed_only_when_asked() {
    let raw = image("win10-aptsim.raw");
    let offset = first_ntfs_offset(&raw);
    let deleted_by_fls: BTreeSet<String> = fls_deleted(&raw, offset).into_keys().collect();
    for deleted in [
        "Users/analyst/Downloads/mimikatz.exe",
        "Users/analyst/AppData/Local/Temp/old1.evtx",
        "Users/analyst/AppData/Local/Temp/old2.evtx",
    ] {
        assert!(
            deleted_by_fls.contains(deleted),
            "{deleted}: {deleted_by_fls:?}"
        );
    }
    for form in win10_forms() {
        let out = run_ok(toolmark().args(["ls", "-r", "--deleted"]).arg(&form)).stdout;
        let ours: BTreeSet<String> = String::from_utf8_lossy(&out)
            .lines()
            .filter(|l| l.starts_with('*'))
            .filter_map(|l| l.splitn(4, '\t').nth(3).map(str::to_string))
            .collect();
        assert_same_paths(&ours, &deleted_by_fls, &form.display().to_string());
        assert!(!toolmark_paths(&form).contains("Users/analyst/Downloads/mimikatz.exe"));
    }
}

/// A triage collection kept in a container (images/build.sh's kape.vhdx: an NTFS
/// volume whose root holds `C/Windows/…`, `C/$MFT` and `C/$Extend/$J`, as KAPE's
/// `--vhdx` writes it) is read as the collection: every artifact under volume
/// `1/C`. Before, the volume had no `Windows` folder, so the scan found nothing and
/// said nothing. Oracles: evtxexport's record count of the logs placed in it, the
/// corpus' Prefetch files, fls' listing of the volume whose `$MFT` was copied in.
#[test]
fn a_triage_collection_in_a_container_is_read_as_one() {
    let out = scratch_dir("kape-container");
    let result = scan_into(&[image("kape.vhdx")], &out, &[]);
    assert_eq!(
        result.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let dir = out.join("kape");
    let rows_in = |table: &str| -> BTreeMap<String, usize> {
        let (header, rows) = read_csv(&dir.join(format!("{table}.csv")));
        let volume = header.iter().position(|h| h == "volume").unwrap();
        let mut counts = BTreeMap::new();
        for row in rows {
            *counts.entry(row[volume].clone()).or_default() += 1;
        }
        counts
    };
    let (header, evtx) = read_csv(&dir.join("evtx.csv"));
    let (volume, file) = (
        header.iter().position(|h| h == "volume").unwrap(),
        header.iter().position(|h| h == "file").unwrap(),
    );
    let logs = corpus().join("hosts/win10-aptsim/Windows/System32/winevt/Logs");
    for log in ["System.evtx", "Microsoft-Windows-Sysmon%4Operational.evtx"] {
        let ours = evtx
            .iter()
            .filter(|r| {
                r[volume] == "1/C" && r[file] == format!("Windows/System32/winevt/Logs/{log}")
            })
            .count();
        assert_eq!(ours, evtxexport(&logs.join(log)).len(), "{log}");
    }
    let prefetch_files = std::fs::read_dir(corpus().join("hosts/win10-aptsim/Windows/Prefetch"))
        .unwrap()
        .count();
    assert_eq!(rows_in("prefetch").get("1/C"), Some(&prefetch_files));
    // The copied $MFT is win10-aptsim's: one row per record fls lists there, at least.
    let raw = image("win10-aptsim.raw");
    let listed = fls_entries(&raw, first_ntfs_offset(&raw)).len();
    let mft_rows = rows_in("mft").get("1/C").copied().unwrap_or(0);
    assert!(
        mft_rows >= listed && listed > 100,
        "{mft_rows} rows, fls {listed}"
    );
    assert!(rows_in("usn").get("1/C").is_some_and(|n| *n > 100_000));
    let (header, rows) = read_csv(&dir.join("findings.csv"));
    let (tool, role) = (
        header.iter().position(|h| h == "tool").unwrap(),
        header.iter().position(|h| h == "role").unwrap(),
    );
    let findings: BTreeSet<(String, String)> = rows
        .iter()
        .map(|f| (f[tool].clone(), f[role].clone()))
        .collect();
    for (tool, role) in [
        ("psexec", "destination"),
        ("schtasks", "source"),
        ("net_user", "source"),
    ] {
        assert!(
            findings.contains(&(tool.to_string(), role.to_string())),
            "{tool} {role} not in {findings:?}"
        );
    }
}
