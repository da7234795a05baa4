//! Runs libscca's `sccainfo` (Debian package libscca-utils) on a file and reads back
//! the fields it prints, as strings in sccainfo's own formats, so our values are
//! compared after being rendered the way sccainfo renders them.

use std::path::Path;
use std::process::Command;

use prefetch::Filetime;

/// What sccainfo printed for one file.
#[derive(Debug, Default)]
pub struct SccaInfo {
    pub version: u32,
    pub hash: u32,
    pub executable: String,
    pub run_count: u32,
    /// Set last-run times in print order, e.g. `Oct 16, 2022 02:17:45.042563500 UTC`.
    pub last_run_times: Vec<String>,
    pub filenames: Vec<String>,
    pub volumes: Vec<SccaVolume>,
}

/// One `Volume: N information:` block.
#[derive(Debug, Default)]
pub struct SccaVolume {
    pub device_path: String,
    pub created: String,
    pub serial: u32,
}

/// sccainfo's output for `path`, or `Err(stderr)` when it cannot read the file
/// (it has no support for version 31). Panics if sccainfo is not installed.
pub fn run(path: &Path) -> Result<SccaInfo, String> {
    let output = Command::new("sccainfo")
        .arg(path)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run sccainfo ({e}); install it with: apt-get install -y libscca-utils")
        });
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    Ok(parse(&String::from_utf8_lossy(&output.stdout)))
}

fn parse(text: &str) -> SccaInfo {
    let mut info = SccaInfo::default();
    for line in text.lines() {
        let Some((key, value)) = line.trim_start().split_once("\t: ") else {
            continue;
        };
        let key = key.trim_end();
        match key {
            "Format version" => info.version = value.parse().expect("version"),
            "Prefetch hash" => info.hash = hex(value),
            "Executable filename" => info.executable = value.to_string(),
            "Run count" => info.run_count = value.parse().expect("run count"),
            "Device path" => info.volumes.push(SccaVolume {
                device_path: value.to_string(),
                ..SccaVolume::default()
            }),
            "Creation time" => last_volume(&mut info).created = value.to_string(),
            "Serial number" => last_volume(&mut info).serial = hex(value),
            _ if key.starts_with("Last run time") && !value.starts_with("Not set") => {
                info.last_run_times.push(value.to_string());
            }
            _ if key.starts_with("Filename:") => info.filenames.push(value.to_string()),
            _ => {}
        }
    }
    info
}

fn last_volume(info: &mut SccaInfo) -> &mut SccaVolume {
    info.volumes
        .last_mut()
        .expect("volume field before Device path")
}

fn hex(value: &str) -> u32 {
    u32::from_str_radix(value.trim_start_matches("0x"), 16).expect("hex value")
}

/// A FILETIME the way sccainfo (libfdatetime) prints it: `Mon DD, YYYY
/// HH:MM:SS.nnnnnnnnn UTC`, 100 ns precision padded to nanoseconds.
pub fn format_time(ft: Filetime) -> String {
    match ft.to_timestamp() {
        None => "Not set (0)".to_string(),
        Some(ts) => format!(
            "{}.{:09} UTC",
            ts.strftime("%b %d, %Y %H:%M:%S"),
            (ft.raw() % 10_000_000) * 100
        ),
    }
}

/// Differences between our parse and sccainfo's, one line each.
pub fn differences(ours: &prefetch::Prefetch, theirs: &SccaInfo) -> Vec<String> {
    let mut diffs = Vec::new();
    let mut check = |what: &str, a: String, b: String| {
        if a != b {
            diffs.push(format!("{what}: ours {a:?} sccainfo {b:?}"));
        }
    };
    check(
        "version",
        ours.version.to_string(),
        theirs.version.to_string(),
    );
    check(
        "hash",
        format!("{:08x}", ours.hash),
        format!("{:08x}", theirs.hash),
    );
    check(
        "executable",
        ours.executable.clone(),
        theirs.executable.clone(),
    );
    check(
        "run count",
        ours.run_count.to_string(),
        theirs.run_count.to_string(),
    );
    // Both keep file order; compared as multisets, since sccainfo skips no slot.
    let mut times: Vec<String> = ours
        .last_run_times
        .iter()
        .map(|t| format_time(*t))
        .collect();
    let mut their_times = theirs.last_run_times.clone();
    times.sort();
    their_times.sort();
    check(
        "last run times",
        format!("{times:?}"),
        format!("{their_times:?}"),
    );
    check(
        "filenames",
        format!("{:?}", ours.files),
        format!("{:?}", theirs.filenames),
    );
    let volumes: Vec<String> = ours
        .volumes
        .iter()
        .map(|v| {
            format!(
                "{} {} {:08x}",
                v.device_path,
                format_time(v.created),
                v.serial
            )
        })
        .collect();
    let their_volumes: Vec<String> = theirs
        .volumes
        .iter()
        .map(|v| format!("{} {} {:08x}", v.device_path, v.created, v.serial))
        .collect();
    check(
        "volumes",
        format!("{volumes:?}"),
        format!("{their_volumes:?}"),
    );
    diffs
}
