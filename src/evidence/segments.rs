//! Finding the pieces of a split raw image from its first piece.
//!
//! Acquisition tools name pieces `NAME.001 .002 …` (also starting at `.000`, any
//! width, growing a digit past the last: `.999 .1000`, as FTK Imager writes and The
//! Sleuth Kit reads them) or `NAME.aa .ab …` (split(1)). GNU split without `-a`
//! widens its suffixes instead of running out: `.89` is followed by `.9000`, `.yz`
//! by `.zaaa`, `.zyzz` by `.zzaaaa`. Given one piece we follow the sequence until
//! the next name does not exist, then make sure no later piece exists beyond a
//! gap: a missing middle piece would silently shift the rest of the disk.

use std::io;
use std::path::{Path, PathBuf};

/// How far past the end of a run we look for stray later pieces.
const GAP_LOOKAHEAD: usize = 8;

/// The ordered pieces of the set `first` belongs to (just `first` for a plain file),
/// up to the first missing one; with a note naming it when a later piece exists
/// (the set is then read up to the gap: what lies after it cannot be placed).
pub fn split_raw_set(first: &Path) -> io::Result<(Vec<PathBuf>, Option<String>)> {
    let Some(ext) = first.extension().and_then(|e| e.to_str()) else {
        return Ok((vec![first.to_path_buf()], None));
    };
    let Some(mut counter) = SegmentName::parse(ext) else {
        return Ok((vec![first.to_path_buf()], None));
    };
    let mut pieces = vec![first.to_path_buf()];
    // The next name, or at GNU split's widening point the widened one.
    let existing = |name: Option<SegmentName>| {
        name.map(|n| (n, first.with_extension(n.render())))
            .filter(|(_, path)| path.is_file())
    };
    let folder = folder_of(first);
    while let Some((next, candidate)) =
        existing(counter.next()).or_else(|| existing(counter.widened()))
    {
        if leads_outside(folder.as_deref(), &candidate) {
            let last = pieces.last().unwrap_or(&pieces[0]);
            let note = format!(
                "split image piece {} leads outside the image's folder (a symbolic \
                 link): it is not read; the set is read up to {} and what follows is \
                 not read",
                candidate.display(),
                last.display()
            );
            return Ok((pieces, Some(note)));
        }
        pieces.push(candidate);
        counter = next;
    }
    // The next piece is there but no regular file (a FIFO, a device, a folder): it
    // cannot be read as a piece, and the set must not end there silently.
    for next in [counter.next(), counter.widened()].into_iter().flatten() {
        let candidate = first.with_extension(next.render());
        if candidate.exists() && !candidate.is_file() {
            let last = pieces.last().unwrap_or(&pieces[0]);
            let note = format!(
                "split image piece {} is not a regular file: the set is read up to {} \
                 and what follows is not read",
                candidate.display(),
                last.display()
            );
            return Ok((pieces, Some(note)));
        }
    }
    let mut probe = counter;
    for _ in 0..GAP_LOOKAHEAD {
        let Some(next) = probe.next() else { break };
        let candidate = first.with_extension(next.render());
        if candidate.is_file() {
            let last = pieces.last().unwrap_or(&pieces[0]);
            let note = format!(
                "split image is missing a segment before {}: the set is read up to {} \
                 and what follows the gap is not read",
                candidate.display(),
                last.display()
            );
            return Ok((pieces, Some(note)));
        }
        probe = next;
    }
    Ok((pieces, None))
}

/// The folder `first` lies in, resolved through symbolic links; `None` when it
/// cannot be resolved (no later piece is then taken as leading outside it).
fn folder_of(first: &Path) -> Option<PathBuf> {
    let parent = first.parent().filter(|p| !p.as_os_str().is_empty());
    std::fs::canonicalize(parent.unwrap_or(Path::new("."))).ok()
}

/// Whether a later piece resolves, through symbolic links, to a file outside the
/// first piece's folder. Such a piece is no part of the acquisition, and following
/// it would read any file of the analyst's machine as evidence: the rule for
/// virtual-disk extents and parents holds for pieces too. The first piece is the
/// one the analyst named, and is read wherever it leads.
fn leads_outside(folder: Option<&Path>, piece: &Path) -> bool {
    let Some(folder) = folder else { return false };
    std::fs::canonicalize(piece).map_or(true, |resolved| !resolved.starts_with(folder))
}

/// A piece's extension: a zero-padded number or a run of lower/upper-case letters,
/// after `lead` copies of the alphabet's last symbol that GNU split's widening put
/// in front (`9000` is one `9` before the three-digit `000`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct SegmentName {
    alphabet: Alphabet,
    lead: usize,
    value: u64,
    width: usize,
}

/// The symbols of a suffix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Alphabet {
    Digits,
    Letters { upper: bool },
}

impl Alphabet {
    fn base(self) -> u64 {
        match self {
            Alphabet::Digits => 10,
            Alphabet::Letters { .. } => 26,
        }
    }

    fn symbol(self, digit: u64) -> char {
        let first = match self {
            Alphabet::Digits => b'0',
            Alphabet::Letters { upper: true } => b'A',
            Alphabet::Letters { upper: false } => b'a',
        };
        char::from(first + (digit % self.base()) as u8)
    }
}

/// Widest suffix GNU split's widening is followed to: it adds two characters at a
/// time, and no acquisition writes pieces by the billion.
const MAX_WIDTH: usize = 12;

impl SegmentName {
    fn parse(ext: &str) -> Option<SegmentName> {
        let width = ext.len();
        if !(2..=6).contains(&width) {
            return None;
        }
        if ext.bytes().all(|b| b.is_ascii_digit()) {
            // Only the first piece of a set names it; `.002` alone is not a start.
            let value: u64 = ext.parse().ok()?;
            return (value <= 1).then_some(SegmentName {
                alphabet: Alphabet::Digits,
                lead: 0,
                value,
                width,
            });
        }
        let upper = ext.bytes().all(|b| b.is_ascii_uppercase());
        let lower = ext.bytes().all(|b| b.is_ascii_lowercase());
        // `aa` starts a split(1) set; anything else (e.g. `raw`, `dd`) is a plain file.
        if (upper || lower) && ext.bytes().all(|b| b == if upper { b'A' } else { b'a' }) {
            return Some(SegmentName {
                alphabet: Alphabet::Letters { upper },
                lead: 0,
                value: 0,
                width,
            });
        }
        None
    }

    /// The name after this one: the number plus one, letters at their width
    /// (`zz` is the last), digits growing past it (`999`, `1000`).
    fn next(self) -> Option<SegmentName> {
        let value = self.value.checked_add(1)?;
        let fits = value < self.alphabet.base().checked_pow(self.width as u32)?;
        // Digits render wider as they grow; the set ends at its first missing name.
        (fits || self.alphabet == Alphabet::Digits).then_some(SegmentName { value, ..self })
    }

    /// GNU split's name after this one when it widens here: where the next name
    /// would start with the alphabet's last symbol, that symbol joins the lead and
    /// the rest starts over one symbol wider (`89` -> `9000`, `yz` -> `zaaa`).
    fn widened(self) -> Option<SegmentName> {
        let base = self.alphabet.base();
        let boundary = (base - 1).checked_mul(base.checked_pow(self.width as u32 - 1)?)?;
        (self.value.checked_add(1)? == boundary && self.lead + self.width + 2 <= MAX_WIDTH)
            .then_some(SegmentName {
                lead: self.lead + 1,
                value: 0,
                width: self.width + 1,
                ..self
            })
    }

    fn render(self) -> String {
        let base = self.alphabet.base();
        let last = self.alphabet.symbol(base - 1);
        let mut digits = Vec::new();
        let mut rest = self.value;
        while digits.len() < self.width || rest > 0 {
            digits.push(self.alphabet.symbol(rest % base));
            rest /= base;
        }
        std::iter::repeat_n(last, self.lead)
            .chain(digits.into_iter().rev())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_names_keep_their_width() {
        let first = SegmentName::parse("000").unwrap();
        assert_eq!(first.next().unwrap().render(), "001");
        let n = SegmentName::parse("001").unwrap();
        assert_eq!(n.next().unwrap().next().unwrap().render(), "003");
        assert_eq!(SegmentName::parse("002"), None);
        let mut n = SegmentName::parse("001").unwrap();
        for _ in 0..999 {
            n = n.next().unwrap();
        }
        assert_eq!(n.render(), "1000");
    }

    #[test]
    fn alphabetic_names_carry() {
        let mut n = SegmentName::parse("aa").unwrap();
        for _ in 0..26 {
            n = n.next().unwrap();
        }
        assert_eq!(n.render(), "ba");
        assert_eq!(
            SegmentName::parse("AA").unwrap().next().unwrap().render(),
            "AB"
        );
        assert_eq!(SegmentName::parse("raw"), None);
        assert_eq!(SegmentName::parse("dd"), None);
    }

    #[test]
    fn gnu_split_widens_its_suffixes() {
        let walk = |start: &str, steps: usize| {
            let mut n = SegmentName::parse(start).unwrap();
            let mut names = Vec::new();
            for _ in 0..steps {
                n = n
                    .next()
                    .filter(|_| n.widened().is_none())
                    .or(n.widened())
                    .unwrap();
                names.push(n.render());
            }
            names
        };
        // `split -d`: 00 … 89, 9000 … 9899, 990000.
        let digits = walk("00", 90 + 900);
        assert_eq!(digits[88..91], ["89", "9000", "9001"]);
        assert_eq!(digits[987..], ["9898", "9899", "990000"]);
        // `split`: aa … yz, zaaa … zyzz, zzaaaa.
        let letters = walk("aa", 650 + 25 * 676);
        assert_eq!(letters[648..651], ["yz", "zaaa", "zaab"]);
        assert_eq!(letters[letters.len() - 2..], ["zyzz", "zzaaaa"]);
        // Only at the boundary.
        assert_eq!(SegmentName::parse("00").unwrap().widened(), None);
    }

    #[test]
    fn sets_are_found_and_read_up_to_a_gap() {
        let dir = std::env::temp_dir().join(format!("tm-split-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for ext in ["001", "002", "003"] {
            std::fs::write(dir.join(format!("disk.{ext}")), b"x").unwrap();
        }
        let (set, gap) = split_raw_set(&dir.join("disk.001")).unwrap();
        assert_eq!((set.len(), gap), (3, None));
        std::fs::remove_file(dir.join("disk.002")).unwrap();
        let (set, gap) = split_raw_set(&dir.join("disk.001")).unwrap();
        assert_eq!(set, [dir.join("disk.001")]);
        let gap = gap.expect("the gap is noted");
        assert!(gap.contains("missing a segment before"), "{gap}");
        // A piece that is there but no regular file ends the set, said.
        std::fs::create_dir(dir.join("disk.002")).unwrap();
        let (set, note) = split_raw_set(&dir.join("disk.001")).unwrap();
        assert_eq!(set, [dir.join("disk.001")]);
        let note = note.expect("the odd piece is noted");
        assert!(note.contains("disk.002 is not a regular file"), "{note}");
        // A piece linked from outside the folder ends the set, said; one linked from
        // inside it is read.
        std::fs::remove_dir(dir.join("disk.002")).unwrap();
        let outside = dir.with_extension("outside");
        std::fs::write(&outside, b"host file").unwrap();
        std::os::unix::fs::symlink(&outside, dir.join("disk.002")).unwrap();
        let (set, note) = split_raw_set(&dir.join("disk.001")).unwrap();
        assert_eq!(set, [dir.join("disk.001")]);
        let note = note.expect("the link is noted");
        assert!(
            note.contains("disk.002 leads outside the image's folder"),
            "{note}"
        );
        std::fs::remove_file(dir.join("disk.002")).unwrap();
        std::os::unix::fs::symlink("disk.003", dir.join("disk.002")).unwrap();
        let (set, note) = split_raw_set(&dir.join("disk.001")).unwrap();
        assert_eq!((set.len(), note), (3, None));
        std::fs::remove_file(&outside).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
