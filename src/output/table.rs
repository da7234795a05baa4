//! One CSV file with a fixed header: UTF-8, RFC 4180 quoting, formula-safe cells.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::cell::write_record;

/// Errors writing a table.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// The file could not be created or written.
    #[error("{path}: {source}")]
    Write {
        /// The CSV file.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A row did not have as many cells as the header.
    #[error("{path}: row has {got} cells, header has {expected}")]
    Width {
        /// The CSV file.
        path: PathBuf,
        /// Header width.
        expected: usize,
        /// Row width.
        got: usize,
    },
}

/// A CSV file being written.
pub struct Table {
    path: PathBuf,
    writer: BufWriter<File>,
    width: usize,
    raw_cells: bool,
    rows: u64,
    /// The row being rendered, reused so a row costs no allocation.
    line: Vec<u8>,
}

impl Table {
    /// Creates `path` (truncating it) and writes the header row.
    pub fn create(path: &Path, header: &[&str], raw_cells: bool) -> Result<Table, TableError> {
        let mut table = Table {
            path: path.to_path_buf(),
            writer: BufWriter::with_capacity(
                1 << 16,
                File::create(path).map_err(|e| fail(path, e))?,
            ),
            width: header.len(),
            raw_cells,
            rows: 0,
            line: Vec::new(),
        };
        // The header is written as it is: column names are ours, never formulas.
        write_record(&mut table.line, header.iter().copied(), true);
        table
            .writer
            .write_all(&table.line)
            .map_err(|e| fail(path, e))?;
        Ok(table)
    }

    /// Writes one row; cells are neutralised unless the table was made with raw cells.
    pub fn row<S: AsRef<str>>(&mut self, cells: &[S]) -> Result<(), TableError> {
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        let count = write_record(&mut line, cells.iter().map(AsRef::as_ref), self.raw_cells);
        let written = self.rendered(count, &line);
        self.line = line;
        written
    }

    /// Writes one row of `cells` cells already rendered by [`write_record`] (so the
    /// rendering can happen before a lock on the table is taken).
    pub(crate) fn rendered(&mut self, cells: usize, line: &[u8]) -> Result<(), TableError> {
        if cells != self.width {
            return Err(TableError::Width {
                path: self.path.clone(),
                expected: self.width,
                got: cells,
            });
        }
        self.writer
            .write_all(line)
            .map_err(|e| fail(&self.path, e))?;
        self.rows += 1;
        Ok(())
    }

    /// Rows written so far (header excluded).
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Flushes the file.
    pub fn finish(mut self) -> Result<u64, TableError> {
        self.writer.flush().map_err(|e| fail(&self.path, e))?;
        Ok(self.rows)
    }
}

/// A write error on `path`.
fn fail(path: &Path, e: std::io::Error) -> TableError {
    TableError::Write {
        path: path.to_path_buf(),
        source: e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn awkward_values_round_trip_and_formulas_do_not() {
        let path = std::env::temp_dir().join(format!("tm-table-{}.csv", std::process::id()));
        let tricky = ["a,b", "quote \" inside", "line\nbreak", "日本語 é", "=1+1"];
        let mut table = Table::create(&path, &["a", "b", "c", "d", "e"], false).unwrap();
        table.row(&tricky).unwrap();
        assert!(table.row(&["short"]).is_err());
        assert_eq!(table.finish().unwrap(), 1);
        let mut reader = csv::Reader::from_path(&path).unwrap();
        let row = reader.records().next().unwrap().unwrap();
        assert_eq!(&row[0], "a,b");
        assert_eq!(&row[1], "quote \" inside");
        assert_eq!(&row[2], "line\nbreak");
        assert_eq!(&row[3], "日本語 é");
        assert_eq!(&row[4], "'=1+1");
        std::fs::remove_file(&path).unwrap();
    }
}
