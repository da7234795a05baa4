//! shimcache.csv: the AppCompatCache value of the current control set
//! (`<set>\Control\Session Manager\AppCompatCache\AppCompatCache`; XP keeps it under
//! `AppCompatibility`), one row per cached file, parsed by the `shimcache` crate.
//! The time is the file's own last-modified time, not an execution time.

use super::host::current_control_set;
use super::load::{HiveKind, Hives};
use super::reader::Reader;
use crate::collect::rows::observation;
use crate::output::Stage;
use crate::pipeline::Sinks;
use crate::traces::matcher::{ExecutionArtifact, Observed};

const CACHE_KEYS: [&str; 2] = [
    "Control\\Session Manager\\AppCompatCache",
    "Control\\Session Manager\\AppCompatibility",
];

/// Writes every ShimCache entry of the volume's SYSTEM hive.
pub fn collect(out: &Sinks<'_>, volume: &str, hives: &Hives) {
    let Some(system) = hives.first(HiveKind::System) else {
        return;
    };
    let Some(set) = current_control_set(&system.hive) else {
        return;
    };
    let read = Reader::new(out, volume, &system.path);
    let blob = CACHE_KEYS.iter().find_map(|k| {
        let key = read.open(&system.hive, &format!("{set}\\{k}"))?;
        read.bytes(&key, "AppCompatCache")
    });
    let Some(blob) = blob else {
        return;
    };
    // Entries are written as they are read: a value can hold millions of them,
    // and only the one being written is in memory.
    let entries = match shimcache::entries(&blob) {
        Ok(e) => e,
        Err(e) => return out.error(volume, &system.path, Stage::Shimcache, &e.to_string()),
    };
    let format = format!("{:?}", entries.format());
    for item in entries {
        match item {
            Ok(entry) => write_entry(out, volume, &system.path, &set, &format, &entry),
            Err(problem) => out.error(volume, &system.path, Stage::Shimcache, &problem.to_string()),
        }
    }
}

/// The row, the observation and the timeline event of one entry.
fn write_entry(
    out: &Sinks<'_>,
    volume: &str,
    hive: &str,
    set: &str,
    format: &str,
    entry: &shimcache::Entry,
) {
    let modified = entry.last_modified.to_string();
    let opt = |v: Option<u64>| v.map(|n| n.to_string()).unwrap_or_default();
    out.row(
        "shimcache",
        volume,
        vec![
            hive.to_string(),
            set.to_string(),
            entry.position.to_string(),
            entry.path.clone(),
            modified.clone(),
            entry.executed.map(|e| e.to_string()).unwrap_or_default(),
            entry
                .insert_flags
                .map(|f| format!("0x{f:x}"))
                .unwrap_or_default(),
            opt(entry.file_size),
            opt(entry.data_size),
            format.to_string(),
        ],
    );
    out.observe(
        volume,
        observation(
            &modified,
            "shimcache",
            hive,
            format!("position {}", entry.position),
            Observed::Execution {
                artifact: ExecutionArtifact::Shimcache,
                path: entry.path.clone(),
                original_name: None,
            },
        ),
    );
    out.event(
        volume,
        &modified,
        "File Last Modified (ShimCache)",
        format!("{} (cache position {})", entry.path, entry.position),
        "shimcache",
        hive,
        format!("position {}", entry.position),
    );
}
