//! registry.csv rows of fixed kinds, listed whether or not a rule asks for them:
//!
//! | kind | hive | key | row per |
//! |---|---|---|---|
//! | `run_key` | SOFTWARE | `Microsoft\Windows\CurrentVersion\Run`, `RunOnce`, their `Wow6432Node` twins, `...\Policies\Explorer\Run` | value |
//! | `run_key` | NTUSER | `Software\Microsoft\Windows\CurrentVersion\Run`, `RunOnce`, `...\Policies\Explorer\Run` | value |
//! | `rdp_client` | NTUSER | `Software\Microsoft\Terminal Server Client\Servers\*` (value `UsernameHint`, or the key alone) and `...\Default` `MRU*` values | server / MRU value |
//! | `mountpoints2` | NTUSER | `Software\Microsoft\Windows\CurrentVersion\Explorer\MountPoints2\*` (drives and `##server#share` network mounts the user opened) | subkey |
//! | `share` | SYSTEM | `<current set>\Services\LanmanServer\Shares` | value (share definition) |
//! | `sam_account` | SAM | `SAM\Domains\Account\Users\Names\*`; the RID is the type of the key's default value | account |

use super::host::current_control_set;
use super::keys::{all_values, find_keys, key_row, value_row, KeyRow, KeyWriter};
use super::load::{HiveKind, Hives};
use super::value::type_name;

const MACHINE_RUN: [&str; 5] = [
    "Microsoft\\Windows\\CurrentVersion\\Run",
    "Microsoft\\Windows\\CurrentVersion\\RunOnce",
    "Wow6432Node\\Microsoft\\Windows\\CurrentVersion\\Run",
    "Wow6432Node\\Microsoft\\Windows\\CurrentVersion\\RunOnce",
    "Microsoft\\Windows\\CurrentVersion\\Policies\\Explorer\\Run",
];
const USER_RUN: [&str; 3] = [
    "Software\\Microsoft\\Windows\\CurrentVersion\\Run",
    "Software\\Microsoft\\Windows\\CurrentVersion\\RunOnce",
    "Software\\Microsoft\\Windows\\CurrentVersion\\Policies\\Explorer\\Run",
];
const RDP: &str = "Software\\Microsoft\\Terminal Server Client";
const MOUNTPOINTS2: &str = "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\MountPoints2";
const SAM_NAMES: &str = "SAM\\Domains\\Account\\Users\\Names";

/// Writes every fixed-kind row of the volume.
pub fn collect(writer: &KeyWriter<'_>, hives: &Hives) {
    if let Some(software) = hives.first(HiveKind::Software) {
        for path in MACHINE_RUN {
            all_values(writer, "run_key", software, path);
        }
    }
    for ntuser in hives.all(HiveKind::Ntuser) {
        for path in USER_RUN {
            all_values(writer, "run_key", ntuser, path);
        }
        let found = find_keys(&ntuser.hive, &format!("{RDP}\\Servers\\*"));
        writer.problems(ntuser, &found.problems);
        let servers = found.keys;
        for (path, key) in servers {
            match key.value("UsernameHint") {
                Ok(Some(hint)) => writer.write(value_row("rdp_client", ntuser, &path, &key, &hint)),
                Ok(None) => writer.write(key_row("rdp_client", ntuser, &path, &key)),
                // The server is known; the user name it held is lost, and said so.
                Err(e) => writer.write(KeyRow {
                    note: format!("UsernameHint unreadable: {e}"),
                    damaged: true,
                    ..key_row("rdp_client", ntuser, &path, &key)
                }),
            }
        }
        let default = format!("{RDP}\\Default");
        match ntuser.hive.open_key(&default) {
            Ok(Some(key)) => match key.values() {
                Ok(values) => {
                    for value in values {
                        if value.name().to_ascii_uppercase().starts_with("MRU") {
                            writer.write(value_row("rdp_client", ntuser, &default, &key, &value));
                        }
                    }
                }
                Err(e) => writer.problems(ntuser, &[format!("{default}: values unreadable: {e}")]),
            },
            Ok(None) => {}
            Err(e) => writer.problems(ntuser, &[format!("{default}: {e}")]),
        }
        let found = find_keys(&ntuser.hive, &format!("{MOUNTPOINTS2}\\*"));
        writer.problems(ntuser, &found.problems);
        let mounts = found.keys;
        for (path, key) in mounts {
            writer.write(key_row("mountpoints2", ntuser, &path, &key));
        }
    }
    if let Some(system) = hives.first(HiveKind::System) {
        if let Some(set) = current_control_set(&system.hive) {
            all_values(
                writer,
                "share",
                system,
                &format!("{set}\\Services\\LanmanServer\\Shares"),
            );
        }
    }
    if let Some(sam) = hives.first(HiveKind::Sam) {
        let found = find_keys(&sam.hive, &format!("{SAM_NAMES}\\*"));
        writer.problems(sam, &found.problems);
        let names = found.keys;
        for (path, key) in names {
            // The RID is the type of the key's default value.
            let (rid, note) = match key.value("") {
                Ok(value) => (value.map(|v| v.value_type()), String::new()),
                Err(e) => (None, format!("RID (default value) unreadable: {e}")),
            };
            writer.write(KeyRow {
                value_type: rid.map(type_name).unwrap_or_default(),
                data: rid.map(|t| t.code().to_string()).unwrap_or_default(),
                damaged: !note.is_empty(),
                note,
                ..key_row("sam_account", sam, &path, &key)
            });
        }
    }
}
