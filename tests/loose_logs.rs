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
        Some(0),
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
