//! Robustness without cargo-fuzz: every seed in `fuzz/corpus/parse/` and a few
//! thousand deterministic truncations, bit flips and field overwrites (testkit's
//! `Mutator`) of real corpus files go through the same entry points as the fuzz target; none may
//! panic. The seeds made by `fuzz/make_seeds.py` from the format description are
//! also checked for the values that script wrote, and the plain ones against
//! sccainfo, so the crafted v17..v31 layouts have an independent reader too.

mod common;

use std::path::{Path, PathBuf};

use prefetch::{Error, Filetime};

fn seeds_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/parse")
}

fn seed(name: &str) -> Vec<u8> {
    let path = seeds_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("seed {}: {e}", path.display()))
}

/// The same calls as `fuzz/fuzz_targets/parse.rs`.
fn all_entry_points(data: &[u8]) {
    let _ = prefetch::parse(data);
    let _ = prefetch::decompress(data);
    if let Some((&size, stream)) = data.split_first() {
        let _ = prefetch::lzxpress_huffman::decompress(stream, usize::from(size) * 256);
    }
}

#[test]
fn every_seed_goes_through_without_panic() {
    testkit::check_seeds(&seeds_dir(), 15, all_entry_points);
}

#[test]
fn crafted_seeds_parse_to_the_values_written_by_make_seeds() {
    // Constants of fuzz/make_seeds.py.
    let expected_files = [
        "\\DEVICE\\HARDDISKVOLUME2\\WINDOWS\\SYSTEM32\\NTDLL.DLL",
        "\\DEVICE\\HARDDISKVOLUME2\\TOOLS\\TOOL.EXE",
    ];
    let expected_dirs = [
        "\\DEVICE\\HARDDISKVOLUME2\\TOOLS",
        "\\DEVICE\\HARDDISKVOLUME2\\WINDOWS",
    ];
    for (name, version, slots, compressed) in [
        ("v17.pf", 17, 1, false),
        ("v23.pf", 23, 1, false),
        ("v26.pf", 26, 2, false),
        ("v30-variant1.pf", 30, 2, false),
        ("v30-variant2.pf", 30, 2, false),
        ("v31.pf", 31, 2, false),
        ("v30-variant2-mam.pf", 30, 2, true),
        ("v31-mam.pf", 31, 2, true),
    ] {
        let pf = prefetch::parse(&seed(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(pf.version, version, "{name}");
        assert_eq!(pf.was_compressed, compressed, "{name}");
        assert_eq!(pf.executable, "TOOL.EXE", "{name}");
        assert_eq!(pf.hash, 0x1234_5678, "{name}");
        assert_eq!(pf.run_count, 3, "{name}");
        let times = [
            Filetime(0x01D8_3000_0000_0000),
            Filetime(0x01D8_2000_0000_0000),
        ];
        assert_eq!(pf.last_run_times, times[..slots], "{name}");
        assert_eq!(pf.files, expected_files, "{name}");
        assert_eq!(pf.directories, expected_dirs, "{name}");
        assert_eq!(pf.volumes.len(), 1, "{name}");
        assert_eq!(
            pf.volumes[0].device_path, "\\DEVICE\\HARDDISKVOLUME2",
            "{name}"
        );
        assert_eq!(pf.volumes[0].serial, 0xCAFE_F00D, "{name}");
        assert_eq!(
            pf.volumes[0].created,
            Filetime(0x01D0_F9A1_9C58_6134),
            "{name}"
        );
        assert!(pf.damaged.is_empty(), "{name}: {:?}", pf.damaged);
        // sccainfo reads the plain seeds of the versions it knows.
        if !compressed && version != 31 {
            let theirs = common::sccainfo::run(&seeds_dir().join(name)).expect(name);
            let diffs = common::sccainfo::differences(&pf, &theirs);
            assert!(diffs.is_empty(), "{name}: {diffs:#?}");
        }
    }
}

#[test]
fn damaged_seeds_give_the_right_errors() {
    let err = |name: &str| prefetch::parse(&seed(name)).unwrap_err();
    assert!(matches!(err("not-prefetch.pf"), Error::NotPrefetch { .. }));
    assert!(matches!(
        err("truncated-header.pf"),
        Error::Truncated { .. }
    ));
    assert!(matches!(err("truncated-info.pf"), Error::Truncated { .. }));
    assert_eq!(
        err("unknown-version.pf"),
        Error::UnsupportedVersion { version: 29 }
    );
    assert!(matches!(err("mam-huge-size.pf"), Error::SizeLimit { .. }));
    assert!(matches!(
        err("mam-empty-table.pf"),
        Error::HuffmanTable { .. }
    ));
    assert!(matches!(
        err("mam-truncated.pf"),
        Error::CorruptStream { .. }
    ));
    assert_eq!(
        err("mam-checksum-format.pf"),
        Error::UnsupportedMamFormat { format: 0x84 }
    );
    // Damaged volume data is collected; the rest of the file is still there.
    for name in [
        "huge-volume-count.pf",
        "huge-directory-count.pf",
        "truncated-volumes.pf",
    ] {
        let pf = prefetch::parse(&seed(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(pf.run_count, 3, "{name}");
        assert_eq!(pf.files.len(), 2, "{name}");
        assert!(!pf.damaged.is_empty(), "{name}");
        assert!(pf.volumes.len() <= 1, "{name}");
    }
}

#[test]
fn mutated_corpus_files_never_panic() {
    let files = common::prefetch_files();
    let mut mutator = testkit::Mutator::new(0x9E37_79B9_7F4A_7C15).max_flips(8);
    for path in &files {
        let original = std::fs::read(path).unwrap();
        let name = testkit::short(path);
        // Mutate the compressed file (decompressor) and, for MAM files, the
        // decompressed SCCA bytes too (parser behind a valid decompression).
        mutator.run(&name, &original, 4, all_entry_points);
        if original.starts_with(b"MAM") {
            let plain = prefetch::decompress(&original).unwrap();
            mutator.run(&format!("{name} decompressed"), &plain, 4, all_entry_points);
        }
    }
    assert!(mutator.cases() > 5000, "{} cases", mutator.cases());
}
