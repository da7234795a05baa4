//! Damage to one NTFS metadata structure that a second copy or a consistency
//! check can repair or expose (the hostile-input hunt's NTFS findings): each test
//! patches a few bytes of the corpus volume `testfs1` (512-byte clusters, 1 KiB
//! records, `$MFT` at cluster 32, `$MFTMirr` at cluster 2047) and checks that the
//! volume still opens where it can, and that the damage is reported, never silent.

mod common;

use std::sync::Arc;

use toolmark::evidence::ReadAt;
use toolmark::ntfs::Volume;

/// Byte offset of the `$MFT`'s first record in `testfs1`.
const MFT: usize = 32 * 512;
/// Bytes per MFT record in `testfs1`.
const RECORD: usize = 1024;

fn testfs1() -> Vec<u8> {
    std::fs::read(common::corpus().join("images/ntfs-crate/testfs1")).unwrap()
}

fn open(image: Vec<u8>) -> Volume {
    Volume::open(Arc::new(image)).expect("the volume opens")
}

fn warned(volume: &Volume, needle: &str) -> bool {
    volume.warnings().iter().any(|w| w.contains(needle))
}

/// The whole unnamed stream of `path`.
fn content(volume: &Volume, path: &str) -> Vec<u8> {
    let stream = volume.open_stream(path, "").unwrap();
    let mut buf = vec![0u8; stream.len() as usize];
    stream.read_exact_at(&mut buf, 0).unwrap();
    buf
}

/// Offset in the image of attribute `kind`'s header in record `number`.
fn attribute(image: &[u8], number: usize, kind: u32) -> usize {
    let record = MFT + number * RECORD;
    let mut at = record
        + usize::from(u16::from_le_bytes([
            image[record + 0x14],
            image[record + 0x15],
        ]));
    loop {
        let found = u32::from_le_bytes(image[at..at + 4].try_into().unwrap());
        assert_ne!(
            found,
            u32::MAX,
            "record {number} has no attribute {kind:#x}"
        );
        if found == kind {
            return at;
        }
        at += u32::from_le_bytes(image[at + 4..at + 8].try_into().unwrap()) as usize;
    }
}

/// A torn write, a bad signature, or a `$DATA` of size 0 in the `$MFT`'s record 0
/// cost the whole volume; `$MFTMirr` holds an intact copy, and is used and named.
#[test]
fn a_damaged_mft_record_zero_is_read_from_the_mirror() {
    let clean = content(&open(testfs1()), "1000-bytes-file");
    let torn = |image: &mut Vec<u8>| image[MFT + 1022] ^= 0xFF;
    let baad = |image: &mut Vec<u8>| image[MFT..MFT + 4].copy_from_slice(b"BAAD");
    let size_zero = |image: &mut Vec<u8>| {
        let data = attribute(image, 0, 0x80);
        image[data + 0x30..data + 0x40].fill(0);
    };
    for (what, edit) in [
        ("torn", &torn as &dyn Fn(&mut Vec<u8>)),
        ("BAAD", &baad),
        ("size 0", &size_zero),
    ] {
        let mut image = testfs1();
        edit(&mut image);
        let volume = open(image);
        assert!(
            warned(&volume, "$MFTMirr"),
            "{what}: {:?}",
            volume.warnings()
        );
        assert_eq!(content(&volume, "1000-bytes-file"), clean, "{what}");
        assert!(volume.record_count() >= 16, "{what}");
    }
}

/// With both copies of record 0 damaged the volume cannot be opened, and the
/// error names both.
#[test]
fn both_copies_of_record_zero_damaged_is_an_error() {
    let mut image = testfs1();
    image[MFT..MFT + 4].copy_from_slice(b"BAAD");
    let mirror = 2047 * 512;
    image[mirror..mirror + 4].copy_from_slice(b"BAAD");
    let err = Volume::open(Arc::new(image)).err().expect("must fail");
    assert!(err.to_string().contains("$MFTMirr"), "{err}");
}

/// A boot sector claiming 64 KiB MFT records (0x40 = 0xF0) while the records
/// themselves state 1024 bytes: the records are believed, and the disagreement
/// reported.
#[test]
fn a_record_size_the_records_contradict_is_corrected() {
    let mut image = testfs1();
    image[0x40] = 0xF0;
    let volume = open(image);
    assert_eq!(volume.boot().record_size, 1024);
    assert!(
        warned(&volume, "65536-byte MFT records"),
        "{:?}",
        volume.warnings()
    );
    assert_eq!(content(&volume, "file-with-12345"), b"12345");
}

/// Where the root's index entry for `name` lies: its key's name is at +0x52,
/// after the 16-byte entry header and the `$FILE_NAME` fields; the entry is the
/// copy of the name whose header references `record`.
fn index_entry(image: &[u8], name: &str, record: u64) -> usize {
    let utf16: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
    memchr::memmem::find_iter(image, &utf16)
        .filter_map(|at| at.checked_sub(0x52))
        .find(|&entry| {
            u64::from_le_bytes(image[entry..entry + 8].try_into().unwrap()) & 0xFFFF_FFFF_FFFF
                == record
        })
        .expect("index entry")
}

/// An index entry re-pointed at another directory (`many_subdirs`, record 68):
/// that directory served as `file-with-12345` would hide the file; the entry is
/// damage instead, in a lookup and in a listing.
#[test]
fn an_index_entry_leading_to_another_directory_is_damage() {
    let mut image = testfs1();
    let entry = index_entry(&image, "file-with-12345", 65);
    image[entry..entry + 8].copy_from_slice(&(68u64 | 1 << 48).to_le_bytes());
    let volume = open(image);
    let err = volume.lookup("file-with-12345").unwrap_err().to_string();
    assert!(err.contains("cannot be located"), "{err}");
    let root = volume.lookup("/").unwrap();
    let (entries, _) = volume.read_dir(&root).unwrap();
    let bad = entries
        .iter()
        .find(|e| e.name.name == "file-with-12345")
        .unwrap();
    assert!(volume.entry_is_live(bad).is_err());
    // The others still lead home.
    assert_eq!(content(&volume, "1000-bytes-file").len(), 1000);
}

/// An entry of the root re-pointed at the root itself (record 5, sequence 5): the
/// damage is reported, and the file is found through the MFT all the same.
#[test]
fn a_root_entry_leading_to_the_root_is_damage() {
    let mut image = testfs1();
    let entry = index_entry(&image, "file-with-12345", 65);
    image[entry..entry + 8].copy_from_slice(&(5u64 | 5 << 48).to_le_bytes());
    let volume = open(image);
    let root = volume.lookup("/").unwrap();
    let (_, problems) = volume.read_dir(&root).unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p.contains("points at its own directory")),
        "{problems:?}"
    );
    assert_eq!(content(&volume, "file-with-12345"), b"12345");
}

/// An all-zero `$UpCase` folds every name to the same string, so any name would
/// match the first entry: it is refused (and reported), the built-in folding used.
#[test]
fn an_implausible_upcase_table_is_replaced() {
    let mut image = testfs1();
    let clean = open(image.clone());
    let upcase = clean.file(toolmark::ntfs::known::UPCASE).unwrap();
    for range in clean.stream(&upcase, "").unwrap().volume_ranges() {
        image[range.start as usize..range.end as usize].fill(0);
    }
    let volume = open(image);
    assert!(warned(&volume, "$UpCase"), "{:?}", volume.warnings());
    assert!(matches!(
        volume.lookup("zzzz"),
        Err(toolmark::ntfs::NtfsError::NotFound(_))
    ));
    assert_eq!(content(&volume, "FILE-WITH-12345"), b"12345");
}

/// A data size (100) below the initialised size (1000) is invalid NTFS: the file
/// is read as far as it was written, and the sizes are reported as damage.
#[test]
fn a_data_size_below_the_initialised_size_is_damage_and_read_past() {
    let mut image = testfs1();
    let clean = content(&open(image.clone()), "1000-bytes-file");
    let data = attribute(&image, 66, 0x80);
    image[data + 0x30..data + 0x38].copy_from_slice(&100u64.to_le_bytes());
    let volume = open(image);
    let file = volume.lookup("1000-bytes-file").unwrap();
    assert!(
        file.problems.iter().any(|p| p.contains("initialised size")),
        "{:?}",
        file.problems
    );
    assert_eq!(content(&volume, "1000-bytes-file"), clean);
}

/// A boot sector claiming 2^63-1 sectors: damage, reported, and the volume read
/// within the bytes that hold it.
#[test]
fn a_volume_larger_than_its_container_is_damage() {
    let mut image = testfs1();
    image[0x28..0x30].copy_from_slice(&(i64::MAX as u64).to_le_bytes());
    let len = image.len() as u64;
    let volume = open(image);
    assert!(warned(&volume, "sectors"), "{:?}", volume.warnings());
    assert!(volume.boot().volume_size() <= len);
    assert_eq!(content(&volume, "file-with-12345"), b"12345");
}

/// A resident `$ATTRIBUTE_LIST` appended to record 66 (`1000-bytes-file`) that
/// names record 65, another file's base record, as an extension: `ls` warns, and
/// the scan must say the same (it reads each record alone, without the list).
#[test]
fn attribute_list_damage_reaches_errors_csv() {
    let mut image = testfs1();
    let record = MFT + 66 * RECORD;
    let used = u32::from_le_bytes(image[record + 0x18..record + 0x1C].try_into().unwrap()) as usize;
    let at = record + used - 8; // the end marker
    let mut attr = vec![0u8; 56];
    attr[..4].copy_from_slice(&0x20u32.to_le_bytes());
    attr[4..8].copy_from_slice(&56u32.to_le_bytes());
    attr[0x0A..0x0C].copy_from_slice(&0x18u16.to_le_bytes());
    attr[0x0E..0x10].copy_from_slice(&7u16.to_le_bytes());
    attr[0x10..0x14].copy_from_slice(&32u32.to_le_bytes());
    attr[0x14..0x16].copy_from_slice(&0x18u16.to_le_bytes());
    let entry = &mut attr[0x18..];
    entry[..4].copy_from_slice(&0x80u32.to_le_bytes());
    entry[4..6].copy_from_slice(&32u16.to_le_bytes());
    entry[7] = 26;
    entry[16..24].copy_from_slice(&(65u64 | 1 << 48).to_le_bytes());
    assert!(at + 64 < record + 510, "stays inside the first sector");
    image[at..at + 56].copy_from_slice(&attr);
    image[at + 56..at + 64].copy_from_slice(&u32::MAX.to_le_bytes().repeat(2));
    image[record + 0x18..record + 0x1C].copy_from_slice(&((used + 56) as u32).to_le_bytes());
    let dir = common::scratch_dir("ntfs_repair");
    let path = dir.join("attribute-list.raw");
    std::fs::write(&path, &image).unwrap();
    let out = dir.join("out-attribute-list");
    let result = common::scan_into(&[path], &out, &["--artifacts", "mft"]);
    assert_eq!(result.status.code(), Some(2));
    let errors = common::files_under(&out)
        .into_iter()
        .find(|p| p.ends_with("errors.csv"))
        .expect("errors.csv");
    let text = std::fs::read_to_string(out.join(errors)).unwrap();
    assert!(text.contains("belongs to another file"), "{text}");
}

/// `1000-bytes-file` stating 200 KiB over its one 1000-byte run: the bytes past
/// the run cannot be read. `cat` writes the 1000 that can (the rest as zeros, so
/// offsets stay true), names the loss and exits 2, rather than writing nothing.
#[test]
fn cat_writes_what_can_be_read_around_damage() {
    let mut image = testfs1();
    let data = attribute(&image, 66, 0x80);
    for field in [0x28, 0x30, 0x38] {
        image[data + field..data + field + 8].copy_from_slice(&(200u64 << 10).to_le_bytes());
    }
    let path = common::scratch_dir("ntfs_repair").join("cat-short-runs.raw");
    std::fs::write(&path, &image).unwrap();
    let result = common::toolmark()
        .arg("cat")
        .arg(&path)
        .arg("1000-bytes-file")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("unreadable"), "{stderr}");
    assert_eq!(result.stdout.len(), 200 << 10);
    // The run's two 512-byte clusters hold the 1000 bytes and their slack.
    assert!(result.stdout.starts_with(&b"12345".repeat(200)));
    assert!(result.stdout[1024..].iter().all(|&b| b == 0));
}

/// Record 66's slot holding a byte copy of record 0 (what `$MFT` runs mapping the
/// same clusters twice give): it is not served as `1000-bytes-file` (a copy of
/// the `$MFT`'s record listed as that file), it is damage naming the copy.
#[test]
fn a_record_slot_holding_another_records_copy_is_damage() {
    let mut image = testfs1();
    let zero = image[MFT..MFT + RECORD].to_vec();
    image[MFT + 66 * RECORD..MFT + 67 * RECORD].copy_from_slice(&zero);
    let volume = open(image);
    let err = volume.lookup("1000-bytes-file").unwrap_err().to_string();
    assert!(err.contains("copy of record 0"), "{err}");
    assert_eq!(content(&volume, "file-with-12345"), b"12345");
}
