//! timeline.csv: every timestamped row of every artifact, sorted by time, with
//! memory bounded whatever the image holds.
//!
//! Rows arrive in any order from many threads. They are buffered up to a fixed
//! count, sorted, and spilled as runs to temporary files beside the output; at the
//! end the runs are merged. Times are ISO-8601 UTC strings of one fixed width, so
//! their text order is their time order.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::schema::TIMELINE;
use super::table::{Table, TableError};

/// Rows held in memory before a run is spilled.
const RUN_ROWS: usize = 200_000;

/// One timeline row, cells in [`TIMELINE`] order.
pub type TimelineRow = Vec<String>;

/// Collects timeline rows and writes them sorted.
pub struct Timeline {
    dir: PathBuf,
    raw_cells: bool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    buffer: Vec<TimelineRow>,
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

    /// Adds a row; rows without a time are not timeline material and are dropped.
    pub fn push(&self, row: TimelineRow) {
        if row.first().is_none_or(|t| t.is_empty()) {
            return;
        }
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.buffer.push(row);
        if state.buffer.len() >= RUN_ROWS {
            let mut rows = std::mem::take(&mut state.buffer);
            let path = self
                .dir
                .join(format!(".timeline-run-{}.csv", state.runs.len()));
            match write_run(&path, &mut rows) {
                Ok(()) => state.runs.push(path),
                Err(e) => state.error = Some(e.to_string()),
            }
        }
    }

    /// Merges everything into `timeline.csv`; returns the row count.
    pub fn finish(self) -> Result<u64, String> {
        let state = self.state.into_inner().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = state.error {
            return Err(e);
        }
        let mut buffer = state.buffer;
        buffer.sort();
        let mut readers = Vec::new();
        for run in &state.runs {
            readers.push(
                csv::ReaderBuilder::new()
                    .has_headers(false)
                    .from_path(run)
                    .map_err(|e| e.to_string())?,
            );
        }
        let mut out = Table::create(&self.dir.join("timeline.csv"), &TIMELINE, self.raw_cells)
            .map_err(|e| e.to_string())?;
        // Heap of (row, source): source usize::MAX is the in-memory buffer.
        let mut heap = BinaryHeap::new();
        let mut memory = buffer.into_iter();
        if let Some(row) = memory.next() {
            heap.push(Reverse((row, usize::MAX)));
        }
        let mut records: Vec<csv::StringRecordsIntoIter<std::fs::File>> =
            readers.into_iter().map(|r| r.into_records()).collect();
        for (i, reader) in records.iter_mut().enumerate() {
            if let Some(row) = next_row(reader)? {
                heap.push(Reverse((row, i)));
            }
        }
        while let Some(Reverse((row, source))) = heap.pop() {
            out.row(&row).map_err(|e: TableError| e.to_string())?;
            let next = if source == usize::MAX {
                memory.next()
            } else {
                next_row(&mut records[source])?
            };
            if let Some(row) = next {
                heap.push(Reverse((row, source)));
            }
        }
        for run in &state.runs {
            let _ = std::fs::remove_file(run);
        }
        out.finish().map_err(|e| e.to_string())
    }
}

fn write_run(path: &Path, rows: &mut [TimelineRow]) -> Result<(), csv::Error> {
    rows.sort();
    let mut writer = csv::WriterBuilder::new()
        .has_headers(false)
        .from_path(path)?;
    for row in rows.iter() {
        writer.write_record(row)?;
    }
    writer.flush()?;
    Ok(())
}

fn next_row(
    reader: &mut csv::StringRecordsIntoIter<std::fs::File>,
) -> Result<Option<TimelineRow>, String> {
    match reader.next() {
        Some(Ok(record)) => Ok(Some(record.iter().map(str::to_string).collect())),
        Some(Err(e)) => Err(e.to_string()),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spilled_runs_merge_in_time_order() {
        let dir = std::env::temp_dir().join(format!("tm-timeline-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let timeline = Timeline::new(&dir, false);
        let total = RUN_ROWS * 2 + 17;
        for i in 0..total {
            // A scrambled order that visits every second of the range once.
            let t = (i * 7919) % total;
            let mut row = vec![format!("2024-01-01T00:00:00.{t:07}Z")];
            row.extend((1..TIMELINE.len()).map(|c| format!("c{c}")));
            timeline.push(row);
        }
        timeline.push(vec![String::new(); TIMELINE.len()]);
        assert_eq!(timeline.finish().unwrap(), total as u64);
        let mut reader = csv::Reader::from_path(dir.join("timeline.csv")).unwrap();
        let times: Vec<String> = reader
            .records()
            .map(|r| r.unwrap()[0].to_string())
            .collect();
        assert_eq!(times.len(), total);
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "runs removed");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
