//! findings.csv, evidence.csv and host_profile.csv for one image: the trace
//! knowledge base evaluated over every row the scan wrote.
//!
//! The matcher sees observations, not CSV; this module turns the image's tables
//! back into observations (streaming each file once), so the matcher judges exactly
//! what an analyst sees in the spreadsheets, and every piece of evidence points to a
//! table and a row key in them. Carved event records that a live log also holds
//! are left out: only new ones count.

use std::path::Path;

use serde_json::Value;

use crate::output::{restore, Table};
use crate::traces::matcher::{
    evaluate, ExecutionArtifact, HostProfile, Observation, Observed, Reference,
};
use crate::traces::{Hive, KnowledgeBase};

/// findings.csv columns.
pub const FINDINGS: [&str; 17] = [
    "image",
    "host",
    "tool",
    "tool_name",
    "category",
    "role",
    "first_time",
    "last_time",
    "confidence",
    "reason",
    "anchors",
    "supporting",
    "success",
    "missing",
    "evidence_count",
    "references",
    "finding",
];

/// evidence.csv columns.
pub const EVIDENCE: [&str; 11] = [
    "image", "host", "finding", "tool", "role", "strength", "trace", "artifact", "file", "locator",
    "time",
];

/// host_profile.csv columns.
pub const PROFILE: [&str; 7] = [
    "image",
    "host",
    "channel",
    "records",
    "first_time",
    "last_time",
    "note",
];

/// Counts of what was written, and the host's logging profile.
#[derive(Clone, Debug, Default)]
pub struct Written {
    /// Rows of findings.csv.
    pub findings: u64,
    /// Rows of evidence.csv.
    pub evidence: u64,
    /// What the host was set up to log, for manifest.json.
    pub profile: LoggingProfile,
}

/// The host's logging as its records show it (manifest.json `logging`).
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct LoggingProfile {
    /// Event log channels with records.
    pub channels: usize,
    /// Sysmon's channel has records.
    pub sysmon: bool,
    /// Audit subcategories with at least one Security event.
    pub audit_subcategories: Vec<String>,
    /// Log clears: `channel at time`.
    pub log_clears: Vec<String>,
}

/// Evaluates `kb` over the tables in `dir` and writes the three files there.
pub fn write(
    dir: &Path,
    image: &str,
    host: &str,
    kb: &KnowledgeBase,
    raw_cells: bool,
) -> Result<Written, String> {
    let observations = read_observations(dir);
    let profile = HostProfile::from_observations(observations.iter());
    let findings = evaluate(kb, observations, &profile);
    let mut f = Table::create(&dir.join("findings.csv"), &FINDINGS, raw_cells)
        .map_err(|e| e.to_string())?;
    let mut e = Table::create(&dir.join("evidence.csv"), &EVIDENCE, raw_cells)
        .map_err(|e| e.to_string())?;
    for (n, finding) in findings.iter().enumerate() {
        let id = format!("{image}#{}", n + 1);
        let missing: Vec<String> = finding
            .missing
            .iter()
            .map(|m| format!("{} ({})", m.trace, m.reason))
            .collect();
        let references: Vec<String> = finding
            .evidence
            .iter()
            .take(20)
            .map(|ev| {
                format!(
                    "{} {} {}",
                    ev.reference.artifact, ev.reference.file, ev.reference.locator
                )
            })
            .collect();
        let row = [
            image.to_string(),
            host.to_string(),
            finding.tool_id.clone(),
            finding.tool_name.clone(),
            finding.category.as_str().to_string(),
            finding.role.as_str().to_string(),
            finding.first_time.clone().unwrap_or_default(),
            finding.last_time.clone().unwrap_or_default(),
            finding.confidence.as_str().to_string(),
            finding.reason.clone(),
            format!("{} of {}", finding.matched_anchors, finding.total_anchors),
            format!(
                "{} of {}",
                finding.matched_supporting, finding.total_supporting
            ),
            finding.success.map(|s| s.to_string()).unwrap_or_default(),
            missing.join("; "),
            finding.evidence.len().to_string(),
            references.join("; "),
            id.clone(),
        ];
        f.row(&row).map_err(|e| e.to_string())?;
        for ev in &finding.evidence {
            let row = [
                image.to_string(),
                host.to_string(),
                id.clone(),
                finding.tool_id.clone(),
                finding.role.as_str().to_string(),
                format!("{:?}", ev.strength).to_lowercase(),
                ev.trace.clone(),
                ev.reference.artifact.clone(),
                ev.reference.file.clone(),
                ev.reference.locator.clone(),
                ev.time.clone().unwrap_or_default(),
            ];
            e.row(&row).map_err(|e| e.to_string())?;
        }
    }
    let mut p = Table::create(&dir.join("host_profile.csv"), &PROFILE, raw_cells)
        .map_err(|e| e.to_string())?;
    let audit: Vec<&str> = profile
        .audit_subcategories
        .iter()
        .map(String::as_str)
        .collect();
    for c in profile.channels.values() {
        let cleared: Vec<String> = profile
            .clears
            .iter()
            .filter(|l| l.channel.eq_ignore_ascii_case(&c.name))
            .map(|l| format!("cleared {}", l.time.clone().unwrap_or_default()))
            .collect();
        let mut note = cleared.join("; ");
        if c.name == "Security" && !audit.is_empty() {
            if !note.is_empty() {
                note.push_str("; ");
            }
            note.push_str(&format!("audit subcategories seen: {}", audit.join(", ")));
        }
        let row = [
            image.to_string(),
            host.to_string(),
            c.name.clone(),
            c.count.to_string(),
            c.first.clone().unwrap_or_default(),
            c.last.clone().unwrap_or_default(),
            note,
        ];
        p.row(&row).map_err(|e| e.to_string())?;
    }
    let sysmon = if profile.sysmon() {
        "present"
    } else {
        "not installed"
    };
    let row = [
        image.to_string(),
        host.to_string(),
        "(Sysmon)".into(),
        String::new(),
        String::new(),
        String::new(),
        sysmon.to_string(),
    ];
    p.row(&row).map_err(|e| e.to_string())?;
    p.finish().map_err(|e| e.to_string())?;
    let summary = LoggingProfile {
        channels: profile.channels.len(),
        sysmon: profile.sysmon(),
        audit_subcategories: profile.audit_subcategories.iter().cloned().collect(),
        log_clears: profile
            .clears
            .iter()
            .map(|c| format!("{} at {}", c.channel, c.time.clone().unwrap_or_default()))
            .collect(),
    };
    Ok(Written {
        findings: f.finish().map_err(|e| e.to_string())?,
        evidence: e.finish().map_err(|e| e.to_string())?,
        profile: summary,
    })
}

/// A CSV table read by column name.
struct Rows {
    header: Vec<String>,
    reader: csv::Reader<std::fs::File>,
}

impl Rows {
    fn open(path: &Path) -> Option<Rows> {
        let mut reader = csv::Reader::from_path(path).ok()?;
        let header = reader.headers().ok()?.iter().map(str::to_string).collect();
        Some(Rows { header, reader })
    }

    fn col(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }
}

/// Every observation the image's tables hold.
fn read_observations(dir: &Path) -> Vec<Observation> {
    let mut out = Vec::new();
    events(dir, &mut out);
    simple(dir, "prefetch", &mut out, |r, get| {
        let path = get(r, "path");
        let file_name = path.rsplit('/').next().unwrap_or(&path).to_string();
        Some((
            get(r, "last_run_1"),
            path,
            Observed::Prefetch {
                file_name,
                executable: get(r, "executable"),
            },
        ))
    });
    simple(dir, "mft", &mut out, |r, get| {
        let path = get(r, "path");
        (!path.is_empty()).then(|| {
            let allocated = get(r, "in_use") == "true";
            (
                get(r, "si_created"),
                get(r, "record"),
                Observed::File { path, allocated },
            )
        })
    });
    simple(dir, "usn", &mut out, |r, get| {
        let reasons = get(r, "reasons").split('|').map(str::to_string).collect();
        Some((
            get(r, "time"),
            get(r, "usn"),
            Observed::Usn {
                name: get(r, "name"),
                reasons,
            },
        ))
    });
    for (table, artifact, time) in [
        ("amcache", ExecutionArtifact::Amcache, "key_last_write"),
        ("shimcache", ExecutionArtifact::Shimcache, "last_modified"),
        ("bam", ExecutionArtifact::Bam, "last_execution"),
        ("userassist", ExecutionArtifact::Userassist, "last_run"),
    ] {
        let column = if table == "userassist" {
            "name"
        } else {
            "path"
        };
        simple(dir, table, &mut out, |r, get| {
            let path = get(r, column);
            (!path.is_empty()).then(|| {
                (
                    get(r, time),
                    path.clone(),
                    Observed::Execution { artifact, path },
                )
            })
        });
    }
    simple(dir, "services", &mut out, |r, get| {
        let name = get(r, "name");
        Some((
            get(r, "key_last_write"),
            name.clone(),
            Observed::Service {
                name,
                image_path: get(r, "image_path"),
            },
        ))
    });
    simple(dir, "tasks", &mut out, |r, get| {
        let name = get(r, "name");
        let command = format!("{} {}", get(r, "command"), get(r, "arguments"))
            .trim()
            .to_string();
        Some((
            get(r, "registration_date"),
            name.clone(),
            Observed::Task { name, command },
        ))
    });
    simple(dir, "registry", &mut out, |r, get| {
        if get(r, "found") != "true" {
            return None;
        }
        let file = get(r, "hive_file");
        let base = file
            .rsplit('/')
            .next()
            .unwrap_or(&file)
            .to_ascii_uppercase();
        let hive = match base.as_str() {
            "SYSTEM" => Hive::System,
            "SOFTWARE" => Hive::Software,
            "SAM" => Hive::Sam,
            "SECURITY" => Hive::Security,
            "NTUSER.DAT" => Hive::Ntuser,
            "USRCLASS.DAT" => Hive::Usrclass,
            _ => return None,
        };
        let value = Some(get(r, "value_name")).filter(|v| !v.is_empty());
        let data = Some(get(r, "data")).filter(|v| !v.is_empty());
        let key = get(r, "key_path");
        Some((
            get(r, "key_last_write"),
            key.clone(),
            Observed::Registry {
                hive,
                key,
                value,
                data,
            },
        ))
    });
    out
}

type Getter = dyn Fn(&csv::StringRecord, &str) -> String;

/// Reads table `name`, turning each row into `(time, locator, observed)`.
fn simple(
    dir: &Path,
    name: &str,
    out: &mut Vec<Observation>,
    make: impl Fn(&csv::StringRecord, &Getter) -> Option<(String, String, Observed)>,
) {
    let Some(mut rows) = Rows::open(&dir.join(format!("{name}.csv"))) else {
        return;
    };
    let header = rows.header.clone();
    let get = move |r: &csv::StringRecord, column: &str| {
        header
            .iter()
            .position(|h| h == column)
            .and_then(|i| r.get(i))
            .map(|v| restore(v).to_string())
            .unwrap_or_default()
    };
    let file_col = rows.col("path").or_else(|| rows.col("hive_file"));
    for record in rows.reader.records().filter_map(Result::ok) {
        let Some((time, locator, observed)) = make(&record, &get) else {
            continue;
        };
        out.push(Observation {
            time: Some(time).filter(|t| !t.is_empty()),
            reference: Reference {
                artifact: name.to_string(),
                file: file_col
                    .and_then(|i| record.get(i))
                    .unwrap_or_default()
                    .to_string(),
                locator,
            },
            observed,
        });
    }
}

/// evtx.csv rows, with every field from the event_data JSON.
fn events(dir: &Path, out: &mut Vec<Observation>) {
    let Some(mut rows) = Rows::open(&dir.join("evtx.csv")) else {
        return;
    };
    let (
        Some(file),
        Some(channel),
        Some(id),
        Some(record),
        Some(time),
        Some(data),
        Some(carved),
        Some(offset),
        Some(live),
    ) = (
        rows.col("file"),
        rows.col("channel"),
        rows.col("event_id"),
        rows.col("record_id"),
        rows.col("time"),
        rows.col("event_data"),
        rows.col("carved"),
        rows.col("offset"),
        rows.col("live_copy"),
    )
    else {
        return;
    };
    for r in rows.reader.records().filter_map(Result::ok) {
        if r.get(carved) == Some("true") && r.get(live) == Some("true") {
            continue;
        }
        let json = r.get(data).unwrap_or("{}");
        let fields: Vec<(String, String)> = match serde_json::from_str::<Value>(json) {
            Ok(Value::Object(map)) => map
                .into_iter()
                .map(|(k, v)| {
                    (
                        k,
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string()),
                    )
                })
                .collect(),
            _ => Vec::new(),
        };
        let unquote = |i: usize| r.get(i).map(|v| restore(v).to_string()).unwrap_or_default();
        // Carved records repeat ids across chunks: their chunk's offset tells them apart.
        let locator = match unquote(offset) {
            chunk if !chunk.is_empty() => format!("chunk {chunk} record {}", unquote(record)),
            _ => format!("record {}", unquote(record)),
        };
        out.push(Observation {
            time: Some(unquote(time)).filter(|t| !t.is_empty()),
            reference: Reference {
                artifact: "evtx".into(),
                file: unquote(file),
                locator,
            },
            observed: Observed::Event {
                channel: unquote(channel),
                event_id: r.get(id).and_then(|v| v.parse().ok()).unwrap_or(0),
                fields,
            },
        });
    }
}
