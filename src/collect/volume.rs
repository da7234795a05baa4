//! One Windows volume: which artifact files to read, in parallel, and which
//! collector reads each. Every record goes to the image's [`Sinks`].

use crate::output::Stage;
use std::sync::Arc;

use super::carve::{self, CarveStats, LiveRecords, Recovery};
use super::evtx::{read_log, LogStats};
use super::lost;
use super::mft::{directory_map, walk, DirectoryMap};
use super::registry::{self, Hives};
use super::rows;
use super::source::{join, Source};
use super::CollectError;
use crate::evidence::{Holes, ReadAt, ReadSeekAdapter, Window};
use crate::pipeline::{Progress, ScanOptions, Sinks};

/// Largest Prefetch file read (real ones are under 1 MiB).
const MAX_PREFETCH_BYTES: u64 = 16 << 20;
/// What an unreadable part of the change journal costs at least: USN records
/// never cross a 4 KiB page.
const USN_BLOCK: u64 = 4096;

/// One Windows volume to collect from, with its label for the `volume` column and
/// its registry hives (read before the output exists, for the host name).
pub struct Target {
    /// Label written in the `volume` column (`volume@snapshot` for a shadow copy).
    pub label: String,
    /// The shadow copy this target reads, `None` for a live volume.
    pub snapshot: Option<crate::disk::shadow::SnapshotInfo>,
    /// Where its files are read from.
    pub source: Source,
    /// Its registry hives, logs replayed.
    pub hives: Hives,
    /// Why no pass may read the whole volume (carving its free clusters): the
    /// container presents far more than its files store (see
    /// `ReadAt::unbacked_problem`); `None` for ordinary evidence.
    pub unbacked: Option<String>,
}

/// One unit of parallel work inside a volume.
enum Job {
    EventLog(String),
    Prefetch(String),
    FileSystem,
    Registry,
    Amcache,
}

/// Collects every artifact of one volume; returns the carving pass's figures when
/// its unallocated clusters were carved. `snapshots_follow`: shadow copies of the
/// image are collected after the live volumes, so live records must be remembered.
pub fn collect_volume(
    target: &Target,
    out: &Sinks<'_>,
    options: &ScanOptions,
    live: &LiveRecords,
    snapshots_follow: bool,
    progress: &Progress<'_>,
) -> Option<CarveStats> {
    let mut jobs = Vec::new();
    let list = |dir: &str, ext: &str| -> Vec<String> {
        match target.source.list(dir) {
            Ok(listing) => {
                // A damaged index may hide some of the files: say so.
                for problem in &listing.problems {
                    out.error(&target.label, dir, Stage::List, problem);
                }
                listing
                    .items
                    .into_iter()
                    .filter(|i| !i.is_dir && i.name.to_ascii_lowercase().ends_with(ext))
                    .map(|i| join(dir, &i.name))
                    .collect()
            }
            Err(e) => {
                if !e.absent {
                    out.error(&target.label, dir, Stage::List, &e.message);
                }
                Vec::new()
            }
        }
    };
    if options.artifacts.evtx {
        for folder in target.source.event_log_folders() {
            jobs.extend(list(folder, ".evtx").into_iter().map(Job::EventLog));
        }
    }
    if options.artifacts.prefetch {
        jobs.extend(
            list("Windows/Prefetch", ".pf")
                .into_iter()
                .map(Job::Prefetch),
        );
    }
    if options.artifacts.mft || options.artifacts.usn {
        jobs.push(Job::FileSystem);
    }
    if options.artifacts.registry || options.artifacts.shimcache {
        jobs.push(Job::Registry);
    }
    if options.artifacts.amcache {
        jobs.push(Job::Amcache);
    }
    // Largest units first keeps both cores busy to the end.
    jobs.sort_by_key(|j| match j {
        Job::FileSystem => 0,
        Job::Registry | Job::Amcache => 1,
        Job::EventLog(_) => 2,
        Job::Prefetch(_) => 3,
    });
    // Live records are remembered when something will be checked against them:
    // carved records, and the records of shadow copies.
    let remember = options.artifacts.carve || options.carve_all || snapshots_follow;
    // Every live record of this volume's logs, for the records their chunks'
    // unused space repeats; and the logs read, whose unused space comes after.
    let read_here = LiveRecords::by_identity();
    let logs_read = std::sync::Mutex::new(Vec::new());
    let logs = Logs {
        live,
        remember,
        read_here: &read_here,
        read: &logs_read,
    };
    let done = std::sync::atomic::AtomicUsize::new(0);
    out.in_order(jobs.len(), &|i| {
        run_job(&jobs[i], target, out, options, &logs);
        let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        progress(format!(
            "volume {}: {n}/{} artifact files",
            target.label,
            jobs.len()
        ));
    });
    let mut logs_read = logs_read.into_inner().unwrap_or_else(|p| p.into_inner());
    // In the order the logs were listed, not the order they were read in.
    logs_read.sort_by(|a, b| a.0.cmp(&b.0));
    if !logs_read.is_empty() {
        progress(format!(
            "volume {}: records in the unused space of {} logs",
            target.label,
            logs_read.len()
        ));
    }
    out.in_order(logs_read.len(), &|i| {
        let (path, read) = &logs_read[i];
        unused_space(target, out, path, read, vec![&read_here, live]);
    });
    // A snapshot's free clusters are, but for what it copied, the live volume's:
    // carving them again would repeat the live volume's carved rows.
    if options.artifacts.carve && !options.carve_all && target.snapshot.is_none() {
        progress(format!(
            "volume {}: carving unallocated clusters",
            target.label
        ));
        let stats = carve_volume(target, out, live);
        if let Some(s) = &stats {
            progress(format!(
                "volume {}: carved {} MB at {:.0} MB/s, {} intact chunks",
                target.label,
                s.bytes / 1_000_000,
                s.mb_per_second,
                s.intact
            ));
        }
        return stats;
    }
    None
}

/// What reading the event logs of a volume shares.
struct Logs<'a> {
    /// Live records of every volume, for carved and shadow-copy copies.
    live: &'a LiveRecords,
    /// Whether this volume's live records go into `live`.
    remember: bool,
    /// This volume's live records, by channel, id and time.
    read_here: &'a LiveRecords,
    /// The logs whose records were read, and what the read found of their chunks
    /// (`LogStats::written_end` and `quiet`).
    read: &'a std::sync::Mutex<Vec<(String, LogStats)>>,
}

fn run_job(job: &Job, target: &Target, out: &Sinks<'_>, options: &ScanOptions, logs: &Logs<'_>) {
    match job {
        Job::EventLog(path) => event_log(target, out, path, logs),
        Job::Prefetch(path) => prefetch_file(target, out, path),
        Job::FileSystem => file_system(target, out, options),
        Job::Registry => registry::collect(
            &target.source,
            out,
            &target.label,
            &target.hives,
            registry::Tables {
                registry: options.artifacts.registry,
                shimcache: options.artifacts.shimcache,
                targets: &options.registry_targets,
            },
        ),
        Job::Amcache => registry::amcache::collect(out, &target.label, &target.hives),
    }
}

/// Deleted evidence from the volume's unallocated clusters.
fn carve_volume(target: &Target, out: &Sinks<'_>, live: &LiveRecords) -> Option<CarveStats> {
    let Source::Ntfs(volume) = &target.source else {
        return None;
    };
    if let Some(why) = &target.unbacked {
        out.error(
            &target.label,
            "(unallocated)",
            Stage::Carve,
            &format!("not carved: {why}"),
        );
        return None;
    }
    let recovery = Recovery::new(out, &target.label, "(unallocated)", live);
    let result = carve::unallocated(
        volume,
        &|data, hit| recovery.on_hit(data, hit),
        &|count, work| out.in_order(count, work),
    );
    // The pass's offsets are volume offsets.
    recovery.finish(volume.bytes().as_ref());
    match result {
        Ok(stats) => Some(stats),
        Err(e) => {
            out.error(&target.label, "$Bitmap", Stage::Carve, &e.to_string());
            None
        }
    }
}

/// Reads one event log. A live log's records are remembered (with `remember`); a
/// shadow copy's are checked against them, so only what the live logs lost counts
/// again for findings.
fn event_log(target: &Target, out: &Sinks<'_>, path: &str, logs: &Logs<'_>) {
    let volume = &target.label;
    let file = match target.source.open(path) {
        Ok(f) => f,
        Err(e) => return out.error(volume, path, Stage::Evtx, &e.message),
    };
    out.collected(volume, path, file.data.as_ref());
    // Chunks end where the data does: a stated size nothing backs is not walked.
    if let Some(note) = file.unbacked_tail() {
        out.error(volume, path, Stage::Evtx, &note);
    }
    // A 4 KiB file header, then 64 KiB chunks.
    let reader = ReadSeekAdapter::new(file.existing(4096, evtx_carve::CHUNK_SIZE as u64));
    let result = read_log(
        reader,
        1,
        &mut |record| {
            logs.read_here.insert(&record);
            if target.snapshot.is_some() {
                let copy = logs.live.contains(&record);
                return rows::snapshot_event(out, volume, path, record, copy);
            }
            if logs.remember {
                logs.live.insert(&record);
            }
            rows::event(out, volume, path, record, None)
        },
        // Written as they come (errors.csv counts and samples them): a hostile log
        // of millions of broken records must not hold them all in memory first.
        &mut |e| out.error(volume, path, Stage::EvtxRecord, &e),
    );
    match result {
        Ok(stats) => {
            if let Some(loss) = stats.cut_short(file.data.len()) {
                out.error(volume, path, Stage::Evtx, &loss);
            }
            logs.read
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((path.to_string(), stats));
        }
        Err(e) => out.error(volume, path, Stage::Evtx, &e.to_string()),
    }
}

/// The records left in the unused space of the chunks of a log already read
/// (libevtx's recovered records), once every log of the volume has been read: a
/// copy of a record any of `live` holds is marked as such. `read`: what reading
/// the log found of its chunks: where the written ones end (the chunks of zeros
/// past that are not read again) and which hold nothing in their unused space.
fn unused_space(
    target: &Target,
    out: &Sinks<'_>,
    path: &str,
    read: &LogStats,
    live: Vec<&LiveRecords>,
) {
    let volume = &target.label;
    let file = match target.source.open(path) {
        Ok(f) => f,
        Err(e) => return out.error(volume, path, Stage::Evtx, &e.message),
    };
    let recovery = Recovery::in_log(out, volume, path, live);
    let mut data = file.existing(4096, evtx_carve::CHUNK_SIZE as u64);
    if let Some(end) = read.written_end.filter(|&end| end < data.len()) {
        data = std::sync::Arc::new(crate::evidence::Window::new(data, 0, end));
    }
    if let Err(e) = carve::live_log(data.as_ref(), &read.quiet, &recovery) {
        out.error(volume, path, Stage::Evtx, &e.to_string());
    }
    recovery.finish(data.as_ref());
}

fn prefetch_file(target: &Target, out: &Sinks<'_>, path: &str) {
    let volume = &target.label;
    let bytes = match target
        .source
        .open(path)
        .map_err(|e| CollectError::Unreadable(e.message))
        .and_then(|f| f.read_all(MAX_PREFETCH_BYTES))
    {
        Ok(b) => b,
        Err(e) => return out.error(volume, path, Stage::Prefetch, &e.to_string()),
    };
    out.collected(volume, path, &bytes);
    match prefetch::parse(&bytes) {
        Ok(pf) => rows::prefetch_file(out, volume, path, &pf),
        Err(e) => out.error(volume, path, Stage::Prefetch, &e.to_string()),
    }
}

/// Adds to a live record's problems the damage of the attribute list and
/// extension records it leads to: the walk reads each record alone, while the
/// file's streams are read through the list, and what that loses (or could not
/// check) must be said here too, as `ls` says it.
fn extension_problems(ntfs: &crate::ntfs::Volume, entry: &mut crate::ntfs::FileEntry) {
    if !(entry.in_use && entry.has_attribute_list()) {
        return;
    }
    let Ok(whole) = ntfs.file(entry.record) else {
        return; // the record itself is unreadable: the walk reports it
    };
    for problem in whole.problems {
        if !entry.problems.contains(&problem) {
            entry.problems.push(problem);
        }
    }
}

/// `$MFT` then `$UsnJrnl:$J`, sharing the directory map that gives journal records
/// their parent path.
fn file_system(target: &Target, out: &Sinks<'_>, options: &ScanOptions) {
    let volume = &target.label;
    let mut dirs = DirectoryMap::default();
    let mft = target.source.mft().unwrap_or_else(|e| {
        out.error(volume, "$MFT", Stage::Mft, &e.to_string());
        None
    });
    if let Some(mft) = mft {
        out.collected(volume, "$MFT", mft.data.as_ref());
        dirs = directory_map(mft.data.as_ref(), &mft.extents);
        if let Source::Ntfs(ntfs) = &target.source {
            lost::name_files(ntfs, &mft, &mut dirs, out, volume);
        }
        if options.artifacts.mft {
            walk(
                mft.data.as_ref(),
                &mft.extents,
                &mut dirs,
                &mut |mut row| {
                    if let Source::Ntfs(ntfs) = &target.source {
                        extension_problems(ntfs, &mut row.entry);
                    }
                    // The row keeps what was read; the attributes lost are damage.
                    if !row.entry.problems.is_empty() {
                        let record = format!("$MFT record {}", row.entry.record);
                        out.error(volume, &record, Stage::Mft, &row.entry.problems.join("; "));
                    }
                    rows::mft(out, volume, &row, None)
                },
                &mut |record, e| {
                    out.error(volume, &format!("$MFT record {record}"), Stage::Mft, &e)
                },
            );
            for problem in dirs.path_problems() {
                out.error(volume, "$MFT", Stage::Mft, &problem);
            }
        }
    } else if options.artifacts.mft && matches!(target.source, Source::Ntfs(_)) {
        // A triage folder may simply not have collected it; a volume always has one.
        out.error(
            volume,
            "$MFT",
            Stage::Mft,
            "the volume's $MFT could not be read",
        );
    }
    if !options.artifacts.usn {
        return;
    }
    let journal = match target.source.usn_journal() {
        Ok(Some(journal)) => journal,
        Ok(None) => return,
        Err(e) => return out.error(volume, "$Extend/$UsnJrnl:$J", Stage::Usn, &e.to_string()),
    };
    out.collected(volume, "$Extend/$UsnJrnl:$J", journal.data.as_ref());
    // An unreadable block (a corrupt E01 chunk) costs its records, not the rest
    // of the journal: it reads as zeros, which the parser skips as padding.
    let holes = Arc::new(Holes::new(Arc::clone(&journal.data), USN_BLOCK));
    let data: Arc<dyn ReadAt> = holes.clone();
    // Journal records placed under `$OrphanFiles`, by the damaged record that
    // held their folder (or a folder above it).
    let mut orphaned = std::collections::BTreeMap::<u64, u64>::new();
    for extent in journal.extents.iter().filter(|e| !e.sparse) {
        let window = Window::new(Arc::clone(&data), extent.offset, extent.length);
        let mut stream = usn::UsnStream::new(ReadSeekAdapter::new(window), extent.offset);
        for record in stream.by_ref() {
            match record {
                Ok(r) => {
                    let parent = if r.parent_reference.is_ntfs() {
                        let reference = &r.parent_reference;
                        let (path, loss) =
                            dirs.path_and_loss(reference.entry(), reference.sequence());
                        if let Some(record) = loss {
                            *orphaned.entry(record).or_default() += 1;
                        }
                        path
                    } else {
                        String::new()
                    };
                    rows::usn(out, volume, &r, &parent);
                }
                Err(e) => out.error(volume, "$Extend/$UsnJrnl:$J", Stage::Usn, &e.to_string()),
            }
        }
    }
    for lost in holes.take_lost() {
        out.error(volume, "$Extend/$UsnJrnl:$J", Stage::Usn, &lost);
    }
    // Said here too when `$MFT` rows were not asked for: the paths are the loss.
    for (record, count) in orphaned {
        let damage = dirs.damage(record).unwrap_or("damaged");
        let message = format!(
            "{damage}: the folder (or a folder above it) of {count} journal records, \
             whose parent paths are therefore under $OrphanFiles"
        );
        out.error(
            volume,
            &format!("$MFT record {record}"),
            Stage::Usn,
            &message,
        );
    }
}
