//! Output folders a batch can come back to. An image's `manifest.json` is written
//! last and atomically (a temporary file renamed into place), so a folder with a
//! manifest holds a finished scan, and one without is half-written. A batch run again
//! into the same folder keeps every finished image whose input and settings are
//! unchanged (its fingerprint), rescans the rest, and rebuilds the roll-ups.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::evidence::Evidence;
use crate::output::TABLES;
use crate::pipeline::lateral::ToolTimes;
use crate::pipeline::{rejudge, Fingerprint, ImageReport, InputFile, Settings};

/// Marks a folder as a toolmark output from the moment a batch starts writing into
/// it (the batch manifest only exists at the end), so a killed batch can be resumed
/// and `--force` may clear it.
pub const MARKER: &str = ".toolmark";

/// Files a batch writes at the top of its output folder besides the image folders.
fn batch_files() -> HashSet<String> {
    let mut names: HashSet<String> = TABLES
        .iter()
        .chain(["errors", "timeline", "lateral_movement"].iter())
        .chain(super::judged_tables().iter().map(|(n, _)| n))
        .map(|n| format!("{n}.csv"))
        .collect();
    for name in [
        MARKER,
        "manifest.json",
        "graph.dot",
        "report.html",
        "toolmark.xlsx",
    ] {
        names.insert(name.to_string());
        names.insert(partial(name));
    }
    names
}

/// The temporary name a file is written under before it is renamed into place.
fn partial(name: &str) -> String {
    format!("{name}.partial")
}

/// Makes sure `out` holds no other run's results before a batch writes into it. With
/// `force` a toolmark output is cleared first (never a folder of something else);
/// without it, a non-empty folder must be a toolmark output, and [`claim`] then
/// checks that it holds nothing this batch would not write.
pub fn prepare(out: &Path, force: bool) -> Result<(), String> {
    let mut entries = match std::fs::read_dir(out) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("{}: {e}", out.display())),
    };
    if entries.next().is_none() {
        return Ok(());
    }
    let ours = out.join("manifest.json").is_file() || out.join(MARKER).is_file();
    if !ours {
        return Err(format!(
            "{} is not empty and holds no manifest.json, so it is not a toolmark output: \
             not used{}",
            out.display(),
            if force {
                ", and not cleared even with --force"
            } else {
                ""
            }
        ));
    }
    if force {
        std::fs::remove_dir_all(out).map_err(|e| format!("clearing {}: {e}", out.display()))?;
    }
    Ok(())
}

/// Takes `out` for a batch of the images `names`: creates it and its marker, and
/// refuses (naming `--force`) when it holds anything else, such as another run's
/// image folders.
pub fn claim(out: &Path, names: &[String]) -> Result<(), String> {
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let files = batch_files();
    let images: HashSet<&str> = names.iter().map(String::as_str).collect();
    let mut strays = Vec::new();
    for entry in std::fs::read_dir(out).map_err(|e| format!("{}: {e}", out.display()))? {
        let entry = entry.map_err(|e| format!("{}: {e}", out.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        let expected = if is_dir {
            images.contains(name.as_str())
        } else {
            files.contains(&name)
        };
        if !expected {
            strays.push(name);
        }
    }
    if !strays.is_empty() {
        strays.sort();
        return Err(format!(
            "{} holds what this batch would not write ({}): results of another run? \
             Give --force to replace everything in it, or choose another folder",
            out.display(),
            strays.join(", ")
        ));
    }
    std::fs::write(
        out.join(MARKER),
        "toolmark output folder (see manifest.json)\n",
    )
    .map_err(|e| format!("{}: {e}", out.display()))
}

/// What `input` is now: its files and their sizes, and the settings of this run.
pub fn fingerprint(input: &Path, settings: &Settings) -> Fingerprint {
    let inputs = if input.is_dir() {
        vec![folder(input)]
    } else {
        // The segments as the container names them; an image that does not open
        // is failed and rescanned anyway, so its first file is enough.
        let segments = Evidence::open(input)
            .map(|e| e.segments().to_vec())
            .unwrap_or_else(|_| vec![input.to_path_buf()]);
        segments
            .into_iter()
            .map(|path| InputFile {
                size: std::fs::metadata(&path).map_or(0, |m| m.len()),
                path,
                files: 1,
            })
            .collect()
    };
    Fingerprint {
        inputs,
        settings: settings.clone(),
    }
}

/// A triage folder: how many files it holds and their total size (symbolic links
/// are not followed, so a link loop cannot make the walk endless).
fn folder(root: &Path) -> InputFile {
    let mut summary = InputFile {
        path: root.to_path_buf(),
        size: 0,
        files: 0,
    };
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            match entry.metadata() {
                Ok(m) if m.is_dir() => pending.push(entry.path()),
                Ok(m) => {
                    summary.files += 1;
                    summary.size += m.len();
                }
                Err(_) => {}
            }
        }
    }
    summary
}

/// The report of the finished scan in `dir`, when there is one of the same input and
/// settings: its manifest, with the edges rebuilt from its observations file. An
/// image that failed or stopped part way is not finished (it is scanned again).
pub fn finished(dir: &Path, fingerprint: &Fingerprint) -> Option<ImageReport> {
    let report = read_manifest(dir).ok()?;
    if report.fingerprint != *fingerprint || report.failed || report.incomplete {
        return None;
    }
    load(dir, report).ok()
}

/// The finished scan in `dir` (for `toolmark merge`): its manifest and its edges.
pub fn load_finished(dir: &Path) -> Result<ImageReport, String> {
    let report = read_manifest(dir)?;
    load(dir, report)
}

fn load(dir: &Path, report: ImageReport) -> Result<ImageReport, String> {
    Ok(ImageReport {
        edges: rejudge::edges(dir, report.observations)?,
        view: crate::report::HostView::load(dir)?,
        ..report
    })
}

/// Rewrites the tools the manifest in `dir` names (after `toolmark match` judged the
/// image again), so a later merge or resume labels edges with the new findings.
/// `report` is that manifest as read before anything was written.
pub fn record_tools(dir: &Path, report: ImageReport, tools: &[ToolTimes]) -> Result<(), String> {
    let report = ImageReport {
        tools: tools.to_vec(),
        ..report
    };
    write_json_atomically(&dir.join("manifest.json"), &report)
}

/// The batch manifest in `out`: `None` when there is none (a batch killed before
/// its end writes none), an error naming it when it cannot be read or parsed.
pub fn read_batch_manifest(out: &Path) -> Result<Option<super::BatchReport>, String> {
    let path = out.join("manifest.json");
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| format!("{}: damaged: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: cannot be read: {e}", path.display())),
    }
}

/// [`record_tools`] for the images the batch manifest `batch` of `out` lists.
pub fn record_batch_tools(
    out: &Path,
    mut batch: super::BatchReport,
    images: &[ImageReport],
) -> Result<(), String> {
    for listed in &mut batch.images {
        if let Some(judged) = images.iter().find(|i| i.image == listed.image) {
            listed.tools = judged.tools.clone();
        }
    }
    write_json_atomically(&out.join("manifest.json"), &batch)
}

/// The manifest of the image folder `dir`; one that cannot be read or parsed is
/// an error naming it.
pub fn read_manifest(dir: &Path) -> Result<ImageReport, String> {
    let path = dir.join("manifest.json");
    let bytes =
        std::fs::read(&path).map_err(|e| format!("{}: cannot be read: {e}", path.display()))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("{}: damaged: {e}", path.display()))
}

/// Writes `value` as pretty JSON to `path` through a temporary file renamed into
/// place, so a reader (or a resumed batch) sees the whole file or none.
pub fn write_json_atomically(path: &Path, value: &impl serde::Serialize) -> Result<(), String> {
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    write_atomically(path, text.as_bytes())
}

/// Writes `bytes` to `path` through a temporary file renamed into place: readers see
/// the whole file or none, and a file hard-linked from another output (`toolmark
/// merge`) is replaced, never written through.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary: PathBuf = path.with_file_name(partial(&name));
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::File::create(&temporary)?;
        std::io::Write::write_all(&mut file, bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    };
    write().map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_of_another_run_is_refused_and_a_foreign_one_never_cleared() {
        let dir = std::env::temp_dir().join(format!("tm-resume-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let names = vec!["host-a".to_string()];
        claim(&dir, &names).unwrap();
        std::fs::create_dir_all(dir.join("host-a")).unwrap();
        std::fs::write(dir.join("evtx.csv"), "").unwrap();
        claim(&dir, &names).unwrap();
        std::fs::create_dir_all(dir.join("host-b")).unwrap();
        let refused = claim(&dir, &names).unwrap_err();
        assert!(refused.contains("host-b") && refused.contains("--force"));
        prepare(&dir, true).unwrap();
        assert!(!dir.exists(), "--force clears a toolmark output");

        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("notes.txt"), "keep").unwrap();
        assert!(prepare(&dir, true).is_err());
        assert!(dir.join("notes.txt").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
