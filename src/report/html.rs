//! The report page: one self-contained HTML file with no script, no fetch (its
//! Content-Security-Policy forbids every one) and every text from evidence escaped.
//! The tables carry their values in `data-` attributes too, so tests (and other
//! tools) can read them back without scraping the visible text.

use std::collections::BTreeSet;
use std::fmt::Write;

use super::graph::{Graph, RULE};
use super::svg::{self, join};
use super::FindingView;
use crate::pipeline::judge::EVIDENCE;
use crate::pipeline::ImageReport;

/// The page's Content-Security-Policy: nothing may be fetched, no script may run.
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; \
base-uri 'none'; form-action 'none'";

/// `text` safe in HTML and SVG text and in quoted attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Controls other than tab and line breaks are not allowed in HTML.
            c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{margin:0 0 .2em}h2{border-bottom:2px solid #ddd;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;vertical-align:top;text-align:left}
th{background:#f3f3f3}td.num{text-align:right}
.confirmed{background:#f5b7b1;fill:#c0392b}.likely{background:#fae5b0;fill:#e6a817}.possible{background:#e8eef7;fill:#7f9cc4}
.matrix td.hit span{display:block;white-space:nowrap}
.errors{color:#b00;font-weight:bold}
code,.mono{font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}
details{margin:.3em 0;border:1px solid #ddd;padding:.2em .6em}summary{cursor:pointer}
svg text{font:12px system-ui,sans-serif;fill:#222}svg .count{font-size:10px;fill:#555}
svg .node circle{stroke:#222;stroke-width:1.5}svg .ours circle{fill:#2c6fbb}svg .other circle{fill:#ccc}
svg .tick{stroke:#ddd}svg .host{font-weight:bold}svg .axis{font-size:11px;fill:#666}
.scroll{overflow-x:auto}.graphbox{overflow:auto;max-height:1000px;border:1px solid #ddd}
#findings-table td.mono,#edges td.mono{white-space:nowrap;word-break:normal}
.noise{display:none}
#all-edges:checked~.graphbox .noise{display:inline}
#all-edges:checked~table tr.noise{display:table-row}
.note{color:#555}
";

/// The whole page for `images` (one image: its own report; several: the batch's).
pub fn render(title: &str, images: &[&ImageReport], graph: &Graph) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\
<meta name=\"referrer\" content=\"no-referrer\">\
<title>{}</title><style>{STYLE}</style></head><body>\n",
        esc(title)
    );
    let findings: usize = images.iter().map(|i| i.view.findings.len()).sum();
    let errors: u64 = images.iter().map(|i| i.errors).sum();
    let _ = writeln!(
        s,
        "<h1>{}</h1><p>toolmark {} &middot; {} image(s) &middot; {} finding(s) &middot; \
         {} lateral-movement edge(s) &middot; <span{}>{} error(s)</span> &middot; findings from {}</p>",
        esc(title),
        esc(env!("CARGO_PKG_VERSION")),
        images.len(),
        findings,
        graph.edges.len(),
        if errors > 0 { " class=\"errors\"" } else { "" },
        errors,
        esc(&span(images.iter().flat_map(|i| i.view.findings.iter()))),
    );
    overview(&mut s, images);
    findings_table(&mut s, images);
    s.push_str("<h2 id=\"timeline\">Timeline of findings</h2>\n");
    match svg::timeline(images) {
        Some(picture) => s.push_str(&picture),
        None => s.push_str("<p>No finding has a time.</p>"),
    }
    edges(&mut s, graph);
    for image in images {
        host(&mut s, image);
    }
    s.push_str("\n</body></html>\n");
    s
}

/// `first .. last` over `findings`, or `-`.
fn span<'a>(findings: impl Iterator<Item = &'a FindingView>) -> String {
    let mut first: Option<&str> = None;
    let mut last: Option<&str> = None;
    for f in findings {
        let (a, b) = (f.get("first_time"), f.get("last_time"));
        if !a.is_empty() && first.is_none_or(|x| a < x) {
            first = Some(a);
        }
        if !b.is_empty() && last.is_none_or(|x| b > x) {
            last = Some(b);
        }
    }
    match (first, last) {
        (Some(a), Some(b)) => format!("{a} to {b}"),
        _ => "-".into(),
    }
}

/// `first .. last` of the host's event logs.
fn log_span(image: &ImageReport) -> String {
    let first = image
        .view
        .logs
        .iter()
        .map(|l| l[2].as_str())
        .filter(|t| !t.is_empty())
        .min();
    let last = image.view.logs.iter().map(|l| l[3].as_str()).max();
    match (first, last) {
        (Some(a), Some(b)) if !b.is_empty() => format!("{a} to {b}"),
        _ => "-".into(),
    }
}

/// The host's log clears: `channel (cleared TIME; ...)` per cleared log.
fn clears(image: &ImageReport) -> Vec<String> {
    image
        .view
        .logs
        .iter()
        .filter_map(|l| {
            let when: Vec<&str> = l[4]
                .split("; ")
                .filter(|part| part.starts_with("cleared"))
                .collect();
            (!when.is_empty()).then(|| format!("{} ({})", l[0], when.join("; ")))
        })
        .collect()
}

/// Hosts x tools, role and confidence in each cell.
fn overview(s: &mut String, images: &[&ImageReport]) {
    let tools: BTreeSet<&str> = images
        .iter()
        .flat_map(|i| i.view.findings.iter().map(|f| f.get("tool")))
        .collect();
    s.push_str("<h2 id=\"overview\">Overview</h2>\n<div class=\"scroll\"><table class=\"matrix\"><tr><th>host</th><th>image</th><th>errors</th><th>findings</th><th>event logs</th><th>logs cleared</th>");
    for tool in &tools {
        let _ = write!(s, "<th>{}</th>", esc(tool));
    }
    s.push_str("</tr>\n");
    for image in images {
        let cleared = clears(image);
        let status = if image.failed {
            " (failed to open)"
        } else if image.incomplete {
            " (incomplete)"
        } else {
            ""
        };
        let _ = write!(
            s,
            "<tr data-image=\"{}\" data-errors=\"{}\"><td>{}</td><td><a href=\"#host-{}\">{}</a></td><td class=\"num{}\">{}{}</td><td>{}</td><td>{}</td><td>{}</td>",
            esc(&image.image),
            image.errors,
            esc(&image.host),
            esc(&image.image),
            esc(&image.image),
            if image.errors > 0 { " errors" } else { "" },
            image.errors,
            status,
            esc(&span(image.view.findings.iter())),
            esc(&log_span(image)),
            esc(&cleared.join("; ")),
        );
        for tool in &tools {
            let hits: Vec<&FindingView> = image
                .view
                .findings
                .iter()
                .filter(|f| f.get("tool") == *tool)
                .collect();
            if hits.is_empty() {
                s.push_str("<td></td>");
                continue;
            }
            let best = hits
                .iter()
                .map(|f| rank(f.get("confidence")))
                .max()
                .unwrap_or(0);
            let _ = write!(
                s,
                "<td class=\"hit {}\">",
                ["possible", "likely", "confirmed"][best]
            );
            for f in hits {
                let _ = write!(
                    s,
                    "<span>{} {}</span>",
                    esc(f.get("role")),
                    esc(f.get("confidence"))
                );
            }
            s.push_str("</td>");
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</table></div>\n");
}

fn rank(confidence: &str) -> usize {
    match confidence {
        "confirmed" => 2,
        "likely" => 1,
        _ => 0,
    }
}

/// Every finding of every host, by host and then by time.
fn findings_table(s: &mut String, images: &[&ImageReport]) {
    s.push_str("<h2 id=\"findings\">Findings by host, in time order</h2>\n<table id=\"findings-table\"><tr><th>host</th><th>first</th><th>last</th><th>tool</th><th>role</th><th>confidence</th><th>anchors</th><th>supporting</th><th>success</th><th>evidence</th></tr>\n");
    for image in images {
        let mut findings: Vec<&FindingView> = image.view.findings.iter().collect();
        findings.sort_by(|a, b| a.get("first_time").cmp(b.get("first_time")));
        for f in findings {
            let attributes: String = [
                "finding",
                "image",
                "host",
                "tool",
                "role",
                "confidence",
                "first_time",
                "last_time",
                "anchors",
                "supporting",
                "success",
                "evidence_count",
            ]
            .iter()
            .map(|c| format!(" data-{}=\"{}\"", c.replace('_', "-"), esc(f.get(c))))
            .collect();
            let _ = writeln!(
                s,
                "<tr class=\"finding\"{attributes}><td>{}</td><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td><a href=\"#{}\">{}</a></td><td>{}</td><td class=\"{}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
                esc(f.get("host")),
                esc(f.get("first_time")),
                esc(f.get("last_time")),
                esc(&anchor_id(f.get("finding"))),
                esc(f.get("tool_name")),
                esc(f.get("role")),
                esc(f.get("confidence")),
                esc(f.get("confidence")),
                esc(f.get("anchors")),
                esc(f.get("supporting")),
                esc(f.get("success")),
                esc(f.get("evidence_count")),
            );
        }
    }
    s.push_str("</table>\n");
}

/// A fragment id for a finding id (`image#3` -> `finding-image-3`).
fn anchor_id(finding: &str) -> String {
    format!("finding-{}", finding.replace('#', "-"))
}

/// The graph with its rule, its toggle and the table of its edges.
fn edges(s: &mut String, graph: &Graph) {
    let rows: usize = graph.edges.iter().map(|e| e.rows).sum();
    let shown = graph.shown();
    let _ = write!(
        s,
        "<h2 id=\"lateral\">Lateral movement</h2>\n<p>{} lateral_movement.csv row(s) make {} edge(s) per (source, destination, kind); \
         {} shown by default, {} behind the toggle. <span class=\"note\">Rule: {}.</span> \
         Arrows point from where someone came from to the host they reached; red: a tool is named on the edge; grey: failed logons. \
         Hover over an arrow or a host for details.</p>\n",
        rows,
        graph.edges.len(),
        shown,
        graph.edges.len() - shown,
        esc(RULE)
    );
    if graph.edges.is_empty() {
        s.push_str("<p>No lateral-movement edges.</p>\n");
        return;
    }
    let _ = write!(
        s,
        "<input type=\"checkbox\" id=\"all-edges\"><label for=\"all-edges\"> show all {} edges</label>\n<div class=\"graphbox\">{}</div>\n",
        graph.edges.len(),
        svg::graph(graph)
    );
    let _ = writeln!(
        s,
        "<table id=\"edges\" data-rows=\"{rows}\"><tr><th>#</th><th>source</th><th>destination</th><th>kind</th><th>count</th><th>first</th><th>last</th><th>tools</th><th>accounts</th></tr>"
    );
    for (n, e) in graph.edges.iter().enumerate() {
        let source = &graph.nodes[e.source];
        let destination = &graph.nodes[e.destination];
        let tools = join(&e.tools);
        let _ = writeln!(
            s,
            "<tr class=\"{}\" data-source=\"{}\" data-destination=\"{}\" data-kind=\"{}\" data-count=\"{}\" data-first=\"{}\" data-last=\"{}\" data-rows=\"{}\" data-tools=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td>{}</td><td class=\"mono\">{}</td></tr>",
            if e.shown { "edge" } else { "edge noise" },
            esc(&source.id),
            esc(&destination.id),
            esc(&e.kind),
            e.count,
            esc(&e.first),
            esc(&e.last),
            e.rows,
            esc(&tools),
            n + 1,
            esc(&source.label),
            esc(&destination.label),
            esc(&e.kind),
            e.count,
            esc(&e.first),
            esc(&e.last),
            esc(&tools),
            esc(&join(&e.accounts)),
        );
    }
    s.push_str("</table>\n");
}

/// One host: its logging profile and each finding with its evidence and what is missing.
fn host(s: &mut String, image: &ImageReport) {
    let _ = write!(
        s,
        "<h2 id=\"host-{}\">{} <small>(image {})</small></h2>\n<p><span{}>{} error(s)</span> (errors.csv){}</p>\n<h3>Logging profile</h3>\n",
        esc(&image.image),
        esc(&image.host),
        esc(&image.image),
        if image.errors > 0 { " class=\"errors\"" } else { "" },
        image.errors,
        if image.failed { "; the image could not be opened" } else { "" },
    );
    if image.view.logs.is_empty() {
        s.push_str("<p>No logging profile (no rules were applied).</p>\n");
    } else {
        let channels = image
            .view
            .logs
            .iter()
            .filter(|l| !l[0].starts_with('('))
            .count();
        let mut special: Vec<String> = image
            .view
            .logs
            .iter()
            .filter(|l| l[0].starts_with('('))
            .map(|l| format!("{} {}", l[0], l[4]))
            .collect();
        special.extend(clears(image));
        let _ = writeln!(
            s,
            "<details class=\"profile\"><summary>{channels} event log(s) with records; {}</summary>",
            esc(&special.join("; "))
        );
        s.push_str("<table class=\"profile\"><tr><th>log</th><th>records</th><th>first</th><th>last</th><th>note</th></tr>\n");
        for [channel, records, first, last, note] in &image.view.logs {
            let _ = writeln!(
                s,
                "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td>{}</td></tr>",
                esc(channel),
                esc(records),
                esc(first),
                esc(last),
                esc(note)
            );
        }
        s.push_str("</table></details>\n");
    }
    let _ = writeln!(s, "<h3>Findings ({})</h3>", image.view.findings.len());
    for f in &image.view.findings {
        finding(s, f);
    }
}

fn finding(s: &mut String, f: &FindingView) {
    let _ = write!(
        s,
        "<details id=\"{}\"><summary><b>{}</b> ({}) {} &middot; <span class=\"{}\">{}</span> &middot; {} .. {}</summary>\n<p>{}<br>anchors {} &middot; supporting {} &middot; success {} &middot; {} matched record(s)</p>\n",
        esc(&anchor_id(f.get("finding"))),
        esc(f.get("tool_name")),
        esc(f.get("category")),
        esc(f.get("role")),
        esc(f.get("confidence")),
        esc(f.get("confidence")),
        esc(f.get("first_time")),
        esc(f.get("last_time")),
        esc(f.get("reason")),
        esc(f.get("anchors")),
        esc(f.get("supporting")),
        esc(if f.get("success").is_empty() { "unknown" } else { f.get("success") }),
        f.evidence_total,
    );
    s.push_str("<table class=\"evidence\"><tr><th>strength</th><th>trace</th><th>artifact</th><th>file</th><th>locator</th><th>time</th></tr>\n");
    let col = |row: &[String], name: &str| esc(super::cell(&EVIDENCE, row, name));
    for row in &f.evidence {
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td class=\"mono\">{}</td></tr>",
            col(row, "strength"),
            col(row, "trace"),
            col(row, "artifact"),
            col(row, "file"),
            col(row, "locator"),
            col(row, "time"),
        );
    }
    s.push_str("</table>\n");
    if f.evidence_total > f.evidence.len() {
        let _ = writeln!(
            s,
            "<p class=\"note\">{} more in evidence.csv (finding {}).</p>",
            f.evidence_total - f.evidence.len(),
            esc(f.get("finding"))
        );
    }
    if f.missing.is_empty() {
        s.push_str("<p>Nothing expected is missing.</p>\n");
    } else {
        s.push_str("<p>Expected but missing:</p><ul>\n");
        for (trace, why) in &f.missing {
            let _ = writeln!(
                s,
                "<li>{} <span class=\"note\">({})</span></li>",
                esc(trace),
                esc(why)
            );
        }
        s.push_str("</ul>\n");
    }
    s.push_str("</details>\n");
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn markup_and_quotes_are_escaped() {
        assert_eq!(
            esc("\"><img src=x onerror='a'>&</svg>\u{1}"),
            "&quot;&gt;&lt;img src=x onerror=&#39;a&#39;&gt;&amp;&lt;/svg&gt;\\u{1}"
        );
    }
}
