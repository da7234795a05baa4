//! Judging a finished scan again, from the observations file each image's folder
//! holds (`toolmark match`): the same matcher, profile and edges as during the scan,
//! fed from the lossless file instead of the live collectors.

use std::path::{Path, PathBuf};

use super::edges::EdgeAggregator;
use super::judge::{self, Written};
use super::observations::{self, FILE_NAME};
use super::report::ImageReport;
use crate::collect::registry::HostFacts;
use crate::traces::matcher::{HostProfile, Matcher, Observed};
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
        if let Observed::Event {
            channel,
            event_id,
            fields,
        } = &o.observed
        {
            let field = |name: &str| {
                fields
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.as_str())
            };
            edges.add(channel, *event_id, &field, o.time.as_deref());
        }
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
    report.host_facts = manifest_host_facts(dir);
    report.tools = findings
        .iter()
        .map(|f| (f.tool_id.clone(), f.role.as_str().to_string()))
        .collect();
    report.view = crate::report::HostView::new(&header.image, &header.host, &findings, &profile);
    report.errors = manifest_errors(dir);
    report.edges = edges;
    report.rows.insert("findings".into(), written.findings);
    report.rows.insert("evidence".into(), written.evidence);
    Ok(report)
}

/// The image's manifest.json, if it can be read.
fn manifest(dir: &Path) -> Option<serde_json::Value> {
    let bytes = std::fs::read(dir.join("manifest.json")).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The host facts the image's manifest.json recorded (for resolving edge ends).
fn manifest_host_facts(dir: &Path) -> HostFacts {
    manifest(dir)
        .and_then(|v| serde_json::from_value(v.get("host_facts")?.clone()).ok())
        .unwrap_or_default()
}

/// The errors.csv rows the scan counted (for the report).
fn manifest_errors(dir: &Path) -> u64 {
    manifest(dir)
        .and_then(|v| v.get("errors")?.as_u64())
        .unwrap_or(0)
}
