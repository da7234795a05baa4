//! `toolmark merge`: the outputs of a batch's shards made into one output, as if one
//! machine had scanned every image. Image folders are hard-linked (copied across file
//! systems); the roll-ups, lateral-movement table and graph are rebuilt by the same
//! code a batch ends with ([`super::finish`]), over every image of every shard, with
//! each image's edges read back from its observations file.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use super::resume::{self, MARKER};
use super::shard::ShardInfo;
use super::BatchReport;
use crate::pipeline::{ImageReport, Settings};

/// Merges the batch outputs `outs` into `merged` (empty or new) and returns its report.
pub fn merge(outs: &[PathBuf], merged: &Path) -> Result<BatchReport, String> {
    let mut batches = Vec::new();
    for out in outs {
        let path = out.join("manifest.json");
        let bytes = std::fs::read(&path).map_err(|e| {
            format!(
                "{}: {e} (a shard that did not finish: run its scan again, finished \
                 images are kept)",
                path.display()
            )
        })?;
        let batch: BatchReport =
            serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        batches.push((out.as_path(), batch));
    }
    let order = image_order(&batches)?;
    let settings = same_settings(&batches)?;
    resume::claim(merged, &order)?;
    let folder: HashMap<&str, &Path> = batches
        .iter()
        .flat_map(|(out, b)| b.images.iter().map(move |i| (i.image.as_str(), *out)))
        .collect();
    let mut images = Vec::new();
    for name in &order {
        let target = merged.join(name);
        if target.exists() {
            // A merge that was interrupted: link again from scratch.
            std::fs::remove_dir_all(&target).map_err(|e| format!("{}: {e}", target.display()))?;
        }
        let out = folder
            .get(name.as_str())
            .ok_or_else(|| format!("image {name} is in none of the outputs"))?;
        link_tree(&out.join(name), &target)?;
        images.push(resume::load_finished(&target)?);
    }
    super::finish(merged, images, None, settings.raw_cells, settings.all_edges)
}

/// The images in the order one machine would have listed them: for shards, the
/// batch's own input order; for whole batches, one after the other. Refuses shards
/// of different batches, a missing or repeated shard, and an image found twice.
fn image_order(batches: &[(&Path, BatchReport)]) -> Result<Vec<String>, String> {
    let mut seen = BTreeSet::new();
    for (out, batch) in batches {
        for image in &batch.images {
            if !seen.insert(image.image.clone()) {
                return Err(format!(
                    "image {} is in more than one of the outputs (again in {})",
                    image.image,
                    out.display()
                ));
            }
        }
    }
    let infos: Vec<Option<&ShardInfo>> = batches.iter().map(|(_, b)| b.shard.as_ref()).collect();
    let Some(first) = infos.iter().flatten().next().copied() else {
        // Whole batches: one after the other.
        return Ok(batches
            .iter()
            .flat_map(|(_, b)| b.images.iter().map(|i| i.image.clone()))
            .collect());
    };
    let mut indices = BTreeSet::new();
    for ((out, _), info) in batches.iter().zip(&infos) {
        let Some(info) = info else {
            return Err(format!(
                "{} is a whole batch, the others are shards: merge the shards of one batch",
                out.display()
            ));
        };
        if info.count != first.count || info.batch != first.batch {
            return Err(format!(
                "{} is a shard of another batch (other inputs or shard count)",
                out.display()
            ));
        }
        if !indices.insert(info.index) {
            return Err(format!(
                "shard {}/{} is given twice ({})",
                info.index,
                info.count,
                out.display()
            ));
        }
    }
    let missing: Vec<String> = (0..first.count)
        .filter(|i| !indices.contains(i))
        .map(|i| format!("{i}/{}", first.count))
        .collect();
    if !missing.is_empty() {
        return Err(format!("shards missing: {}", missing.join(", ")));
    }
    let absent: Vec<&String> = first.batch.iter().filter(|n| !seen.contains(*n)).collect();
    if !absent.is_empty() || seen.len() != first.batch.len() {
        return Err(format!(
            "the shards do not hold exactly the batch's images (missing: {absent:?})"
        ));
    }
    Ok(first.batch.clone())
}

/// The `--raw-cells` setting every image was scanned with; images scanned with other
/// settings (or another toolmark) cannot make one output.
fn same_settings(batches: &[(&Path, BatchReport)]) -> Result<Settings, String> {
    let images: Vec<&ImageReport> = batches.iter().flat_map(|(_, b)| &b.images).collect();
    let Some(first) = images.first() else {
        return Ok(Settings::default());
    };
    let settings = &first.fingerprint.settings;
    if let Some(other) = images.iter().find(|i| i.fingerprint.settings != *settings) {
        return Err(format!(
            "{} and {} were scanned with different settings or toolmark versions",
            first.image, other.image
        ));
    }
    Ok(settings.clone())
}

/// Makes `to` a copy of the folder `from` by hard links, or by copying where links
/// cannot be made (another file system). The small tables `toolmark match` rewrites
/// in place are copied, so judging the merged output again leaves the shards as
/// they were.
fn link_tree(from: &Path, to: &Path) -> Result<(), String> {
    let fail = |p: &Path, e: std::io::Error| format!("{}: {e}", p.display());
    let rewritten: Vec<String> = super::judged_tables()
        .iter()
        .map(|(name, _)| format!("{name}.csv"))
        .collect();
    std::fs::create_dir_all(to).map_err(|e| fail(to, e))?;
    for entry in std::fs::read_dir(from).map_err(|e| fail(from, e))? {
        let entry = entry.map_err(|e| fail(from, e))?;
        let (source, target) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type().map_err(|e| fail(&source, e))?;
        if kind.is_dir() {
            link_tree(&source, &target)?;
        } else if entry.file_name() != MARKER {
            let name = entry.file_name().to_string_lossy().into_owned();
            if rewritten.contains(&name) || std::fs::hard_link(&source, &target).is_err() {
                std::fs::copy(&source, &target).map_err(|e| fail(&source, e))?;
            }
        }
    }
    Ok(())
}
