//! Every Amcache hive of the corpus, replayed with its logs, against `regfexport`'s
//! dump of the same replayed bytes: entry counts per kind equal the number of entry
//! keys regfexport lists, and 20 entries per hive carry exactly the values regfexport
//! prints for their key (dates converted independently with jiff) and the key
//! LastWrite time `hivexml` prints (to the second); every file entry's values
//! (including the PE fields OriginalFileName, BinFileVersion, BinaryType, Language,
//! Usn, IsOsComponent) are compared too. Dirty hives must show entries that exist
//! only after replay.

#[path = "../../regf/tests/common/hivexml.rs"]
mod hivexml;
#[path = "../../regf/tests/common/regfexport.rs"]
mod regfexport;

use std::collections::{BTreeMap, HashSet};

use amcache::{Entry, EntryKind, Filetime};
use regfexport::{ExportedValue, Printed};
use testkit::{corpus, read_corpus};

fn read_optional(rel: &str) -> Option<Vec<u8>> {
    std::fs::read(corpus().join(rel)).ok()
}

/// Replays the hive at `rel` with its logs, if it has any.
fn replayed(rel: &str) -> regf::Recovered {
    let primary = read_corpus(rel);
    let log1 = read_optional(&format!("{rel}.LOG1"));
    let log2 = read_optional(&format!("{rel}.LOG2"));
    regf::recover(&primary, log1.as_deref(), log2.as_deref()).expect("recover")
}

/// Which kind regfexport's key path (below the root key) denotes, if an entry key.
fn kind_of(rel: &str) -> Option<EntryKind> {
    let parts: Vec<&str> = rel.split('\\').collect();
    match parts.as_slice() {
        ["Root", "InventoryApplicationFile", _] => Some(EntryKind::ApplicationFile),
        ["Root", "InventoryApplication", _] => Some(EntryKind::Application),
        ["Root", "InventoryDriverBinary", _] => Some(EntryKind::DriverBinary),
        ["Root", "InventoryApplicationShortcut", _] => Some(EntryKind::ApplicationShortcut),
        ["Root", "File", _, _] => Some(EntryKind::File),
        ["Root", "Programs", _] => Some(EntryKind::Program),
        _ => None,
    }
}

fn printed_text(values: &[ExportedValue], name: &str) -> Option<String> {
    let v = values.iter().find(|v| v.name.eq_ignore_ascii_case(name))?;
    match &v.data {
        Printed::Text(t) if !t.is_empty() => Some(t.clone()),
        _ => None,
    }
}

fn ts(ft: Option<Filetime>) -> Option<jiff::Timestamp> {
    ft.and_then(|f| f.to_timestamp())
}

/// Checks one entry against regfexport's values of its key.
fn check_entry(e: &Entry, values: &[ExportedValue]) {
    let text = |n: &str| printed_text(values, n);
    let number = |n: &str| {
        text(n).map(|t| match t.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16).expect("hex"),
            None => t.parse::<u64>().expect("decimal"),
        })
    };
    let sha1 = |n: &str| text(n).map(|t| t.strip_prefix("0000").unwrap_or(&t).to_ascii_lowercase());
    let text_date = |n: &str| {
        text(n).map(|t| {
            jiff::civil::DateTime::strptime("%m/%d/%Y %H:%M:%S", &t)
                .expect("date text")
                .to_zoned(jiff::tz::TimeZone::UTC)
                .expect("utc")
                .timestamp()
        })
    };
    let unix_date = |n: &str| {
        number(n)
            .filter(|s| *s != 0)
            .map(|s| jiff::Timestamp::from_second(s as i64).expect("unix time"))
    };
    let ctx = &e.key_path;
    match e.kind {
        EntryKind::ApplicationFile => {
            assert_eq!(e.path, text("LowerCaseLongPath"), "{ctx}");
            assert_eq!(e.name, text("Name"), "{ctx}");
            assert_eq!(e.sha1, sha1("FileId"), "{ctx}");
            assert_eq!(e.size, number("Size"), "{ctx}");
            assert_eq!(ts(e.link_date), text_date("LinkDate"), "{ctx}");
            assert_eq!(e.product, text("ProductName"), "{ctx}");
            assert_eq!(e.publisher, text("Publisher"), "{ctx}");
            assert_eq!(e.version, text("Version"), "{ctx}");
            assert_eq!(e.program_id, text("ProgramId"), "{ctx}");
            assert_eq!(e.original_file_name, text("OriginalFileName"), "{ctx}");
            assert_eq!(e.product_version, text("ProductVersion"), "{ctx}");
            assert_eq!(e.bin_file_version, text("BinFileVersion"), "{ctx}");
            assert_eq!(e.bin_product_version, text("BinProductVersion"), "{ctx}");
            assert_eq!(e.binary_type, text("BinaryType"), "{ctx}");
            assert_eq!(e.language, number("Language"), "{ctx}");
            assert_eq!(e.long_path_hash, text("LongPathHash"), "{ctx}");
            assert_eq!(e.usn, number("Usn"), "{ctx}");
            assert_eq!(
                e.is_os_component,
                number("IsOsComponent").map(|n| n != 0),
                "{ctx}"
            );
        }
        EntryKind::Application => {
            assert_eq!(e.path, text("RootDirPath"), "{ctx}");
            assert_eq!(e.name, text("Name"), "{ctx}");
            assert_eq!(e.publisher, text("Publisher"), "{ctx}");
            assert_eq!(e.version, text("Version"), "{ctx}");
            assert_eq!(e.program_id, text("ProgramId"), "{ctx}");
            assert_eq!(ts(e.install_date), text_date("InstallDate"), "{ctx}");
        }
        EntryKind::DriverBinary => {
            assert_eq!(e.name, text("DriverName"), "{ctx}");
            assert_eq!(e.sha1, sha1("DriverId"), "{ctx}");
            assert_eq!(e.size, number("ImageSize"), "{ctx}");
            assert_eq!(ts(e.link_date), unix_date("DriverTimeStamp"), "{ctx}");
            assert_eq!(e.product, text("Product"), "{ctx}");
            assert_eq!(e.publisher, text("DriverCompany"), "{ctx}");
            assert_eq!(e.version, text("DriverVersion"), "{ctx}");
        }
        EntryKind::ApplicationShortcut => assert_eq!(e.path, text("ShortcutPath"), "{ctx}"),
        EntryKind::File => {
            assert_eq!(e.path, text("15"), "{ctx}");
            assert_eq!(e.sha1, sha1("101"), "{ctx}");
            assert_eq!(e.size, number("6"), "{ctx}");
            assert_eq!(ts(e.link_date), unix_date("f"), "{ctx}");
            assert_eq!(e.product, text("0"), "{ctx}");
            assert_eq!(e.publisher, text("1"), "{ctx}");
            assert_eq!(e.version, text("5"), "{ctx}");
            assert_eq!(e.program_id, text("100"), "{ctx}");
            let modified = number("11").or_else(|| number("17")).filter(|n| *n != 0);
            assert_eq!(e.file_modified.map(Filetime::raw), modified, "{ctx}");
        }
        EntryKind::Program => {
            assert_eq!(e.name, text("0"), "{ctx}");
            assert_eq!(e.version, text("1"), "{ctx}");
            assert_eq!(e.publisher, text("2"), "{ctx}");
            assert_eq!(ts(e.install_date), unix_date("a"), "{ctx}");
        }
    }
}

/// Parses the replayed hive and compares it with regfexport; returns the entries.
fn check_hive(rel: &str) -> Vec<Entry> {
    let rec = replayed(rel);
    let tmp = std::env::temp_dir().join(format!(
        "toolmark-amcache-{}-{}",
        std::process::id(),
        rel.replace('/', "_")
    ));
    std::fs::write(&tmp, &rec.bytes).expect("temp hive");
    let exported = regfexport::parse(&regfexport::run(&tmp));
    let mtimes: BTreeMap<String, String> = hivexml::run(&tmp)
        .1
        .into_iter()
        .map(|n| (n.path, n.mtime))
        .collect();
    let _ = std::fs::remove_file(&tmp);

    let hive = regf::Hive::from_bytes(rec.bytes).expect("hive");
    let parsed = amcache::parse(&hive).expect("amcache");
    assert!(parsed.problems.is_empty(), "{rel}: {:?}", parsed.problems);

    let root = hive.root().expect("root").name();
    let mut expected: BTreeMap<String, (EntryKind, &Vec<ExportedValue>)> = BTreeMap::new();
    for (path, values) in &exported {
        let rel_path = path.strip_prefix(&format!("{root}\\")).unwrap_or(path);
        if let Some(kind) = kind_of(rel_path) {
            expected.insert(rel_path.to_owned(), (kind, values));
        }
    }
    let mut counts_ours: BTreeMap<String, usize> = BTreeMap::new();
    let mut counts_theirs: BTreeMap<String, usize> = BTreeMap::new();
    for e in &parsed.entries {
        *counts_ours.entry(format!("{:?}", e.kind)).or_default() += 1;
    }
    for (kind, _) in expected.values() {
        *counts_theirs.entry(format!("{kind:?}")).or_default() += 1;
    }
    assert_eq!(
        counts_ours, counts_theirs,
        "{rel}: entries per kind vs regfexport"
    );
    eprintln!("{rel}: {counts_ours:?} (report: {:?})", rec.report);

    let stride = (parsed.entries.len() / 20).max(1);
    for e in parsed.entries.iter().step_by(stride).take(20) {
        let (kind, values) = expected
            .get(&e.key_path)
            .unwrap_or_else(|| panic!("{rel}: {} not in regfexport", e.key_path));
        assert_eq!(*kind, e.kind);
        check_entry(e, values);
        assert_eq!(
            Some(&hivexml::seconds(e.key_last_written)),
            mtimes.get(&e.key_path),
            "{rel}: {} LastWrite vs hivexml",
            e.key_path
        );
    }
    // The PE fields (OriginalFileName & co.) on every file entry, not just the sample:
    // they are what finds a renamed tool, so each one is compared.
    let mut filled = BTreeMap::<&str, usize>::new();
    for e in parsed
        .entries
        .iter()
        .filter(|e| e.kind == EntryKind::ApplicationFile)
    {
        check_entry(e, expected[&e.key_path].1);
        for (field, set) in [
            ("original_file_name", e.original_file_name.is_some()),
            ("bin_file_version", e.bin_file_version.is_some()),
            ("binary_type", e.binary_type.is_some()),
            ("language", e.language.is_some()),
            ("usn", e.usn.is_some()),
            ("is_os_component", e.is_os_component.is_some()),
        ] {
            *filled.entry(field).or_default() += usize::from(set);
        }
    }
    eprintln!("{rel}: file entries with PE fields: {filled:?}");
    parsed.entries
}

/// Entries (whole records, including key LastWrite) present after replay but not in
/// the unreplayed primary: (new key paths, changed or new records).
fn only_after_replay(rel: &str, after: &[Entry]) -> (usize, usize) {
    let before =
        amcache::parse(&regf::Hive::from_bytes(read_corpus(rel)).expect("hive")).expect("amcache");
    let known: HashSet<&str> = before.entries.iter().map(|e| e.key_path.as_str()).collect();
    let new_keys = after
        .iter()
        .filter(|e| !known.contains(e.key_path.as_str()))
        .count();
    let changed = after.iter().filter(|e| !before.entries.contains(e)).count();
    eprintln!(
        "{rel}: {} entries before replay, {} after, {new_keys} new keys, {changed} new or changed records",
        before.entries.len(),
        after.len()
    );
    (new_keys, changed)
}

#[test]
fn win10_aptsim_dirty_replay_reveals_entries() {
    let rel = "hosts/win10-aptsim/Windows/AppCompat/Programs/Amcache.hve";
    let after = check_hive(rel);
    let (new_keys, _) = only_after_replay(rel, &after);
    assert!(
        new_keys > 0,
        "replay must reveal entries absent from the primary"
    );
}

#[test]
fn win10_rathbun_dirty_replayed() {
    let rel = "registry/amcache/Win10-RathbunVM/Amcache.hve";
    let after = check_hive(rel);
    only_after_replay(rel, &after);
}

#[test]
fn win11_dirty_replay_reveals_entries() {
    let rel = "registry/amcache/Win11-RathbunVM/Amcache.hve";
    let after = check_hive(rel);
    let (new_keys, changed) = only_after_replay(rel, &after);
    assert!(
        new_keys + changed > 0,
        "replay must change what the primary shows"
    );
}

#[test]
fn win2012r2() {
    check_hive("registry/amcache/Win2012R2-StolenSzechuan/Amcache.hve");
}

#[test]
fn plaso_win10_clean() {
    check_hive("registry/amcache/plaso-win10/win10-Amcache.hve");
}

#[test]
fn plaso_dirty_without_logs() {
    let rel = "registry/amcache/plaso-dirty-nologs/Amcache.hve";
    let rec = replayed(rel);
    assert!(rec.report.was_dirty && rec.report.logs_applied.is_empty());
    check_hive(rel);
}
