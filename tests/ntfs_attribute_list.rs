//! A `$MFT` whose `$DATA` continues in an extension record through an attribute
//! list (what a heavily fragmented MFT looks like, and what the `ntfs` crate cannot
//! open, its issue #32). Built from the corpus volume by moving the tail of the
//! MFT's run list into record 20; The Sleuth Kit reads the result and is the oracle.

mod common;

use std::collections::BTreeSet;

use common::*;

const RECORD: usize = 1024;
const EXTENSION: u64 = 20;

fn u16_at(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}
fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(b[o..o + 4].try_into().unwrap())
}
fn u64_at(b: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(b[o..o + 8].try_into().unwrap())
}

/// (clusters, absolute lcn) pairs of a run list without sparse runs.
fn decode_runs(mut raw: &[u8]) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut lcn = 0i64;
    while raw[0] != 0 {
        let (ls, os) = ((raw[0] & 15) as usize, (raw[0] >> 4) as usize);
        let mut len = 0u64;
        for i in (0..ls).rev() {
            len = len << 8 | u64::from(raw[1 + i]);
        }
        let mut off = 0i64;
        for i in (0..os).rev() {
            off = off << 8 | i64::from(raw[1 + ls + i]);
        }
        off = (off << (64 - 8 * os)) >> (64 - 8 * os);
        lcn += off;
        out.push((len, lcn as u64));
        raw = &raw[1 + ls + os..];
    }
    out
}

fn encode_runs(runs: &[(u64, u64)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut prev = 0i64;
    for &(len, lcn) in runs {
        let delta = lcn as i64 - prev;
        prev = lcn as i64;
        let len_bytes: Vec<u8> =
            len.to_le_bytes()[..8 - (len.leading_zeros() as usize / 8).min(7)].to_vec();
        let mut off_bytes = delta.to_le_bytes().to_vec();
        while off_bytes.len() > 1 {
            let top = off_bytes[off_bytes.len() - 1];
            let next = off_bytes[off_bytes.len() - 2];
            if (top == 0 && next & 0x80 == 0) || (top == 0xFF && next & 0x80 != 0) {
                off_bytes.pop();
            } else {
                break;
            }
        }
        out.push((off_bytes.len() as u8) << 4 | len_bytes.len() as u8);
        out.extend(len_bytes);
        out.extend(off_bytes);
    }
    out.push(0);
    out
}

fn nonresident_data(
    first_vcn: u64,
    last_vcn: u64,
    runs: &[u8],
    sizes: [u64; 3],
    instance: u16,
) -> Vec<u8> {
    let mut a = vec![0u8; 0x40];
    a[0..4].copy_from_slice(&0x80u32.to_le_bytes());
    a[8] = 1;
    a[0x0A] = 0x40;
    a[0x0E..0x10].copy_from_slice(&instance.to_le_bytes());
    a[0x10..0x18].copy_from_slice(&first_vcn.to_le_bytes());
    a[0x18..0x20].copy_from_slice(&last_vcn.to_le_bytes());
    a[0x20..0x22].copy_from_slice(&0x40u16.to_le_bytes());
    for (i, s) in sizes.iter().enumerate() {
        a[0x28 + 8 * i..0x30 + 8 * i].copy_from_slice(&s.to_le_bytes());
    }
    a.extend_from_slice(runs);
    while a.len() % 8 != 0 {
        a.push(0);
    }
    let len = a.len() as u32;
    a[4..8].copy_from_slice(&len.to_le_bytes());
    a
}

fn list_entry(kind: u32, vcn: u64, record: u64, seq: u16, instance: u16) -> Vec<u8> {
    let mut e = vec![0u8; 0x20];
    e[0..4].copy_from_slice(&kind.to_le_bytes());
    e[4..6].copy_from_slice(&0x20u16.to_le_bytes());
    e[7] = 0x1A;
    e[8..16].copy_from_slice(&vcn.to_le_bytes());
    e[16..24].copy_from_slice(&(record | u64::from(seq) << 48).to_le_bytes());
    e[24..26].copy_from_slice(&instance.to_le_bytes());
    e
}

/// Rebuilds a record from a header and attributes, then protects it with fixups.
fn seal(header: &[u8], attributes: &[Vec<u8>], base: u64, flags: u16, number: u64) -> Vec<u8> {
    let mut r = vec![0u8; RECORD];
    r[..0x38].copy_from_slice(&header[..0x38]);
    let mut at = 0x38;
    for a in attributes {
        r[at..at + a.len()].copy_from_slice(a);
        at += a.len();
    }
    r[at..at + 4].copy_from_slice(&0xFFFF_FFFFu32.to_le_bytes());
    at += 8;
    r[0x14..0x16].copy_from_slice(&0x38u16.to_le_bytes());
    r[0x16..0x18].copy_from_slice(&flags.to_le_bytes());
    r[0x18..0x1C].copy_from_slice(&(at as u32).to_le_bytes());
    r[0x20..0x28].copy_from_slice(&base.to_le_bytes());
    r[0x2C..0x30].copy_from_slice(&(number as u32).to_le_bytes());
    let usa = u16_at(&r, 4) as usize;
    let usn = u16_at(&r, usa).wrapping_add(1);
    r[usa..usa + 2].copy_from_slice(&usn.to_le_bytes());
    for i in 1..=(RECORD / 512) {
        let end = i * 512;
        let (a, b) = (r[end - 2], r[end - 1]);
        r[usa + 2 * i] = a;
        r[usa + 2 * i + 1] = b;
        r[end - 2..end].copy_from_slice(&usn.to_le_bytes());
    }
    r
}

/// Undoes fixups of a raw record so its attributes can be copied.
fn unseal(raw: &[u8]) -> Vec<u8> {
    let mut r = raw.to_vec();
    let usa = u16_at(&r, 4) as usize;
    for i in 1..=(RECORD / 512) {
        let end = i * 512;
        r[end - 2] = raw[usa + 2 * i];
        r[end - 1] = raw[usa + 2 * i + 1];
    }
    r
}

#[test]
fn mft_with_attribute_list_lists_like_fls() {
    let original = std::fs::read(corpus().join("images/ntfs-crate/testfs1")).unwrap();
    let cluster = u64::from(u16_at(&original, 0x0B)) * u64::from(original[0x0D]);
    let mft = (u64_at(&original, 0x30) * cluster) as usize;
    let rec0 = unseal(&original[mft..mft + RECORD]);

    let mut attrs: Vec<(u32, Vec<u8>)> = Vec::new();
    let mut at = u16_at(&rec0, 0x14) as usize;
    while u32_at(&rec0, at) != 0xFFFF_FFFF {
        let len = u32_at(&rec0, at + 4) as usize;
        attrs.push((u32_at(&rec0, at), rec0[at..at + len].to_vec()));
        at += len;
    }
    let data = &attrs.iter().find(|(k, _)| *k == 0x80).unwrap().1;
    let runs = decode_runs(&data[u16_at(data, 0x20) as usize..]);
    assert!(runs.len() >= 2, "need a fragmented MFT to split: {runs:?}");
    let split = runs.len() / 2;
    let head_clusters: u64 = runs[..split].iter().map(|r| r.0).sum();
    let total_clusters: u64 = runs.iter().map(|r| r.0).sum();
    assert!(
        EXTENSION * RECORD as u64 / cluster < runs[0].0,
        "record 20 must be in the first run"
    );
    let sizes = [u64_at(data, 0x28), u64_at(data, 0x30), u64_at(data, 0x38)];

    let head = nonresident_data(
        0,
        head_clusters - 1,
        &encode_runs(&runs[..split]),
        sizes,
        u16_at(data, 0x0E),
    );
    let tail = nonresident_data(
        head_clusters,
        total_clusters - 1,
        &encode_runs(&runs[split..]),
        [0; 3],
        0,
    );
    let seq0 = u16_at(&rec0, 0x10);
    let mut list = Vec::new();
    for (kind, raw) in &attrs {
        list.extend(list_entry(*kind, 0, 0, seq0, u16_at(raw, 0x0E)));
        if *kind == 0x80 {
            list.extend(list_entry(0x80, head_clusters, EXTENSION, 1, 0));
        }
    }
    let mut list_attr = vec![0u8; 0x18];
    list_attr[0..4].copy_from_slice(&0x20u32.to_le_bytes());
    list_attr[0x0E..0x10].copy_from_slice(&7u16.to_le_bytes());
    list_attr[0x10..0x14].copy_from_slice(&(list.len() as u32).to_le_bytes());
    list_attr[0x14..0x16].copy_from_slice(&0x18u16.to_le_bytes());
    list_attr.extend(list);
    while list_attr.len() % 8 != 0 {
        list_attr.push(0);
    }
    let len = list_attr.len() as u32;
    list_attr[4..8].copy_from_slice(&len.to_le_bytes());

    let mut new_attrs = Vec::new();
    for (kind, raw) in &attrs {
        if *kind == 0x80 {
            new_attrs.push(head.clone());
        } else {
            new_attrs.push(raw.clone());
        }
        if *kind == 0x10 {
            new_attrs.push(list_attr.clone());
        }
    }
    let mut image = original.clone();
    let new0 = seal(&rec0, &new_attrs, 0, 1, 0);
    image[mft..mft + RECORD].copy_from_slice(&new0);
    let ext_at = mft + EXTENSION as usize * RECORD;
    let mut ext_header = unseal(&original[ext_at..ext_at + RECORD]);
    ext_header[0x10..0x12].copy_from_slice(&1u16.to_le_bytes());
    let ext = seal(&ext_header, &[tail], u64::from(seq0) << 48, 1, EXTENSION);
    image[ext_at..ext_at + RECORD].copy_from_slice(&ext);

    let path = scratch_dir("attribute-list").join("testfs1-attrlist.raw");
    std::fs::write(&path, &image).unwrap();

    // The oracle sees the attribute list and the split run list ...
    let istat = run_ok(oracle("istat", "sleuthkit").arg(&path).arg("0")).stdout;
    let istat = String::from_utf8_lossy(&istat);
    assert!(istat.contains("$ATTRIBUTE_LIST"), "{istat}");
    // ... and both tools list the same volume as from the untouched image.
    let expected: BTreeSet<String> = fls_entries(&path, 0).into_iter().map(|e| e.path).collect();
    let untouched: BTreeSet<String> = fls_entries(&corpus().join("images/ntfs-crate/testfs1"), 0)
        .into_iter()
        .map(|e| e.path)
        .collect();
    assert_same_paths(&expected, &untouched, "fls on the modified image");
    assert_same_paths(
        &toolmark_paths(&path),
        &expected,
        "toolmark on the modified image",
    );
    let ours = run_ok(toolmark().arg("cat").arg(&path).arg("$MFT")).stdout;
    let icat = run_ok(oracle("icat", "sleuthkit").arg(&path).arg("0")).stdout;
    assert_eq!(sha256(&ours), sha256(&icat));
}
