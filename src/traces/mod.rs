//! The trace knowledge base: which records each lateral-movement tool leaves, where,
//! and how much each one says.
//!
//! The data lives in `rules.toml` beside this file (compiled in with `include_str!`);
//! `--rules FILE` replaces it at run time with a file of the same format. The format,
//! the meaning of anchor/supporting and of the logging requirements, and the
//! placeholder syntax are described in this module's README.md. The facts behind the
//! rules (event IDs, field values, paths, keys) come from JPCERT/CC's Tool Analysis
//! Result Sheets, restated in `../shared/jpcert/traces.toml`; the rules file is our
//! own selection and wording.
//!
//! Only this module knows tool names; the collectors and the matcher see traces.

mod glob;
pub mod matcher;
mod model;
mod parse;
mod summary;

use std::path::Path;

pub use glob::{Glob, GlobError, EXE_PLACEHOLDER, PATH_PLACEHOLDER};
pub use model::{
    Artifact, ArtifactKind, Category, Hive, KnowledgeBase, Logging, Role, Strength, Tool, Trace,
    AUDIT_SUBCATEGORIES, POWERSHELL_POLICIES, USN_REASONS,
};
pub use parse::{load_from_str, LineIndex, Problem, RulesError, FORMAT_VERSION};
pub use summary::{CategorySummary, Counts, Summary, ToolSummary};

/// The rules shipped with toolmark.
pub const EMBEDDED_RULES: &str = include_str!("rules.toml");

/// Loads the rules shipped with toolmark.
pub fn load_embedded() -> Result<KnowledgeBase, RulesError> {
    load_from_str(EMBEDDED_RULES)
}

/// Loads a rules file given by the user (`--rules FILE`).
pub fn load_path(path: &Path) -> Result<KnowledgeBase, RulesError> {
    let text = std::fs::read_to_string(path).map_err(|source| RulesError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    load_from_str(&text)
}

#[cfg(test)]
mod tests;
