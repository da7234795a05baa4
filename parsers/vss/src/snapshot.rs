//! One snapshot read as a volume: each piece of a block comes from the first store,
//! from the snapshot's own to the newest, that holds it, else from the live volume.

use std::sync::Arc;

use crate::map::{bit, flag, Descriptor, StoreMap};
use crate::{ReadAt, VssError, BLOCK};

/// Sector size of an overlay's bitmap.
const SECTOR: u64 = 512;

/// A snapshot opened by [`crate::Catalog::snapshot`]: the block maps of its own
/// store and of every newer one, and its size.
#[derive(Debug)]
pub struct Snapshot {
    /// `maps[0]` is the snapshot's own store, then each newer one in turn. The
    /// maps are the catalog's, shared by every snapshot that reads through them.
    maps: Vec<Arc<StoreMap>>,
    size: u64,
    problems: Vec<String>,
}

/// Where the bytes of one piece of the snapshot are.
#[derive(Debug, PartialEq, Eq)]
enum Place {
    /// At this offset of the live volume (a copy in a store, or the block itself).
    Volume(u64),
    /// The block was free when the snapshot was taken and never copied.
    Zeros,
}

impl Snapshot {
    pub(crate) fn new(maps: Vec<Arc<StoreMap>>, size: u64, problems: Vec<String>) -> Snapshot {
        Snapshot {
            maps,
            size,
            problems,
        }
    }

    /// Damage in the stores this snapshot reads through that did not stop it
    /// opening but may change what it shows (descriptors naming blocks past the
    /// volume): each one is to be reported.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    /// The snapshot's size in bytes (the volume's size when it was taken).
    pub fn len(&self) -> u64 {
        self.size
    }

    /// True for a snapshot of an empty volume.
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// Number of blocks the snapshot's own store holds old data for.
    pub fn own_blocks(&self) -> usize {
        self.maps.first().map_or(0, |m| m.forward.len())
    }

    /// Reads up to `buf.len()` bytes at `offset` of the snapshot through `src`
    /// (the live volume); fewer only at the snapshot's end.
    pub fn read_at(
        &self,
        src: &dyn ReadAt,
        buf: &mut [u8],
        offset: u64,
    ) -> Result<usize, VssError> {
        if offset >= self.size {
            return Ok(0);
        }
        let total = (self.size - offset).min(buf.len() as u64) as usize;
        let mut done = 0usize;
        while done < total {
            let at = offset + done as u64;
            let (place, len) = self.locate(at)?;
            let n = (len.min((total - done) as u64)) as usize;
            let piece = &mut buf[done..done + n];
            match place {
                Place::Zeros => piece.fill(0),
                Place::Volume(from) => {
                    src.read_exact_at(piece, from)
                        .map_err(|error| VssError::Io {
                            what: "snapshot data",
                            offset: from,
                            error,
                        })?
                }
            }
            done += n;
        }
        Ok(total)
    }

    /// Finds where the byte at `offset` is, and for how many bytes that holds.
    /// Each step either answers or moves to the next newer store, so the walk is
    /// never longer than the list of stores.
    fn locate(&self, offset: u64) -> Result<(Place, u64), VssError> {
        let mut at = offset;
        let mut limit = BLOCK - offset % BLOCK;
        for (index, map) in self.maps.iter().enumerate() {
            let block = at / BLOCK;
            let within = at % BLOCK;
            limit = limit.min(BLOCK - within);
            let own = index == 0;
            let has_next = index + 1 < self.maps.len();
            let chosen = match map.forward.get(&block) {
                None => None,
                Some(m) => {
                    let overlay = if m.main.is(flag::OVERLAY) {
                        Some(m.main)
                    } else {
                        m.overlay
                    };
                    match overlay {
                        None => Some(m.main),
                        // Overlays count only for the snapshot they were written
                        // for; a lone overlay is no descriptor for older ones.
                        Some(_) if !own => (!m.main.is(flag::OVERLAY)).then_some(m.main),
                        Some(ov) => {
                            let (held, run) = sector_run(ov.bitmap, within);
                            limit = limit.min(run);
                            if held {
                                Some(ov)
                            } else {
                                (!m.main.is(flag::OVERLAY)).then_some(m.main)
                            }
                        }
                    }
                }
            };
            match chosen {
                Some(d) => {
                    let target = target_of(&d, within)?;
                    if d.is(flag::FORWARDER) && has_next {
                        at = target;
                        continue;
                    }
                    return Ok((Place::Volume(target), limit));
                }
                None if has_next => continue,
                None => {
                    if own && unused_when_taken(map, block) {
                        return Ok((Place::Zeros, limit));
                    }
                    return Ok((Place::Volume(at), limit));
                }
            }
        }
        Ok((Place::Volume(at), limit))
    }
}

/// Where a descriptor puts byte `within` of its block.
fn target_of(d: &Descriptor, within: u64) -> Result<u64, VssError> {
    let base = if d.is(flag::FORWARDER) {
        d.relative
    } else {
        d.offset
    };
    base.checked_add(within).ok_or_else(|| {
        VssError::damaged(
            "block descriptor",
            d.original,
            format!("data offset {base} overflows"),
        )
    })
}

/// Whether the overlay holds the sector of byte `within`, and how many bytes from
/// `within` on share that answer.
fn sector_run(bitmap: u32, within: u64) -> (bool, u64) {
    let sector = within / SECTOR;
    let rest = 32u64.saturating_sub(sector);
    let bits = if sector < 32 { bitmap >> sector } else { 0 };
    let (held, run) = if bits & 1 != 0 {
        (true, u64::from(bits.trailing_ones()))
    } else {
        (false, u64::from(bits.trailing_zeros()).min(rest))
    };
    (held, (run * SECTOR).saturating_sub(within % SECTOR).max(1))
}

/// The newest store, read as its own snapshot, leaves blocks that were free when
/// it was taken (set in its bitmap, and in the previous bitmap if it has one) and
/// never forwarded as zeros, as libvshadow does: Windows returns no data for them.
fn unused_when_taken(map: &StoreMap, block: u64) -> bool {
    !map.reverse.contains_key(&block)
        && map.current.as_ref().is_some_and(|b| bit(b, block))
        && map.previous.as_ref().is_none_or(|b| bit(b, block))
}

#[cfg(test)]
mod tests {
    use super::sector_run;

    #[test]
    fn sector_runs_follow_the_bitmap() {
        // Sectors 0-1 held, 2-31 not.
        assert_eq!(sector_run(0b11, 0), (true, 1024));
        assert_eq!(sector_run(0b11, 100), (true, 924));
        assert_eq!(sector_run(0b11, 1024), (false, 30 * 512));
        assert_eq!(sector_run(0, 0), (false, 16384));
        assert_eq!(sector_run(u32::MAX, 512 * 31), (true, 512));
    }
}
