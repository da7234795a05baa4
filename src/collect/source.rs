//! Where a Windows volume's files come from: an NTFS volume inside an image, or a
//! directory laid out like one (a KAPE or Velociraptor triage collection, or a
//! mounted copy). Both answer the same questions, case-insensitively as Windows
//! does, so the collectors do not care which they read.

use std::fs;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use super::loose::Loose;
use super::CollectError;
use crate::evidence::ReadAt;
use crate::ntfs::{is_listed_name, Extent, NtfsError, Stream, Volume};
use crate::output::path_text::os_text;

/// One name in a directory.
#[derive(Clone, Debug)]
pub struct DirItem {
    /// Name as stored.
    pub name: String,
    /// True for directories.
    pub is_dir: bool,
}

/// A file opened for reading, with the parts that hold data (sparse parts skipped).
pub struct OpenFile {
    /// The bytes.
    pub data: Arc<dyn ReadAt>,
    /// Allocated and sparse extents, in order.
    pub extents: Vec<Extent>,
}

impl OpenFile {
    /// Where the bytes that exist end: past it the file is only sparse or unwritten
    /// zeros, which no event log, hive or Prefetch file ends with.
    pub fn data_end(&self) -> u64 {
        self.extents
            .iter()
            .rev()
            .find(|e| !e.sparse)
            .map_or(0, |e| e.offset + e.length)
            .min(self.data.len())
    }

    /// The file up to the last `unit`-sized block (after a `header` of that many
    /// bytes) that holds any data: blocks that are wholly sparse or unwritten are
    /// dropped, so a stated size nothing backs costs nothing, while a block whose
    /// end is zeros (an event-log chunk's free space, often left sparse by copies)
    /// is kept whole.
    pub fn existing(&self, header: u64, unit: u64) -> Arc<dyn ReadAt> {
        let data = self.data_end();
        let end = if data <= header || unit == 0 {
            header
        } else {
            header + (data - header).div_ceil(unit) * unit
        }
        .min(self.data.len());
        if end == self.data.len() {
            return Arc::clone(&self.data);
        }
        Arc::new(crate::evidence::Window::new(Arc::clone(&self.data), 0, end))
    }

    /// A note when the stated size reaches past the data that exists by more than
    /// the whole volume holds, for errors.csv: a damaged or edited size (copies
    /// often leave a sparse tail of ordinary length; that is not reported).
    /// Nothing that exists is lost by stopping at the data.
    pub fn unbacked_tail(&self) -> Option<String> {
        let (end, len) = (self.data_end(), self.data.len());
        self.data.unbacked_problem().map(|why| {
            format!("stated size {len} bytes, but only the first {end} are on disk ({why}); read up to {end}")
        })
    }

    /// Reads the whole file, or only up to the end of its data
    /// ([`OpenFile::data_end`]) when its stated size is beyond anything the volume
    /// could back; refuses more than `limit` bytes (a damaged or hostile size must
    /// not decide how much memory we take).
    pub fn read_all(&self, limit: u64) -> Result<Vec<u8>, CollectError> {
        let len = self.length_within(limit)?;
        let mut bytes = vec![0u8; len as usize];
        self.data
            .read_exact_at(&mut bytes, 0)
            .map_err(|e| CollectError::Unreadable(e.to_string()))?;
        Ok(bytes)
    }

    /// The length to read whole: the stated size, or only up to the end of the
    /// data when the statement is beyond anything the volume could back (zeros at
    /// the end may be part of the format, as padding); refused past `limit`.
    fn length_within(&self, limit: u64) -> Result<u64, CollectError> {
        let len = match self.data.unbacked_problem() {
            Some(_) => self.data_end(),
            None => self.data.len(),
        };
        if len > limit {
            // A stated size past the limit over a tail of holes (a sparse copy, a
            // raised size): what holds data is read if that fits; the holes hold
            // nothing but zeros.
            let data = self.data_end();
            if data <= limit {
                return Ok(data);
            }
            return Err(CollectError::TooLarge { size: len, limit });
        }
        Ok(len)
    }

    /// Like [`OpenFile::read_all`], but a block that cannot be read (a corrupt
    /// E01 chunk, a bad run) costs only itself: the file is re-read in
    /// `block`-sized pieces, the unreadable ones are left as zeros, and each
    /// unreadable range is returned with its reason, for errors.csv. For formats
    /// that survive a hole, as hives do bin by bin.
    pub fn read_around_damage(
        &self,
        limit: u64,
        block: u64,
    ) -> Result<(Vec<u8>, Vec<String>), CollectError> {
        let len = self.length_within(limit)?;
        let holes = crate::evidence::Holes::new(Arc::clone(&self.data), block);
        let mut bytes = vec![0u8; len as usize];
        holes
            .read_exact_at(&mut bytes, 0)
            .map_err(|e| CollectError::Unreadable(e.to_string()))?;
        let problems = holes.take_lost();
        // Nothing readable at all is not a hive with holes: say why plainly.
        if bytes.iter().all(|&b| b == 0) && !problems.is_empty() {
            return Err(CollectError::NothingReadable(problems));
        }
        Ok((bytes, problems))
    }
}

/// A Windows volume to collect from.
pub enum Source {
    /// An NTFS volume inside an image.
    Ntfs(Arc<Volume>),
    /// A directory tree on the analyst's machine: laid out like a volume, or a
    /// folder of one host's event logs.
    Directory(PathBuf),
    /// Artifacts given loose (`toolmark scan Security.evtx`, `toolmark scan SYSTEM`,
    /// or a folder of such copies with no Windows layout), each placed where Windows
    /// keeps it: see [`super::loose`].
    Loose(Arc<Loose>),
    /// A folder of an NTFS volume laid out like a Windows volume: a triage
    /// collection kept in a container, as KAPE writes one into a VHDX
    /// (`C/Windows/…`, `C/$MFT`). Paths are relative to the folder.
    Collected(Arc<Volume>, String),
}

/// Where Windows keeps its event logs (Vista and later, then the older folder).
const WINDOWS_LOG_FOLDERS: [&str; 2] = ["Windows/System32/winevt/Logs", "Windows/System32/config"];

/// `folder/name`, or `name` alone in the source's root folder (`""`).
pub fn join(folder: &str, name: &str) -> String {
    if folder.is_empty() {
        name.to_string()
    } else {
        format!("{folder}/{name}")
    }
}

/// True for a name that marks the top of a folder laid out like a Windows volume:
/// `Windows` or `$MFT`.
pub fn marks_a_volume(name: &std::ffi::OsStr) -> bool {
    let name = name.to_string_lossy();
    name.eq_ignore_ascii_case("windows") || name.eq_ignore_ascii_case("$mft")
}

/// True when folder `dir` is laid out like a Windows volume ([`marks_a_volume`] at
/// its top): read as a volume, by Windows' own paths. Any other folder is read as
/// loose copies ([`Loose::of_folder`]).
pub fn is_laid_out(dir: &Path) -> bool {
    fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .filter_map(Result::ok)
            .any(|e| marks_a_volume(&e.file_name()))
    })
}

/// A directory's names.
pub struct Listing {
    /// Live entries.
    pub items: Vec<DirItem>,
    /// Damage met reading the directory's index (some names may be missing).
    pub problems: Vec<String>,
}

/// Why a directory could not be listed or a file opened.
#[derive(Debug)]
pub struct ListError {
    /// What went wrong.
    pub message: String,
    /// The directory plainly does not exist (not a damage to report).
    pub absent: bool,
}

impl ListError {
    fn damaged(e: impl std::fmt::Display) -> Self {
        ListError {
            message: e.to_string(),
            absent: false,
        }
    }
}

impl std::fmt::Display for ListError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl Source {
    /// The folders whose `*.evtx` files are the volume's event logs: Windows' own,
    /// and for a directory also its root, where a folder of exported or copied
    /// logs keeps them.
    pub fn event_log_folders(&self) -> &'static [&'static str] {
        match self {
            Source::Ntfs(_) => &WINDOWS_LOG_FOLDERS,
            Source::Directory(_) => &[WINDOWS_LOG_FOLDERS[0], WINDOWS_LOG_FOLDERS[1], ""],
            Source::Loose(_) => &[""],
            Source::Collected(..) => &WINDOWS_LOG_FOLDERS,
        }
    }

    /// The names in `dir` (volume-relative, `/`-separated, any case), with the
    /// damage met in the directory's own index.
    pub fn list(&self, dir: &str) -> Result<Listing, ListError> {
        match self {
            Source::Ntfs(volume) => list_ntfs(volume, dir),
            Source::Collected(volume, root) => list_ntfs(volume, &join(root, dir)),
            Source::Directory(root) => {
                let path = resolve(root, dir)?;
                let mut items = Vec::new();
                let mut problems = Vec::new();
                let listing = fs::read_dir(&path).map_err(|e| ListError {
                    absent: e.kind() == std::io::ErrorKind::NotFound,
                    message: format!("{}: {e}", path.display()),
                })?;
                for entry in listing {
                    let entry = entry.map_err(ListError::damaged)?;
                    let name = os_text(&entry.file_name());
                    // Symlinks are not followed: a collection must not lead us out of
                    // it. What one would have given is unknown, so it is said.
                    let kind = entry.file_type().map_err(ListError::damaged)?;
                    if kind.is_symlink() {
                        problems.push(format!("{name}: symbolic link not followed"));
                        continue;
                    }
                    items.push(DirItem {
                        name,
                        is_dir: kind.is_dir(),
                    });
                }
                Ok(Listing { items, problems })
            }
            Source::Loose(loose) => loose.list(dir),
        }
    }

    /// Opens a file (`path:stream` for a named stream on NTFS). The error says
    /// whether the file is plainly absent or could not be read.
    pub fn open(&self, path: &str) -> Result<OpenFile, ListError> {
        match self {
            Source::Ntfs(volume) => open_ntfs(volume, path),
            Source::Collected(volume, root) => {
                open_first(&join(root, path), |name| open_ntfs(volume, name))
            }
            Source::Directory(root) => open_first(path, |name| {
                resolve(root, name).and_then(|p| open_whole(&p))
            }),
            Source::Loose(loose) => open_first(path, |name| {
                loose
                    .file(name)
                    .ok_or_else(|| absent(name))
                    .and_then(open_whole)
            }),
        }
    }

    /// The `$MFT` as a byte stream; `None` if this source plainly has none, an
    /// error if it has one that cannot be opened.
    pub fn mft(&self) -> Result<Option<OpenFile>, CollectError> {
        match self {
            Source::Ntfs(volume) => {
                let stream = volume.mft_stream();
                let extents = stream.extents();
                Ok(Some(OpenFile {
                    data: stream,
                    extents,
                }))
            }
            Source::Directory(_) | Source::Collected(..) | Source::Loose(_) => {
                self.open_if_present("$MFT")
            }
        }
    }

    /// The change journal `$Extend/$UsnJrnl:$J` (a collection may keep it as
    /// `$Extend/$J` or `$Extend/$UsnJrnl_$J`); `None` if there is none.
    pub fn usn_journal(&self) -> Result<Option<OpenFile>, CollectError> {
        for path in ["$Extend/$UsnJrnl:$J", "$Extend/$J"] {
            if let Some(file) = self.open_if_present(path)? {
                return Ok(Some(file));
            }
        }
        Ok(None)
    }

    /// Opens a file that may be absent: `None` when it plainly is not there, an
    /// error when it is there (or may be) but cannot be opened.
    pub fn open_if_present(&self, path: &str) -> Result<Option<OpenFile>, CollectError> {
        match self.open(path) {
            Ok(file) => Ok(Some(file)),
            Err(e) if e.absent => Ok(None),
            Err(e) => Err(CollectError::Unreadable(e.message)),
        }
    }
}

/// Opens `path` of a collection, where a named stream it copied is a plain file:
/// `$Extend/$UsnJrnl:$J` as itself (a volume), `$UsnJrnl_$J` or, URL-encoded as
/// some collectors write names, `$UsnJrnl%3A$J`. The first that exists is opened;
/// a damaged one is reported rather than passed over for an absent other.
fn open_first(
    path: &str,
    open: impl Fn(&str) -> Result<OpenFile, ListError>,
) -> Result<OpenFile, ListError> {
    let mut names = vec![path.to_string()];
    if path.contains(':') {
        names.push(path.replace(':', "_"));
        names.push(path.replace(':', "%3A"));
    }
    let mut not_found = None;
    for name in &names {
        match open(name) {
            Ok(file) => return Ok(file),
            Err(e) if e.absent => {
                not_found.get_or_insert(e);
            }
            Err(e) => return Err(e),
        }
    }
    Err(not_found.unwrap_or_else(|| absent(path)))
}

/// The live names in folder `dir` of an NTFS volume.
fn list_ntfs(volume: &Volume, dir: &str) -> Result<Listing, ListError> {
    let file = volume.lookup(dir).map_err(|e| ListError {
        absent: matches!(e, NtfsError::NotFound(_) | NtfsError::NotADirectory(_)),
        message: e.to_string(),
    })?;
    let (entries, mut problems) = volume.read_dir(&file).map_err(ListError::damaged)?;
    let mut items = Vec::new();
    for e in entries.iter().filter(|e| is_listed_name(e, file.record)) {
        match volume.entry_is_live(e) {
            Ok(Some(f)) => items.push(DirItem {
                name: e.name.name.clone(),
                is_dir: f.is_directory,
            }),
            Ok(None) => {}
            Err(err) => problems.push(format!("{}: {err}", e.name.name)),
        }
    }
    Ok(Listing { items, problems })
}

/// Opens `path` (`path:stream` for a named stream) on an NTFS volume.
fn open_ntfs(volume: &Volume, path: &str) -> Result<OpenFile, ListError> {
    let (file, stream) = match path.rsplit_once(':') {
        Some((f, s)) if !f.is_empty() => (f, s),
        _ => (path, ""),
    };
    let stream: Stream = volume.open_stream(file, stream).map_err(|e| ListError {
        absent: matches!(
            e,
            NtfsError::NotFound(_) | NtfsError::NotADirectory(_) | NtfsError::NoSuchStream { .. }
        ),
        message: e.to_string(),
    })?;
    let extents = stream.extents();
    Ok(OpenFile {
        data: Arc::new(stream),
        extents,
    })
}

/// A plain file of the analyst's machine, its holes (a sparse copy's) as sparse
/// extents between its data.
fn open_whole(path: &Path) -> Result<OpenFile, ListError> {
    let (data, ranges) = crate::evidence::open_plain_file(path).map_err(ListError::damaged)?;
    let mut extents = Vec::with_capacity(2 * ranges.len() + 1);
    let mut at = 0;
    for range in ranges
        .into_iter()
        .chain(std::iter::once(data.len()..data.len()))
    {
        if range.start > at {
            extents.push(Extent {
                offset: at,
                length: range.start - at,
                sparse: true,
            });
        }
        if range.end > range.start {
            extents.push(Extent {
                offset: range.start,
                length: range.end - range.start,
                sparse: false,
            });
        }
        at = range.end.max(at);
    }
    Ok(OpenFile { data, extents })
}

/// The error for a path a source plainly does not have.
fn absent(path: &str) -> ListError {
    ListError {
        message: format!("not found: {path}"),
        absent: true,
    }
}

/// Resolves a volume path under `root` case-insensitively, refusing anything that
/// would leave `root` (`..`, absolute components, symlinks).
fn resolve(root: &Path, path: &str) -> Result<PathBuf, ListError> {
    let mut current = root.to_path_buf();
    for part in path
        .split(['/', '\\'])
        .filter(|p| !p.is_empty() && *p != ".")
    {
        if Path::new(part)
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
        {
            return Err(ListError::damaged(format!(
                "{path}: path component '{part}' not allowed"
            )));
        }
        let exact = current.join(part);
        // A name holding U+FFFD may stand for bytes that are not UTF-8 (see
        // `os_text`): only the listing's texts can tell which file it is.
        let next = if !part.contains('\u{FFFD}') && exact.symlink_metadata().is_ok() {
            exact
        } else {
            let wanted = part.to_lowercase();
            let unreadable =
                |e: std::io::Error| ListError::damaged(format!("{}: {e}", current.display()));
            // An entry that cannot be read might be the one wanted: not "absent".
            let mut found = None;
            for entry in fs::read_dir(&current).map_err(unreadable)? {
                let entry = entry.map_err(unreadable)?;
                if os_text(&entry.file_name()).to_lowercase() == wanted {
                    found = Some(entry.path());
                    break;
                }
            }
            found.ok_or_else(|| ListError {
                message: format!("not found: {path}"),
                absent: true,
            })?
        };
        if next
            .symlink_metadata()
            .map(|m| m.file_type().is_symlink())
            .unwrap_or(false)
        {
            return Err(ListError::damaged(format!(
                "{path}: symbolic links are not followed"
            )));
        }
        current = next;
    }
    Ok(current)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each name a collector gives the journal's `$J` stream is found; none is
    /// "no journal", not an error.
    #[test]
    fn a_collected_journal_is_found_under_each_of_its_names() {
        let base = std::env::temp_dir().join(format!("tm-source-j-{}", std::process::id()));
        for (i, name) in ["$J", "$UsnJrnl_$J", "$UsnJrnl%3A$J"].iter().enumerate() {
            let root = base.join(i.to_string());
            std::fs::create_dir_all(root.join("$Extend")).unwrap();
            std::fs::write(root.join("$Extend").join(name), b"journal").unwrap();
            let journal = Source::Directory(root).usn_journal().unwrap();
            assert_eq!(journal.map(|j| j.data.len()), Some(7), "{name}");
        }
        let empty = base.join("none");
        std::fs::create_dir_all(empty.join("$Extend")).unwrap();
        assert!(Source::Directory(empty).usn_journal().unwrap().is_none());
        std::fs::remove_dir_all(&base).unwrap();
    }
}
