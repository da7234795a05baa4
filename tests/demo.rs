//! The README's first command works on a fresh clone: `toolmark scan
//! samples/demo.E01 -o out` with no corpus beside the clone and no test images,
//! and finds what the logs inside the demo image are labelled with in
//! eval/labels.toml (labels written from evtxexport dumps, not from toolmark).

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use common::*;

/// The corpus logs demo.E01 holds (images/demo.sh, samples/README.md).
const DEMO_LOGS: [&str; 3] = [
    "ID4688,4697,5140-5145 PSexec remote execution + admin share.evtx",
    "ID4688,5140,5145-WMIexec execution via SMB (GLOBAL).evtx",
    "ID4688-4698 Persistent scheduled task with SYSTEM privileges creation.evtx",
];

/// `tool:role` labels of the demo's logs, from eval/labels.toml.
fn labelled() -> BTreeSet<String> {
    let text = std::fs::read_to_string(root().join("eval/labels.toml")).unwrap();
    let labels: toml::Value = toml::from_str(&text).unwrap();
    let mut out = BTreeSet::new();
    for log in labels["log"].as_array().unwrap() {
        let path = log["path"].as_str().unwrap();
        if DEMO_LOGS
            .iter()
            .any(|name| path.ends_with(&format!("/{name}")))
        {
            for label in log["labels"].as_array().unwrap() {
                out.insert(label.as_str().unwrap().to_string());
            }
        }
    }
    out
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?} failed");
}

#[test]
fn a_fresh_clone_scans_the_demo_image_and_finds_its_attacks() {
    let expected = labelled();
    assert_eq!(expected.len(), 4, "labels of the demo logs: {expected:?}");

    // A clone of this commit in an empty folder: no ../shared beside it.
    let base = std::env::temp_dir().join(format!("toolmark-fresh-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).unwrap();
    let clone = base.join("toolmark");
    let head = Command::new("git")
        .arg("-C")
        .arg(root())
        .args(["rev-parse", "HEAD"])
        .output()
        .unwrap();
    let head = String::from_utf8(head.stdout).unwrap();
    git(
        &base,
        &[
            "clone",
            "--quiet",
            "--no-checkout",
            root().to_str().unwrap(),
            "toolmark",
        ],
    );
    git(&clone, &["checkout", "--quiet", head.trim()]);
    assert!(!base.join("shared").exists());
    let demo = clone.join("samples/demo.E01");
    let size = std::fs::metadata(&demo)
        .expect("samples/demo.E01 is committed")
        .len();
    assert!(size <= 3 << 20, "demo.E01 is {size} bytes, more than 3 MiB");

    // The README's command, with the binary this test run built (building again
    // in the clone would take minutes and prove nothing more about the data).
    let run = toolmark()
        .current_dir(&clone)
        .env_remove("TOOLMARK_CORPUS")
        .env_remove("TOOLMARK_IMAGES")
        .args(["scan", "samples/demo.E01", "-o", "out"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success(),
        "scan failed ({}): {stderr}",
        run.status
    );
    assert!(
        !String::from_utf8_lossy(&run.stdout).trim().is_empty(),
        "scan printed nothing"
    );

    let (header, rows) = read_csv(&clone.join("out/demo/findings.csv"));
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let found: BTreeSet<String> = rows
        .iter()
        .map(|r| format!("{}:{}", r[col("tool")], r[col("role")]))
        .collect();
    let missing: Vec<&String> = expected.difference(&found).collect();
    assert!(
        missing.is_empty(),
        "not found: {missing:?}; found {found:?}"
    );
    // Named as its logs call it, not after the image file.
    assert!(rows
        .iter()
        .all(|r| r[col("host")] == "srvdefender01.offsec.lan"));
    std::fs::remove_dir_all(&base).unwrap();
}
