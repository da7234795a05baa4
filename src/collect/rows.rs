//! From parsed artifacts to table rows and timeline entries.

use crate::output::{decimal, Cell, Stage};
use filetime::Filetime;

use super::evtx::{EscapedFields, EventRecord};
use super::mft::MftRow;
use crate::output::schema::{evtx_field, EVTX_FIELDS, EVTX_HEAD, EVTX_TAIL};
use crate::pipeline::Sinks;
use crate::traces::matcher::{Observation, Observed, Reference};

/// The matcher's view of a row: its time, where it is, what it says.
pub(crate) fn observation(
    time: &str,
    artifact: &str,
    file: &str,
    locator: String,
    observed: Observed,
) -> Observation {
    Observation {
        time: (!time.is_empty()).then(|| time.to_string()),
        reference: Reference {
            artifact: artifact.to_string(),
            file: file.to_string(),
            locator,
        },
        observed,
    }
}

/// Where a carved (or recovered) record was found, and whether a live log still
/// has it.
#[derive(Clone, Copy, Debug)]
pub struct Carved {
    /// Byte offset of its chunk (a lone record: of the record) in the volume; of
    /// the record in its log for a recovered one.
    pub offset: u64,
    /// The chunk's checksums held.
    pub verified: bool,
    /// A live log holds the same record (see `LiveRecords`).
    pub live_copy: bool,
    /// Recovered from the unused space of this chunk of a live log (its number
    /// in the file; `None` for records carved from unallocated space).
    pub chunk: Option<u64>,
}

/// Writes one event record to evtx.csv and the timeline; `carved` is set for
/// records carved from unallocated space or recovered from a live log's unused
/// chunk space.
pub fn event(
    out: &Sinks<'_>,
    volume: &str,
    file: &str,
    record: EventRecord,
    carved: Option<Carved>,
) {
    let escaped = EscapedFields::new(&record.fields);
    event_row(
        out,
        volume,
        file,
        &record,
        &escaped,
        carved,
        carved.map(|c| c.live_copy),
    );
    out.event_record(volume, file, record, &escaped, carved);
}

/// Writes one event record read from a shadow copy's log; `live_copy`: a live log
/// holds the same record, so it is marked and not judged a second time.
pub fn snapshot_event(
    out: &Sinks<'_>,
    volume: &str,
    file: &str,
    record: EventRecord,
    live_copy: bool,
) {
    let escaped = EscapedFields::new(&record.fields);
    event_row(out, volume, file, &record, &escaped, None, Some(live_copy));
    if !live_copy {
        out.event_record(volume, file, record, &escaped, None);
    }
}

/// Cells of an evtx.csv row after the context columns.
const EVTX_CELLS: usize = EVTX_HEAD.len() + EVTX_FIELDS.len() + EVTX_TAIL.len();

thread_local! {
    /// A timeline message and reference being built, one pair per collector thread.
    static TEXT: std::cell::RefCell<(String, String)> =
        const { std::cell::RefCell::new((String::new(), String::new())) };
}

/// evtx.csv row and timeline entry of one record.
fn event_row(
    out: &Sinks<'_>,
    volume: &str,
    file: &str,
    record: &EventRecord,
    escaped: &EscapedFields,
    carved: Option<Carved>,
    live_copy: Option<bool>,
) {
    // Nothing is allocated per event here but the `event_data` cell: numbers are
    // written into stack buffers, cells into an array, texts into reused buffers.
    let mut numbers = [[0u8; 20]; 5];
    let [event_id, record_id, offset, chunk, header_id] = &mut numbers;
    let event_id = decimal(u64::from(record.event_id), event_id);
    let record_id = decimal(record.record_id, record_id);
    let json = escaped.csv_object();
    let flag = |b: Option<bool>| match b {
        Some(true) => "true",
        Some(false) => "false",
        None => "",
    };
    let offset = carved.map_or("", |c| decimal(c.offset, offset));
    let recovered_chunk = carved
        .and_then(|c| c.chunk)
        .map_or("", |n| decimal(n, chunk));
    let header_id = record
        .header_record_id
        .map_or("", |id| decimal(id, header_id));
    let mut cells = [Cell::Text(""); EVTX_CELLS];
    let (head, rest) = cells.split_at_mut(EVTX_HEAD.len());
    let (picked, tail) = rest.split_at_mut(EVTX_FIELDS.len());
    head.copy_from_slice(
        &[
            file,
            &record.channel,
            &record.provider,
            event_id,
            record_id,
            &record.time,
            &record.computer,
            &record.level,
            &record.user_sid,
        ]
        .map(Cell::Text),
    );
    // One pass over the record's fields instead of one search per column; the first
    // of a repeated name fills the column.
    let mut set = [false; EVTX_FIELDS.len()];
    for (name, value) in &record.fields {
        if let Some(i) = evtx_field(name) {
            if !set[i] {
                set[i] = true;
                picked[i] = Cell::Text(value);
            }
        }
    }
    tail[0] = Cell::Rendered(&json);
    tail[1..].copy_from_slice(
        &[
            flag(Some(carved.is_some())),
            offset,
            // Carved chunks were checked where they were found; live ones as they were read.
            flag(carved.map(|c| c.verified).or(record.chunk_verified)),
            flag(live_copy),
            header_id,
            record.header_time.as_deref().unwrap_or_default(),
            recovered_chunk,
        ]
        .map(Cell::Text),
    );
    out.cells("evtx", volume, &cells);
    if let Some(problem) = &record.problem {
        // No EventRecordID or no usable TimeCreated: say so beside the row.
        out.error(volume, file, Stage::EvtxRecord, problem);
    }
    TEXT.with_borrow_mut(|(message, reference)| {
        message.clear();
        message.push_str(&record.channel);
        message.push(' ');
        message.push_str(event_id);
        message.push(' ');
        for (i, (n, v)) in record.fields.iter().take(6).enumerate() {
            if i > 0 {
                message.push(' ');
            }
            message.push_str(n);
            message.push('=');
            push_truncated(message, v, 80);
        }
        reference.clear();
        reference.push_str("record ");
        reference.push_str(record_id);
        out.event(
            volume,
            &record.time,
            match carved {
                Some(Carved { chunk: Some(_), .. }) => "Event Recorded (recovered)",
                Some(_) => "Event Recorded (carved)",
                None => "Event Recorded",
            },
            message.as_str(),
            "evtx",
            file,
            reference.as_str(),
        );
    });
}

/// Writes a Prefetch file read from a volume or folder with [`prefetch`]; what its
/// parse lost (a damaged section, a field that cannot be right) is also an
/// errors.csv row naming the file, since the `damaged` cell alone would leave the
/// scan's exit status clean.
pub fn prefetch_file(out: &Sinks<'_>, volume: &str, path: &str, pf: &prefetch::Prefetch) {
    if let Some(lost) = prefetch_damage(pf) {
        out.error(volume, path, Stage::Prefetch, &lost);
    }
    prefetch(out, volume, path, pf, None);
}

/// What a Prefetch file's parse lost, as its errors.csv cell; `None` when nothing.
pub fn prefetch_damage(pf: &prefetch::Prefetch) -> Option<String> {
    (!pf.damaged.is_empty()).then(|| format!("parsed with damage: {}", damaged_cell(pf)))
}

/// The `damaged` cell: each damaged part, `; `-separated.
fn damaged_cell(pf: &prefetch::Prefetch) -> String {
    pf.damaged
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Writes one Prefetch file to prefetch.csv and a timeline entry per run time;
/// `carved` is its volume offset when it was recovered from unallocated space.
pub fn prefetch(
    out: &Sinks<'_>,
    volume: &str,
    path: &str,
    pf: &prefetch::Prefetch,
    carved: Option<u64>,
) {
    let mut cells = vec![
        path.to_string(),
        pf.executable.clone(),
        format!("{:08X}", pf.hash),
        pf.version.to_string(),
        pf.run_count.to_string(),
    ];
    for slot in 0..8 {
        cells.push(
            pf.last_run_times
                .get(slot)
                .map(ToString::to_string)
                .unwrap_or_default(),
        );
    }
    let volumes: Vec<String> = pf
        .volumes
        .iter()
        .map(|v| {
            format!(
                "{} serial {:08X} created {}",
                v.device_path, v.serial, v.created
            )
        })
        .collect();
    cells.push(volumes.join(" | "));
    cells.push(pf.files.len().to_string());
    cells.push(pf.files.join(" | "));
    cells.push(pf.directories.join(" | "));
    cells.push(pf.was_compressed.to_string());
    cells.push(damaged_cell(pf));
    push_carved(&mut cells, carved);
    out.row("prefetch", volume, cells);
    let file_name = path.rsplit(['/', '\\']).next().unwrap_or(path).to_string();
    let latest = pf.latest_run();
    let newest = latest.map(|t| t.to_string());
    out.observe(
        volume,
        observation(
            newest.as_deref().unwrap_or(""),
            "prefetch",
            path,
            pf.executable.clone(),
            Observed::Prefetch {
                file_name,
                executable: pf.executable.clone(),
            },
        ),
    );
    for (i, time) in pf.last_run_times.iter().enumerate() {
        out.event(
            volume,
            &time.to_string(),
            if Some(*time) == latest {
                "Last Run"
            } else {
                "Previous Run"
            },
            format!("{} ran (run count {})", pf.executable, pf.run_count),
            "prefetch",
            path,
            format!("run {}", i + 1),
        );
    }
}

/// The `carved` and `offset` cells.
fn push_carved(cells: &mut Vec<String>, carved: Option<u64>) {
    cells.push(carved.is_some().to_string());
    cells.push(carved.map(|o| o.to_string()).unwrap_or_default());
}

/// Writes one MFT record to mft.csv and its $SI/$FN times to the timeline;
/// `carved` is its volume offset when it was recovered from unallocated space.
pub fn mft(out: &Sinks<'_>, volume: &str, row: &MftRow, carved: Option<u64>) {
    let e = &row.entry;
    let si = e.standard_information.unwrap_or_default();
    let fname = e.best_name();
    let ft = |v: u64| Filetime(v).to_string();
    let streams = e.streams();
    let size = streams
        .iter()
        .find(|s| s.is_data && s.name.is_empty())
        .map_or(0, |s| s.size);
    let ads: Vec<String> = streams
        .iter()
        .filter(|s| !s.name.is_empty())
        .map(|s| format!("{}:{}", s.name, s.size))
        .collect();
    let names: Vec<String> = e.names.iter().map(|n| n.name.clone()).collect();
    let cells = vec![
        e.record.to_string(),
        e.sequence.to_string(),
        e.in_use.to_string(),
        e.is_directory.to_string(),
        row.path.clone(),
        size.to_string(),
        ft(si.created),
        ft(si.modified),
        ft(si.mft_modified),
        ft(si.accessed),
        fname.map(|n| ft(n.created)).unwrap_or_default(),
        fname.map(|n| ft(n.modified)).unwrap_or_default(),
        fname.map(|n| ft(n.mft_modified)).unwrap_or_default(),
        fname.map(|n| ft(n.accessed)).unwrap_or_default(),
        attribute_names(si.attributes),
        names.join(" | "),
        ads.join(" | "),
        e.names.len().to_string(),
        e.problems.join("; "),
    ];
    let mut cells = cells;
    push_carved(&mut cells, carved);
    out.row("mft", volume, cells);
    if row.path.is_empty() {
        return;
    }
    out.observe(
        volume,
        observation(
            &Filetime(si.created).to_string(),
            "mft",
            "$MFT",
            format!("record {}", e.record),
            Observed::File {
                path: row.path.clone(),
                allocated: e.in_use,
            },
        ),
    );
    let state = if e.in_use { "" } else { " (deleted)" };
    for (time, desc) in [
        (si.created, "$SI Creation Time"),
        (si.modified, "$SI Modification Time"),
        (si.mft_modified, "$SI MFT Entry Modification Time"),
        (si.accessed, "$SI Last Access Time"),
    ] {
        let when = Filetime(time).to_string();
        out.event(
            volume,
            &when,
            desc,
            format!("{}{state}", row.path),
            "mft",
            "$MFT",
            format!("record {}", e.record),
        );
    }
    if let Some(n) = fname {
        out.event(
            volume,
            &Filetime(n.created).to_string(),
            "$FN Creation Time",
            format!("{}{state}", row.path),
            "mft",
            "$MFT",
            format!("record {}", e.record),
        );
    }
}

/// Writes one change-journal record to usn.csv and the timeline.
pub fn usn(out: &Sinks<'_>, volume: &str, record: &usn::UsnRecord, parent_path: &str) {
    let time = record.timestamp.to_string();
    let cells = vec![
        record.usn.to_string(),
        time.clone(),
        record.file_reference.to_string(),
        record.parent_reference.to_string(),
        parent_path.to_string(),
        record.file_name.clone(),
        record.reason_names(),
        record.attribute_names(),
        record.source_info_names(),
        record.security_id.to_string(),
        format!("{}.{}", record.major_version, record.minor_version),
        record.offset.to_string(),
    ];
    out.row("usn", volume, cells);
    out.observe(
        volume,
        observation(
            &time,
            "usn",
            "$Extend/$UsnJrnl:$J",
            format!("usn {}", record.usn),
            Observed::Usn {
                name: record.file_name.clone(),
                reasons: record
                    .reason_names()
                    .split('|')
                    .map(str::to_string)
                    .collect(),
            },
        ),
    );
    let path = if parent_path.is_empty() {
        record.file_name.clone()
    } else {
        format!("{parent_path}/{}", record.file_name)
    };
    out.event(
        volume,
        &time,
        "Change Journal Entry",
        format!("{path} {}", record.reason_names()),
        "usn",
        "$Extend/$UsnJrnl:$J",
        format!("usn {}", record.usn),
    );
}

/// Names of the file attribute flags Windows shows (`READONLY|HIDDEN|...`).
fn attribute_names(value: u32) -> String {
    usn::attribute_names(value)
}

/// Appends `value` cut after `max` characters, with `…` marking the cut.
fn push_truncated(out: &mut String, value: &str, max: usize) {
    // No more bytes than `max`: no more characters either, nothing to cut.
    if value.len() <= max {
        return out.push_str(value);
    }
    match value.char_indices().nth(max) {
        Some((at, _)) => {
            out.push_str(&value[..at]);
            out.push('…');
        }
        None => out.push_str(value),
    }
}

/// `value` cut after `max` characters, with `…` marking the cut.
pub fn truncate(value: &str, max: usize) -> String {
    match value.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &value[..at]),
        None => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::ImageOutput;
    use crate::pipeline::observations::ObservationWriter;
    use crate::traces::matcher::HostProfile;

    /// A Prefetch file whose volume section could not be read.
    fn damaged_prefetch() -> prefetch::Prefetch {
        prefetch::Prefetch {
            version: 31,
            executable: "CMD.EXE".into(),
            hash: 0x8E75_B5BB,
            run_count: 40,
            last_run_times: Vec::new(),
            volumes: Vec::new(),
            files: Vec::new(),
            directories: Vec::new(),
            was_compressed: false,
            size: 0,
            damaged: vec![prefetch::Error::Damaged {
                what: "volume",
                index: 0,
                source: Box::new(prefetch::Error::Truncated {
                    what: "volume information entry",
                    offset: 9000,
                    needed: 96,
                    available: 0,
                }),
            }],
        }
    }

    #[test]
    fn a_prefetch_file_that_lost_something_is_an_errors_row() {
        let dir = std::env::temp_dir().join(format!("tm-rows-pf-{}", std::process::id()));
        let tables = ImageOutput::create(&dir, "img", "HOST", false, false).unwrap();
        let sinks = Sinks::new(
            tables,
            None,
            HostProfile::default(),
            ObservationWriter::none(),
        );
        let path = "Windows/Prefetch/CMD.EXE-8E75B5BB.pf";
        prefetch_file(&sinks, "1", path, &damaged_prefetch());
        let clean = prefetch::Prefetch {
            damaged: Vec::new(),
            ..damaged_prefetch()
        };
        prefetch_file(&sinks, "1", "Windows/Prefetch/OK.EXE-00000000.pf", &clean);
        sinks.drain().unwrap().tables.finish().unwrap();
        let errors = std::fs::read_to_string(dir.join("errors.csv")).unwrap();
        let rows: Vec<&str> = errors.lines().skip(1).collect();
        assert_eq!(rows.len(), 1, "{errors}");
        assert!(rows[0].contains(path), "{errors}");
        assert!(
            rows[0].contains("parsed with damage: volume #0 damaged: volume information entry"),
            "{errors}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
