//! Scanning one image (or one triage directory): find its Windows volumes, run
//! every collector, write the tables, and say what was found and what failed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use super::carve::{self, CarveStats, LiveRecords, Recovery};
use super::evtx::read_log;
use super::mft::{directory_map, walk, DirectoryMap};
use super::registry::{self, HiveReplay, Hives, HostFacts, Wanted};
use super::rows;
use super::source::Source;
use crate::disk::{self, FsKind};
use crate::evidence::{Evidence, ReadAt, ReadSeekAdapter, Window};
use crate::ntfs::Volume;
use crate::output::{sha256_of, CollectedFile, ImageOutput};

/// Largest Prefetch file read (real ones are under 1 MiB).
const MAX_PREFETCH_BYTES: u64 = 16 << 20;

/// The names `--artifacts` takes.
pub const KNOWN: &str = "evtx, prefetch, mft, usn, carve, registry, amcache, shimcache";

/// Which artifacts to collect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Artifacts {
    /// Event logs.
    pub evtx: bool,
    /// Prefetch files.
    pub prefetch: bool,
    /// Every `$MFT` record.
    pub mft: bool,
    /// The `$UsnJrnl:$J` change journal.
    pub usn: bool,
    /// Event-log chunks carved from unallocated clusters.
    pub carve: bool,
    /// Registry tables: bam, userassist, services, tasks, registry.
    pub registry: bool,
    /// Amcache.hve.
    pub amcache: bool,
    /// The AppCompatCache of SYSTEM.
    pub shimcache: bool,
}

impl Artifacts {
    /// Every artifact toolmark knows.
    pub const ALL: Artifacts = Artifacts {
        evtx: true,
        prefetch: true,
        mft: true,
        usn: true,
        carve: true,
        registry: true,
        amcache: true,
        shimcache: true,
    };

    /// Parses a comma-separated list (`evtx,prefetch`).
    pub fn parse(list: &str) -> Result<Artifacts, String> {
        let mut set = Artifacts {
            evtx: false,
            prefetch: false,
            mft: false,
            usn: false,
            carve: false,
            registry: false,
            amcache: false,
            shimcache: false,
        };
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name.to_ascii_lowercase().as_str() {
                "evtx" => set.evtx = true,
                "prefetch" => set.prefetch = true,
                "mft" => set.mft = true,
                "usn" => set.usn = true,
                "carve" => set.carve = true,
                "registry" => set.registry = true,
                "amcache" => set.amcache = true,
                "shimcache" => set.shimcache = true,
                "all" => set = Artifacts::ALL,
                other => return Err(format!("unknown artifact '{other}' (known: {KNOWN})")),
            }
        }
        Ok(set)
    }
}

/// How to scan.
#[derive(Clone, Debug)]
pub struct ScanOptions {
    /// The trace knowledge base findings are judged against (`None`: no findings).
    pub rules: Option<std::sync::Arc<crate::traces::KnowledgeBase>>,
    /// What to collect.
    pub artifacts: Artifacts,
    /// Write cells as they are, without formula neutralisation.
    pub raw_cells: bool,
    /// Hash the image (SHA-256 of the media) into the manifest.
    pub hash: bool,
    /// Carve the whole image (allocated, unallocated and unpartitioned bytes)
    /// instead of the volumes' unallocated clusters only.
    pub carve_all: bool,
}

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
    /// image name.
    pub host: String,
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
    pub logging: Option<crate::findings::LoggingProfile>,
    /// True when the image could not be opened at all.
    pub failed: bool,
    /// Wall time in seconds.
    pub seconds: f64,
    /// toolmark version.
    pub toolmark_version: String,
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
            host_facts: HostFacts::default(),
            hives: Vec::new(),
            volumes: Vec::new(),
            rows: BTreeMap::new(),
            errors: 0,
            files: Vec::new(),
            carving: Vec::new(),
            logging: None,
            failed: false,
            seconds: 0.0,
            toolmark_version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// One Windows volume to collect from, with its label for the `volume` column and
/// its registry hives (read before the output exists, for the host name).
struct Target {
    label: String,
    source: Source,
    hives: Hives,
}

/// An errors.csv row met before the output existed: volume, path, stage, error.
type Pending = (String, String, String, String);

/// Scans `input` into `out_dir`; never fails as a whole: problems go to errors.csv
/// and the report says whether the image could be opened.
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
            pending.push((String::new(), input.display().to_string(), "open".into(), e));
            report.failed = true;
            Vec::new()
        }
    };
    read_hives(&mut targets, &mut pending, &mut report, options);
    let out = ImageOutput::create(out_dir, name, &report.host, options.raw_cells, options.hash)?;
    for (volume, path, stage, error) in &pending {
        out.error(volume, path, stage, error);
    }
    // The hive files and their transaction logs are collected files too.
    for t in &targets {
        for hive in &t.hives.hives {
            for suffix in ["", ".LOG", ".LOG1", ".LOG2"] {
                let path = format!("{}{suffix}", hive.path);
                if let Ok(file) = t.source.open(&path) {
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
                "carve",
                &e.to_string(),
            ),
        }
    }
    progress("writing the sorted timeline".into());
    let (mut counts, files) = out.finish()?;
    if let Some(kb) = &options.rules {
        progress("matching the tool traces".into());
        let written = crate::findings::write(out_dir, name, &report.host, kb, options.raw_cells)?;
        counts.insert("findings".into(), written.findings);
        counts.insert("evidence".into(), written.evidence);
        report.logging = Some(written.profile);
    }
    report.files = files;
    report.errors = counts.get("errors").copied().unwrap_or(0);
    report.rows = counts;
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
                "registry".into(),
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
    let facts: Vec<HostFacts> = targets
        .iter()
        .filter(|t| t.hives.first(registry::HiveKind::System).is_some())
        .map(|t| registry::facts(&t.hives))
        .collect();
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
    report.segments = evidence.segments().to_vec();
    report.media_size = evidence.len();
    if options.hash {
        report.sha256 = Some(sha256_of(&evidence).map_err(|e| format!("hashing: {e}"))?);
    }
    let layout = disk::scan(&evidence).map_err(|e| e.to_string())?;
    let mut targets = Vec::new();
    for part in layout.partitions.iter().filter(|p| p.fs == FsKind::Ntfs) {
        let window: Arc<dyn ReadAt> =
            Arc::new(Window::new(evidence.data(), part.offset, part.length));
        match Volume::open(window) {
            Ok(volume) => targets.push(Target {
                label: part.number.to_string(),
                source: Source::Ntfs(Arc::new(volume)),
                hives: Hives::default(),
            }),
            Err(e) => pending.push((
                part.number.to_string(),
                String::new(),
                "volume".into(),
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

/// One unit of parallel work inside a volume.
enum Job {
    EventLog(String),
    Prefetch(String),
    FileSystem,
    Registry,
    Amcache,
}

fn collect_volume(
    target: &Target,
    out: &ImageOutput,
    options: &ScanOptions,
    live: &LiveRecords,
    progress: &Progress<'_>,
) -> Option<CarveStats> {
    let mut jobs = Vec::new();
    let list = |dir: &str, ext: &str| -> Vec<String> {
        match target.source.list(dir) {
            Ok(listing) => {
                // A damaged index may hide some of the files: say so.
                for problem in &listing.problems {
                    out.error(&target.label, dir, "list", problem);
                }
                listing
                    .items
                    .into_iter()
                    .filter(|i| !i.is_dir && i.name.to_ascii_lowercase().ends_with(ext))
                    .map(|i| format!("{dir}/{}", i.name))
                    .collect()
            }
            Err(e) => {
                if !e.absent {
                    out.error(&target.label, dir, "list", &e.message);
                }
                Vec::new()
            }
        }
    };
    if options.artifacts.evtx {
        jobs.extend(
            list("Windows/System32/winevt/Logs", ".evtx")
                .into_iter()
                .map(Job::EventLog),
        );
        jobs.extend(
            list("Windows/System32/config", ".evtx")
                .into_iter()
                .map(Job::EventLog),
        );
    }
    if options.artifacts.prefetch {
        jobs.extend(
            list("Windows/Prefetch", ".pf")
                .into_iter()
                .map(Job::Prefetch),
        );
    }
    if options.artifacts.mft || options.artifacts.usn {
        jobs.push(Job::FileSystem);
    }
    if options.artifacts.registry || options.artifacts.shimcache {
        jobs.push(Job::Registry);
    }
    if options.artifacts.amcache {
        jobs.push(Job::Amcache);
    }
    // Largest units first keeps both cores busy to the end.
    jobs.sort_by_key(|j| match j {
        Job::FileSystem => 0,
        Job::Registry | Job::Amcache => 1,
        Job::EventLog(_) => 2,
        Job::Prefetch(_) => 3,
    });
    let remember = (options.artifacts.carve || options.carve_all).then_some(live);
    let done = std::sync::atomic::AtomicUsize::new(0);
    jobs.par_iter().for_each(|job| {
        run_job(job, target, out, options, remember);
        let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        progress(format!(
            "volume {}: {n}/{} artifact files",
            target.label,
            jobs.len()
        ));
    });
    if options.artifacts.carve && !options.carve_all {
        progress(format!(
            "volume {}: carving unallocated clusters",
            target.label
        ));
        let stats = carve_volume(target, out, live);
        if let Some(s) = &stats {
            progress(format!(
                "volume {}: carved {} MB at {:.0} MB/s, {} intact chunks",
                target.label,
                s.bytes / 1_000_000,
                s.mb_per_second,
                s.intact
            ));
        }
        return stats;
    }
    None
}

/// Reports what a scan is doing, one line per image.
pub type Progress<'a> = dyn Fn(String) + Sync + 'a;

fn run_job(
    job: &Job,
    target: &Target,
    out: &ImageOutput,
    options: &ScanOptions,
    remember: Option<&LiveRecords>,
) {
    match job {
        Job::EventLog(path) => event_log(target, out, path, remember),
        Job::Prefetch(path) => prefetch_file(target, out, path),
        Job::FileSystem => file_system(target, out, options),
        Job::Registry => registry::collect(
            &target.source,
            out,
            &target.label,
            &target.hives,
            registry::Tables {
                registry: options.artifacts.registry,
                shimcache: options.artifacts.shimcache,
            },
        ),
        Job::Amcache => registry::amcache::collect(out, &target.label, &target.hives),
    }
}

/// Deleted evidence from the volume's unallocated clusters.
fn carve_volume(target: &Target, out: &ImageOutput, live: &LiveRecords) -> Option<CarveStats> {
    let Source::Ntfs(volume) = &target.source else {
        return None;
    };
    let recovery = Recovery::new(out, &target.label, "(unallocated)", live);
    let result = carve::unallocated(volume, &|data, hit| recovery.on_hit(data, hit));
    recovery.finish();
    match result {
        Ok(stats) => Some(stats),
        Err(e) => {
            out.error(&target.label, "$Bitmap", "carve", &e.to_string());
            None
        }
    }
}

fn event_log(target: &Target, out: &ImageOutput, path: &str, live: Option<&LiveRecords>) {
    let volume = &target.label;
    let file = match target.source.open(path) {
        Ok(f) => f,
        Err(e) => return out.error(volume, path, "evtx", &e),
    };
    out.collected(volume, path, file.data.as_ref());
    let reader = ReadSeekAdapter::new(file.data);
    let mut failures = Vec::new();
    let result = read_log(
        reader,
        1,
        &mut |record| {
            if let Some(live) = live {
                live.insert(&record);
            }
            rows::event(out, volume, path, &record, None)
        },
        &mut |e| failures.push(e),
    );
    match result {
        Ok(_) => {
            for e in failures {
                out.error(volume, path, "evtx record", &e);
            }
        }
        Err(e) => out.error(volume, path, "evtx", &e),
    }
}

fn prefetch_file(target: &Target, out: &ImageOutput, path: &str) {
    let volume = &target.label;
    let bytes = match target
        .source
        .open(path)
        .and_then(|f| f.read_all(MAX_PREFETCH_BYTES))
    {
        Ok(b) => b,
        Err(e) => return out.error(volume, path, "prefetch", &e),
    };
    out.collected(volume, path, &bytes);
    match prefetch::parse(&bytes) {
        Ok(pf) => rows::prefetch(out, volume, path, &pf, None),
        Err(e) => out.error(volume, path, "prefetch", &e.to_string()),
    }
}

/// `$MFT` then `$UsnJrnl:$J`, sharing the directory map that gives journal records
/// their parent path.
fn file_system(target: &Target, out: &ImageOutput, options: &ScanOptions) {
    let volume = &target.label;
    let mut dirs = DirectoryMap::default();
    if let Some(mft) = target.source.mft() {
        out.collected(volume, "$MFT", mft.data.as_ref());
        dirs = directory_map(mft.data.as_ref(), &mft.extents);
        if options.artifacts.mft {
            walk(
                mft.data.as_ref(),
                &mft.extents,
                &mut dirs,
                &mut |row| rows::mft(out, volume, &row, None),
                &mut |record, e| out.error(volume, &format!("$MFT record {record}"), "mft", &e),
            );
        }
    } else if options.artifacts.mft && matches!(target.source, Source::Ntfs(_)) {
        // A triage folder may simply not have collected it; a volume always has one.
        out.error(volume, "$MFT", "mft", "the volume's $MFT could not be read");
    }
    if !options.artifacts.usn {
        return;
    }
    let Some(journal) = target.source.usn_journal() else {
        return;
    };
    out.collected(volume, "$Extend/$UsnJrnl:$J", journal.data.as_ref());
    for extent in journal.extents.iter().filter(|e| !e.sparse) {
        let window = Window::new(Arc::clone(&journal.data), extent.offset, extent.length);
        let mut stream = usn::UsnStream::new(ReadSeekAdapter::new(window), extent.offset);
        for record in stream.by_ref() {
            match record {
                Ok(r) => {
                    let parent = if r.parent_reference.is_ntfs() {
                        dirs.path_of(r.parent_reference.entry(), r.parent_reference.sequence())
                    } else {
                        String::new()
                    };
                    rows::usn(out, volume, &r, &parent);
                }
                Err(e) => out.error(volume, "$Extend/$UsnJrnl:$J", "usn", &e.to_string()),
            }
        }
    }
}
