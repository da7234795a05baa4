#!/usr/bin/env python3
"""Regenerate src/traces/rules/ (one rules file per tool) from the research extraction in ../shared/jpcert/traces.toml.

The input is read at run time (it is not part of the project). Only facts are carried over:
identifiers, event IDs, field values, paths, registry keys. Tool names and aliases are names.
Everything that decides what a trace *means* for us (which items are anchors, which
executables are tool-specific, the per-tool notes) lives in TOOLS below and is our own.

Usage: python3 src/traces/tools/build_rules.py [path/to/traces.toml] [--out DIR]
writes DIR/<tool id>.toml for every tool (one rule source per tool) and DIR/mod.rs, the list that embeds
them; DIR defaults to src/traces/rules.
Environment: TOOLMARK_SHARED overrides the shared directory (default <repo>/../shared).
"""

import os
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

# Per tool: executables (lower case name, role, tool-specific?), substrings that make an item
# specific to the tool (case-insensitive, matched against the item's match values), channels or
# (channel, event id) pairs that are anchors for this tool, and an optional note (our words).
S, D, DC = "source", "destination", "dc"
POWERSHELL = "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"


def SCRIPT_BLOCK(word):
    """A PowerShell 4104 record whose script text names the tool (PowerShell 5 logs such blocks by default)."""
    return {"role": S, "strength": "anchor", "logging": "default", "artifact": "evtx",
            "channel": "Microsoft-Windows-PowerShell/Operational", "event_id": 4104,
            "fields": {"ScriptBlockText": f"*{word}*"},
            "note": "the sheets list 4104 without its text; the script name in the text is our inference"}


def COMMAND_LINE(word):
    """A process start whose command line names the tool's script (needs Sysmon)."""
    return {"role": S, "strength": "anchor", "logging": "sysmon", "artifact": "evtx",
            "channel": "Microsoft-Windows-Sysmon/Operational", "event_id": 1,
            "fields": {"CommandLine": f"*{word}*"},
            "note": "the sheets mask the interpreter's command line; the script name in it is our inference"}
def EXTRA_EVENT(role, logging, channel, event_id, fields, note):
    """An anchor the sheets imply but do not write in the form real records take (our addition)."""
    return {"role": role, "strength": "anchor", "logging": logging, "artifact": "evtx",
            "channel": channel, "event_id": event_id, "fields": fields, "note": note}


def PROCESS_START(role, note, image=None, command_line=None, parent_image=None, unless=None, sheet=None):
    """A process start (our addition), written once for Security 4688 and once for Sysmon 1: the fact layer
    makes each accept the other's witness, and the pair keeps the `missing` column exact for either log. `sheet`
    maps 4688 and 1 to the sheet items each copy restates."""
    out = []
    for logging, channel, event_id, names in [
            ("audit:process_creation", "Security", 4688, ("NewProcessName", "CommandLine", "ParentProcessName")),
            ("sysmon", "Microsoft-Windows-Sysmon/Operational", 1, ("Image", "CommandLine", "ParentImage"))]:
        fields = {n: v for n, v in zip(names, (image, command_line, parent_image)) if v is not None}
        t = EXTRA_EVENT(role, logging, channel, event_id, fields, note)
        if sheet and sheet.get(event_id):
            t["sheet"] = list(sheet[event_id])
        if unless:
            t["unless"] = {dict(zip(("image", "command_line", "parent_image"), names))[k]: v for k, v in unless.items()}
        out.append(t)
    return out


WMIEXEC_VBS_RUN_NOTE = ("a command line naming wmiexec.vbs (cscript or wscript running the script, any mode and "
                        "arguments): the sheets' source traces widened beyond their `/cmd` example (our addition)")
WINRM_AUTH_NOTE = ("the WinRM service authenticating a client's user (WinRM/Operational 169): a WinRM session opened to "
                   "this host; the sheets' item for it, made an anchor where 91 and wsmprovhost's start are not kept "
                   "(our addition)")
REMOTE_PIPELINE_NOTE = ("a command logged by PowerShell's module logging (4103) inside wsmprovhost.exe: a pipeline run "
                        "in a remoting session opened to this host (our addition)")
WSMPROVHOST_START_NOTE = ("wsmprovhost.exe started, in any spelling of its path and with any command line: the PowerShell "
                          "remoting host a WinRM client's session runs in (our addition beside the sheets' exact start trace)")
WEVTUTIL_CLEAR_NOTE = ("the clear command the sheets show (`wevtutil cl <log>`), in any spelling of the program's path "
                       "and with the long form `clear-log` (our widening of the sheets' command line)")
SCHTASKS_NOTE = ("schtasks.exe asked to create, run or change a task, as the sheets show it (`/Create /S …`, `/Run`); "
                 "any target and argument order (our widening)")
AT_JOB_NOTE = "at.exe given a time: it schedules a job (a bare `at` only lists them); our addition beside the sheets' schtasks"
ATSVC_NOTE = ("a client opened the AT service's pipe (`atsvc`) on IPC$: a job scheduled remotely (at.exe, Impacket atexec) "
              "or any other use of that RPC interface, so generic (our addition)")
VSSADMIN_NOTE = ("vssadmin.exe asked to create, delete or shrink shadow copies, in any spelling of its path and "
                 "arguments: the sheets' `vssadmin create shadow /For=C:` widened (our addition)")
SHADOW_COPY_READ_NOTE = ("a command line reading ntds.dit or the SYSTEM hive out of a shadow copy's device path, whatever "
                         "program copies it: the step the sheets show after `vssadmin create shadow` (our widening)")
NTDSUTIL_IFM_NOTE = ("ntdsutil asked for install-from-media or a snapshot (`ifm`, `create full`, `snapshot`): the copy of "
                     "ntds.dit the sheets describe, in whatever abbreviation (`ac i ntds`) was typed (our widening)")
BITSADMIN_NOTE = "bitsadmin.exe asked to create or run a transfer job, the sheets' client (our widening of its command line)"
AT_NOTE = "at.exe, the older scheduling command the sheets file under schtasks; its process start (our addition)"
NET_USER_NOTE = ("the sheets show domain accounts added or deleted (`/add /domain`); enabling an account or "
                 "adding one to a local group (`net user guest /active:yes`, `net localgroup administrators x /add`) "
                 "is the same tool used on the local host, so these looser patterns are our addition; net.exe or "
                 "net1.exe under any path or quoting, or a renamed copy, and the switch before or after the names "
                 "(`net user /add x pw`)")
NET_ANY_NOTE = ("any net.exe / net1.exe command line of this subcommand, queries included: account and share "
                "listing is the same tool at work (our addition)")
NET_USE_NOTE = ("the sheets show `net use \\\\host\\share`; real runs often map a drive letter first and keep "
                "the typed spacing (`net  use m: \\\\host\\c$`), so this looser pattern is our addition; the program "
                "is net.exe or the net1.exe it starts, under any path or quoting, or a renamed copy (its OriginalFileName)")
# net.exe and the net1.exe it hands the work to; a renamed copy matches by its PE name (fact layer).
NET_PROGRAMS = ["*\\net.exe", "*\\net1.exe"]


# ---- Benign twins: what tells a tool's record from the same record written by Windows or by ordinary
# software. Each list is applied as the trace key `unless` (src/traces/README.md, "Benign twins"); the names
# are canonical fact fields (command_line, parent_image, name, user, …) and are written into each trace under
# the field name of its own witness (see WITNESS_NAMES). Everything here is our judgement, not the sheets'.

BITS_CHANNEL = "Microsoft-Windows-Bits-Client/Operational"
# Jobs Windows and common Microsoft/Google components create themselves (job name in 3/4/5/16403 `jobTitle`,
# in 59/60/61 `name`). Names are chosen by whoever creates the job, so an attacker can borrow one: the
# exclusion trades that blind spot for never calling Windows' own downloads a tool.
BITS_BENIGN_JOBS = ["Font Download", "Push Notification Platform Job*", "Microsoft Outlook Offline Address Book*",
                    "WU Client Download*", "SpeechModelDownloadJob*", "Edge Component Updater", "Chrome Component Updater",
                    "PreSignInSettingsConfigJSON", "UpdateBinary", "*\\*GoogleUpdateSetup.exe"]
# The client process that created the job (3 `processPath`): Windows services run in svchost.exe (Windows
# Update, Delivery Optimization, fonts, push notifications); the rest are browser and OneDrive updaters. An
# attacker's job comes from bitsadmin.exe, powershell.exe or their own program.
# bitsadmin asked only to list or show jobs (administration, monitoring agents): no job is made.
BITSADMIN_QUERIES = ["*bitsadmin* /list*", "*bitsadmin* /info *", "*bitsadmin* /monitor*", "*bitsadmin* /getstate *",
                     "*bitsadmin* /rawreturn /list*", "*bitsadmin* /util /version*"]
BITS_BENIGN_CLIENTS = ["*\\svchost.exe", "*\\msedge.exe", "*\\MicrosoftEdgeUpdate.exe", "*\\OneDrive*.exe",
                       "*\\GoogleUpdate.exe", "*\\chrome.exe", "*\\MoUsoCoreWorker.exe", "*\\wuauclt.exe", "*\\OUTLOOK.EXE"]
# Tasks Windows and installers register: Windows' own tree, and the updaters every desktop has. A task
# registered by the machine account (SubjectUserName HOST$) or a service identity is an installer or Windows
# itself; an attacker registering remotely (schtasks /s, atexec) does it under the account they logged on with.
TASK_BENIGN_NAMES = ["\\Microsoft\\Windows\\*", "\\Microsoft\\Office\\*", "\\Microsoft\\XblGameSave\\*",
                     "\\MicrosoftEdgeUpdateTask*", "\\GoogleUpdateTask*", "\\OneDrive *", "\\Adobe Acrobat Update Task",
                     "\\npcapwatchdog", "\\CreateExplorerShellUnelevatedTask", "\\User_Feed_Synchronization-*",
                     "\\Optimize Start Menu Cache Files-*"]
TASK_SERVICE_USERS = ["*$", "NT AUTHORITY\\*", "S-1-5-18", "S-1-5-19", "S-1-5-20", "SYSTEM", "LOCAL SERVICE", "NETWORK SERVICE"]
# wevtutil also installs event manifests for Defender platform updates and installers (im/um); the tool the
# sheets describe clears logs. Its read-only verbs (query, export, list, get) are administration, refused when a
# command line shows one; `sl` (set-log, which can disable a log) is not among them.
WEVTUTIL_READ_VERBS = ["qe", "query-events", "epl", "export-log", "el", "enum-logs", "gl", "get-log", "gli",
                       "get-loginfo", "ep", "enum-publishers", "gp", "get-publisher"]
WEVTUTIL_BENIGN = {"command_line": ["* im *", "* um *", "*install-manifest*"]
                   + [f"*{program} {verb}{tail}" for program in ("wevtutil", "wevtutil.exe", "wevtutil.exe\"")
                      for verb in WEVTUTIL_READ_VERBS for tail in ("", " *")],
                   "parent_image": ["*\\MsMpEng.exe", "*\\TiWorker.exe", "*\\TrustedInstaller.exe", "*\\msiexec.exe"]}
# Installers and Windows servicing register their tasks by running schtasks.exe themselves (an MSI custom action,
# the servicing stack); their task's 4698 beside it would otherwise make a benign install `confirmed`.
INSTALLER_PARENTS = ["*\\msiexec.exe", "*\\TiWorker.exe", "*\\TrustedInstaller.exe"]
# A WinRM client session to the host itself (Server Manager and local management tools open them all day): the
# connection string of WinRM/Operational 6 names localhost or a loopback address. Only event 6 names the
# destination, so it is the client side's anchor; the session's other events say a session ran, not where.
WINRM_LOCAL = {"connection": [f"{scheme}{host}{tail}" for scheme in ("", "http://", "https://")
                              for host in ("localhost", "127.0.0.1", "[::1]", "::1") for tail in ("", "/*", ":*")]}
WINRM_SESSION_EVENT = 6
# Console sessions are LocalSessionManager events too, with Address LOCAL.
RDP_LOCAL = {"Address": ["LOCAL"]}

# Field names of each witness for the canonical names used above.
WITNESS_NAMES = {
    ("Security", 4688): {"image": "NewProcessName", "command_line": "CommandLine", "parent_image": "ParentProcessName"},
    ("Microsoft-Windows-Sysmon/Operational", 1): {"image": "Image", "command_line": "CommandLine", "parent_image": "ParentImage"},
    ("Security", 4698): {"name": "TaskName", "user": "SubjectUserName"},
    ("Microsoft-Windows-TaskScheduler/Operational", 106): {"name": "TaskName", "user": "UserContext"},
    ("Security", 4662): {"user": "SubjectUserName"},
}


def witness_unless(t, canonical):
    """`canonical` (fact field -> globs) written with the field names of trace `t`'s own event."""
    names = WITNESS_NAMES.get((t.get("channel"), t.get("event_id")), {})
    return {names.get(k, k): v for k, v in canonical.items()}


def on_event(channel, *ids):
    return lambda t: t["artifact"] == "evtx" and t["channel"].lower() == channel.lower() and (not ids or t["event_id"] in ids)


def process_of(exe):
    """Process starts (4688 / Sysmon 1) of the program `exe`."""
    def applies(t):
        if t["artifact"] != "evtx" or (t["channel"], t["event_id"]) not in (("Security", 4688), ("Microsoft-Windows-Sysmon/Operational", 1)):
            return False
        image = t["fields"].get("NewProcessName") or t["fields"].get("Image") or ""
        return isinstance(image, str) and image.lower().endswith("\\" + exe)
    return applies


# mimikatz leaves parts of itself behind whichever module ran: its driver (mimidrv.sys, installed as a
# service), its DNS-server plugin and SSP (mimilib.dll) and the log that SSP writes (mimilsa.log). Every tool
# the sheets describe as a mimikatz module gets these anchors; when they alone fire, the matcher's family rule
# turns the module findings into one `mimikatz (module unknown)`. Our addition.
MIMIKATZ_NOTE = "a mimikatz component, whichever module ran (our addition; see MIMIKATZ_PARTS in build_rules.py)"
MIMIKATZ_PARTS = [
    EXTRA_EVENT(S, "default", "System", 7045, {"ImagePath": "*\\mimidrv.sys"}, MIMIKATZ_NOTE),
    EXTRA_EVENT(S, "sysmon", "Microsoft-Windows-Sysmon/Operational", 13, {"TargetObject": "*\\Services\\mimidrv\\*"}, MIMIKATZ_NOTE),
    EXTRA_EVENT(S, "sysmon", "Microsoft-Windows-Sysmon/Operational", 6, {"ImageLoaded": "*\\mimidrv.sys"}, MIMIKATZ_NOTE),
    EXTRA_EVENT(S, "sysmon", "Microsoft-Windows-Sysmon/Operational", 7, {"ImageLoaded": "*\\mimilib.dll"}, MIMIKATZ_NOTE),
    EXTRA_EVENT(S, "sysmon", "Microsoft-Windows-Sysmon/Operational", 11, {"TargetFilename": "*\\mimilsa.log"}, MIMIKATZ_NOTE),
    EXTRA_EVENT(S, "default", "DNS Server", 770, {"param1": "*\\mimilib.dll"}, MIMIKATZ_NOTE),
    # 150: the DNS server was told to load the plugin and could not; it was still registered there.
    EXTRA_EVENT(S, "default", "DNS Server", 150, {"param1": "*\\mimilib.dll"}, MIMIKATZ_NOTE),
    # mimilib.dll registered where Windows loads it: the DNS server's plugin value (DNSAdmins abuse) and the LSA
    # security packages (misc::memssp's sibling, the SSP on disk). The value names the DLL, so a renamed copy escapes.
    EXTRA_EVENT(S, "sysmon", "Microsoft-Windows-Sysmon/Operational", 13,
                {"TargetObject": "*\\Services\\DNS\\Parameters\\ServerLevelPluginDll", "Details": "*mimilib*"}, MIMIKATZ_NOTE),
    EXTRA_EVENT(S, "sysmon", "Microsoft-Windows-Sysmon/Operational", 13,
                {"TargetObject": "*\\Control\\Lsa\\Security Packages", "Details": "*mimilib*"}, MIMIKATZ_NOTE),
    # The LSA loading it at boot as an authentication, notification or security package (Security 4610, 4614,
    # 4622 of the security-system-extension audit): the package is named by its DLL's name or path.
    EXTRA_EVENT(S, "audit:security_system_extension", "Security", 4610, {"AuthenticationPackageName": "*mimilib*"},
                MIMIKATZ_NOTE),
    EXTRA_EVENT(S, "audit:security_system_extension", "Security", 4614, {"NotificationPackageName": "*mimilib*"},
                MIMIKATZ_NOTE),
    EXTRA_EVENT(S, "audit:security_system_extension", "Security", 4622, {"SecurityPackageName": "*mimilib*"},
                MIMIKATZ_NOTE),
    {"role": S, "strength": "anchor", "logging": "default", "artifact": "registry", "hive": "SYSTEM",
     "key": "ControlSet*\\Services\\DNS\\Parameters", "value": "ServerLevelPluginDll", "data": "*mimilib*", "note": MIMIKATZ_NOTE},
    {"role": S, "strength": "anchor", "logging": "default", "artifact": "registry", "hive": "SYSTEM",
     "key": "ControlSet*\\Control\\Lsa", "value": "Security Packages", "data": "*mimilib*", "note": MIMIKATZ_NOTE},
]
# The commands that register it: `dnscmd /config /serverlevelplugindll <dll>` and `netsh add helper <dll>`.
# Microsoft Defender's detections name the tool by its signature family: 1116 (detected) and 1117 (acted on),
# 1006/1007 on older platforms. The file was on this host under whatever name, but a detection is no run (a
# file copied or browsed is detected too, and blocked): supporting only, it adds to a finding other records
# make. Mimikatz loaded by PowerShell is detected as PowerShell/Mimikatz: Invoke-Mimikatz's.
DEFENDER = "Microsoft-Windows-Windows Defender/Operational"
DEFENDER_EVENTS = (1116, 1117, 1006, 1007)
DEFENDER_NOTE = ("Microsoft Defender detected the tool on this host by its signature family (1116 detected, 1117 acted on; "
                 "1006/1007 on older platforms): the file was here, whatever it was called, but a detection is no run, so "
                 "it supports a finding and makes none (our addition)")


def DEFENDER_DETECTION(role, families, unless=None):
    """One supporting trace per Defender detection event whose threat name is one of `families` (globs)."""
    out = []
    for event_id in DEFENDER_EVENTS:
        t = EXTRA_EVENT(role, "default", DEFENDER, event_id, {"Threat Name": families}, DEFENDER_NOTE)
        t["strength"] = "supporting"
        if unless:
            t["unless"] = unless
        out.append(t)
    return out


MIMIKATZ_PARTS += DEFENDER_DETECTION(S, ["*/Mimikatz*", "*/Mikatz*"], unless={"Threat Name": "*PowerShell/*"})
MIMIKATZ_PARTS += PROCESS_START(S, MIMIKATZ_NOTE, image="*\\dnscmd.exe", command_line="*/serverlevelplugindll *mimilib*")
MIMIKATZ_PARTS += PROCESS_START(S, MIMIKATZ_NOTE, image="*\\netsh.exe", command_line=["*add*helper*mimilib*", "*add*helper*mimikatz*"])

LOLBIN_CHILDREN = ["*\\cmd.exe", "*\\powershell.exe", "*\\pwsh.exe", "*\\mshta.exe", "*\\rundll32.exe",
                   "*\\cscript.exe", "*\\wscript.exe"]
# Impacket/CrackMapExec wmiexec: `cmd.exe /Q /c <cmd> 1> \\127.0.0.1\ADMIN$\__<time.time()> 2>&1`. smbexec's
# `__output` is another tool (a service, not WMI) and is kept out.
WMIEXEC_OUTPUT = "__??????????.*"
# Impacket's dcomexec writes its output the same way, but its shell's parent is the DCOM object's host:
# mmc.exe (MMC20.Application) or explorer.exe (ShellWindows, ShellBrowserWindow), never WmiPrvSE.exe.
# DCOM execution is no sheet tool.
DCOMEXEC_PARENTS = ["*\\mmc.exe", "*\\explorer.exe"]
WMIEXEC_NOTE = ("Impacket's wmiexec works like wmiexec.vbs (a WMI-created cmd.exe writing its output to a file "
                "read back over a share) with ADMIN$ and a time-stamped file name; the labels file it under "
                "wmiexec_vbs (our addition)")
WMIC_NOTE = ("a shell or script host started by WmiPrvSE.exe: a process created over WMI (wmic /node … process "
             "call create, Invoke-WmiMethod); the sheets show only the WmiPrvSE start itself (our addition)")
RDP_NOTE = ("an RDP logon, or a refused one (an RDP client reached this host); the sheets list the session "
            "events and 4624 type 10 as supporting (our addition)")
# The RDP server stack's records of one incoming connection (RdpCoreTS/Operational): created (65), assigned to a
# session (66), credential prompt (68), TCP established (98), the client's time zone (104), its protocol version
# (168). Where 131 (connection accepted) has rolled over or was filtered out, any of them says a client connected.
# The listener's own start-up records (69, 70) are not among them: they are written at every boot.
RDP_CONNECTION_EVENTS = (65, 66, 68, 98, 104, 168)
RDP_CONNECTION_NOTE = ("the RDP server stack recording one incoming connection (RdpCoreTS 65/66/68/98/104/168): an RDP "
                       "client reached this host, seen where 131 is not kept (our addition)")
# schemaIDGUIDs of the directory classes a DC registration touches.
SERVERS_CONTAINER = "f780acc0-56f0-11d1-a9c6-0000f80367c1"
SERVER_CLASS = "bf967a92-0de6-11d0-a285-00aa003049e2"
NTDS_DSA_CLASS = "f0f8ffab-1191-11d0-a060-00aa006c33ed"
# The built-in administrator (RID 500) under its default names in common Windows languages.
ADMINISTRATOR_NAMES = ["Administrator", "Administrateur", "Administrador", "Administratör", "Amministratore",
                       "Järjestelmänvalvoja", "Администратор", "Administratorius", "Rendszergazda"]
GOLDEN_NOTE = ("a Kerberos network logon whose PAC says RID 500 under another name: a forged ticket "
               "(mimikatz kerberos::golden defaults to /id:500 with any /user, e.g. one that does not exist). "
               "Benign twin: a renamed built-in administrator, so this stays one anchor (our addition)")
# PsExec names its console pipes <service>-<client host>-<client pid>-stdin/-stdout/-stderr; `-r NAME` renames
# the service (and so the pipes), never the shape.
PSEXEC_PIPES = ["*-*-*-stdin", "*-*-*-stdout", "*-*-*-stderr"]
PSEXEC_RENAMED_NOTE = ("PsExec's console pipes by their shape, whatever `-r` named the service: the sheets' "
                       "PSEXESVC-…-stdin widened to a renamed service (our addition)")
# Every RDP client, mstsc.exe or one hosting its ActiveX control (SharpRDP and the like), records each server it
# connected to under the user's Terminal Server Client\Servers key; the sheets' Sysmon 13 names mstsc.exe.
RDP_CLIENT_SERVERS_NOTE = ("a server recorded under Terminal Server Client\\Servers by any RDP client, mstsc.exe or "
                           "a program hosting its control (our addition beside the sheets' mstsc.exe write)")
# SharpHound's PowerShell form (SharpHound.ps1) is the same collector, loaded and called as Invoke-BloodHound.
SHARPHOUND_SCRIPT_NOTE = ("the collector's PowerShell form, Invoke-BloodHound, in a script block (our addition)")
SHARPHOUND_PIPES_NOTE = ("one network logon session opening the server-service, SAM and LSA pipes on IPC$: the "
                         "session (srvsvc NetSessionEnum) and local-group (samr, lsarpc) collection SharpHound runs "
                         "against every computer it reaches; secretsdump opens another set (samr, svcctl, winreg), "
                         "but a remote Computer Management console or other recon tools open the same, so it is "
                         "generic. The sheets' 5145 of these pipes, taken together (our addition)")
SHARPHOUND_SAMR_NOTE = ("a built-in local group's members listed by a remote caller (no calling process: the request "
                        "came over SAMR), as SharpHound's local-admin collection does on every host it reaches; the "
                        "sheets' 4799 narrowed to the remote case (our addition)")
GOLDEN_SHARE_NOTE = ("a share opened by a session whose token says RID 500 under another name: the same forged PAC as "
                     "the 4624 trace, seen where only file-share auditing recorded it. Benign twin: a renamed built-in "
                     "administrator (our addition)")
GOLDEN_REALM_NOTE = ("a service ticket asked for with a TGT whose realm holds a lower-case letter: Windows' KDC writes "
                     "its realm in upper case in every TGT it issues (EXAMPLE.COM even when the client typed example.com, "
                     "which 4768 shows as supplied), so this TGT was made elsewhere: forged with the krbtgt key, as "
                     "kerberos::golden does with /domain as typed. The sheets' dc 4769 (en:10) widened to any service "
                     "and narrowed by the realm's case (our addition); a forger who types the realm in upper case "
                     "escapes it, and a trusted non-Windows realm spelled in lower case would be its benign twin")
# Lower-case ASCII letters, one alternative each: a realm value holding any of them (compared case-sensitively).
LOWER_CASE_LETTER = ["*" + c + "*" for c in "abcdefghijklmnopqrstuvwxyz"]
NTDSUTIL_IFM_ESENT_NOTE = ("the database engine creating, attaching or detaching a ntds.dit laid out as install-from-media "
                           "media (`<dir>\\Active Directory\\ntds.dit`, the file the sheets show ntdsutil writing, ja:268 "
                           "and ja:351), whichever process ESENT names; the path is the fourth or fifth insertion string "
                           "depending on the Windows version (our addition)")
NTDSUTIL_ESENT_NOTE = ("the database engine working for ntdsutil.exe (ESENT names the process in its first field): "
                       "creating, attaching or recovering the IFM copy of ntds.dit (our addition)")
INVOKE_MIMIKATZ_NOTE = ("a command line naming Invoke-Mimikatz, also once decoded (-EncodedCommand, char-code "
                        "arrays): the script run by PowerShell (our addition)")
# PowerShell hosting mimikatz's code: the process that reads lsass is PowerShell itself (powershell.exe, pwsh.exe, the
# ISE; wsmprovhost.exe on the target of `Invoke-Mimikatz -ComputerName`). What tells it from PowerShell inspecting
# processes: the rights. Sysmon 10's GrantedAccess holds PROCESS_VM_READ (0x10) in its second-last hex digit
# whenever that digit is odd. .NET's own process inspection asks for query + read (0x410, granted as 0x1410) to list
# modules, or for everything (0x1fffff; 0x1f0fff / 0x1f3fff on older Windows) through `Process.Handle`, which is what
# `Get-Process | Select *` and Out-Minidump (another sheet tool) do: those masks are the benign twin.
POWERSHELL_HOSTS = ["*\\powershell.exe", "*\\pwsh.exe", "*\\powershell_ise.exe"]
# Out-Minidump's own body (and any PowerShell that borrows it): MiniDumpWriteDump reached through the
# WindowsErrorReporting type, or named in the same block as lsass. Scripts that only declare the API for other
# processes (support tools dumping a hung program) name neither.
MINIDUMP_BLOCKS = ["*WindowsErrorReporting*MiniDumpWriteDump*", "*MiniDumpWriteDump*lsass*", "*lsass*MiniDumpWriteDump*"]
MINIDUMP_BLOCK_NOTE = ("a script block calling MiniDumpWriteDump the way Out-Minidump does (through "
                       "System.Management.Automation.WindowsErrorReporting) or on lsass: the tool's code logged without "
                       "its name (our addition)")
# PowerShell setting a file's creation time ((Get-Item f).CreationTime = ..., the usual script form of timestomping):
# Sysmon 2 names the process that changed it. Installers and browsers, which change creation times all day, are
# not script hosts.
# The same step as the script writes it (PowerShell 4104): a creation time assigned or set through .NET.
TIMESTOMP_BLOCKS = ["*.CreationTime = *", "*.CreationTime=*", "*.CreationTimeUtc = *", "*.CreationTimeUtc=*",
                    "*SetCreationTime*"]
TIMESTOMP_BLOCK_NOTE = ("a script block setting a file's creation time (`$f.CreationTime = …`, "
                        "`[IO.File]::SetCreationTime`): timestomping from a script (our addition; `possible`)")
TIMESTOMP_SCRIPT_NOTE = ("a PowerShell host changing a file's creation time (Sysmon 2): timestomping from a script, "
                         "the tool's step without the tool (our addition; `possible`)")
LSASS_READ_ACCESS = ["0x*" + d + "?" for d in "13579bdf"]
DOTNET_PROCESS_ACCESS = [p + m for m in ("410", "1410", "1fffff", "1f0fff", "1f3fff") for p in ("0x", "0x" + "0" * (8 - len(m)))]
LSASS_READ_NOTE = ("PowerShell opening lsass.exe with the right to read its memory (Sysmon 10), with a mask .NET's own "
                   "process inspection never asks for: mimikatz's code running inside PowerShell, seen where no script "
                   "block or command line was logged. The sheets show PowerShell's Sysmon 10 process accesses during the "
                   "run (to Explorer) and, for mimikatz's own binary, its access to lsass; this trace is that access made "
                   "from PowerShell (our widening)")
LSASS_READ_REMOTE_NOTE = ("the same lsass read from wsmprovhost.exe, the process that runs Invoke-Mimikatz's script on "
                          "a host reached with -ComputerName (our addition)")
DCSHADOW_NOTE = ("the rogue-DC registration DCShadow performs on the real DC (our addition). Its benign twin is a real "
                 "DC promotion: the server object is the same, a real DC's account sits in OU=Domain Controllers")


TOOLS = {
    "acehash": dict(exes=[], tokens=[], note="The sheets do not name the binary: traces written with {exe}/{path} need the name the attacker used."),
    "azurehound": dict(exes=[("azurehound.exe", S, True)], tokens=["azurehound"]),
    "badsuccessor": dict(exes=[("sharpsuccessor.exe", D, True), ("rubeus.exe", S, True)], tokens=["/dmsa", "/impersonate:", "tgtdeleg"]),
    "beginx": dict(exes=[("netsh.exe", D, False), ("cmd.exe", S, False)], tokens=["name=Trend"],
                   note="Sample names differ; besides {exe}/{path}, only the firewall rule name used by the tested sample is specific."),
    "bits": dict(exes=[("powershell.exe", S, False), ("bitsadmin.exe", S, True)], tokens=["BIT*.tmp", "BitsTransfer"],
                 events=[("Microsoft-Windows-Bits-Client/Operational", None)],
                 extra=PROCESS_START(S, "bitsadmin.exe, the BITS command-line client (our addition)", image="*\\bitsadmin.exe",
                                     unless={"command_line": BITSADMIN_QUERIES})
                 + PROCESS_START(S, BITSADMIN_NOTE, image="*\\bitsadmin.exe",
                                 command_line=["*/transfer *", "*/create *", "*/addfile *", "*/SetNotifyCmdLine *", "*/resume *"],
                                 sheet={4688: ["en:19"]})
                 + [SCRIPT_BLOCK("Start-BitsTransfer")],
                 unless=[(on_event(BITS_CHANNEL), {"jobTitle": BITS_BENIGN_JOBS, "name": BITS_BENIGN_JOBS,
                                                   "processPath": BITS_BENIGN_CLIENTS})],
                 note="Windows Update also uses BITS: Bits-Client job events are anchors for the technique, not proof of an attacker."),
    # The directory's own command-line clients (csvde, dcdiag, dsquery, ldifde) run on the DC in the sheets, and on
    # any domain member with credentials in practice: the host that ran them is `dc` only when it is one, else the
    # `source` (one_host; the matcher decides from the host's records).
    "csvde": dict(exes=[("csvde.exe", DC, True)], tokens=["csvde", "csv*.tmp"], one_host=True),
    "dcdiag": dict(exes=[("dcdiag.exe", DC, True)], tokens=["dcdiag"], one_host=True,
                   note="A built-in administration command: its own process and Prefetch records are the only specific traces."),
    "dcshadow": dict(exes=[("mimikatz.exe", S, True)], tokens=["lsadump::dcshadow"],
                     extra=[EXTRA_EVENT(DC, "audit:directory_service_changes", "Security", 5137,
                                        {"ObjectClass": "server", "ObjectDN": "CN=*,CN=Servers,CN=*,CN=Sites,CN=Configuration,*"}, DCSHADOW_NOTE),
                            dict(EXTRA_EVENT(DC, "audit:directory_service_changes", "Security", 5136,
                                             {"AttributeLDAPDisplayName": "servicePrincipalName", "AttributeValue": "GC/*"}, DCSHADOW_NOTE),
                                 unless={"ObjectDN": ["*,OU=Domain Controllers,*"]}),
                            dict(EXTRA_EVENT(DC, "audit:directory_service_access", "Security", 4662,
                                             {"Properties": ["*1131f6ac-9c07-11d1-f79f-00c04fc2dcd2*", "*9923a32a-3607-11d2-b9be-0000f87a36b2*"]},
                                             "replication-topology and add-replica rights used by a user: DCShadow, but also a real "
                                             "DC promotion, so supporting (our addition)"),
                                 strength="supporting", unless={"SubjectUserName": ["*$"]}),
                            dict(EXTRA_EVENT(DC, "audit:computer_account_management", "Security", 4742,
                                             {"ServicePrincipalNames": "*GC/*"},
                                             "the GC/ SPN of the rogue-DC registration as the computer-account change records it: "
                                             "the same fact as the 5136 above, another witness (our addition)"),
                                 unless={"SubjectUserName": ["*$"]}),
                            dict(EXTRA_EVENT(DC, "audit:directory_service_access", "Security", 4662,
                                             {"ObjectType": "*" + SERVERS_CONTAINER + "*", "Properties": "*" + SERVER_CLASS + "*"},
                                             "a server object created in a site's Servers container, as the access check records "
                                             "it: the same fact as the 5137 above, another witness (our addition)"),
                                 unless={"SubjectUserName": ["*$"]}),
                            dict(EXTRA_EVENT(DC, "audit:directory_service_access", "Security", 4662,
                                             {"ObjectType": "*" + NTDS_DSA_CLASS + "*", "Properties": ["*%%1537*", "*DELETE*"]},
                                             "the rogue DC's nTDSDSA object deleted by a user when DCShadow unregisters "
                                             "(our addition); a real DC demotion runs as the machine account"),
                                 unless={"SubjectUserName": ["*$"]})]),
    "dcsync": dict(exes=[("mimikatz.exe", S, True)], tokens=["lsadump::dcsync"],
                   extra=[EXTRA_EVENT(DC, "audit:directory_service_access", "Security", 4662,
                                      {"Properties": ["*1131f6aa-9c07-11d1-f79f-00c04fc2dcd2*", "*1131f6ad-9c07-11d1-f79f-00c04fc2dcd2*"]},
                                      "replication rights (DS-Replication-Get-Changes / -All GUIDs) used on the domain object; "
                                      "DCs replicating with each other write the same under machine accounts (names ending in $), "
                                      "which `unless` leaves out (our addition)")],
                   # Azure AD Connect's sync account (MSOL_<hex>; AAD_<hex> in the older Azure AD Sync) holds the
                   # same rights and replicates password hashes to the cloud by design: a benign twin named by its
                   # account.
                   unless=[(on_event("Security", 4662), {"user": ["*$", "MSOL_*", "AAD_*"]})]),
    "diamond_ticket": dict(exes=[("rubeus.exe", S, True)], tokens=["diamond"]),
    "dsquery": dict(exes=[("dsquery.exe", DC, True)], tokens=["dsquery"], one_host=True,
                    note="A built-in administration command: its own process and Prefetch records are the only specific traces."),
    "fakewpad": dict(exes=[], tokens=["proxy.log", "wpad.dat"],
                     note="The sheets do not name the binary; the proxy log it writes is the specific trace on the relay host."),
    "find_gpopasswords": dict(exes=[("powershell.exe", S, False), ("find-gpopasswords.ps1", S, True)], placeholder_is=POWERSHELL, tokens=["GPPDataReport", "Find-GPOPasswords"]),
    "get_gpppassword": dict(exes=[("powershell.exe", S, False), ("get-gpppassword.ps1", S, True)], tokens=["Get-GPPPassword", "GPPPassword", "Groups.xml"],
                            extra=[SCRIPT_BLOCK("Get-GPPPassword")],
                            note="Runs inside powershell.exe; besides the script block, only the read of Groups.xml in SYSVOL points at it."),
    "golden_ticket": dict(exes=[("mimikatz.exe", S, True)], tokens=["kerberos::golden", "kerberos::ptt", ".kirbi"],
                          extra=[dict(EXTRA_EVENT(D, "default", "Security", 4624,
                                                  {"TargetUserSid": "S-1-5-21-*-500", "LogonType": "3",
                                                   "AuthenticationPackageName": "Kerberos"}, GOLDEN_NOTE),
                                      unless={"TargetUserName": ADMINISTRATOR_NAMES}),
                                 dict(EXTRA_EVENT(D, "audit:file_share", "Security", 5140,
                                                  {"SubjectUserSid": "S-1-5-21-*-500"}, GOLDEN_SHARE_NOTE),
                                      unless={"SubjectUserName": ADMINISTRATOR_NAMES}),
                                 dict(EXTRA_EVENT(DC, "default", "Security", 4769,
                                                  {"TargetDomainName": LOWER_CASE_LETTER}, GOLDEN_REALM_NOTE),
                                      case_sensitive=["TargetDomainName"], sheet=["en:10"])]),
    # The released binary keeps its version in its name (gsecdump-v2b5.exe).
    "gsecdump": dict(exes=[("gsecdump.exe", S, True), ("gsecdump-v2b5.exe", S, True), ("g64-7a3.exe", S, True)],
                     tokens=["gsecdump", "g64-7a3"]),
    "htran": dict(exes=[("htran.exe", S, True)], tokens=["htran", "-tran "]),
    "invoke_mimikatz": dict(exes=[("powershell.exe", S, False), ("wsmprovhost.exe", D, False)], tokens=["Invoke-Mimikatz", "mimikatz"],
                            extra=DEFENDER_DETECTION(S, ["*PowerShell/Mimikatz*"]) + [SCRIPT_BLOCK("Invoke-Mimikatz"),
                                   dict(SCRIPT_BLOCK("sekurlsa::"), fields={"ScriptBlockText": ["*sekurlsa::*", "*kerberos::*", "*lsadump::*"]},
                                        note="mimikatz module commands inside a PowerShell script block: mimikatz loaded into "
                                             "PowerShell, whatever the script is called (our addition)")]
                            + PROCESS_START(S, INVOKE_MIMIKATZ_NOTE, command_line="*Invoke-Mimikatz*")
                            + [dict(EXTRA_EVENT(role, "sysmon", "Microsoft-Windows-Sysmon/Operational", 10,
                                                {"SourceImage": hosts, "TargetImage": "*\\lsass.exe",
                                                 "GrantedAccess": LSASS_READ_ACCESS}, note),
                                    unless={"GrantedAccess": DOTNET_PROCESS_ACCESS}, **cite)
                               for role, hosts, note, cite in [
                                   (S, POWERSHELL_HOSTS, LSASS_READ_NOTE, {"sheet": ["en:38", "ja:132"]}),
                                   (D, ["*\\wsmprovhost.exe"], LSASS_READ_REMOTE_NOTE, {})]],
                            note="Runs inside powershell.exe: the logged script block is the only specific trace."),
    "klist_purge": dict(exes=[("klist.exe", S, True)], tokens=["klist"],
                        note="A built-in command: klist.exe's own process and Prefetch records are the specific traces."),
    "ldifde": dict(exes=[("ldifde.exe", S, True)], tokens=["ldifde"], one_host=True),
    # Released as lslsass32.exe and lslsass64.exe besides the plain name.
    "lslsass": dict(exes=[("lslsass.exe", S, True), ("lslsass32.exe", S, True), ("lslsass64.exe", S, True)],
                    tokens=["lslsass"]),
    "mimikatz_lsadump_sam": dict(exes=[("mimikatz.exe", S, True)], tokens=["lsadump::sam"]),
    "mimikatz_sekurlsa_logonpasswords": dict(exes=[("mimikatz.exe", S, True)], tokens=["sekurlsa::logonpasswords"]),
    "mimikatz_sekurlsa_tickets": dict(exes=[("mimikatz.exe", S, True)], tokens=["sekurlsa::tickets", ".kirbi"]),
    "ms14_058": dict(exes=[], tokens=[], note="Exploit binaries are renamed freely: traces written with {exe}/{path} need the name seen on the host."),
    "ms14_068": dict(exes=[("ms14-068.exe", S, True), ("mimikatz.exe", S, True)], tokens=["TGT_", ".ccache", "kerberos::ptc", "ms14-068"]),
    "ms15_078": dict(exes=[], tokens=[], note="Exploit binaries are renamed freely: traces written with {exe}/{path} need the name seen on the host."),
    # SharpRDP (an RDP client hosting mstsc's control, run with computername= and command=) is RDP use
    # from the host that runs it, as mstsc.exe is.
    "mstsc": dict(exes=[("mstsc.exe", S, True), ("sharprdp.exe", S, True), ("rdpclip.exe", D, True), ("tstheme.exe", D, True)],
                  tokens=["mstsc", "Terminal Server Client", "Default.rdp", "bcache", "TERMSRV/", "RDP-Tcp", "rdpclip", "tstheme", "RemoteDesktop"],
                  events=[("Microsoft-Windows-TerminalServices-*", None)],
                  demote=["mstsc.exe", "mstscax.dll", "tstheme.exe"],
                  extra=[EXTRA_EVENT(D, "default", "Security", 4624, {"LogonType": "10"}, RDP_NOTE),
                         EXTRA_EVENT(D, "default", "Security", 4625, {"LogonType": "10"}, RDP_NOTE),
                         EXTRA_EVENT(D, "default", "Security", 4825, {}, RDP_NOTE),
                         EXTRA_EVENT(D, "default", "Microsoft-Windows-RemoteDesktopServices-RdpCoreTS/Operational", 131, {}, RDP_NOTE)]
                        + [EXTRA_EVENT(D, "default", "Microsoft-Windows-RemoteDesktopServices-RdpCoreTS/Operational", event_id, {},
                                       RDP_CONNECTION_NOTE) for event_id in RDP_CONNECTION_EVENTS]
                        + [
                         EXTRA_EVENT(D, "default", "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational", 21, {}, RDP_NOTE),
                         EXTRA_EVENT(S, "sysmon", "Microsoft-Windows-Sysmon/Operational", 13,
                                     {"TargetObject": "*\\Software\\Microsoft\\Terminal Server Client\\Servers\\*"},
                                     RDP_CLIENT_SERVERS_NOTE)],
                  unless=[(on_event("Microsoft-Windows-TerminalServices-LocalSessionManager/Operational"), RDP_LOCAL)]),
    "net_use": dict(exes=[("net.exe", S, False), ("net1.exe", S, False)], tokens=["net use", "net.exe use", "net1 use"],
                    extra=PROCESS_START(S, NET_USE_NOTE, image=NET_PROGRAMS, command_line="* use *\\\\*\\*")
                    + PROCESS_START(S, NET_ANY_NOTE, image=NET_PROGRAMS, command_line=["*net* use", "*net* use *"]),
                    note="net.exe serves many purposes; only its command line (use \\\\host\\share) is specific, so anchors need process auditing or Sysmon."),
    "net_user": dict(exes=[("net.exe", S, False), ("net1.exe", S, False)], tokens=["net user", "net1 user", "net group", "net1 group", "net.exe user"],
                     extra=PROCESS_START(S, NET_USER_NOTE, image=NET_PROGRAMS,
                                         command_line=["* user*/active:yes*", "* localgroup*/add*", "* user*/add*",
                                                       "* user*/del*", "* group*/add*"])
                     + PROCESS_START(S, NET_ANY_NOTE, image=NET_PROGRAMS,
                                     command_line=["*net* user", "*net* user *", "*net* group", "*net* group *"]),
                     note="net.exe serves many purposes; only its command line (user/group /add /delete /domain) is specific, so anchors need process auditing or Sysmon."),
    "nltest": dict(exes=[("nltest.exe", S, True)], tokens=["nltest"],
                   note="A built-in command: nltest.exe's own process and Prefetch records are the specific traces."),
    "nmap": dict(exes=[("nmap.exe", S, True)], tokens=["nmap", "npcap", "winpcap"]),
    "ntdsutil": dict(exes=[("ntdsutil.exe", DC, True), ("vssvc.exe", DC, False)], tokens=["ntdsutil", "$SNAP_"], one_host=True,
                     extra=[EXTRA_EVENT(DC, "default", "Application", event_id, {"Data": "ntdsutil*"}, NTDSUTIL_ESENT_NOTE)
                            for event_id in (216, 300, 302, 325, 326, 327)]
                     + [EXTRA_EVENT(DC, "default", "Application", event_id, {field: "*\\Active Directory\\ntds.dit"},
                                    NTDSUTIL_IFM_ESENT_NOTE)
                        for event_id in (216, 325, 326, 327) for field in ("Data_4", "Data_5", "Data_6")]
                     + PROCESS_START(DC, NTDSUTIL_IFM_NOTE, image="*\\ntdsutil.exe",
                                     command_line=["*ifm*", "*create full*", "*snapshot*"], sheet={1: ["en:1"], 4688: ["en:10"]}),
                     note="A built-in command run on the DC (Prefetch is off by default on servers): the ifm command line is the strongest trace."),
    "ntlmrelayx": dict(exes=[("python.exe", S, False), ("telnet.exe", S, False), ("ntlmrelayx.py", S, True)], tokens=["ntlmrelayx", "127.0.0.1 11000", "11000"],
                       extra=[COMMAND_LINE("ntlmrelayx")],
                       note="A Python script: the interpreter is generic, so the specific traces are the script name and the local shell the test opened."),
    "out_minidump": dict(exes=[("powershell.exe", S, False)], placeholder_is=POWERSHELL, tokens=["lsass_*.dmp", "Out-Minidump"],
                         extra=[SCRIPT_BLOCK("Out-Minidump"), dict(SCRIPT_BLOCK("MiniDumpWriteDump"),
                                                                   fields={"ScriptBlockText": MINIDUMP_BLOCKS},
                                                                   note=MINIDUMP_BLOCK_NOTE)]),
    "overpass_the_hash": dict(exes=[("mimikatz.exe", S, True), ("rubeus.exe", S, True)], tokens=["sekurlsa::pth", "asktgt"]),
    "pass_the_prt": dict(exes=[("mimikatz.exe", S, True), ("dsregcmd.exe", S, False)], tokens=["sekurlsa::cloudap", "cloudapkd"]),
    "powermemory": dict(exes=[("powershell.exe", S, False), ("cdb.exe", S, False), ("msdsc.exe", DC, True), ("wmiprvse.exe", DC, False)],
                        tokens=["msdsc", "RWMC", "lsass.dmp"]),
    "powermemory_key6": dict(exes=[("powershell.exe", S, False), ("create-tgsinmemory.ps1", S, True)], tokens=["Create-TGSInMemory", "PowerMemory"]),
    "psexec": dict(exes=[("psexec.exe", S, True), ("psexec64.exe", S, True), ("psexesvc.exe", D, True)],
                   tokens=["PSEXESVC", "Sysinternals\\PsExec", "PSEXEC-"],
                   extra=[EXTRA_EVENT(D, "audit:detailed_file_share", "Security", 5145,
                                      {"ShareName": "\\\\*\\IPC$", "RelativeTargetName": PSEXEC_PIPES}, PSEXEC_RENAMED_NOTE)]
                         + [EXTRA_EVENT(D, "sysmon", "Microsoft-Windows-Sysmon/Operational", event_id,
                                        {"PipeName": ["\\" + p for p in PSEXEC_PIPES]}, PSEXEC_RENAMED_NOTE)
                            for event_id in (17, 18)]),
    "pwdump7": dict(exes=[("pwdump7.exe", S, True)], tokens=["pwdump"]),
    "pwdump8": dict(exes=[("pwdump8.exe", S, True)], tokens=["pwdump"]),
    "pwdumpx": dict(exes=[("pwdumpx.exe", S, True), ("dumpsvc.exe", D, True)], tokens=["PWDumpX", "DumpSvc", "DumpExt", "PWHashes"]),
    "quarkspwdump": dict(exes=[("quarkspwdump.exe", S, True)], tokens=["quarks", "SAM-*.dmp"]),
    "remotelogin_mimikatz": dict(exes=[("mimikatz.exe", S, True), ("cmd.exe", S, False), ("wmic.exe", S, False)], tokens=["sekurlsa::pth"],
                                 extra=[EXTRA_EVENT(S, "default", "Security", 4624, {"LogonType": "9", "LogonProcessName": "seclogo*"},
                                                    "the new-credentials logon sekurlsa::pth opens (a sheet detail item, kept as an anchor; "
                                                    "`runas /netonly` writes the same record, so alone it stays `possible`)")]),
    "remotelogin_wce": dict(exes=[("wce.exe", S, True), ("wmiprvse.exe", D, False)], tokens=["wceaux", "WCESERVICE"],
                            extra=[EXTRA_EVENT(S, "default", "System", 7045, {"ServiceName": "WCESERVICE"},
                                               "the service name alone: a renamed wce binary still installs WCESERVICE (our addition)")]),
    "schtasks": dict(extra=[EXTRA_EVENT(S, "audit:process_creation", "Security", 4688, {"NewProcessName": "*\\at.exe"}, AT_NOTE),
                            EXTRA_EVENT(S, "sysmon", "Microsoft-Windows-Sysmon/Operational", 1, {"Image": "*\\at.exe"}, AT_NOTE),
                            EXTRA_EVENT(D, "audit:detailed_file_share", "Security", 5145,
                                        {"ShareName": "\\\\*\\IPC$", "RelativeTargetName": "atsvc"}, ATSVC_NOTE)]
                     + PROCESS_START(S, SCHTASKS_NOTE, image="*\\schtasks.exe", command_line=["*/create*", "*/run*", "*/change*"],
                                     sheet={1: ["en:1", "en:4"], 4688: ["ja:37"]})
                     + PROCESS_START(S, AT_JOB_NOTE, image="*\\at.exe", command_line="*:*"),
                     exes=[("schtasks.exe", S, True), ("at.exe", S, True), ("taskeng.exe", D, False), ("taskhostw.exe", D, False)], tokens=["schtasks"],
                     events=[("Security", 4698), ("Microsoft-Windows-TaskScheduler/Operational", 106)],
                     unless=[(lambda t: t["role"] == D and t["artifact"] == "evtx" and t["event_id"] in (4698, 106),
                              {"name": TASK_BENIGN_NAMES, "user": TASK_SERVICE_USERS}),
                             (process_of("schtasks.exe"), {"command_line": ["*/query*"], "parent_image": INSTALLER_PARENTS})],
                     note="Task registration on the destination (TaskScheduler 106, Security 4698, TaskCache) is an anchor unless "
                          "Windows or an installer did it (tasks under \\Microsoft\\Windows\\, common updaters, the machine account); "
                          "`schtasks /query` only reads."),
    "sdb_uac_bypass": dict(exes=[("sdbinst.exe", S, True), ("cmd.exe", S, False)], tokens=["sdbinst", ".sdb", "AppCompatFlags\\Custom", "InstalledSDB"]),
    # SDelete renames a file 26 times before deleting it, every character of the name A, then B, ... Z, so the
    # names keep the original's length: the sheet's AAA.AAA and ZZZ.ZZZ are those of a 3.3 name.
    "sdelete": dict(exes=[("sdelete.exe", S, True), ("sdelete64.exe", S, True)], tokens=["AAA.AAA", "ZZZ.ZZZ", "Sysinternals\\SDelete", "sdelete"],
                    widen={"AAA.AAA": "AAA*.AAA", "*\\ZZZ.ZZZ": "*\\ZZZ*.ZZZ"},
                    extra=[EXTRA_EVENT(S, "sysmon", "Microsoft-Windows-Sysmon/Operational", event, {"TargetFilename": "*\\ZZZ*.ZZZ"},
                                       "the last of SDelete's renames deleted, by any program: a renamed copy leaves the same "
                                       "name (our widening)") for event in (23, 26)],
                    widen_note="SDelete's rename keeps the name's length: any all-A or all-Z name, not only the sheet's 3.3 one (our widening)"),
    "sharphound": dict(exes=[("sharphound.exe", S, True)], tokens=["sharphound", "bloodhound"],
                       extra=DEFENDER_DETECTION(S, ["*/SharpHound*", "*/BloodHound*"]) + [
                              EXTRA_EVENT(S, "default", "Microsoft-Windows-PowerShell/Operational", 4104,
                                          {"ScriptBlockText": "*Invoke-BloodHound*"}, SHARPHOUND_SCRIPT_NOTE),
                              EXTRA_EVENT(D, "default", "Security", 4799,
                                          {"TargetDomainName": "Builtin", "CallerProcessName": "-"}, SHARPHOUND_SAMR_NOTE),
                              dict(EXTRA_EVENT(D, "audit:detailed_file_share", "Security", 5145,
                                               {"ShareName": "\\\\*\\IPC$", "RelativeTargetName": ["srvsvc", "samr", "lsarpc"]},
                                               SHARPHOUND_PIPES_NOTE),
                                   all_of="RelativeTargetName", within="SubjectLogonId")]),
    "silver_ticket": dict(exes=[("mimikatz.exe", S, True)], tokens=["kerberos::golden", "kerberos::ptt", ".kirbi"]),
    "timestomp": dict(exes=[("timestomp.exe", S, True)], tokens=["timestomp"],
                      extra=[EXTRA_EVENT(S, "sysmon", "Microsoft-Windows-Sysmon/Operational", 2, {"Image": POWERSHELL_HOSTS},
                                         TIMESTOMP_SCRIPT_NOTE),
                             dict(SCRIPT_BLOCK("CreationTime"), note=TIMESTOMP_BLOCK_NOTE,
                                  fields={"ScriptBlockText": TIMESTOMP_BLOCKS})]),
    "vssadmin": dict(exes=[("vssadmin.exe", DC, True), ("vssvc.exe", DC, False), ("cmd.exe", DC, False)], tokens=["vssadmin", "ntds.dit"],
                     one_host=True,
                     extra=PROCESS_START(DC, VSSADMIN_NOTE, image="*\\vssadmin.exe",
                                         command_line=["*create shadow*", "*delete shadows*", "*resize shadowstorage*"])
                     + PROCESS_START(DC, SHADOW_COPY_READ_NOTE,
                                     command_line=["*\\\\?\\GLOBALROOT\\Device\\HarddiskVolumeShadowCopy*\\ntds.dit*",
                                                   "*\\\\?\\GLOBALROOT\\Device\\HarddiskVolumeShadowCopy*\\config\\SYSTEM*"])),
    "wce": dict(exes=[("wce.exe", S, True)], tokens=["wceaux", "WCESERVICE"]),
    "webbrowserpassview": dict(exes=[("webbrowserpassview.exe", S, True)], tokens=["webbrowserpassview"]),
    "wevtutil": dict(exes=[("wevtutil.exe", S, True)], tokens=["wevtutil"], events=[("Security", 1102), ("*", 104), ("System", 104)],
                     extra=PROCESS_START(S, WEVTUTIL_CLEAR_NOTE, image="*\\wevtutil.exe", command_line=["* cl *", "* clear-log *"],
                                         sheet={4688: ["en:9"], 1: ["ja:26"]}) + [EXTRA_EVENT(S, "default", "Microsoft-Windows-PowerShell/Operational", 4104,
                                        {"ScriptBlockText": ["*Clear-EventLog *", "*.ClearLog(*"]},
                                        "PowerShell's Clear-EventLog (or EventLogSession.ClearLog) does what wevtutil cl does; "
                                        "the labels count it as this tool (our addition)")],
                     unless=[(process_of("wevtutil.exe"), WEVTUTIL_BENIGN)]),
    "winrm": dict(exes=[("cscript.exe", S, False), ("powershell.exe", S, False), ("wmiprvse.exe", D, False), ("wsmprovhost.exe", D, True)],
                  tokens=["winrm.vbs", "wsmprovhost", "WSMAN"], events=[("Microsoft-Windows-WinRM/Operational", None)],
                  bare=[(S, "Microsoft-Windows-WinRM/Operational")],
                  note="WinRM/Operational events and wsmprovhost.exe also appear for any PowerShell remoting session."),
    "winrs": dict(exes=[("winrs.exe", S, True), ("winrshost.exe", D, True)], tokens=["winrs"]),
    "wmic": dict(exes=[("wmic.exe", S, True), ("wmiprvse.exe", D, False)], tokens=["wmic"],
                 extra=PROCESS_START(D, WMIC_NOTE, image=LOLBIN_CHILDREN, parent_image="*\\WmiPrvSE.exe",
                                     unless={"command_line": ["*\\\\127.0.0.1\\*$\\__*"]})),
    "wmiexec_vbs": dict(exes=[("cscript.exe", S, False), ("cmd.exe", D, False), ("net.exe", S, False), ("wmiexec.vbs", S, True)], tokens=["WMI_SHARE", "wmiexec", "wmi.dll"],
                        extra=PROCESS_START(S, WMIEXEC_VBS_RUN_NOTE, command_line="*wmiexec.vbs*")
                        + PROCESS_START(D, WMIEXEC_NOTE, command_line="*cmd.exe /Q /c *\\\\127.0.0.1\\*$\\" + WMIEXEC_OUTPUT,
                                            unless={"command_line": ["*__output*"], "parent_image": DCOMEXEC_PARENTS})
                        + [EXTRA_EVENT(D, "audit:detailed_file_share", "Security", 5145,
                                       {"ShareName": "\\\\*\\ADMIN$", "RelativeTargetName": WMIEXEC_OUTPUT}, WMIEXEC_NOTE)],
                        note="Every binary involved is built in; the share it creates and the output file it writes in the Windows temp folder are the specific traces."),
}

# ---- Generalisation review (issue 11, session 9; not blind): the same act as other public recordings write it.
# Each trace states a fact the sheets show, in the other spellings and witnesses real hosts use: a quoted full
# path or a renamed copy instead of the bare program name, a command line on a host without Sysmon, another
# event of the same operation. src/traces/matcher/variant_tests.rs holds the crafted records and benign twins.
MIMIKATZ_MODULE_NOTE = ("a command line naming this mimikatz module (`module::command`), whatever the program is called "
                        "(renamed copies, 4688 without PE metadata): the module that ran, which the sheets' masked "
                        "command lines do not show (our addition)")
# The module command each mimikatz-module tool runs; (globs, globs it refuses). kerberos::golden makes both tickets:
# /service (and /target) makes it a silver ticket.
MIMIKATZ_MODULE_COMMANDS = {
    "dcsync": (["*lsadump::dcsync*"], None),
    "golden_ticket": (["*kerberos::golden*"], ["*/service:*"]),
    "silver_ticket": (["*kerberos::golden*/service:*"], None),
    "mimikatz_lsadump_sam": (["*lsadump::sam*"], None),
    "mimikatz_sekurlsa_logonpasswords": (["*sekurlsa::logonpasswords*"], None),
    "mimikatz_sekurlsa_tickets": (["*sekurlsa::tickets*"], None),
    "pass_the_prt": (["*sekurlsa::cloudap*", "*dpapi::cloudapkd*"], None),
    # sekurlsa::pth with an NTLM hash is the sheets' remote login; given an AES key it is pass-the-key, the
    # overpass-the-hash sheet's request of a Kerberos ticket from a key.
    "remotelogin_mimikatz": (["*sekurlsa::pth*"], ["*/aes256:*", "*/aes128:*"]),
    "overpass_the_hash": (["*sekurlsa::pth*/aes256:*", "*sekurlsa::pth*/aes128:*"], None),
}
PSEXESVC_NAME_NOTE = ("the PSEXESVC service by its name alone: PsExec versions and witnesses write its image path "
                      "differently (`%SystemRoot%\\PSEXESVC.exe`, `C:\\Windows\\PSEXESVC.exe`) and 4697 / the Services "
                      "key give other type and start values; the sheets' 7045 widened (our addition)")
WINRS_NOTE = ("winrs.exe given a remote host in any spelling (`-r:`, `/r:`, `-remote:`, a URL), under any path: the "
              "sheets' `winrs -r:* *` widened (our addition)")
WSMPROVHOST_NOTE = ("a program started by wsmprovhost.exe, the PowerShell remoting host: a command run through a WinRM "
                    "session opened to this host (our addition)")
REMOTING_NOTE = ("PowerShell remoting asked for by its cmdlets (Enter-PSSession, Invoke-Command / New-PSSession with "
                 "-ComputerName or a session): the client side of the sheets' WinRM use (our addition)")
REMOTING_COMMANDS = ["*Enter-PSSession *", "*Invoke-Command *-ComputerName*", "*Invoke-Command *-Session *",
                     "*New-PSSession *-ComputerName*", "*Invoke-Command *-cn *"]
# In a script block only a typed command counts: the block starts with the cmdlet (or assigns its result). Whole
# scripts logged as blocks (Invoke-Mimikatz, PowerView, modules' help text) mention Invoke-Command -ComputerName
# inside their code and are not a remoting session.
REMOTING_BLOCKS = [p.lstrip("*") for p in REMOTING_COMMANDS] + ["$* = New-PSSession *-ComputerName*",
                                                                "$* = Enter-PSSession *"]
TASK_RUN_NOTE = ("a task that ran a shell or script host (TaskScheduler 200/201, action started or completed): the task "
                 "was registered on this host, seen where 4698/106 are not kept; Windows' own tasks excluded by name "
                 "(our addition)")
# Register-ScheduledTask given a CIM session to another host is `schtasks /create /s` in PowerShell. Only a
# typed command counts in a script block: the ScheduledTasks module's own generated code, logged when it loads,
# names the cmdlet and its -CimSession parameter without running either.
PS_REMOTE_TASK_NOTE = ("PowerShell registering a scheduled task on another host through a CIM session "
                       "(Register-ScheduledTask -CimSession): the remote task creation of `schtasks /create /s` "
                       "(our addition)")
# A task changed to run a shell, a script host or a program from a user-writable folder (Security 4702, the new
# XML): an existing task hijacked, often one of Windows' own, so Windows' tree is not excluded by name here;
# the account is (servicing and updaters change tasks as SYSTEM or the machine).
TASK_UPDATE_ACTIONS = ([f"*<Command>*\\{program}*</Command>*" for program in
                        ("cmd.exe", "powershell.exe", "pwsh.exe", "mshta.exe", "rundll32.exe", "regsvr32.exe",
                         "cscript.exe", "wscript.exe")]
                       + [f"*<Command>{program}*</Command>*" for program in ("cmd", "powershell", "mshta", "rundll32")]
                       + [f"*<Command>*{folder}*</Command>*" for folder in
                          ("\\Users\\", "\\Temp\\", "\\ProgramData\\", "%TEMP%", "%APPDATA%", "\\\\")])
TASK_UPDATE_NOTE = ("an existing task changed to run a shell, a script host or a program from a user-writable folder or a "
                    "share (Security 4702), by an account that is no service: a task hijacked on this host (our addition)")
# at.exe names the task of each job it schedules `At1`, `At2`, … (Windows 7 and later keep them as tasks).
AT_JOB_NAMES = [f"\\At{digit}{tail}" for digit in "123456789" for tail in ("", "?", "??")]
AT_JOB_RUN_NOTE = ("a task named as at.exe names its jobs (`\\At1`, `\\At2`, …) started, ran or completed (TaskScheduler "
                   "129/200/201/102): an at job ran on this host whatever its action, seen where 4698/106 are not kept "
                   "(our addition)")
TASK_ACTIONS = ["*\\cmd.exe", "*\\powershell.exe", "*\\pwsh.exe", "*\\mshta.exe", "*\\rundll32.exe", "*\\regsvr32.exe",
                "*\\cscript.exe", "*\\wscript.exe"]
WMIC_REMOTE_NOTE = ("WMIC.exe given a remote node or asked to create a process, in any spelling and path (`/node:fs02`, "
                    "quoted full path, SysWOW64, a renamed copy): the sheets' `wmic /NODE:\"*\" *` widened (our addition)")
BITS_CMDLET_NOTE = ("Start-BitsTransfer on a PowerShell command line, for hosts that log process starts but not "
                    "script blocks (our addition beside the script-block trace)")
CLEAR_LOG_COMMAND_NOTE = ("PowerShell's Clear-EventLog or EventLogSession.ClearLog on a command line, for hosts that log "
                          "process starts but not script blocks (our addition beside the script-block trace)")
SHADOW_CREATE_NOTE = ("a shadow copy created through WMI (`wmic shadowcopy call create`, Win32_ShadowCopy's Create): the "
                      "same step as the sheets' `vssadmin create shadow` by another client (our addition)")

# The same module words inside PowerShell are Invoke-Mimikatz, its own sheet tool: PowerShell hosts are refused.
for _tool, (_globs, _refused) in MIMIKATZ_MODULE_COMMANDS.items():
    TOOLS[_tool].setdefault("extra", [])
    _unless = {"image": POWERSHELL_HOSTS + ["*\\wsmprovhost.exe"], "command_line": ["*Invoke-Mimikatz*"] + (_refused or [])}
    TOOLS[_tool]["extra"] = TOOLS[_tool]["extra"] + PROCESS_START(S, MIMIKATZ_MODULE_NOTE, command_line=_globs, unless=_unless)
# A technique the sheets show through mimikatz.exe (a forged ticket, a replication request, a pass-the-key) is the
# same step when Invoke-Mimikatz runs the command: both tools are named. Only a typed command counts (a command
# line, or a script block that starts with the call), not a script's help text that quotes one.
INVOKE_MIMIKATZ_TECHNIQUE_NOTE = ("Invoke-Mimikatz given this technique's mimikatz command (on a command line, or typed as a "
                                  "script block): the step the sheets show through mimikatz.exe, run inside PowerShell "
                                  "(our addition; Invoke-Mimikatz is named too)")
for _tool in ("dcsync", "golden_ticket", "silver_ticket", "overpass_the_hash", "pass_the_prt"):
    _globs, _refused = MIMIKATZ_MODULE_COMMANDS[_tool]
    _words = [g.strip("*") for g in _globs]
    TOOLS[_tool]["extra"] = (TOOLS[_tool]["extra"]
                             + PROCESS_START(S, INVOKE_MIMIKATZ_TECHNIQUE_NOTE,
                                             command_line=[f"*Invoke-Mimikatz*{w}*" for w in _words],
                                             unless={"command_line": _refused} if _refused else None)
                             + [dict(SCRIPT_BLOCK("Invoke-Mimikatz"), note=INVOKE_MIMIKATZ_TECHNIQUE_NOTE,
                                     fields={"ScriptBlockText": [f"Invoke-Mimikatz *{w}*" for w in _words]},
                                     **({"unless": {"ScriptBlockText": _refused}} if _refused else {}))])
TOOLS["psexec"]["extra"] = TOOLS["psexec"]["extra"] + [
    EXTRA_EVENT(D, "default", "System", 7045, {"ServiceName": "PSEXESVC"}, PSEXESVC_NAME_NOTE)]
# The tool's own EULA key in the user's hive, written by whatever the copy is called (Sysmon 12/13 name the program
# that wrote it, and the sheets' rows ask for the tool's own name there).
SYSINTERNALS_EULA_NOTE = ("the Sysinternals EULA key of this tool (`Software\\Sysinternals\\<tool>`) created or its "
                          "EulaAccepted value set, by any program: a renamed copy writes the tool's own key; the sheets' "
                          "Sysmon 12/13 rows without their image (our widening)")
for _tool, _key in [("psexec", "PsExec"), ("sdelete", "SDelete")]:
    TOOLS[_tool]["extra"] = TOOLS[_tool].get("extra", []) + [
        EXTRA_EVENT(S, "sysmon", "Microsoft-Windows-Sysmon/Operational", event_id,
                    {"TargetObject": [f"*\\Software\\Sysinternals\\{_key}", f"*\\Software\\Sysinternals\\{_key}\\*",
                                      f"*\\Software\\Sysinternals\\{_key}64", f"*\\Software\\Sysinternals\\{_key}64\\*"]},
                    SYSINTERNALS_EULA_NOTE)
        for event_id in (12, 13)]
MSTSC_CREDENTIALS_NOTE = ("mstsc.exe presenting explicit credentials to a server (4648 names the client process): the "
                          "source side of an RDP connection where the sheets' client traces were not kept (our addition)")
TOOLS["mstsc"]["extra"] = TOOLS["mstsc"]["extra"] + [
    EXTRA_EVENT(S, "default", "Security", 4648, {"ProcessName": "*\\mstsc.exe"}, MSTSC_CREDENTIALS_NOTE)]
WMIC_CREDENTIALS_NOTE = ("WMIC.exe presenting explicit credentials to a server (4648 names the client process): "
                         "`wmic /node:<host> /user:<name>`, the source side of remote WMI (our addition)")
TOOLS["wmic"]["extra"] = TOOLS["wmic"]["extra"] + [
    EXTRA_EVENT(S, "default", "Security", 4648, {"ProcessName": "*\\WMIC.exe"}, WMIC_CREDENTIALS_NOTE)]
TOOLS["winrs"]["extra"] = PROCESS_START(S, WINRS_NOTE, image="*\\winrs.exe",
                                        command_line=["*-r:*", "*/r:*", "*-remote:*", "*/remote:*"])
# wsmprovhost.exe's own start by image alone: the remoting host runs only when a WinRM client opened a PowerShell
# session on this host. The tuning half's `ID4688-BITS transfer initiated` holds one (a record in its chunk's unused
# space, which the labels' evtxexport reading did not show): a finding there is true but counts as false against them.
TOOLS["winrm"]["extra"] = (PROCESS_START(D, WSMPROVHOST_NOTE, parent_image="*\\wsmprovhost.exe")
                           + PROCESS_START(D, WSMPROVHOST_START_NOTE, image="*\\wsmprovhost.exe")
                           + [EXTRA_EVENT(D, "default", "Microsoft-Windows-WinRM/Operational", 169, {}, WINRM_AUTH_NOTE)]
                           + [EXTRA_EVENT(D, "powershell:module_logging", "Microsoft-Windows-PowerShell/Operational", 4103,
                                          {"ContextInfo": "*Host Application = *wsmprovhost.exe*"}, REMOTE_PIPELINE_NOTE)]
                           + PROCESS_START(S, REMOTING_NOTE, command_line=REMOTING_COMMANDS)
                           + [dict(SCRIPT_BLOCK("Enter-PSSession"), fields={"ScriptBlockText": REMOTING_BLOCKS},
                                   note=REMOTING_NOTE)])
TOOLS["schtasks"]["extra"] = TOOLS["schtasks"]["extra"] + PROCESS_START(S, PS_REMOTE_TASK_NOTE, command_line=[
    "*Register-ScheduledTask *-CimSession*", "*New-CimSession*Register-ScheduledTask*"]) + [
    dict(SCRIPT_BLOCK("Register-ScheduledTask"), note=PS_REMOTE_TASK_NOTE,
         fields={"ScriptBlockText": ["Register-ScheduledTask *-CimSession*", "$* = Register-ScheduledTask *-CimSession*",
                                     "*New-CimSession *Register-ScheduledTask *-CimSession*"]})] + [
    dict(EXTRA_EVENT(D, "audit:other_object_access_events", "Security", 4702, {"TaskContentNew": TASK_UPDATE_ACTIONS},
                     TASK_UPDATE_NOTE),
         unless={"SubjectUserName": TASK_SERVICE_USERS,
                 "TaskName": [n for n in TASK_BENIGN_NAMES if n != "\\Microsoft\\Windows\\*"]})] + [
    dict(EXTRA_EVENT(D, "default", "Microsoft-Windows-TaskScheduler/Operational", event_id, {"ActionName": TASK_ACTIONS},
                     TASK_RUN_NOTE), unless={"TaskName": TASK_BENIGN_NAMES})
    for event_id in (200, 201)] + [
    EXTRA_EVENT(D, "default", "Microsoft-Windows-TaskScheduler/Operational", event_id, {"TaskName": AT_JOB_NAMES},
                AT_JOB_RUN_NOTE)
    for event_id in (102, 129, 200, 201)]
TOOLS["wmic"]["extra"] = TOOLS["wmic"]["extra"] + PROCESS_START(
    S, WMIC_REMOTE_NOTE, image="*\\wmic.exe", command_line=["*/node:*", "*process*call*create*"])
# The same remote process creation asked for from PowerShell (Invoke-WmiMethod / Invoke-CimMethod on Win32_Process
# with a remote computer or CIM session, or [WMICLASS] on a UNC path): the destination already calls any WMI-created
# process the wmic behaviour, whichever client asked. In a script block only a typed call counts.
PS_WMI_CALLS = [f"{call} *{a}*{b}*" for call in ("Invoke-WmiMethod", "Invoke-CimMethod")
                for first, second in (("Win32_Process", "-ComputerName"), ("Win32_Process", "-CimSession"),
                                      ("Win32_Process", "-cn "))
                for a, b in ((first, second), (second, first))] + ["([WMICLASS]*\\\\*Win32_Process*"]
PS_WMI_NOTE = ("PowerShell asking another host's WMI to create a process (Invoke-WmiMethod / Invoke-CimMethod on "
               "Win32_Process with -ComputerName or a CIM session, [WMICLASS] on a UNC path): the source side of the "
               "remote WMI execution the wmic sheet describes, by another client (our addition)")
TOOLS["wmic"]["extra"] = (TOOLS["wmic"]["extra"] + PROCESS_START(S, PS_WMI_NOTE, command_line=["*" + c for c in PS_WMI_CALLS])
                          + [dict(SCRIPT_BLOCK("Invoke-WmiMethod"), note=PS_WMI_NOTE,
                                  fields={"ScriptBlockText": PS_WMI_CALLS + ["$* = " + c for c in PS_WMI_CALLS]})])
TOOLS["bits"]["extra"] = TOOLS["bits"]["extra"] + PROCESS_START(S, BITS_CMDLET_NOTE, command_line="*Start-BitsTransfer*")
TOOLS["wevtutil"]["extra"] = TOOLS["wevtutil"]["extra"] + PROCESS_START(
    S, CLEAR_LOG_COMMAND_NOTE, command_line=["*Clear-EventLog*", "*.ClearLog(*"])
TOOLS["vssadmin"]["extra"] = TOOLS["vssadmin"]["extra"] + PROCESS_START(
    DC, SHADOW_CREATE_NOTE, command_line=["*shadowcopy*call*create*", "*Win32_ShadowCopy*Create*"]) + [
    dict(SCRIPT_BLOCK("Win32_ShadowCopy"), role=DC, fields={"ScriptBlockText": ["*Win32_ShadowCopy*.Create(*"]},
         note=SHADOW_CREATE_NOTE)]

# ---- One program, several tools (session 9, not blind): Rubeus is the program of diamond_ticket, overpass_the_hash
# and badsuccessor, as mimikatz is of its modules. Its first argument is the command that ran; the words below
# (each tool's `modules`, with the `module::command` words of mimikatz's aliases) tell the matcher which member a
# matched anchor names, so `Rubeus.exe diamond` is a diamond ticket, not "rubeus (module unknown)".
RUBEUS_COMMAND_NOTE = ("Rubeus (or a renamed copy: its PE name) run with the command that makes this tool: the "
                       "sheets' masked command line in the spellings Rubeus accepts (our addition)")
RUBEUS_COMMANDS = {
    "diamond_ticket": (["diamond"], ["* diamond", "* diamond *"]),
    # asktgt with a key instead of a password is the pass-the-key request (with /password it is an ordinary TGT).
    "overpass_the_hash": (["asktgt"], ["* asktgt *" + key + "*" for key in ("/rc4:", "/aes256:", "/aes128:", "/des:")]),
    "badsuccessor": (["/dmsa"], ["* asktgs *" + "/dmsa*"]),
}
for _tool, (_words, _command_lines) in RUBEUS_COMMANDS.items():
    TOOLS[_tool]["modules"] = _words
    TOOLS[_tool]["extra"] = TOOLS[_tool].get("extra", []) + PROCESS_START(
        S, RUBEUS_COMMAND_NOTE, image="*\\rubeus.exe", command_line=_command_lines)
# mimikatz's pass-the-key (see MIMIKATZ_MODULE_COMMANDS) names overpass_the_hash too.
TOOLS["overpass_the_hash"]["modules"] = TOOLS["overpass_the_hash"]["modules"] + ["sekurlsa::pth"]


# ---- Generic anchors: records that name a tool but that ordinary activity also writes, a benign twin no
# `unless` list can name away. Such an anchor alone makes a finding `possible` at most (trace key `generic`,
# src/traces/README.md, "Confidence"); beside a tool-specific anchor it is a second witness. Our judgement,
# per tool (a predicate over the built trace), plus the general rule in `is_generic`.
def _mentions(word):
    return lambda t: any(word.lower() in v.lower() for v in values_of(t))


GENERIC = {
    # Windows Update, Defender, Edge and OneDrive run BITS jobs; svchost.exe writes BIT*.tmp for all of them.
    "bits": lambda t: on_event(BITS_CHANNEL)(t) or _mentions("BIT*.tmp")(t),
    # Every PowerShell remoting or management session writes the same WinRM records; only winrm.vbs is the tool.
    "winrm": lambda t: not _mentions("winrm.vbs")(t),
    # Every RDP session, an administrator's too, leaves these.
    "mstsc": lambda t: True,
    # Any user or installer registering a task outside the excluded paths.
    "schtasks": lambda t: t["role"] == D,
    # Listing shares or accounts is everyday administration.
    "net_use": lambda t: t.get("note") == NET_ANY_NOTE,
    "net_user": lambda t: t.get("note") == NET_ANY_NOTE,
    # Management software (SCCM, monitoring agents) starts shells through WMI too.
    "wmic": lambda t: t.get("note") == WMIC_NOTE,
    # A renamed built-in administrator logs on the same way.
    "golden_ticket": lambda t: t.get("note") in (GOLDEN_NOTE, GOLDEN_SHARE_NOTE),
    # Any remote SAMR client listing a local group (an administrator's console, an inventory scanner) writes it.
    # Computer Management opened on a remote host, or other recon tools (PowerView, CrackMapExec), do the same.
    "sharphound": lambda t: t.get("note") in (SHARPHOUND_SAMR_NOTE, SHARPHOUND_PIPES_NOTE),
    # Backup software and administrators list shadow copies; only creating, deleting or reading one is the step.
    "vssadmin": _mentions("list shadows"),
    # Scripts may set a creation time for their own reasons; only the tool's own program is specific.
    "timestomp": lambda t: t.get("note") in (TIMESTOMP_SCRIPT_NOTE, TIMESTOMP_BLOCK_NOTE),
    # `runas /netonly` opens the same new-credentials logon.
    "remotelogin_mimikatz": lambda t: t["artifact"] == "evtx" and t["event_id"] == 4624,
}

# Fields of an event that name the acting program, and fields that say what it was asked to do.
PROCESS_FIELDS = ("Image", "NewProcessName", "ProcessName", "ParentImage", "ParentProcessName", "SourceImage",
                  "CallerProcessName", "Application")
INTENT_FIELDS = ("CommandLine", "ParentCommandLine", "ScriptBlockText", "ServiceName", "TaskName")
EXECUTION_KINDS = ("prefetch", "amcache", "shimcache", "bam", "userassist")


def is_generic(tool_id, t, own):
    """Whether anchor `t` is generic: the tool's GENERIC predicate says so, or it only shows that a program
    Windows ships ran (its execution records, or events of the tool's own program, `own` = its specific
    executables, without a command line or other stated intent)."""
    if t["strength"] != "anchor":
        return False
    if GENERIC.get(tool_id, lambda _: False)(t):
        return True
    placeholder = any("{exe}" in v or "{path}" in v for v in values_of(t))
    if placeholder and t["artifact"] != "evtx" and own and own <= WINDOWS_PROGRAMS:
        return True  # the tool's program is one Windows ships (and services): its file or Prefetch records
    if t["artifact"] in EXECUTION_KINDS or t["artifact"] == "process":
        name = t.get("exe") or t.get("pattern", "").split("-")[0]
        return name.lower() in WINDOWS_PROGRAMS
    if t["artifact"] in ("mft", "usn"):
        name = (t.get("path") or t.get("name") or "").rsplit("\\", 1)[-1]
        return name.lower().endswith(".pf") and name.split("-")[0].lower() in WINDOWS_PROGRAMS
    if t["artifact"] == "evtx":
        fields = t.get("fields", {})
        programs = [v for k in PROCESS_FIELDS for v in ([fields[k]] if isinstance(fields.get(k), str) else fields.get(k, []))]
        def builtin(v):
            name = v.lower().rsplit("\\", 1)[-1] if isinstance(v, str) else ""
            return name in WINDOWS_PROGRAMS and name in own
        return bool(programs) and all(builtin(v) for v in programs) and not any(k in fields for k in INTENT_FIELDS)
    return False


# Fields that describe the test session rather than the tool, or that only exist in rendered form.
DROP_FIELDS = {"TokenElevationType", "MandatoryLabel", "CurrentDirectory", "IntegrityLevel", "User", "ParentUser",
               "SourceUser", "TargetUser", "ImpersonationLevel", "GroupMembership", "LogonHours", "Initiated",
               "SourcePort", "SourceAddress", "TargetUserSid", "DestAddress", "SourceHostname", "DestinationHostname", "DnsHostName",
               # TaskScheduler 106's `*\\*` only says "some DOMAIN\\user"; kept, it would make 106 and 4698 two traces of one registration
               "UserContext",
               # Sysmon 23's Archived follows the Sysmon configuration, IsExecutable the file's name
               "Archived", "IsExecutable"}
# Reason spellings in the extraction that are not USN_REASON names (sheet shorthand).
REASON_FIX = {"DATA": [], "DATA_EXTEND_DATA_OVERWRITE": ["DATA_EXTEND", "DATA_OVERWRITE"], "DELETE": ["FILE_DELETE"],
              "RENAME": ["RENAME_OLD_NAME", "RENAME_NEW_NAME"]}
EMPTY_VALUES = {"*", "*\\*", "* *", "* * *", "", "ja-JP"}  # ja-JP: the lab's locale
# Events whose ID alone says nothing about a tool.
NEEDS_FIELDS = {("Microsoft-Windows-Sysmon/Operational", n) for n in (1, 3, 5, 7, 8, 9, 10, 11, 12, 13, 17, 18, 23)} | {
    ("Security", n) for n in (4624, 4634, 4648, 4656, 4658, 4660, 4663, 4672, 4673, 4674, 4688, 4689, 4703, 5140, 5145, 5154, 5156, 5158)}
HIVES = {"SYSTEM": "SYSTEM", "SOFTWARE": "SOFTWARE", "SAM": "SAM", "SECURITY": "SECURITY", "NTUSER.DAT": "NTUSER", "UsrClass.dat": "USRCLASS"}
KNOWN_SUBCATEGORY = {
    "Process Creation": "process_creation", "Process Termination": "process_termination", "File Share": "file_share",
    "Detailed File Share": "detailed_file_share", "Filtering Platform Connection": "filtering_platform_connection",
    "Sensitive Privilege Use": "sensitive_privilege_use", "Token Right Adjusted": "token_right_adjusted",
    "SAM or Directory Service Access": "sam", "Directory Service Access": "directory_service_access",
    "Directory Service Changes": "directory_service_changes", "Filtering Platform Policy Change": "filtering_platform_policy_change",
    "Group Membership": "group_membership", "Other Logon/Logoff Events": "other_logon_logoff_events",
    "Security System Extension": "security_system_extension", "Other Object Access Events": "other_object_access_events",
    "DPAPI Activity": "dpapi_activity", "File System + SACL": "file_system",
    "Authorization Policy Change or object access + SACL": "authorization_policy_change",
}


def logging_of(e):
    req = e.get("requires")
    if req is None:
        return "default"
    low = req.lower()
    if low.startswith("none"):
        return "default"
    if low == "sysmon":
        return "sysmon"
    if low == "powershell module logging":
        return "powershell:module_logging"
    if low.startswith("audit:"):
        sub = req[len("audit:"):].strip()
        if sub == "File System/Registry/Kernel Object + SACL":
            f = e.get("fields", {})
            ot = str(f.get("ObjectType", "")).lower()
            name = str(f.get("ObjectName", "")).lower()
            if ot == "key" or name.startswith("\\registry"):
                return "audit:registry"
            if ot == "process":
                return "audit:kernel_object"
            return "audit:file_system"
        if sub in KNOWN_SUBCATEGORY:
            return "audit:" + KNOWN_SUBCATEGORY[sub]
    raise SystemExit(f"unmapped requires value: {req!r}")


# Values that belong to the JPCERT lab rather than to the tool, made generic.
LAB_VALUES = [(r"(?i)\bou=bstest\b", "OU=*"), (r"(?i)^(?:[A-Z]:)?\\temp\\Logs\\", "*\\")]


def subst(v):
    v = v.replace("{tool_exe}", "{exe}").replace("{tool_path}", "{path}").replace("<Hash>", "*")
    for rx, repl in LAB_VALUES:
        v = re.sub(rx, lambda _m, r=repl: r, v)
    if v.endswith("..."):
        v = v[:-3] + "*"
    return v


def norm_cs(key):
    return re.sub(r"(?i)(CurrentControlSet|ControlSet\d{3})", "ControlSet*", key)


def strip_volume(p):
    return re.sub(r"^(?:[A-Za-z*]:)", "", p)


def basename(p):
    return re.split(r"[\\/]", p)[-1]


def is_informative(v):
    return bool(re.search(r"[A-Za-z0-9]", v.replace("{exe}", "").replace("{path}", "")))


def values_of(t):
    out = []
    for k in ("channel", "pattern", "key", "value", "data", "path", "name", "exe", "image_path"):
        if isinstance(t.get(k), str):
            out.append(t[k])
    for v in t.get("fields", {}).values():
        out += v if isinstance(v, list) else [v]
    return out


def is_anchor(t, cfg, tool_has_exe_placeholder):
    vals = " | ".join(values_of(t)).lower()
    if "{exe}" in vals or "{path}" in vals:
        return True
    for tok in cfg.get("tokens", []):
        tok = tok.lower()
        if "*" in tok:
            rx = ".*".join(re.escape(p) for p in tok.split("*"))
            if re.search(rx, vals):
                return True
        elif tok in vals:
            return True
    if t["artifact"] == "evtx":
        for ch, ev in cfg.get("events", []):
            chm = ch == "*" and t["channel"] == "*" or (ch.endswith("*") and t["channel"].startswith(ch[:-1])) or ch == t["channel"]
            if chm and (ev is None or ev == t["event_id"]):
                return True
    return False


def bind_placeholder(e, full_path):
    """For tools run inside a generic host program, the sheet's tool placeholder names that host."""
    exe = basename(full_path)

    def bind(v):
        if isinstance(v, str):
            return v.replace("{tool_path}", full_path).replace("{tool_exe}", exe)
        if isinstance(v, list):
            return [bind(x) for x in v]
        if isinstance(v, dict):
            return {k: bind(x) for k, x in v.items()}
        return v

    return {k: bind(v) for k, v in e.items()}


def demoted(t, cfg):
    """Values that contain a tool token but are also touched by ordinary maintenance."""
    vals = {v.lower() for v in values_of(t)}
    return any(d.lower() in vals for d in cfg.get("demote", []))


def convert(e):
    """One sheet item -> one of our traces (without strength), or None when it carries nothing to match."""
    a = e["artifact"]
    t = {"role": e["host"], "logging": logging_of(e)}
    if a == "evtx":
        fields = {}
        for k, v in (e.get("fields") or {}).items():
            if k in DROP_FIELDS or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", k):
                continue
            if isinstance(v, list):
                v = [subst(str(x)) for x in v]
            else:
                v = subst(str(v))
                if v in EMPTY_VALUES:
                    continue
            fields[k] = v
        channel = "Security" if e["channel"] == "Microsoft-Windows-Security-Auditing" else e["channel"]
        t.update(artifact="evtx", channel=channel, event_id=e["event_id"])
        if e["event_id"] == 4689 and "Status" in fields:
            # exit code 0 is the sheets' usual success test; other codes belong to the lab run
            if fields["Status"] == "0x0":
                t["success"] = True
            else:
                del fields["Status"]
        if e["channel"] == "Microsoft-Windows-Bits-Client/Operational" and e["event_id"] == 60 and fields.get("hr") == "0x0":
            t["success"] = True
            fields["hr"] = ["0x0", "0"]  # Windows 10 writes the HRESULT in decimal
        if not fields and (e["channel"], e["event_id"]) in NEEDS_FIELDS:
            return None
        t["fields"] = fields
        return t
    if a == "prefetch":
        pat = basename(subst(e.get("file") or e.get("path", "")))
        if not is_informative(pat.replace(".pf", "")) and "{exe}" not in pat:
            return None
        t.update(artifact="prefetch", pattern=pat)
        return t
    if a == "registry":
        hp = e.get("hive_path")
        if not hp or e.get("hive") not in HIVES:
            return None
        if "\\UserAssist\\" in hp or "\\bam\\" in hp.lower():
            return None  # derived from the executables instead
        key = norm_cs(subst(hp))
        data = e.get("data")
        data = subst(str(data)) if data is not None else None
        descriptive = data is None or data.startswith("(") or ": " in data or "multiple" in data or "run time" in data
        t.update(artifact="registry", hive=HIVES[e["hive"]])
        if data == "(Key)" or (descriptive and data != "(no value set)"):
            t["key"] = key
        else:
            head, _, last = key.rpartition("\\")
            t["key"], t["value"] = head, last
            if data != "(no value set)" and is_informative(data):
                m = re.fullmatch(r"0x([0-9A-Fa-f]{8})", data)
                t["data"] = str(int(m.group(1), 16)) if m else data
        return t
    if a in ("file", "mft"):
        p = e.get("path") or e.get("file")
        if not p:
            return None
        p = strip_volume(subst(p))
        if not is_informative(basename(p)) and "{exe}" not in p:
            return None
        t.update(artifact=a, path=p)
        return t
    if a == "usn":
        name = e.get("file")
        if not name:
            return None
        name = basename(subst(name.split(" -> ")[0]))
        if not is_informative(name) and "{exe}" not in name:
            return None
        reasons = sorted({c for s in e.get("reason_sets") or [] for r in s for c in REASON_FIX.get(r, [r])} - {"CLOSE"})
        t.update(artifact="usn", name=name)
        if reasons:
            t["reasons"] = reasons
        return t
    if a == "amcache":
        return None  # derived from the executables instead
    raise SystemExit(f"unknown artifact {a}")


def low_value(t):
    """Supporting file-system rows that name no file with an extension say nothing on their own."""
    if t["artifact"] in ("usn", "mft", "file"):
        name = basename(t.get("name") or t.get("path"))
        return "." not in name or name.startswith("*.")
    return False


def fold(v):
    """Matching is case-insensitive, so duplicates are found case-insensitively too."""
    if isinstance(v, list):
        return tuple(fold(x) for x in v)
    return v.lower() if isinstance(v, str) else v


def key_of(t):
    f = tuple(sorted((k, fold(v)) for k, v in t.get("fields", {}).items()))
    skip = ("fields", "unless", "strength", "logging", "success", "note", "sheet")
    u = tuple(sorted((k, fold(v)) for k, v in t.get("unless", {}).items()))
    return tuple((k, fold(v)) for k, v in sorted(t.items()) if k not in skip) + (f, u)


def build_tool(tool):
    cfg = TOOLS[tool["id"]]
    out = {}
    items = []
    for n, e in enumerate(tool["evidence"], 1):
        # The sheet item a trace restates: `<sheet>:<n>`, the n-th [[tool.evidence]] of this tool in traces.toml.
        e = dict(e, _cite=f"{e.get('sheet', '?')}:{n}")
        ids = e.get("event_id")
        if isinstance(ids, list):
            items += [dict(e, event_id=i) for i in ids]
        else:
            items.append(e)
    if cfg.get("placeholder_is"):
        items = [bind_placeholder(e, cfg["placeholder_is"]) for e in items]
    for e in items:
        t = convert(e)
        if t is None:
            continue
        if names_windows_program(t, cfg):
            continue
        t["sheet"] = [e["_cite"]]
        anchor = is_anchor(t, cfg, True) and not demoted(t, cfg)
        if t.get("success"):
            if not anchor:
                continue
            t["strength"] = "supporting"
        else:
            t["strength"] = "anchor" if anchor else "supporting"
        if e["tier"] != "key" and t["strength"] != "anchor":
            continue
        if t["strength"] == "supporting" and low_value(t):
            continue
        if t["artifact"] == "usn":
            # reasons are alternatives, so rows for the same file name merge into one
            k = key_of({x: y for x, y in t.items() if x != "reasons"}) + (t["strength"],)
            if k in out:
                merged = sorted(set(out[k].get("reasons", [])) | set(t.get("reasons", [])))
                if merged:
                    out[k]["reasons"] = merged
                cite(out[k], t)
                continue
            out[k] = t
            continue
        k = key_of(t)
        if k in out:
            if t["strength"] == "anchor":
                out[k]["strength"] = "anchor"
            if out[k].get("note", "").startswith("the sheet's Sysmon"):
                del out[k]["note"]  # a twin we made that the sheet also writes: its item, not our widening
            cite(out[k], t)
            continue
        out[k] = t
        if t["artifact"] == "evtx" and t["channel"] == "Microsoft-Windows-Sysmon/Operational" and t["event_id"] == 23:
            # A deletion Sysmon did not archive is event 26 (FileDeleteDetected): the same fact.
            twin = {k: v for k, v in t.items() if k != "sheet"}
            twin.update(event_id=26, fields=dict(t["fields"]),
                        note="the sheet's Sysmon 23 (FileDelete, archived) as Sysmon 26 (FileDeleteDetected), the same "
                             "deletion when Sysmon keeps no copy (our widening)")
            out.setdefault(key_of(twin), twin)
        target = t.get("fields", {}).get("TargetFilename")
        if (t["artifact"] == "evtx" and t["channel"] == "Microsoft-Windows-Sysmon/Operational" and t["event_id"] == 11
                and isinstance(target, str) and target.lower().endswith((".exe", ".dll", ".sys"))):
            # Sysmon 14+ writes an executable's creation as event 29 (FileExecutableDetected) where configured.
            twin = {k: v for k, v in t.items() if k != "sheet"}
            twin.update(event_id=29, fields=dict(t["fields"]),
                        note="the sheet's Sysmon 11 (FileCreate) of an executable as Sysmon 29 (FileExecutableDetected), "
                             "the same creation where Sysmon is configured to report executables so (our widening)")
            out.setdefault(key_of(twin), twin)
        if t["artifact"] == "evtx" and t["event_id"] == 7045 and "ServiceName" in t["fields"]:
            svc = {"role": t["role"], "logging": "default", "artifact": "service", "name": t["fields"]["ServiceName"],
                   "strength": t["strength"], "sheet": list(t["sheet"])}
            if "ImagePath" in t["fields"]:
                svc["image_path"] = t["fields"]["ImagePath"]
            cite(out.setdefault(key_of(svc), svc), svc)
    extras = list(cfg.get("extra", []))
    if any(n == "mimikatz.exe" and specific for n, _, specific in cfg["exes"]):
        extras += MIMIKATZ_PARTS
    for t in extras:
        out.setdefault(key_of(t), dict(t))
    # Events whose fields only describe the lab session (option codes, a shell GUID): the event itself is the
    # trace. For WinRM's client events this also makes them one fact (`winrm_client`); the session's creation
    # (`winrm_session`, event 6) is the one anchor among them, refused when it names the host itself, so a
    # management host's remote sessions stay one anchor, i.e. `possible`, and its local ones give nothing.
    for role, channel in cfg.get("bare", []):
        for k in list(out):
            t = out[k]
            if t["role"] == role and t["artifact"] == "evtx" and t["channel"] == channel:
                del out[k]
                t["fields"] = {}
                if channel == "Microsoft-Windows-WinRM/Operational":
                    if t["event_id"] == WINRM_SESSION_EVENT:
                        t["unless"] = WINRM_LOCAL
                    else:
                        t["strength"] = "supporting"
                cite(out.setdefault(key_of(t), t), t)
    for t in out.values():
        widened = False
        for key in ("name", "path"):
            if t.get(key) in cfg.get("widen", {}):
                t[key], widened = cfg["widen"][t[key]], True
        for field, value in t.get("fields", {}).items():
            if isinstance(value, str) and value in cfg.get("widen", {}):
                t["fields"][field], widened = cfg["widen"][value], True
        if widened:
            t["note"] = cfg["widen_note"]
    own = {n for n, _, specific in cfg["exes"] if specific}
    traces = drop_supersets(list(out.values()), lambda t: is_generic(tool["id"], dict(t, strength="anchor"), own))
    for applies, unless in cfg.get("unless", []):
        for t in traces:
            if applies(t):
                merged = dict(t.get("unless", {}))
                for k, v in witness_unless(t, unless).items():
                    merged[k] = sorted(set(merged.get(k, [])) | set(v), key=str.lower)
                t["unless"] = merged
    traces += execution_traces(tool, cfg, traces)
    for t in traces:
        if is_generic(tool["id"], t, own):
            t["generic"] = True
    order = {"source": 0, "destination": 1, "dc": 2}
    traces.sort(key=lambda t: (order[t["role"]], t["strength"] != "anchor", t["artifact"]))
    return traces


def cite(kept, merged):
    """`kept` also restates the sheet items `merged` cites (sorted by sheet, then item number)."""
    both = set(kept.get("sheet", [])) | set(merged.get("sheet", []))
    if both:
        kept["sheet"] = sorted(both, key=lambda c: (c.split(":")[0], int(c.split(":")[1])))


def drop_supersets(traces, generic):
    """An evtx trace whose field set contains another trace's fields matches a subset of its records; it is
    kept only when it says more than the other (a tool-specific command line beside a generic process start)."""
    keep = []
    for t in traces:
        redundant = False
        if t["artifact"] == "evtx":
            for o in traces:
                if o is t or o["artifact"] != "evtx" or o["role"] != t["role"] or o["channel"] != t["channel"]:
                    continue
                if o.get("unless"):
                    continue  # o refuses records t may accept
                if o["event_id"] != t["event_id"] or o["strength"] != t["strength"] or bool(o.get("success")) != bool(t.get("success")):
                    continue
                if generic(o) != generic(t):
                    continue
                of, tf = o["fields"], t["fields"]
                if len(of) < len(tf) and all(k in tf and fold(tf[k]) == fold(v) for k, v in of.items()):
                    redundant = True
                    cite(o, t)
                    break
        if not redundant:
            keep.append(t)
    return keep


# Programs Windows ships: they act for many reasons, so an event naming one as the acting
# process says nothing about the tool (its own traces say how it was used).
WINDOWS_PROGRAMS = {
    "at.exe", "bitsadmin.exe", "cmd.exe", "csvde.exe", "dcdiag.exe", "dsquery.exe", "klist.exe",
    "ldifde.exe", "mstsc.exe", "net.exe", "net1.exe", "nltest.exe", "ntdsutil.exe", "powershell.exe",
    "rdpclip.exe", "schtasks.exe", "sdbinst.exe", "tstheme.exe", "vssadmin.exe", "wevtutil.exe",
    "winrs.exe", "winrshost.exe", "wmic.exe", "wmiprvse.exe", "wsmprovhost.exe",
}


# Programs Windows ships that run only when their tool is used: the RDP client, the session host's
# clipboard and theme helpers, the WinRS client and its shell host. Any event naming one as the acting
# process says the tool was used (generic, as their Prefetch files are: which host, not what for).
RUN_ONLY_IN_USE = {"mstsc.exe", "rdpclip.exe", "tstheme.exe", "winrs.exe", "winrshost.exe"}


def names_windows_program(t, cfg):
    """A USN row of the file of a program Windows ships (the program itself, not its Prefetch file): servicing
    renames, replaces and re-links those files at every update, so such a row says nothing about the tool."""
    if t["artifact"] != "usn":
        return False
    name = t["name"].lower()
    if name == "{exe}":
        own = [n for n, _, specific in cfg["exes"] if specific]
        return bool(own) and all(n in WINDOWS_PROGRAMS for n in own)
    return name in WINDOWS_PROGRAMS


def execution_traces(tool, cfg, existing):
    """Program-execution records (Prefetch, Amcache, ShimCache, BAM, UserAssist) for each executable,
    and for a tool's own programs that Windows does not ship, any event naming one as the acting process."""
    out = []
    uses_placeholder = any("{exe}" in v or "{path}" in v for t in existing for v in values_of(t))
    names = [(n, r, s) for n, r, s in cfg["exes"]]
    if uses_placeholder and not any(s for _, _, s in names):
        names.append(("{exe}", S, True))
    have_pf = {t["pattern"].lower() for t in existing if t["artifact"] == "prefetch"}
    for name, role, specific in names:
        if not (name.endswith(".exe") or name == "{exe}"):
            continue
        strength = "anchor" if specific else "supporting"
        pf = name.upper() + "-*.pf" if name != "{exe}" else "{exe}-*.pf"
        if pf.lower() not in have_pf and ("{exe}-*.pf" not in have_pf or not specific or name == "{exe}"):
            out.append({"role": role, "strength": strength, "logging": "default", "artifact": "prefetch", "pattern": pf})
        for art in ("amcache", "shimcache", "bam", "userassist"):
            out.append({"role": role, "strength": strength, "logging": "default", "artifact": art, "exe": name})
        if specific and name != "{exe}" and (name not in WINDOWS_PROGRAMS or name in RUN_ONLY_IN_USE):
            out.append({"role": role, "strength": "anchor", "logging": "default", "artifact": "process", "exe": name})
    return out


def q(s):
    if "'" not in s and "\n" not in s:
        return "'" + s + "'"
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def qv(v):
    if isinstance(v, list):
        return "[" + ", ".join(q(x) for x in v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return q(v)


def qk(k):
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else q(k)


FIELD_ORDER = ["role", "strength", "generic", "logging", "success", "artifact", "channel", "event_id", "fields", "unless", "all_of", "within", "case_sensitive", "pattern", "hive",
               "key", "value", "data", "path", "name", "image_path", "command", "reasons", "exe", "sheet", "note"]


def emit(tool):
    """The rules file of one tool: a complete format-1 file holding that tool alone."""
    w = []
    w.append(f"# toolmark trace rules for {tool['name']}: what it leaves on a Windows host.")
    w.append("# Generated by src/traces/tools/build_rules.py from the facts in ../shared/jpcert/traces.toml")
    w.append("# (identifiers, event IDs, field values, paths and keys observed in JPCERT/CC's Tool Analysis")
    w.append("# Result Sheets), then reviewed. Format and semantics: src/traces/README.md.")
    w.append("")
    w.append("format = 1")
    cfg = TOOLS[tool["id"]]
    traces = build_tool(tool)
    exes = sorted({n for n, _, _ in cfg["exes"]})
    specific = sorted({n for n, _, s in cfg["exes"] if s})
    w.append("")
    w.append("[[tool]]")
    w.append(f"id = {q(tool['id'])}")
    w.append(f"name = {q(tool['name'])}")
    w.append(f"category = {q(tool['category'])}")
    w.append(f"executables = {qv(exes)}")
    w.append(f"specific_executables = {qv(specific)}")
    w.append(f"aliases = {qv(tool['aliases'])}")
    # The words that name this tool among its program's others: mimikatz's `module::command` (from its aliases)
    # and the commands given in the tool's config (RUBEUS_COMMANDS).
    modules = [word for a in tool["aliases"] for word in a.split()[1:2] if "::" in word] + cfg.get("modules", [])
    if modules:
        w.append(f"modules = {qv(modules)}")
    if cfg.get("one_host"):
        w.append("one_host = true")
    # PsExec runs psexec.exe on the source and psexesvc.exe on the destination: `{exe}` in a trace of one role
    # stands for that role's own programs only (a PSEXESVC Prefetch file is no PsExec source).
    own_roles = sorted({r for _, r, own in cfg["exes"] if own})
    if len(own_roles) > 1:
        by_role = ", ".join(f"{r} = {qv(sorted({n for n, rr, own in cfg['exes'] if own and rr == r}))}" for r in own_roles)
        w.append(f"role_executables = {{ {by_role} }}")
    if cfg.get("note"):
        w.append(f"note = {q(cfg['note'])}")
    for t in traces:
        w.append("")
        w.append("[[tool.trace]]")
        for k in FIELD_ORDER:
            if k not in t:
                continue
            v = t[k]
            if k in ("fields", "unless"):
                inner = ", ".join(f"{qk(fk)} = {qv(fv)}" for fk, fv in v.items())
                w.append(f"{k} = {{ {inner} }}")
            else:
                w.append(f"{k} = {qv(v)}")
    return "\n".join(w) + "\n"


def emit_list(tools):
    """The Rust module that embeds every tool's file, in the facts file's order."""
    w = ["//! The shipped rules, one file per tool. Generated by src/traces/tools/build_rules.py; do not edit.",
         "",
         "/// (tool id, rules text) of every shipped tool.",
         "pub(crate) const TOOL_RULES: &[(&str, &str)] = &["]
    w += [f'    ("{t["id"]}", include_str!("{t["id"]}.toml")),' for t in tools]
    w.append("];")
    return "\n".join(w) + "\n"


def main():
    args = sys.argv[1:]
    out = Path(__file__).resolve().parents[1] / "rules"
    if "--out" in args:
        at = args.index("--out")
        out = Path(args[at + 1])
        del args[at:at + 2]
    if args:
        src = Path(args[0])
    else:
        shared = Path(os.environ.get("TOOLMARK_SHARED", ROOT.parent / "shared"))
        src = shared / "jpcert" / "traces.toml"
    data = tomllib.loads(src.read_text(encoding="utf-8"))
    tools = data["tool"]
    missing = [t["id"] for t in tools if t["id"] not in TOOLS]
    if missing:
        raise SystemExit(f"no configuration for tools: {missing}")
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.toml"):
        old.unlink()
    for tool in tools:
        (out / f"{tool['id']}.toml").write_text(emit(tool), encoding="utf-8")
    (out / "mod.rs").write_text(emit_list(tools), encoding="utf-8")


if __name__ == "__main__":
    main()
