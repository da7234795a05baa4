//! services.csv: every service and driver of the current control set
//! (`SYSTEM\<set>\Services\*`). A new service installed by a remote-execution tool
//! (PsExec's PSEXESVC, Impacket's random names) shows here with its image path and
//! the key's LastWrite time, roughly its installation time.
//!
//! `Start`: 0 boot, 1 system, 2 automatic, 3 manual (demand), 4 disabled. `Type`:
//! bit flags, 0x1 kernel driver, 0x2 file system driver, 0x10 own process, 0x20
//! shared process, 0x100 interactive (Microsoft's service configuration docs).

use super::host::current_control_set;
use super::load::{HiveKind, Hives};
use super::reader::Reader;
use crate::collect::rows::observation;
use crate::pipeline::Sinks;
use crate::traces::matcher::Observed;

fn start_name(start: u64) -> &'static str {
    match start {
        0 => "boot",
        1 => "system",
        2 => "automatic",
        3 => "manual",
        4 => "disabled",
        _ => "unknown",
    }
}

fn type_name(kind: u64) -> String {
    const FLAGS: [(u64, &str); 5] = [
        (0x1, "kernel_driver"),
        (0x2, "file_system_driver"),
        (0x10, "own_process"),
        (0x20, "share_process"),
        (0x100, "interactive"),
    ];
    let names: Vec<&str> = FLAGS
        .iter()
        .filter(|(bit, _)| kind & bit != 0)
        .map(|(_, n)| *n)
        .collect();
    if names.is_empty() {
        format!("0x{kind:x}")
    } else {
        names.join("|")
    }
}

/// Writes every service of the current control set.
pub fn collect(out: &Sinks<'_>, volume: &str, hives: &Hives) {
    let Some(system) = hives.first(HiveKind::System) else {
        return;
    };
    let Some(set) = current_control_set(&system.hive) else {
        return;
    };
    let read = Reader::new(out, volume, &system.path);
    let Some(services) = read.open(&system.hive, &format!("{set}\\Services")) else {
        return;
    };
    for service in read.subkeys(&services) {
        let name = service.name();
        let start = read.number(&service, "Start");
        let kind = read.number(&service, "Type");
        // Paths: a value of another type is damage, not a path.
        let image_path = read.string(&service, "ImagePath");
        let dll = read
            .subkey(&service, "Parameters")
            .map(|p| read.string(&p, "ServiceDll"))
            .unwrap_or_default();
        let written = service.last_written().to_string();
        out.row(
            "services",
            volume,
            vec![
                system.path.clone(),
                set.clone(),
                name.clone(),
                read.text(&service, "DisplayName"),
                image_path.clone(),
                dll,
                start.map(|s| s.to_string()).unwrap_or_default(),
                start.map(|s| start_name(s).to_string()).unwrap_or_default(),
                kind.map(type_name).unwrap_or_default(),
                read.text(&service, "ObjectName"),
                written.clone(),
            ],
        );
        out.observe(
            volume,
            observation(
                &written,
                "services",
                &system.path,
                format!("{set}\\Services\\{name}"),
                Observed::Service {
                    name: name.clone(),
                    image_path: image_path.clone(),
                },
            ),
        );
        out.event(
            volume,
            &written,
            "Service Key Last Written",
            format!("service {name}: {image_path}"),
            "services",
            &system.path,
            format!("{set}\\Services\\{name}"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(start_name(3), "manual");
        assert_eq!(type_name(0x10), "own_process");
        assert_eq!(type_name(0x110), "own_process|interactive");
        assert_eq!(type_name(0x400), "0x400");
    }
}
