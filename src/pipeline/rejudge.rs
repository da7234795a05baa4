//! Judging a finished scan again, from the observations file each image's folder
//! holds (`toolmark match`): the same matcher, profile and edges as during the scan,
//! fed from the lossless file instead of the live collectors.

use std::path::{Path, PathBuf};

use super::edges::EdgeAggregator;
use super::judge::{self, Written};
use super::observations::{self, FILE_NAME};
use super::report::ImageReport;
use crate::batch::resume;
use crate::traces::matcher::{Finding, HostProfile, Matcher};
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

/// One image judged again, nothing written yet: `toolmark match` judges every
/// image of a folder before it writes any, so an image whose observations or
/// manifest are damaged fails the command and leaves every folder as it was.
pub struct Judged {
    dir: PathBuf,
    header: observations::Header,
    findings: Vec<Finding>,
    profile: HostProfile,
    edges: EdgeAggregator,
    /// The image's manifest as the scan wrote it (host facts, computers, errors).
    manifest: ImageReport,
}

/// Judges the image in `dir` with `kb`, from its observations file; reads its
/// manifest too (strictly: a damaged one is an error, not an image without host
/// facts).
pub fn judge(dir: &Path, kb: &KnowledgeBase) -> Result<Judged, String> {
    let manifest = resume::read_manifest(dir)?;
    let matcher = Matcher::new(kb);
    let (header, lines) = observations::read(&dir.join(FILE_NAME), manifest.observations)?;
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
    Ok(Judged {
        dir: dir.to_path_buf(),
        header,
        findings,
        profile,
        edges,
        manifest,
    })
}

/// Checks that the observations file in `dir` reads whole, `expected` lines after
/// its header (the manifest's count): `toolmark match` checks every image's before
/// it writes any, so a file damaged midway fails the command and leaves every
/// folder as it was.
pub fn check(dir: &Path, expected: Option<u64>) -> Result<(), String> {
    let (_, mut lines) = observations::read(&dir.join(FILE_NAME), expected)?;
    lines.try_for_each(|line| line.map(drop))
}

impl Judged {
    /// Rewrites the image's findings, evidence, host profile and the tools its
    /// manifest names; returns what the batch needs to link it to other images.
    pub fn write(self, raw_cells: bool) -> Result<ImageReport, String> {
        let Judged {
            dir,
            header,
            findings,
            profile,
            edges,
            manifest,
        } = self;
        let written: Written = judge::write(
            &dir,
            &header.image,
            &header.host,
            &findings,
            &profile,
            raw_cells,
        )?;
        let mut report = ImageReport::new(&dir, &header.image);
        report.host = header.host.clone();
        report.host_facts = manifest.host_facts.clone();
        report.computers = manifest.computers.clone();
        report.errors = manifest.errors;
        report.tools = super::lateral::tool_times(&findings);
        report.view =
            crate::report::HostView::new(&header.image, &header.host, &findings, &profile);
        report.view.save(&dir)?;
        report.edges = edges;
        report.rows.insert("findings".into(), written.findings);
        report.rows.insert("evidence".into(), written.evidence);
        resume::record_tools(&dir, manifest, &report.tools)?;
        Ok(report)
    }
}

/// The lateral-movement edges of the image in `dir`, rebuilt from its observations
/// file exactly as its scan built them (resume and `toolmark merge` link images
/// scanned by other processes through these). `expected` is the manifest's count
/// of observations.
pub fn edges(dir: &Path, expected: Option<u64>) -> Result<EdgeAggregator, String> {
    let (header, lines) = observations::read(&dir.join(FILE_NAME), expected)?;
    let mut edges = EdgeAggregator::new(&header.image, &header.host);
    for line in lines {
        edges.observe(&line?.o);
    }
    Ok(edges)
}
