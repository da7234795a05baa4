//! Why an artifact could not be collected, by kind: each becomes one errors.csv
//! row (the collector adds the path and the stage), and its text is the row's
//! `error` cell.

/// Why an artifact, or part of one, could not be collected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CollectError {
    /// The evidence holding it could not be read (a damaged container, a bad
    /// data run, a folder that cannot be listed): the reason as the layer below
    /// gave it.
    #[error("{0}")]
    Unreadable(String),
    /// Its stated size is more than a file of its kind can have: refused before
    /// anything is allocated for it.
    #[error("{size} bytes is more than the {limit} a file of this kind can have")]
    TooLarge {
        /// The size the file states (or the data behind it, when the statement
        /// is beyond anything the volume could back).
        size: u64,
        /// The most we read whole for this kind of file.
        limit: u64,
    },
    /// Not one of its blocks could be read: the unreadable ranges, in order.
    #[error("{}", .0.join("; "))]
    NothingReadable(Vec<String>),
    /// It is not what its name says, or its structure is broken before any
    /// record could be read (an event log without a file header, a chunk that is
    /// not one).
    #[error("{0}")]
    NotTheFormat(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cell texts the rows have always had: tests and analysts filter on them.
    #[test]
    fn each_kind_reads_as_its_errors_csv_cell() {
        let too_large = CollectError::TooLarge { size: 5, limit: 4 };
        assert_eq!(
            too_large.to_string(),
            "5 bytes is more than the 4 a file of this kind can have"
        );
        let holes = CollectError::NothingReadable(vec!["a".into(), "b".into()]);
        assert_eq!(holes.to_string(), "a; b");
        assert_eq!(CollectError::Unreadable("x".into()).to_string(), "x");
        assert_eq!(CollectError::NotTheFormat("y".into()).to_string(), "y");
    }
}
