//! What an analyst looks at: `report.html` per image and per batch, and the summary
//! `scan` prints at its end.
//!
//! Rendered from what the scan holds in memory (each image's [`HostView`], built
//! from the matcher's findings and the host's logging profile, and the rows of
//! `lateral_movement.csv` as the edge writer made them), never from the neutralised
//! CSV cells. Everything in the page that came from evidence is attacker-controlled
//! and goes through [`html::esc`]; the page has no script and a Content-Security-Policy
//! that forbids every fetch.

pub mod graph;
pub mod html;
pub mod layout;
pub mod summary;
pub mod svg;

use std::path::Path;

use crate::batch::resume::write_atomically;
use crate::pipeline::judge::{self, FINDINGS};
use crate::pipeline::ImageReport;
use crate::traces::matcher::{Finding, HostProfile};
use crate::traces::Strength;

pub use graph::Graph;

/// Matched records listed per finding in the page; the rest are in evidence.csv.
pub const EVIDENCE_SHOWN: usize = 100;

/// One finding as the report shows it.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct FindingView {
    /// The finding's findings.csv row ([`FINDINGS`] order).
    pub row: Vec<String>,
    /// Its first [`EVIDENCE_SHOWN`] evidence.csv rows ([`judge::EVIDENCE`] order), anchors
    /// first, then by time.
    pub evidence: Vec<Vec<String>>,
    /// How many evidence rows it has in all.
    pub evidence_total: usize,
    /// Expected traces not matched: (trace, why).
    pub missing: Vec<(String, String)>,
}

impl FindingView {
    /// The cell of findings.csv column `name` (empty for an unknown column).
    pub fn get(&self, name: &str) -> &str {
        cell(&FINDINGS, &self.row, name)
    }
}

/// The cell of column `name` in `row` laid out as `columns`.
pub fn cell<'a>(columns: &[&str], row: &'a [String], name: &str) -> &'a str {
    columns
        .iter()
        .position(|c| *c == name)
        .and_then(|i| row.get(i))
        .map_or("", String::as_str)
}

/// What the report shows of one host: its findings and its logging profile. Kept
/// beside the image's tables as `view.json`, so a batch resumed or merged from
/// images scanned by other processes reports them as a single scan would.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct HostView {
    /// Findings in findings.csv order.
    pub findings: Vec<FindingView>,
    /// host_profile.csv rows after image and host: channel, records, first, last, note.
    pub logs: Vec<[String; 5]>,
}

/// File name of a [`HostView`] in an image's output folder.
pub const VIEW_FILE: &str = "view.json";

impl HostView {
    /// Writes the view into the image folder `dir`.
    pub fn save(&self, dir: &Path) -> Result<(), String> {
        let text = serde_json::to_vec(self).map_err(|e| e.to_string())?;
        crate::batch::resume::write_atomically(&dir.join(VIEW_FILE), &text)
    }

    /// The view a scan of the image in `dir` saved.
    pub fn load(dir: &Path) -> Result<HostView, String> {
        let path = dir.join(VIEW_FILE);
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The view of `findings` and `profile` of `host`, scanned as `image`.
    pub fn new(image: &str, host: &str, findings: &[Finding], profile: &HostProfile) -> HostView {
        let findings = findings
            .iter()
            .enumerate()
            .map(|(n, f)| {
                let row = judge::finding_row(image, host, n + 1, f);
                let id = row[16].clone();
                let mut evidence: Vec<_> = f.evidence.iter().collect();
                evidence.sort_by(|a, b| {
                    (a.strength != Strength::Anchor, &a.time)
                        .cmp(&(b.strength != Strength::Anchor, &b.time))
                });
                FindingView {
                    evidence: evidence
                        .into_iter()
                        .take(EVIDENCE_SHOWN)
                        .map(|ev| judge::evidence_row(image, host, &id, f, ev).to_vec())
                        .collect(),
                    evidence_total: f.evidence.len(),
                    missing: f
                        .missing
                        .iter()
                        .map(|m| (m.trace.clone(), m.reason.to_string()))
                        .collect(),
                    row: row.to_vec(),
                }
            })
            .collect();
        HostView {
            findings,
            logs: judge::profile_rows(profile),
        }
    }
}

/// Writes `OUT/report.html` for the batch and `OUT/<image>/report.html` for each
/// image; `edges` are lateral_movement.csv's rows (`columns` order) as written.
pub fn write(
    out: &Path,
    images: &[ImageReport],
    columns: &[&str],
    edges: &[Vec<String>],
) -> Result<(), String> {
    let all: Vec<&ImageReport> = images.iter().collect();
    let graph = Graph::new(&all, columns, edges);
    let page = html::render("toolmark report", &all, &graph);
    write_atomically(&out.join("report.html"), page.as_bytes())?;
    for image in images {
        let dir = out.join(&image.image);
        if !dir.is_dir() {
            continue;
        }
        let graph = graph.touching(&image.image);
        let page = html::render(
            &format!("toolmark report: {}", image.image),
            &[image],
            &graph,
        );
        write_atomically(&dir.join("report.html"), page.as_bytes())?;
    }
    Ok(())
}
