//! Whether one trace accepts one observation.
//!
//! Event fields are compared in every form Windows may store them in: as written, with
//! the `%%nnnn` message codes of the Security log replaced by their rendered words (the
//! knowledge base writes `Direction = 'Outbound'` where the raw record holds `%%14593`;
//! table from the facts file's `[meta].rendered_values`, which takes it from Windows'
//! message tables), and with registry roots swapped between the kernel spelling
//! (`\REGISTRY\MACHINE\`) and the short one (`HKLM\`) that Sysmon writes.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::observation::{file_name, volume_relative, Observation, Observed};
use crate::traces::{Artifact, Glob, Together};

/// Security-log message codes and the words the rules use for them.
const RENDERED: &[(&str, &str)] = &[
    ("%%14593", "Outbound"),
    ("%%14592", "Inbound"),
    ("%%4416", "ReadData"),
    ("%%4417", "WriteData"),
    ("%%4418", "AppendData"),
    ("%%4419", "ReadEA"),
    ("%%4420", "WriteEA"),
    ("%%4421", "Execute"),
    ("%%4422", "DeleteChild"),
    ("%%4423", "ReadAttributes"),
    ("%%4424", "WriteAttributes"),
    ("%%1537", "DELETE"),
    ("%%1538", "READ_CONTROL"),
    ("%%1539", "WRITE_DAC"),
    ("%%1540", "WRITE_OWNER"),
    ("%%1541", "SYNCHRONIZE"),
    ("%%1833", "Impersonation"),
    ("%%1840", "Delegation"),
];

/// Registry roots as the kernel writes them and as Sysmon (and the sheets) shorten them.
const REGISTRY_ROOTS: &[(&str, &str)] = &[
    ("\\REGISTRY\\MACHINE\\", "HKLM\\"),
    ("\\REGISTRY\\USER\\", "HKU\\"),
];

/// The kernel's name of a volume, as the filtering platform (5156) and object-access
/// audit (4656, 4663) write paths on it: `\Device\HarddiskVolume2\Windows\…`.
const VOLUME_DEVICE: &str = "\\Device\\HarddiskVolume";

/// The other forms of a field value a rule may have been written against: `%%` codes
/// rendered as words, registry roots in their long and short spellings, and a path on
/// a volume device as a drive path. Usually none, and then nothing is allocated.
fn other_forms(value: &str) -> Vec<Cow<'_, str>> {
    let mut forms = Vec::new();
    if value.contains("%%") {
        // Longest codes first, so `%%14593` is not read as `%%1459` + `3`.
        static LONGEST_FIRST: std::sync::OnceLock<Vec<&(&str, &str)>> = std::sync::OnceLock::new();
        let codes = LONGEST_FIRST.get_or_init(|| {
            let mut codes: Vec<&(&str, &str)> = RENDERED.iter().collect();
            codes.sort_by_key(|(code, _)| std::cmp::Reverse(code.len()));
            codes
        });
        let mut rendered = value.to_string();
        for (code, word) in codes {
            rendered = rendered.replace(code, word);
        }
        forms.push(Cow::Owned(rendered));
    }
    let starts_with = |prefix: &str| {
        value
            .get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    };
    for (long, short) in REGISTRY_ROOTS {
        if starts_with(long) {
            forms.push(Cow::Owned(format!("{short}{}", &value[long.len()..])));
        } else if starts_with(short) {
            forms.push(Cow::Owned(format!("{long}{}", &value[short.len()..])));
        }
    }
    if starts_with(VOLUME_DEVICE) {
        // The record does not say which letter the volume has; rules name the system
        // volume's, and a glob starting `*\` matches either way.
        let rest = value[VOLUME_DEVICE.len()..].trim_start_matches(|c: char| c.is_ascii_digit());
        if rest.starts_with('\\') {
            forms.push(Cow::Owned(format!("C:{rest}")));
        }
    }
    forms
}

/// Whether any of `globs` accepts any form of `value`.
pub(crate) fn field_matches(globs: &[Glob], value: &str) -> bool {
    // The value as written first: the other forms are rarely needed.
    globs.iter().any(|g| g.matches(value))
        || other_forms(value)
            .iter()
            .any(|form| globs.iter().any(|g| g.matches(form)))
}

/// For a trace met by records together: the value `record` shares with the others of
/// its group (its `within` field) and, one bit per alternative of the `all_of` field,
/// which alternatives its value matches. `None` when the record lacks either field.
pub(crate) fn together_part(
    artifact: &Artifact,
    together: &Together,
    observation: &Observation,
) -> Option<(String, u64)> {
    let (Artifact::Evtx { fields: wanted, .. }, Observed::Event { fields, .. }) =
        (artifact, &observation.observed)
    else {
        return None;
    };
    let field = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let shared = field(&together.within)?;
    let value = field(&together.all_of)?;
    let bits = wanted
        .get(&together.all_of)?
        .iter()
        .enumerate()
        .filter(|(_, glob)| field_matches(std::slice::from_ref(*glob), value))
        .fold(0u64, |bits, (i, _)| bits | 1 << i);
    Some((shared.to_string(), bits))
}

fn optional(glob: &Option<Glob>, value: Option<&str>) -> bool {
    match (glob, value) {
        (None, _) => true,
        (Some(g), Some(v)) => g.matches(v),
        (Some(_), None) => false,
    }
}

/// Whether a program's PE `OriginalFileName` (as Amcache records it) names the
/// executable `exe` asks for, so a renamed copy is found under its real name. The
/// name is tried as written and, when it does not end in `.exe`, with its extension
/// swapped for `.exe`: PsExec's is `psexec.c`.
fn original_name_matches(exe: &Glob, original: Option<&str>) -> bool {
    let Some(original) = original.map(str::trim).filter(|o| !o.is_empty()) else {
        return false;
    };
    if exe.matches(original) {
        return true;
    }
    match original.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && !ext.eq_ignore_ascii_case("exe") => {
            exe.matches(&format!("{stem}.exe"))
        }
        // A product name (`mimikatz`, see `facts::pe_name`) has no extension.
        None => exe.matches(&format!("{original}.exe")),
        _ => false,
    }
}

/// The PE name of the acting process ([`crate::facts::pe_name`]: its
/// `OriginalFileName`, or a one-word `Product`), which finds a renamed copy: an
/// event's `OriginalFileName` is the process's in a process start (Sysmon 1, which
/// has a command line) and in the load of the process's own image (Sysmon 7 whose
/// `ImageLoaded` is its `Image`); in any other event it is a loaded module's.
pub(crate) fn process_original_name<'a>(
    field: impl Fn(&str) -> Option<&'a str>,
) -> Option<&'a str> {
    let own_image_loaded = matches!(
        (field("ImageLoaded"), field("Image")),
        (Some(loaded), Some(image)) if loaded.eq_ignore_ascii_case(image)
    );
    (field("CommandLine").is_some() || own_image_loaded)
        .then(|| crate::facts::pe_name(field("OriginalFileName"), field("Product")))
        .flatten()
}

/// The fields in which events of every channel name the process that acted, or its
/// parent (which ran too). Targets of the action are deliberately absent.
pub(crate) const ACTING_PROCESS_FIELDS: &[&str] = &[
    "Image",
    "SourceImage",
    "ParentImage",
    "NewProcessName",
    "ProcessName",
    "ParentProcessName",
    "CallerProcessName",
    "Application",
    "EventAuxInfo_ProcessName",
];

/// The file names of the acting processes an event names, through `field`.
pub(crate) fn acting_programs<'v>(
    field: impl Fn(&str) -> Option<&'v str>,
) -> impl Iterator<Item = &'v str> {
    ACTING_PROCESS_FIELDS
        .iter()
        .filter_map(move |name| field(name))
        .map(|value| file_name(value.trim()))
        .filter(|name| !name.is_empty())
}

/// Whether `artifact` (placeholders already resolved) accepts `observation`.
pub(crate) fn matches(artifact: &Artifact, observation: &Observation) -> bool {
    if !observation.kinds().contains(&artifact.kind()) {
        return false;
    }
    match (artifact, &observation.observed) {
        (
            Artifact::Evtx {
                channel,
                event_id,
                fields,
            },
            Observed::Event {
                channel: seen_channel,
                event_id: seen_id,
                fields: seen_fields,
            },
        ) => {
            event_id == seen_id
                && channel.matches(seen_channel)
                && fields.iter().all(|(name, globs)| {
                    seen_fields
                        .iter()
                        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                        .any(|(_, v)| field_matches(globs, v))
                })
        }
        (Artifact::Process { exe }, Observed::Event { fields, .. }) => {
            let field = |name: &str| {
                fields
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.as_str())
            };
            acting_programs(field).any(|program| exe.matches(program))
                || original_name_matches(exe, process_original_name(field))
        }
        (Artifact::Prefetch { pattern }, Observed::Prefetch { file_name, .. }) => {
            pattern.matches(file_name)
        }
        (
            Artifact::File { path: glob } | Artifact::Mft { path: glob },
            Observed::File { path, .. },
        ) => glob.matches(volume_relative(path)),
        (
            Artifact::Usn {
                name: glob,
                reasons,
            },
            Observed::Usn {
                name,
                reasons: seen,
            },
        ) => {
            glob.matches(name)
                && (reasons.is_empty()
                    || seen.iter().any(|r| {
                        let r = r.strip_prefix("USN_REASON_").unwrap_or(r);
                        reasons.iter().any(|want| want.eq_ignore_ascii_case(r))
                    }))
        }
        (
            Artifact::Amcache { exe }
            | Artifact::Shimcache { exe }
            | Artifact::Bam { exe }
            | Artifact::Userassist { exe },
            Observed::Execution {
                path,
                original_name,
                ..
            },
        ) => exe.matches(file_name(path)) || original_name_matches(exe, original_name.as_deref()),
        (
            Artifact::Service {
                name: glob,
                image_path,
            },
            Observed::Service {
                name,
                image_path: seen,
            },
        ) => glob.matches(name) && optional(image_path, Some(seen)),
        (
            Artifact::Task {
                name: glob,
                command,
            },
            Observed::Task {
                name,
                command: seen,
            },
        ) => optional(glob, Some(name)) && optional(command, Some(seen)),
        (
            Artifact::Registry {
                hive,
                key,
                value,
                data,
            },
            Observed::Registry {
                hive: seen_hive,
                key: seen_key,
                value: seen_value,
                data: seen_data,
            },
        ) => {
            hive == seen_hive
                && key.matches(seen_key)
                && optional(value, seen_value.as_deref())
                && optional(data, seen_data.as_deref())
        }
        _ => false,
    }
}

/// Whether a trace's benign-twin exclusions refuse `observation`: an event field
/// named in `unless` holds a value one of its globs accepts. (Traces on facts check
/// their exclusions on the fact instead, see `FactTrace::matches`.)
pub(crate) fn excluded(unless: &BTreeMap<String, Vec<Glob>>, observation: &Observation) -> bool {
    let Observed::Event { fields, .. } = &observation.observed else {
        return false;
    };
    unless.iter().any(|(name, globs)| {
        fields
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case(name) && field_matches(globs, v))
    })
}

/// The trace with `{exe}`/`{path}` replaced by `exe` in every glob.
pub(crate) fn resolve(artifact: &Artifact, exe: &str) -> Artifact {
    let r = |g: &Glob| g.resolve(Some(exe));
    let ro = |g: &Option<Glob>| g.as_ref().map(r);
    match artifact {
        Artifact::Evtx {
            channel,
            event_id,
            fields,
        } => Artifact::Evtx {
            channel: r(channel),
            event_id: *event_id,
            fields: fields
                .iter()
                .map(|(k, v)| (k.clone(), v.iter().map(r).collect()))
                .collect(),
        },
        Artifact::Prefetch { pattern } => Artifact::Prefetch {
            pattern: r(pattern),
        },
        Artifact::Registry {
            hive,
            key,
            value,
            data,
        } => Artifact::Registry {
            hive: *hive,
            key: r(key),
            value: ro(value),
            data: ro(data),
        },
        Artifact::File { path } => Artifact::File { path: r(path) },
        Artifact::Mft { path } => Artifact::Mft { path: r(path) },
        Artifact::Usn { name, reasons } => Artifact::Usn {
            name: r(name),
            reasons: reasons.clone(),
        },
        Artifact::Process { exe } => Artifact::Process { exe: r(exe) },
        Artifact::Amcache { exe } => Artifact::Amcache { exe: r(exe) },
        Artifact::Shimcache { exe } => Artifact::Shimcache { exe: r(exe) },
        Artifact::Bam { exe } => Artifact::Bam { exe: r(exe) },
        Artifact::Userassist { exe } => Artifact::Userassist { exe: r(exe) },
        Artifact::Service { name, image_path } => Artifact::Service {
            name: r(name),
            image_path: ro(image_path),
        },
        Artifact::Task { name, command } => Artifact::Task {
            name: ro(name),
            command: ro(command),
        },
    }
}

/// A one-line description of a trace for output (`evtx Security 4688 CommandLine=…`).
pub(crate) fn describe(artifact: &Artifact) -> String {
    match artifact {
        Artifact::Evtx {
            channel,
            event_id,
            fields,
        } => {
            let mut text = format!("evtx {channel} {event_id}");
            for (name, globs) in fields {
                let alts: Vec<&str> = globs.iter().map(Glob::as_str).collect();
                text.push_str(&format!(" {name}={}", alts.join("|")));
                if globs.iter().any(|g| !g.folds_case()) {
                    text.push_str(" (case-sensitive)");
                }
            }
            text
        }
        Artifact::Registry {
            hive,
            key,
            value,
            data,
        } => {
            let mut text = format!("registry {hive}\\{key}");
            if let Some(v) = value {
                text.push_str(&format!(" value {v}"));
            }
            if let Some(d) = data {
                text.push_str(&format!(" = {d}"));
            }
            text
        }
        Artifact::Process { exe } => format!("evtx any event whose acting process is {exe}"),
        Artifact::Usn { name, reasons } if !reasons.is_empty() => {
            format!("usn {name} ({})", reasons.join("|"))
        }
        Artifact::Service {
            name,
            image_path: Some(image),
        } => format!("service {name} image {image}"),
        Artifact::Task { name, command } => {
            let name = name.as_ref().map_or("*", Glob::as_str);
            let command = command.as_ref().map_or("*", Glob::as_str);
            format!("task {name} command {command}")
        }
        other => {
            let globs: Vec<&str> = other.globs().into_iter().map(Glob::as_str).collect();
            format!("{} {}", other.kind(), globs.join(" "))
        }
    }
}

#[cfg(test)]
mod original_name_tests {
    use super::*;
    use crate::traces::matcher::observation::{ExecutionArtifact, Reference};

    fn amcache(path: &str, original: Option<&str>) -> Observation {
        Observation {
            time: None,
            reference: Reference::default(),
            observed: Observed::Execution {
                artifact: ExecutionArtifact::Amcache,
                path: path.into(),
                original_name: original.map(Into::into),
            },
        }
    }

    #[test]
    fn an_amcache_exe_glob_accepts_the_file_name_or_the_original_name() {
        let trace = Artifact::Amcache {
            exe: Glob::new("psexec.exe").unwrap(),
        };
        assert!(matches(&trace, &amcache("c:\\tools\\psexec.exe", None)));
        // Renamed PsExec: Windows records OriginalFileName `psexec.c`.
        assert!(matches(
            &trace,
            &amcache("c:\\users\\x\\svc32.exe", Some("psexec.c"))
        ));
        assert!(matches(
            &trace,
            &amcache("c:\\x\\a.exe", Some("PsExec.exe"))
        ));
        assert!(!matches(&trace, &amcache("c:\\x\\svc32.exe", None)));
        assert!(!matches(
            &trace,
            &amcache("c:\\x\\svc32.exe", Some("svchost.exe"))
        ));
        assert!(!matches(&trace, &amcache("c:\\x\\svc32.exe", Some(""))));
        // Only Amcache records the original name; older observations lack the field.
        let old: Observed = serde_json::from_str(
            r#"{"execution":{"artifact":"amcache","path":"c:\\x\\psexec.exe"}}"#,
        )
        .unwrap();
        assert!(matches!(
            old,
            Observed::Execution {
                original_name: None,
                ..
            }
        ));
    }
}

#[cfg(test)]
mod acting_process_tests {
    use super::*;
    use crate::traces::matcher::observation::Reference;

    fn event(channel: &str, event_id: u32, fields: &[(&str, &str)]) -> Observation {
        Observation {
            time: None,
            reference: Reference::default(),
            observed: Observed::Event {
                channel: channel.into(),
                event_id,
                fields: fields
                    .iter()
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .collect(),
            },
        }
    }

    #[test]
    fn a_process_trace_takes_the_acting_program_of_any_event_and_never_a_target() {
        let trace = Artifact::Process {
            exe: Glob::new("mimikatz.exe").unwrap(),
        };
        let sysmon = "Microsoft-Windows-Sysmon/Operational";
        // Sysmon 10: mimikatz opened lsass.
        assert!(matches(
            &trace,
            &event(
                sysmon,
                10,
                &[
                    ("SourceImage", "C:\\t\\mimikatz.exe"),
                    ("TargetImage", "C:\\Windows\\system32\\lsass.exe")
                ]
            )
        ));
        // ... but a process opening mimikatz is not mimikatz acting.
        assert!(!matches(
            &trace,
            &event(
                sysmon,
                10,
                &[
                    ("SourceImage", "C:\\Windows\\explorer.exe"),
                    ("TargetImage", "C:\\t\\mimikatz.exe")
                ]
            )
        ));
        // A browser writing mimikatz.exe to disk: the file is a target.
        assert!(!matches(
            &trace,
            &event(
                sysmon,
                11,
                &[
                    ("Image", "C:\\Program Files\\browser.exe"),
                    ("TargetFilename", "C:\\Users\\u\\Downloads\\mimikatz.exe")
                ]
            )
        ));
        // CAPI2 70 names the process in an attribute; Security 5156 by device path.
        assert!(matches(
            &trace,
            &event(
                "Microsoft-Windows-CAPI2/Operational",
                70,
                &[("EventAuxInfo_ProcessName", "mimikatz.exe")]
            )
        ));
        assert!(matches(
            &trace,
            &event(
                "Security",
                5156,
                &[(
                    "Application",
                    "\\device\\harddiskvolume2\\temp\\MIMIKATZ.EXE"
                )]
            )
        ));
        // A renamed copy, by the PE name its start or the load of its own image
        // records; another loaded module's PE name is not the process's.
        assert!(matches(
            &trace,
            &event(
                sysmon,
                1,
                &[
                    ("Image", "C:\\t\\m.exe"),
                    ("CommandLine", "m.exe"),
                    ("OriginalFileName", "mimikatz.exe")
                ]
            )
        ));
        assert!(matches(
            &trace,
            &event(
                sysmon,
                7,
                &[
                    ("Image", "C:\\t\\m.exe"),
                    ("ImageLoaded", "c:\\T\\M.EXE"),
                    ("OriginalFileName", "mimikatz.exe")
                ]
            )
        ));
        assert!(!matches(
            &trace,
            &event(
                sysmon,
                7,
                &[
                    ("Image", "C:\\t\\other.exe"),
                    ("ImageLoaded", "C:\\t\\m.dll"),
                    ("OriginalFileName", "mimikatz.exe")
                ]
            )
        ));
    }
}
