//! `toolmark scan`: every artifact of every image into CSV.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{Outcome, EXIT_FAILURE, EXIT_USAGE};
use crate::batch::{self, Verbosity};
use crate::output::TABLES;
pub use crate::pipeline::Snapshots;
use crate::pipeline::{Artifacts, ScanOptions};

/// Runs `toolmark scan`; exit 0 when everything was read, 2 when anything failed.
#[allow(clippy::too_many_arguments)]
pub fn run(
    images: &[PathBuf],
    out: &Path,
    jobs: Option<usize>,
    artifacts: Option<&str>,
    hash: bool,
    carve_all: bool,
    snapshots: Snapshots,
    rules: Option<&Path>,
    raw_cells: bool,
    force: bool,
    quiet: bool,
    verbose: bool,
) -> Outcome {
    if let Err(e) = prepare_output(out, force) {
        eprintln!("toolmark: error: {e}");
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    let artifacts = match artifacts.map(Artifacts::parse).transpose() {
        Ok(a) => a.unwrap_or(Artifacts::ALL),
        Err(e) => {
            eprintln!("toolmark: error: {e}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let inputs = batch::expand_inputs(images);
    if inputs.is_empty() {
        eprintln!("toolmark: error: no images found in the given paths");
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let verbosity = if quiet {
        Verbosity::Quiet
    } else if verbose {
        Verbosity::Verbose
    } else if std::io::stdout().is_terminal() && std::io::stderr().is_terminal() {
        // Progress only for someone watching: not when output is redirected.
        Verbosity::Normal
    } else {
        Verbosity::Quiet
    };
    let rules = match rules {
        Some(path) => crate::traces::load_path(path),
        None => crate::traces::load_embedded(),
    };
    let rules = match rules {
        Ok(kb) => std::sync::Arc::new(kb),
        Err(e) => {
            eprintln!("toolmark: error: {e}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let options = ScanOptions {
        raw_cells,
        hash,
        carve_all,
        snapshots,
        ..ScanOptions::new(Some(rules), artifacts)
    };
    let report = batch::run(&inputs, out, jobs, &options, verbosity).map_err(anyhow::Error::msg)?;
    if !quiet {
        for image in &report.images {
            let errors = if image.failed {
                "FAILED to open".to_string()
            } else {
                format!("{} errors", image.errors)
            };
            let rows = TABLES
                .iter()
                .map(|t| format!("{t} {}", image.rows.get(*t).copied().unwrap_or(0)))
                .collect::<Vec<_>>()
                .join(", ");
            say!("{}: {rows}; {errors}", image.image);
        }
    }
    Ok(if report.all_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILURE)
    })
}

/// Makes sure `out` holds no other run's results: a missing or empty folder is
/// used as is; a non-empty one needs `--force`, and is then cleared, but only
/// if it is a toolmark output (it has a `manifest.json`): `--force` never empties
/// a folder of something else.
fn prepare_output(out: &Path, force: bool) -> Result<(), String> {
    let mut entries = match std::fs::read_dir(out) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("{}: {e}", out.display())),
    };
    if entries.next().is_none() {
        return Ok(());
    }
    if !force {
        return Err(format!(
            "{} is not empty (results of another run?): give --force to replace them, \
             or choose another folder",
            out.display()
        ));
    }
    if !out.join("manifest.json").is_file() {
        return Err(format!(
            "{} is not empty and holds no manifest.json, so it is not a toolmark output: \
             not cleared, even with --force",
            out.display()
        ));
    }
    std::fs::remove_dir_all(out).map_err(|e| format!("clearing {}: {e}", out.display()))
}
