//! The fuzzing entry point, shared by the cargo-fuzz target and `fuzz_corpus.rs`.

/// Opens `data` as a hive and reads every Amcache entry from it.
pub fn exercise(data: &[u8]) {
    if let Ok(hive) = regf::Hive::from_bytes(data.to_vec()) {
        if let Ok(parsed) = amcache::parse(&hive) {
            for e in &parsed.entries {
                let _ = (e.link_date.map(|t| t.to_string()), e.sha1.as_deref());
            }
        }
    }
}
