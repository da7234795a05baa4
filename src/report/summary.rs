//! What `scan` prints at its end: per image the host, its findings in time order,
//! its errors and where its report is. Colours only when `colour` is set (the
//! caller sets it when stdout is a terminal).

use std::fmt::Write;
use std::path::Path;

use super::FindingView;
use crate::output::shown;
use crate::pipeline::ImageReport;

const BOLD: &str = "\x1b[1m";
const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[33m";
const RESET: &str = "\x1b[0m";

/// `text` in `style` when `colour`, else as it is.
fn paint(text: &str, style: &str, colour: bool) -> String {
    if colour {
        format!("{style}{text}{RESET}")
    } else {
        text.to_string()
    }
}

/// The summary of `images` scanned into `out`.
pub fn render(images: &[ImageReport], out: &Path, colour: bool) -> String {
    let mut s = String::new();
    for image in images {
        let mut findings: Vec<&FindingView> = image.view.findings.iter().collect();
        findings.sort_by(|a, b| a.get("first_time").cmp(b.get("first_time")));
        let errors = if image.failed {
            paint("FAILED to open", RED, colour)
        } else if image.errors > 0 {
            paint(&format!("{} errors", image.errors), RED, colour)
        } else {
            "0 errors".to_string()
        };
        let _ = writeln!(
            s,
            "{} (image {}): {} finding(s), {errors}",
            paint(&shown(&image.host), BOLD, colour),
            shown(&image.image),
            findings.len()
        );
        for f in findings {
            let confidence = f.get("confidence");
            let style = match confidence {
                "confirmed" => RED,
                "likely" => YELLOW,
                _ => "",
            };
            let _ = writeln!(
                s,
                "  {}  {}  {:<24} {:<11} {}",
                or_dash(f.get("first_time")),
                or_dash(f.get("last_time")),
                shown(f.get("tool")),
                shown(f.get("role")),
                if style.is_empty() {
                    confidence.to_string()
                } else {
                    paint(confidence, style, colour)
                }
            );
        }
        let _ = writeln!(
            s,
            "  report: {}",
            out.join(&image.image).join("report.html").display()
        );
    }
    if images.len() > 1 {
        let _ = writeln!(s, "batch report: {}", out.join("report.html").display());
    }
    s
}

/// A time to the second, or `-`, padded to one width.
fn or_dash(time: &str) -> String {
    let shown = match time.get(..19) {
        Some(t) if time.len() > 19 => format!("{t}Z"),
        _ if time.is_empty() => "-".to_string(),
        _ => time.to_string(),
    };
    format!("{shown:<20}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::judge::FINDINGS;
    use crate::report::HostView;

    fn finding(tool: &str, first: &str, confidence: &str) -> FindingView {
        let mut row = vec![String::new(); FINDINGS.len()];
        let set = |row: &mut Vec<String>, name: &str, value: &str| {
            let i = FINDINGS.iter().position(|c| *c == name).unwrap();
            row[i] = value.to_string();
        };
        set(&mut row, "tool", tool);
        set(&mut row, "role", "source");
        set(&mut row, "first_time", first);
        set(&mut row, "last_time", first);
        set(&mut row, "confidence", confidence);
        FindingView {
            row,
            ..FindingView::default()
        }
    }

    #[test]
    fn findings_in_time_order_colours_only_when_asked() {
        let mut image = ImageReport::new(Path::new("x.E01"), "x");
        image.host = "HOST\x1b[2J".into();
        image.errors = 3;
        image.view = HostView {
            findings: vec![
                finding("wmic", "2022-03-10T21:50:00.0000000Z", "likely"),
                finding("psexec", "2022-03-10T21:43:57.9101061Z", "confirmed"),
            ],
            logs: Vec::new(),
        };
        let plain_text = render(std::slice::from_ref(&image), Path::new("out"), false);
        assert!(!plain_text.contains('\x1b'), "{plain_text}");
        let lines: Vec<&str> = plain_text.lines().collect();
        assert!(lines[0].starts_with("HOST\\u{1b}[2J (image x): 2 finding(s), 3 errors"));
        assert!(lines[1].contains("2022-03-10T21:43:57Z") && lines[1].contains("psexec"));
        assert!(lines[2].contains("wmic") && lines[2].contains("likely"));
        assert_eq!(lines[3], "  report: out/x/report.html");
        let coloured = render(&[image], Path::new("out"), true);
        assert!(coloured.contains("\x1b[1;31mconfirmed\x1b[0m"));
        assert!(coloured.contains("\x1b[1;31m3 errors\x1b[0m"));
    }
}
