//! CSV output: one writer type for every table, with spreadsheet-safe cells.

mod cell;
mod table;

pub use cell::neutralise;
pub use table::{Table, TableError};
