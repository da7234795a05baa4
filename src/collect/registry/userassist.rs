//! userassist.csv: Explorer's per-user launch counts,
//! `NTUSER\Software\Microsoft\Windows\CurrentVersion\Explorer\UserAssist\{GUID}\Count`.
//!
//! Value names are ROT13-encoded paths (letters rotated by 13, everything else kept;
//! Windows 7+ paths may start with a known-folder GUID). The data layout depends on
//! the version (Didier Stevens' UserAssist research; libyal winreg-kb):
//! - Windows 7 and later, 72 bytes: session u32 @0, run count u32 @4, focus count
//!   u32 @8, focus time in ms u32 @12, ten f32 usage scores, last run FILETIME @60,
//!   u32 @68.
//! - Windows XP/2003, 16 bytes: session u32 @0, run count u32 @4 (XP starts counting
//!   at 5, so 5 is subtracted), last run FILETIME @8.
//!
//! Values of other sizes (the `UEME_CTLSESSION` bookkeeping) are not entries.

use filetime::Filetime;

use super::load::{HiveKind, Hives};
use super::reader::Reader;
use crate::collect::rows::observation;
use crate::pipeline::Sinks;
use crate::traces::matcher::{ExecutionArtifact, Observed};

const USERASSIST: &str = "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\UserAssist";
const WIN7_SIZE: usize = 72;
const XP_SIZE: usize = 16;
/// XP counts runs from 5.
const XP_RUN_COUNT_BASE: u32 = 5;

/// One decoded entry.
struct Entry {
    run_count: u32,
    focus_count: Option<u32>,
    focus_ms: Option<u32>,
    last_run: Filetime,
    layout: &'static str,
}

/// Decodes ROT13: ASCII letters rotate by 13, everything else is kept.
pub fn rot13(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'a'..='m' | 'A'..='M' => (c as u8 + 13) as char,
            'n'..='z' | 'N'..='Z' => (c as u8 - 13) as char,
            _ => c,
        })
        .collect()
}

fn u32_at(data: &[u8], offset: usize) -> Option<u32> {
    let bytes: [u8; 4] = data.get(offset..offset.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(bytes))
}

fn decode(data: &[u8]) -> Option<Entry> {
    match data.len() {
        WIN7_SIZE => Some(Entry {
            run_count: u32_at(data, 4)?,
            focus_count: Some(u32_at(data, 8)?),
            focus_ms: Some(u32_at(data, 12)?),
            last_run: Filetime::from_le_slice(data.get(60..)?)?,
            layout: "win7",
        }),
        XP_SIZE => Some(Entry {
            run_count: u32_at(data, 4)?.saturating_sub(XP_RUN_COUNT_BASE),
            focus_count: None,
            focus_ms: None,
            last_run: Filetime::from_le_slice(data.get(8..)?)?,
            layout: "xp",
        }),
        _ => None,
    }
}

/// Writes every UserAssist entry of every NTUSER.DAT.
pub fn collect(out: &Sinks<'_>, volume: &str, hives: &Hives) {
    for ntuser in hives.all(HiveKind::Ntuser) {
        let read = Reader::new(out, volume, &ntuser.path);
        let Some(root) = read.open(&ntuser.hive, USERASSIST) else {
            continue;
        };
        for guid in read.subkeys(&root) {
            let Some(count) = read.subkey(&guid, "Count") else {
                continue;
            };
            let guid_name = guid.name();
            for value in read.values(&count) {
                // Values of other sizes are not UserAssist entries (e.g. UEME_CTLSESSION).
                let Some(entry) = read.raw(&count, &value).and_then(|d| decode(&d)) else {
                    continue;
                };
                let raw_name = value.name();
                let name = rot13(&raw_name);
                let last_run = entry.last_run.to_string();
                let opt = |v: Option<u32>| v.map(|n| n.to_string()).unwrap_or_default();
                out.row(
                    "userassist",
                    volume,
                    vec![
                        ntuser.path.clone(),
                        ntuser.user.clone(),
                        guid_name.clone(),
                        name.clone(),
                        raw_name,
                        entry.run_count.to_string(),
                        opt(entry.focus_count),
                        opt(entry.focus_ms),
                        last_run.clone(),
                        entry.layout.to_string(),
                    ],
                );
                out.observe(
                    volume,
                    observation(
                        &last_run,
                        "userassist",
                        &ntuser.path,
                        format!("{guid_name} {name}"),
                        Observed::Execution {
                            artifact: ExecutionArtifact::Userassist,
                            path: name.clone(),
                            original_name: None,
                        },
                    ),
                );
                out.event(
                    volume,
                    &last_run,
                    "Last Run (UserAssist)",
                    format!(
                        "{name} run by {} (run count {})",
                        ntuser.user, entry.run_count
                    ),
                    "userassist",
                    &ntuser.path,
                    format!("{guid_name} {name}"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rot13_keeps_non_letters() {
        assert_eq!(rot13("P:\\Gbbyf\\CfRkrp.rkr"), "C:\\Tools\\PsExec.exe");
        assert_eq!(rot13("{1NP14R77-02R7}"), "{1AC14E77-02E7}");
    }

    #[test]
    fn layouts_by_size() {
        let mut win7 = vec![0u8; WIN7_SIZE];
        win7[4] = 3;
        win7[8] = 2;
        win7[12..16].copy_from_slice(&4000u32.to_le_bytes());
        win7[60..68].copy_from_slice(&0x01D8_3591_0000_0000u64.to_le_bytes());
        let e = decode(&win7).unwrap();
        assert_eq!(
            (e.run_count, e.focus_count, e.focus_ms),
            (3, Some(2), Some(4000))
        );
        assert_eq!(e.last_run.raw(), 0x01D8_3591_0000_0000);
        let mut xp = vec![0u8; XP_SIZE];
        xp[4] = 7;
        assert_eq!(decode(&xp).unwrap().run_count, 2);
        assert!(decode(&[0u8; 8]).is_none());
    }
}
