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
    let root = scratch_dir("lateral");
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
    // The unused space of the log's chunk keeps one more (record 346938), which
    // libevtx counts as recovered but cannot render (tests/evtx_recovered.rs
    // checks those counts); ours is rendered with the chunk's templates of the same
    // ids, and its address and account are in the record's own bytes.
    let (header, rows) = read_csv(&out.join("srvdefender01/evtx.csv"));
    let cell =
        |row: &Vec<String>, n: &str| row[header.iter().position(|h| h == n).unwrap()].clone();
    let recovered: Vec<&Vec<String>> = rows
        .iter()
        .filter(|r| !cell(r, "recovered_chunk").is_empty() && cell(r, "live_copy") == "false")
        .filter(|r| cell(r, "event_id") == "4624" && cell(r, "LogonType") == "3")
        .collect();
    assert_eq!(recovered.len(), 1);
    let bytes = std::fs::read(&log).unwrap();
    let at: usize = cell(recovered[0], "offset").parse().unwrap();
    assert_eq!(&bytes[at..at + 4], b"**\0\0");
    let size = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
    let record = &bytes[at..at + size];
    let utf16 = |s: &str| -> Vec<u8> { s.encode_utf16().flat_map(u16::to_le_bytes).collect() };
    let ip = cell(recovered[0], "IpAddress");
    let user = cell(recovered[0], "TargetUserName");
    for text in [&ip, &user] {
        assert!(
            record.windows(text.len() * 2).any(|w| w == utf16(text)),
            "{text}"
        );
    }
    let account = format!("{}\\{user}", cell(recovered[0], "TargetDomainName"));
    *expected.entry((ip, account)).or_default() += 1;

    // The triage folder has no SYSTEM hive: the host is what its records call it.
    let mut computers: BTreeMap<String, usize> = BTreeMap::new();
    for r in evtxexport(&log) {
        *computers.entry(r.computer).or_default() += 1;
    }
    let computer = computers.iter().max_by_key(|(_, n)| **n).unwrap().0.clone();
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
            assert_eq!(&row[col("destination_host")], computer.as_str());
            assert_eq!(&row[col("destination_image")], "srvdefender01");
            assert_eq!(&row[col("destination_resolved")], "log");
            // The destination's findings name PsExec (PSEXESVC service, ADMIN$,
            // labelled psexec:destination in eval/labels.toml) in the same seconds.
            assert_eq!(&row[col("tools")], "psexec:destination");
            assert_eq!(&row[col("filtered")], "");
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
    assert!(dot.starts_with("digraph") && dot.contains(&format!("-> \"{computer}\"")));
}

/// The built host's only "edges" are Windows using explicit credentials against
/// itself: its window manager, font drivers and the logged-on user, to localhost.
/// None of them is movement; all of them stay available with `--all-edges`.
#[test]
fn windows_own_logons_are_filtered_but_kept() {
    let log = corpus().join("hosts/win10-aptsim/Windows/System32/winevt/Logs/Security.evtx");
    let root = scratch_dir("lateral-own");
    let _ = std::fs::remove_dir_all(&root);
    let triage = root.join("host");
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
    let (header, rows) = read_csv(&out.join("lateral_movement.csv"));
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    for row in &rows {
        let account = &row[col("account")];
        assert!(
            !account.contains("DWM-")
                && !account.contains("UMFD-")
                && row[col("destination_host")] != "LOCALHOST",
            "not movement: {row:?}"
        );
        assert_eq!(&row[col("filtered")], "");
    }

    // Oracle: the 4648 records evtxexport prints, per target server and account
    // (strings 9, 7 and 6).
    let mut expected: BTreeMap<(String, String, String), u64> = BTreeMap::new();
    for r in evtxexport(&log).into_iter().filter(|r| r.event_id == 4648) {
        let server = r.strings[8].to_ascii_uppercase();
        let account = format!("{}\\{}", r.strings[6], r.strings[5]);
        let user = r.strings[5].to_ascii_uppercase();
        let mut why = Vec::new();
        if server == "LOCALHOST" {
            why.push("loopback");
        }
        if user.starts_with("DWM-") || user.starts_with("UMFD-") {
            why.push("system account");
        }
        *expected
            .entry((server, account, why.join("; ")))
            .or_default() += 1;
    }
    assert!(
        expected.keys().any(|k| k.1.contains("DWM-")),
        "{expected:?}"
    );
    assert!(
        expected.keys().all(|k| !k.2.is_empty()),
        "the log has no real 4648 movement"
    );

    run_ok(toolmark().arg("match").arg(&out).arg("--all-edges"));
    let (header, rows) = read_csv(&out.join("lateral_movement.csv"));
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let mut ours: BTreeMap<(String, String, String), u64> = BTreeMap::new();
    for row in rows
        .iter()
        .filter(|r| r[col("kind")] == "explicit credentials")
    {
        let key = (
            row[col("destination_host")].clone(),
            row[col("account")].clone(),
            row[col("filtered")].clone(),
        );
        *ours.entry(key).or_default() += row[col("count")].parse::<u64>().unwrap();
    }
    assert_eq!(ours, expected);
}
