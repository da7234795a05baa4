//! Volume Shadow Copies: the snapshots an NTFS volume keeps of itself, each
//! exposed as one more read-only volume (through `parsers/vss`).

use std::io;
use std::sync::Arc;

use crate::evidence::ReadAt;

/// The live volume as the VSS parser reads it.
struct Live<'a>(&'a dyn ReadAt);

impl vss::ReadAt for Live<'_> {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        self.0.read_exact_at(buf, offset)
    }
}

/// One snapshot of a volume, numbered from 1 (oldest) as `--snapshot N` takes it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SnapshotInfo {
    /// 1-based number, oldest first.
    pub number: usize,
    /// When it was taken (ISO-8601 UTC), empty if the catalog's time is unusable.
    pub created: String,
    /// Shadow copy identifier (as `vssadmin list shadows` shows it).
    pub shadow_copy_id: String,
    /// Shadow copy set identifier.
    pub set_id: String,
    /// Store identifier (its file name in System Volume Information).
    pub store_id: String,
    /// `VSS_VOLUME_SNAPSHOT_ATTRIBUTES`, hex.
    pub attributes: String,
    /// The volume's size when it was taken.
    pub volume_size: u64,
}

impl SnapshotInfo {
    /// `snapshot 2013-12-03T06:35:09.7363787Z {4e3c03c2-…}`, as `info` and progress
    /// lines name it.
    pub fn describe(&self) -> String {
        format!("snapshot {} {{{}}}", self.created, self.shadow_copy_id)
    }
}

/// The shadow copies found on one volume.
pub struct Shadows {
    live: Arc<dyn ReadAt>,
    catalog: vss::Catalog,
}

impl Shadows {
    /// Reads the VSS catalog of `live` (an NTFS volume); `Ok(None)` when the volume
    /// has no VSS header.
    pub fn find(live: Arc<dyn ReadAt>) -> Result<Option<Shadows>, vss::VssError> {
        let catalog = vss::Catalog::open(&Live(live.as_ref()), live.len())?;
        Ok(catalog.map(|catalog| Shadows { live, catalog }))
    }

    /// The snapshots, oldest first.
    pub fn list(&self) -> Vec<SnapshotInfo> {
        self.catalog
            .stores
            .iter()
            .enumerate()
            .map(|(i, s)| SnapshotInfo {
                number: i + 1,
                created: s
                    .creation_time
                    .to_timestamp()
                    .map(crate::collect::evtx::iso_time)
                    .unwrap_or_default(),
                shadow_copy_id: s.shadow_copy_id.to_string(),
                set_id: s.shadow_copy_set_id.to_string(),
                store_id: s.store_id.to_string(),
                attributes: format!("{:#010x}", s.attributes),
                volume_size: s.volume_size,
            })
            .collect()
    }

    /// Catalog entries that name a snapshot that cannot be read.
    pub fn problems(&self) -> &[String] {
        &self.catalog.problems
    }

    /// Snapshot `number` as a read-only volume of its own size, with the damage
    /// in the stores it reads through that did not stop it opening (each one to be
    /// reported: what the snapshot shows may differ from what was taken).
    pub fn open(&self, number: usize) -> Result<(Arc<dyn ReadAt>, Vec<String>), vss::VssError> {
        let snapshot = self.catalog.snapshot(&Live(self.live.as_ref()), number)?;
        let problems = snapshot.problems().to_vec();
        let volume = Arc::new(SnapshotVolume {
            live: Arc::clone(&self.live),
            snapshot,
        });
        Ok((volume, problems))
    }
}

/// A snapshot read through the live volume it lives on.
struct SnapshotVolume {
    live: Arc<dyn ReadAt>,
    snapshot: vss::Snapshot,
}

impl ReadAt for SnapshotVolume {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        self.snapshot
            .read_at(&Live(self.live.as_ref()), buf, offset)
            .map_err(|e| {
                let kind = match &e {
                    vss::VssError::Io { error, .. } => error.kind(),
                    _ => io::ErrorKind::InvalidData,
                };
                io::Error::new(kind, e.to_string())
            })
    }

    fn len(&self) -> u64 {
        self.snapshot.len()
    }
}
