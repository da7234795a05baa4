//! Issue 12, point 3: nothing is lost silently. Each test damages one structure
//! whose loss toolmark used to take for an absence (a stream, a part of `$MFT`, a
//! value list, an extended partition, a table of a batch) and checks that the loss
//! is named (errors.csv or stderr), that the exit status is 2 (or the command
//! fails), and that the rest is still read.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::damage::{
    assert_contained, damaged_copy, data_attribute, hive_in_image, measured_scan, table_rows,
    tear_record, Lost, Scan,
};
use common::*;

const SOFTWARE: &str = "Windows/System32/config/SOFTWARE";
const NTUSER: &str = "Users/analyst/NTUSER.DAT";

fn scan(image: &Path, name: &str, artifacts: &str) -> Scan {
    let out = scratch_dir("damage-silent").join(format!("out-{name}"));
    measured_scan(image, &out, &["--artifacts", artifacts])
}

fn clean(artifacts: &str) -> Scan {
    let raw = built_images().join("win10-aptsim.raw");
    let s = scan(
        &raw,
        &format!("clean-{}", artifacts.replace(',', "-")),
        artifacts,
    );
    assert_eq!(s.code, Some(0), "the clean disk scans without errors");
    s
}

fn errors(dir: &Path) -> Vec<Vec<String>> {
    read_csv(&dir.join("errors.csv")).1
}

/// The SOFTWARE hive's `$DATA` attribute header made unreadable (its length no
/// multiple of 8): the file is still listed, but its content stream is among the
/// attributes damage hides. That is a hive that cannot be read (errors.csv, exit
/// 2, rule rows "hive unreadable"), not a volume without a SOFTWARE hive; every
/// other row is the clean scan's, and `ls` of its folder exits 2 naming it.
#[test]
fn a_stream_hidden_by_a_damaged_record_is_not_an_absent_file() {
    let image = damaged_copy("software-data-attribute", |image, offset| {
        let (_, attr) = data_attribute(image, offset, SOFTWARE);
        image[attr + 4] = image[attr + 4].wrapping_add(4);
    });
    let damaged = scan(&image, "software-data-attribute", "mft,registry");
    assert_contained(
        "software-data-attribute",
        &clean("mft,registry"),
        &damaged,
        Lost::Files(&[SOFTWARE]),
    );
    let (header, rows) = read_csv(&damaged.dir.join("registry.csv"));
    let note = header.iter().position(|h| h == "note").unwrap();
    assert!(
        !rows.iter().any(|r| r[note].contains("no SOFTWARE hive")),
        "a damaged hive passes for an absent one"
    );
    assert!(rows
        .iter()
        .any(|r| r.iter().any(|c| c == SOFTWARE) && r[note].starts_with("hive unreadable")));
    let errors = errors(&damaged.dir);
    assert!(
        errors
            .iter()
            .any(|e| e[3] == "mft" && e[2].starts_with("$MFT record")),
        "the damaged record in errors.csv: {errors:?}"
    );

    let ls = toolmark()
        .args(["ls"])
        .arg(&image)
        .arg("Windows/System32/config")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&ls.stdout);
    let stderr = String::from_utf8_lossy(&ls.stderr);
    assert_eq!(ls.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("SOFTWARE"), "{stderr}");
    // The folder's other files are listed as `fls` lists them.
    assert!(
        stdout.contains("\tWindows/System32/config/SYSTEM\n"),
        "{stdout}"
    );
}

/// The run list of `$MFT` (record 0) cut to 64 clusters while its size still
/// says more: the records past the cut cannot be read. Before, they were simply
/// not listed and the scan exited 0; now the volume's errors.csv row names the
/// first record lost (exit 2), and every record before the cut is listed as the
/// clean scan lists it (paths aside: a folder past the cut orphans its files).
#[test]
fn an_mft_cut_short_names_the_records_it_loses() {
    const KEPT_CLUSTERS: u64 = 64;
    let mut per_cluster = 0;
    let image = damaged_copy("mft-cut", |image, offset| {
        let (record, attr) = data_attribute(image, offset, "$MFT");
        let boot = *common::open_first_ntfs(&built_images().join("win10-aptsim.raw"))
            .0
            .boot();
        per_cluster = boot.cluster_size / boot.record_size;
        assert_eq!(record as u64, offset + boot.mft_lcn * boot.cluster_size);
        let list = attr + u16::from_le_bytes([image[attr + 0x20], image[attr + 0x21]]) as usize;
        // One run (the built volume's MFT is contiguous): header, length, offset.
        let len_size = usize::from(image[list] & 0xF);
        let length = &mut image[list + 1..list + 1 + len_size];
        let mut clusters = [0u8; 8];
        clusters[..len_size].copy_from_slice(length);
        assert!(u64::from_le_bytes(clusters) > KEPT_CLUSTERS, "a longer MFT");
        length.copy_from_slice(&KEPT_CLUSTERS.to_le_bytes()[..len_size]);
        assert_eq!(
            image[list + 1 + len_size + (usize::from(image[list] >> 4))],
            0
        );
    });
    let first_lost = KEPT_CLUSTERS * per_cluster;
    let damaged = scan(&image, "mft-cut", "mft");
    assert_eq!(damaged.code, Some(2), "a loss is exit 2");
    let errors = errors(&damaged.dir);
    assert!(
        errors.iter().any(|e| e[3] == "volume"
            && e[4].contains(&format!("records from {first_lost} on cannot be read"))),
        "{errors:?}"
    );
    let clean = mft_rows(&clean("mft").dir);
    let before_cut: BTreeMap<u64, Vec<String>> = clean
        .iter()
        .filter(|(n, _)| **n < first_lost)
        .map(|(n, r)| (*n, r.clone()))
        .collect();
    assert!(before_cut.len() < clean.len(), "the cut loses records");
    let listed = mft_rows(&damaged.dir);
    let differ: Vec<u64> = before_cut
        .keys()
        .chain(listed.keys())
        .filter(|n| listed.get(n) != before_cut.get(n))
        .copied()
        .collect();
    assert!(differ.is_empty(), "records listed otherwise: {differ:?}");
}

/// mft.csv rows by record number, without the path, the image and the host
/// (which damage to a folder's or the SYSTEM hive's record may change).
fn mft_rows(dir: &Path) -> BTreeMap<u64, Vec<String>> {
    let (header, rows) = read_csv(&dir.join("mft.csv"));
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let record = at("record");
    let left_out = [at("path"), at("image"), at("host")];
    rows.into_iter()
        .map(|r| {
            let number = r[record].parse().unwrap();
            let rest = r
                .into_iter()
                .enumerate()
                .filter(|(i, _)| !left_out.contains(i))
                .map(|(_, c)| c)
                .collect();
            (number, rest)
        })
        .collect()
}

/// The `$STANDARD_INFORMATION` value of the SAM hive's record cut to 8 bytes
/// (its times and flags need 36): the record still parses, but its times are
/// lost. That is an errors.csv row naming the record (exit 2), not a row with
/// empty times and nothing said; every other record is listed as before.
#[test]
fn a_standard_information_cut_short_is_named() {
    const SAM: &str = "Windows/System32/config/SAM";
    let mut number = 0;
    let image = damaged_copy("si-cut", |image, offset| {
        let (record, _) = data_attribute(image, offset, SAM);
        let u16_at = |o: usize| u16::from_le_bytes([image[o], image[o + 1]]) as usize;
        number = u64::from(u32::from_le_bytes(
            image[record + 0x2C..record + 0x30].try_into().unwrap(),
        ));
        let si = record + u16_at(record + 0x14);
        assert_eq!(image[si], 0x10, "$STANDARD_INFORMATION comes first");
        // Resident value length at +0x10.
        image[si + 0x10..si + 0x14].copy_from_slice(&8u32.to_le_bytes());
    });
    let damaged = scan(&image, "si-cut", "mft");
    assert_eq!(damaged.code, Some(2), "a loss is exit 2");
    let errors = errors(&damaged.dir);
    assert!(
        errors
            .iter()
            .any(|e| e[2] == format!("$MFT record {number}")
                && e[4].contains("$STANDARD_INFORMATION")),
        "{errors:?}"
    );
    let (mut before, mut after) = (mft_rows(&clean("mft").dir), mft_rows(&damaged.dir));
    assert!(before.remove(&number).is_some() && after.remove(&number).is_some());
    assert_eq!(before, after);
}

/// Where the key node of `path` lies in the raw image (its payload, after the
/// cell size), for the hive at `hive` on the built volume.
fn key_node(image: &[u8], offset: u64, hive: &str, path: &str) -> usize {
    let (bytes, at) = hive_in_image(image, offset, hive);
    let parsed = regf::Hive::from_bytes(bytes).unwrap();
    let key = parsed.open_key(path).unwrap().unwrap();
    at + 4096 + key.offset() as usize + 4
}

/// The value lists of two keys of the user's NTUSER.DAT pointed past the hive:
/// `Software\Sysinternals\PsExec` (a rule asks for its `EulaAccepted`) and the
/// Terminal Server Client server key (an `rdp_client` row with its
/// `UsernameHint`). Neither value may pass for "not present": each is an
/// errors.csv row naming the key (exit 2), the rule row says the hive is damaged,
/// the server row keeps the server and says its user name was lost; every row of
/// every other key is the clean scan's.
#[test]
fn a_value_list_that_cannot_be_read_is_not_an_absent_value() {
    const PSEXEC: &str = r"Software\Sysinternals\PsExec";
    const SERVERS: &str = r"Software\Microsoft\Terminal Server Client\Servers";
    const SERVER: &str = r"Software\Microsoft\Terminal Server Client\Servers\10.0.0.5";
    let image = damaged_copy("value-lists", |image, offset| {
        for key in [PSEXEC, SERVER] {
            let nk = key_node(image, offset, NTUSER, key);
            // Key node: value count at +0x24, value list offset at +0x28.
            image[nk + 0x28..nk + 0x2C].copy_from_slice(&0x7FFF_FFF0u32.to_le_bytes());
        }
    });
    let damaged = scan(&image, "value-lists", "registry");
    assert_eq!(damaged.code, Some(2), "a loss is exit 2");
    let errors = errors(&damaged.dir);
    for key in ["PsExec", "10.0.0.5"] {
        assert!(
            errors
                .iter()
                .any(|e| e[2] == NTUSER && e[3] == "registry" && e[4].contains(key)),
            "{key} not in errors.csv: {errors:?}"
        );
    }
    let (header, rows) = read_csv(&damaged.dir.join("registry.csv"));
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (kind, key_path, value, note) = (at("kind"), at("key_path"), at("value_name"), at("note"));
    // Rule rows spell the key as the rule does.
    let row = |k: &str, path: &str| {
        rows.iter()
            .find(|r| r[kind] == k && r[key_path].eq_ignore_ascii_case(path))
            .unwrap_or_else(|| panic!("no {k} row for {path}"))
    };
    let psexec = row("rule", PSEXEC);
    assert_eq!(psexec[value], "EulaAccepted");
    assert!(psexec[note].starts_with("hive damaged"), "{psexec:?}");
    assert!(row("rdp_client", SERVER)[note].contains("UsernameHint unreadable"));
    // Every row of every other key, of every table, as the clean scan has it
    // (rule rows name the server key by its pattern when no value is found).
    let clean = clean("registry");
    let damaged_key = |c: &String| {
        let c = c.to_ascii_lowercase();
        c == PSEXEC.to_ascii_lowercase() || c.starts_with(&SERVERS.to_ascii_lowercase())
    };
    let outside = |rows: BTreeMap<Vec<String>, usize>| -> BTreeMap<Vec<String>, usize> {
        rows.into_iter()
            .filter(|(r, _)| !r.iter().any(damaged_key))
            .collect()
    };
    for table in toolmark::output::TABLES {
        if clean.dir.join(format!("{table}.csv")).is_file() {
            let (after, before) = (
                outside(table_rows(&damaged.dir, table)),
                outside(table_rows(&clean.dir, table)),
            );
            let differ: Vec<_> = before
                .iter()
                .chain(after.iter())
                .filter(|(r, _)| after.get(*r) != before.get(*r))
                .take(3)
                .collect();
            assert!(differ.is_empty(), "{table}.csv: {differ:?}");
        }
    }
}

/// The extended partition's first EBR without its 55AA signature: the logical
/// NTFS volume behind it is no longer in the table. `info` used to print that as
/// a warning and exit 0; it exits 2 naming the EBR, and still shows the volume
/// (found by its boot sector) where `mmls` places it on the clean disk.
#[test]
fn info_exits_2_when_the_partition_table_was_damaged() {
    let clean = built_images().join("mbr-logical.raw");
    let mmls = oracle("mmls", "sleuthkit").arg(&clean).output().unwrap();
    let table = String::from_utf8_lossy(&mmls.stdout);
    let sector = |pattern: &str| -> u64 {
        let line = table
            .lines()
            .find(|l| l.contains(pattern))
            .unwrap_or_else(|| panic!("mmls: no {pattern}: {table}"));
        line.split_whitespace().nth(2).unwrap().parse().unwrap()
    };
    let (ebr, ntfs) = (sector("Extended Table"), sector("NTFS"));
    let mut bytes = std::fs::read(&clean).unwrap();
    bytes[(ebr * 512 + 510) as usize..(ebr * 512 + 512) as usize].fill(0);
    let image = scratch_dir("damage-silent").join("ebr.raw");
    write_sparse(&image, &bytes);
    let info = toolmark().arg("info").arg(&image).output().unwrap();
    let stdout = String::from_utf8_lossy(&info.stdout);
    let stderr = String::from_utf8_lossy(&info.stderr);
    assert_eq!(info.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("EBR at sector {ebr}")), "{stderr}");
    assert!(
        stdout.contains(&format!("offset {} ", ntfs * 512)) && stdout.contains("NTFS label"),
        "{stdout}"
    );
}

/// A batch whose image lost one of its tables after the scan (a deleted
/// evtx.csv): `merge` builds the roll-ups from the images' tables, and must fail
/// naming the file rather than leave that image's rows out of the roll-up.
#[test]
fn a_roll_up_fails_when_an_images_table_cannot_be_read() {
    const LOGS: [(&str, &str); 2] = [
        (
            "host-a",
            "T1021.002-SMB Windows Admin Shares/ID4688-4648 Lateral movement with net use.evtx",
        ),
        (
            "host-b",
            "T1021.001-Remote Desktop Protocol/ID4688,4778,4779 RDP hijack direct.evtx",
        ),
    ];
    let root = scratch_dir("damage-silent").join("batch");
    let inputs = triage_folders(&root.join("in"), &LOGS);
    let out = root.join("out");
    assert_eq!(scan_into(&inputs, &out, &[]).status.code(), Some(0));
    let (_, rows) = read_csv(&out.join("host-a/evtx.csv"));
    assert!(!rows.is_empty());
    std::fs::remove_file(out.join("host-a/evtx.csv")).unwrap();
    let merged = toolmark()
        .arg("merge")
        .arg(&out)
        .arg("-o")
        .arg(root.join("merged"))
        .arg("-q")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&merged.stderr);
    assert_ne!(merged.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("host-a/evtx.csv"), "{stderr}");
}

/// The `Start` value of the built SYSTEM hive's `PSEXESVC` service retyped as
/// binary data: readable, but no number. services.csv keeps the service with an
/// empty start cell, and errors.csv says why (exit 2) instead of leaving the cell
/// empty without a word; every other service row is the clean scan's.
#[test]
fn a_service_value_that_is_no_number_is_named() {
    const SYSTEM: &str = "Windows/System32/config/SYSTEM";
    let image = damaged_copy("start-type", |image, offset| {
        let (bytes, at) = hive_in_image(image, offset, SYSTEM);
        let hive = regf::Hive::from_bytes(bytes).unwrap();
        let service = hive
            .open_key(r"ControlSet001\Services\PSEXESVC")
            .unwrap()
            .unwrap();
        let start = service.value("Start").unwrap().unwrap();
        assert_eq!(start.value_type(), regf::ValueType::Dword);
        // Value record: type at +0x0C (REG_BINARY is 3).
        let vk = at + 4096 + start.offset() as usize + 4;
        image[vk + 0x0C..vk + 0x10].copy_from_slice(&3u32.to_le_bytes());
    });
    let damaged = scan(&image, "start-type", "registry");
    assert_eq!(damaged.code, Some(2), "a loss is exit 2");
    let errors = errors(&damaged.dir);
    assert!(
        errors.iter().any(|e| e[2] == SYSTEM
            && e[4].contains("value Start of PSEXESVC")
            && e[4].contains("not a number")),
        "{errors:?}"
    );
    let clean = clean("registry");
    let others = |dir: &Path| -> BTreeMap<Vec<String>, usize> {
        table_rows(dir, "services")
            .into_iter()
            .filter(|(r, _)| !r.iter().any(|c| c == "PSEXESVC"))
            .collect()
    };
    assert!(!others(&clean.dir).is_empty());
    assert_eq!(others(&damaged.dir), others(&clean.dir));
    let (header, rows) = read_csv(&damaged.dir.join("services.csv"));
    let (name, start) = (
        header.iter().position(|h| h == "name").unwrap(),
        header.iter().position(|h| h == "start").unwrap(),
    );
    let row = rows.iter().find(|r| r[name] == "PSEXESVC").unwrap();
    assert_eq!(row[start], "");
}

/// The freed MFT record of a deleted file (`mimikatz.exe`, as `fls -d` lists it)
/// torn (a sector whose update-sequence tail does not match): `ls --deleted`
/// used to skip it as if the slot had never been used, exit 0. It names the
/// record (exit 2) and still lists every other deleted file `fls -d` lists.
#[test]
fn ls_deleted_names_a_damaged_record() {
    const LOST: &str = "Users/analyst/Downloads/mimikatz.exe";
    let raw = built_images().join("win10-aptsim.raw");
    let offset = first_ntfs_offset(&raw);
    let deleted = fls_deleted(&raw, offset);
    let record = deleted[LOST];
    let image = damaged_copy("torn-deleted", |image, offset| {
        tear_record(image, offset, record)
    });
    let ls = toolmark()
        .args(["ls", "-r", "--deleted"])
        .arg(&image)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&ls.stderr);
    assert_eq!(ls.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("MFT record {record}:")),
        "{stderr}"
    );
    let listed: std::collections::BTreeSet<String> = String::from_utf8_lossy(&ls.stdout)
        .lines()
        .filter(|l| l.starts_with('*'))
        .filter_map(|l| l.splitn(4, '\t').nth(3).map(str::to_string))
        .collect();
    let expected = deleted.keys().filter(|p| *p != LOST).cloned().collect();
    assert_same_paths(&listed, &expected, "ls --deleted of the torn copy");
}

/// A triage folder whose `System.evtx` is a symbolic link (to a log outside it):
/// links are not followed, so that log is not read, and errors.csv now says so
/// (stage `list`, exit 2) instead of the folder passing for one without it. The
/// real file beside it is read whole: as many events as `evtxexport` finds.
#[test]
fn a_symbolic_link_in_a_triage_folder_is_named() {
    const LOG: &str =
        "T1021.002-SMB Windows Admin Shares/ID4688-4648 Lateral movement with net use.evtx";
    let root = scratch_dir("damage-silent").join("links");
    let folder = triage_folders(&root.join("in"), &[("host", LOG)]).remove(0);
    let logs = folder.join("Windows/System32/winevt/Logs");
    std::os::unix::fs::symlink(
        corpus().join("evtx/attack").join(LOG),
        logs.join("System.evtx"),
    )
    .unwrap();
    let out = root.join("out");
    let result = scan_into(
        std::slice::from_ref(&folder),
        &out,
        &["--artifacts", "evtx"],
    );
    assert_eq!(
        result.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let errors = errors(&out.join("host"));
    assert!(
        errors.iter().any(|e| e[2] == "Windows/System32/winevt/Logs"
            && e[3] == "list"
            && e[4].contains("System.evtx")
            && e[4].contains("symbolic link")),
        "{errors:?}"
    );
    let (_, rows) = read_csv(&out.join("host/evtx.csv"));
    assert_eq!(rows.len(), evtxexport(&logs.join("Security.evtx")).len());
}

/// The `DynamicInfo` value of the built SOFTWARE hive's scheduled task cut to 8
/// bytes (its created and last-run times end at byte 20): the task row keeps
/// its empty time cells, and errors.csv says why (exit 2); the row's other cells
/// (the image's name aside) are the clean scan's.
#[test]
fn a_task_dynamic_info_cut_short_is_named() {
    const TASKS: &str = r"Microsoft\Windows NT\CurrentVersion\Schedule\TaskCache\Tasks";
    let mut id = String::new();
    let image = damaged_copy("dynamic-info", |image, offset| {
        let (bytes, at) = hive_in_image(image, offset, SOFTWARE);
        let hive = regf::Hive::from_bytes(bytes).unwrap();
        let task = hive
            .open_key(TASKS)
            .unwrap()
            .unwrap()
            .subkeys()
            .unwrap()
            .remove(0);
        id = task.name();
        let dynamic = task.value("DynamicInfo").unwrap().unwrap();
        assert!(dynamic.data_size() >= 20);
        // Value record: data size at +0x04 (the top bit marks data kept inline).
        let vk = at + 4096 + dynamic.offset() as usize + 4;
        image[vk + 4..vk + 8].copy_from_slice(&8u32.to_le_bytes());
    });
    let damaged = scan(&image, "dynamic-info", "registry");
    assert_eq!(damaged.code, Some(2), "a loss is exit 2");
    let errors = errors(&damaged.dir);
    assert!(
        errors
            .iter()
            .any(|e| e[2] == SOFTWARE && e[4].contains(&id) && e[4].contains("DynamicInfo")),
        "{errors:?}"
    );
    // The task is kept, its times empty where the clean scan has them, and
    // every other cell of its row is the clean scan's.
    let row = |dir: &Path| -> (Vec<String>, Vec<String>) {
        let (header, rows) = read_csv(&dir.join("tasks.csv"));
        let row = rows
            .into_iter()
            .find(|r| r.contains(&id))
            .expect("the task's row");
        let times = ["created", "last_run"].map(|h| header.iter().position(|c| c == h).unwrap());
        let (timed, rest) = row
            .into_iter()
            .enumerate()
            .skip(1)
            .partition::<Vec<_>, _>(|(i, _)| times.contains(i));
        let strip = |v: Vec<(usize, String)>| v.into_iter().map(|(_, c)| c).collect();
        (strip(timed), strip(rest))
    };
    let (clean_times, clean_rest) = row(&clean("registry").dir);
    let (times, rest) = row(&damaged.dir);
    // (The built task never ran: only its created time is set.)
    assert!(!clean_times[0].is_empty(), "{clean_times:?}");
    assert!(times.iter().all(String::is_empty), "{times:?}");
    assert_eq!(rest, clean_rest);
}

/// The MFT record of `Windows` (its number from `ifind`) torn, and only the
/// change journal asked for: the journal records of the files in
/// `Windows/System32` lose their parent path to `$OrphanFiles`. No `$MFT` row
/// names the record then, so the journal's own errors.csv row must (stage `usn`,
/// exit 2, with the number of records it cost); every journal row is the clean
/// scan's, its parent path but for `Windows` placed under `$OrphanFiles`.
#[test]
fn journal_paths_lost_to_a_damaged_folder_are_named() {
    let raw = built_images().join("win10-aptsim.raw");
    let offset = first_ntfs_offset(&raw);
    let ifind = sleuthkit("ifind", &["-n", "Windows"], &raw, offset);
    let record: u64 = ifind.trim().parse().unwrap();
    let image = damaged_copy("torn-windows", |image, offset| {
        tear_record(image, offset, record)
    });
    let damaged = scan(&image, "torn-windows", "usn");
    assert_eq!(damaged.code, Some(2), "a loss is exit 2");
    let orphaned = |path: &str| match path.strip_prefix("Windows") {
        Some("") => Some("$OrphanFiles".to_string()),
        Some(rest) if rest.starts_with('/') => Some(format!("$OrphanFiles{rest}")),
        _ => None,
    };
    let (header, mut expected) = read_csv(&clean("usn").dir.join("usn.csv"));
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let parent = at("parent_path");
    let mut lost = 0;
    for row in &mut expected {
        // The SYSTEM hive, under Windows, no longer names the host.
        for column in [at("image"), at("host")] {
            row[column] = "torn-windows".into();
        }
        if let Some(path) = orphaned(&row[parent]) {
            row[parent] = path;
            lost += 1;
        }
    }
    assert!(lost > 0, "the built journal has records under Windows");
    let errors = errors(&damaged.dir);
    assert!(
        errors
            .iter()
            .any(|e| e[2] == format!("$MFT record {record}")
                && e[3] == "usn"
                && e[4].contains(&format!(" {lost} journal records"))
                && e[4].contains("$OrphanFiles")),
        "{errors:?}"
    );
    let (_, rows) = read_csv(&damaged.dir.join("usn.csv"));
    assert_eq!(rows.len(), expected.len());
    let differ: Vec<_> = rows
        .iter()
        .zip(&expected)
        .filter(|(a, b)| a != b)
        .take(3)
        .collect();
    assert!(differ.is_empty(), "{differ:?}");
}
