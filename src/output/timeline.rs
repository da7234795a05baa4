//! timeline.csv: every timestamped row of every artifact, sorted by time, with
//! memory bounded whatever the image holds.
//!
//! Rows arrive in any order from many threads, each already rendered as one CSV
//! record (formula-safe cells, RFC 4180 quoting). Their time is the first cell, an
//! ISO-8601 UTC string of one fixed width that never needs quoting, so the byte order
//! of the rendered records is their time order. Records are buffered back to back in
//! one arena up to a fixed number of bytes, sorted (by a key made of their first
//! bytes, then by the whole record), and spilled as runs (length-prefixed, since a
//! record may hold line breaks inside quotes) to temporary files beside the output; at
//! the end the runs are merged k-way straight into timeline.csv.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::cell::write_record;
use super::schema::TIMELINE;

/// Bytes of rendered records held in memory before a run is spilled.
const RUN_BYTES: usize = 64 << 20;

/// Room past [`RUN_BYTES`] for the record that fills a run (a longer one makes the
/// arena grow once).
const RECORD_SLACK: usize = 1 << 20;

/// Collects timeline rows and writes them sorted.
pub struct Timeline {
    dir: PathBuf,
    raw_cells: bool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Records not yet spilled, back to back (one allocation for all of them).
    arena: Vec<u8>,
    /// Where each record of `arena` lies, with its sort key.
    records: Vec<Entry>,
    runs: Vec<PathBuf>,
    error: Option<String>,
}

/// One record of the arena.
#[derive(Clone, Copy)]
struct Entry {
    /// The record's first 24 bytes (zero-padded) as big-endian words: comparing keys
    /// compares those bytes, so most comparisons (the time's date, hour and
    /// seconds) cost three integer compares instead of a byte-string compare.
    key: [u64; 3],
    start: usize,
    end: usize,
}

impl Entry {
    fn new(arena: &[u8], start: usize) -> Entry {
        let mut head = [0u8; 24];
        let record = &arena[start..];
        let n = record.len().min(head.len());
        head[..n].copy_from_slice(&record[..n]);
        let word =
            |i: usize| u64::from_be_bytes(head[i * 8..i * 8 + 8].try_into().unwrap_or_default());
        Entry {
            key: [word(0), word(1), word(2)],
            start,
            end: arena.len(),
        }
    }
}

/// Sorts `records` into the byte order of their text in `arena`. Equal keys fall back
/// to the whole records, so the order is exactly their byte order (zero padding
/// cannot misorder: a shorter record whose bytes are a prefix of another's sorts
/// first either way).
fn sort(arena: &[u8], records: &mut [Entry]) {
    records.sort_unstable_by(|a, b| {
        a.key
            .cmp(&b.key)
            .then_with(|| arena[a.start..a.end].cmp(&arena[b.start..b.end]))
    });
}

impl Timeline {
    /// A timeline whose runs and result go to `dir`.
    pub fn new(dir: &Path, raw_cells: bool) -> Timeline {
        Timeline {
            dir: dir.to_path_buf(),
            raw_cells,
            state: Mutex::new(State::default()),
        }
    }

    /// Adds a row (cells in [`TIMELINE`] order); rows without a time are not
    /// timeline material and are dropped. The row is rendered straight into the
    /// arena, under the lock: a few thousand instructions per record, against the
    /// hundred thousand it took to read the record.
    pub fn push(&self, cells: &[&str]) {
        if cells.first().is_none_or(|t| t.is_empty()) {
            return;
        }
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.arena.capacity() == 0 {
            // Once, and kept across runs: grown by doubling, the arena would be
            // copied into twice its size just as it fills (64 MiB more peak RSS
            // on the built E01).
            state.arena.reserve_exact(RUN_BYTES + RECORD_SLACK);
        }
        let start = state.arena.len();
        write_record(&mut state.arena, cells.iter().copied(), self.raw_cells);
        let entry = Entry::new(&state.arena, start);
        state.records.push(entry);
        if state.arena.len() >= RUN_BYTES {
            self.spill(&mut state);
        }
    }

    /// Writes the records held in memory as one sorted run file.
    fn spill(&self, state: &mut State) {
        let path = self
            .dir
            .join(format!(".timeline-run-{}.bin", state.runs.len()));
        sort(&state.arena, &mut state.records);
        match write_run(&path, &state.arena, &state.records) {
            Ok(()) => state.runs.push(path),
            Err(e) => state.error = Some(format!("{}: {e}", path.display())),
        }
        state.arena.clear();
        state.records.clear();
    }

    /// Merges everything into `timeline.csv`; returns the row count.
    pub fn finish(self) -> Result<u64, String> {
        let state = self.state.into_inner().unwrap_or_else(|p| p.into_inner());
        let result = merge(&self.dir, state);
        result.map_err(|e| format!("timeline: {e}"))
    }
}

fn merge(dir: &Path, state: State) -> std::io::Result<u64> {
    let State {
        arena,
        mut records,
        runs,
        error,
    } = state;
    if let Some(e) = error {
        return Err(std::io::Error::other(e));
    }
    sort(&arena, &mut records);
    let mut out = BufWriter::with_capacity(1 << 16, File::create(dir.join("timeline.csv"))?);
    out.write_all(TIMELINE.join(",").as_bytes())?;
    out.write_all(b"\n")?;
    let mut memory = records.iter().map(|e| &arena[e.start..e.end]);
    if runs.is_empty() {
        // Everything fitted in memory: nothing to merge.
        for record in memory {
            out.write_all(record)?;
        }
        out.flush()?;
        return Ok(records.len() as u64);
    }
    let mut readers = Vec::with_capacity(runs.len());
    for run in &runs {
        readers.push(BufReader::with_capacity(1 << 16, File::open(run)?));
    }
    // Heap of (record, source): source usize::MAX is the in-memory arena.
    let mut heap: BinaryHeap<Reverse<(Cow<'_, [u8]>, usize)>> = BinaryHeap::new();
    if let Some(record) = memory.next() {
        heap.push(Reverse((Cow::Borrowed(record), usize::MAX)));
    }
    for (i, reader) in readers.iter_mut().enumerate() {
        let mut record = Vec::new();
        if next_record(reader, &mut record)? {
            heap.push(Reverse((Cow::Owned(record), i)));
        }
    }
    let mut rows = 0u64;
    while let Some(Reverse((record, source))) = heap.pop() {
        out.write_all(&record)?;
        rows += 1;
        let next = if source == usize::MAX {
            memory.next().map(Cow::Borrowed)
        } else {
            // The record just written leaves its buffer to the next of its run.
            let mut buffer = record.into_owned();
            next_record(&mut readers[source], &mut buffer)?.then_some(Cow::Owned(buffer))
        };
        if let Some(record) = next {
            heap.push(Reverse((record, source)));
        }
    }
    out.flush()?;
    for run in &runs {
        let _ = std::fs::remove_file(run);
    }
    Ok(rows)
}

/// Writes `records` (sorted) of `arena`, each prefixed with its length.
fn write_run(path: &Path, arena: &[u8], records: &[Entry]) -> std::io::Result<()> {
    let mut writer = BufWriter::with_capacity(1 << 16, File::create(path)?);
    for entry in records {
        let record = &arena[entry.start..entry.end];
        writer.write_all(&(record.len() as u32).to_le_bytes())?;
        writer.write_all(record)?;
    }
    writer.flush()
}

/// Reads the next record of a run into `record`; `false` at the run's end.
fn next_record(reader: &mut BufReader<File>, record: &mut Vec<u8>) -> std::io::Result<bool> {
    let mut length = [0u8; 4];
    match reader.read_exact(&mut length) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(false),
        Err(e) => return Err(e),
    }
    // Our own run file: every length was written by write_run from a real record.
    record.resize(u32::from_le_bytes(length) as usize, 0);
    reader.read_exact(record)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key sort is the byte order of the records, also where keys tie or one
    /// record is shorter than the key (compared with a plain sort of the bytes).
    #[test]
    fn key_order_is_byte_order() {
        let mut texts: Vec<Vec<u8>> = Vec::new();
        for head in [
            "",
            "2",
            "2024-01-01T00:00:00.00000",
            "2024-01-01T00:00:00.0000000Z",
        ] {
            for tail in ["", "\0", "\0\0", "a", ",b", "\u{ff}", ",a,\"x\"\n"] {
                texts.push([head, tail].concat().into_bytes());
                texts.push([tail, head].concat().into_bytes());
            }
        }
        // A scrambled order (5 is prime to the count), each text twice.
        let mut arena = Vec::new();
        let mut records = Vec::new();
        for i in 0..texts.len() * 2 {
            let text = &texts[(i * 5) % texts.len()];
            let start = arena.len();
            arena.extend_from_slice(text);
            records.push(Entry::new(&arena, start));
        }
        sort(&arena, &mut records);
        let sorted: Vec<&[u8]> = records.iter().map(|e| &arena[e.start..e.end]).collect();
        let mut expected: Vec<&[u8]> = texts.iter().chain(&texts).map(Vec::as_slice).collect();
        expected.sort();
        assert_eq!(sorted, expected);
    }

    #[test]
    fn spilled_runs_merge_in_time_order_and_parse_back() {
        let dir = std::env::temp_dir().join(format!("tm-timeline-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let timeline = Timeline::new(&dir, false);
        // Long messages with line breaks and quotes, so runs spill several times.
        let message = format!("line one\nline \"two\", {}", "x".repeat(400));
        let total = (RUN_BYTES / 400) * 2 + 17;
        for i in 0..total {
            // A scrambled order that visits every tick of the range once.
            let t = format!("2024-01-01T00:00:00.{:07}Z", (i * 7919) % total);
            let mut cells = vec![t.as_str(), "desc", message.as_str()];
            cells.extend(std::iter::repeat_n("=c", TIMELINE.len() - 3));
            timeline.push(&cells);
        }
        timeline.push(&[""; TIMELINE.len()]);
        assert_eq!(timeline.finish().unwrap(), total as u64);
        let mut reader = csv::Reader::from_path(dir.join("timeline.csv")).unwrap();
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        assert_eq!(rows.len(), total);
        assert!(rows.windows(2).all(|w| w[0][0] <= w[1][0]));
        assert_eq!(&rows[0][2], message);
        assert_eq!(&rows[0][3], "'=c");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "runs removed");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
