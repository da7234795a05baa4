//! Acceptance 3: the version-31 files and the decompressed MAM reference.
//!
//! sccainfo cannot read version 31, so those files are checked against other
//! oracles: plaso's own test expectations for its version-31 sample, the corpus
//! README (folder `win11-v31` holds version 31 files), and invariants Windows keeps
//! (its own path among the loaded files, no more set run times than runs).

mod common;

use std::path::Path;

fn parse(path: &Path) -> prefetch::Prefetch {
    prefetch::parse(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", testkit::short(path)))
}

#[test]
fn mam_reference_parses_and_equals_sccainfo() {
    let reference =
        testkit::corpus_path("prefetch/win11-mam-reference/KAPE.EXE-07476F82-decompressed");
    let ours = parse(&reference);
    assert!(!ours.was_compressed);
    let theirs = common::sccainfo::run(&reference).expect("sccainfo reads the reference");
    let diffs = common::sccainfo::differences(&ours, &theirs);
    assert!(diffs.is_empty(), "{diffs:#?}");
    assert_eq!(
        ours.size as usize,
        std::fs::metadata(&reference).unwrap().len() as usize
    );

    // The corpus README promises the compressed twin only "if present"; it is not
    // in this corpus (see README.md of this crate for the manual check we did).
    // When a corpus ships it, it must decompress to exactly the reference.
    let twin = testkit::corpus().join("prefetch/artemis/win11/KAPE.EXE-07476F82.pf");
    if twin.exists() {
        let plain = prefetch::decompress(&std::fs::read(&twin).unwrap()).unwrap();
        assert!(
            plain == std::fs::read(&reference).unwrap(),
            "twin differs from reference"
        );
    } else {
        eprintln!(
            "compressed twin {} not in corpus; byte comparison skipped",
            twin.display()
        );
    }
}

#[test]
fn plaso_version_31_sample_matches_plaso_expectations() {
    // Expected values from plaso's tests/parsers/winprefetch.py,
    // testParse31TruncatedFilename, for this very file.
    let pf = parse(&testkit::corpus_path(
        "prefetch/plaso/winprefetch/AM_DELTA_PATCH_1.443.990.0.EX-7037CF86.pf",
    ));
    assert!(pf.was_compressed);
    assert_eq!(pf.version, 31);
    assert_eq!(pf.executable, "AM_DELTA_PATCH_1.443.990.0.EX");
    assert_eq!(pf.hash, 0x7037_CF86);
    assert_eq!(pf.run_count, 1);
    assert_eq!(pf.volumes.len(), 1);
    assert_eq!(
        pf.volumes[0].device_path,
        "\\VOLUME{01dc94cf1f08c4a4-bc1f1bfc}"
    );
    assert_eq!(pf.volumes[0].serial, 0xBC1F_1BFC);
    assert!(pf.files.iter().any(|f| f.ends_with(
        "\\WINDOWS\\SOFTWAREDISTRIBUTION\\DOWNLOAD\\INSTALL\\AM_DELTA_PATCH_1.443.990.0.EXE"
    )));
}

#[test]
fn win11_v31_folder_files_are_version_31_and_consistent() {
    let dir = testkit::corpus_path("prefetch/win11-v31");
    let mut count = 0usize;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let pf = parse(&path);
        let name = testkit::short(&path);
        assert_eq!(pf.version, 31, "{name}");
        assert!(
            !pf.was_compressed,
            "{name}: the corpus stores these decompressed"
        );
        assert!(pf.damaged.is_empty(), "{name}: {:?}", pf.damaged);
        assert!(!pf.last_run_times.is_empty(), "{name}: no run time");
        assert!(pf.last_run_times.len() as u32 <= pf.run_count, "{name}");
        let exe = format!("\\{}", pf.executable);
        assert!(
            pf.files.iter().any(|f| f.ends_with(&exe)),
            "{name}: its own executable is not among the loaded files"
        );
        assert!(!pf.directories.is_empty(), "{name}: no directories");
        count += 1;
    }
    // 23 files per the corpus MANIFEST.
    assert_eq!(count, 23);
}
