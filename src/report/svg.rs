//! The report's two pictures as inline SVG: the lateral-movement graph and the
//! timeline of findings per host. Every text and title from evidence goes through
//! [`esc`]; nothing refers to anything outside the document.

use std::fmt::Write;

use jiff::Timestamp;

use super::graph::Graph;
use super::html::esc;
use super::layout::{circle, control, towards, Point};
use super::FindingView;
use crate::pipeline::ImageReport;

/// Radius of a host's circle.
const NODE: f64 = 9.0;

/// Longest label drawn; the full name is in the tooltip.
const LABEL: usize = 28;

/// `text` cut to [`LABEL`] characters.
fn short(text: &str) -> String {
    if text.chars().count() <= LABEL {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(LABEL - 1).collect();
    cut.push('…');
    cut
}

/// The graph: hosts on a circle, one curved arrow per aggregated edge with its
/// count; edges not shown by default carry the class `noise` (hidden by the page's
/// CSS unless the toggle is checked).
pub fn graph(graph: &Graph) -> String {
    let (points, side) = circle(graph.nodes.len());
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="graph" viewBox="0 0 {side:.0} {side:.0}" width="{side:.0}" height="{side:.0}" role="img" aria-label="lateral movement graph">"#
    );
    s.push_str(
        r##"<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0L10,5L0,10z" fill="#555"/></marker></defs>"##,
    );
    // Several kinds between the same two hosts bend further apart.
    let mut seen: Vec<(usize, usize)> = Vec::new();
    for (n, edge) in graph.edges.iter().enumerate() {
        let nth = seen
            .iter()
            .filter(|&&p| p == (edge.source, edge.destination))
            .count();
        seen.push((edge.source, edge.destination));
        let (a, b) = (points[edge.source], points[edge.destination]);
        let class = if edge.shown { "edge" } else { "edge noise" };
        let colour = if !edge.tools.is_empty() {
            "#c0392b"
        } else if edge.kind.contains("failed") {
            "#999"
        } else {
            "#2c6fbb"
        };
        let width = 1.0 + (edge.count as f64).log10().clamp(0.0, 3.0);
        let title = format!(
            "#{} {} -> {}: {} x{} ({} .. {}){}{}",
            n + 1,
            graph.nodes[edge.source].label,
            graph.nodes[edge.destination].label,
            edge.kind,
            edge.count,
            edge.first,
            edge.last,
            if edge.tools.is_empty() {
                String::new()
            } else {
                format!("; tools: {}", join(&edge.tools))
            },
            if edge.accounts.is_empty() {
                String::new()
            } else {
                format!("; accounts: {}", join(&edge.accounts))
            },
        );
        let _ = write!(s, r#"<g class="{class}"><title>{}</title>"#, esc(&title));
        if edge.source == edge.destination {
            // A loop: a small circle beside the host.
            let _ = write!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="{:.1}" fill="none" stroke="{colour}" stroke-width="{width:.1}"/>"#,
                a.x + NODE * 1.6,
                a.y - NODE * 1.6,
                NODE * (1.2 + nth as f64 * 0.4)
            );
        } else {
            let c = control(a, b, 0.12 + 0.1 * nth as f64);
            let (from, to) = (towards(a, c, NODE), towards(b, c, NODE + 2.0));
            let _ = write!(
                s,
                r#"<path d="M{:.1},{:.1}Q{:.1},{:.1} {:.1},{:.1}" fill="none" stroke="{colour}" stroke-width="{width:.1}" marker-end="url(#arrow)"/>"#,
                from.x, from.y, c.x, c.y, to.x, to.y
            );
            let mid = Point {
                x: 0.25 * a.x + 0.5 * c.x + 0.25 * b.x,
                y: 0.25 * a.y + 0.5 * c.y + 0.25 * b.y,
            };
            let _ = write!(
                s,
                r#"<text x="{:.1}" y="{:.1}" class="count">{}</text>"#,
                mid.x, mid.y, edge.count
            );
        }
        s.push_str("</g>");
    }
    let centre = side / 2.0;
    for (n, (node, p)) in graph.nodes.iter().zip(&points).enumerate() {
        // A host outside the batch that only hidden edges reach is hidden with them.
        let reached = graph
            .edges
            .iter()
            .any(|e| e.shown && (e.source == n || e.destination == n));
        let class = match (node.image.is_some(), reached) {
            (true, _) => "node ours",
            (false, true) => "node other",
            (false, false) => "node other noise",
        };
        let anchor = if graph.nodes.len() == 1 || (p.x - centre).abs() < 1.0 {
            "middle"
        } else if p.x > centre {
            "start"
        } else {
            "end"
        };
        let (dx, dy) = if graph.nodes.len() == 1 {
            (0.0, -NODE - 6.0)
        } else {
            // Outwards from the centre, clear of the circle.
            let d = ((p.x - centre).powi(2) + (p.y - centre).powi(2))
                .sqrt()
                .max(1.0);
            ((p.x - centre) / d * 16.0, (p.y - centre) / d * 16.0 + 4.0)
        };
        let _ = write!(
            s,
            r#"<g class="{class}"><title>{}</title><circle cx="{:.1}" cy="{:.1}" r="{NODE}"/><text x="{:.1}" y="{:.1}" text-anchor="{anchor}">{}</text></g>"#,
            esc(&node.label),
            p.x,
            p.y,
            p.x + dx,
            p.y + dy,
            esc(&short(&node.label))
        );
    }
    s.push_str("</svg>");
    s
}

/// The `tools` or `accounts` of an edge as one line.
pub fn join(set: &std::collections::BTreeSet<String>) -> String {
    set.iter().cloned().collect::<Vec<_>>().join(", ")
}

/// Seconds since 1970 of an ISO-8601 time, if it is one.
fn seconds(time: &str) -> Option<f64> {
    let t: Timestamp = time.parse().ok()?;
    Some(t.as_millisecond() as f64 / 1000.0)
}

/// Width of the timeline's plotting area and of the names left of it.
const PLOT: f64 = 880.0;
const NAMES: f64 = 260.0;
const ROW: f64 = 20.0;

/// The timeline: per host a line with its name, then one row per finding with a bar
/// from its first to its last time, coloured by confidence. `None` when no finding
/// has a time.
pub fn timeline(images: &[&ImageReport]) -> Option<String> {
    let timed =
        |f: &FindingView| Some((seconds(f.get("first_time"))?, seconds(f.get("last_time"))?));
    let spans: Vec<(f64, f64)> = images
        .iter()
        .flat_map(|i| i.view.findings.iter().filter_map(timed))
        .collect();
    let start = spans.iter().map(|s| s.0).reduce(f64::min)?;
    let end = spans.iter().map(|s| s.1).reduce(f64::max)?.max(start);
    let scale = |t: f64| {
        if end > start {
            NAMES + (t - start) / (end - start) * PLOT
        } else {
            NAMES + PLOT / 2.0
        }
    };
    let rows: usize = images.iter().map(|i| i.view.findings.len() + 1).sum();
    let height = ROW * rows as f64 + 40.0;
    let width = NAMES + PLOT + 80.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="timeline" viewBox="0 0 {width:.0} {height:.0}" width="{width:.0}" height="{height:.0}" role="img" aria-label="timeline of findings">"#
    );
    for tick in 0..=4 {
        let t = start + (end - start) * f64::from(tick) / 4.0;
        let x = scale(t);
        let label = Timestamp::from_millisecond((t * 1000.0) as i64)
            .map(|ts| ts.strftime("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default();
        let _ = write!(
            s,
            r#"<line x1="{x:.1}" y1="0" x2="{x:.1}" y2="{:.1}" class="tick"/><text x="{x:.1}" y="{:.1}" text-anchor="middle" class="axis">{}</text>"#,
            height - 30.0,
            height - 12.0,
            esc(&label)
        );
    }
    let mut y = 0.0;
    for image in images {
        let _ = write!(
            s,
            r#"<text x="4" y="{:.1}" class="host">{}</text>"#,
            y + ROW - 5.0,
            esc(&short(&image.host))
        );
        y += ROW;
        let mut findings: Vec<&FindingView> = image.view.findings.iter().collect();
        findings.sort_by(|a, b| a.get("first_time").cmp(b.get("first_time")));
        for f in findings {
            let _ = write!(
                s,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{} {}</text>"#,
                NAMES - 8.0,
                y + ROW - 6.0,
                esc(&short(f.get("tool"))),
                esc(f.get("role"))
            );
            if let Some((first, last)) = timed(f) {
                let (x1, x2) = (scale(first), scale(last));
                let title = format!(
                    "{} {} {} ({} .. {})",
                    f.get("tool"),
                    f.get("role"),
                    f.get("confidence"),
                    f.get("first_time"),
                    f.get("last_time")
                );
                let _ = write!(
                    s,
                    r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" class="{}"><title>{}</title></rect>"#,
                    x1.min(NAMES + PLOT - 4.0),
                    y + 4.0,
                    (x2 - x1).max(4.0),
                    ROW - 8.0,
                    esc(f.get("confidence")),
                    esc(&title)
                );
            }
            y += ROW;
        }
    }
    s.push_str("</svg>");
    Some(s)
}
