//! Event logs (EVTX) through the `evtx` crate, flattened into one record per event.
//!
//! The crate parses each chunk on its worker threads, and each record is flattened
//! there too, one of two ways. The fast path (`plan`) takes a record that is one
//! template instance of a simple shape (System facts, `EventData` of `Data`, or
//! `UserData`'s one element, inline or nested as BinXML in the event's last value):
//! our own readers of the template definition (`template`) and of the instance
//! (`instance`) map its substitution values straight to our fields, each template
//! compiled once per chunk (64 templates a chunk at most). Every other record is rendered by the crate as compact
//! JSON and pulled value by value ([`super::json_pull`]) into our flat
//! [`EventRecord`] (no tree of values is built; see `flatten`). Both give the same
//! record, field by field: `compare_paths` checks that on every record of the
//! corpus's 393 logs (94.4 % of 53 340 records take the fast path: Security 99.9 %,
//! Sysmon 100 %, System 95.4 %) and in the `evtx` fuzz target. Over the corpus
//! host's 94 logs it took a `--jobs 1` scan from 3.00 G instructions to 2.45 G
//! (callgrind), and a scan of the bench's 940 logs by 13 % of its wall time (1.27×
//! `evtx_dump -t 1` at one thread, 0.88× `-t 2` at two). We keep the `System` facts every
//! analysis needs (channel, provider, event id, record id, time, computer) and the
//! event's own fields (`EventData`, else the first element of `UserData`, else the
//! children of whatever else the event holds, such as `ProcessingErrorData`) as
//! ordered name/value pairs, so nothing is lost and the lateral-movement columns can
//! be picked by name.
//!
//! Reading a log on one thread (as a scan does: its parallelism is across logs), the
//! chunks are read by us, in the crate's order, into one buffer (`chunks`: the
//! crate's iterator zeroes a fresh buffer per chunk and tests never-written chunks
//! byte by byte), and a chunk whose checksums hold and whose records all take the
//! fast path is walked by us, record header by record header, and never by the
//! crate, whose walk builds each record's tree first (`chunk_records`): 2.457 G to
//! 2.197 G instructions over the corpus host's 94 logs, and the chunk reading 7.8 %
//! more. Any other chunk is the crate's to walk, as on more threads, and both read
//! every corpus log alike (`one_thread_reads_every_corpus_log_as_the_crates_walk_does`).
//! The read also tells the unused-space pass which chunks it need not read again
//! ([`LogStats::written_end`], [`LogStats::quiet`]).
//!
//! A record's identity comes from the event itself (`System/EventRecordID`,
//! `System/TimeCreated/@SystemTime`), not from the record header: logs exported with
//! Event Viewer or `wevtutil epl` renumber the headers and sometimes zero their
//! times. Where the header says otherwise it is kept beside. A record the crate
//! cannot parse is counted and reported, and the rest of the file is still read.

use std::io::{Read, Seek, SeekFrom};
use std::sync::Arc;

use super::json_pull::Pull;
use super::CollectError;
use crate::output::json::push_str as push_json_str;

use evtx::{
    ChunkFlags, EvtxChunk, EvtxChunkData, EvtxChunkHeader, EvtxParser, EvtxRecord, ParserSettings,
};

pub use compare::{compare_paths, Comparison};

pub mod chunks;
mod compare;
#[cfg(test)]
pub(crate) mod equivalence;
mod flatten;
mod instance;
mod plan;
mod template;
mod value;

/// One event record.
#[derive(Clone, Debug, Default)]
pub struct EventRecord {
    /// `System/EventRecordID` (the record header's id when the event has none; see
    /// `problem`).
    pub record_id: u64,
    /// `System/TimeCreated/@SystemTime` as ISO-8601 UTC with 100 ns digits; empty
    /// when the event has no usable time (see `problem`), never 1601-01-01.
    pub time: String,
    /// `Channel`, e.g. `Security`.
    pub channel: String,
    /// `Provider/@Name`.
    pub provider: String,
    /// `Provider/@EventSourceName`, which classic (pre-Vista style) providers set.
    pub event_source: String,
    /// `EventID` (without qualifiers).
    pub event_id: u32,
    /// `Computer`.
    pub computer: String,
    /// `Level`.
    pub level: String,
    /// `Security/@UserID`, when present.
    pub user_sid: String,
    /// Event fields in document order: `EventData/Data[@Name]`, `UserData/*/*`, or
    /// the children of the event's other elements (`ProcessingErrorData/*`, ...).
    pub fields: Vec<(String, String)>,
    /// The record header's id, when it differs from `record_id`.
    pub header_record_id: Option<u64>,
    /// The record header's time (same format as `time`), when it differs from `time`.
    pub header_time: Option<String>,
    /// Why `record_id` or `time` is not the event's own, when it is not.
    pub problem: Option<String>,
    /// Whether the checksums of the chunk the record was read from hold: `None` when
    /// the chunk says it has none.
    pub chunk_verified: Option<bool>,
}

impl EventRecord {
    /// The value of a field by exact name.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A record's field names and values as JSON strings (quotes included), escaped
/// once for the two outputs that carry them as JSON: the `event_data` cell
/// ([`EscapedFields::object`]) and the observations line ([`EscapedFields::pairs`]).
/// (Escaping every field twice cost 2 % of an event-log scan's instructions.)
#[derive(Debug, Default)]
pub struct EscapedFields {
    /// Every field as a JSON array `["name","value"]`, the arrays comma-separated:
    /// the observations line's `fields` as it is written.
    text: String,
    /// Where each field's escaped name starts and ends and its value ends in
    /// `text` (the value starts one byte, the comma, after the name).
    spans: Vec<[usize; 3]>,
    /// Whether some name or value holds a quote (escaped as `\"` in `text`).
    inner_quotes: bool,
    /// Whether some name occurs twice (then the object keeps one entry for it).
    repeats: bool,
}

impl EscapedFields {
    /// Escapes `fields` (in order, repeats kept).
    pub fn new(fields: &[(String, String)]) -> Self {
        let size: usize = fields.iter().map(|(n, v)| n.len() + v.len() + 8).sum();
        let mut text = String::with_capacity(size);
        let mut spans: Vec<[usize; 3]> = Vec::with_capacity(fields.len());
        let mut inner_quotes = false;
        let mut push = |text: &mut String, s: &str| {
            let at = text.len();
            push_json_str(text, s);
            // Only a string that needed escaping can hold a quote.
            inner_quotes |= text.len() - at != s.len() + 2 && s.contains('"');
            text.len()
        };
        // Names seen, by a 6-bit hash: only a name whose bit is already set is
        // compared with the names before it (a repeat is rare, a collision cheap).
        let mut seen = 0u64;
        let mut repeats = false;
        for (name, value) in fields {
            if !spans.is_empty() {
                text.push(',');
            }
            text.push('[');
            let name_start = text.len();
            let name_end = push(&mut text, name);
            text.push(',');
            let value_end = push(&mut text, value);
            text.push(']');
            let bit = 1u64 << name_hash(name);
            if seen & bit != 0 && !repeats {
                let escaped = &text[name_start..name_end];
                repeats = spans.iter().any(|&[s, e, _]| &text[s..e] == escaped);
            }
            seen |= bit;
            spans.push([name_start, name_end, value_end]);
        }
        EscapedFields {
            text,
            spans,
            inner_quotes,
            repeats,
        }
    }

    /// The escaped name and value of each field, in order.
    fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.spans.iter().map(move |&[name_start, name_end, end]| {
            (
                &self.text[name_start..name_end],
                &self.text[name_end + 1..end],
            )
        })
    }

    /// All fields as one compact JSON object (names in document order; a name that
    /// repeats keeps its first place and its last value, as a JSON map would).
    pub fn object(&self) -> String {
        let mut out = String::with_capacity(self.text.len() + 2);
        self.write_object(&mut out, String::push_str);
        out
    }

    /// [`EscapedFields::object`] as the CSV field it makes (`"{""name"":""value""}"`,
    /// or `{}` with no field: nothing to quote), written in one pass instead of the
    /// JSON text and then its quoting.
    pub fn csv_object(&self) -> String {
        if self.spans.is_empty() {
            return "{}".into();
        }
        // Each name and value brings two quotes of its own, doubled.
        let size = self.text.len() + 4 * self.spans.len() + 4;
        let mut out = String::with_capacity(size);
        out.push('"');
        let piece = |out: &mut String, piece: &str| {
            let inner = &piece[1..piece.len() - 1];
            out.push_str("\"\"");
            if self.inner_quotes {
                out.push_str(&inner.replace('"', "\"\""));
            } else {
                out.push_str(inner);
            }
            out.push_str("\"\"");
        };
        if self.repeats {
            self.write_object(&mut out, piece);
        } else {
            // No name repeats: every field in order, nothing to look up.
            out.push('{');
            for (i, (name, value)) in self.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                piece(&mut out, name);
                out.push(':');
                piece(&mut out, value);
            }
            out.push('}');
        }
        out.push('"');
        out
    }

    /// Writes the object, each escaped name and value through `piece`; a name that
    /// repeats keeps its first place and its last value. Escaping is one-to-one, so
    /// escaped names are equal when the names are.
    fn write_object(&self, out: &mut String, mut piece: impl FnMut(&mut String, &str)) {
        out.push('{');
        let mut first = true;
        let mut write = |out: &mut String, name: &str, value: &str| {
            if !first {
                out.push(',');
            }
            first = false;
            piece(out, name);
            out.push(':');
            piece(out, value);
        };
        let fields: Vec<(&str, &str)> = self.iter().collect();
        if fields.len() <= 32 {
            for (i, &(name, value)) in fields.iter().enumerate() {
                if fields[..i].iter().any(|(n, _)| *n == name) {
                    continue;
                }
                let last = fields[i + 1..]
                    .iter()
                    .rev()
                    .find(|(n, _)| *n == name)
                    .map_or(value, |(_, v)| v);
                write(out, name, last);
            }
        } else {
            let mut last = std::collections::HashMap::with_capacity(fields.len());
            for (i, (name, _)) in fields.iter().enumerate() {
                last.insert(*name, i);
            }
            let mut seen = std::collections::HashSet::with_capacity(fields.len());
            for (name, _) in &fields {
                if seen.insert(*name) {
                    write(out, name, fields[last[name]].1);
                }
            }
        }
        out.push('}');
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether there is no field.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Each field's escaped name (quotes included), in order.
    pub fn names(&self) -> impl Iterator<Item = &str> + '_ {
        self.iter().map(|(name, _)| name)
    }

    /// Each field's escaped value (quotes included), in order.
    pub fn values(&self) -> impl Iterator<Item = &str> + '_ {
        self.iter().map(|(_, value)| value)
    }

    /// Appends every field as a JSON array `[name,value]`, comma-separated, repeats
    /// and order kept.
    pub fn pairs(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.text.as_bytes());
    }
}

/// A 6-bit hash of a field name (its length and last byte: names of one record
/// mostly differ in one or the other).
fn name_hash(name: &str) -> u32 {
    let last = name.as_bytes().last().copied().unwrap_or_default();
    let mixed = (name.len() as u64 * 31 + u64::from(last)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (mixed >> 58) as u32
}

/// Counts from reading one log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogStats {
    /// Records read.
    pub records: u64,
    /// Records (or chunks) that could not be parsed.
    pub errors: u64,
    /// Where the log's written chunks end (past them, only chunks of zeros), when
    /// the read saw every chunk; `None` otherwise (and on more than one thread).
    pub written_end: Option<u64>,
    /// The chunks read whose unused space holds no record (none on more than one
    /// thread).
    pub quiet: chunks::Quiet,
    /// The chunk count the file header states (on one thread), for the caller to
    /// compare with the file's size: a file shorter than that was cut short.
    pub stated_chunks: Option<u16>,
}

/// A record as the worker threads hand it over: flattened, or why not.
type Converted = Result<EventRecord, String>;

impl LogStats {
    /// The loss when a log file of `file_length` bytes (its stated size, holes
    /// included) is shorter than its header's chunk count needs: a copy cut at a
    /// chunk boundary, or before any chunk, reads as a shorter log otherwise.
    pub fn cut_short(&self, file_length: u64) -> Option<String> {
        let stated = u64::from(self.stated_chunks?);
        let needed = 4096 + stated * evtx_carve::CHUNK_SIZE as u64;
        (file_length < needed).then(|| {
            format!(
                "the file header counts {stated} chunks ({needed} bytes) but the file has \
                 {file_length}: the log was cut short, and what the missing chunks held is lost"
            )
        })
    }

    /// Counts one converted record and hands it on, or its error.
    fn deliver(
        &mut self,
        record: evtx::err::Result<Converted>,
        on_record: &mut dyn FnMut(EventRecord),
        on_error: &mut dyn FnMut(String),
    ) {
        match record {
            Ok(Ok(r)) => {
                self.records += 1;
                on_record(r);
            }
            Ok(Err(e)) => {
                self.errors += 1;
                on_error(e);
            }
            Err(e) => {
                self.errors += 1;
                on_error(e.to_string());
            }
        }
    }
}

/// How we ask the crate to render: compact JSON, attributes under `#attributes`
/// (the form its compiled templates render fastest).
fn settings(threads: usize) -> ParserSettings {
    ParserSettings::new()
        .num_threads(threads.max(1))
        .separate_json_attributes(false)
        .indent(false)
}

/// Reads every record of an EVTX file, calling `on_record` for each, and
/// `on_error` for each record or chunk that fails. With `threads` > 1 the records
/// are rendered and flattened on that many worker threads, and still delivered
/// in order. A chunk on which the parser panics costs that chunk's records (an
/// error), not the log or the image.
pub fn read_log<R: Read + Seek + Send>(
    mut reader: R,
    threads: usize,
    on_record: &mut dyn FnMut(EventRecord),
    on_error: &mut dyn FnMut(String),
) -> Result<LogStats, CollectError> {
    let unreadable = |e: std::io::Error| CollectError::Unreadable(e.to_string());
    let not_a_log =
        |e: evtx::err::EvtxError| CollectError::NotTheFormat(format!("not an event log: {e}"));
    let length = reader.seek(SeekFrom::End(0)).map_err(unreadable)?;
    let chunks = length / evtx_carve::CHUNK_SIZE as u64;
    reader.rewind().map_err(unreadable)?;
    let mut stats = LogStats::default();
    let take = |item| match item {
        Ok(record) => stats.deliver(record, on_record, on_error),
        Err(Panicked { message, last }) => {
            stats.errors += 1;
            let then = if last {
                "the rest of the log is not read (as many panics as it can hold chunks)"
            } else {
                "the next chunks are still read"
            };
            on_error(format!(
                "the evtx parser panicked on a chunk ({message}); its records are lost, {then}"
            ));
        }
    };
    if threads > 1 {
        let mut parser = EvtxParser::from_read_seek(reader)
            .map_err(not_a_log)?
            .with_configuration(settings(threads));
        // The closure is cloned for each chunk, so the memo starts empty for each.
        let mut memo = ChunkMemo::default();
        let records =
            parser.serialized_records(move |record| record.and_then(|r| convert(r, &mut memo)));
        drain_contained(records, chunks + 1, take);
    } else {
        // One thread: the chunks are read by us (see `chunks`) and walked by us
        // where they can be (see `walk_fast`), by the crate where not. The crate
        // reads the file header, and counts the chunks from the block size it gives.
        let (block, stated_chunks) = {
            let parser = EvtxParser::from_read_seek(&mut reader).map_err(not_a_log)?;
            let header = parser.header();
            (header.header_block_size, header.chunk_count)
        };
        let count = length.saturating_sub(u64::from(block)) / evtx_carve::CHUNK_SIZE as u64;
        let settings = Arc::new(settings(1));
        let mut walk = chunks::Chunks::new(reader, count);
        let records = std::iter::from_fn(|| {
            let (number, header) = walk.step()?;
            Some(chunk_records(walk.data(), number, header, &settings))
        })
        .flatten();
        drain_contained(records, chunks + 1, take);
        // A log cut inside a chunk (a copy taken while it was written, an
        // interrupted collection) still holds the records before the cut: the
        // chunk is read from what is there, and the cut is said. Its checksum
        // covers bytes that are gone, so its records are not verified.
        if let Some((number, present, data)) = walk.cut_chunk() {
            on_error(format!(
                "the log ends {present} bytes into chunk {number} (of {}): cut short; \
                 the records before the cut are read, unverified",
                evtx_carve::CHUNK_SIZE
            ));
            stats.errors += 1;
            let records = match EvtxChunkHeader::from_bytes(&data) {
                Ok(header) => chunk_records(&data, number, Ok(header), &settings),
                Err(e) => vec![Err(chunks::chunk_error(
                    number,
                    evtx::err::ChunkError::FailedToParseChunkHeader(e),
                ))],
            };
            let take = |item| match item {
                Ok(record) => stats.deliver(record, on_record, on_error),
                Err(Panicked { message, .. }) => {
                    stats.errors += 1;
                    on_error(format!("the evtx parser panicked on a chunk ({message})"));
                }
            };
            drain_contained(records.into_iter(), 1, take);
        }
        stats.stated_chunks = Some(stated_chunks);
        stats.written_end = walk.written_end();
        stats.quiet = walk.quiet();
    }
    Ok(stats)
}

/// A panic caught while reading a log.
struct Panicked {
    /// What it said.
    message: String,
    /// Whether reading stops there (the bound on panics is reached).
    last: bool,
}

/// Hands every item of `items` to `take`, and a panic of `items.next()` as an
/// `Err`, then goes on with the next item, at most `panics` times.
///
/// The `evtx` crate is robust, but a live log is hostile input as much as a
/// carved chunk is: a panic in it must cost its chunk, not the image (a panic on
/// a worker thread is handed to the consumer's `next`). The crate's chunk walk
/// moves past a chunk before parsing it, so `next` after a panic goes on with the
/// next chunk; `panics` (the chunks the log can hold, and one) bounds the loop
/// should a panic ever come before that step.
fn drain_contained<T>(
    mut items: impl Iterator<Item = T>,
    panics: u64,
    mut take: impl FnMut(Result<T, Panicked>),
) {
    let mut left = panics;
    // One quiet region for the whole log, not one per record: the counter it
    // moves is shared by every thread.
    let _quiet = super::contain::QuietPanics::begin();
    loop {
        match super::contain::catch(|| items.next()) {
            Ok(Some(item)) => take(Ok(item)),
            Ok(None) => return,
            Err(message) => {
                left = left.saturating_sub(1);
                take(Err(Panicked {
                    message,
                    last: left == 0,
                }));
                if left == 0 {
                    return;
                }
            }
        }
    }
}

/// Parses one 64 KiB chunk found outside any log file (carved); its records are
/// rendered with the templates it holds. With `verify`, a chunk whose checksums
/// fail is refused; without, whatever the parser can read of it is rendered.
pub fn read_chunk(
    data: Vec<u8>,
    verify: bool,
    on_record: &mut dyn FnMut(EventRecord),
    on_error: &mut dyn FnMut(String),
) -> Result<LogStats, CollectError> {
    read_chunk_head(data, verify, usize::MAX, on_record, on_error)
}

/// [`read_chunk`] for the first `records` records of the chunk only (a sample:
/// the rest are not rendered).
pub fn read_chunk_head(
    data: Vec<u8>,
    verify: bool,
    records: usize,
    on_record: &mut dyn FnMut(EventRecord),
    on_error: &mut dyn FnMut(String),
) -> Result<LogStats, CollectError> {
    read_chunk_walking(data, verify, records, true, on_record, on_error)
}

/// [`read_chunk_head`], the chunk walked by us where it can be (`may_walk`, see
/// [`parsed_records`]) or by the crate only.
fn read_chunk_walking(
    data: Vec<u8>,
    verify: bool,
    records: usize,
    may_walk: bool,
    on_record: &mut dyn FnMut(EventRecord),
    on_error: &mut dyn FnMut(String),
) -> Result<LogStats, CollectError> {
    with_chunk(data, verify, |parsed| {
        let mut stats = LogStats::default();
        for record in parsed_records(parsed, records, may_walk) {
            stats.deliver(record, on_record, on_error);
        }
        stats
    })
}

/// Parses one chunk (refused when `verify` and its checksums fail) and hands it to
/// `read`.
fn with_chunk<T>(
    data: Vec<u8>,
    verify: bool,
    read: impl FnOnce(&mut EvtxChunk<'_>) -> T,
) -> Result<T, CollectError> {
    let mut chunk = EvtxChunkData::new(data, verify)
        .map_err(|e| CollectError::NotTheFormat(format!("not an intact chunk: {e}")))?;
    let mut parsed = chunk
        .parse(Arc::new(settings(1)))
        .map_err(|e| CollectError::NotTheFormat(format!("chunk: {e}")))?;
    Ok(read(&mut parsed))
}

/// What is worked out once per chunk: its checksum verdict and the plans of its
/// templates (see `plan`), for the chunk last seen.
#[derive(Clone, Default)]
struct ChunkMemo {
    /// The chunk (its data's address and first record number) and its verdict.
    last: Option<((usize, u64), Option<bool>)>,
    /// Plans by template definition offset (`None`: the template is not the simple
    /// shape), at most [`MAX_PLANS`].
    plans: Vec<(u32, Option<Arc<plan::Plan>>)>,
}

/// Templates a chunk keeps plans for: real chunks use a few dozen at most; the
/// records of templates past this take the JSON path.
const MAX_PLANS: usize = 64;

impl ChunkMemo {
    /// Starts over when the chunk of `data` and `header` is not the chunk last seen.
    fn enter(&mut self, data: &[u8], header: &EvtxChunkHeader) {
        let key = (data.as_ptr() as usize, header.first_event_record_number);
        if !matches!(self.last, Some((k, _)) if k == key) {
            self.last = Some((key, chunk_checksums(data, header)));
            self.plans.clear();
        }
    }

    /// The chunk's checksum verdict (after [`ChunkMemo::enter`]).
    fn verdict(&self) -> Option<bool> {
        self.last.and_then(|(_, verdict)| verdict)
    }

    /// The plan of the template at `offset` of `chunk`, compiled on first use.
    fn plan(&mut self, chunk: &[u8], offset: u32) -> Option<Arc<plan::Plan>> {
        let at = match self.plans.iter().position(|(o, _)| *o == offset) {
            Some(at) => at,
            None if self.plans.len() < MAX_PLANS => {
                let compiled = template::read(chunk, offset as usize)
                    .and_then(|t| plan::Plan::compile(&t))
                    .map(Arc::new);
                self.plans.push((offset, compiled));
                self.plans.len() - 1
            }
            None => return None,
        };
        self.plans[at].1.clone()
    }
}

/// Whether a chunk's header checksum (bytes 0..120 and 128..512) and records
/// checksum (512 to the free-space offset) hold; `None` when its flags say it
/// carries none.
fn chunk_checksums(data: &[u8], header: &EvtxChunkHeader) -> Option<bool> {
    if header.flags.contains(ChunkFlags::NO_CRC32) {
        return None;
    }
    if data.len() < 512 {
        return Some(false);
    }
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&data[..120]);
    hasher.update(&data[128..512]);
    let header_ok = hasher.finalize() == header.header_chunk_checksum;
    let records_ok = data
        .get(512..header.free_space_offset as usize)
        .is_some_and(|records| evtx::checksum_ieee(records) == header.events_checksum);
    Some(header_ok && records_ok)
}

/// The records of one chunk as the crate's `serialized_records` gives them, in
/// order: a chunk whose header did not read, or that the crate cannot parse, is
/// one error.
///
/// A chunk whose checksums hold and whose records lie one after another as its
/// header says is walked here, record header by record header, each record taken
/// by the fast path: the crate's walk builds every record's tree before handing it
/// over (12.6 % of a one-thread scan's instructions), which the fast path never
/// reads. The walk is the crate's own for such a chunk (from the chunk header to
/// the free space, or to the record the header names last); anything else (a
/// record header that does not read, a record the fast path does not take, a
/// chunk whose checksums fail or are absent) and the crate walks the whole chunk
/// as before, so damage is met exactly as it was.
fn chunk_records(
    data: &[u8],
    number: u64,
    header: evtx::err::Result<EvtxChunkHeader>,
    settings: &Arc<ParserSettings>,
) -> Vec<evtx::err::Result<Converted>> {
    let header = match header {
        Ok(header) => header,
        Err(e) => return vec![Err(e)],
    };
    let mut memo = ChunkMemo::default();
    memo.enter(data, &header);
    if memo.verdict() == Some(true) {
        if let Some(records) = walk_fast(data, &header, &mut memo, usize::MAX) {
            return records;
        }
    }
    let mut chunk = EvtxChunkData {
        header,
        data: data.to_vec(),
        number: Some(number),
    };
    match chunk.parse(Arc::clone(settings)) {
        Ok(mut parsed) => parsed_records(&mut parsed, usize::MAX, false),
        Err(e) => vec![Err(evtx::err::EvtxError::FailedToParseChunk {
            chunk_id: number,
            source: Box::new(e),
        })],
    }
}

/// The first `limit` records of a parsed chunk, flattened: walked by us when the
/// chunk is verified and regular and `may_walk` (see [`chunk_records`]), else by
/// the crate.
fn parsed_records(
    chunk: &mut EvtxChunk<'_>,
    limit: usize,
    may_walk: bool,
) -> Vec<evtx::err::Result<Converted>> {
    // A memo per chunk: plans are by offset in this chunk only.
    let mut memo = ChunkMemo::default();
    memo.enter(chunk.data, chunk.header);
    if may_walk && memo.verdict() == Some(true) {
        if let Some(records) = walk_fast(chunk.data, chunk.header, &mut memo, limit) {
            return records;
        }
    }
    chunk
        .iter()
        .take(limit)
        .filter_map(|record| {
            let recovered = record.as_ref().is_ok_and(|r| r.recovered);
            let out = record.and_then(|r| convert(r, &mut memo));
            // As the crate does: carved hits that fail to render are noise.
            (!recovered || out.is_ok()).then_some(out)
        })
        .collect()
}

/// The first `limit` records of a regular chunk, every one by the fast path; `None`
/// at the first thing the crate's walk would meet otherwise.
fn walk_fast(
    data: &[u8],
    header: &EvtxChunkHeader,
    memo: &mut ChunkMemo,
    limit: usize,
) -> Option<Vec<evtx::err::Result<Converted>>> {
    let live_end = u64::from(header.free_space_offset).min(data.len() as u64);
    let mut offset = 512u64;
    let verified = memo.verdict();
    // Sized by what the header claims, within what a chunk can hold (a record is
    // 28 bytes at least): growing a vector of records copies them each time.
    let claimed = header
        .last_event_record_number
        .saturating_sub(header.first_event_record_number)
        .saturating_add(1);
    let mut records =
        Vec::with_capacity(usize::try_from(claimed).unwrap_or(0).min(limit).min(2048));
    while offset < live_end && records.len() < limit {
        let (record, id, size) = fast_record(data, usize::try_from(offset).ok()?, memo, verified)?;
        records.push(Ok(Ok(record)));
        if id == header.last_event_record_id {
            break;
        }
        // At least the header and the size copy: the walk moves on.
        offset += u64::from(size);
    }
    Some(records)
}

/// The record whose header is at `at` of `chunk`, by the fast path, with its
/// header's record id and size; `None` when its header does not read or the fast
/// path does not take it.
fn fast_record(
    chunk: &[u8],
    at: usize,
    memo: &mut ChunkMemo,
    verified: Option<bool>,
) -> Option<(EventRecord, u64, u32)> {
    /// A record header: signature, size, id, time.
    const RECORD_HEADER: usize = 24;
    let header = evtx::EvtxRecordHeader::from_bytes_at(chunk, at).ok()?;
    let start = at.checked_add(RECORD_HEADER)?;
    let end = start.checked_add(usize::try_from(header.record_data_size().ok()?).ok()?)?;
    if end > chunk.len() {
        return None;
    }
    let parsed = values_at(chunk, start, end, memo)?;
    let record = parsed.finish(header.event_record_id, header.timestamp, verified);
    Some((record, header.event_record_id, header.data_size))
}

/// Records rendered where they lie in one chunk, outside any walk: the records a
/// log's chunks still hold in their unused space. Only the fast path is taken
/// (templates read at the offsets the record names); a record it does not take is
/// for the caller to render some other way.
pub struct InPlace<'a> {
    chunk: &'a [u8],
    memo: ChunkMemo,
}

impl<'a> InPlace<'a> {
    /// Records of `chunk` (its plans are compiled once for all of them).
    pub fn new(chunk: &'a [u8]) -> Self {
        InPlace {
            chunk,
            memo: ChunkMemo::default(),
        }
    }

    /// The record whose header is at `at`; its chunk is not vouched for
    /// (`chunk_verified` false).
    pub fn record(&mut self, at: usize) -> Option<EventRecord> {
        fast_record(self.chunk, at, &mut self.memo, Some(false)).map(|(record, ..)| record)
    }
}

/// Flattens one record (on the worker thread that parsed its chunk): straight from
/// its values when its template has a plan that covers it, else by rendering it as
/// JSON and reading that.
fn convert(record: EvtxRecord<'_>, memo: &mut ChunkMemo) -> evtx::err::Result<Converted> {
    memo.enter(record.chunk.data, record.chunk.header);
    let chunk_verified = memo.verdict();
    let header_id = record.event_record_id;
    let header_time = record.timestamp;
    if let Some(parsed) = from_values(&record, memo) {
        return Ok(Ok(parsed.finish(header_id, header_time, chunk_verified)));
    }
    let rendered = record.into_json_bytes()?;
    Ok(from_json(
        &rendered.data,
        header_id,
        header_time,
        chunk_verified,
    ))
}

/// The fast path: a record that is one template instance and nothing else, whose
/// template has a plan that covers its values (and, when its `EventData` is nested
/// BinXML, the nested template's plan covers that one's). Both instances are read
/// by our own reader, not the crate's (which would read them a second time).
fn from_values(record: &EvtxRecord<'_>, memo: &mut ChunkMemo) -> Option<Parsed> {
    let start = usize::try_from(record.binxml_offset).ok()?;
    let end = start.checked_add(usize::try_from(record.binxml_size).ok()?)?;
    values_at(record.chunk.data, start, end, memo)
}

/// [`from_values`] for the record whose BinXML is `chunk[start..end]`.
fn values_at(chunk: &[u8], start: usize, end: usize, memo: &mut ChunkMemo) -> Option<Parsed> {
    let outer = instance::read(chunk, start, end)?;
    let plan = memo.plan(chunk, outer.definition)?;
    let plan::Plan::Event(plan) = plan.as_ref() else {
        return None;
    };
    let values = instance::Values {
        chunk,
        values: &outer.values,
    };
    plan.apply(&values, &mut |nested| {
        let inner = instance::read(chunk, nested.at, nested.at.checked_add(nested.len)?)?;
        match memo.plan(chunk, inner.definition)?.as_ref() {
            plan::Plan::Data(fields) => fields.apply(&instance::Values {
                chunk,
                values: &inner.values,
            }),
            plan::Plan::Event(_) => None,
        }
    })
}

/// Flattens a record the crate rendered as JSON.
fn from_json(
    json: &[u8],
    header_id: u64,
    header_time: jiff::Timestamp,
    chunk_verified: Option<bool>,
) -> Converted {
    let mut parsed = Parsed::default();
    // Checked as UTF-8 once, whole: `from_slice` would check every string again
    // (5 % of a scan's instructions).
    let json = std::str::from_utf8(json)
        .map_err(|e| format!("record {header_id}: rendering is not UTF-8: {e}"))?;
    let mut pull = Pull::new(json);
    pull.value()
        .and_then(|root| flatten::event(&mut pull, root, &mut parsed))
        .and_then(|()| pull.end())
        .map_err(|e| format!("record {header_id}: unreadable rendering: {e}"))?;
    Ok(parsed.finish(header_id, header_time, chunk_verified))
}

/// What the visitor collects from one rendered record.
#[derive(Default)]
struct Parsed {
    /// System facts and, at the end, the fields.
    record: EventRecord,
    /// `EventRecordID` as written.
    record_id: Option<String>,
    /// `EventID` as written.
    event_id: Option<String>,
    /// `TimeCreated/@SystemTime` as written.
    time: Option<String>,
    /// `EventData`'s fields, when the event has it.
    event_data: Option<Vec<(String, String)>>,
    /// The fields of `UserData`'s first element, when the event has `UserData`.
    user_data: Option<Vec<(String, String)>>,
    /// The children of the event's other elements (`ProcessingErrorData`, ...).
    other: Vec<(String, String)>,
}

impl Parsed {
    fn finish(
        self,
        header_id: u64,
        header_time: jiff::Timestamp,
        chunk_verified: Option<bool>,
    ) -> EventRecord {
        let mut record = self.record;
        let mut problems: Vec<String> = Vec::new();
        match self.record_id.as_deref().map(|t| t.trim().parse::<u64>()) {
            Some(Ok(id)) => {
                record.record_id = id;
                if id != header_id {
                    record.header_record_id = Some(header_id);
                }
            }
            Some(Err(_)) => {
                record.record_id = header_id;
                problems.push(format!(
                    "EventRecordID {:?} is not a number: the record header's id {header_id} is used",
                    self.record_id.unwrap_or_default()
                ));
            }
            None => {
                record.record_id = header_id;
                problems.push(format!(
                    "the event has no System/EventRecordID: the record header's id {header_id} is used"
                ));
            }
        }
        // An id that is no number is damage, never event 0 without a word.
        match self.event_id.as_deref().map(|t| t.trim().parse::<u32>()) {
            Some(Ok(id)) => record.event_id = id,
            Some(Err(_)) => problems.push(format!(
                "EventID {:?} is not a number",
                self.event_id.unwrap_or_default()
            )),
            None => problems.push("the event has no System/EventID".into()),
        }
        match self.time {
            Some(raw) => match event_time(&raw) {
                Ok(time) => record.time = time,
                Err(why) => problems.push(why),
            },
            None => problems.push("the event has no System/TimeCreated/@SystemTime".into()),
        }
        let header_iso = iso_time_fast(header_time);
        if header_iso != record.time {
            record.header_time = Some(header_iso);
        }
        if !problems.is_empty() {
            record.problem = Some(format!(
                "record {}: {}",
                record.record_id,
                problems.join("; ")
            ));
        }
        record.chunk_verified = chunk_verified;
        record.fields = self.event_data.or(self.user_data).unwrap_or(self.other);
        record
    }
}

/// `TimeCreated/@SystemTime` in our format (`2022-03-10T21:43:57.9101061Z`), or why
/// it is no time.
fn event_time(raw: &str) -> Result<String, String> {
    const ZERO: &str = "1601-01-01T00:00:00.0000000Z";
    if raw == ZERO {
        return Err(
            "TimeCreated/@SystemTime is 1601-01-01, a zero FILETIME: no time was recorded".into(),
        );
    }
    if is_our_format(raw.as_bytes()) {
        return Ok(raw.to_string());
    }
    match raw.trim().parse::<jiff::Timestamp>() {
        Ok(ts) if ts.as_second() > -11_644_473_600 => Ok(iso_time(ts)),
        Ok(_) => Err(format!(
            "TimeCreated/@SystemTime {raw:?} is at or before 1601-01-01: no time was recorded"
        )),
        Err(_) => Err(format!("TimeCreated/@SystemTime {raw:?} is not a time")),
    }
}

/// `YYYY-MM-DDTHH:MM:SS.fffffffZ` with plausible fields (what the crate renders a
/// FILETIME as).
fn is_our_format(b: &[u8]) -> bool {
    if b.len() != 28 {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let num = |r: std::ops::Range<usize>| {
        b[r].iter()
            .fold(0u32, |n, d| n * 10 + u32::from(d.wrapping_sub(b'0')))
    };
    b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'.'
        && b[27] == b'Z'
        && digits(0..4)
        && digits(5..7)
        && digits(8..10)
        && digits(11..13)
        && digits(14..16)
        && digits(17..19)
        && digits(20..27)
        && num(0..4) >= 1601
        && (1..=12).contains(&num(5..7))
        && (1..=31).contains(&num(8..10))
        && num(11..13) < 24
        && num(14..16) < 60
        && num(17..19) < 60
}

/// ISO-8601 UTC with seven fractional digits, the precision of the FILETIME behind it.
pub fn iso_time(ts: jiff::Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%S.%7fZ").to_string()
}

/// [`iso_time`] without the formatting machinery, for the hot path.
fn iso_time_fast(ts: jiff::Timestamp) -> String {
    let (secs, nanos) = (ts.as_second(), ts.subsec_nanosecond());
    if secs < 0 || nanos < 0 {
        return iso_time(ts);
    }
    // Howard Hinnant's civil_from_days, days since 1970-01-01.
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let z = days + 719_468;
    let (era, doe) = (z / 146_097, z % 146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = era * 400 + yoe + i64::from(month <= 2);
    if year > 9999 {
        return iso_time(ts);
    }
    let mut buf = *b"0000-00-00T00:00:00.0000000Z";
    let mut put = |range: std::ops::Range<usize>, mut value: i64| {
        for b in buf[range].iter_mut().rev() {
            *b = b'0' + (value % 10) as u8;
            value /= 10;
        }
    };
    put(0..4, year);
    put(5..7, month);
    put(8..10, day);
    put(11..13, rem / 3_600);
    put(14..16, rem / 60 % 60);
    put(17..19, rem % 60);
    put(20..27, i64::from(nanos) / 100);
    // Digits and separators: ASCII, so never the fallback.
    String::from_utf8(buf.to_vec()).unwrap_or_else(|_| iso_time(ts))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(json: &str) -> EventRecord {
        from_json(json.as_bytes(), 7, jiff::Timestamp::UNIX_EPOCH, None).unwrap()
    }

    /// What `drain_contained` handed over: items, and panics as (message, last).
    fn drained(items: impl Iterator<Item = u32>, panics: u64) -> Vec<Result<u32, (String, bool)>> {
        let mut taken = Vec::new();
        drain_contained(items, panics, |item| {
            taken.push(item.map_err(|p| (p.message, p.last)));
        });
        taken
    }

    #[test]
    fn a_panic_costs_its_item_and_the_rest_is_still_read() {
        let items = (0..6).map(|i| {
            if i % 2 == 0 && i > 0 {
                panic!("bad {i}")
            } else {
                i
            }
        });
        assert_eq!(
            drained(items, 7),
            [
                Ok(0),
                Ok(1),
                Err(("bad 2".into(), false)),
                Ok(3),
                Err(("bad 4".into(), false)),
                Ok(5)
            ]
        );
    }

    #[test]
    fn panics_that_do_not_move_on_stop_at_the_bound() {
        let items = std::iter::repeat_with(|| -> u32 { panic!("stuck") });
        let taken = drained(items, 3);
        assert_eq!(
            taken,
            [
                Err(("stuck".into(), false)),
                Err(("stuck".into(), false)),
                Err(("stuck".into(), true))
            ]
        );
    }

    #[test]
    fn fast_iso_time_equals_strftime() {
        let mut x = 0x9E37_79B9_7F4A_7C15_u64;
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // 1970 .. 2200, 100 ns steps
            let ticks = (x % (7_258_118_400 * 10_000_000)) as i64;
            let ts = jiff::Timestamp::from_nanosecond(i128::from(ticks) * 100).unwrap();
            assert_eq!(iso_time_fast(ts), iso_time(ts));
        }
        let ts = jiff::Timestamp::from_second(-11_644_473_600).unwrap();
        assert_eq!(iso_time_fast(ts), "1601-01-01T00:00:00.0000000Z");
    }

    #[test]
    fn fields_json_escapes_and_keeps_map_semantics() {
        let record = EventRecord {
            fields: vec![
                ("a\"b".into(), "x\\y\n\u{1}\u{7f}é".into()),
                ("c".into(), "1".into()),
                ("a\"b".into(), "2".into()),
            ],
            ..EventRecord::default()
        };
        let mut map = serde_json::Map::new();
        for (n, v) in &record.fields {
            map.insert(n.clone(), serde_json::Value::String(v.clone()));
        }
        let escaped = EscapedFields::new(&record.fields);
        assert_eq!(escaped.object(), serde_json::Value::Object(map).to_string());
        assert_eq!(escaped.object(), r#"{"a\"b":"2","c":"1"}"#);
    }

    #[test]
    fn the_csv_object_is_the_object_quoted_as_csv() {
        // The field as the csv crate writes it.
        let quoted = |json: String| {
            let mut writer = csv::WriterBuilder::new().from_writer(Vec::new());
            writer.write_record([json]).unwrap();
            let mut field = String::from_utf8(writer.into_inner().unwrap()).unwrap();
            assert_eq!(field.pop(), Some('\n'));
            field
        };
        let plain: Vec<(String, String)> =
            vec![("a".into(), "C:\\x".into()), ("b".into(), "".into())];
        let tricky: Vec<(String, String)> = vec![
            ("a\"b".into(), "say \"hi\"\n".into()),
            ("c".into(), "1".into()),
            ("a\"b".into(), "2".into()),
        ];
        let many: Vec<(String, String)> = (0..40)
            .map(|i| (format!("f{}", i % 33), format!("\"{i}\"")))
            .collect();
        // 40 names and 64 hash bits: some names share a bit without repeating.
        let distinct: Vec<(String, String)> = (0..40)
            .map(|i| (format!("f{i}"), format!("v{i}")))
            .collect();
        let late_repeat: Vec<(String, String)> = distinct
            .iter()
            .cloned()
            .chain([("f7".to_string(), "last".to_string())])
            .collect();
        for fields in [Vec::new(), plain, tricky, many, distinct, late_repeat] {
            let escaped = EscapedFields::new(&fields);
            assert_eq!(escaped.csv_object(), quoted(escaped.object()), "{fields:?}");
            let names: std::collections::HashSet<&String> = fields.iter().map(|(n, _)| n).collect();
            assert_eq!(escaped.repeats, names.len() < fields.len(), "{fields:?}");
        }
    }

    #[test]
    fn many_fields_keep_map_semantics_too() {
        // Past 32 fields the object is built with hash maps: same rule.
        let fields: Vec<(String, String)> = (0..50)
            .map(|i| (format!("f{}", i % 37), format!("v{i}")))
            .collect();
        let mut expected: Vec<(String, String)> = Vec::new();
        for (n, v) in &fields {
            match expected.iter_mut().find(|(e, _)| e == n) {
                Some(kept) => kept.1 = v.clone(),
                None => expected.push((n.clone(), v.clone())),
            }
        }
        let expected: Vec<String> = expected
            .iter()
            .map(|(n, v)| format!("\"{n}\":\"{v}\""))
            .collect();
        assert_eq!(
            EscapedFields::new(&fields).object(),
            format!("{{{}}}", expected.join(","))
        );
    }

    #[test]
    fn system_facts_identity_and_named_data() {
        let r = flat(
            r##"{"Event":{"#attributes":{"xmlns":"x"},"System":{"Provider":{"#attributes":{"Name":"P","Guid":"{g}","EventSourceName":"S"}},"EventID":{"#attributes":{"Qualifiers":16384},"#text":7036},"Level":4,"TimeCreated":{"#attributes":{"SystemTime":"2022-03-10T21:43:57.9101061Z"}},"EventRecordID":42,"Channel":"System","Computer":"PC","Security":{"#attributes":{"UserID":"S-1-5-18"}}},"EventData":{"A":"1","B":null,"C":2}}}"##,
        );
        assert_eq!(r.provider, "P");
        assert_eq!(r.event_source, "S");
        assert_eq!(r.event_id, 7036);
        assert_eq!(r.level, "4");
        assert_eq!(r.channel, "System");
        assert_eq!(r.computer, "PC");
        assert_eq!(r.user_sid, "S-1-5-18");
        assert_eq!(r.record_id, 42);
        assert_eq!(r.header_record_id, Some(7));
        assert_eq!(r.time, "2022-03-10T21:43:57.9101061Z");
        assert_eq!(
            r.header_time.as_deref(),
            Some("1970-01-01T00:00:00.0000000Z")
        );
        assert_eq!(r.problem, None);
        let f: Vec<(&str, &str)> = r
            .fields
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        assert_eq!(f, [("A", "1"), ("B", ""), ("C", "2")]);
    }

    #[test]
    fn unnamed_data_and_user_data() {
        let r = flat(
            r##"{"Event":{"System":{"EventRecordID":7},"EventData":{"Data":{"#text":["a","b","c"]},"Binary":"00"}}}"##,
        );
        let names: Vec<&str> = r.fields.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["Data", "Data_2", "Data_3", "Binary"]);
        assert_eq!(r.header_record_id, None);
        let r = flat(
            r##"{"Event":{"System":{},"UserData":{"#attributes":{"a":"b"},"LogFileCleared":{"#attributes":{"xmlns":"u"},"SubjectUserSid":"S-1","Nested":{"X":{"#attributes":{"k":1},"#text":"t"},"Y":[1,2]},"Attr":{"#attributes":{"k":1}}}}}}"##,
        );
        let f: Vec<(&str, &str)> = r
            .fields
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            f,
            [
                ("SubjectUserSid", "S-1"),
                ("Nested", r#"{"X_attributes":{"k":1},"X":"t","Y":[1,2]}"#),
                // An element of attributes alone: a field per attribute.
                ("Attr_k", "1")
            ]
        );
    }

    #[test]
    fn processing_error_data_keeps_its_children() {
        let r = flat(
            r##"{"Event":{"System":{"EventRecordID":9,"TimeCreated":{"#attributes":{"SystemTime":"1601-01-01T00:00:00.0000000Z"}}},"ProcessingErrorData":{"ErrorCode":15005,"DataItemName":"ShutdownTime","EventPayload":"0102"}}}"##,
        );
        let f: Vec<(&str, &str)> = r
            .fields
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            f,
            [
                ("ErrorCode", "15005"),
                ("DataItemName", "ShutdownTime"),
                ("EventPayload", "0102")
            ]
        );
        assert_eq!(r.time, "");
        assert!(r.problem.as_deref().unwrap().contains("1601"), "{r:?}");
    }

    #[test]
    fn missing_identity_falls_back_with_a_problem() {
        let r = flat(r##"{"Event":{"System":{"Channel":"X"}}}"##);
        assert_eq!(r.record_id, 7);
        assert_eq!(r.header_record_id, None);
        assert_eq!(r.time, "");
        let problem = r.problem.unwrap();
        assert!(problem.contains("EventRecordID"), "{problem}");
        assert!(problem.contains("TimeCreated"), "{problem}");
        assert!(problem.contains("no System/EventID"), "{problem}");
    }

    #[test]
    fn an_event_id_that_is_no_number_is_a_problem_not_event_0() {
        let r = flat(
            r##"{"Event":{"System":{"EventID":"46x4","EventRecordID":7,"TimeCreated":{"#attributes":{"SystemTime":"2022-03-10T21:43:57.9101061Z"}}}}}"##,
        );
        assert_eq!(r.event_id, 0);
        let problem = r.problem.unwrap();
        assert!(
            problem.contains(r#"EventID "46x4" is not a number"#),
            "{problem}"
        );
    }

    #[test]
    fn other_time_spellings_are_normalised() {
        assert_eq!(
            event_time("2021-11-24T15:48:24.985484Z").unwrap(),
            "2021-11-24T15:48:24.9854840Z"
        );
        assert_eq!(
            event_time("2021-11-24T15:48:24.985484012Z").unwrap(),
            "2021-11-24T15:48:24.9854840Z"
        );
        assert!(event_time("0000-00-00T00:00:00.0000000Z").is_err());
        assert!(event_time("yesterday").is_err());
    }
}
