//! The checks of E01 chunks the `ewf` crate leaves out: the Adler-32 of uncompressed
//! chunks, and the length a compressed chunk inflates to.
//!
//! EWF v1 stores a chunk that does not compress as its plain bytes followed by a
//! 4-byte little-endian Adler-32 of them. The crate returns those bytes as they are,
//! so a flipped bit on the disk that holds the image would reach the parsers as
//! evidence. A compressed chunk's zlib trailer is checked by the crate's inflater,
//! but a stream that ends early (or is cut short) is not: the crate serves the
//! bytes it got followed by zeros. So compressed chunks are inflated here too, and
//! must end their stream at exactly the chunk's size.
//!
//! Each chunk is checked once, on its first read; the outcome is kept in two bit
//! sets sized by the chunk tables that exist in the segment files (never by a
//! claimed media size).

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Checksums of the uncompressed chunks of one segment set.
pub struct ChunkCheck {
    segments: Vec<Arc<File>>,
    chunk_size: u64,
    media_size: u64,
    /// Bit per chunk: checked already.
    checked: Vec<AtomicU64>,
    /// Bit per chunk: checked and found corrupt.
    corrupt: Vec<AtomicU64>,
}

impl ChunkCheck {
    /// Checks over the segment files `segments` (opened read-only, in set order,
    /// shared with the crate's reader).
    pub fn new(
        segments: Vec<Arc<File>>,
        chunk_size: u64,
        chunk_count: usize,
        media_size: u64,
    ) -> Self {
        let words = chunk_count.div_ceil(64);
        let bits = || (0..words).map(|_| AtomicU64::new(0)).collect();
        ChunkCheck {
            segments,
            chunk_size,
            media_size,
            checked: bits(),
            corrupt: bits(),
        }
    }

    /// An error naming the first chunk under `[offset, offset + len)` whose
    /// stored checksum does not match its bytes.
    pub fn check_range(
        &self,
        reader: &ewf::EwfReader,
        offset: u64,
        len: u64,
    ) -> Result<(), String> {
        if len == 0 || self.chunk_size == 0 {
            return Ok(());
        }
        let first = offset / self.chunk_size;
        let last = (offset + len - 1) / self.chunk_size;
        for chunk in first..=last {
            let chunk = chunk as usize;
            if chunk / 64 >= self.checked.len() {
                break; // past the tables: the crate's own read reports that
            }
            if let Some(why) = self.check(reader, chunk) {
                return Err(why);
            }
        }
        Ok(())
    }

    fn check(&self, reader: &ewf::EwfReader, chunk: usize) -> Option<String> {
        let (word, bit) = (chunk / 64, 1u64 << (chunk % 64));
        if self.checked[word].load(Ordering::Acquire) & bit != 0 {
            return (self.corrupt[word].load(Ordering::Acquire) & bit != 0)
                .then(|| self.corrupt_message(chunk, None));
        }
        let problem = self.verify(reader, chunk);
        if problem.is_some() {
            self.corrupt[word].fetch_or(bit, Ordering::AcqRel);
        }
        self.checked[word].fetch_or(bit, Ordering::AcqRel);
        problem.map(|why| self.corrupt_message(chunk, Some(why)))
    }

    fn corrupt_message(&self, chunk: usize, why: Option<String>) -> String {
        let start = chunk as u64 * self.chunk_size;
        format!(
            "E01 chunk {chunk} (media bytes {start}..{}) is corrupt{}",
            start + self.chunk_size,
            why.map(|w| format!(": {w}")).unwrap_or_default()
        )
    }

    /// Why the chunk is corrupt, or `None` when it inflates to its size or its
    /// checksum matches.
    fn verify(&self, reader: &ewf::EwfReader, chunk: usize) -> Option<String> {
        // `debug_chunk` is the crate's only view of a chunk's place in its segment
        // (hidden from its docs, stable in the locked version).
        // A chunk the crate cannot place (past the tables of a truncated set) is
        // not checked here: the crate's own read of it fails the same way, and
        // that error is the one reported.
        let (file_offset, stored, compressed, segment) = reader.debug_chunk(chunk).ok()?;
        let start = chunk as u64 * self.chunk_size;
        let media_left = self.chunk_size.min(self.media_size.saturating_sub(start));
        let file = self.segments.get(segment)?;
        if compressed {
            return self.verify_compressed(file, file_offset, stored, media_left);
        }
        let data_len = media_left.min(stored);
        let mut bytes = vec![0u8; data_len as usize + 4];
        if let Err(e) = file.read_exact_at(&mut bytes, file_offset) {
            return Some(format!("its stored checksum cannot be read: {e}"));
        }
        let (data, sum) = bytes.split_at(data_len as usize);
        // `sum` is the 4 bytes after the data (the buffer was sized so).
        let stored_sum = u32::from_le_bytes(sum.try_into().ok()?);
        let actual = adler32(data);
        (actual != stored_sum)
            .then(|| format!("Adler-32 {actual:08x} does not match the stored {stored_sum:08x}"))
    }

    /// Why a compressed chunk is corrupt: its stream does not inflate, or ends
    /// before (or runs past) the chunk. The media's last chunk may hold only the
    /// `media_left` bytes the media has left, or be padded to a whole chunk.
    fn verify_compressed(
        &self,
        file: &File,
        file_offset: u64,
        stored: u64,
        media_left: u64,
    ) -> Option<String> {
        // A zlib stream of one chunk is never much larger than the chunk (stored
        // blocks add 5 bytes per 64 KiB): the claimed size is read only that far.
        let most = self.chunk_size + 1024;
        let file_left = file
            .metadata()
            .map_or(0, |m| m.len())
            .saturating_sub(file_offset);
        // The `ewf` crate allocates the stored size before it reads: a size no
        // chunk has, or past the segment's end, must never reach it.
        if stored > most || stored > file_left {
            return Some(format!(
                "its stored size of {stored} bytes is more than a compressed chunk of \
                 {} bytes can take ({most}) or its segment holds after it ({file_left})",
                self.chunk_size
            ));
        }
        let mut input = vec![0u8; stored.min(most).min(file_left) as usize];
        if let Err(e) = file.read_exact_at(&mut input, file_offset) {
            return Some(format!("its compressed bytes cannot be read: {e}"));
        }
        // One byte more than a chunk, so a stream that runs past it is seen.
        let mut out = vec![0u8; self.chunk_size as usize + 1];
        match blockio::inflate(&input, &mut out, true) {
            Err(e) => Some(e.to_string()),
            Ok(n) if (n as u64) < media_left || n as u64 > self.chunk_size => Some(format!(
                "it inflates to {n} bytes, not the chunk's {media_left}"
            )),
            Ok(_) => None,
        }
    }
}

/// Adler-32 (RFC 1950), as EWF stores it after an uncompressed chunk.
fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65521;
    // 5552 bytes is the most that can be summed before `b` could overflow u32.
    let (mut a, mut b) = (1u32, 0u32);
    for block in data.chunks(5552) {
        for &byte in block {
            a += u32::from(byte);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

#[cfg(test)]
mod tests {
    use super::adler32;

    #[test]
    fn adler32_matches_rfc1950_examples() {
        assert_eq!(adler32(b""), 1);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        // Long enough to need the modulo between blocks.
        assert_eq!(adler32(&[0xFF; 100_000]), 0x149A_302C);
    }
}
