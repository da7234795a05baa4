//! Entries of the Amcache.hve registry hive: what Windows inventoried about programs,
//! files and drivers (paths, SHA-1 hashes, sizes, link dates, versions) with the
//! LastWrite time of each entry's key, which tracks when Windows (re)recorded it.
//!
//! Two layouts exist (see the README for sources):
//! - Windows 10/11 (and 8.1/2012 R2 after updates): `Root\InventoryApplicationFile`,
//!   `Root\InventoryApplication`, `Root\InventoryDriverBinary`,
//!   `Root\InventoryApplicationShortcut`, one key per item with named values.
//! - Windows 7/8: `Root\File\{volume GUID}\{file id}` with values named by hex
//!   numbers, and `Root\Programs\{program id}`.
//!
//! A hive can hold both (upgraded systems); both are read. The hive should be
//! replayed first (`regf::recover` with its `.LOG1`/`.LOG2`): Amcache is usually
//! dirty and recent entries may exist only in the logs.

// Parsers read hostile bytes: a panic would cost the whole scan, so every
// fallible step returns an error (tests may unwrap: clippy.toml).
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod error;
mod fields;
mod inventory;
mod legacy;

pub use error::{Error, Result};
pub use filetime::Filetime;

/// Which Amcache key an entry comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// `Root\InventoryApplicationFile\<name|hash>` (Windows 10/11): an executable seen
    /// on the system.
    ApplicationFile,
    /// `Root\InventoryApplication\<program id>` (Windows 10/11): an installed program.
    Application,
    /// `Root\InventoryDriverBinary\<driver path>` (Windows 10/11): a driver file.
    DriverBinary,
    /// `Root\InventoryApplicationShortcut\<id>` (Windows 10/11): a Start menu shortcut.
    ApplicationShortcut,
    /// `Root\File\<volume>\<file id>` (Windows 7/8): an executable seen on a volume.
    File,
    /// `Root\Programs\<program id>` (Windows 7/8): an installed program.
    Program,
}

/// One Amcache entry. Fields a kind does not record are `None`; the README's table
/// says which value fills which field per kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Where the entry came from.
    pub kind: EntryKind,
    /// Path of the entry's key below the hive root, e.g. `Root\InventoryApplicationFile\7z.exe|afe683e0fa522625`.
    pub key_path: String,
    /// LastWrite time of the entry's key.
    pub key_last_written: Filetime,
    /// File (or program root directory, or shortcut) path as recorded.
    pub path: Option<String>,
    /// File, driver or program name.
    pub name: Option<String>,
    /// SHA-1 of the file (first 31.4 MB only for large files), lowercase hex, with
    /// Amcache's "0000" prefix removed.
    pub sha1: Option<String>,
    /// File size (image size for drivers).
    pub size: Option<u64>,
    /// PE header link time.
    pub link_date: Option<Filetime>,
    /// Product name from the version resource.
    pub product: Option<String>,
    /// Publisher / company.
    pub publisher: Option<String>,
    /// File or program version.
    pub version: Option<String>,
    /// Program id tying files to their program.
    pub program_id: Option<String>,
    /// Program install time.
    pub install_date: Option<Filetime>,
    /// Windows 7/8 files: the file's last modification time as recorded (value `11`,
    /// else `17`).
    pub file_modified: Option<Filetime>,
    /// The PE version resource's `OriginalFilename`, lowercased by Windows (`psexec.c`
    /// for PsExec): the name the file was built with, whatever it is called now.
    pub original_file_name: Option<String>,
    /// Product version text from the version resource.
    pub product_version: Option<String>,
    /// File version from the fixed (binary) part of the version resource.
    pub bin_file_version: Option<String>,
    /// Product version from the fixed (binary) part of the version resource.
    pub bin_product_version: Option<String>,
    /// PE kind as Windows words it, e.g. `pe64_amd64`, `pe32_i386`.
    pub binary_type: Option<String>,
    /// Language id of the version resource (1033 = en-US; 0 = neutral).
    pub language: Option<u64>,
    /// `name|hash` of the long path; also the key name on Windows 10.
    pub long_path_hash: Option<String>,
    /// Change-journal USN of the file when Windows inventoried it.
    pub usn: Option<u64>,
    /// Whether Windows counts the file as part of the OS (`IsOsComponent`, present only
    /// when Windows wrote it).
    pub is_os_component: Option<bool>,
}

impl Entry {
    fn new(kind: EntryKind, key_path: String, key: &regf::Key<'_>) -> Self {
        Entry {
            kind,
            key_path,
            key_last_written: key.last_written(),
            path: None,
            name: None,
            sha1: None,
            size: None,
            link_date: None,
            product: None,
            publisher: None,
            version: None,
            program_id: None,
            install_date: None,
            file_modified: None,
            original_file_name: None,
            product_version: None,
            bin_file_version: None,
            bin_product_version: None,
            binary_type: None,
            language: None,
            long_path_hash: None,
            usn: None,
            is_os_component: None,
        }
    }
}

/// All entries of a hive plus what could not be read.
#[derive(Clone, Debug, Default)]
pub struct Parsed {
    /// Entries in hive order (Windows 10 keys first, then Windows 7/8 keys).
    pub entries: Vec<Entry>,
    /// Keys or values that were damaged and skipped, with their path.
    pub problems: Vec<String>,
}

/// Reads every entry of an Amcache hive. Fails only if the hive has no readable
/// `Root` key; damaged entries are skipped and listed in [`Parsed::problems`].
pub fn parse(hive: &regf::Hive) -> Result<Parsed> {
    let root = hive.root()?;
    let Some(top) = root.subkey("Root")? else {
        return Err(Error::NotAmcache { root: root.name() });
    };
    let mut out = Parsed::default();
    inventory::read(&top, &mut out);
    legacy::read(&top, &mut out);
    Ok(out)
}

/// Runs `each` on every subkey of `parent\name` (if present), collecting failures.
fn for_each_subkey(
    parent: &regf::Key<'_>,
    name: &str,
    out: &mut Parsed,
    mut each: impl FnMut(&regf::Key<'_>, String, &mut Parsed) -> regf::Result<()>,
) {
    let path = format!("Root\\{name}");
    let container = match parent.subkey(name) {
        Ok(Some(k)) => k,
        Ok(None) => return,
        Err(e) => {
            out.problems.push(format!("{path}: {e}"));
            return;
        }
    };
    // One unreadable entry costs that entry, not its siblings.
    match container.subkey_results() {
        Ok(keys) => {
            for key in keys {
                let key = match key {
                    Ok(key) => key,
                    Err(e) => {
                        out.problems.push(format!("{path}: {e}"));
                        continue;
                    }
                };
                let key_path = format!("{path}\\{}", key.name());
                if let Err(e) = each(&key, key_path.clone(), out) {
                    out.problems.push(format!("{key_path}: {e}"));
                }
            }
        }
        Err(e) => out.problems.push(format!("{path}: {e}")),
    }
}
