//! Evidence containers: one `Evidence` type over raw/dd, split raw, E01 and
//! virtual-disk (VMDK, VHD, VHDX, QCOW2) images.
//!
//! Everything above this layer sees a flat, read-only byte range with positional,
//! thread-safe reads. The container format is detected from the bytes of the first
//! file (an EWF signature, a virtual-disk signature or footer, else raw); split sets are found from the first segment's
//! name. Short reads never turn into silent zeros: a read that cannot be satisfied
//! from the container is an error naming the offset.

mod chunk_check;
mod ewf;
mod holes;
mod open_files;
mod plain;
mod raw;
mod segments;
mod vdisk;
mod window;

use std::fmt;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use self::ewf::{later_segment_firsts, EwfDetails};
pub use self::holes::Holes;
pub use self::open_files::{open_file_limit, raise_open_file_limit};
pub use self::vdisk::{ChainLink, VdiskDetails};
pub use self::window::{ReadSeekAdapter, Window};

/// Positional reads over a byte range: the one interface every layer reads through.
pub trait ReadAt: Send + Sync {
    /// Reads up to `buf.len()` bytes at `offset`; returns fewer only at the end.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;

    /// Length of the range in bytes.
    fn len(&self) -> u64;

    /// True if the range is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Why a whole-range pass (hashing) must not walk this range: a file whose
    /// sparse or unwritten part is larger than the volume it lives on states a size
    /// nothing on disk backs. `None` for ranges backed by real bytes.
    fn unbacked_problem(&self) -> Option<String> {
        None
    }

    /// The byte ranges that cannot be read at all, as far as the container knows
    /// them when opened (the missing or truncated part of an E01 set): reads
    /// there fail. Empty when none are known; damage found only by reading (a
    /// corrupt chunk) is not listed.
    fn unreadable_ranges(&self) -> Vec<Range<u64>> {
        Vec::new()
    }

    /// The byte ranges that can be read: the whole range less
    /// [`ReadAt::unreadable_ranges`], in order. A pass over the media (a search
    /// for volumes, carving) walks these, not a lost part that every read would
    /// fail in (a petabyte claimed over four chunks).
    fn readable_ranges(&self) -> Vec<Range<u64>> {
        let mut lost = self.unreadable_ranges();
        lost.sort_by_key(|r| r.start);
        let mut out = Vec::new();
        let mut at = 0;
        for r in lost {
            if r.start > at {
                out.push(at..r.start.min(self.len()));
            }
            at = at.max(r.end);
        }
        if at < self.len() {
            out.push(at..self.len());
        }
        out.retain(|r| !r.is_empty());
        out
    }

    /// Fills `buf` completely from `offset`, or fails with `UnexpectedEof` naming
    /// the range that could not be read.
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let mut done = 0usize;
        while done < buf.len() {
            let at = offset + done as u64;
            let n = self.read_at(&mut buf[done..], at)?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "read of {} bytes at offset {offset} passes the end ({})",
                        buf.len(),
                        self.len()
                    ),
                ));
            }
            done += n;
        }
        Ok(())
    }
}

/// Bytes a disk image may present beyond what its files store before a whole-disk
/// pass (hashing, carving, a search for volumes) calls its size damaged: more than
/// this, and more than [`MAX_UNSTORED_RATIO`] times the files. A few edited header
/// bytes make a 16 MiB QCOW2 a petabyte disk, and `truncate` makes an empty raw
/// file one; no hash or carve of either would finish. Real images, thin or sparse,
/// are within both bounds (a 2 TB disk holding 8 GB is).
const MAX_UNSTORED: u64 = 64 << 30;

/// See [`MAX_UNSTORED`].
const MAX_UNSTORED_RATIO: u64 = 256;

/// The `unbacked_problem` of a disk image presenting `presented` bytes whose files
/// store `stored` bytes (allocated blocks of a sparse raw file, the files of a
/// virtual disk's chain), under [`MAX_UNSTORED`].
fn unstored_problem(presented: u64, stored: u64) -> Option<String> {
    unstored_beyond(presented, stored, MAX_UNSTORED_RATIO)
}

/// [`unstored_problem`] at `ratio` times the files: a compressed container (E01)
/// stores far less than it presents, but never less than deflate's limit allows.
fn unstored_beyond(presented: u64, stored: u64, ratio: u64) -> Option<String> {
    let unstored = presented.saturating_sub(stored);
    (unstored > MAX_UNSTORED && unstored / ratio > stored).then(|| {
        format!(
            "the disk presents {presented} bytes but its files store {stored}: a size no \
             disk of these files has (damaged, edited or a sparse file), not read whole"
        )
    })
}

/// The container format of an evidence image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContainerKind {
    /// A single raw/dd file.
    Raw,
    /// Raw image split into numbered pieces (`.001`, `.000`, `.aa`, ...).
    SplitRaw,
    /// Expert Witness Format (EnCase `.E01`, possibly many segments).
    Ewf,
    /// VMware VMDK.
    Vmdk,
    /// Virtual PC / Hyper-V VHD.
    Vhd,
    /// Hyper-V VHDX.
    Vhdx,
    /// QEMU QCOW2.
    Qcow2,
}

impl fmt::Display for ContainerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ContainerKind::Raw => "raw",
            ContainerKind::SplitRaw => "split raw",
            ContainerKind::Ewf => "EWF (E01)",
            ContainerKind::Vmdk => "VMDK",
            ContainerKind::Vhd => "VHD",
            ContainerKind::Vhdx => "VHDX",
            ContainerKind::Qcow2 => "QCOW2",
        })
    }
}

/// Why an evidence image could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    /// The file system refused access to one of the image files.
    #[error("{path}: {error}{}", open_files_hint(error))]
    Io {
        /// File that failed.
        path: PathBuf,
        /// Underlying error (in the message, so not also chained as a source).
        error: io::Error,
    },
    /// The image or a segment is empty.
    #[error("{0}: file is empty")]
    Empty(PathBuf),
    /// The EWF container is damaged or incomplete.
    #[error("{path}: {reason}")]
    Ewf {
        /// First segment of the set.
        path: PathBuf,
        /// What is wrong, in words.
        reason: String,
    },
}

/// What to do when an image holds more files open than the process may (a split
/// set of thousands of pieces): said beside the system's bare "too many open files".
fn open_files_hint(error: &io::Error) -> String {
    // EMFILE: the process's limit, as opposed to the system's (ENFILE).
    const EMFILE: i32 = 24;
    match (error.raw_os_error(), open_file_limit()) {
        (Some(EMFILE), Some(limit)) => format!(
            " (this process may open {limit} files, `ulimit -n` raised to its hard limit: \
             raise the hard limit for sets of that many files)"
        ),
        _ => String::new(),
    }
}

/// An opened, read-only evidence image.
pub struct Evidence {
    path: PathBuf,
    kind: ContainerKind,
    segments: Vec<PathBuf>,
    data: Arc<dyn ReadAt>,
    ewf: Option<EwfDetails>,
    vdisk: Option<VdiskDetails>,
    /// A split raw set read only up to a missing piece: which one.
    split_gap: Option<String>,
}

impl Evidence {
    /// Opens an image given its (first) file, detecting the container from its bytes.
    pub fn open(path: &Path) -> Result<Evidence, EvidenceError> {
        let io_err = |error| EvidenceError::Io {
            path: path.to_path_buf(),
            error,
        };
        // Before any open: opening a FIFO blocks until a writer comes.
        require_regular_file(path)?;
        let mut magic = [0u8; 8];
        let read = read_prefix(path, &mut magic).map_err(io_err)?;
        if read == 0 {
            return Err(EvidenceError::Empty(path.to_path_buf()));
        }
        if ewf::is_ewf_signature(&magic[..read]) {
            let (reader, details, segments) = ewf::open(path)?;
            return Ok(Evidence {
                path: path.to_path_buf(),
                kind: ContainerKind::Ewf,
                segments,
                data: Arc::new(reader),
                ewf: Some(details),
                vdisk: None,
                split_gap: None,
            });
        }
        let format = vdisk::detect(path).map_err(io_err)?;
        if let Some(format) = format {
            let (reader, details, files) = vdisk::open(path, format)?;
            return Ok(Evidence {
                path: path.to_path_buf(),
                kind: match format {
                    vdisk::Format::Vmdk => ContainerKind::Vmdk,
                    vdisk::Format::Vhd => ContainerKind::Vhd,
                    vdisk::Format::Vhdx => ContainerKind::Vhdx,
                    vdisk::Format::Qcow2 => ContainerKind::Qcow2,
                },
                segments: files,
                data: Arc::new(reader),
                ewf: None,
                vdisk: Some(details),
                split_gap: None,
            });
        }
        let (segment_paths, gap) = segments::split_raw_set(path).map_err(io_err)?;
        let kind = if segment_paths.len() > 1 {
            ContainerKind::SplitRaw
        } else {
            ContainerKind::Raw
        };
        let (data, short) = raw::RawImage::open_set(&segment_paths)?;
        let split_gap = match (short, gap) {
            (Some(short), Some(gap)) => Some(format!("{short}; {gap}")),
            (short, gap) => short.or(gap),
        };
        Ok(Evidence {
            path: path.to_path_buf(),
            kind,
            segments: segment_paths,
            data: Arc::new(data),
            ewf: None,
            vdisk: None,
            split_gap,
        })
    }

    /// The path the image was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A short name for the image: the first file's name without extension.
    pub fn name(&self) -> String {
        self.path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "image".to_string())
    }

    /// The container format.
    pub fn kind(&self) -> ContainerKind {
        self.kind
    }

    /// Every file of the image, in order.
    pub fn segments(&self) -> &[PathBuf] {
        &self.segments
    }

    /// EWF metadata and stored hashes, for E01 images.
    pub fn ewf(&self) -> Option<&EwfDetails> {
        self.ewf.as_ref()
    }

    /// Format, subformat and parent chain, for virtual disks.
    pub fn vdisk(&self) -> Option<&VdiskDetails> {
        self.vdisk.as_ref()
    }

    /// Damage to the container that still lets part or all of the media be read (a
    /// damaged or missing E01 segment, a missing piece of a split raw set, a VMDK
    /// grain table read from its redundant copy, a virtual disk's parent that is not
    /// the one it was made from), for the error report.
    pub fn damage(&self) -> Option<String> {
        let repaired = self
            .vdisk
            .as_ref()
            .map(|v| [v.parent_mismatches.as_slice(), &v.repairs].concat())
            .filter(|notes| !notes.is_empty())
            .map(|notes| notes.join("; "));
        self.ewf
            .as_ref()
            .and_then(|e| e.damage.clone())
            .or_else(|| self.split_gap.clone())
            .or(repaired)
    }

    /// Why the media is served only in part without a read error saying so (a
    /// split raw set read up to a missing or short piece), so a hash over it would
    /// not be the media's; a truncated E01 fails its reads past the damage instead.
    pub fn media_incomplete(&self) -> Option<&str> {
        self.split_gap.as_deref()
    }

    /// Shared handle to the image bytes, for windows onto volumes.
    pub fn data(&self) -> Arc<dyn ReadAt> {
        Arc::clone(&self.data)
    }

    /// Recomputes MD5 and SHA-1 over the whole media, calling `progress` with the
    /// number of bytes hashed so far.
    ///
    /// Reading (for E01: inflating) runs on its own thread, a block ahead of the
    /// hashing, and MD5 and SHA-1 run side by side on each block, so the pass goes
    /// at the speed of the slowest of the three rather than their sum.
    pub fn hash_media(&self, progress: &mut dyn FnMut(u64)) -> io::Result<MediaHashes> {
        use md5::Digest;
        const BLOCK: usize = 4 << 20;
        if let Some(why) = self.data.unbacked_problem() {
            return Err(io::Error::new(io::ErrorKind::InvalidData, why));
        }
        let len = self.data.len();
        let mut md5 = md5::Md5::new();
        let mut sha1 = sha1::Sha1::new();
        std::thread::scope(|scope| {
            let (full_tx, full_rx) = std::sync::mpsc::sync_channel::<io::Result<Vec<u8>>>(2);
            let (empty_tx, empty_rx) = std::sync::mpsc::channel::<Vec<u8>>();
            for _ in 0..3 {
                let _ = empty_tx.send(vec![0u8; BLOCK]);
            }
            let data = &self.data;
            scope.spawn(move || {
                let mut offset = 0u64;
                while offset < len {
                    let Ok(mut buf) = empty_rx.recv() else { return };
                    let want = (len - offset).min(BLOCK as u64) as usize;
                    buf.resize(want, 0);
                    let result = data.read_exact_at(&mut buf, offset).map(|()| buf);
                    let failed = result.is_err();
                    if full_tx.send(result).is_err() || failed {
                        return;
                    }
                    offset += want as u64;
                }
            });
            let mut done = 0u64;
            while done < len {
                let block = full_rx
                    .recv()
                    .map_err(|_| io::Error::other("image reader stopped"))??;
                std::thread::scope(|inner| {
                    inner.spawn(|| sha1.update(&block));
                    md5.update(&block);
                });
                done += block.len() as u64;
                progress(done);
                let _ = empty_tx.send(block);
            }
            Ok::<(), io::Error>(())
        })?;
        Ok(MediaHashes {
            md5: md5.finalize().into(),
            sha1: sha1.finalize().into(),
        })
    }
}

impl ReadAt for Evidence {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        self.data.read_at(buf, offset)
    }

    fn len(&self) -> u64 {
        self.data.len()
    }

    fn unbacked_problem(&self) -> Option<String> {
        self.data.unbacked_problem()
    }

    fn unreadable_ranges(&self) -> Vec<Range<u64>> {
        self.data.unreadable_ranges()
    }
}

/// An ordinary file opened for reading, and the byte ranges that hold data.
pub type PlainFileData = (Arc<dyn ReadAt>, Vec<Range<u64>>);

/// Opens one ordinary file (an artifact in a triage collection) for positional
/// reads: no container detection, no split-set search; empty files are allowed.
/// With it, the byte ranges that hold data ([`plain::PlainFile::data_ranges`]).
pub fn open_plain_file(path: &Path) -> Result<PlainFileData, EvidenceError> {
    let size = require_regular_file(path)?;
    if size == 0 {
        return Ok((Arc::new(Vec::<u8>::new()), Vec::new()));
    }
    let file = plain::PlainFile::open(path)?;
    let data = file.data_ranges();
    Ok((Arc::new(file), data))
}

/// Digests of the media bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MediaHashes {
    /// MD5 of the media.
    pub md5: [u8; 16],
    /// SHA-1 of the media.
    pub sha1: [u8; 20],
}

/// Lower-case hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The size of `path`, refusing anything but a regular file (symbolic links are
/// followed): a FIFO or socket would block or never end, and a device has no size
/// the file system can vouch for. Checked without opening the file.
pub(crate) fn require_regular_file(path: &Path) -> Result<u64, EvidenceError> {
    let meta = std::fs::metadata(path).map_err(|error| EvidenceError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    if meta.is_file() {
        return Ok(meta.len());
    }
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    let what = if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_block_device() {
        "a block device (image it first, e.g. with ewfacquire or dd)"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    };
    Err(EvidenceError::Io {
        path: path.to_path_buf(),
        error: io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("not a regular file: {what}"),
        ),
    })
}

fn read_prefix(path: &Path, buf: &mut [u8]) -> io::Result<usize> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut done = 0;
    while done < buf.len() {
        let n = file.read(&mut buf[done..])?;
        if n == 0 {
            break;
        }
        done += n;
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::ReadAt;
    use std::ops::Range;

    /// 100 bytes of which the given ranges are known lost.
    struct Lost(Vec<Range<u64>>);

    impl ReadAt for Lost {
        fn read_at(&self, _: &mut [u8], _: u64) -> std::io::Result<usize> {
            Ok(0)
        }
        fn len(&self) -> u64 {
            100
        }
        fn unreadable_ranges(&self) -> Vec<Range<u64>> {
            self.0.clone()
        }
    }

    #[test]
    #[allow(clippy::single_range_in_vec_init)]
    fn readable_ranges_are_the_rest_of_the_range() {
        assert_eq!(Lost(vec![]).readable_ranges(), [0..100]);
        assert_eq!(Lost(vec![10..100]).readable_ranges(), [0..10]);
        // Unordered, overlapping and past the end.
        assert_eq!(
            Lost(vec![50..60, 0..5, 55..70, 90..200]).readable_ranges(),
            [5..50, 70..90]
        );
        assert!(Lost(vec![0..100]).readable_ranges().is_empty());
    }

    #[test]
    fn a_compressed_set_may_present_up_to_what_deflate_can_expand() {
        const TB: u64 = 1 << 40;
        const GB: u64 = 1 << 30;
        // A wiped 4 TB disk in E01 is a few GB; a 64 GiB disk may store anything.
        assert!(super::unstored_beyond(4 * TB, 4 * GB, 2048).is_none());
        assert!(super::unstored_beyond(60 * GB, 1, 2048).is_none());
        // Four TB over a gigabyte repeats chunks, or states a size nothing stores.
        assert!(super::unstored_beyond(4 * TB, GB, 2048).is_some());
        // The raw and virtual-disk rule is stricter.
        assert!(super::unstored_problem(4 * TB, 4 * GB).is_some());
    }
}
