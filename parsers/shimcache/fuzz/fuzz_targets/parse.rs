#![no_main]
//! Arbitrary bytes through `shimcache::parse`: no panic, and no entry claimed past
//! the blob end.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(cache) = shimcache::parse(data) {
        assert!(cache.entries.iter().all(|e| e.offset < data.len()));
    }
});
