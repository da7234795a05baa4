//! The Windows 10/11 layout: `Root\Inventory*` keys with named values.
//!
//! Field sources: ApplicationFile: `LowerCaseLongPath`, `Name`, `FileId` (SHA-1),
//! `Size`, `LinkDate` (text), `ProductName`, `Publisher`, `Version`, `ProgramId`,
//! `OriginalFileName`, `ProductVersion`, `BinFileVersion`, `BinProductVersion`,
//! `BinaryType`, `Language`, `LongPathHash`, `Usn`, `IsOsComponent`.
//! Application: `RootDirPath`, `Name`, `Publisher`, `Version`, `ProgramId`,
//! `InstallDate` (text). DriverBinary: the key name (a path with `/` separators),
//! `DriverName`, `DriverId` (SHA-1), `ImageSize`, `DriverTimeStamp` (Unix seconds),
//! `Product`, `DriverCompany`, `DriverVersion`. ApplicationShortcut: `ShortcutPath`.

use crate::fields::Fields;
use crate::{for_each_subkey, Entry, EntryKind, Parsed};

pub(crate) fn read(top: &regf::Key<'_>, out: &mut Parsed) {
    for_each_subkey(
        top,
        "InventoryApplicationFile",
        out,
        |key, key_path, out| {
            let f = Fields::read(key, &mut out.problems)?;
            let mut e = Entry::new(EntryKind::ApplicationFile, key_path, key);
            e.path = f.text("LowerCaseLongPath");
            e.name = f.text("Name");
            e.sha1 = f.sha1("FileId");
            e.size = f.number("Size");
            e.link_date = f.text_time("LinkDate");
            e.product = f.text("ProductName");
            e.publisher = f.text("Publisher");
            e.version = f.text("Version");
            e.program_id = f.text("ProgramId");
            e.original_file_name = f.text("OriginalFileName");
            e.product_version = f.text("ProductVersion");
            e.bin_file_version = f.text("BinFileVersion");
            e.bin_product_version = f.text("BinProductVersion");
            e.binary_type = f.text("BinaryType");
            e.language = f.number("Language");
            e.long_path_hash = f.text("LongPathHash");
            e.usn = f.number("Usn");
            e.is_os_component = f.number("IsOsComponent").map(|n| n != 0);
            out.entries.push(e);
            Ok(())
        },
    );
    for_each_subkey(top, "InventoryApplication", out, |key, key_path, out| {
        let f = Fields::read(key, &mut out.problems)?;
        let mut e = Entry::new(EntryKind::Application, key_path, key);
        e.path = f.text("RootDirPath");
        e.name = f.text("Name");
        e.publisher = f.text("Publisher");
        e.version = f.text("Version");
        e.program_id = f.text("ProgramId");
        e.install_date = f.text_time("InstallDate");
        out.entries.push(e);
        Ok(())
    });
    for_each_subkey(top, "InventoryDriverBinary", out, |key, key_path, out| {
        let f = Fields::read(key, &mut out.problems)?;
        let mut e = Entry::new(EntryKind::DriverBinary, key_path, key);
        // Newer systems name the key after the driver path ("c:/windows/..."); older
        // ones after the file id, which is no path.
        let key_name = key.name();
        e.path = key_name
            .contains(['/', '\\'])
            .then(|| key_name.replace('/', "\\"));
        e.name = f.text("DriverName");
        e.sha1 = f.sha1("DriverId");
        e.size = f.number("ImageSize");
        e.link_date = f.unix_time("DriverTimeStamp");
        e.product = f.text("Product");
        e.publisher = f.text("DriverCompany");
        e.version = f.text("DriverVersion");
        out.entries.push(e);
        Ok(())
    });
    for_each_subkey(
        top,
        "InventoryApplicationShortcut",
        out,
        |key, key_path, out| {
            let f = Fields::read(key, &mut out.problems)?;
            let mut e = Entry::new(EntryKind::ApplicationShortcut, key_path, key);
            e.path = f.text("ShortcutPath");
            out.entries.push(e);
            Ok(())
        },
    );
}
