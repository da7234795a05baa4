//! The one-pass pipeline seen from outside: `toolmark match` re-judges a scan from its
//! observations file and gets the scan's own findings (and names a damaged
//! manifest instead of reading it as empty); `--rules` drives registry
//! collection too; commands end quietly on a closed pipe.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{built_images, read_csv, scan_into, scratch_dir, toolmark};

fn image() -> PathBuf {
    built_images().join("win10-aptsim.E01")
}

fn bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn match_reproduces_the_scans_findings_from_the_observations_file() {
    let out = scratch_dir("pipeline-match");
    let result = scan_into(&[image()], &out, &["--artifacts", "evtx,prefetch,registry"]);
    assert!(result.status.code().is_some_and(|c| c <= 2));
    let dir = out.join("win10-aptsim");
    let judged = ["findings.csv", "evidence.csv", "host_profile.csv"];
    let before: Vec<Vec<u8>> = judged.iter().map(|f| bytes(&dir.join(f))).collect();
    let lateral = bytes(&out.join("lateral_movement.csv"));
    let (_, findings) = read_csv(&dir.join("findings.csv"));
    assert!(
        findings.len() >= 5,
        "the host has tool findings to reproduce"
    );
    // Make sure match really rewrites: remove what the scan wrote first.
    for f in judged {
        std::fs::remove_file(dir.join(f)).unwrap();
    }
    std::fs::remove_file(out.join("lateral_movement.csv")).unwrap();
    let status = toolmark().arg("match").arg(&out).status().unwrap();
    assert!(status.success());
    for (f, old) in judged.iter().zip(&before) {
        assert!(bytes(&dir.join(f)) == *old, "{f} differs after match");
    }
    assert!(bytes(&out.join("lateral_movement.csv")) == lateral);

    // A damaged manifest is named, never read as a host without facts or errors.
    let manifest = dir.join("manifest.json");
    let whole = bytes(&manifest);
    std::fs::write(&manifest, &whole[..whole.len() / 2]).unwrap();
    let damaged = toolmark().arg("match").arg(&out).output().unwrap();
    let stderr = String::from_utf8_lossy(&damaged.stderr);
    assert!(!damaged.status.success(), "{stderr}");
    assert!(
        stderr.contains("manifest.json: damaged"),
        "the manifest is named: {stderr}"
    );
}

#[test]
fn a_custom_rules_file_drives_registry_collection_and_matching() {
    let rules = scratch_dir("pipeline-rules").join("custom.toml");
    std::fs::create_dir_all(rules.parent().unwrap()).unwrap();
    // A tool the built-in rules do not know, betrayed only by a key every Windows
    // SYSTEM hive has (so only a rules file that reaches registry collection finds it).
    std::fs::write(
        &rules,
        r"format = 1

[[tool]]
id = 'test_registry_tool'
name = 'Test registry tool'
category = 'command_execution'
executables = []
specific_executables = []
aliases = []

[[tool.trace]]
role = 'source'
strength = 'anchor'
logging = 'default'
artifact = 'registry'
hive = 'SYSTEM'
key = 'ControlSet*\Control\ComputerName\ComputerName'
value = 'ComputerName'
",
    )
    .unwrap();
    let out = scratch_dir("pipeline-rules").join("out");
    let rules_arg = rules.display().to_string();
    let result = scan_into(
        &[image()],
        &out,
        &["--artifacts", "registry", "--rules", &rules_arg],
    );
    assert!(result.status.code().is_some_and(|c| c <= 2));
    let (header, rows) = read_csv(&out.join("win10-aptsim/registry.csv"));
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let rule_rows: Vec<&Vec<String>> = rows
        .iter()
        .filter(|r| r[col("tools")] == "test_registry_tool")
        .collect();
    assert!(!rule_rows.is_empty(), "the custom trace was looked up");
    assert!(rule_rows.iter().all(|r| r[col("found")] == "true"));
    let (header, findings) = read_csv(&out.join("win10-aptsim/findings.csv"));
    let tool = header.iter().position(|h| h == "tool").unwrap();
    let tools: Vec<&str> = findings.iter().map(|r| r[tool].as_str()).collect();
    assert_eq!(tools, ["test_registry_tool"]);
}

/// A batch of two triage folders whose second image's manifest, or the batch's
/// own, is damaged: cut in half, or valid JSON that is no manifest (`{}`, which
/// match used to read as an image without host facts or errors, exit 0); or
/// whose second image's observations file is cut midway through a line, or at a
/// line boundary (which reads as a valid file: only the manifest's count tells).
/// Each fails `match` (exit 2) naming the file, before anything is written: the
/// first image's tables and the batch's are left as they were.
#[test]
fn match_writes_nothing_when_a_manifest_or_observations_file_is_damaged() {
    const LOGS: [(&str, &str); 2] = [
        (
            "host-a",
            "T1021.002-SMB Windows Admin Shares/ID4688-4648 Lateral movement with net use.evtx",
        ),
        (
            "host-b",
            "T1021.001-Remote Desktop Protocol/ID4688,4778,4779 RDP hijack direct.evtx",
        ),
    ];
    let root = scratch_dir("pipeline-manifest");
    let inputs = common::triage_folders(&root.join("in"), &LOGS);
    let out = root.join("out");
    assert_eq!(scan_into(&inputs, &out, &[]).status.code(), Some(0));
    // Files match rewrites, made recognisable: a failed match leaves them so.
    let rewritten = [
        out.join("host-a/findings.csv"),
        out.join("host-a/evidence.csv"),
        out.join("findings.csv"),
        out.join("lateral_movement.csv"),
    ];
    let observations = out.join("host-b/observations.jsonl");
    let lines = bytes(&observations);
    let last_line = lines[..lines.len() - 1]
        .iter()
        .rposition(|&b| b == b'\n')
        .unwrap()
        + 1;
    let mut damages: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    for manifest in [out.join("host-b/manifest.json"), out.join("manifest.json")] {
        let whole = bytes(&manifest);
        damages.push((manifest.clone(), whole[..whole.len() / 2].to_vec()));
        damages.push((manifest, b"{}".to_vec()));
    }
    damages.push((observations.clone(), lines[..lines.len() / 2].to_vec()));
    damages.push((observations, lines[..last_line].to_vec()));
    for (file, damage) in damages {
        let whole = bytes(&file);
        for file in &rewritten {
            std::fs::write(file, "left as it was\n").unwrap();
        }
        std::fs::write(&file, &damage).unwrap();
        let matched = toolmark().arg("match").arg(&out).output().unwrap();
        let stderr = String::from_utf8_lossy(&matched.stderr);
        assert_eq!(matched.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(&file.display().to_string()),
            "the damaged file is named: {stderr}"
        );
        for file in &rewritten {
            assert_eq!(bytes(file), b"left as it was\n", "{}", file.display());
        }
        std::fs::write(&file, &whole).unwrap();
    }
    // Every file whole again: match rewrites every table.
    let matched = toolmark().arg("match").arg(&out).output().unwrap();
    assert_eq!(matched.status.code(), Some(0));
    for file in &rewritten {
        assert_ne!(bytes(file), b"left as it was\n", "{}", file.display());
    }
}

#[test]
fn a_closed_pipe_ends_commands_quietly() {
    let bin = env!("CARGO_BIN_EXE_toolmark");
    // bash reports toolmark's own status (the left side of the pipe).
    let output = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "'{bin}' rules | head -1 >/dev/null; echo ${{PIPESTATUS[0]}}"
        ))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("Broken pipe"), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "0");
}
