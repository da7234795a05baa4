//! Judging a finished scan again, from the observations file each image's folder
//! holds (`toolmark match`): the same matcher, profile and edges as during the scan,
//! fed from the lossless file instead of the live collectors.

use std::path::{Path, PathBuf};

use super::computers::ComputerCount;
use super::edges::EdgeAggregator;
use super::judge::{self, Written};
use super::observations::{self, FILE_NAME};
use super::report::ImageReport;
use crate::collect::registry::HostFacts;
use crate::traces::matcher::{HostProfile, Matcher};
use crate::traces::KnowledgeBase;

/// The image folders under `out`: `out` itself when it holds an observations file,
/// else every child folder that does, sorted by name.
pub fn image_dirs(out: &Path) -> Vec<PathBuf> {
    if out.join(FILE_NAME).is_file() {
        return vec![out.to_path_buf()];
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(out)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join(FILE_NAME).is_file())
        .collect();
    dirs.sort();
    dirs
}

/// Judges the image in `dir` with `kb`, rewriting its findings, evidence and host
/// profile; returns what the batch needs to link it to other images.
pub fn rejudge(dir: &Path, kb: &KnowledgeBase, raw_cells: bool) -> Result<ImageReport, String> {
    let matcher = Matcher::new(kb);
    let (header, lines) = observations::read(&dir.join(FILE_NAME))?;
    let mut profile = HostProfile {
        collected: header.collected.iter().copied().collect(),
        ..HostProfile::default()
    };
    let mut edges = EdgeAggregator::new(&header.image, &header.host);
    for line in lines {
        let o = line?.o;
        profile.add(&o);
        edges.observe(&o);
        matcher.observe(&o);
    }
    let findings = matcher.judge(&profile);
    let written: Written = judge::write(
        dir,
        &header.image,
        &header.host,
        &findings,
        &profile,
        raw_cells,
    )?;
    let mut report = ImageReport::new(dir, &header.image);
    report.host = header.host.clone();
    let manifest = Manifest::read(dir)?;
    report.host_facts = manifest.host_facts;
    report.computers = manifest.computers;
    report.errors = manifest.errors;
    report.tools = super::lateral::tool_times(&findings);
    report.view = crate::report::HostView::new(&header.image, &header.host, &findings, &profile);
    report.view.save(dir)?;
    report.edges = edges;
    report.rows.insert("findings".into(), written.findings);
    report.rows.insert("evidence".into(), written.evidence);
    Ok(report)
}

/// What the image's manifest.json recorded about the host (for resolving edge
/// ends). Fields it lacks are empty; a manifest that cannot be read or parsed is
/// an error, so a damaged folder never reports an image without its host facts
/// and errors.
#[derive(Default, serde::Deserialize)]
#[serde(default)]
struct Manifest {
    host_facts: HostFacts,
    computers: Vec<ComputerCount>,
    /// Rows in errors.csv (for the report).
    errors: u64,
}

impl Manifest {
    fn read(dir: &Path) -> Result<Manifest, String> {
        let path = dir.join("manifest.json");
        let bytes =
            std::fs::read(&path).map_err(|e| format!("{}: cannot be read: {e}", path.display()))?;
        serde_json::from_slice(&bytes).map_err(|e| format!("{}: damaged: {e}", path.display()))
    }
}

/// The lateral-movement edges of the image in `dir`, rebuilt from its observations
/// file exactly as its scan built them (resume and `toolmark merge` link images
/// scanned by other processes through these).
pub fn edges(dir: &Path) -> Result<EdgeAggregator, String> {
    let (header, lines) = observations::read(&dir.join(FILE_NAME))?;
    let mut edges = EdgeAggregator::new(&header.image, &header.host);
    for line in lines {
        edges.observe(&line?.o);
    }
    Ok(edges)
}
