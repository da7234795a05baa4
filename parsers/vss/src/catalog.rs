//! The VSS volume header and the catalog of stores.

use std::sync::{Arc, Mutex};

use binview::{Filetime, View};

use crate::chain::{self, kind, HEADER, VSS_ID};
use crate::map::StoreMap;
use crate::{Guid, ReadAt, Snapshot, VssError, HEADER_OFFSET};

/// Size of one catalog entry.
const ENTRY: usize = 128;

/// The VSS volume header at [`HEADER_OFFSET`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VolumeHeader {
    /// 1 (Vista, 7) or 2 (8 and later).
    pub version: u32,
    /// Volume offset of the first catalog block; 0 when VSS is on but holds no
    /// snapshot.
    pub catalog_offset: u64,
    /// Maximum size of the shadow storage; 0 = unbounded.
    pub maximum_size: u64,
    /// The volume's identifier.
    pub volume_id: Guid,
    /// Identifier of the volume the stores live on.
    pub storage_volume_id: Guid,
}

/// One store (one snapshot) as the catalog and the store header describe it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreInfo {
    /// Store identifier (the `{GUID}` in the store's file name in System Volume
    /// Information).
    pub store_id: Guid,
    /// Shadow copy identifier (what `vssadmin list shadows` shows).
    pub shadow_copy_id: Guid,
    /// Shadow copy set identifier.
    pub shadow_copy_set_id: Guid,
    /// When the snapshot was taken.
    pub creation_time: Filetime,
    /// Size of the volume when the snapshot was taken.
    pub volume_size: u64,
    /// `VSS_VOLUME_SNAPSHOT_ATTRIBUTES` of the snapshot.
    pub attributes: u32,
    /// Machine that created it, when the header names one.
    pub operating_machine: String,
    /// Machine that serves it, when the header names one.
    pub service_machine: String,
    /// Volume offsets of the store's lists (0 = none).
    pub(crate) block_list: u64,
    pub(crate) bitmap: u64,
    pub(crate) previous_bitmap: u64,
}

/// The shadow copies of one volume, oldest first.
#[derive(Clone, Debug)]
pub struct Catalog {
    /// The VSS volume header.
    pub header: VolumeHeader,
    /// The stores with their data, oldest first (the order snapshots are numbered
    /// in, from 1).
    pub stores: Vec<StoreInfo>,
    /// Catalog entries that could not be used (a store whose header is damaged, a
    /// snapshot entry without its store entry): each one a lost snapshot.
    pub problems: Vec<String>,
    volume_size: u64,
    /// Each store's block map once loaded, shared by every snapshot reading
    /// through it: opening all N snapshots loads N maps, not N(N+1)/2.
    maps: Arc<Mutex<Vec<Option<Arc<StoreMap>>>>>,
}

impl Catalog {
    /// Reads the VSS header and catalog of a volume of `volume_size` bytes.
    /// `Ok(None)`: the volume has no VSS header (shadow copies never enabled).
    pub fn open(src: &dyn ReadAt, volume_size: u64) -> Result<Option<Catalog>, VssError> {
        let mut raw = [0u8; 512];
        if HEADER_OFFSET + 512 > volume_size {
            return Ok(None);
        }
        src.read_exact_at(&mut raw, HEADER_OFFSET)
            .map_err(|error| VssError::Io {
                what: "volume header",
                offset: HEADER_OFFSET,
                error,
            })?;
        let v = View::new(&raw);
        if v.bytes(0, 16) != Some(&VSS_ID[..]) {
            return Ok(None);
        }
        let header = VolumeHeader {
            version: v.u32_at(16).unwrap_or(0),
            catalog_offset: v.u64_at(48).unwrap_or(0),
            maximum_size: v.u64_at(56).unwrap_or(0),
            volume_id: Guid(v.array(64).unwrap_or_default()),
            storage_volume_id: Guid(v.array(80).unwrap_or_default()),
        };
        let record_type = v.u32_at(20).unwrap_or(0);
        if record_type != 1 {
            return Err(VssError::damaged(
                "volume header",
                HEADER_OFFSET,
                format!("record type {record_type}, expected 1"),
            ));
        }
        let mut catalog = Catalog {
            header,
            stores: Vec::new(),
            problems: Vec::new(),
            volume_size,
            maps: Arc::default(),
        };
        catalog.read_entries(src)?;
        Ok(Some(catalog))
    }

    /// Reads the catalog's type 2 (snapshot) and type 3 (store location) entries
    /// and each store's header, then orders the stores by creation time.
    fn read_entries(&mut self, src: &dyn ReadAt) -> Result<(), VssError> {
        let mut snapshots: Vec<StoreInfo> = Vec::new();
        let mut locations: Vec<(Guid, [u64; 4])> = Vec::new();
        chain::walk(
            src,
            self.volume_size,
            self.header.catalog_offset,
            "catalog block",
            kind::CATALOG,
            |block| {
                let view = View::new(block);
                let mut at = HEADER;
                while let Some(entry) = view.sub(at, ENTRY) {
                    at += ENTRY;
                    let id = Guid(entry.array(16).unwrap_or_default());
                    match entry.u64_at(0) {
                        Some(2) => snapshots.push(StoreInfo {
                            store_id: id,
                            shadow_copy_id: Guid::default(),
                            shadow_copy_set_id: Guid::default(),
                            creation_time: entry.filetime_at(48).unwrap_or_default(),
                            volume_size: entry.u64_at(8).unwrap_or(0),
                            attributes: 0,
                            operating_machine: String::new(),
                            service_machine: String::new(),
                            block_list: 0,
                            bitmap: 0,
                            previous_bitmap: 0,
                        }),
                        Some(3) => locations.push((
                            id,
                            [
                                entry.u64_at(8).unwrap_or(0),
                                entry.u64_at(32).unwrap_or(0),
                                entry.u64_at(48).unwrap_or(0),
                                entry.u64_at(72).unwrap_or(0),
                            ],
                        )),
                        _ => {}
                    }
                }
                Ok(())
            },
        )?;
        // A store listed twice (an edited or damaged catalog repeating its entry
        // pair) is one snapshot: read once, the repeat reported.
        // Repeats are counted per store and said once each.
        let mut repeats: std::collections::BTreeMap<Guid, usize> = Default::default();
        let mut headers = std::collections::HashSet::new();
        let locations: std::collections::HashMap<Guid, [u64; 4]> =
            locations.into_iter().rev().collect();
        for mut store in snapshots {
            match repeats.get_mut(&store.store_id) {
                Some(count) => {
                    *count += 1;
                    continue;
                }
                None => {
                    repeats.insert(store.store_id, 0);
                }
            }
            let Some(&[list, header, bitmap, previous]) = locations.get(&store.store_id) else {
                self.problems.push(format!(
                    "snapshot {{{}}} has no store entry in the catalog",
                    store.store_id
                ));
                continue;
            };
            // Two snapshots whose entries name one store header are one store.
            if !headers.insert(header) {
                self.problems.push(format!(
                    "snapshot {{{}}} names the store header at {header} another snapshot \
                     has: read once",
                    store.store_id
                ));
                continue;
            }
            store.block_list = list;
            store.bitmap = bitmap;
            store.previous_bitmap = previous;
            match read_store_header(src, self.volume_size, header, &mut store) {
                Ok(()) => self.stores.push(store),
                Err(e) => self
                    .problems
                    .push(format!("snapshot {{{}}}: {e}", store.store_id)),
            }
        }
        for (id, count) in repeats.into_iter().filter(|(_, count)| *count > 0) {
            self.problems.push(format!(
                "snapshot {{{id}}} is listed {count} more time(s) in the catalog: read once"
            ));
        }
        self.stores.sort_by_key(|s| s.creation_time);
        if let Ok(mut maps) = self.maps.lock() {
            *maps = vec![None; self.stores.len()];
        }
        Ok(())
    }

    /// Loads the block maps snapshot `number` (1 = oldest) reads through: its own
    /// store's and every newer one's.
    pub fn snapshot(&self, src: &dyn ReadAt, number: usize) -> Result<Snapshot, VssError> {
        let first = number
            .checked_sub(1)
            .filter(|i| *i < self.stores.len())
            .ok_or(VssError::NoSuchSnapshot(number))?;
        let mut maps = Vec::with_capacity(self.stores.len() - first);
        let mut problems = Vec::new();
        for index in first..self.stores.len() {
            let map = self.map(src, index)?;
            if map.outside > 0 {
                problems.push(format!(
                    "store {{{}}}: {} block descriptors name blocks past the volume's end \
                     and are ignored (the snapshot shows the live volume's data there)",
                    self.stores[index].store_id, map.outside
                ));
            }
            maps.push(map);
        }
        let size = self.stores[first].volume_size.min(self.volume_size);
        Ok(Snapshot::new(maps, size, problems))
    }

    /// Store `index`'s block map, loaded on first use. Only the newest store's
    /// bitmaps are read: only the newest snapshot, read directly, consults them
    /// (older snapshots read the newest store's map without looking at them).
    fn map(&self, src: &dyn ReadAt, index: usize) -> Result<Arc<StoreMap>, VssError> {
        let cached = self
            .maps
            .lock()
            .ok()
            .and_then(|maps| maps.get(index).cloned().flatten());
        if let Some(map) = cached {
            return Ok(map);
        }
        let newest = index + 1 == self.stores.len();
        let map = Arc::new(StoreMap::load(
            src,
            self.volume_size,
            &self.stores[index],
            newest,
        )?);
        if let Ok(mut maps) = self.maps.lock() {
            if let Some(slot) = maps.get_mut(index) {
                *slot = Some(Arc::clone(&map));
            }
        }
        Ok(map)
    }
}

/// Reads the store header block and the store information that follows its
/// 128-byte block header.
fn read_store_header(
    src: &dyn ReadAt,
    volume_size: u64,
    offset: u64,
    store: &mut StoreInfo,
) -> Result<(), VssError> {
    let block = chain::read_block(src, volume_size, offset, "store header", kind::STORE_HEADER)?;
    let info = View::new(&block[HEADER..]);
    store.shadow_copy_id = Guid(info.array(16).unwrap_or_default());
    store.shadow_copy_set_id = Guid(info.array(32).unwrap_or_default());
    store.attributes = info.u32_at(56).unwrap_or(0);
    let (operating, next) = counted_utf16(info, 64);
    store.operating_machine = operating;
    store.service_machine = counted_utf16(info, next).0;
    Ok(())
}

/// A UTF-16 string preceded by its byte count; empty when it does not fit.
fn counted_utf16(view: View<'_>, at: usize) -> (String, usize) {
    let size = usize::from(view.u16_at(at).unwrap_or(0));
    let text = view.utf16_at(at + 2, size).unwrap_or_default();
    (text, at + 2 + size)
}
