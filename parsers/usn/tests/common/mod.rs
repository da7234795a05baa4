//! Corpus location shared by the integration tests.

use std::path::PathBuf;

/// `$TOOLMARK_CORPUS`, else `../shared/corpus` next to the workspace.
pub fn corpus_path(relative: &str) -> PathBuf {
    let root = std::env::var_os("TOOLMARK_CORPUS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
        PathBuf::from,
    );
    root.join(relative)
}

/// Reads a corpus file, failing the test with a clear message if it is missing.
pub fn read_corpus(relative: &str) -> Vec<u8> {
    let path = corpus_path(relative);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "corpus file {} is required by this test but could not be read: {e}",
            path.display()
        )
    })
}
