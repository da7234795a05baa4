//! `toolmark scan` registry tables on the built win10-aptsim image, checked against
//! hivex (`hivexget`/`hivexsh`, libhivex-bin) on the hives extracted from the image by
//! The Sleuth Kit (`fls`/`icat`), against the raw bytes of the corpus AppCompatCache
//! blob, and against the task XML file itself.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::*;

const HOST: &str = "WIN10-APTSIM";
const USERASSIST_COUNT: &str = "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\UserAssist\\{CEBFF5CD-ACE2-4F4F-9178-9926F41749EA}\\Count";

struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn read(path: &Path) -> Table {
        let (header, rows) = read_csv(path);
        Table { header, rows }
    }

    fn col(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name} in {:?}", self.header))
    }

    /// Rows whose column `name` equals `value`.
    fn select(&self, name: &str, value: &str) -> Vec<&Vec<String>> {
        let c = self.col(name);
        self.rows.iter().filter(|r| r[c] == value).collect()
    }

    fn cell<'a>(&self, row: &'a [String], name: &str) -> &'a str {
        &row[self.col(name)]
    }
}

/// One full scan of the raw win10-aptsim image, shared by every test.
fn scanned() -> PathBuf {
    static DONE: OnceLock<PathBuf> = OnceLock::new();
    DONE.get_or_init(|| {
        let image = built_images().join("win10-aptsim.raw");
        let out = scratch_dir("scan-registry");
        let _ = std::fs::remove_dir_all(&out);
        let result = toolmark()
            .arg("scan")
            .arg(&image)
            .arg("-o")
            .arg(&out)
            .args(["--jobs", "2", "-q"])
            .output()
            .unwrap();
        assert!(
            result.status.success(),
            "scan failed ({}): {}",
            result.status,
            String::from_utf8_lossy(&result.stderr)
        );
        out.join("win10-aptsim")
    })
    .clone()
}

fn table(name: &str) -> Table {
    Table::read(&scanned().join(format!("{name}.csv")))
}

/// A file of the image's NTFS volume, extracted with The Sleuth Kit into target/.
fn extracted(path: &str) -> PathBuf {
    static LISTING: OnceLock<(u64, Vec<FlsEntry>)> = OnceLock::new();
    let image = built_images().join("win10-aptsim.raw");
    let (offset, entries) = LISTING.get_or_init(|| {
        let offset = first_ntfs_offset(&image);
        (offset, fls_entries(&image, offset))
    });
    let entry = entries
        .iter()
        .find(|e| e.path.eq_ignore_ascii_case(path))
        .unwrap_or_else(|| panic!("fls does not list {path}"));
    let out = run_ok(
        oracle("icat", "sleuthkit")
            .arg("-o")
            .arg((offset / 512).to_string())
            .arg(&image)
            .arg(&entry.address),
    );
    let dest = scratch_dir("scan-registry-hives").join(path.replace('/', "_"));
    std::fs::write(&dest, &out.stdout).unwrap();
    dest
}

/// `hivexget HIVE KEY [VALUE]` output without the trailing newline.
fn hivexget(hive: &Path, key: &str, value: Option<&str>) -> String {
    let mut cmd = oracle("hivexget", "libhivex-bin");
    cmd.arg(hive).arg(key);
    if let Some(v) = value {
        cmd.arg(v);
    }
    let out = run_ok(&mut cmd);
    String::from_utf8(out.stdout)
        .unwrap()
        .trim_end_matches('\n')
        .to_string()
}

/// Subkey names of `key`, listed by `hivexsh`.
fn hivexsh_ls(hive: &Path, key: &str) -> Vec<String> {
    let mut child = oracle("hivexsh", "libhivex-bin")
        .arg(hive)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "cd {key}\nls").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "hivexsh failed on {key}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .filter(|l| !l.is_empty())
        .collect()
}

/// The test's own ROT13, independent of toolmark's.
fn rot13(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphabetic() {
                let base = if c.is_ascii_lowercase() { b'a' } else { b'A' };
                (((c as u8 - base + 13) % 26) + base) as char
            } else {
                c
            }
        })
        .collect()
}

#[test]
fn every_table_names_the_host_from_system_and_manifest_has_host_facts() {
    let system = extracted("Windows/System32/config/SYSTEM");
    let set = format!(
        "ControlSet{:03}",
        hivexget(&system, "Select", Some("Current"))
            .parse::<u32>()
            .unwrap()
    );
    let computer = hivexget(
        &system,
        &format!("{set}\\Control\\ComputerName\\ComputerName"),
        Some("ComputerName"),
    );
    assert_eq!(computer, HOST, "the image's SYSTEM hive (hivexget)");
    let timezone = hivexget(
        &system,
        &format!("{set}\\Control\\TimeZoneInformation"),
        Some("TimeZoneKeyName"),
    );
    let dir = scanned();
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "csv") || path.ends_with("errors.csv") {
            continue;
        }
        let t = Table::read(&path);
        let host = t.col("host");
        assert!(
            t.rows.iter().all(|r| r[host] == HOST),
            "{}: a row whose host is not {HOST}",
            path.display()
        );
        checked += t.rows.len();
    }
    assert!(checked > 100_000, "only {checked} rows checked");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["host"], HOST);
    let facts = &manifest["host_facts"];
    assert_eq!(facts["timezone"], timezone.as_str());
    let bias = hivexget(
        &system,
        &format!("{set}\\Control\\TimeZoneInformation"),
        Some("Bias"),
    );
    assert_eq!(facts["timezone_bias_minutes"].to_string(), bias);
    assert_eq!(facts["control_set"], set.as_str());
    let software = extracted("Windows/System32/config/SOFTWARE");
    let cv = "Microsoft\\Windows NT\\CurrentVersion";
    for (field, value) in [
        ("product_name", "ProductName"),
        ("current_build", "CurrentBuild"),
        ("display_version", "DisplayVersion"),
    ] {
        assert_eq!(facts[field], hivexget(&software, cv, Some(value)).as_str());
    }
    // Addresses: every interface's IPAddress / DhcpIPAddress as hivex shows them.
    let mut expected = BTreeSet::new();
    let interfaces = format!("{set}\\Services\\Tcpip\\Parameters\\Interfaces");
    for interface in hivexsh_ls(&system, &interfaces) {
        let key = format!("{interfaces}\\{interface}");
        let all = hivexget(&system, &key, None);
        for name in ["IPAddress", "DhcpIPAddress"] {
            if all.contains(&format!("\"{name}\"=")) {
                for address in hivexget(&system, &key, Some(name)).lines() {
                    if !address.is_empty() && address != "0.0.0.0" {
                        expected.insert(address.to_string());
                    }
                }
            }
        }
    }
    let ours: BTreeSet<String> = facts["ip_addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(ours, expected);
}

#[test]
fn amcache_rows_equal_the_replayed_hive_as_hivex_lists_it() {
    // The corpus Amcache with its logs is what the builder put into the image
    // unchanged (images/README.md); replay it and let hivex read the result.
    let dir = corpus().join("hosts/win10-aptsim/Windows/AppCompat/Programs");
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let recovered = regf::recover(
        &read("Amcache.hve"),
        Some(&read("Amcache.hve.LOG1")),
        Some(&read("Amcache.hve.LOG2")),
    )
    .unwrap();
    let hive = scratch_dir("scan-registry-hives").join("Amcache.recovered.hve");
    std::fs::write(&hive, &recovered.bytes).unwrap();
    let files = hivexsh_ls(&hive, "Root\\InventoryApplicationFile");
    let apps = hivexsh_ls(&hive, "Root\\InventoryApplication");
    // The amcache crate's corpus test found these counts with regfexport.
    assert_eq!((files.len(), apps.len()), (124, 90));
    let t = table("amcache");
    let kind = |k: &str| t.select("kind", k).len();
    assert_eq!(kind("ApplicationFile"), files.len());
    assert_eq!(kind("Application"), apps.len());
    let others: usize = ["DriverBinary", "ApplicationShortcut", "File", "Program"]
        .iter()
        .map(|k| {
            let parent = match *k {
                "DriverBinary" => "Root\\InventoryDriverBinary",
                "ApplicationShortcut" => "Root\\InventoryApplicationShortcut",
                _ => return kind(k),
            };
            assert_eq!(kind(k), count_subkeys_or_zero(&hive, parent), "{k}");
            kind(k)
        })
        .sum();
    assert_eq!(t.rows.len(), files.len() + apps.len() + others);
    // Every 10th file: path and SHA-1 as hivex reads the values.
    for name in files.iter().step_by(10) {
        let key = format!("Root\\InventoryApplicationFile\\{name}");
        let row = t
            .select("key_path", &key)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("{key} not in amcache.csv"));
        let all = hivexget(&hive, &key, None);
        let value = |v: &str| {
            if all.contains(&format!("\"{v}\"=")) {
                hivexget(&hive, &key, Some(v))
            } else {
                String::new()
            }
        };
        assert_eq!(t.cell(row, "path"), value("LowerCaseLongPath"), "{key}");
        let sha1 = value("FileId");
        assert_eq!(
            t.cell(row, "sha1"),
            sha1.strip_prefix("0000").unwrap_or(&sha1),
            "{key}"
        );
        assert_eq!(t.cell(row, "name"), value("Name"), "{key}");
        assert_eq!(t.cell(row, "host"), HOST);
    }
}

fn count_subkeys_or_zero(hive: &Path, key: &str) -> usize {
    let root = hivexsh_ls(hive, "Root");
    let leaf = key.rsplit('\\').next().unwrap();
    if root.iter().any(|k| k == leaf) {
        hivexsh_ls(hive, key).len()
    } else {
        0
    }
}

#[test]
fn shimcache_rows_equal_the_blob_header_count_and_its_entries() {
    let blob_path = corpus().join("registry/appcompatcache/Win10/Win10.bin");
    let blob = std::fs::read(&blob_path).unwrap_or_else(|e| panic!("{}: {e}", blob_path.display()));
    // Windows 10 (pre-Creators) header: entry count at 0x24 (parsers/shimcache README).
    let count = u32::from_le_bytes(blob[0x24..0x28].try_into().unwrap()) as usize;
    let t = table("shimcache");
    assert_eq!(t.rows.len(), count);
    let parsed = shimcache::parse(&blob).unwrap();
    let mut rows: Vec<&Vec<String>> = t.rows.iter().collect();
    rows.sort_by_key(|r| t.cell(r, "position").parse::<u32>().unwrap());
    for (row, entry) in rows.iter().zip(&parsed.entries).take(5) {
        assert_eq!(t.cell(row, "path"), entry.path);
        assert_eq!(
            t.cell(row, "last_modified"),
            entry.last_modified.to_string()
        );
    }
    // The image's SYSTEM holds exactly the corpus blob (hivex reads it back).
    let system = extracted("Windows/System32/config/SYSTEM");
    let dump = hivexget(
        &system,
        "ControlSet001\\Control\\Session Manager\\AppCompatCache",
        None,
    );
    let hex: String = blob.iter().take(16).map(|b| format!("{b:02x},")).collect();
    assert!(
        dump.replace(['\\', '\n', ' '], "").contains(&hex),
        "AppCompatCache in SYSTEM is not the corpus blob"
    );
}

#[test]
fn services_userassist_tasks_agree_with_hivex_and_the_task_file() {
    let system = extracted("Windows/System32/config/SYSTEM");
    let services = table("services");
    let psexesvc = services.select("name", "PSEXESVC");
    assert_eq!(psexesvc.len(), 1);
    let key = "ControlSet001\\Services\\PSEXESVC";
    assert_eq!(
        services.cell(psexesvc[0], "image_path"),
        hivexget(&system, key, Some("ImagePath"))
    );
    assert_eq!(
        services.cell(psexesvc[0], "account"),
        hivexget(&system, key, Some("ObjectName"))
    );
    assert_eq!(
        services.cell(psexesvc[0], "start"),
        hivexget(&system, key, Some("Start"))
    );
    assert_eq!(
        services.rows.len(),
        hivexsh_ls(&system, "ControlSet001\\Services").len()
    );

    // UserAssist: hivex prints each value as `"name"=hex(3):..`; decode name and
    // run count (u32 at offset 4 of the 72-byte record) here.
    let ntuser = extracted("Users/analyst/NTUSER.DAT");
    let mut expected = BTreeSet::new();
    for line in hivexget(&ntuser, USERASSIST_COUNT, None).lines() {
        let (name, data) = line.split_once("=hex(3):").unwrap();
        let name = name.trim_matches('"').replace("\\\\", "\\");
        let bytes: Vec<u8> = data
            .split(',')
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect();
        if bytes.len() != 72 {
            continue;
        }
        let runs = u32::from_le_bytes(bytes[4..8].try_into().unwrap());
        expected.insert((rot13(&name), runs.to_string()));
    }
    let ua = table("userassist");
    let ours: BTreeSet<(String, String)> = ua
        .rows
        .iter()
        .map(|r| {
            (
                ua.cell(r, "name").to_string(),
                ua.cell(r, "run_count").to_string(),
            )
        })
        .collect();
    assert_eq!(expected.len(), 2);
    assert_eq!(ours, expected);
    assert!(ours.contains(&("C:\\Tools\\PsExec.exe".into(), "3".into())));
    assert!(ua.rows.iter().all(|r| ua.cell(r, "user") == "analyst"));

    // Tasks: the At1 row carries the command and arguments of its XML file.
    let xml_bytes = std::fs::read(extracted("Windows/System32/Tasks/At1")).unwrap();
    assert_eq!(&xml_bytes[..2], &[0xFF, 0xFE], "UTF-16LE with BOM");
    let units: Vec<u16> = xml_bytes[2..]
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let xml = String::from_utf16(&units).unwrap();
    let element = |tag: &str| {
        let start = xml.find(&format!("<{tag}>")).unwrap() + tag.len() + 2;
        let end = xml[start..].find(&format!("</{tag}>")).unwrap() + start;
        xml[start..end]
            .replace("&gt;", ">")
            .replace("&lt;", "<")
            .replace("&amp;", "&")
    };
    let tasks = table("tasks");
    let at1 = tasks.select("name", "\\At1");
    assert_eq!(at1.len(), 1);
    assert_eq!(tasks.cell(at1[0], "command"), element("Command"));
    assert_eq!(tasks.cell(at1[0], "arguments"), element("Arguments"));
    assert_eq!(tasks.cell(at1[0], "xml_problem"), "");
    let software = extracted("Windows/System32/config/SOFTWARE");
    let id = hivexget(
        &software,
        "Microsoft\\Windows NT\\CurrentVersion\\Schedule\\TaskCache\\Tree\\At1",
        Some("Id"),
    );
    assert_eq!(tasks.cell(at1[0], "id"), id);
}

#[test]
fn registry_csv_lists_rule_keys_found_and_missing() {
    let ntuser = extracted("Users/analyst/NTUSER.DAT");
    let t = table("registry");
    let rule = |key: &str, value: &str| -> Vec<&Vec<String>> {
        t.rows
            .iter()
            .filter(|r| {
                t.cell(r, "kind") == "rule"
                    && t.cell(r, "key_path").eq_ignore_ascii_case(key)
                    && t.cell(r, "value_name") == value
            })
            .collect()
    };
    let eula = rule("Software\\Sysinternals\\PsExec", "EulaAccepted");
    assert_eq!(eula.len(), 1, "one row for PsExec's EulaAccepted");
    assert_eq!(t.cell(eula[0], "found"), "true");
    assert_eq!(
        t.cell(eula[0], "data"),
        hivexget(
            &ntuser,
            "Software\\Sysinternals\\PsExec",
            Some("EulaAccepted")
        )
    );
    assert_eq!(t.cell(eula[0], "hive_file"), "Users/analyst/NTUSER.DAT");
    assert!(t.cell(eula[0], "tools").split(';').any(|x| x == "psexec"));

    // A key a rule asks for that the image lacks: hivex agrees it is absent.
    let sdelete = rule("Software\\Sysinternals\\SDelete", "EulaAccepted");
    assert_eq!(sdelete.len(), 1);
    assert_eq!(t.cell(sdelete[0], "found"), "false");
    let status = Command::new("hivexget")
        .arg(&ntuser)
        .arg("Software\\Sysinternals\\SDelete")
        .output()
        .unwrap()
        .status;
    assert!(!status.success(), "hivexget finds SDelete's key");
    let missing = t.select("found", "false").len();
    assert!(missing >= 10, "only {missing} found=false rows");

    // Every rule row of a loaded hive names the tools asking.
    assert!(t
        .select("kind", "rule")
        .iter()
        .all(|r| !t.cell(r, "tools").is_empty()));
    // Fixed kinds: the RDP server with its username hint, and the SAM account.
    let rdp = t.select("kind", "rdp_client");
    assert!(rdp.iter().any(|r| t.cell(r, "value_name") == "UsernameHint"
        && t.cell(r, "data")
            == hivexget(
                &ntuser,
                "Software\\Microsoft\\Terminal Server Client\\Servers\\10.0.0.5",
                Some("UsernameHint")
            )));
    // SAM keeps an account's RID as the type of its Names key's default value;
    // hivexget prints that type in decimal as `"@"=hex(TYPE):`.
    let sam_hive = extracted("Windows/System32/config/SAM");
    let names = "SAM\\Domains\\Account\\Users\\Names";
    let accounts = hivexsh_ls(&sam_hive, names);
    let sam = t.select("kind", "sam_account");
    assert_eq!(sam.len(), accounts.len());
    for account in accounts {
        let dump = hivexget(&sam_hive, &format!("{names}\\{account}"), None);
        let rid = dump
            .split_once("=hex(")
            .and_then(|(_, rest)| rest.split_once(')'))
            .map(|(rid, _)| rid.to_string())
            .unwrap();
        let row = sam
            .iter()
            .find(|r| t.cell(r, "key_path").ends_with(&format!("\\{account}")))
            .unwrap_or_else(|| panic!("{account} not in registry.csv"));
        assert_eq!(t.cell(row, "data"), rid, "{account}");
    }
}

/// Writes a triage directory whose hives hivex makes (python3-hivex, through
/// images/hives.py's `write_hive`), covering what the built image lacks: a second
/// control set chosen by `Select`, BAM, shares, Run keys, an XP UserAssist record,
/// MountPoints2, a UsrClass.dat and a dirty hive without logs. Prints the expected
/// facts as JSON; times are converted to text by Python's datetime.
const CRAFT: &str = r#"
import datetime, json, os, struct, sys
sys.path.insert(0, sys.argv[1])
from hives import write_hive, sz, expand_sz, multi_sz, dword, binary
root = sys.argv[2]
def ft(dt):
    delta = dt - datetime.datetime(1601, 1, 1, tzinfo=datetime.timezone.utc)
    return (delta.days * 86400 + delta.seconds) * 10**7 + delta.microseconds * 10
def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"
ran = datetime.datetime(2023, 5, 6, 7, 8, 9, 123456, tzinfo=datetime.timezone.utc)
xp_ran = datetime.datetime(2009, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
def path(p):
    full = os.path.join(root, *p.split("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    return full
sid = "S-1-5-21-1-2-3-1001"
exe = "\\Device\\HarddiskVolume2\\Windows\\System32\\cmd.exe"
write_hive(path("Windows/System32/config/SYSTEM"), "SYSTEM", {
    "Select": {"Current": dword(2)},
    "ControlSet001\\Control\\ComputerName\\ComputerName": {"ComputerName": sz("OLD-NAME")},
    "ControlSet001\\Services\\OnlyInOldSet": {"ImagePath": expand_sz("old.exe")},
    "ControlSet002\\Control\\ComputerName\\ComputerName": {"ComputerName": sz("TRIAGE-HOST")},
    "ControlSet002\\Services\\Evil": {"ImagePath": expand_sz("C:\\evil.exe"), "Start": dword(2), "Type": dword(0x10)},
    "ControlSet002\\Services\\LanmanServer\\Shares": {"Data": multi_sz("Path=C:\\Data", "Permissions=0")},
    "ControlSet002\\Services\\bam\\State\\UserSettings\\" + sid: {
        exe: binary(struct.pack("<Q", ft(ran)) + bytes(16)),
        "Version": dword(1),
        "SequenceNumber": dword(9),
    },
})
write_hive(path("Windows/System32/config/SOFTWARE"), "SOFTWARE", {
    "Microsoft\\Windows\\CurrentVersion\\Run": {"Updater": sz("C:\\evil.exe -q")},
})
ua = "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\UserAssist\\{75048700-EF1F-11D0-9888-006097DEACF9}\\Count"
write_hive(path("Users/bob/NTUSER.DAT"), "ntuser.dat", {
    ua: {"HRZR_EHACNGU:P:\\gbbyf\\kpbcl.rkr": binary(struct.pack("<IIQ", 1, 7, ft(xp_ran)))},
    "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\MountPoints2\\##fileserver#share": {},
    "Software\\Microsoft\\Windows\\CurrentVersion\\RunOnce": {"Once": sz("cmd /c x")},
})
write_hive(path("Users/bob/AppData/Local/Microsoft/Windows/UsrClass.dat"), "UsrClass.dat", {
    "Local Settings\\Software\\Microsoft\\Windows\\Shell\\MuiCache": {
        "C:\\Tools\\psexec.exe.FriendlyAppName": sz("Execute processes remotely"),
    },
})
# SECURITY: written, then marked dirty (primary sequence != secondary) with a
# recomputed base block checksum, and no .LOG1/.LOG2 beside it.
security = path("Windows/System32/config/SECURITY")
write_hive(security, "SECURITY", {"Policy": {}})
data = bytearray(open(security, "rb").read())
seq = struct.unpack_from("<I", data, 4)[0]
struct.pack_into("<I", data, 4, seq + 1)
check = 0
for i in range(0, 508, 4):
    check ^= struct.unpack_from("<I", data, i)[0]
check = {0: 1, 0xFFFFFFFF: 0xFFFFFFFE}.get(check, check)
struct.pack_into("<I", data, 508, check)
open(security, "wb").write(bytes(data))
print(json.dumps({"sid": sid, "exe": exe, "ran": iso(ran), "xp_ran": iso(xp_ran)}))
"#;

#[test]
fn a_triage_directory_with_crafted_hives() {
    let dir = scratch_dir("scan-registry-triage");
    let _ = std::fs::remove_dir_all(&dir);
    let collection = dir.join("host1");
    std::fs::create_dir_all(&collection).unwrap();
    let out = run_ok(
        Command::new("/usr/bin/python3")
            .arg("-c")
            .arg(CRAFT)
            .arg(root().join("images"))
            .arg(&collection),
    );
    let expected: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let out_dir = dir.join("out");
    let result = toolmark()
        .arg("scan")
        .arg(&collection)
        .arg("-o")
        .arg(&out_dir)
        .args(["-q", "--artifacts", "registry,shimcache,amcache"])
        .output()
        .unwrap();
    // The dirty SECURITY hive without logs is an error: exit status 2.
    assert_eq!(
        result.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let scanned = out_dir.join("host1");
    let read = |name: &str| Table::read(&scanned.join(format!("{name}.csv")));
    let errors = read("errors");
    assert_eq!(errors.rows.len(), 1, "{:?}", errors.rows);
    assert_eq!(errors.cell(&errors.rows[0], "stage"), "registry");
    assert_eq!(
        errors.cell(&errors.rows[0], "path"),
        "Windows/System32/config/SECURITY"
    );
    assert!(errors.cell(&errors.rows[0], "error").contains("dirty"));

    // Select\Current = 2: the host and the services come from ControlSet002.
    let services = read("services");
    assert!(services
        .rows
        .iter()
        .all(|r| services.cell(r, "host") == "TRIAGE-HOST"));
    let names: BTreeSet<&str> = services
        .rows
        .iter()
        .map(|r| services.cell(r, "name"))
        .collect();
    assert_eq!(names, BTreeSet::from(["Evil", "LanmanServer", "bam"]));
    let evil = services.select("name", "Evil");
    assert_eq!(services.cell(evil[0], "start_type"), "automatic");
    assert_eq!(services.cell(evil[0], "control_set"), "ControlSet002");

    let bam = read("bam");
    assert_eq!(bam.rows.len(), 1, "Version/SequenceNumber are not entries");
    let row = &bam.rows[0];
    assert_eq!(bam.cell(row, "sid"), expected["sid"]);
    assert_eq!(bam.cell(row, "path"), expected["exe"]);
    assert_eq!(bam.cell(row, "last_execution"), expected["ran"]);

    let ua = read("userassist");
    assert_eq!(ua.rows.len(), 1);
    let row = &ua.rows[0];
    assert_eq!(ua.cell(row, "name"), "UEME_RUNPATH:C:\\tools\\xcopy.exe");
    assert_eq!(ua.cell(row, "run_count"), "2", "XP counts from 5");
    assert_eq!(ua.cell(row, "last_run"), expected["xp_ran"]);
    assert_eq!(ua.cell(row, "layout"), "xp");
    assert_eq!(ua.cell(row, "user"), "bob");

    let reg = read("registry");
    let kind = |k: &str| reg.select("kind", k);
    let runs: BTreeSet<(&str, &str)> = kind("run_key")
        .iter()
        .map(|r| (reg.cell(r, "value_name"), reg.cell(r, "data")))
        .collect();
    assert_eq!(
        runs,
        BTreeSet::from([("Updater", "C:\\evil.exe -q"), ("Once", "cmd /c x")])
    );
    let shares = kind("share");
    assert_eq!(shares.len(), 1);
    assert_eq!(reg.cell(shares[0], "data"), "Path=C:\\Data | Permissions=0");
    let mounts = kind("mountpoints2");
    assert_eq!(mounts.len(), 1);
    assert!(reg
        .cell(mounts[0], "key_path")
        .ends_with("##fileserver#share"));
    let mui: Vec<_> = kind("rule")
        .into_iter()
        .filter(|r| reg.cell(r, "found") == "true" && reg.cell(r, "value_name").contains("psexec"))
        .collect();
    assert_eq!(
        mui.len(),
        1,
        "the psexec MuiCache rule matches in UsrClass.dat"
    );
    assert_eq!(
        reg.cell(mui[0], "hive_file"),
        "Users/bob/AppData/Local/Microsoft/Windows/UsrClass.dat"
    );
    assert_eq!(reg.cell(mui[0], "user"), "bob");
    assert_eq!(reg.cell(mui[0], "data"), "Execute processes remotely");

    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(scanned.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["host"], "TRIAGE-HOST");
    let security = manifest["hives"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["path"] == "Windows/System32/config/SECURITY")
        .unwrap();
    assert_eq!(security["dirty"], true);
}

#[test]
fn registry_rows_reach_the_timeline_with_their_times() {
    let timeline = table("timeline");
    let per_artifact = |artifact: &str, desc: &str| {
        timeline
            .rows
            .iter()
            .filter(|r| {
                timeline.cell(r, "artifact") == artifact
                    && timeline.cell(r, "timestamp_desc") == desc
            })
            .map(|r| timeline.cell(r, "datetime").to_string())
            .collect::<Vec<_>>()
    };
    let times = |name: &str, column: &str| {
        let t = table(name);
        let mut v: Vec<String> = t
            .rows
            .iter()
            .map(|r| t.cell(r, column).to_string())
            .filter(|c| !c.is_empty())
            .collect();
        v.sort();
        v
    };
    for (artifact, desc, column) in [
        (
            "amcache",
            "Amcache Entry Key Last Written",
            "key_last_write",
        ),
        (
            "shimcache",
            "File Last Modified (ShimCache)",
            "last_modified",
        ),
        ("userassist", "Last Run (UserAssist)", "last_run"),
        ("services", "Service Key Last Written", "key_last_write"),
        ("tasks", "Task Created", "created"),
    ] {
        let mut ours = per_artifact(artifact, desc);
        ours.sort();
        let expected = times(artifact, column);
        assert!(!expected.is_empty(), "{artifact}: no times");
        assert_eq!(ours, expected, "{artifact}");
    }
}

/// A SYSTEM hive whose `Services` key points its subkey list outside the hive: the
/// services table loses what it cannot read, and errors.csv says so (exit 2), instead
/// of an empty table that reads as "no service installed".
#[test]
fn an_unreadable_subkey_list_is_an_error_not_an_empty_table() {
    let root = scratch_dir("scan-registry-damaged-services");
    let _ = std::fs::remove_dir_all(&root);
    let config = root.join("host/Windows/System32/config");
    std::fs::create_dir_all(&config).unwrap();
    let hive = run_ok(
        toolmark()
            .arg("cat")
            .arg(built_images().join("win10-aptsim.raw"))
            .arg("Windows/System32/config/SYSTEM"),
    )
    .stdout;
    let mut hive = hive;
    // The key node named `Services`: "nk", name length at +72, name at +76, subkey
    // list offset at +28 (offsets from the signature, as the regf layout has them).
    let at = (0..hive.len() - 84)
        .find(|&i| {
            &hive[i..i + 2] == b"nk"
                && u16::from_le_bytes([hive[i + 72], hive[i + 73]]) == 8
                && &hive[i + 76..i + 84] == b"Services"
        })
        .expect("Services key node");
    hive[at + 28..at + 32].copy_from_slice(&0x7fff_fff0u32.to_le_bytes());
    std::fs::write(config.join("SYSTEM"), &hive).unwrap();
    let out = root.join("out");
    let result = scan_into(&[root.join("host")], &out, &["--artifacts", "registry"]);
    assert_eq!(result.status.code(), Some(2), "a loss must set exit 2");
    let errors = Table::read(&out.join("host/errors.csv"));
    let about_services = errors
        .rows
        .iter()
        .filter(|r| {
            errors.cell(r, "stage") == "registry" && errors.cell(r, "error").contains("Services")
        })
        .count();
    assert!(about_services >= 1, "{:?}", errors.rows);
    assert!(Table::read(&out.join("host/services.csv")).rows.is_empty());
}

/// A service value whose data cell lies outside the hive is an errors.csv row
/// naming it, never an empty cell passed off as "no image path": the service's
/// row is still written, and so are the other services'.
#[test]
fn an_unreadable_service_value_is_an_error_not_an_empty_cell() {
    let root = scratch_dir("scan-registry-damaged-value");
    let _ = std::fs::remove_dir_all(&root);
    let config = root.join("host/Windows/System32/config");
    std::fs::create_dir_all(&config).unwrap();
    let system = |hive: &[u8]| std::fs::write(config.join("SYSTEM"), hive).unwrap();
    let mut hive = run_ok(
        toolmark()
            .arg("cat")
            .arg(built_images().join("win10-aptsim.raw"))
            .arg("Windows/System32/config/SYSTEM"),
    )
    .stdout;
    let services = |out: &Path| {
        let table = Table::read(&out.join("host/services.csv"));
        let paths: Vec<String> = table
            .rows
            .iter()
            .map(|r| table.cell(r, "image_path").to_string())
            .collect();
        paths
    };
    system(&hive);
    let clean = root.join("clean");
    assert_eq!(
        scan_into(&[root.join("host")], &clean, &["--artifacts", "registry"])
            .status
            .code(),
        Some(0)
    );
    let before = services(&clean);
    // Every value node named `ImagePath` (regf: "vk", name length at +2, data size
    // at +4, data offset at +8, name at +20) gets a data offset past the hive.
    let mut edited = 0;
    for i in 0..hive.len() - 29 {
        if &hive[i..i + 2] == b"vk"
            && u16::from_le_bytes([hive[i + 2], hive[i + 3]]) == 9
            && &hive[i + 20..i + 29] == b"ImagePath"
        {
            hive[i + 8..i + 12].copy_from_slice(&0x7fff_fff0u32.to_le_bytes());
            edited += 1;
        }
    }
    assert!(edited > 0);
    system(&hive);
    let out = root.join("out");
    let result = scan_into(&[root.join("host")], &out, &["--artifacts", "registry"]);
    assert_eq!(result.status.code(), Some(2), "a loss must set exit 2");
    let after = services(&out);
    assert_eq!(after.len(), before.len(), "every service still listed");
    let emptied = before
        .iter()
        .zip(&after)
        .filter(|(b, a)| !b.is_empty() && a.is_empty())
        .count();
    assert!(emptied > 0, "the edit reached a listed service");
    let errors = Table::read(&out.join("host/errors.csv"));
    let named = errors
        .rows
        .iter()
        .filter(|r| errors.cell(r, "error").contains("value ImagePath"))
        .count();
    assert!(
        named >= emptied,
        "{emptied} emptied, {named} named: {:?}",
        errors.rows
    );
}
