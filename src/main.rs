//! The toolmark command line: argument definitions only; the work is in `commands`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use toolmark::commands;

/// Find the traces of attacker lateral-movement tools in Windows disk images.
#[derive(Parser)]
#[command(name = "toolmark", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Describe images: container, segments, stored hashes, partitions, NTFS volumes.
    Info {
        /// Image files (raw, first piece of a split raw set, or .E01).
        #[arg(required = true)]
        images: Vec<PathBuf>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List a directory of an NTFS volume (paths from the volume root).
    Ls {
        /// Image file.
        image: PathBuf,
        /// Directory inside the volume (case-insensitive; `/` or `\`).
        #[arg(default_value = "/")]
        path: String,
        /// Descend into subdirectories.
        #[arg(short, long)]
        recursive: bool,
        /// Volume number as `toolmark info` shows it (default: the first NTFS volume).
        #[arg(long)]
        volume: Option<usize>,
        /// Read the volume's shadow copy N (1 = oldest, as `toolmark info` lists them)
        /// instead of the live volume.
        #[arg(long, value_name = "N")]
        snapshot: Option<usize>,
        /// Also list deleted files found in unused MFT records (marked `*`).
        #[arg(long)]
        deleted: bool,
    },
    /// Write a file's content (or one of its named streams) to standard output.
    Cat {
        /// Image file.
        image: PathBuf,
        /// File inside the volume; `path:stream` also selects a stream.
        path: String,
        /// Volume number as `toolmark info` shows it (default: the first NTFS volume).
        #[arg(long)]
        volume: Option<usize>,
        /// Read the volume's shadow copy N (1 = oldest, as `toolmark info` lists them)
        /// instead of the live volume.
        #[arg(long, value_name = "N")]
        snapshot: Option<usize>,
        /// Named stream (alternate data stream) to read instead of the content.
        #[arg(long)]
        stream: Option<String>,
    },
    /// Extract every artifact of every image into CSV (per image and rolled up).
    Scan {
        /// Images (first segment), triage directories laid out like a Windows volume,
        /// or directories holding images.
        #[arg(required = true)]
        images: Vec<PathBuf>,
        /// Output directory: OUT/<image>/*.csv, and roll-ups in OUT/ for a batch.
        #[arg(short, long)]
        out: PathBuf,
        /// Threads in all (images and artifacts in parallel); default: all cores.
        #[arg(short, long)]
        jobs: Option<usize>,
        /// Artifacts to collect, comma-separated: evtx, prefetch, mft, usn, carve
        /// (event-log chunks in unallocated clusters), registry, amcache, shimcache;
        /// default all.
        #[arg(long)]
        artifacts: Option<String>,
        /// Add the SHA-256 of each image and of every collected file to manifest.json.
        #[arg(long)]
        hash: bool,
        /// Carve event-log chunks from the whole image (also allocated and
        /// unpartitioned space) instead of the unallocated clusters only.
        #[arg(long)]
        carve_all: bool,
        /// Shadow copies of each NTFS volume to collect like one more volume each
        /// (rows carry their number in the `snapshot` column).
        #[arg(long, value_enum, default_value = "all")]
        snapshots: commands::scan::Snapshots,
        /// Judge findings against this rules file (or directory of per-tool files)
        /// instead of the built-in one
        /// (`toolmark rules --check FILE` validates it first).
        #[arg(long, value_name = "FILE")]
        rules: Option<PathBuf>,
        /// Write cells as found, without neutralising spreadsheet formulas.
        #[arg(long)]
        raw_cells: bool,
        /// Write every lateral-movement edge to lateral_movement.csv, also those
        /// that are not movement (loopback, the host itself, Windows' own
        /// accounts); the `filtered` column says why.
        #[arg(long)]
        all_edges: bool,
        /// Also write every table as an Excel workbook: OUT/toolmark.xlsx and
        /// OUT/<image>/toolmark.xlsx (one sheet per table, times as datetimes).
        #[arg(long)]
        xlsx: bool,
        /// Replace the results of an earlier scan in OUT (cleared first). Without
        /// it, a scan into the OUT of the same batch resumes (images finished with
        /// the same input and settings are kept), and any other non-empty OUT is
        /// refused so two runs' results never mix.
        #[arg(long)]
        force: bool,
        /// Scan one slice of the inputs: `I/N` (0 <= I < N) takes every N-th image of
        /// the sorted input list starting at the I-th; `auto` reads I and N from a
        /// Slurm job array (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT) or a
        /// Kubernetes Indexed Job (JOB_COMPLETION_INDEX, and TOOLMARK_SHARD_COUNT for
        /// N). Combine the shards' outputs with `toolmark merge`.
        #[arg(long, value_name = "I/N|auto")]
        shard: Option<String>,
        /// No progress and no summary.
        #[arg(short, long, conflicts_with = "verbose")]
        quiet: bool,
        /// A summary line per image as it finishes.
        #[arg(short, long)]
        verbose: bool,
    },
    /// Combine the outputs of a batch's shards (`scan --shard`) into one, equal to a
    /// scan of every image on one machine: image folders hard-linked (copied across
    /// file systems), roll-ups, lateral movement and graph rebuilt over all images.
    Merge {
        /// The shards' output directories.
        #[arg(required = true)]
        outs: Vec<PathBuf>,
        /// Output directory for the merged result (new or empty).
        #[arg(short, long)]
        out: PathBuf,
        /// Replace an earlier toolmark output in the target folder.
        #[arg(long)]
        force: bool,
        /// No summary.
        #[arg(short, long)]
        quiet: bool,
    },
    /// Judge a finished scan again (other rules, or a newer toolmark) from the
    /// observations files it wrote; rewrites findings, evidence, host profiles and
    /// lateral_movement.csv.
    Match {
        /// The scan's output directory (a batch folder or one image's folder).
        out: PathBuf,
        /// Judge against this rules file (or directory of per-tool files) instead of
        /// the built-in one.
        #[arg(long, value_name = "FILE")]
        rules: Option<PathBuf>,
        /// Write cells as found, without neutralising spreadsheet formulas.
        #[arg(long)]
        raw_cells: bool,
        /// Write every lateral-movement edge, also those that are not movement.
        #[arg(long)]
        all_edges: bool,
    },
    /// List the tools, categories and trace counts of the knowledge base.
    Rules {
        /// Validate this rules file, or directory of them, instead (errors are
        /// reported by line).
        #[arg(long, value_name = "FILE")]
        check: Option<PathBuf>,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Recompute an image's MD5/SHA-1 and compare them with the hashes stored in it.
    Verify {
        /// Image file.
        image: PathBuf,
        /// No progress bar.
        #[arg(short, long)]
        quiet: bool,
    },
}

/// The most open files asked for: a 10 TB disk in 640 MB segments is 16 000.
const OPEN_FILES_CAP: u64 = 1 << 16;

fn main() -> ExitCode {
    toolmark::collect::contain::quiet_contained_panics();
    // Large E01 sets hold thousands of segments open (see `evidence::open_files`).
    toolmark::evidence::raise_open_file_limit(OPEN_FILES_CAP);
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(commands::EXIT_USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let result = match cli.command {
        Command::Info { images, json } => commands::info::run(&images, json),
        Command::Ls {
            image,
            path,
            recursive,
            volume,
            snapshot,
            deleted,
        } => commands::ls::run(&image, &path, volume, snapshot, recursive, deleted),
        Command::Cat {
            image,
            path,
            volume,
            snapshot,
            stream,
        } => commands::cat::run(&image, &path, volume, snapshot, stream.as_deref()),
        Command::Verify { image, quiet } => commands::verify::run(&image, quiet),
        Command::Rules { check, json } => commands::rules::run(check.as_deref(), json),
        Command::Match {
            out,
            rules,
            raw_cells,
            all_edges,
        } => commands::rematch::run(&out, rules.as_deref(), raw_cells, all_edges),
        Command::Scan {
            images,
            out,
            jobs,
            artifacts,
            hash,
            carve_all,
            snapshots,
            rules,
            raw_cells,
            all_edges,
            xlsx,
            force,
            shard,
            quiet,
            verbose,
        } => commands::scan::run(
            &images,
            &out,
            jobs,
            artifacts.as_deref(),
            hash,
            carve_all,
            snapshots,
            rules.as_deref(),
            raw_cells,
            all_edges,
            xlsx,
            force,
            shard.as_deref(),
            quiet,
            verbose,
        ),
        Command::Merge {
            outs,
            out,
            force,
            quiet,
        } => commands::merge::run(&outs, &out, force, quiet),
    };
    commands::exit(result)
}

/// glibc's allocator spent a quarter of an event-log scan in malloc/free (many
/// short strings per record from many threads); mimalloc halves that (bench/).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
