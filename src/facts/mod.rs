//! Facts: what happened on a host, whichever record says it.
//!
//! Windows records one fact in several places: a process start is Security 4688 and
//! Sysmon 1; a service installed is System 7045, Security 4697 and a key under
//! `Services`; a task registered is Security 4698, TaskScheduler 106 and a TaskCache
//! entry. Rules written against one witness must match the others, so both sides are
//! put into one small vocabulary here (in the spirit of Sigma's log-source
//! categories): each witness maps to a [`FactKind`] and its fields to canonical
//! names. This module is the only place that knows which event means which fact;
//! adding a witness is one row of [`EVENT_FACTS`].
//!
//! Command lines and script blocks are also decoded ([`decode`]): an encoded
//! PowerShell command or char-code array adds its decoded text as a second value of
//! the same field, so a rule on the command matches it however it was written.

pub mod decode;

use std::borrow::Cow;

use crate::traces::matcher::Observed;

/// The kinds of fact toolmark normalises records into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FactKind {
    /// A process started: image, command line, parent, user, PE metadata.
    ProcessStart,
    /// A process ended: image, exit status.
    ProcessEnd,
    /// A service was installed: name, image path, type, start type, account.
    ServiceInstalled,
    /// A scheduled task was registered: name, user, content or command.
    TaskRegistered,
    /// A network logon succeeded: user, domain, logon type, source address.
    Logon,
    /// A logon with explicitly supplied credentials: user, target server, process.
    ExplicitCredentials,
    /// A network share was accessed: share, relative target, source address, user.
    ShareAccess,
    /// An event log was cleared: channel, user.
    LogCleared,
    /// An outbound or inbound connection: image, addresses, port.
    NetworkConnection,
    /// A named pipe was created or connected: pipe name, image.
    NamedPipe,
    /// A process opened another: source image, target image, access mask.
    ProcessAccess,
    /// A registry key or value was created, set or deleted: key, data, image.
    RegistryEvent,
    /// PowerShell ran a script block or a command: its text.
    ScriptBlock,
    /// This host opened a WS-Management session: the connection string names the
    /// machine it went to (WinRM/Operational 6).
    WinrmSession,
    /// This host used WinRM as a client: any other event of a session or operation it
    /// opened (options, commands, responses). One session writes many such events,
    /// none of which says where it went; they are one fact.
    WinrmClient,
}

impl FactKind {
    /// The name used in trace descriptions (`process_start`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            FactKind::ProcessStart => "process_start",
            FactKind::ProcessEnd => "process_end",
            FactKind::ServiceInstalled => "service_installed",
            FactKind::TaskRegistered => "task_registered",
            FactKind::Logon => "logon",
            FactKind::ExplicitCredentials => "explicit_credentials",
            FactKind::ShareAccess => "share_access",
            FactKind::LogCleared => "log_cleared",
            FactKind::NetworkConnection => "network_connection",
            FactKind::NamedPipe => "named_pipe",
            FactKind::ProcessAccess => "process_access",
            FactKind::RegistryEvent => "registry_event",
            FactKind::ScriptBlock => "script_block",
            FactKind::WinrmSession => "winrm_session",
            FactKind::WinrmClient => "winrm_client",
        }
    }
}

const SECURITY: &str = "security";
const SYSTEM: &str = "system";
const SYSMON: &str = "microsoft-windows-sysmon/operational";
const TASK_SCHEDULER: &str = "microsoft-windows-taskscheduler/operational";
const POWERSHELL: &str = "microsoft-windows-powershell/operational";
/// The classic log every Windows PowerShell (2.0 to 5.1) writes, whatever the policy.
const CLASSIC_POWERSHELL: &str = "windows powershell";
const WINRM: &str = "microsoft-windows-winrm/operational";

/// A WinRM/Operational event the client side writes (session created, request sent,
/// operation completed, options set…): every one says "a WinRM client session ran".
const fn winrm_client(event_id: u32) -> Witness {
    Witness {
        channel: WINRM,
        event_id,
        kind: FactKind::WinrmClient,
        fields: &[],
    }
}

/// One witness of a fact: lower-case channel, event ID, the fact, and its fields'
/// canonical names. Fields not listed keep their own name.
pub struct Witness {
    /// Channel, lower case.
    pub channel: &'static str,
    /// Event ID.
    pub event_id: u32,
    /// The fact the event records.
    pub kind: FactKind,
    /// (field as logged, canonical name).
    pub fields: &'static [(&'static str, &'static str)],
}

const PROCESS_4688: &[(&str, &str)] = &[
    ("NewProcessName", "image"),
    ("CommandLine", "command_line"),
    ("ParentProcessName", "parent_image"),
    ("SubjectUserName", "user"),
    ("SubjectLogonId", "logon_id"),
];
const PROCESS_SYSMON: &[(&str, &str)] = &[
    ("Image", "image"),
    ("CommandLine", "command_line"),
    ("ParentImage", "parent_image"),
    ("ParentCommandLine", "parent_command_line"),
    ("User", "user"),
    ("LogonId", "logon_id"),
    ("OriginalFileName", "original_file_name"),
    ("Product", "product"),
    ("Description", "description"),
    ("Company", "company"),
    ("Hashes", "hashes"),
];
const SERVICE_7045: &[(&str, &str)] = &[
    ("ServiceName", "name"),
    ("ImagePath", "image_path"),
    ("ServiceType", "service_type"),
    ("StartType", "start_type"),
    ("AccountName", "account"),
];
const SERVICE_4697: &[(&str, &str)] = &[
    ("ServiceName", "name"),
    ("ServiceFileName", "image_path"),
    ("ServiceType", "service_type"),
    ("ServiceStartType", "start_type"),
    ("ServiceAccount", "account"),
];
const SHARE: &[(&str, &str)] = &[
    ("ShareName", "share"),
    ("RelativeTargetName", "relative_target"),
    ("IpAddress", "ip"),
    ("SubjectUserName", "user"),
];

/// Every event that witnesses a fact.
pub const EVENT_FACTS: &[Witness] = &[
    Witness {
        channel: SECURITY,
        event_id: 4688,
        kind: FactKind::ProcessStart,
        fields: PROCESS_4688,
    },
    Witness {
        channel: SYSMON,
        event_id: 1,
        kind: FactKind::ProcessStart,
        fields: PROCESS_SYSMON,
    },
    Witness {
        channel: SECURITY,
        event_id: 4689,
        kind: FactKind::ProcessEnd,
        fields: &[("ProcessName", "image"), ("Status", "status")],
    },
    Witness {
        channel: SYSMON,
        event_id: 5,
        kind: FactKind::ProcessEnd,
        fields: &[("Image", "image")],
    },
    Witness {
        channel: SYSTEM,
        event_id: 7045,
        kind: FactKind::ServiceInstalled,
        fields: SERVICE_7045,
    },
    Witness {
        channel: SECURITY,
        event_id: 4697,
        kind: FactKind::ServiceInstalled,
        fields: SERVICE_4697,
    },
    Witness {
        channel: SECURITY,
        event_id: 4698,
        kind: FactKind::TaskRegistered,
        fields: &[("TaskName", "name"), ("SubjectUserName", "user")],
    },
    Witness {
        channel: TASK_SCHEDULER,
        event_id: 106,
        kind: FactKind::TaskRegistered,
        fields: &[("TaskName", "name"), ("UserContext", "user")],
    },
    Witness {
        channel: SECURITY,
        event_id: 4624,
        kind: FactKind::Logon,
        fields: &[
            ("TargetUserName", "user"),
            ("TargetDomainName", "domain"),
            ("LogonType", "logon_type"),
            ("IpAddress", "ip"),
            ("WorkstationName", "workstation"),
            ("LogonProcessName", "logon_process"),
            ("AuthenticationPackageName", "auth_package"),
        ],
    },
    Witness {
        channel: SECURITY,
        event_id: 4648,
        kind: FactKind::ExplicitCredentials,
        fields: &[
            ("TargetUserName", "user"),
            ("TargetServerName", "target_server"),
            ("ProcessName", "image"),
        ],
    },
    Witness {
        channel: SECURITY,
        event_id: 5140,
        kind: FactKind::ShareAccess,
        fields: SHARE,
    },
    Witness {
        channel: SECURITY,
        event_id: 5145,
        kind: FactKind::ShareAccess,
        fields: SHARE,
    },
    Witness {
        channel: SECURITY,
        event_id: 1102,
        kind: FactKind::LogCleared,
        fields: &[("SubjectUserName", "user")],
    },
    Witness {
        channel: SYSTEM,
        event_id: 104,
        kind: FactKind::LogCleared,
        fields: &[("SubjectUserName", "user"), ("Channel", "channel")],
    },
    Witness {
        channel: SYSMON,
        event_id: 3,
        kind: FactKind::NetworkConnection,
        fields: &[
            ("Image", "image"),
            ("DestinationIp", "destination_ip"),
            ("DestinationPort", "destination_port"),
            ("Protocol", "protocol"),
        ],
    },
    Witness {
        channel: SECURITY,
        event_id: 5156,
        kind: FactKind::NetworkConnection,
        fields: &[
            ("Application", "image"),
            ("DestAddress", "destination_ip"),
            ("DestPort", "destination_port"),
            ("Protocol", "protocol"),
        ],
    },
    Witness {
        channel: SYSMON,
        event_id: 17,
        kind: FactKind::NamedPipe,
        fields: &[("PipeName", "pipe"), ("Image", "image")],
    },
    Witness {
        channel: SYSMON,
        event_id: 18,
        kind: FactKind::NamedPipe,
        fields: &[("PipeName", "pipe"), ("Image", "image")],
    },
    Witness {
        channel: SYSMON,
        event_id: 10,
        kind: FactKind::ProcessAccess,
        fields: &[
            ("SourceImage", "source_image"),
            ("TargetImage", "target_image"),
            ("GrantedAccess", "granted_access"),
        ],
    },
    Witness {
        channel: SYSMON,
        event_id: 12,
        kind: FactKind::RegistryEvent,
        fields: &[("TargetObject", "key"), ("Image", "image")],
    },
    Witness {
        channel: SYSMON,
        event_id: 13,
        kind: FactKind::RegistryEvent,
        fields: &[
            ("TargetObject", "key"),
            ("Details", "data"),
            ("Image", "image"),
        ],
    },
    Witness {
        channel: POWERSHELL,
        event_id: 4104,
        kind: FactKind::ScriptBlock,
        fields: &[("ScriptBlockText", "text")],
    },
    Witness {
        channel: POWERSHELL,
        event_id: 4103,
        kind: FactKind::ScriptBlock,
        fields: &[("Payload", "text")],
    },
    // The classic log: 400 (an engine started) says which host application with
    // which command line, in a `HostApplication=` line of its third data item;
    // 800 (pipeline execution) holds the commands run.
    Witness {
        channel: CLASSIC_POWERSHELL,
        event_id: 400,
        kind: FactKind::ProcessStart,
        fields: &[("Data_3", HOST_DETAILS)],
    },
    Witness {
        channel: CLASSIC_POWERSHELL,
        event_id: 800,
        kind: FactKind::ScriptBlock,
        fields: &[("Data", "text")],
    },
    Witness {
        channel: WINRM,
        event_id: 6,
        kind: FactKind::WinrmSession,
        fields: &[("connection", "destination")],
    },
    winrm_client(2),
    winrm_client(10),
    winrm_client(11),
    winrm_client(13),
    winrm_client(15),
    winrm_client(29),
    winrm_client(31),
    winrm_client(80),
    winrm_client(132),
    winrm_client(143),
    winrm_client(166),
];

/// The classic PowerShell log's block of `Name=value` lines about the host, from
/// which the command line and image are taken.
const HOST_DETAILS: &str = "host_details";

/// The PE name a process record gives its program: the `OriginalFileName`, or where
/// none was recorded (Sysmon before version 10 logs only Description, Product and
/// Company; `?` or `-` mean unknown) a one-word `Product`. Tools name their product
/// after themselves (`mimikatz`, `Rubeus`, `Nmap`), Windows' programs never in one
/// word, and a product of several words (`Sysinternals PsExec`, which PSEXESVC.exe
/// carries too) says too little to name one program.
pub fn pe_name<'a>(original: Option<&'a str>, product: Option<&'a str>) -> Option<&'a str> {
    let known = |v: &&str| !matches!(v.trim(), "" | "?" | "-");
    original.filter(known).or_else(|| {
        product
            .filter(known)
            .filter(|p| !p.trim().contains(char::is_whitespace))
    })
}

/// The value of the `HostApplication=` line of a classic PowerShell detail block.
fn host_application(details: &str) -> Option<&str> {
    details
        .lines()
        .filter_map(|line| line.trim().strip_prefix("HostApplication="))
        .map(str::trim)
        .find(|value| !value.is_empty())
}

/// The program a command line starts: its first word, unquoted.
fn program_of(command_line: &str) -> &str {
    let line = command_line.trim_start();
    match line.strip_prefix('"') {
        Some(rest) => rest.split('"').next().unwrap_or(rest),
        None => line.split_whitespace().next().unwrap_or(line),
    }
}

/// Canonical fields whose text may carry an encoded command.
const DECODED_FIELDS: &[&str] = &["command_line", "text"];

/// The witness entry of an event, if it records a fact.
pub fn witness(channel: &str, event_id: u32) -> Option<&'static Witness> {
    EVENT_FACTS
        .iter()
        .find(|w| w.event_id == event_id && w.channel.eq_ignore_ascii_case(channel))
}

/// The canonical name of `field` in `witness` (its own name when not mapped).
pub fn canonical<'a>(witness: &Witness, field: &'a str) -> &'a str {
    witness
        .fields
        .iter()
        .find(|(logged, _)| logged.eq_ignore_ascii_case(field))
        .map_or(field, |(_, name)| name)
}

/// A fact as normalised from one record: its kind and canonical fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact<'o> {
    /// What happened.
    pub kind: FactKind,
    /// (canonical name, value), borrowing from the record; a decoded command line or
    /// script is a second value of the same name.
    pub fields: Vec<(&'o str, Cow<'o, str>)>,
}

impl<'o> Fact<'o> {
    /// The (first) value of a canonical field: as logged.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values(name).next()
    }

    /// Every value of a canonical field: as logged, then decoded forms.
    pub fn values<'a, 'n>(
        &'a self,
        name: &'n str,
    ) -> impl Iterator<Item = &'a str> + use<'a, 'n, 'o> {
        self.fields
            .iter()
            .filter(move |(n, _)| *n == name)
            .map(|(_, v)| v.as_ref())
    }

    /// Adds the command line and image a classic PowerShell detail block names.
    fn with_host_application(mut self) -> Self {
        let Some(command_line) = self.get(HOST_DETAILS).and_then(host_application) else {
            return self;
        };
        let command_line = command_line.to_string();
        let image = program_of(&command_line).to_string();
        self.fields.push(("command_line", Cow::Owned(command_line)));
        self.fields.push(("image", Cow::Owned(image)));
        self
    }

    /// Makes a one-word `Product` the PE name of a process start that recorded no
    /// `OriginalFileName` ([`pe_name`]), so renamed copies seen by older Sysmon
    /// versions are still found by it.
    fn with_pe_name(mut self) -> Self {
        if self.kind != FactKind::ProcessStart {
            return self;
        }
        let original = self.get("original_file_name");
        match pe_name(original, self.get("product")) {
            Some(name) if original != Some(name) => {
                let name = name.trim().to_string();
                self.fields.retain(|(n, _)| *n != "original_file_name");
                self.fields.push(("original_file_name", Cow::Owned(name)));
            }
            _ => {}
        }
        self
    }

    /// Adds the name of a protocol the filtering platform logs by its IANA number
    /// (5156 `Protocol = 6`), as Sysmon names it (`tcp`), so one rule reads both.
    fn with_protocol_name(mut self) -> Self {
        let name = match self.get("protocol") {
            Some("6") => "tcp",
            Some("17") => "udp",
            _ => return self,
        };
        self.fields.push(("protocol", Cow::Borrowed(name)));
        self
    }

    /// Adds the decoded forms of command lines and scripts.
    fn with_decoded(mut self) -> Self {
        let mut extra = Vec::new();
        for (name, value) in &self.fields {
            if DECODED_FIELDS.contains(name) {
                extra.extend(
                    decode::decoded(value)
                        .into_iter()
                        .map(|d| (*name, Cow::Owned(d))),
                );
            }
        }
        self.fields.extend(extra);
        self
    }
}

/// The fact an observation witnesses, if any.
pub fn of(observed: &Observed) -> Option<Fact<'_>> {
    match observed {
        Observed::Event {
            channel,
            event_id,
            fields,
        } => {
            let w = witness(channel, *event_id)?;
            Some(
                Fact {
                    kind: w.kind,
                    fields: fields
                        .iter()
                        .map(|(n, v)| (canonical(w, n), Cow::Borrowed(v.as_str())))
                        .collect(),
                }
                .with_host_application()
                .with_pe_name()
                .with_protocol_name()
                .with_decoded(),
            )
        }
        Observed::Service { name, image_path } => Some(Fact {
            kind: FactKind::ServiceInstalled,
            fields: vec![
                ("name", Cow::Borrowed(name.as_str())),
                ("image_path", Cow::Borrowed(image_path.as_str())),
            ],
        }),
        Observed::Task { name, command } => Some(Fact {
            kind: FactKind::TaskRegistered,
            fields: vec![
                ("name", Cow::Borrowed(name.as_str())),
                ("command", Cow::Borrowed(command.as_str())),
            ],
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(channel: &str, id: u32, fields: &[(&str, &str)]) -> Observed {
        Observed::Event {
            channel: channel.into(),
            event_id: id,
            fields: fields
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn security_and_sysmon_process_starts_are_one_fact() {
        let security = event(
            "Security",
            4688,
            &[("NewProcessName", "C:\\x\\p.exe"), ("CommandLine", "p -s")],
        );
        let sysmon = event(
            "Microsoft-Windows-Sysmon/Operational",
            1,
            &[("Image", "C:\\x\\p.exe"), ("CommandLine", "p -s")],
        );
        let (a, b) = (of(&security).unwrap(), of(&sysmon).unwrap());
        assert_eq!(a.kind, FactKind::ProcessStart);
        assert_eq!(a, b);
        assert_eq!(a.get("image"), Some("C:\\x\\p.exe"));
    }

    #[test]
    fn a_one_word_product_is_the_pe_name_where_no_original_file_name_was_recorded() {
        let start = |fields: &[(&str, &str)]| {
            of(&event("Microsoft-Windows-Sysmon/Operational", 1, fields))
                .unwrap()
                .get("original_file_name")
                .map(str::to_string)
        };
        let image = ("Image", "C:\\t\\x.exe");
        assert_eq!(
            start(&[image, ("Product", "mimikatz")]).as_deref(),
            Some("mimikatz")
        );
        assert_eq!(
            start(&[image, ("OriginalFileName", "?"), ("Product", "mimikatz")]).as_deref(),
            Some("mimikatz")
        );
        // The recorded name wins; several words or an unknown product give none.
        assert_eq!(
            start(&[image, ("OriginalFileName", "psexec.c"), ("Product", "x")]).as_deref(),
            Some("psexec.c")
        );
        assert_eq!(start(&[image, ("Product", "Sysinternals PsExec")]), None);
        assert_eq!(start(&[image, ("Product", "-")]), None);
    }

    #[test]
    fn the_classic_powershell_log_gives_the_host_command_line_and_the_pipeline_text() {
        let details = "\tNewEngineState=Available\r\n\tSequenceNumber=13\r\n\tHostName=ConsoleHost\r\n\tHostApplication=\"C:\\Windows\\powershell.exe\" -nop -c Invoke-Mimikatz\r\n\tEngineVersion=5.1\r\n";
        let start = event(
            "Windows PowerShell",
            400,
            &[
                ("Data", "Available"),
                ("Data_2", "None"),
                ("Data_3", details),
            ],
        );
        let fact = of(&start).unwrap();
        assert_eq!(fact.kind, FactKind::ProcessStart);
        assert_eq!(
            fact.get("command_line"),
            Some("\"C:\\Windows\\powershell.exe\" -nop -c Invoke-Mimikatz")
        );
        assert_eq!(fact.get("image"), Some("C:\\Windows\\powershell.exe"));
        let pipeline = event(
            "Windows PowerShell",
            800,
            &[("Data", "Get-ADUser -Filter *"), ("Data_2", details)],
        );
        let fact = of(&pipeline).unwrap();
        assert_eq!(fact.kind, FactKind::ScriptBlock);
        assert_eq!(fact.get("text"), Some("Get-ADUser -Filter *"));
        // An engine start without the line gives no invented command line.
        let bare = event("Windows PowerShell", 400, &[("Data_3", "\tHostName=X\r\n")]);
        assert_eq!(of(&bare).unwrap().get("command_line"), None);
    }

    #[test]
    fn a_service_key_and_a_7045_are_one_fact() {
        let key = Observed::Service {
            name: "PSEXESVC".into(),
            image_path: "%SystemRoot%\\PSEXESVC.exe".into(),
        };
        let log = event(
            "System",
            7045,
            &[
                ("ServiceName", "PSEXESVC"),
                ("ImagePath", "%SystemRoot%\\PSEXESVC.exe"),
            ],
        );
        assert_eq!(of(&key), of(&log));
        assert!(of(&event("System", 7036, &[])).is_none());
    }

    #[test]
    fn encoded_commands_and_scripts_carry_their_decoded_text() {
        // "whoami" as PowerShell's -EncodedCommand takes it (UTF-16LE, base64).
        let start = event(
            "Security",
            4688,
            &[("CommandLine", "powershell.exe -nop -enc dwBoAG8AYQBtAGkA")],
        );
        let fact = of(&start).unwrap();
        let lines: Vec<&str> = fact.values("command_line").collect();
        assert_eq!(
            lines,
            ["powershell.exe -nop -enc dwBoAG8AYQBtAGkA", "whoami"]
        );
        assert_eq!(fact.get("command_line"), Some(lines[0]));
        // A 4104 script block of char codes ("Invoke-Mimikatz -Command x").
        let codes: String = "Invoke-Mimikatz -Command x"
            .bytes()
            .map(|b| format!("{b},"))
            .collect();
        let block = event(
            "Microsoft-Windows-PowerShell/Operational",
            4104,
            &[(
                "ScriptBlockText",
                format!("iex ([string]({codes}))").as_str(),
            )],
        );
        let fact = of(&block).unwrap();
        assert_eq!(fact.kind, FactKind::ScriptBlock);
        assert!(fact
            .values("text")
            .any(|t| t == "Invoke-Mimikatz -Command x"));
    }
}
