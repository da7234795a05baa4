//! Unit tests: one per confidence level, per missing reason, the rendered-value
//! mapping, placeholders, and benign records that must not match.

use super::*;
use crate::traces::{load_embedded, load_from_str, Hive};

const RULES: &str = r#"
format = 1

[[tool]]
id = 'demo'
name = 'Demo'
category = 'command_execution'
executables = ['demo.exe']
specific_executables = ['demo.exe']
aliases = []

[[tool.trace]]
role = 'destination'
strength = 'anchor'
logging = 'default'
artifact = 'evtx'
channel = 'System'
event_id = 7045
fields = { ServiceName = 'DEMOSVC' }

[[tool.trace]]
role = 'destination'
strength = 'anchor'
logging = 'default'
artifact = 'prefetch'
pattern = '{exe}-*.pf'

[[tool.trace]]
role = 'destination'
strength = 'anchor'
logging = 'sysmon'
artifact = 'evtx'
channel = 'Microsoft-Windows-Sysmon/Operational'
event_id = 17
fields = { PipeName = '\DEMOSVC' }

[[tool.trace]]
role = 'destination'
strength = 'anchor'
logging = 'audit:process_creation'
artifact = 'evtx'
channel = 'Security'
event_id = 4688
fields = { NewProcessName = '{path}' }

[[tool.trace]]
role = 'destination'
strength = 'supporting'
logging = 'default'
artifact = 'evtx'
channel = 'Security'
event_id = 4624
fields = { LogonType = '3' }

[[tool.trace]]
role = 'destination'
strength = 'supporting'
logging = 'audit:process_termination'
success = true
artifact = 'evtx'
channel = 'Security'
event_id = 4689
fields = { ProcessName = '{path}', Status = '0x0' }

[[tool.trace]]
role = 'destination'
strength = 'anchor'
logging = 'default'
artifact = 'evtx'
channel = 'Microsoft-Windows-WinRM/Operational'
event_id = 91
fields = { resourceUri = 'demo' }

[[tool.trace]]
role = 'destination'
strength = 'anchor'
generic = true
logging = 'audit:other_object_access_events'
artifact = 'evtx'
channel = 'Security'
event_id = 4698
fields = { TaskName = '\DemoTask' }

[[tool.trace]]
role = 'source'
strength = 'anchor'
logging = 'audit:filtering_platform_connection'
artifact = 'evtx'
channel = 'Security'
event_id = 5156
fields = { Direction = 'Outbound', Application = '{path}' }
"#;

fn kb() -> KnowledgeBase {
    load_from_str(RULES).unwrap()
}

pub(super) fn event(time: &str, channel: &str, id: u32, fields: &[(&str, &str)]) -> Observation {
    Observation {
        time: Some(time.to_string()),
        reference: Reference {
            artifact: "evtx".into(),
            file: channel.into(),
            locator: format!("{id}@{time}"),
        },
        observed: Observed::Event {
            channel: channel.into(),
            event_id: id,
            fields: fields
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        },
    }
}

fn run(obs: Vec<Observation>) -> Vec<Finding> {
    let profile = HostProfile::from_observations(&obs);
    evaluate(&kb(), obs, &profile)
}

fn service(time: &str) -> Observation {
    event(time, "System", 7045, &[("ServiceName", "demosvc")])
}

#[test]
fn one_specific_anchor_alone_is_likely() {
    let found = run(vec![service("2024-01-01T10:00:00Z")]);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].confidence, Confidence::Likely);
    assert_eq!(found[0].role, Role::Destination);
    assert_eq!((found[0].matched_anchors, found[0].total_anchors), (1, 6));
    // The same anchor repeated is still one witness.
    let twice = run(vec![
        service("2024-01-01T10:00:00Z"),
        service("2024-01-01T10:05:00Z"),
    ]);
    assert_eq!(twice[0].confidence, Confidence::Likely);
}

#[test]
fn supporting_records_count_only_in_the_window() {
    let logon = |t: &str| event(t, "Security", 4624, &[("LogonType", "3")]);
    let near = run(vec![
        service("2024-01-01T10:00:00Z"),
        logon("2024-01-01T10:09:00Z"),
    ]);
    assert_eq!(near[0].matched_supporting, 1);
    assert_eq!(near[0].confidence, Confidence::Likely);
    let far = run(vec![
        service("2024-01-01T10:00:00Z"),
        logon("2024-01-01T10:11:00Z"),
    ]);
    assert_eq!(far[0].matched_supporting, 0);
    assert_eq!(far[0].first_time.as_deref(), Some("2024-01-01T10:00:00Z"));
}

fn task(time: &str) -> Observation {
    event(
        time,
        "Security",
        4698,
        &[("TaskName", "\\DemoTask"), ("SubjectUserName", "alice")],
    )
}

#[test]
fn generic_anchors_alone_stay_possible() {
    // A generic anchor with supporting records and a success indicator around it:
    // ordinary activity writes all of these, so nothing names the tool for sure.
    let exit = event(
        "2024-01-01T10:01:00Z",
        "Security",
        4689,
        &[("ProcessName", "C:\\Temp\\DEMO.EXE"), ("Status", "0x0")],
    );
    let logon = event(
        "2024-01-01T10:02:00Z",
        "Security",
        4624,
        &[("LogonType", "3")],
    );
    let found = run(vec![
        task("2024-01-01T10:00:00Z"),
        task("2024-01-01T10:03:00Z"),
        exit,
        logon,
    ]);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].confidence, Confidence::Possible);
    assert_eq!(found[0].matched_anchors, 1);
    assert_eq!(found[0].matched_supporting, 2);
    assert!(
        found[0].reason.contains("ordinary activity"),
        "{}",
        found[0].reason
    );
}

#[test]
fn a_generic_anchor_beside_a_specific_one_confirms_it() {
    let found = run(vec![
        service("2024-01-01T10:00:00Z"),
        task("2024-01-01T10:01:00Z"),
    ]);
    assert_eq!(found[0].confidence, Confidence::Confirmed, "{found:#?}");
    assert_eq!(found[0].matched_anchors, 2);
}

#[test]
fn generic_is_refused_on_supporting_traces() {
    let bad = RULES.replacen(
        "strength = 'supporting'\nlogging = 'default'",
        "strength = 'supporting'\ngeneric = true\nlogging = 'default'",
        1,
    );
    let err = load_from_str(&bad).unwrap_err().to_string();
    assert!(err.contains("only an anchor can be generic"), "{err}");
}

#[test]
fn two_anchors_or_success_is_confirmed() {
    let prefetch = Observation {
        time: Some("2024-01-01T10:00:05Z".into()),
        reference: Reference::default(),
        observed: Observed::Prefetch {
            file_name: "DEMO.EXE-0123ABCD.pf".into(),
            executable: "DEMO.EXE".into(),
        },
    };
    let two = run(vec![service("2024-01-01T10:00:00Z"), prefetch]);
    assert_eq!(two[0].confidence, Confidence::Confirmed);
    assert_eq!(two[0].matched_anchors, 2);

    let exit = event(
        "2024-01-01T10:01:00Z",
        "Security",
        4689,
        &[("ProcessName", "C:\\Temp\\DEMO.EXE"), ("Status", "0x0")],
    );
    let success = run(vec![service("2024-01-01T10:00:00Z"), exit]);
    assert_eq!(success[0].confidence, Confidence::Confirmed);
    assert_eq!(success[0].success, Some(true));
}

#[test]
fn no_anchor_no_finding() {
    let logon = event(
        "2024-01-01T10:00:00Z",
        "Security",
        4624,
        &[("LogonType", "3")],
    );
    assert!(run(vec![logon]).is_empty());
}

fn reason(found: &[Finding], trace_start: &str) -> MissingReason {
    found[0]
        .missing
        .iter()
        .find(|m| m.trace.starts_with(trace_start))
        .unwrap_or_else(|| panic!("{trace_start} not listed: {:?}", found[0].missing))
        .reason
        .clone()
}

#[test]
fn missing_reasons_follow_the_profile() {
    // Only System: no Sysmon, no Security, no WinRM log, no Prefetch collected.
    let found = run(vec![service("2024-01-01T10:00:00Z")]);
    assert_eq!(
        reason(&found, "named_pipe"),
        MissingReason::SysmonNotInstalled
    );
    assert_eq!(
        reason(&found, "process_start"),
        MissingReason::LogNotPresent
    );
    assert_eq!(
        reason(&found, "prefetch"),
        MissingReason::ArtifactNotCollected
    );

    // Security present but no 4688 at all: process creation auditing is off; the
    // WinRM log is present and was not cleared, so its anchor is plainly not found.
    let found = run(vec![
        service("2024-01-01T10:00:00Z"),
        event(
            "2024-01-01T10:00:01Z",
            "Security",
            4624,
            &[("LogonType", "2")],
        ),
        event(
            "2024-01-01T10:00:02Z",
            "Microsoft-Windows-WinRM/Operational",
            6,
            &[],
        ),
    ]);
    assert_eq!(
        reason(&found, "process_start"),
        MissingReason::AuditPolicyNotEnabled("process_creation".into())
    );
    assert_eq!(
        reason(&found, "evtx Microsoft-Windows-WinRM/Operational 91"),
        MissingReason::NotFound
    );

    // A 4688 of something else, and the Security log cleared: the anchor may be gone.
    let found = run(vec![
        service("2024-01-01T10:00:00Z"),
        event("2024-01-01T09:00:00Z", "Security", 1102, &[]),
        event(
            "2024-01-01T10:00:01Z",
            "Security",
            4688,
            &[("NewProcessName", "C:\\x.exe")],
        ),
    ]);
    assert_eq!(
        reason(&found, "process_start"),
        MissingReason::LogCleared("Security at 2024-01-01T09:00:00Z".into())
    );
}

#[test]
fn rendered_codes_and_placeholders_match_raw_records() {
    let raw = event(
        "2024-01-01T10:00:00Z",
        "security",
        5156,
        &[
            ("Direction", "%%14593"),
            ("Application", "\\device\\harddiskvolume2\\tools\\Demo.exe"),
        ],
    );
    let found = run(vec![raw]);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].role, Role::Source);
    let inbound = event(
        "2024-01-01T10:00:00Z",
        "Security",
        5156,
        &[("Direction", "%%14592"), ("Application", "C:\\Demo.exe")],
    );
    assert!(run(vec![inbound]).is_empty());
}

#[test]
fn profile_counts_channels_subcategories_and_clears() {
    let obs = vec![
        event("2024-01-01T10:00:00Z", "Security", 4688, &[]),
        event(
            "2024-01-01T09:00:00Z",
            "Security",
            4663,
            &[("ObjectType", "Key")],
        ),
        event(
            "2024-01-01T11:00:00Z",
            "System",
            104,
            &[("Channel", "Application")],
        ),
        event("2024-01-01T11:00:00Z", SYSMON_CHANNEL, 1, &[]),
    ];
    let p = HostProfile::from_observations(&obs);
    let sec = &p.channels["security"];
    assert_eq!(sec.count, 2);
    assert_eq!(sec.first.as_deref(), Some("2024-01-01T09:00:00Z"));
    assert_eq!(sec.last.as_deref(), Some("2024-01-01T10:00:00Z"));
    assert!(p.sysmon());
    let subs: Vec<&str> = p.audit_subcategories.iter().map(String::as_str).collect();
    assert_eq!(subs, ["process_creation", "registry"]);
    assert_eq!(p.clears.len(), 1);
    assert_eq!(p.clears[0].channel, "Application");
}

/// A crafted log naming a new channel in every record, and clearing one again and
/// again: the profile stays bounded, and every cleared channel is still named.
#[test]
fn profile_is_bounded_by_what_real_hosts_have() {
    use crate::traces::matcher::profile::{MAX_CHANNELS, MAX_CLEARS, OTHER_CHANNELS};
    let mut p = HostProfile::default();
    let none = |_: &str| None;
    let reference = || Reference {
        artifact: "evtx".into(),
        file: "x.evtx".into(),
        locator: "record 1".into(),
    };
    for n in 0..MAX_CHANNELS + 500 {
        p.add_event(&format!("Crafted/{n}"), 1, None, &none, &reference);
    }
    assert_eq!(p.channels.len(), MAX_CHANNELS + 1);
    assert_eq!(p.channels[OTHER_CHANNELS].count, 500);
    for _ in 0..MAX_CLEARS + 500 {
        p.add_event("Security", 1102, None, &none, &reference);
    }
    let application = |name: &str| (name == "Channel").then_some("Application");
    p.add_event("System", 104, None, &application, &reference);
    assert_eq!(p.clears.len(), MAX_CLEARS + 1);
    assert_eq!(p.clears[MAX_CLEARS].channel, "Application");
}

/// Ordinary activity against the shipped rules: an interactive logon, notepad started,
/// svchost's Prefetch, the Windows Update service, a registry Run value.
#[test]
fn benign_observations_give_no_finding() {
    let kb = load_embedded().unwrap();
    let t = "2024-01-01T10:00:00Z";
    let plain = |observed| Observation {
        time: Some(t.into()),
        reference: Reference::default(),
        observed,
    };
    let obs = vec![
        event(
            t,
            "Security",
            4624,
            &[("LogonType", "2"), ("LogonProcessName", "User32")],
        ),
        event(
            t,
            "Security",
            4688,
            &[
                ("NewProcessName", "C:\\Windows\\System32\\notepad.exe"),
                ("CommandLine", "notepad.exe C:\\Users\\a\\todo.txt"),
            ],
        ),
        event(
            t,
            "Security",
            4689,
            &[
                ("ProcessName", "C:\\Windows\\System32\\notepad.exe"),
                ("Status", "0x0"),
            ],
        ),
        event(
            t,
            "System",
            7036,
            &[("param1", "Windows Update"), ("param2", "Running")],
        ),
        plain(Observed::Prefetch {
            file_name: "SVCHOST.EXE-1234ABCD.pf".into(),
            executable: "SVCHOST.EXE".into(),
        }),
        plain(Observed::Execution {
            artifact: ExecutionArtifact::Amcache,
            path: "C:\\Windows\\System32\\notepad.exe".into(),
            original_name: None,
        }),
        plain(Observed::Service {
            name: "wuauserv".into(),
            image_path: "%systemroot%\\system32\\svchost.exe -k netsvcs -p".into(),
        }),
        plain(Observed::Registry {
            hive: Hive::Software,
            key: "Microsoft\\Windows\\CurrentVersion\\Run".into(),
            value: Some("SecurityHealth".into()),
            data: Some("%windir%\\system32\\SecurityHealthSystray.exe".into()),
        }),
        plain(Observed::File {
            path: "C:\\Windows\\System32\\notepad.exe".into(),
            allocated: true,
        }),
    ];
    let profile = HostProfile::from_observations(&obs);
    let found = evaluate(&kb, obs, &profile);
    let ids: Vec<&str> = found.iter().map(|f| f.tool_id.as_str()).collect();
    assert!(ids.is_empty(), "{ids:?}");
}

/// A renamed PsExec: the service is still PSEXESVC (System 7045), so the shipped rules
/// find PsExec on the destination although no psexec file name appears.
#[test]
fn renamed_psexec_is_found_by_its_service() {
    let kb = load_embedded().unwrap();
    let obs = vec![event(
        "2024-01-01T10:00:00Z",
        "System",
        7036,
        &[("param1", "PSEXESVC"), ("param2", "Running")],
    )];
    let profile = HostProfile::from_observations(&obs);
    let found = evaluate(&kb, obs, &profile);
    assert!(found
        .iter()
        .any(|f| f.tool_id == "psexec" && f.role == Role::Destination));
}

/// A command line that carries Invoke-Mimikatz only once decoded: the
/// `-EncodedCommand` text below is `Invoke-Mimikatz -Command "sekurlsa::logonpasswords"`
/// in UTF-16LE base64 (made with Python's `base64.b64encode(s.encode("utf-16-le"))`).
/// The same line with a harmless payload finds nothing.
#[test]
fn encoded_invoke_mimikatz_is_found_by_its_decoded_command() {
    let line = |payload: &str| {
        vec![event(
            "2024-01-01T10:00:00Z",
            "Security",
            4688,
            &[
                (
                    "NewProcessName",
                    "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
                ),
                (
                    "CommandLine",
                    format!("powershell.exe -NoP -NonI -W Hidden -Enc {payload}").as_str(),
                ),
            ],
        )]
    };
    assert_eq!(
        embedded_findings(line(ENCODED_INVOKE_MIMIKATZ)),
        ["invoke_mimikatz:source"]
    );
    // "Get-Date" encoded the same way.
    assert!(embedded_findings(line("RwBlAHQALQBEAGEAdABlAA==")).is_empty());
}

/// A management host's WinRM client session writes many WinRM/Operational events
/// (session created, options set, requests sent, operations completed). They make one
/// anchor, the session's creation (6): `possible`, never `confirmed`; and a session
/// to the host itself (Server Manager's, a local script's) none at all (issue 11).
#[test]
fn one_winrm_client_session_stays_possible_and_a_local_one_gives_nothing() {
    let kb = load_embedded().unwrap();
    let channel = "Microsoft-Windows-WinRM/Operational";
    let session = |connection: &str| -> Vec<Finding> {
        let obs: Vec<Observation> = [
            (6, "10:00:00"),
            (10, "10:00:01"),
            (80, "10:00:02"),
            (132, "10:00:03"),
            (143, "10:00:04"),
            (31, "10:00:05"),
        ]
        .iter()
        .map(|(id, t)| {
            let fields: &[(&str, &str)] = if *id == 6 {
                &[("connection", connection)]
            } else {
                &[("optionName", "WSMAN_OPTION_LOCALE")]
            };
            event(&format!("2024-01-01T{t}Z"), channel, *id, fields)
        })
        .collect();
        let profile = HostProfile::from_observations(&obs);
        evaluate(&kb, obs, &profile)
            .into_iter()
            .filter(|f| f.tool_id == "winrm")
            .collect()
    };
    let winrm = session("dc01.example.local/wsman?PSVersion=5.1.17763.1");
    assert_eq!(winrm.len(), 1, "{winrm:#?}");
    assert_eq!(winrm[0].role, Role::Source);
    assert_eq!(winrm[0].confidence, Confidence::Possible, "{winrm:#?}");
    for local in [
        "localhost/wsman?PSVersion=5.1.17763.1",
        "http://127.0.0.1:5985/wsman",
        "[::1]/wsman",
    ] {
        let winrm = session(local);
        assert!(winrm.is_empty(), "{local}: {winrm:#?}");
    }
}

/// vssadmin's roles in a host's findings, for these Security records.
fn vssadmin_roles(records: &[(u32, &[(&str, &str)])]) -> Vec<Role> {
    let obs: Vec<Observation> = records
        .iter()
        .map(|(id, fields)| event("2024-01-01T10:00:00Z", "Security", *id, fields))
        .collect();
    let profile = HostProfile::from_observations(&obs);
    evaluate(embedded(), obs, &profile)
        .into_iter()
        .filter(|f| f.tool_id == "vssadmin")
        .map(|f| f.role)
        .collect()
}

#[test]
fn a_one_host_tool_is_reported_in_one_role() {
    let create: &[(&str, &str)] = &[
        ("NewProcessName", r"C:\Windows\System32\vssadmin.exe"),
        ("CommandLine", "vssadmin create shadow /for=C:"),
    ];
    // Both sheets' traces match this one record; nothing says a DC: the host that ran it.
    assert_eq!(vssadmin_roles(&[(4688, create)]), [Role::Source]);
    // The AD database copied out of the shadow copy: only a DC has one.
    let copy: &[(&str, &str)] = &[
        ("NewProcessName", r"C:\Windows\System32\cmd.exe"),
        (
            "CommandLine",
            r"cmd /c copy \\?\GLOBALROOT\Device\HarddiskVolumeShadowCopy1\windows\ntds\ntds.dit c:\temp\ntds.dit",
        ),
    ];
    assert_eq!(vssadmin_roles(&[(4688, create), (4688, copy)]), [Role::Dc]);
    // The same command on a host whose KDC issued a ticket.
    let ticket: &[(&str, &str)] = &[("TargetUserName", "alice"), ("ServiceName", "krbtgt")];
    assert_eq!(
        vssadmin_roles(&[(4688, create), (4768, ticket)]),
        [Role::Dc]
    );
}

/// One Security record, as a host's whole observation list.
fn security(id: u32, fields: &[(&str, &str)]) -> Vec<Observation> {
    vec![event("2024-01-01T10:00:00Z", "Security", id, fields)]
}

/// The embedded rules, parsed once for every test that asks.
pub(super) fn embedded() -> &'static KnowledgeBase {
    static KB: std::sync::OnceLock<KnowledgeBase> = std::sync::OnceLock::new();
    KB.get_or_init(|| load_embedded().unwrap())
}

/// Tools the embedded rules find in `obs` as `tool:role`.
fn embedded_findings(obs: Vec<Observation>) -> Vec<String> {
    let profile = HostProfile::from_observations(&obs);
    evaluate(embedded(), obs, &profile)
        .into_iter()
        .map(|f| format!("{}:{}", f.tool_id, f.role.as_str()))
        .collect()
}

/// A forged ticket: RID 500 (mimikatz' default `/id`) under a name that is not the
/// built-in administrator's, in the logon (4624) or, where only file shares are
/// audited, the share access (5140); the administrator's own records are not.
#[test]
fn golden_ticket_and_its_benign_twin() {
    let logon = |user: &str| {
        security(
            4624,
            &[
                ("TargetUserSid", "S-1-5-21-1-2-3-500"),
                ("TargetUserName", user),
                ("LogonType", "3"),
                ("AuthenticationPackageName", "Kerberos"),
            ],
        )
    };
    let share = |user: &str| {
        security(
            5140,
            &[
                ("SubjectUserSid", "S-1-5-21-1-2-3-500"),
                ("SubjectUserName", user),
                ("ShareName", "\\\\*\\ADMIN$"),
            ],
        )
    };
    for record in [logon, share] {
        assert_eq!(
            embedded_findings(record("not_existing_user")),
            ["golden_ticket:destination"]
        );
        assert!(embedded_findings(record("Administrator")).is_empty());
        assert!(embedded_findings(record("Administrateur")).is_empty());
    }
}

/// A forged TGT seen only on the DC: a service ticket (4769) asked for with a TGT whose
/// realm has a lower-case letter, which Windows' KDC never writes, is a golden ticket
/// (`likely`, one record). The KDC's own tickets carry the realm in upper case, and an
/// empty realm (a failed request) says nothing.
#[test]
fn lower_case_realm_in_a_service_ticket_is_a_golden_ticket() {
    let ticket = |user: &str, realm: &str| {
        security(
            4769,
            &[
                ("TargetUserName", user),
                ("TargetDomainName", realm),
                ("ServiceName", "FS02$"),
                ("Status", "0x0"),
            ],
        )
    };
    let only = BTreeMap::from([("golden_ticket:dc".to_string(), Confidence::Likely)]);
    for (user, realm) in [
        ("nobody@example.com", "example.com"),
        ("Administrator@Example.Com", "Example.Com"),
    ] {
        assert_eq!(embedded_confidences(ticket(user, realm)), only, "{realm}");
    }
    for (user, realm) in [
        ("alice@EXAMPLE.COM", "EXAMPLE.COM"),
        ("WKS01$@EXAMPLE.COM", "EXAMPLE.COM"),
        ("alice", ""),
    ] {
        assert!(embedded_findings(ticket(user, realm)).is_empty(), "{realm}");
    }
}

/// mimikatz's code inside PowerShell seen only by Sysmon 10: PowerShell (or, on a host
/// reached by `-ComputerName`, wsmprovhost.exe) opening lsass with the right to read its
/// memory is Invoke-Mimikatz, `likely` from that one record. Its benign twins are
/// PowerShell's own process inspection (.NET's 0x1410 for modules, 0x1fffff through
/// `Process.Handle`), a query-only access, and another program reading lsass.
#[test]
fn powershell_reading_lsass_is_invoke_mimikatz() {
    let access = |source: &str, mask: &str| {
        vec![event(
            "2024-01-01T10:00:00Z",
            "Microsoft-Windows-Sysmon/Operational",
            10,
            &[
                ("SourceImage", source),
                ("TargetImage", "C:\\Windows\\system32\\lsass.exe"),
                ("GrantedAccess", mask),
                (
                    "CallTrace",
                    "C:\\Windows\\SYSTEM32\\ntdll.dll+90eaa|UNKNOWN(00000000DEADBEEF)",
                ),
            ],
        )]
    };
    let powershell = "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe";
    let pwsh = "C:\\Program Files\\PowerShell\\7\\pwsh.exe";
    let wsmprovhost = "C:\\Windows\\system32\\wsmprovhost.exe";
    let only = |id: &str| BTreeMap::from([(id.to_string(), Confidence::Likely)]);
    for (source, mask) in [
        (powershell, "0x0000143a"),
        (pwsh, "0x1010"),
        (powershell, "0x1438"),
    ] {
        assert_eq!(
            embedded_confidences(access(source, mask)),
            only("invoke_mimikatz:source"),
            "{source} {mask}"
        );
    }
    assert_eq!(
        embedded_confidences(access(wsmprovhost, "0x1010")),
        only("invoke_mimikatz:destination")
    );
    for (source, mask) in [
        (powershell, "0x1410"),
        (powershell, "0x00001410"),
        (powershell, "0x001fffff"),
        (powershell, "0x1fffff"),
        (powershell, "0x1000"),
        (powershell, "0x1400"),
        ("C:\\Windows\\System32\\svchost.exe", "0x143a"),
    ] {
        assert!(
            embedded_findings(access(source, mask)).is_empty(),
            "{source} {mask}"
        );
    }
}

/// A renamed mimikatz seen only by Sysmon's image loads: the load of its own image
/// carries its PE name; a DLL of that name loaded by another program does not make
/// that program mimikatz.
#[test]
fn renamed_mimikatz_is_found_by_its_own_image_load() {
    let loaded = |image: &str, module: &str| {
        vec![event(
            "2024-01-01T10:00:00Z",
            "Microsoft-Windows-Sysmon/Operational",
            7,
            &[
                ("Image", image),
                ("ImageLoaded", module),
                ("OriginalFileName", "mimikatz.exe"),
            ],
        )]
    };
    let found = embedded_findings(loaded("C:\\t\\m.exe", "C:\\t\\m.exe"));
    assert!(found.iter().any(|f| f.starts_with("mimikatz")), "{found:?}");
    assert!(embedded_findings(loaded("C:\\t\\x.exe", "C:\\t\\m.dll")).is_empty());
}

/// vssadmin creating or deleting shadow copies in any spelling, and ntds.dit copied out
/// of a shadow copy by whatever program, are vssadmin's technique (`likely`): on the DC
/// when the AD database is named, else on the host that ran it (`one_host`); vssadmin
/// asked something else is only the Windows program running (`possible`).
#[test]
fn shadow_copy_commands_are_vssadmin() {
    let vssadmin = "C:\\Windows\\System32\\vssadmin.exe";
    let run = |image: &str, command_line: &str| {
        embedded_confidences(vec![process_start(
            "2024-01-01T10:00:00Z",
            image,
            command_line,
        )])
    };
    let only = |role: &str, confidence| BTreeMap::from([(format!("vssadmin:{role}"), confidence)]);
    for (image, command_line, role) in [
        (
            vssadmin,
            "\"C:\\Windows\\system32\\vssadmin.exe\" Create Shadow /for=c:",
            "source",
        ),
        (vssadmin, "vssadmin.exe delete shadows /all /quiet", "source"),
        (
            "C:\\Windows\\System32\\esentutl.exe",
            "esentutl.exe /y /vss \\\\?\\GLOBALROOT\\Device\\HarddiskVolumeShadowCopy3\\Windows\\NTDS\\ntds.dit /d c:\\x\\n.dit",
            "dc",
        ),
    ] {
        assert_eq!(
            run(image, command_line),
            only(role, Confidence::Likely),
            "{command_line}"
        );
    }
    assert_eq!(
        run(vssadmin, "vssadmin list writers"),
        only("source", Confidence::Possible)
    );
}

/// A Builtin group listed by a remote SAMR caller (no calling process) is SharpHound's
/// local-admin collection, `possible` only; the same group listed by a local program
/// (Group Policy's svchost) is not.
#[test]
fn remote_local_group_enumeration_is_possible_sharphound() {
    let listed = |caller: &str| {
        security(
            4799,
            &[
                ("TargetUserName", "Administrators"),
                ("TargetDomainName", "Builtin"),
                ("CallerProcessName", caller),
            ],
        )
    };
    let found = embedded_confidences(listed("-"));
    assert_eq!(
        found.get("sharphound:destination"),
        Some(&Confidence::Possible),
        "{found:?}"
    );
    assert!(embedded_findings(listed("C:\\Windows\\System32\\svchost.exe")).is_empty());
}

/// SharpHound's session and local-group collection: srvsvc, samr and lsarpc opened in
/// one logon session (`possible`: a remote Computer Management console does the same).
/// The same three pipes spread over three sessions, or two of them in one, are not it.
#[test]
fn three_pipes_in_one_session_are_possible_sharphound() {
    let pipe = |session: &str, pipe: &str| {
        event(
            "2024-01-01T10:00:00Z",
            "Security",
            5145,
            &[
                ("ShareName", "\\\\*\\IPC$"),
                ("RelativeTargetName", pipe),
                ("SubjectLogonId", session),
            ],
        )
    };
    let pipes = ["srvsvc", "samr", "lsarpc"];
    let found = embedded_confidences(pipes.iter().map(|p| pipe("0x1f", p)).collect());
    assert_eq!(
        found,
        BTreeMap::from([("sharphound:destination".to_string(), Confidence::Possible)])
    );
    let spread = ["0x1", "0x2", "0x3"].into_iter().zip(pipes);
    assert!(embedded_findings(spread.map(|(s, p)| pipe(s, p)).collect()).is_empty());
    let two = vec![
        pipe("0x1f", "samr"),
        pipe("0x1f", "lsarpc"),
        pipe("0x1f", "samr"),
    ];
    assert!(embedded_findings(two).is_empty());
}

/// PsExec run with `-r` renames its service and pipes but not their shape
/// (`<name>-<client>-<pid>-stdin`): found on the destination by the pipe alone, from
/// the share audit (5145) or Sysmon (17); a pipe of another shape is not PsExec.
#[test]
fn renamed_psexec_is_found_by_its_pipes() {
    let share = |pipe: &str| {
        vec![event(
            "2024-01-01T10:00:00Z",
            "Security",
            5145,
            &[("ShareName", "\\\\*\\IPC$"), ("RelativeTargetName", pipe)],
        )]
    };
    assert_eq!(
        embedded_findings(share("svcupd-WKS01-4242-stdin")),
        ["psexec:destination"]
    );
    assert!(embedded_findings(share("lsarpc")).is_empty());
    let created = vec![event(
        "2024-01-01T10:00:00Z",
        "Microsoft-Windows-Sysmon/Operational",
        17,
        &[
            ("PipeName", "\\svcupd-WKS01-4242-stdout"),
            ("Image", "C:\\Windows\\svcupd.exe"),
        ],
    )];
    assert_eq!(embedded_findings(created), ["psexec:destination"]);
}

/// DCShadow's GC/ SPN on a computer account, as 4742 records it, by a user; a DC
/// updating its own SPNs (a machine account) is the benign twin.
#[test]
fn dcshadow_spn_by_a_user_not_by_a_machine_account() {
    let change = |subject: &str| {
        vec![event(
            "2024-01-01T10:00:00Z",
            "Security",
            4742,
            &[
                ("SubjectUserName", subject),
                ("TargetUserName", "JUMP01$"),
                (
                    "ServicePrincipalNames",
                    "GC/jump01.example.lan/example.lan\n\t\tHOST/jump01",
                ),
            ],
        )]
    };
    assert_eq!(embedded_findings(change("admin")), ["dcshadow:dc"]);
    assert!(embedded_findings(change("DC01$")).is_empty());
}

const ENCODED_INVOKE_MIMIKATZ: &str = "SQBuAHYAbwBrAGUALQBNAGkAbQBpAGsAYQB0AHoAIAAtAEMAbwBtAG0AYQBuAGQAIAAiAHMAZQBrAHUAcgBsAHMAYQA6ADoAbABvAGcAbwBuAHAAYQBzAHMAdwBvAHIAZABzACIA";

/// `unless` refuses benign twins on raw event traces and on fact traces alike, and
/// shows in the trace description.
#[test]
fn unless_refuses_benign_twins() {
    let rules = r#"
format = 1

[[tool]]
id = 'demo'
name = 'Demo'
category = 'command_execution'
executables = ['demo.exe']
specific_executables = ['demo.exe']
aliases = []

[[tool.trace]]
role = 'source'
strength = 'anchor'
logging = 'default'
artifact = 'evtx'
channel = 'Microsoft-Windows-Bits-Client/Operational'
event_id = 3
unless = { processPath = ['*\svchost.exe'] }

[[tool.trace]]
role = 'destination'
strength = 'anchor'
logging = 'default'
artifact = 'evtx'
channel = 'Security'
event_id = 4698
unless = { TaskName = '\Microsoft\Windows\*', SubjectUserName = '*$' }
"#;
    let kb = load_from_str(rules).unwrap();
    let t = "2024-01-01T10:00:00Z";
    let bits = |client: &str| {
        event(
            t,
            "Microsoft-Windows-Bits-Client/Operational",
            3,
            &[("jobTitle", "x"), ("processPath", client)],
        )
    };
    let task = |name: &str, user: &str| {
        event(
            t,
            "Security",
            4698,
            &[("TaskName", name), ("SubjectUserName", user)],
        )
    };
    let found = |obs: Vec<Observation>| {
        let profile = HostProfile::from_observations(&obs);
        evaluate(&kb, obs, &profile)
            .iter()
            .map(|f| f.role)
            .collect::<Vec<_>>()
    };
    assert!(found(vec![bits("C:\\Windows\\System32\\svchost.exe")]).is_empty());
    assert_eq!(
        found(vec![bits("C:\\Windows\\bitsadmin.exe")]),
        [Role::Source]
    );
    assert!(found(vec![task("\\Microsoft\\Windows\\Defrag\\X", "alice")]).is_empty());
    assert!(found(vec![task("\\evil", "HOST$")]).is_empty());
    // TaskScheduler 106 is the same fact: its UserContext is the canonical `user`.
    let via_106 = event(
        t,
        "Microsoft-Windows-TaskScheduler/Operational",
        106,
        &[("TaskName", "\\evil"), ("UserContext", "HOST$")],
    );
    assert!(found(vec![via_106]).is_empty());
    let attacker = found(vec![task("\\evil", "alice")]);
    assert_eq!(attacker, [Role::Destination]);
    let profile = HostProfile::default();
    let f = evaluate(&kb, vec![task("\\evil", "alice")], &profile);
    assert!(
        f[0].evidence[0]
            .trace
            .contains("unless name=\\Microsoft\\Windows\\* user=*$"),
        "{}",
        f[0].evidence[0].trace
    );
}

/// The confidence of each `tool:role` the embedded rules find in `obs`.
pub(super) fn embedded_confidences(obs: Vec<Observation>) -> BTreeMap<String, Confidence> {
    let profile = HostProfile::from_observations(&obs);
    evaluate(embedded(), obs, &profile)
        .into_iter()
        .map(|f| (format!("{}:{}", f.tool_id, f.role.as_str()), f.confidence))
        .collect()
}

fn process_start(time: &str, image: &str, command_line: &str) -> Observation {
    event(
        time,
        "Security",
        4688,
        &[
            ("NewProcessName", image),
            ("CommandLine", command_line),
            ("ParentProcessName", "C:\\Windows\\System32\\cmd.exe"),
            ("SubjectUserName", "alice"),
        ],
    )
}

/// A built-in command with the tool's own arguments is one tool-specific fact
/// (`likely`); the same program without them is something Windows and
/// administrators run every day (`possible`, or nothing where `unless` refuses it).
#[test]
fn built_in_tools_are_likely_only_with_their_arguments() {
    let t = "2024-01-01T10:00:00Z";
    let cases: &[(&str, &str, &str, Option<Confidence>)] = &[
        (
            "wevtutil:source",
            "C:\\Windows\\System32\\wevtutil.exe",
            "wevtutil.exe  cl Security",
            Some(Confidence::Likely),
        ),
        (
            "wevtutil:source",
            "C:\\Windows\\System32\\wevtutil.exe",
            "wevtutil.exe im C:\\x.man",
            None,
        ),
        (
            "schtasks:source",
            "C:\\Windows\\System32\\schtasks.exe",
            "schtasks  /create /s fs02 /tn t /tr x.exe /sc daily",
            Some(Confidence::Likely),
        ),
        (
            "schtasks:source",
            "C:\\Windows\\System32\\schtasks.exe",
            "schtasks /query /fo list",
            None,
        ),
        (
            "schtasks:source",
            "C:\\Windows\\System32\\at.exe",
            "at  13:20 /interactive cmd",
            Some(Confidence::Likely),
        ),
        (
            "schtasks:source",
            "C:\\Windows\\System32\\at.exe",
            "at",
            Some(Confidence::Possible),
        ),
        (
            "ntdsutil:dc",
            "C:\\Windows\\System32\\ntdsutil.exe",
            "ntdsutil.exe 'ac i ntds' 'ifm' 'create full c:\\x' q q",
            Some(Confidence::Likely),
        ),
        // ntdsutil's own image with no command line recorded (4688 without the
        // command-line policy) says only that the program ran.
        (
            "ntdsutil:dc",
            "C:\\Windows\\System32\\ntdsutil.exe",
            "",
            Some(Confidence::Possible),
        ),
        (
            "net_user:source",
            "C:\\Windows\\System32\\net.exe",
            "net  user toto3 Secret1 /add",
            Some(Confidence::Likely),
        ),
        (
            "net_user:source",
            "C:\\Windows\\System32\\net.exe",
            "net user",
            Some(Confidence::Possible),
        ),
        (
            "bits:source",
            "C:\\Windows\\System32\\bitsadmin.exe",
            "bitsadmin  /transfer job https://x.example/a.jpg c:\\a.png",
            Some(Confidence::Likely),
        ),
        // Asked only to list jobs: administration, no job made (a benign twin).
        (
            "bits:source",
            "C:\\Windows\\System32\\bitsadmin.exe",
            "bitsadmin /list",
            None,
        ),
    ];
    for (key, image, command_line, want) in cases {
        let found = embedded_confidences(vec![process_start(t, image, command_line)]);
        assert_eq!(found.get(*key), want.as_ref(), "{command_line}: {found:?}");
    }
}

/// Windows' own BITS job client, a BITS job of any other program, and the AT
/// service's pipe opened over IPC$: generic, so `possible` however often seen.
#[test]
fn generic_facts_stay_possible() {
    let job = |t: &str| {
        event(
            t,
            "Microsoft-Windows-Bits-Client/Operational",
            3,
            &[
                ("jobTitle", "Updater"),
                ("processPath", "C:\\Program Files\\X\\up.exe"),
            ],
        )
    };
    let bits = embedded_confidences(vec![
        job("2024-01-01T10:00:00Z"),
        job("2024-01-01T10:01:00Z"),
    ]);
    assert_eq!(
        bits.get("bits:source"),
        Some(&Confidence::Possible),
        "{bits:?}"
    );
    let atsvc = event(
        "2024-01-01T10:00:00Z",
        "Security",
        5145,
        &[
            ("ShareName", "\\\\*\\IPC$"),
            ("RelativeTargetName", "atsvc"),
            ("SubjectUserName", "alice"),
        ],
    );
    let found = embedded_confidences(vec![atsvc]);
    assert_eq!(
        found.get("schtasks:destination"),
        Some(&Confidence::Possible),
        "{found:?}"
    );
    // Another pipe on IPC$ is no task at all.
    let srvsvc = event(
        "2024-01-01T10:00:00Z",
        "Security",
        5145,
        &[
            ("ShareName", "\\\\*\\IPC$"),
            ("RelativeTargetName", "srvsvc"),
            ("SubjectUserName", "alice"),
        ],
    );
    assert!(!embedded_confidences(vec![srvsvc]).contains_key("schtasks:destination"));
}

/// mimilib.dll registered where Windows loads it (DNS server plugin, LSA security
/// package) names mimikatz whichever module the attacker meant: the family finding.
#[test]
fn mimilib_registered_as_plugin_or_package_is_mimikatz() {
    for (key, details) in [
        (
            "HKLM\\System\\CurrentControlSet\\Services\\DNS\\Parameters\\ServerLevelPluginDll",
            "C:\\Windows\\Temp\\mimilib.dll",
        ),
        (
            "HKLM\\System\\CurrentControlSet\\Control\\Lsa\\Security Packages",
            "kerberos msv1_0 mimilib",
        ),
    ] {
        let set = event(
            "2024-01-01T10:00:00Z",
            "Microsoft-Windows-Sysmon/Operational",
            13,
            &[
                ("EventType", "SetValue"),
                ("Image", "C:\\Windows\\regedit.exe"),
                ("TargetObject", key),
                ("Details", details),
            ],
        );
        let found = embedded_confidences(vec![set]);
        assert_eq!(
            found.get("mimikatz:source"),
            Some(&Confidence::Likely),
            "{key}: {found:?}"
        );
    }
    // The same values naming Windows' own packages are no tool.
    let own = event(
        "2024-01-01T10:00:00Z",
        "Microsoft-Windows-Sysmon/Operational",
        13,
        &[
            ("EventType", "SetValue"),
            (
                "TargetObject",
                "HKLM\\System\\CurrentControlSet\\Control\\Lsa\\Security Packages",
            ),
            ("Details", "kerberos msv1_0 schannel wdigest tspkg pku2u"),
        ],
    );
    assert!(embedded_confidences(vec![own]).is_empty());
}

/// The commands that register mimilib.dll name mimikatz; the same commands with
/// another DLL do not.
#[test]
fn mimilib_registration_commands_are_mimikatz() {
    let t = "2024-01-01T10:00:00Z";
    for (image, command_line, mimikatz) in [
        (
            "C:\\Windows\\System32\\dnscmd.exe",
            "dnscmd dc1 /config /serverlevelplugindll \\\\h\\s\\mimilib.dll",
            true,
        ),
        (
            "C:\\Windows\\System32\\netsh.exe",
            "netsh add helper C:\\Users\\a\\mimilib.dll",
            true,
        ),
        (
            "C:\\Windows\\System32\\netsh.exe",
            "netsh add helper C:\\Program Files\\Vendor\\helper.dll",
            false,
        ),
    ] {
        let found = embedded_confidences(vec![process_start(t, image, command_line)]);
        let want = mimikatz.then_some(&Confidence::Likely);
        assert_eq!(
            found.get("mimikatz:source"),
            want,
            "{command_line}: {found:?}"
        );
    }
}

/// ESENT naming a ntds.dit laid out as IFM media is ntdsutil's copy; the DC's own
/// database opened by lsass is not.
#[test]
fn esent_on_an_ifm_copy_of_ntds_dit_is_ntdsutil() {
    let esent = |id: u32, process: &str, path: &str| {
        event(
            "2024-01-01T10:00:00Z",
            "Application",
            id,
            &[
                ("Data", process),
                ("Data_2", "5076,D,35"),
                ("Data_3", ""),
                ("Data_4", "1"),
                ("Data_5", path),
            ],
        )
    };
    let ifm = embedded_confidences(vec![esent(
        325,
        "dsamain",
        "C:\\hacker\\Active Directory\\ntds.dit",
    )]);
    assert_eq!(ifm.get("ntdsutil:dc"), Some(&Confidence::Likely), "{ifm:?}");
    let live = embedded_confidences(vec![esent(326, "lsass", "C:\\Windows\\NTDS\\ntds.dit")]);
    assert!(!live.contains_key("ntdsutil:dc"), "{live:?}");
}

/// Replication rights used by a user account are DCSync, one tool-specific fact;
/// the same rights used by a DC or by Azure AD Connect's sync account are not.
#[test]
fn dcsync_by_a_user_not_by_a_dc_or_the_sync_account() {
    let replication = |user: &str| {
        event(
            "2024-01-01T10:00:00Z",
            "Security",
            4662,
            &[
                ("SubjectUserName", user),
                ("Properties", "%%7688 {1131f6ad-9c07-11d1-f79f-00c04fc2dcd2} {19195a5b-6da0-11d0-afd3-00c04fd930c9}"),
            ],
        )
    };
    let user = embedded_confidences(vec![replication("alice")]);
    assert_eq!(user.get("dcsync:dc"), Some(&Confidence::Likely), "{user:?}");
    for benign in ["DC02$", "MSOL_0123abcd4567", "AAD_0123abcd4567"] {
        let found = embedded_confidences(vec![replication(benign)]);
        assert!(!found.contains_key("dcsync:dc"), "{benign}: {found:?}");
    }
}
