//! One image through the scan, in one pass: open it, find its Windows volumes, read
//! their hives (the host name comes first, every row carries it), run every collector,
//! and stream each record once into the image's [`Sinks`]: CSV tables and timeline,
//! observations file, trace matcher, logging profile, lateral-movement edges. At the
//! end the matcher judges and the findings are written. No file this scan wrote is
//! read back.

pub mod edges;
pub mod judge;
pub mod observations;
mod options;
pub mod rejudge;
mod report;
mod sinks;

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;

pub use options::{Artifacts, ScanOptions, KNOWN};
pub use report::ImageReport;
pub use sinks::{Drained, Sinks};

use crate::collect::carve::{self, LiveRecords, Recovery};
use crate::collect::registry::{self, HiveReplay, Hives, HostFacts, Wanted};
use crate::collect::source::Source;
use crate::collect::volume::{collect_volume, Target};
use crate::disk::{self, FsKind};
use crate::evidence::{Evidence, ReadAt, Window};
use crate::ntfs::Volume;
use crate::output::{sha256_of, ImageOutput, Stage};
use crate::traces::matcher::{HostProfile, Matcher};
use observations::{Header, ObservationWriter};

/// Reports what a scan is doing, one line per image.
pub type Progress<'a> = dyn Fn(String) + Sync + 'a;

/// An errors.csv row met before the output existed: volume, path, stage, error.
type Pending = (String, String, Stage, String);

/// Scans `input` into `out_dir`; never fails as a whole: problems go to errors.csv
/// and the report says whether the image could be opened (`failed`) or whether the
/// scan stopped part way (`incomplete`, with the reason in errors.csv).
pub fn scan_image(
    input: &Path,
    name: &str,
    out_dir: &Path,
    options: &ScanOptions,
    progress: &Progress<'_>,
) -> Result<ImageReport, String> {
    let started = Instant::now();
    progress("opening image, partitions and hives".into());
    let mut report = ImageReport::new(input, name);
    let mut pending: Vec<Pending> = Vec::new();
    let mut targets = match open_targets(input, &mut pending, &mut report, options) {
        Ok(t) => t,
        Err(e) => {
            pending.push((String::new(), input.display().to_string(), Stage::Open, e));
            report.failed = true;
            Vec::new()
        }
    };
    read_hives(&mut targets, &mut pending, &mut report, options);
    let tables = ImageOutput::create(out_dir, name, &report.host, options.raw_cells, options.hash)?;
    for (volume, path, stage, error) in &pending {
        tables.error(volume, path, *stage, error);
    }
    let collected = options.collected_kinds();
    let observations = ObservationWriter::create(
        out_dir,
        &Header {
            toolmark_observations: observations::FORMAT,
            image: name.to_string(),
            host: report.host.clone(),
            collected: collected.clone(),
        },
    )
    .map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let profile = HostProfile {
        collected: collected.into_iter().collect(),
        ..HostProfile::default()
    };
    let matcher = options.rules.as_deref().map(Matcher::new);
    let out = Sinks::new(tables, matcher, profile, observations);
    // The hive files and their transaction logs are collected files too.
    for t in &targets {
        for hive in &t.hives.hives {
            for suffix in ["", ".LOG", ".LOG1", ".LOG2"] {
                let path = format!("{}{suffix}", hive.path);
                // Opening errors of the logs were reported when the hive was read.
                if let Ok(Some(file)) = t.source.open_if_present(&path) {
                    out.collected(&t.label, &path, file.data.as_ref());
                }
            }
        }
    }
    report.volumes = targets.iter().map(|t| t.label.clone()).collect();
    let live = LiveRecords::default();
    report.carving = targets
        .par_iter()
        .filter_map(|t| collect_volume(t, &out, options, &live, progress))
        .collect();
    if options.carve_all && !input.is_dir() {
        progress("carving the whole image".into());
        match Evidence::open(input) {
            Ok(evidence) => {
                let recovery = Recovery::new(&out, "image", "(image)", &live);
                let stats = carve::whole_image(&evidence, &|data, hit| recovery.on_hit(data, hit));
                recovery.finish();
                report.carving.push(stats);
            }
            Err(e) => out.error(
                "image",
                &input.display().to_string(),
                Stage::Carve,
                &e.to_string(),
            ),
        }
    }
    drop(live);
    let drained = out.drain()?;
    let Drained {
        tables,
        matcher,
        profile,
        edges,
    } = drained;
    if let Some(matcher) = matcher {
        progress("matching the tool traces".into());
        let findings = matcher.judge(&profile);
        let written = judge::write(
            out_dir,
            name,
            &report.host,
            &findings,
            &profile,
            options.raw_cells,
        );
        match written {
            Ok(w) => {
                report.rows.insert("findings".into(), w.findings);
                report.rows.insert("evidence".into(), w.evidence);
                report.logging = Some(w.logging);
            }
            Err(e) => {
                tables.error("", &out_dir.display().to_string(), Stage::Findings, &e);
                report.incomplete = true;
            }
        }
        report.tools = findings
            .iter()
            .map(|f| (f.tool_id.clone(), f.role.as_str().to_string()))
            .collect();
    }
    if edges.dropped > 0 {
        tables.error(
            "",
            "",
            Stage::Lateral,
            &format!(
                "{} records would have made more than {} distinct edges; they are not in lateral_movement.csv",
                edges.dropped,
                edges::MAX_EDGES
            ),
        );
    }
    report.edges = edges;
    progress("writing the sorted timeline".into());
    let finished = tables.finish();
    match finished {
        Ok((counts, files)) => {
            report.files = files;
            report.errors = counts.get("errors").copied().unwrap_or(0);
            report.rows.extend(counts);
        }
        Err(e) => {
            // The tables are incomplete: say so in the report (errors.csv may itself
            // be what failed, so the batch prints it too).
            report.incomplete = true;
            report.errors += 1;
            report.write_error = Some(e);
        }
    }
    report.seconds = started.elapsed().as_secs_f64();
    let manifest = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    std::fs::write(out_dir.join("manifest.json"), manifest).map_err(|e| e.to_string())?;
    Ok(report)
}

/// Reads every volume's hives (before any row is written, because the host name
/// comes from them) and fills in the host, its facts and the replay summaries.
fn read_hives(
    targets: &mut [Target],
    pending: &mut Vec<Pending>,
    report: &mut ImageReport,
    options: &ScanOptions,
) {
    let wanted = Wanted {
        registry: options.artifacts.registry,
        amcache: options.artifacts.amcache,
    };
    targets
        .par_iter_mut()
        .for_each(|t| t.hives = registry::load(&t.source, wanted));
    for t in targets.iter() {
        for (path, problem) in &t.hives.problems {
            pending.push((
                t.label.clone(),
                path.clone(),
                Stage::Registry,
                problem.clone(),
            ));
        }
        report
            .hives
            .extend(t.hives.replays.iter().map(|r| HiveReplay {
                volume: t.label.clone(),
                ..r.clone()
            }));
    }
    // The first volume whose SYSTEM hive names the computer gives the host; without
    // one, the first volume that has a SYSTEM hive at least gives the other facts.
    let mut facts: Vec<HostFacts> = Vec::new();
    for t in targets
        .iter()
        .filter(|t| t.hives.first(registry::HiveKind::System).is_some())
    {
        let (found, problems) = registry::facts(&t.hives);
        for (path, problem) in problems {
            pending.push((t.label.clone(), path, Stage::Registry, problem));
        }
        facts.push(found);
    }
    let best = facts
        .iter()
        .position(|f| !f.computer_name.is_empty())
        .unwrap_or(0);
    if let Some(chosen) = facts.into_iter().nth(best) {
        if !chosen.computer_name.is_empty() {
            report.host = chosen.computer_name.clone();
        }
        report.host_facts = chosen;
    }
}

fn open_targets(
    input: &Path,
    pending: &mut Vec<Pending>,
    report: &mut ImageReport,
    options: &ScanOptions,
) -> Result<Vec<Target>, String> {
    if input.is_dir() {
        report.container = "directory".into();
        return Ok(vec![Target {
            label: "1".into(),
            source: Source::Directory(input.to_path_buf()),
            hives: Hives::default(),
        }]);
    }
    let evidence = Evidence::open(input).map_err(|e| e.to_string())?;
    report.container = match evidence.kind() {
        crate::evidence::ContainerKind::Raw => "raw",
        crate::evidence::ContainerKind::SplitRaw => "split_raw",
        crate::evidence::ContainerKind::Ewf => "ewf",
    }
    .into();
    if let Some(damage) = evidence.damage() {
        pending.push((String::new(), String::new(), Stage::Image, damage));
    }
    report.segments = evidence.segments().to_vec();
    report.media_size = evidence.len();
    if options.hash {
        report.sha256 = Some(sha256_of(&evidence).map_err(|e| format!("hashing: {e}"))?);
    }
    let layout = disk::scan(&evidence).map_err(|e| e.to_string())?;
    for warning in &layout.warnings {
        pending.push((
            String::new(),
            String::new(),
            Stage::Partitions,
            warning.clone(),
        ));
    }
    let mut targets = Vec::new();
    for part in layout.partitions.iter().filter(|p| p.fs == FsKind::Ntfs) {
        let window: Arc<dyn ReadAt> =
            Arc::new(Window::new(evidence.data(), part.offset, part.length));
        match Volume::open(window) {
            Ok(volume) => targets.push(Target {
                label: {
                    let label = part.number.to_string();
                    for warning in volume.warnings() {
                        pending.push((
                            label.clone(),
                            String::new(),
                            Stage::Volume,
                            warning.clone(),
                        ));
                    }
                    label
                },
                source: Source::Ntfs(Arc::new(volume)),
                hives: Hives::default(),
            }),
            Err(e) => pending.push((
                part.number.to_string(),
                String::new(),
                Stage::Volume,
                e.to_string(),
            )),
        }
    }
    if targets.is_empty() {
        return Err(format!(
            "no readable NTFS volume ({})",
            disk::explain_no_ntfs(&evidence, &layout)
        ));
    }
    Ok(targets)
}
