//! `scan --xlsx`: the workbooks, read back with an independent reader (Python's
//! openpyxl, Debian python3-openpyxl), hold the CSV tables' rows and values, with
//! times typed as dates, the header frozen and filtered.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;
use serde_json::Value;

/// Dumps every sheet of a workbook as JSON: name -> {freeze, filter, widths,
/// rows}; each cell `null`, `["d", iso]` (a datetime), `["n", number]` or `["s",
/// text]`, text with the format's `_xHHHH_` escapes of control characters undone
/// (Excel undoes them; openpyxl 3.0 leaves them to its `unescape`).
const DUMP: &str = r#"
import datetime, json, sys, openpyxl
from openpyxl.utils.escape import unescape
wb = openpyxl.load_workbook(sys.argv[1])
out = {}
for ws in wb.worksheets:
    rows = []
    for row in ws.iter_rows():
        cells = []
        for c in row:
            v = c.value
            if v is None: cells.append(None)
            elif isinstance(v, datetime.datetime): cells.append(["d", v.isoformat()])
            elif isinstance(v, (int, float)): cells.append(["n", v])
            else: cells.append(["s", unescape(str(v))])
        rows.append(cells)
    widths = {k: d.width for k, d in ws.column_dimensions.items() if d.width}
    out[ws.title] = {"freeze": ws.freeze_panes, "filter": ws.auto_filter.ref,
                     "widths": widths, "rows": rows}
json.dump(out, sys.stdout)
"#;

fn dump(workbook: &Path) -> BTreeMap<String, Value> {
    // Debian's own python3, where python3-openpyxl installs (another python3
    // may come first in PATH).
    let python = Path::new("/usr/bin/python3");
    assert!(
        python.is_file(),
        "/usr/bin/python3 missing: apt-get install python3-openpyxl"
    );
    let out = run_ok(
        std::process::Command::new(python)
            .args(["-c", DUMP])
            .arg(workbook),
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `2022-03-10T21:43:57.9101061Z` -> milliseconds since the epoch, as openpyxl
/// reads a spreadsheet datetime (`2022-03-10T21:43:57.910000`) to the millisecond.
fn millis(iso: &str) -> i64 {
    let iso = iso.trim_end_matches('Z');
    let (date, time) = iso.split_once('T').unwrap();
    let d: Vec<i64> = date.split('-').map(|p| p.parse().unwrap()).collect();
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let t: Vec<i64> = hms.split(':').map(|p| p.parse().unwrap()).collect();
    let frac: f64 = format!("0.{frac}").parse().unwrap();
    // Days from civil (Howard Hinnant), enough for comparing two spellings.
    let (y, m) = if d[1] <= 2 {
        (d[0] - 1, d[1] + 9)
    } else {
        (d[0], d[1] - 3)
    };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d[2] - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    let seconds = days * 86_400 + t[0] * 3600 + t[1] * 60 + t[2];
    seconds * 1000 + (frac * 1000.0).round() as i64
}

/// Checks that `sheet` holds `csv`'s header and rows; returns the datetime cells seen.
fn same_as_csv(name: &str, sheet: &Value, csv: &Path) -> usize {
    let (header, rows) = read_csv(csv);
    let sheet_rows = sheet["rows"].as_array().unwrap();
    assert_eq!(sheet_rows.len(), rows.len() + 1, "{name}: rows");
    assert_eq!(sheet["freeze"], "A2", "{name}: header frozen");
    assert!(
        sheet["filter"]
            .as_str()
            .is_some_and(|f| f.starts_with("A1:")),
        "{name}: filter"
    );
    let text = |v: &Value| v.get(1).and_then(Value::as_str).unwrap_or("").to_string();
    let sheet_header: Vec<String> = sheet_rows[0].as_array().unwrap().iter().map(text).collect();
    // Sheet columns: every CSV column, a time column's 100 ns text beside it.
    let mut map = Vec::new();
    for (c, h) in header.iter().enumerate() {
        assert_eq!(sheet_header.get(map.len()), Some(h), "{name}: column {c}");
        map.push((c, false));
        if sheet_header.get(map.len()) == Some(&format!("{h} (100 ns)")) {
            map.push((c, true));
        }
    }
    assert_eq!(map.len(), sheet_header.len(), "{name}: columns");
    let mut dates = 0;
    for (r, row) in rows.iter().enumerate() {
        let cells = sheet_rows[r + 1].as_array().unwrap();
        for (s, &(c, text_beside)) in map.iter().enumerate() {
            let want = &row[c];
            let got = cells.get(s).unwrap_or(&Value::Null);
            let at = format!("{name} row {} column {}", r + 2, sheet_header[s]);
            match got {
                Value::Null => assert_eq!(want, "", "{at}"),
                _ if text_beside => assert_eq!(&text(got), want, "{at}"),
                _ => match got[0].as_str().unwrap() {
                    "d" => {
                        dates += 1;
                        assert_eq!(millis(&text(got)), millis(want), "{at}: {got} vs {want}");
                    }
                    "n" => assert_eq!(
                        got[1].as_f64().unwrap(),
                        want.parse::<f64>().unwrap(),
                        "{at}"
                    ),
                    _ => assert_eq!(&text(got), want, "{at}"),
                },
            }
        }
    }
    dates
}

#[test]
fn workbooks_hold_the_csv_tables_with_typed_times() {
    let out = scratch_dir("xlsx").join("out");
    let result = scan_into(&[root().join("samples/demo.E01")], &out, &["--xlsx"]);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let image = out.join("demo");
    let sheets = dump(&image.join("toolmark.xlsx"));
    let mut dates = 0;
    let mut tables = 0;
    for (name, sheet) in &sheets {
        let csv = image.join(format!("{name}.csv"));
        assert!(csv.is_file(), "sheet {name} has no CSV");
        dates += same_as_csv(name, sheet, &csv);
        tables += 1;
    }
    for name in ["findings", "evidence", "evtx", "timeline", "errors"] {
        assert!(sheets.contains_key(name), "no sheet {name}");
    }
    assert!(tables >= 10, "{tables} sheets");
    // Every timeline row has a time, and it is a datetime cell.
    let timeline_rows = read_csv(&image.join("timeline.csv")).1.len();
    assert!(
        timeline_rows > 100 && dates >= timeline_rows,
        "{dates} datetime cells"
    );
    // Widths are fitted: the evtx sheet's event_data column is wider than a default.
    let widths = sheets["evtx"]["widths"].as_object().unwrap();
    assert!(
        widths.values().any(|w| w.as_f64().unwrap() > 40.0),
        "{widths:?}"
    );
    // The batch workbook of a single image: its tables and the batch's edges.
    let top = dump(&out.join("toolmark.xlsx"));
    same_as_csv(
        "lateral_movement",
        &top["lateral_movement"],
        &out.join("lateral_movement.csv"),
    );
    same_as_csv("findings", &top["findings"], &image.join("findings.csv"));
}
