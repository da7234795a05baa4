//! A small volume with two stores built byte by byte, so every rule of the read
//! path (own copy, next store, forwarder, overlay, unused descriptor, free-block
//! zeros, live volume) has a block whose answer is known in advance; and damaged
//! variants of it that must fail cleanly.

use vss::{Catalog, VssError, BLOCK, HEADER_OFFSET};

const VSS_ID: [u8; 16] = [
    0x6b, 0x87, 0x08, 0x38, 0x76, 0xc1, 0x48, 0x4e, 0xb7, 0xae, 0x04, 0x04, 0x6e, 0x6c, 0xc7, 0x52,
];
const BLOCKS: u64 = 64;
const B: usize = BLOCK as usize;

// Where each structure lives (block numbers).
const CATALOG: u64 = 2;
const A_HEADER: u64 = 3;
const A_LIST: u64 = 4;
const B_HEADER: u64 = 6;
const B_LIST: u64 = 7;
const B_BITMAP: u64 = 8;

fn put(v: &mut [u8], at: usize, bytes: &[u8]) {
    v[at..at + bytes.len()].copy_from_slice(bytes);
}

fn block_header(v: &mut [u8], block: u64, record_type: u32, next: u64) {
    let at = (block * BLOCK) as usize;
    put(v, at, &VSS_ID);
    put(v, at + 16, &1u32.to_le_bytes());
    put(v, at + 20, &record_type.to_le_bytes());
    put(v, at + 32, &(block * BLOCK).to_le_bytes());
    put(v, at + 40, &next.to_le_bytes());
}

fn guid(n: u8) -> [u8; 16] {
    [n; 16]
}

/// One descriptor: original block, relative, data block, flags, bitmap.
fn descriptor(v: &mut [u8], list: u64, index: usize, d: (u64, u64, u64, u32, u32)) {
    let at = (list * BLOCK) as usize + 128 + index * 32;
    put(v, at, &d.0.to_le_bytes());
    put(v, at + 8, &d.1.to_le_bytes());
    put(v, at + 16, &d.2.to_le_bytes());
    put(v, at + 24, &d.3.to_le_bytes());
    put(v, at + 28, &d.4.to_le_bytes());
}

/// The first byte of block `n` of the live volume, and of each copy.
fn live(n: u64) -> u8 {
    n as u8
}

fn volume() -> Vec<u8> {
    let mut v = vec![0u8; (BLOCKS * BLOCK) as usize];
    for n in 16..BLOCKS {
        v[(n * BLOCK) as usize..((n + 1) * BLOCK) as usize].fill(live(n));
    }
    // Volume header.
    let h = HEADER_OFFSET as usize;
    put(&mut v, h, &VSS_ID);
    put(&mut v, h + 16, &1u32.to_le_bytes());
    put(&mut v, h + 20, &1u32.to_le_bytes());
    put(&mut v, h + 48, &(CATALOG * BLOCK).to_le_bytes());
    // Catalog: the newer store's entries first (the catalog is not in age order).
    block_header(&mut v, CATALOG, 2, 0);
    let entry = |i: usize| (CATALOG * BLOCK) as usize + 128 + i * 128;
    for (i, (id, time)) in [(2u8, 200u64), (1u8, 100u64)].into_iter().enumerate() {
        let at = entry(i);
        put(&mut v, at, &2u64.to_le_bytes());
        put(&mut v, at + 8, &(BLOCKS * BLOCK).to_le_bytes());
        put(&mut v, at + 16, &guid(id));
        put(&mut v, at + 48, &time.to_le_bytes());
    }
    for (i, (id, list, header, bitmap)) in [
        (1u8, A_LIST, A_HEADER, 0u64),
        (2u8, B_LIST, B_HEADER, B_BITMAP),
    ]
    .into_iter()
    .enumerate()
    {
        let at = entry(2 + i);
        put(&mut v, at, &3u64.to_le_bytes());
        put(&mut v, at + 8, &(list * BLOCK).to_le_bytes());
        put(&mut v, at + 16, &guid(id));
        put(&mut v, at + 32, &(header * BLOCK).to_le_bytes());
        put(&mut v, at + 48, &(bitmap * BLOCK).to_le_bytes());
    }
    for (header, id) in [(A_HEADER, 1u8), (B_HEADER, 2u8)] {
        block_header(&mut v, header, 4, 0);
        let info = (header * BLOCK) as usize + 128;
        put(&mut v, info + 16, &guid(0x10 + id));
        put(&mut v, info + 32, &guid(0x20 + id));
        put(&mut v, info + 56, &0x0042_0009u32.to_le_bytes());
    }
    // Store 1 (older): its own copy of block 20 (in block 30), a forwarder of
    // block 21 to block 22 of store 2, an overlay of block 23's first sector (in
    // block 31), and an unused descriptor for block 24.
    block_header(&mut v, A_LIST, 3, 0);
    descriptor(&mut v, A_LIST, 0, (20 * BLOCK, 0, 30 * BLOCK, 0, 0));
    descriptor(&mut v, A_LIST, 1, (21 * BLOCK, 22 * BLOCK, 0, 1, 0));
    descriptor(&mut v, A_LIST, 2, (23 * BLOCK, 1, 31 * BLOCK, 2, 1));
    descriptor(&mut v, A_LIST, 3, (24 * BLOCK, 0, 32 * BLOCK, 4, 0));
    // Store 2 (newer): copies of blocks 22 (in 33) and 20 (in 34); its bitmap
    // marks block 40 free when it was taken.
    block_header(&mut v, B_LIST, 3, 0);
    descriptor(&mut v, B_LIST, 0, (22 * BLOCK, 0, 33 * BLOCK, 0, 0));
    descriptor(&mut v, B_LIST, 1, (20 * BLOCK, 0, 34 * BLOCK, 0, 0));
    block_header(&mut v, B_BITMAP, 6, 0);
    v[(B_BITMAP * BLOCK) as usize + 128 + 5] = 1; // bit 40
    v
}

/// First byte of each 512-byte sector of block `n` in snapshot `snap`.
fn sectors(v: &[u8], snap: usize, n: u64) -> Vec<u8> {
    let catalog = Catalog::open(&v, v.len() as u64).unwrap().unwrap();
    let snapshot = catalog.snapshot(&v, snap).unwrap();
    let mut buf = vec![0u8; B];
    assert_eq!(snapshot.read_at(&v, &mut buf, n * BLOCK).unwrap(), B);
    buf.chunks(512).map(|s| s[0]).collect()
}

fn first(v: &[u8], snap: usize, n: u64) -> u8 {
    let s = sectors(v, snap, n);
    assert!(
        s.iter().all(|b| *b == s[0]),
        "block {n} of snapshot {snap} is mixed: {s:?}"
    );
    s[0]
}

#[test]
fn the_catalog_lists_the_stores_oldest_first() {
    let v = volume();
    let catalog = Catalog::open(&v, v.len() as u64).unwrap().unwrap();
    assert!(catalog.problems.is_empty(), "{:?}", catalog.problems);
    let ids: Vec<_> = catalog.stores.iter().map(|s| s.store_id.0[0]).collect();
    assert_eq!(ids, [1, 2]);
    assert_eq!(catalog.stores[0].creation_time.raw(), 100);
    assert_eq!(catalog.stores[1].shadow_copy_id.0[0], 0x12);
    assert_eq!(catalog.stores[1].attributes, 0x0042_0009);
}

#[test]
fn the_newest_snapshot_reads_its_copies_zeros_for_free_blocks_and_live_data() {
    let v = volume();
    assert_eq!(first(&v, 2, 20), live(34));
    assert_eq!(first(&v, 2, 22), live(33));
    assert_eq!(first(&v, 2, 21), live(21));
    assert_eq!(first(&v, 2, 40), 0, "free when taken");
    assert_eq!(first(&v, 2, 41), live(41));
}

#[test]
fn an_older_snapshot_reads_its_own_then_the_newer_stores_then_live() {
    let v = volume();
    assert_eq!(first(&v, 1, 20), live(30), "its own copy wins");
    assert_eq!(
        first(&v, 1, 21),
        live(33),
        "forwarded to block 22 of store 2"
    );
    assert_eq!(first(&v, 1, 22), live(33), "held by store 2 only");
    assert_eq!(first(&v, 1, 24), live(24), "unused descriptor ignored");
    assert_eq!(
        first(&v, 1, 40),
        live(40),
        "only the newest store zero-fills"
    );
    let mut expected = vec![live(23); 32];
    expected[0] = live(31);
    assert_eq!(sectors(&v, 1, 23), expected, "overlay holds sector 0 only");
}

#[test]
fn reads_across_blocks_and_past_the_end() {
    let v = volume();
    let catalog = Catalog::open(&v, v.len() as u64).unwrap().unwrap();
    let snapshot = catalog.snapshot(&v, 1).unwrap();
    let mut buf = vec![0u8; 3 * B];
    snapshot.read_at(&v, &mut buf, 20 * BLOCK + 100).unwrap();
    assert_eq!(buf[0], live(30));
    assert_eq!(buf[B], live(33));
    assert_eq!(buf[2 * B], live(33));
    let end = snapshot.len() - 10;
    assert_eq!(snapshot.read_at(&v, &mut buf, end).unwrap(), 10);
    assert_eq!(snapshot.read_at(&v, &mut buf, snapshot.len()).unwrap(), 0);
    assert!(matches!(
        catalog.snapshot(&v, 3),
        Err(VssError::NoSuchSnapshot(3))
    ));
}

#[test]
fn a_volume_without_vss_has_no_catalog() {
    let v = vec![0u8; (BLOCKS * BLOCK) as usize];
    assert!(Catalog::open(&v, v.len() as u64).unwrap().is_none());
    assert!(Catalog::open(&&v[..100], 100).unwrap().is_none());
}

#[test]
fn loops_and_offsets_outside_the_volume_are_errors_not_hangs() {
    // The catalog's next block is itself.
    let mut v = volume();
    put(
        &mut v,
        (CATALOG * BLOCK) as usize + 40,
        &(CATALOG * BLOCK).to_le_bytes(),
    );
    let e = Catalog::open(&v, v.len() as u64).unwrap_err();
    assert!(e.to_string().contains("loops"), "{e}");

    // Store 2's block list continues to store 1's, which leads back to store 2's.
    let mut v = volume();
    put(
        &mut v,
        (B_LIST * BLOCK) as usize + 40,
        &(A_LIST * BLOCK).to_le_bytes(),
    );
    put(
        &mut v,
        (A_LIST * BLOCK) as usize + 40,
        &(B_LIST * BLOCK).to_le_bytes(),
    );
    let catalog = Catalog::open(&v, v.len() as u64).unwrap().unwrap();
    assert!(catalog.snapshot(&v, 2).is_err());

    // A copy said to lie past the volume's end fails the read, naming it.
    let mut v = volume();
    descriptor(&mut v, B_LIST, 1, (20 * BLOCK, 0, u64::MAX - 5, 0, 0));
    let catalog = Catalog::open(&v, v.len() as u64).unwrap().unwrap();
    let snapshot = catalog.snapshot(&v, 2).unwrap();
    let mut buf = vec![0u8; B];
    assert!(snapshot.read_at(&v, &mut buf, 20 * BLOCK + 10).is_err());

    // A store header of the wrong type loses that snapshot, not the other.
    let mut v = volume();
    put(
        &mut v,
        (A_HEADER * BLOCK) as usize + 20,
        &9u32.to_le_bytes(),
    );
    let catalog = Catalog::open(&v, v.len() as u64).unwrap().unwrap();
    assert_eq!(catalog.stores.len(), 1);
    assert_eq!(catalog.problems.len(), 1, "{:?}", catalog.problems);

    // A catalog offset past the end.
    let mut v = volume();
    put(
        &mut v,
        HEADER_OFFSET as usize + 48,
        &(BLOCKS * BLOCK).to_le_bytes(),
    );
    assert!(Catalog::open(&v, v.len() as u64).is_err());
}

#[test]
fn every_truncation_and_byte_flip_of_the_structures_is_survived() {
    let v = volume();
    // Flip bytes across the header, catalog and store blocks, one at a time.
    for at in (HEADER_OFFSET as usize..(9 * B)).step_by(97) {
        let mut w = v.clone();
        w[at] ^= 0xff;
        if let Ok(Some(c)) = Catalog::open(&w, w.len() as u64) {
            for n in 1..=c.stores.len() {
                if let Ok(s) = c.snapshot(&w, n) {
                    let mut buf = vec![0u8; 2 * B];
                    let _ = s.read_at(&w, &mut buf, 19 * BLOCK);
                }
            }
        }
    }
    for len in [0, 0x1e00, 0x2000, 3 * B, 7 * B + 5] {
        let _ = Catalog::open(&&v[..len], len as u64);
    }
}

/// A catalog repeating a store's entry pair listed one snapshot once per copy, and
/// each was read in full (an edited catalog with 189 copies: one volume scanned 191
/// times). The repeat is one store, read once and reported; so is a second
/// snapshot entry naming a store header another one has.
#[test]
fn a_store_listed_twice_is_one_snapshot_and_said() {
    let mut v = volume();
    let entry = |i: usize| (CATALOG * BLOCK) as usize + 128 + i * 128;
    let pair: Vec<u8> = v[entry(0)..entry(1)]
        .iter()
        .chain(&v[entry(3)..entry(4)])
        .copied()
        .collect();
    put(&mut v, entry(4), &pair[..128]);
    put(&mut v, entry(5), &pair[128..]);
    let catalog = Catalog::open(&v, v.len() as u64).unwrap().unwrap();
    assert_eq!(catalog.stores.len(), 2);
    assert_eq!(catalog.problems.len(), 1, "{:?}", catalog.problems);
    assert!(catalog.problems[0].contains("is listed 1 more time(s) in the catalog: read once"));

    // Another store id whose location entry names store 2's header.
    let mut w = v.clone();
    put(&mut w, entry(4) + 16, &guid(9));
    put(&mut w, entry(5) + 16, &guid(9));
    let catalog = Catalog::open(&w, w.len() as u64).unwrap().unwrap();
    assert_eq!(catalog.stores.len(), 2);
    assert!(
        catalog.problems[0].contains("another snapshot has: read once"),
        "{:?}",
        catalog.problems
    );
}

/// Descriptors naming blocks past the volume's end were dropped without a word, and
/// the snapshot showed the live volume's data where the store said it had changed.
/// They are still ignored (no read can reach them) but every snapshot reading
/// through that store reports them.
#[test]
fn descriptors_past_the_volume_are_reported_by_every_snapshot_reading_them() {
    let mut v = volume();
    descriptor(&mut v, B_LIST, 2, (1 << 62, 0, 35 * BLOCK, 0, 0));
    descriptor(&mut v, B_LIST, 3, ((1 << 62) + BLOCK, 0, 36 * BLOCK, 0, 0));
    let catalog = Catalog::open(&v, v.len() as u64).unwrap().unwrap();
    for n in [1, 2] {
        let snapshot = catalog.snapshot(&v, n).unwrap();
        let problems = snapshot.problems();
        assert_eq!(problems.len(), 1, "snapshot {n}: {problems:?}");
        assert!(
            problems[0].contains("2 block descriptors name blocks past the volume's end"),
            "{problems:?}"
        );
    }
    let clean = volume();
    let catalog = Catalog::open(&clean, clean.len() as u64).unwrap().unwrap();
    assert!(catalog.snapshot(&clean, 1).unwrap().problems().is_empty());
}
