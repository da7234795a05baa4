//! Issue 12, names that differ only in case, and names that are not valid UTF-16,
//! through a whole `scan`. Case twins (`Twin.evtx`, `twin.evtx`) are two files,
//! each read with its own events. So are two event logs in one folder whose names
//! differ only in an unpaired surrogate (U+D800 against U+D801): a lossy conversion
//! makes both `twin\u{FFFD}.evtx` (The Sleuth Kit prints both as `twin^evtx`), and
//! a reader going by name would read one log twice or once; toolmark lists both
//! records under the README's lossless escape and reads each log's own events.
//!
//! The volume is made here: mkntfs, the two logs copied in through an ntfs-3g
//! mount as `twinA.evtx` and `twinB.evtx`, then the `A` and `B` units of both
//! names (MFT record and directory index entry) replaced by the surrogates; the
//! index order is kept (A < B, D800 < D801).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

const LOGS: &str = "Windows/System32/winevt/Logs";

/// An ntfs-3g mount, unmounted (and its daemon waited for, since it finishes
/// writing the volume after the unmount returns) when dropped.
struct Mount {
    dir: PathBuf,
    daemon: Child,
}

impl Mount {
    fn new(volume: &Path, dir: &Path) -> Mount {
        std::fs::create_dir_all(dir).unwrap();
        let daemon = oracle("ntfs-3g", "ntfs-3g")
            .args(["-o", "no_detach"])
            .arg(volume)
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let mut mount = Mount {
            dir: dir.to_path_buf(),
            daemon,
        };
        let started = Instant::now();
        while !Command::new("mountpoint")
            .arg("-q")
            .arg(dir)
            .status()
            .unwrap()
            .success()
        {
            assert!(mount.daemon.try_wait().unwrap().is_none(), "ntfs-3g exited");
            assert!(started.elapsed() < Duration::from_secs(20), "no mount");
            std::thread::sleep(Duration::from_millis(100));
        }
        mount
    }
}

impl Drop for Mount {
    /// Unmounts, retrying while the mount is busy (a bare attempt once failed
    /// and left the test waiting for the daemon for ever); a daemon still
    /// mounted after 10 s is killed.
    fn drop(&mut self) {
        let started = Instant::now();
        while !Command::new("fusermount")
            .arg("-u")
            .arg(&self.dir)
            .status()
            .is_ok_and(|s| s.success())
        {
            if started.elapsed() > Duration::from_secs(10) {
                let _ = self.daemon.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let _ = self.daemon.wait();
    }
}

/// The UTF-16LE bytes of `name`.
fn utf16(name: &str) -> Vec<u8> {
    name.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// A 16 MiB NTFS volume, made by mkntfs, whose log folder holds `logs` (name, source
/// file) copied in through an ntfs-3g mount; its bytes (the file is removed).
fn volume_with(dir: &Path, logs: &[(String, &Path)]) -> Vec<u8> {
    let made = dir.join("made.raw");
    mkntfs(&made, 16 << 20, 4096, &["-L", "twins"]);
    {
        let mount = Mount::new(&made, &dir.join("mnt"));
        let folder = mount.dir.join(LOGS);
        std::fs::create_dir_all(&folder).unwrap();
        for (name, log) in logs {
            std::fs::copy(log, folder.join(name)).unwrap();
        }
    }
    let image = std::fs::read(&made).unwrap();
    std::fs::remove_file(&made).unwrap();
    image
}

/// A volume whose log folder holds `logs` as `twin?.evtx`, `?` being the unpaired
/// surrogates U+D800, U+D801, ... in order.
fn twins_volume(dir: &Path, logs: &[PathBuf]) -> PathBuf {
    let letters = ['A', 'B', 'C', 'D'];
    let named: Vec<(String, &Path)> = logs
        .iter()
        .zip(letters)
        .map(|(log, letter)| (format!("twin{letter}.evtx"), log.as_path()))
        .collect();
    let mut image = volume_with(dir, &named);
    for (i, letter) in letters.iter().take(logs.len()).enumerate() {
        let name = utf16(&format!("twin{letter}.evtx"));
        let surrogate = (0xD800 + i as u16).to_le_bytes();
        // Every copy of the name that is a $FILE_NAME's (its length, 10 units, two
        // bytes before it): the MFT record's and the index entry's.
        let places: Vec<usize> = memchr::memmem::find_iter(&image, &name)
            .filter(|&at| image[at - 2] == 10)
            .collect();
        assert_eq!(places.len(), 2, "twin{letter}: record and index entry");
        for at in places {
            // The unit must not be a sector's last two bytes (the fixup's).
            assert_ne!((at + 8) % 512, 510, "twin{letter}: at a sector end");
            image[at + 8..at + 10].copy_from_slice(&surrogate);
        }
    }
    let path = dir.join("twins.raw");
    write_sparse(&path, &image);
    path
}

/// Two logs whose EventRecordIDs evtxexport gives differ.
fn two_logs() -> [PathBuf; 2] {
    let corpus = corpus().join("evtx/attack/T1053.005-Scheduled Task");
    [
        corpus.join("ID4688-Scheduled task creation.evtx"),
        corpus.join("ID5145-Remote schedule task creation (ATexec).evtx"),
    ]
}

/// The live records' EventRecordIDs in `out`'s evtx.csv, by file.
fn record_ids_by_file(out: &Path) -> BTreeMap<String, Vec<u64>> {
    let (header, rows) = read_csv(&out.join("evtx.csv"));
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let mut ours: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for row in rows.iter().filter(|r| r[col("carved")] != "true") {
        ours.entry(row[col("file")].clone())
            .or_default()
            .push(row[col("record_id")].parse().unwrap());
    }
    ours.values_mut().for_each(|ids| ids.sort());
    ours
}

/// evtxexport's EventRecordIDs of `log`, sorted.
fn their_record_ids(log: &Path) -> Vec<u64> {
    let mut theirs: Vec<u64> = evtxexport_events(log)
        .iter()
        .map(|e| e.record_id.unwrap())
        .collect();
    theirs.sort();
    assert!(!theirs.is_empty(), "{}", log.display());
    theirs
}

/// evtx.csv in `out`: the file named `names[i]` holds exactly the events of
/// `logs[i]` (their EventRecordIDs, as evtxexport reads them), and no other file
/// has rows.
fn assert_each_file_holds_its_log(out: &Path, logs: &[PathBuf], names: &[String]) {
    let mut ours = record_ids_by_file(out);
    for (log, name) in logs.iter().zip(names) {
        assert_eq!(
            ours.remove(name).unwrap_or_default(),
            their_record_ids(log),
            "{name}: the records of {}",
            log.display()
        );
    }
    assert!(ours.is_empty(), "rows of other files: {:?}", ours.keys());
}

/// Two logs whose names differ only in case (`Twin.evtx`, `twin.evtx`, as a POSIX
/// system or ntfs-3g writes them) are two files: each is read, with its own events.
#[test]
fn names_differing_only_in_case_are_two_files_through_a_scan() {
    let dir = scratch_dir("damage_names_case");
    let logs = two_logs();
    let names = [format!("{LOGS}/Twin.evtx"), format!("{LOGS}/twin.evtx")];
    let image = volume_with(
        &dir,
        &[
            ("Twin.evtx".to_string(), logs[0].as_path()),
            ("twin.evtx".to_string(), logs[1].as_path()),
        ],
    );
    let path = dir.join("case.raw");
    write_sparse(&path, &image);
    let out = dir.join("out");
    let result = scan_into(&[path], &out, &["--artifacts", "evtx"]);
    let out = out.join("case");
    let errors = std::fs::read_to_string(out.join("errors.csv")).unwrap();
    assert_eq!(result.status.code(), Some(0), "{errors}");
    assert_each_file_holds_its_log(&out, &logs, &names);
}

#[test]
fn names_differing_in_an_unpaired_surrogate_are_two_files_through_a_scan() {
    let dir = scratch_dir("damage_names");
    let logs = two_logs();
    let image = twins_volume(&dir, &logs);

    // The Sleuth Kit: two records in the log folder, under one lossy name.
    let fls: Vec<(u64, String)> = fls_entries(&image, 0)
        .into_iter()
        .filter(|e| e.path.starts_with(&format!("{LOGS}/")))
        .map(|e| {
            (
                e.address.split('-').next().unwrap().parse().unwrap(),
                e.path,
            )
        })
        .collect();
    assert_eq!(fls.len(), 2, "{fls:?}");
    assert_ne!(fls[0].0, fls[1].0, "{fls:?}");
    assert_eq!(fls[0].1, fls[1].1, "TSK's names collapse: {fls:?}");

    let out = dir.join("out");
    let result = scan_into(&[image], &out, &["--artifacts", "evtx,mft"]);
    let out = out.join("twins");
    let errors = std::fs::read_to_string(out.join("errors.csv")).unwrap();
    assert_eq!(result.status.code(), Some(0), "{errors}");

    // mft.csv: both records, each under its own escaped name.
    let expected: Vec<String> = (0..logs.len())
        .map(|i| format!("{LOGS}/twin\u{FFFD}{:04X}.evtx", 0xD800 + i))
        .collect();
    let (header, rows) = read_csv(&out.join("mft.csv"));
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let mut listed: Vec<(u64, String)> = rows
        .iter()
        .filter(|r| r[col("path")].starts_with(&format!("{LOGS}/")))
        .map(|r| (r[col("record")].parse().unwrap(), r[col("path")].clone()))
        .collect();
    listed.sort();
    let records: Vec<u64> = listed.iter().map(|(r, _)| *r).collect();
    let names: Vec<String> = listed.into_iter().map(|(_, p)| p).collect();
    let mut fls_records: Vec<u64> = fls.iter().map(|(r, _)| *r).collect();
    fls_records.sort();
    assert_eq!(records, fls_records, "the records fls lists");
    assert_eq!(names, expected);

    // evtx.csv: each file holds its own log's events (their EventRecordIDs, as
    // evtxexport reads them).
    assert_each_file_holds_its_log(&out, &logs, &expected);
}

/// A triage folder on the analyst's (POSIX) file system whose log folder holds two
/// logs named by bytes that are not UTF-8 (`twin\xFE.evtx`, `twin\xFF.evtx`) and a
/// symbolic link: the two are two files, each under its own escaped name with its
/// own events, and the link, not followed, is an errors.csv row (exit 2).
#[cfg(unix)]
#[test]
fn non_utf8_twins_and_links_in_a_triage_folder() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    let dir = scratch_dir("damage_names_triage");
    let logs = two_logs();
    let folder = dir.join("triage");
    let log_dir = folder.join(LOGS);
    std::fs::create_dir_all(&log_dir).unwrap();
    for (log, byte) in logs.iter().zip([0xFEu8, 0xFF]) {
        let name = [b"twin".as_slice(), &[byte], b".evtx"].concat();
        std::fs::copy(log, log_dir.join(OsStr::from_bytes(&name))).unwrap();
    }
    std::os::unix::fs::symlink(&logs[0], log_dir.join("linked.evtx")).unwrap();

    let out = dir.join("out");
    let result = scan_into(&[folder], &out, &["--artifacts", "evtx"]);
    assert_eq!(result.status.code(), Some(2));
    let out = out.join("triage");
    let errors = std::fs::read_to_string(out.join("errors.csv")).unwrap();
    assert!(
        errors.contains("linked.evtx: symbolic link not followed"),
        "{errors}"
    );
    let names = ["twin\u{FFFD}00FE.evtx", "twin\u{FFFD}00FF.evtx"].map(|n| format!("{LOGS}/{n}"));
    assert_each_file_holds_its_log(&out, &logs, &names);
}

/// Two images whose file names differ only in a byte that is not UTF-8: the batch
/// scans both (it stopped at writing the first manifest, exit 2), each manifest names
/// its own file under the README's lossless escape, and a second run of the same
/// batch reads those manifests back and resumes without scanning either again.
#[cfg(unix)]
#[test]
fn images_named_with_bytes_that_are_not_utf8_scan_and_resume() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    let dir = scratch_dir("damage_names_images");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut inputs = Vec::new();
    for (log, byte) in two_logs().iter().zip([0xFEu8, 0xFF]) {
        let name = [b"log".as_slice(), &[byte], b".evtx"].concat();
        let input = dir.join(OsStr::from_bytes(&name));
        std::fs::copy(log, &input).unwrap();
        inputs.push(input);
    }
    let out = dir.join("out");
    let first = scan_into(&inputs, &out, &["--jobs", "1"]);
    assert_eq!(first.status.code(), Some(0), "{first:?}");
    let mut manifests = Vec::new();
    for entry in std::fs::read_dir(&out).unwrap() {
        let manifest = entry.unwrap().path().join("manifest.json");
        if manifest.is_file() {
            let text = std::fs::read_to_string(&manifest).unwrap();
            let json: serde_json::Value = serde_json::from_str(&text).unwrap();
            let input = json["input"].as_str().unwrap().to_string();
            manifests.push((input, manifest));
        }
    }
    manifests.sort();
    let named: Vec<&str> = manifests.iter().map(|(input, _)| input.as_str()).collect();
    let expected: Vec<String> = ["log\u{FFFD}00FE.evtx", "log\u{FFFD}00FF.evtx"]
        .iter()
        .map(|n| format!("{}", dir.join(n).display()))
        .collect();
    assert_eq!(named, expected);
    let written: Vec<_> = manifests
        .iter()
        .map(|(_, m)| std::fs::metadata(m).unwrap().modified().unwrap())
        .collect();

    let again = scan_again(&inputs, &out, &["--jobs", "1"]);
    assert_eq!(again.status.code(), Some(0));
    for ((_, manifest), before) in manifests.iter().zip(written) {
        assert_eq!(
            std::fs::metadata(manifest).unwrap().modified().unwrap(),
            before,
            "{} scanned again",
            manifest.display()
        );
    }
}

/// A volume label is evidence: `info` printed it raw, so one holding an escape
/// sequence retitled the terminal, cleared it or forged lines of output. Every
/// control character it prints is now written escaped, the label kept otherwise.
#[test]
fn a_volume_label_with_escape_sequences_is_shown_escaped() {
    let dir = scratch_dir("label-escapes");
    let image = dir.join("label.raw");
    mkntfs(&image, 8 << 20, 4096, &["-L", "A\x1b]0;pwned\x07B\x1b[2J"]);
    let out = toolmark().arg("info").arg(&image).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.chars().any(|c| c.is_control() && c != '\n'),
        "{stdout:?}"
    );
    assert!(
        stdout.contains(r#"NTFS label "A\u{1b}]0;pwned\u{7}B\u{1b}[2J""#),
        "{stdout}"
    );
}
