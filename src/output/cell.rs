//! Cells that cannot turn into spreadsheet formulas.
//!
//! Excel, LibreOffice and Google Sheets evaluate a cell that starts with `=`, `+`,
//! `-` or `@` (and treat a leading tab or carriage return as whitespace before one).
//! Event fields, file names and command lines are attacker-controlled, so by default
//! such a cell gets a leading apostrophe, which every spreadsheet shows as text and
//! hides. Only what a spreadsheet would evaluate is touched:
//!
//! - a cell starting with `=`, `+`, `@`, tab or CR;
//! - a cell starting with `-` followed by something that is not a plain number.
//!
//! A lone `-` (which Windows writes into thousands of Security fields) and plain
//! numbers (`-1`, `+3.5`) stay as they are: they cannot call anything, and analysts
//! filter and sort by them.

use std::borrow::Cow;

/// The cell as it must be written so no spreadsheet evaluates it.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    if would_evaluate(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// Appends `cell` to a CSV record being rendered by hand: neutralised (unless `raw`),
/// and quoted as RFC 4180 asks when it holds a comma, a quote or a line break (the
/// bytes the `csv` crate quotes, so the output is the same byte for byte).
// Inlined into `write_record`: a call per cell cost more than most cells' work.
#[inline(always)]
fn write_cell(out: &mut Vec<u8>, cell: &str, raw: bool) {
    // Most cells of a wide table (evtx.csv's picked fields) are empty: nothing to
    // write, nothing to check.
    if cell.is_empty() {
        return;
    }
    let bytes = cell.as_bytes();
    // The apostrophe is not a byte that needs quoting: the check holds either way.
    let prefix = !raw && would_evaluate(cell);
    if needs_quotes(bytes) {
        out.push(b'"');
        if prefix {
            out.push(b'\'');
        }
        let mut start = 0;
        for quote in memchr::memchr_iter(b'"', bytes) {
            out.extend_from_slice(&bytes[start..=quote]);
            out.push(b'"');
            start = quote + 1;
        }
        out.extend_from_slice(&bytes[start..]);
        out.push(b'"');
    } else {
        if prefix {
            out.push(b'\'');
        }
        out.extend_from_slice(bytes);
    }
}

/// Whether a cell holds a comma, a quote or a line break.
fn needs_quotes(bytes: &[u8]) -> bool {
    use super::json::swar::eq;
    let mut words = bytes.chunks_exact(8);
    for word in words.by_ref() {
        let w = u64::from_le_bytes(word.try_into().unwrap_or_default());
        if eq(w, b',') | eq(w, b'"') | eq(w, b'\n') | eq(w, b'\r') != 0 {
            return true;
        }
    }
    words
        .remainder()
        .iter()
        .any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
}

/// One cell of a record rendered by hand.
#[derive(Clone, Copy, Debug)]
pub enum Cell<'a> {
    /// Text, neutralised and quoted as it needs (see [`write_cell`]).
    Text(&'a str),
    /// A cell its producer already rendered as a CSV field (quoted when it must
    /// be, inner quotes doubled) and that no spreadsheet evaluates, written as it
    /// is: for a wide cell whose producer quotes it for less than a second pass
    /// over it costs (the `event_data` JSON).
    Rendered(&'a str),
}

impl<'a> From<&'a str> for Cell<'a> {
    fn from(text: &'a str) -> Self {
        Cell::Text(text)
    }
}

/// Appends one CSV record: the cells (see [`write_cell`]) joined by commas, then `\n`,
/// as the `csv` crate's default writer renders it. Returns the number of cells.
pub(crate) fn write_record<'c, C: Into<Cell<'c>>>(
    out: &mut Vec<u8>,
    cells: impl IntoIterator<Item = C>,
    raw: bool,
) -> usize {
    let start = out.len();
    let mut count = 0;
    for cell in cells {
        if count > 0 {
            out.push(b',');
        }
        match cell.into() {
            Cell::Text(text) => write_cell(out, text, raw),
            Cell::Rendered(field) => out.extend_from_slice(field.as_bytes()),
        }
        count += 1;
    }
    // A record of one empty cell would be an empty line: quoted, as `csv` writes it.
    if count == 1 && out.len() == start {
        out.extend_from_slice(b"\"\"");
    }
    out.push(b'\n');
    count
}

/// `n` in decimal, written into `buf` (per-record numbers without a `String` or
/// the formatting machinery).
pub fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &str {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // Only ASCII digits were written.
    std::str::from_utf8(&buf[at..]).unwrap_or_default()
}

fn would_evaluate(cell: &str) -> bool {
    match cell.as_bytes().first() {
        Some(b'=' | b'@' | b'\t' | b'\r') => true,
        Some(b'+') => !is_plain_number(cell),
        Some(b'-') => cell.len() > 1 && !is_plain_number(cell),
        _ => false,
    }
}

fn is_plain_number(cell: &str) -> bool {
    let digits = cell.strip_prefix(['-', '+']).unwrap_or(cell);
    !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.chars().filter(|&c| c == '.').count() <= 1
        && digits.chars().any(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(neutralise("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        assert_eq!(neutralise("+SUM(A1)"), "'+SUM(A1)");
        assert_eq!(neutralise("-2+3"), "'-2+3");
        assert_eq!(neutralise("-cmd|' /C calc'!A0"), "'-cmd|' /C calc'!A0");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("\t=1"), "'\t=1");
        assert_eq!(neutralise("\r=1"), "'\r=1");
    }

    #[test]
    fn ordinary_cells_and_numbers_are_untouched() {
        assert_eq!(
            neutralise("C:\\Windows\\PSEXESVC.exe"),
            "C:\\Windows\\PSEXESVC.exe"
        );
        assert_eq!(neutralise("-1"), "-1");
        assert_eq!(neutralise("+3.5"), "+3.5");
        assert_eq!(neutralise(""), "");
        assert_eq!(neutralise("a=b"), "a=b");
        assert_eq!(neutralise("-"), "-");
        assert_eq!(neutralise("'quoted"), "'quoted");
    }
}
