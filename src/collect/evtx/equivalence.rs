//! The fast path's acceptance test: for every record of every chunk of every EVTX
//! file of the corpus, the record it flattens from the values (when it takes it) is
//! the record the JSON path flattens, field by field; and it takes most records.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::compare::compare_paths;

/// The shared corpus (`$TOOLMARK_CORPUS`, else `../shared/corpus` beside the project).
pub(crate) fn corpus() -> PathBuf {
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

/// Every event log of the corpus: its EVTX collections and the host's logs.
fn corpus_logs() -> Vec<PathBuf> {
    let corpus = corpus();
    let mut logs = Vec::new();
    logs_under(&corpus.join("evtx"), &mut logs);
    logs_under(
        &corpus.join("hosts/win10-aptsim/Windows/System32/winevt/Logs"),
        &mut logs,
    );
    assert!(logs.len() > 300, "corpus logs not found under {corpus:?}");
    logs
}

#[test]
fn the_fast_path_equals_the_json_path_on_every_corpus_record() {
    /// A log's file header, then its chunks.
    const HEADER: usize = 4096;
    const CHUNK: usize = 65536;
    let logs = corpus_logs();
    let mut differences = Vec::new();
    // Records and fast ones per kind of log, for the figures the README gives.
    let mut by_kind: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for log in &logs {
        let name = log.to_string_lossy().to_lowercase();
        let kind = ["security", "sysmon", "system", "powershell"]
            .into_iter()
            .find(|k| name.contains(k))
            .unwrap_or("other");
        let data = std::fs::read(log).expect("read log");
        for chunk in data.get(HEADER..).unwrap_or_default().chunks_exact(CHUNK) {
            let Ok(found) = compare_paths(chunk.to_vec()) else {
                continue;
            };
            let entry = by_kind.entry(kind).or_default();
            entry.0 += found.records;
            entry.1 += found.fast;
            for difference in found.differences.into_iter().take(3) {
                differences.push(format!("{}: {difference}", log.display()));
            }
        }
    }
    let share = |(all, fast): (usize, usize)| 100.0 * fast as f64 / all.max(1) as f64;
    for (kind, counts) in &by_kind {
        eprintln!(
            "{kind}: {} of {} records on the fast path ({:.1} %)",
            counts.1,
            counts.0,
            share(*counts)
        );
    }
    let total = by_kind
        .values()
        .fold((0, 0), |(a, f), (all, fast)| (a + all, f + fast));
    eprintln!(
        "all: {} of {} records of {} logs on the fast path ({:.1} %)",
        total.1,
        total.0,
        logs.len(),
        share(total)
    );
    assert!(differences.is_empty(), "{}", differences.join("\n"));
    assert!(share(total) > 85.0, "{total:?}");
    assert!(share(by_kind["security"]) > 99.0);
    assert!(share(by_kind["sysmon"]) > 99.0);
    assert!(share(by_kind["system"]) > 90.0);
}

#[test]
fn one_thread_reads_every_corpus_log_as_the_crates_walk_does() {
    // One thread walks regular chunks itself (`walk_fast`); two threads take every
    // chunk through the crate's walk. Both must give the same records and errors,
    // in order, for every log: the damaged ones of `evtx/robustness` included.
    let logs = corpus_logs();
    let read = |data: &[u8], threads: usize| {
        let mut items = Vec::new();
        let mut errors = Vec::new();
        let stats = super::read_log(
            std::io::Cursor::new(data),
            threads,
            &mut |r| items.push(format!("{r:?}")),
            &mut |e| errors.push(e),
        )
        .map(|s| (s.records, s.errors))
        .map_err(|e| e.to_string());
        (stats, items, errors)
    };
    let mut records = 0;
    for log in &logs {
        let data = std::fs::read(log).expect("read log");
        let one = read(&data, 1);
        let two = read(&data, 2);
        assert!(one == two, "{}: one thread and two differ", log.display());
        records += one.1.len();
    }
    assert!(records > 50_000, "{records}");
}

#[test]
fn a_chunk_read_alone_walked_by_us_reads_as_the_crates_walk() {
    // Carving and the host-name sample read single chunks: walked by us where the
    // chunk allows, the records and errors must be the crate's walk's, whole and
    // for the first few records only.
    const HEADER: usize = 4096;
    const CHUNK: usize = 65536;
    let mut chunks = 0;
    for log in corpus_logs() {
        let data = std::fs::read(&log).expect("read log");
        for chunk in data.get(HEADER..).unwrap_or_default().chunks_exact(CHUNK) {
            for (verify, limit) in [(false, usize::MAX), (true, usize::MAX), (false, 16)] {
                let read = |may_walk: bool| {
                    let mut items = Vec::new();
                    let mut errors = Vec::new();
                    let stats = super::read_chunk_walking(
                        chunk.to_vec(),
                        verify,
                        limit,
                        may_walk,
                        &mut |r| items.push(format!("{r:?}")),
                        &mut |e| errors.push(e),
                    )
                    .map_err(|e| e.to_string());
                    (stats, items, errors)
                };
                assert!(read(true) == read(false), "{}", log.display());
            }
            chunks += 1;
        }
    }
    assert!(chunks > 500, "{chunks}");
}

#[test]
fn what_the_read_says_of_each_chunk_is_what_the_unused_space_pass_would_find() {
    // The unused-space pass skips what the one-thread read found: the chunks past
    // `written_end` (all zeros) and the `quiet` ones (nothing in their unused
    // space). Checked against the file's own bytes for every chunk of every log.
    const HEADER: usize = 4096;
    const CHUNK: usize = 65536;
    let (mut quiet, mut busy, mut cut) = (0, 0, 0);
    for log in corpus_logs() {
        let data = std::fs::read(&log).expect("read log");
        let Ok(stats) = super::read_log(std::io::Cursor::new(&data), 1, &mut |_| {}, &mut |_| {})
        else {
            continue;
        };
        let chunks = data.get(HEADER..).unwrap_or_default().chunks_exact(CHUNK);
        for (number, chunk) in chunks.enumerate() {
            let offset = (HEADER + number * CHUNK) as u64;
            if stats.written_end.is_some_and(|end| offset >= end) {
                assert!(
                    chunk.iter().all(|&b| b == 0),
                    "{} chunk {number}",
                    log.display()
                );
                cut += 1;
            } else if stats.quiet.contains(number as u64) {
                assert!(
                    evtx_carve::unused_space_records(chunk, offset).is_empty(),
                    "{} chunk {number}",
                    log.display()
                );
                quiet += 1;
            } else {
                busy += 1;
            }
        }
    }
    // Most chunks need no second look; some do (the corpus has recovered records).
    assert!(
        quiet > 500 && busy > 100 && cut > 500,
        "{quiet} {busy} {cut}"
    );
}
