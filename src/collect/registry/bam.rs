//! bam.csv: the Background Activity Moderator's per-user record of executables
//! (Windows 10 1709+), `SYSTEM\ControlSet*\Services\bam\State\UserSettings\<SID>`
//! (1809+) or `...\Services\bam\UserSettings\<SID>` (before), and the same under
//! `dam` (Desktop Activity Moderator). Each value is a path (a `\Device\...` path or
//! a packaged app name) whose binary data starts with the FILETIME of the program's
//! last execution; `Version` and `SequenceNumber` are bookkeeping values. Every
//! control set is read, so the `control_set` column tells old sets apart.

use filetime::Filetime;

use super::load::{HiveKind, Hives};
use super::reader::Reader;
use crate::collect::rows::observation;
use crate::pipeline::Sinks;
use crate::traces::matcher::{ExecutionArtifact, Observed};

const SETTINGS: [&str; 4] = [
    "Services\\bam\\State\\UserSettings",
    "Services\\bam\\UserSettings",
    "Services\\dam\\State\\UserSettings",
    "Services\\dam\\UserSettings",
];
const BOOKKEEPING: [&str; 2] = ["Version", "SequenceNumber"];

/// Writes every BAM/DAM entry of the volume's SYSTEM hive.
pub fn collect(out: &Sinks<'_>, volume: &str, hives: &Hives) {
    let Some(system) = hives.first(HiveKind::System) else {
        return;
    };
    let read = Reader::new(out, volume, &system.path);
    let Some(root) = read.root(&system.hive) else {
        return;
    };
    for set in read.subkeys(&root) {
        let set_name = set.name();
        if !set_name.to_ascii_lowercase().starts_with("controlset") {
            continue;
        }
        for settings in SETTINGS {
            let Some(users) = read.open(&system.hive, &format!("{set_name}\\{settings}")) else {
                continue;
            };
            let service = settings.split('\\').nth(1).unwrap_or_default();
            for user in read.subkeys(&users) {
                let sid = user.name();
                for value in read.values(&user) {
                    let name = value.name();
                    if BOOKKEEPING.iter().any(|b| b.eq_ignore_ascii_case(&name)) {
                        continue;
                    }
                    // Unreadable data is reported by `raw`; data too short for
                    // the time every entry starts with is damage, said so too.
                    let Some(data) = read.raw(&user, &value) else {
                        continue;
                    };
                    let locator = || format!("{set_name}\\{settings}\\{sid} value {name}");
                    let Some(time) = Filetime::from_le_slice(&data) else {
                        read.report(
                            &locator(),
                            &format_args!("{} bytes of data, too short for a time", data.len()),
                        );
                        continue;
                    };
                    // The path is still evidence: the row stays, its time empty.
                    if let Some(problem) = not_a_date(time) {
                        read.report(&locator(), &problem);
                    }
                    let when = time.to_string();
                    out.row(
                        "bam",
                        volume,
                        vec![
                            system.path.clone(),
                            set_name.clone(),
                            service.to_string(),
                            sid.clone(),
                            name.clone(),
                            when.clone(),
                        ],
                    );
                    out.observe(
                        volume,
                        observation(
                            &when,
                            "bam",
                            &system.path,
                            format!("{set_name} {service} {sid} {name}"),
                            Observed::Execution {
                                artifact: ExecutionArtifact::Bam,
                                path: name.clone(),
                                original_name: None,
                            },
                        ),
                    );
                    out.event(
                        volume,
                        &when,
                        "Last Execution (BAM)",
                        format!("{name} ran as {sid}"),
                        "bam",
                        &system.path,
                        format!("{set_name} {service} {sid}"),
                    );
                }
            }
        }
    }
}

/// Why a set time cannot be a date (beyond the year 9999, as 0xFFFF... and
/// 0x7FFF... are): its cell would otherwise be empty, which reads as "never".
fn not_a_date(time: Filetime) -> Option<String> {
    (!time.is_zero() && time.to_timestamp().is_none())
        .then(|| format!("last execution time {:#x} is not a date", time.raw()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_beyond_the_calendar_is_named() {
        assert_eq!(not_a_date(Filetime(0)), None);
        assert_eq!(not_a_date(Filetime(0x01D8_3591_0000_0000)), None);
        assert_eq!(
            not_a_date(Filetime(u64::MAX)).as_deref(),
            Some("last execution time 0xffffffffffffffff is not a date")
        );
        assert!(not_a_date(Filetime(0x7FFF_FFFF_FFFF_FFFF)).is_some());
    }
}
