//! Key LastWrite times of every clean corpus hive against `hivexml` (libhivex-bin),
//! an implementation independent of libregf: it prints each node's name and mtime
//! (whole seconds) in stored order, and the base block's last-written time.

mod common;

use common::{corpus, read};
use regf::Hive;

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// (hive mtime, [(depth, name, mtime)] in document order).
fn hivexml(path: &std::path::Path) -> (String, Vec<(usize, String, String)>) {
    let out = std::process::Command::new("hivexml")
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("hivexml (Debian package libhivex-bin) is required: {e}"));
    assert!(out.status.success(), "hivexml failed on {}", path.display());
    let xml = String::from_utf8_lossy(&out.stdout);
    let mut hive_mtime = String::new();
    let mut nodes: Vec<(usize, String, String)> = Vec::new();
    let mut depth = 0usize;
    let mut awaiting_mtime: Option<usize> = None;
    let mut rest: &str = &xml;
    while let Some(lt) = rest.find('<') {
        rest = &rest[lt..];
        if let Some(tail) = rest.strip_prefix("<node ") {
            let name_start = tail.find("name=\"").expect("node name") + 6;
            let name_len = tail[name_start..].find('"').expect("name end");
            nodes.push((
                depth,
                unescape(&tail[name_start..name_start + name_len]),
                String::new(),
            ));
            awaiting_mtime = Some(nodes.len() - 1);
            depth += 1;
        } else if rest.starts_with("</node>") {
            depth -= 1;
        } else if let Some(tail) = rest.strip_prefix("<mtime>") {
            let text = tail[..tail.find('<').expect("mtime end")].to_owned();
            match awaiting_mtime.take() {
                Some(i) => nodes[i].2 = text,
                None if hive_mtime.is_empty() => hive_mtime = text,
                None => {}
            }
        }
        rest = &rest[1..];
    }
    (hive_mtime, nodes)
}

fn seconds(ft: regf::Filetime) -> String {
    let s = ft.to_string();
    format!("{}Z", s.get(..19).unwrap_or(&s))
}

fn check(rel: &str) {
    let path = corpus().join(rel);
    let (hive_mtime, theirs) = hivexml(&path);
    let hive = Hive::from_bytes(read(rel)).expect("hive");
    assert_eq!(
        seconds(hive.base_block().last_written),
        hive_mtime,
        "{rel}: base block time"
    );
    let mut ours = Vec::new();
    let problems = hive
        .walk(|p, key| {
            let depth = if p.is_empty() {
                0
            } else {
                p.matches('\\').count() + 1
            };
            ours.push((depth, key.name(), seconds(key.last_written())));
        })
        .expect("walk");
    assert!(problems.is_empty());
    assert_eq!(ours.len(), theirs.len(), "{rel}: key count vs hivexml");
    for (o, t) in ours.iter().zip(&theirs) {
        assert_eq!(o, t, "{rel}");
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
