//! Hand-built blobs (layouts as described in the crate docs, from the Mandiant paper
//! and libyal's winreg-kb) for the paths the corpus lacks: Server 2003 and 32-bit
//! Vista, and damage of every kind.

use shimcache::{Error, Format};

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// A 0xBADC0FFE blob with 32-bit entries; `tail` is the 8 bytes after the time
/// (file size on 2003, insert + shim flags on Vista).
fn nt52_32(paths: &[&str], tails: &[u64]) -> Vec<u8> {
    let table_end = 8 + 24 * paths.len();
    let mut blob = 0xBADC_0FFEu32.to_le_bytes().to_vec();
    blob.extend((paths.len() as u32).to_le_bytes());
    let mut strings = Vec::new();
    for (path, tail) in paths.iter().zip(tails) {
        let text = utf16(path);
        blob.extend((text.len() as u16).to_le_bytes());
        blob.extend((text.len() as u16 + 2).to_le_bytes());
        blob.extend(((table_end + strings.len()) as u32).to_le_bytes());
        blob.extend(0x01C8_5A71_5603_C0F0u64.to_le_bytes());
        blob.extend(tail.to_le_bytes());
        strings.extend(text);
        strings.extend([0, 0]);
    }
    blob.extend(strings);
    blob
}

/// A Windows 10 (0x30 header) blob stating `count` and holding `paths`.
fn win10(count: u32, paths: &[&str]) -> Vec<u8> {
    let mut blob = vec![0u8; 0x30];
    blob[0] = 0x30;
    blob[0x24..0x28].copy_from_slice(&count.to_le_bytes());
    for path in paths {
        let text = utf16(path);
        let mut record = (text.len() as u16).to_le_bytes().to_vec();
        record.extend(text);
        record.extend(0x01D0_5E34_1946_9DECu64.to_le_bytes());
        record.extend(4u32.to_le_bytes());
        record.extend([1, 2, 3, 4]);
        blob.extend(b"10ts");
        blob.extend(0xCCC3_2DCBu32.to_le_bytes());
        blob.extend((record.len() as u32).to_le_bytes());
        blob.extend(record);
    }
    blob
}

#[test]
fn vista_32bit_insert_flags() {
    let blob = nt52_32(
        &[r"\??\C:\a.exe", r"\??\C:\b.exe"],
        &[0x0000_0004_0000_0003, 1],
    );
    let cache = shimcache::parse(&blob).unwrap();
    assert_eq!(cache.format, Format::Vista { is_64bit: false });
    assert_eq!(cache.problems, []);
    let got: Vec<_> = cache
        .entries
        .iter()
        .map(|e| (e.path.as_str(), e.executed))
        .collect();
    assert_eq!(
        got,
        [
            (r"\??\C:\a.exe", Some(true)),
            (r"\??\C:\b.exe", Some(false))
        ]
    );
}

#[test]
fn server_2003_file_size() {
    let blob = nt52_32(&[r"\??\C:\a.exe"], &[0x1_C000]);
    let cache = shimcache::parse(&blob).unwrap();
    assert_eq!(cache.format, Format::Win2003 { is_64bit: false });
    assert_eq!(cache.entries[0].file_size, Some(0x1_C000));
    assert_eq!(cache.entries[0].executed, None);
}

#[test]
fn path_outside_blob_skips_only_that_entry() {
    let mut blob = nt52_32(&[r"C:\a.exe", r"C:\b.exe"], &[2, 2]);
    blob[8 + 4..8 + 8].copy_from_slice(&0xFFFF_0000u32.to_le_bytes());
    let cache = shimcache::parse(&blob).unwrap();
    assert_eq!(cache.entries.len(), 1);
    assert_eq!(cache.entries[0].position, 1);
    assert!(matches!(
        cache.problems[..],
        [Error::BadEntry {
            position: 0,
            offset: 8,
            ..
        }]
    ));
}

#[test]
fn count_larger_than_blob_reads_what_fits() {
    let mut blob = nt52_32(&[r"C:\a.exe"], &[2]);
    blob[4..8].copy_from_slice(&1000u32.to_le_bytes());
    let cache = shimcache::parse(&blob).unwrap();
    assert_eq!(cache.header_entry_count, Some(1000));
    assert!(matches!(
        cache.problems[0],
        Error::CountExceedsBlob { count: 1000, .. }
    ));
}

#[test]
fn fatal_errors() {
    assert!(matches!(
        shimcache::parse(&[0xEE, 0x0F, 0xDC, 0xBA, 0, 0]),
        Err(Error::TruncatedHeader {
            len: 6,
            needed: 128
        })
    ));
    assert!(matches!(
        shimcache::parse(b"not a cache at all"),
        Err(Error::UnknownFormat { .. })
    ));
    assert!(matches!(
        shimcache::parse(&[]),
        Err(Error::UnknownFormat { len: 0, .. })
    ));
}

#[test]
fn win10_entries_and_damage() {
    let blob = win10(2, &[r"C:\Windows\a.exe", r"C:\b.exe"]);
    let cache = shimcache::parse(&blob).unwrap();
    assert_eq!(cache.format, Format::Win10);
    assert_eq!(cache.problems, []);
    assert_eq!(cache.entries[1].path, r"C:\b.exe");
    assert_eq!(cache.entries[1].data_size, Some(4));

    let mut trailing = blob.clone();
    trailing.extend([0, 0, 0, 0, 7]);
    let cache = shimcache::parse(&trailing).unwrap();
    assert!(matches!(
        cache.problems[..],
        [Error::TrailingData { len: 5, .. }]
    ));

    let mut bad_tag = blob.clone();
    bad_tag.extend(b"20ts\0\0\0\0");
    let cache = shimcache::parse(&bad_tag).unwrap();
    assert!(matches!(
        cache.problems[..],
        [
            Error::BadSignature {
                position: 2,
                found: [b'2', b'0', b't', b's'],
                ..
            },
            Error::TrailingData { .. }
        ]
    ));

    let cache = shimcache::parse(&win10(3, &[r"C:\a.exe"])).unwrap();
    assert_eq!(
        cache.problems,
        [Error::CountMismatch { count: 3, found: 1 }]
    );

    let mut oversize = win10(1, &[r"C:\a.exe"]);
    oversize[0x30 + 8] = 0xFF;
    let cache = shimcache::parse(&oversize).unwrap();
    assert!(matches!(
        cache.problems[0],
        Error::BadEntry {
            position: 0,
            offset: 0x30,
            ..
        }
    ));

    let mut zero_padded = win10(1, &[r"C:\a.exe"]);
    zero_padded.extend([0; 100]);
    assert_eq!(shimcache::parse(&zero_padded).unwrap().problems, []);
    assert_eq!(shimcache::parse(&win10(0, &[])).unwrap().entries, []);
}

#[test]
fn format_seeds_from_make_seeds_py_parse_cleanly() {
    // fuzz/make_seeds.py writes one two-entry blob per layout.
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/parse");
    let expected = [
        ("xp", Format::WinXp),
        ("vista32", Format::Vista { is_64bit: false }),
        ("vista64", Format::Vista { is_64bit: true }),
        ("win7_32", Format::Win7 { is_64bit: false }),
        ("win7_64", Format::Win7 { is_64bit: true }),
        ("win80", Format::Win80),
        ("win81", Format::Win81),
        ("win10", Format::Win10),
        ("win10_creators", Format::Win10Creators),
    ];
    for (name, format) in expected {
        let blob = std::fs::read(dir.join(name)).expect("seed file");
        let cache = shimcache::parse(&blob).unwrap();
        assert_eq!(
            (cache.format, cache.problems.as_slice()),
            (format, &[][..]),
            "{name}"
        );
        let paths: Vec<_> = cache.entries.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, [r"\??\C:\Windows\a.exe", r"C:\b.exe"], "{name}");
    }
}
