//! A host whose event logs are gone (images/README.md, "win10-cleared"): Prefetch,
//! Amcache, ShimCache, UserAssist, services, tasks, registry keys and the change
//! journal alone must still name the tools that ran, the `missing` column must say
//! the logs were not there, and no evidence may come from an event log. The expected
//! tools are those `images/expected/win10-cleared.facts` decides from the artifacts.
//!
//! And a renamed PsExec recorded only by Amcache (images `triage-renamed`: `svc32.exe`
//! whose OriginalFileName is `psexec.c`) is found as psexec.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::*;

fn read(path: &Path) -> Vec<BTreeMap<String, String>> {
    let (header, rows) = read_csv(path);
    rows.into_iter()
        .map(|r| header.iter().cloned().zip(r).collect())
        .collect()
}

/// The tab-separated lines of the facts file that start with `kind`.
fn facts(kind: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(root().join("images/expected/win10-cleared.facts"))
        .expect("images/expected/win10-cleared.facts");
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').map(str::to_string).collect::<Vec<_>>())
        .filter(|f| f[0] == kind)
        .collect()
}

#[test]
fn tools_are_found_without_event_logs() {
    let out = scratch_dir("scan-cleared");
    let result = scan_into(
        &[built_images().join("win10-cleared.raw")],
        &out,
        &["--jobs", "2"],
    );
    let stderr = String::from_utf8_lossy(&result.stderr);
    // No logs is not a read failure: everything that is there was read.
    assert_eq!(result.status.code(), Some(0), "{stderr}");
    let dir = out.join("win10-cleared");
    assert!(
        read(&dir.join("errors.csv")).is_empty(),
        "errors.csv not empty"
    );
    assert!(read(&dir.join("evtx.csv")).is_empty(), "an event survived");
    assert!(
        read(&dir.join("carved.csv"))
            .iter()
            .all(|r| r["kind"] != "evtx_record"),
        "an event record was carved"
    );

    // The host profile knows no channel: the Sysmon row saying it is absent, and a
    // row saying there is no event log at all.
    let profile = read(&dir.join("host_profile.csv"));
    let channels: Vec<&str> = profile.iter().map(|r| r["channel"].as_str()).collect();
    assert_eq!(channels, ["(Sysmon)", "(event logs)"], "{profile:?}");
    assert_eq!(profile[0]["note"], "not installed");
    assert_eq!(profile[1]["note"], "no event log on the host");

    // Prefetch as sccainfo reads it (run count and last run), for the tools' files.
    let prefetch: BTreeMap<String, BTreeMap<String, String>> = read(&dir.join("prefetch.csv"))
        .into_iter()
        .map(|r| (r["path"].clone(), r))
        .collect();
    for f in facts("prefetch") {
        let row = prefetch
            .get(&f[1])
            .unwrap_or_else(|| panic!("{} not in prefetch.csv", f[1]));
        assert_eq!(row["executable"], f[2], "{}", f[1]);
        assert_eq!(row["run_count"], f[3], "{}", f[1]);
        assert_eq!(row["last_run_1"], f[4], "{}", f[1]);
    }

    let findings = read(&dir.join("findings.csv"));
    let found: BTreeSet<(String, String)> = findings
        .iter()
        .map(|f| (f["tool"].clone(), f["role"].clone()))
        .collect();
    let expected: BTreeSet<(String, String)> = facts("finding")
        .into_iter()
        .map(|f| (f[1].clone(), f[2].clone()))
        .collect();
    let known_false: BTreeSet<(String, String)> = facts("false_positive")
        .into_iter()
        .map(|f| (f[1].clone(), f[2].clone()))
        .collect();
    assert!(expected.len() >= 6, "facts file lists {expected:?}");
    let absent: Vec<_> = expected.difference(&found).collect();
    assert!(absent.is_empty(), "expected but not found: {absent:?}");
    let unexplained: Vec<_> = found
        .difference(&expected)
        .filter(|f| !known_false.contains(*f))
        .collect();
    assert!(
        unexplained.is_empty(),
        "found, but no artifact of the facts file shows it: {unexplained:?}"
    );
    for f in &findings {
        assert_eq!(f["host"], "WIN10-APTSIM");
        // The reason says the logs could not speak.
        assert!(
            f["reason"].contains("no event log on the host"),
            "{}: {}",
            f["tool"],
            f["reason"]
        );
        // Expected event-log traces that are missing say why they are absent (a fact
        // witnessed by another artifact, like a task seen in TaskCache, is not missing).
        assert!(
            f["missing"].is_empty() || f["missing"].contains("(log not present)"),
            "{} {}: missing does not say the log is absent: {}",
            f["tool"],
            f["role"],
            f["missing"]
        );
        // No log is left to have recorded a clear: absent, not cleared.
        assert!(!f["missing"].contains("log cleared"), "{}", f["missing"]);
    }

    // Evidence comes only from artifacts that outlive the logs.
    let evidence = read(&dir.join("evidence.csv"));
    assert!(!evidence.is_empty());
    let artifacts: BTreeSet<&str> = evidence.iter().map(|e| e["artifact"].as_str()).collect();
    for a in &artifacts {
        assert!(
            [
                "prefetch",
                "amcache",
                "shimcache",
                "bam",
                "userassist",
                "services",
                "tasks",
                "registry",
                "mft",
                "usn"
            ]
            .contains(a),
            "evidence from {a}"
        );
    }
    for (tool, role) in &expected {
        let kinds: BTreeSet<&str> = evidence
            .iter()
            .filter(|e| &e["tool"] == tool && &e["role"] == role)
            .map(|e| e["artifact"].as_str())
            .collect();
        eprintln!("{tool} {role}: evidence from {kinds:?}");
    }
    // The Prefetch-backed tools cite their Prefetch file.
    for (tool, role, pf) in [
        ("psexec", "destination", "PSEXESVC.EXE-AD70946C.pf"),
        ("schtasks", "source", "SCHTASKS.EXE-8B6144A9.pf"),
        ("wmic", "source", "WMIC.EXE-98223A30.pf"),
        ("wevtutil", "source", "WEVTUTIL.EXE-1E154F39.pf"),
    ] {
        assert!(
            evidence.iter().any(|e| e["tool"] == tool
                && e["role"] == role
                && e["artifact"] == "prefetch"
                && e["file"].ends_with(pf)),
            "{tool} {role} does not cite {pf}"
        );
    }
}

#[test]
fn a_renamed_psexec_is_found_through_amcache() {
    let out = scratch_dir("scan-renamed");
    let result = scan_into(&[built_images().join("triage-renamed")], &out, &[]);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(0), "{stderr}");
    let dir = out.join("triage-renamed");

    let amcache = read(&dir.join("amcache.csv"));
    assert_eq!(amcache.len(), 1, "{amcache:?}");
    let entry = &amcache[0];
    assert_eq!(entry["path"], "c:\\users\\x\\svc32.exe");
    assert_eq!(entry["name"], "svc32.exe");
    assert_eq!(entry["original_file_name"], "psexec.c");
    assert_eq!(entry["bin_file_version"], "2.34.0.0");
    assert_eq!(entry["binary_type"], "pe32_i386");
    assert_eq!(entry["language"], "1033");
    assert_eq!(entry["usn"], (0x0C81_2340u64).to_string());
    assert_eq!(entry["is_os_component"], "");

    let findings = read(&dir.join("findings.csv"));
    let psexec: Vec<_> = findings.iter().filter(|f| f["tool"] == "psexec").collect();
    assert_eq!(psexec.len(), 1, "{findings:?}");
    assert_eq!(psexec[0]["role"], "source");
    let evidence = read(&dir.join("evidence.csv"));
    assert!(
        evidence.iter().any(|e| e["tool"] == "psexec"
            && e["artifact"] == "amcache"
            && e["locator"].contains("svc32.exe")),
        "{evidence:?}"
    );

    // The original name is in observations.jsonl, so `toolmark match` finds it again.
    let before = std::fs::read(dir.join("findings.csv")).unwrap();
    std::fs::remove_file(dir.join("findings.csv")).unwrap();
    run_ok(toolmark().arg("match").arg(&out));
    assert_eq!(std::fs::read(dir.join("findings.csv")).unwrap(), before);
}
