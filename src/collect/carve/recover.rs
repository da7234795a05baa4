//! From carving hits to rows: what each found structure proves, checked before it
//! is believed.
//!
//! - Intact EVTX chunks are rendered whole (`chunk_verified = true` in evtx.csv).
//!   Chunks whose checksums fail are rendered as far as the `evtx` crate can
//!   (`chunk_verified = false`: the content is not vouched for).
//! - Records outside any readable chunk, records a damaged chunk could not render,
//!   and records in a chunk's unused space (its earlier use) are lone: their
//!   templates are lost with their chunk. Once the pass is over, each is rebuilt
//!   onto an intact chunk that defines every template it uses, outer and nested,
//!   by template id ([`evtx_carve::rebase_record`]), and rendered there; evtx.csv
//!   names the donor chunk in `file`. What no donor can render, or renders
//!   without the System fields every event has (a borrowed template that is not
//!   its own), goes to carved.csv with its offset, id, time and UTF-16 text.
//! - `FILE` records must pass their update-sequence fixups; records of one carved
//!   `$MFT` (same origin: offset minus record number times record size) rebuild each
//!   other's paths. They go to mft.csv with `carved = true`.
//! - Prefetch files must parse (MAM must decompress to its stated size); they go to
//!   prefetch.csv with `carved = true`, named `EXE-HASH.pf` as Windows names them,
//!   so the trace matcher treats a deleted tool's Prefetch like a live one.
//! - Hive bins are grouped by the hive they claim to belong to and rebuilt
//!   ([`regf::Hive::from_carved`]); every allocated key node becomes a carved.csv
//!   row with its path (as far as the surviving bins lead), last-written time and
//!   values.

use crate::output::Stage;
use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::BuildHasherDefault;
use std::sync::Mutex;

use evtx_carve::{find_records, host_chunk, rebase_record, template_id, utf16_strings};
use filetime::Filetime;

use super::scan::Hit;
use crate::collect::contain::contained;
use crate::collect::evtx::{read_chunk, EventRecord, InPlace};
use crate::collect::mft::{DirectoryMap, MftRow};
use crate::collect::registry::value::render;
use crate::collect::rows::{self, truncate, Carved};
use crate::evidence::ReadAt;
use crate::ntfs::{parse_record, FileEntry};
use crate::pipeline::Sinks;

/// Largest Prefetch file read (real ones are well under 1 MiB).
const MAX_PREFETCH: u64 = 16 << 20;
/// The first bytes of a Prefetch candidate read; more only while it parses up to
/// their end (real compressed Prefetch files are mostly under this).
const FIRST_PREFETCH_WINDOW: u64 = 64 << 10;
/// Carved `FILE` records kept for path rebuilding; beyond this they are written
/// with their own name only.
const MAX_KEPT_RECORDS: usize = 1 << 20;
/// Bytes of carved hive bins kept for rebuilding hives.
const MAX_KEPT_HIVE_BYTES: usize = 1 << 30;
/// Characters of a lone record's text kept in its cell.
const MAX_TEXT: usize = 2000;
/// Chunks kept as template donors (each its definitions' offsets, not its bytes).
/// Reached only past 2 048 distinct templates, where which chunks are kept
/// depends on the order the pass's threads found them.
const MAX_DONORS: usize = 16_384;
/// Donors kept per template: the chunks at the lowest offsets, whatever order the
/// pass's threads find them in, so a lone record borrows the same donor every run.
const DONORS_PER_TEMPLATE: usize = 8;
/// Bytes of lone records kept until the pass ends (to be rendered with donors).
const MAX_LONE_BYTES: usize = 256 << 20;

/// Keys of the records read from live logs, so carved copies can be told apart
/// from records that exist nowhere else.
#[derive(Default)]
pub struct LiveRecords {
    /// Record keys; already hashes, so the set does not hash them again.
    keys: Mutex<HashSet<u64, BuildHasherDefault<KeyHasher>>>,
    /// The keyed hash of [`record_key`], its keys drawn afresh for each scan: a
    /// record made to collide with another (to pass for a live copy and go
    /// unjudged) cannot be made without them.
    hash: RandomState,
    /// Records are the same when their channel, id and time are (the logs of one
    /// volume); else their fields must be too.
    identity_only: bool,
}

/// What makes two copies of a record the same record (see [`LiveRecords`]), hashed
/// to 64 bits so that a multi-GB log costs 8 bytes a record here, not its strings
/// (two different records collide with odds of about n²/2⁶⁵).
fn record_key(hash: &RandomState, record: &EventRecord, identity_only: bool) -> u64 {
    use std::hash::{BuildHasher, Hash, Hasher};
    let mut hasher = hash.build_hasher();
    record.channel.hash(&mut hasher);
    record.record_id.hash(&mut hasher);
    record.time.hash(&mut hasher);
    if !identity_only {
        record.fields.hash(&mut hasher);
    }
    hasher.finish()
}

/// The hasher of a set of [`record_key`]s: a key is its own hash.
#[derive(Default)]
struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are hashed here; anything else is folded in all the same.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, key: u64) {
        self.0 = key;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl LiveRecords {
    /// The live records of one volume's logs, known by channel, id and time only:
    /// a record the unused space of a log's chunks also holds (its own channel's,
    /// or another log's whose clusters the file took over) is a leftover copy of
    /// it, whatever template it had to borrow to be rendered.
    pub fn by_identity() -> Self {
        LiveRecords {
            identity_only: true,
            ..LiveRecords::default()
        }
    }

    /// Remembers a record read from a live log.
    pub fn insert(&self, record: &EventRecord) {
        self.keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(record_key(&self.hash, record, self.identity_only));
    }

    /// True if a live log holds the same record.
    pub fn contains(&self, record: &EventRecord) -> bool {
        self.keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&record_key(&self.hash, record, self.identity_only))
    }
}

/// Hive pieces kept until the pass ends.
#[derive(Default)]
struct HiveParts {
    /// Base blocks by their offset.
    bases: BTreeMap<u64, Vec<u8>>,
    /// Bins: (offset found at, bytes).
    bins: Vec<(u64, Vec<u8>)>,
    bytes: usize,
}

/// Where the rows of one pass go.
#[derive(Clone, Copy)]
struct Place<'a> {
    out: &'a Sinks<'a>,
    /// Volume label (or `image` for whole-image passes).
    label: &'a str,
    /// The file name rows carry: `(unallocated)` or `(image)` for carving, the
    /// log's path for the unused space of a live log's chunks.
    file: &'a str,
    /// Offsets are in the live log `file` (not the volume or image).
    in_log: bool,
}

impl Place<'_> {
    /// The chunk of a live log an offset in it falls in (the first chunk, 0,
    /// follows the 4 KiB file header); `None` when carving.
    fn chunk_of(&self, offset: u64) -> Option<u64> {
        const FILE_HEADER: u64 = 4096;
        self.in_log
            .then(|| offset.saturating_sub(FILE_HEADER) / evtx_carve::CHUNK_SIZE as u64)
    }

    /// A problem at `offset` of the pass. The offset goes in the message, not the
    /// path: errors.csv lists at most 1 000 problems per file and stage and counts
    /// the rest, and a region of look-alike signatures must not list a million.
    fn error(&self, offset: u64, stage: Stage, message: &str) {
        self.out.error(
            self.label,
            self.file,
            stage,
            &format!("offset {offset}: {message}"),
        );
    }

    /// A carved.csv row, and a timeline entry when it has a time.
    fn carved_row(&self, kind: &str, offset: u64, time: &str, name: &str, id: &str, detail: &str) {
        self.out.row(
            "carved",
            self.label,
            vec![
                kind.to_string(),
                offset.to_string(),
                time.to_string(),
                name.to_string(),
                id.to_string(),
                detail.to_string(),
            ],
        );
        if !time.is_empty() {
            self.out.event(
                self.label,
                time,
                "Carved",
                format!("{kind} {name} {}", truncate(detail, 120)),
                "carved",
                self.file,
                format!("offset {offset}"),
            );
        }
    }
}

/// Intact chunks that define templates, kept so lone records can borrow them.
#[derive(Default)]
struct Donors {
    /// Template id -> the offsets of the kept chunks defining it, at most
    /// [`DONORS_PER_TEMPLATE`], the lowest.
    by_template: HashMap<u32, BTreeSet<u64>>,
    /// The kept chunks by offset.
    chunks: BTreeMap<u64, Donor>,
}

/// One kept chunk: where it is, read again from the pass's data when a lone
/// record needs it (most passes have none: copying every donor cost 2 % of an
/// event-log scan and up to 64 MiB a pass).
struct Donor {
    /// Definition offset by template id.
    definitions: HashMap<u32, u32>,
    /// Templates whose donor list holds this chunk; at 0 it is dropped.
    uses: usize,
}

/// Event records outside any readable chunk, kept until every donor is known.
#[derive(Default)]
struct LoneRecords {
    records: Vec<(u64, Vec<u8>)>,
    bytes: usize,
}

/// A lone record rebuilt onto a donor's template.
struct Guest {
    id: u64,
    offset: u64,
    original: Vec<u8>,
    rebased: Vec<u8>,
}

/// A carved `FILE` record: where it was, its allocated size, what it says.
type KeptRecord = (u64, u64, FileEntry);

/// Turns the hits of one carving pass, or the unused chunk space of one live log,
/// into rows of one image's tables.
pub struct Recovery<'a> {
    place: Place<'a>,
    /// Where a copy of a record counts as live (any of them).
    live: Vec<&'a LiveRecords>,
    records: Mutex<Vec<KeptRecord>>,
    hives: Mutex<HiveParts>,
    donors: Mutex<Donors>,
    lone: Mutex<LoneRecords>,
}

impl<'a> Recovery<'a> {
    /// A recovery writing to `out` for volume `label`.
    pub fn new(out: &'a Sinks<'a>, label: &'a str, file: &'a str, live: &'a LiveRecords) -> Self {
        Self::with_place(
            Place {
                out,
                label,
                file,
                in_log: false,
            },
            vec![live],
        )
    }

    /// A recovery of the records in the unused space of the chunks of the live
    /// log at `path` (fed by [`Recovery::log_chunk`]); a record counts as a live
    /// copy when any of `live` holds it.
    pub fn in_log(
        out: &'a Sinks<'a>,
        label: &'a str,
        path: &'a str,
        live: Vec<&'a LiveRecords>,
    ) -> Self {
        let place = Place {
            out,
            label,
            file: path,
            in_log: true,
        };
        Self::with_place(place, live)
    }

    fn with_place(place: Place<'a>, live: Vec<&'a LiveRecords>) -> Self {
        Recovery {
            place,
            live,
            records: Mutex::default(),
            hives: Mutex::default(),
            donors: Mutex::default(),
            lone: Mutex::default(),
        }
    }

    /// Handles one hit of the pass (called from several threads).
    pub fn on_hit(&self, data: &dyn ReadAt, hit: Hit<'_>) {
        match hit {
            Hit::Chunk {
                offset,
                data,
                intact,
            } => self.chunk(offset, data, intact),
            Hit::Record { offset, data } => self.lone_record(offset, data),
            Hit::MftRecord { offset, data } => self.mft_record(offset, data),
            Hit::Prefetch { offset, limit } => self.prefetch(data, offset, limit),
            Hit::Hive { offset, limit } => self.hive_piece(data, offset, limit),
        }
    }

    /// One chunk of a live log at file offset `offset`: the records in its unused
    /// space (libevtx's recovered records) are rendered with the chunk's own
    /// templates of the same ids, which a log mostly defines again each time it
    /// fills the chunk, else where they lie when every definition they point at is
    /// still there; the others wait, like lone carved records, for the templates
    /// of the log's other chunks.
    pub fn log_chunk(&self, offset: u64, chunk: &[u8]) {
        let definitions = self.remember_templates(offset, chunk);
        let found = evtx_carve::unused_space_records(chunk, offset);
        let mut guests = Vec::new();
        let mut in_place = InPlace::new(chunk);
        // Where every record of the chunk starts, live or not: hidden from the
        // parser when one is rendered where it lies.
        let mut starts: Vec<usize> = evtx_carve::live_record_offsets(chunk);
        starts.extend(found.iter().map(|r| (r.offset - offset) as usize));
        for record in found {
            let start = (record.offset - offset) as usize;
            // Always inside: that is where it was found.
            let Some(bytes) = chunk.get(start..start + record.size as usize) else {
                continue;
            };
            if let Some(rebased) = rebase_record(bytes, &|id| definitions.get(&id).copied()) {
                guests.push(Guest {
                    id: record.record_id,
                    offset: record.offset,
                    original: bytes.to_vec(),
                    rebased,
                });
            } else if evtx_carve::template_references(bytes).is_some_and(|refs| {
                refs.iter()
                    .all(|&(id, at)| evtx_carve::definition_at(chunk, at, id))
            }) {
                // The definitions it points at are still there (its earlier
                // neighbours in the unused space carried them inline).
                self.render_in_place(offset, chunk, start, &starts, &mut in_place);
            } else {
                self.lone_record(record.offset, bytes);
            }
        }
        if !guests.is_empty() {
            self.render_guests(offset, chunk, guests);
        }
    }

    /// [`Recovery::log_chunk`] for a chunk whose unused space holds no record (the
    /// read of the log found so): only its templates, for lone records elsewhere.
    pub fn templates_only(&self, offset: u64, chunk: &[u8]) {
        self.remember_templates(offset, chunk);
    }

    /// True if a live log holds the same record.
    fn is_live(&self, record: &EventRecord) -> bool {
        self.live.iter().any(|live| live.contains(record))
    }

    fn chunk(&self, offset: u64, chunk: &[u8], intact: bool) {
        let mut rendered = HashSet::new();
        let mut on_record = |record: EventRecord| {
            rendered.insert(record.record_id);
            let carved = Carved {
                offset,
                verified: intact,
                live_copy: self.is_live(&record),
                chunk: None,
            };
            rows::event(
                self.place.out,
                self.place.label,
                self.place.file,
                record,
                Some(carved),
            );
        };
        let mut errors = Vec::new();
        // The evtx crate is robust, but a damaged chunk is hostile input by
        // definition: a panic in it must cost this chunk only.
        let outcome = contained(|| {
            read_chunk(chunk.to_vec(), intact, &mut on_record, &mut |e| {
                errors.push(e)
            })
        });
        match outcome {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => errors.push(e.to_string()),
            Err(_) => errors.push("the evtx parser panicked on this chunk".into()),
        }
        if intact {
            for e in errors {
                self.place.error(offset, Stage::Carve, &e);
            }
            self.remember_templates(offset, chunk);
            // Behind the free-space offset lie records of the chunk's earlier
            // use (a log that was cleared or wrapped): lone records now.
            let free = evtx_carve::check_chunk(chunk, offset).free_space_offset as usize;
            self.lone_records_in(chunk, offset, free, &HashSet::new());
        } else {
            // What the parser could not render is not lost either.
            self.lone_records_in(chunk, offset, 0, &rendered);
        }
    }

    /// Every record from `from` on in `chunk` (at `offset`) whose id is not in
    /// `skip`, handled as a lone record.
    fn lone_records_in(&self, chunk: &[u8], offset: u64, from: usize, skip: &HashSet<u64>) {
        let area = chunk.get(from..).unwrap_or_default();
        for record in find_records(area, offset + from as u64) {
            if skip.contains(&record.record_id) {
                continue;
            }
            let start = (record.offset - offset) as usize;
            let bytes = chunk
                .get(start..start + record.size as usize)
                .unwrap_or_default();
            self.lone_record(record.offset, bytes);
        }
    }

    /// Keeps `chunk` as a template donor if it defines a template no kept chunk
    /// defines yet, or one with fewer than a few donors: a record needs a donor
    /// holding all of its templates (outer and nested) at once. Returns the
    /// chunk's definitions (offset by template id).
    fn remember_templates(&self, offset: u64, chunk: &[u8]) -> HashMap<u32, u32> {
        let definitions: HashMap<u32, u32> = evtx_carve::template_definitions(chunk)
            .into_iter()
            .collect();
        let mut guard = self.donors.lock().unwrap_or_else(|p| p.into_inner());
        let donors = &mut *guard;
        // Templates for which this chunk is among the lowest offsets seen.
        let wanted: Vec<u32> = definitions
            .keys()
            .copied()
            .filter(|id| {
                donors.by_template.get(id).is_none_or(|kept| {
                    kept.len() < DONORS_PER_TEMPLATE || kept.last().is_some_and(|&l| l > offset)
                })
            })
            .collect();
        if wanted.is_empty()
            || donors.chunks.contains_key(&offset)
            || donors.chunks.len() >= MAX_DONORS
        {
            return definitions;
        }
        for id in &wanted {
            let kept = donors.by_template.entry(*id).or_default();
            kept.insert(offset);
            if kept.len() > DONORS_PER_TEMPLATE {
                // The highest is no longer among the lowest: one use fewer.
                let Some(dropped) = kept.pop_last() else {
                    continue;
                };
                if let Some(donor) = donors.chunks.get_mut(&dropped) {
                    donor.uses -= 1;
                    if donor.uses == 0 {
                        donors.chunks.remove(&dropped);
                    }
                }
            }
        }
        donors.chunks.insert(
            offset,
            Donor {
                definitions: definitions.clone(),
                uses: wanted.len(),
            },
        );
        definitions
    }

    /// A record outside any readable chunk: kept to be rendered once every donor
    /// chunk is known, or written raw at once when the budget is spent.
    fn lone_record(&self, offset: u64, bytes: &[u8]) {
        let mut lone = self.lone.lock().unwrap_or_else(|p| p.into_inner());
        if lone.bytes + bytes.len() <= MAX_LONE_BYTES {
            lone.bytes += bytes.len();
            lone.records.push((offset, bytes.to_vec()));
        } else {
            drop(lone);
            self.raw_record(offset, bytes);
        }
    }

    /// A record as carved.csv shows it: id, time and its text.
    fn raw_record(&self, offset: u64, bytes: &[u8]) {
        // Kept records passed their checks where they were found.
        let Some(record) = evtx_carve::record_header(bytes, 0, bytes.len()) else {
            return;
        };
        let text = utf16_strings(bytes.get(24..).unwrap_or_default(), 3).join(" | ");
        // A live log's record is named by its log and chunk; a carved one has none.
        let name = self
            .place
            .chunk_of(offset)
            .map(|n| format!("{} (chunk {n})", self.place.file))
            .unwrap_or_default();
        self.place.carved_row(
            "evtx_record",
            offset,
            &Filetime(record.written).to_string(),
            &name,
            &record.record_id.to_string(),
            &truncate(&text, MAX_TEXT),
        );
    }

    /// Renders the kept lone records with the templates of donor chunks (same
    /// template id), read again from `data`; what has no donor, or does not
    /// render, is written raw.
    fn render_lone(&self, data: &dyn ReadAt) {
        let mut lone = std::mem::take(&mut *self.lone.lock().unwrap_or_else(|p| p.into_inner()));
        let donors = std::mem::take(&mut *self.donors.lock().unwrap_or_else(|p| p.into_inner()));
        // In offset order, not the order the pass's threads found them in.
        lone.records.sort_by_key(|(offset, _)| *offset);
        let mut by_donor: BTreeMap<u64, Vec<Guest>> = BTreeMap::new();
        for (offset, bytes) in lone.records {
            let candidates = template_id(&bytes).and_then(|id| donors.by_template.get(&id));
            // The first donor (lowest offset) that defines every template the
            // record uses.
            let rebased = candidates.into_iter().flatten().find_map(|&at| {
                let donor = donors.chunks.get(&at)?;
                let rebased = rebase_record(&bytes, &|id| donor.definitions.get(&id).copied())?;
                Some((at, rebased))
            });
            let id = evtx_carve::record_header(&bytes, 0, bytes.len()).map(|r| r.record_id);
            match (rebased, id) {
                (Some((donor, rebased)), Some(id)) => {
                    by_donor.entry(donor).or_default().push(Guest {
                        id,
                        offset,
                        original: bytes,
                        rebased,
                    })
                }
                _ => self.raw_record(offset, &bytes),
            }
        }
        let mut chunk = vec![0u8; evtx_carve::CHUNK_SIZE];
        for (donor, guests) in by_donor {
            // The bytes were read once from this data at this offset: a read
            // that fails now costs these guests their rendering, not their rows.
            match data.read_exact_at(&mut chunk, donor) {
                Ok(()) => self.render_guests(donor, &chunk, guests),
                Err(e) => {
                    self.place.error(
                        donor,
                        Stage::Carve,
                        &format!("template donor chunk read again: {e}"),
                    );
                    for guest in guests {
                        self.raw_record(guest.offset, &guest.original);
                    }
                }
            }
        }
    }

    /// Writes a lone record rendered away from its own chunk's templates (`file`
    /// says whose it had), found at `offset`: its chunk's checksums cannot vouch
    /// for it. A rendering without a usable `EventRecordID` or `TimeCreated` came
    /// from a template that is not the record's own (every event has both): it
    /// is no rendering, and the record is written raw (`original`, its bytes), as
    /// one no template renders. Slack we cannot render is not live data lost.
    fn rendered_lone(&self, file: &str, offset: u64, record: EventRecord, original: &[u8]) {
        if record.problem.is_some() {
            return self.raw_record(offset, original);
        }
        let carved = Carved {
            offset,
            verified: false,
            live_copy: self.is_live(&record),
            chunk: self.place.chunk_of(offset),
        };
        rows::event(self.place.out, self.place.label, file, record, Some(carved));
    }

    /// Renders the record at `at` of a live log's `chunk` (at file offset
    /// `offset`) where it lies, every template it uses being defined at the offset
    /// it points at; `hide`: where the chunk's other records start. The fast path
    /// reads it in the chunk as it is; else the crate reads it in a copy of the
    /// chunk that names it alone.
    fn render_in_place(
        &self,
        offset: u64,
        chunk: &[u8],
        at: usize,
        hide: &[usize],
        in_place: &mut InPlace<'_>,
    ) {
        let room = chunk.len().saturating_sub(at);
        let Some(header) = evtx_carve::record_header(chunk, at, room) else {
            return;
        };
        let mut rendered = in_place.record(at);
        if rendered.is_none() {
            if let Some(copy) = evtx_carve::in_place_chunk(chunk, at, hide) {
                // Hostile bytes in a chunk the parser trusts: contain it.
                let _ =
                    contained(|| read_chunk(copy, false, &mut |r| rendered = Some(r), &mut |_| {}));
            }
        }
        let record_offset = offset + at as u64;
        let ours = |r: &EventRecord| r.header_record_id.unwrap_or(r.record_id) == header.record_id;
        let bytes = chunk.get(at..at + header.size as usize).unwrap_or_default();
        match rendered.filter(ours) {
            Some(record) => self.rendered_lone(self.place.file, record_offset, record, bytes),
            None => self.raw_record(record_offset, bytes),
        }
    }

    /// Hosts `guests` in copies of the donor chunk, as many per copy as fit with
    /// distinct ids, and writes what renders.
    fn render_guests(&self, donor_offset: u64, donor: &[u8], mut guests: Vec<Guest>) {
        let file = format!(
            "{} (templates of the chunk at {donor_offset})",
            self.place.file
        );
        guests.sort_by_key(|g| g.id);
        while !guests.is_empty() {
            // One copy takes increasing, distinct ids; repeats wait for the next.
            let (mut batch, mut later) = (Vec::new(), Vec::new());
            for guest in guests {
                if batch.last().is_some_and(|b: &Guest| b.id == guest.id) {
                    later.push(guest);
                } else {
                    batch.push(guest);
                }
            }
            let slices: Vec<&[u8]> = batch.iter().map(|g| g.rebased.as_slice()).collect();
            let Some((chunk, placed)) = host_chunk(donor, &slices).filter(|(_, p)| !p.is_empty())
            else {
                for g in batch.iter().chain(&later) {
                    self.raw_record(g.offset, &g.original);
                }
                return;
            };
            // The guests lie back to back from the donor's free space on: the fast
            // path reads each there; the crate reads the copy when one is not taken.
            let mut rendered: HashMap<u64, EventRecord> = HashMap::new();
            let mut in_place = InPlace::new(&chunk);
            let mut all_taken = true;
            for (guest, &at) in batch.iter().zip(&placed) {
                match in_place.record(at).filter(|r| r.record_id == guest.id) {
                    Some(record) => {
                        rendered.insert(guest.id, record);
                    }
                    None => all_taken = false,
                }
            }
            if !all_taken {
                let mut by_crate: HashMap<u64, EventRecord> = HashMap::new();
                // The guests are hostile bytes in a chunk the parser trusts: contain it.
                let _ = contained(|| {
                    read_chunk(
                        chunk,
                        false,
                        &mut |r| {
                            by_crate.insert(r.record_id, r);
                        },
                        &mut |_| {},
                    )
                });
                for (id, record) in by_crate {
                    rendered.entry(id).or_insert(record);
                }
            }
            for guest in batch.drain(..placed.len()) {
                match rendered.remove(&guest.id) {
                    Some(record) => {
                        self.rendered_lone(&file, guest.offset, record, &guest.original)
                    }
                    None => self.raw_record(guest.offset, &guest.original),
                }
            }
            later.extend(batch);
            guests = later;
            guests.sort_by_key(|g| g.id);
        }
    }

    fn mft_record(&self, offset: u64, bytes: &[u8]) {
        // NTFS 3.1 records carry their own number at 0x2C.
        let number = bytes
            .get(0x2C..0x30)
            .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        // A failed fixup is a torn or foreign structure: not a record, not an error.
        let Ok(entry) = parse_record(u64::from(number), bytes.to_vec()) else {
            return;
        };
        let mut kept = self.records.lock().unwrap_or_else(|p| p.into_inner());
        if kept.len() < MAX_KEPT_RECORDS {
            kept.push((offset, bytes.len() as u64, entry));
        } else {
            drop(kept);
            let path = entry
                .best_name()
                .map(|n| n.name.clone())
                .unwrap_or_default();
            let p = self.place;
            rows::mft(p.out, p.label, &MftRow { entry, path }, Some(offset));
        }
    }

    fn prefetch(&self, data: &dyn ReadAt, offset: u64, limit: u64) {
        let mut head = [0u8; 16];
        if data.read_exact_at(&mut head, offset).is_err() {
            return;
        }
        let field = |at: usize| {
            u64::from(u32::from_le_bytes([
                head[at],
                head[at + 1],
                head[at + 2],
                head[at + 3],
            ]))
        };
        // SCCA states its whole size; MAM its uncompressed size, which bounds the
        // compressed stream after it.
        let stated = if head.starts_with(b"MAM") {
            field(4) + 8
        } else {
            field(12)
        };
        let len = stated.min(MAX_PREFETCH).min(limit.saturating_sub(offset));
        // Read in growing windows: a candidate that fails early, as garbage after
        // a signature does, costs its first window, not its claimed size. Read
        // whole, a signature every 512 bytes over 23 MiB of free space claiming
        // 64 MiB each cost 100 s, all in reading and zeroing buffers.
        let mut window = len.min(FIRST_PREFETCH_WINDOW);
        loop {
            let mut bytes = vec![0u8; window as usize];
            if data.read_exact_at(&mut bytes, offset).is_err() {
                return;
            }
            match prefetch::parse(&bytes) {
                // Parts past the window read as damage: the rest is read first.
                Ok(pf) if window < len && !pf.damaged.is_empty() => {
                    window = window.saturating_mul(4).min(len);
                }
                Ok(pf) => {
                    let p = self.place;
                    let path = format!("{}/{}-{:08X}.pf", p.file, pf.executable, pf.hash);
                    if let Some(lost) = rows::prefetch_damage(&pf) {
                        self.place.error(offset, Stage::CarvePrefetch, &lost);
                    }
                    rows::prefetch(p.out, p.label, &path, &pf, Some(offset));
                    return;
                }
                Err(e) if window < len && ran_out_of_input(&e, window) => {
                    window = window.saturating_mul(4).min(len);
                }
                Err(e) => {
                    return self
                        .place
                        .error(offset, Stage::CarvePrefetch, &e.to_string())
                }
            }
        }
    }

    fn hive_piece(&self, data: &dyn ReadAt, offset: u64, limit: u64) {
        let mut head = vec![0u8; regf::BASE_BLOCK_SIZE];
        if offset + head.len() as u64 > limit || data.read_exact_at(&mut head, offset).is_err() {
            return;
        }
        let mut parts = self.hives.lock().unwrap_or_else(|p| p.into_inner());
        if parts.bytes >= MAX_KEPT_HIVE_BYTES {
            return;
        }
        if head.starts_with(b"regf") {
            if regf::BaseBlock::parse(&head).is_ok_and(|b| b.checksum_ok) {
                parts.bytes += head.len();
                parts.bases.insert(offset, head);
            }
            return;
        }
        let Some(bin) = regf::bin_header(&head) else {
            return;
        };
        let size = u64::from(bin.size);
        if offset + size > limit {
            return;
        }
        head.resize(size as usize, 0);
        if size > regf::BASE_BLOCK_SIZE as u64
            && data
                .read_exact_at(
                    &mut head[regf::BASE_BLOCK_SIZE..],
                    offset + regf::BASE_BLOCK_SIZE as u64,
                )
                .is_err()
        {
            return;
        }
        parts.bytes += head.len();
        parts.bins.push((offset, head));
    }

    /// Writes what needed the whole pass: lone event records rendered with the
    /// templates of donor chunks (read again from `data`, the data the pass's
    /// offsets are in), carved `FILE` records with the paths their siblings give
    /// them, and the keys of rebuilt hives.
    pub fn finish(self, data: &dyn ReadAt) {
        self.render_lone(data);
        // Everything in offset order, not the order the pass's threads found it in.
        let mut records = self.records.into_inner().unwrap_or_else(|p| p.into_inner());
        records.sort_by_key(|(offset, _, _)| *offset);
        write_mft_records(self.place, records);
        let mut hives = self.hives.into_inner().unwrap_or_else(|p| p.into_inner());
        hives.bins.sort_by_key(|(offset, _)| *offset);
        write_hive_keys(self.place, hives);
    }
}

/// Groups carved records by the `$MFT` they came from and writes them with paths.
fn write_mft_records(place: Place<'_>, records: Vec<KeptRecord>) {
    let mut by_origin: BTreeMap<u64, Vec<(u64, FileEntry)>> = BTreeMap::new();
    for (offset, size, entry) in records {
        let origin = entry
            .record
            .checked_mul(size)
            .and_then(|start| offset.checked_sub(start))
            .unwrap_or(u64::MAX);
        by_origin.entry(origin).or_default().push((offset, entry));
    }
    for group in by_origin.into_values() {
        let mut dirs = DirectoryMap::default();
        for (_, entry) in &group {
            dirs.add(entry);
        }
        for (offset, entry) in group {
            let path = dirs.path_of_entry(&entry);
            rows::mft(
                place.out,
                place.label,
                &MftRow { entry, path },
                Some(offset),
            );
        }
    }
}

/// Rebuilds each carved hive from its bins and writes every key node found.
fn write_hive_keys(place: Place<'_>, parts: HiveParts) {
    // A bin at offset B claiming hive offset O belongs to the hive whose base block
    // is (or was) at B - O - 4096.
    let mut groups: BTreeMap<u64, Vec<(u64, Vec<u8>)>> = BTreeMap::new();
    for (offset, bin) in parts.bins {
        let Some(header) = regf::bin_header(&bin) else {
            continue;
        };
        let Some(origin) =
            offset.checked_sub(u64::from(header.offset) + regf::BASE_BLOCK_SIZE as u64)
        else {
            continue;
        };
        groups.entry(origin).or_default().push((offset, bin));
    }
    for (origin, bins) in groups {
        let base = parts.bases.get(&origin).map(Vec::as_slice);
        let slices: Vec<&[u8]> = bins.iter().map(|(_, b)| b.as_slice()).collect();
        let hive = match regf::Hive::from_carved(base, &slices) {
            Ok(h) => h,
            Err(e) => {
                place.error(origin, Stage::CarveHive, &e.to_string());
                continue;
            }
        };
        let hive_name = if base.is_some() {
            hive.base_block().file_name.clone()
        } else {
            "(base block not found)".to_string()
        };
        for (offset, bin) in &bins {
            let Some(header) = regf::bin_header(bin) else {
                continue;
            };
            // Carved bins are fragments: a cell that is no key, or a value list
            // pointing into bins that were not found, is expected, not a loss.
            for cell in regf::key_cells(bin) {
                let Ok(key) = hive.key_at(cell) else {
                    continue;
                };
                let (path, _) = hive.path_of(&key);
                let values: Vec<String> = key
                    .values()
                    .unwrap_or_default()
                    .iter()
                    .map(|v| {
                        let data = v.data().map(|d| render(&d)).unwrap_or_default();
                        format!("{}={}", v.name(), truncate(&data, 200))
                    })
                    .collect();
                let detail = format!("hive {hive_name}; values: {}", values.join(" | "));
                let at = offset + u64::from(cell - header.offset);
                place.carved_row(
                    "hive_key",
                    at,
                    &key.last_written().to_string(),
                    &path,
                    &cell.to_string(),
                    &truncate(&detail, MAX_TEXT),
                );
            }
        }
    }
}

/// Whether parsing the first `window` bytes of a Prefetch candidate failed for
/// want of the bytes after them: a structure or the compressed stream ran past
/// the window's end, or the stated size is more than so few bytes can inflate to.
fn ran_out_of_input(e: &prefetch::Error, window: u64) -> bool {
    use prefetch::Error;
    /// A decoder reads a little ahead of where it reports a damaged stream.
    const SLACK: u64 = 64;
    match e {
        Error::Truncated { .. } => true,
        Error::CorruptStream { offset, .. } => *offset as u64 + SLACK >= window,
        Error::SizeLimit { limit, .. } => *limit < window.saturating_mul(256),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The growing read of a Prefetch candidate stops at the first window when
    /// what it holds is garbage, and grows when a real file runs past it.
    #[test]
    fn a_prefetch_candidate_grows_only_while_it_runs_out_of_input() {
        let path = crate::collect::evtx::equivalence::corpus()
            .join("hosts/win10-aptsim/Windows/Prefetch/MSCORSVW.EXE-16B291C4.pf");
        let whole = std::fs::read(path).unwrap();
        assert!(prefetch::parse(&whole).is_ok());
        for cut in [300, 20_000, 60_000] {
            let e = prefetch::parse(&whole[..cut]).unwrap_err();
            assert!(ran_out_of_input(&e, cut as u64), "{cut}: {e}");
        }
        let mut garbage = whole[..8].to_vec();
        garbage.resize(FIRST_PREFETCH_WINDOW as usize, 0xff);
        let e = prefetch::parse(&garbage).unwrap_err();
        assert!(!ran_out_of_input(&e, FIRST_PREFETCH_WINDOW), "{e}");
    }

    fn record(id: u64, time: &str) -> EventRecord {
        EventRecord {
            channel: "Security".into(),
            record_id: id,
            time: time.into(),
            fields: vec![("TargetUserName".into(), "alice".into())],
            ..EventRecord::default()
        }
    }

    #[test]
    fn a_live_record_is_known_by_its_identity_and_nothing_else_is() {
        let live = LiveRecords::by_identity();
        live.insert(&record(7, "2026-11-30T10:00:00.0000000Z"));
        assert!(live.contains(&record(7, "2026-11-30T10:00:00.0000000Z")));
        assert!(!live.contains(&record(8, "2026-11-30T10:00:00.0000000Z")));
        assert!(!live.contains(&record(7, "2026-11-30T10:00:01.0000000Z")));
        // By identity, other fields do not matter; with fields, they do.
        let mut other = record(7, "2026-11-30T10:00:00.0000000Z");
        other.fields[0].1 = "bob".into();
        assert!(live.contains(&other));
        let whole = LiveRecords::default();
        whole.insert(&record(7, "2026-11-30T10:00:00.0000000Z"));
        assert!(!whole.contains(&other));
    }

    #[test]
    fn record_keys_are_keyed_per_set() {
        // Two sets hash the same record differently: a collision cannot be made
        // in advance.
        let (a, b) = (LiveRecords::default(), LiveRecords::default());
        let r = record(7, "2026-11-30T10:00:00.0000000Z");
        assert_ne!(
            record_key(&a.hash, &r, false),
            record_key(&b.hash, &r, false)
        );
    }
}
