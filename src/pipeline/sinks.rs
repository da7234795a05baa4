//! One image's sinks. Collectors hand every record over once, here; each record goes to
//! every consumer that wants it: the CSV tables and the timeline (through
//! [`ImageOutput`]), the observations file (for `toolmark match`), the trace matcher,
//! the host's logging profile and the lateral-movement edges. Nothing is read back from
//! a file this scan wrote.

use std::sync::Mutex;

use super::edges::EdgeAggregator;
use super::observations::ObservationWriter;
use crate::collect::evtx::{EscapedFields, EventRecord};
use crate::collect::rows::Carved;
use crate::evidence::ReadAt;
use crate::output::{decimal, Cell, ImageOutput, Stage};
use crate::traces::matcher::{HostProfile, Matcher, Observation, Observed, Reference};

thread_local! {
    /// The locator of an event record being judged, one buffer per collector thread.
    static LOCATOR: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// Where one image's records go.
pub struct Sinks<'a> {
    tables: ImageOutput,
    matcher: Option<Matcher<'a>>,
    profile: Mutex<HostProfile>,
    edges: Mutex<EdgeAggregator>,
    observations: ObservationWriter,
}

/// What the sinks hold once every record has gone through.
pub struct Drained<'a> {
    /// The CSV writer, still to be finished.
    pub tables: ImageOutput,
    /// The matcher with its hits (when rules were loaded).
    pub matcher: Option<Matcher<'a>>,
    /// The host's logging profile.
    pub profile: HostProfile,
    /// Lateral-movement edges seen in this image's logs.
    pub edges: EdgeAggregator,
    /// Lines written to the observations file after its header.
    pub observations: u64,
}

impl<'a> Sinks<'a> {
    /// Sinks over `tables`, matching against `matcher`'s rules when there is one.
    pub fn new(
        tables: ImageOutput,
        matcher: Option<Matcher<'a>>,
        profile: HostProfile,
        observations: ObservationWriter,
    ) -> Self {
        let edges = EdgeAggregator::new(&tables.image, &tables.host);
        Sinks {
            tables,
            matcher,
            profile: Mutex::new(profile),
            edges: Mutex::new(edges),
            observations,
        }
    }

    /// Writes a row to table `name`; `cells` are the columns after the context.
    pub fn row<S: AsRef<str>>(&self, name: &'static str, volume: &str, cells: Vec<S>) {
        self.tables.row(name, volume, &cells);
    }

    /// [`Sinks::row`] for cells some of which are already rendered (see [`Cell`]).
    pub fn cells<'c>(&'c self, name: &'static str, volume: &'c str, cells: &'c [Cell<'c>]) {
        self.tables.cells(name, volume, cells.iter().copied());
    }

    /// Runs `work(0..count)` in parallel with each unit's rows written in unit
    /// order (see [`ImageOutput::in_order`]).
    pub fn in_order(&self, count: usize, work: &(dyn Fn(usize) + Sync)) {
        self.tables.in_order(count, work);
    }

    /// Records something that could not be read; the scan goes on.
    pub fn error(&self, volume: &str, path: &str, stage: Stage, error: &str) {
        self.tables.error(volume, path, stage, error);
    }

    /// Adds a timeline row (see [`ImageOutput::event`]).
    #[allow(clippy::too_many_arguments)]
    pub fn event(
        &self,
        volume: &str,
        time: &str,
        desc: &str,
        message: impl AsRef<str>,
        artifact: &str,
        file: &str,
        reference: impl AsRef<str>,
    ) {
        self.tables
            .event(volume, time, desc, message, artifact, file, reference);
    }

    /// Lists a file that artifacts were read from.
    pub fn collected(&self, volume: &str, path: &str, data: &dyn ReadAt) {
        self.tables.collected(volume, path, data);
    }

    /// One record of a non-event table, as the matcher sees it.
    pub fn observe(&self, volume: &str, observation: Observation) {
        if let Err(e) = self.observations.write(volume, &observation) {
            self.error(volume, "observations.jsonl", Stage::Write, &e.to_string());
        }
        self.profile
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .add(&observation);
        if let Some(matcher) = &self.matcher {
            matcher.observe(&observation);
        }
    }

    /// One event record (its CSV row is written by the caller): the observations
    /// file, the profile, the edges and the matcher. A carved record that a live log
    /// also holds is not new evidence and goes nowhere here. The record is taken
    /// whole so the matcher's observation can keep its fields without a copy.
    pub fn event_record(
        &self,
        volume: &str,
        file: &str,
        record: EventRecord,
        escaped: &EscapedFields,
        carved: Option<Carved>,
    ) {
        if carved.is_some_and(|c| c.live_copy) {
            return;
        }
        LOCATOR.with_borrow_mut(|locator| {
            let mut number = [0u8; 20];
            locator.clear();
            // Carved records repeat ids across chunks: their chunk's offset tells them
            // apart (a recovered record's own offset in its log).
            match carved {
                Some(Carved {
                    chunk: Some(chunk),
                    offset,
                    ..
                }) => {
                    locator.push_str("recovered chunk ");
                    locator.push_str(decimal(chunk, &mut number));
                    locator.push_str(" offset ");
                    locator.push_str(decimal(offset, &mut number));
                    locator.push(' ');
                }
                Some(c) => {
                    locator.push_str("chunk ");
                    locator.push_str(decimal(c.offset, &mut number));
                    locator.push(' ');
                }
                None => {}
            }
            locator.push_str("record ");
            locator.push_str(decimal(record.record_id, &mut number));
            self.judge_event(volume, file, locator, record, escaped);
        });
    }

    /// [`Sinks::event_record`] once the record's locator is known; the owned
    /// [`Reference`] is built only for the records that need one (the matcher's, a
    /// log clear's).
    fn judge_event(
        &self,
        volume: &str,
        file: &str,
        locator: &str,
        record: EventRecord,
        escaped: &EscapedFields,
    ) {
        let reference = || Reference {
            artifact: "evtx".into(),
            file: file.to_string(),
            locator: locator.to_string(),
        };
        let time = (!record.time.is_empty()).then_some(record.time.as_str());
        if let Err(e) = self
            .observations
            .write_event(volume, &record, escaped, time, file, locator)
        {
            self.error(volume, "observations.jsonl", Stage::Write, &e.to_string());
        }
        let field = |name: &str| record.field(name);
        self.profile
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .add_event(&record.channel, record.event_id, time, &field, &reference);
        self.edges.lock().unwrap_or_else(|p| p.into_inner()).add(
            &record.channel,
            record.event_id,
            &field,
            time,
        );
        let Some(matcher) = self
            .matcher
            .as_ref()
            .filter(|m| m.wants_event(&record.channel, record.event_id, &field))
        else {
            return;
        };
        let time = time.map(str::to_string);
        matcher.observe(&Observation {
            time,
            reference: reference(),
            observed: Observed::Event {
                channel: record.channel,
                event_id: record.event_id,
                fields: record.fields,
            },
        });
    }

    /// Ends the stream: flushes the observations file and hands back what the sinks hold.
    pub fn drain(self) -> Result<Drained<'a>, String> {
        let observations = self.observations.finish().map_err(|e| e.to_string())?;
        Ok(Drained {
            observations,
            tables: self.tables,
            matcher: self.matcher,
            profile: self.profile.into_inner().unwrap_or_else(|p| p.into_inner()),
            edges: self.edges.into_inner().unwrap_or_else(|p| p.into_inner()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traces::load_embedded;

    /// A network logon from another host, as the destination's Security log holds it.
    fn logon() -> EventRecord {
        let fields = [
            ("TargetUserName", "admin"),
            ("TargetDomainName", "CORP"),
            ("LogonType", "3"),
            ("IpAddress", "10.0.0.5"),
            ("WorkstationName", "WS01"),
        ];
        EventRecord {
            record_id: 7,
            time: "2024-01-01T10:00:00.0000000Z".into(),
            channel: "Security".into(),
            event_id: 4624,
            fields: fields
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            ..EventRecord::default()
        }
    }

    #[test]
    fn a_carved_copy_of_a_live_record_makes_no_second_edge() {
        let dir = std::env::temp_dir().join(format!("tm-sinks-{}", std::process::id()));
        let kb = load_embedded().unwrap();
        let tables = ImageOutput::create(&dir, "img", "SRV01", false, false).unwrap();
        let sinks = Sinks::new(
            tables,
            Some(Matcher::new(&kb)),
            HostProfile::default(),
            ObservationWriter::none(),
        );
        let record = logon();
        let escaped = EscapedFields::new(&record.fields);
        sinks.event_record("1", "Security.evtx", record.clone(), &escaped, None);
        let copy = Carved {
            offset: 4096,
            verified: true,
            live_copy: true,
            chunk: None,
        };
        sinks.event_record("1", "(unallocated)", record.clone(), &escaped, Some(copy));
        let lost = Carved {
            live_copy: false,
            ..copy
        };
        let drained = sinks.drain().unwrap();
        let counts: Vec<u64> = drained.edges.edges().values().map(|e| e.count).collect();
        assert_eq!(counts, [1], "the live copy counts once");
        assert_eq!(drained.profile.channels["security"].count, 1);
        // A carved record no live log holds is new evidence and counts.
        let sinks = Sinks::new(
            drained.tables,
            None,
            HostProfile::default(),
            ObservationWriter::none(),
        );
        sinks.event_record("1", "(unallocated)", record, &escaped, Some(lost));
        let drained = sinks.drain().unwrap();
        let counts: Vec<u64> = drained.edges.edges().values().map(|e| e.count).collect();
        assert_eq!(counts, [1]);
        drained.tables.finish().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_snapshot_copy_of_a_live_record_is_marked_and_counts_once() {
        use crate::collect::rows;
        let dir = std::env::temp_dir().join(format!("tm-sinks-snap-{}", std::process::id()));
        let tables = ImageOutput::create(&dir, "img", "SRV01", false, false).unwrap();
        let sinks = Sinks::new(
            tables,
            None,
            HostProfile::default(),
            ObservationWriter::none(),
        );
        let record = logon();
        let lost = EventRecord {
            record_id: 8,
            ..logon()
        };
        rows::event(&sinks, "1", "Security.evtx", record.clone(), None);
        rows::snapshot_event(&sinks, "1@2", "Security.evtx", record, true);
        rows::snapshot_event(&sinks, "1@2", "Security.evtx", lost, false);
        let drained = sinks.drain().unwrap();
        assert_eq!(
            drained.profile.channels["security"].count, 2,
            "the live record once, the record only the snapshot holds once"
        );
        drained.tables.finish().unwrap();
        let mut reader = csv::Reader::from_path(dir.join("evtx.csv")).unwrap();
        let header = reader.headers().unwrap().clone();
        let col = |n: &str| header.iter().position(|h| h == n).unwrap();
        let rows: Vec<(String, String, String, String)> = reader
            .records()
            .map(|r| {
                let r = r.unwrap();
                let cell = |n: &str| r[col(n)].to_string();
                (
                    cell("volume"),
                    cell("snapshot"),
                    cell("record_id"),
                    cell("live_copy"),
                )
            })
            .collect();
        let expected = [
            ("1", "", "7", ""),
            ("1", "2", "7", "true"),
            ("1", "2", "8", "false"),
        ]
        .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()));
        assert_eq!(rows, expected);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
