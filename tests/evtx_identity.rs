//! A record's identity is the event's own: `record_id` and `time` equal the
//! `EventRecordID` and `TimeCreated/@SystemTime` that libevtx's `evtxexport -f xml`
//! prints, for every record of every real log of the corpus, including the exported
//! attack samples whose record headers were renumbered or zeroed. Also: events made
//! only of `ProcessingErrorData` keep its children, and live chunks whose checksums
//! fail are flagged.

mod common;

use std::path::Path;

use common::*;
use toolmark::collect::evtx::{read_log, EscapedFields, EventRecord};

fn ours(path: &Path) -> (Vec<EventRecord>, Vec<String>) {
    let file = std::fs::File::open(path).unwrap();
    let mut records = Vec::new();
    let mut errors = Vec::new();
    read_log(file, 1, &mut |r| records.push(r), &mut |e| errors.push(e)).unwrap();
    (records, errors)
}

#[test]
fn every_record_id_and_time_equal_the_events_own() {
    let logs = evtx_corpus_logs();
    assert!(logs.len() > 150, "found {} logs", logs.len());
    let (mut total, mut unexported) = (0usize, 0usize);
    let (mut renumbered, mut zero_headers) = (0usize, 0usize);
    for log in &logs {
        let (records, errors) = ours(log);
        assert!(errors.is_empty(), "{}: {errors:?}", log.display());
        renumbered += usize::from(records.iter().any(|r| r.header_record_id.is_some()));
        zero_headers += usize::from(records.iter().any(|r| {
            r.header_time
                .as_deref()
                .is_some_and(|t| t.starts_with("1601-01-01"))
        }));
        let expected = evtxexport_events(log);
        if expected.is_empty() && !records.is_empty() {
            // The Debian evtxexport of 2018 stops on some newer binary-XML tokens.
            unexported += 1;
            continue;
        }
        assert_eq!(
            records.len(),
            expected.len(),
            "{}: record count",
            log.display()
        );
        // evtxexport walks the chunks in file order, the crate from the oldest (a
        // log that wrapped around starts mid-file): compare in record-id order.
        let mut records: Vec<&EventRecord> = records.iter().collect();
        records.sort_by_key(|r| r.record_id);
        let mut expected: Vec<&ExportedEvent> = expected.iter().collect();
        expected.sort_by_key(|e| e.record_id);
        for (got, want) in records.iter().zip(&expected) {
            let at = format!("{} record {}", log.display(), got.record_id);
            let id = want
                .record_id
                .unwrap_or_else(|| panic!("{at}: no id exported"));
            assert_eq!(got.record_id, id, "{at}");
            let time = want
                .time_created
                .as_deref()
                .map(iso_from_evtxexport_xml)
                .unwrap_or_default();
            assert_eq!(got.time, time, "{at}");
            assert_eq!(got.problem.is_some(), time.is_empty(), "{at}: {got:?}");
            if let Some(event_id) = want.event_id {
                assert_eq!(got.event_id, event_id, "{at}");
            }
            // The corpus's logs are intact.
            assert_eq!(got.chunk_verified, Some(true), "{at}");
            // Header values are only kept where they say something else.
            assert_ne!(got.header_record_id, Some(got.record_id), "{at}");
            assert_ne!(got.header_time.as_ref(), Some(&got.time), "{at}");
        }
        total += records.len();
    }
    assert!(unexported <= 5, "evtxexport failed on {unexported} logs");
    assert!(total > 30_000, "{total} records in all");
    // The exported attack samples (Event Viewer "Save as"): the headers were
    // renumbered in 73 of them and zeroed a time in 31.
    assert!(
        renumbered >= 73,
        "{renumbered} logs with renumbered headers"
    );
    assert!(
        zero_headers >= 31,
        "{zero_headers} logs with zeroed header times"
    );
}

#[test]
fn processing_error_data_keeps_its_children() {
    let log = corpus().join("hosts/win10-aptsim/Windows/System32/winevt/Logs/Security.evtx");
    let (records, _) = ours(&log);
    // Record 89 (evtxexport -f xml): a 4739 whose DomainBehaviorVersion could not
    // be rendered, so the event is System + ProcessingErrorData only.
    let r = records.iter().find(|r| r.record_id == 89).unwrap();
    assert_eq!(r.event_id, 4739);
    assert_eq!(r.time, "2022-03-10T19:32:37.0467328Z");
    assert_eq!(r.field("ErrorCode"), Some("15005"));
    assert_eq!(r.field("DataItemName"), Some("DomainBehaviorVersion"));
    assert!(r
        .field("EventPayload")
        .is_some_and(|p| p.starts_with("500061007300730077006F00")));
    assert!(EscapedFields::new(&r.fields)
        .object()
        .starts_with(r#"{"ErrorCode":"15005","DataItemName":"DomainBehaviorVersion","#));
    let with_errors = records
        .iter()
        .filter(|r| r.field("ErrorCode").is_some() && r.field("DataItemName").is_some())
        .count();
    assert_eq!(
        with_errors, 3,
        "evtxexport shows 3 ProcessingErrorData events"
    );
}

#[test]
fn live_chunks_whose_checksums_fail_are_flagged() {
    let log = corpus().join("hosts/win10-aptsim/Windows/System32/winevt/Logs/System.evtx");
    let mut bytes = std::fs::read(&log).unwrap();
    let (intact, _) = ours(&log);
    assert!(intact.iter().all(|r| r.chunk_verified == Some(true)));
    // Chunk 0 starts after the 4 KiB file header; its header checksum is at 124 and
    // its records' checksum at 52. Break the first, and the second of chunk 1.
    bytes[4096 + 124] ^= 0xFF;
    bytes[4096 + 65536 + 52] ^= 0xFF;
    let damaged = std::env::temp_dir().join(format!("toolmark-crc-{}.evtx", std::process::id()));
    std::fs::write(&damaged, &bytes).unwrap();
    let (records, errors) = ours(&damaged);
    std::fs::remove_file(&damaged).unwrap();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(records.len(), intact.len());
    let flagged = records
        .iter()
        .filter(|r| r.chunk_verified == Some(false))
        .count();
    let in_two_chunks = intact
        .iter()
        .zip(&records)
        .take_while(|(a, b)| a.record_id == b.record_id)
        .count();
    assert_eq!(in_two_chunks, intact.len());
    assert!(flagged > 0 && flagged < records.len(), "{flagged}");
    // The flagged ones are exactly a prefix: chunks 0 and 1 come first in this log.
    assert!(records[..flagged]
        .iter()
        .all(|r| r.chunk_verified == Some(false)));
}

/// The fields and System facts are what the former `serde_json::Value` flattening
/// (attributes rendered apart, as `Name_attributes`) made of every record of the
/// corpus; only events without EventData/UserData gain fields now.
#[test]
fn fields_equal_the_former_value_flattening() {
    let (mut compared, mut gained) = (0usize, 0usize);
    for log in evtx_corpus_logs() {
        let (records, _) = ours(&log);
        let settings = evtx::ParserSettings::new()
            .num_threads(1)
            .separate_json_attributes(true);
        let mut parser = evtx::EvtxParser::from_path(&log)
            .unwrap()
            .with_configuration(settings);
        let former: Vec<Former> = parser
            .records_json_value()
            .map(|r| former_flatten(&r.unwrap().data))
            .collect();
        assert_eq!(records.len(), former.len(), "{}", log.display());
        for (got, want) in records.iter().zip(&former) {
            let at = format!("{} record {}", log.display(), got.record_id);
            assert_eq!(got.channel, want.channel, "{at}");
            assert_eq!(got.provider, want.provider, "{at}");
            assert_eq!(got.event_source, want.event_source, "{at}");
            assert_eq!(got.event_id, want.event_id, "{at}");
            assert_eq!(got.computer, want.computer, "{at}");
            assert_eq!(got.level, want.level, "{at}");
            assert_eq!(got.user_sid, want.user_sid, "{at}");
            if want.fields.is_empty() && !got.fields.is_empty() {
                gained += 1;
            } else {
                assert_eq!(got.fields, want.fields, "{at}");
            }
            compared += 1;
        }
    }
    assert!(compared > 30_000, "{compared}");
    assert_eq!(gained, 3, "the ProcessingErrorData events");
}

/// What the former flattening kept of a record.
struct Former {
    channel: String,
    provider: String,
    event_source: String,
    event_id: u32,
    computer: String,
    level: String,
    user_sid: String,
    fields: Vec<(String, String)>,
}

/// The flattening toolmark used before the streaming visitor, kept as the reference.
fn former_flatten(data: &serde_json::Value) -> Former {
    use serde_json::Value;
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
        if let Some((_, inner)) = user.iter().find(|(k, _)| !k.ends_with("_attributes")) {
            collect_fields(inner, &mut fields);
        }
    }
    Former {
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

fn collect_fields(node: &serde_json::Value, out: &mut Vec<(String, String)>) {
    use serde_json::Value;
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

fn text(value: &serde_json::Value) -> String {
    use serde_json::Value;
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
