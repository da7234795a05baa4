//! The 39 MB `$J` of a real Windows 10 VM (DFIRArtifactMuseum APTSimulatorVM), read
//! through the streaming reader.
//!
//! Oracles and invariants:
//! - an independent walk written in Python (below, run by `python3`) counts the records
//!   and reports the first and last USN; ours must agree;
//! - the extract dropped the sparse head, so USN - offset must be one constant for
//!   every record, and that constant must be page-aligned (4 KiB);
//! - USNs strictly increase; no record crosses a 4 KiB page;
//! - the stream's buffer stays far below the journal's size, and the stream (with the
//!   default and with a tiny odd block size) yields exactly what the slice walk yields.

use std::fs::File;
use std::process::Command;

const J: &str = "hosts/win10-aptsim/$Extend/$J";

/// A deliberately plain walk: 8-byte steps over zero words, otherwise take the record
/// length and step over it. Prints "count first_usn last_usn".
const PYTHON_WALK: &str = r#"
import struct, sys
d = open(sys.argv[1], 'rb').read()
off = 0; n = 0; first = last = None
while off + 8 <= len(d):
    length, major = struct.unpack_from('<IH', d, off)
    if length == 0:
        off += 8
        continue
    usn_at = {2: 24, 3: 40}.get(major)
    if usn_at is not None:
        usn = struct.unpack_from('<q', d, off + usn_at)[0]
        first = usn if first is None else first
        last = usn
        n += 1
    off += (length + 7) & ~7
print(n, first, last)
"#;

fn python_walk() -> (u64, u64, u64) {
    let path = testkit::corpus_path(J);
    let output = Command::new("python3")
        .arg("-c")
        .arg(PYTHON_WALK)
        .arg(&path)
        .output()
        .expect("python3 is required as the independent oracle for this test");
    assert!(output.status.success(), "python walk failed: {output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    let numbers: Vec<u64> = text
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    (numbers[0], numbers[1], numbers[2])
}

#[test]
fn streams_the_win10_journal_in_bounded_memory() {
    let path = testkit::corpus_path(J);
    let file = File::open(&path)
        .unwrap_or_else(|e| panic!("corpus file {} is required: {e}", path.display()));
    let size = file.metadata().unwrap().len();
    let mut stream = usn::UsnStream::new(file, 0);

    let mut count = 0u64;
    let mut first: Option<(u64, u64)> = None;
    let mut previous_usn = None;
    let mut last_usn = 0;
    for record in stream.by_ref() {
        let record = record.expect("no damage in this journal");
        let (first_usn, first_offset) = *first.get_or_insert((record.usn, record.offset));
        let shift = first_usn - first_offset;
        assert_eq!(
            record.usn - record.offset,
            shift,
            "USN-offset at {}",
            record.offset
        );
        assert!(
            previous_usn < Some(record.usn),
            "USNs increase at {}",
            record.offset
        );
        assert!(
            record.offset % 4096 + u64::from(record.record_length) <= 4096,
            "record at {} crosses a page",
            record.offset
        );
        previous_usn = Some(record.usn);
        last_usn = record.usn;
        count += 1;
    }
    let (first_usn, first_offset) = first.expect("records present");
    assert_eq!(
        (first_usn - first_offset) % 4096,
        0,
        "dropped head is whole pages"
    );
    assert_eq!(stream.counts(), usn::Counts::default());
    assert!(
        (stream.buffer_capacity() as u64) < size / 16,
        "buffer {} vs journal {size}",
        stream.buffer_capacity()
    );

    let (py_count, py_first, py_last) = python_walk();
    assert_eq!((count, first_usn, last_usn), (py_count, py_first, py_last));
    // Plausibility: a journal of this size holds records of ~100-150 bytes each.
    assert!(
        count > size / 200 && count < size / 60,
        "{count} records in {size} bytes"
    );
}

#[test]
fn stream_and_slice_agree_even_with_tiny_blocks() {
    let data = testkit::read_corpus(J);
    let slice: Vec<_> = usn::records(&data, 0).map(|r| r.unwrap()).collect();
    for block in [usn::DEFAULT_BLOCK_SIZE, 1000] {
        let stream = usn::UsnStream::with_block_size(data.as_slice(), 0, block);
        let mut n = 0;
        for record in stream {
            assert_eq!(Some(&record.unwrap()), slice.get(n), "block size {block}");
            n += 1;
        }
        assert_eq!(n, slice.len(), "block size {block}");
    }
}
