//! Records in the unused space of live logs' chunks (libevtx's "recovered
//! records"), checked against libevtx on every real log of the corpus: per log,
//! as many as `evtxinfo` counts, and the ids and written times of those
//! `evtxexport -m recovered` prints, in the same order.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use common::*;

/// "Number of recovered records" that evtxinfo reports for a log.
fn evtxinfo_recovered(log: &Path) -> usize {
    let out = run_ok(oracle("evtxinfo", "libevtx-utils").arg(log));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.trim().strip_prefix("Number of recovered records"))
        .and_then(|v| v.trim_start_matches(['\t', ' ', ':']).trim().parse().ok())
        .unwrap_or_else(|| panic!("no recovered count from evtxinfo for {}", log.display()))
}

/// One recovered record as we reported it.
#[derive(Debug)]
struct Ours {
    offset: u64,
    /// The record header's id and written time (what evtxexport prints).
    header: (u64, String),
    /// Event id, when rendered.
    event_id: Option<u32>,
    /// The event's own `EventRecordID` and `TimeCreated`, when rendered.
    own: Option<(u64, String)>,
    live_copy: bool,
}

#[test]
fn recovered_records_equal_libevtx_on_every_corpus_log() {
    let logs = evtx_corpus_logs();
    assert!(logs.len() > 150, "found {} logs", logs.len());
    // One triage folder holding every log under a name of its own (triage folders
    // refuse symlinks, so they are copied).
    let root = scratch_dir("evtx_recovered");
    let folder = root.join("corpus");
    let dir = folder.join("Windows/System32/winevt/Logs");
    std::fs::create_dir_all(&dir).unwrap();
    let name = |i: usize| format!("Windows/System32/winevt/Logs/{i:03}.evtx");
    for (i, log) in logs.iter().enumerate() {
        std::fs::copy(log, folder.join(name(i))).unwrap();
    }
    let out = root.join("out");
    let result = scan_into(&[folder], &out, &["--artifacts", "evtx"]);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let mut ours: BTreeMap<String, Vec<Ours>> = BTreeMap::new();
    // Rendered ones: evtx.csv rows with a recovered chunk; `file` is the log, or the
    // log followed by the chunk whose templates rendered it.
    let (header, rows) = read_csv(&out.join("corpus/evtx.csv"));
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    for row in rows
        .iter()
        .filter(|r| !r[col("recovered_chunk")].is_empty())
    {
        assert_eq!(row[col("carved")], "true");
        let file = &row[col("file")];
        let log = file[..name(0).len()].to_string();
        let or = |a: usize, b: usize| if row[a].is_empty() { b } else { a };
        ours.entry(log).or_default().push(Ours {
            offset: row[col("offset")].parse().unwrap(),
            header: (
                row[or(col("header_record_id"), col("record_id"))]
                    .parse()
                    .unwrap(),
                row[or(col("header_time"), col("time"))].clone(),
            ),
            event_id: Some(row[col("event_id")].parse().unwrap()),
            own: Some((
                row[col("record_id")].parse().unwrap(),
                row[col("time")].clone(),
            )),
            live_copy: row[col("live_copy")] == "true",
        });
    }
    // Unrendered ones: carved.csv rows named by their log and chunk.
    let (header, rows) = read_csv(&out.join("corpus/carved.csv"));
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    for row in rows.iter().filter(|r| r[col("kind")] == "evtx_record") {
        let named = &row[col("name")];
        assert!(named.contains(" (chunk "), "{row:?}");
        ours.entry(named[..name(0).len()].to_string())
            .or_default()
            .push(Ours {
                offset: row[col("offset")].parse().unwrap(),
                header: (row[col("id")].parse().unwrap(), row[col("time")].clone()),
                event_id: None,
                own: None,
                live_copy: false,
            });
    }
    let (mut total, mut with_any, mut compared, mut rendered, mut copies) = (0, 0, 0, 0, 0);
    let ours_rendered: usize = ours.values().flatten().filter(|r| r.own.is_some()).count();
    let mut rendered_own = Vec::new();
    for (i, log) in logs.iter().enumerate() {
        let at = log.display();
        let mut found = ours.remove(&name(i)).unwrap_or_default();
        found.sort_by_key(|r| r.offset);
        let expected = evtxinfo_recovered(log);
        assert_eq!(found.len(), expected, "{at}: recovered records");
        total += expected;
        with_any += usize::from(expected > 0);
        if expected == 0 {
            continue;
        }
        // evtxexport 20181227 leaves out, without a word, the recovered records it
        // cannot render (their templates went with the chunk's earlier use): those
        // it prints come in file order, so they are a subsequence of ours.
        let mut rest = found.iter();
        for theirs in evtxexport_mode(log, "recovered") {
            let key = (theirs.number, iso_from_evtxexport(&theirs.written));
            let mine = rest
                .find(|r| r.header == key)
                .unwrap_or_else(|| panic!("{at}: {key:?} not found in order"));
            compared += 1;
            if let Some(event_id) = mine.event_id {
                assert_eq!(event_id, theirs.event_id, "{at}: record {}", key.0);
                rendered += 1;
            }
        }
        assert!(found.iter().all(|r| r.offset % 8 == 0), "{at}: offsets");
        for r in found.iter() {
            if let Some(own) = &r.own {
                rendered_own.push((own.clone(), r.live_copy, at.to_string()));
            }
        }
    }
    // A rendered one is a live copy exactly when evtxexport lists a live event with
    // its own id and time (exported logs renumber record headers) in any log of the
    // folder (a log's file can hold another log's old records).
    let live: HashSet<(u64, String)> = logs
        .iter()
        .flat_map(|log| evtxexport_events(log))
        .filter_map(|e| Some((e.record_id?, iso_from_evtxexport_xml(&e.time_created?))))
        .collect();
    for (own, live_copy, at) in &rendered_own {
        assert_eq!(*live_copy, live.contains(own), "{at}: {own:?}");
        copies += usize::from(*live_copy);
    }
    assert!(ours.is_empty(), "rows of no log: {:?}", ours.keys());
    assert_eq!((total, with_any), (4456, 72), "evtxinfo over the corpus");
    eprintln!(
        "{total} recovered in {with_any} logs, {ours_rendered} rendered ({copies} live copies); \
         {compared} compared with evtxexport, {rendered} of them rendered by both"
    );
    assert!(compared >= 1513, "only {compared} compared with evtxexport");
    assert!(rendered >= 880, "only {rendered} rendered and compared");
}

/// A recovered record that a template of its chunk renders without a usable
/// `EventRecordID` or `TimeCreated` was rendered with a template that is not its
/// own: it is leftover slack that could not be rendered, written raw to carved.csv
/// with the id and written time libevtx gives it, and no error (the log is healthy).
#[test]
fn recovered_record_without_system_fields_goes_raw_to_carved() {
    let log = corpus().join(
        "evtx/attack-more/TA0003-Persistence/ID6-Failed to install an Exchange transport agent.evtx",
    );
    let expected: Vec<(String, String)> = evtxexport_mode(&log, "recovered")
        .iter()
        .map(|r| (r.number.to_string(), iso_from_evtxexport(&r.written)))
        .collect();
    // libevtx lists these two (and cannot render them either).
    assert!(
        expected.contains(&("1677738".into(), "2021-06-04T08:32:10.5704688Z".into())),
        "{expected:?}"
    );
    let out = scratch_dir("evtx_recovered_raw").join("out");
    let result = scan_into(std::slice::from_ref(&log), &out, &["--artifacts", "evtx"]);
    let image = out.join("ID6-Failed_to_install_an_Exchange_transport_agent");
    let errors = std::fs::read_to_string(image.join("errors.csv")).unwrap();
    assert_eq!(result.status.code(), Some(0), "{errors}");
    assert_eq!(errors.lines().count(), 1, "{errors}");
    let (header, rows) = read_csv(&image.join("carved.csv"));
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let raw: Vec<(String, String)> = rows
        .iter()
        .filter(|r| r[col("kind")] == "evtx_record")
        .map(|r| (r[col("id")].clone(), r[col("time")].clone()))
        .collect();
    for key in &expected[..2] {
        assert!(raw.contains(key), "{key:?} not raw in carved.csv: {raw:?}");
    }
    // Every recovered record evtxinfo counts is a row, rendered or raw.
    let (header, rows) = read_csv(&image.join("evtx.csv"));
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let rendered = rows
        .iter()
        .filter(|r| !r[col("recovered_chunk")].is_empty())
        .count();
    assert_eq!(rendered + raw.len(), evtxinfo_recovered(&log));
}
