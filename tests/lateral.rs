//! lateral_movement.csv: network logons recorded on a destination become edges
//! from the source address, counted like libevtx's evtxexport shows them.

mod common;

use std::collections::BTreeMap;

use common::*;

#[test]
fn network_logons_of_a_real_log_become_edges() {
    let log = corpus().join(
        "evtx/attack/T1021.002-SMB Windows Admin Shares/ID4688,4697,5140-5145 PSexec remote execution + admin share.evtx",
    );
    let root = cache_dir("lateral");
    let _ = std::fs::remove_dir_all(&root);
    let triage = root.join("srvdefender01");
    std::fs::create_dir_all(triage.join("Windows/System32/winevt/Logs")).unwrap();
    std::fs::copy(
        &log,
        triage.join("Windows/System32/winevt/Logs/Security.evtx"),
    )
    .unwrap();
    let out = root.join("out");
    scan_into(
        std::slice::from_ref(&triage),
        &out,
        &["--artifacts", "evtx"],
    );

    // Oracle: 4624 records with logon type 3 or 10 (string 9) from a remote address
    // (string 19), account = string 7 \ string 6, as evtxexport prints them.
    let mut expected: BTreeMap<(String, String), u64> = BTreeMap::new();
    for r in evtxexport(&log) {
        if r.event_id != 4624 || !matches!(r.strings.get(8).map(String::as_str), Some("3" | "10")) {
            continue;
        }
        let ip = r.strings[18].clone();
        if matches!(ip.as_str(), "-" | "127.0.0.1" | "::1") {
            continue;
        }
        let account = format!("{}\\{}", r.strings[6], r.strings[5]);
        *expected.entry((ip, account)).or_default() += 1;
    }
    assert!(!expected.is_empty(), "the log has remote network logons");

    let mut reader = csv::Reader::from_path(out.join("lateral_movement.csv")).unwrap();
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let mut ours: BTreeMap<(String, String), u64> = BTreeMap::new();
    for row in reader.records().map(Result::unwrap) {
        if &row[col("kind")] == "logon" {
            assert_eq!(&row[col("destination_host")], "srvdefender01");
            assert_eq!(&row[col("destination_image")], "srvdefender01");
            // The destination's findings name PsExec (PSEXESVC service, ADMIN$).
            assert_eq!(&row[col("tools")], "psexec");
            *ours
                .entry((
                    row[col("source_ip")].to_string(),
                    row[col("account")].to_string(),
                ))
                .or_default() += row[col("count")].parse::<u64>().unwrap();
        }
    }
    assert_eq!(ours, expected);
    let dot = std::fs::read_to_string(out.join("graph.dot")).unwrap();
    assert!(dot.starts_with("digraph") && dot.contains("-> \"srvdefender01\""));
}
