//! Checks of the shipped rules against the facts they were made from.
//!
//! The oracle is `../shared/jpcert/traces.toml` (JPCERT/CC sheet facts, extracted
//! independently of this code), read at test time from `$TOOLMARK_SHARED/jpcert` or
//! `<workspace>/../shared/jpcert`. Each spot check takes a value from that file and
//! asks whether our rules contain a trace that would match a record carrying it.

use std::path::PathBuf;

use super::*;

/// The artifact kinds the brief lists as collectable.
const COLLECTABLE: &[&str] = &[
    "evtx",
    "process",
    "prefetch",
    "registry",
    "file",
    "usn",
    "mft",
    "amcache",
    "shimcache",
    "bam",
    "userassist",
    "service",
    "task",
];

fn facts_path() -> PathBuf {
    let shared = std::env::var_os("TOOLMARK_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    shared.join("jpcert/traces.toml")
}

/// The facts file as a TOML table; fails the test when it is missing.
fn facts() -> toml::Table {
    let path = facts_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read the JPCERT facts at {} ({e}); set TOOLMARK_SHARED to the shared directory",
            path.display()
        )
    });
    text.parse().expect("traces.toml is valid TOML")
}

fn fact_tools(facts: &toml::Table) -> Vec<&toml::Table> {
    facts["tool"]
        .as_array()
        .expect("[[tool]] array")
        .iter()
        .map(|t| t.as_table().expect("tool table"))
        .collect()
}

fn fact_tool<'a>(facts: &'a toml::Table, id: &str) -> &'a toml::Table {
    fact_tools(facts)
        .into_iter()
        .find(|t| t["id"].as_str() == Some(id))
        .unwrap_or_else(|| panic!("tool {id} missing from traces.toml"))
}

fn evidence(tool: &toml::Table) -> Vec<&toml::Table> {
    tool["evidence"]
        .as_array()
        .expect("evidence array")
        .iter()
        .map(|e| e.as_table().expect("evidence table"))
        .collect()
}

fn s<'a>(t: &'a toml::Table, key: &str) -> Option<&'a str> {
    t.get(key).and_then(|v| v.as_str())
}

/// Evidence items of `tool` with the given host and event ID.
fn events<'a>(tool: &'a toml::Table, host: &str, event_id: i64) -> Vec<&'a toml::Table> {
    evidence(tool)
        .into_iter()
        .filter(|e| {
            s(e, "host") == Some(host)
                && e.get("event_id").and_then(|v| v.as_integer()) == Some(event_id)
        })
        .collect()
}

/// A concrete value that a sheet glob describes: each wildcard becomes a sample text.
fn instance(glob: &str) -> String {
    glob.replace('*', "X1")
        .replace('?', "Y")
        .replace("{tool_path}", "C:\\t\\tool.exe")
        .replace("{tool_exe}", "tool.exe")
}

fn kb() -> KnowledgeBase {
    match load_embedded() {
        Ok(kb) => kb,
        Err(e) => panic!("embedded rules do not load:\n{e}"),
    }
}

fn tool<'a>(kb: &'a KnowledgeBase, id: &str) -> &'a Tool {
    kb.tool(id).unwrap_or_else(|| panic!("no rules for {id}"))
}

/// An event record as the sheet row describes it: every field glob instantiated.
fn record(row: &toml::Table) -> Vec<(String, String)> {
    row.get("fields")
        .and_then(|f| f.as_table())
        .map(|f| {
            f.iter()
                .filter_map(|(k, v)| {
                    let v = v.as_str().or_else(|| v.as_array()?.first()?.as_str())?;
                    Some((k.clone(), instance(v)))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Would some evtx trace of `tool` (role, channel, event, strength) accept `record`?
/// A trace accepts a record when each of the trace's fields is in the record and one
/// of its globs matches (the matcher's rule); placeholders stand for `tool.exe`.
fn has_evtx(
    tool: &Tool,
    role: Role,
    channel: &str,
    event: u32,
    strength: Option<Strength>,
    record: &[(String, String)],
) -> bool {
    tool.traces.iter().any(|t| {
        let Artifact::Evtx {
            channel: ch,
            event_id,
            fields,
        } = &t.artifact
        else {
            return false;
        };
        t.role == role
            && strength.is_none_or(|st| st == t.strength)
            && ch.matches(channel)
            && *event_id == event
            && fields.iter().all(|(name, alts)| {
                record.iter().any(|(k, v)| {
                    k == name && alts.iter().any(|g| g.resolve(Some("tool.exe")).matches(v))
                })
            })
    })
}

#[test]
fn every_sheet_tool_has_rules_with_an_anchor() {
    let facts = facts();
    let kb = kb();
    let ids: Vec<&str> = fact_tools(&facts)
        .iter()
        .map(|t| t["id"].as_str().expect("id"))
        .collect();
    // 60 is the tool count stated by the facts file itself ([meta] tool_count).
    let stated = facts["meta"]["tool_count"]
        .as_integer()
        .expect("tool_count");
    assert_eq!(ids.len() as i64, stated);
    assert_eq!(ids.len(), 60);
    assert_eq!(
        kb.tools.len(),
        60,
        "rules must cover exactly the sheet's tools"
    );
    for id in &ids {
        let tool = tool(&kb, id);
        assert!(tool.anchors().count() >= 1, "{id} has no anchor");
        let category = fact_tool(&facts, id)["category"]
            .as_str()
            .expect("category");
        assert_eq!(tool.category.as_str(), category, "{id} category");
    }
}

/// Every trace's `sheet` citation names an item of the same tool in the facts file,
/// from that sheet, on the same host, of the same artifact kind (a `service` trace
/// restates a 7045 item) and, for events, with the same event ID. Traces without a
/// citation are our additions (with a `note`) or execution-artifact and acting-process
/// traces derived from the tool's executables.
#[test]
fn sheet_citations_resolve_to_the_items_they_restate() {
    let (facts, kb) = (facts(), kb());
    let mut cited = 0;
    for tool in &kb.tools {
        let items = evidence(fact_tool(&facts, &tool.id));
        for t in &tool.traces {
            let kind = t.artifact.kind().as_str();
            if t.sheet.is_empty() {
                let derived = matches!(
                    kind,
                    "prefetch" | "amcache" | "shimcache" | "bam" | "userassist" | "process"
                );
                assert!(
                    t.note.is_some() || derived,
                    "{} line {}: no citation, no note",
                    tool.id,
                    t.line
                );
                continue;
            }
            cited += 1;
            for c in &t.sheet {
                let (sheet, n) = c.split_once(':').expect("<sheet>:<n>");
                let n: usize = n.parse().expect("item number");
                let item = items
                    .get(n.wrapping_sub(1))
                    .unwrap_or_else(|| panic!("{} line {}: no item {c}", tool.id, t.line));
                let at = format!("{} line {}: {c}", tool.id, t.line);
                assert_eq!(s(item, "sheet"), Some(sheet), "{at}");
                assert_eq!(s(item, "host"), Some(t.role.as_str()), "{at}");
                let item_kind = s(item, "artifact").expect("artifact");
                let ids: Vec<i64> = match item.get("event_id") {
                    Some(toml::Value::Integer(i)) => vec![*i],
                    Some(toml::Value::Array(a)) => {
                        a.iter().filter_map(|v| v.as_integer()).collect()
                    }
                    _ => Vec::new(),
                };
                match &t.artifact {
                    Artifact::Evtx { event_id, .. } => {
                        assert_eq!(item_kind, "evtx", "{at}");
                        assert!(ids.contains(&i64::from(*event_id)), "{at}: {ids:?}");
                    }
                    Artifact::Service { .. } => assert!(ids.contains(&7045), "{at}"),
                    _ => assert_eq!(item_kind, kind, "{at}"),
                }
            }
        }
    }
    // Most traces restate a sheet item; a test over none would prove nothing.
    assert!(cited > 1000, "{cited} cited traces");
}

#[test]
fn anchors_use_collectable_artifacts_only() {
    let kb = kb();
    for tool in &kb.tools {
        for t in tool.anchors() {
            let kind = t.artifact.kind().as_str();
            assert!(
                COLLECTABLE.contains(&kind),
                "{} line {}: {kind}",
                tool.id,
                t.line
            );
        }
    }
}

#[test]
fn success_traces_are_supporting_and_placeholders_are_known() {
    let kb = kb();
    for tool in &kb.tools {
        for t in &tool.traces {
            if t.success {
                assert_eq!(
                    t.strength,
                    Strength::Supporting,
                    "{} line {}",
                    tool.id,
                    t.line
                );
            }
        }
        for exe in &tool.specific_executables {
            assert!(tool.executables.contains(exe), "{}: {exe}", tool.id);
        }
        // A placeholder with no known name can only be resolved by the analyst: the
        // tool must say so in its note.
        let uses_placeholder = tool
            .traces
            .iter()
            .any(|t| t.artifact.globs().iter().any(|g| g.has_placeholder()));
        if uses_placeholder && tool.specific_executables.is_empty() {
            assert!(
                tool.note.is_some(),
                "{}: placeholders without names or note",
                tool.id
            );
        }
    }
}

#[test]
fn psexec_service_and_prefetch_anchors() {
    let facts = facts();
    let kb = kb();
    let sheet = fact_tool(&facts, "psexec");
    let rules = tool(&kb, "psexec");
    let installs = events(sheet, "destination", 7045);
    assert!(
        !installs.is_empty(),
        "sheet lists a 7045 on the destination"
    );
    for e in installs {
        let name = s(e["fields"].as_table().unwrap(), "ServiceName").unwrap();
        assert_eq!(name, "PSEXESVC");
        assert!(
            has_evtx(
                rules,
                Role::Destination,
                "System",
                7045,
                Some(Strength::Anchor),
                &record(e)
            ),
            "no destination anchor on System 7045 ServiceName {name}"
        );
    }
    let prefetch: Vec<&str> = evidence(sheet)
        .into_iter()
        .filter(|e| s(e, "artifact") == Some("prefetch") && s(e, "host") == Some("destination"))
        .filter_map(|e| s(e, "file"))
        .filter(|f| f.contains("PSEXESVC"))
        .collect();
    assert!(prefetch.contains(&"PSEXESVC.EXE-*.pf"), "{prefetch:?}");
    let sample = instance("PSEXESVC.EXE-*.pf");
    assert!(rules.anchors().any(|t| t.role == Role::Destination
        && matches!(&t.artifact, Artifact::Prefetch { pattern } if pattern.matches(&sample))));
    assert!(rules.anchors().any(|t| matches!(&t.artifact,
        Artifact::Service { name, .. } if name.matches("PSEXESVC"))));
    // The EULA value is written whatever the binary is called.
    assert!(rules.anchors().any(|t| matches!(&t.artifact,
        Artifact::Registry { key, value: Some(v), .. }
            if key.matches("Software\\Sysinternals\\PsExec") && v.matches("EulaAccepted"))));
}

#[test]
fn success_indicators_keep_their_status() {
    let kb = kb();
    let psexec = tool(&kb, "psexec");
    let ok = |t: &Trace, event: u32, name: &str| {
        t.success
            && matches!(&t.artifact, Artifact::Evtx { event_id, fields, .. }
                if *event_id == event && fields.get(name).is_some_and(|g| g.iter().any(|g| g.matches("0x0"))))
    };
    assert!(
        psexec.traces.iter().any(|t| ok(t, 4689, "Status")),
        "psexec 4689 Status 0x0"
    );
    assert!(
        tool(&kb, "bits").traces.iter().any(|t| ok(t, 60, "hr")),
        "BITS 60 hr 0x0"
    );
    for tool in &kb.tools {
        for t in tool.traces.iter().filter(|t| t.success) {
            let Artifact::Evtx { fields, .. } = &t.artifact else {
                panic!(
                    "{} line {}: success trace on a non-event artifact",
                    tool.id, t.line
                );
            };
            assert!(
                fields.contains_key("Status") || fields.contains_key("hr"),
                "{} line {}: success trace without a status field",
                tool.id,
                t.line
            );
        }
    }
}

#[test]
fn wevtutil_log_clear_events() {
    let facts = facts();
    let kb = kb();
    let sheet = fact_tool(&facts, "wevtutil");
    let rules = tool(&kb, "wevtutil");
    for (event, channel) in [(1102, "Security"), (104, "System")] {
        assert!(
            !events(sheet, "destination", event).is_empty(),
            "sheet has {event}"
        );
        assert!(
            has_evtx(
                rules,
                Role::Destination,
                channel,
                event as u32,
                Some(Strength::Anchor),
                &[]
            ),
            "no anchor for {channel} {event}"
        );
    }
}

#[test]
fn schtasks_task_registration_events() {
    let facts = facts();
    let kb = kb();
    let sheet = fact_tool(&facts, "schtasks");
    let rules = tool(&kb, "schtasks");
    for (event, channel) in [
        (106, "Microsoft-Windows-TaskScheduler/Operational"),
        (4698, "Security"),
    ] {
        let rows = events(sheet, "destination", event);
        assert!(
            rows.iter().any(|e| s(e, "channel") == Some(channel)),
            "sheet has {channel} {event}"
        );
        let row = rows
            .iter()
            .find(|e| s(e, "channel") == Some(channel))
            .unwrap();
        assert!(
            has_evtx(
                rules,
                Role::Destination,
                channel,
                event as u32,
                None,
                &record(row)
            ),
            "{channel} {event}"
        );
    }
    // The source command line is an anchor: schtasks.exe is the tool itself.
    let create = events(sheet, "source", 4688)
        .into_iter()
        .find(|e| {
            e.get("fields")
                .and_then(|f| s(f.as_table()?, "CommandLine"))
                .is_some_and(|c| c.contains("/Create"))
        })
        .expect("sheet has a schtasks /Create command line");
    assert!(has_evtx(
        rules,
        Role::Source,
        "Security",
        4688,
        Some(Strength::Anchor),
        &record(create)
    ));
}

#[test]
fn lsass_access_by_credential_dumpers() {
    let facts = facts();
    let kb = kb();
    let sysmon = "Microsoft-Windows-Sysmon/Operational";
    let mut checked = Vec::new();
    for sheet in fact_tools(&facts) {
        let id = sheet["id"].as_str().unwrap();
        for e in events(sheet, "source", 10) {
            let Some(target) = e
                .get("fields")
                .and_then(|f| s(f.as_table()?, "TargetImage"))
            else {
                continue;
            };
            let source = e
                .get("fields")
                .and_then(|f| s(f.as_table()?, "SourceImage"))
                .unwrap_or("");
            if !target.to_lowercase().ends_with("\\lsass.exe") || !source.contains("{tool_path}") {
                continue;
            }
            let rules = tool(&kb, id);
            assert!(
                has_evtx(
                    rules,
                    Role::Source,
                    sysmon,
                    10,
                    Some(Strength::Anchor),
                    &record(e)
                ),
                "{id}: no Sysmon 10 anchor for {target}"
            );
            checked.push(id);
        }
    }
    for id in ["mimikatz_sekurlsa_logonpasswords", "wce", "lslsass"] {
        assert!(checked.contains(&id), "{id} not checked: {checked:?}");
    }
    // The mimikatz credential module names lsass explicitly, not only "any access".
    let rules = tool(&kb, "mimikatz_sekurlsa_logonpasswords");
    assert!(rules.anchors().any(|t| matches!(&t.artifact,
        Artifact::Evtx { event_id: 10, fields, .. }
            if fields.get("TargetImage").is_some_and(|g| g.iter().any(|g| g.matches("C:\\Windows\\system32\\lsass.exe"))))));
}

#[test]
fn wmiexec_share_and_command_lines() {
    let facts = facts();
    let kb = kb();
    let sheet = fact_tool(&facts, "wmiexec_vbs");
    let rules = tool(&kb, "wmiexec_vbs");
    for event in [5142, 5144] {
        for e in events(sheet, "destination", event) {
            let share = s(e["fields"].as_table().unwrap(), "ShareName").unwrap();
            assert!(share.ends_with("WMI_SHARE"));
            assert!(
                has_evtx(
                    rules,
                    Role::Destination,
                    "Security",
                    event as u32,
                    Some(Strength::Anchor),
                    &record(e)
                ),
                "{event} {share}"
            );
        }
    }
    let rows: Vec<&toml::Table> = events(sheet, "destination", 4688)
        .into_iter()
        .filter(|e| {
            e.get("fields")
                .and_then(|f| s(f.as_table()?, "CommandLine"))
                .is_some_and(|c| c.starts_with("cmd.exe /c") && c.contains("wmi.dll"))
        })
        .collect();
    assert!(!rows.is_empty());
    for row in rows {
        let rec = record(row);
        assert!(
            has_evtx(
                rules,
                Role::Destination,
                "Security",
                4688,
                Some(Strength::Anchor),
                &rec
            ),
            "{rec:?}"
        );
    }
    // The output file name alone, in a Sysmon 1 command line, is enough.
    let sysmon = "Microsoft-Windows-Sysmon/Operational";
    let rec = vec![
        (
            "Image".to_string(),
            "C:\\Windows\\System32\\cmd.exe".to_string(),
        ),
        (
            "CommandLine".to_string(),
            "cmd.exe /c whoami > C:\\windows\\temp\\wmi.dll 2>&1".to_string(),
        ),
        (
            "ParentImage".to_string(),
            "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe".to_string(),
        ),
        (
            "ParentCommandLine".to_string(),
            "C:\\Windows\\system32\\wbem\\wmiprvse.exe -secured -Embedding".to_string(),
        ),
    ];
    assert!(has_evtx(
        rules,
        Role::Destination,
        sysmon,
        1,
        Some(Strength::Anchor),
        &rec
    ));
}

#[test]
fn wce_helper_dll() {
    let facts = facts();
    let kb = kb();
    for id in ["wce", "remotelogin_wce"] {
        let sheet = fact_tool(&facts, id);
        let names: Vec<&str> = evidence(sheet)
            .into_iter()
            .filter(|e| s(e, "artifact") == Some("usn"))
            .filter_map(|e| s(e, "file"))
            .filter(|f| f.eq_ignore_ascii_case("wceaux.dll"))
            .collect();
        assert!(!names.is_empty(), "{id}: sheet has a wceaux.dll USN row");
        assert!(
            tool(&kb, id).anchors().any(|t| matches!(&t.artifact,
            Artifact::Usn { name, .. } if name.matches(names[0]))),
            "{id}"
        );
    }
}

#[test]
fn ntdsutil_ifm_command_line() {
    let facts = facts();
    let kb = kb();
    let sheet = fact_tool(&facts, "ntdsutil");
    let rules = tool(&kb, "ntdsutil");
    let lines: Vec<&str> = evidence(sheet)
        .into_iter()
        .filter_map(|e| s(e.get("fields")?.as_table()?, "CommandLine"))
        .filter(|c| c.contains("ifm"))
        .collect();
    assert!(!lines.is_empty(), "sheet has ifm command lines");
    for line in lines {
        let sample = instance(line);
        let hit = rules.anchors().any(|t| match &t.artifact {
            Artifact::Evtx { fields, .. } => fields
                .get("CommandLine")
                .is_some_and(|alts| alts.iter().any(|g| g.matches(&sample))),
            _ => false,
        });
        assert!(hit, "no anchor accepts {sample}");
    }
}

#[test]
fn summary_adds_up() {
    let kb = kb();
    let summary = kb.summary();
    assert_eq!(summary.tools.len(), kb.tools.len());
    assert_eq!(
        summary.categories.iter().map(|c| c.tools).sum::<usize>(),
        kb.tools.len()
    );
    let total = &summary.total;
    assert_eq!(total.anchors + total.supporting, total.traces);
    assert_eq!(
        total.anchors_by_artifact.values().sum::<usize>(),
        total.anchors
    );
    assert_eq!(
        total.supporting_by_artifact.values().sum::<usize>(),
        total.supporting
    );
    assert_eq!(
        summary.tools.iter().map(|t| t.counts.traces).sum::<usize>(),
        total.traces
    );
    // Eleven categories in the facts file's category table, all used.
    assert_eq!(summary.categories.len(), Category::ALL.len());
    let json = serde_json::to_string(&summary).unwrap();
    assert!(
        json.contains("\"evtx\""),
        "artifact kinds serialise by name"
    );
}

#[test]
fn load_path_reports_missing_file() {
    let err = load_path(std::path::Path::new("/nonexistent/rules.toml")).unwrap_err();
    assert!(matches!(err, RulesError::Io { .. }));
    assert!(err.problems().is_empty());
}

/// The shipped rules are exactly what the generator makes from the facts, so hand
/// review lives in one place (the generator's TOOLS table) and cannot drift: one file
/// per tool plus the list that embeds them, byte for byte.
#[test]
fn embedded_rules_are_regenerated_output() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let script = root.join("src/traces/tools/build_rules.py");
    let out_dir = std::env::temp_dir().join(format!("toolmark-rules-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out_dir);
    let out = std::process::Command::new("python3")
        .arg(&script)
        .arg(facts_path())
        .arg("--out")
        .arg(&out_dir)
        .output()
        .unwrap_or_else(|e| panic!("python3 is needed to run {}: {e}", script.display()));
    assert!(
        out.status.success(),
        "generator failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listing = |dir: &std::path::Path| {
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .map(|p| {
                let name = p.file_name().unwrap().to_string_lossy().to_string();
                (name, std::fs::read(&p).unwrap())
            })
            .collect();
        files.sort();
        files
    };
    let (generated, shipped) = (listing(&out_dir), listing(&root.join("src/traces/rules")));
    let _ = std::fs::remove_dir_all(&out_dir);
    assert_eq!(generated.len(), 61, "60 tool files and mod.rs");
    assert!(
        generated == shipped,
        "src/traces/rules/ differs from the generator's output; run \
         python3 src/traces/tools/build_rules.py"
    );
}

/// Each embedded file holds exactly the tool it is named after.
#[test]
fn one_rules_file_per_tool() {
    assert_eq!(EMBEDDED_RULES.len(), 60);
    for (id, text) in EMBEDDED_RULES {
        let kb = load_from_str(text).unwrap_or_else(|e| panic!("{id}: {e}"));
        let ids: Vec<&str> = kb.tools.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, [*id]);
    }
}

/// `--rules DIR` merges the directory's files; a tool defined in two files is refused.
#[test]
fn a_directory_of_rules_files_is_one_rule_set() {
    let dir = std::env::temp_dir().join(format!("toolmark-rules-dir-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let text = |id: &str| EMBEDDED_RULES.iter().find(|(i, _)| *i == id).unwrap().1;
    std::fs::write(dir.join("psexec.toml"), text("psexec")).unwrap();
    std::fs::write(dir.join("bits.toml"), text("bits")).unwrap();
    std::fs::write(dir.join("notes.txt"), "not a rules file").unwrap();
    let kb = load_path(&dir).unwrap();
    let mut ids: Vec<&str> = kb.tools.iter().map(|t| t.id.as_str()).collect();
    ids.sort();
    assert_eq!(ids, ["bits", "psexec"]);
    std::fs::write(dir.join("psexec-copy.toml"), text("psexec")).unwrap();
    let err = load_path(&dir).unwrap_err();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        err.problems()[0]
            .message
            .contains("`psexec` is already defined"),
        "{err}"
    );
}

/// The figures of README.md's "Counts (this commit)" are the embedded rules' own:
/// `KnowledgeBase::summary()` (totals and the per-artifact table) and the anchors by
/// logging. Regenerating the rules without updating the README fails here.
#[test]
fn readme_counts_match_the_embedded_rules() {
    let readme = include_str!("README.md");
    let section = readme
        .split("## Counts (this commit)")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("README.md has a Counts (this commit) section");
    let kb = kb();
    let total = kb.summary().total;
    let number = |s: &str| s.replace(',', "").parse::<usize>().ok();
    // The two prose lines before the table.
    let numbers: Vec<usize> = section
        .lines()
        .take_while(|l| !l.starts_with('|'))
        .flat_map(|l| {
            l.split(|c: char| !(c.is_ascii_digit() || c == ','))
                .filter_map(number)
                .collect::<Vec<_>>()
        })
        .collect();
    let mut by_logging = [0usize; 4];
    for trace in kb.tools.iter().flat_map(|t| &t.traces) {
        if trace.strength == Strength::Anchor {
            by_logging[match trace.logging {
                Logging::Default => 0,
                Logging::Sysmon => 1,
                Logging::Audit(_) => 2,
                Logging::PowerShell(_) => 3,
            }] += 1;
        }
    }
    let expected = [
        kb.tools.len(),
        total.traces,
        total.anchors,
        total.supporting,
        total.success,
        by_logging[0],
        by_logging[1],
        by_logging[2],
        by_logging[3],
        kb.tools
            .iter()
            .flat_map(|t| &t.traces)
            .filter(|t| !t.unless.is_empty())
            .count(),
    ];
    assert_eq!(
        numbers, expected,
        "README.md counts vs summary(): [tools, traces, anchors, supporting, success, \
         default, sysmon, audit, powershell, with unless]"
    );
    for kind in ArtifactKind::ALL {
        let row = section
            .lines()
            .find(|l| l.starts_with(&format!("| {} |", kind.as_str())))
            .unwrap_or_else(|| panic!("README.md has no row for {}", kind.as_str()));
        let cells: Vec<usize> = row.split('|').filter_map(|c| number(c.trim())).collect();
        let want = [
            total.anchors_by_artifact.get(kind).copied().unwrap_or(0),
            total.supporting_by_artifact.get(kind).copied().unwrap_or(0),
        ];
        assert_eq!(cells, want, "README.md row for {}", kind.as_str());
    }
}
