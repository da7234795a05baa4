//! Acceptance 1: every corpus Prefetch file parses without damaged sub-records and
//! the corpus' non-Prefetch file is rejected with an error naming what was
//! expected. Fields are also checked against facts Windows itself wrote outside
//! the parsed structures: the `.pf` file name (`<EXECUTABLE>-<HASH>.pf`, named by
//! Windows) and the SCCA header's own file-size field versus the bytes we produced.

mod common;

use std::collections::BTreeMap;

#[test]
fn every_corpus_prefetch_file_parses() {
    let mut versions = BTreeMap::new();
    let mut compressed = 0usize;
    for path in common::prefetch_files() {
        let name = testkit::short(&path);
        let bytes = std::fs::read(&path).expect("read corpus file");
        let pf = prefetch::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(pf.damaged.is_empty(), "{name}: {:?}", pf.damaged);
        assert!(!pf.files.is_empty(), "{name}: no file names");
        assert!(!pf.volumes.is_empty(), "{name}: no volumes");
        *versions.entry(pf.version).or_insert(0usize) += 1;

        let plain_len = if pf.was_compressed {
            compressed += 1;
            prefetch::decompress(&bytes).expect("decompresses").len()
        } else {
            bytes.len()
        };
        assert_eq!(pf.size as usize, plain_len, "{name}: header file size");

        // Windows names the file after the executable (cut to 29 characters) and
        // the hash. Some corpus files were renamed by their collectors ("_CALC..."
        // copies, "Op-" prefixed variants), so look for both inside the name.
        let file_name = path.file_name().unwrap().to_string_lossy().to_uppercase();
        assert!(
            file_name.contains(&pf.executable.to_uppercase()),
            "{name}: executable {:?} not in file name",
            pf.executable
        );
        assert!(
            file_name.contains(&format!("-{:08X}", pf.hash)),
            "{name}: hash {:08X} not in file name",
            pf.hash
        );
    }
    eprintln!("versions: {versions:?}; MAM compressed: {compressed}");
    for version in [17, 23, 26, 30, 31] {
        assert!(
            versions.contains_key(&version),
            "no version {version} file parsed"
        );
    }
}

#[test]
fn newer_volume_paths_agree_with_volume_fields() {
    // From Windows 10 on, the device path is `\VOLUME{<creation FILETIME>-<serial>}`
    // in hex: Windows writes the same two values twice, so a misread volume entry
    // shows up as a disagreement.
    let mut checked = 0usize;
    for path in common::prefetch_files() {
        let pf = prefetch::parse(&std::fs::read(&path).unwrap()).unwrap();
        for volume in &pf.volumes {
            if let Some(inner) = volume.device_path.strip_prefix("\\VOLUME{") {
                let expected = format!("{:016x}-{:08x}}}", volume.created.raw(), volume.serial);
                assert_eq!(inner, expected, "{}", testkit::short(&path));
                checked += 1;
            }
        }
    }
    assert!(checked > 700, "only {checked} volume paths checked");
}

#[test]
fn a_non_prefetch_file_is_rejected_with_what_was_expected() {
    let bytes = std::fs::read(testkit::corpus_path(common::NOT_A_PREFETCH)).unwrap();
    let err = prefetch::parse(&bytes).unwrap_err();
    assert!(
        matches!(err, prefetch::Error::NotPrefetch { .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("SCCA") && message.contains("MAM"),
        "{message}"
    );
}
