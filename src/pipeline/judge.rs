//! findings.csv, evidence.csv and host_profile.csv for one image: what the matcher
//! judged from the records the scan streamed to it (or that `toolmark match` read
//! from an observations file). Every piece of evidence points to the artifact, the
//! file and the row key it came from.

use std::path::Path;

use crate::output::Table;
use crate::traces::matcher::{Finding, HostProfile};

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
    if let Some(gone) = profile.event_logs_gone() {
        let row = [
            image.to_string(),
            host.to_string(),
            "(event logs)".into(),
            "0".into(),
            String::new(),
            String::new(),
            gone,
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
