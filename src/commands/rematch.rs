//! `toolmark match OUT [--rules FILE]`: judge a finished scan again, from the
//! observations files its image folders hold, and rewrite findings, evidence, host
//! profiles and the lateral-movement table. With the same rules it reproduces the
//! scan's own findings.

use std::path::Path;
use std::process::ExitCode;

use super::{Outcome, EXIT_USAGE};
use crate::batch::{concatenate, judged_tables, resume};
use crate::pipeline::{lateral, rejudge};

/// Runs `toolmark match`.
pub fn run(out: &Path, rules: Option<&Path>, raw_cells: bool, all_edges: bool) -> Outcome {
    let kb = match rules {
        Some(path) => crate::traces::load_path(path),
        None => crate::traces::load_embedded(),
    };
    let kb = match kb {
        Ok(kb) => kb,
        Err(e) => {
            eprintln!("toolmark: error: {e}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let dirs = rejudge::image_dirs(out);
    if dirs.is_empty() {
        eprintln!(
            "toolmark: error: {}: no scan output here (no observations.jsonl)",
            out.display()
        );
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    // Every manifest (each image's, and a batch's own) and every observations file
    // is read to its end before anything is written: a damaged one fails the
    // command and changes nothing, so a batch is never left judged by two rule
    // files. The images are then judged and written one at a time, so memory
    // holds one image's judgement, whatever the size of the batch.
    for dir in &dirs {
        let manifest = resume::read_manifest(dir).map_err(anyhow::Error::msg)?;
        rejudge::check(dir, manifest.observations).map_err(anyhow::Error::msg)?;
    }
    let batch = dirs.first().is_some_and(|d| d != out);
    let batch_manifest = if batch {
        resume::read_batch_manifest(out).map_err(anyhow::Error::msg)?
    } else {
        None
    };
    let mut images = Vec::new();
    for dir in &dirs {
        let judged = rejudge::judge(dir, &kb).map_err(anyhow::Error::msg)?;
        let report = judged.write(raw_cells).map_err(anyhow::Error::msg)?;
        say!(
            "{}: {} findings, {} evidence rows",
            report.image,
            report.rows.get("findings").copied().unwrap_or(0),
            report.rows.get("evidence").copied().unwrap_or(0)
        );
        images.push(report);
    }
    if batch {
        if images.len() > 1 {
            concatenate(out, &images, &judged_tables()).map_err(anyhow::Error::msg)?;
        }
        let rows =
            lateral::write(out, &images, raw_cells, all_edges).map_err(anyhow::Error::msg)?;
        crate::report::write(out, &images, &lateral::COLUMNS, &rows).map_err(anyhow::Error::msg)?;
        if let Some(manifest) = batch_manifest {
            resume::record_batch_tools(out, manifest, &images).map_err(anyhow::Error::msg)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
