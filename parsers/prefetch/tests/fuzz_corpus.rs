//! Robustness without cargo-fuzz: every seed in `fuzz/corpus/parse/` and a few
//! thousand deterministic truncations, bit flips and field overwrites of real
//! corpus files go through the same entry points as the fuzz target; none may
//! panic. The seeds made by `fuzz/make_seeds.py` from the format description are
//! also checked for the values that script wrote, and the plain ones against
//! sccainfo, so the crafted v17..v31 layouts have an independent reader too.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
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

fn no_panic(what: &str, data: &[u8]) {
    if catch_unwind(AssertUnwindSafe(|| all_entry_points(data))).is_err() {
        panic!("panic on {what}");
    }
}

#[test]
fn every_seed_goes_through_without_panic() {
    let mut count = 0;
    for entry in std::fs::read_dir(seeds_dir()).expect("fuzz seed directory") {
        let path = entry.unwrap().path();
        no_panic(&path.display().to_string(), &std::fs::read(&path).unwrap());
        count += 1;
    }
    assert!(count >= 15, "only {count} seeds");
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

/// xorshift64*: deterministic, so a failure names a reproducible case.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, data: &[u8]) -> Vec<u8> {
    let mut out = data.to_vec();
    match rng.below(3) {
        0 => out.truncate(rng.below(out.len())),
        1 => {
            for _ in 0..1 + rng.below(8) {
                let bit = rng.below(out.len() * 8);
                if let Some(byte) = out.get_mut(bit / 8) {
                    *byte ^= 1 << (bit % 8);
                }
            }
        }
        _ => {
            // Offsets and counts are u32s: try the values that break arithmetic.
            let value = [0u32, 1, 0x7FFF_FFFF, 0xFFFF_FFFF, rng.next() as u32][rng.below(5)];
            let at = rng.below(out.len().saturating_sub(4));
            if let Some(field) = out.get_mut(at..at + 4) {
                field.copy_from_slice(&value.to_le_bytes());
            }
        }
    }
    out
}

#[test]
fn mutated_corpus_files_never_panic() {
    let files = common::prefetch_files();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut cases = 0usize;
    for round in 0..4 {
        for (i, path) in files.iter().enumerate() {
            let original = std::fs::read(path).unwrap();
            // Mutate the compressed file (decompressor) and, for MAM files, the
            // decompressed SCCA bytes too (parser behind a valid decompression).
            let mut targets = vec![original.clone()];
            if original.starts_with(b"MAM") {
                targets.push(prefetch::decompress(&original).unwrap());
            }
            for (t, target) in targets.iter().enumerate() {
                let mutated = mutate(&mut rng, target);
                no_panic(
                    &format!(
                        "round {round} file {i} target {t} ({})",
                        common::short(path)
                    ),
                    &mutated,
                );
                cases += 1;
            }
        }
    }
    assert!(cases > 5000, "{cases} cases");
}
