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

    // A wrong tag with no entry after it: the rest is skipped, reported once.
    let mut bad_tag = blob.clone();
    bad_tag.extend(b"20ts\0\0\0\0");
    let cache = shimcache::parse(&bad_tag).unwrap();
    assert_eq!(
        cache.problems,
        [Error::Skipped {
            cause: Box::new(Error::BadSignature {
                position: 2,
                offset: blob.len(),
                found: *b"20ts",
                expected: *b"10ts",
            }),
            offset: blob.len(),
            end: bad_tag.len(),
            resumed: false,
        }]
    );

    let cache = shimcache::parse(&win10(3, &[r"C:\a.exe"])).unwrap();
    assert_eq!(
        cache.problems,
        [Error::CountMismatch { count: 3, found: 1 }]
    );

    let mut oversize = win10(1, &[r"C:\a.exe"]);
    oversize[0x30 + 8] = 0xFF;
    let cache = shimcache::parse(&oversize).unwrap();
    assert!(matches!(
        &cache.problems[0],
        Error::Skipped { cause, offset: 0x30, resumed: false, .. }
            if matches!(**cause, Error::BadEntry { position: 0, offset: 0x30, .. })
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

/// Offsets of the records of a [`win10`] blob.
fn record_offsets(blob: &[u8]) -> Vec<usize> {
    let mut offsets = Vec::new();
    let mut at = 0x30;
    while at + 12 <= blob.len() {
        offsets.push(at);
        at += 12 + u32::from_le_bytes(blob[at + 8..at + 12].try_into().unwrap()) as usize;
    }
    offsets
}

fn paths(cache: &shimcache::ShimCache) -> Vec<(u32, &str)> {
    cache
        .entries
        .iter()
        .map(|e| (e.position, e.path.as_str()))
        .collect()
}

/// A change made to a copy of a clean blob.
type Edit<'a> = dyn Fn(&mut Vec<u8>) + 'a;

#[test]
fn damaged_tagged_entry_costs_only_itself() {
    let names = [r"C:\a.exe", r"C:\b.exe", r"C:\c.exe", r"C:\d.exe"];
    let clean = win10(4, &names);
    let at = record_offsets(&clean);
    let rest = [(2, r"C:\c.exe"), (3, r"C:\d.exe")];
    let damaged = |edit: &Edit<'_>| {
        let mut blob = clean.clone();
        edit(&mut blob);
        shimcache::parse(&blob).unwrap()
    };

    // Each damage of entry 1 that leaves no way to entry 2 from the record's
    // own size: a wrong tag, a size past the blob, a size of 0, zeros.
    let edits: [&Edit<'_>; 4] = [
        &|b| b[at[1]..at[1] + 4].copy_from_slice(b"XXXX"),
        &|b| b[at[1] + 8..at[1] + 12].copy_from_slice(&u32::MAX.to_le_bytes()),
        &|b| b[at[1] + 8..at[1] + 12].copy_from_slice(&0u32.to_le_bytes()),
        &|b| b[at[1]..at[2]].fill(0),
    ];
    for (i, edit) in edits.iter().enumerate() {
        let cache = damaged(edit);
        assert_eq!(
            paths(&cache),
            [(0, r"C:\a.exe"), rest[0], rest[1]],
            "edit {i}"
        );
        assert!(
            matches!(
                cache.problems[..],
                [
                    Error::Skipped { offset, end, resumed: true, .. },
                    Error::CountMismatch { count: 4, found: 3 },
                ] if offset == at[1] && end == at[2]
            ),
            "edit {i}: {:?}",
            cache.problems
        );
    }

    // The first entry's size of 0xFFFFFFFF: every other entry is still read.
    let cache = damaged(&|b| b[at[0] + 8..at[0] + 12].copy_from_slice(&u32::MAX.to_le_bytes()));
    assert_eq!(
        paths(&cache),
        [(1, r"C:\b.exe"), (2, r"C:\c.exe"), (3, r"C:\d.exe")]
    );
    assert!(cache.problems[0].to_string().ends_with(&format!(
        "record runs past the end of the blob; {} bytes skipped ({}..{}) to the next entry",
        at[1] - at[0],
        at[0],
        at[1]
    )));
}

#[test]
fn a_tag_inside_a_path_is_not_taken_for_an_entry() {
    // Entry 1's path holds the bytes of a tag, a checksum, a size of 16 and a
    // readable 16-byte record (U+3031 U+7374 is "10ts" in UTF-16LE); the
    // candidate is refused because it ends in the path ("xy"), where no record
    // starts.
    let inner = "\u{3031}\u{7374}\0\0\u{10}\0\0\0\0\0\0\0\0\0xy";
    let clean = win10(3, &[r"C:\a.exe", inner, r"C:\c.exe"]);
    let at = record_offsets(&clean);
    let mut blob = clean.clone();
    blob[at[1]..at[1] + 4].copy_from_slice(b"XXXX");
    let cache = shimcache::parse(&blob).unwrap();
    assert_eq!(paths(&cache), [(0, r"C:\a.exe"), (2, r"C:\c.exe")]);
}

#[test]
fn looking_for_the_next_entry_stays_linear() {
    // 16 MiB of tags whose sizes never fit: every offset is a candidate to
    // refuse. Quadratic work here would not finish.
    let mut blob = win10(1, &[r"C:\a.exe"]);
    let first = blob.len();
    blob.extend(b"10ts".repeat(4 << 20));
    let cache = shimcache::parse(&blob).unwrap();
    assert_eq!(cache.entries.len(), 1);
    assert!(matches!(
        cache.problems[..],
        [Error::Skipped { offset, resumed: false, .. }] if offset == first
    ));
}

#[test]
fn entries_stream_what_parse_collects() {
    let mut blob = win10(5, &[r"C:\a.exe", r"C:\b.exe"]);
    blob.extend([0, 0, 0, 0, 7]);
    let cache = shimcache::parse(&blob).unwrap();
    let walk = shimcache::entries(&blob).unwrap();
    assert_eq!(walk.format(), cache.format);
    assert_eq!(walk.header_entry_count(), Some(5));
    let items: Vec<_> = walk.collect();
    assert_eq!(items.len(), 4);
    assert_eq!(
        items
            .iter()
            .filter_map(|i| i.as_ref().ok())
            .collect::<Vec<_>>(),
        cache.entries.iter().collect::<Vec<_>>()
    );
    assert_eq!(
        items
            .into_iter()
            .filter_map(Result::err)
            .collect::<Vec<_>>(),
        cache.problems
    );
}
