//! Virtual disks (VMDK, VHD, VHDX, QCOW2) as evidence: detected by their bytes,
//! read through the parser crates in `parsers/`, with parent and backing chains
//! resolved here.
//!
//! Where a chain may lead is this module's decision, not the image's: a parent,
//! backing file or extent is looked for only inside the image's own directory
//! (a relative name is followed if it stays inside; an absolute one, or one that
//! climbs out, is reduced to its file name there), so a hostile image cannot make
//! toolmark open `/dev/sda` or a file elsewhere on the examiner's machine. Chains
//! are at most `MAX_CHAIN` deep and may not revisit a file.

use std::fmt;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use blockio::{Source, VirtualDisk};

use super::raw::RawImage;
use super::{EvidenceError, ReadAt};

/// Longest parent/backing chain followed (QEMU's own limit is similar).
const MAX_CHAIN: usize = 16;

/// The virtual-disk formats toolmark reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Format {
    /// VMware VMDK (sparse, stream-optimized, flat, split).
    Vmdk,
    /// Virtual PC / Hyper-V VHD.
    Vhd,
    /// Hyper-V VHDX.
    Vhdx,
    /// QEMU QCOW2.
    Qcow2,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Vmdk => "VMDK",
            Format::Vhd => "VHD",
            Format::Vhdx => "VHDX",
            Format::Qcow2 => "QCOW2",
        })
    }
}

/// One image of a chain: the opened file, then its parent, and so on.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ChainLink {
    /// The file.
    pub path: PathBuf,
    /// Its format (`raw` for a raw backing file).
    pub format: String,
    /// Its variant (`dynamic`, `streamOptimized`, `v3`, ...).
    pub subformat: String,
    /// The size of the disk it presents.
    pub virtual_size: u64,
}

/// What `info` shows about a virtual disk.
#[derive(Clone, Debug, serde::Serialize)]
pub struct VdiskDetails {
    /// The opened image first, then each parent or backing file.
    pub chain: Vec<ChainLink>,
    /// Damage found on opening that leaves the disk readable (a primary grain
    /// table read from its redundant copy, a failed VHD checksum, a QCOW2 image
    /// marked corrupt), each naming its file: reported like any damage, though
    /// the disk is read.
    pub repairs: Vec<String>,
    /// Parents that are not the disk their child was made from (another disk, or
    /// the same one written to since: its `CID`, unique id or `DataWriteGuid` is
    /// not the one the child recorded). The chain is still read, but what the
    /// child does not hold may not be what the machine saw: reported as damage.
    pub parent_mismatches: Vec<String>,
}

/// The format of the file at `path`, from its first and last sectors; `None`
/// when it is none of the four.
pub fn detect(path: &Path) -> io::Result<Option<Format>> {
    use std::os::unix::fs::FileExt;
    let file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    let mut first = vec![0u8; len.min(512) as usize];
    file.read_exact_at(&mut first, 0)?;
    let tail = len.min(512);
    let mut last = vec![0u8; tail as usize];
    file.read_exact_at(&mut last, len - tail)?;
    Ok(format_of(&first, &last))
}

fn format_of(first: &[u8], last: &[u8]) -> Option<Format> {
    if first.starts_with(vhdx::MAGIC) {
        Some(Format::Vhdx)
    } else if first.starts_with(qcow2::MAGIC) {
        Some(Format::Qcow2)
    } else if vmdk::is_vmdk(first) {
        Some(Format::Vmdk)
    } else if vhd::is_vhd(first, last) {
        Some(Format::Vhd)
    } else {
        None
    }
}

/// An opened chain as one byte range.
pub struct VdiskImage {
    top: Arc<dyn Source>,
    path: PathBuf,
    /// Bytes of every file of the chain (images, extents, parents) on disk.
    stored: u64,
}

impl ReadAt for VdiskImage {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        self.top.read_at(buf, offset).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("{} offset {offset}: {e}", self.path.display()),
            )
        })
    }

    fn len(&self) -> u64 {
        self.top.len()
    }

    fn unbacked_problem(&self) -> Option<String> {
        super::unstored_problem(self.len(), self.stored)
    }
}

/// Raw files under the disk readers.
impl Source for RawImage {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        ReadAt::read_at(self, buf, offset)
    }

    fn len(&self) -> u64 {
        ReadAt::len(self)
    }
}

/// A reader with its parent attached, as a plain source for the next child up.
struct Layer(Box<dyn VirtualDisk>);

impl Source for Layer {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        self.0.read_at(buf, offset)
    }

    fn len(&self) -> u64 {
        self.0.len()
    }
}

/// Opens the virtual disk at `path` (of `format`) and its whole chain; returns
/// the reader, what `info` shows, and every file it reads.
pub fn open(
    path: &Path,
    format: Format,
) -> Result<(VdiskImage, VdiskDetails, Vec<PathBuf>), EvidenceError> {
    let mut opener = ChainOpener::default();
    let (top, _) = opener.open(path, Some(format))?;
    // A file that cannot be measured counts as empty: the bound only gets stricter.
    let stored = opener
        .files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .fold(0u64, u64::saturating_add);
    Ok((
        VdiskImage {
            top,
            path: path.to_path_buf(),
            stored,
        },
        VdiskDetails {
            chain: opener.chain,
            repairs: opener.repairs,
            parent_mismatches: opener.parent_mismatches,
        },
        opener.files,
    ))
}

#[derive(Default)]
struct ChainOpener {
    chain: Vec<ChainLink>,
    repairs: Vec<String>,
    parent_mismatches: Vec<String>,
    files: Vec<PathBuf>,
    seen: Vec<PathBuf>,
}

fn fail(path: &Path, error: io::Error) -> EvidenceError {
    EvidenceError::Io {
        path: path.to_path_buf(),
        error,
    }
}

impl ChainOpener {
    /// Opens one link (`format` known for the first; detected for parents, which
    /// may also be raw) and, recursively, its parent; returns it with what its
    /// children record of it ([`VirtualDisk::identity`]).
    fn open(
        &mut self,
        path: &Path,
        format: Option<Format>,
    ) -> Result<(Arc<dyn Source>, Option<String>), EvidenceError> {
        let canonical = std::fs::canonicalize(path).map_err(|e| fail(path, e))?;
        if self.seen.contains(&canonical) {
            return Err(fail(
                path,
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    "parent chain loops: this file is its own ancestor",
                ),
            ));
        }
        if self.seen.len() >= MAX_CHAIN {
            return Err(fail(
                path,
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("parent chain deeper than {MAX_CHAIN} images"),
                ),
            ));
        }
        self.seen.push(canonical);
        let file: Arc<dyn Source> = Arc::new(RawImage::open_file(path)?);
        self.files.push(path.to_path_buf());
        let format = match format {
            Some(f) => Some(f),
            None => detect(path).map_err(|e| fail(path, e))?,
        };
        let dir = image_dir(path);
        let mut disk: Box<dyn VirtualDisk> = match format {
            None => {
                self.chain.push(ChainLink {
                    path: path.to_path_buf(),
                    format: "raw".into(),
                    subformat: String::new(),
                    virtual_size: file.len(),
                });
                return Ok((file, None));
            }
            Some(Format::Vhd) => Box::new(vhd::Vhd::open(file).map_err(|e| fail(path, e))?),
            Some(Format::Vhdx) => Box::new(vhdx::Vhdx::open(file).map_err(|e| fail(path, e))?),
            Some(Format::Qcow2) => Box::new(qcow2::Qcow2::open(file).map_err(|e| fail(path, e))?),
            Some(Format::Vmdk) => {
                let files = &mut self.files;
                let mut open_extent = |name: &str| -> io::Result<Arc<dyn Source>> {
                    let extent = find_beside(&dir, &[name.to_string()])?;
                    let raw = RawImage::open_file(&extent)
                        .map_err(|e| io::Error::new(io::ErrorKind::NotFound, e.to_string()))?;
                    files.push(extent);
                    Ok(Arc::new(raw))
                };
                Box::new(vmdk::Vmdk::open(file, &mut open_extent).map_err(|e| fail(path, e))?)
            }
        };
        self.chain.push(ChainLink {
            path: path.to_path_buf(),
            format: disk.format().to_string(),
            subformat: disk.subformat(),
            virtual_size: disk.len(),
        });
        self.repairs.extend(disk.repairs().into_iter().map(|r| {
            format!(
                "{}: {r}",
                path.file_name().unwrap_or_default().to_string_lossy()
            )
        }));
        let locations = disk.parent_locations();
        if !locations.is_empty() {
            let parent_path = find_beside(&dir, &locations).map_err(|e| fail(path, e))?;
            let (parent, identity) = self.open(&parent_path, None)?;
            let expected = disk.parent_identities();
            if let Some(found) = identity.filter(|i| !expected.is_empty() && !expected.contains(i))
            {
                let name = |p: &Path| {
                    p.file_name()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .into_owned()
                };
                self.parent_mismatches.push(format!(
                    "{}: its parent {} is not the disk it was made from (the child records {}, \
                     the parent is {found}: another disk, or written to since); the child's \
                     unwritten sectors are read from it as found",
                    name(path),
                    name(&parent_path),
                    expected.join(" or "),
                ));
            }
            disk.set_parent(parent);
        }
        let identity = disk.identity();
        Ok((Arc::new(Layer(disk)), identity))
    }
}

/// The directory an image's parents and extents are looked for in. An image named
/// without a directory (`child.qcow2`) has the empty path as its parent, which the
/// file system does not resolve: the working directory is meant.
fn image_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The first of `names` (as an image stores them) that exists inside `dir`;
/// the error names every place looked at.
fn find_beside(dir: &Path, names: &[String]) -> io::Result<PathBuf> {
    let root = std::fs::canonicalize(dir)?;
    let mut tried = Vec::new();
    for name in names {
        for candidate in confined(dir, name) {
            // Symbolic links may not lead out of the directory either.
            // A name that does not resolve is not there: listed as looked for.
            let resolved = std::fs::canonicalize(&candidate).ok();
            let inside = resolved.as_ref().is_some_and(|c| c.starts_with(&root));
            match resolved {
                Some(c) if inside && c.is_file() => return Ok(candidate),
                // There, but a FIFO, device or folder: never opened (a FIFO blocks).
                Some(_) if inside => {
                    tried.push(format!("{} (not a regular file)", candidate.display()));
                }
                Some(_) => tried.push(format!(
                    "{} (leads outside the image's folder)",
                    candidate.display()
                )),
                None => tried.push(candidate.display().to_string()),
            }
        }
    }
    Err(io::Error::new(
        io::ErrorKind::NotFound,
        format!(
            "parent or extent {} not found (looked for {})",
            names.first().map_or("", String::as_str),
            tried.join(", ")
        ),
    ))
}

/// Where a stored name may be looked for inside `dir`: the relative path if it
/// stays inside, then the bare file name. Windows and POSIX separators both.
fn confined(dir: &Path, name: &str) -> Vec<PathBuf> {
    let unified = name.replace('\\', "/");
    let is_absolute = unified.starts_with('/') || unified.get(1..2) == Some(":");
    let relative = Path::new(&unified);
    let mut out = Vec::new();
    if !is_absolute
        && relative
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
    {
        out.push(dir.join(relative));
    }
    if let Some(file_name) = unified
        .rsplit('/')
        .next()
        .filter(|f| !f.is_empty() && *f != "..")
    {
        let bare = dir.join(file_name);
        if !out.contains(&bare) {
            out.push(bare);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_named_without_a_directory_lives_in_the_working_one() {
        assert_eq!(image_dir(Path::new("child.qcow2")), Path::new("."));
        assert_eq!(image_dir(Path::new("case/child.vhd")), Path::new("case"));
        assert_eq!(image_dir(Path::new("/case/child.vmdk")), Path::new("/case"));
    }

    #[test]
    fn stored_names_stay_inside_the_directory() {
        let dir = Path::new("/case");
        assert_eq!(
            confined(dir, "base.qcow2"),
            vec![PathBuf::from("/case/base.qcow2")]
        );
        assert_eq!(
            confined(dir, ".\\sub\\p.vhd"),
            vec![
                PathBuf::from("/case/sub/p.vhd"),
                PathBuf::from("/case/p.vhd")
            ]
        );
        assert_eq!(
            confined(dir, "C:\\VMs\\p.vhd"),
            vec![PathBuf::from("/case/p.vhd")]
        );
        assert_eq!(
            confined(dir, "/etc/passwd"),
            vec![PathBuf::from("/case/passwd")]
        );
        assert_eq!(
            confined(dir, "../../x.vmdk"),
            vec![PathBuf::from("/case/x.vmdk")]
        );
        assert!(confined(dir, "..").is_empty());
    }

    #[test]
    fn a_parent_that_is_no_regular_file_or_leads_outside_is_said_and_never_opened() {
        let dir = std::env::temp_dir().join(format!("tm-beside-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("case/base.vmdk")).unwrap();
        std::fs::write(dir.join("outside.vmdk"), b"x").unwrap();
        std::os::unix::fs::symlink(dir.join("outside.vmdk"), dir.join("case/link.vmdk")).unwrap();
        std::fs::write(dir.join("case/good.vmdk"), b"x").unwrap();
        let case = dir.join("case");
        let names = |n: &str| vec![n.to_string()];
        let error = find_beside(&case, &names("base.vmdk"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("base.vmdk (not a regular file)"), "{error}");
        let error = find_beside(&case, &names("link.vmdk"))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("link.vmdk (leads outside the image's folder)"),
            "{error}"
        );
        assert_eq!(
            find_beside(&case, &names("good.vmdk")).unwrap(),
            case.join("good.vmdk")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
