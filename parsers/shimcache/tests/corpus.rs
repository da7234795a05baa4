//! Every AppCompatCache blob of the corpus (`registry/appcompatcache`, from
//! AndrewRathbun/DFIRArtifactMuseum, which took them from Eric Zimmerman's
//! AppCompatCacheParser test files).
//!
//! Oracles:
//! - the header's own entry count (XP: used-slot count; 2003-7: count; 10: count at
//!   0x24/0x28) against the entries found, and for the tagged formats a tiling check
//!   done here from the raw bytes (each record's size field leads exactly to the next
//!   record, and only zeros follow the last);
//! - Eric Zimmerman's AppCompatCacheParser unit tests (AppCompatCacheParserTest/
//!   AppCompatCacheTest.cs, commit 00a6470c), which state entry counts and, for
//!   chosen positions, path size in bytes, executed flag and a path fragment;
//! - an independent Python reading (run by `python3`) of every entry of the 2008 blob
//!   and of the Windows 10 Creators blob, which that suite does not cover.

use std::process::Command;

use shimcache::{Format, ShimCache};

const DIR: &str = "registry/appcompatcache";

fn parse(name: &str) -> (Vec<u8>, ShimCache) {
    let blob = testkit::read_corpus(&format!("{DIR}/{name}"));
    let cache = shimcache::parse(&blob).unwrap_or_else(|e| panic!("{name}: {e}"));
    (blob, cache)
}

/// Drive-letter, `\??\`-prefixed, `\\?\`, UNC or 8.x `SYSVOL\` paths, no control
/// chars; or, on Windows 10+, a packaged (Store) app identity: tab-separated fields
/// starting with 8 hex digits, e.g. `0000000b<TAB>...<TAB>windows.immersivecontrolpanel<TAB>...`.
fn plausible_path(path: &str) -> bool {
    let fields: Vec<&str> = path.split('\t').collect();
    if fields.len() >= 5 && fields[0].len() == 8 && fields[0].chars().all(|c| c.is_ascii_hexdigit())
    {
        // Field 4 is the package name; the last (resource id) may be empty.
        return !fields[4].is_empty() && !fields.iter().any(|f| f.chars().any(char::is_control));
    }
    let rest = path
        .strip_prefix(r"\??\")
        .or_else(|| path.strip_prefix(r"\\?\"))
        .unwrap_or(path);
    let bytes = rest.as_bytes();
    let drive = bytes.len() > 3 && bytes[0].is_ascii_alphabetic() && &bytes[1..3] == b":\\";
    let known_root = drive || rest.starts_with("SYSVOL\\") || rest.starts_with("\\\\");
    known_root && !path.chars().any(char::is_control)
}

#[test]
fn every_blob_parses_cleanly() {
    // Format per folder as the corpus README names them.
    let blobs = [
        ("WinXP/WinXPx86.bin", Format::WinXp),
        (
            "Win2008/Win2k8Standard.bin",
            Format::Vista { is_64bit: true },
        ),
        ("Win7/win7x86.bin", Format::Win7 { is_64bit: false }),
        ("Win7/win7x64.bin", Format::Win7 { is_64bit: true }),
        ("Win8.0/Win80.bin", Format::Win80),
        ("Win8.1/Win81.bin", Format::Win81),
        ("Win10/Win10.bin", Format::Win10),
        ("Win10/Win10Creators.bin", Format::Win10Creators),
    ];
    for (name, format) in blobs {
        let (blob, cache) = parse(name);
        assert_eq!(cache.format, format, "{name}");
        assert_eq!(cache.problems, [], "{name}");
        assert!(!cache.entries.is_empty(), "{name}");
        if let Some(count) = cache.header_entry_count {
            assert_eq!(cache.entries.len(), count as usize, "{name}: header count");
        }
        for (i, entry) in cache.entries.iter().enumerate() {
            assert_eq!(entry.position as usize, i, "{name}");
            assert!(entry.offset < blob.len(), "{name} entry {i}");
            assert!(
                plausible_path(&entry.path),
                "{name} entry {i}: {:?}",
                entry.path
            );
            let year = entry
                .last_modified
                .to_timestamp()
                .map(|t| t.to_zoned(jiff_utc()).year());
            assert!(
                entry.last_modified.is_zero() || year.is_some_and(|y| (1995..=2030).contains(&y)),
                "{name} entry {i}: {}",
                entry.last_modified
            );
        }
        if matches!(
            format,
            Format::Win80 | Format::Win81 | Format::Win10 | Format::Win10Creators
        ) {
            assert_tiles(name, &blob, &cache);
        }
    }
}

fn jiff_utc() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::UTC
}

/// Records follow each other exactly by their size fields (read here, not by the
/// parser) and only zeros follow the last one.
fn assert_tiles(name: &str, blob: &[u8], cache: &ShimCache) {
    let size_at = |offset: usize| {
        u32::from_le_bytes(blob[offset + 8..offset + 12].try_into().unwrap()) as usize
    };
    let header_len = u32::from_le_bytes(blob[0..4].try_into().unwrap()) as usize;
    let first = cache.entries[0].offset;
    assert!(
        first == header_len || first == 128,
        "{name}: first record at {first}"
    );
    for pair in cache.entries.windows(2) {
        assert_eq!(
            pair[0].offset + 12 + size_at(pair[0].offset),
            pair[1].offset,
            "{name}"
        );
    }
    let last = cache.entries.last().unwrap().offset;
    let end = last + 12 + size_at(last);
    assert!(end <= blob.len(), "{name}: last record past the end");
    assert!(
        blob[end..].iter().all(|&b| b == 0),
        "{name}: non-zero after {end}"
    );
}

/// (position, path size in bytes, executed, path fragment) as in Zimmerman's tests;
/// executed `None` is his `Execute.NA`.
type Expect = (usize, usize, Option<bool>, &'static str);

fn check_zimmerman(name: &str, count: usize, expected: &[Expect]) {
    let (_, cache) = parse(name);
    assert_eq!(cache.entries.len(), count, "{name}");
    for &(i, path_size, executed, fragment) in expected {
        let entry = &cache.entries[i];
        if path_size != 0 {
            assert_eq!(
                entry.path.encode_utf16().count() * 2,
                path_size,
                "{name} [{i}]"
            );
        }
        assert_eq!(entry.executed, executed, "{name} [{i}]");
        assert!(entry.path.contains(fragment), "{name} [{i}] {}", entry.path);
    }
}

#[test]
fn matches_appcompatcacheparser_expectations() {
    let yes = Some(true);
    let no = Some(false);
    check_zimmerman(
        "Win10/Win10.bin",
        350,
        &[
            (0, 54, None, "vds.exe"),
            (2, 140, None, "DismHost.exe"),
            (7, 58, None, "mstsc.exe"),
            (337, 112, None, "Ngen.exe"),
            (349, 64, None, "services.exe"),
        ],
    );
    check_zimmerman(
        "Win7/win7x64.bin",
        304,
        &[
            (0, 70, yes, "wuauclt.exe"),
            (2, 88, yes, "SearchFilterHost.exe"),
            (7, 126, no, "chrome.exe"),
            (300, 176, yes, "chrmstp.exe"),
            (301, 62, yes, "reg.exe"),
        ],
    );
    // XP: his suite counts 17 entries; it gives no path sizes (0 = not checked).
    check_zimmerman(
        "WinXP/WinXPx86.bin",
        17,
        &[
            (0, 0, None, "msoobe.exe"),
            (2, 0, None, "agentsvr.exe"),
            (8, 0, None, "NETSHELL.dll"),
        ],
    );
    check_zimmerman(
        "Win7/win7x86.bin",
        91,
        &[
            (0, 70, yes, "LogonUI.exe"),
            (2, 92, yes, "SearchProtocolHost.exe"),
            (8, 108, no, "wmplayer.exe"),
            (89, 62, yes, "reg.exe"),
            (90, 72, yes, "SETUPUGC.EXE"),
        ],
    );
    check_zimmerman(
        "Win8.0/Win80.bin",
        104,
        &[
            (0, 70, yes, "LogonUI.exe"),
            (2, 144, yes, "EditPadLite7.exe"),
            (8, 70, yes, "svchost.exe"),
            (100, 76, yes, "Setup.exe"),
            (101, 70, no, "WWAHost.exe"),
        ],
    );
    check_zimmerman(
        "Win8.1/Win81.bin",
        1024,
        &[
            (0, 94, yes, "java.exe"),
            (2, 128, yes, "SpotifyHelper.exe"),
            (8, 70, yes, "dllhost.exe"),
            (1011, 98, yes, "osTriage2.exe"),
            (1023, 170, yes, "setup.exe"),
        ],
    );
}

/// Independent readers, deliberately plain, printing one line per entry:
/// `path<US>raw filetime<US>extra` (US = 0x1f; Store-app "paths" contain tabs), where extra is the insert flags (2008) or the
/// data size (Windows 10).
const PYTHON_READERS: &str = r#"
import struct, sys
kind, path = sys.argv[1], sys.argv[2]
d = open(path, 'rb').read()
if kind == 'vista64':
    count = struct.unpack_from('<I', d, 4)[0]
    for i in range(count):
        o = 8 + 32 * i
        n, _, _, at, ft, flags = struct.unpack_from('<HHIQQI', d, o)
        print(d[at:at + n].decode('utf-16-le'), ft, flags, sep='\x1f')
else:
    o = struct.unpack_from('<I', d, 0)[0]
    while d[o:o + 4] == b'10ts':
        size, n = struct.unpack_from('<IH', d, o + 8)
        name = d[o + 14:o + 14 + n].decode('utf-16-le')
        ft, data = struct.unpack_from('<QI', d, o + 14 + n)
        print(name, ft, data, sep='\x1f')
        o += 12 + size
"#;

fn python_entries(kind: &str, name: &str) -> Vec<(String, u64, u64)> {
    let path = testkit::corpus_path(&format!("{DIR}/{name}"));
    let output = Command::new("python3")
        .args(["-c", PYTHON_READERS, kind])
        .arg(&path)
        .output()
        .expect("python3 is required as the independent oracle for this test");
    assert!(output.status.success(), "python reader failed: {output:?}");
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let mut cols = line.split('\x1f');
            let path = cols.next().unwrap().to_owned();
            let ft = cols.next().unwrap().parse().unwrap();
            let extra = cols.next().unwrap().parse().unwrap();
            (path, ft, extra)
        })
        .collect()
}

#[test]
fn win2008_matches_independent_reading() {
    let (_, cache) = parse("Win2008/Win2k8Standard.bin");
    let expected = python_entries("vista64", "Win2008/Win2k8Standard.bin");
    let ours: Vec<_> = cache
        .entries
        .iter()
        .map(|e| {
            let flags = u64::from(e.insert_flags.unwrap());
            (e.path.clone(), e.last_modified.raw(), flags)
        })
        .collect();
    assert_eq!(ours.len(), 873);
    assert_eq!(ours, expected);
}

#[test]
fn win10_creators_matches_independent_reading() {
    let (_, cache) = parse("Win10/Win10Creators.bin");
    let expected = python_entries("win10", "Win10/Win10Creators.bin");
    let ours: Vec<_> = cache
        .entries
        .iter()
        .map(|e| (e.path.clone(), e.last_modified.raw(), e.data_size.unwrap()))
        .collect();
    assert_eq!(ours.len(), 506);
    assert_eq!(ours, expected);
}

/// Offset of the `n`th record (0-based) of a tagged blob, by the size fields.
fn nth_record(blob: &[u8], first: usize, n: usize) -> usize {
    (0..n).fold(first, |at, _| {
        at + 12 + u32::from_le_bytes(blob[at + 8..at + 12].try_into().unwrap()) as usize
    })
}

#[test]
fn one_damaged_record_of_a_real_blob_costs_only_itself() {
    // The hostile-input hunt's cases: a changed tag mid-blob, the first
    // record's size 0xFFFFFFFF or 0, and a Windows 8.1 size past the blob.
    let cases: [(&str, usize, usize, &[u8]); 4] = [
        ("Win10/Win10Creators.bin", 0x34, 258, b"XXXX"),
        ("Win10/Win10Creators.bin", 0x34, 0, &[0xFF; 4]),
        ("Win10/Win10Creators.bin", 0x34, 0, &[0; 4]),
        ("Win8.1/Win81.bin", 0x80, 0, &[0xF0, 0xFF, 0xFF, 0xFF]),
    ];
    for (name, first, n, bytes) in cases {
        let (mut blob, clean) = parse(name);
        let at = nth_record(&blob, first, n);
        let field = if bytes == b"XXXX" { at } else { at + 8 };
        blob[field..field + 4].copy_from_slice(bytes);
        let cache = shimcache::parse(&blob).unwrap();
        let expected: Vec<_> = clean.entries.iter().filter(|e| e.offset != at).collect();
        assert_eq!(
            cache.entries.iter().collect::<Vec<_>>(),
            expected,
            "{name} record {n}"
        );
        assert!(
            matches!(
                cache.problems[0],
                shimcache::Error::Skipped { offset, resumed: true, .. } if offset == at
            ),
            "{name} record {n}: {:?}",
            cache.problems
        );
    }
}
