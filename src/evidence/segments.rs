//! Finding the pieces of a split raw image from its first piece.
//!
//! Acquisition tools name pieces `NAME.001 .002 …` (also starting at `.000`, any
//! width) or `NAME.aa .ab …` (split(1)). Given one piece we follow the sequence until
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
    while let Some(next) = counter.next() {
        let candidate = first.with_extension(next.render());
        if !candidate.is_file() {
            break;
        }
        pieces.push(candidate);
        counter = next;
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

/// A piece's extension: a zero-padded number or a run of lower/upper-case letters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SegmentName {
    Numeric {
        value: u64,
        width: usize,
    },
    Alphabetic {
        value: u64,
        width: usize,
        upper: bool,
    },
}

impl SegmentName {
    fn parse(ext: &str) -> Option<SegmentName> {
        let width = ext.len();
        if !(2..=6).contains(&width) {
            return None;
        }
        if ext.bytes().all(|b| b.is_ascii_digit()) {
            // Only the first piece of a set names it; `.002` alone is not a start.
            let value: u64 = ext.parse().ok()?;
            return (value <= 1).then_some(SegmentName::Numeric { value, width });
        }
        let upper = ext.bytes().all(|b| b.is_ascii_uppercase());
        let lower = ext.bytes().all(|b| b.is_ascii_lowercase());
        // `aa` starts a split(1) set; anything else (e.g. `raw`, `dd`) is a plain file.
        if (upper || lower) && ext.bytes().all(|b| b == if upper { b'A' } else { b'a' }) {
            return Some(SegmentName::Alphabetic {
                value: 0,
                width,
                upper,
            });
        }
        None
    }

    fn next(self) -> Option<SegmentName> {
        match self {
            SegmentName::Numeric { value, width } => {
                let value = value + 1;
                (value < 10u64.checked_pow(width as u32)?)
                    .then_some(SegmentName::Numeric { value, width })
            }
            SegmentName::Alphabetic {
                value,
                width,
                upper,
            } => {
                let value = value + 1;
                (value < 26u64.checked_pow(width as u32)?).then_some(SegmentName::Alphabetic {
                    value,
                    width,
                    upper,
                })
            }
        }
    }

    fn render(self) -> String {
        match self {
            SegmentName::Numeric { value, width } => format!("{value:0width$}"),
            SegmentName::Alphabetic {
                value,
                width,
                upper,
            } => {
                let base = if upper { b'A' } else { b'a' };
                let mut letters = vec![base; width];
                let mut rest = value;
                for slot in letters.iter_mut().rev() {
                    *slot = base + (rest % 26) as u8;
                    rest /= 26;
                }
                String::from_utf8_lossy(&letters).into_owned()
            }
        }
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
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
