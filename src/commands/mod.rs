//! The subcommands' logic; `main.rs` only parses arguments and calls these.

/// `println!` that returns the write error instead of panicking, so a closed pipe
/// (`toolmark rules | head -1`) ends the command quietly with status 0 (see [`exit`]).
macro_rules! say {
    () => {
        std::io::Write::write_all(&mut std::io::stdout().lock(), b"\n")?
    };
    ($($arg:tt)*) => {
        std::io::Write::write_fmt(&mut std::io::stdout().lock(), format_args!("{}\n", format_args!($($arg)*)))?
    };
}

/// A line on stderr whose text (which quotes evidence: names, labels, damage)
/// has its control characters escaped.
macro_rules! tell {
    ($($arg:tt)*) => {
        eprintln!("{}", crate::output::shown(&format!($($arg)*)))
    };
}

pub mod cat;
pub mod info;
pub mod ls;
pub mod merge;
pub mod rematch;
pub mod rules;
pub mod scan;
pub mod verify;

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use crate::disk::shadow::Shadows;
use crate::disk::{self, DiskLayout, FsKind};
use crate::evidence::{Evidence, ReadAt, Window};
use crate::ntfs::Volume;

/// Exit status for bad arguments.
pub const EXIT_USAGE: u8 = 1;
/// Exit status of `verify` when a stored hash does not match.
pub const EXIT_MISMATCH: u8 = 1;
/// Exit status when something could not be read.
pub const EXIT_FAILURE: u8 = 2;

/// What a command reports back to `main`.
pub type Outcome = anyhow::Result<ExitCode>;

/// Turns a command's result into the process exit status, printing errors as one
/// line (the chain of causes joined with `: `).
pub fn exit(result: Outcome) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(io::stderr(), "toolmark: error: {e:#}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<io::Error>())
        .any(|io| io.kind() == io::ErrorKind::BrokenPipe)
}

/// An image opened down to one NTFS volume.
pub struct OpenedVolume {
    /// The image.
    pub evidence: Evidence,
    /// The partition layout.
    pub layout: DiskLayout,
    /// The volume's number in the layout.
    pub number: usize,
    /// The volume.
    pub volume: Volume,
    /// Damage in the shadow-copy stores a snapshot reads through, when one was asked for.
    pub snapshot_problems: Vec<String>,
}

impl OpenedVolume {
    /// Damage met on the way down that did not stop the volume opening (a
    /// truncated E01 set, a repaired partition table, a backup boot sector).
    pub fn damage(&self) -> Vec<String> {
        self.evidence
            .damage()
            .into_iter()
            .chain(self.layout.warnings.iter().cloned())
            .chain(self.volume.warnings().iter().cloned())
            .chain(self.snapshot_problems.iter().cloned())
            .collect()
    }
}

/// Opens `image` and the NTFS volume `number` (default: the first NTFS volume), or
/// with `snapshot` that volume's shadow copy of that number (1 = oldest).
pub fn open_volume(
    image: &Path,
    number: Option<usize>,
    snapshot: Option<usize>,
) -> anyhow::Result<OpenedVolume> {
    use anyhow::Context;
    let evidence = Evidence::open(image)?;
    let layout = disk::scan(&evidence).with_context(|| image.display().to_string())?;
    let part = match number {
        Some(n) => layout
            .partitions
            .iter()
            .find(|p| p.number == n)
            .with_context(|| format!("{}: no volume {n}", image.display()))?,
        None => match layout.partitions.iter().find(|p| p.fs == FsKind::Ntfs) {
            Some(p) => p,
            None => anyhow::bail!(
                "{}: no NTFS volume found ({} table; {}){}",
                image.display(),
                layout.scheme,
                disk::explain_no_ntfs(&evidence, &layout),
                evidence
                    .damage()
                    .map(|d| format!("; the image is damaged: {d}"))
                    .unwrap_or_default()
            ),
        },
    };
    let mut window: Arc<dyn ReadAt> =
        Arc::new(Window::new(evidence.data(), part.offset, part.length));
    let context = format!(
        "{}: volume {} at byte {}",
        image.display(),
        part.number,
        part.offset
    );
    let mut snapshot_problems = Vec::new();
    if let Some(n) = snapshot {
        let shadows = Shadows::find(window)
            .with_context(|| context.clone())?
            .with_context(|| format!("{context}: the volume has no shadow copies"))?;
        (window, snapshot_problems) = shadows
            .open(n)
            .with_context(|| format!("{context}: shadow copy {n}"))?;
    }
    let volume = Volume::open(window).with_context(|| match snapshot {
        Some(n) => format!("{context} @ snapshot {n}"),
        None => context.clone(),
    })?;
    let number = part.number;
    Ok(OpenedVolume {
        evidence,
        layout,
        number,
        volume,
        snapshot_problems,
    })
}
