//! `toolmark info`: what an image is and what it holds, layer by layer.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use serde::Serialize;

use super::{Outcome, EXIT_FAILURE};
use crate::disk::shadow::{Shadows, SnapshotInfo};
use crate::disk::{self, FsKind, Partition, Scheme};
use crate::evidence::{ContainerKind, Evidence, EwfDetails, ReadAt, VdiskDetails, Window};
use crate::ntfs::Volume;
use crate::output::shown;

/// Everything `info` reports about one image.
#[derive(Serialize)]
pub struct ImageInfo {
    /// Path given.
    pub path: PathBuf,
    /// Container format.
    pub container: ContainerKind,
    /// Files making up the image.
    pub segments: Vec<PathBuf>,
    /// Media size in bytes.
    pub media_size: u64,
    /// E01 metadata and stored hashes.
    pub ewf: Option<EwfDetails>,
    /// Virtual disks: format, subformat and size of the image and each parent.
    pub vdisk: Option<VdiskDetails>,
    /// Partition table type.
    pub scheme: Scheme,
    /// Partitions (or the whole image as one volume).
    pub partitions: Vec<PartitionInfo>,
    /// Partition table problems.
    pub warnings: Vec<String>,
    /// Why the partition layout could not be read, if it could not.
    pub error: Option<String>,
}

/// A partition and, for NTFS, its volume facts.
#[derive(Serialize)]
pub struct PartitionInfo {
    /// The partition as the table describes it.
    #[serde(flatten)]
    pub partition: Partition,
    /// NTFS details, when the partition holds a readable NTFS volume.
    pub ntfs: Option<NtfsInfo>,
    /// Why the NTFS volume could not be opened, if it could not.
    pub error: Option<String>,
    /// The volume's shadow copies, oldest first.
    pub snapshots: Vec<SnapshotInfo>,
    /// Why the shadow copies (or some of them) could not be read.
    pub snapshot_errors: Vec<String>,
}

/// Facts about an NTFS volume.
#[derive(Serialize)]
pub struct NtfsInfo {
    /// Volume label.
    pub label: Option<String>,
    /// 64-bit serial, hex.
    pub serial: String,
    /// Bytes per cluster.
    pub cluster_size: u64,
    /// Bytes per MFT record.
    pub record_size: u64,
    /// Volume size from the boot sector.
    pub volume_size: u64,
    /// MFT record slots.
    pub mft_records: u64,
}

/// Collects the facts about one image.
pub fn describe(path: &Path) -> anyhow::Result<ImageInfo> {
    let evidence = Evidence::open(path)?;
    let (layout, error) = match disk::scan(&evidence) {
        Ok(layout) => (layout, None),
        Err(e) => (
            disk::DiskLayout {
                scheme: Scheme::None,
                partitions: Vec::new(),
                warnings: Vec::new(),
            },
            Some(e.to_string()),
        ),
    };
    let partitions = layout
        .partitions
        .iter()
        .map(|p| {
            let mut snapshots = Vec::new();
            let mut snapshot_errors = Vec::new();
            let (ntfs, error) = if p.fs == FsKind::Ntfs {
                let window: Arc<dyn ReadAt> =
                    Arc::new(Window::new(evidence.data(), p.offset, p.length));
                match Shadows::find(Arc::clone(&window)) {
                    Ok(Some(shadows)) => {
                        snapshots = shadows.list();
                        snapshot_errors = shadows.problems().to_vec();
                        // Each snapshot is opened (its block maps loaded, once per
                        // store), so one that `ls --snapshot` cannot read is not
                        // listed as sound.
                        for snap in &snapshots {
                            match shadows.open(snap.number) {
                                Ok((_, problems)) => snapshot_errors.extend(
                                    problems
                                        .into_iter()
                                        .map(|p| format!("{}: {p}", snap.describe())),
                                ),
                                Err(e) => snapshot_errors.push(format!("{}: {e}", snap.describe())),
                            }
                        }
                    }
                    Ok(None) => {}
                    Err(e) => snapshot_errors.push(e.to_string()),
                }
                match Volume::open(window) {
                    Ok(v) => {
                        let warnings = v.warnings();
                        (
                            Some(ntfs_info(&v)),
                            (!warnings.is_empty()).then(|| warnings.join("; ")),
                        )
                    }
                    Err(e) => (None, Some(e.to_string())),
                }
            } else if may_hold_ntfs(&p.type_description) {
                // Typed for NTFS but no file system found: say so, do not omit it.
                (None, Some(disk::explain_unknown_fs(&evidence, p)))
            } else {
                (None, None)
            };
            PartitionInfo {
                partition: p.clone(),
                ntfs,
                error,
                snapshots,
                snapshot_errors,
            }
        })
        .collect();
    let error = match (error, evidence.damage()) {
        (Some(a), Some(b)) => Some(format!("{b}; {a}")),
        (a, b) => a.or(b),
    };
    Ok(ImageInfo {
        path: path.to_path_buf(),
        container: evidence.kind(),
        segments: evidence.segments().to_vec(),
        media_size: evidence.len(),
        ewf: evidence.ewf().cloned(),
        vdisk: evidence.vdisk().cloned(),
        scheme: layout.scheme,
        partitions,
        warnings: layout.warnings,
        error,
    })
}

/// Partition types Windows puts NTFS on (MBR 0x07, GPT basic data).
fn may_hold_ntfs(type_description: &str) -> bool {
    type_description.starts_with("0x07 ") || type_description.contains("Microsoft basic data")
}

fn ntfs_info(v: &Volume) -> NtfsInfo {
    let boot = v.boot();
    NtfsInfo {
        label: v.label().map(str::to_string),
        serial: format!("{:016X}", boot.serial),
        cluster_size: boot.cluster_size,
        record_size: boot.record_size,
        volume_size: boot.volume_size(),
        mft_records: v.record_count(),
    }
}

/// Runs `toolmark info`.
pub fn run(images: &[PathBuf], json: bool) -> Outcome {
    let mut failed = false;
    let mut reports = Vec::new();
    for path in images {
        match describe(path) {
            Ok(info) => {
                if let Some(e) = &info.error {
                    tell!("toolmark: error: {}: {e}", path.display());
                    failed = true;
                }
                // A volume that could not be read (or only with repairs) is a
                // failure to read, whatever else the image held.
                for p in &info.partitions {
                    if let Some(e) = &p.error {
                        tell!(
                            "toolmark: error: {}: partition {}: {e}",
                            path.display(),
                            p.partition.number
                        );
                        failed = true;
                    }
                    for e in &p.snapshot_errors {
                        tell!(
                            "toolmark: error: {}: partition {}: shadow copies: {e}",
                            path.display(),
                            p.partition.number
                        );
                        failed = true;
                    }
                }
                // A repaired or cut partition table may have hidden volumes. Media
                // with nothing recognisable on them are described, not failed.
                for w in &info.warnings {
                    if w == disk::NOTHING_RECOGNISED {
                        tell!("toolmark: warning: {}: partitions: {w}", path.display());
                        continue;
                    }
                    tell!("toolmark: error: {}: partitions: {w}", path.display());
                    failed = true;
                }
                if json {
                    reports.push(info);
                } else {
                    print_text(&info)?;
                }
            }
            Err(e) => {
                tell!("toolmark: error: {e:#}");
                failed = true;
            }
        }
    }
    if json {
        say!("{}", serde_json::to_string_pretty(&reports)?);
    }
    Ok(if failed {
        ExitCode::from(EXIT_FAILURE)
    } else {
        ExitCode::SUCCESS
    })
}

/// One line of `info`'s text, its evidence-given parts (labels, names, case
/// metadata, parent paths, error messages) with control characters escaped.
macro_rules! line {
    ($($arg:tt)*) => {
        say!("{}", shown(&format!($($arg)*)))
    };
}

fn print_text(info: &ImageInfo) -> std::io::Result<()> {
    line!("{}", info.path.display());
    line!("  container:   {}", info.container);
    line!("  segments:    {}", info.segments.len());
    for s in &info.segments {
        line!("    {}", s.display());
    }
    line!("  media size:  {} bytes", info.media_size);
    if let Some(ewf) = &info.ewf {
        for (label, value) in [
            ("stored MD5:", &ewf.stored_md5),
            ("stored SHA1:", &ewf.stored_sha1),
            ("case:", &ewf.case_number),
            ("evidence:", &ewf.evidence_number),
            ("examiner:", &ewf.examiner),
            ("description:", &ewf.description),
            ("notes:", &ewf.notes),
            ("acquired:", &ewf.acquiry_date),
            ("software:", &ewf.acquiry_software),
        ] {
            if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                line!("  {label:<12} {v}");
            }
        }
        line!("  chunk size:  {}", ewf.chunk_size);
    }
    if let Some(vdisk) = &info.vdisk {
        for (depth, link) in vdisk.chain.iter().enumerate() {
            let label = if depth == 0 { "format:" } else { "parent:" };
            line!(
                "  {label:<12} {} {} virtual size {} bytes{}",
                link.format,
                link.subformat,
                link.virtual_size,
                if depth == 0 {
                    String::new()
                } else {
                    format!(" ({})", link.path.display())
                }
            );
        }
    }
    line!("  partitions:  {} ({})", info.partitions.len(), info.scheme);
    for p in &info.partitions {
        let part = &p.partition;
        line!(
            "    {}: offset {} length {} type {}{}{}",
            part.number,
            part.offset,
            part.length,
            part.type_description.trim(),
            part.name
                .as_deref()
                .map(|n| format!(" name \"{n}\""))
                .unwrap_or_default(),
            if part.logical { " (logical)" } else { "" },
        );
        if let Some(n) = &p.ntfs {
            line!(
                "       NTFS label \"{}\" serial {} cluster {} record {} size {} MFT records {}",
                n.label.as_deref().unwrap_or(""),
                n.serial,
                n.cluster_size,
                n.record_size,
                n.volume_size,
                n.mft_records
            );
            if let Some(e) = &p.error {
                line!("       damaged: {e}");
            }
        } else if let Some(e) = &p.error {
            line!("       NTFS unreadable: {e}");
        }
        for snap in &p.snapshots {
            line!(
                "       volume {} @ {} (--snapshot {}, set {{{}}}, attributes {})",
                part.number,
                snap.describe(),
                snap.number,
                snap.set_id,
                snap.attributes
            );
        }
        for e in &p.snapshot_errors {
            line!("       shadow copies damaged: {e}");
        }
    }
    for w in &info.warnings {
        line!("  warning: {w}");
    }
    Ok(())
}
