//! Shared by the integration tests and the benchmark: which corpus files are Prefetch
//! files (the corpus itself is found by testkit). Missing corpus folders panic with a
//! clear message, so a test can never pass by reading nothing.

#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};

/// The non-Prefetch file the corpus keeps to test rejection.
pub const NOT_A_PREFETCH: &str = "prefetch/ez/Bad/notAPrefetch.pf";

/// Every `.pf` under `prefetch/` (recursively) and in the APT-simulation host's
/// Prefetch folder, sorted, excluding the deliberately bad one.
pub fn prefetch_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    collect_pf(&testkit::corpus_path("prefetch"), &mut files);
    collect_pf(
        &testkit::corpus_path("hosts/win10-aptsim/Windows/Prefetch"),
        &mut files,
    );
    let bad = testkit::corpus_path(NOT_A_PREFETCH);
    files.retain(|f| *f != bad);
    files.sort();
    assert!(
        files.len() > 700,
        "expected the ~800 corpus Prefetch files, found {}",
        files.len()
    );
    files
}

fn collect_pf(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            collect_pf(&path, out);
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("pf"))
        {
            out.push(path);
        }
    }
}

pub mod sccainfo;
