//! `--xlsx`: a folder's finished CSV tables as one workbook, one sheet per table,
//! for analysts who filter in a spreadsheet. CSV loses what a spreadsheet needs:
//! times become text (or are mangled by the locale), and every table must be
//! imported and filtered by hand. Here the header row is frozen and filtered,
//! columns are sized to their content, and times are real datetimes (UTC).
//!
//! The workbook is a conversion of the CSV files this scan wrote, read back once
//! they are complete (the one place a scan reads its own output): so its cells
//! are the CSV's cells, neutralised the same way. Each table is read twice, once
//! to learn its column types, widths and row count, once to write it in
//! rust_xlsxwriter's constant-memory mode, so a table of a million rows never
//! sits in memory.

use std::path::{Path, PathBuf};

use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

/// Rows on one sheet, header included: the format's limit.
pub const SHEET_ROWS: u32 = 1_048_576;

/// Characters in one cell: the format's limit. Longer CSV cells are cut, with a
/// note in the cell (the CSV keeps the whole text).
const CELL_CHARS: usize = 32_767;

/// Column widths are fitted to the content but kept within this many characters.
const MAX_WIDTH: usize = 60;

/// One table of the workbook: its sheet name and CSV file.
pub struct Source<'a> {
    /// Sheet name (a table name: short, no characters a sheet name forbids).
    pub name: &'a str,
    /// The CSV file; a missing file is skipped.
    pub csv: &'a Path,
}

/// The tables of a scan folder in the order a workbook shows them: the answers
/// first, then the artifact tables, then what could not be read.
pub fn scan_tables() -> Vec<&'static str> {
    let mut names = vec!["findings", "evidence", "lateral_movement", "host_profile"];
    names.extend(super::TABLES);
    names.extend(["timeline", "errors"]);
    names
}

/// Writes `OUT/<image>/toolmark.xlsx` for each of `images`, and `OUT/toolmark.xlsx`
/// from the batch's tables in `out` (for a single image, its own tables, with the
/// batch's lateral_movement.csv). Returns each workbook with what went into it.
pub fn write_scan(out: &Path, images: &[&str]) -> Vec<(PathBuf, Result<Written, String>)> {
    let names = scan_tables();
    let mut done = Vec::new();
    let folder = |dir: &Path, fallback: &Path| -> Vec<(&'static str, PathBuf)> {
        names
            .iter()
            .map(|n| {
                let file = format!("{n}.csv");
                let here = dir.join(&file);
                let path = if here.is_file() {
                    here
                } else {
                    fallback.join(&file)
                };
                (*n, path)
            })
            .collect()
    };
    let mut run = |target: PathBuf, files: Vec<(&'static str, PathBuf)>| {
        let sources: Vec<Source<'_>> = files
            .iter()
            .map(|(name, csv)| Source { name, csv })
            .collect();
        let result = write(&sources, &target);
        done.push((target, result));
    };
    for image in images {
        let dir = out.join(image);
        run(dir.join("toolmark.xlsx"), folder(&dir, &dir));
    }
    match images {
        [one] => run(out.join("toolmark.xlsx"), folder(out, &out.join(one))),
        _ => run(out.join("toolmark.xlsx"), folder(out, out)),
    }
    done
}

/// What went into a workbook.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Written {
    /// Data rows per table, in order.
    pub tables: Vec<(String, u64)>,
    /// Tables that did not fit one sheet: name and the sheets they continue on.
    pub continued: Vec<(String, Vec<String>)>,
    /// Cells longer than a cell can hold, cut.
    pub cut_cells: u64,
}

/// Writes `sources` into the workbook `target`.
pub fn write(sources: &[Source<'_>], target: &Path) -> Result<Written, String> {
    write_with_limit(sources, target, SHEET_ROWS)
}

/// [`write`] with `sheet_rows` rows (header included) per sheet, so the sheet
/// limit can be tested on small tables.
fn write_with_limit(
    sources: &[Source<'_>],
    target: &Path,
    sheet_rows: u32,
) -> Result<Written, String> {
    let fail = |e: XlsxError| format!("{}: {e}", target.display());
    let mut workbook = Workbook::new();
    let mut written = Written::default();
    let datetime = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss.000");
    let header = Format::new().set_bold();
    for source in sources {
        // A table this output does not have is no sheet; one that is there but
        // cannot be read fails the workbook rather than leaving its sheet out unsaid.
        let shape = match Shape::of(source.csv) {
            Ok(shape) => shape,
            Err(_) if !source.csv.is_file() => continue,
            Err(e) => return Err(e),
        };
        let mut reader = csv::Reader::from_path(source.csv)
            .map_err(|e| format!("{}: {e}", source.csv.display()))?;
        let per_sheet = u64::from(sheet_rows.max(2) - 1);
        let sheets = shape.rows.div_ceil(per_sheet).max(1);
        let mut names = Vec::new();
        let mut records = reader.records();
        for part in 0..sheets {
            let name = if part == 0 {
                source.name.to_string()
            } else {
                format!("{} ({})", source.name, part + 1)
            };
            let rows = per_sheet.min(shape.rows - part * per_sheet);
            let sheet = workbook.add_worksheet_with_constant_memory();
            sheet.set_name(&name).map_err(fail)?;
            shape.prepare(sheet, rows, &header).map_err(fail)?;
            for row in 1..=rows {
                let Some(record) = records.next() else {
                    break;
                };
                let record = record.map_err(|e| format!("{}: {e}", source.csv.display()))?;
                written.cut_cells += shape
                    .write_row(sheet, row as u32, &record, &datetime)
                    .map_err(fail)?;
            }
            names.push(name);
        }
        if names.len() > 1 {
            written
                .continued
                .push((source.name.to_string(), names[1..].to_vec()));
        }
        written.tables.push((source.name.to_string(), shape.rows));
    }
    if written.tables.is_empty() {
        return Err(format!("{}: no tables to write", target.display()));
    }
    workbook.save(target).map_err(fail)?;
    Ok(written)
}

/// What the first reading of a table learns.
struct Shape {
    header: Vec<String>,
    /// Per CSV column: every non-empty cell is an ISO-8601 UTC time.
    times: Vec<bool>,
    /// Per CSV column: a time column whose cells carry more than milliseconds (a
    /// spreadsheet datetime keeps milliseconds): the CSV text goes beside it.
    precise: Vec<bool>,
    /// Per CSV column: every non-empty cell is a plain integer a double holds exactly.
    numbers: Vec<bool>,
    /// Widest cell (in characters) per sheet column.
    widths: Vec<usize>,
    rows: u64,
}

impl Shape {
    fn of(path: &Path) -> Result<Shape, String> {
        let mut reader =
            csv::Reader::from_path(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| e.to_string())?
            .iter()
            .map(str::to_string)
            .collect();
        let n = header.len();
        let mut seen = vec![false; n];
        let mut times = vec![true; n];
        let mut precise = vec![false; n];
        let mut numbers = vec![true; n];
        let mut text_widths = vec![0usize; n];
        let mut rows = 0u64;
        for record in reader.records() {
            let record = record.map_err(|e| format!("{}: {e}", path.display()))?;
            rows += 1;
            for (i, cell) in record.iter().enumerate().take(n) {
                if cell.is_empty() {
                    continue;
                }
                seen[i] = true;
                if times[i] {
                    match serial_of(cell) {
                        Some((_, sub_ms)) => precise[i] |= sub_ms,
                        None => times[i] = false,
                    }
                }
                numbers[i] &= is_plain_integer(cell);
                text_widths[i] = text_widths[i].max(cell.chars().count().min(MAX_WIDTH));
            }
        }
        for i in 0..n {
            times[i] &= seen[i];
            numbers[i] &= seen[i] && !times[i];
            precise[i] &= times[i];
        }
        let mut widths = Vec::new();
        for i in 0..n {
            let name = header[i].chars().count();
            if times[i] {
                widths.push(name.max(23));
                if precise[i] {
                    widths.push((name + 8).max(28));
                }
            } else {
                widths.push(name.max(text_widths[i]));
            }
        }
        Ok(Shape {
            header,
            times,
            precise,
            numbers,
            widths,
            rows,
        })
    }

    /// The header row, its freeze and filter, and the column widths of a sheet
    /// that will hold `rows` data rows.
    fn prepare(&self, sheet: &mut Worksheet, rows: u64, bold: &Format) -> Result<(), XlsxError> {
        let mut col = 0u16;
        for (i, name) in self.header.iter().enumerate() {
            sheet.write_string_with_format(0, col, name, bold)?;
            col += 1;
            if self.precise[i] {
                sheet.write_string_with_format(0, col, format!("{name} (100 ns)"), bold)?;
                col += 1;
            }
        }
        for (c, width) in self.widths.iter().enumerate() {
            sheet.set_column_width(c as u16, (*width + 2) as f64)?;
        }
        sheet.set_freeze_panes(1, 0)?;
        if col > 0 {
            sheet.autofilter(0, 0, rows as u32, col - 1)?;
        }
        Ok(())
    }

    /// Writes one data row; returns how many cells had to be cut.
    fn write_row(
        &self,
        sheet: &mut Worksheet,
        row: u32,
        record: &csv::StringRecord,
        datetime: &Format,
    ) -> Result<u64, XlsxError> {
        let mut col = 0u16;
        let mut cut = 0;
        for (i, _) in self.header.iter().enumerate() {
            let cell = record.get(i).unwrap_or("");
            if self.times[i] {
                if let Some((serial, _)) = serial_of(cell) {
                    sheet.write_number_with_format(row, col, serial, datetime)?;
                }
                col += 1;
                if self.precise[i] {
                    if !cell.is_empty() {
                        sheet.write_string(row, col, cell)?;
                    }
                    col += 1;
                }
                continue;
            }
            if !cell.is_empty() {
                match cell.parse::<f64>() {
                    Ok(number) if self.numbers[i] => {
                        sheet.write_number(row, col, number)?;
                    }
                    _ => {
                        let (text, was_cut) = fit(cell);
                        cut += u64::from(was_cut);
                        sheet.write_string(row, col, text)?;
                    }
                }
            }
            col += 1;
        }
        Ok(cut)
    }
}

/// The cell, or as much of it as a cell holds with a note saying it was cut.
fn fit(cell: &str) -> (std::borrow::Cow<'_, str>, bool) {
    if cell.len() <= CELL_CHARS || cell.chars().count() <= CELL_CHARS {
        return (cell.into(), false);
    }
    let total = cell.chars().count();
    let note = format!(" [cut: {total} characters, the CSV has them all]");
    let keep = CELL_CHARS - note.chars().count();
    let mut text: String = cell.chars().take(keep).collect();
    text.push_str(&note);
    (text.into(), true)
}

/// `2022-03-10T21:43:57.9101061Z` as a spreadsheet serial date (days since
/// 1899-12-30, UTC) and whether it carries more than milliseconds; `None` for
/// anything else.
fn serial_of(cell: &str) -> Option<(f64, bool)> {
    let b = cell.as_bytes();
    if b.len() < 20 || b[10] != b'T' || b[b.len() - 1] != b'Z' {
        return None;
    }
    let ts: jiff::Timestamp = cell.parse().ok()?;
    let nanos = ts.subsec_nanosecond();
    let seconds = ts.as_second() as f64 + f64::from(nanos) / 1e9;
    let serial = seconds / 86_400.0 + 25_569.0;
    // Spreadsheet dates start at 1900; earlier times stay text.
    (serial >= 1.0).then_some((serial, nanos % 1_000_000 != 0))
}

/// A plain integer that a double holds exactly and a spreadsheet shows the same
/// (no sign tricks, no leading zeros, at most 15 digits).
fn is_plain_integer(cell: &str) -> bool {
    let digits = cell.strip_prefix('-').unwrap_or(cell);
    !digits.is_empty()
        && digits.len() <= 15
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && cell != "-0"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_become_serial_dates() {
        let (serial, precise) = serial_of("1970-01-02T00:00:00.0000000Z").unwrap();
        assert_eq!((serial, precise), (25_570.0, false));
        assert!(serial_of("2022-03-10T21:43:57.9101061Z").unwrap().1);
        assert!(!serial_of("2022-03-10T21:43:57.910Z").unwrap().1);
        assert_eq!(serial_of("2022-03-10 21:43:57"), None);
        assert_eq!(serial_of("1601-01-01T00:00:00.0000000Z"), None);
    }

    #[test]
    fn only_plain_integers_are_numbers() {
        for yes in ["0", "4624", "-1", "123456789012345"] {
            assert!(is_plain_integer(yes), "{yes}");
        }
        for no in [
            "",
            "-",
            "007",
            "1e5",
            "1.5",
            "1234567890123456",
            "-0",
            "0x10",
            "+1",
        ] {
            assert!(!is_plain_integer(no), "{no}");
        }
    }

    #[test]
    fn a_table_longer_than_a_sheet_continues_on_the_next() {
        let dir = std::env::temp_dir().join(format!("tm-xlsx-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let csv = dir.join("t.csv");
        std::fs::write(
            &csv,
            "n,time\n1,2024-01-01T00:00:00.0000001Z\n2,\n3,\n4,\n5,\n",
        )
        .unwrap();
        let sources = [Source {
            name: "t",
            csv: &csv,
        }];
        // Three rows a sheet: the header and two data rows.
        let written = write_with_limit(&sources, &dir.join("t.xlsx"), 3).unwrap();
        assert_eq!(written.tables, [("t".to_string(), 5)]);
        assert_eq!(
            written.continued,
            [(
                "t".to_string(),
                vec!["t (2)".to_string(), "t (3)".to_string()]
            )]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A table the output does not have is no sheet; one that cannot be read (rows
    /// of unequal length here) fails the workbook, naming the file.
    #[test]
    fn an_unreadable_table_fails_the_workbook_an_absent_one_is_skipped() {
        let dir = std::env::temp_dir().join(format!("tm-xlsx-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (good, bad, absent) = (dir.join("g.csv"), dir.join("b.csv"), dir.join("a.csv"));
        std::fs::write(&good, "n\n1\n").unwrap();
        std::fs::write(&bad, "n,m\n1,2\n3\n").unwrap();
        let source = |name, csv| Source { name, csv };
        let written = write(
            &[source("g", &good), source("a", &absent)],
            &dir.join("ok.xlsx"),
        )
        .unwrap();
        assert_eq!(written.tables, [("g".to_string(), 1)]);
        let failed = write(
            &[source("g", &good), source("b", &bad)],
            &dir.join("bad.xlsx"),
        )
        .unwrap_err();
        assert!(failed.contains("b.csv"), "{failed}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn long_cells_are_cut_with_a_note() {
        let long = "é".repeat(CELL_CHARS + 1);
        let (text, cut) = fit(&long);
        assert!(cut && text.chars().count() == CELL_CHARS && text.ends_with("has them all]"));
        assert!(!fit("short").1);
    }
}
