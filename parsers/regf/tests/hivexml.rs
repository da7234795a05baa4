//! Key LastWrite times of every clean corpus hive against `hivexml` (libhivex-bin),
//! an implementation independent of libregf: same keys in the same stored order, each
//! with the same mtime (whole seconds), and the same base block time.

mod common;

use common::hivexml::{self, seconds};
use regf::Hive;
use testkit::read_corpus;

fn check(rel: &str) {
    let (hive_mtime, theirs) = hivexml::run(&testkit::corpus_path(rel));
    let hive = Hive::from_bytes(read_corpus(rel)).expect("hive");
    assert_eq!(
        seconds(hive.base_block().last_written),
        hive_mtime,
        "{rel}: base block time"
    );
    let mut ours = Vec::new();
    let problems = hive
        .walk(|p, key| ours.push((p.to_owned(), seconds(key.last_written()))))
        .expect("walk");
    assert!(problems.is_empty());
    assert_eq!(ours.len(), theirs.len(), "{rel}: key count vs hivexml");
    for (o, t) in ours.iter().zip(&theirs) {
        assert_eq!(o, &(t.path.clone(), t.mtime.clone()), "{rel}");
    }
    eprintln!(
        "{rel}: {} key LastWrite times agree with hivexml",
        ours.len()
    );
}

#[test]
fn clean_hives_last_written() {
    for rel in [
        "registry/hives/NTUSER.DAT",
        "registry/hives/NTUSER-WIN7.DAT",
        "registry/hives/SAM",
        "registry/hives/UsrClass.dat",
        "registry/amcache/plaso-win10/win10-Amcache.hve",
        "registry/dirty/NewDirtyHive1/RecoveredHive_Windows10",
        "registry/dirty/OldDirtyHive/RecoveredHive_Windows7",
    ] {
        check(rel);
    }
}
