//! A batch split over machines and resumed after a crash: `scan --shard`, `merge`,
//! and what a killed batch leaves behind. Each must give what one uninterrupted
//! scan of the same inputs gives, file for file (timings aside).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;

/// Small triage folders whose logs link hosts: fs03's 4648 names fs03vuln, and the
/// fs03vuln folder holds a log whose records say they are fs03vuln's.
const LOGS: [(&str, &str); 4] = [
    ("fs03", "T1021.002-SMB Windows Admin Shares/ID4688-4648 Lateral movement with net use.evtx"),
    ("fs03vuln", "T1003-Credential dumping/ID4656, 5145, 4674-Impacket secret dump via SMB.evtx"),
    ("rdp-host", "T1021.001-Remote Desktop Protocol/ID4688,4778,4779 RDP hijack direct.evtx"),
    ("srvdefender01", "T1021.002-SMB Windows Admin Shares/ID4688,4697,5140-5145 PSexec remote execution + admin share.evtx"),
];

fn scan(inputs: &[PathBuf], out: &Path, extra: &[&str]) -> std::process::Output {
    toolmark()
        .arg("scan")
        .args(inputs)
        .arg("-o")
        .arg(out)
        .args(["-q", "--artifacts", "evtx,registry,amcache"])
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn shards_merge_into_what_one_scan_writes() {
    let root = scratch_dir("shards").join("merge");
    let _ = std::fs::remove_dir_all(&root);
    let mut inputs = triage_folders(&root.join("in"), &LOGS);
    inputs.push(built_images().join("triage-renamed"));
    let single = root.join("single");
    assert_eq!(scan(&inputs, &single, &[]).status.code(), Some(0));

    let shards: Vec<PathBuf> = (0..2).map(|i| root.join(format!("shard-{i}"))).collect();
    for (i, out) in shards.iter().enumerate() {
        let shard = format!("{i}/2");
        assert_eq!(
            scan(&inputs, out, &["--shard", &shard]).status.code(),
            Some(0)
        );
    }
    // fs03 and fs03vuln are neighbours in the sorted list, so in different shards:
    // the edge between them can only be resolved by the merge.
    assert_ne!(
        shards[0].join("fs03").is_dir(),
        shards[0].join("fs03vuln").is_dir()
    );
    let refused = toolmark()
        .arg("merge")
        .arg(&shards[0])
        .arg("-o")
        .arg(root.join("half"))
        .output()
        .unwrap();
    assert_ne!(refused.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("shards missing: 1/2"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let merged = root.join("merged");
    run_ok(
        toolmark()
            .arg("merge")
            .args(&shards)
            .arg("-o")
            .arg(&merged)
            .arg("-q"),
    );
    assert_same_output(&merged, &single, "merged shards");

    // The cross-host edge the folder names were built for, as evtxexport shows the
    // 4648's target server (fs03vuln.offsec.lan) in fs03's log.
    let (header, rows) = read_csv(&merged.join("lateral_movement.csv"));
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let target = evtxexport(&corpus().join("evtx/attack").join(LOGS[0].1))
        .into_iter()
        .find(|r| r.event_id == 4648)
        .map(|r| r.strings[8].clone())
        .unwrap();
    assert_eq!(target, "fs03vuln.offsec.lan");
    assert!(
        rows.iter().any(|r| r[col("source_image")] == "fs03"
            && r[col("destination_image")] == "fs03vuln"
            && r[col("kind")] == "explicit credentials"),
        "{rows:?}"
    );
}

/// Seconds since the epoch at which a file was last modified, to the nanosecond.
fn modified(path: &Path) -> std::time::SystemTime {
    std::fs::metadata(path).unwrap().modified().unwrap()
}

#[test]
fn a_killed_batch_resumes_without_rescanning_finished_images() {
    let root = scratch_dir("shards").join("resume");
    let _ = std::fs::remove_dir_all(&root);
    let mut inputs = triage_folders(&root.join("in"), &LOGS[..1]);
    // The image to kill the batch in: big enough (two of the corpus host's logs,
    // 7.5 MB) to be caught half-way.
    let big = root.join("in/host-big/Windows/System32/winevt/Logs");
    std::fs::create_dir_all(&big).unwrap();
    let host_logs = corpus().join("hosts/win10-aptsim/Windows/System32/winevt/Logs");
    for log in [
        "Security.evtx",
        "Microsoft-Windows-Sysmon%4Operational.evtx",
    ] {
        std::fs::copy(host_logs.join(log), big.join(log)).unwrap();
    }
    inputs.push(root.join("in/host-big"));
    inputs.extend(triage_folders(&root.join("in"), &LOGS[3..]));
    let whole = root.join("whole");
    assert_eq!(
        scan(&inputs, &whole, &["--jobs", "1"]).status.code(),
        Some(0)
    );

    let out = root.join("out");
    let mut caught = false;
    for _attempt in 0..3 {
        let _ = std::fs::remove_dir_all(&out);
        let mut child = Command::new(env!("CARGO_BIN_EXE_toolmark"))
            .arg("scan")
            .args(&inputs)
            .arg("-o")
            .arg(&out)
            .args(["-q", "--artifacts", "evtx,registry,amcache", "--jobs", "1"])
            .spawn()
            .unwrap();
        let started = Instant::now();
        // One thread scans the images in order: kill it once fs03 is finished and
        // host-big has begun.
        while started.elapsed() < Duration::from_secs(60) {
            if out.join("fs03/manifest.json").is_file() && out.join("host-big/evtx.csv").is_file() {
                child.kill().unwrap();
                break;
            }
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let _ = child.wait();
        if !out.join("host-big/manifest.json").exists() && out.join("host-big").is_dir() {
            caught = true;
            break;
        }
    }
    assert!(caught, "the batch was never caught inside host-big");
    assert!(!out.join("manifest.json").exists(), "killed before the end");
    let kept = modified(&out.join("fs03/manifest.json"));
    let observations = modified(&out.join("fs03/observations.jsonl"));

    // Without --force: resumed, not refused.
    let resumed = scan(&inputs, &out, &["--jobs", "1"]);
    assert_eq!(
        resumed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    assert_eq!(
        modified(&out.join("fs03/manifest.json")),
        kept,
        "fs03 not rescanned"
    );
    assert_eq!(modified(&out.join("fs03/observations.jsonl")), observations);
    assert_same_output(&out, &whole, "resumed batch");

    // Other settings are another batch: every image is scanned again.
    let changed = scan(&inputs, &out, &["--jobs", "1", "--raw-cells"]);
    assert_eq!(changed.status.code(), Some(0));
    assert_ne!(modified(&out.join("fs03/manifest.json")), kept);
}

#[test]
fn the_kubernetes_manifests_are_valid_jobs() {
    // kubectl's client-side dry run needs an API server for its schema; the
    // official client's models carry the same OpenAPI definitions offline.
    let manifests: Vec<PathBuf> = ["scan-job.yaml", "merge-job.yaml"]
        .iter()
        .map(|m| root().join("deploy/kubernetes").join(m))
        .collect();
    let check = root().join("deploy/kubernetes/check.py");
    let out = Command::new("python3")
        .arg(&check)
        .args(&manifests)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The check can fail: a misspelt field and a count that is not the Job's.
    let broken = scratch_dir("shards").join("broken-job.yaml");
    let text = std::fs::read_to_string(&manifests[0]).unwrap();
    for bad in [
        text.replace("restartPolicy:", "restartPolicyy:"),
        text.replace("value: \"4\"", "value: \"3\""),
    ] {
        std::fs::write(&broken, bad).unwrap();
        let out = Command::new("python3")
            .arg(&check)
            .arg(&broken)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
    }
}
