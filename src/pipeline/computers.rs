//! The name a host without a SYSTEM hive goes by: the `Computer` its event records
//! carry. A triage folder of logs is named by whoever collected it (`case42-ws`),
//! but the analyst, and the other hosts' logs, know it as `WS01.corp.local`.
//!
//! The host name goes into every row, so it must be known before the first record
//! is written: this reads the first records of the first chunk of every event log,
//! [`RECORDS_PER_LOG`] at most, before the scan proper. (Rendering the whole chunk,
//! a few hundred records, cost 5 % of an event-log scan and named no other host.) A log that
//! cannot be read here is skipped silently: the scan reads it again and reports it.

use std::collections::HashMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::collect::evtx::read_chunk_head;
use crate::collect::source::{join, Source};

/// An event log's file header; its first chunk follows.
const FILE_HEADER: u64 = 4096;

/// Records sampled from each log.
pub const RECORDS_PER_LOG: usize = 16;

/// Distinct names kept; a hostile log of random names must not grow the list.
const MAX_NAMES: usize = 64;

/// A `Computer` value and how many sampled records carry it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComputerCount {
    /// The value as the records carry it (often a fully qualified name).
    pub name: String,
    /// Records of the sample that carry it.
    pub records: u64,
}

/// The `Computer` names of the first chunk of every event log of `sources`, most
/// frequent first (ties by name). The logs are read in parallel; the names are
/// counted in listing order, so the list is the same at any thread count.
pub fn sample(sources: &[&Source]) -> Vec<ComputerCount> {
    let mut logs: Vec<(&Source, String)> = Vec::new();
    for source in sources {
        for &folder in source.event_log_folders() {
            // A sample for the host's name: a folder or log it cannot read is
            // reported by the event-log collector, which reads the same files.
            let Ok(listing) = source.list(folder) else {
                continue;
            };
            logs.extend(
                listing
                    .items
                    .iter()
                    .filter(|i| !i.is_dir && i.name.to_ascii_lowercase().ends_with(".evtx"))
                    .map(|i| (*source, join(folder, &i.name))),
            );
        }
    }
    let names: Vec<Vec<String>> = logs
        .par_iter()
        .map(|(source, path)| first_names(source, path))
        .collect();
    let mut counts: HashMap<String, u64> = HashMap::new();
    for name in names.into_iter().flatten() {
        if let Some(c) = counts.get_mut(&name) {
            *c += 1;
        } else if counts.len() < MAX_NAMES {
            counts.insert(name, 1);
        }
    }
    let mut list: Vec<ComputerCount> = counts
        .into_iter()
        .map(|(name, records)| ComputerCount { name, records })
        .collect();
    list.sort_by(|a, b| b.records.cmp(&a.records).then_with(|| a.name.cmp(&b.name)));
    list
}

/// The non-empty `Computer` names of the first [`RECORDS_PER_LOG`] records of the
/// log at `path` (none when it cannot be read).
fn first_names(source: &Source, path: &str) -> Vec<String> {
    let mut names = Vec::new();
    let Ok(file) = source.open(path) else {
        return names;
    };
    let mut chunk = vec![0u8; evtx_carve::CHUNK_SIZE];
    match file.data.read_at(&mut chunk, FILE_HEADER) {
        Ok(n) if n == evtx_carve::CHUNK_SIZE => {}
        _ => return names,
    }
    let _ = read_chunk_head(
        chunk,
        false,
        RECORDS_PER_LOG,
        &mut |record| {
            let name = record.computer.trim();
            if !name.is_empty() {
                names.push(name.to_string());
            }
        },
        &mut |_| {},
    );
    names
}
