//! toolmark: find the traces of attacker lateral-movement tools in Windows disk images.
//!
//! The layers follow the data: [`evidence`] turns image files into bytes, [`disk`]
//! finds the volumes in them, [`ntfs`] reads files out of a volume, [`collect`] picks
//! the artifacts of a Windows volume and runs the parsers of `parsers/` on them,
//! [`pipeline`] streams each record once into every sink (tables, observations,
//! matcher, edges), [`output`] writes the CSV tables, [`batch`] runs many images in
//! parallel, and [`traces`] holds what each attacker tool leaves behind. Each layer only talks to
//! the next through a small interface, so each can be tested alone.

#![warn(missing_docs)]

pub mod batch;
// The layers that read evidence deny unwrap/expect: hostile bytes must become
// errors, never a panic that costs the whole scan (unit tests may: clippy.toml).
pub mod collect;
pub mod commands;
#[deny(clippy::unwrap_used, clippy::expect_used)]
pub mod disk;
#[deny(clippy::unwrap_used, clippy::expect_used)]
pub mod evidence;
pub mod facts;
#[deny(clippy::unwrap_used, clippy::expect_used)]
pub mod ntfs;
pub mod output;
pub mod pipeline;
pub mod report;
pub mod traces;
