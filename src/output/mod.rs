//! CSV output: one writer type for every table, with spreadsheet-safe cells, the
//! column sets, and the sorted timeline.

mod cell;
mod image;
pub mod json;
mod ordered;
pub mod path_text;
pub mod schema;
mod stage;
mod table;
pub mod terminal;
mod timeline;
pub mod xlsx;

pub use cell::{decimal, neutralise, Cell};
pub use image::{header, sha256_of, CollectedFile, ImageOutput, TABLES};
pub use stage::Stage;
pub use table::{Table, TableError};
pub use terminal::shown;
pub use timeline::Timeline;
