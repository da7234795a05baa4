//! One image through the scan, in one pass: open it, find its Windows volumes, read
//! their hives (the host name comes first, every row carries it), run every collector,
//! and stream each record once into the image's [`Sinks`]: CSV tables and timeline,
//! observations file, trace matcher, logging profile, lateral-movement edges. At the
//! end the matcher judges and the findings are written. No file this scan wrote is
//! read back.

pub mod computers;
pub mod edges;
pub mod judge;
pub mod lateral;
pub mod observations;
mod options;
pub mod rejudge;
mod report;
mod sinks;

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;

pub use options::{Artifacts, ScanOptions, Snapshots, KNOWN};
pub use report::{Fingerprint, ImageReport, InputFile, Settings};
pub use sinks::{Drained, Sinks};

use crate::collect::carve::{self, LiveRecords, Recovery};
use crate::collect::loose::Loose;
use crate::collect::registry::{self, HiveReplay, Hives, HostFacts, Wanted};
use crate::collect::source::{is_laid_out, join, DirItem, Source};
use crate::collect::volume::{collect_volume, Target};
use crate::disk::shadow::Shadows;
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
/// scan stopped part way (`incomplete`, with the reason in errors.csv). The caller
/// writes the report as the folder's manifest.json, last, which marks it complete.
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
    // Live volumes first: a snapshot's event records are then told apart from
    // those the live logs still hold. One volume at a time, each one's files in
    // parallel: its rows then come in the same order at any number of threads.
    let snapshots = targets.iter().any(|t| t.snapshot.is_some());
    report.carving = targets
        .iter()
        .filter(|t| t.snapshot.is_none())
        .filter_map(|t| collect_volume(t, &out, options, &live, snapshots, progress))
        .collect();
    report.carving.extend(
        targets
            .iter()
            .filter(|t| t.snapshot.is_some())
            .filter_map(|t| collect_volume(t, &out, options, &live, false, progress)),
    );
    // Only an image has unallocated bytes to carve: a directory or a lone event
    // log (whose records were all read as the live log's) has none. The container
    // was settled when the input was opened, so its signature is not read again.
    if options.carve_all
        && !matches!(
            report.container.as_str(),
            "directory" | "event_log" | "loose_file"
        )
    {
        progress("carving the whole image".into());
        match Evidence::open(input) {
            Ok(evidence) => match evidence.unbacked_problem() {
                // A petabyte of zeros no file stores is not read, nor cut into
                // regions to read.
                Some(why) => out.error(
                    "image",
                    &input.display().to_string(),
                    Stage::Carve,
                    &format!("not carved: {why}"),
                ),
                None => {
                    let recovery = Recovery::new(&out, "image", "(image)", &live);
                    let stats = carve::whole_image(
                        &evidence,
                        &|data, hit| recovery.on_hit(data, hit),
                        &|count, work| out.in_order(count, work),
                    );
                    recovery.finish(&evidence);
                    report.carving.push(stats);
                }
            },
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
        observations,
    } = drained;
    report.observations = Some(observations);
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
        report.tools = lateral::tool_times(&findings);
        report.view = crate::report::HostView::new(name, &report.host, &findings, &profile);
        if let Err(e) = report.view.save(out_dir) {
            tables.error("", &out_dir.display().to_string(), Stage::Write, &e);
            report.incomplete = true;
        }
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
    if options.artifacts.evtx {
        let sources: Vec<&Source> = targets.iter().map(|t| &t.source).collect();
        report.computers = computers::sample(&sources);
        // Without a SYSTEM hive naming it, the host is what its own logs call it.
        if report.host_facts.computer_name.is_empty() {
            if let Some(most) = report.computers.first() {
                report.host = most.name.clone();
            }
        }
    }
}

fn open_targets(
    input: &Path,
    pending: &mut Vec<Pending>,
    report: &mut ImageReport,
    options: &ScanOptions,
) -> Result<Vec<Target>, String> {
    let loose = if input.is_dir() {
        if is_laid_out(input) {
            Some(("directory", Source::Directory(input.to_path_buf())))
        } else {
            let copies = Loose::of_folder(input);
            for problem in copies.problems() {
                pending.push((String::new(), String::new(), Stage::List, problem.clone()));
            }
            Some(("directory", Source::Loose(Arc::new(copies))))
        }
    } else if let Some(copy) = Loose::of_file(input) {
        let kind = if copy.is_event_log() {
            "event_log"
        } else {
            "loose_file"
        };
        Some((kind, Source::Loose(Arc::new(copy))))
    } else {
        None
    };
    if let Some((container, source)) = loose {
        report.container = container.into();
        return Ok(vec![Target {
            label: "1".into(),
            snapshot: None,
            source,
            hives: Hives::default(),
            unbacked: None,
        }]);
    }
    let evidence = Evidence::open(input).map_err(|e| e.to_string())?;
    report.container = match evidence.kind() {
        crate::evidence::ContainerKind::Raw => "raw",
        crate::evidence::ContainerKind::SplitRaw => "split_raw",
        crate::evidence::ContainerKind::Ewf => "ewf",
        crate::evidence::ContainerKind::Vmdk => "vmdk",
        crate::evidence::ContainerKind::Vhd => "vhd",
        crate::evidence::ContainerKind::Vhdx => "vhdx",
        crate::evidence::ContainerKind::Qcow2 => "qcow2",
    }
    .into();
    if let Some(damage) = evidence.damage() {
        pending.push((String::new(), String::new(), Stage::Image, damage));
    }
    report.segments = evidence.segments().to_vec();
    report.media_size = evidence.len();
    if options.hash {
        // A media hash that cannot be computed (a corrupt chunk, a size nothing
        // stores) costs the hash, not the scan.
        match sha256_of(&evidence) {
            Ok(sha256) => report.sha256 = Some(sha256),
            Err(e) => pending.push((
                String::new(),
                String::new(),
                Stage::Image,
                format!("hashing: {e}"),
            )),
        }
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
        let label = part.number.to_string();
        let window: Arc<dyn ReadAt> =
            Arc::new(Window::new(evidence.data(), part.offset, part.length));
        match Volume::open(Arc::clone(&window)) {
            Ok(volume) => {
                for warning in volume.warnings() {
                    pending.push((label.clone(), String::new(), Stage::Volume, warning.clone()));
                }
                let volume = Arc::new(volume);
                targets.push(Target {
                    label: label.clone(),
                    snapshot: None,
                    source: Source::Ntfs(Arc::clone(&volume)),
                    hives: Hives::default(),
                    unbacked: None,
                });
                targets.extend(collection_targets(&volume, &label));
            }
            Err(e) => pending.push((label.clone(), String::new(), Stage::Volume, e.to_string())),
        }
        if options.snapshots != Snapshots::None {
            targets.extend(snapshot_targets(window, &label, options.snapshots, pending));
        }
    }
    if targets.is_empty() {
        return Err(format!(
            "no readable NTFS volume ({})",
            disk::explain_no_ntfs(&evidence, &layout)
        ));
    }
    // Every volume and shadow copy lies on the same media.
    let unbacked = evidence.unbacked_problem();
    for target in &mut targets {
        target.unbacked = unbacked.clone();
    }
    Ok(targets)
}

/// Triage collections kept on an NTFS volume (KAPE's VHDX: `C/Windows/…`,
/// `C/$MFT`), as targets of their own labelled `volume/C`: a folder named by a
/// drive letter, at the volume's root or one folder down, holding a `Windows`
/// folder or a `$MFT`. A volume that is itself a Windows volume holds none.
fn collection_targets(volume: &Arc<Volume>, label: &str) -> Vec<Target> {
    let live = Source::Ntfs(Arc::clone(volume));
    // A folder that cannot be listed holds no collection we could read. Damage to
    // the root's index is reported by the live volume's own target, whose
    // collectors look up every Windows path through it.
    let items = |dir: &str| live.list(dir).map(|l| l.items).unwrap_or_default();
    let is_windows = |item: &DirItem| item.is_dir && item.name.eq_ignore_ascii_case("Windows");
    let root = items("");
    // Every volume's root lists its own `$MFT`: only a `Windows` folder says the
    // volume is a Windows volume rather than a container.
    if root.iter().any(is_windows) {
        return Vec::new();
    }
    let mut candidates = Vec::new();
    for folder in root.iter().filter(|item| item.is_dir) {
        if drive_letter(&folder.name).is_some() {
            candidates.push(folder.name.clone());
        } else {
            candidates.extend(
                items(&folder.name)
                    .into_iter()
                    .filter(|item| item.is_dir && drive_letter(&item.name).is_some())
                    .map(|item| join(&folder.name, &item.name)),
            );
        }
    }
    candidates
        .into_iter()
        .filter(|dir| {
            items(dir).iter().any(|item| {
                is_windows(item) || (!item.is_dir && item.name.eq_ignore_ascii_case("$MFT"))
            })
        })
        .map(|dir| Target {
            label: format!("{label}/{dir}"),
            snapshot: None,
            source: Source::Collected(Arc::clone(volume), dir),
            hives: Hives::default(),
            unbacked: None,
        })
        .collect()
}

/// The drive letter (upper case) a folder is named after, as triage tools name the
/// copy of a volume: KAPE's `C`, `c:`, and Velociraptor's URL-encoded `C%3A` (the
/// `auto` accessor) and `%5C%5C.%5CC%3A` (`\\.\C:`, the `ntfs` accessor), encoded
/// or not.
pub fn drive_letter(name: &str) -> Option<char> {
    let lower = name.to_ascii_lowercase();
    let device = ["%5c%5c.%5c", "%5c%5c%3f%5c", r"\\.\", r"\\?\"]
        .iter()
        .find_map(|prefix| lower.strip_prefix(prefix));
    let rest = device.unwrap_or(&lower);
    let mut chars = rest.chars();
    let letter = chars.next().filter(char::is_ascii_alphabetic)?;
    let suffix = chars.as_str();
    // A device path always names the drive with its colon.
    let suffixes: &[&str] = if device.is_some() {
        &[":", "%3a"]
    } else {
        &["", ":", "%3a"]
    };
    suffixes
        .contains(&suffix)
        .then(|| letter.to_ascii_uppercase())
}

/// The shadow copies of one NTFS volume as targets of their own, labelled
/// `volume@snapshot` (the tables split the label into the `volume` and `snapshot`
/// columns). A catalog or snapshot that cannot be read is an errors.csv row.
fn snapshot_targets(
    live: Arc<dyn ReadAt>,
    label: &str,
    which: Snapshots,
    pending: &mut Vec<Pending>,
) -> Vec<Target> {
    let shadows = match Shadows::find(live) {
        Ok(Some(shadows)) => shadows,
        Ok(None) => return Vec::new(),
        Err(e) => {
            pending.push((
                label.to_string(),
                String::new(),
                Stage::Snapshot,
                e.to_string(),
            ));
            return Vec::new();
        }
    };
    for problem in shadows.problems() {
        pending.push((
            label.to_string(),
            String::new(),
            Stage::Snapshot,
            problem.clone(),
        ));
    }
    let mut list = shadows.list();
    if which == Snapshots::Latest {
        list = list.split_off(list.len().saturating_sub(1));
    }
    let mut targets = Vec::new();
    for snap in list {
        let snap_label = format!("{label}@{}", snap.number);
        let opened = shadows.open(snap.number).map_err(|e| e.to_string());
        let opened = opened.and_then(|(data, problems)| {
            for problem in problems {
                pending.push((
                    snap_label.clone(),
                    String::new(),
                    Stage::Snapshot,
                    format!("{}: {problem}", snap.describe()),
                ));
            }
            Volume::open(data).map_err(|e| e.to_string())
        });
        match opened {
            Ok(volume) => {
                for warning in volume.warnings() {
                    pending.push((
                        snap_label.clone(),
                        String::new(),
                        Stage::Volume,
                        warning.clone(),
                    ));
                }
                targets.push(Target {
                    label: snap_label,
                    snapshot: Some(snap),
                    source: Source::Ntfs(Arc::new(volume)),
                    hives: Hives::default(),
                    unbacked: None,
                });
            }
            Err(e) => pending.push((
                snap_label,
                String::new(),
                Stage::Snapshot,
                format!("{}: {e}", snap.describe()),
            )),
        }
    }
    targets
}

#[cfg(test)]
mod tests {
    use super::drive_letter;

    #[test]
    fn drive_folders_in_the_forms_collectors_write() {
        for name in [
            "C",
            "c",
            "c:",
            "C%3A",
            "%5C%5C.%5CC%3A",
            r"\\.\C:",
            "%5c%5c%3f%5cc%3a",
        ] {
            assert_eq!(drive_letter(name), Some('C'), "{name}");
        }
        // A device path names its colon; other folders are not drives.
        for name in ["%5C%5C.%5CC", "CD", "1", "", "C%3", "Windows", "uploads"] {
            assert_eq!(drive_letter(name), None, "{name}");
        }
    }
}
