//! The crate's error type.

/// Why a hive could not be read as Amcache at all.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The hive itself could not be read (root key, `Root` key).
    #[error("reading the hive: {0}")]
    Hive(#[from] regf::Error),
    /// The hive has no `Root` key, so it is not an Amcache hive.
    #[error("no Root key: not an Amcache hive (root key is {root:?})")]
    NotAmcache {
        /// Name of the hive's root key, to help identify what was given.
        root: String,
    },
}

/// Shorthand.
pub type Result<T> = std::result::Result<T, Error>;
