//! Damage to single header fields of a real Windows 11 (version 31) file: what the
//! field cannot tell is named in `damaged`, never replaced by a wrong value.

use prefetch::Error;

const V31: &str = "prefetch/win11-v31/CMD.EXE-8E75B5BB.pf";

fn with(edit: impl Fn(&mut Vec<u8>)) -> prefetch::Prefetch {
    let mut bytes = testkit::read_corpus(V31);
    edit(&mut bytes);
    prefetch::parse(&bytes).unwrap()
}

#[test]
fn a_metrics_offset_of_no_known_layout_is_damage_not_a_wrong_run_count() {
    let clean = with(|_| {});
    assert_eq!((clean.run_count, clean.damaged.as_slice()), (40, &[][..]));
    let pf = with(|b| b[0x54..0x58].copy_from_slice(&0xFFFF_FF00u32.to_le_bytes()));
    assert_eq!(pf.run_count, 40);
    assert!(
        matches!(
            pf.damaged[..],
            [Error::Implausible {
                what: "metrics array offset",
                offset: 0x54,
                value: 0xFFFF_FF00,
                ..
            }]
        ),
        "{:?}",
        pf.damaged
    );
}

#[test]
fn a_last_run_time_that_is_no_date_is_damage() {
    let clean = with(|_| {});
    let pf = with(|b| {
        b[0x80..0x88].copy_from_slice(&u64::MAX.to_le_bytes());
        b[0x88..0x90].copy_from_slice(&(i64::MAX as u64).to_le_bytes());
    });
    assert_eq!(pf.last_run_times, clean.last_run_times[2..]);
    let offsets: Vec<_> = pf
        .damaged
        .iter()
        .map(|d| match d {
            Error::Implausible {
                what: "last run time",
                offset,
                ..
            } => *offset,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(offsets, [0x80, 0x88]);
}
