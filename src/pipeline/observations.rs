//! `observations.jsonl`: every record the matcher can judge, as it was observed, one
//! JSON object a line. It is lossless (event fields as Windows stored them, never the
//! formula-neutralised CSV cells), so `toolmark match` can judge a finished scan again
//! with other rules, and `toolmark merge` can link hosts scanned on other machines.
//!
//! The first line is a header: the format version, the image and host names and the
//! artifact kinds that were collected (so "not found" and "not collected" stay apart).
//! Each further line is `{"v": volume, "o": observation}`. The image's manifest
//! records how many lines follow the header, so a file cut at a line boundary is
//! told from a whole one.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::collect::evtx::{EscapedFields, EventRecord};
use crate::output::decimal;
use crate::output::json::push_str;
use crate::traces::matcher::Observation;
use crate::traces::ArtifactKind;

/// File name inside an image's output folder.
pub const FILE_NAME: &str = "observations.jsonl";

/// Version of the line format.
pub const FORMAT: u32 = 1;

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
    match time {
        Some(t) => push_str(out, t),
        None => out.extend_from_slice(b"null"),
    }
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

/// Writes one image's observations file, counting its lines.
pub struct ObservationWriter {
    file: Mutex<Option<BufWriter<File>>>,
    lines: AtomicU64,
}

impl ObservationWriter {
    /// Creates the file in `dir` and writes its header.
    pub fn create(dir: &Path, header: &Header) -> std::io::Result<Self> {
        let mut writer = BufWriter::with_capacity(1 << 16, File::create(dir.join(FILE_NAME))?);
        serde_json::to_writer(&mut writer, header)?;
        writer.write_all(b"\n")?;
        Ok(Self::with_file(Some(writer)))
    }

    /// A writer that drops everything (tests, and scans that keep no file).
    pub fn none() -> Self {
        Self::with_file(None)
    }

    fn with_file(file: Option<BufWriter<File>>) -> Self {
        ObservationWriter {
            file: Mutex::new(file),
            lines: AtomicU64::new(0),
        }
    }

    fn with(
        &self,
        write: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
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
        self.with(|w| {
            w.write_all(&line)?;
            w.write_all(b"\n")
        })
    }

    /// Appends one event record as an observation (its reference: artifact `evtx`,
    /// `file`, `locator`): the line `serde_json` would write for its [`Line`],
    /// written by hand (this runs once per event record).
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
            event_line(line, volume, record, escaped, time, file, locator);
            self.with(|w| w.write_all(line))
        })
    }

    /// Flushes the file; returns the number of lines written after the header.
    pub fn finish(self) -> std::io::Result<u64> {
        let lines = self.lines.into_inner();
        match self.file.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(mut w) => w.flush().map(|()| lines),
            None => Ok(lines),
        }
    }
}

/// The lines of an observations file after its header.
pub struct Lines {
    path: std::path::PathBuf,
    lines: std::io::Lines<BufReader<File>>,
    /// Lines read, the header included.
    number: u64,
    /// Lines the manifest says follow the header; checked at the end, once.
    expected: Option<u64>,
}

impl Iterator for Lines {
    type Item = Result<Line, String>;

    fn next(&mut self) -> Option<Self::Item> {
        let Some(line) = self.lines.next() else {
            // A file cut at a line boundary reads as valid lines: only the count
            // the manifest kept tells it from a whole one.
            let expected = self.expected.take()?;
            let read = self.number - 1;
            return (read != expected).then(|| {
                Err(format!(
                    "{}: {read} observations where the manifest counted {expected} (cut short or changed)",
                    self.path.display()
                ))
            });
        };
        self.number += 1;
        Some(
            line.map_err(|e| format!("{}: {e}", self.path.display()))
                .and_then(|l| {
                    serde_json::from_str(&l)
                        .map_err(|e| format!("{} line {}: {e}", self.path.display(), self.number))
                }),
        )
    }
}

/// Opens an observations file: its header, and its lines to read one by one.
/// `expected` is the number of lines the image's manifest counted after the
/// header (`None` for manifests written before the count was kept): the last
/// item is an error when the file holds another number.
pub fn read(path: &Path, expected: Option<u64>) -> Result<(Header, Lines), String> {
    let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut lines = BufReader::with_capacity(1 << 16, file).lines();
    let first = lines
        .next()
        .ok_or_else(|| format!("{}: empty", path.display()))?
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let header: Header = serde_json::from_str(&first)
        .map_err(|e| format!("{}: not an observations file: {e}", path.display()))?;
    if header.toolmark_observations != FORMAT {
        return Err(format!(
            "{}: observations format {} (this toolmark reads {FORMAT})",
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
            expected,
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
}
