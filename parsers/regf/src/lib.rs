//! Read-only reader for Windows registry hive files (the "regf" format), with replay
//! of transaction logs (`.LOG1`/`.LOG2`, old and new format) for dirty hives.
//!
//! A hive file is a 4096-byte base block followed by hive bins; hive bins hold cells;
//! cells hold key nodes (`nk`), values (`vk`), subkey lists (`li`/`lf`/`lh`/`ri`),
//! value lists, security descriptors (`sk`) and big data (`db`). Each module below
//! describes its structure. Sources: Maxim Suhanov, "Windows registry file format
//! specification" (github.com/msuhanov/regf), and Joachim Metz, "Windows NT Registry
//! File (REGF) format" (libyal/libregf documentation); the test hives of Suhanov's
//! yarp project define the expected recovery outcomes.
//!
//! ```no_run
//! # fn main() -> Result<(), regf::Error> {
//! # let (primary, log1, log2): (Vec<u8>, Vec<u8>, Vec<u8>) = Default::default();
//! let recovered = regf::recover(&primary, Some(&log1), Some(&log2))?;
//! let hive = regf::Hive::from_bytes(recovered.bytes)?;
//! if let Some(key) = hive.open_key("ControlSet001\\Services\\PSEXESVC")? {
//!     println!("{} {}", key.name(), key.last_written());
//! }
//! # Ok(()) }
//! ```

// Parsers read hostile bytes: a panic would cost the whole scan, so every
// fallible step returns an error (tests may unwrap: clippy.toml).
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod base_block;
mod bytes;
mod carve;
mod cell;
mod error;
mod hive;
mod key;
mod recover;
mod subkey_list;
mod text;
mod value;

pub use base_block::{BaseBlock, BASE_BLOCK_SIZE};
pub use carve::{bin_header, key_cells, BinHeader, MAX_CARVED_HIVE};
pub use error::{Error, Result};
pub use filetime::Filetime;
pub use hive::{Hive, MAX_KEY_DEPTH};
pub use key::Key;
pub use recover::{recover, recover_owned, LogFile, LogFormat, Recovered, RecoveryReport};
pub use value::{Value, ValueData, ValueType};
