//! `toolmark ls`: directory listings with full paths, like `fls -p`.
//!
//! Each line is `type<TAB>record-sequence<TAB>size<TAB>path`: type `d` or `r`
//! (prefixed `*` for deleted), the MFT record the name points to, the logical size,
//! and the path from the volume root with named streams as `path:stream`.
//! Control characters in names are escaped so one name is always one line.

use std::collections::HashSet;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;
use std::rc::Rc;

use super::{open_volume, Outcome, EXIT_FAILURE};
use crate::collect::mft::PathCache;
use crate::evidence::ReadAt;
use crate::ntfs::{known, FileEntry, IndexEntry, Volume};
use crate::output::shown;

/// Deepest directory nesting followed when rebuilding a deleted file's path.
const MAX_DEPTH: usize = 256;

/// Runs `toolmark ls`.
pub fn run(
    image: &Path,
    path: &str,
    volume: Option<usize>,
    snapshot: Option<usize>,
    recursive: bool,
    deleted: bool,
) -> Outcome {
    let opened = open_volume(image, volume, snapshot)?;
    let v = &opened.volume;
    let start = v.lookup(path)?;
    let prefix: Vec<&str> = path
        .split(['/', '\\'])
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    let prefix = prefix.join("/");
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut problems = Warnings::default();
    for damage in opened.damage() {
        problems.push(damage);
    }
    if start.is_directory {
        let mut visited = HashSet::from([start.record]);
        let dir_prefix = if prefix.is_empty() {
            String::new()
        } else {
            format!("{prefix}/")
        };
        walk(
            v,
            &start,
            &dir_prefix,
            recursive,
            &mut visited,
            &mut out,
            &mut problems,
        )?;
    } else {
        note_damage(&start, &prefix, &mut problems);
        print_file(&mut out, &start, &prefix, false)?;
    }
    if deleted {
        list_deleted(v, &prefix, &mut out, &mut problems)?;
    }
    out.flush()?;
    problems.finish();
    Ok(if problems.count == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILURE)
    })
}

/// Depth-first, pre-order like `fls -r`, with an explicit stack so a hostile image
/// with extremely deep nesting cannot overflow ours, and a visited set so a
/// directory that contains its own ancestor is listed once.
fn walk(
    v: &Volume,
    dir: &FileEntry,
    prefix: &str,
    recursive: bool,
    visited: &mut HashSet<u64>,
    out: &mut impl Write,
    problems: &mut Warnings,
) -> io::Result<()> {
    let mut pending: Vec<Pending> = Vec::new();
    push_children(v, dir, &Rc::from(prefix), 0, &mut pending, problems);
    while let Some((entry, prefix, depth)) = pending.pop() {
        let path = format!("{prefix}{}", entry.name.name);
        let file = match v.entry_is_live(&entry) {
            Ok(Some(file)) => file,
            Ok(None) => continue,
            Err(e) => {
                problems.push(format!("{path}: {e}"));
                continue;
            }
        };
        note_damage(&file, &path, problems);
        print_file(out, &file, &path, false)?;
        if recursive && file.is_directory && visited.insert(file.record) {
            if depth + 1 >= MAX_DEPTH {
                problems.push(format!(
                    "{path}: nested deeper than {MAX_DEPTH} directories, not listed further"
                ));
                continue;
            }
            let inner: Rc<str> = Rc::from(format!("{path}/"));
            push_children(v, &file, &inner, depth + 1, &mut pending, problems);
        }
    }
    Ok(())
}

/// Pushes the listed names of `dir` onto `pending` so they pop in name order; the
/// records are read only when popped, so the stack holds names, not files.
fn push_children(
    v: &Volume,
    dir: &FileEntry,
    prefix: &Rc<str>,
    depth: usize,
    pending: &mut Vec<Pending>,
    problems: &mut Warnings,
) {
    let (mut entries, damage) = match v.read_dir(dir) {
        Ok(found) => found,
        Err(e) => {
            problems.push(format!("{prefix}: {e}"));
            return;
        }
    };
    for d in damage {
        problems.push(format!("{prefix}: {d}"));
    }
    entries.retain(|e| crate::ntfs::is_listed_name(e, dir.record));
    entries.sort_by(|a, b| b.name.name.cmp(&a.name.name));
    for entry in entries {
        pending.push((entry, Rc::clone(prefix), depth));
    }
}

/// A name waiting to be listed: its index entry, its directory's path (shared by
/// its siblings: a wide directory deep down holds one copy, not one a name) and
/// that directory's depth.
type Pending = (IndexEntry, Rc<str>, usize);

/// Warnings, written to stderr as they come: the first [`MAX_WARNINGS`], then
/// only counted (a `$MFT` of a million damaged records must not hold a million
/// messages).
#[derive(Default)]
struct Warnings {
    count: u64,
}

/// Warnings written one by one; the rest are counted.
const MAX_WARNINGS: u64 = 1000;

impl Warnings {
    fn push(&mut self, message: String) {
        self.count += 1;
        if self.count <= MAX_WARNINGS {
            eprintln!("toolmark: warning: {}", shown(&message));
        }
    }

    fn finish(&self) {
        if self.count > MAX_WARNINGS {
            eprintln!(
                "toolmark: warning: {} more warnings not shown",
                self.count - MAX_WARNINGS
            );
        }
    }
}

/// A file listed from a damaged record may miss streams (their attributes could
/// not be read): the listing must not pass for complete.
fn note_damage(file: &FileEntry, path: &str, problems: &mut Warnings) {
    if !file.problems.is_empty() {
        problems.push(format!("{path}: {}", file.problems.join("; ")));
    }
}

fn print_file(out: &mut impl Write, file: &FileEntry, path: &str, deleted: bool) -> io::Result<()> {
    let mark = if deleted { "*" } else { "" };
    let id = format!("{}-{}", file.record, file.sequence);
    let path_shown = shown(path);
    if file.is_directory {
        writeln!(out, "{mark}d\t{id}\t0\t{path_shown}")?;
    }
    for stream in file.streams() {
        if stream.name.is_empty() {
            if !file.is_directory {
                writeln!(out, "{mark}r\t{id}\t{}\t{path_shown}", stream.size)?;
            }
        } else {
            writeln!(
                out,
                "{mark}r\t{id}\t{}\t{path_shown}:{}",
                stream.size,
                shown(&stream.name)
            )?;
        }
    }
    Ok(())
}

/// Deleted files: records not in use that still carry a name. Their paths are
/// rebuilt from the parent references in `$FILE_NAME`; a parent that no longer
/// exists puts them under `$OrphanFiles`, as The Sleuth Kit does.
fn list_deleted(
    v: &Volume,
    prefix: &str,
    out: &mut impl Write,
    problems: &mut Warnings,
) -> io::Result<()> {
    let mut dirs = PathCache::default();
    for number in 0..v.record_count() {
        // A slot never used (all zeros) holds no name; one that cannot be read,
        // or holds a record that does not parse, may have held one.
        let file = match v.file(number) {
            Ok(file) => file,
            Err(e) => {
                if !never_used(v, number) {
                    problems.push(format!("MFT record {number}: {e}"));
                }
                continue;
            }
        };
        if file.in_use {
            continue;
        }
        let Some(name) = file.best_name() else {
            continue;
        };
        let (parent, _) = dir_path(v, name.parent, name.parent_sequence, &mut dirs, 0);
        let path = if parent.is_empty() {
            name.name.clone()
        } else {
            format!("{parent}/{}", name.name)
        };
        if path.starts_with(prefix) {
            note_damage(&file, &path, problems);
            print_file(out, &file, &path, true)?;
        }
    }
    Ok(())
}

/// True if MFT slot `number` reads as zeros: no record was ever written there.
fn never_used(v: &Volume, number: u64) -> bool {
    let size = v.boot().record_size;
    let mut raw = vec![0u8; size as usize];
    v.mft_stream()
        .read_exact_at(&mut raw, number.saturating_mul(size))
        .is_ok_and(|()| raw.iter().all(|&b| b == 0))
}

fn dir_path(
    v: &Volume,
    record: u64,
    sequence: u16,
    cache: &mut PathCache<()>,
    depth: usize,
) -> (String, bool) {
    if record == known::ROOT {
        return (String::new(), false);
    }
    if let Some((path, ())) = cache.get(record) {
        return (path.to_string(), false);
    }
    if depth >= MAX_DEPTH {
        return ("$OrphanFiles".to_string(), true);
    }
    let (path, cut) = match v.file(record) {
        Ok(dir) if dir.in_use && dir.is_directory && dir.sequence == sequence => {
            match dir.best_name() {
                Some(name) => {
                    let (parent, cut) =
                        dir_path(v, name.parent, name.parent_sequence, cache, depth + 1);
                    if parent.is_empty() {
                        (name.name.clone(), cut)
                    } else {
                        (format!("{parent}/{}", name.name), cut)
                    }
                }
                None => ("$OrphanFiles".to_string(), false),
            }
        }
        _ => ("$OrphanFiles".to_string(), false),
    };
    // A path cut short by the depth limit depends on where the walk began.
    if !cut {
        cache.insert(record, &path, ());
    }
    (path, cut)
}
