//! The `dfir_ntfs` journal extract against Windows' own `fsutil usn readjournal`
//! listing of the same journal (both from msuhanov/dfir_ntfs test_data).
//!
//! What the listing shows and how it is compared:
//! - fsutil reads through `FSCTL_READ_USN_JOURNAL`, which hands V2 records on disk
//!   back as V3 ("Major version : 3", record length 16 bytes longer, file ids printed
//!   as 32 hex digits of a zero-extended 128-bit id). We compare the ids as integers
//!   and the length as ours + 16.
//! - "Time stamp" has no zone and whole seconds. The binary's first record holds
//!   2019-01-22 21:36:10.924 UTC and fsutil prints 21:36:10, so the listing is in UTC
//!   (the machine ran with a UTC clock) and truncates; every record is compared that way.
//! - Reason/attribute/source names are fsutil's words ("Data extend | Close"), turned
//!   into SDK constant spelling (upper case, non-letters to `_`) and compared with
//!   ours; the raw hex values are compared too.
//! - The listing ends at its header's "Next USN" (29792); the extract holds three more
//!   records written after fsutil ran. Those must all lie at or past Next USN.
//! - V4 records appear in the listing with their own blocks; we skip and count them.

use std::collections::HashMap;

/// One fsutil record block as key -> value.
type Block = HashMap<String, String>;

fn parse_listing(text: &str) -> (Block, Vec<Block>) {
    let mut header = Block::new();
    let mut blocks: Vec<Block> = Vec::new();
    for line in text.lines() {
        let Some((key, value)) = line.split_once(" : ") else {
            continue;
        };
        let (key, value) = (key.trim().to_owned(), value.trim().to_owned());
        if key == "Usn" {
            blocks.push(Block::new());
        }
        match blocks.last_mut() {
            Some(block) => block.insert(key, value),
            None => header.insert(key, value),
        };
    }
    (header, blocks)
}

fn field<'a>(block: &'a Block, key: &str) -> &'a str {
    block
        .get(key)
        .unwrap_or_else(|| panic!("fsutil block lacks {key}: {block:?}"))
}

/// "0x80000002: Data extend | Close" -> (0x80000002, "DATA_EXTEND|CLOSE").
fn flags(value: &str) -> (u32, String) {
    let (hex, words) = value.split_once(": ").expect("flag value with names");
    let raw = u32::from_str_radix(hex.trim_start_matches("0x"), 16).expect("hex flags");
    let names: Vec<String> = words
        .split(" | ")
        .filter(|w| *w != "*NONE*")
        .map(|w| {
            let upper: String = w
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_uppercase()
                    } else {
                        '_'
                    }
                })
                .collect();
            upper
                .split('_')
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
                .join("_")
        })
        .collect();
    (raw, names.join("|"))
}

/// "1/22/2019 21:36:10" read as UTC -> Unix seconds.
fn fsutil_seconds(value: &str) -> i64 {
    let numbers: Vec<i64> = value
        .split(['/', ' ', ':'])
        .map(|n| n.parse().expect("number in time stamp"))
        .collect();
    let [month, day, year, hour, minute, second] = numbers[..] else {
        panic!("unexpected time stamp {value}");
    };
    jiff::civil::date(year as i16, month as i8, day as i8)
        .at(hour as i8, minute as i8, second as i8, 0)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .expect("valid date")
        .timestamp()
        .as_second()
}

#[test]
fn matches_fsutil_readjournal() {
    let data = testkit::read_corpus("ntfs/dfir_ntfs/usnjrnlj.bin");
    let listing = testkit::read_corpus("ntfs/dfir_ntfs/usnjrnlj.fsutil.txt");
    let (header, blocks) = parse_listing(&String::from_utf8_lossy(&listing));
    let next_usn: u64 = field(&header, "Next USN").parse().unwrap();

    let mut walk = usn::records(&data, 0);
    let ours: Vec<usn::UsnRecord> = walk.by_ref().map(|r| r.expect("no damage")).collect();
    let (listed, after): (Vec<_>, Vec<_>) = ours.iter().partition(|r| r.usn < next_usn);
    let expected: Vec<&Block> = blocks
        .iter()
        .filter(|b| field(b, "Major version") != "4")
        .collect();
    let expected_v4 = blocks.len() - expected.len();

    assert_eq!(listed.len(), expected.len(), "record count up to Next USN");
    assert_eq!(walk.counts().skipped_v4, expected_v4 as u64, "V4 records");
    assert_eq!(walk.counts().damaged, 0);
    assert!(after.iter().all(|r| r.usn >= next_usn));
    assert!(
        ours.iter()
            .all(|r| r.offset % 4096 + u64::from(r.record_length) <= 4096),
        "a record crosses a 4 KiB page"
    );
    assert_eq!(
        after.len(),
        3,
        "records written after fsutil ran (read by hand)"
    );

    for (record, block) in listed.iter().zip(&expected) {
        let at = format!("USN {}", record.usn);
        assert_eq!(record.usn.to_string(), field(block, "Usn"), "{at}");
        assert_eq!(record.file_name, field(block, "File name"), "{at}");
        assert_eq!(
            (record.file_name.encode_utf16().count() * 2).to_string(),
            field(block, "File name length"),
            "{at}"
        );
        assert_eq!(
            (record.reason, record.reason_names()),
            flags(field(block, "Reason")),
            "{at}"
        );
        assert_eq!(
            (record.file_attributes, record.attribute_names()),
            flags(field(block, "File attributes")),
            "{at}"
        );
        assert_eq!(
            (record.source_info, record.source_info_names()),
            flags(field(block, "Source info")),
            "{at}"
        );
        assert_eq!(
            record.security_id.to_string(),
            field(block, "Security ID"),
            "{at}"
        );
        let id = |key| u128::from_str_radix(field(block, key), 16).expect("hex file id");
        assert_eq!(record.file_reference.0, id("File ID"), "{at}");
        assert_eq!(record.parent_reference.0, id("Parent file ID"), "{at}");
        assert_eq!(
            record.timestamp.unix_nanos().div_euclid(1_000_000_000) as i64,
            fsutil_seconds(field(block, "Time stamp")),
            "{at}"
        );
        assert_eq!(
            record.major_version, 2,
            "{at}: the extract holds V2 records"
        );
        assert_eq!(
            (record.record_length + 16).to_string(),
            field(block, "Record length"),
            "{at}: V3 form is 16 bytes longer"
        );
    }
}

#[test]
fn spot_check_first_record() {
    // Read by hand from fsutil's first block: "New folder", entry 0x28 seq 1, parent 5-5.
    let data = testkit::read_corpus("ntfs/dfir_ntfs/usnjrnlj.bin");
    let first = usn::records(&data, 0).next().unwrap().unwrap();
    assert_eq!(first.file_name, "New folder");
    assert_eq!(first.file_reference.to_string(), "40-1");
    assert_eq!(first.parent_reference.to_string(), "5-5");
    assert_eq!(first.reason_names(), "FILE_CREATE");
    assert_eq!(first.attribute_names(), "DIRECTORY");
}
