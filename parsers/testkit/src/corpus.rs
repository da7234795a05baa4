//! The shared artifact corpus and the fuzz seed folders.

use std::path::{Path, PathBuf};

use crate::mutate::no_panic;

/// The corpus root: `$TOOLMARK_CORPUS`, else `<workspace>/../shared/corpus`. Panics
/// with the path it tried when that is not a directory.
pub fn corpus() -> PathBuf {
    let dir = match std::env::var_os("TOOLMARK_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        // This crate is parsers/testkit, so the workspace root is two levels up.
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
    };
    assert!(
        dir.is_dir(),
        "test corpus not found at {} (set TOOLMARK_CORPUS)",
        dir.display()
    );
    dir
}

/// A corpus file or folder given relative to the corpus root; panics if it is missing.
pub fn corpus_path(relative: &str) -> PathBuf {
    let path = corpus().join(relative);
    assert!(
        path.exists(),
        "corpus file or folder {} is required by this test but missing",
        path.display()
    );
    path
}

/// The bytes of a corpus file; panics with the path and the I/O error if unreadable.
pub fn read_corpus(relative: &str) -> Vec<u8> {
    let path = corpus().join(relative);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "corpus file {} is required by this test but could not be read: {e}",
            path.display()
        )
    })
}

/// `path` relative to the corpus root, for messages (unchanged if outside it).
pub fn short(path: &Path) -> String {
    path.strip_prefix(corpus())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Every file in the seed folder `dir` (not recursive), sorted so runs are
/// reproducible. Panics if the folder cannot be read.
pub fn seeds(dir: &Path) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("fuzz seed folder {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| {
            entry
                .unwrap_or_else(|e| panic!("fuzz seed folder {}: {e}", dir.display()))
                .path()
        })
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

/// Runs `check` on every seed in `dir`, naming the seed if it panics, and asserts
/// there were at least `at_least` of them (so a lost seed folder cannot pass).
/// Returns how many ran.
pub fn check_seeds(dir: &Path, at_least: usize, check: impl Fn(&[u8])) -> usize {
    let files = seeds(dir);
    for path in &files {
        let data = std::fs::read(path).unwrap_or_else(|e| panic!("seed {}: {e}", path.display()));
        no_panic(&path.display().to_string(), &data, &check);
    }
    assert!(
        files.len() >= at_least,
        "expected at least {at_least} seeds in {}, found {}",
        dir.display(),
        files.len()
    );
    files.len()
}
