//! Cells that cannot turn into spreadsheet formulas.
//!
//! Excel, LibreOffice and Google Sheets evaluate a cell that starts with `=`, `+`,
//! `-` or `@` (and treat a leading tab or carriage return as whitespace before
//! one). Event fields, file names and command lines are attacker-controlled, so by
//! default such a cell gets a leading apostrophe, which every spreadsheet shows as
//! text and hides. Plain numbers (`-1`, `+3.5`) are left alone: they cannot call
//! anything and analysts sort by them.

use std::borrow::Cow;

const TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// The cell as it must be written so no spreadsheet evaluates it.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some(first) if TRIGGERS.contains(&first) && !is_plain_number(cell) => {
            Cow::Owned(format!("'{cell}"))
        }
        _ => Cow::Borrowed(cell),
    }
}

/// The value a cell stood for before [`neutralise`]: the apostrophe it added is
/// removed; any other cell (including one that itself began with `'`) is unchanged.
/// A value that itself began with `'` and then `=`, `+`, `-`, `@`, tab or CR cannot be
/// told apart from a neutralised one and loses its apostrophe; toolmark only
/// restores cells to match them against rules, where that does not matter.
pub fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(TRIGGERS) && !is_plain_number(rest) => rest,
        _ => cell,
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
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("\t=1"), "'\t=1");
        assert_eq!(neutralise("\r=1"), "'\r=1");
    }

    #[test]
    fn restore_undoes_exactly_what_neutralise_did() {
        for cell in [
            "=cmd|' /C calc'!A0",
            "-2+3",
            "'quoted",
            "'-1",
            "plain",
            "",
            "-1",
            "@x",
        ] {
            assert_eq!(restore(&neutralise(cell)), cell, "{cell}");
        }
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
        assert_eq!(neutralise("-"), "'-");
    }
}
