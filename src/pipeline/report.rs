//! What `manifest.json` says about one image.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::edges::EdgeAggregator;
use crate::collect::carve::CarveStats;
use crate::collect::registry::{HiveReplay, HostFacts};
use crate::output::CollectedFile;

/// What `manifest.json` records about one image.
#[derive(Clone, Debug, Serialize)]
pub struct ImageReport {
    /// Name used for the output folder and in every row.
    pub image: String,
    /// Path given on the command line.
    pub input: PathBuf,
    /// `raw`, `split_raw`, `ewf` or `directory`.
    pub container: String,
    /// Files making up the image.
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
    /// Lateral-movement edges seen in the image's logs (for the batch's table).
    #[serde(skip)]
    pub edges: EdgeAggregator,
    /// Every finding's tool, role and evidence times, for naming tools on edges.
    #[serde(skip)]
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
            files: Vec::new(),
            carving: Vec::new(),
            logging: None,
            failed: false,
            incomplete: false,
            write_error: None,
            seconds: 0.0,
            toolmark_version: env!("CARGO_PKG_VERSION").to_string(),
            edges: EdgeAggregator::new(name, name),
            tools: Vec::new(),
            view: crate::report::HostView::default(),
        }
    }
}
