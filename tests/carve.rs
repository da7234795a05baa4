//! Carving unallocated clusters of the built win10-aptsim image, whose recipe
//! (images/build.sh) deletes two corpus logs, clears the host's Security log the way
//! the event log service does, and deletes two Prefetch files, a user hive and two
//! `$MFT` extracts. Each recovery is compared with an independent reading of the
//! original file: evtxexport, sccainfo, regfexport/hivexml, and the corpus's own
//! `fls` listings. Damaged or pattern-filled space must yield nothing invented.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use common::*;
use toolmark::collect::carve::{self, Hit};

/// The corpus logs images/build.sh writes to the volume and deletes (DELETED_LOGS).
fn deleted_logs() -> Vec<PathBuf> {
    let attack = corpus().join("evtx/attack");
    vec![
        attack.join("T1053.005-Scheduled Task/ID4698-4699-Fast created & deleted task by ATexec (susp. arg.).evtx"),
        attack.join("T1070.001-Clear Windows event logs/ID104-1102-Event log cleared.evtx"),
    ]
}

/// The host's Security log before images/build.sh cleared it (CLEARED_LOG).
fn cleared_original() -> PathBuf {
    corpus().join("hosts/win10-aptsim/Windows/System32/winevt/Logs/Security.evtx")
}

/// Size of the empty log written over the cleared one (EMPTY_LOG): its header and
/// first chunk are gone, the rest of its chunks lie in freed clusters.
const EMPTY_LOG_BYTES: usize = 69_632;

/// One scan of the E01 with every artifact, shared by the tests of this file.
fn scanned() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let out = scratch_dir("carve-win10");
        let result = scan_into(&[built_images().join("win10-aptsim.E01")], &out, &[]);
        assert!(
            result.status.success(),
            "{}",
            String::from_utf8_lossy(&result.stderr)
        );
        out.join("win10-aptsim")
    })
}

/// Rows of `table` as maps from column name to value.
fn table(dir: &Path, name: &str) -> Vec<BTreeMap<String, String>> {
    let (header, rows) = read_csv(&dir.join(format!("{name}.csv")));
    rows.into_iter()
        .map(|r| header.iter().cloned().zip(r).collect())
        .collect()
}

/// (EventRecordID, TimeCreated) of each event of a log, as `evtxexport -f xml`
/// prints them, in its order: what rendered records in evtx.csv carry. Exported
/// logs (the deleted attack samples) renumber their headers, so these differ.
fn event_keys_in_order(log: &Path) -> Vec<(u64, String)> {
    evtxexport_events(log)
        .iter()
        .map(|e| {
            (
                e.record_id.unwrap(),
                iso_from_evtxexport_xml(e.time_created.as_deref().unwrap()),
            )
        })
        .collect()
}

fn event_keys(log: &Path) -> BTreeSet<(u64, String)> {
    event_keys_in_order(log).into_iter().collect()
}

#[test]
fn cleared_and_deleted_logs_are_recovered_exactly() {
    // Records of intact chunks (the others were rendered with borrowed templates).
    let carved: Vec<_> = table(scanned(), "evtx")
        .into_iter()
        .filter(|r| carved_here(r) && !r["file"].contains("templates of"))
        .collect();
    let found: BTreeSet<(u64, String)> = carved
        .iter()
        .map(|r| (r["record_id"].parse().unwrap(), r["time"].clone()))
        .collect();
    let mut expected = BTreeSet::new();
    for log in deleted_logs() {
        expected.extend(event_keys(&log));
    }
    // The cleared log: everything but its first chunk, which the empty log
    // overwrote (evtxexport of the original's first 69 632 bytes lists those).
    let original = std::fs::read(cleared_original()).unwrap();
    let head = scratch_dir("carve-cleared").join("security-head.evtx");
    std::fs::write(&head, &original[..EMPTY_LOG_BYTES]).unwrap();
    let overwritten = event_keys(&head);
    let all = event_keys(&cleared_original());
    assert_eq!(all.len(), 5337, "evtxinfo: 5337 records in the original");
    assert_eq!(overwritten.len(), 92, "records of the first chunk");
    expected.extend(all.difference(&overwritten).cloned());

    assert_eq!(carved.len(), found.len(), "each record carved once");
    let missing: Vec<_> = expected.difference(&found).take(5).collect();
    let invented: Vec<_> = found.difference(&expected).take(5).collect();
    assert!(
        missing.is_empty() && invented.is_empty(),
        "missing {missing:?}, invented {invented:?}"
    );
    // The unused space of those chunks holds older records, which libevtx counts
    // as recovered (none of them in the overwritten first chunk).
    // Raw in carved.csv, or rendered with another chunk's templates.
    let stale = table(scanned(), "carved")
        .iter()
        .filter(|r| r["kind"] == "evtx_record" && r["name"].is_empty())
        .count()
        + borrowed_rows(scanned()).len();
    assert_eq!(evtxinfo_recovered(&head), 0);
    let recovered: usize = deleted_logs()
        .iter()
        .chain([&cleared_original()])
        .map(|log| evtxinfo_recovered(log))
        .sum();
    assert_eq!(stale, recovered, "29 + 94 + 0 (evtxinfo)");
    // Every chunk found here was intact, and no live log holds these records.
    assert!(carved
        .iter()
        .all(|r| r["chunk_verified"] == "true" && r["live_copy"] == "false"));
    // Field by field for a sample: the computer and event id evtxexport shows.
    let by_key: BTreeMap<(u64, String), &BTreeMap<String, String>> = carved
        .iter()
        .map(|r| ((r["record_id"].parse().unwrap(), r["time"].clone()), r))
        .collect();
    let exported = evtxexport(&cleared_original());
    let events = event_keys_in_order(&cleared_original());
    assert_eq!(exported.len(), events.len());
    for (record, key) in exported.iter().zip(events).step_by(97) {
        if let Some(row) = by_key.get(&key) {
            assert_eq!(row["event_id"], record.event_id.to_string());
            assert_eq!(row["computer"], record.computer);
        }
    }
}

/// "Number of recovered records" that evtxinfo reports: records libevtx finds in
/// the unused space of the log's chunks.
fn evtxinfo_recovered(log: &Path) -> usize {
    let out = run_ok(oracle("evtxinfo", "libevtx-utils").arg(log));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.trim().strip_prefix("Number of recovered records"))
        .and_then(|v| v.trim_start_matches(['\t', ' ', ':']).trim().parse().ok())
        .unwrap()
}

/// An evtx.csv row carved from unallocated space (or the whole image), not one
/// recovered from a live log's unused chunk space (tests/evtx_recovered.rs); their
/// carved.csv rows are those without a `name`.
fn carved_here(row: &BTreeMap<String, String>) -> bool {
    row["carved"] == "true" && row["recovered_chunk"].is_empty()
}

/// evtx.csv rows of lone records rendered with another chunk's templates.
fn borrowed_rows(dir: &Path) -> Vec<BTreeMap<String, String>> {
    table(dir, "evtx")
        .into_iter()
        .filter(|r| carved_here(r) && r["file"].contains("templates of"))
        .collect()
}

/// The EventData field names of every event id in a log, as `evtxexport -f xml`
/// shows them.
fn field_names_by_event(log: &Path) -> BTreeMap<String, BTreeSet<Vec<String>>> {
    let out = run_ok(
        oracle("evtxexport", "libevtx-utils")
            .args(["-f", "xml"])
            .arg(log),
    );
    let xml = String::from_utf8_lossy(&out.stdout);
    let mut names: BTreeMap<String, BTreeSet<Vec<String>>> = BTreeMap::new();
    for event in xml.split("</Event>") {
        let Some(at) = event.find("<EventID") else {
            continue;
        };
        let tail = &event[at..];
        let id: String = tail[tail.find('>').unwrap() + 1..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let fields = event
            .split("<Data Name=\"")
            .skip(1)
            .map(|s| s[..s.find('"').unwrap()].to_string())
            .collect();
        names.entry(id).or_default().insert(fields);
    }
    names
}

/// Records of the cleared log's chunks found in their unused space, whose own
/// templates are gone, are rendered with the templates of another chunk of the
/// same id: their field names are those libevtx shows for the same event id in the
/// original log, and every text value comes from the record's own bytes.
#[test]
fn lone_records_rendered_with_borrowed_templates_are_faithful() {
    let rows = borrowed_rows(scanned());
    assert!(rows.len() >= 5, "{} rendered", rows.len());
    let names = field_names_by_event(&cleared_original());
    let raw = std::fs::read(built_images().join("win10-aptsim.raw")).unwrap();
    let partition = first_ntfs_offset(&built_images().join("win10-aptsim.raw"));
    for row in &rows {
        let fields: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&row["event_data"]).unwrap();
        let order: Vec<String> = fields.keys().cloned().collect();
        let known = &names[&row["event_id"]];
        assert!(
            known.iter().any(|n| {
                let mut a = n.clone();
                let mut b = order.clone();
                a.sort();
                b.sort();
                a == b
            }),
            "event {}: fields {order:?} not among {known:?}",
            row["event_id"]
        );
        let at = (partition + row["offset"].parse::<u64>().unwrap()) as usize;
        let size = u32::from_le_bytes(raw[at + 4..at + 8].try_into().unwrap()) as usize;
        let record = &raw[at..at + size];
        for value in fields.values().filter_map(|v| v.as_str()) {
            // SIDs, GUIDs and numbers are stored in binary and rendered as text.
            if value.len() < 4 || ["S-1-", "0x", "{"].iter().any(|p| value.starts_with(p)) {
                continue;
            }
            let utf16: Vec<u8> = value.encode_utf16().flat_map(u16::to_le_bytes).collect();
            assert!(
                record.windows(utf16.len()).any(|w| w == utf16.as_slice()),
                "{value:?} is not in record {} at {}",
                row["record_id"],
                row["offset"]
            );
        }
    }
}

/// Volume offsets of the chunks of the two deleted logs (one chunk each).
fn deleted_log_chunks(raw: &Path) -> (Vec<u64>, u64) {
    let (volume, partition) = open_first_ntfs(raw);
    let found = Mutex::new(Vec::new());
    carve::unallocated(
        &volume,
        &|_, hit| {
            if let Hit::Chunk { offset, data, .. } = hit {
                // Kept whole, to be told apart by comparison with the originals.
                found.lock().unwrap().push((offset, data.to_vec()));
            }
        },
        &carve::any_order,
    )
    .unwrap();
    let originals: Vec<Vec<u8>> = deleted_logs()
        .iter()
        .map(|p| std::fs::read(p).unwrap()[4096..4096 + 65536].to_vec())
        .collect();
    let mut offsets: Vec<u64> = found
        .into_inner()
        .unwrap()
        .into_iter()
        .filter(|(_, data)| originals.contains(data))
        .map(|(o, _)| o)
        .collect();
    offsets.sort();
    (offsets, partition)
}

/// A copy of the raw image with `change` applied at volume offset `at`.
fn damaged_copy(name: &str, partition: u64, at: u64, change: impl Fn(&mut [u8])) -> PathBuf {
    let copy = scratch_dir(name).join("damaged.raw");
    let mut bytes = std::fs::read(built_images().join("win10-aptsim.raw")).unwrap();
    change(&mut bytes[(partition + at) as usize..]);
    write_sparse(&copy, &bytes);
    copy
}

#[test]
fn damaged_chunks_are_flagged_and_headerless_records_kept_raw() {
    let raw = built_images().join("win10-aptsim.raw");
    let (chunks, partition) = deleted_log_chunks(&raw);
    assert_eq!(chunks.len(), 2, "both deleted logs are whole in free space");
    let atexec = event_keys(&deleted_logs()[0]);
    let cleared = event_keys(&deleted_logs()[1]);

    // 1. One flipped byte in the first record of a chunk: its checksum fails, so
    //    whatever is rendered from it is flagged unverified, and every record id
    //    and time still comes from the original.
    let copy = damaged_copy("carve-flipped", partition, chunks[0] + 600, |b| {
        b[0] ^= 0xFF
    });
    let out = scratch_dir("carve-flipped-out");
    scan_into(&[copy], &out, &["--artifacts", "evtx,carve"]);
    let rows = table(&out.join("damaged"), "evtx");
    let from_chunk: Vec<_> = rows
        .iter()
        .filter(|r| r["offset"] == chunks[0].to_string())
        .collect();
    let original = if from_chunk
        .iter()
        .any(|r| atexec.contains(&(r["record_id"].parse().unwrap(), r["time"].clone())))
    {
        &atexec
    } else {
        &cleared
    };
    assert!(from_chunk.iter().all(|r| r["chunk_verified"] == "false"));
    // The flipped byte (in the first record's template, which records of the same
    // event share) can cost those records their own id and time: they then have
    // the header's id, no time, and a line in errors.csv each.
    let errors = table(&out.join("damaged"), "errors");
    for r in &from_chunk {
        if r["time"].is_empty() {
            let header_ids: BTreeSet<u64> = deleted_logs()
                .iter()
                .flat_map(|log| evtxexport(log).into_iter().map(|e| e.number))
                .collect();
            let id: u64 = r["record_id"].parse().unwrap();
            assert!(
                header_ids.contains(&id),
                "{id}: not a header id of the original"
            );
            assert!(
                errors
                    .iter()
                    .any(|e| e["error"].contains(&format!("record {}:", r["record_id"]))),
                "{r:?} without a problem in errors.csv"
            );
            continue;
        }
        let key = (r["record_id"].parse().unwrap(), r["time"].clone());
        assert!(original.contains(&key), "{key:?} not in the original");
    }
    // The other chunk is untouched and verified.
    assert!(rows
        .iter()
        .filter(|r| r["offset"] == chunks[1].to_string())
        .all(|r| r["chunk_verified"] == "true"));

    // 2. The chunk header zeroed (as when its first cluster is reused): no chunk
    //    is found there, its records come out raw in carved.csv with the ids and
    //    times evtxexport gives, and the text they carry.
    let copy = damaged_copy("carve-headerless", partition, chunks[0], |b| {
        b[..512].fill(0)
    });
    let out = scratch_dir("carve-headerless-out");
    scan_into(&[copy], &out, &["--artifacts", "evtx,carve"]);
    let dir = out.join("damaged");
    assert!(!table(&dir, "evtx")
        .iter()
        .any(|r| r["offset"] == chunks[0].to_string()));
    let in_chunk = |r: &BTreeMap<String, String>| {
        let at: u64 = r["offset"].parse().unwrap();
        (chunks[0]..chunks[0] + 65_536).contains(&at)
    };
    // Raw in carved.csv, or rendered with another chunk's templates in evtx.csv.
    let lone: Vec<_> = table(&dir, "carved")
        .into_iter()
        .filter(|r| r["kind"] == "evtx_record" && r["name"].is_empty() && in_chunk(r))
        .collect();
    let rendered: Vec<_> = borrowed_rows(&dir).into_iter().filter(in_chunk).collect();
    // Lone records carry their header's id and time, rendered ones the event's.
    let lone_keys: BTreeSet<(u64, String)> = lone
        .iter()
        .map(|r| (r["id"].parse().unwrap(), r["time"].clone()))
        .collect();
    let rendered_keys: BTreeSet<(u64, String)> = rendered
        .iter()
        .map(|r| (r["record_id"].parse().unwrap(), r["time"].clone()))
        .collect();
    let all_out = |log: &Path| {
        let exported = evtxexport(log);
        let events = event_keys_in_order(log);
        exported.len() == events.len()
            && exported.iter().zip(&events).all(|(record, event)| {
                lone_keys.contains(&(record.number, iso_from_evtxexport(&record.written)))
                    || rendered_keys.contains(event)
            })
    };
    let log = if all_out(&deleted_logs()[0]) {
        &deleted_logs()[0]
    } else {
        &deleted_logs()[1]
    };
    assert!(all_out(log), "every record of the chunk, raw or rendered");
    let exported = evtxexport(log);
    let events = event_keys_in_order(log);
    // Besides its records, the chunk holds those of its earlier use, which libevtx
    // counts as recovered: all of them come out too.
    assert_eq!(
        lone.len() + rendered.len(),
        exported.len() + evtxinfo_recovered(log)
    );
    for (record, event) in exported.iter().zip(&events) {
        if let Some(row) = rendered
            .iter()
            .find(|r| r["record_id"] == event.0.to_string() && r["time"] == event.1)
        {
            assert_eq!(row["event_id"], record.event_id.to_string());
            continue;
        }
        let row = lone
            .iter()
            .find(|r| r["id"] == record.number.to_string())
            .unwrap();
        // The textual event data (not SIDs or numbers, which the record stores
        // in binary) is in the record's own bytes.
        let texts: Vec<&String> = record
            .strings
            .iter()
            .filter(|s| !s.contains('\n') && !s.starts_with("S-1-") && !s.starts_with("0x"))
            .filter(|s| s.len() >= 4 && s.parse::<u64>().is_err())
            .collect();
        assert!(!texts.is_empty());
        for text in texts {
            assert!(
                row["detail"].contains(text.as_str()),
                "{text:?} not in {:?}",
                row["detail"]
            );
        }
    }
}

#[test]
fn deleted_prefetch_files_match_sccainfo() {
    let rows: Vec<_> = table(scanned(), "prefetch")
        .into_iter()
        .filter(|r| r["carved"] == "true")
        .collect();
    let originals = [
        "prefetch/artemis/win11/WEVTUTIL.EXE-4CD23CAE.pf",
        "prefetch/ez/Win2012R2/CMD.EXE-4A81B364.pf",
    ];
    assert_eq!(rows.len(), originals.len(), "{rows:?}");
    for original in originals {
        let out = run_ok(oracle("sccainfo", "libscca-utils").arg(corpus().join(original)));
        let text = String::from_utf8_lossy(&out.stdout);
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.trim().strip_prefix(name))
                .map(|v| v.trim_start_matches(['\t', ' ', ':']).trim().to_string())
                .unwrap()
        };
        let name = original.rsplit('/').next().unwrap();
        let row = rows
            .iter()
            .find(|r| r["path"] == format!("(unallocated)/{name}"))
            .unwrap_or_else(|| panic!("{name} not carved"));
        assert_eq!(row["executable"], field("Executable filename"));
        assert_eq!(row["run_count"], field("Run count"));
        assert_eq!(
            row["last_run_1"],
            iso_from_evtxexport(&field("Last run time: 1"))
        );
        assert_eq!(row["version"], field("Format version"));
    }
    // A deleted wevtutil Prefetch is evidence of the wevtutil finding.
    let evidence = table(scanned(), "evidence");
    assert!(
        evidence.iter().any(|r| r["tool"] == "wevtutil"
            && r.values().any(|v| v.contains("WEVTUTIL.EXE-4CD23CAE.pf"))),
        "carved Prefetch not used as evidence"
    );
}

/// `(path below the root, last written to the second)` of every key, from hivexml.
fn hivexml_keys(hive: &Path) -> BTreeSet<(String, String)> {
    let out = run_ok(oracle("hivexml", "libhivex-bin").arg(hive));
    let xml = String::from_utf8_lossy(&out.stdout);
    let unescape = |s: &str| {
        s.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&")
    };
    let mut keys = BTreeSet::new();
    let mut stack: Vec<String> = Vec::new();
    let mut rest = xml.as_ref();
    while let Some(at) = rest.find('<') {
        rest = &rest[at..];
        if let Some(tail) = rest.strip_prefix("<node name=\"") {
            let end = tail.find('"').unwrap();
            stack.push(unescape(&tail[..end]));
            let mtime = tail.find("<mtime>").unwrap() + 7;
            let when = &tail[mtime..mtime + 19];
            // The root's name is not part of the paths.
            keys.insert((stack[1..].join("\\"), when.to_string()));
        } else if rest.starts_with("</node>") {
            stack.pop();
        }
        rest = &rest[1..];
    }
    keys
}

#[test]
fn deleted_hive_keys_match_hivexml() {
    let rows: Vec<_> = table(scanned(), "carved")
        .into_iter()
        .filter(|r| r["kind"] == "hive_key")
        .collect();
    let found: BTreeSet<(String, String)> = rows
        .iter()
        .map(|r| (r["name"].clone(), r["time"][..19].to_string()))
        .collect();
    let original = corpus().join("registry/hives/NTUSER.DAT");
    let expected = hivexml_keys(&original);
    assert_eq!(expected.len(), 1127, "regfexport lists 1127 keys");
    assert_eq!(rows.len(), expected.len());
    assert_eq!(found, expected);
    // Values come along: regfexport shows this one.
    let key = rows
        .iter()
        .find(|r| r["name"] == "AppEvents\\EventLabels\\.Default")
        .unwrap();
    assert!(key["detail"].contains("DispFileName=@mmsys.cpl,-5824"));
}

/// `(record, path)` of the in-use files The Sleuth Kit listed for a corpus `$MFT`.
fn fls_listing(path: &Path) -> BTreeSet<(u64, String)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|line| {
            let (head, rest) = line.split_once('\t')?;
            let name = rest.split('\t').next()?;
            // Streams (`name:stream`) and deleted entries (`*`) are not records.
            if name.contains(':') || head.contains('*') {
                return None;
            }
            let address = head.split_whitespace().nth(1)?;
            let record = address.split('-').next()?.parse().ok()?;
            Some((record, name.to_string()))
        })
        .collect()
}

#[test]
fn deleted_mft_records_rebuild_the_paths_fls_lists() {
    let rows: Vec<_> = table(scanned(), "mft")
        .into_iter()
        .filter(|r| r["carved"] == "true" && r["in_use"] == "true")
        .collect();
    let found: BTreeSet<(u64, String)> = rows
        .iter()
        .map(|r| (r["record"].parse().unwrap(), r["path"].clone()))
        .collect();
    for name in ["unicode", "4k-large"] {
        let expected = fls_listing(&corpus().join(format!("ntfs/dfir_ntfs/{name}.fls")));
        assert!(expected.len() > 20, "{name}: {} entries", expected.len());
        let missing: Vec<_> = expected.difference(&found).collect();
        assert!(missing.is_empty(), "{name}: not carved {missing:?}");
    }
}

#[test]
fn pattern_filled_free_space_yields_nothing() {
    let ptrn = unpacked_samples()
        .into_iter()
        .find(|p| p.ends_with("ntfs-ptrn.raw"))
        .unwrap();
    let (volume, _) = open_first_ntfs(&ptrn);
    let stats = carve::unallocated(
        &volume,
        &|_, hit| {
            let offset = match hit {
                Hit::Chunk { offset, .. }
                | Hit::Record { offset, .. }
                | Hit::MftRecord { offset, .. }
                | Hit::Prefetch { offset, .. }
                | Hit::Hive { offset, .. } => offset,
            };
            panic!("something invented at {offset}")
        },
        &carve::any_order,
    )
    .unwrap();
    assert!(stats.bytes > 900 << 20, "scanned {} bytes", stats.bytes);
    assert_eq!(stats.signatures + stats.lone_records, 0);
}

/// `--carve-all` scans every byte of the image: the deleted logs are found again,
/// and so are the chunks of the live logs, which are marked as having a live copy.
#[test]
fn carve_all_finds_live_and_deleted_chunks() {
    let out = scratch_dir("carve-all");
    let result = scan_into(
        &[built_images().join("win10-aptsim.raw")],
        &out,
        &["--artifacts", "evtx", "--carve-all"],
    );
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let dir = out.join("win10-aptsim");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let pass = &manifest["carving"][0];
    assert_eq!(pass["scope"], "whole image");
    assert_eq!(pass["bytes"], 335_544_320u64, "every byte of the disk");
    let rows = table(&dir, "evtx");
    let live_rows = rows.iter().filter(|r| r["carved"] == "false").count();
    // Rows of whole chunks (unused-space records rendered with borrowed templates
    // may have live copies too: old records of a log that wrapped).
    let carved_live = rows
        .iter()
        .filter(|r| carved_here(r) && r["live_copy"] == "true")
        .filter(|r| !r["file"].contains("templates of"))
        .count();
    let carved_new = rows
        .iter()
        .filter(|r| carved_here(r) && r["live_copy"] == "false")
        .count();
    // The live logs: the 94 of the host with Security emptied (evtxinfo of each
    // file read back with icat is checked in tests/scan.rs).
    let security = evtxexport(&cleared_original()).len();
    assert_eq!(live_rows, 32_159 - security);
    // Every chunk of the live logs is intact here, so every live record is found
    // again, marked as having its live copy; the unallocated test above accounts
    // for the others.
    assert_eq!(carved_live, live_rows);
    assert!(carved_new > 5000, "{carved_new}");
}
