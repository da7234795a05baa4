//! Event logs (EVTX) through the `evtx` crate, flattened into one record per event.
//!
//! The crate renders each record as JSON; we keep the `System` facts every analysis
//! needs (channel, provider, event id, record id, time, computer) and the event's
//! own fields (`EventData`, or the first element of `UserData`) as ordered
//! name/value pairs, so nothing is lost and the lateral-movement columns can be
//! picked by name. A record the crate cannot parse is counted and reported, and
//! the rest of the file is still read.

use std::io::{Read, Seek};

use std::sync::Arc;

use evtx::{EvtxChunkData, EvtxParser, ParserSettings};
use serde_json::{Map, Value};

/// One event record.
#[derive(Clone, Debug, Default)]
pub struct EventRecord {
    /// `EventRecordID`.
    pub record_id: u64,
    /// `TimeCreated/@SystemTime` as ISO-8601 UTC with 100 ns digits.
    pub time: String,
    /// `Channel`, e.g. `Security`.
    pub channel: String,
    /// `Provider/@Name`.
    pub provider: String,
    /// `Provider/@EventSourceName`, which classic (pre-Vista style) providers set.
    pub event_source: String,
    /// `EventID` (without qualifiers).
    pub event_id: u32,
    /// `Computer`.
    pub computer: String,
    /// `Level`.
    pub level: String,
    /// `Security/@UserID`, when present.
    pub user_sid: String,
    /// Event fields in document order: `EventData/Data[@Name]` or `UserData/*/*`.
    pub fields: Vec<(String, String)>,
}

impl EventRecord {
    /// The value of a field by exact name.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// All fields as one compact JSON object (names in document order).
    pub fn fields_json(&self) -> String {
        let map: Map<String, Value> = self
            .fields
            .iter()
            .map(|(n, v)| (n.clone(), Value::String(v.clone())))
            .collect();
        Value::Object(map).to_string()
    }
}

/// Counts from reading one log.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogStats {
    /// Records read.
    pub records: u64,
    /// Records (or chunks) that could not be parsed.
    pub errors: u64,
}

impl LogStats {
    /// Counts one parsed record and hands it on flattened, or its error.
    fn deliver(
        &mut self,
        record: evtx::err::Result<evtx::SerializedEvtxRecord<Value>>,
        on_record: &mut dyn FnMut(EventRecord),
        on_error: &mut dyn FnMut(String),
    ) {
        match record {
            Ok(r) => {
                self.records += 1;
                on_record(flatten(r.event_record_id, r.timestamp, &r.data));
            }
            Err(e) => {
                self.errors += 1;
                on_error(e.to_string());
            }
        }
    }
}

/// Reads every record of an EVTX file, calling `on_record` for each, and
/// `on_error` for each record or chunk that fails.
pub fn read_log<R: Read + Seek + Send>(
    reader: R,
    threads: usize,
    on_record: &mut dyn FnMut(EventRecord),
    on_error: &mut dyn FnMut(String),
) -> Result<LogStats, String> {
    let settings = ParserSettings::new()
        .num_threads(threads.max(1))
        .separate_json_attributes(true);
    let mut parser = EvtxParser::from_read_seek(reader)
        .map_err(|e| format!("not an event log: {e}"))?
        .with_configuration(settings);
    let mut stats = LogStats::default();
    for record in parser.records_json_value() {
        stats.deliver(record, on_record, on_error);
    }
    Ok(stats)
}

/// Parses one 64 KiB chunk found outside any log file (carved); its records are
/// rendered with the templates it holds. With `verify`, a chunk whose checksums
/// fail is refused; without, whatever the parser can read of it is rendered.
pub fn read_chunk(
    data: Vec<u8>,
    verify: bool,
    on_record: &mut dyn FnMut(EventRecord),
    on_error: &mut dyn FnMut(String),
) -> Result<LogStats, String> {
    let mut chunk =
        EvtxChunkData::new(data, verify).map_err(|e| format!("not an intact chunk: {e}"))?;
    let settings = Arc::new(
        ParserSettings::new()
            .num_threads(1)
            .separate_json_attributes(true),
    );
    let mut parsed = chunk.parse(settings).map_err(|e| format!("chunk: {e}"))?;
    let mut stats = LogStats::default();
    for record in parsed.iter() {
        stats.deliver(
            record.and_then(|r| r.into_json_value()),
            on_record,
            on_error,
        );
    }
    Ok(stats)
}

/// ISO-8601 UTC with seven fractional digits, the precision of the FILETIME behind it.
pub fn iso_time(ts: jiff::Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%S.%7fZ").to_string()
}

fn flatten(record_id: u64, time: jiff::Timestamp, data: &Value) -> EventRecord {
    let event = data.get("Event").unwrap_or(data);
    let system = event.get("System").cloned().unwrap_or(Value::Null);
    let attr = |node: &str, name: &str| {
        system
            .get(format!("{node}_attributes"))
            .and_then(|a| a.get(name))
            .map(text)
            .unwrap_or_default()
    };
    let mut fields = Vec::new();
    if let Some(data) = event.get("EventData") {
        collect_fields(data, &mut fields);
    } else if let Some(Value::Object(user)) = event.get("UserData") {
        // UserData holds one provider-defined element whose children are the fields.
        if let Some((_, inner)) = user.iter().find(|(k, _)| !k.ends_with("_attributes")) {
            collect_fields(inner, &mut fields);
        }
    }
    EventRecord {
        record_id,
        time: iso_time(time),
        channel: system.get("Channel").map(text).unwrap_or_default(),
        provider: attr("Provider", "Name"),
        event_source: attr("Provider", "EventSourceName"),
        event_id: system
            .get("EventID")
            .map(text)
            .and_then(|t| t.parse().ok())
            .unwrap_or(0),
        computer: system.get("Computer").map(text).unwrap_or_default(),
        level: system.get("Level").map(text).unwrap_or_default(),
        user_sid: attr("Security", "UserID"),
        fields,
    }
}

/// Named children become fields; an unnamed `Data` list (classic providers that
/// log positional strings) becomes `Data`, `Data_2`, ... in order.
fn collect_fields(node: &Value, out: &mut Vec<(String, String)>) {
    let Value::Object(map) = node else {
        if !node.is_null() {
            out.push(("Data".into(), text(node)));
        }
        return;
    };
    for (name, value) in map {
        if name.ends_with("_attributes") {
            continue;
        }
        match value {
            Value::Object(inner) if name == "Data" => match inner.get("#text") {
                Some(Value::Array(items)) => {
                    for (i, item) in items.iter().enumerate() {
                        let key = if i == 0 {
                            "Data".to_string()
                        } else {
                            format!("Data_{}", i + 1)
                        };
                        out.push((key, text(item)));
                    }
                }
                Some(v) => out.push(("Data".into(), text(v))),
                None => out.push((name.clone(), text(value))),
            },
            _ => out.push((name.clone(), text(value))),
        }
    }
}

/// A JSON value as the text an analyst expects in a cell.
fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Object(map) => match map.get("#text") {
            Some(inner) => text(inner),
            None => value.to_string(),
        },
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}
