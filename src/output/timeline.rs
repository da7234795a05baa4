//! timeline.csv: every timestamped row of every artifact, sorted by time, with
//! memory bounded whatever the image holds.
//!
//! Rows arrive in any order from many threads, each already rendered as one CSV
//! record (formula-safe cells, RFC 4180 quoting). Their time is the first cell, an
//! ISO-8601 UTC string of one fixed width that never needs quoting, so the byte order
//! of the rendered records is their time order. Records are buffered up to a fixed
//! number of bytes, sorted, and spilled as runs (length-prefixed, since a record may
//! hold line breaks inside quotes) to temporary files beside the output; at the end
//! the runs are merged k-way straight into timeline.csv.

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

/// Collects timeline rows and writes them sorted.
pub struct Timeline {
    dir: PathBuf,
    raw_cells: bool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    buffer: Vec<Vec<u8>>,
    bytes: usize,
    runs: Vec<PathBuf>,
    error: Option<String>,
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
    /// timeline material and are dropped.
    pub fn push(&self, cells: &[&str]) {
        if cells.first().is_none_or(|t| t.is_empty()) {
            return;
        }
        let mut record = Vec::with_capacity(cells.iter().map(|c| c.len() + 1).sum::<usize>() + 2);
        write_record(&mut record, cells.iter().copied(), self.raw_cells);
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.bytes += record.len();
        state.buffer.push(record);
        if state.bytes >= RUN_BYTES {
            let mut records = std::mem::take(&mut state.buffer);
            state.bytes = 0;
            let path = self
                .dir
                .join(format!(".timeline-run-{}.bin", state.runs.len()));
            match write_run(&path, &mut records) {
                Ok(()) => state.runs.push(path),
                Err(e) => state.error = Some(format!("{}: {e}", path.display())),
            }
        }
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
        mut buffer,
        runs,
        error,
        ..
    } = state;
    if let Some(e) = error {
        return Err(std::io::Error::other(e));
    }
    buffer.sort_unstable();
    let mut readers = Vec::with_capacity(runs.len());
    for run in &runs {
        readers.push(BufReader::with_capacity(1 << 16, File::open(run)?));
    }
    let mut out = BufWriter::with_capacity(1 << 16, File::create(dir.join("timeline.csv"))?);
    out.write_all(TIMELINE.join(",").as_bytes())?;
    out.write_all(b"\n")?;
    // Heap of (record, source): source usize::MAX is the in-memory buffer.
    let mut heap = BinaryHeap::new();
    let mut memory = buffer.into_iter();
    if let Some(record) = memory.next() {
        heap.push(Reverse((record, usize::MAX)));
    }
    for (i, reader) in readers.iter_mut().enumerate() {
        if let Some(record) = next_record(reader)? {
            heap.push(Reverse((record, i)));
        }
    }
    let mut rows = 0u64;
    while let Some(Reverse((record, source))) = heap.pop() {
        out.write_all(&record)?;
        rows += 1;
        let next = if source == usize::MAX {
            memory.next()
        } else {
            next_record(&mut readers[source])?
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

fn write_run(path: &Path, records: &mut [Vec<u8>]) -> std::io::Result<()> {
    records.sort_unstable();
    let mut writer = BufWriter::with_capacity(1 << 16, File::create(path)?);
    for record in records.iter() {
        writer.write_all(&(record.len() as u32).to_le_bytes())?;
        writer.write_all(record)?;
    }
    writer.flush()
}

fn next_record(reader: &mut BufReader<File>) -> std::io::Result<Option<Vec<u8>>> {
    let mut length = [0u8; 4];
    match reader.read_exact(&mut length) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    // Our own run file: every length was written by write_run from a real record.
    let mut record = vec![0u8; u32::from_le_bytes(length) as usize];
    reader.read_exact(&mut record)?;
    Ok(Some(record))
}

#[cfg(test)]
mod tests {
    use super::*;

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
