//! The chunks of a log in the order the crate reads them, read by us into one
//! buffer: what `read_log` walks on one thread.
//!
//! The crate's chunk iterator allocates and fills a fresh 64 KiB vector for every
//! chunk (zeroing it first), and skips a chunk that was never written only after
//! testing its 64 KiB byte by byte, which does not vectorise. Most logs end in such
//! chunks: Windows grows a log by steps of preallocated ones (a new log is 1 MiB,
//! its header and 16 chunks), a third of the chunks of the corpus host's 94 logs.
//! Those were 7.8 % of a one-thread scan's instructions over them, and the crate's
//! chunk setup (its string cache, built for every chunk) another 0.6 %, which a
//! chunk that we walk ourselves never needs.
//!
//! The walk is the crate's own (`EvtxParser::chunks` in evtx 0.15): from the chunk
//! whose header names the lowest first record id (a log that has wrapped around
//! starts there), to the end of the file, then from its start back to that chunk;
//! a chunk of zeros is skipped; a chunk that cannot be read, or whose header does
//! not read, is an error, unless it lies past the chunk count, where the walk ends.
//! `one_thread_reads_every_corpus_log_as_the_crates_walk_does` compares the two on
//! every corpus log, the damaged ones included, and the `evtx` fuzz target on
//! whatever it makes.

use std::io::{Read, Seek, SeekFrom};

use evtx::err::{ChunkError, EvtxError};
use evtx::EvtxChunkHeader;

const FILE_HEADER: u64 = 4096;
const CHUNK: usize = evtx_carve::CHUNK_SIZE;
const CHUNK_HEADER: usize = 512;

/// The chunks of one log, one at a time, in the crate's order.
pub struct Chunks<R> {
    reader: R,
    /// Chunks the file holds by its size (the crate's "calculated chunk count").
    count: u64,
    /// Whole chunks after the 4096-byte header (`count` but for an odd header).
    whole: u64,
    /// The next chunk number to look at.
    next: u64,
    /// The chunk that holds the oldest records, where the walk starts and ends.
    oldest: u64,
    /// Whether the walk has gone past the end of the file, on to its first chunk.
    wrapped: bool,
    /// The chunk last read (64 KiB once the first is).
    data: Vec<u8>,
    /// The highest chunk number read that was not all zeros.
    last_written: Option<u64>,
    /// Whether a read past the last whole chunk ended the walk's first part (from
    /// the oldest chunk to the end of the file).
    reached_end: bool,
    /// Whether the walk is over (`step` gave `None`).
    over: bool,
    /// The written chunks whose unused space holds no record (see [`Quiet`]).
    quiet: Quiet,
}

/// One chunk of the walk: its number, and its header or why it could not be read.
pub type Step = (u64, Result<EvtxChunkHeader, EvtxError>);

impl<R: Read + Seek> Chunks<R> {
    /// The walk over `reader`, a log whose file header the crate has read: its
    /// chunks start at 4096, `count` of them by the crate's reckoning.
    pub fn new(mut reader: R, count: u64) -> Self {
        let oldest = oldest_chunk(&mut reader, count);
        let length = reader.seek(SeekFrom::End(0)).unwrap_or(u64::MAX);
        Chunks {
            reader,
            count,
            whole: length.saturating_sub(FILE_HEADER) / CHUNK as u64,
            next: oldest,
            oldest,
            wrapped: false,
            data: Vec::new(),
            last_written: None,
            reached_end: false,
            over: false,
            quiet: Quiet::default(),
        }
    }

    /// The chunks read so far whose unused space holds no record.
    pub fn quiet(self) -> Quiet {
        self.quiet
    }

    /// Where the file's written chunks end once the walk is over: past the last
    /// chunk that is not all zeros (4096 when none is). `None` when the walk did
    /// not see every chunk (it stopped at a damaged one past the chunk count, or
    /// was not walked to its end).
    pub fn written_end(&self) -> Option<u64> {
        (self.reached_end && self.over)
            .then(|| FILE_HEADER + self.last_written.map_or(0, |n| n + 1) * CHUNK as u64)
    }

    /// The chunk the file ends inside, when it was cut short (copied while
    /// written, or truncated): its number, how many of its bytes are there, and
    /// its bytes padded with zeros to a whole chunk, which then reads up to the
    /// cut. `None` when the file ends on a chunk boundary, or what is there of
    /// the last chunk is too short for a chunk header or all zeros.
    pub fn cut_chunk(&mut self) -> Option<(u64, usize, Vec<u8>)> {
        let start = FILE_HEADER.checked_add(self.whole.checked_mul(CHUNK as u64)?)?;
        let mut data = vec![0u8; CHUNK];
        self.reader.seek(SeekFrom::Start(start)).ok()?;
        // Fewer than a chunk's bytes are there (a whole chunk would be counted).
        let mut present = 0;
        while present < CHUNK {
            match self.reader.read(&mut data[present..]) {
                Ok(0) => break,
                Ok(n) => present += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        if !(CHUNK_HEADER..CHUNK).contains(&present) || evtx_carve::never_written(&data) {
            return None;
        }
        // The record the cut runs through would be read with zeros for its end:
        // it is cleared, so that the walk ends with the last whole record.
        let mut at = CHUNK_HEADER;
        while let Some(record) = evtx_carve::record_header(&data[..present], at, CHUNK) {
            at += record.size as usize;
        }
        data[at.min(present)..present].fill(0);
        Some((self.whole, present, data))
    }

    /// The bytes of the chunk the last [`Chunks::step`] read (all 64 KiB of it).
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The next chunk in record order, `None` at the end of the walk.
    pub fn step(&mut self) -> Option<Step> {
        loop {
            // Once it has wrapped around, the walk ends where it started.
            let end = if self.wrapped { self.oldest } else { u64::MAX };
            if let Some(found) = self.find_next(end) {
                self.next = found.0.checked_add(1)?;
                return Some(found);
            }
            if self.wrapped || self.oldest == 0 {
                self.over = true;
                return None;
            }
            self.wrapped = true;
            self.next = 0;
        }
    }

    /// The first chunk from `self.next` on, before `end`, that is not all zeros.
    fn find_next(&mut self, end: u64) -> Option<Step> {
        let mut number = self.next;
        loop {
            if number >= end {
                return None;
            }
            match self.read(number) {
                // Past the chunk count, a chunk that cannot be read is the end of
                // the file (the crate reads on to allow for dirty files).
                Err(_) if number >= self.count => {
                    // Past the last whole chunk: every chunk from the oldest to the
                    // end of the file was seen; the walk goes on from the first.
                    self.reached_end |= !self.wrapped && number >= self.whole;
                    return None;
                }
                Err(e) => return Some((number, Err(chunk_error(number, e)))),
                Ok(false) => number = number.checked_add(1)?,
                Ok(true) => {
                    return Some(match EvtxChunkHeader::from_bytes(&self.data) {
                        Ok(header) => (number, Ok(header)),
                        Err(_) if number >= self.count => return None,
                        Err(e) => (
                            number,
                            Err(chunk_error(number, ChunkError::FailedToParseChunkHeader(e))),
                        ),
                    })
                }
            }
        }
    }

    /// Reads chunk `number` into `self.data`; `false` when it is all zeros.
    fn read(&mut self, number: u64) -> Result<bool, ChunkError> {
        let offset = number
            .checked_mul(CHUNK as u64)
            .and_then(|o| o.checked_add(FILE_HEADER))
            .ok_or(ChunkError::IncompleteChunk)?;
        self.reader
            .seek(SeekFrom::Start(offset))
            .map_err(ChunkError::FailedToSeekToChunk)?;
        // Filled in place: a buffer handed to `read_to_end` is zeroed first, each time.
        self.data.resize(CHUNK, 0);
        self.reader
            .read_exact(&mut self.data)
            .map_err(|_| ChunkError::IncompleteChunk)?;
        let written = !evtx_carve::never_written(&self.data);
        if written {
            self.last_written = self.last_written.max(Some(number));
            // Told while the chunk is at hand, so that the pass over the logs'
            // unused space, once every log is read, need not read it whole again.
            if evtx_carve::unused_space_records(&self.data, 0).is_empty() {
                self.quiet.insert(number);
            }
        }
        Ok(written)
    }
}

/// Chunk numbers of a log whose unused space holds no record (by
/// `evtx_carve::unused_space_records`, libevtx's rule), as the read found them:
/// the unused-space pass only looks for their templates. A chunk not in the set
/// was not read, or holds something there, and is read whole. One bit a chunk.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Quiet {
    words: Vec<u64>,
}

impl Quiet {
    fn insert(&mut self, number: u64) {
        let Ok(word) = usize::try_from(number / 64) else {
            return;
        };
        if self.words.len() <= word {
            self.words.resize(word + 1, 0);
        }
        self.words[word] |= 1 << (number % 64);
    }

    /// Whether chunk `number` was read and its unused space holds no record.
    pub fn contains(&self, number: u64) -> bool {
        usize::try_from(number / 64)
            .ok()
            .and_then(|word| self.words.get(word))
            .is_some_and(|w| w & (1 << (number % 64)) != 0)
    }
}

/// The crate's error for chunk `number`.
pub(crate) fn chunk_error(number: u64, e: ChunkError) -> EvtxError {
    EvtxError::FailedToParseChunk {
        chunk_id: number,
        source: Box::new(e),
    }
}

/// The chunk whose header names the lowest first record id (a header whose range
/// is reversed says nothing); the first chunk when none does.
fn oldest_chunk<R: Read + Seek>(reader: &mut R, count: u64) -> u64 {
    let mut oldest = (u64::MAX, 0);
    let mut header = [0u8; CHUNK_HEADER];
    for number in 0..count {
        let offset = FILE_HEADER + number * CHUNK as u64;
        if reader.seek(SeekFrom::Start(offset)).is_err() || reader.read_exact(&mut header).is_err()
        {
            break;
        }
        if let Ok(chunk) = EvtxChunkHeader::from_bytes(&header) {
            if chunk.first_event_record_id <= chunk.last_event_record_id
                && chunk.first_event_record_id < oldest.0
            {
                oldest = (chunk.first_event_record_id, number);
            }
        }
    }
    oldest.1
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// A log whose chunks have these first record ids (`None`: a chunk of zeros),
    /// each chunk's range ten records long; `tail` bytes follow the last chunk.
    fn log(firsts: &[Option<u64>], tail: &[u8]) -> Vec<u8> {
        let mut bytes = vec![0u8; FILE_HEADER as usize];
        for first in firsts {
            let mut chunk = vec![0u8; CHUNK];
            if let Some(first) = first {
                chunk[..8].copy_from_slice(b"ElfChnk\0");
                chunk[24..32].copy_from_slice(&first.to_le_bytes());
                chunk[32..40].copy_from_slice(&(first + 9).to_le_bytes());
            }
            bytes.extend(chunk);
        }
        bytes.extend(tail);
        bytes
    }

    /// A chunk the walk met: its number, and its first record id or the error.
    type Met = (u64, Result<u64, String>);

    /// The walk: each chunk's number, and its first record id or the error.
    fn walk(bytes: &[u8]) -> Vec<Met> {
        walk_to_end(bytes).0
    }

    /// [`walk`], and where it found the written chunks to end.
    fn walk_to_end(bytes: &[u8]) -> (Vec<Met>, Option<u64>) {
        let count = (bytes.len() as u64 - FILE_HEADER) / CHUNK as u64;
        let mut chunks = Chunks::new(Cursor::new(bytes), count);
        let mut seen = Vec::new();
        while let Some((number, header)) = chunks.step() {
            seen.push((
                number,
                header
                    .map(|h| h.first_event_record_id)
                    .map_err(|e| e.to_string()),
            ));
            assert!(seen.len() < 100, "the walk does not end");
        }
        (seen, chunks.written_end())
    }

    #[test]
    fn a_wrapped_log_is_walked_from_its_oldest_chunk_round_to_it() {
        let bytes = log(&[Some(31), None, Some(11), Some(21)], &[]);
        let order: Vec<u64> = walk(&bytes).into_iter().map(|(n, _)| n).collect();
        assert_eq!(order, vec![2, 3, 0]);
    }

    #[test]
    fn chunks_of_zeros_are_skipped_and_a_partial_one_ends_the_walk() {
        let bytes = log(&[Some(1), None, None, Some(11), None], &[7u8; 100]);
        let (seen, end) = walk_to_end(&bytes);
        assert_eq!(seen, vec![(0, Ok(1)), (3, Ok(11))]);
        // The written chunks end after chunk 3: the empty one and the partial
        // tail after it hold nothing the walk reads.
        assert_eq!(end, Some(FILE_HEADER + 4 * CHUNK as u64));
        let (_, wrapped_end) = walk_to_end(&log(&[Some(31), None, Some(11), None], &[]));
        assert_eq!(wrapped_end, Some(FILE_HEADER + 3 * CHUNK as u64));
        let (_, none_written) = walk_to_end(&log(&[None, None], &[]));
        assert_eq!(none_written, Some(FILE_HEADER));
    }

    #[test]
    fn a_walk_stopped_before_the_end_of_the_file_does_not_say_where_it_ends() {
        // A chunk past the chunk count whose header does not read ends the walk
        // there (as the crate's does): what lies after it was not seen.
        let mut bytes = log(&[Some(1), Some(11), Some(21)], &[]);
        bytes[FILE_HEADER as usize + 2 * CHUNK] = b'X';
        let count = 2;
        let mut chunks = Chunks::new(Cursor::new(&bytes), count);
        let mut numbers = Vec::new();
        while let Some((number, _)) = chunks.step() {
            numbers.push(number);
        }
        assert_eq!(numbers, vec![0, 1]);
        assert_eq!(chunks.written_end(), None);
    }

    #[test]
    fn a_chunk_that_is_not_one_is_an_error_and_the_walk_goes_on() {
        let mut bytes = log(&[Some(1), Some(11), Some(21)], &[]);
        // Chunk 1 loses its signature: not zeros, not a chunk.
        bytes[FILE_HEADER as usize + CHUNK] = b'X';
        let seen = walk(&bytes);
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[0], (0, Ok(1)));
        assert!(
            matches!(&seen[1], (1, Err(e)) if e.contains("chunk number 1")),
            "{seen:?}"
        );
        assert_eq!(seen[2], (2, Ok(21)));
    }
}
