//! `toolmark rules`: the summary of the embedded knowledge base, and `--check`
//! reporting a broken rules file by line.

mod common;

use common::*;

#[test]
fn summary_lists_all_sixty_tools() {
    let out = run_ok(toolmark().args(["rules", "--json"])).stdout;
    let summary: serde_json::Value = serde_json::from_slice(&out).unwrap();
    // ../shared/jpcert/traces.toml: tool_count = 60.
    assert_eq!(summary["tools"].as_array().unwrap().len(), 60);
    assert!(summary["tools"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["counts"]["anchors"].as_u64().unwrap() > 0));
    // The shipped rules, one file per tool: each file alone, and the directory.
    let shipped = root().join("src/traces/rules");
    for path in [shipped.join("psexec.toml"), shipped] {
        let out = run_ok(toolmark().arg("rules").arg("--check").arg(&path)).stdout;
        assert!(String::from_utf8_lossy(&out).contains("valid"));
    }
}

#[test]
fn check_reports_problems_by_line() {
    let dir = scratch_dir("rules-check");
    let path = dir.join("broken.toml");
    std::fs::write(
        &path,
        "format = 1\n\n[[tool]]\nid = \"x\"\nname = \"X\"\ncategory = \"nonsense\"\n",
    )
    .unwrap();
    let out = toolmark()
        .arg("rules")
        .arg("--check")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("broken.toml:6:"), "{stderr}");
    assert!(stderr.contains("unknown category"), "{stderr}");
    assert!(stderr.contains("has no anchor"), "{stderr}");
}
