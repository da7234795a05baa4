//! What the matcher looks at: one normalised record from any collected artifact, with a
//! reference back to the row it came from.
//!
//! The matcher does not read CSV files or parse artifacts; callers (the scan, a test)
//! turn each collected record into an [`Observation`]. Paths are compared volume-relative,
//! so a leading drive letter is dropped when an observation is built.

use serde::{Deserialize, Serialize};

use crate::collect::evtx::EventRecord;
use crate::traces::{ArtifactKind, Hive};

/// Where an observation came from, so a finding can point into the other outputs.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Reference {
    /// Output the row lives in (`evtx`, `prefetch`, `amcache`, …).
    pub artifact: String,
    /// Source file of the record (image path or file name).
    pub file: String,
    /// Row key inside that file: event record id, MFT entry, USN offset, key path …
    pub locator: String,
}

/// The execution artifacts that record a program by path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExecutionArtifact {
    /// Amcache.hve program/file entry.
    Amcache,
    /// AppCompatCache (ShimCache) entry.
    Shimcache,
    /// Background Activity Moderator entry.
    Bam,
    /// UserAssist entry (name already ROT13-decoded).
    Userassist,
}

impl ExecutionArtifact {
    /// The knowledge-base artifact kind with the same meaning.
    pub fn kind(self) -> ArtifactKind {
        match self {
            ExecutionArtifact::Amcache => ArtifactKind::Amcache,
            ExecutionArtifact::Shimcache => ArtifactKind::Shimcache,
            ExecutionArtifact::Bam => ArtifactKind::Bam,
            ExecutionArtifact::Userassist => ArtifactKind::Userassist,
        }
    }
}

/// The content of one observation, per artifact type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Observed {
    /// An event record.
    Event {
        /// Channel, e.g. `Security`.
        channel: String,
        /// Event ID.
        event_id: u32,
        /// EventData/UserData fields in document order.
        fields: Vec<(String, String)>,
    },
    /// A Prefetch file.
    Prefetch {
        /// The `.pf` file name, e.g. `PSEXESVC.EXE-AD70946C.pf`.
        file_name: String,
        /// Executable name recorded inside, when parsed.
        executable: String,
    },
    /// A file system entry from the MFT (allocated) or a deleted MFT record.
    File {
        /// Volume-relative path.
        path: String,
        /// False for a deleted (unallocated) MFT entry.
        allocated: bool,
    },
    /// A change-journal record.
    Usn {
        /// File name.
        name: String,
        /// Reason flags (with or without the `USN_REASON_` prefix).
        reasons: Vec<String>,
    },
    /// A program recorded by an execution artifact.
    Execution {
        /// Which artifact.
        artifact: ExecutionArtifact,
        /// Recorded path (or bare file name).
        path: String,
        /// The PE `OriginalFileName` the artifact recorded (Amcache), so a renamed
        /// copy is found under its real name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        original_name: Option<String>,
    },
    /// A service definition.
    Service {
        /// Service key name.
        name: String,
        /// ImagePath value.
        image_path: String,
    },
    /// A scheduled task definition.
    Task {
        /// Task name or path.
        name: String,
        /// Action command line.
        command: String,
    },
    /// A registry key or value of an offline hive.
    Registry {
        /// Hive file.
        hive: Hive,
        /// Key path inside the hive, without root.
        key: String,
        /// Value name, for a value.
        value: Option<String>,
        /// Value data as text (REG_DWORD in decimal).
        data: Option<String>,
    },
}

/// One record the matcher evaluates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    /// ISO-8601 UTC time of the record (event time, run time, last write …), if known.
    pub time: Option<String>,
    /// Where it came from.
    pub reference: Reference,
    /// What it says.
    pub observed: Observed,
}

impl Observation {
    /// Builds the observation of an event record read from `file`.
    pub fn from_event(record: &EventRecord, file: &str) -> Observation {
        Observation {
            time: (!record.time.is_empty()).then(|| record.time.clone()),
            reference: Reference {
                artifact: "evtx".to_string(),
                file: file.to_string(),
                locator: record.record_id.to_string(),
            },
            observed: Observed::Event {
                channel: record.channel.clone(),
                event_id: record.event_id,
                fields: record.fields.clone(),
            },
        }
    }

    /// The knowledge-base artifact kinds this observation can satisfy.
    pub fn kinds(&self) -> &'static [ArtifactKind] {
        match &self.observed {
            Observed::Event { .. } => &[ArtifactKind::Evtx, ArtifactKind::Process],
            Observed::Prefetch { .. } => &[ArtifactKind::Prefetch],
            Observed::File {
                allocated: true, ..
            } => &[ArtifactKind::File, ArtifactKind::Mft],
            Observed::File { .. } => &[ArtifactKind::Mft],
            Observed::Usn { .. } => &[ArtifactKind::Usn],
            Observed::Execution { artifact, .. } => match artifact {
                ExecutionArtifact::Amcache => &[ArtifactKind::Amcache],
                ExecutionArtifact::Shimcache => &[ArtifactKind::Shimcache],
                ExecutionArtifact::Bam => &[ArtifactKind::Bam],
                ExecutionArtifact::Userassist => &[ArtifactKind::Userassist],
            },
            Observed::Service { .. } => &[ArtifactKind::Service],
            Observed::Task { .. } => &[ArtifactKind::Task],
            Observed::Registry { .. } => &[ArtifactKind::Registry],
        }
    }
}

/// Drops a leading drive letter (`C:`), since rules hold volume-relative paths.
pub(crate) fn volume_relative(path: &str) -> &str {
    let bytes = path.as_bytes();
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        path.get(2..).unwrap_or(path)
    } else {
        path
    }
}

/// The last component of a Windows or POSIX path.
pub(crate) fn file_name(path: &str) -> &str {
    path.rsplit(['\\', '/']).next().unwrap_or(path)
}
