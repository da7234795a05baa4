//! Log replay against Windows' own recovery and the outcomes yarp's tests document.
//!
//! Oracles: `RecoveredHive_Windows10` / `RecoveredHive_Windows7` are the hives as
//! Windows itself recovered them from the same primary and logs (msuhanov/yarp test
//! data). The expected logs per case come from yarp's `test_autorecovery`,
//! `test_bad_baseblock` and `test_bad_log1..3` (yarp/test_cases.py): NewDirtyHive1
//! applies LOG1 then LOG2, NewDirtyHive2 only LOG2, OldDirtyHive its LOG1,
//! BadBaseBlockHive its LOG1 (old format, effective minor version 1 -> 3, key
//! `key_with_many_subkeys` reachable afterwards), the three BadLog cases fail.

mod common;

use common::dump;
use regf::{recover, Hive, LogFile, LogFormat};
use testkit::read_corpus;

fn replay(dir: &str, name: &str) -> (Vec<u8>, regf::Recovered) {
    let primary = read_corpus(&format!("registry/dirty/{dir}/{name}"));
    let log1 = read_corpus(&format!("registry/dirty/{dir}/{name}.LOG1"));
    let log2 = read_corpus(&format!("registry/dirty/{dir}/{name}.LOG2"));
    let rec = recover(&primary, Some(&log1), Some(&log2)).expect("recover");
    (primary, rec)
}

fn assert_same_tree(ours: &Hive, windows: &Hive) {
    let ours = dump(ours);
    let windows = dump(windows);
    let our_paths: Vec<_> = ours.keys().collect();
    let win_paths: Vec<_> = windows.keys().collect();
    assert_eq!(our_paths, win_paths, "key paths differ");
    for (path, win) in &windows {
        assert_eq!(&ours[path], win, "key {path:?} differs");
    }
}

#[test]
fn new_format_replay_matches_windows10() {
    let (primary, rec) = replay("NewDirtyHive1", "NewDirtyHive");
    assert!(rec.report.was_dirty);
    assert_eq!(rec.report.format, Some(LogFormat::New), "{:?}", rec.report);
    assert_eq!(rec.report.logs_applied, vec![LogFile::Log1, LogFile::Log2]);
    let ours = Hive::from_bytes(rec.bytes).unwrap();
    assert!(!ours.is_dirty());
    let windows = Hive::from_bytes(read_corpus(
        "registry/dirty/NewDirtyHive1/RecoveredHive_Windows10",
    ))
    .unwrap();
    assert_same_tree(&ours, &windows);
    // The comparison can fail: the unreplayed primary differs from Windows' result.
    let before = Hive::from_bytes(primary).unwrap();
    assert_ne!(dump(&before), dump(&windows));
}

#[test]
fn new_format_second_log_only() {
    let (_, rec) = replay("NewDirtyHive2", "NewDirtyHive");
    assert_eq!(rec.report.format, Some(LogFormat::New), "{:?}", rec.report);
    assert_eq!(rec.report.logs_applied, vec![LogFile::Log2]);
    dump(&Hive::from_bytes(rec.bytes).unwrap());
}

#[test]
fn old_format_replay_matches_windows7() {
    let (primary, rec) = replay("OldDirtyHive", "OldDirtyHive");
    assert!(rec.report.was_dirty);
    assert_eq!(rec.report.format, Some(LogFormat::Old), "{:?}", rec.report);
    assert_eq!(rec.report.logs_applied, vec![LogFile::Log1]);
    let ours = Hive::from_bytes(rec.bytes).unwrap();
    assert!(!ours.is_dirty());
    let windows = Hive::from_bytes(read_corpus(
        "registry/dirty/OldDirtyHive/RecoveredHive_Windows7",
    ))
    .unwrap();
    assert_same_tree(&ours, &windows);
    let before = Hive::from_bytes(primary).unwrap();
    assert!(before.is_dirty());
}

#[test]
fn bad_base_block_is_restored_from_old_log() {
    let (primary, rec) = replay("BadBaseBlockHive", "BadBaseBlockHive");
    assert_eq!(
        Hive::from_bytes(primary)
            .unwrap()
            .base_block()
            .minor_version,
        1
    );
    assert_eq!(rec.report.format, Some(LogFormat::Old), "{:?}", rec.report);
    assert_eq!(rec.report.logs_applied, vec![LogFile::Log1]);
    let hive = Hive::from_bytes(rec.bytes).unwrap();
    assert_eq!(hive.base_block().minor_version, 3);
    assert!(hive.open_key("key_with_many_subkeys").unwrap().is_some());
}

#[test]
fn bad_logs_leave_the_primary_unchanged_and_say_why() {
    // What is broken in each case was found by comparing the logs byte by byte with
    // the good logs of OldDirtyHive / NewDirtyHive1 (same primaries).
    for (dir, why) in [
        ("BadLogHive1", "Log1: log base block checksum is wrong"),
        ("BadLogHive2", "Log1: no DIRT signature"),
        ("BadLogHive3", "Log2: log base block checksum is wrong"),
    ] {
        let (primary, rec) = replay(dir, "BadLogHive");
        assert!(rec.report.was_dirty, "{dir}");
        assert_eq!(rec.report.format, None, "{dir}: {:?}", rec.report);
        assert!(rec.report.logs_applied.is_empty(), "{dir}");
        assert!(!rec.report.problems.is_empty(), "{dir}");
        assert!(rec.bytes == primary, "{dir}: bytes changed");
        assert!(
            rec.report.problems.iter().any(|p| p.starts_with(why)),
            "{dir}: {:?}",
            rec.report.problems
        );
    }
}

#[test]
fn dirty_hive_without_logs_is_reported() {
    let primary = read_corpus("registry/amcache/plaso-dirty-nologs/Amcache.hve");
    let rec = recover(&primary, None, None).unwrap();
    assert!(rec.report.was_dirty);
    assert!(rec.bytes == primary);
    assert_eq!(rec.report.problems.len(), 1, "{:?}", rec.report.problems);
}
