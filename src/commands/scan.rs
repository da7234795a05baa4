//! `toolmark scan`: every artifact of every image into CSV.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{Outcome, EXIT_FAILURE, EXIT_USAGE};
use crate::batch::shard::Shard;
use crate::batch::{self, resume, Plan, Verbosity};
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
    all_edges: bool,
    xlsx: bool,
    force: bool,
    shard: Option<&str>,
    quiet: bool,
    verbose: bool,
) -> Outcome {
    let shard = match shard
        .map(|s| Shard::parse(s, &|name| std::env::var(name).ok()))
        .transpose()
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("toolmark: error: {e}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    if let Err(e) = resume::prepare(out, force) {
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
    let inputs = match batch::expand_inputs(images) {
        Ok(expanded) => {
            for folder in &expanded.not_searched {
                eprintln!(
                    "toolmark: warning: {}: not searched for images (a link, or deeper than \
                     the search goes): give it as an input to scan what it holds",
                    folder.display()
                );
            }
            for entry in &expanded.not_regular {
                eprintln!(
                    "toolmark: warning: {}: not a regular file or folder (a FIFO, socket, device \
                     or a dangling link): not read",
                    entry.display()
                );
            }
            expanded.inputs
        }
        Err(e) => {
            eprintln!("toolmark: error: {e}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
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
    let sources = match rules {
        Some(path) => crate::traces::read_sources(path),
        None => Ok(crate::traces::embedded_sources()),
    };
    // The rules' texts, not their file names, decide whether a finished image's
    // findings still hold (resume).
    let rules_sha256 = sources
        .as_ref()
        .map(|s| {
            let texts: Vec<&str> = s.iter().map(|(_, text)| text.as_str()).collect();
            sha256_hex(&texts.join("\0"))
        })
        .unwrap_or_default();
    let rules = sources
        .and_then(|s| crate::traces::load_sources(&s))
        .map_err(|e| e.to_string());
    let rules = match rules {
        Ok(kb) => std::sync::Arc::new(kb),
        Err(e) => {
            eprintln!("toolmark: error: {e}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let options = ScanOptions {
        raw_cells,
        all_edges,
        hash,
        carve_all,
        snapshots,
        ..ScanOptions::new(Some(rules), artifacts)
    };
    let plan = Plan {
        shard,
        rules_sha256,
    };
    if let Err(e) = batch::claim(&inputs, out, &plan) {
        eprintln!("toolmark: error: {e}");
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    let report =
        batch::run(&inputs, out, jobs, &options, verbosity, &plan).map_err(anyhow::Error::msg)?;
    if !quiet {
        let colour = std::io::stdout().is_terminal();
        let summary = crate::report::summary::render(&report.images, out, colour);
        std::io::Write::write_all(&mut std::io::stdout().lock(), summary.as_bytes())?;
    }
    let mut clean = report.all_clean();
    if xlsx {
        let names: Vec<&str> = report.images.iter().map(|i| i.image.as_str()).collect();
        for (path, result) in crate::output::xlsx::write_scan(out, &names) {
            match result {
                Ok(written) => {
                    for (table, sheets) in &written.continued {
                        eprintln!(
                            "toolmark: {}: {table} has more rows than a sheet holds; it continues on {}",
                            path.display(),
                            sheets.join(", ")
                        );
                    }
                    if written.cut_cells > 0 {
                        eprintln!(
                            "toolmark: {}: {} cells longer than a cell holds were cut (the CSV has them whole)",
                            path.display(),
                            written.cut_cells
                        );
                    }
                }
                Err(e) => {
                    eprintln!("toolmark: error: {e}");
                    clean = false;
                }
            }
        }
    }
    Ok(if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILURE)
    })
}

/// Hex SHA-256 of a text.
fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    crate::evidence::hex(&sha2::Sha256::digest(text.as_bytes()))
}
