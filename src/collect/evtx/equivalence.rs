//! The fast path's acceptance test: for every record of every EVTX file of the
//! corpus, the record it flattens from the values (when it takes it) is the record
//! the JSON path flattens, field by field; and it takes most records.

use std::path::{Path, PathBuf};

use evtx::EvtxParser;

use super::{from_json, from_values, settings, ChunkMemo, EventRecord};

/// The shared corpus (`$TOOLMARK_CORPUS`, else `../shared/corpus` beside the project).
fn corpus() -> PathBuf {
    std::env::var_os("TOOLMARK_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"))
}

/// Every `.evtx` file under `dir`, sorted.
fn logs_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            logs_under(&path, out);
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("evtx"))
        {
            out.push(path);
        }
    }
}

/// Both flattenings of one record, as comparable text: the fast path's (`None` when
/// it declines) and the JSON path's.
type Both = (Option<String>, String);

/// Every record of a log through both paths.
fn both_paths(path: &Path) -> Vec<Both> {
    let Ok(parser) = EvtxParser::from_path(path) else {
        return Vec::new();
    };
    let mut parser = parser.with_configuration(settings(1));
    let mut memo = ChunkMemo::default();
    let show = |r: &EventRecord| format!("{r:?}");
    parser
        .serialized_records(move |record| {
            let record = record?;
            memo.enter(record.chunk);
            let verified = memo.verdict();
            let (id, time) = (record.event_record_id, record.timestamp);
            let fast = from_values(&record, &mut memo).map(|p| show(&p.finish(id, time, verified)));
            let json = record.into_json_bytes()?;
            let slow = match from_json(&json.data, id, time, verified) {
                Ok(r) => show(&r),
                Err(e) => format!("error: {e}"),
            };
            Ok((fast, slow))
        })
        .filter_map(Result::ok)
        .collect()
}

#[test]
fn the_fast_path_equals_the_json_path_on_every_corpus_record() {
    let corpus = corpus();
    let mut logs = Vec::new();
    logs_under(&corpus.join("evtx"), &mut logs);
    logs_under(
        &corpus.join("hosts/win10-aptsim/Windows/System32/winevt/Logs"),
        &mut logs,
    );
    assert!(logs.len() > 300, "corpus logs not found under {corpus:?}");
    let (mut records, mut fast, mut mismatches) = (0usize, 0usize, Vec::new());
    // Share per kind of log, for the figure the README gives.
    let mut by_kind: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    for log in &logs {
        let name = log.to_string_lossy().to_lowercase();
        let kind = ["security", "sysmon", "system", "powershell"]
            .into_iter()
            .find(|k| name.contains(k))
            .unwrap_or("other");
        for (quick, slow) in both_paths(log) {
            records += 1;
            let entry = by_kind.entry(kind).or_default();
            entry.0 += 1;
            if let Some(quick) = quick {
                fast += 1;
                entry.1 += 1;
                if quick != slow && mismatches.len() < 5 {
                    mismatches.push(format!("{}:\n fast {quick}\n json {slow}", log.display()));
                }
            }
        }
    }
    for (kind, (all, quick)) in &by_kind {
        eprintln!(
            "{kind}: {quick} of {all} records on the fast path ({:.1} %)",
            100.0 * *quick as f64 / (*all).max(1) as f64
        );
    }
    eprintln!(
        "all: {fast} of {records} records of {} logs on the fast path ({:.1} %)",
        logs.len(),
        100.0 * fast as f64 / records.max(1) as f64
    );
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert!(
        fast * 10 > records * 7,
        "{fast} of {records} on the fast path"
    );
}
