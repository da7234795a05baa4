//! Transaction logs with one hostile entry, a log of another hive, a replay that
//! fails: damage costs the damaged entry and those after it, is reported as damage
//! (not as a note), and a failed replay leaves the primary as given.

use regf::{recover, recover_owned, Hive, LogFormat};
use testkit::hive::{base_block, log_entry, reseal, HiveBuilder};

/// A dirty primary (sequence 2/1) whose hive bins hold one 4096-byte bin with a
/// key `ROOT`, and that bin as a page for log entries.
fn dirty_primary() -> (Vec<u8>, Vec<u8>) {
    let mut b = HiveBuilder::new();
    let v = b.dword("a", 1);
    let root = b.key("ROOT", &[], &[v]);
    let mut hive = b.finish(root);
    let page = hive[4096..8192].to_vec();
    hive[8..12].copy_from_slice(&1u32.to_le_bytes());
    hive[4..8].copy_from_slice(&2u32.to_le_bytes());
    reseal(&mut hive[..4096]);
    (hive, page)
}

fn new_log(name: &str, entries: &[Vec<u8>]) -> Vec<u8> {
    let root = 32;
    let mut log = base_block(2, 1, root, 4096, 6, name)[..512].to_vec();
    for e in entries {
        log.extend_from_slice(e);
    }
    log
}

#[test]
fn a_hostile_last_log_entry_costs_only_itself() {
    let (primary, page) = dirty_primary();
    let good = |seq| log_entry(seq, 4096, &[(0, &page)]);
    let hostile = [
        log_entry(3, 0xFFFF_F000, &[(0, &page)]),
        log_entry(3, 4096, &[(0x7FFF_F000, &page)]),
        log_entry(3, 4096, &[(0x800, &page)]),
    ];
    for bad in hostile {
        let log = new_log("hive", &[good(1), good(2), bad]);
        let rec = recover(&primary, Some(&log), None).unwrap();
        assert_eq!(rec.report.format, Some(LogFormat::New), "{:?}", rec.report);
        assert_eq!(rec.report.entries_applied, 2, "{:?}", rec.report);
        assert_eq!(rec.report.damage.len(), 1, "{:?}", rec.report);
        assert!(!Hive::from_bytes(rec.bytes).unwrap().is_dirty());
    }
}

#[test]
fn a_damaged_entry_continuing_the_chain_is_damage_a_stale_one_is_not() {
    let (primary, page) = dirty_primary();
    let good = |seq| log_entry(seq, 4096, &[(0, &page)]);
    let mut bad = log_entry(3, 4096, &[(0, &page)]);
    let last = bad.len() - 1;
    bad[last] ^= 1; // Hash-1 no longer matches
    let rec = recover(
        &primary,
        Some(&new_log("hive", &[good(1), good(2), bad])),
        None,
    )
    .unwrap();
    assert_eq!(rec.report.entries_applied, 2);
    assert_eq!(rec.report.damage.len(), 1, "{:?}", rec.report);

    let mut stale = log_entry(0, 4096, &[(0, &page)]);
    stale[last] ^= 1;
    let rec = recover(&primary, Some(&new_log("hive", &[good(1), stale])), None).unwrap();
    assert_eq!(rec.report.entries_applied, 1);
    assert!(rec.report.damage.is_empty(), "{:?}", rec.report);
    assert!(!rec.report.problems.is_empty());
}

#[test]
fn a_log_of_another_hive_is_damage_and_not_applied() {
    let (primary, page) = dirty_primary();
    let log = new_log("other.hve", &[log_entry(1, 4096, &[(0, &page)])]);
    let rec = recover_owned(primary.clone(), None, Some(&log)).unwrap();
    assert_eq!(rec.report.format, None);
    assert_eq!(rec.report.damage.len(), 1, "{:?}", rec.report);
    assert_eq!(rec.bytes, primary, "the primary comes back as given");
}

#[test]
fn a_failed_replay_returns_the_primary_as_given() {
    let (mut primary, page) = dirty_primary();
    // A damaged primary base block makes the replay restore the log's copy first;
    // with no applicable entry nothing may have been written.
    primary[100] ^= 0xFF;
    let log = new_log("hive", &[log_entry(7, 0xFFFF_F000, &[(0, &page)])]);
    let rec = recover_owned(primary.clone(), Some(&log), None).unwrap();
    assert_eq!(rec.report.format, None, "{:?}", rec.report);
    assert_eq!(rec.bytes, primary);
}
