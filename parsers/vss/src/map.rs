//! One store's block map: which 16 KiB blocks of the volume it holds old data
//! for, and where, after its block descriptors have been combined the way
//! libvshadow documents (forwarders, overlays, unused entries).

use std::collections::BTreeMap;

use binview::View;

use crate::catalog::StoreInfo;
use crate::chain::{self, kind, HEADER};
use crate::{ReadAt, VssError, BLOCK};

/// Size of one block descriptor in a block-list block.
const DESCRIPTOR: usize = 32;

/// Descriptor flags.
pub(crate) mod flag {
    /// The data is in the next newer store, at `relative` there.
    pub const FORWARDER: u32 = 0x1;
    /// Only the 512-byte sectors set in `bitmap` are held.
    pub const OVERLAY: u32 = 0x2;
    /// The descriptor is to be ignored.
    pub const NOT_USED: u32 = 0x4;
}

/// One block descriptor as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Descriptor {
    /// Volume offset of the block whose old data this is.
    pub original: u64,
    /// For a forwarder: where the next store holds it (an original offset there).
    pub relative: u64,
    /// Volume offset of the copy.
    pub offset: u64,
    pub flags: u32,
    /// For an overlay: bit n set = sector n of the block is held.
    pub bitmap: u32,
}

impl Descriptor {
    pub fn is(&self, f: u32) -> bool {
        self.flags & f != 0
    }
}

/// A block's entry in the map: its descriptor and, when an overlay was written
/// for the block too, that overlay.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Mapped {
    pub main: Descriptor,
    pub overlay: Option<Descriptor>,
}

/// The combined block descriptors of one store, keyed by block number.
#[derive(Debug, Default)]
pub(crate) struct StoreMap {
    pub forward: BTreeMap<u64, Mapped>,
    /// Forwarders keyed by the block they point at in the next store.
    pub reverse: BTreeMap<u64, Descriptor>,
    /// Blocks the store marks not in use (bit set), and the same for the store
    /// before it; `None` when the store has no such bitmap.
    pub current: Option<Vec<u8>>,
    pub previous: Option<Vec<u8>>,
    /// Descriptors naming a block past the volume's end (damage: no read reaches
    /// them, and what the snapshot shows there is the live volume's).
    pub outside: u64,
}

impl StoreMap {
    /// Reads a store's block list (and, with `bitmaps`, its two bitmaps, which only
    /// the newest store's own snapshot consults).
    pub fn load(
        src: &dyn ReadAt,
        volume_size: u64,
        store: &StoreInfo,
        bitmaps: bool,
    ) -> Result<StoreMap, VssError> {
        let mut map = StoreMap::default();
        chain::walk(
            src,
            volume_size,
            store.block_list,
            "store block list",
            kind::BLOCK_LIST,
            |block| {
                let view = View::new(block);
                let mut at = HEADER;
                while let Some(d) = view.sub(at, DESCRIPTOR) {
                    at += DESCRIPTOR;
                    if d.data().iter().all(|b| *b == 0) {
                        continue;
                    }
                    map.insert(
                        Descriptor {
                            original: d.u64_at(0).unwrap_or(0),
                            relative: d.u64_at(8).unwrap_or(0),
                            offset: d.u64_at(16).unwrap_or(0),
                            flags: d.u32_at(24).unwrap_or(0),
                            bitmap: d.u32_at(28).unwrap_or(0),
                        },
                        volume_size,
                    );
                }
                Ok(())
            },
        )?;
        if bitmaps {
            map.current = read_bitmap(src, volume_size, store.bitmap)?;
            map.previous = read_bitmap(src, volume_size, store.previous_bitmap)?;
        }
        Ok(map)
    }

    /// Adds one descriptor, in list order. Descriptors for blocks outside the
    /// volume are dropped (no read can reach them), which also bounds the map by
    /// the volume's block count; they are counted, as damage.
    pub fn insert(&mut self, d: Descriptor, volume_size: u64) {
        if d.is(flag::NOT_USED) {
            return;
        }
        if d.original >= volume_size {
            self.outside += 1;
            return;
        }
        let mut original = d.original;
        if !d.is(flag::OVERLAY) {
            // A forwarder written earlier that points at this block is resolved
            // here: the new descriptor takes the forwarder's original block.
            if let Some(forwarder) = self.reverse.remove(&(d.original / BLOCK)) {
                original = forwarder.original;
            }
        }
        if d.is(flag::FORWARDER) && original == d.relative {
            return;
        }
        let new = Descriptor { original, ..d };
        let key = original / BLOCK;
        if let Some(existing) = self.forward.get_mut(&key) {
            if new.is(flag::OVERLAY) {
                // Overlays of one block accumulate their sectors.
                if existing.main.is(flag::OVERLAY) {
                    existing.main.bitmap |= new.bitmap;
                } else if let Some(overlay) = &mut existing.overlay {
                    overlay.bitmap |= new.bitmap;
                } else {
                    existing.overlay = Some(new);
                }
                return;
            }
            // A full descriptor replaces the earlier one and keeps its overlay.
            let overlay = if existing.main.is(flag::OVERLAY) {
                Some(existing.main)
            } else {
                existing.overlay
            };
            *existing = Mapped { main: new, overlay };
        } else {
            self.forward.insert(
                key,
                Mapped {
                    main: new,
                    overlay: None,
                },
            );
        }
        if new.is(flag::FORWARDER) && new.relative < volume_size {
            self.reverse.insert(new.relative / BLOCK, new);
        }
    }
}

/// Reads a chain of bitmap blocks: bit n (least significant first) stands for
/// the volume's block n. Bits past the volume's last block are ignored, so the
/// bitmap is never larger than the volume needs.
fn read_bitmap(
    src: &dyn ReadAt,
    volume_size: u64,
    start: u64,
) -> Result<Option<Vec<u8>>, VssError> {
    if start == 0 {
        return Ok(None);
    }
    let wanted = usize::try_from(volume_size.div_ceil(BLOCK).div_ceil(8)).unwrap_or(usize::MAX);
    let mut bits = Vec::new();
    chain::walk(
        src,
        volume_size,
        start,
        "store bitmap",
        kind::BITMAP,
        |block| {
            let room = wanted.saturating_sub(bits.len());
            let body = &block[HEADER..];
            bits.extend_from_slice(&body[..body.len().min(room)]);
            Ok(())
        },
    )?;
    Ok(Some(bits))
}

/// Whether bit `block` is set (a missing bit is clear).
pub(crate) fn bit(bits: &[u8], block: u64) -> bool {
    usize::try_from(block / 8)
        .ok()
        .and_then(|i| bits.get(i))
        .is_some_and(|byte| byte & (1 << (block % 8)) != 0)
}
