//! The one interface toolmark's virtual-disk readers read through and present.
//!
//! A virtual disk is a byte source built on another byte source (its file) and
//! sometimes a third (its parent or backing file). [`Source`] is positional and
//! `Sync`, so many threads read one image without a shared cursor; every disk
//! reader takes its file as a `Source` and is one itself, which lets chains stack
//! without the readers knowing what is below them.
//!
//! [`TableCache`] keeps the few metadata tables or inflated grains a reader needs
//! hot, so memory stays bounded whatever size the disk claims.

// Parsers read hostile bytes: a panic would cost the whole scan, so every
// fallible step returns an error (tests may unwrap: clippy.toml).
#![deny(clippy::unwrap_used, clippy::expect_used)]

use std::io;
use std::sync::{Arc, Mutex};

/// Positional reads over a byte range.
pub trait Source: Send + Sync {
    /// Reads up to `buf.len()` bytes at `offset`; returns fewer only at the end.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;

    /// Length of the range in bytes.
    fn len(&self) -> u64;

    /// True if the range is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Fills `buf` from `offset`, or fails with `UnexpectedEof` naming the range.
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let mut done = 0usize;
        while done < buf.len() {
            let n = self.read_at(&mut buf[done..], offset + done as u64)?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "{} bytes at offset {offset} pass the end of the file ({} bytes)",
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

impl<T: Source + ?Sized> Source for Arc<T> {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        (**self).read_at(buf, offset)
    }

    fn len(&self) -> u64 {
        (**self).len()
    }
}

/// A file held in memory (tests, fuzzing).
impl Source for Vec<u8> {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.len());
        let n = (self.len() - start).min(buf.len());
        buf[..n].copy_from_slice(&self[start..start + n]);
        Ok(n)
    }

    fn len(&self) -> u64 {
        self.len() as u64
    }
}

/// Reads `len` bytes at `offset` into a new buffer after checking that the file
/// holds them: a size taken from a header is never allocated before this check.
pub fn read_vec(source: &dyn Source, offset: u64, len: u64, what: &str) -> io::Result<Vec<u8>> {
    let end = offset.checked_add(len);
    if end.is_none_or(|end| end > source.len()) {
        return Err(invalid(format!(
            "{what}: {len} bytes at offset {offset} pass the end of the file ({} bytes)",
            source.len()
        )));
    }
    let mut buf = vec![0u8; len as usize];
    source.read_exact_at(&mut buf, offset)?;
    Ok(buf)
}

/// An `InvalidData` error with `message`.
pub fn invalid(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

/// A small least-recently-used cache of decoded blocks keyed by their file offset.
pub struct TableCache<V> {
    slots: Mutex<Vec<(u64, Arc<V>)>>,
    capacity: usize,
}

impl<V> TableCache<V> {
    /// A cache holding at most `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        TableCache {
            slots: Mutex::new(Vec::with_capacity(capacity)),
            capacity: capacity.max(1),
        }
    }

    /// The entry for `key`, loading it with `load` on a miss.
    pub fn get(&self, key: u64, load: impl FnOnce() -> io::Result<V>) -> io::Result<Arc<V>> {
        {
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(i) = slots.iter().position(|(k, _)| *k == key) {
                let hit = slots.remove(i);
                let value = Arc::clone(&hit.1);
                slots.push(hit);
                return Ok(value);
            }
        }
        // Loaded outside the lock: two threads may both load one entry, which
        // costs a read but never blocks readers of other entries.
        let value = Arc::new(load()?);
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if slots.len() >= self.capacity {
            slots.remove(0);
        }
        slots.push((key, Arc::clone(&value)));
        Ok(value)
    }
}

/// Big-endian `u32` at `at` of `b` (callers pass slices they sized themselves).
pub fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap_or_default())
}

/// Big-endian `u64` at `at` of `b`.
pub fn be64(b: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(b[at..at + 8].try_into().unwrap_or_default())
}

/// Little-endian `u16` at `at` of `b`.
pub fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(b[at..at + 2].try_into().unwrap_or_default())
}

/// Little-endian `u32` at `at` of `b`.
pub fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap_or_default())
}

/// Little-endian `u64` at `at` of `b`.
pub fn le64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap_or_default())
}

/// Where a piece of the virtual disk comes from, as a reader maps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Piece {
    /// Bytes stored at this offset of the image file.
    File(u64),
    /// Zeros (never written, or explicitly zeroed).
    Zero,
    /// Not in this image: the parent's bytes at the same virtual offset (zeros
    /// when there is no parent).
    Parent,
}

/// Serves a read over a disk mapped in fixed-size blocks: `map(block_offset)`
/// says where the block holding a virtual offset lives, `len` how far the
/// answer holds (up to the block's end), and this copies each run from the file,
/// the parent or zeros.
pub fn read_mapped(
    buf: &mut [u8],
    offset: u64,
    size: u64,
    file: &dyn Source,
    parent: Option<&dyn Source>,
    mut map: impl FnMut(u64) -> io::Result<(Piece, u64)>,
) -> io::Result<usize> {
    if offset >= size {
        return Ok(0);
    }
    let total = (size - offset).min(buf.len() as u64) as usize;
    let mut done = 0usize;
    while done < total {
        let at = offset + done as u64;
        let (piece, run) = map(at)?;
        let n = (run.max(1) as usize).min(total - done);
        let out = &mut buf[done..done + n];
        match piece {
            Piece::File(host) => file.read_exact_at(out, host)?,
            Piece::Zero => out.fill(0),
            Piece::Parent => match parent {
                Some(p) => fill_from(p, out, at)?,
                None => out.fill(0),
            },
        }
        done += n;
    }
    Ok(total)
}

/// Reads `out` from `source` at `offset`; what lies past its end is zeros (a
/// parent smaller than its child reads as zeros beyond its size).
pub fn fill_from(source: &dyn Source, out: &mut [u8], offset: u64) -> io::Result<()> {
    let have = source.len().saturating_sub(offset).min(out.len() as u64) as usize;
    source.read_exact_at(&mut out[..have], offset)?;
    out[have..].fill(0);
    Ok(())
}

/// Inflates a deflate stream (`zlib`: with its RFC 1950 header, else raw) into
/// `out`, returning how many bytes it produced. Output beyond `out` is an error,
/// so a grain or cluster can never grow past its stated size.
pub fn inflate(input: &[u8], out: &mut [u8], zlib: bool) -> io::Result<usize> {
    use miniz_oxide::inflate::TINFLStatus;
    let (status, written) = decompress(input, out, zlib);
    match status {
        TINFLStatus::Done => Ok(written),
        // A stream cut at exactly the output size (QCOW2 stores no end marker
        // guarantee) or one that needs more input is usable up to what it gave.
        TINFLStatus::HasMoreOutput | TINFLStatus::NeedsMoreInput if written == out.len() => {
            Ok(written)
        }
        other => Err(invalid(format!(
            "compressed data does not inflate ({other:?} after {written} bytes)"
        ))),
    }
}

/// Inflates a grain or cluster that may come to at most `most` bytes, into a
/// buffer one byte longer: a stream that fills `most` bytes and then stops is
/// told from one that runs on (a 25 KB grain can hold 24 MiB of zeros), which
/// is refused after that one byte, never inflated further. Returns the bytes it
/// produced; whether they are few enough is the caller's to judge.
pub fn inflate_at_most(input: &[u8], most: usize, zlib: bool) -> io::Result<Vec<u8>> {
    use miniz_oxide::inflate::TINFLStatus;
    let mut out = vec![0u8; most + 1];
    let (status, written) = decompress(input, &mut out, zlib);
    match status {
        _ if written > most => {
            return Err(invalid(format!(
                "compressed data inflates to more than {most} bytes"
            )))
        }
        TINFLStatus::Done => {}
        // A stream whose stored length was cut just after its last byte: usable.
        TINFLStatus::NeedsMoreInput if written == most => {}
        other => {
            return Err(invalid(format!(
                "compressed data does not inflate ({other:?} after {written} bytes)"
            )))
        }
    }
    out.truncate(written);
    Ok(out)
}

/// One pass of the decompressor over `input` into `out`: its status and how
/// many bytes it wrote (never more than `out` holds).
fn decompress(
    input: &[u8],
    out: &mut [u8],
    zlib: bool,
) -> (miniz_oxide::inflate::TINFLStatus, usize) {
    use miniz_oxide::inflate::core::{decompress, inflate_flags, DecompressorOxide};
    let mut flags = inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
    if zlib {
        flags |= inflate_flags::TINFL_FLAG_PARSE_ZLIB_HEADER;
    }
    let mut state = DecompressorOxide::new();
    let (status, _, written) = decompress(&mut state, input, out, 0, flags);
    (status, written)
}

/// What every virtual-disk reader tells the layer that opens chains: its format,
/// and the parent (or backing file) it needs before it can be read.
pub trait VirtualDisk: Source {
    /// Format name (`VHD`, `VHDX`, `VMDK`, `QCOW2`).
    fn format(&self) -> &'static str;

    /// Variant within the format (`dynamic`, `streamOptimized`, `v3`, ...).
    fn subformat(&self) -> String;

    /// Where the parent may be, best guess first, as the image stores it (relative
    /// to the image's directory or absolute); empty when the image has no parent.
    fn parent_locations(&self) -> Vec<String>;

    /// Gives the image its parent; reads of what the image does not hold go there.
    fn set_parent(&mut self, parent: Arc<dyn Source>);

    /// What this disk's children record of it, to be told from another disk or
    /// from itself changed since (VMDK `CID`, VHD unique id, VHDX
    /// `DataWriteGuid`), lower-case; `None` when the format keeps nothing.
    fn identity(&self) -> Option<String> {
        None
    }

    /// What this disk recorded of its parent's identity when it was made, every
    /// value it accepts (VHDX keeps two); empty when it records none.
    fn parent_identities(&self) -> Vec<String> {
        Vec::new()
    }

    /// Damage found on opening that leaves the disk readable: what the image's own
    /// redundancy made good (a damaged primary grain table read from its redundant
    /// copy), or what it says of itself (a failed checksum, a QCOW2 image marked
    /// corrupt). The disk is read, but the evidence is not intact and the report
    /// must say so. Empty by default.
    fn repairs(&self) -> Vec<String> {
        Vec::new()
    }
}

/// The UTF-16 text in `bytes` (little- or big-endian), cut at the first NUL.
pub fn utf16(bytes: &[u8], big_endian: bool) -> String {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| {
            if big_endian {
                u16::from_be_bytes([c[0], c[1]])
            } else {
                u16::from_le_bytes([c[0], c[1]])
            }
        })
        .take_while(|&u| u != 0)
        .collect();
    String::from_utf16_lossy(&units)
}

/// The part of another source from `base` on, with offsets restarting at 0: a
/// parent seen from an extent that starts at `base` of the virtual disk.
pub struct Shifted<'a> {
    /// The whole source.
    pub inner: &'a dyn Source,
    /// Where offset 0 of the view lies in `inner`.
    pub base: u64,
}

impl Source for Shifted<'_> {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        match self.base.checked_add(offset) {
            Some(at) => self.inner.read_at(buf, at),
            None => Ok(0),
        }
    }

    fn len(&self) -> u64 {
        self.inner.len().saturating_sub(self.base)
    }
}

/// What every format's fuzz target does with a disk it could open: gives it a
/// small parent if it asks for one, then reads its first 8 MiB and its last
/// sector. Errors are expected; a panic, hang or huge allocation is the finding.
pub fn read_through(disk: &mut dyn VirtualDisk) {
    if !disk.parent_locations().is_empty() {
        disk.set_parent(Arc::new(vec![0x5au8; 4096]));
    }
    let mut buf = vec![0u8; 64 * 1024];
    let mut at = 0u64;
    while at < disk.len().min(8 << 20) {
        if disk.read_at(&mut buf, at).is_err() {
            break;
        }
        at += buf.len() as u64;
    }
    let _ = disk.read_at(&mut buf[..512], disk.len().saturating_sub(512));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_vec_refuses_claims_past_the_end() {
        let data = vec![1u8; 100];
        assert!(read_vec(&data, 90, 20, "table").is_err());
        assert!(read_vec(&data, u64::MAX, 2, "table").is_err());
        assert_eq!(read_vec(&data, 90, 10, "table").unwrap().len(), 10);
    }

    #[test]
    fn mapped_reads_mix_file_zero_and_parent() {
        let file: Vec<u8> = (0..16u8).collect();
        let parent = vec![0xaau8; 32];
        let mut buf = [0u8; 24];
        let n = read_mapped(&mut buf, 4, 32, &file, Some(&parent), |at| {
            let block = at / 8;
            let rest = 8 - at % 8;
            Ok(match block {
                0 => (Piece::File(at), rest),
                1 => (Piece::Zero, rest),
                _ => (Piece::Parent, rest),
            })
        })
        .unwrap();
        assert_eq!(n, 24);
        assert_eq!(&buf[..4], &[4, 5, 6, 7]);
        assert_eq!(&buf[4..12], &[0; 8]);
        assert_eq!(&buf[12..], &[0xaa; 12]);
    }

    /// Raw deflate of `len` zero bytes (1 MiB of them deflates to about 1 KiB).
    fn zeros_deflated(len: usize) -> Vec<u8> {
        miniz_oxide::deflate::compress_to_vec(&vec![0u8; len], 6)
    }

    #[test]
    fn inflating_at_most_refuses_a_stream_that_runs_past_its_size() {
        let exact = zeros_deflated(4096);
        assert_eq!(inflate_at_most(&exact, 4096, false).unwrap().len(), 4096);
        let short = zeros_deflated(1024);
        assert_eq!(inflate_at_most(&short, 4096, false).unwrap().len(), 1024);
        let long = zeros_deflated(1 << 20);
        let error = inflate_at_most(&long, 4096, false).unwrap_err();
        assert!(error.to_string().contains("more than 4096"), "{error}");
        // What a buffer of exactly the size accepts without a word.
        assert_eq!(inflate(&long, &mut [0u8; 4096], false).unwrap(), 4096);
    }

    #[test]
    fn cache_evicts_the_oldest() {
        let cache = TableCache::new(2);
        for k in 0..3u64 {
            cache.get(k, || Ok(k)).unwrap();
        }
        let mut loaded = false;
        cache
            .get(0, || {
                loaded = true;
                Ok(0)
            })
            .unwrap();
        assert!(loaded);
    }
}
