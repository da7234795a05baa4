//! The hand-made hives of fuzz/corpus/amcache (fuzz/make_seeds.py) yield the entries
//! the generator wrote, including the Windows 10 hex-text size and both date codings.

use amcache::{EntryKind, Filetime};

fn parse(name: &str) -> amcache::Parsed {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus/amcache")
        .join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    amcache::parse(&regf::Hive::from_bytes(bytes).unwrap()).unwrap()
}

#[test]
fn both_layouts() {
    let p = parse("both_layouts");
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let kinds: Vec<EntryKind> = p.entries.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EntryKind::ApplicationFile,
            EntryKind::DriverBinary,
            EntryKind::File,
            EntryKind::Program
        ]
    );
    let f = &p.entries[0];
    assert_eq!(f.path.as_deref(), Some("c:\\tools\\a.exe"));
    assert_eq!(
        f.sha1.as_deref(),
        Some("0123456789abcdef0123456789abcdef01234567")
    );
    assert_eq!(f.size, Some(0x3e40));
    assert_eq!(
        f.link_date.map(|t| t.to_string()).as_deref(),
        Some("2019-02-21T16:00:00.0000000Z")
    );
    let d = &p.entries[1];
    assert_eq!(
        d.path.as_deref(),
        Some("c:\\windows\\system32\\drivers\\x.sys")
    );
    // 0x5C6ECA80 = 1550764672 Unix seconds.
    assert_eq!(
        d.link_date.map(|t| t.to_string()).as_deref(),
        Some("2019-02-21T15:57:52.0000000Z")
    );
    let w7 = &p.entries[2];
    assert_eq!(
        w7.key_path,
        "Root\\File\\a7f6108c-f8fd-11ea-80b5-806e6f6e6963\\1000015114"
    );
    assert_eq!(w7.name.as_deref(), Some("b.exe"));
    assert_eq!(w7.size, Some(19456));
    assert_eq!(
        w7.file_modified,
        Some(Filetime::from_raw(0x01D6_8F00_0000_0000))
    );
    assert_eq!(p.entries[3].name.as_deref(), Some("Tool"));
}

#[test]
fn malformed_sha1_is_dropped() {
    let p = parse("win7_only_bad_sha");
    assert_eq!(p.entries.len(), 2);
    assert_eq!(p.entries[0].sha1, None);
}

#[test]
fn non_amcache_hive_is_rejected() {
    let bytes = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../regf/fuzz/corpus/hive/clean"),
    )
    .unwrap();
    let hive = regf::Hive::from_bytes(bytes).unwrap();
    assert!(matches!(
        amcache::parse(&hive),
        Err(amcache::Error::NotAmcache { .. })
    ));
}
