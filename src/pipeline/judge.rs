//! findings.csv, evidence.csv and host_profile.csv for one image: what the matcher
//! judged from the records the scan streamed to it (or that `toolmark match` read
//! from an observations file). Every piece of evidence points to the artifact, the
//! file and the row key it came from.

use std::path::Path;

use crate::output::Table;
use crate::traces::matcher::{Evidence, Finding, HostProfile};

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
    pub logging: LoggingProfile,
}

/// The host's logging as its records show it (manifest.json `logging`).
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
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

/// The findings.csv row of the `n`-th finding (from 1) of `image`, in [`FINDINGS`] order.
pub fn finding_row(image: &str, host: &str, n: usize, finding: &Finding) -> [String; 17] {
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
    [
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
        finding_id(image, n),
    ]
}

/// The id a finding has in findings.csv and evidence.csv: `image#n`.
pub fn finding_id(image: &str, n: usize) -> String {
    format!("{image}#{n}")
}

/// The evidence.csv row of one matched record of `finding` (whose id is `id`), in
/// [`EVIDENCE`] order.
pub fn evidence_row(
    image: &str,
    host: &str,
    id: &str,
    finding: &Finding,
    ev: &Evidence,
) -> [String; 11] {
    [
        image.to_string(),
        host.to_string(),
        id.to_string(),
        finding.tool_id.clone(),
        finding.role.as_str().to_string(),
        format!("{:?}", ev.strength).to_lowercase(),
        ev.trace.clone(),
        ev.reference.artifact.clone(),
        ev.reference.file.clone(),
        ev.reference.locator.clone(),
        ev.time.clone().unwrap_or_default(),
    ]
}

/// The host_profile.csv rows of `profile` after image and host, in [`PROFILE`] order:
/// one per channel (with its clears and, for Security, the audit subcategories
/// seen), a `(Sysmon)` row, and an `(event logs)` row when the logs cannot speak.
pub fn profile_rows(profile: &HostProfile) -> Vec<[String; 5]> {
    let audit: Vec<&str> = profile
        .audit_subcategories
        .iter()
        .map(String::as_str)
        .collect();
    let mut rows = Vec::new();
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
        rows.push([
            c.name.clone(),
            c.count.to_string(),
            c.first.clone().unwrap_or_default(),
            c.last.clone().unwrap_or_default(),
            note,
        ]);
    }
    let sysmon = if profile.sysmon() {
        "present"
    } else {
        "not installed"
    };
    rows.push([
        "(Sysmon)".into(),
        String::new(),
        String::new(),
        String::new(),
        sysmon.to_string(),
    ]);
    if let Some(gone) = profile.event_logs_gone() {
        rows.push([
            "(event logs)".into(),
            "0".into(),
            String::new(),
            String::new(),
            gone,
        ]);
    }
    rows
}

/// Writes `findings` and the host's `profile` into the three files in `dir`.
pub fn write(
    dir: &Path,
    image: &str,
    host: &str,
    findings: &[Finding],
    profile: &HostProfile,
    raw_cells: bool,
) -> Result<Written, String> {
    let mut f = Table::create(&dir.join("findings.csv"), &FINDINGS, raw_cells)
        .map_err(|e| e.to_string())?;
    let mut e = Table::create(&dir.join("evidence.csv"), &EVIDENCE, raw_cells)
        .map_err(|e| e.to_string())?;
    for (n, finding) in findings.iter().enumerate() {
        let row = finding_row(image, host, n + 1, finding);
        f.row(&row).map_err(|e| e.to_string())?;
        let id = &row[16];
        for ev in &finding.evidence {
            e.row(&evidence_row(image, host, id, finding, ev))
                .map_err(|e| e.to_string())?;
        }
    }
    let mut p = Table::create(&dir.join("host_profile.csv"), &PROFILE, raw_cells)
        .map_err(|e| e.to_string())?;
    for [channel, records, first, last, note] in profile_rows(profile) {
        let row = [
            image.to_string(),
            host.to_string(),
            channel,
            records,
            first,
            last,
            note,
        ];
        p.row(&row).map_err(|e| e.to_string())?;
    }
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
        logging: summary,
    })
}
