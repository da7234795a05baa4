//! Expert Witness Format (E01) through the `ewf` crate, plus the checks it leaves out.
//!
//! The crate reads chunks and stored hashes well, but it opens a set with its last
//! segments missing, or cut short, without complaint and then fails (or reads
//! zeros) deep inside a later read. Before handing a set to it we walk the section
//! chain of every segment: each must be intact, every segment but the last must end
//! in a `next` section and the last in `done`. That turns "missing E03" and
//! "truncated E04" into one clear error at open time.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{EvidenceError, ReadAt};

/// EWF v1 (`EVF`) and logical (`LVF`) signatures; EWF2 (`EVF2`) as well.
const SIGNATURES: [&[u8]; 3] = [
    b"EVF\x09\x0d\x0a\xff\x00",
    b"LVF\x09\x0d\x0a\xff\x00",
    b"EVF2\x0d\x0a\x81\x00",
];

/// Size of the EWF v1 file header and of a section descriptor.
const FILE_HEADER_LEN: u64 = 13;
const SECTION_DESCRIPTOR_LEN: u64 = 76;
/// A bound on sections per segment so a looping chain cannot spin forever.
const MAX_SECTIONS: usize = 1 << 20;

/// True if `magic` starts an EWF segment.
pub fn is_ewf_signature(magic: &[u8]) -> bool {
    SIGNATURES.iter().any(|s| magic.starts_with(s))
}

/// Case metadata and hashes stored in the E01 by the acquisition tool.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct EwfDetails {
    /// Stored MD5 of the media, hex.
    pub stored_md5: Option<String>,
    /// Stored SHA-1 of the media, hex.
    pub stored_sha1: Option<String>,
    /// Case number.
    pub case_number: Option<String>,
    /// Evidence number.
    pub evidence_number: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Examiner name.
    pub examiner: Option<String>,
    /// Notes.
    pub notes: Option<String>,
    /// Acquisition software.
    pub acquiry_software: Option<String>,
    /// Acquisition date as stored.
    pub acquiry_date: Option<String>,
    /// Bytes per chunk.
    pub chunk_size: u64,
    /// Sectors the acquisition tool could not read.
    pub acquisition_error_ranges: usize,
    /// Damage to the segment set that leaves only its start readable.
    pub damage: Option<String>,
}

/// The `ewf` reader behind our `ReadAt`.
pub struct EwfImage {
    reader: ewf::EwfReader,
    /// Bytes the chunk tables describe: the media up to the damage of an
    /// incomplete set. Reads past it fail, they never give zeros.
    readable: u64,
    /// Why, for the read errors past it.
    damage: Option<String>,
    /// Checksums of the uncompressed chunks (`None` for EWF2, where the crate's
    /// chunk view does not hold them).
    chunks: Option<super::chunk_check::ChunkCheck>,
    /// The media's size: the volume section's, unless that is past any disk's.
    total: u64,
    /// Bytes of the segment files of an EWF1 set (deflate only; EWF2's bzip2
    /// expands further, so its sets are not held to [`MAX_EXPANSION`]).
    stored: Option<u64>,
}

/// Largest media size taken as stated (1 EiB, past any disk).
const MAX_MEDIA_SIZE: u64 = 1 << 60;

/// Media bytes an E01 set may present per byte of its segments. Deflate cannot
/// expand one byte into more than about 1 032 (a chunk of zeros stores as about
/// 1/600 of itself with its table entry), so a set presenting more repeats chunks
/// or states a size nothing stores: a bomb, not a disk.
const MAX_EXPANSION: u64 = 2048;

impl ReadAt for EwfImage {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        if offset < self.total() && offset.saturating_add(buf.len() as u64) > self.readable {
            if offset >= self.readable {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "E01 offset {offset}: lies in the missing or truncated part of the \
                         segment set ({})",
                        self.damage.as_deref().unwrap_or("chunk tables incomplete")
                    ),
                ));
            }
            let n = (self.readable - offset) as usize;
            return self.read_at(&mut buf[..n], offset);
        }
        if let Some(chunks) = &self.chunks {
            chunks
                .check_range(&self.reader, offset, buf.len() as u64)
                .map_err(|why| io::Error::new(io::ErrorKind::InvalidData, why))?;
        }
        self.reader.read_at(buf, offset).map_err(|e| {
            // Name the chunks, so a report says what was lost however it was read.
            let size = self.reader.chunk_size().max(1);
            let first = offset / size;
            let last = offset.saturating_add(buf.len().max(1) as u64 - 1) / size;
            let chunks = if first == last {
                format!("chunk {first}")
            } else {
                format!("chunks {first}-{last}")
            };
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("E01 {chunks} (media offset {offset}): {e}"),
            )
        })
    }

    fn len(&self) -> u64 {
        self.total()
    }

    fn unbacked_problem(&self) -> Option<String> {
        // The lost part of an incomplete set is passed over already (its
        // unreadable range); what the chunk tables reach must be stored somewhere.
        super::unstored_beyond(self.readable, self.stored?, MAX_EXPANSION)
    }

    fn unreadable_ranges(&self) -> Vec<std::ops::Range<u64>> {
        let lost = self.readable..self.total();
        if lost.is_empty() {
            Vec::new()
        } else {
            Vec::from([lost])
        }
    }
}

impl EwfImage {
    fn total(&self) -> u64 {
        self.total
    }
}

/// Files the rest of a scan may hold open beside an E01 set's segments (tables,
/// logs, other images of a batch read at the same time).
const HANDLES_BESIDE_SEGMENTS: u64 = 64;

/// Opens an E01 set from its first segment after checking every segment's structure.
pub fn open(first: &Path) -> Result<(EwfImage, EwfDetails, Vec<PathBuf>), EvidenceError> {
    let fail = |reason: String| EvidenceError::Ewf {
        path: first.to_path_buf(),
        reason,
    };
    let (mut segments, mut damage) = segment_set(first).map_err(|e| fail(e.to_string()))?;
    // Every segment is held open (once) while the set is read: a set larger than
    // the process may open is refused by name, not by a bare "too many open files".
    if let Some(limit) = super::open_file_limit() {
        if segments.len() as u64 + HANDLES_BESIDE_SEGMENTS > limit {
            return Err(fail(format!(
                "the set has {} segments, and this process may open {limit} files \
                 (`ulimit -n`, raised to the hard limit at start): raise the hard limit",
                segments.len()
            )));
        }
    }
    let is_v1 = {
        let mut magic = [0u8; 8];
        let file = File::open(first).map_err(|error| EvidenceError::Io {
            path: first.to_path_buf(),
            error,
        })?;
        file.read_exact_at(&mut magic, 0)
            .map_err(|e| fail(format!("cannot read signature: {e}")))?;
        !magic.starts_with(SIGNATURES[2])
    };
    // Damage to the last segment (cut short, or the set ends before its `done`)
    // leaves everything before it readable: that part is served and the rest of
    // the media fails to read. A damaged or misplaced segment before the last (a
    // broken section chain, another segment's copy) loses the chunk tables of what
    // follows: the set is read up to it, like a set whose later segments are
    // missing. Only a damaged first segment refuses the set.
    if is_v1 {
        // A later segment given in place of the first: say which to give.
        if let Err(e) = segment_number(first, 1) {
            let ext = first.extension().and_then(|e| e.to_str()).unwrap_or("");
            let hint = later_segment_firsts(ext)
                .into_iter()
                .map(|f| first.with_extension(f))
                .find(|p| p.is_file())
                .map(|p| format!("; give the set's first segment, {}", file_name(&p)))
                .unwrap_or_default();
            return Err(fail(format!("{e}{hint}")));
        }
        let mut index = 0;
        // The first segment's media values, which every later one must repeat.
        let mut set_media: Option<MediaValues> = None;
        while index < segments.len() {
            let segment = &segments[index];
            let is_last = index == segments.len() - 1 && damage.is_none();
            // The first segment's number was checked above.
            let numbered = if index == 0 {
                Ok(())
            } else {
                segment_number(segment, index + 1)
            };
            // A segment that is not this set's (misnumbered, or of another
            // acquisition) is never read, even as the last: its chunks are not
            // this disk's. Damage to the last segment's own chain keeps what it
            // holds before the damage.
            let (checked, foreign) = match numbered {
                Err(e) => (Err(e), true),
                Ok(()) => match check_segment_chain(segment, is_last) {
                    Err(e) => (Err(e), false),
                    Ok(media) => (same_acquisition(segment, &mut set_media, media), true),
                },
            };
            match checked {
                Ok(()) => index += 1,
                Err(e) if is_last && !foreign && !e.contains("more segments follow") => {
                    damage = Some(e);
                    break;
                }
                Err(e) if index == 0 => return Err(fail(e)),
                Err(e) => {
                    damage = Some(format!(
                        "{e}; the set is read up to {}",
                        file_name(&segments[index - 1])
                    ));
                    segments.truncate(index);
                    break;
                }
            }
        }
    }
    // EWF v1 segments are opened once and shared by the crate's reader and our
    // chunk checks (one handle per segment, not two: see the limit above).
    let (reader, shared) = if is_v1 {
        let files = open_shared(&segments).map_err(&fail)?;
        let sources = files
            .iter()
            .map(|(file, len)| ewf::SegmentSource::sub(Arc::clone(file), 0, *len))
            .collect();
        let reader = ewf::EwfReader::open_from_sources(sources).map_err(|e| fail(e.to_string()))?;
        (reader, files.into_iter().map(|(file, _)| file).collect())
    } else {
        let reader = ewf::EwfReader::open_segments(&segments).map_err(|e| fail(e.to_string()))?;
        (reader, Vec::new())
    };
    let chunk_size = reader.chunk_size();
    let covered = (reader.chunk_count() as u64).saturating_mul(chunk_size);
    // A stated size past any disk's (the volume section's sector count times its
    // sector size, which the crate saturates at 2^64) is no media size: the set
    // is read as far as its chunk tables reach, and the claim is damage.
    let stated = reader.total_size();
    let total = if stated > MAX_MEDIA_SIZE {
        damage = Some(format!(
            "{}the volume section states {stated} bytes of media, more than any disk: \
             read as the {covered} bytes its chunk tables reach",
            damage.map(|d| format!("{d}; ")).unwrap_or_default()
        ));
        covered
    } else {
        stated
    };
    let readable = covered.min(total);
    if chunk_size == 0 || readable == 0 {
        return Err(fail(format!(
            "chunk table covers {covered} bytes but the media is {total} bytes: segments missing or truncated"
        )));
    }
    if readable < total {
        damage = Some(format!(
            "{}: media bytes {readable}..{total} ({} bytes) cannot be read, only the \
             first {readable} of the media's {total}",
            damage.unwrap_or_else(|| "chunk tables incomplete".into()),
            total - readable,
        ));
    }
    let meta = reader.metadata().clone();
    let hashes = reader.stored_hashes();
    let details = EwfDetails {
        // All zeros is no hash (acquisition tools write it when they computed
        // none, and a zeroed hash section reads so); libewf says "N/A" for it.
        stored_md5: hashes
            .md5
            .filter(|h| h.iter().any(|&b| b != 0))
            .map(|h| super::hex(&h)),
        stored_sha1: hashes
            .sha1
            .filter(|h| h.iter().any(|&b| b != 0))
            .map(|h| super::hex(&h)),
        case_number: meta.case_number,
        evidence_number: meta.evidence_number,
        description: meta.description,
        examiner: meta.examiner,
        notes: meta.notes,
        acquiry_software: meta.acquiry_software,
        acquiry_date: meta.acquiry_date,
        chunk_size,
        acquisition_error_ranges: reader.acquisition_errors().len(),
        damage: damage.clone(),
    };
    let chunks = if is_v1 {
        Some(super::chunk_check::ChunkCheck::new(
            shared,
            chunk_size,
            reader.chunk_count(),
            total,
        ))
    } else {
        None
    };
    // A segment that cannot be measured counts as empty: the bound only gets stricter.
    let stored = is_v1.then(|| {
        segments
            .iter()
            .filter_map(|s| std::fs::metadata(s).ok())
            .fold(0u64, |sum, m| sum.saturating_add(m.len()))
    });
    let image = EwfImage {
        reader,
        readable,
        damage,
        chunks,
        total,
        stored,
    };
    Ok((image, details, segments))
}

/// Opens every segment read-only, with its length, to be shared.
fn open_shared(segments: &[PathBuf]) -> Result<Vec<(Arc<File>, u64)>, String> {
    segments
        .iter()
        .map(|path| {
            let name = file_name(path);
            let file = File::open(path).map_err(|e| format!("{name}: {e}"))?;
            let len = file.metadata().map_err(|e| format!("{name}: {e}"))?.len();
            Ok((Arc::new(file), len))
        })
        .collect()
}

/// The segment files of the set `first` starts: `.E01 … .E99`, `.EAA … .EZZ`, then
/// `.FAA …` (same for `.L01`, `.s01`, `.Ex01`: see [`segment_extension`]),
/// stopping at the first name that does not exist; with a note when a later segment
/// exists beyond that gap (the set is read up to it).
fn segment_set(first: &Path) -> io::Result<(Vec<PathBuf>, Option<String>)> {
    let ext = first.extension().and_then(|e| e.to_str()).unwrap_or("");
    // `E01` keeps one letter of prefix, EWF2's `Ex01` keeps two.
    let prefix = match ext.len() {
        3 | 4 if ext.is_ascii() => &ext[..ext.len() - 2],
        _ => return Ok((vec![first.to_path_buf()], None)),
    };
    let name = |number| segment_extension(prefix, number).map(|e| first.with_extension(e));
    let exists = |number| name(number).is_some_and(|path| path.is_file());
    let mut set = vec![first.to_path_buf()];
    let mut number = 2;
    while let Some(path) = name(number).filter(|path| path.is_file()) {
        set.push(path);
        number += 1;
    }
    // A later segment beyond a gap means one in the middle is missing; say which.
    let gap = (number + 1..=number + 8)
        .find(|&n| exists(n))
        .and_then(|later| {
            Some(format!(
                "segment {} is missing ({} exists); the set is read up to {}",
                file_name(&name(number)?),
                file_name(&name(later)?),
                file_name(&name(number - 1)?)
            ))
        });
    Ok((set, gap))
}

/// Checks that EWF v1 segment `path` says it is segment `expected` (its file
/// header's 16-bit number after the signature): a copy of another segment, or one
/// from another set numbered otherwise, would shift every chunk after it.
fn segment_number(path: &Path, expected: usize) -> Result<(), String> {
    let name = file_name(path);
    let file = File::open(path).map_err(|e| format!("{name}: {e}"))?;
    let mut header = [0u8; FILE_HEADER_LEN as usize];
    file.read_exact_at(&mut header, 0)
        .map_err(|e| format!("{name}: file header unreadable: {e}"))?;
    let number = usize::from(u16::from_le_bytes([header[9], header[10]]));
    if number != expected {
        return Err(format!(
            "{name}: its header says segment {number}, expected {expected}"
        ));
    }
    Ok(())
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// The extension of segment `number` of a set whose first segment is `.{prefix}01`,
/// as EnCase and libewf number them: `E02 … E99`, then two letters (`EAA … EZZ`),
/// then the prefix's last letter counts on (`FAA … ZZZ`; EWF2's `Ex01` goes
/// `ExAA … EzZZ`). The letters take the case of the prefix's first character
/// (`s01` sets go `saa`). `None` past the last name the scheme has.
fn segment_extension(prefix: &str, number: usize) -> Option<String> {
    if number <= 99 {
        return Some(format!("{prefix}{number:02}"));
    }
    let (head, counting) = prefix.split_at(prefix.len().checked_sub(1)?);
    let counting = *counting.as_bytes().first()?;
    let letter = if prefix.starts_with(|c: char| c.is_ascii_lowercase()) {
        b'a'
    } else {
        b'A'
    };
    let n = number - 100;
    let lead = counting.checked_add(u8::try_from(n / (26 * 26)).ok()?)?;
    let last_lead = if counting.is_ascii_lowercase() {
        b'z'
    } else {
        b'Z'
    };
    if !counting.is_ascii_alphabetic() || lead > last_lead {
        return None;
    }
    let pair = [letter + (n / 26 % 26) as u8, letter + (n % 26) as u8];
    Some(format!(
        "{head}{}{}{}",
        char::from(lead),
        char::from(pair[0]),
        char::from(pair[1])
    ))
}

/// The prefixes EWF sets are named with: EnCase's `E01`, logical `L01`, SMART `s01`,
/// the old EWF `e01`, and EWF2's `Ex01`, `Lx01`.
const SET_PREFIXES: &[&str] = &["E", "L", "s", "e", "Ex", "Lx"];

/// For the extension of a later segment of an EWF set (`E02`, `EAA`, `FAA`,
/// `Ex02`), the names the set's first segment may have (`E01`; `MAA` is segment
/// 5 508 of an `E01` set or 776 of an `L01` one). A digit-numbered segment's
/// first may be named in either case (`e02` beside `E01`, as a case-folding copy
/// leaves them); a letter-numbered one's is named in the case of its letters, so
/// `raw`, which names a segment of an old lower-case `e01` set, is not taken for
/// one beside an `E01`. None for any other extension, a first segment's included.
pub fn later_segment_firsts(ext: &str) -> Vec<String> {
    let mut firsts = Vec::new();
    for prefix in SET_PREFIXES {
        match segment_number_of(prefix, ext) {
            Some(2..=99) => {
                let first = format!("{prefix}01");
                let other_case = if first.starts_with(|c: char| c.is_ascii_lowercase()) {
                    first.to_ascii_uppercase()
                } else {
                    first.to_ascii_lowercase()
                };
                firsts.extend([first, other_case]);
            }
            Some(100..) => firsts.push(format!("{prefix}01")),
            _ => {}
        }
    }
    firsts.dedup();
    firsts
}

/// The inverse of [`segment_extension`]: which segment `ext` names in a set of
/// `prefix`, checked by naming that segment again.
fn segment_number_of(prefix: &str, ext: &str) -> Option<usize> {
    let counting_at = prefix.len().checked_sub(1)?;
    if ext.len() != prefix.len() + 2
        || !ext.is_ascii()
        || ext[..counting_at] != prefix[..counting_at]
    {
        return None;
    }
    let pair = &ext.as_bytes()[prefix.len()..];
    let number = if pair.iter().all(u8::is_ascii_digit) {
        usize::from(pair[0] - b'0') * 10 + usize::from(pair[1] - b'0')
    } else {
        let letter = |b: u8| {
            let base = if b.is_ascii_lowercase() { b'a' } else { b'A' };
            b.is_ascii_alphabetic().then(|| usize::from(b - base))
        };
        let carry =
            usize::from(ext.as_bytes()[counting_at].checked_sub(prefix.as_bytes()[counting_at])?);
        100 + carry * 26 * 26 + letter(pair[0])? * 26 + letter(pair[1])?
    };
    (segment_extension(prefix, number).as_deref() == Some(ext)).then_some(number)
}

/// Walks the section descriptors of one EWF v1 segment and checks how it ends.
/// The start of a `volume`, `disk` or `data` section's body: media type, chunk
/// count, sectors per chunk, bytes per sector, sector count, geometry, flags,
/// compression, error granularity and (at 64) the set identifier GUID.
type MediaValues = [u8; MEDIA_VALUES_LEN];
const MEDIA_VALUES_LEN: usize = 80;

/// Checks that a later segment's `data` section repeats the media values of the
/// first segment's `volume` section. A segment from another acquisition numbered
/// like the missing one passes the number check, and its chunks would be read as
/// this disk's: libewf reads such a set too, and only the stored hash tells. Two
/// acquisitions of one size by one tool (whose set identifier is zero, as
/// ewfacquire leaves it) still agree here; a different size, chunking or set
/// identifier does not. A segment without such a section is not compared.
fn same_acquisition(
    path: &Path,
    set: &mut Option<MediaValues>,
    segment: Option<MediaValues>,
) -> Result<(), String> {
    match (set.as_ref(), segment) {
        (None, found) => *set = found,
        (Some(first), Some(found)) if *first != found => {
            return Err(format!(
                "{}: its media values (size, chunking or set identifier) differ from the \
                 first segment's: a segment of another acquisition",
                file_name(path)
            ))
        }
        _ => {}
    }
    Ok(())
}

/// Walks segment `path`'s section chain to its `next` or `done`, returning the
/// media values of its `volume`, `disk` or `data` section when it has one.
fn check_segment_chain(path: &Path, is_last: bool) -> Result<Option<MediaValues>, String> {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let file = File::open(path).map_err(|e| format!("{name}: {e}"))?;
    let size = file.metadata().map_err(|e| format!("{name}: {e}"))?.len();
    let mut offset = FILE_HEADER_LEN;
    let mut media = None;
    for _ in 0..MAX_SECTIONS {
        // `offset` is a stated `next`: it may be anywhere up to u64::MAX.
        if offset.saturating_add(SECTION_DESCRIPTOR_LEN) > size {
            return Err(format!(
                "{name}: segment truncated: section at offset {offset} lies past the end of the file ({size} bytes)"
            ));
        }
        let mut descriptor = [0u8; SECTION_DESCRIPTOR_LEN as usize];
        file.read_exact_at(&mut descriptor, offset)
            .map_err(|e| format!("{name}: {e}"))?;
        let kind = section_type(&descriptor);
        let next = u64::from_le_bytes(descriptor[16..24].try_into().unwrap_or_default());
        let section_size = u64::from_le_bytes(descriptor[24..32].try_into().unwrap_or_default());
        let holds_media = section_size >= SECTION_DESCRIPTOR_LEN + MEDIA_VALUES_LEN as u64;
        if media.is_none() && holds_media && matches!(kind.as_str(), "volume" | "disk" | "data") {
            let mut values = [0u8; MEDIA_VALUES_LEN];
            // An unreadable body is left to the reader to refuse.
            if file
                .read_exact_at(&mut values, offset + SECTION_DESCRIPTOR_LEN)
                .is_ok()
            {
                media = Some(values);
            }
        }
        match kind.as_str() {
            "done" if is_last => return Ok(media),
            "done" => {
                return Err(format!(
                    "{name}: segment ends the set ('done') but more segments follow"
                ))
            }
            "next" if is_last => {
                return Err(format!(
                    "segment set incomplete: {name} says another segment follows, but it is missing"
                ))
            }
            "next" => return Ok(media),
            _ => {}
        }
        if next <= offset {
            return Err(format!(
                "{name}: damaged section chain: '{kind}' at offset {offset} points back to {next}"
            ));
        }
        offset = next;
    }
    Err(format!("{name}: too many sections"))
}

fn section_type(descriptor: &[u8]) -> String {
    let raw = descriptor.get(..16).unwrap_or_default();
    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    String::from_utf8_lossy(&raw[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_follow_encase_numbering() {
        let ext = |prefix, n| segment_extension(prefix, n);
        assert_eq!(ext("E", 2).as_deref(), Some("E02"));
        assert_eq!(ext("E", 99).as_deref(), Some("E99"));
        assert_eq!(ext("E", 100).as_deref(), Some("EAA"));
        assert_eq!(ext("E", 126).as_deref(), Some("EBA"));
        assert_eq!(ext("E", 775).as_deref(), Some("EZZ"));
        // After EZZ the first letter counts on, as ewfacquire names a larger set.
        assert_eq!(ext("E", 776).as_deref(), Some("FAA"));
        assert_eq!(ext("E", 1136).as_deref(), Some("FNW"));
        assert_eq!(ext("E", 100 + 22 * 676 - 1).as_deref(), Some("ZZZ"));
        assert_eq!(ext("E", 100 + 22 * 676), None);
        assert_eq!(ext("s", 101).as_deref(), Some("sab"));
        assert_eq!(ext("L", 776).as_deref(), Some("MAA"));
        // EWF2: the `x` counts on.
        assert_eq!(ext("Ex", 100).as_deref(), Some("ExAA"));
        assert_eq!(ext("Ex", 776).as_deref(), Some("EyAA"));
        assert_eq!(ext("Ex", 100 + 3 * 676), None);
        assert_eq!(ext("9", 100), None);
    }

    #[test]
    fn later_segments_name_their_first() {
        let first = |ext| later_segment_firsts(ext);
        assert_eq!(first("E02"), ["E01", "e01"]);
        assert_eq!(first("e02"), ["e01", "E01"]);
        assert_eq!(first("EAA"), ["E01"]);
        assert_eq!(first("FNW"), ["E01"]);
        assert_eq!(first("ZZZ"), ["E01", "L01"]);
        assert_eq!(first("MAA"), ["E01", "L01"]);
        assert_eq!(first("sab"), ["s01", "e01"]);
        assert_eq!(first("raw"), ["e01"]);
        assert_eq!(first("Ex02"), ["Ex01", "ex01"]);
        assert_eq!(first("EyAA"), ["Ex01"]);
        for not_later in [
            "E01", "Ex01", "E00", "DAA", "E1", "EaA", "Fa1", "vmdk", "001",
        ] {
            assert!(first(not_later).is_empty(), "{not_later}");
        }
        // Every name the scheme gives maps back to its first segment.
        for n in 2..100 + 22 * 676 {
            let ext = segment_extension("E", n).unwrap();
            assert_eq!(segment_number_of("E", &ext), Some(n), "{ext}");
        }
    }

    #[test]
    fn a_set_past_ezz_is_found_whole() {
        let dir = std::env::temp_dir().join(format!("toolmark-segments-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let count = 800;
        for n in 1..=count {
            let name = dir
                .join("img")
                .with_extension(segment_extension("E", n).unwrap());
            std::fs::write(name, b"").unwrap();
        }
        let (set, gap) = segment_set(&dir.join("img.E01")).unwrap();
        assert_eq!(set.len(), count);
        assert!(set[count - 1].ends_with("img.FAY"), "{:?}", set.last());
        assert_eq!(gap, None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
