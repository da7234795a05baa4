//! Many images in parallel: naming, progress, failure isolation and roll-ups.
//!
//! Each image is scanned into `OUT/<name>/`; one image failing (or even panicking
//! in a parser) is recorded and the others go on. With more than one image the
//! per-image tables are rolled up into `OUT/` with the same schemas: plain
//! concatenation, except the timeline, which is merged to stay sorted. A batch can
//! be one shard of many ([`shard`]), resumes where it stopped ([`resume`]), and
//! shards are merged into one output by the same code that ends a batch ([`merge`]).

pub mod merge;
pub mod resume;
pub mod shard;

use std::collections::{BTreeMap, HashSet};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::collect::loose::Loose;
use crate::collect::source::marks_a_volume;
use crate::output::{header, schema, Table, TABLES};
use crate::pipeline::{judge, scan_image, ImageReport, ScanOptions, Settings};
use shard::{Shard, ShardInfo};

/// How chatty the batch is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verbosity {
    /// Nothing but errors.
    Quiet,
    /// Progress bars on a terminal.
    Normal,
    /// Also one summary line per image.
    Verbose,
}

/// The outcome of a batch (`OUT/manifest.json`).
#[derive(Debug, Serialize, Deserialize)]
pub struct BatchReport {
    /// One report per image, in input order.
    pub images: Vec<ImageReport>,
    /// Rows per roll-up file (batches of more than one image).
    pub rollup_rows: BTreeMap<String, u64>,
    /// For one shard of a batch: which, and the whole batch's images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardInfo>,
}

/// How a batch relates to other runs: its slice of the inputs, and the settings
/// that decide whether an earlier run's image folder can be kept.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Scan only this slice of the inputs.
    pub shard: Option<Shard>,
    /// SHA-256 of the rules text (part of every image's fingerprint).
    pub rules_sha256: String,
}

impl BatchReport {
    /// True if every image opened and nothing went to errors.csv.
    pub fn all_clean(&self) -> bool {
        self.images.iter().all(|r| !r.failed && r.errors == 0)
    }
}

/// How many folders deep below a given folder images and triage folders are looked
/// for: a case folder of host folders (`case/HOST/HOST.E01`), KAPE's
/// `dest/HOST/C/Windows/…`, a collection's `uploads/auto/C%3A/Windows/…`.
const SEARCH_DEPTH: usize = 4;

/// Files acquisition and triage tools write beside images (FTK Imager's
/// `image.E01.txt`, hash lists, reports): never images themselves.
const SIDECAR_EXTENSIONS: &[&str] = &[
    "txt", "log", "md5", "sha1", "sha256", "csv", "json", "xml", "htm", "html", "pdf", "ini",
];

/// Expands the inputs: a triage directory (it has a `Windows` folder or a `$MFT`,
/// or it holds event logs itself: one host's exported or copied logs) is one
/// input; any other directory stands for the images, lone event logs and triage
/// directories in it and in its folders up to [`SEARCH_DEPTH`] deep (first
/// segments only; sidecar files, hidden files and symbolic links to folders left
/// out).
/// A directory (or an entry of it) that cannot be read is an error naming it:
/// the images it holds must not drop out of the batch unsaid. Folders deeper
/// than the search goes are returned too, to be named as not searched.
pub fn expand_inputs(inputs: &[PathBuf]) -> Result<Expanded, String> {
    let mut expanded = Expanded::default();
    for input in inputs {
        if input.is_dir() && !is_triage_directory(input) {
            inputs_under(input, SEARCH_DEPTH, &mut expanded)?;
        } else {
            expanded.inputs.push(input.clone());
        }
    }
    Ok(expanded)
}

/// What the given paths stand for.
#[derive(Debug, Default)]
pub struct Expanded {
    /// Images, logs and triage folders, in order.
    pub inputs: Vec<PathBuf>,
    /// Folders below the search depth, not looked into.
    pub not_searched: Vec<PathBuf>,
    /// Entries that are neither file nor folder (a FIFO, socket or device): never
    /// opened (a FIFO blocks), named so they are not passed over silently.
    pub not_regular: Vec<PathBuf>,
}

/// The inputs in folder `dir` and, `depth` levels down, in its folders, in name
/// order.
fn inputs_under(dir: &Path, depth: usize, out: &mut Expanded) -> Result<(), String> {
    let unreadable = |e: std::io::Error| format!("{}: {e}", dir.display());
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        entries.push(entry.map_err(unreadable)?.path());
    }
    entries.sort();
    let extents = vmdk_extent_files(&entries);
    for path in entries {
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            // `is_dir` just read this entry's metadata through any link; a link's own
            // metadata that cannot be read then is taken for a plain folder.
            let linked = path.symlink_metadata().is_ok_and(|m| m.is_symlink());
            if is_triage_directory(&path) {
                out.inputs.push(path);
            } else if linked {
                // A link could lead back up the tree: not followed.
                out.not_searched.push(path);
            } else if depth > 0 {
                inputs_under(&path, depth - 1, out)?;
            } else {
                out.not_searched.push(path);
            }
        } else if !path.is_file() {
            // Neither file nor folder (a dangling link reads as neither too, and is
            // named the same way).
            out.not_regular.push(path);
        } else if !is_later_segment(&path)
            && !is_sidecar(&path)
            && !is_hive_log(&path)
            && !extents.contains(&path)
        {
            out.inputs.push(path);
        }
    }
    Ok(())
}

/// The extent files the VMDK descriptors among `entries` name beside themselves
/// (`disk-flat.vmdk`, `disk-s001.vmdk` …): pieces of their disk, opened through
/// its descriptor, not disks of their own. A file that cannot be read names none.
fn vmdk_extent_files(entries: &[PathBuf]) -> HashSet<PathBuf> {
    use std::io::Read;
    let mut extents = HashSet::new();
    for path in entries {
        let is_vmdk = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("vmdk"));
        if !is_vmdk || !path.is_file() {
            continue;
        }
        // Text descriptors are a few KiB; a sparse extent (`KDMV`) is not one.
        let mut head = Vec::new();
        let read = std::fs::File::open(path).and_then(|f| f.take(64 << 10).read_to_end(&mut head));
        if read.is_err() || head.starts_with(vmdk::SPARSE_MAGIC) || !vmdk::is_vmdk(&head) {
            continue;
        }
        let Some(dir) = path.parent() else { continue };
        for line in vmdk::Descriptor::parse(&head).extents {
            let named = Path::new(&line.file);
            // Only a plain name beside the descriptor: a path elsewhere is no
            // file of this folder's listing anyway.
            if named.components().count() == 1 && dir.join(named) != *path {
                extents.insert(dir.join(named));
            }
        }
    }
    extents
}

/// A hive's transaction log beside its hive (`SYSTEM.LOG1` by `SYSTEM`): read with
/// the hive, not an input of its own.
fn is_hive_log(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    crate::collect::loose::log_of(&name)
        .is_some_and(|(hive, _)| path.with_file_name(hive).is_file())
}

/// A file an acquisition tool writes beside an image (see [`SIDECAR_EXTENSIONS`]).
fn is_sidecar(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| SIDECAR_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Extensions of disk images and their first segments: a folder holding one is a
/// folder of images, not one host's loose copies, whatever else lies beside them.
const IMAGE_EXTENSIONS: &[&str] = &[
    "e01", "ex01", "raw", "dd", "img", "000", "001", "vmdk", "vhd", "vhdx", "qcow2", "qcow",
];

/// True for a triage collection: laid out like a volume, a folder of event logs, or
/// a folder of loose copies (a hive, a Prefetch file, `$MFT`, `$J`: see
/// `collect::loose`; or a `Users` folder of profiles) with no disk image beside
/// them. A directory that cannot be read
/// is not one: `expand_inputs` then names it.
fn is_triage_directory(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    let mut loose_copy = false;
    let mut image = false;
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().to_ascii_lowercase();
        let path = entry.path();
        if marks_a_volume(&entry.file_name()) || (name.ends_with(".evtx") && path.is_file()) {
            return true;
        }
        // A copy of the profiles alone (`Users/alice/NTUSER.DAT`) is one host's too.
        loose_copy |= name == "users" && path.is_dir();
        let extension = name.rsplit_once('.').map_or("", |(_, e)| e);
        image |= IMAGE_EXTENSIONS.contains(&extension);
        loose_copy = loose_copy || (path.is_file() && !image && Loose::of_file(&path).is_some());
    }
    loose_copy && !image
}

/// `.E02`.., `.FAA`.., `.002`.., `.1000`.., `.ab`.., `.zaaa`..: pieces opened
/// through the first piece of their set, recognised by that first piece (of any
/// width up to theirs: sets grow wider, see `evidence::segments`) existing beside
/// them.
fn is_later_segment(path: &Path) -> bool {
    let Some(ext) = path.extension().and_then(|e| e.to_str()) else {
        return false;
    };
    let first_exists = |candidates: &[String]| {
        candidates.iter().any(|c| {
            c != ext
                && (path.with_extension(c).is_file()
                    || path.with_extension(c.to_uppercase()).is_file())
        })
    };
    let ewf_firsts = crate::evidence::later_segment_firsts(ext);
    if !ewf_firsts.is_empty() {
        return ewf_firsts.iter().any(|f| path.with_extension(f).is_file());
    }
    let bytes = ext.as_bytes();
    let widths = 2..=bytes.len();
    if bytes.len() >= 2 && bytes.iter().all(u8::is_ascii_digit) {
        // `.000` starts a set; `.001` starts one unless a `.000` exists.
        return match ext.parse::<u64>() {
            Ok(0) | Err(_) => false,
            Ok(1) => first_exists(&[format!("{:0w$}", 0, w = bytes.len())]),
            Ok(_) => first_exists(
                &widths
                    .flat_map(|w| [format!("{:0w$}", 0), format!("{:0w$}", 1)])
                    .collect::<Vec<_>>(),
            ),
        };
    }
    let letters =
        bytes.iter().all(u8::is_ascii_lowercase) || bytes.iter().all(u8::is_ascii_uppercase);
    if bytes.len() >= 2 && letters {
        return first_exists(&widths.map(|w| "a".repeat(w)).collect::<Vec<_>>());
    }
    false
}

/// Folders a triage collector puts between a host's collection and its drive
/// folders: Velociraptor's `uploads` and its accessors' names.
const COLLECTOR_FOLDERS: [&str; 5] = ["uploads", "auto", "ntfs", "lazy_ntfs", "file"];

/// A folder name for the image: its file name without extension (or the folder's
/// name), with anything but letters, digits, `-`, `_` and `.` replaced, never `.`
/// or `..`, made unique within the batch.
fn output_name(input: &Path, taken: &mut HashSet<String>) -> String {
    // `.` or `dir/..` names no folder by itself: its real path does.
    let resolved;
    let input = if input.file_name().is_none() {
        resolved = input.canonicalize().unwrap_or_else(|_| input.to_path_buf());
        resolved.as_path()
    } else {
        input
    };
    let mut raw = if input.is_dir() {
        input.file_name()
    } else {
        input.file_stem()
    }
    .map(|s| s.to_string_lossy().into_owned())
    .unwrap_or_default();
    // Triage tools name a volume's folder by its drive letter (KAPE's `HOST/C`,
    // Velociraptor's `HOST/uploads/auto/C%3A`): the first folder above that is not
    // the collector's own says whose it is.
    if let Some(letter) = crate::pipeline::drive_letter(&raw).filter(|_| input.is_dir()) {
        let owner = input
            .ancestors()
            .skip(1)
            .filter_map(Path::file_name)
            .map(|name| name.to_string_lossy())
            .find(|name| !COLLECTOR_FOLDERS.contains(&name.to_ascii_lowercase().as_str()));
        raw = match owner {
            Some(owner) => format!("{owner}-{letter}"),
            None => letter.to_string(),
        };
    }
    let mut name: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.trim_matches('.').is_empty() {
        name = "image".into();
    }
    let mut unique = name.clone();
    let mut n = 2;
    while !taken.insert(unique.clone()) {
        unique = format!("{name}-{n}");
        n += 1;
    }
    unique
}

/// Scans every input (of the plan's shard) into `out`, `jobs` threads in all,
/// keeping the image folders an earlier run into `out` finished.
pub fn run(
    inputs: &[PathBuf],
    out: &Path,
    jobs: usize,
    options: &ScanOptions,
    verbosity: Verbosity,
    plan: &Plan,
) -> Result<BatchReport, String> {
    let (named, shard) = slice(inputs, plan);
    claim(inputs, out, plan)?;
    let settings = settings(options, plan);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.max(1))
        .build()
        .map_err(|e| e.to_string())?;
    let multi = MultiProgress::with_draw_target(if verbosity == Verbosity::Quiet {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    });
    let overall = multi.add(ProgressBar::new(named.len() as u64));
    overall.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} images {elapsed_precise}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let images: Vec<ImageReport> = pool.install(|| {
        named
            .par_iter()
            .map(|(input, name)| {
                let line = multi.add(ProgressBar::new_spinner());
                line.enable_steady_tick(Duration::from_millis(200));
                line.set_message(format!("{name}: scanning {}", input.display()));
                let dir = out.join(name);
                let fingerprint = resume::fingerprint(input, &settings);
                if let Some(report) = resume::finished(&dir, &fingerprint) {
                    line.finish_and_clear();
                    multi.remove(&line);
                    overall.inc(1);
                    if verbosity == Verbosity::Verbose {
                        let _ = multi.println(format!("{name}: finished earlier, kept"));
                    }
                    return report;
                }
                // Whatever a killed run left of this image is redone from scratch.
                if dir.exists() {
                    if let Err(e) = std::fs::remove_dir_all(&dir) {
                        return failed_report(
                            input,
                            name,
                            &dir,
                            &format!("clearing {}: {e}", dir.display()),
                        );
                    }
                }
                let report = catch_unwind(AssertUnwindSafe(|| {
                    let stage = |what: String| line.set_message(format!("{name}: {what}"));
                    scan_image(input, name, &dir, options, &stage)
                }))
                .unwrap_or_else(|panic| {
                    // Our own bug, not hostile bytes in a parser we do not own: the
                    // hook prints it with its place, and the image is failed.
                    let what = crate::collect::contain::panic_text(panic.as_ref());
                    Err(format!("internal error (panic): {what}"))
                })
                .unwrap_or_else(|e| failed_report(input, name, &dir, &e));
                let report = ImageReport {
                    fingerprint,
                    ..report
                };
                // Written last: its presence says the folder is complete.
                let written = resume::write_json_atomically(&dir.join("manifest.json"), &report);
                let report = match written {
                    Ok(()) => report,
                    Err(e) => ImageReport {
                        incomplete: true,
                        errors: report.errors + 1,
                        write_error: Some(e),
                        ..report
                    },
                };
                line.finish_and_clear();
                multi.remove(&line);
                overall.inc(1);
                if verbosity == Verbosity::Verbose {
                    let _ = multi.println(summary(&report));
                }
                report
            })
            .collect()
    });
    overall.finish_and_clear();
    finish(out, images, shard, options.raw_cells, options.all_edges)
}

/// The inputs this run scans, with their output names, and what a shard's
/// manifest says about the whole batch. Names are given over the whole input list,
/// so every shard names an image alike.
fn slice(inputs: &[PathBuf], plan: &Plan) -> (Vec<(PathBuf, String)>, Option<ShardInfo>) {
    let mut taken = HashSet::new();
    let all: Vec<(PathBuf, String)> = inputs
        .iter()
        .map(|p| (p.clone(), output_name(p, &mut taken)))
        .collect();
    match plan.shard {
        Some(s) => (
            s.select(&all),
            Some(ShardInfo {
                index: s.index,
                count: s.count,
                batch: all.iter().map(|(_, n)| n.clone()).collect(),
            }),
        ),
        None => (all, None),
    }
}

/// Takes `out` for this run (see [`resume::claim`]); an error means it holds another
/// run's results, which is the user's call (`--force`, or another folder).
pub fn claim(inputs: &[PathBuf], out: &Path, plan: &Plan) -> Result<(), String> {
    let names: Vec<String> = slice(inputs, plan).0.into_iter().map(|(_, n)| n).collect();
    resume::claim(out, &names)
}

/// Ends a batch (a scan, or a merge of shards): the roll-ups, the cross-host
/// products (lateral movement, graph, sources resolved to images) over `images`,
/// and `OUT/manifest.json`, written last.
pub fn finish(
    out: &Path,
    images: Vec<ImageReport>,
    shard: Option<ShardInfo>,
    raw_cells: bool,
    all_edges: bool,
) -> Result<BatchReport, String> {
    let mut rollup_rows = if images.len() > 1 {
        roll_up(out, &images)?
    } else {
        BTreeMap::new()
    };
    // Edges between hosts are a batch product, but a single image's inbound
    // logons are worth the same table.
    let edges = crate::pipeline::lateral::write(out, &images, raw_cells, all_edges)?;
    rollup_rows.insert("lateral_movement".into(), edges.len() as u64);
    crate::report::write(out, &images, &crate::pipeline::lateral::COLUMNS, &edges)?;
    let report = BatchReport {
        images,
        rollup_rows,
        shard,
    };
    resume::write_json_atomically(&out.join("manifest.json"), &report)?;
    Ok(report)
}

/// The settings every image's fingerprint holds.
fn settings(options: &ScanOptions, plan: &Plan) -> Settings {
    let a = options.artifacts;
    let artifacts: Vec<&str> = [
        ("evtx", a.evtx),
        ("prefetch", a.prefetch),
        ("mft", a.mft),
        ("usn", a.usn),
        ("carve", a.carve),
        ("registry", a.registry),
        ("amcache", a.amcache),
        ("shimcache", a.shimcache),
    ]
    .into_iter()
    .filter_map(|(name, on)| on.then_some(name))
    .collect();
    Settings {
        toolmark: env!("CARGO_PKG_VERSION").to_string(),
        artifacts: artifacts.join(","),
        carve_all: options.carve_all,
        hash: options.hash,
        raw_cells: options.raw_cells,
        all_edges: options.all_edges,
        snapshots: clap::ValueEnum::to_possible_value(&options.snapshots)
            .map(|v| v.get_name().to_string())
            .unwrap_or_default(),
        rules_sha256: plan.rules_sha256.clone(),
    }
}

/// The report (and an errors.csv) for an image whose scan could not even start.
fn failed_report(input: &Path, name: &str, dir: &Path, error: &str) -> ImageReport {
    let _ = std::fs::create_dir_all(dir);
    if let Ok(mut table) = Table::create(&dir.join("errors.csv"), &schema::ERRORS, false) {
        let _ = table.row(&[name, "", &input.display().to_string(), "scan", error]);
        let _ = table.finish();
    }
    ImageReport {
        rows: BTreeMap::from([("errors".to_string(), 1)]),
        errors: 1,
        failed: true,
        ..ImageReport::new(input, name)
    }
}

fn summary(report: &ImageReport) -> String {
    let rows: Vec<String> = report
        .rows
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    format!(
        "{}: {}{} in {:.1}s ({})",
        report.image,
        if report.failed { "FAILED, " } else { "" },
        rows.join(", "),
        report.seconds,
        report.host
    )
}

/// Writes OUT/<table>.csv for every table: the images' own files one after the
/// other, each without its header line. The bytes are copied, not parsed: the cells
/// were written (and neutralised) once, and a header line never holds a line break.
fn roll_up(out: &Path, images: &[ImageReport]) -> Result<BTreeMap<String, u64>, String> {
    let mut tables: Vec<(&str, Vec<&'static str>)> =
        TABLES.iter().map(|&n| (n, header(n))).collect();
    tables.push(("errors", schema::ERRORS.to_vec()));
    tables.extend(judged_tables());
    let mut counts = concatenate(out, images, &tables)?;
    counts.insert("timeline".into(), merge_timelines(out, images)?);
    Ok(counts)
}

/// The tables the matcher writes (what `toolmark match` rewrites), with headers.
pub fn judged_tables() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        ("findings", judge::FINDINGS.to_vec()),
        ("evidence", judge::EVIDENCE.to_vec()),
        ("host_profile", judge::PROFILE.to_vec()),
    ]
}

/// Writes OUT/<name>.csv for each of `tables` from the images' files; returns rows.
pub fn concatenate(
    out: &Path,
    images: &[ImageReport],
    tables: &[(&str, Vec<&'static str>)],
) -> Result<BTreeMap<String, u64>, String> {
    let mut counts = BTreeMap::new();
    for (name, head) in tables {
        let path = out.join(format!("{name}.csv"));
        let table = Table::create(&path, head, true).map_err(|e| e.to_string())?;
        table.finish().map_err(|e| e.to_string())?;
        let mut target = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let mut rows = 0;
        for image in images {
            let source = out.join(&image.image).join(format!("{name}.csv"));
            let rows_here = image.rows.get(*name).copied().unwrap_or(0);
            let file = match std::fs::File::open(&source) {
                Ok(file) => file,
                // An image that wrote no such table (it failed, or the table is
                // not collected) adds nothing; one whose rows cannot be read
                // fails the roll-up rather than leaving them out unsaid.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && rows_here == 0 => continue,
                Err(e) => return Err(format!("{}: {e}", source.display())),
            };
            let mut reader = std::io::BufReader::new(file);
            let mut first = Vec::new();
            std::io::BufRead::read_until(&mut reader, b'\n', &mut first)
                .map_err(|e| format!("{}: {e}", source.display()))?;
            std::io::copy(&mut reader, &mut target)
                .map_err(|e| format!("{}: {e}", source.display()))?;
            rows += rows_here;
        }
        counts.insert(name.to_string(), rows);
    }
    Ok(counts)
}

/// Merges the images' sorted timelines into one sorted OUT/timeline.csv.
fn merge_timelines(out: &Path, images: &[ImageReport]) -> Result<u64, String> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    // An image that could not be opened has no timeline; any other that cannot be
    // read fails the roll-up rather than leaving its rows out unsaid.
    let mut readers: Vec<csv::StringRecordsIntoIter<std::fs::File>> = images
        .iter()
        .filter(|i| !i.failed)
        .map(|i| {
            let path = out.join(&i.image).join("timeline.csv");
            csv::Reader::from_path(&path)
                .map(|r| r.into_records())
                .map_err(|e| format!("{}: {e}", path.display()))
        })
        .collect::<Result<_, _>>()?;
    let mut table = Table::create(&out.join("timeline.csv"), &schema::TIMELINE, true)
        .map_err(|e| e.to_string())?;
    let mut heap = BinaryHeap::new();
    for (i, reader) in readers.iter_mut().enumerate() {
        if let Some(r) = reader.next() {
            let r = r.map_err(|e| e.to_string())?;
            heap.push(Reverse((
                r.iter().map(str::to_string).collect::<Vec<_>>(),
                i,
            )));
        }
    }
    while let Some(Reverse((row, i))) = heap.pop() {
        table.row(&row).map_err(|e| e.to_string())?;
        if let Some(next) = readers[i].next() {
            let next = next.map_err(|e| e.to_string())?;
            heap.push(Reverse((next.iter().map(str::to_string).collect(), i)));
        }
    }
    table.finish().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_segments_are_not_inputs() {
        let dir = std::env::temp_dir().join(format!("tm-batch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let names = [
            "d.E01", "d.E02", "d.EAA", "d.FAA", "s.001", "s.002", "s.1000", "z.000", "z.001",
            "g.00", "g.9000", "x.aa", "x.ab", "x.zaaa", "y.dd", "y.ab", "w.raw", "w.E01", "v.Ex01",
            "v.EyAA", "q.E01", "q.e02",
        ];
        for name in names {
            std::fs::write(dir.join(name), b"x").unwrap();
        }
        let later: Vec<&str> = names
            .into_iter()
            .filter(|n| is_later_segment(&dir.join(n)))
            .collect();
        assert_eq!(
            later,
            [
                "d.E02", "d.EAA", "d.FAA", "s.002", "s.1000", "z.001", "g.9000", "x.ab", "x.zaaa",
                "v.EyAA", "q.e02"
            ]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn extents_named_by_a_vmdk_descriptor_are_not_disks_of_their_own() {
        let dir = std::env::temp_dir().join(format!("tm-batch-vmdk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let descriptor = "# Disk DescriptorFile\nversion=1\nCID=fffffffe\n\
            parentCID=ffffffff\ncreateType=\"twoGbMaxExtentSparse\"\n\
            RW 4192256 SPARSE \"disk-s001.vmdk\"\nRW 4192256 SPARSE \"disk-s002.vmdk\"\n\
            RW 8192 FLAT \"../elsewhere-flat.vmdk\" 0\n";
        std::fs::write(dir.join("disk.vmdk"), descriptor).unwrap();
        for piece in ["disk-s001.vmdk", "disk-s002.vmdk"] {
            std::fs::write(dir.join(piece), b"KDMV....").unwrap();
        }
        // A sparse disk of its own beside them, and a raw image.
        std::fs::write(dir.join("other.vmdk"), b"KDMV....").unwrap();
        std::fs::write(dir.join("host.raw"), b"x").unwrap();
        let expanded = expand_inputs(std::slice::from_ref(&dir)).unwrap();
        let names: Vec<String> = expanded
            .inputs
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["disk.vmdk", "host.raw", "other.vmdk"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn folders_of_host_folders_are_searched() {
        let dir = std::env::temp_dir().join(format!("tm-batch-tree-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let files = [
            "a.E01",
            "a.E02",
            "a.E01.txt",
            ".DS_Store",
            "HOST2/HOST2.E01",
            "HOST2/HOST2.E01.md5",
            "kape/HOST3/C/Windows/System32/config/SYSTEM",
            "kape/HOST3/D/Windows/x",
            "logs/HOST4/Security.evtx",
            "1/2/3/4/deep.raw",
            "1/2/3/4/5/deeper.raw",
        ];
        for file in files {
            let path = dir.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, b"x").unwrap();
        }
        // Neither file nor folder: named, never opened.
        let fifo = std::process::Command::new("mkfifo")
            .arg(dir.join("pipe.E01"))
            .status()
            .unwrap();
        assert!(fifo.success());
        std::os::unix::fs::symlink(dir.join("gone.E01"), dir.join("dangling.E01")).unwrap();
        let expanded = expand_inputs(std::slice::from_ref(&dir)).unwrap();
        let relative = |paths: &[PathBuf]| -> Vec<String> {
            paths
                .iter()
                .map(|p| p.strip_prefix(&dir).unwrap().display().to_string())
                .collect()
        };
        let found = relative(&expanded.inputs);
        assert_eq!(relative(&expanded.not_searched), ["1/2/3/4/5"]);
        assert_eq!(
            relative(&expanded.not_regular),
            ["dangling.E01", "pipe.E01"]
        );
        assert_eq!(
            found,
            [
                "1/2/3/4/deep.raw",
                "HOST2/HOST2.E01",
                "a.E01",
                "kape/HOST3/C",
                "kape/HOST3/D",
                "logs/HOST4"
            ]
        );
        let mut taken = HashSet::new();
        let names: Vec<String> = ["kape/HOST3/C", "kape/HOST3/D", "logs/HOST4"]
            .iter()
            .map(|p| output_name(&dir.join(p), &mut taken))
            .collect();
        assert_eq!(names, ["HOST3-C", "HOST3-D", "HOST4"]);
        // Velociraptor's layouts, by the `auto` and the `ntfs` accessor.
        for (folder, name) in [
            ("HOST5/uploads/auto/C%3A", "HOST5-C"),
            ("HOST6/uploads/ntfs/%5C%5C.%5CD%3A", "HOST6-D"),
        ] {
            std::fs::create_dir_all(dir.join(folder)).unwrap();
            assert_eq!(output_name(&dir.join(folder), &mut taken), name);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn output_names_stay_inside_and_unique() {
        let mut taken = HashSet::new();
        assert_eq!(
            output_name(Path::new("/x/disk one.E01"), &mut taken),
            "disk_one"
        );
        assert_eq!(
            output_name(Path::new("/y/disk one.E01"), &mut taken),
            "disk_one-2"
        );
        assert_eq!(output_name(Path::new("/z/...E01"), &mut taken), "image");
        assert_eq!(
            output_name(Path::new(r"..\..\evil.E01"), &mut taken),
            ".._.._evil"
        );
    }
}
