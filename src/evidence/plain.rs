//! Ordinary files of the analyst's machine (a triage collection's artifacts, a log
//! given alone), read with positional reads, not mapped.
//!
//! A mapped file's pages count in the process's resident set as they are read, and
//! stay there until the map goes: an event log stated at 8 GiB of sparse zeros,
//! read through, took a scan to 8.4 GB of peak RSS. Positional reads copy from the
//! page cache into the caller's buffer and leave nothing mapped (7 MiB for that log
//! after the change beside 8.4 GB before, and the bench's 940 logs as fast). A file
//! cut short by someone else while we read it gives a short read, reported, where a
//! map would have raised SIGBUS. Raw images are read the same way (`raw`).

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::{EvidenceError, ReadAt};

/// One ordinary file, its length taken when it was opened.
pub struct PlainFile {
    file: File,
    len: u64,
}

impl PlainFile {
    /// Opens `path` (a regular file: the caller has checked) for reading.
    pub fn open(path: &Path) -> Result<PlainFile, EvidenceError> {
        let io_error = |error| EvidenceError::Io {
            path: path.to_path_buf(),
            error,
        };
        let file = File::open(path).map_err(io_error)?;
        let len = file.metadata().map_err(io_error)?.len();
        Ok(PlainFile { file, len })
    }
}

/// Data runs past which the rest of a file is taken as data: a file of more holes
/// than this is read whole rather than mapped run by run.
const MAX_DATA_RUNS: usize = 4096;

impl PlainFile {
    /// The byte ranges that hold data, in order: a sparse copy's holes (a log whose
    /// stated size was raised over nothing, a preallocated tail a copy tool left
    /// unwritten) are between them. The file system is asked (`SEEK_DATA` /
    /// `SEEK_HOLE`); where it cannot say, the whole file is data. Past
    /// [`MAX_DATA_RUNS`] runs the rest is one run: the count is bounded by us, not by
    /// how the file was cut up.
    pub fn data_ranges(&self) -> Vec<std::ops::Range<u64>> {
        use rustix::fs::{seek, SeekFrom};
        let whole = || std::iter::once(0..self.len).collect::<Vec<_>>();
        let mut ranges = Vec::new();
        let mut at = 0u64;
        while at < self.len {
            let start = match seek(&self.file, SeekFrom::Data(at)) {
                Ok(start) => start,
                // ENXIO: no data at or after `at`; the rest is a hole.
                Err(e) if e == rustix::io::Errno::NXIO => break,
                Err(_) => return whole(),
            };
            if start >= self.len {
                break;
            }
            if ranges.len() == MAX_DATA_RUNS {
                ranges.push(start..self.len);
                break;
            }
            let end = match seek(&self.file, SeekFrom::Hole(start)) {
                Ok(end) => end.min(self.len),
                Err(_) => return whole(),
            };
            if end <= start {
                return whole();
            }
            ranges.push(start..end);
            at = end;
        }
        ranges
    }
}

impl ReadAt for PlainFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let left = self.len.saturating_sub(offset);
        let wanted = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let mut done = 0;
        while done < wanted {
            match self
                .file
                .read_at(&mut buf[done..wanted], offset + done as u64)
            {
                // The file is shorter now than when it was opened.
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }

    fn len(&self) -> u64 {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_stop_at_the_end_and_a_file_cut_short_reads_short() {
        let dir = std::env::temp_dir().join(format!("toolmark-plain-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f.bin");
        std::fs::write(&path, (0..100u8).collect::<Vec<_>>()).unwrap();
        let file = PlainFile::open(&path).unwrap();
        assert_eq!(file.len(), 100);
        let mut buf = [0u8; 16];
        assert_eq!(file.read_at(&mut buf, 90).unwrap(), 10);
        assert_eq!(&buf[..10], &(90..100u8).collect::<Vec<_>>()[..]);
        assert_eq!(file.read_at(&mut buf, 100).unwrap(), 0);
        assert_eq!(file.read_at(&mut buf, u64::MAX).unwrap(), 0);
        // Cut to 50 bytes after opening: a read past the cut is short, not a crash.
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(50)
            .unwrap();
        assert_eq!(file.read_at(&mut buf, 40).unwrap(), 10);
        assert!(file.read_exact_at(&mut buf, 40).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A file with a hole after its data says so, as the file system records it
    /// (on a file system that cannot tell, the whole file is data, which is never
    /// wrong, only slower).
    #[test]
    fn the_data_of_a_sparse_file_is_found_and_its_holes_skipped() {
        let dir = std::env::temp_dir().join(format!("toolmark-sparse-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s.bin");
        std::fs::write(&path, vec![7u8; 8192]).unwrap();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(1 << 30)
            .unwrap();
        let file = PlainFile::open(&path).unwrap();
        let ranges = file.data_ranges();
        let ends: Vec<(u64, u64)> = ranges.iter().map(|r| (r.start, r.end)).collect();
        assert!(ends == [(0, 8192)] || ends == [(0, 1 << 30)], "{ranges:?}");
        let dense = dir.join("d.bin");
        std::fs::write(&dense, vec![1u8; 100]).unwrap();
        let dense = PlainFile::open(&dense).unwrap().data_ranges();
        assert_eq!(
            dense.iter().map(|r| (r.start, r.end)).collect::<Vec<_>>(),
            [(0, 100)]
        );
        let empty = dir.join("e.bin");
        std::fs::write(&empty, b"").unwrap();
        assert!(PlainFile::open(&empty).unwrap().data_ranges().is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
