//! The validated knowledge base: tools, their traces and the vocabulary both use.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::glob::Glob;

/// Where a trace is left, relative to the attacker's use of the tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The host the tool runs on (also single-host tools).
    Source,
    /// The remote host the tool acts on.
    Destination,
    /// A domain controller that authenticates or serves the operation.
    Dc,
}

impl Role {
    /// The spelling used in the rules file and in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Source => "source",
            Role::Destination => "destination",
            Role::Dc => "dc",
        }
    }
}

/// How much a hit on a trace says about the tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strength {
    /// Names something only this tool (or this technique) produces.
    Anchor,
    /// Common to many activities; only adds weight next to an anchor.
    Supporting,
}

/// What must have been configured on the host for the trace to exist.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Logging {
    /// Written by a stock Windows installation.
    Default,
    /// Needs Sysmon.
    Sysmon,
    /// Needs the named Advanced Audit Policy subcategory (snake_case).
    Audit(String),
    /// Needs a PowerShell logging policy (snake_case name).
    PowerShell(String),
}

/// Audit subcategories a rule may name (snake_case of Windows' Advanced Audit Policy
/// names; `sam` is "SAM", `file_system`/`registry`/`kernel_object` also need a SACL).
pub const AUDIT_SUBCATEGORIES: &[&str] = &[
    "audit_policy_change",
    "authorization_policy_change",
    "computer_account_management",
    "credential_validation",
    "detailed_file_share",
    "directory_service_access",
    "directory_service_changes",
    "dpapi_activity",
    "file_share",
    "file_system",
    "filtering_platform_connection",
    "filtering_platform_packet_drop",
    "filtering_platform_policy_change",
    "group_membership",
    "handle_manipulation",
    "kerberos_authentication_service",
    "kerberos_service_ticket_operations",
    "kernel_object",
    "logoff",
    "logon",
    "mpssvc_rule_level_policy_change",
    "other_logon_logoff_events",
    "other_object_access_events",
    "process_creation",
    "process_termination",
    "registry",
    "sam",
    "security_group_management",
    "security_system_extension",
    "sensitive_privilege_use",
    "special_logon",
    "token_right_adjusted",
    "user_account_management",
];

/// PowerShell logging policies a rule may name.
pub const POWERSHELL_POLICIES: &[&str] = &["module_logging", "script_block_logging"];

impl Logging {
    /// Reads `default`, `sysmon`, `audit:<subcategory>` or `powershell:<policy>`.
    pub fn parse(text: &str) -> Option<Logging> {
        match text {
            "default" => Some(Logging::Default),
            "sysmon" => Some(Logging::Sysmon),
            _ => {
                let (kind, name) = text.split_once(':')?;
                match kind {
                    "audit" if AUDIT_SUBCATEGORIES.contains(&name) => {
                        Some(Logging::Audit(name.to_string()))
                    }
                    "powershell" if POWERSHELL_POLICIES.contains(&name) => {
                        Some(Logging::PowerShell(name.to_string()))
                    }
                    _ => None,
                }
            }
        }
    }
}

impl Serialize for Logging {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl fmt::Display for Logging {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Logging::Default => f.write_str("default"),
            Logging::Sysmon => f.write_str("sysmon"),
            Logging::Audit(name) => write!(f, "audit:{name}"),
            Logging::PowerShell(name) => write!(f, "powershell:{name}"),
        }
    }
}

macro_rules! name_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The spelling used in the rules file and in output.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The value spelled `text`, if any.
            pub fn parse(text: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == text)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                $name::parse(&text).ok_or_else(|| {
                    serde::de::Error::custom(format!("unknown {} `{text}`", stringify!($name)))
                })
            }
        }
    };
}

name_enum! {
    /// The attacker goal a tool serves (JPCERT/CC's grouping, in snake_case).
    Category {
        /// Running commands on another host.
        CommandExecution = "command_execution",
        /// Reading passwords or hashes.
        PasswordHashDump = "password_hash_dump",
        /// Relaying or intercepting traffic.
        MaliciousCommunicationRelay = "malicious_communication_relay",
        /// Interactive remote logon.
        RemoteLogin = "remote_login",
        /// Using stolen hashes or tickets.
        PassTheHashTicket = "pass_the_hash_ticket",
        /// Raising privileges on a host.
        PrivilegeEscalation = "privilege_escalation",
        /// Taking domain administrator rights or accounts.
        DomainAdminCapture = "domain_admin_capture",
        /// Gathering information about hosts or the domain.
        InformationCollection = "information_collection",
        /// Adding or deleting users and groups.
        LocalUserGroup = "local_user_group",
        /// Mapping file shares.
        FileSharing = "file_sharing",
        /// Removing evidence.
        DeletingEvidence = "deleting_evidence",
    }
}

name_enum! {
    /// The kinds of artifact toolmark collects from an image.
    ArtifactKind {
        /// An event log record.
        Evtx = "evtx",
        /// Any event log record naming a program as the process that acted.
        Process = "process",
        /// A Prefetch file (by file name).
        Prefetch = "prefetch",
        /// A registry key or value in an offline hive.
        Registry = "registry",
        /// A file present in the file system (by path).
        File = "file",
        /// An MFT entry, allocated or not (by path).
        Mft = "mft",
        /// An `$UsnJrnl:$J` record (by file name).
        Usn = "usn",
        /// An Amcache.hve program or file entry.
        Amcache = "amcache",
        /// An AppCompatCache (ShimCache) entry.
        Shimcache = "shimcache",
        /// A Background Activity Moderator entry.
        Bam = "bam",
        /// A UserAssist entry.
        Userassist = "userassist",
        /// A service definition in the SYSTEM hive.
        Service = "service",
        /// A scheduled task definition.
        Task = "task",
    }
}

name_enum! {
    /// The offline hive a registry trace lives in.
    Hive {
        /// `Windows\System32\config\SYSTEM`.
        System = "SYSTEM",
        /// `Windows\System32\config\SOFTWARE`.
        Software = "SOFTWARE",
        /// `Windows\System32\config\SAM`.
        Sam = "SAM",
        /// `Windows\System32\config\SECURITY`.
        Security = "SECURITY",
        /// A user's `NTUSER.DAT`.
        Ntuser = "NTUSER",
        /// A user's `UsrClass.dat`.
        Usrclass = "USRCLASS",
    }
}

/// USN reason flag names (the `USN_REASON_` constants without the prefix).
pub const USN_REASONS: &[&str] = &[
    "DATA_OVERWRITE",
    "DATA_EXTEND",
    "DATA_TRUNCATION",
    "NAMED_DATA_OVERWRITE",
    "NAMED_DATA_EXTEND",
    "NAMED_DATA_TRUNCATION",
    "FILE_CREATE",
    "FILE_DELETE",
    "EA_CHANGE",
    "SECURITY_CHANGE",
    "RENAME_OLD_NAME",
    "RENAME_NEW_NAME",
    "INDEXABLE_CHANGE",
    "BASIC_INFO_CHANGE",
    "HARD_LINK_CHANGE",
    "COMPRESSION_CHANGE",
    "ENCRYPTION_CHANGE",
    "OBJECT_ID_CHANGE",
    "REPARSE_POINT_CHANGE",
    "STREAM_CHANGE",
    "TRANSACTED_CHANGE",
    "INTEGRITY_CHANGE",
    "CLOSE",
];

/// What a trace matches, per artifact kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Artifact {
    /// An event record: channel, event ID and EventData/UserData fields.
    Evtx {
        /// Channel name (a glob, `*` = any log).
        channel: Glob,
        /// Event ID.
        event_id: u32,
        /// Field name -> alternatives; every field must match one of its globs.
        fields: BTreeMap<String, Vec<Glob>>,
    },
    /// Any event record, of any channel and event ID, whose acting process (the
    /// one that started, ended, connected, opened, wrote or asked: `Image`,
    /// `SourceImage`, `ProcessName`, `NewProcessName`, their parents, `Application`,
    /// ...) is this program. A program that acted is a program that ran, whatever
    /// event says so; names of targets (`TargetImage`, `TargetFilename`) never count.
    Process {
        /// Executable file-name glob.
        exe: Glob,
    },
    /// A Prefetch file name.
    Prefetch {
        /// File-name glob, e.g. `PSEXESVC.EXE-*.pf`.
        pattern: Glob,
    },
    /// A key, or a value under it, in an offline hive.
    Registry {
        /// Hive file.
        hive: Hive,
        /// Key path inside the hive (no hive root name; `ControlSet*` in SYSTEM).
        key: Glob,
        /// Value name, when the trace is about one value.
        value: Option<Glob>,
        /// Value data as text (REG_DWORD in decimal), when it matters.
        data: Option<Glob>,
    },
    /// A file in the live file system.
    File {
        /// Volume-relative path glob (starts with `\` or a wildcard).
        path: Glob,
    },
    /// An MFT entry, allocated or deleted.
    Mft {
        /// Volume-relative path glob.
        path: Glob,
    },
    /// A change-journal record.
    Usn {
        /// File-name glob (the journal stores names, not paths).
        name: Glob,
        /// Reason flags; a record matches when it carries any of them (empty = any).
        reasons: Vec<String>,
    },
    /// An Amcache entry for a program file.
    Amcache {
        /// Executable file-name glob.
        exe: Glob,
    },
    /// A ShimCache entry.
    Shimcache {
        /// Executable file-name glob.
        exe: Glob,
    },
    /// A BAM entry.
    Bam {
        /// Executable file-name glob.
        exe: Glob,
    },
    /// A UserAssist entry (names are ROT13-decoded before matching).
    Userassist {
        /// Executable file-name glob.
        exe: Glob,
    },
    /// A service definition.
    Service {
        /// Service (key) name glob.
        name: Glob,
        /// ImagePath glob.
        image_path: Option<Glob>,
    },
    /// A scheduled task definition.
    Task {
        /// Task name or path glob.
        name: Option<Glob>,
        /// Command (action) glob.
        command: Option<Glob>,
    },
}

impl Artifact {
    /// The kind of artifact this trace is looked for in.
    pub fn kind(&self) -> ArtifactKind {
        match self {
            Artifact::Evtx { .. } => ArtifactKind::Evtx,
            Artifact::Process { .. } => ArtifactKind::Process,
            Artifact::Prefetch { .. } => ArtifactKind::Prefetch,
            Artifact::Registry { .. } => ArtifactKind::Registry,
            Artifact::File { .. } => ArtifactKind::File,
            Artifact::Mft { .. } => ArtifactKind::Mft,
            Artifact::Usn { .. } => ArtifactKind::Usn,
            Artifact::Amcache { .. } => ArtifactKind::Amcache,
            Artifact::Shimcache { .. } => ArtifactKind::Shimcache,
            Artifact::Bam { .. } => ArtifactKind::Bam,
            Artifact::Userassist { .. } => ArtifactKind::Userassist,
            Artifact::Service { .. } => ArtifactKind::Service,
            Artifact::Task { .. } => ArtifactKind::Task,
        }
    }

    /// Every glob of the trace, for checks that look at all of them.
    pub fn globs(&self) -> Vec<&Glob> {
        match self {
            Artifact::Evtx {
                channel, fields, ..
            } => std::iter::once(channel)
                .chain(fields.values().flatten())
                .collect(),
            Artifact::Prefetch { pattern } => vec![pattern],
            Artifact::Registry {
                key, value, data, ..
            } => std::iter::once(key)
                .chain(value.iter())
                .chain(data.iter())
                .collect(),
            Artifact::File { path } | Artifact::Mft { path } => vec![path],
            Artifact::Usn { name, .. } => vec![name],
            Artifact::Process { exe }
            | Artifact::Amcache { exe }
            | Artifact::Shimcache { exe }
            | Artifact::Bam { exe }
            | Artifact::Userassist { exe } => vec![exe],
            Artifact::Service { name, image_path } => {
                std::iter::once(name).chain(image_path.iter()).collect()
            }
            Artifact::Task { name, command } => name.iter().chain(command.iter()).collect(),
        }
    }
}

/// A trace met only by several records together (rules keys `all_of` and `within`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Together {
    /// A field of the trace's `fields` with several alternatives: each must be seen.
    pub all_of: String,
    /// The field whose value the records must share (e.g. `SubjectLogonId`).
    pub within: String,
}

/// One thing a tool leaves behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    /// Which host it is left on.
    pub role: Role,
    /// Anchor or supporting.
    pub strength: Strength,
    /// What logging it depends on.
    pub logging: Logging,
    /// True when the record shows that the tool's operation succeeded.
    pub success: bool,
    /// True for an anchor that ordinary activity also writes, a benign twin `unless`
    /// cannot name away (a BITS job, an RDP logon, a task registered, a Windows
    /// program running without the tool's command line): it names the tool, but
    /// anchors of this kind alone make a finding `possible` at most.
    pub generic: bool,
    /// What to match.
    pub artifact: Artifact,
    /// Benign twins: field -> globs. A record the artifact accepts is still refused
    /// when any listed field is present and matches one of its globs (Windows' own
    /// BITS jobs, tasks under `\Microsoft\Windows\`, …). Empty for most traces;
    /// only `evtx`, `service` and `task` traces carry it.
    pub unless: BTreeMap<String, Vec<Glob>>,
    /// `evtx` only: the trace is met by a set of records, not one. Every alternative
    /// of one listed field must be seen among records sharing one value of another
    /// field (three RPC pipes opened in one logon session). `None` for most traces.
    pub together: Option<Together>,
    /// Why the trace is shaped as it is, where that is not obvious.
    pub note: Option<String>,
    /// The sheet items the trace restates, as `<sheet>:<n>`: the n-th
    /// `[[tool.evidence]]` of this tool in the facts file (`en` or `ja` sheet). Empty
    /// for our additions (their `note` says why) and for execution-artifact traces
    /// derived from the tool's executables.
    pub sheet: Vec<String>,
    /// Line of the trace's table in the rules file (1-based), for messages.
    pub line: usize,
}

/// One tool and everything known to betray it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tool {
    /// Stable identifier (snake_case), unique in the knowledge base.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Attacker goal.
    pub category: Category,
    /// File names (lower case) of the programs a run involves, generic ones included.
    pub executables: Vec<String>,
    /// The subset of `executables` that is this tool's own; `{exe}` stands for these.
    pub specific_executables: Vec<String>,
    /// Other names the tool is known by.
    pub aliases: Vec<String>,
    /// Words (lower case) that name this tool among the others its program runs
    /// (mimikatz's `sekurlsa::logonpasswords`, Rubeus's `diamond`): a matched
    /// anchor trace holding one says this module ran, not only the program.
    pub modules: Vec<String>,
    /// The tool runs on one host, which the sheets call `dc` (2017) and `source`
    /// (re-test, where a single host is always "source"): its findings in those two
    /// roles on one host are one run, reported in one role (see the matcher's
    /// `settle_one_host`).
    pub one_host: bool,
    /// Which of `specific_executables` are run in each role, for tools whose own
    /// programs differ by host (PsExec's `psexec.exe` on the source, `psexesvc.exe`
    /// on the destination): `{exe}` in a trace of a listed role stands for that
    /// role's programs only. Empty when every role runs the same programs.
    pub role_executables: BTreeMap<Role, Vec<String>>,
    /// Remarks on how far the traces go (our words).
    pub note: Option<String>,
    /// The traces, in file order.
    pub traces: Vec<Trace>,
}

impl Tool {
    /// The programs `{exe}` stands for in a trace of `role`.
    pub fn placeholder_executables(&self, role: Role) -> &[String] {
        self.role_executables
            .get(&role)
            .unwrap_or(&self.specific_executables)
    }

    /// The anchor traces.
    pub fn anchors(&self) -> impl Iterator<Item = &Trace> {
        self.traces
            .iter()
            .filter(|t| t.strength == Strength::Anchor)
    }
}

/// All tools, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnowledgeBase {
    /// Tools in file order.
    pub tools: Vec<Tool>,
}

impl KnowledgeBase {
    /// The tool with identifier `id`.
    pub fn tool(&self, id: &str) -> Option<&Tool> {
        self.tools.iter().find(|t| t.id == id)
    }
}
