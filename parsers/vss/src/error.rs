//! What can go wrong reading shadow copies; every variant names where.

/// Why the catalog or a store could not be read.
#[derive(Debug, thiserror::Error)]
pub enum VssError {
    /// The volume could not be read where a VSS structure lies.
    #[error("VSS {what} at volume offset {offset}: {error}")]
    Io {
        /// The structure being read.
        what: &'static str,
        /// Its volume offset.
        offset: u64,
        /// The underlying error.
        error: std::io::Error,
    },
    /// A structure is not what it should be (wrong signature, type, offset out of
    /// the volume, a chain that loops or is longer than the volume can hold).
    #[error("VSS {what} at volume offset {offset}: {reason}")]
    Damaged {
        /// The structure being read.
        what: &'static str,
        /// Its volume offset.
        offset: u64,
        /// What is wrong, in words.
        reason: String,
    },
    /// A snapshot number that the catalog does not hold.
    #[error("no shadow copy {0}")]
    NoSuchSnapshot(usize),
}

impl VssError {
    pub(crate) fn damaged(what: &'static str, offset: u64, reason: impl Into<String>) -> Self {
        VssError::Damaged {
            what,
            offset,
            reason: reason.into(),
        }
    }
}
