//! Raw and split-raw images, memory-mapped.
//!
//! Each piece is mapped read-only; a read that spans pieces is served from each in
//! turn. The map is the fastest way to serve the many small random reads NTFS
//! metadata needs while letting the kernel cache what is hot.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use memmap2::Mmap;

use super::{EvidenceError, ReadAt};

/// One or more raw files presented as one byte range.
pub struct RawImage {
    pieces: Vec<Mmap>,
    /// Start offset of each piece in the whole image; same length as `pieces`.
    starts: Vec<u64>,
    len: u64,
}

impl RawImage {
    /// Maps one file.
    pub fn open_file(path: &Path) -> Result<RawImage, EvidenceError> {
        let map = map_file(path)?;
        let len = map.len() as u64;
        Ok(RawImage {
            pieces: vec![map],
            starts: vec![0],
            len,
        })
    }

    /// Maps every piece, in order, checking that all but the last are the same size.
    /// A shorter piece before the last is a truncated copy: its bytes are where they
    /// belong, but every byte after it would shift, so the set is read up to its
    /// end; a piece larger than the first is from another set and is not read, nor
    /// anything after it. Either way the note says so (the media is read up to
    /// there, like a set whose later pieces are missing).
    pub fn open_set(paths: &[PathBuf]) -> Result<(RawImage, Option<String>), EvidenceError> {
        let mut pieces = Vec::with_capacity(paths.len());
        let mut starts = Vec::with_capacity(paths.len());
        let mut len = 0u64;
        let mut note = None;
        for (index, path) in paths.iter().enumerate() {
            let map = map_file(path)?;
            let size = map.len() as u64;
            let first = pieces.first().map(|m: &Mmap| m.len() as u64);
            let is_last = index + 1 == paths.len();
            let (keep, stop) = match first {
                Some(first) if size > first => (false, true),
                Some(first) if size < first && !is_last => (true, true),
                _ => (true, false),
            };
            if keep {
                starts.push(len);
                len += size;
                pieces.push(map);
            }
            if stop {
                let first = first.unwrap_or(size);
                note = Some(format!(
                    "split segment {} is {size} bytes but the first is {first}: segment \
                     truncated or from another set; the set is read up to {} (media bytes \
                     0..{len}) and what follows is not read",
                    path.display(),
                    paths[if keep { index } else { index - 1 }].display()
                ));
                break;
            }
        }
        Ok((
            RawImage {
                pieces,
                starts,
                len,
            },
            note,
        ))
    }
}

fn map_file(path: &Path) -> Result<Mmap, EvidenceError> {
    super::require_regular_file(path)?;
    let file = File::open(path).map_err(|error| EvidenceError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    let size = file
        .metadata()
        .map_err(|error| EvidenceError::Io {
            path: path.to_path_buf(),
            error,
        })?
        .len();
    if size == 0 {
        return Err(EvidenceError::Empty(path.to_path_buf()));
    }
    // SAFETY: the file is opened read-only and evidence is never written while we
    // hold it; a concurrent truncation by another process is outside our control,
    // as it is for every tool that maps images.
    unsafe { Mmap::map(&file) }.map_err(|error| EvidenceError::Io {
        path: path.to_path_buf(),
        error,
    })
}

impl ReadAt for RawImage {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let mut done = 0usize;
        let mut at = offset;
        while done < buf.len() && at < self.len {
            // The piece holding `at`: the last one starting at or before it.
            let index = self.starts.partition_point(|&s| s <= at).saturating_sub(1);
            let (Some(piece), Some(&start)) = (self.pieces.get(index), self.starts.get(index))
            else {
                break;
            };
            let within = (at - start) as usize;
            let available = piece.get(within..).unwrap_or_default();
            let n = available.len().min(buf.len() - done);
            if n == 0 {
                break;
            }
            buf[done..done + n].copy_from_slice(&available[..n]);
            done += n;
            at += n as u64;
        }
        Ok(done)
    }

    fn len(&self) -> u64 {
        self.len
    }

    fn slice(&self, offset: u64, len: usize) -> Option<&[u8]> {
        let index = self
            .starts
            .partition_point(|&s| s <= offset)
            .checked_sub(1)?;
        let within = usize::try_from(offset - self.starts.get(index)?).ok()?;
        self.pieces
            .get(index)?
            .get(within..within.checked_add(len)?)
    }
}
