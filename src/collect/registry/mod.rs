//! Everything toolmark reads from registry hives: host facts, and the tables
//! amcache.csv, shimcache.csv, bam.csv, userassist.csv, services.csv, tasks.csv and
//! registry.csv.
//!
//! Hives are read once per volume ([`load`]), logs replayed, before the image's
//! output is created: the host name every row carries comes from SYSTEM
//! ([`host`]). The tables are then written from the loaded hives, one module each.
//!
//! registry.csv holds everything that is "a key or value worth showing" rather than
//! a record type of its own, with a `kind` column: `rule` rows (what the trace
//! knowledge base asks about, found or not; [`rules`]) and the fixed kinds
//! `run_key`, `rdp_client`, `mountpoints2`, `share` and `sam_account` ([`fixed`]).
//! One table with one schema was chosen over five small ones because each of those
//! kinds is a handful of key/value rows with the same columns, and the matcher and
//! the analyst filter one file by `kind` more easily than they join six.

pub mod amcache;
pub mod bam;
pub mod fixed;
pub mod host;
pub mod keys;
pub mod load;
pub mod reader;
pub mod rules;
pub mod services;
pub mod shimcache;
pub mod task_xml;
pub mod tasks;
pub mod userassist;
pub mod value;

pub use host::{facts, HostFacts};
pub use load::{load, HiveKind, HiveReplay, Hives, Wanted};

use super::source::Source;
use crate::pipeline::Sinks;

/// Which registry tables to write.
#[derive(Clone, Copy, Debug)]
pub struct Tables<'a> {
    /// bam, userassist, services, tasks, registry.
    pub registry: bool,
    /// shimcache.
    pub shimcache: bool,
    /// The registry targets of the rules in force (registry.csv `rule` rows).
    pub targets: &'a rules::Targets,
}

/// Writes the registry tables (not amcache, see [`amcache::collect`]) of one volume.
pub fn collect(source: &Source, out: &Sinks<'_>, volume: &str, hives: &Hives, tables: Tables<'_>) {
    if tables.shimcache {
        shimcache::collect(out, volume, hives);
    }
    if !tables.registry {
        return;
    }
    bam::collect(out, volume, hives);
    userassist::collect(out, volume, hives);
    services::collect(out, volume, hives);
    tasks::collect(source, out, volume, hives);
    let writer = keys::KeyWriter::new(out, volume);
    rules::collect(&writer, hives, tables.targets);
    fixed::collect(&writer, hives);
}
