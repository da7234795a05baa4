//! Hives crafted to make the reader multiply a small input (aliased big data
//! segments, a value list naming one value many times) or decode bytes that are not
//! data (resident data longer than its field). Each is an error for the damaged
//! value only (README of the toolmark repository, "What toolmark promises on
//! damaged input").

use regf::{Error, Hive};
use testkit::hive::HiveBuilder;

const SEGMENT: usize = 16344;

/// A hive whose root holds one REG_BINARY value `big` of `size` bytes stored as big
/// data over the segment cells `list` names; `segments` get the cells of a full
/// segment and a 10-byte tail, `pad` bytes of filler make the hive large enough.
fn big_data_hive(size: u32, pad: usize, list: impl Fn(u32, u32) -> Vec<u32>) -> Vec<u8> {
    let mut b = HiveBuilder::new();
    b.cell(&vec![0u8; pad]);
    let full = b.cell(&vec![0x41u8; SEGMENT]);
    let tail = b.cell(&[0x42u8; 10]);
    let offsets: Vec<u8> = list(full, tail)
        .iter()
        .flat_map(|o| o.to_le_bytes())
        .collect();
    let count = (offsets.len() / 4) as u16;
    let list = b.cell(&offsets);
    let mut db = b"db".to_vec();
    db.extend_from_slice(&count.to_le_bytes());
    db.extend_from_slice(&list.to_le_bytes());
    let db = b.cell(&db);
    let big = b.raw_value("big", 3, size, db);
    let root = b.key("ROOT", &[], &[big]);
    b.finish(root)
}

fn big_value(hive: &Hive) -> regf::Value<'_> {
    hive.root().unwrap().value("big").unwrap().unwrap()
}

#[test]
fn big_data_reassembles_distinct_segments() {
    let size = (SEGMENT + 10) as u32;
    let hive = Hive::from_bytes(big_data_hive(size, 0, |f, t| vec![f, t])).unwrap();
    let data = big_value(&hive).raw_data().unwrap();
    assert_eq!(data.len(), SEGMENT + 10);
    assert_eq!(data[SEGMENT], 0x42);
}

#[test]
fn a_segment_named_twice_is_refused() {
    let size = (2 * SEGMENT + 10) as u32;
    let hive = Hive::from_bytes(big_data_hive(size, 20000, |f, t| vec![f, f, t])).unwrap();
    assert!(
        matches!(
            big_value(&hive).raw_data(),
            Err(Error::SegmentReused { .. })
        ),
        "{:?}",
        big_value(&hive).raw_data().map(|d| d.len())
    );
}

#[test]
fn overlapping_segments_are_refused() {
    let size = (2 * SEGMENT + 10) as u32;
    let mut bytes = big_data_hive(size, 20000, |f, t| vec![f, f + 8, t]);
    // A cell header inside the first segment's data: a second segment 8 bytes in.
    let full = 4096 + 32 + (20000 + 4usize).div_ceil(8) * 8;
    let inner = full + 8;
    bytes[inner..inner + 4].copy_from_slice(&(-(SEGMENT as i32 + 8)).to_le_bytes());
    let hive = Hive::from_bytes(bytes).unwrap();
    assert!(matches!(
        big_value(&hive).raw_data(),
        Err(Error::SegmentReused { .. })
    ));
}

#[test]
fn big_data_larger_than_the_hive_is_refused_before_reading_segments() {
    // 65535 segments of 16344 bytes (1 GiB) claimed in a hive of 20 KiB.
    let size = (65535 * SEGMENT) as u32;
    let hive = Hive::from_bytes(big_data_hive(size, 0, |f, t| vec![f, f, f, t])).unwrap();
    assert!(matches!(
        big_value(&hive).raw_data(),
        Err(Error::DataTooLarge { .. })
    ));
}

#[test]
fn resident_data_longer_than_its_field_is_an_error() {
    for size in [0x8000_0005, 0x8000_0008, 0xFFFF_FFFF] {
        let mut b = HiveBuilder::new();
        let v = b.raw_value("r", 1, size, 0x0041_0042);
        let root = b.key("ROOT", &[], &[v]);
        let hive = Hive::from_bytes(b.finish(root)).unwrap();
        let value = hive.root().unwrap().value("r").unwrap().unwrap();
        assert!(
            matches!(value.raw_data(), Err(Error::ResidentTooLong { .. })),
            "size {size:#x}"
        );
    }
    // Four bytes or less are data.
    let mut b = HiveBuilder::new();
    let v = b.dword("d", 7);
    let root = b.key("ROOT", &[], &[v]);
    let hive = Hive::from_bytes(b.finish(root)).unwrap();
    let value = hive.root().unwrap().value("d").unwrap().unwrap();
    assert_eq!(value.raw_data().unwrap().as_ref(), &7u32.to_le_bytes());
}

#[test]
fn a_value_listed_many_times_is_read_once_and_reported() {
    let mut b = HiveBuilder::new();
    let v = b.string("Run", "evil.exe");
    let w = b.dword("other", 1);
    let mut list = vec![v; 1000];
    list.push(w);
    let root = b.key("ROOT", &[], &list);
    let hive = Hive::from_bytes(b.finish(root)).unwrap();
    let values = hive.root().unwrap().values().unwrap();
    assert_eq!(values.len(), 2, "each value once");
    let problems = hive.walk(|_, _| {}).unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(matches!(
        problems[0],
        Error::ValueRepeated { times: 1000, .. }
    ));
}

#[test]
fn a_value_count_larger_than_the_list_is_reported() {
    let mut b = HiveBuilder::new();
    let v = b.dword("a", 1);
    let w = b.dword("b", 2);
    let x = b.dword("c", 3);
    // Three entries fill the list cell exactly (4 + 12 bytes).
    let list = b.value_list(&[v, w, x]);
    let root = b.key_with_lists("ROOT", &[], 0x8000_0000, list);
    let hive = Hive::from_bytes(b.finish(root)).unwrap();
    assert_eq!(hive.root().unwrap().values().unwrap().len(), 3);
    let problems = hive.walk(|_, _| {}).unwrap();
    assert!(
        problems.iter().any(|p| matches!(
            p,
            Error::CountMismatch {
                what: "value",
                listed: 3,
                ..
            }
        )),
        "{problems:?}"
    );
}
