//! Damage to a hive's key tree is an error, never an absence (README of the
//! toolmark repository, "What toolmark promises on damaged input"): a free root
//! cell, a count larger than its list and a subkey list cycle, each made by
//! editing the hand-made `clean` seed.

use regf::{Error, Hive};

fn clean() -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/hive/clean");
    std::fs::read(path).unwrap()
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// File offset of the payload of the root key node (after its size field).
fn root_nk(b: &[u8]) -> usize {
    4096 + u32_at(b, 0x24) as usize + 4
}

#[test]
fn a_free_root_cell_is_an_error() {
    let mut b = clean();
    let cell = root_nk(&b) - 4;
    let size = i32::from_le_bytes(b[cell..cell + 4].try_into().unwrap());
    b[cell..cell + 4].copy_from_slice(&size.unsigned_abs().to_le_bytes());
    let hive = Hive::from_bytes(b).unwrap();
    assert!(matches!(
        hive.open_key("anything"),
        Err(Error::CellNotAllocated { .. })
    ));
}

#[test]
fn a_count_larger_than_the_list_makes_absence_an_error() {
    let mut b = clean();
    let nk = root_nk(&b);
    b[nk + 20..nk + 24].copy_from_slice(&1000u32.to_le_bytes());
    b[nk + 36..nk + 40].copy_from_slice(&1000u32.to_le_bytes());
    let hive = Hive::from_bytes(b).unwrap();
    // What is there is still found...
    assert!(hive.open_key("child").unwrap().is_some());
    // ...but a name not in the short list may have been in the lost part.
    assert!(matches!(
        hive.open_key("missing"),
        Err(Error::CountMismatch { claimed: 1000, .. })
    ));
    assert!(matches!(
        hive.root().unwrap().value("no such value"),
        Err(Error::CountMismatch { what: "value", .. })
    ));
    let problems = hive.walk(|_, _| {}).unwrap();
    assert!(
        problems
            .iter()
            .any(|p| matches!(p, Error::CountMismatch { .. })),
        "{problems:?}"
    );
}

#[test]
fn a_subkey_list_cycle_is_reported() {
    let mut b = clean();
    let root = root_nk(&b);
    let child = hive_child_offset(&b);
    // The child's subkey list becomes the root's: the child contains itself.
    let nk = 4096 + child as usize + 4;
    let (count, list) = (u32_at(&b, root + 20), u32_at(&b, root + 28));
    b[nk + 20..nk + 24].copy_from_slice(&count.to_le_bytes());
    b[nk + 28..nk + 32].copy_from_slice(&list.to_le_bytes());
    let hive = Hive::from_bytes(b).unwrap();
    let mut keys = 0;
    let problems = hive.walk(|_, _| keys += 1).unwrap();
    assert!(keys < 100, "the walk ends");
    assert!(
        problems.iter().any(|p| matches!(p, Error::Cycle { .. })),
        "{problems:?}"
    );
}

fn hive_child_offset(b: &[u8]) -> u32 {
    let hive = Hive::from_bytes(b.to_vec()).unwrap();
    let child = hive.open_key("child").unwrap().unwrap();
    child.offset()
}
