//! Artifacts given loose: a hive, a Prefetch file, an event log, a `$MFT` or `$J`
//! copied out on its own (`toolmark scan SYSTEM`), or a folder of such copies with no
//! Windows layout (`SYSTEM`, `SOFTWARE`, `Amcache.hve`, `*.pf`, `Security.evtx` side
//! by side, as simple collection scripts and tool exports leave them).
//!
//! Each file is placed where Windows keeps it (`SYSTEM` in
//! `Windows/System32/config`, a Prefetch file in `Windows/Prefetch`, an event log at
//! the top, as a folder of logs keeps them), known by its signature and its name, so
//! the collectors read it as they read a volume. Only what is known is placed: a file
//! whose name and signature do not say what it is is no artifact toolmark reads. Two
//! files for one place (two `SYSTEM` hives, two `Security.evtx`) are said, and the
//! first found is read.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::source::{DirItem, ListError, Listing};
use crate::output::path_text::{os_text, path_text};

/// Folder levels below a loose folder that are looked into (`Registry/SYSTEM`,
/// `alice/NTUSER.DAT`, `Prefetch/*.pf`, a profile's
/// `Users/alice/AppData/Local/Microsoft/Windows/UsrClass.dat`); a folder deeper
/// than that is said, not walked.
const MAX_DEPTH: usize = 8;
/// Entries looked at in a loose folder, at most: a folder of loose copies holds
/// hundreds; one holding more is not one host's copies, and must not cost a walk
/// sized by whatever it holds.
const MAX_ENTRIES: usize = 100_000;

/// Where each loose file is placed, by volume path.
#[derive(Debug, Default)]
pub struct Loose {
    /// Volume path folded to lower case (Windows compares names without case) ->
    /// the path as placed (`/`-separated, as Windows spells it) and the file. Kept
    /// sorted so a folder's names are one range: every lookup and listing costs
    /// what it finds, not the number of files placed.
    files: BTreeMap<String, (String, PathBuf)>,
    /// What the walk could not read or place, for errors.csv.
    problems: Vec<String>,
    /// One event log given on its own ([`Loose::of_file`]).
    event_log: bool,
}

/// What a loose file is, from its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Signature {
    EventLog,
    Hive,
    Prefetch,
    MftRecord,
    Other,
}

fn signature(head: &[u8]) -> Signature {
    if head.starts_with(b"ElfFile\0") {
        Signature::EventLog
    } else if head.starts_with(b"regf") {
        Signature::Hive
    } else if head.get(4..8) == Some(b"SCCA") || head.starts_with(b"MAM\x04") {
        Signature::Prefetch
    } else if head.starts_with(b"FILE") {
        Signature::MftRecord
    } else {
        Signature::Other
    }
}

/// The first 4 KiB of a file (enough for a hive's base block). Anything but a
/// regular file is refused before it is opened: opening a FIFO blocks until a writer
/// comes.
fn head_of(path: &Path) -> Result<Vec<u8>, String> {
    crate::evidence::require_regular_file(path).map_err(|e| e.to_string())?;
    let mut head = Vec::with_capacity(4096);
    fs::File::open(path)
        .and_then(|f| f.take(4096).read_to_end(&mut head))
        .map_err(|e| e.to_string())?;
    Ok(head)
}

/// The file name a hive's base block records (UTF-16 at offset 48, 64 bytes: the
/// last 31 characters of its path), last component only: `…\System32\Config\SAM`
/// gives `SAM`.
fn recorded_hive_name(head: &[u8]) -> Option<String> {
    let units: Vec<u16> = head
        .get(48..112)?
        .chunks_exact(2)
        .map(|p| u16::from_le_bytes([p[0], p[1]]))
        .take_while(|&u| u != 0)
        .collect();
    let name = String::from_utf16_lossy(&units);
    name.rsplit(['\\', '/'])
        .next()
        .filter(|n| !n.is_empty())
        .map(str::to_string)
}

/// Where a hive named `name` lives on a volume; `owner` names the profile folder of
/// a user's hive.
fn hive_place(name: &str, owner: &str) -> Option<String> {
    let lower = name.to_ascii_lowercase();
    let system = ["system", "software", "sam", "security", "default"];
    if system.contains(&lower.as_str()) {
        return Some(format!(
            "Windows/System32/config/{}",
            lower.to_ascii_uppercase()
        ));
    }
    if lower == "amcache.hve" {
        return Some("Windows/AppCompat/Programs/Amcache.hve".into());
    }
    if lower.starts_with("ntuser") && lower.ends_with(".dat") {
        return Some(format!("Users/{owner}/NTUSER.DAT"));
    }
    if lower.starts_with("usrclass") && lower.ends_with(".dat") {
        return Some(format!(
            "Users/{owner}/AppData/Local/Microsoft/Windows/UsrClass.dat"
        ));
    }
    None
}

/// What a file's name says it is, when that is an artifact the scan reads.
fn named_as_artifact(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".evtx") {
        Some("an event log")
    } else if lower.ends_with(".pf") {
        Some("a Prefetch file")
    } else if hive_place(name, "").is_some() {
        Some("a registry hive")
    } else {
        None
    }
}

/// The profile a user's hive at `relative` (below the loose folder) belongs to: the
/// folder after `Users` (`Users/alice/AppData/…/UsrClass.dat`), else the folder
/// holding it (`alice/NTUSER.DAT`); `None` for a hive at the top.
fn owner_of(relative: &Path) -> Option<String> {
    let folders: Vec<String> = relative
        .parent()?
        .components()
        .map(|c| os_text(c.as_os_str()))
        .collect();
    let after_users = folders
        .iter()
        .position(|f| f.eq_ignore_ascii_case("users"))
        .and_then(|i| folders.get(i + 1));
    after_users.or(folders.last()).cloned()
}

/// The change journal's names as collectors write it.
fn is_journal_name(lower: &str) -> bool {
    matches!(lower, "$j" | "$usnjrnl_$j" | "$usnjrnl%3a$j" | "$usnjrnl$j")
}

/// A hive's transaction log: `<hive file name>.LOG`, `.LOG1` or `.LOG2`, as the
/// hive's file name and the extension.
pub fn log_of(name: &str) -> Option<(&str, &str)> {
    let (stem, ext) = name.rsplit_once('.')?;
    ["log", "log1", "log2"]
        .iter()
        .any(|l| ext.eq_ignore_ascii_case(l))
        .then_some((stem, ext))
}

impl Loose {
    /// One file given on its own, placed if it is an artifact toolmark reads
    /// (`None` otherwise: it is then opened as an image); a hive takes its
    /// transaction logs beside it (`SYSTEM.LOG1`, `Amcache.hve.LOG2`) along.
    pub fn of_file(path: &Path) -> Option<Loose> {
        let mut loose = Loose::default();
        let name = path.file_name().map(os_text)?;
        // A transaction log alone is no hive, though an old-format one starts like
        // one and records its hive's name: it is read only beside its hive.
        if log_of(&name).is_some() {
            return None;
        }
        // A file that cannot be read (or is no regular file) is placed nowhere: it is
        // then opened as an image, and that open says why it cannot be.
        let head = head_of(path).ok()?;
        let place = loose.place(&name, &head, None)?;
        loose.event_log = signature(&head) == Signature::EventLog;
        if signature(&head) == Signature::Hive {
            // Its transaction logs beside it, as Windows names them.
            for ext in ["LOG", "LOG1", "LOG2"] {
                let log = path.with_file_name(format!("{name}.{ext}"));
                if log.is_file() {
                    loose.insert(format!("{place}.{ext}"), log, &name);
                }
            }
        }
        loose.insert(place, path.to_path_buf(), &name);
        Some(loose)
    }

    /// A folder of loose copies: its files and those of its folders
    /// ([`MAX_DEPTH`] levels), each placed where Windows keeps it.
    pub fn of_folder(dir: &Path) -> Loose {
        let mut loose = Loose::default();
        let mut seen = 0usize;
        let mut waiting = vec![(dir.to_path_buf(), 0usize)];
        let mut logs = Vec::new();
        while let Some((folder, depth)) = waiting.pop() {
            let entries = match fs::read_dir(&folder) {
                Ok(entries) => entries,
                Err(e) => {
                    loose.problems.push(format!("{}: {e}", path_text(&folder)));
                    continue;
                }
            };
            let mut names: Vec<(String, PathBuf, fs::FileType)> = Vec::new();
            for entry in entries {
                seen += 1;
                if seen > MAX_ENTRIES {
                    loose.problems.push(format!(
                        "{}: more than {MAX_ENTRIES} entries; the rest not looked at",
                        path_text(dir)
                    ));
                    waiting.clear();
                    break;
                }
                match entry.and_then(|e| Ok((e.file_name(), e.path(), e.file_type()?))) {
                    Ok((name, path, kind)) => names.push((os_text(&name), path, kind)),
                    Err(e) => loose.problems.push(format!("{}: {e}", path_text(&folder))),
                }
            }
            names.sort_by(|a, b| a.0.cmp(&b.0));
            for (name, path, kind) in names {
                let shown = path_text(path.strip_prefix(dir).unwrap_or(&path));
                if kind.is_symlink() {
                    loose
                        .problems
                        .push(format!("{shown}: symbolic link not followed"));
                } else if kind.is_dir() {
                    if depth < MAX_DEPTH {
                        waiting.push((path, depth + 1));
                    } else {
                        loose.problems.push(format!(
                            "{shown}: deeper than {MAX_DEPTH} folders, not looked into"
                        ));
                    }
                } else if log_of(&name).is_some() {
                    logs.push((name, path));
                } else {
                    match head_of(&path) {
                        Ok(head) => {
                            let owner = owner_of(path.strip_prefix(dir).unwrap_or(&path));
                            if let Some(place) = loose.place(&name, &head, owner.as_deref()) {
                                loose.insert(place, path, &shown);
                            } else if let Some(kind) = named_as_artifact(&name) {
                                // Named like an artifact but not one by its bytes: a
                                // damaged copy, said rather than passed over.
                                loose.problems.push(format!(
                                    "{shown}: named as {kind} but does not start as one: not read"
                                ));
                            }
                        }
                        Err(e) => loose.problems.push(e),
                    }
                }
            }
        }
        // Transaction logs go beside the hive they belong to (same folder, the
        // hive's file name before the extension), under the hive's placed name.
        let placed_at: std::collections::HashMap<PathBuf, String> = loose
            .files
            .values()
            .map(|(place, real)| (real.clone(), place.clone()))
            .collect();
        for (name, path) in logs {
            let Some((stem, ext)) = log_of(&name) else {
                continue;
            };
            let hive = path.with_file_name(stem);
            let placed = placed_at.get(&hive).map(|place| format!("{place}.{ext}"));
            if let Some(place) = placed {
                let shown = path_text(path.strip_prefix(dir).unwrap_or(&path));
                loose.insert(place, path, &shown);
            }
        }
        loose
    }

    /// Where a file named `name` starting with `head` goes, if it is an artifact.
    fn place(&mut self, name: &str, head: &[u8], owner: Option<&str>) -> Option<String> {
        let lower = name.to_ascii_lowercase();
        match signature(head) {
            // Logs are found by their extension where they are placed: a log
            // under another name (`CMD.EXE-11111111.pf`) keeps it, with one added.
            Signature::EventLog if lower.ends_with(".evtx") => Some(name.to_string()),
            Signature::EventLog => Some(format!("{name}.evtx")),
            Signature::Hive => {
                let owner = owner.map_or_else(
                    || {
                        // A user's hive at the top: its own name (`NTUSER-alice.DAT`)
                        // tells copies apart, else the folder is `(loose)`.
                        let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
                        if stem.eq_ignore_ascii_case("ntuser")
                            || stem.eq_ignore_ascii_case("usrclass")
                        {
                            "(loose)".to_string()
                        } else {
                            stem.to_string()
                        }
                    },
                    str::to_string,
                );
                hive_place(name, &owner).or_else(|| {
                    recorded_hive_name(head).and_then(|recorded| hive_place(&recorded, &owner))
                })
            }
            Signature::Prefetch if lower.ends_with(".pf") => {
                Some(format!("Windows/Prefetch/{name}"))
            }
            Signature::MftRecord if lower == "$mft" => Some("$MFT".into()),
            _ if is_journal_name(&lower) => Some("$Extend/$J".into()),
            _ => None,
        }
    }

    /// Places `path` at `place`, unless another file already went there.
    fn insert(&mut self, place: String, path: PathBuf, shown: &str) {
        match self.files.entry(place.to_lowercase()) {
            std::collections::btree_map::Entry::Occupied(first) => self.problems.push(format!(
                "{shown}: not read, a second copy of {} (the first found was read)",
                first.get().0
            )),
            std::collections::btree_map::Entry::Vacant(slot) => {
                slot.insert((place, path));
            }
        }
    }

    /// True for one event log given on its own.
    pub fn is_event_log(&self) -> bool {
        self.event_log
    }

    /// What the walk could not read or place.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    /// The names in folder `dir` of the placed layout.
    pub fn list(&self, dir: &str) -> Result<Listing, ListError> {
        let dir = normalise(dir);
        let (prefix, depth) = match dir.as_str() {
            "" => (String::new(), 0),
            d => (format!("{}/", d.to_lowercase()), d.split('/').count()),
        };
        let mut items: Vec<DirItem> = Vec::new();
        // Everything below `dir` is one run of the sorted keys, a subfolder's
        // names side by side: a name repeats only right after itself.
        for (_, (place, _)) in self
            .files
            .range(prefix.clone()..)
            .take_while(|(key, _)| key.starts_with(&prefix))
        {
            let mut parts = place.split('/').skip(depth);
            let Some(name) = parts.next() else { continue };
            let is_dir = parts.next().is_some();
            let repeated = items.last().is_some_and(|i| {
                i.is_dir == is_dir && i.name.to_lowercase() == name.to_lowercase()
            });
            if !repeated {
                items.push(DirItem {
                    name: name.to_string(),
                    is_dir,
                });
            }
        }
        if items.is_empty() && !dir.is_empty() {
            return Err(ListError {
                message: format!("not found: {dir}"),
                absent: true,
            });
        }
        Ok(Listing {
            items,
            problems: Vec::new(),
        })
    }

    /// The file placed at `path`, if any.
    pub fn file(&self, path: &str) -> Option<&Path> {
        self.files
            .get(&normalise(path).to_lowercase())
            .map(|(_, real)| real.as_path())
    }
}

/// `path` with `/` separators and no leading or trailing one.
fn normalise(path: &str) -> String {
    path.replace('\\', "/").trim_matches('/').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hive_head(recorded: &str) -> Vec<u8> {
        let mut head = vec![0u8; 4096];
        head[..4].copy_from_slice(b"regf");
        // Windows keeps the last 31 characters of the hive's path.
        let units: Vec<u16> = recorded.encode_utf16().collect();
        let kept = &units[units.len().saturating_sub(31)..];
        for (i, unit) in kept.iter().enumerate() {
            head[48 + 2 * i..50 + 2 * i].copy_from_slice(&unit.to_le_bytes());
        }
        head
    }

    #[test]
    fn each_kind_goes_where_windows_keeps_it() {
        let mut loose = Loose::default();
        let mut prefetch = vec![0u8; 64];
        prefetch[4..8].copy_from_slice(b"SCCA");
        let cases = [
            (
                "system",
                hive_head(""),
                Some("Windows/System32/config/SYSTEM"),
            ),
            (
                "Amcache.hve",
                hive_head(""),
                Some("Windows/AppCompat/Programs/Amcache.hve"),
            ),
            (
                "NTUSER.DAT",
                hive_head(""),
                Some("Users/(loose)/NTUSER.DAT"),
            ),
            (
                "NTUSER-alice.DAT",
                hive_head(""),
                Some("Users/NTUSER-alice/NTUSER.DAT"),
            ),
            (
                "UsrClass.dat",
                hive_head(""),
                Some("Users/(loose)/AppData/Local/Microsoft/Windows/UsrClass.dat"),
            ),
            // Renamed copies are known by the name the hive records.
            (
                "host1_sys.bin",
                hive_head("\\??\\C:\\Windows\\System32\\config\\SYSTEM"),
                Some("Windows/System32/config/SYSTEM"),
            ),
            (
                "BCD",
                hive_head("\\Device\\HarddiskVolume1\\Boot\\BCD"),
                None,
            ),
            (
                "CALC.EXE-3FBEF7FD.pf",
                prefetch.clone(),
                Some("Windows/Prefetch/CALC.EXE-3FBEF7FD.pf"),
            ),
            ("notes.pf", b"hello".to_vec(), None),
            ("$MFT", b"FILE0\x03\x00".to_vec(), Some("$MFT")),
            ("$UsnJrnl%3A$J", vec![0u8; 16], Some("$Extend/$J")),
            (
                "Security.evtx",
                b"ElfFile\0".to_vec(),
                Some("Security.evtx"),
            ),
            ("SYSTEM", b"not a hive".to_vec(), None),
            // A log is one by its bytes, whatever its name says.
            (
                "CMD.EXE-11111111.pf",
                b"ElfFile\0".to_vec(),
                Some("CMD.EXE-11111111.pf.evtx"),
            ),
        ];
        for (name, head, expected) in cases {
            assert_eq!(
                loose.place(name, &head, None).as_deref(),
                expected,
                "{name}"
            );
        }
        assert_eq!(
            loose
                .place("NTUSER.DAT", &hive_head(""), Some("alice"))
                .as_deref(),
            Some("Users/alice/NTUSER.DAT")
        );
    }

    /// A file named like an artifact that does not start as one was passed over
    /// without a word in a folder of loose copies (given alone, opening it as an
    /// image already said why it could not be read).
    #[test]
    fn a_file_named_as_an_artifact_but_not_one_is_said() {
        let dir = std::env::temp_dir().join(format!("tm-loose-named-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("Security.evtx"), vec![0x5a; 4096]).unwrap();
        std::fs::write(dir.join("SYSTEM"), b"not a hive").unwrap();
        std::fs::write(dir.join("README.txt"), b"notes").unwrap();
        let loose = Loose::of_folder(&dir);
        let problems = loose.problems().join("\n");
        assert!(
            problems.contains("Security.evtx: named as an event log but does not start as one"),
            "{problems}"
        );
        assert!(
            problems.contains("SYSTEM: named as a registry hive"),
            "{problems}"
        );
        assert!(!problems.contains("README"), "{problems}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_transaction_log_alone_is_no_hive() {
        let dir = std::env::temp_dir().join(format!("tm-loose-log-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("SYSTEM.LOG1");
        std::fs::write(&log, hive_head("\\SystemRoot\\System32\\Config\\SYSTEM")).unwrap();
        assert!(Loose::of_file(&log).is_none());
        let hive = dir.join("SYSTEM");
        std::fs::write(&hive, hive_head("")).unwrap();
        let loose = Loose::of_file(&hive).unwrap();
        assert_eq!(
            loose.file("Windows/System32/config/SYSTEM.LOG1"),
            Some(log.as_path())
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_users_hive_belongs_to_the_profile_that_holds_it() {
        for (relative, owner) in [
            ("NTUSER.DAT", None),
            ("alice/NTUSER.DAT", Some("alice")),
            (
                "Users/bob/AppData/Local/Microsoft/Windows/UsrClass.dat",
                Some("bob"),
            ),
            ("export/HOST1/Users/carol/NTUSER.DAT", Some("carol")),
        ] {
            assert_eq!(
                owner_of(Path::new(relative)).as_deref(),
                owner,
                "{relative}"
            );
        }
    }

    #[test]
    fn the_placed_layout_lists_and_opens_like_a_volume() {
        let mut loose = Loose::default();
        for place in [
            "Windows/System32/config/SYSTEM",
            "Windows/System32/config/SYSTEM.LOG1",
            "Windows/Prefetch/A.EXE-1.pf",
            "Users/alice/NTUSER.DAT",
            "Security.evtx",
        ] {
            loose.insert(place.into(), PathBuf::from(format!("/real/{place}")), place);
        }
        let names = |dir: &str| -> Vec<(String, bool)> {
            let mut items: Vec<_> = loose
                .list(dir)
                .unwrap()
                .items
                .into_iter()
                .map(|i| (i.name, i.is_dir))
                .collect();
            items.sort();
            items
        };
        assert_eq!(
            names(""),
            [
                ("Security.evtx".to_string(), false),
                ("Users".into(), true),
                ("Windows".into(), true)
            ]
        );
        assert_eq!(
            names("windows\\system32\\CONFIG"),
            [("SYSTEM".to_string(), false), ("SYSTEM.LOG1".into(), false)]
        );
        assert_eq!(names("Users"), [("alice".to_string(), true)]);
        assert!(loose.list("Windows/Tasks").is_err_and(|e| e.absent));
        assert_eq!(
            loose.file("windows/prefetch/a.exe-1.PF"),
            Some(Path::new("/real/Windows/Prefetch/A.EXE-1.pf"))
        );
        assert_eq!(loose.file("Windows/Prefetch"), None);
        // A second copy of a placed file is said, not read.
        loose.insert(
            "windows/system32/config/system".into(),
            PathBuf::from("/other"),
            "other/SYSTEM",
        );
        assert_eq!(
            loose.problems(),
            ["other/SYSTEM: not read, a second copy of Windows/System32/config/SYSTEM (the first found was read)"]
        );
    }
}
