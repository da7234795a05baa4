//! Candidate traces by program name. Most traces that name a program name it
//! literally (`psexec.exe`, `*\mimikatz.exe`), and most events name a program no
//! rule knows: looking the event's programs up by file-name stem leaves a handful
//! of traces to compare in full instead of every program trace of every tool (the
//! matcher's main cost on a busy Sysmon log before this index).
//!
//! The lookup only narrows: every candidate is still matched in full, so the index
//! must return a superset of the traces that can match. A glob whose last path
//! component holds a wildcard cannot be keyed and is always a candidate.

use std::collections::HashMap;

use super::observation::file_name;
use super::TraceId;
use crate::traces::glob::fold;
use crate::traces::Glob;

/// The key a program name is filed under: its last path component, case-folded as
/// globs fold, without its extension. `C:\Tools\PsExec64.EXE` -> `psexec64`; the
/// stem makes PE names such as PsExec's `OriginalFileName` `psexec.c` meet
/// `psexec.exe`.
pub(crate) fn stem(name: &str) -> String {
    let folded: String = fold(file_name(name.trim())).into_iter().collect();
    match folded.rsplit_once('.') {
        Some((stem, _)) => stem.to_string(),
        None => folded,
    }
}

/// Traces filed by the stems of the program names they accept.
#[derive(Default)]
pub(crate) struct ProgramIndex {
    by_stem: HashMap<String, Vec<TraceId>>,
    /// Traces whose program glob has a wildcard in its file name.
    unkeyed: Vec<TraceId>,
}

impl ProgramIndex {
    /// Files trace `id`, which accepts a program when any of `globs` does.
    pub fn add(&mut self, id: TraceId, globs: &[Glob]) {
        let literal = |g: &Glob| !file_name(g.as_str()).contains(['*', '?']);
        if globs.is_empty() || !globs.iter().all(literal) {
            self.unkeyed.push(id);
            return;
        }
        for glob in globs {
            let list = self.by_stem.entry(stem(glob.as_str())).or_default();
            if !list.contains(&id) {
                list.push(id);
            }
        }
    }

    /// Whether a trace may accept a program called `name`.
    pub fn may_accept(&self, name: &str, unkeyed: impl Fn(TraceId) -> bool) -> bool {
        self.by_stem.contains_key(&stem(name)) || self.unkeyed.iter().any(|&id| unkeyed(id))
    }

    /// Appends the traces that may accept a record naming `programs` (each trace
    /// once, in no particular order). A name holding `%%` message codes may match in
    /// its rendered form (see `matching::field_matches`), so it makes every trace a
    /// candidate.
    pub fn candidates<'p>(&self, programs: impl Iterator<Item = &'p str>, out: &mut Vec<TraceId>) {
        let start = out.len();
        out.extend_from_slice(&self.unkeyed);
        for program in programs {
            if program.contains("%%") {
                self.by_stem
                    .values()
                    .for_each(|ids| out.extend_from_slice(ids));
            } else if let Some(ids) = self.by_stem.get(&stem(program)) {
                out.extend_from_slice(ids);
            }
        }
        let found = &mut out[start..];
        found.sort_unstable();
        let unique = dedup_sorted(found);
        out.truncate(start + unique);
    }
}

/// Moves the distinct values of a sorted slice to its front; returns their number.
fn dedup_sorted(items: &mut [TraceId]) -> usize {
    let mut kept = 0;
    for i in 0..items.len() {
        if kept == 0 || items[kept - 1] != items[i] {
            items[kept] = items[i];
            kept += 1;
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glob(s: &str) -> Glob {
        Glob::new(s).unwrap()
    }

    #[test]
    fn a_program_finds_the_traces_of_its_stem_and_every_unkeyed_one() {
        let mut index = ProgramIndex::default();
        index.add((0, 0), &[glob("psexec.exe")]);
        index.add((0, 1), &[glob("*\\PsExec64.exe"), glob("*\\psexec.exe")]);
        index.add((1, 0), &[glob("*\\mimi*.exe")]);
        index.add((2, 0), &[glob("*\\wmic.exe")]);
        let mut out = Vec::new();
        index.candidates(
            ["C:\\Tools\\PSEXEC.EXE", "psexec.c", "cmd.exe"].into_iter(),
            &mut out,
        );
        out.sort_unstable();
        assert_eq!(out, [(0, 0), (0, 1), (1, 0)]);
        out.clear();
        index.candidates(["notepad.exe"].into_iter(), &mut out);
        assert_eq!(out, [(1, 0)], "an unkeyed trace is always a candidate");
        out.clear();
        index.candidates(["C:\\%%1843.exe"].into_iter(), &mut out);
        assert_eq!(out.len(), 4, "a coded name may match anything");
        assert!(index.may_accept("D:\\x\\PsExec64.exe", |_| false));
        assert!(!index.may_accept("notepad.exe", |_| false));
        assert!(index.may_accept("notepad.exe", |id| id == (1, 0)));
    }

    #[test]
    fn stems_fold_case_and_drop_the_directory_and_extension() {
        assert_eq!(stem("C:\\Windows\\System32\\WMIC.exe"), "wmic");
        assert_eq!(stem(" /tmp/a.b.exe "), "a.b");
        assert_eq!(stem("psexec"), "psexec");
        assert_eq!(stem("ÄPFEL.EXE"), "äpfel");
    }
}
