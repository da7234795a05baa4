//! Every record of a `$MFT` stream, with its full path rebuilt from the parent
//! references of `$FILE_NAME`.
//!
//! Two passes over the stream: the first remembers every directory's name and
//! parent (a few dozen bytes per directory), the second emits one row per record.
//! Memory stays proportional to the number of directories, not of files (and the
//! paths kept for reuse are bounded, however deep the directories nest). A name
//! whose parent is gone or reused (sequence mismatch) is placed under
//! `$OrphanFiles`, as The Sleuth Kit does. A parent whose record is damaged is
//! remembered as the cause, so that callers can name the paths it cost.

use std::collections::HashMap;

use crate::evidence::ReadAt;
use crate::ntfs::{known, parse_record, Extent, FileEntry};

/// Records read per block.
const RECORDS_PER_BLOCK: u64 = 1024;
/// Deepest directory nesting followed when building a path.
const MAX_DEPTH: usize = 512;
/// Bytes of resolved directory paths kept for reuse. A directory's path is as
/// long as its depth makes it: a hostile `$MFT` of 100 000 directories 512 deep
/// would otherwise keep 13 GB of paths. Past this, paths are built again when
/// asked for (a walk up the parents, no more).
const MAX_CACHED_PATH_BYTES: usize = 64 << 20;
/// Longest path kept whole, in bytes: Windows' own limit for a path (32 767
/// UTF-16 units). NTFS can nest deeper than any path Windows can name, and an
/// edited `$MFT` can chain folders of 255-character names without end: past the
/// limit a folder's path restarts at [`TOO_LONG`], so a row never carries more
/// than this however deep it lies, and the output stays linear in the input.
const MAX_PATH_BYTES: usize = 32_767;
/// Where a folder whose full path would pass [`MAX_PATH_BYTES`] is placed.
const TOO_LONG: &str = "$PathTooLong";
/// Folders in parent-reference cycles that are named (the rest are counted).
const MAX_CYCLES_NAMED: usize = 16;
/// Damaged records whose reason is kept (the rest are named without one): the
/// first pass must not grow with the garbage a hostile `$MFT` holds.
const MAX_REASONS: usize = 1024;

/// One MFT record with its path.
pub struct MftRow {
    /// The parsed record.
    pub entry: FileEntry,
    /// Full path from the volume root (`/`-separated), or empty for unnamed records.
    pub path: String,
}

/// What a pass over the MFT saw.
#[derive(Clone, Copy, Debug, Default)]
pub struct MftStats {
    /// Records emitted.
    pub records: u64,
    /// Slots that were never used (no `FILE` signature, all zeros).
    pub empty: u64,
    /// Records that failed to parse (torn writes, `BAAD`, garbage).
    pub damaged: u64,
}

/// Directory names by record: `(sequence, parent, parent sequence, name)`.
#[derive(Default)]
pub struct DirectoryMap {
    dirs: HashMap<u64, (u16, u64, u16, String)>,
    /// Resolved paths, with the damaged record that orphaned each, if one did.
    paths: PathCache<Option<u64>>,
    /// Records that could not be read as a directory, sorted: a folder among them
    /// orphans what lies under it.
    damaged: Vec<u64>,
    /// Why, for the first [`MAX_REASONS`] of them.
    reasons: HashMap<u64, String>,
    /// Folders on the walk being resolved: meeting one again is a cycle.
    visiting: std::collections::HashSet<u64>,
    /// Folders found in a parent-reference cycle.
    cycles: std::collections::BTreeSet<u64>,
    /// Folders whose path passed [`MAX_PATH_BYTES`].
    too_long: u64,
    /// Walks up the parents stopped at [`MAX_DEPTH`].
    too_deep: u64,
}

impl DirectoryMap {
    /// Remembers `entry` if it is a live directory (one whose name was lost to
    /// damage as a damaged record).
    pub fn add(&mut self, entry: &FileEntry) {
        if !(entry.in_use && entry.is_directory) {
            return;
        }
        if let Some(name) = entry.best_name() {
            self.dirs.insert(
                entry.record,
                (
                    entry.sequence,
                    name.parent,
                    name.parent_sequence,
                    name.name.clone(),
                ),
            );
        } else {
            let mut reason = entry.problems.join("; ");
            if reason.is_empty() {
                reason = "a directory without a $FILE_NAME".into();
            }
            self.add_damaged(entry.record, reason);
        }
    }

    /// Remembers that `record` could not be read, and why.
    pub fn add_damaged(&mut self, record: u64, reason: String) {
        // Records come in ascending order: this is a push but for odd extents.
        if let Err(at) = self.damaged.binary_search(&record) {
            self.damaged.insert(at, record);
        }
        if self.reasons.len() < MAX_REASONS {
            self.reasons.insert(record, reason);
        }
    }

    /// Why damaged `record` could not be read, when that was kept.
    pub fn damage(&self, record: u64) -> Option<&str> {
        self.reasons.get(&record).map(String::as_str)
    }

    /// The path of directory `record` if it is the current version (`sequence`).
    pub fn path_of(&mut self, record: u64, sequence: u16) -> String {
        self.resolve(record, Some(sequence), 0).path
    }

    /// [`Self::path_of`], with the damaged record that placed the path under
    /// `$OrphanFiles`, if that is why it is there (not a parent deleted or reused).
    pub fn path_and_loss(&mut self, record: u64, sequence: u16) -> (String, Option<u64>) {
        let resolved = self.resolve(record, Some(sequence), 0);
        (resolved.path, resolved.loss)
    }

    /// The full path of `entry` (empty for a record without a name).
    pub fn path_of_entry(&mut self, entry: &FileEntry) -> String {
        match entry.best_name() {
            Some(name) if entry.record == known::ROOT => name.name.clone(),
            Some(name) => {
                let parent = self.path_of(name.parent, name.parent_sequence);
                join(&parent, &name.name)
            }
            None => String::new(),
        }
    }

    /// What the paths given so far could not show as they are: folders whose
    /// parent references form a cycle (an edited or damaged `$MFT`: what lies
    /// under them is placed under `$OrphanFiles`), and folders nested past the
    /// longest path Windows can name. Each is damage to report.
    pub fn path_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !self.cycles.is_empty() {
            let named: Vec<String> = self
                .cycles
                .iter()
                .take(MAX_CYCLES_NAMED)
                .map(u64::to_string)
                .collect();
            let more = self.cycles.len().saturating_sub(MAX_CYCLES_NAMED);
            problems.push(format!(
                "the parent references of folder records {}{} lead back to themselves \
                 (a cycle): what lies under them is placed under $OrphanFiles",
                named.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            ));
        }
        if self.too_long > 0 {
            problems.push(format!(
                "{} folders lie deeper than the longest path Windows can name \
                 ({MAX_PATH_BYTES} bytes): their paths restart at {TOO_LONG}/",
                self.too_long
            ));
        }
        if self.too_deep > 0 {
            problems.push(format!(
                "{} walks up the folders stopped {MAX_DEPTH} levels deep: the paths \
                 found there are placed under $OrphanFiles",
                self.too_deep
            ));
        }
        problems
    }

    fn resolve(&mut self, record: u64, sequence: Option<u16>, depth: usize) -> Resolved {
        // A folder met again on its own walk up is in a cycle: the walk stops
        // there, as at the depth limit, instead of going round to it.
        if !self.visiting.insert(record) {
            self.cycles.insert(record);
            return Resolved {
                path: "$OrphanFiles".into(),
                loss: None,
                cut: true,
            };
        }
        let resolved = self.resolve_unvisited(record, sequence, depth);
        self.visiting.remove(&record);
        resolved
    }

    fn resolve_unvisited(&mut self, record: u64, sequence: Option<u16>, depth: usize) -> Resolved {
        let orphan = |loss, cut| Resolved {
            path: "$OrphanFiles".into(),
            loss,
            cut,
        };
        if record == known::ROOT {
            return Resolved {
                path: String::new(),
                loss: None,
                cut: false,
            };
        }
        let Some((seq, parent, parent_seq, name)) = self.dirs.get(&record).cloned() else {
            let damaged = self.damaged.binary_search(&record).is_ok();
            return orphan(damaged.then_some(record), false);
        };
        if sequence.is_some_and(|s| s != seq) {
            return orphan(None, false);
        }
        if depth > MAX_DEPTH {
            self.too_deep += 1;
            return orphan(None, true);
        }
        if let Some((path, loss)) = self.paths.get(record) {
            return Resolved {
                path: path.to_string(),
                loss: *loss,
                cut: false,
            };
        }
        let above = self.resolve(parent, Some(parent_seq), depth + 1);
        let mut path = join(&above.path, &name);
        if path.len() > MAX_PATH_BYTES {
            self.too_long += 1;
            path = join(TOO_LONG, &name);
        }
        // A path cut short by the depth limit depends on where the walk began: it
        // is not this directory's path, and is not kept as one.
        if !above.cut {
            self.paths.insert(record, &path, above.loss);
        }
        Resolved {
            path,
            loss: above.loss,
            cut: above.cut,
        }
    }
}

/// Directories' resolved paths (with a note each), kept for reuse up to
/// [`MAX_CACHED_PATH_BYTES`] of path text; past that a path is not kept, and its
/// owner builds it again when asked. Shared by the `$MFT` walk and `ls`.
pub struct PathCache<N> {
    paths: HashMap<u64, (String, N)>,
    bytes: usize,
}

impl<N> Default for PathCache<N> {
    fn default() -> Self {
        PathCache {
            paths: HashMap::new(),
            bytes: 0,
        }
    }
}

impl<N> PathCache<N> {
    /// The kept path of directory `record`, with its note.
    pub fn get(&self, record: u64) -> Option<(&str, &N)> {
        self.paths.get(&record).map(|(p, n)| (p.as_str(), n))
    }

    /// Keeps `path` for `record` unless the budget is spent.
    pub fn insert(&mut self, record: u64, path: &str, note: N) {
        if self.bytes + path.len() <= MAX_CACHED_PATH_BYTES {
            self.bytes += path.len();
            self.paths.insert(record, (path.to_string(), note));
        }
    }

    /// Bytes of path text kept.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

/// A directory's path as one walk up its parents found it.
struct Resolved {
    path: String,
    /// The damaged record that orphaned it, if one did.
    loss: Option<u64>,
    /// Whether the walk stopped at the depth limit (a cycle, or nesting deeper
    /// than [`MAX_DEPTH`] below where it began).
    cut: bool,
}

fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}/{name}")
    }
}

/// Reads the directory map (first pass). Damaged records are remembered, not
/// reported: the second pass ([`walk`]) reports each, and the change journal the
/// paths they cost.
pub fn directory_map(data: &dyn ReadAt, extents: &[Extent]) -> DirectoryMap {
    let mut map = DirectoryMap::default();
    for_each_record(data, extents, &mut |entry| match entry {
        Ok(entry) => map.add(&entry),
        Err((_, None)) => {}
        Err((record, Some(reason))) => map.add_damaged(record, reason),
    });
    map
}

/// Emits every record with its path (second pass); damaged records go to `on_error`.
pub fn walk(
    data: &dyn ReadAt,
    extents: &[Extent],
    dirs: &mut DirectoryMap,
    on_row: &mut dyn FnMut(MftRow),
    on_error: &mut dyn FnMut(u64, String),
) -> MftStats {
    let mut stats = MftStats::default();
    for_each_record(data, extents, &mut |entry| match entry {
        Ok(entry) => {
            stats.records += 1;
            let path = dirs.path_of_entry(&entry);
            on_row(MftRow { entry, path });
        }
        Err((_, None)) => stats.empty += 1,
        Err((record, Some(reason))) => {
            stats.damaged += 1;
            on_error(record, reason);
        }
    });
    stats
}

type RecordResult = Result<FileEntry, (u64, Option<String>)>;

/// Calls `visit` for every record slot of the allocated extents. Record size comes
/// from the first record's header (1024 or 4096 on real volumes).
fn for_each_record(data: &dyn ReadAt, extents: &[Extent], visit: &mut dyn FnMut(RecordResult)) {
    let Some(size) = record_size(data) else {
        if !data.is_empty() {
            visit(Err((
                0,
                Some("no readable FILE record among the first 16 gives the record size: no records read".into()),
            )));
        }
        return;
    };
    let mut block = vec![0u8; (size * RECORDS_PER_BLOCK) as usize];
    for extent in extents.iter().filter(|e| !e.sparse) {
        let first = extent.offset.div_ceil(size);
        let end = (extent.offset + extent.length) / size;
        let mut number = first;
        while number < end {
            let count = (end - number).min(RECORDS_PER_BLOCK);
            let bytes = (count * size) as usize;
            // A block that cannot be read whole is read record by record: damage
            // (an unreadable E01 chunk, a bad run) costs only the records it holds.
            let whole = data
                .read_exact_at(&mut block[..bytes], number * size)
                .is_ok();
            for (i, raw) in block[..bytes].chunks_exact_mut(size as usize).enumerate() {
                let record = number + i as u64;
                if !whole {
                    if let Err(e) = data.read_exact_at(raw, record * size) {
                        visit(Err((record, Some(format!("unreadable: {e}")))));
                        continue;
                    }
                }
                if !raw.starts_with(b"FILE") {
                    let reason = if raw.starts_with(b"BAAD") {
                        Some("marked BAAD (torn write detected by Windows)".to_string())
                    } else if raw.iter().all(|&b| b == 0) {
                        None
                    } else {
                        Some("no FILE signature".to_string())
                    };
                    visit(Err((record, reason)));
                    continue;
                }
                visit(parse_record(record, raw.to_vec()).map_err(|e| (record, Some(e))));
            }
            number += count;
        }
    }
}

/// The record size, from the allocated-size field of the first readable `FILE`
/// record among the first 16 (record 0 may sit in an unreadable chunk), found at a
/// slot consistent with that size.
fn record_size(data: &dyn ReadAt) -> Option<u64> {
    let mut header = [0u8; 0x20];
    for size in [1024u64, 4096] {
        for slot in 0..16u64 {
            if data.read_exact_at(&mut header, slot * size).is_err() {
                continue;
            }
            let stated = u64::from(u32::from_le_bytes(header[0x1C..0x20].try_into().ok()?));
            if header.starts_with(b"FILE")
                && stated.is_power_of_two()
                && (256..=65536).contains(&stated)
                && (slot * size) % stated == 0
            {
                return Some(stated);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Chains of directories 600 deep under the root, 250-character names: the
    /// paths kept for reuse stop at the budget (three chains' paths to depth 512
    /// come to about 100 MB); a walk cut by the depth limit orphans the deep
    /// directory but leaves its ancestors their own whole paths.
    #[test]
    fn deep_directories_keep_a_bounded_cache_and_orphan_past_the_depth() {
        let mut map = DirectoryMap::default();
        let name = "d".repeat(40);
        let chain = |map: &mut DirectoryMap, first: u64| {
            for level in 0..600u64 {
                let parent = if level == 0 {
                    known::ROOT
                } else {
                    first + level - 1
                };
                map.dirs.insert(first + level, (1, parent, 1, name.clone()));
            }
        };
        // Sixteen chains' paths (5.4 MB each to depth 512) fill the budget.
        for n in 0..16u64 {
            chain(&mut map, 1000 * (n + 1));
            for level in 0..MAX_DEPTH as u64 {
                let path = map.path_of(1000 * (n + 1) + level, 1);
                assert_eq!(path.split('/').count() as u64, level + 1);
            }
        }
        assert!(map.path_problems().is_empty(), "{:?}", map.path_problems());
        // Walked up from the bottom of a fresh chain, the depth limit orphans the
        // rest, said; the parents then still have their own, whole paths.
        chain(&mut map, 40_000);
        let deep = map.path_of(40_599, 1);
        assert!(deep.starts_with("$OrphanFiles/"), "{}", &deep[..40]);
        assert_eq!(deep.split('/').count(), MAX_DEPTH + 2);
        assert_eq!(map.path_of(40_400, 1).split('/').count(), 401);
        assert!(map.paths.bytes() <= MAX_CACHED_PATH_BYTES);
        assert!(
            map.paths.bytes() > MAX_CACHED_PATH_BYTES / 2,
            "{}",
            map.paths.bytes()
        );
        let problems = map.path_problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("stopped 512 levels deep"),
            "{problems:?}"
        );
    }

    /// Folders that are each other's parent gave every file under them a path
    /// going round the cycle to the depth limit: with 200-character names, 100 KB
    /// per row, gigabytes of CSV from a 2 MB file of forged records, and no word of
    /// damage. The walk now stops where it meets a folder again, and says so; and
    /// however deep real folders nest, no path passes Windows' own limit.
    #[test]
    fn parent_cycles_are_cut_and_said_and_paths_stay_within_windows_limit() {
        let mut map = DirectoryMap::default();
        let name = "c".repeat(200);
        map.dirs.insert(100, (1, 101, 1, format!("a{name}")));
        map.dirs.insert(101, (1, 100, 1, format!("b{name}")));
        let path = map.path_of(100, 1);
        assert!(path.starts_with("$OrphanFiles/"), "{path}");
        assert!(path.len() < 1000, "{} bytes", path.len());
        let problems = map.path_problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("lead back to themselves"),
            "{problems:?}"
        );

        let mut map = DirectoryMap::default();
        let name = "n".repeat(255);
        for level in 0..400u64 {
            let parent = if level == 0 { known::ROOT } else { 199 + level };
            map.dirs.insert(200 + level, (1, parent, 1, name.clone()));
        }
        let longest = (0..400u64)
            .map(|level| map.path_of(200 + level, 1).len())
            .max()
            .unwrap_or(0);
        assert!(longest <= MAX_PATH_BYTES, "{longest}");
        assert!(map.path_of(599, 1).starts_with("$PathTooLong/"));
        let problems = map.path_problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("longest path Windows can name"),
            "{problems:?}"
        );
    }
}
