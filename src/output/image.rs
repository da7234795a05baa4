//! Everything written for one image: its tables, errors.csv and the timeline.
//! Shared by the collector threads; each table is behind its own lock.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;

use super::cell::{write_record, Cell};
use super::ordered::{RowWriter, Sequencer, Slot};
use super::schema::{self, ERRORS};
use super::stage::Stage;
use super::table::Table;
use super::timeline::Timeline;
use crate::evidence::ReadAt;

/// The per-artifact tables, by file stem.
pub const TABLES: [&str; 12] = [
    "evtx",
    "prefetch",
    "mft",
    "usn",
    "amcache",
    "shimcache",
    "bam",
    "userassist",
    "services",
    "tasks",
    "registry",
    "carved",
];

/// Where one image's rows go.
pub struct ImageOutput {
    dir: PathBuf,
    /// Image name written in every row.
    pub image: String,
    /// Host name written in every row.
    pub host: String,
    /// One per [`TABLES`] entry, in its order: a row's slot is its table's index.
    tables: Vec<Mutex<Table>>,
    errors: Mutex<Table>,
    /// Problems reported per (volume, path, stage), to stop listing them past
    /// [`MAX_ERRORS_PER_SOURCE`] and to say each one once.
    error_counts: Mutex<ErrorCounts>,
    timeline: Timeline,
    write_failures: Mutex<WriteFailures>,
    hash_files: bool,
    files: Mutex<Vec<CollectedFile>>,
    raw_cells: bool,
    order: Sequencer,
}

/// errors.csv's slot for [`Sequencer`], after the tables'.
const ERRORS_SLOT: Slot = TABLES.len() as Slot;

/// Problems listed one by one per file and stage (a log whose every record lacks
/// its EventRecordID, a journal of garbage): past it they are counted, and one row
/// at the end says how many more there were.
pub const MAX_ERRORS_PER_SOURCE: u64 = 1000;

/// Files (and stages) whose problems are tracked one by one: a `$MFT` of a million
/// damaged records names a million sources. Past this, problems of new sources are
/// only counted, and one row at the end says how many.
pub const MAX_ERROR_SOURCES: usize = 100_000;

/// The problems reported so far, by source, and those of sources past
/// [`MAX_ERROR_SOURCES`].
#[derive(Default)]
struct ErrorCounts {
    by_source: HashMap<(String, String, Stage), SourceErrors>,
    /// Problems of sources not tracked, and the first such source's volume.
    untracked: u64,
    untracked_volume: Option<String>,
}

/// The problems of one file and stage so far.
#[derive(Default)]
struct SourceErrors {
    /// Distinct problems reported.
    count: u64,
    /// Hashes of the messages listed (at most [`MAX_ERRORS_PER_SOURCE`]): the same
    /// message again (a root key every collector of a hive found unreadable) adds
    /// nothing and is not listed twice.
    listed: HashSet<u64>,
}

/// Rows that could not be written (a full disk): counted, the first kept.
#[derive(Default)]
struct WriteFailures {
    count: u64,
    first: Option<String>,
}

impl WriteFailures {
    fn add(&mut self, error: &dyn std::fmt::Display) {
        self.count += 1;
        if self.first.is_none() {
            self.first = Some(error.to_string());
        }
    }
}

thread_local! {
    /// A row being rendered, one buffer per collector thread.
    static LINE: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A file an artifact was read from, as manifest.json lists it.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct CollectedFile {
    /// Volume label.
    pub volume: String,
    /// Path in the volume (`path:stream` for streams).
    pub path: String,
    /// Logical size in bytes.
    pub size: u64,
    /// SHA-256 of the logical content (sparse parts as zeros), with `--hash`.
    pub sha256: Option<String>,
}

impl ImageOutput {
    /// Creates `dir` and every table in it (all of them, even if they stay empty,
    /// so roll-ups and spreadsheets always find the same files).
    pub fn create(
        dir: &Path,
        image: &str,
        host: &str,
        raw_cells: bool,
        hash_files: bool,
    ) -> Result<ImageOutput, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut tables = Vec::with_capacity(TABLES.len());
        for name in TABLES {
            let header = header(name);
            let table = Table::create(&dir.join(format!("{name}.csv")), &header, raw_cells)
                .map_err(|e| e.to_string())?;
            tables.push(Mutex::new(table));
        }
        let errors = Table::create(&dir.join("errors.csv"), &ERRORS, raw_cells)
            .map_err(|e| e.to_string())?;
        Ok(ImageOutput {
            dir: dir.to_path_buf(),
            image: image.to_string(),
            host: host.to_string(),
            tables,
            errors: Mutex::new(errors),
            timeline: Timeline::new(dir, raw_cells),
            error_counts: Mutex::new(ErrorCounts::default()),
            write_failures: Mutex::new(WriteFailures::default()),
            hash_files,
            files: Mutex::new(Vec::new()),
            raw_cells,
            order: Sequencer::new(dir),
        })
    }

    /// The output directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes a row to table `name`; `cells` are the columns after the context. The
    /// row is rendered before the table's lock is taken, so threads writing the same
    /// table wait only for each other's copy.
    pub fn row<S: AsRef<str>>(&self, name: &'static str, volume: &str, cells: &[S]) {
        self.cells(name, volume, cells.iter().map(|c| Cell::Text(c.as_ref())));
    }

    /// [`ImageOutput::row`] for cells some of which are already rendered (see [`Cell`]).
    pub fn cells<'c>(
        &'c self,
        name: &'static str,
        volume: &'c str,
        cells: impl IntoIterator<Item = Cell<'c>>,
    ) {
        let Some(slot) = TABLES.iter().position(|t| *t == name) else {
            return;
        };
        let (volume, snapshot) = split_label(volume);
        let context = [self.image.as_str(), &self.host, volume, snapshot];
        let row = context.into_iter().map(Cell::Text).chain(cells);
        LINE.with_borrow_mut(|line| {
            line.clear();
            let count = write_record(line, row, self.raw_cells);
            // TABLES has fewer than 256 entries.
            self.order.row(slot as Slot, count, line, self);
        });
    }

    /// Runs `work(0..count)` in parallel, each unit's rows written to the tables
    /// (and errors.csv) in unit order, as one thread would write them: the same
    /// files at any number of threads (how: `output/ordered.rs`).
    pub fn in_order(&self, count: usize, work: &(dyn Fn(usize) + Sync)) {
        self.order.for_each(count, self, work);
    }

    /// Records something that could not be read; the scan goes on.
    /// The same message for the same file and stage is listed once.
    pub fn error(&self, volume: &str, path: &str, stage: Stage, error: &str) {
        let message = {
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            error.hash(&mut hasher);
            hasher.finish()
        };
        let list = {
            let mut counts = self.error_counts.lock().unwrap_or_else(|p| p.into_inner());
            let key = (volume.to_string(), path.to_string(), stage);
            if counts.by_source.len() >= MAX_ERROR_SOURCES && !counts.by_source.contains_key(&key) {
                counts.untracked += 1;
                counts
                    .untracked_volume
                    .get_or_insert_with(|| volume.to_string());
                return;
            }
            let source = counts.by_source.entry(key).or_default();
            if source.listed.contains(&message) {
                return;
            }
            source.count += 1;
            source.count <= MAX_ERRORS_PER_SOURCE && source.listed.insert(message)
        };
        if list {
            self.error_row(volume, path, stage, error);
        }
    }

    /// Writes one errors.csv row.
    fn error_row(&self, volume: &str, path: &str, stage: Stage, error: &str) {
        let (volume, snapshot) = split_label(volume);
        let row = [
            self.image.as_str(),
            volume,
            path,
            stage.as_str(),
            error,
            snapshot,
        ];
        let mut line = Vec::new();
        let count = write_record(&mut line, row, self.raw_cells);
        self.order.row(ERRORS_SLOT, count, &line, self);
    }

    /// One row per file and stage that had more problems than were listed.
    fn write_error_summaries(&self) {
        let counts =
            std::mem::take(&mut *self.error_counts.lock().unwrap_or_else(|p| p.into_inner()));
        if counts.untracked > 0 {
            let text = format!(
                "{} more problems in files past the first {MAX_ERROR_SOURCES} with problems, \
                 not listed",
                counts.untracked
            );
            let volume = counts.untracked_volume.as_deref().unwrap_or_default();
            self.error_row(volume, "", Stage::Scan, &text);
        }
        let mut over: Vec<_> = counts
            .by_source
            .into_iter()
            .map(|(source, errors)| (source, errors.count))
            .filter(|(_, n)| *n > MAX_ERRORS_PER_SOURCE)
            .collect();
        over.sort();
        for ((volume, path, stage), n) in over {
            let more = n - MAX_ERRORS_PER_SOURCE;
            let text = format!(
                "{more} more problems of this stage in this file, not listed (the first \
                 {MAX_ERRORS_PER_SOURCE} are)"
            );
            self.error_row(&volume, &path, stage, &text);
        }
    }

    /// Adds a timeline row: `time`, what the time means, a one-line message, the
    /// artifact kind, the file it came from and a reference into the artifact's table.
    #[allow(clippy::too_many_arguments)]
    pub fn event(
        &self,
        volume: &str,
        time: &str,
        desc: &str,
        message: impl AsRef<str>,
        artifact: &str,
        file: &str,
        reference: impl AsRef<str>,
    ) {
        let (volume, snapshot) = split_label(volume);
        self.timeline.push(&[
            time,
            desc,
            message.as_ref(),
            &self.image,
            &self.host,
            volume,
            snapshot,
            artifact,
            file,
            reference.as_ref(),
        ]);
    }

    /// Lists a file that artifacts were read from, hashing it when asked to.
    pub fn collected(&self, volume: &str, path: &str, data: &dyn ReadAt) {
        let sha256 = if self.hash_files {
            match sha256_of(data) {
                Ok(h) => Some(h),
                Err(e) => {
                    self.error(volume, path, Stage::Hash, &e.to_string());
                    None
                }
            }
        } else {
            None
        };
        let file = CollectedFile {
            volume: volume.to_string(),
            path: path.to_string(),
            size: data.len(),
            sha256,
        };
        self.files
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(file);
    }

    /// Flushes every table and writes the sorted timeline; returns row counts by
    /// file name (`errors` and `timeline` included) and the collected files.
    pub fn finish(self) -> Result<(BTreeMap<String, u64>, Vec<CollectedFile>), String> {
        self.write_error_summaries();
        let mut counts = BTreeMap::new();
        for (name, table) in TABLES.into_iter().zip(self.tables) {
            let rows = table
                .into_inner()
                .unwrap_or_else(|p| p.into_inner())
                .finish()
                .map_err(|e| e.to_string())?;
            counts.insert(name.to_string(), rows);
        }
        let errors = self.errors.into_inner().unwrap_or_else(|p| p.into_inner());
        counts.insert("errors".into(), errors.finish().map_err(|e| e.to_string())?);
        counts.insert("timeline".into(), self.timeline.finish()?);
        let failures = self
            .write_failures
            .into_inner()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(first) = failures.first {
            return Err(format!(
                "{} rows could not be written, first: {first}",
                failures.count
            ));
        }
        let mut files = self.files.into_inner().unwrap_or_else(|p| p.into_inner());
        files.sort_by(|a, b| (&a.volume, &a.path).cmp(&(&b.volume, &b.path)));
        Ok((counts, files))
    }
}

impl RowWriter for ImageOutput {
    fn write(&self, slot: Slot, cells: usize, line: &[u8]) {
        // A slot past the tables is errors.csv's.
        let table = self.tables.get(usize::from(slot)).unwrap_or(&self.errors);
        let written = table
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .rendered(cells, line);
        if let Err(e) = written {
            self.lost(&std::io::Error::other(e.to_string()));
        }
    }

    fn lost(&self, error: &std::io::Error) {
        self.write_failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .add(error);
    }
}

/// A target's label as the `volume` and `snapshot` columns: a shadow copy's
/// label is `volume@snapshot`, a live volume's has no `@`.
pub fn split_label(label: &str) -> (&str, &str) {
    label.split_once('@').unwrap_or((label, ""))
}

/// SHA-256 of a whole byte range, read in large blocks.
pub fn sha256_of(data: &dyn ReadAt) -> std::io::Result<String> {
    use sha2::Digest;
    if let Some(why) = data.unbacked_problem() {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, why));
    }
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut offset = 0u64;
    while offset < data.len() {
        let n = (data.len() - offset).min(buf.len() as u64) as usize;
        data.read_exact_at(&mut buf[..n], offset)?;
        hasher.update(&buf[..n]);
        offset += n as u64;
    }
    Ok(crate::evidence::hex(&hasher.finalize()))
}

/// The header of table `name`.
pub fn header(name: &str) -> Vec<&'static str> {
    match name {
        "evtx" => schema::evtx_header(),
        "prefetch" => schema::with_context(&schema::PREFETCH),
        "mft" => schema::with_context(&schema::MFT),
        "usn" => schema::with_context(&schema::USN),
        "amcache" => schema::with_context(&schema::AMCACHE),
        "shimcache" => schema::with_context(&schema::SHIMCACHE),
        "bam" => schema::with_context(&schema::BAM),
        "userassist" => schema::with_context(&schema::USERASSIST),
        "services" => schema::with_context(&schema::SERVICES),
        "tasks" => schema::with_context(&schema::TASKS),
        "registry" => schema::with_context(&schema::REGISTRY),
        "carved" => schema::with_context(&schema::CARVED),
        _ => schema::CONTEXT.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Past [`MAX_ERROR_SOURCES`] files with problems, the problems of new ones are
    /// counted, not tracked, and one row at the end says how many.
    #[test]
    fn problems_of_files_past_the_sources_cap_are_counted_in_one_row() {
        let dir = std::env::temp_dir().join(format!("tm-sources-cap-{}", std::process::id()));
        let out = ImageOutput::create(&dir, "img", "host", false, false).unwrap();
        for i in 0..MAX_ERROR_SOURCES + 7 {
            out.error("1", &format!("$MFT record {i}"), Stage::Mft, "torn");
        }
        let (counts, _) = out.finish().unwrap();
        assert_eq!(counts["errors"], MAX_ERROR_SOURCES as u64 + 1);
        let text = std::fs::read_to_string(dir.join("errors.csv")).unwrap();
        let last = text.lines().last().unwrap();
        assert!(
            last.contains(",scan,\"7 more problems in files past the first"),
            "{last}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Past [`MAX_ERRORS_PER_SOURCE`] problems of one file and stage are counted,
    /// not listed, and one row says how many; other files keep every row.
    #[test]
    fn problems_past_the_cap_are_counted_in_one_row() {
        let dir = std::env::temp_dir().join(format!("tm-errors-cap-{}", std::process::id()));
        let out = ImageOutput::create(&dir, "img", "host", false, false).unwrap();
        let over = MAX_ERRORS_PER_SOURCE + 5;
        for i in 0..over {
            out.error(
                "1",
                "Security.evtx",
                Stage::EvtxRecord,
                &format!("record {i}"),
            );
        }
        for i in 0..3 {
            out.error(
                "1",
                "System.evtx",
                Stage::EvtxRecord,
                &format!("record {i}"),
            );
        }
        let (counts, _) = out.finish().unwrap();
        assert_eq!(counts["errors"], MAX_ERRORS_PER_SOURCE + 1 + 3);
        let text = std::fs::read_to_string(dir.join("errors.csv")).unwrap();
        let security: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("Security.evtx"))
            .collect();
        assert_eq!(security.len() as u64, MAX_ERRORS_PER_SOURCE + 1);
        assert!(
            security.last().unwrap().contains("5 more problems"),
            "{:?}",
            security.last()
        );
        assert_eq!(
            text.lines().filter(|l| l.contains("System.evtx")).count(),
            3
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The same message for the same file and stage is one row; the same message
    /// for another file or stage is its own row.
    #[test]
    fn a_message_repeated_for_one_file_and_stage_is_listed_once() {
        let dir = std::env::temp_dir().join(format!("tm-errors-once-{}", std::process::id()));
        let out = ImageOutput::create(&dir, "img", "host", false, false).unwrap();
        let root = "root key unreadable: cell at offset 0x0 is not allocated";
        for _ in 0..5 {
            out.error("1", "SYSTEM", Stage::Registry, root);
        }
        out.error("1", "SYSTEM", Stage::Registry, "key Select unreadable");
        out.error("1", "SOFTWARE", Stage::Registry, root);
        out.error("1", "SYSTEM", Stage::Amcache, root);
        let (counts, _) = out.finish().unwrap();
        assert_eq!(counts["errors"], 4);
        let text = std::fs::read_to_string(dir.join("errors.csv")).unwrap();
        assert_eq!(text.matches(root).count(), 3, "{text}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
