//! What a scan collects and how: the `--artifacts` set and the scan options.

/// The names `--artifacts` takes.
pub const KNOWN: &str = "evtx, prefetch, mft, usn, carve, registry, amcache, shimcache";

/// Which artifacts to collect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Artifacts {
    /// Event logs.
    pub evtx: bool,
    /// Prefetch files.
    pub prefetch: bool,
    /// Every `$MFT` record.
    pub mft: bool,
    /// The `$UsnJrnl:$J` change journal.
    pub usn: bool,
    /// Event-log chunks carved from unallocated clusters.
    pub carve: bool,
    /// Registry tables: bam, userassist, services, tasks, registry.
    pub registry: bool,
    /// Amcache.hve.
    pub amcache: bool,
    /// The AppCompatCache of SYSTEM.
    pub shimcache: bool,
}

impl Artifacts {
    /// Every artifact toolmark knows.
    pub const ALL: Artifacts = Artifacts {
        evtx: true,
        prefetch: true,
        mft: true,
        usn: true,
        carve: true,
        registry: true,
        amcache: true,
        shimcache: true,
    };

    /// Parses a comma-separated list (`evtx,prefetch`).
    pub fn parse(list: &str) -> Result<Artifacts, String> {
        let mut set = Artifacts {
            evtx: false,
            prefetch: false,
            mft: false,
            usn: false,
            carve: false,
            registry: false,
            amcache: false,
            shimcache: false,
        };
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name.to_ascii_lowercase().as_str() {
                "evtx" => set.evtx = true,
                "prefetch" => set.prefetch = true,
                "mft" => set.mft = true,
                "usn" => set.usn = true,
                "carve" => set.carve = true,
                "registry" => set.registry = true,
                "amcache" => set.amcache = true,
                "shimcache" => set.shimcache = true,
                "all" => set = Artifacts::ALL,
                other => return Err(format!("unknown artifact '{other}' (known: {KNOWN})")),
            }
        }
        Ok(set)
    }
}

/// Which shadow copies of each NTFS volume a scan collects (`--snapshots`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Snapshots {
    /// The live volumes only.
    None,
    /// Every shadow copy, like one more volume each.
    #[default]
    All,
    /// The newest shadow copy of each volume only.
    Latest,
}

/// How to scan.
#[derive(Clone, Debug)]
pub struct ScanOptions {
    /// The trace knowledge base findings are judged against (`None`: no findings).
    pub rules: Option<std::sync::Arc<crate::traces::KnowledgeBase>>,
    /// What to collect.
    pub artifacts: Artifacts,
    /// Write cells as they are, without formula neutralisation.
    pub raw_cells: bool,
    /// Hash the image (SHA-256 of the media) into the manifest.
    pub hash: bool,
    /// Write every lateral-movement edge, also those that are not movement
    /// (loopback, Windows' own accounts), with why in `filtered`.
    pub all_edges: bool,
    /// Carve the whole image (allocated, unallocated and unpartitioned bytes)
    /// instead of the volumes' unallocated clusters only.
    pub carve_all: bool,
    /// Which shadow copies to collect besides the live volumes.
    pub snapshots: Snapshots,
    /// The registry keys and values the rules ask about (registry.csv `rule` rows),
    /// from the same rules as `rules`.
    pub registry_targets: std::sync::Arc<crate::collect::registry::rules::Targets>,
}

impl ScanOptions {
    /// Options judging with `rules` (and looking up its registry traces).
    pub fn new(
        rules: Option<std::sync::Arc<crate::traces::KnowledgeBase>>,
        artifacts: Artifacts,
    ) -> Self {
        let registry_targets = rules
            .as_deref()
            .map(crate::collect::registry::rules::targets)
            .unwrap_or_default();
        ScanOptions {
            rules,
            artifacts,
            raw_cells: false,
            hash: false,
            all_edges: false,
            carve_all: false,
            snapshots: Snapshots::All,
            registry_targets: std::sync::Arc::new(registry_targets),
        }
    }

    /// The artifact kinds the matcher can expect to have been collected.
    pub fn collected_kinds(&self) -> Vec<crate::traces::ArtifactKind> {
        use crate::traces::ArtifactKind as K;
        let a = &self.artifacts;
        let mut kinds = Vec::new();
        let mut add = |on: bool, list: &[K]| {
            if on {
                kinds.extend_from_slice(list);
            }
        };
        add(a.evtx, &[K::Evtx, K::Process]);
        add(a.prefetch, &[K::Prefetch]);
        add(a.mft, &[K::File, K::Mft]);
        add(a.usn, &[K::Usn]);
        add(a.amcache, &[K::Amcache]);
        add(a.shimcache, &[K::Shimcache]);
        add(
            a.registry,
            &[K::Registry, K::Bam, K::Userassist, K::Service, K::Task],
        );
        kinds
    }
}
