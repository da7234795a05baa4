//! The single fuzzing entry point, shared by the cargo-fuzz target and the
//! `fuzz_corpus` test so both drive exactly the same code.

/// Opens `data` as a hive and reads everything reachable, then replays `data` into
/// itself as primary and as both logs (a log is a hive-shaped file too).
pub fn exercise(data: &[u8]) {
    if let Ok(hive) = regf::Hive::from_bytes(data.to_vec()) {
        read_all(&hive);
        let _ = hive.open_key("Child\\x/y");
    }
    let mid = data.len() / 2;
    let tail = data.get(mid..).unwrap_or(&[]);
    if let Ok(rec) = regf::recover(data, Some(data), Some(tail)) {
        if let Ok(hive) = regf::Hive::from_bytes(rec.bytes) {
            read_all(&hive);
        }
    }
}

fn read_all(hive: &regf::Hive) {
    let _ = hive.walk(|_, key| {
        let _ = (key.name(), key.last_written(), key.class_name());
        if let Ok(values) = key.values() {
            for v in values {
                let _ = (v.name(), v.value_type(), v.data());
            }
        }
    });
}
