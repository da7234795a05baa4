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
    /// Data the replay lost to damage although it went on: a log entry that would
    /// have continued the replayed chain but is damaged (the replay stops before
    /// it), a log that belongs to another hive. Unlike most of `problems` (stale
    /// entries, a partial reconcile: normal on a live system) these are damage to
    /// report. Each is also in `problems`.
    pub damage: Vec<String>,
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
    recover_owned(primary.to_vec(), log1, log2)
}

/// [`recover`] taking the primary by value: the logs are replayed into it in
/// place, so the hive is held once (a copy would double the memory a large hive
/// takes). Every log entry is checked before a byte of the primary is written, so
/// a replay that fails returns the primary as given.
pub fn recover_owned(
    primary: Vec<u8>,
    log1: Option<&[u8]>,
    log2: Option<&[u8]>,
) -> Result<Recovered> {
    let base = BaseBlock::parse(&primary)?;
    require_len(&primary, BASE_BLOCK_SIZE, "primary hive")?;
    let mut report = RecoveryReport::default();
    if !base.is_dirty() {
        return Ok(Recovered {
            bytes: primary,
            report,
        });
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
            Ok(lb) if names_another_hive(&base, &lb) => {
                let why = format!(
                    "{which:?}: its base block names hive {:?}, this hive is {:?}: a log of another hive, not used",
                    lb.file_name, base.file_name
                );
                report.problems.push(why.clone());
                report.damage.push(why);
            }
            Ok(lb) if lb.file_type == 6 => new_logs.push((which, log, lb)),
            Ok(lb) if lb.file_type == 1 || lb.file_type == 2 => old_logs.push((which, log, lb)),
            Ok(lb) => report.problems.push(format!(
                "{which:?}: unexpected file type {} in log base block",
                lb.file_type
            )),
            Err(e) => report.problems.push(format!("{which:?}: {e}")),
        }
    }
    let cap = [log1, log2].iter().flatten().map(|b| b.len()).fold(
        BASE_BLOCK_SIZE.saturating_add(primary.len()),
        usize::saturating_add,
    );
    let mut replay = Replay {
        bytes: primary,
        cap,
    };
    let outcome = if !new_logs.is_empty() {
        replay_new(&base, &new_logs, &mut replay, &mut report)
    } else if !old_logs.is_empty() {
        replay_old(&base, &old_logs, &mut replay, &mut report)
    } else {
        Err("hive is dirty but no usable transaction log was given".to_string())
    };
    match outcome {
        Ok(()) => reseal(&mut replay.bytes),
        Err(why) => {
            // Nothing was written (every check comes before the first write).
            report.problems.push(why);
            report.format = None;
            report.logs_applied.clear();
            report.entries_applied = 0;
        }
    }
    Ok(Recovered {
        bytes: replay.bytes,
        report,
    })
}

/// True when a log's base block and the primary's, both intact, name different
/// hive files: the log was written for another hive (a copy put beside the wrong
/// primary) and applying it would write foreign pages.
fn names_another_hive(primary: &BaseBlock, log: &BaseBlock) -> bool {
    primary.checksum_ok
        && log.checksum_ok
        && !primary.file_name.is_empty()
        && !log.file_name.is_empty()
        && !primary.file_name.eq_ignore_ascii_case(&log.file_name)
}

fn replay_new(
    base: &BaseBlock,
    logs: &[(LogFile, &[u8], BaseBlock)],
    replay: &mut Replay,
    report: &mut RecoveryReport,
) -> std::result::Result<(), String> {
    let mut start = base.secondary_sequence;
    let mut restore = None;
    if !base.checksum_ok {
        // The primary's base block is unusable: take the log's copy (first sector).
        let (which, log, lb) = logs
            .iter()
            .find(|(_, _, lb)| lb.checksum_ok)
            .ok_or("primary base block is damaged and no log has a valid copy")?;
        restore = Some(log.get(..512).ok_or("log base block truncated")?);
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
    let mut stops = Vec::new();
    for (which, log, lb) in logs {
        if !lb.checksum_ok {
            report
                .problems
                .push(format!("{which:?}: log base block checksum is wrong"));
            continue;
        }
        let (found, stop) = new_log::entries(log, *which);
        stops.extend(stop);
        let current: Vec<_> = found.into_iter().filter(|e| e.sequence >= start).collect();
        if !current.is_empty() {
            chains.push(current);
        }
    }
    chains.sort_by_key(|c| c.first().map(|e| e.sequence));
    let plan = chain(&chains, start, replay.cap, report);
    // A damaged entry that would have continued the chain lost its changes; one
    // that would not is a stale leftover of an earlier round.
    let next = plan.last().and_then(|e| e.sequence.checked_add(1));
    for stop in stops {
        if next.is_some() && stop.sequence == next {
            report.damage.push(format!(
                "{}; replay ends before it, at the entry before",
                stop.reason
            ));
        }
        report.problems.push(stop.reason);
    }
    let last = plan
        .last()
        .ok_or_else(|| format!("no log entry has a sequence number of {start} or more"))?;
    let (sequence, flags, size) = (last.sequence, last.flags, last.hive_bins_data_size);
    // Every entry in the plan was checked: from here on nothing fails.
    if let Some(sector) = restore {
        replay.write(0, sector)?;
    }
    for entry in &plan {
        replay.grow_to_hive_bins(entry.hive_bins_data_size)?;
        for (offset, data) in &entry.pages {
            replay.write(BASE_BLOCK_SIZE.saturating_add(*offset), data)?;
        }
        if !report.logs_applied.contains(&entry.log) {
            report.logs_applied.push(entry.log);
        }
        report.entries_applied += 1;
    }
    report.format = Some(LogFormat::New);
    let b = &mut replay.bytes;
    put_u32(b, OFF_PRIMARY_SEQ, sequence);
    put_u32(b, OFF_SECONDARY_SEQ, sequence);
    put_u32(b, OFF_FLAGS, flags);
    put_u32(b, OFF_HBINS_SIZE, size);
    put_u32(b, OFF_FILE_TYPE, 0);
    Ok(())
}

/// The entries to apply, in order: the chain of consecutive sequence numbers from
/// `start` (or the first later one) up to the first entry that does not continue it
/// or cannot be applied (its hive bins larger than the inputs can back, or a page
/// outside them). That entry and the rest are left out, so damage costs only the
/// entries from it on; a left-out entry that continued the chain is damage.
fn chain<'c, 'a>(
    chains: &'c [Vec<new_log::Entry<'a>>],
    start: u32,
    cap: usize,
    report: &mut RecoveryReport,
) -> Vec<&'c new_log::Entry<'a>> {
    let mut plan: Vec<&new_log::Entry<'a>> = Vec::new();
    for entry in chains.iter().flatten() {
        match plan.last() {
            None if entry.sequence != start => report.problems.push(format!(
                "log entries {start}..{} are missing (partial reconcile); replay starts at {}",
                entry.sequence - 1,
                entry.sequence
            )),
            Some(prev) if Some(entry.sequence) != prev.sequence.checked_add(1) => {
                report.problems.push(format!(
                    "{:?}: entry {} is not the successor of {} (stale or missing); replay ends there",
                    entry.log, entry.sequence, prev.sequence
                ));
                return plan;
            }
            _ => {}
        }
        if let Err(why) = applicable(entry, cap) {
            let why = format!(
                "{:?}: entry {} {why}; replay ends before it",
                entry.log, entry.sequence
            );
            report.problems.push(why.clone());
            report.damage.push(why);
            return plan;
        }
        plan.push(entry);
    }
    plan
}

/// Why `entry` cannot be applied to a hive that may grow to `cap` bytes, if so.
fn applicable(entry: &new_log::Entry<'_>, cap: usize) -> std::result::Result<(), String> {
    let size = entry.hive_bins_data_size;
    if BASE_BLOCK_SIZE.saturating_add(size as usize) > cap {
        return Err(format!(
            "claims {size} bytes of hive bins, more than the primary and logs together hold"
        ));
    }
    for (offset, data) in &entry.pages {
        if offset.saturating_add(data.len()) > size as usize {
            return Err(format!(
                "writes a page at {offset:#x} (+{}) past its hive bins data size {size}",
                data.len()
            ));
        }
    }
    Ok(())
}

fn replay_old(
    base: &BaseBlock,
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
        let hbin = View::new(&replay.bytes, 0, "first hive bin");
        accepted.push(Filetime::from_raw(
            hbin.u64(BASE_BLOCK_SIZE + 20).map_err(|e| e.to_string())?,
        ));
    }
    for (which, log, lb) in logs {
        if let Err(why) = old_log::check(log, lb, &accepted) {
            report.problems.push(format!("{which:?}: {why}"));
            continue;
        }
        // Every page is found before the first is written.
        let pages = old_log::pages(log, lb, *which)?;
        let sector = log.get(..512).ok_or("log base block truncated")?;
        replay.grow_to_hive_bins(lb.hive_bins_data_size)?;
        for (pos, page) in &pages {
            replay.write(*pos, page)?;
        }
        // The log's base block copy is newer than the primary's: take it.
        replay.write(0, sector)?;
        put_u32(&mut replay.bytes, OFF_FILE_TYPE, 0);
        report.format = Some(LogFormat::Old);
        report.logs_applied.push(*which);
        report.entries_applied = pages.len();
        return Ok(());
    }
    Err("no old-format log is applicable to this primary".into())
}
