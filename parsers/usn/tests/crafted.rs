//! Hand-built journals (layouts from Microsoft's USN_RECORD_V2/V3/V4 documentation)
//! for the paths the corpus does not exercise: V3, damage, truncation, sparse heads.

#[path = "common/build.rs"]
mod build;

use build::{record, record_v4};
use usn::RecordError;

#[test]
fn v3_record_with_sparse_head_and_base_offset() {
    let mut j = vec![0u8; 8192];
    j.extend(record(3, 0x10_2000, "ReFS file.txt"));
    let base = 0x10_0000;
    let mut walk = usn::records(&j, base);
    let r = walk.next().unwrap().unwrap();
    assert_eq!(r.offset, base + 8192);
    assert_eq!(r.usn, r.offset);
    assert_eq!(r.major_version, 3);
    assert_eq!(r.file_name, "ReFS file.txt");
    assert_eq!(
        (r.file_reference.entry(), r.file_reference.sequence()),
        (0x1234, 2)
    );
    assert_eq!(r.parent_reference.to_string(), "5-5");
    assert_eq!(r.reason_names(), "DATA_EXTEND|CLOSE");
    assert_eq!(r.attribute_names(), "ARCHIVE");
    assert_eq!(r.timestamp.to_string(), "2019-01-22T21:36:10.9243619Z");
    assert!(walk.next().is_none());
}

#[test]
fn garbage_is_one_damaged_spot_and_the_walk_resyncs() {
    let mut j = record(2, 0, "a");
    let garbage_at = j.len() as u64;
    j.extend([0xAB; 40]);
    j.extend(record(2, 0, "b"));
    let mut walk = usn::records(&j, 0);
    assert_eq!(walk.next().unwrap().unwrap().file_name, "a");
    match walk.next().unwrap() {
        Err(RecordError::Damaged { offset, length, .. }) => {
            assert_eq!((offset, length), (garbage_at, 40));
        }
        other => panic!("expected damage, got {other:?}"),
    }
    assert_eq!(walk.next().unwrap().unwrap().file_name, "b");
    assert!(walk.next().is_none());
    assert_eq!(walk.counts().damaged, 1);
}

#[test]
fn v4_records_are_counted_not_returned() {
    let mut j = record_v4();
    j.extend(record(2, 80, "after v4"));
    j.extend(record_v4());
    let mut walk = usn::records(&j, 0);
    let names: Vec<_> = walk.by_ref().map(|r| r.unwrap().file_name).collect();
    assert_eq!(names, ["after v4"]);
    assert_eq!(walk.counts().skipped_v4, 2);
}

#[test]
fn cut_record_at_the_end_is_reported() {
    let mut j = record(2, 0, "whole");
    let cut_at = j.len() as u64;
    j.extend(&record(2, 0, "cut off here")[..40]);
    let items: Vec<_> = usn::records(&j, 0).collect();
    assert_eq!(items.len(), 2);
    assert!(matches!(
        items[1],
        Err(RecordError::Truncated { offset, record_length: 88, available: 40 }) if offset == cut_at
    ));
}

#[test]
fn name_outside_record_is_damage() {
    let mut j = record(2, 0, "x");
    j[58..60].copy_from_slice(&200u16.to_le_bytes());
    let items: Vec<_> = usn::records(&j, 0).collect();
    // The rest of the broken record is walked as damage too (its fields are not
    // headers), so several spots may follow; none may become a record.
    assert!(matches!(
        items[0],
        Err(RecordError::Damaged { offset: 0, .. })
    ));
    assert!(items.iter().all(Result::is_err));
}

#[test]
fn stream_reports_read_errors() {
    struct Failing;
    impl std::io::Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk gone"))
        }
    }
    let items: Vec<_> = usn::UsnStream::new(Failing, 0).collect();
    assert!(matches!(
        items[..],
        [Err(RecordError::Io { offset: 0, .. })]
    ));
}

#[test]
fn offsets_near_the_end_of_u64_do_not_overflow() {
    let j = record(2, 0, "edge");
    let items: Vec<_> = usn::records(&j, u64::MAX - 8).collect();
    assert_eq!(items.len(), 1);
    let streamed: Vec<_> = usn::UsnStream::with_block_size(j.as_slice(), u64::MAX - 8, 8).collect();
    assert_eq!(streamed.len(), 1);
}

#[test]
fn damage_across_a_block_end_is_two_spots_then_resync() {
    let mut j = record(2, 0, "a"); // 64 bytes
                                   // The buffer holds one block plus one maximal record (8 + 4096 bytes here), so
                                   // this run of garbage crosses the first buffer's end.
    j.extend([0xAB; 4160]);
    j.extend(record(2, 0, "b"));
    let mut stream = usn::UsnStream::with_block_size(j.as_slice(), 0, 8);
    let items: Vec<_> = stream.by_ref().collect();
    let names: Vec<_> = items
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|r| r.file_name.as_str())
        .collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(stream.counts().damaged, 2);
    assert_eq!(usn::records(&j, 0).filter(Result::is_err).count(), 1);
}
