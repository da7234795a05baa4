//! `observations.jsonl`: every record the matcher can judge, as it was observed, one
//! JSON object a line. It is lossless (event fields as Windows stored them, never the
//! formula-neutralised CSV cells), so `toolmark match` can judge a finished scan again
//! with other rules, and `toolmark merge` can link hosts scanned on other machines.
//!
//! The first line is a header: the format version, the image and host names and the
//! artifact kinds that were collected (so "not found" and "not collected" stay apart).
//! Each further line is one of:
//!
//! - `{"v": volume, "o": observation}`: any observation, whole;
//! - `{"shape": n, "v", "file", "channel", "event_id", "names": [...]}`: what the
//!   event lines of shape `n` share, written before the first of them (shapes are
//!   numbered 0, 1, … in the order they appear);
//! - `[n, locator, time, [values...]]`: an event record of shape `n`, its field
//!   values in the order of the shape's names (`time` is `null` when unknown).
//!
//! Format 2 writes event records as shapes and values: the names, channel, file
//! and volume that every record of a template repeats made half of the file (212
//! MB of 570 MB written for the bench's 280 MB of logs); a shape line costs less
//! than one event line and is written once per log and template. Past
//! [`MAX_SHAPES`] shapes or [`MAX_SHAPE_BYTES`] of their strings (or [`MAX_BUCKET`]
//! shapes of one outline) event records are
//! written whole, so neither side keeps more than that. Format 1 files (whole
//! lines only) are still read. The image's manifest records how many
//! observations follow the header (shape lines are not counted), so a file cut at
//! a line boundary is told from a whole one.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::collect::evtx::{EscapedFields, EventRecord};
use crate::output::decimal;
use crate::output::json::push_str;
use crate::traces::matcher::{Observation, Observed, Reference};
use crate::traces::ArtifactKind;

/// File name inside an image's output folder.
pub const FILE_NAME: &str = "observations.jsonl";

/// Version of the line format this toolmark writes.
pub const FORMAT: u32 = 2;

/// The oldest format still read (whole lines only).
const OLDEST_FORMAT: u32 = 1;

/// Shapes one file holds at most; later event records are written whole. A host
/// has a few hundred (about seven per log); 150 copies of one host's 94 logs,
/// each copy other shapes, kept 31 MiB more at 65 536 shapes.
pub const MAX_SHAPES: usize = 1 << 14;

/// Bytes of shape strings (names, file, channel, volume) one file holds at most:
/// a hostile log's records can each name 64 KiB of fields.
pub const MAX_SHAPE_BYTES: usize = 8 << 20;

/// Shapes of one outline (see [`Outline`]) the writer compares a record with at
/// most: a hostile log of many look-alike shapes costs whole lines, not a scan of
/// every shape for every record.
pub const MAX_BUCKET: usize = 32;

/// The first line of the file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Header {
    /// Always [`FORMAT`] for files this version writes.
    pub toolmark_observations: u32,
    /// Image name (the output folder's name).
    pub image: String,
    /// Host name as the scan determined it.
    pub host: String,
    /// Artifact kinds the scan collected.
    pub collected: Vec<ArtifactKind>,
}

/// One line after the header.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Line {
    /// Volume label.
    pub v: String,
    /// The observation.
    pub o: Observation,
}

/// A shape line.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ShapeLine {
    shape: u32,
    v: String,
    file: String,
    channel: String,
    event_id: u32,
    names: Vec<String>,
}

/// What the writer looks a record's shape up by, cheap to take from any record:
/// the event id, the number of fields, and the lengths of the names together,
/// the channel, the file and the volume. Records of one template in one log
/// agree on all of it.
type Outline = (u32, usize, usize, usize, usize, usize);

/// A shape as the writer keeps it: the names as they are written (JSON-escaped,
/// quotes included), so a record's escaped names compare without escaping again.
struct Shape {
    volume: String,
    file: String,
    channel: String,
    event_id: u32,
    names: Vec<String>,
}

/// The shapes written so far.
#[derive(Default)]
struct Shapes {
    by_outline: HashMap<Outline, Vec<u32>>,
    /// Every shape, by number.
    list: Vec<Shape>,
    /// Bytes of the strings of every shape kept.
    bytes: usize,
}

/// The escaped strings of one event line's shape, borrowed from the record.
struct Borrowed<'a> {
    volume: &'a str,
    file: &'a str,
    channel: &'a str,
    event_id: u32,
    escaped: &'a EscapedFields,
}

impl Borrowed<'_> {
    fn outline(&self) -> Outline {
        let names = self.escaped.names().map(str::len).sum();
        (
            self.event_id,
            self.escaped.len(),
            names,
            self.channel.len(),
            self.file.len(),
            self.volume.len(),
        )
    }

    /// The bytes its shape keeps.
    fn bytes(&self) -> usize {
        let names: usize = self.escaped.names().map(str::len).sum();
        names + self.volume.len() + self.file.len() + self.channel.len()
    }

    fn is(&self, shape: &Shape) -> bool {
        shape.event_id == self.event_id
            && shape.file == self.file
            && shape.channel == self.channel
            && shape.volume == self.volume
            && shape
                .names
                .iter()
                .map(String::as_str)
                .eq(self.escaped.names())
    }
}

impl Shapes {
    /// The number of the record's shape, `(n, true)` when it is new (its line must
    /// be written first); `None` when the record is to be written whole.
    fn number(&mut self, record: &Borrowed<'_>) -> Option<(u32, bool)> {
        let bucket = self.by_outline.entry(record.outline()).or_default();
        let list = &mut self.list;
        if let Some(&n) = bucket.iter().find(|&&n| record.is(&list[n as usize])) {
            return Some((n, false));
        }
        let bytes = record.bytes();
        if bucket.len() >= MAX_BUCKET
            || list.len() >= MAX_SHAPES
            || self.bytes + bytes > MAX_SHAPE_BYTES
        {
            return None;
        }
        self.bytes += bytes;
        let n = u32::try_from(list.len()).ok()?;
        bucket.push(n);
        list.push(Shape {
            volume: record.volume.to_string(),
            file: record.file.to_string(),
            channel: record.channel.to_string(),
            event_id: record.event_id,
            names: record.escaped.names().map(str::to_string).collect(),
        });
        Some((n, true))
    }
}

/// Appends the line of a new shape, newline included.
fn shape_line(out: &mut Vec<u8>, n: u32, shape: &Shape) {
    let mut digits = [0u8; 20];
    out.extend_from_slice(b"{\"shape\":");
    out.extend_from_slice(decimal(u64::from(n), &mut digits).as_bytes());
    for (key, value) in [
        (&b",\"v\":"[..], &shape.volume),
        (b",\"file\":", &shape.file),
        (b",\"channel\":", &shape.channel),
    ] {
        out.extend_from_slice(key);
        push_str(out, value);
    }
    out.extend_from_slice(b",\"event_id\":");
    out.extend_from_slice(decimal(u64::from(shape.event_id), &mut digits).as_bytes());
    out.extend_from_slice(b",\"names\":[");
    push_joined(out, shape.names.iter().map(String::as_str));
    out.extend_from_slice(b"]}\n");
}

/// Appends the line of an event record of shape `n`, newline included.
fn shaped_line(
    out: &mut Vec<u8>,
    n: u32,
    escaped: &EscapedFields,
    time: Option<&str>,
    locator: &str,
) {
    out.push(b'[');
    out.extend_from_slice(decimal(u64::from(n), &mut [0u8; 20]).as_bytes());
    out.push(b',');
    push_str(out, locator);
    out.push(b',');
    push_time(out, time);
    out.extend_from_slice(b",[");
    push_joined(out, escaped.values());
    out.extend_from_slice(b"]]\n");
}

/// Appends a time as a JSON string, or `null`.
fn push_time(out: &mut Vec<u8>, time: Option<&str>) {
    match time {
        Some(t) => push_str(out, t),
        None => out.extend_from_slice(b"null"),
    }
}

/// Appends JSON texts (already escaped) comma-separated.
fn push_joined<'a>(out: &mut Vec<u8>, items: impl Iterator<Item = &'a str>) {
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(item.as_bytes());
    }
}

thread_local! {
    /// An event line being rendered, one buffer per collector thread.
    static LINE: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Appends the line of one event observation, newline included; `file` and
/// `locator` make its [`Reference`](crate::traces::matcher::Reference) (artifact `evtx`).
fn event_line(
    out: &mut Vec<u8>,
    volume: &str,
    record: &EventRecord,
    escaped: &EscapedFields,
    time: Option<&str>,
    file: &str,
    locator: &str,
) {
    out.extend_from_slice(b"{\"v\":");
    push_str(out, volume);
    out.extend_from_slice(b",\"o\":{\"time\":");
    push_time(out, time);
    out.extend_from_slice(b",\"reference\":{\"artifact\":\"evtx\",\"file\":");
    push_str(out, file);
    out.extend_from_slice(b",\"locator\":");
    push_str(out, locator);
    out.extend_from_slice(b"},\"observed\":{\"event\":{\"channel\":");
    push_str(out, &record.channel);
    out.extend_from_slice(b",\"event_id\":");
    out.extend_from_slice(decimal(u64::from(record.event_id), &mut [0u8; 20]).as_bytes());
    out.extend_from_slice(b",\"fields\":[");
    escaped.pairs(out);
    out.extend_from_slice(b"]}}}}\n");
}

/// Writes one image's observations file, counting its observations.
pub struct ObservationWriter {
    file: Mutex<Option<Output>>,
    lines: AtomicU64,
}

/// The open file and the shapes written to it.
struct Output {
    writer: BufWriter<File>,
    shapes: Shapes,
}

impl ObservationWriter {
    /// Creates the file in `dir` and writes its header.
    pub fn create(dir: &Path, header: &Header) -> std::io::Result<Self> {
        let mut writer = BufWriter::with_capacity(1 << 16, File::create(dir.join(FILE_NAME))?);
        serde_json::to_writer(&mut writer, header)?;
        writer.write_all(b"\n")?;
        Ok(Self::with_file(Some(Output {
            writer,
            shapes: Shapes::default(),
        })))
    }

    /// A writer that drops everything (tests, and scans that keep no file).
    pub fn none() -> Self {
        Self::with_file(None)
    }

    fn with_file(file: Option<Output>) -> Self {
        ObservationWriter {
            file: Mutex::new(file),
            lines: AtomicU64::new(0),
        }
    }

    fn with(&self, write: impl FnOnce(&mut Output) -> std::io::Result<()>) -> std::io::Result<()> {
        let mut guard = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(w) = guard.as_mut() {
            write(w)?;
        }
        self.lines.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Appends one observation.
    pub fn write(&self, volume: &str, observation: &Observation) -> std::io::Result<()> {
        let line = serde_json::to_vec(
            &(Line {
                v: volume.to_string(),
                o: observation.clone(),
            }),
        )?;
        self.with(|o| {
            o.writer.write_all(&line)?;
            o.writer.write_all(b"\n")
        })
    }

    /// Appends one event record as an observation (its reference: artifact `evtx`,
    /// `file`, `locator`): a line of its shape's values (and the shape's line
    /// first when it is new), or past the limits the line `serde_json` would write
    /// for its [`Line`]; written by hand (this runs once per event record).
    pub fn write_event(
        &self,
        volume: &str,
        record: &EventRecord,
        escaped: &EscapedFields,
        time: Option<&str>,
        file: &str,
        locator: &str,
    ) -> std::io::Result<()> {
        LINE.with_borrow_mut(|line| {
            line.clear();
            self.with(|o| {
                let shape = Borrowed {
                    volume,
                    file,
                    channel: &record.channel,
                    event_id: record.event_id,
                    escaped,
                };
                match o.shapes.number(&shape) {
                    Some((n, new)) => {
                        if new {
                            shape_line(line, n, &o.shapes.list[n as usize]);
                        }
                        shaped_line(line, n, escaped, time, locator);
                    }
                    None => event_line(line, volume, record, escaped, time, file, locator),
                }
                o.writer.write_all(line)
            })
        })
    }

    /// Flushes the file; returns the number of lines written after the header.
    pub fn finish(self) -> std::io::Result<u64> {
        let lines = self.lines.into_inner();
        match self.file.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(mut o) => o.writer.flush().map(|()| lines),
            None => Ok(lines),
        }
    }
}

/// The observations of an observations file after its header.
pub struct Lines {
    path: std::path::PathBuf,
    lines: BoundedLines,
    /// Lines read, the header included.
    number: u64,
    /// Observations read.
    observations: u64,
    /// Observations the manifest says follow the header; checked at the end, once.
    expected: Option<u64>,
    /// The shapes read so far, by number.
    shapes: Vec<ShapeLine>,
    /// Bytes of their strings.
    shape_bytes: usize,
}

/// An event line of a shape: its number, locator, time and values.
type ShapedLine = (u32, String, Option<String>, Vec<String>);

impl Lines {
    fn error(&self, e: impl std::fmt::Display) -> String {
        format!("{} line {}: {e}", self.path.display(), self.number)
    }

    /// Reads one line: `Ok(None)` for a shape line (kept for the lines after it).
    fn line(&mut self, text: &str) -> Result<Option<Line>, String> {
        if text.starts_with('[') {
            let (n, locator, time, values): ShapedLine =
                serde_json::from_str(text).map_err(|e| self.error(e))?;
            let shape = self
                .shapes
                .get(n as usize)
                .ok_or_else(|| self.error(format!("shape {n} used before its line")))?;
            if values.len() != shape.names.len() {
                return Err(self.error(format!(
                    "{} values for the {} names of shape {n}",
                    values.len(),
                    shape.names.len()
                )));
            }
            let fields = shape.names.iter().cloned().zip(values).collect();
            return Ok(Some(Line {
                v: shape.v.clone(),
                o: Observation {
                    time,
                    reference: Reference {
                        artifact: "evtx".to_string(),
                        file: shape.file.clone(),
                        locator,
                    },
                    observed: Observed::Event {
                        channel: shape.channel.clone(),
                        event_id: shape.event_id,
                        fields,
                    },
                },
            }));
        }
        if text.starts_with("{\"shape\":") {
            let shape: ShapeLine = serde_json::from_str(text).map_err(|e| self.error(e))?;
            // Unescaped, the strings take no more than the writer counted.
            let bytes = shape.names.iter().map(String::len).sum::<usize>()
                + shape.v.len()
                + shape.file.len()
                + shape.channel.len();
            if shape.shape as usize != self.shapes.len()
                || self.shapes.len() >= MAX_SHAPES
                || self.shape_bytes + bytes > MAX_SHAPE_BYTES
            {
                return Err(self.error(format!(
                    "shape {} where shape {} was due (at most {MAX_SHAPES}, of {MAX_SHAPE_BYTES} bytes)",
                    shape.shape,
                    self.shapes.len()
                )));
            }
            self.shape_bytes += bytes;
            self.shapes.push(shape);
            return Ok(None);
        }
        serde_json::from_str(text)
            .map(Some)
            .map_err(|e| self.error(e))
    }
}

impl Iterator for Lines {
    type Item = Result<Line, String>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let Some(line) = self.lines.next() else {
                // A file cut at a line boundary reads as valid lines: only the
                // count the manifest kept tells it from a whole one.
                let expected = self.expected.take()?;
                let read = self.observations;
                return (read != expected).then(|| {
                    Err(format!(
                        "{}: {read} observations where the manifest counted {expected} (cut short or changed)",
                        self.path.display()
                    ))
                });
            };
            self.number += 1;
            let line = match line {
                Ok(line) => line,
                Err(e) => return Some(Err(format!("{}: {e}", self.path.display()))),
            };
            match self.line(&line) {
                Ok(None) => continue,
                Ok(Some(read)) => {
                    self.observations += 1;
                    return Some(Ok(read));
                }
                Err(e) => {
                    // A line that does not read is an observation lost.
                    self.observations += 1;
                    return Some(Err(e));
                }
            }
        }
    }
}

/// The longest line read: an event line is at most a 64 KiB record's fields
/// escaped, and a line past this is damage (or a file no scan wrote), not a
/// reason to hold gigabytes.
const MAX_LINE: u64 = 64 << 20;

/// The lines of a file, each at most [`MAX_LINE`] bytes: a longer one is an error
/// and ends the reading.
struct BoundedLines(Option<BufReader<File>>);

impl Iterator for BoundedLines {
    type Item = std::io::Result<String>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut line = Vec::new();
        let reader = self.0.as_mut()?;
        match reader
            .by_ref()
            .take(MAX_LINE + 1)
            .read_until(b'\n', &mut line)
        {
            Ok(0) => None,
            Ok(n) if n as u64 > MAX_LINE => {
                self.0 = None;
                Some(Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("a line longer than {MAX_LINE} bytes"),
                )))
            }
            Ok(_) => {
                if line.last() == Some(&b'\n') {
                    line.pop();
                    if line.last() == Some(&b'\r') {
                        line.pop();
                    }
                }
                Some(String::from_utf8(line).map_err(|e| {
                    std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string())
                }))
            }
            Err(e) => Some(Err(e)),
        }
    }
}

/// Opens an observations file: its header, and its lines to read one by one.
/// `expected` is the number of observations the image's manifest counted after
/// the header (`None` for manifests written before the count was kept): the last
/// item is an error when the file holds another number.
pub fn read(path: &Path, expected: Option<u64>) -> Result<(Header, Lines), String> {
    let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut lines = BoundedLines(Some(BufReader::with_capacity(1 << 16, file)));
    let first = lines
        .next()
        .ok_or_else(|| format!("{}: empty", path.display()))?
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let header: Header = serde_json::from_str(&first)
        .map_err(|e| format!("{}: not an observations file: {e}", path.display()))?;
    if !(OLDEST_FORMAT..=FORMAT).contains(&header.toolmark_observations) {
        return Err(format!(
            "{}: observations format {} (this toolmark reads {OLDEST_FORMAT} to {FORMAT})",
            path.display(),
            header.toolmark_observations
        ));
    }
    Ok((
        header,
        Lines {
            path: path.to_path_buf(),
            lines,
            number: 1,
            observations: 0,
            expected,
            shapes: Vec::new(),
            shape_bytes: 0,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traces::matcher::{Observation, Reference};

    #[test]
    fn an_event_line_is_what_serde_json_writes_and_reads_back() {
        let record = EventRecord {
            channel: "Microsoft-Windows-Sysmon/Operational".into(),
            event_id: 1,
            fields: vec![
                (
                    "CommandLine".into(),
                    "cmd /c \"echo\tx\" \\ \u{1}\u{7f}é".into(),
                ),
                ("Data".into(), String::new()),
                ("Data".into(), "second".into()),
            ],
            ..EventRecord::default()
        };
        let reference = Reference {
            artifact: "evtx".into(),
            file: "Windows/System32/winevt/Logs/a\"b.evtx".into(),
            locator: "record 7".into(),
        };
        for (time, fields) in [(Some("2024-01-01T00:00:00.0000000Z"), true), (None, false)] {
            let record = EventRecord {
                fields: if fields {
                    record.fields.clone()
                } else {
                    Vec::new()
                },
                ..record.clone()
            };
            let mut line = Vec::new();
            let escaped = EscapedFields::new(&record.fields);
            event_line(
                &mut line,
                "1@2",
                &record,
                &escaped,
                time,
                &reference.file,
                &reference.locator,
            );
            let mut observation = Observation::from_event(&record, &reference.file);
            observation.time = time.map(str::to_string);
            observation.reference = reference.clone();
            let expected = serde_json::to_string(&Line {
                v: "1@2".into(),
                o: observation,
            })
            .unwrap();
            assert_eq!(String::from_utf8(line).unwrap(), expected + "\n");
        }
    }

    /// A test record: channel, event id, file, fields.
    type Record<'a> = (&'a str, u32, &'a str, Vec<(String, String)>);

    /// Writes `records` through a writer, checks that they read back as their
    /// whole observations, and returns the file's text.
    fn round_trip(records: &[Record<'_>]) -> String {
        let dir = std::env::temp_dir().join(format!(
            "tm-observations-{}-{}",
            std::process::id(),
            records.len()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let header = Header {
            toolmark_observations: FORMAT,
            image: "img".into(),
            host: "HOST".into(),
            collected: vec![ArtifactKind::Evtx],
        };
        let writer = ObservationWriter::create(&dir, &header).unwrap();
        for (i, (channel, event_id, file, fields)) in records.iter().enumerate() {
            let record = EventRecord {
                channel: channel.to_string(),
                event_id: *event_id,
                fields: fields.clone(),
                ..EventRecord::default()
            };
            let escaped = EscapedFields::new(&record.fields);
            let time = (i % 2 == 0).then_some("2024-01-01T00:00:00.0000000Z");
            let locator = format!("record {i}");
            writer
                .write_event("1@2", &record, &escaped, time, file, &locator)
                .unwrap();
        }
        let count = writer.finish().unwrap();
        assert_eq!(count, records.len() as u64);
        let path = dir.join(FILE_NAME);
        let text = std::fs::read_to_string(&path).unwrap();
        let (_, lines) = read(&path, Some(count)).unwrap();
        let read: Vec<String> = lines
            .map(|l| serde_json::to_string(&l.unwrap()).unwrap())
            .collect();
        assert_eq!(read, expected(records));
        std::fs::remove_dir_all(&dir).unwrap();
        text
    }

    /// What each record must read back as.
    fn expected(records: &[Record<'_>]) -> Vec<String> {
        records
            .iter()
            .enumerate()
            .map(|(i, (channel, event_id, file, fields))| {
                let record = EventRecord {
                    channel: channel.to_string(),
                    event_id: *event_id,
                    fields: fields.clone(),
                    ..EventRecord::default()
                };
                let mut o = Observation::from_event(&record, file);
                o.time = (i % 2 == 0).then(|| "2024-01-01T00:00:00.0000000Z".to_string());
                o.reference.locator = format!("record {i}");
                serde_json::to_string(&Line { v: "1@2".into(), o }).unwrap()
            })
            .collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn event_records_written_as_shapes_read_back_whole() {
        let a = pairs(&[("Image", "C:\\x \"y\".exe"), ("Data", ""), ("Data", "2")]);
        let b = pairs(&[("Image", "other"), ("Data", "é\u{1}"), ("Data", "3")]);
        let records = vec![
            ("Security", 4688, "S.evtx", a.clone()),
            ("Security", 4688, "S.evtx", b.clone()),
            // Same names, another file or event id: other shapes.
            ("Security", 4688, "T.evtx", a.clone()),
            ("Security", 4689, "S.evtx", b.clone()),
            ("Security", 4688, "S.evtx", pairs(&[])),
            ("Security", 4688, "S.evtx", a),
        ];
        let text = round_trip(&records);
        // Four shapes, each written once, and one value line per record.
        assert_eq!(text.matches("{\"shape\":").count(), 4);
        assert_eq!(text.lines().filter(|l| l.starts_with('[')).count(), 6);
    }

    #[test]
    fn look_alike_shapes_past_the_bucket_are_written_whole() {
        // Files whose names have one length: one outline, more shapes than a
        // bucket holds.
        let files: Vec<String> = (0..MAX_BUCKET + 3)
            .map(|i| format!("{i:04}.evtx"))
            .collect();
        let records: Vec<Record<'_>> = files
            .iter()
            .map(|f| ("Security", 1102, f.as_str(), pairs(&[("A", "b")])))
            .collect();
        let text = round_trip(&records);
        assert_eq!(text.matches("{\"shape\":").count(), MAX_BUCKET);
        assert_eq!(text.matches("{\"v\":").count(), 3);
    }

    #[test]
    fn shapes_past_the_byte_budget_are_written_whole() {
        // 64 shapes of one 160 KiB name each: 10 MiB of names, past the budget.
        let name = "N".repeat(160 << 10);
        let records: Vec<Record<'_>> = (0..64)
            .map(|id| ("Security", id, "S.evtx", vec![(name.clone(), "v".into())]))
            .collect();
        let text = round_trip(&records);
        let kept = MAX_SHAPE_BYTES / (name.len() + 2 + "S.evtx1@2Security".len());
        assert_eq!(text.matches("{\"shape\":").count(), kept);
        assert_eq!(text.matches("{\"v\":").count(), 64 - kept);
    }

    /// A format 2 header line for hand-written files.
    const HEADER_LINE: &str =
        r#"{"toolmark_observations":2,"image":"i","host":"h","collected":[]}"#;

    /// Reads the observations file made of the header line and `body`.
    fn read_body(tag: &str, body: &str) -> Vec<Result<Line, String>> {
        let dir =
            std::env::temp_dir().join(format!("tm-observations-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(FILE_NAME);
        std::fs::write(&path, format!("{HEADER_LINE}\n{body}\n")).unwrap();
        let (_, lines) = read(&path, None).unwrap();
        let items = lines.collect();
        std::fs::remove_dir_all(&dir).unwrap();
        items
    }

    #[test]
    fn a_line_past_the_limit_is_an_error_and_ends_the_reading() {
        let long = "x".repeat(MAX_LINE as usize + 1);
        let shape = r#"{"shape":0,"v":"1","file":"f","channel":"c","event_id":1,"names":[]}"#;
        let items = read_body("long", &format!("{long}\n{shape}\n[0,\"r\",null,[]]"));
        assert_eq!(items.len(), 1, "nothing after the long line is read");
        let error = items[0].as_ref().expect_err("an error");
        assert!(error.contains("longer than"), "{error}");
    }

    #[test]
    fn a_value_line_without_its_shape_or_with_another_count_is_an_error() {
        let shape = r#"{"shape":0,"v":"1","file":"f","channel":"c","event_id":1,"names":["a"]}"#;
        for (body, error) in [
            (
                r#"[0,"record 1",null,["x"]]"#,
                "shape 0 used before its line",
            ),
            (
                &format!("{shape}\n[0,\"r\",null,[\"x\",\"y\"]]")[..],
                "2 values",
            ),
            (
                &format!("{shape}\n{}", shape.replace(":0,", ":5,"))[..],
                "shape 5 where shape 1",
            ),
        ] {
            let errors: Vec<String> = read_body("bad", body)
                .into_iter()
                .filter_map(Result::err)
                .collect();
            assert!(errors.iter().any(|e| e.contains(error)), "{errors:?}");
        }
    }
}
