//! One CSV file with a fixed header: UTF-8, RFC 4180 quoting, formula-safe cells.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use super::cell::neutralise;

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
        source: csv::Error,
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
    writer: csv::Writer<BufWriter<File>>,
    width: usize,
    raw_cells: bool,
    rows: u64,
}

impl Table {
    /// Creates `path` (truncating it) and writes the header row.
    pub fn create(path: &Path, header: &[&str], raw_cells: bool) -> Result<Table, TableError> {
        let fail = |source: csv::Error| TableError::Write {
            path: path.to_path_buf(),
            source,
        };
        let file = File::create(path).map_err(|e| fail(e.into()))?;
        let mut writer = csv::WriterBuilder::new()
            .flexible(false)
            .from_writer(BufWriter::with_capacity(1 << 16, file));
        writer.write_record(header).map_err(fail)?;
        Ok(Table {
            path: path.to_path_buf(),
            writer,
            width: header.len(),
            raw_cells,
            rows: 0,
        })
    }

    /// Writes one row; cells are neutralised unless the table was made with raw cells.
    pub fn row<S: AsRef<str>>(&mut self, cells: &[S]) -> Result<(), TableError> {
        if cells.len() != self.width {
            return Err(TableError::Width {
                path: self.path.clone(),
                expected: self.width,
                got: cells.len(),
            });
        }
        let fail = |source| TableError::Write {
            path: self.path.clone(),
            source,
        };
        for cell in cells {
            let cell = cell.as_ref();
            let result = if self.raw_cells {
                self.writer.write_field(cell)
            } else {
                self.writer.write_field(neutralise(cell).as_bytes())
            };
            result.map_err(fail)?;
        }
        self.writer
            .write_record(std::iter::empty::<&[u8]>())
            .map_err(fail)?;
        self.rows += 1;
        Ok(())
    }

    /// Rows written so far (header excluded).
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Flushes the file.
    pub fn finish(mut self) -> Result<u64, TableError> {
        self.writer.flush().map_err(|e| TableError::Write {
            path: self.path.clone(),
            source: e.into(),
        })?;
        Ok(self.rows)
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
