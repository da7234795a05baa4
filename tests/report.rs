//! report.html: the page of the built host and of a batch opens in headless
//! Chromium with no console message and no request leaving the page, says what
//! findings.csv and lateral_movement.csv say, and shows planted markup as text.
//!
//! Requests are caught by pointing Chromium at a proxy the test listens on: every
//! http(s) fetch the page could make goes there. Chromium's own background calls
//! (time, component updates, accounts) go there too and are told apart by host;
//! a control page that does fetch and log proves the catch works.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use common::*;

/// Hosts Chromium itself calls on start, whatever the page.
const BROWSER_HOSTS: [&str; 4] = ["google.com", "googleapis.com", "gvt1.com", "gstatic.com"];

/// What Chromium did with a page.
struct Loaded {
    /// Console lines (`:CONSOLE` in Chromium's log).
    console: Vec<String>,
    /// Requests the page made (first request line), browser-internal ones left out.
    requests: Vec<String>,
    /// The DOM after loading.
    dom: String,
}

/// Loads `page` in headless Chromium; with `screenshot`, also saves a picture.
fn load(page: &Path, screenshot: Option<&Path>) -> Loaded {
    let proxy = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = proxy.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in proxy.incoming().flatten() {
            let mut line = String::new();
            let _ = BufReader::new(stream).read_line(&mut line);
            log.lock().unwrap().push(line.trim().to_string());
        }
    });
    let profile = scratch_dir("report-chromium").join(format!("profile-{port}"));
    let run = |extra: &[String]| {
        let out = oracle("chromium", "chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--enable-logging=stderr",
                "--v=0",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
                "--hide-scrollbars",
                &format!("--proxy-server=http://127.0.0.1:{port}"),
                "--proxy-bypass-list=<-loopback>",
                &format!("--user-data-dir={}", profile.display()),
            ])
            .args(extra)
            .arg(format!("file://{}", page.canonicalize().unwrap().display()))
            .output()
            .expect("run chromium");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    let dumped = run(&["--dump-dom".to_string()]);
    let mut stderr = String::from_utf8_lossy(&dumped.stderr).into_owned();
    if let Some(png) = screenshot {
        let shot = run(&[
            format!("--screenshot={}", png.display()),
            "--window-size=1400,2000".to_string(),
        ]);
        stderr.push_str(&String::from_utf8_lossy(&shot.stderr));
        assert!(png.is_file(), "no screenshot");
    }
    let _ = std::fs::remove_dir_all(&profile);
    let requests = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|line| {
            let target = line.split_whitespace().nth(1).unwrap_or("");
            let host = target
                .trim_start_matches("http://")
                .trim_start_matches("https://")
                .split(['/', ':'])
                .next()
                .unwrap_or("");
            !BROWSER_HOSTS
                .iter()
                .any(|b| host == *b || host.ends_with(&format!(".{b}")))
        })
        .cloned()
        .collect();
    Loaded {
        console: stderr
            .lines()
            .filter(|l| l.contains(":CONSOLE"))
            .map(str::to_string)
            .collect(),
        requests,
        dom: String::from_utf8_lossy(&dumped.stdout).into_owned(),
    }
}

/// Every element of the page with `marker` in its start tag, as attribute maps.
fn rows(html: &str, marker: &str) -> Vec<BTreeMap<String, String>> {
    let mut found = Vec::new();
    for part in html.split('<').skip(1) {
        let tag = part.split('>').next().unwrap();
        if !tag.contains(marker) {
            continue;
        }
        let mut attributes = BTreeMap::new();
        let mut rest = tag;
        while let Some(eq) = rest.find("=\"") {
            let name = rest[..eq].rsplit(' ').next().unwrap().to_string();
            let value_end = rest[eq + 2..].find('"').unwrap();
            let value = &rest[eq + 2..eq + 2 + value_end];
            attributes.insert(name, unescape(value));
            rest = &rest[eq + 2 + value_end + 1..];
        }
        found.push(attributes);
    }
    found
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn csv_maps(path: &Path) -> Vec<BTreeMap<String, String>> {
    let (header, rows) = read_csv(path);
    rows.into_iter()
        .map(|r| header.iter().cloned().zip(r).collect())
        .collect()
}

/// The page loads clean, and its findings and edges are those of the CSVs in `dir`
/// (findings) and `edges_dir` (lateral_movement.csv).
fn check_page(page: &Path, findings_dir: &Path, edges_dir: &Path, screenshot: &Path) {
    let html = std::fs::read_to_string(page).unwrap();
    let loaded = load(page, Some(screenshot));
    assert!(loaded.console.is_empty(), "console: {:?}", loaded.console);
    assert!(
        loaded.requests.is_empty(),
        "requests: {:?}",
        loaded.requests
    );
    assert!(!loaded.dom.contains("<script") && !loaded.dom.contains("<img"));

    // Findings: every row of findings.csv, with the same values, and no other.
    let keys = [
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
    ];
    let mut csv: Vec<Vec<String>> = csv_maps(&findings_dir.join("findings.csv"))
        .iter()
        .map(|r| keys.iter().map(|k| r[*k].clone()).collect())
        .collect();
    let mut shown: Vec<Vec<String>> = rows(&html, "class=\"finding\"")
        .iter()
        .map(|r| {
            keys.iter()
                .map(|k| r[&format!("data-{}", k.replace('_', "-"))].clone())
                .collect()
        })
        .collect();
    csv.sort();
    shown.sort();
    assert!(!csv.is_empty(), "the input has findings");
    assert_eq!(shown, csv);
    let evidence_rows = csv_maps(&findings_dir.join("evidence.csv")).len();
    let total: usize = shown.iter().map(|r| r[11].parse::<usize>().unwrap()).sum();
    assert_eq!(
        total, evidence_rows,
        "evidence counts add up to evidence.csv"
    );

    // Edges: per kind, the rows, counts and time span of lateral_movement.csv.
    type Sums = BTreeMap<String, (usize, u64, String, String)>;
    let mut expected: Sums = BTreeMap::new();
    for r in csv_maps(&edges_dir.join("lateral_movement.csv")) {
        let e = expected
            .entry(r["kind"].clone())
            .or_insert((0, 0, "~".into(), String::new()));
        e.0 += 1;
        e.1 += r["count"].parse::<u64>().unwrap();
        e.2 = e.2.clone().min(r["first_time"].clone());
        e.3 = e.3.clone().max(r["last_time"].clone());
    }
    let mut drawn: Sums = BTreeMap::new();
    let table = rows(&html, "data-kind=");
    for r in &table {
        let e = drawn
            .entry(r["data-kind"].clone())
            .or_insert((0, 0, "~".into(), String::new()));
        e.0 += r["data-rows"].parse::<usize>().unwrap();
        e.1 += r["data-count"].parse::<u64>().unwrap();
        e.2 = e.2.clone().min(r["data-first"].clone());
        e.3 = e.3.clone().max(r["data-last"].clone());
    }
    assert_eq!(drawn, expected);
    // Each aggregated edge is drawn once in the SVG and listed once in the table.
    assert_eq!(html.matches("<g class=\"edge").count(), table.len());
    assert!(table.iter().filter(|r| r["class"] == "edge").count() <= 60);
}

fn chromium_dir() -> PathBuf {
    scratch_dir("report")
}

#[test]
fn the_catch_catches_a_fetch_and_a_console_message() {
    let page = chromium_dir().join("control.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><img src=\"http://example.invalid/x.png\"><script>console.error('planted')</script>",
    )
    .unwrap();
    let loaded = load(&page, None);
    assert!(
        loaded
            .requests
            .iter()
            .any(|r| r.contains("example.invalid")),
        "{:?}",
        loaded.requests
    );
    assert!(loaded.console.iter().any(|l| l.contains("planted")));
}

#[test]
fn report_of_the_built_host() {
    let out = scratch_dir("report-host");
    let result = scan_into(
        &[built_images().join("win10-aptsim.E01")],
        &out,
        &["--raw-cells", "--artifacts", "evtx,prefetch,registry"],
    );
    assert!(result.status.code() == Some(0) || result.status.code() == Some(2));
    let dir = out.join("win10-aptsim");
    check_page(
        &dir.join("report.html"),
        &dir,
        &out,
        &chromium_dir().join("report-host.png"),
    );
    // The batch page of one image lists the same findings.
    let batch = std::fs::read_to_string(out.join("report.html")).unwrap();
    let own = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let marker = "class=\"finding\"";
    assert_eq!(rows(&batch, marker), rows(&own, marker));
}

#[test]
fn report_of_a_batch_of_triage_folders() {
    let root = scratch_dir("report-batch");
    let _ = std::fs::remove_dir_all(&root);
    let logs = corpus().join("evtx/attack");
    let hosts = [
        (
            "fileserver",
            [
                "T1021.002-SMB Windows Admin Shares/ID4688,4697,5140-5145 PSexec remote execution + admin share.evtx",
                "T1021.002-SMB Windows Admin Shares/ID5145-remote shell execution via SMB admin share.evtx",
            ],
        ),
        (
            "workstation",
            [
                "T1021.002-SMB Windows Admin Shares/ID4688-4648 Lateral movement with net use.evtx",
                "T1021.001-Remote Desktop Protocol/ID4688,4778,4779 RDP hijack direct.evtx",
            ],
        ),
    ];
    let mut inputs = Vec::new();
    for (host, files) in hosts {
        let dir = root.join(host).join("Windows/System32/winevt/Logs");
        std::fs::create_dir_all(&dir).unwrap();
        for (n, file) in files.iter().enumerate() {
            std::fs::copy(logs.join(file), dir.join(format!("Security-{n}.evtx"))).unwrap();
        }
        inputs.push(root.join(host));
    }
    let out = root.join("out");
    let result = scan_into(&inputs, &out, &["--raw-cells", "--artifacts", "evtx"]);
    assert!(result.status.code() == Some(0) || result.status.code() == Some(2));
    check_page(
        &out.join("report.html"),
        &out,
        &out,
        &chromium_dir().join("report-batch.png"),
    );
}

#[test]
fn planted_markup_stays_text() {
    use toolmark::pipeline::ImageReport;
    use toolmark::report::{html, FindingView, Graph, HostView};
    let planted = [
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(1)>",
        "</svg><script>alert(2)</script>",
    ];
    let evil = planted.join(" ");
    let mut image = ImageReport::new(Path::new("x"), "img");
    image.host = evil.clone();
    let mut row: Vec<String> = toolmark::pipeline::judge::FINDINGS
        .iter()
        .map(|c| format!("{c} {evil}"))
        .collect();
    row[6] = "2022-03-10T21:43:57.9101061Z".into();
    row[7] = "2022-03-10T21:50:00.0000000Z".into();
    let evidence: Vec<String> = toolmark::pipeline::judge::EVIDENCE
        .iter()
        .map(|c| format!("{c} {evil}"))
        .collect();
    image.view = HostView {
        findings: vec![FindingView {
            row,
            evidence: vec![evidence],
            evidence_total: 1,
            missing: vec![(evil.clone(), evil.clone())],
        }],
        logs: vec![std::array::from_fn(|_| evil.clone())],
    };
    let columns = toolmark::pipeline::lateral::COLUMNS;
    let edge: Vec<String> = columns
        .iter()
        .map(|c| match *c {
            "count" => "3".to_string(),
            "source_image" | "destination_image" => String::new(),
            _ => format!("{c} {evil}"),
        })
        .collect();
    let images = [&image];
    let graph = Graph::new(&images, &columns, &[edge]);
    let page_text = html::render(&evil, &images, &graph);
    for p in planted {
        assert!(!page_text.contains(p), "{p} left raw");
    }
    assert_eq!(
        page_text.matches("</svg>").count(),
        2,
        "graph and timeline only"
    );
    let page = chromium_dir().join("planted.html");
    std::fs::write(&page, &page_text).unwrap();
    let loaded = load(&page, None);
    assert!(loaded.console.is_empty(), "{:?}", loaded.console);
    assert!(loaded.requests.is_empty(), "{:?}", loaded.requests);
    assert!(!loaded.dom.contains("<script") && !loaded.dom.contains("<img"));
    assert_eq!(loaded.dom.matches("<svg").count(), 2);
    // The planted text is there, as text.
    assert!(loaded.dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(loaded
        .dom
        .contains("\"&gt;&lt;img src=x onerror=alert(1)&gt;"));
}
