//! Where each format version keeps the fields we report.
//!
//! Every SCCA file starts with an 84-byte header (version, `SCCA`, an unknown
//! value, the file size, the executable name as 30 UTF-16 units, the Prefetch hash,
//! flags) followed by a "file information" block whose first 36 bytes are the same
//! in every version: offsets and counts of the metrics array, the trace-chain array,
//! the filename strings and the volume information. After that the versions differ
//! (libscca's format document, EZ Prefetch and artemis sources, and the corpus):
//!
//! | version | Windows | last run times | run count at | volume entry |
//! |---|---|---|---|---|
//! | 17 | XP, 2003 | 1 at 120 | 144 | 40 bytes |
//! | 23 | Vista, 7 | 1 at 128 | 152 | 104 bytes |
//! | 26 | 8, 8.1, 2012 | 8 at 128 | 208 | 104 bytes |
//! | 30 variant 1 | early 10 | 8 at 128 | 208 | 96 bytes |
//! | 30 variant 2, 31 | later 10, 11 | 8 at 128 | 200 | 96 bytes |
//!
//! The two version-30 variants carry the same version number; they are told apart
//! by where the metrics array starts, which is right after the file information:
//! 0x130 in variant 1 (the version-26 size), 0x128 in variant 2, whose file
//! information is 8 bytes shorter before the run count. Offsets are from file start.

use crate::Error;

/// Size of the common file header.
pub(crate) const HEADER_LEN: usize = 84;
/// Metrics-array offset that marks the shorter (variant 2) file information.
const SHORT_FILE_INFO_METRICS_OFFSET: usize = 0x128;
/// Metrics-array offset that marks the longer (variant 1) file information.
const LONG_FILE_INFO_METRICS_OFFSET: usize = 0x130;

/// Field positions for one format version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    /// Offset of the first (most recent) last-run FILETIME.
    pub(crate) last_run_times: usize,
    /// How many last-run FILETIME slots follow.
    pub(crate) last_run_slots: usize,
    /// Offset of the u32 run count.
    pub(crate) run_count: usize,
    /// Size of one volume information entry.
    pub(crate) volume_entry_len: usize,
}

impl Layout {
    /// The layout for `version`; `metrics_offset` separates the version-30 variants.
    /// An offset that is neither variant's gets variant 2, the one Windows 11 and
    /// later Windows 10 write; [`implausible_metrics_offset`] reports it.
    pub(crate) fn for_version(version: u32, metrics_offset: usize) -> Result<Self, Error> {
        let (last_run_times, last_run_slots, run_count, volume_entry_len) = match version {
            17 => (36, 1, 60, 40),
            23 => (44, 1, 68, 104),
            26 => (44, 8, 124, 104),
            30 | 31 if metrics_offset == LONG_FILE_INFO_METRICS_OFFSET => (44, 8, 124, 96),
            30 | 31 => (44, 8, 116, 96),
            _ => return Err(Error::UnsupportedVersion { version }),
        };
        Ok(Layout {
            last_run_times: HEADER_LEN + last_run_times,
            last_run_slots,
            run_count: HEADER_LEN + run_count,
            volume_entry_len,
        })
    }
}

/// The damage of a version-30/31 metrics offset that is neither variant's: the
/// variant, and so where the run count is, had to be guessed. (Earlier versions
/// have one file-information layout and do not depend on it.)
pub(crate) fn implausible_metrics_offset(version: u32, metrics_offset: usize) -> Option<Error> {
    let known = [
        SHORT_FILE_INFO_METRICS_OFFSET,
        LONG_FILE_INFO_METRICS_OFFSET,
    ];
    (matches!(version, 30 | 31) && !known.contains(&metrics_offset)).then_some(Error::Implausible {
        what: "metrics array offset",
        offset: HEADER_LEN,
        value: metrics_offset as u64,
        why: "is neither 0x128 nor 0x130: the run count is read where the \
                  0x128 layout keeps it and may be wrong",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_metrics_offset_of_neither_variant_is_damage() {
        for offset in [0x128, 0x130] {
            assert_eq!(implausible_metrics_offset(31, offset), None);
        }
        assert_eq!(implausible_metrics_offset(26, 0xFFFF_FF00), None);
        assert!(matches!(
            implausible_metrics_offset(31, 0xFFFF_FF00),
            Some(Error::Implausible {
                value: 0xFFFF_FF00,
                ..
            })
        ));
        // The guess is the layout every Windows 11 file has.
        assert_eq!(
            Layout::for_version(31, 0xFFFF_FF00),
            Layout::for_version(31, 0x128)
        );
    }

    #[test]
    fn unknown_versions_are_named_in_the_error() {
        assert_eq!(
            Layout::for_version(29, 0x130),
            Err(Error::UnsupportedVersion { version: 29 })
        );
    }
}
