//! The Windows 7/8 layout. `Root\File\{volume GUID}\{file id}` keys hold values named
//! by hex numbers: `0` product, `1` company, `5` file version, `6` size, `f` link
//! time (Unix seconds), `11` last modified (FILETIME), `15` full path, `17` last
//! modified (FILETIME, second copy), `100` program id, `101` SHA-1. Programs:
//! `Root\Programs\{program id}` with `0` name, `1` version, `2` publisher, `a`
//! install time (Unix seconds). Meanings as documented by plaso's Amcache parser and
//! Yogesh Khatri's Amcache research.

use crate::fields::Fields;
use crate::{Entry, EntryKind, Parsed};

pub(crate) fn read(top: &regf::Key<'_>, out: &mut Parsed) {
    crate::for_each_subkey(top, "File", out, |volume, volume_path, out| {
        for key in volume.subkeys()? {
            let key_path = format!("{volume_path}\\{}", key.name());
            let f = match Fields::read(&key, &mut out.problems) {
                Ok(f) => f,
                Err(e) => {
                    out.problems.push(format!("{key_path}: {e}"));
                    continue;
                }
            };
            let mut e = Entry::new(EntryKind::File, key_path, &key);
            e.path = f.text("15");
            e.name = e
                .path
                .as_deref()
                .and_then(|p| p.rsplit('\\').next())
                .map(str::to_owned);
            e.sha1 = f.sha1("101");
            e.size = f.number("6");
            e.link_date = f.unix_time("f");
            e.product = f.text("0");
            e.publisher = f.text("1");
            e.version = f.text("5");
            e.program_id = f.text("100");
            e.file_modified = f.filetime("11").or_else(|| f.filetime("17"));
            out.entries.push(e);
        }
        Ok(())
    });
    crate::for_each_subkey(top, "Programs", out, |key, key_path, out| {
        let f = Fields::read(key, &mut out.problems)?;
        let mut e = Entry::new(EntryKind::Program, key_path, key);
        e.name = f.text("0");
        e.version = f.text("1");
        e.publisher = f.text("2");
        e.install_date = f.unix_time("a");
        e.program_id = Some(key.name());
        out.entries.push(e);
        Ok(())
    });
}
