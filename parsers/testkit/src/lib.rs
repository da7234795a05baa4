//! Test support shared by toolmark's parser crates (a dev-dependency only).
//!
//! - [`corpus`], [`corpus_path`], [`read_corpus`], [`short`]: where the real artifact
//!   corpus is (`$TOOLMARK_CORPUS`, else `../shared/corpus` next to the workspace).
//!   A missing corpus or corpus file panics with a message naming it, so a test can
//!   never pass by reading nothing.
//! - [`seeds`], [`check_seeds`]: the hand-made inputs in a crate's `fuzz/corpus/<target>/`.
//! - [`Mutator`]: the deterministic truncation / bit-flip / field-overwrite driver every
//!   `tests/fuzz_corpus.rs` runs real corpus files through, standing in for cargo-fuzz
//!   (which needs nightly) in ordinary `cargo test` runs.
//! - [`hive`]: a minimal registry hive and log writer, for tests that damage one
//!   structure of a hive in a known way.

mod corpus;
pub mod hive;
mod mutate;

pub use corpus::{check_seeds, corpus, corpus_path, read_corpus, seeds, short};
pub use mutate::{no_panic, Mutator, Rng};
