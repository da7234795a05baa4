//! Traces on facts: an event, service or task trace of the rules restated in the
//! vocabulary of [`crate::facts`], so that every witness of the fact matches it (a
//! Sysmon 1 trace accepts a Security 4688 of the same process, a 7045 trace a
//! `Services` key). A process's image also matches by the PE `OriginalFileName`
//! Sysmon records, so a renamed copy of a tool is still the tool.

use std::collections::BTreeMap;

use super::matching::field_matches;
use crate::facts::{self, canonical, Fact, FactKind};

use crate::traces::{Artifact, Glob};

/// A trace on a fact: its kind and the canonical fields it constrains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FactTrace {
    pub kind: FactKind,
    pub fields: BTreeMap<String, Vec<Glob>>,
    /// Benign twins: a fact whose field matches one of these globs is refused.
    pub unless: BTreeMap<String, Vec<Glob>>,
}

impl FactTrace {
    /// The fact trace `artifact` states, when it states one; `unless` (the trace's
    /// benign-twin exclusions, named like its fields) is restated with it.
    pub fn of(artifact: &Artifact, unless: &BTreeMap<String, Vec<Glob>>) -> Option<FactTrace> {
        let field = |pairs: Vec<(&str, Option<&Glob>)>| {
            pairs
                .into_iter()
                .filter_map(|(n, g)| Some((n.to_string(), vec![g?.clone()])))
                .collect()
        };
        match artifact {
            Artifact::Evtx {
                channel,
                event_id,
                fields,
            } => {
                // `channel = '*'` names the event by ID alone: it states a fact when
                // every witness with that ID records the same one.
                let mut candidates = facts::EVENT_FACTS
                    .iter()
                    .filter(|w| w.event_id == *event_id && channel.matches(w.channel));
                let witness = candidates.next()?;
                if candidates.any(|w| w.kind != witness.kind) {
                    return None;
                }
                let restate = |m: &BTreeMap<String, Vec<Glob>>| {
                    m.iter()
                        .map(|(n, g)| (canonical(witness, n).to_string(), g.clone()))
                        .collect()
                };
                Some(FactTrace {
                    kind: witness.kind,
                    fields: restate(fields),
                    unless: restate(unless),
                })
            }
            Artifact::Service { name, image_path } => Some(FactTrace {
                kind: FactKind::ServiceInstalled,
                fields: field(vec![
                    ("name", Some(name)),
                    ("image_path", image_path.as_ref()),
                ]),
                unless: unless.clone(),
            }),
            Artifact::Task { name, command } => Some(FactTrace {
                kind: FactKind::TaskRegistered,
                fields: field(vec![("name", name.as_ref()), ("command", command.as_ref())]),
                unless: unless.clone(),
            }),
            _ => None,
        }
    }

    /// Whether this trace accepts `fact`.
    pub fn matches(&self, fact: &Fact<'_>) -> bool {
        self.kind == fact.kind
            && self.fields.iter().all(|(name, globs)| {
                let by_value = fact.values(name).any(|v| field_matches(globs, v));
                by_value || (name == "image" && renamed_copy(globs, fact))
            })
            && !self
                .unless
                .iter()
                .any(|(name, globs)| fact.values(name).any(|v| field_matches(globs, v)))
    }

    /// One line for evidence.csv and the `missing` column.
    pub fn describe(&self) -> String {
        let mut text = self.kind.as_str().to_string();
        for (name, globs) in &self.fields {
            let alts: Vec<&str> = globs.iter().map(Glob::as_str).collect();
            text.push_str(&format!(" {name}={}", alts.join("|")));
        }
        text.push_str(&describe_unless(&self.unless));
        text
    }
}

/// ` unless field=glob|glob …` for a description, or nothing.
pub(crate) fn describe_unless(unless: &BTreeMap<String, Vec<Glob>>) -> String {
    if unless.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = unless
        .iter()
        .map(|(name, globs)| {
            let alts: Vec<&str> = globs.iter().map(Glob::as_str).collect();
            format!("{name}={}", alts.join("|"))
        })
        .collect();
    format!(" unless {}", parts.join(" "))
}

/// A process whose PE metadata names the program `globs` ask for, whatever its file
/// is called now: the last path component of a glob (`*\psexec.exe`) against
/// Sysmon's `OriginalFileName` (`psexec.c` for PsExec, so the stem is compared too).
fn renamed_copy(globs: &[Glob], fact: &Fact<'_>) -> bool {
    let Some(original) = fact.get("original_file_name").filter(|o| !o.is_empty()) else {
        return false;
    };
    let stem = |name: &str| {
        name.rsplit_once('.')
            .map_or(name, |(s, _)| s)
            .to_ascii_lowercase()
    };
    globs.iter().any(|g| {
        let last = g.as_str().rsplit('\\').next().unwrap_or_default();
        !last.is_empty()
            && !last.contains(['*', '?'])
            && (last.eq_ignore_ascii_case(original) || stem(last) == stem(original))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traces::matcher::Observed;

    fn glob(s: &str) -> Glob {
        Glob::new(s).unwrap()
    }

    #[test]
    fn a_sysmon_rule_accepts_a_security_witness_and_a_renamed_copy() {
        let trace = FactTrace::of(
            &Artifact::Evtx {
                channel: glob("Microsoft-Windows-Sysmon/Operational"),
                event_id: 1,
                fields: BTreeMap::from([("Image".to_string(), vec![glob("*\\psexec.exe")])]),
            },
            &BTreeMap::new(),
        )
        .unwrap();
        let security = Observed::Event {
            channel: "Security".into(),
            event_id: 4688,
            fields: vec![("NewProcessName".into(), "C:\\Tools\\PsExec.exe".into())],
        };
        assert!(trace.matches(&facts::of(&security).unwrap()));
        let renamed = Observed::Event {
            channel: "Microsoft-Windows-Sysmon/Operational".into(),
            event_id: 1,
            fields: vec![
                ("Image".into(), "C:\\Users\\a\\svchost32.exe".into()),
                ("OriginalFileName".into(), "psexec.c".into()),
            ],
        };
        assert!(trace.matches(&facts::of(&renamed).unwrap()));
        let other = Observed::Event {
            channel: "Microsoft-Windows-Sysmon/Operational".into(),
            event_id: 1,
            fields: vec![
                ("Image".into(), "C:\\Windows\\notepad.exe".into()),
                ("OriginalFileName".into(), "NOTEPAD.EXE".into()),
            ],
        };
        assert!(!trace.matches(&facts::of(&other).unwrap()));
    }

    #[test]
    fn a_sysmon_connection_rule_accepts_the_filtering_platforms_record_of_it() {
        let trace = FactTrace::of(
            &Artifact::Evtx {
                channel: glob("Microsoft-Windows-Sysmon/Operational"),
                event_id: 3,
                fields: BTreeMap::from([
                    ("Protocol".to_string(), vec![glob("tcp")]),
                    (
                        "Image".to_string(),
                        vec![glob("C:\\Windows\\System32\\mstsc.exe")],
                    ),
                ]),
            },
            &BTreeMap::new(),
        )
        .unwrap();
        let wfp = |application: &str, protocol: &str| Observed::Event {
            channel: "Security".into(),
            event_id: 5156,
            fields: vec![
                ("Application".into(), application.into()),
                ("DestPort".into(), "3389".into()),
                ("Protocol".into(), protocol.into()),
            ],
        };
        let mstsc = "\\device\\harddiskvolume2\\windows\\system32\\mstsc.exe";
        assert!(trace.matches(&facts::of(&wfp(mstsc, "6")).unwrap()));
        // UDP is another connection; another program on the volume is not mstsc.
        assert!(!trace.matches(&facts::of(&wfp(mstsc, "17")).unwrap()));
        let other = "\\device\\harddiskvolume2\\windows\\system32\\svchost.exe";
        assert!(!trace.matches(&facts::of(&wfp(other, "6")).unwrap()));
        // A device name that is not a volume's path gets no drive form.
        let pipe = "\\device\\harddiskvolumeX\\windows\\system32\\mstsc.exe";
        assert!(!trace.matches(&facts::of(&wfp(pipe, "6")).unwrap()));
    }
}
