//! What `manifest.json` says about one image.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::edges::EdgeAggregator;
use crate::collect::carve::CarveStats;
use crate::collect::registry::{HiveReplay, HostFacts};
use crate::output::CollectedFile;

/// What `manifest.json` records about one image. It reads back (resume, `toolmark
/// merge`) into the same report, less the edges, which come from the observations.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ImageReport {
    /// Name used for the output folder and in every row.
    pub image: String,
    /// Path given on the command line (as [`path_text`](crate::output::path_text)).
    #[serde(with = "crate::output::path_text::one")]
    pub input: PathBuf,
    /// `raw`, `split_raw`, `ewf` or `directory`.
    pub container: String,
    /// Files making up the image.
    #[serde(with = "crate::output::path_text::many")]
    pub segments: Vec<PathBuf>,
    /// Media size in bytes (0 for directories).
    pub media_size: u64,
    /// SHA-256 of the media, with `--hash`.
    pub sha256: Option<String>,
    /// Host name written in every row: the SYSTEM hive's computer name, else the
    /// `Computer` most of the event records carry, else the image name.
    pub host: String,
    /// The `Computer` names the event records carry, most frequent first (the
    /// records of the first chunk of every log: see [`super::computers`]).
    pub computers: Vec<super::computers::ComputerCount>,
    /// What the registry says about the host (time zone, OS, addresses).
    pub host_facts: HostFacts,
    /// Every hive read and how its transaction logs were replayed.
    pub hives: Vec<HiveReplay>,
    /// Volumes scanned.
    pub volumes: Vec<String>,
    /// Rows per output file.
    pub rows: BTreeMap<String, u64>,
    /// Rows in errors.csv.
    pub errors: u64,
    /// Observations after the header of observations.jsonl (its shape lines not
    /// counted), so `toolmark match`, `merge`
    /// and a resumed batch tell a file cut short from a whole one (`None` in
    /// manifests written before it was counted, and when the file was not
    /// finished).
    #[serde(default)]
    pub observations: Option<u64>,
    /// Every file artifacts were read from (SHA-256 with `--hash`).
    pub files: Vec<CollectedFile>,
    /// Carving passes: what was scanned, what was found, how fast.
    pub carving: Vec<CarveStats>,
    /// What the host logged (channels, Sysmon, audit subcategories, log clears).
    pub logging: Option<super::judge::LoggingProfile>,
    /// True when the image could not be opened at all.
    pub failed: bool,
    /// The scan stopped after the image was opened (a table could not be written);
    /// what it wrote is incomplete and errors.csv says why.
    pub incomplete: bool,
    /// Why the tables could not be finished, when they could not.
    pub write_error: Option<String>,
    /// Wall time in seconds.
    pub seconds: f64,
    /// toolmark version.
    pub toolmark_version: String,
    /// What was scanned and how: a later run skips the image when it is the same.
    #[serde(default)]
    pub fingerprint: Fingerprint,
    /// Lateral-movement edges seen in the image's logs (for the batch's table).
    #[serde(skip)]
    pub edges: EdgeAggregator,
    /// Every finding's tool, role and evidence times, for naming tools on edges
    /// (also for images scanned by another process, which the batch reads back).
    #[serde(default)]
    pub tools: Vec<super::lateral::ToolTimes>,
    /// The findings and logging profile `report.html` shows.
    #[serde(skip)]
    pub view: crate::report::HostView,
}

impl ImageReport {
    /// An empty report for `input` scanned as `name`.
    pub fn new(input: &Path, name: &str) -> ImageReport {
        ImageReport {
            image: name.to_string(),
            input: input.to_path_buf(),
            container: String::new(),
            segments: Vec::new(),
            media_size: 0,
            sha256: None,
            host: name.to_string(),
            computers: Vec::new(),
            host_facts: HostFacts::default(),
            hives: Vec::new(),
            volumes: Vec::new(),
            rows: BTreeMap::new(),
            errors: 0,
            observations: None,
            files: Vec::new(),
            carving: Vec::new(),
            logging: None,
            failed: false,
            incomplete: false,
            write_error: None,
            seconds: 0.0,
            toolmark_version: env!("CARGO_PKG_VERSION").to_string(),
            fingerprint: Fingerprint::default(),
            edges: EdgeAggregator::new(name, name),
            tools: Vec::new(),
            view: crate::report::HostView::default(),
        }
    }
}

/// The input and settings an image's output was made from. An output folder whose
/// manifest holds the same fingerprint (and is complete) is not scanned again.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// Every file of the input with its size: the segments of an image, or for a
    /// triage folder the folder itself with the number and total size of its files.
    pub inputs: Vec<InputFile>,
    /// The settings that shape the output.
    pub settings: Settings,
}

/// One file of an input and its size.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputFile {
    /// Path as given (or as found beside the first segment).
    #[serde(with = "crate::output::path_text::one")]
    pub path: PathBuf,
    /// Bytes (for a folder: the total of its files).
    pub size: u64,
    /// Files below it (folders only; 1 for a file).
    pub files: u64,
}

/// The scan settings that change what is written.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// toolmark version.
    pub toolmark: String,
    /// `--artifacts`, as the set collected.
    pub artifacts: String,
    /// `--carve-all`.
    pub carve_all: bool,
    /// `--hash`.
    pub hash: bool,
    /// `--raw-cells`.
    pub raw_cells: bool,
    /// `--all-edges`.
    #[serde(default)]
    pub all_edges: bool,
    /// `--snapshots`: which shadow copies were collected.
    #[serde(default)]
    pub snapshots: String,
    /// SHA-256 of the rules text the findings were judged with.
    pub rules_sha256: String,
}
