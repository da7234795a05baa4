//! `toolmark merge OUT... -o MERGED`: the shards of a batch (or whole batches) made
//! into one output, equal to what one machine scanning every image would write.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{Outcome, EXIT_FAILURE, EXIT_USAGE};
use crate::batch::{merge, resume};

/// Runs `toolmark merge`; exit 0 when every image was read cleanly, 2 when some image
/// had errors (as `scan` would have said).
pub fn run(outs: &[PathBuf], merged: &Path, force: bool, quiet: bool) -> Outcome {
    if let Some(inside) = outs
        .iter()
        .find(|o| merged.starts_with(o) || o.starts_with(merged))
    {
        eprintln!(
            "toolmark: error: {} and {} overlap: merge into a folder of its own",
            inside.display(),
            merged.display()
        );
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    if let Err(e) = resume::prepare(merged, force) {
        eprintln!("toolmark: error: {e}");
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    let report = merge::merge(outs, merged).map_err(anyhow::Error::msg)?;
    if !quiet {
        say!(
            "{}: {} images from {} outputs, {} lateral-movement rows",
            merged.display(),
            report.images.len(),
            outs.len(),
            report
                .rollup_rows
                .get("lateral_movement")
                .copied()
                .unwrap_or(0)
        );
    }
    Ok(if report.all_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILURE)
    })
}
