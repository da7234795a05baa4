//! Both flattenings of a chunk's records side by side: the check that the fast path
//! (see `plan`) gives, whenever it takes a record, the very record the JSON path
//! gives. The corpus test runs it over every chunk of every log, the `evtx` fuzz
//! target over mutated chunks.

use super::{from_json, from_values, with_chunk, ChunkMemo, CollectError};

/// What comparing both paths over one chunk found.
#[derive(Debug, Default)]
pub struct Comparison {
    /// Records the crate read from the chunk.
    pub records: usize,
    /// Records the fast path took.
    pub fast: usize,
    /// Each record the fast path took and flattened differently: both records.
    pub differences: Vec<String>,
}

/// Parses one 64 KiB chunk (checksums not required, as carving reads one) and
/// flattens each of its records both ways.
pub fn compare_paths(data: Vec<u8>) -> Result<Comparison, CollectError> {
    with_chunk(data, false, |parsed| {
        let mut memo = ChunkMemo::default();
        let mut found = Comparison::default();
        for record in parsed.iter().flatten() {
            found.records += 1;
            memo.enter(record.chunk.data, record.chunk.header);
            let verified = memo.verdict();
            let (id, time) = (record.event_record_id, record.timestamp);
            let Some(fast) = from_values(&record, &mut memo) else {
                continue;
            };
            found.fast += 1;
            let fast = fast.finish(id, time, verified);
            let json = record
                .into_json_bytes()
                .map_err(|e| e.to_string())
                .and_then(|json| from_json(&json.data, id, time, verified));
            let (fast, json) = (format!("{fast:?}"), format!("{json:?}"));
            if json != format!("Ok({fast})") {
                found
                    .differences
                    .push(format!("record {id}:\n fast {fast}\n json {json}"));
            }
        }
        found
    })
}
