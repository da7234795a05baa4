//! Event logs handed over as they are, without a volume around them: one `.evtx`
//! file, a folder of one host's logs, and a folder of such folders. Record counts
//! come from evtxexport (libevtx-utils); the expected tool is the evaluation set's
//! label for the log (`eval/labels.toml`), written before toolmark ran on it.

mod common;

use std::path::{Path, PathBuf};

use common::*;

/// A PsExec service installation (System log of the destination).
const PSEXEC: &str = "evtx/attack/T1543.003-Create or Modify System Process-Windows Service/ID7045-7036 PSexec service installation.evtx";
/// An RDP session taken over (another host's Security log).
const RDP: &str =
    "evtx/attack/T1021.001-Remote Desktop Protocol/ID4688,4778,4779 RDP hijack direct.evtx";

fn scan(input: &Path, out: &Path) {
    scan_exiting(input, out, 0);
}

/// Scans `input`'s event logs into `out`, which must end with exit status `code`.
fn scan_exiting(input: &Path, out: &Path, code: i32) {
    let _ = std::fs::remove_dir_all(out);
    let result = toolmark()
        .arg("scan")
        .arg(input)
        .arg("-o")
        .arg(out)
        .args(["-q", "--artifacts", "evtx"])
        .output()
        .unwrap();
    assert_eq!(
        result.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
}

fn rows(image: &Path, table: &str) -> Vec<Vec<String>> {
    read_csv(&image.join(format!("{table}.csv"))).1
}

/// The evtx.csv rows of live records (not those recovered from unused chunk space,
/// which evtxexport does not count among a log's records).
fn live_records(image: &Path) -> Vec<Vec<String>> {
    let (header, rows) = read_csv(&image.join("evtx.csv"));
    let carved = header.iter().position(|h| h == "carved").unwrap();
    rows.into_iter().filter(|r| r[carved] == "false").collect()
}

/// A plain copy of a corpus log under `dir` (a triage folder's files are its own,
/// not links into the corpus).
fn copy_into(dir: &Path, log: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let from = corpus().join(log);
    let to = dir.join(from.file_name().unwrap());
    std::fs::copy(&from, &to).unwrap();
    to
}

#[test]
fn a_lone_event_log_is_one_host_with_every_record_and_its_tool() {
    let log = corpus().join(PSEXEC);
    let out = scratch_dir("loose-one");
    scan(&log, &out);
    let image = out.join("ID7045-7036_PSexec_service_installation");
    assert_eq!(live_records(&image).len(), evtxexport(&log).len());
    assert_eq!(rows(&image, "errors").len(), 0);
    let findings = rows(&image, "findings");
    assert!(
        findings
            .iter()
            .any(|r| r[2] == "psexec" && r[5] == "destination"),
        "{findings:?}"
    );
}

#[test]
fn a_folder_of_logs_is_one_host_and_a_folder_of_folders_is_many() {
    let root = scratch_dir("loose-folders");
    let hosts = root.join("hosts");
    let a = copy_into(&hosts.join("host-a"), PSEXEC);
    let b = copy_into(&hosts.join("host-a"), RDP);
    let c = copy_into(&hosts.join("host-b"), RDP);

    // One folder of logs: one image, both logs' records.
    let out = root.join("one");
    scan(&hosts.join("host-a"), &out);
    let image = out.join("host-a");
    assert_eq!(
        live_records(&image).len(),
        evtxexport(&a).len() + evtxexport(&b).len()
    );
    let files: std::collections::BTreeSet<String> =
        live_records(&image).iter().map(|r| r[4].clone()).collect();
    assert_eq!(files.len(), 2, "{files:?}");

    // A folder of host folders: an image each.
    let out = root.join("many");
    scan(&hosts, &out);
    assert_eq!(
        live_records(&out.join("host-a")).len(),
        evtxexport(&a).len() + evtxexport(&b).len()
    );
    assert_eq!(
        live_records(&out.join("host-b")).len(),
        evtxexport(&c).len()
    );
}

/// Records whose whole bytes lie before `cut` in a log, walked from each chunk's
/// header up to its free space by record size alone (the test's own reading, not
/// toolmark's).
fn records_before(log: &[u8], cut: usize) -> usize {
    let u32_at = |at: usize| u32::from_le_bytes(log[at..at + 4].try_into().unwrap()) as usize;
    let mut count = 0;
    let mut chunk = 4096;
    while chunk + 512 <= cut.min(log.len()) {
        let free = chunk + u32_at(chunk + 48);
        let mut at = chunk + 512;
        while at + 8 <= free.min(cut) && &log[at..at + 4] == b"**\0\0" {
            let size = u32_at(at + 4);
            if size < 28 || at + size > free.min(cut) {
                break;
            }
            count += 1;
            at += size;
        }
        chunk += 65536;
    }
    count
}

/// A log copied while it was written, or cut by an interrupted collection, ends
/// inside a chunk: that chunk was not read at all (exit 0, the records before the
/// cut lost without a word), and a copy cut at a chunk boundary or after its
/// header read as a shorter log. The records whole before the cut are read
/// (unverified: the chunk's checksum covers what is gone) and the cut is an
/// errors.csv row, exit 2.
#[test]
fn a_log_cut_short_keeps_the_records_before_the_cut_and_says_so() {
    const WMIEXEC: &str = "evtx/attack/EVTX_full_APT_attack_steps/ID4688,5140,5145-WMIexec execution via SMB (GLOBAL).evtx";
    let bytes = std::fs::read(corpus().join(WMIEXEC)).unwrap();
    let record_id = |rows: &[Vec<String>], header: &[String]| -> Vec<String> {
        let at = header.iter().position(|h| h == "record_id").unwrap();
        rows.iter().map(|r| r[at].clone()).collect()
    };
    let whole_dir = scratch_dir("cut-whole");
    let whole_log = whole_dir.join("Security.evtx");
    std::fs::write(&whole_log, &bytes).unwrap();
    scan(&whole_log, &whole_dir.join("out"));
    let (header, _) = read_csv(&whole_dir.join("out/Security/evtx.csv"));
    let whole = record_id(&live_records(&whole_dir.join("out/Security")), &header);
    assert_eq!(whole.len(), records_before(&bytes, bytes.len()));
    for (name, cut, says) in [
        (
            "mid-chunk",
            4096 + 30_000,
            "the log ends 30000 bytes into chunk 0",
        ),
        ("boundary", 4096 + 65_536, "the file header counts 2 chunks"),
        ("header", 4096, "the file header counts 2 chunks"),
    ] {
        let dir = scratch_dir(&format!("cut-{name}"));
        let copy = dir.join("Security.evtx");
        std::fs::write(&copy, &bytes[..cut]).unwrap();
        let out = dir.join("out");
        scan_exiting(&copy, &out, 2);
        let image = out.join("Security");
        let expected = records_before(&bytes, cut);
        assert!(expected > 0 || name == "header", "{name}");
        let got = record_id(&live_records(&image), &header);
        assert_eq!(got, whole[..expected], "{name}");
        let errors = rows(&image, "errors");
        assert!(
            errors.iter().any(|r| r.iter().any(|c| c.contains(says))),
            "{name}: {errors:?}"
        );
    }
}
