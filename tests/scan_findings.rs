//! findings.csv of the built win10-aptsim image: the tools its Prefetch and event
//! logs show are found, each with evidence that resolves to real rows of the other
//! tables, and none without an anchor.

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

#[test]
fn win10_aptsim_findings_are_backed_by_real_rows() {
    let out = scratch_dir("scan-findings");
    let result = scan_into(
        &[built_images().join("win10-aptsim.E01")],
        &out,
        &["--jobs", "2"],
    );
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let dir = out.join("win10-aptsim");
    let findings = read(&dir.join("findings.csv"));
    let found: BTreeSet<(String, String)> = findings
        .iter()
        .map(|f| (f["tool"].clone(), f["role"].clone()))
        .collect();
    // The Prefetch folder holds AT.EXE, SCHTASKS.EXE, PSEXESVC.EXE, NET.EXE,
    // WEVTUTIL.EXE and WMIC.EXE files; Sysmon logged their command lines.
    for (tool, role) in [
        ("schtasks", "source"),
        ("psexec", "destination"),
        ("net_user", "source"),
        ("wevtutil", "source"),
        ("wmic", "source"),
    ] {
        assert!(
            found.contains(&(tool.to_string(), role.to_string())),
            "{tool} {role} not in {found:?}"
        );
    }
    for f in &findings {
        let anchors: u64 = f["anchors"].split(' ').next().unwrap().parse().unwrap();
        assert!(anchors >= 1, "finding without an anchor: {f:?}");
        assert!(["confirmed", "likely", "possible"].contains(&f["confidence"].as_str()));
        assert_eq!(f["host"], "WIN10-APTSIM");
    }

    // Every evidence row points to a row that exists in its table.
    let evidence = read(&dir.join("evidence.csv"));
    assert!(evidence.len() >= findings.len());
    let evtx: BTreeSet<(String, String)> = read(&dir.join("evtx.csv"))
        .into_iter()
        .map(|r| {
            // Carved records are located by their chunk's offset too.
            let locator = match r["offset"].as_str() {
                "" => format!("record {}", r["record_id"]),
                chunk => format!("chunk {chunk} record {}", r["record_id"]),
            };
            (r["file"].clone(), locator)
        })
        .collect();
    let prefetch: BTreeSet<String> = read(&dir.join("prefetch.csv"))
        .into_iter()
        .map(|r| r["path"].clone())
        .collect();
    let mut checked = 0;
    for e in &evidence {
        match e["artifact"].as_str() {
            "evtx" => assert!(
                evtx.contains(&(e["file"].clone(), e["locator"].clone())),
                "{e:?}"
            ),
            "prefetch" => assert!(prefetch.contains(&e["file"]), "{e:?}"),
            _ => continue,
        }
        checked += 1;
    }
    assert!(checked > 20, "{checked} evidence rows checked");
    let psexec_prefetch = evidence.iter().any(|e| {
        e["tool"] == "psexec" && e["artifact"] == "prefetch" && e["file"].contains("PSEXESVC.EXE")
    });
    assert!(psexec_prefetch, "PSEXESVC Prefetch is PsExec evidence");

    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["logging"]["sysmon"], true);
    // Channels as the matcher sees them: live records and carved ones no live log
    // holds (the cleared Security log survives only carved).
    let channels: BTreeSet<String> = read(&dir.join("evtx.csv"))
        .into_iter()
        .filter(|r| r["carved"] == "false" || r["live_copy"] == "false")
        .map(|r| r["channel"].to_lowercase())
        .collect();
    assert_eq!(
        manifest["logging"]["channels"].as_u64(),
        Some(channels.len() as u64)
    );
    let profile = read(&dir.join("host_profile.csv"));
    assert!(profile.iter().any(|p| p["channel"] == "Security"));
    assert!(profile
        .iter()
        .any(|p| p["channel"] == "(Sysmon)" && p["note"] == "present"));
}

/// Benign logs only: a copy of the corpus robustness log of an ordinary workstation
/// gives no finding at all.
#[test]
fn a_host_with_only_benign_records_yields_no_findings() {
    let root = scratch_dir("scan-benign");
    let _ = std::fs::remove_dir_all(&root);
    let triage = root.join("benign-host");
    let logs = triage.join("Windows/System32/winevt/Logs");
    std::fs::create_dir_all(&logs).unwrap();
    // Application-log noise from the aptsim host before the attack started: Security-SPP
    // licensing and WMI, nothing a tool rule names.
    let application = corpus().join("hosts/win10-aptsim/Windows/System32/winevt/Logs/Microsoft-Windows-Storsvc%4Diagnostic.evtx");
    std::fs::copy(
        application,
        logs.join("Microsoft-Windows-Storsvc%4Diagnostic.evtx"),
    )
    .unwrap();
    let out = root.join("out");
    let result = scan_into(std::slice::from_ref(&triage), &out, &[]);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let findings = read(&out.join("benign-host/findings.csv"));
    assert!(findings.is_empty(), "{findings:?}");
    let events = read(&out.join("benign-host/evtx.csv"));
    assert!(!events.is_empty());
}
