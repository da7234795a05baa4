//! Replaying transaction logs into a dirty primary hive, producing the bytes Windows
//! would have after loading it. Which log applies follows Suhanov's specification
//! ("Dirty state of a hive", "Multiple transaction log files"): a new-format pair is
//! replayed entry by entry from the primary's secondary sequence number on, as one
//! chain of consecutive sequence numbers across both logs; for old-format
//! logs, the first log whose base block is complete and matches the primary's
//! last-written time is applied. A dirty hive whose logs are missing or unusable is
//! returned unchanged, with the reason in the report: a partial hive is still
//! evidence.

mod marvin;
mod new_log;
mod old_log;

use crate::base_block::{
    put_u32, reseal, BaseBlock, BASE_BLOCK_SIZE, OFF_FILE_TYPE, OFF_FLAGS, OFF_HBINS_SIZE,
    OFF_PRIMARY_SEQ, OFF_SECONDARY_SEQ,
};
use crate::bytes::{require_len, View};
use crate::error::Result;
use filetime::Filetime;

/// Where a replayed log came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFile {
    /// The `.LOG1` file (or a single `.LOG`).
    Log1,
    /// The `.LOG2` file.
    Log2,
}

/// The transaction log format that was replayed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Dirty vector + dirty pages (`DIRT`), Windows XP to 8.
    Old,
    /// `HvLE` log entries, Windows 8.1 and later.
    New,
}

/// What [`recover`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// The primary's base block said it was dirty (or its checksum was wrong).
    pub was_dirty: bool,
    /// The log format replayed, if any log was applied.
    pub format: Option<LogFormat>,
    /// The logs whose contents were written, in order of first use.
    pub logs_applied: Vec<LogFile>,
    /// New format: log entries applied. Old format: 512-byte dirty pages written.
    pub entries_applied: usize,
    /// Why a log (or part of one) was not used; empty for a clean replay.
    pub problems: Vec<String>,
}

/// The recovered hive file and how it was obtained.
#[derive(Clone, Debug)]
pub struct Recovered {
    /// The hive file after replay (the primary unchanged if nothing could be applied).
    /// After a replay its base block is clean: equal sequence numbers, file type 0,
    /// checksum recomputed.
    pub bytes: Vec<u8>,
    /// What happened.
    pub report: RecoveryReport,
}

/// The hive being rebuilt, growable only up to a cap derived from the input sizes.
pub(crate) struct Replay {
    bytes: Vec<u8>,
    cap: usize,
}

impl Replay {
    fn grow_to_hive_bins(&mut self, hive_bins_data_size: u32) -> std::result::Result<(), String> {
        let wanted = BASE_BLOCK_SIZE.saturating_add(hive_bins_data_size as usize);
        if wanted > self.cap {
            return Err(format!(
                "log claims {hive_bins_data_size} bytes of hive bins, more than the primary and logs together hold"
            ));
        }
        if wanted > self.bytes.len() {
            self.bytes.resize(wanted, 0);
        }
        Ok(())
    }

    /// Copies `data` to absolute file offset `pos`, which must already exist.
    pub(crate) fn write(&mut self, pos: usize, data: &[u8]) -> std::result::Result<(), String> {
        pos.checked_add(data.len())
            .and_then(|end| self.bytes.get_mut(pos..end))
            .map(|dst| dst.copy_from_slice(data))
            .ok_or_else(|| {
                format!(
                    "page at file offset {pos:#x} (+{}) is outside the hive",
                    data.len()
                )
            })
    }
}

/// Replays `log1`/`log2` into `primary` if it is dirty. Fails only when the primary
/// has no usable base block signature at all; every other problem is reported in
/// [`RecoveryReport::problems`] and the best available bytes are returned.
pub fn recover(primary: &[u8], log1: Option<&[u8]>, log2: Option<&[u8]>) -> Result<Recovered> {
    let base = BaseBlock::parse(primary)?;
    require_len(primary, BASE_BLOCK_SIZE, "primary hive")?;
    let mut report = RecoveryReport::default();
    let unchanged = |report| Recovered {
        bytes: primary.to_vec(),
        report,
    };
    if !base.is_dirty() {
        return Ok(unchanged(report));
    }
    report.was_dirty = true;

    let mut new_logs = Vec::new();
    let mut old_logs = Vec::new();
    for (which, log) in [(LogFile::Log1, log1), (LogFile::Log2, log2)] {
        // Windows leaves an unused log empty; that is no problem worth reporting.
        let Some(log) = log.filter(|l| !l.is_empty()) else {
            continue;
        };
        match BaseBlock::parse(log) {
            Ok(lb) if lb.file_type == 6 => new_logs.push((which, log, lb)),
            Ok(lb) if lb.file_type == 1 || lb.file_type == 2 => old_logs.push((which, log, lb)),
            Ok(lb) => report.problems.push(format!(
                "{which:?}: unexpected file type {} in log base block",
                lb.file_type
            )),
            Err(e) => report.problems.push(format!("{which:?}: {e}")),
        }
    }
    let cap = [Some(primary), log1, log2]
        .iter()
        .flatten()
        .map(|b| b.len())
        .fold(BASE_BLOCK_SIZE, usize::saturating_add);
    let mut replay = Replay {
        bytes: primary.to_vec(),
        cap,
    };
    let outcome = if !new_logs.is_empty() {
        replay_new(&base, &new_logs, &mut replay, &mut report)
    } else if !old_logs.is_empty() {
        replay_old(&base, primary, &old_logs, &mut replay, &mut report)
    } else {
        Err("hive is dirty but no usable transaction log was given".to_string())
    };
    match outcome {
        Ok(()) => {
            reseal(&mut replay.bytes);
            Ok(Recovered {
                bytes: replay.bytes,
                report,
            })
        }
        Err(why) => {
            report.problems.push(why);
            report.format = None;
            report.logs_applied.clear();
            report.entries_applied = 0;
            Ok(unchanged(report))
        }
    }
}

fn replay_new(
    base: &BaseBlock,
    logs: &[(LogFile, &[u8], BaseBlock)],
    replay: &mut Replay,
    report: &mut RecoveryReport,
) -> std::result::Result<(), String> {
    let mut start = base.secondary_sequence;
    if !base.checksum_ok {
        // The primary's base block is unusable: take the log's copy (first sector).
        let (which, log, lb) = logs
            .iter()
            .find(|(_, _, lb)| lb.checksum_ok)
            .ok_or("primary base block is damaged and no log has a valid copy")?;
        let sector = log.get(..512).ok_or("log base block truncated")?;
        replay.write(0, sector)?;
        report.problems.push(format!(
            "primary base block checksum wrong; restored from {which:?}"
        ));
        start = lb.secondary_sequence;
    }
    // Entries older than the primary's secondary sequence number were already
    // written to it. The rest form one chain: the log holding the lowest remaining
    // number goes first, each entry must continue the previous one, and the other log
    // may continue the chain. The chain may start above the secondary number: after
    // a "partial reconcile" Windows rotated the logs twice and wrote the missing
    // entries to the primary without updating its base block (Suhanov, "Missing log
    // entries for a dirty primary file"), so starting late is right, not damage.
    let mut chains = Vec::new();
    for (which, log, lb) in logs {
        if !lb.checksum_ok {
            report
                .problems
                .push(format!("{which:?}: log base block checksum is wrong"));
            continue;
        }
        let (found, stop) = new_log::entries(log, *which);
        report.problems.extend(stop);
        let current: Vec<_> = found.into_iter().filter(|e| e.sequence >= start).collect();
        if !current.is_empty() {
            chains.push(current);
        }
    }
    chains.sort_by_key(|c| c.first().map(|e| e.sequence));
    let mut last: Option<(u32, u32, u32)> = None;
    'logs: for chain in &chains {
        for entry in chain {
            match last {
                None if entry.sequence != start => report.problems.push(format!(
                    "log entries {start}..{} are missing (partial reconcile); replay starts at {}",
                    entry.sequence - 1,
                    entry.sequence
                )),
                Some((prev, _, _)) if Some(entry.sequence) != prev.checked_add(1) => {
                    report.problems.push(format!(
                        "{:?}: entry {} is not the successor of {prev} (stale or missing); replay ends there",
                        entry.log, entry.sequence
                    ));
                    break 'logs;
                }
                _ => {}
            }
            replay.grow_to_hive_bins(entry.hive_bins_data_size)?;
            for (offset, data) in &entry.pages {
                if offset.saturating_add(data.len()) > entry.hive_bins_data_size as usize {
                    return Err(format!(
                        "{:?}: entry {} writes past its hive bins data size",
                        entry.log, entry.sequence
                    ));
                }
                replay.write(BASE_BLOCK_SIZE.saturating_add(*offset), data)?;
            }
            if !report.logs_applied.contains(&entry.log) {
                report.logs_applied.push(entry.log);
            }
            report.entries_applied += 1;
            last = Some((entry.sequence, entry.flags, entry.hive_bins_data_size));
        }
    }
    let (sequence, flags, size) =
        last.ok_or_else(|| format!("no log entry has a sequence number of {start} or more"))?;
    report.format = Some(LogFormat::New);
    let b = &mut replay.bytes;
    put_u32(b, OFF_PRIMARY_SEQ, sequence);
    put_u32(b, OFF_SECONDARY_SEQ, sequence);
    put_u32(b, OFF_FLAGS, flags);
    put_u32(b, OFF_HBINS_SIZE, size);
    put_u32(b, OFF_FILE_TYPE, 0);
    Ok(())
}

fn replay_old(
    base: &BaseBlock,
    primary: &[u8],
    logs: &[(LogFile, &[u8], BaseBlock)],
    replay: &mut Replay,
    report: &mut RecoveryReport,
) -> std::result::Result<(), String> {
    // With a damaged base block its timestamp is unverified; the spec names the first
    // hive bin's timestamp as the stand-in, but yarp's BadBaseBlockHive (whose stale
    // hive bin timestamp predates the log) shows the base block's own field must also
    // be accepted, so either matches then.
    let mut accepted = vec![base.last_written];
    if !base.checksum_ok {
        let hbin = View::new(primary, 0, "first hive bin");
        accepted.push(Filetime::from_raw(
            hbin.u64(BASE_BLOCK_SIZE + 20).map_err(|e| e.to_string())?,
        ));
    }
    for (which, log, lb) in logs {
        if let Err(why) = old_log::check(log, lb, &accepted) {
            report.problems.push(format!("{which:?}: {why}"));
            continue;
        }
        replay.grow_to_hive_bins(lb.hive_bins_data_size)?;
        let pages = old_log::apply(log, lb, *which, replay)?;
        // The log's base block copy is newer than the primary's: take it.
        let sector = log.get(..512).ok_or("log base block truncated")?;
        replay.write(0, sector)?;
        put_u32(&mut replay.bytes, OFF_FILE_TYPE, 0);
        report.format = Some(LogFormat::Old);
        report.logs_applied.push(*which);
        report.entries_applied = pages;
        return Ok(());
    }
    Err("no old-format log is applicable to this primary".into())
}
