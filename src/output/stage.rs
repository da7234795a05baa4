//! The `stage` column of errors.csv: which step of the scan lost what the row names.

use std::fmt;

/// A step of the scan that can fail on damaged or unreadable evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// Opening the image or triage folder.
    Open,
    /// The container (E01 segments, chunks) behind the image.
    Image,
    /// The partition tables.
    Partitions,
    /// Opening an NTFS volume.
    Volume,
    /// Reading a volume's shadow copies (catalog, stores, a snapshot's volume).
    Snapshot,
    /// Listing a directory.
    List,
    /// Reading an event log file.
    Evtx,
    /// One event record (identity or content).
    EvtxRecord,
    /// A Prefetch file.
    Prefetch,
    /// The `$MFT`.
    Mft,
    /// The `$UsnJrnl:$J` change journal.
    Usn,
    /// A registry hive or key.
    Registry,
    /// Amcache.hve.
    Amcache,
    /// The AppCompatCache.
    Shimcache,
    /// A scheduled task's XML.
    Task,
    /// The carving pass.
    Carve,
    /// A carved Prefetch file.
    CarvePrefetch,
    /// Carved hive bins.
    CarveHive,
    /// Hashing a collected file.
    Hash,
    /// Writing an output file.
    Write,
    /// Judging findings.
    Findings,
    /// Building lateral-movement edges.
    Lateral,
    /// The scan as a whole.
    Scan,
}

impl Stage {
    /// The spelling in errors.csv.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Open => "open",
            Stage::Image => "image",
            Stage::Partitions => "partitions",
            Stage::Volume => "volume",
            Stage::Snapshot => "snapshot",
            Stage::List => "list",
            Stage::Evtx => "evtx",
            Stage::EvtxRecord => "evtx record",
            Stage::Prefetch => "prefetch",
            Stage::Mft => "mft",
            Stage::Usn => "usn",
            Stage::Registry => "registry",
            Stage::Amcache => "amcache",
            Stage::Shimcache => "shimcache",
            Stage::Task => "task",
            Stage::Carve => "carve",
            Stage::CarvePrefetch => "carve prefetch",
            Stage::CarveHive => "carve hive",
            Stage::Hash => "hash",
            Stage::Write => "write",
            Stage::Findings => "findings",
            Stage::Lateral => "lateral",
            Stage::Scan => "scan",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
