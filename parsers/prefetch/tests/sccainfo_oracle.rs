//! Acceptance 2: for every corpus Prefetch file that libscca's `sccainfo` can read,
//! our version, hash, executable name, run count, set last-run times (to the 100 ns),
//! referenced file names and volumes (device path, creation time, serial) equal what
//! sccainfo prints. sccainfo 20200717 cannot read version 31; those files are
//! skipped here (and checked in `v31_and_mam_reference.rs`), and the test asserts
//! that version 31 is the only reason for a skip.

mod common;

#[test]
fn fields_equal_sccainfo_for_every_file_it_supports() {
    let files = common::prefetch_files();
    let mut compared = 0usize;
    let mut skipped = Vec::new();
    let mut mismatches = Vec::new();
    for path in &files {
        let bytes = std::fs::read(path).expect("read corpus file");
        let ours =
            prefetch::parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", testkit::short(path)));
        match common::sccainfo::run(path) {
            Ok(theirs) => {
                compared += 1;
                for diff in common::sccainfo::differences(&ours, &theirs) {
                    mismatches.push(format!("{}: {diff}", testkit::short(path)));
                }
            }
            Err(stderr) => {
                assert_eq!(
                    ours.version,
                    31,
                    "sccainfo failed on a version {} file {}: {stderr}",
                    ours.version,
                    testkit::short(path)
                );
                skipped.push(testkit::short(path));
            }
        }
    }
    eprintln!(
        "compared {compared} files with sccainfo; skipped {} version-31 files it cannot read",
        skipped.len()
    );
    assert!(
        mismatches.is_empty(),
        "{} differences, first ones:\n{}",
        mismatches.len(),
        mismatches
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    // The corpus has 805 Prefetch files of which 24 are version 31 (23 in
    // win11-v31, 1 in plaso), per the corpus MANIFEST and README.
    assert!(compared >= 780, "only {compared} files compared");
}
