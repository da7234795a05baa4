//! One NTFS volume: the MFT, the upcase table, path lookup and directory listing.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use super::attribute::{kind, Attribute, Body, FileName, NAMESPACE_DOS};
use super::boot::BootSector;
use super::file::FileEntry;
use super::index::{self, IndexEntry};
use super::known;
use super::le::Fields;
use super::record::Record;
use super::stream::Stream;
use super::NtfsError;
use crate::evidence::ReadAt;

/// Most extension records one file may pull in through its attribute list.
const MAX_EXTENSION_RECORDS: usize = 4096;

/// An opened NTFS volume.
pub struct Volume {
    data: Arc<dyn ReadAt>,
    boot: BootSector,
    mft: Arc<Stream>,
    /// `$MFTMirr`'s copy of record 0, when the `$MFT`'s own is damaged.
    record_zero: Option<Record>,
    upcase: Vec<u16>,
    label: Option<String>,
    warnings: Vec<String>,
    /// Every in-use file's names by parent folder, from the whole MFT: read once,
    /// the first time a folder's index is found damaged.
    names_by_parent: OnceLock<HashMap<u64, Vec<IndexEntry>>>,
}

impl Volume {
    /// Opens the NTFS volume that `data` holds (exactly the partition's bytes).
    pub fn open(data: Arc<dyn ReadAt>) -> Result<Volume, NtfsError> {
        let mut sector = [0u8; 512];
        let mut warnings = Vec::new();
        let primary = data
            .read_exact_at(&mut sector, 0)
            .map_err(NtfsError::from)
            .and_then(|()| BootSector::parse(&sector));
        let boot = match primary {
            Ok(boot) => boot,
            // Windows keeps a copy of the boot sector in the volume's last sector.
            Err(e) => {
                let at = data.len().saturating_sub(512);
                let backup = data
                    .read_exact_at(&mut sector, at)
                    .ok()
                    .and_then(|()| BootSector::parse(&sector).ok())
                    .filter(|b| b.volume_size() <= data.len());
                match backup {
                    Some(b) => {
                        warnings.push(format!("{e}; the backup boot sector at byte {at} is used"));
                        b
                    }
                    None => return Err(e),
                }
            }
        };
        let boot = bounded_by_container(boot, data.len(), &mut warnings);
        let boot = checked_record_size(&data, boot, &mut warnings);
        let (mft, record_zero) = bootstrap_mft(&data, &boot, &mut warnings)?;
        let mut volume = Volume {
            data,
            boot,
            mft: Arc::new(mft),
            record_zero,
            upcase: Vec::new(),
            label: None,
            warnings,
            names_by_parent: OnceLock::new(),
        };
        match volume.read_upcase() {
            Ok(table) => volume.upcase = table,
            Err(e) => volume.warnings.push(format!(
                "$UpCase unreadable or implausible ({e}); names compared with Unicode \
                 upper case"
            )),
        }
        volume.label = volume.read_label();
        Ok(volume)
    }

    /// The volume's bytes (for whole-volume passes such as carving).
    pub fn bytes(&self) -> Arc<dyn ReadAt> {
        Arc::clone(&self.data)
    }

    /// Boot-sector geometry.
    pub fn boot(&self) -> &BootSector {
        &self.boot
    }

    /// Volume label from `$Volume`, if set.
    pub fn label(&self) -> Option<&str> {
        self.label.as_deref()
    }

    /// Problems met while opening that did not stop it.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The `$MFT` as a byte stream (every record, in use or not).
    pub fn mft_stream(&self) -> Arc<Stream> {
        Arc::clone(&self.mft)
    }

    /// Number of record slots in the MFT that exist on disk: a stated size past
    /// the last allocated cluster (sparse or unwritten, which no real `$MFT` has)
    /// holds no records to walk.
    pub fn record_count(&self) -> u64 {
        self.mft.data_end() / self.boot.record_size
    }

    /// One MFT record with fixups applied.
    pub fn record(&self, number: u64) -> Result<Record, NtfsError> {
        if let (known::MFT, Some(copy)) = (number, &self.record_zero) {
            return Ok(copy.clone());
        }
        let size = self.boot.record_size;
        let offset = number
            .checked_mul(size)
            .filter(|&o| o < self.mft.len())
            .ok_or_else(|| NtfsError::Record {
                record: number,
                reason: format!("beyond the MFT ({} records)", self.record_count()),
            })?;
        let mut raw = vec![0u8; size as usize];
        self.mft.read_exact_at(&mut raw, offset)?;
        let record = Record::from_raw(number, raw.clone()).map_err(|reason| NtfsError::Record {
            record: number,
            reason,
        })?;
        // A header stating another number over that record's very bytes is a copy
        // (`$MFT` runs mapping its clusters twice): served as this record it would
        // be another file under this one's name, and this one's file unread.
        if let Some(stated) = record.misplaced() {
            let mut other = vec![0u8; size as usize];
            let same = u64::from(stated)
                .checked_mul(size)
                .is_some_and(|at| self.mft.read_exact_at(&mut other, at).is_ok())
                && other == raw;
            if same {
                return Err(NtfsError::Record {
                    record: number,
                    reason: format!(
                        "its bytes are a copy of record {stated} (the $MFT's runs map the \
                         same clusters twice): the file of record {number} cannot be read"
                    ),
                });
            }
        }
        Ok(record)
    }

    /// A file: its base record plus the extension records its attribute list names.
    pub fn file(&self, number: u64) -> Result<FileEntry, NtfsError> {
        let base = self.record(number)?;
        let mut problems: Vec<String> = base.misplaced_problem().into_iter().collect();
        let mut attributes = Vec::new();
        for attr in base.attributes() {
            match attr {
                Ok(a) => attributes.push(a),
                Err(e) => problems.push(e),
            }
        }
        let list = attributes
            .iter()
            .find(|a| a.kind == kind::ATTRIBUTE_LIST)
            .cloned();
        if let Some(list) = list {
            let mut extra = self.extension_attributes(&base, &list, &mut problems);
            attributes.append(&mut extra);
        }
        Ok(FileEntry::new(&base, attributes, problems))
    }

    fn extension_attributes(
        &self,
        base: &Record,
        list: &Attribute,
        problems: &mut Vec<String>,
    ) -> Vec<Attribute> {
        let value = match attribute_value(&self.data, self.boot.cluster_size, list) {
            Ok(v) => v,
            Err(e) => {
                problems.push(format!("attribute list: {e}"));
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        let (records, cut) = attribute_list_records(&value);
        problems.extend(cut);
        for entry in records {
            if entry == base.number || !seen.insert(entry) {
                continue;
            }
            if seen.len() > MAX_EXTENSION_RECORDS {
                problems.push("attribute list names too many records".into());
                break;
            }
            match self.record(entry) {
                Ok(ext) if ext.base_record() == base.number => {
                    for attr in ext.attributes() {
                        match attr {
                            Ok(a) => out.push(a),
                            Err(e) => problems.push(e),
                        }
                    }
                }
                Ok(_) => problems.push(format!("extension record {entry} belongs to another file")),
                Err(e) => problems.push(e.to_string()),
            }
        }
        out
    }

    /// A stream of a file: `name` empty for the unnamed `$DATA`. A name with no
    /// `$DATA` but a named index (`$Secure:$SDH`) gives that index root's raw value,
    /// as The Sleuth Kit's `icat` does.
    pub fn stream(&self, file: &FileEntry, name: &str) -> Result<Stream, NtfsError> {
        let mut extents = file.extents(kind::DATA, name);
        if extents.is_empty() && !name.is_empty() && name != "$I30" {
            extents = file.extents(kind::INDEX_ROOT, name);
        }
        if extents.is_empty() {
            // Absent only when every attribute of the file could be read: one
            // lost to damage may have been this stream.
            if !file.problems.is_empty() {
                return Err(NtfsError::Record {
                    record: file.record,
                    reason: format!(
                        "no stream named '{name}' among the readable attributes: {}",
                        file.problems.join("; ")
                    ),
                });
            }
            return Err(NtfsError::NoSuchStream {
                path: format!("record {}", file.record),
                stream: name.to_string(),
            });
        }
        Stream::from_extents(Arc::clone(&self.data), self.boot.cluster_size, &extents).map_err(
            |reason| NtfsError::Record {
                record: file.record,
                reason,
            },
        )
    }

    /// The names in a directory (all namespaces; DOS 8.3 aliases included) and the
    /// damage met reading its index.
    pub fn read_dir(&self, dir: &FileEntry) -> Result<(Vec<IndexEntry>, Vec<String>), NtfsError> {
        let mut entries = Vec::new();
        let mut problems = Vec::new();
        let roots = dir.extents(kind::INDEX_ROOT, "$I30");
        let root = roots
            .first()
            .and_then(|a| a.resident_value())
            .ok_or_else(|| match dir.problems.is_empty() {
                true => NtfsError::NotADirectory(format!("record {}", dir.record)),
                // The index root may be among the attributes damage hides.
                false => NtfsError::Record {
                    record: dir.record,
                    reason: format!("no readable index root: {}", dir.problems.join("; ")),
                },
            })?;
        if let Err(e) = index::root_entries(root, &mut entries) {
            problems.push(format!("index root: {e}"));
        }
        let allocation = dir.extents(kind::INDEX_ALLOCATION, "$I30");
        if !allocation.is_empty() {
            let block_size = Fields(root)
                .u32(8)
                .map_or(self.boot.index_record_size, u64::from);
            // Without the bitmap every block is read (a stale one may then be
            // listed, a free one fail): the index is damaged either way.
            let bitmap = match dir.extents(kind::BITMAP, "$I30").first() {
                Some(a) => attribute_value(&self.data, self.boot.cluster_size, a)
                    .map_err(|e| problems.push(format!("index bitmap: {e}")))
                    .ok(),
                None => {
                    problems.push("index allocation without a bitmap".into());
                    None
                }
            };
            match Stream::from_extents(Arc::clone(&self.data), self.boot.cluster_size, &allocation)
            {
                Ok(stream) if (512..=65536).contains(&block_size) => index::allocation_entries(
                    &stream,
                    bitmap.as_deref(),
                    block_size,
                    &mut entries,
                    &mut problems,
                ),
                Ok(_) => problems.push(format!("index block size {block_size} invalid")),
                Err(e) => problems.push(format!("index allocation: {e}")),
            }
        }
        // The root's `.` entry names the root; any other entry naming its own
        // folder is a cycle, and the file the entry should name is lost from the
        // index (the MFT completes the listing below).
        let is_dot = |e: &IndexEntry| dir.record == known::ROOT && e.name.name == ".";
        {
            for e in entries
                .iter()
                .filter(|e| e.record == dir.record && !is_dot(e))
            {
                problems.push(format!(
                    "index entry '{}' points at its own directory (record {})",
                    e.name.name, dir.record
                ));
            }
        }
        if !problems.is_empty() {
            self.complete_from_mft(dir, &mut entries);
        }
        Ok((entries, problems))
    }

    /// Adds to a damaged folder's `entries` the files whose `$FILE_NAME` names it
    /// as their parent (same record, same sequence) and that the readable part of
    /// its index does not list: a lost index block costs the index, not the files,
    /// whose MFT records are intact. (The damage itself stays reported.)
    fn complete_from_mft(&self, dir: &FileEntry, entries: &mut Vec<IndexEntry>) {
        let Some(children) = self.names_by_parent().get(&dir.record) else {
            return;
        };
        let listed: HashSet<u64> = entries.iter().map(|e| e.record).collect();
        entries.extend(
            children
                .iter()
                .filter(|c| c.name.parent_sequence == dir.sequence && !listed.contains(&c.record))
                .cloned(),
        );
    }

    /// Every in-use file's names by parent folder record. Records that cannot be
    /// read are skipped here: the MFT listing reports each of them.
    fn names_by_parent(&self) -> &HashMap<u64, Vec<IndexEntry>> {
        self.names_by_parent.get_or_init(|| {
            let mut map: HashMap<u64, Vec<IndexEntry>> = HashMap::new();
            for number in 0..self.record_count() {
                let Ok(file) = self.file(number) else {
                    continue;
                };
                if !file.in_use {
                    continue;
                }
                for name in file.names.into_iter().filter(|n| n.parent != number) {
                    map.entry(name.parent).or_default().push(IndexEntry {
                        record: number,
                        sequence: file.sequence,
                        name,
                    });
                }
            }
            map
        })
    }

    /// Looks a path up from the root, case-insensitively as Windows does, with `/` or
    /// `\` separators (`Windows/System32/config/SYSTEM`).
    pub fn lookup(&self, path: &str) -> Result<FileEntry, NtfsError> {
        let mut current = self.file(known::ROOT)?;
        let mut walked = String::new();
        for component in path
            .split(['/', '\\'])
            .filter(|c| !c.is_empty() && *c != ".")
        {
            if !walked.is_empty() {
                walked.push('/');
            }
            walked.push_str(component);
            if !current.is_directory {
                return Err(NtfsError::NotADirectory(walked));
            }
            let (entries, problems) = self.read_dir(&current)?;
            let wanted = self.fold(component);
            // Names that differ only in case (POSIX namespace twins) are distinct
            // files: the exact spelling wins, case-folding only finds the rest.
            let candidates = || entries.iter().filter(|e| e.record != current.record);
            let hit = candidates()
                .find(|e| e.name.name == component)
                .or_else(|| candidates().find(|e| self.fold(&e.name.name) == wanted))
                .ok_or_else(|| match problems.is_empty() {
                    // Absent for sure only when the whole index could be read.
                    true => NtfsError::NotFound(walked.clone()),
                    false => NtfsError::DamagedIndex {
                        path: walked.clone(),
                        directory: walked.rsplit_once('/').map_or("/", |(d, _)| d).into(),
                        problems: problems.join("; "),
                    },
                })?;
            let next = self.file(hit.record)?;
            if !next.in_use || next.sequence != hit.sequence {
                return Err(NtfsError::NotFound(format!(
                    "{walked} (index entry points to a reused or deleted record)"
                )));
            }
            entry_leads_home(hit, &next)?;
            current = next;
        }
        Ok(current)
    }

    /// Opens `path`'s stream `stream` (empty for the file's content).
    pub fn open_stream(&self, path: &str, stream: &str) -> Result<Stream, NtfsError> {
        let file = self.lookup(path)?;
        self.stream(&file, stream).map_err(|e| match e {
            NtfsError::NoSuchStream { stream, .. } => NtfsError::NoSuchStream {
                path: path.to_string(),
                stream,
            },
            other => other,
        })
    }

    /// The change journal `$Extend/$UsnJrnl:$J`, if the volume keeps one. Its head
    /// is sparse: use [`Stream::extents`] to read only the allocated part.
    pub fn usn_journal(&self) -> Result<Option<Stream>, NtfsError> {
        match self.open_stream("$Extend/$UsnJrnl", "$J") {
            Ok(s) => Ok(Some(s)),
            Err(NtfsError::NotFound(_) | NtfsError::NoSuchStream { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Calls `visit(first_cluster, count)` for each run of unallocated clusters, in
    /// order, reading `$Bitmap` a block at a time.
    pub fn for_each_unallocated_run(
        &self,
        mut visit: impl FnMut(u64, u64),
    ) -> Result<(), NtfsError> {
        let bitmap_file = self.file(known::BITMAP)?;
        let bitmap = self.stream(&bitmap_file, "")?;
        let total = self.boot.total_clusters();
        let mut block = vec![0u8; 1 << 20];
        let mut run: Option<(u64, u64)> = None;
        let mut offset = 0u64;
        while offset < bitmap.len() && offset * 8 < total {
            let n = (bitmap.len() - offset).min(block.len() as u64) as usize;
            bitmap.read_exact_at(&mut block[..n], offset)?;
            for (i, &byte) in block[..n].iter().enumerate() {
                let base = (offset + i as u64) * 8;
                for bit in 0..8u64 {
                    let cluster = base + bit;
                    if cluster >= total {
                        break;
                    }
                    let free = byte & (1 << bit) == 0;
                    run = match (run, free) {
                        (Some((start, count)), true) => Some((start, count + 1)),
                        (None, true) => Some((cluster, 1)),
                        (Some((start, count)), false) => {
                            visit(start, count);
                            None
                        }
                        (None, false) => None,
                    };
                }
            }
            offset += n as u64;
        }
        if let Some((start, count)) = run {
            visit(start, count);
        }
        Ok(())
    }

    /// Case-folds a name with the volume's own `$UpCase` table.
    pub fn fold(&self, name: &str) -> Vec<u16> {
        name.encode_utf16()
            .map(|u| match self.upcase.get(usize::from(u)) {
                Some(&upper) => upper,
                None => char::from_u32(u32::from(u))
                    .and_then(|c| c.to_uppercase().next())
                    .and_then(|c| u16::try_from(u32::from(c)).ok())
                    .unwrap_or(u),
            })
            .collect()
    }

    /// The file a directory entry names if it is the current version of a live
    /// file; `Ok(None)` for a stale entry, an error when its record cannot be read
    /// (the caller reports it: a file must not vanish without a word).
    pub fn entry_is_live(&self, entry: &IndexEntry) -> Result<Option<FileEntry>, NtfsError> {
        let file = self.file(entry.record)?;
        if !(file.in_use && file.sequence == entry.sequence) {
            return Ok(None);
        }
        entry_leads_home(entry, &file)?;
        Ok(Some(file))
    }

    fn read_upcase(&self) -> Result<Vec<u16>, NtfsError> {
        let file = self.file(known::UPCASE)?;
        let stream = self.stream(&file, "")?;
        if stream.len() != 131_072 {
            return Err(NtfsError::Record {
                record: known::UPCASE,
                reason: format!("$UpCase is {} bytes, expected 131072", stream.len()),
            });
        }
        let mut raw = vec![0u8; 131_072];
        stream.read_exact_at(&mut raw, 0)?;
        let table: Vec<u16> = raw
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        upcase_plausible(&table).map_err(|reason| NtfsError::Record {
            record: known::UPCASE,
            reason,
        })?;
        Ok(table)
    }

    /// The label, a cosmetic name: `$Volume`'s record, if damaged, is reported
    /// by the MFT listing.
    fn read_label(&self) -> Option<String> {
        let file = self.file(known::VOLUME).ok()?;
        let value = file
            .extents(kind::VOLUME_NAME, "")
            .first()?
            .resident_value()?
            .to_vec();
        let label = super::le::utf16_lossy(&value);
        (!label.is_empty()).then_some(label)
    }
}

/// Checks a `$UpCase` table on the one part every NTFS version agrees on: ASCII
/// letters fold to upper case, upper-case letters to themselves. A table that
/// does not (zeroed, or overwritten) would make names match names they are not,
/// and lookups serve the wrong file.
fn upcase_plausible(table: &[u16]) -> Result<(), String> {
    for upper in u16::from(b'A')..=u16::from(b'Z') {
        let lower = upper + 0x20;
        let got = (table.get(usize::from(lower)), table.get(usize::from(upper)));
        if got != (Some(&upper), Some(&upper)) {
            return Err(format!(
                "$UpCase maps '{}' to {:#06x} and '{}' to {:#06x}, not both to '{}': \
                 the table is damaged",
                char::from(lower as u8),
                got.0.copied().unwrap_or(0),
                char::from(upper as u8),
                got.1.copied().unwrap_or(0),
                char::from(upper as u8),
            ));
        }
    }
    Ok(())
}

/// Checks that the record an index entry leads to lives in the entry's directory
/// under the entry's name: the key is a copy of one of the record's `$FILE_NAME`s
/// (hard links and 8.3 aliases have several), parent and name. A damaged entry pointing at another record (the root, an ancestor)
/// would otherwise serve that record as the file it names, and the file itself
/// would silently go unread. A record whose names damage hid cannot be checked;
/// its own problems report it.
fn entry_leads_home(entry: &IndexEntry, file: &FileEntry) -> Result<(), NtfsError> {
    let directory = entry.name.parent;
    let home = |n: &FileName| n.parent == directory && n.name == entry.name.name;
    if file.names.is_empty() || file.names.iter().any(home) {
        return Ok(());
    }
    Err(NtfsError::Record {
        record: file.record,
        reason: format!(
            "the index entry '{}' of directory record {directory} leads here, but none of \
             this record's names is that one in that directory: a damaged entry, the file it names \
             cannot be located through it",
            entry.name.name
        ),
    })
}

/// Whether a directory entry should be shown: DOS 8.3 aliases and the root's
/// self-reference are not separate files.
pub fn is_listed_name(entry: &IndexEntry, dir_record: u64) -> bool {
    entry.name.namespace != NAMESPACE_DOS && entry.record != dir_record
}

/// The whole value of a (small) attribute, resident or not.
fn attribute_value(
    data: &Arc<dyn ReadAt>,
    cluster_size: u64,
    attr: &Attribute,
) -> Result<Vec<u8>, String> {
    if let Body::Resident(v) = &attr.body {
        return Ok(v.clone());
    }
    let stream = Stream::from_extents(Arc::clone(data), cluster_size, &[attr])?;
    // Attribute lists and index bitmaps are small; a huge one is damage.
    if stream.len() > 16 << 20 {
        return Err(format!(
            "attribute of {} bytes is implausibly large",
            stream.len()
        ));
    }
    let mut value = vec![0u8; stream.len() as usize];
    stream
        .read_exact_at(&mut value, 0)
        .map_err(|e| e.to_string())?;
    Ok(value)
}

/// Record numbers an `$ATTRIBUTE_LIST` value refers to, in order, and why the
/// list ends early if it does.
fn attribute_list_records(value: &[u8]) -> (Vec<u64>, Option<String>) {
    let (entries, cut) = attribute_list_entries(value);
    (entries.into_iter().map(|e| e.record).collect(), cut)
}

struct ListEntry {
    kind: u32,
    name: String,
    record: u64,
}

/// The entries of an `$ATTRIBUTE_LIST` value; an entry whose length does not fit
/// ends the list, and the second item says so (the entries after it, and the
/// attributes they place in other records, are lost).
fn attribute_list_entries(value: &[u8]) -> (Vec<ListEntry>, Option<String>) {
    let f = Fields(value);
    let mut out = Vec::new();
    let mut offset = 0usize;
    while offset + 26 <= value.len() {
        // In bounds: the loop condition holds 26 bytes from `offset`.
        let length = usize::from(f.u16(offset + 4).unwrap_or(0));
        if length < 26 || offset + length > value.len() {
            return (
                out,
                Some(format!(
                    "attribute list entry at byte {offset} has bad length {length}: \
                     the list is read up to it"
                )),
            );
        }
        let name_len = usize::from(f.u8(offset + 6).unwrap_or(0));
        let name_off = usize::from(f.u8(offset + 7).unwrap_or(0));
        out.push(ListEntry {
            kind: f.u32(offset).unwrap_or(0),
            name: f.utf16(offset + name_off, name_len).unwrap_or_default(),
            record: f.u64(offset + 16).unwrap_or(0) & 0x0000_FFFF_FFFF_FFFF,
        });
        offset += length;
    }
    (out, None)
}

/// Fewest records a real `$MFT` holds: records 0 to 15 are reserved for the
/// metadata files, whatever the volume's size.
const MIN_MFT_RECORDS: u64 = 16;

/// Builds the `$MFT` stream from record 0. When the `$MFT`'s own record 0 is
/// unusable (a torn write, a bad signature, a `$DATA` that maps fewer records than
/// every `$MFT` has), its copy in `$MFTMirr` is tried: one damaged record must not
/// cost the whole volume. The repair is a warning; the copy used is returned so
/// that reads of record 0 give it too.
fn bootstrap_mft(
    data: &Arc<dyn ReadAt>,
    boot: &BootSector,
    warnings: &mut Vec<String>,
) -> Result<(Stream, Option<Record>), NtfsError> {
    let fail = |reason: String| NtfsError::Record { record: 0, reason };
    let usable = |stream: &Stream| stream.data_end() / boot.record_size >= MIN_MFT_RECORDS;
    let mut own_warnings = Vec::new();
    let primary = read_record_zero(data, boot, boot.mft_lcn)
        .and_then(|r| mft_from_record_zero(data, boot, &r, &mut own_warnings));
    let why = match &primary {
        Ok(stream) if usable(stream) => {
            warnings.append(&mut own_warnings);
            return primary.map(|s| (s, None)).map_err(fail);
        }
        Ok(stream) => format!(
            "its $DATA maps {} bytes, fewer than the {MIN_MFT_RECORDS} records every $MFT holds",
            stream.data_end()
        ),
        Err(e) => e.clone(),
    };
    let mut mirror_warnings = Vec::new();
    let mirror = read_record_zero(data, boot, boot.mft_mirror_lcn)
        .and_then(|r| mft_from_record_zero(data, boot, &r, &mut mirror_warnings).map(|s| (s, r)));
    match (mirror, primary) {
        (Ok((stream, record)), _) if usable(&stream) => {
            warnings.push(format!(
                "$MFT record 0: {why}; its copy in $MFTMirr (cluster {}) is used",
                boot.mft_mirror_lcn
            ));
            warnings.append(&mut mirror_warnings);
            Ok((stream, Some(record)))
        }
        // Neither copy is whole: the primary's part is still read, and reported.
        (_, Ok(stream)) => {
            warnings.push(format!(
                "$MFT record 0: {why}, and $MFTMirr holds no better copy"
            ));
            warnings.append(&mut own_warnings);
            Ok((stream, None))
        }
        (Ok(_), Err(e)) => Err(fail(format!(
            "$MFT record: {e}; its copy in $MFTMirr maps too few records"
        ))),
        (Err(m), Err(e)) => Err(fail(format!(
            "$MFT record: {e}; its copy in $MFTMirr is unusable too: {m}"
        ))),
    }
}

/// The boot sector with its total sectors bounded by the bytes that hold the
/// volume: a larger claim (2^63 sectors) is damage, reported, and never a size to
/// walk or show. (Formatting leaves the last sector, the backup boot sector,
/// outside the count, so a true count never exceeds the container.)
fn bounded_by_container(
    mut boot: BootSector,
    container: u64,
    warnings: &mut Vec<String>,
) -> BootSector {
    if boot.volume_size() > container {
        warnings.push(format!(
            "the boot sector states {} sectors ({} bytes) but the volume holds {container} \
             bytes: read up to {container}",
            boot.total_sectors,
            boot.volume_size()
        ));
        boot.total_sectors = container / boot.sector_size;
    }
    boot
}

/// The boot sector with its MFT record size checked against the records: each
/// `FILE` header states its own allocated size (0x1C). When record 0's disagrees
/// with the boot sector and record 1, found where that size puts it, confirms it,
/// the records are right and the boot sector's byte is damage: the records' size
/// is used and the disagreement reported. Otherwise the boot sector stands.
fn checked_record_size(
    data: &Arc<dyn ReadAt>,
    mut boot: BootSector,
    warnings: &mut Vec<String>,
) -> BootSector {
    let mft = boot.mft_lcn.saturating_mul(boot.cluster_size);
    let stated_at = |offset: u64| {
        let mut header = [0u8; 0x20];
        data.read_exact_at(&mut header, offset).ok()?;
        let size = Fields(&header).u32(0x1C).map(u64::from)?;
        (header.starts_with(b"FILE") && size.is_power_of_two() && (256..=65536).contains(&size))
            .then_some(size)
    };
    let Some(size) = stated_at(mft) else {
        return boot;
    };
    if size != boot.record_size && stated_at(mft.saturating_add(size)) == Some(size) {
        warnings.push(format!(
            "the boot sector states {}-byte MFT records but the records state {size}: \
             {size} is used",
            boot.record_size
        ));
        boot.record_size = size;
    }
    boot
}

/// Record 0 as stored at cluster `lcn` (the `$MFT`'s or `$MFTMirr`'s first).
fn read_record_zero(data: &Arc<dyn ReadAt>, boot: &BootSector, lcn: u64) -> Result<Record, String> {
    if lcn == 0 || lcn >= boot.total_clusters() {
        return Err(format!("cluster {lcn} is outside the volume"));
    }
    let mut raw = vec![0u8; boot.record_size as usize];
    data.read_exact_at(&mut raw, lcn.saturating_mul(boot.cluster_size))
        .map_err(|e| e.to_string())?;
    Record::from_raw(0, raw)
}

/// The `$MFT` stream that a copy of record 0 describes, following its attribute
/// list when the MFT is fragmented enough that its `$DATA` extents live in
/// extension records (which are themselves found through the extents known so
/// far). Damage that leaves part of the `$MFT` unmapped (a bad attribute, a
/// damaged extension record) goes to `warnings`: the records past the mapped part
/// cannot be read.
fn mft_from_record_zero(
    data: &Arc<dyn ReadAt>,
    boot: &BootSector,
    record: &Record,
    warnings: &mut Vec<String>,
) -> Result<Stream, String> {
    let mut attributes: Vec<Attribute> = Vec::new();
    for attr in record.attributes() {
        match attr {
            Ok(a) => attributes.push(a),
            Err(e) => warnings.push(format!("$MFT record 0: {e}")),
        }
    }
    let mut extents: Vec<Attribute> = attributes
        .iter()
        .filter(|a| a.kind == kind::DATA && a.name.is_empty())
        .cloned()
        .collect();
    let build = |extents: &[Attribute]| {
        let refs: Vec<&Attribute> = extents.iter().collect();
        Stream::from_extents(Arc::clone(data), boot.cluster_size, &refs)
    };
    // Records past what the runs map cannot be read: say so once, here (the
    // listing of the `$MFT` walks only the mapped part).
    let checked = |stream: Stream, warnings: &mut Vec<String>| {
        if stream.mapped_len() < stream.len() {
            warnings.push(format!(
                "$MFT states {} bytes but its runs map only {}: the records from {} on \
                 cannot be read",
                stream.len(),
                stream.mapped_len(),
                stream.mapped_len() / boot.record_size
            ));
        }
        stream
    };
    let Some(list) = attributes.iter().find(|a| a.kind == kind::ATTRIBUTE_LIST) else {
        return build(&extents).map(|s| checked(s, warnings));
    };
    let value = attribute_value(data, boot.cluster_size, list)?;
    let (entries, cut) = attribute_list_entries(&value);
    warnings.extend(cut.map(|c| format!("$MFT record 0: {c}")));
    let mut pending: Vec<u64> = entries
        .into_iter()
        .filter(|e| e.kind == kind::DATA && e.name.is_empty() && e.record != 0)
        .map(|e| e.record)
        .collect();
    pending.sort_unstable();
    pending.dedup();
    // Each pass reads the extension records reachable with the extents known so
    // far; a pass that reaches none means the list is damaged.
    while !pending.is_empty() {
        let partial = partial_mft(data, boot, &extents)?;
        let before = pending.len();
        pending.retain(|&number| {
            let offset = number.saturating_mul(boot.record_size);
            let mut raw = vec![0u8; boot.record_size as usize];
            if partial.read_exact_at(&mut raw, offset).is_err() {
                return true;
            }
            match Record::from_raw(number, raw) {
                Ok(ext) => {
                    for attr in ext.attributes() {
                        match attr {
                            Ok(a) if a.kind == kind::DATA && a.name.is_empty() => extents.push(a),
                            Ok(_) => {}
                            Err(e) => warnings.push(format!("$MFT extension record {number}: {e}")),
                        }
                    }
                }
                Err(e) => warnings.push(format!(
                    "$MFT extension record {number}: {e}: the $MFT extents it holds are lost"
                )),
            }
            false
        });
        if pending.len() == before {
            return Err(format!(
                "$MFT attribute list names records {pending:?} that no known extent reaches"
            ));
        }
    }
    build(&extents).map(|s| checked(s, warnings))
}

/// A stream over the `$MFT` extents known so far, readable up to where they reach.
fn partial_mft(
    data: &Arc<dyn ReadAt>,
    boot: &BootSector,
    extents: &[Attribute],
) -> Result<Stream, String> {
    let mut sorted: Vec<&Attribute> = extents.iter().collect();
    sorted.sort_by_key(|a| match &a.body {
        Body::NonResident(n) => n.first_vcn,
        Body::Resident(_) => 0,
    });
    // Keep the contiguous prefix starting at VCN 0; later pieces wait for the gap.
    let mut prefix = Vec::new();
    let mut next_vcn = 0u64;
    for attr in sorted {
        if let Body::NonResident(n) = &attr.body {
            if n.first_vcn != next_vcn {
                break;
            }
            next_vcn = n.runs.last().map_or(next_vcn, |r| r.vcn + r.clusters);
            prefix.push(attr);
        }
    }
    Stream::from_extents(Arc::clone(data), boot.cluster_size, &prefix)
}
