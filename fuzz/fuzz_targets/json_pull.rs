#![no_main]
//! Reads arbitrary text with `json_pull`, the reader every event record's rendering
//! goes through, twice: value by value into a `serde_json::Value`, and skipped whole.
//! Whatever `serde_json` reads, the pull reader must read to the same value, and skip;
//! the two ways must agree on whether the text is JSON; nothing may panic or hang.
//! (The pull reader accepts numbers beyond `f64`'s range, which `serde_json`
//! refuses: such texts are only checked for agreement between the two ways.)

use libfuzzer_sys::fuzz_target;
use toolmark::collect::json_pull::{to_serde, Pull};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut p = Pull::new(text);
    let read = to_serde(&mut p).and_then(|v| p.end().map(|()| v));
    let mut p = Pull::new(text);
    let skipped = p
        .value()
        .and_then(|start| p.skip(start))
        .and_then(|()| p.end());
    assert_eq!(read.is_ok(), skipped.is_ok(), "reading and skipping disagree");
    if let Ok(theirs) = serde_json::from_str::<serde_json::Value>(text) {
        assert_eq!(read.ok(), Some(theirs), "serde_json reads it otherwise");
    }
});
