//! Rows in the same order at any number of threads.
//!
//! Units of work that run in parallel (an image's artifact files, the logs whose
//! unused space is read, the regions of a carving pass) write their rows as they go.
//! Written as they come, rows of different units interleave by timing, so two scans
//! of one image would give tables equal as sets but not as files. Here each unit is
//! a *lane*, numbered in the order a one-thread scan runs them, and rows reach the
//! tables in lane order, whatever the timing:
//!
//! - the lowest unfinished lane (the *head*) writes straight to the tables, as a
//!   one-thread scan does, so most rows are written once;
//! - any other lane keeps its rows, framed, in a buffer of its own; past
//!   [`LANE_BYTES`] the buffer goes to a spill file, so a long lane costs no memory;
//! - a lane that finishes before it is the head waits with its rows, in memory up to
//!   [`WAITING_BYTES`] for all waiting lanes together, in the spill file beyond;
//! - when the head finishes, the waiting lanes after it are written out in order, and
//!   the next unfinished lane becomes the head; a running lane that becomes the head
//!   writes out what it kept before its next row.
//!
//! The lane a row belongs to is the calling thread's: a lane runs on one thread from
//! start to end (nothing a lane runs is parallel itself), so the thread's current lane
//! is kept in a thread-local, saved and restored around each lane so that a thread
//! lent to another image's lane in between keeps both apart.
//!
//! The spill file lives in the image's output folder and is unlinked as soon as it
//! is made: nothing is left behind, whatever ends the process.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use rayon::prelude::*;

/// A running lane's buffer goes to the spill file past this many bytes.
pub const LANE_BYTES: usize = 2 << 20;

/// Finished lanes waiting for their turn keep at most this many bytes in memory, all
/// together; the rest waits in the spill file.
pub const WAITING_BYTES: usize = 16 << 20;

/// Where a framed row goes: a table's index in [`super::TABLES`], or errors.csv
/// after them.
pub type Slot = u8;

/// Writes rows to the tables; called for rows whose turn has come.
pub trait RowWriter: Sync {
    /// Writes one rendered row of `cells` cells to `slot`.
    fn write(&self, slot: Slot, cells: usize, line: &[u8]);
    /// Reports rows that were kept and then could not be read back.
    fn lost(&self, error: &io::Error);
}

thread_local! {
    /// The lane the calling thread is running, if any.
    static LANE: RefCell<Option<Lane>> = const { RefCell::new(None) };
}

/// One unit's rows, while they wait for their turn.
struct Lane {
    /// The sequencer the lane belongs to (lanes of two images' sequencers may
    /// share a thread).
    owner: u64,
    index: usize,
    kept: Kept,
}

/// Framed rows, oldest first: those in the spill file, then those in memory.
#[derive(Default)]
struct Kept {
    spilled: Vec<Segment>,
    frames: Vec<u8>,
}

/// A range of the spill file.
#[derive(Clone, Copy)]
struct Segment {
    offset: u64,
    len: usize,
}

/// Frame header: slot (1 byte), cell count (4), row length (4).
const FRAME_HEADER: usize = 9;

impl Kept {
    fn is_empty(&self) -> bool {
        self.spilled.is_empty() && self.frames.is_empty()
    }

    fn push(&mut self, slot: Slot, cells: usize, line: &[u8]) {
        self.frames.push(slot);
        // A row's cells and bytes fit 32 bits: rows are bounded far below 4 GiB.
        self.frames
            .extend_from_slice(&u32::try_from(cells).unwrap_or(u32::MAX).to_le_bytes());
        self.frames
            .extend_from_slice(&u32::try_from(line.len()).unwrap_or(u32::MAX).to_le_bytes());
        self.frames.extend_from_slice(line);
    }
}

/// Replays framed rows to `writer`.
fn replay(frames: &[u8], writer: &dyn RowWriter) {
    let mut rest = frames;
    while rest.len() >= FRAME_HEADER {
        let slot = rest[0];
        let word = |at: usize| {
            let mut b = [0u8; 4];
            b.copy_from_slice(&rest[at..at + 4]);
            u32::from_le_bytes(b) as usize
        };
        let (cells, len) = (word(1), word(5));
        let Some(line) = rest.get(FRAME_HEADER..FRAME_HEADER + len) else {
            // Frames are written whole by this module: a short one cannot occur.
            return;
        };
        writer.write(slot, cells, line);
        rest = &rest[FRAME_HEADER + len..];
    }
}

/// The spill file, made on first use.
struct Spill {
    dir: PathBuf,
    file: Mutex<Option<(File, u64)>>,
}

impl Spill {
    /// Appends `bytes`; `None` when the file cannot be made or written (the rows
    /// then stay in memory).
    fn append(&self, bytes: &[u8]) -> Option<Segment> {
        let mut guard = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            *guard = Some((anonymous_file(&self.dir).ok()?, 0));
        }
        let (file, end) = guard.as_mut()?;
        file.write_all_at(bytes, *end).ok()?;
        let segment = Segment {
            offset: *end,
            len: bytes.len(),
        };
        *end += bytes.len() as u64;
        Some(segment)
    }

    fn read(&self, segment: Segment) -> io::Result<Vec<u8>> {
        let guard = self.file.lock().unwrap_or_else(|p| p.into_inner());
        let Some((file, _)) = guard.as_ref() else {
            return Err(io::Error::other("spill file missing"));
        };
        let mut bytes = vec![0u8; segment.len];
        file.read_exact_at(&mut bytes, segment.offset)?;
        Ok(bytes)
    }
}

/// A new file in `dir`, unlinked at once: it lives as long as its handle.
fn anonymous_file(dir: &Path) -> io::Result<File> {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let n = COUNT.fetch_add(1, Ordering::Relaxed);
    let path = dir.join(format!(".rows-{}-{n}.spill", std::process::id()));
    let file = File::options()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)?;
    std::fs::remove_file(&path)?;
    Ok(file)
}

/// The calling thread's lane while it runs; the thread's previous lane comes back
/// when it ends, even by a panic (a lane left behind would keep the rows of
/// whatever that thread writes next).
struct Running {
    previous: Option<Option<Lane>>,
}

impl Running {
    fn enter(lane: Lane) -> Self {
        Running {
            previous: Some(LANE.replace(Some(lane))),
        }
    }

    /// Ends the lane, returning it.
    fn leave(mut self) -> Option<Lane> {
        let previous = self.previous.take().flatten();
        LANE.replace(previous)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(previous) = self.previous.take() {
            LANE.set(previous);
        }
    }
}

/// Orders the rows of one image's lanes (see the module's documentation).
pub struct Sequencer {
    /// This sequencer's number, unique in the process.
    id: u64,
    /// The lane whose rows go straight to the tables.
    head: AtomicUsize,
    /// Whether a group of lanes is running.
    running: AtomicBool,
    /// Finished lanes waiting for the head, by index.
    waiting: Mutex<BTreeMap<usize, Kept>>,
    /// Bytes of waiting lanes held in memory.
    held: AtomicUsize,
    spill: Spill,
}

impl Sequencer {
    /// A sequencer spilling into `dir` (the image's output folder).
    pub fn new(dir: &Path) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        Sequencer {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            head: AtomicUsize::new(0),
            running: AtomicBool::new(false),
            waiting: Mutex::new(BTreeMap::new()),
            held: AtomicUsize::new(0),
            spill: Spill {
                dir: dir.to_path_buf(),
                file: Mutex::new(None),
            },
        }
    }

    fn id(&self) -> u64 {
        self.id
    }

    /// Runs `work(0..count)` in parallel, their rows written in index order. Called
    /// from inside a lane, or while another group runs, the units run one after
    /// another on the calling thread instead (their rows then are the caller's).
    pub fn for_each(&self, count: usize, writer: &dyn RowWriter, work: &(dyn Fn(usize) + Sync)) {
        let inside = LANE.with_borrow(|lane| lane.as_ref().is_some_and(|l| l.owner == self.id()));
        if count <= 1 || inside || self.running.swap(true, Ordering::AcqRel) {
            (0..count).for_each(work);
            return;
        }
        self.head.store(0, Ordering::Release);
        (0..count).into_par_iter().for_each(|index| {
            let running = Running::enter(Lane {
                owner: self.id(),
                index,
                kept: Kept::default(),
            });
            work(index);
            if let Some(lane) = running.leave() {
                self.finish(lane, writer);
            }
        });
        // Every lane has finished, so every one has been written out (a panic in a
        // lane's work ends the group here, unwinding to the image's caller); what
        // might still wait is written rather than dropped.
        let rest = std::mem::take(&mut *self.waiting.lock().unwrap_or_else(|p| p.into_inner()));
        for kept in rest.into_values() {
            self.write_out(kept, writer);
        }
        self.held.store(0, Ordering::Release);
        self.running.store(false, Ordering::Release);
    }

    /// Routes one row: straight to the tables unless the calling thread runs a lane
    /// of this sequencer that is not the head.
    pub fn row(&self, slot: Slot, cells: usize, line: &[u8], writer: &dyn RowWriter) {
        let kept = LANE.with_borrow_mut(|lane| {
            let Some(lane) = lane.as_mut().filter(|l| l.owner == self.id()) else {
                return false;
            };
            if self.head.load(Ordering::Acquire) == lane.index {
                // Its turn has come: what it kept goes first.
                if !lane.kept.is_empty() {
                    self.write_out(std::mem::take(&mut lane.kept), writer);
                }
                return false;
            }
            lane.kept.push(slot, cells, line);
            if lane.kept.frames.len() > LANE_BYTES {
                self.spill_frames(&mut lane.kept);
            }
            true
        });
        if !kept {
            writer.write(slot, cells, line);
        }
    }

    /// A lane has finished: written out now if it is the head (with the waiting
    /// lanes after it), else kept until it is.
    fn finish(&self, lane: Lane, writer: &dyn RowWriter) {
        let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        if self.head.load(Ordering::Acquire) != lane.index {
            let mut kept = lane.kept;
            let held = self.held.load(Ordering::Acquire);
            if held + kept.frames.len() > WAITING_BYTES {
                self.spill_frames(&mut kept);
            }
            // What waits holds its bytes, not the room its buffer grew to.
            kept.frames.shrink_to_fit();
            self.held.fetch_add(kept.frames.len(), Ordering::AcqRel);
            waiting.insert(lane.index, kept);
            return;
        }
        self.write_out(lane.kept, writer);
        let mut next = lane.index + 1;
        while let Some(kept) = waiting.remove(&next) {
            self.held.fetch_sub(kept.frames.len(), Ordering::AcqRel);
            self.write_out(kept, writer);
            next += 1;
        }
        // Only now, with every row before it written, may the next lane write.
        self.head.store(next, Ordering::Release);
    }

    /// Moves a lane's framed rows in memory to the spill file (they stay in memory
    /// when the file cannot be written: kept, not lost).
    fn spill_frames(&self, kept: &mut Kept) {
        if kept.frames.is_empty() {
            return;
        }
        if let Some(segment) = self.spill.append(&kept.frames) {
            kept.spilled.push(segment);
            kept.frames.clear();
        }
    }

    fn write_out(&self, kept: Kept, writer: &dyn RowWriter) {
        for segment in kept.spilled {
            match self.spill.read(segment) {
                Ok(frames) => replay(&frames, writer),
                Err(e) => writer.lost(&e),
            }
        }
        replay(&kept.frames, writer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Collects rows as `slot:line` strings.
    #[derive(Default)]
    struct Collect(Mutex<Vec<String>>);

    impl RowWriter for Collect {
        fn write(&self, slot: Slot, cells: usize, line: &[u8]) {
            assert_eq!(cells, line.len());
            self.0
                .lock()
                .unwrap()
                .push(format!("{slot}:{}", String::from_utf8_lossy(line)));
        }
        fn lost(&self, error: &io::Error) {
            panic!("lost rows: {error}");
        }
    }

    fn run(sequencer: &Sequencer, threads: usize, lanes: usize, rows: usize) -> Vec<String> {
        let out = Collect::default();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            sequencer.for_each(lanes, &out, &|lane| {
                // Lanes of uneven length finish out of order.
                let n = if lane % 3 == 0 { rows * 4 } else { rows };
                for row in 0..n {
                    let line = format!("{lane}.{row}");
                    sequencer.row((lane % 2) as Slot, line.len(), line.as_bytes(), &out);
                }
            });
        });
        out.0.into_inner().unwrap()
    }

    #[test]
    fn rows_come_in_lane_order_at_any_thread_count() {
        let dir = std::env::temp_dir().join(format!("toolmark-ordered-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let sequencer = Sequencer::new(&dir);
        let one = run(&sequencer, 1, 40, 500);
        assert_eq!(one.len(), (14 * 2000) + (26 * 500));
        assert_eq!(one[0], "0:0.0");
        assert_eq!(one.last().unwrap(), "1:39.1999");
        for _ in 0..5 {
            assert_eq!(run(&sequencer, 4, 40, 500), one);
        }
        // Lanes long enough to spill, waiting past the memory bound: the same rows.
        let big = run(&sequencer, 1, 6, 100_000);
        assert_eq!(run(&sequencer, 3, 6, 100_000), big);
        // Nothing is left in the folder: the spill file was unlinked when made.
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_lane_waiting_for_its_turn_spills_and_is_read_back_whole() {
        let dir = std::env::temp_dir().join(format!("toolmark-spill-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let sequencer = Sequencer::new(&dir);
        let out = Collect::default();
        // Lane 1 runs while lane 0 is the head: its rows are kept, and spilled.
        LANE.set(Some(Lane {
            owner: sequencer.id(),
            index: 1,
            kept: Kept::default(),
        }));
        let rows = 2 * LANE_BYTES / 16;
        for row in 0..rows {
            let line = format!("{row:07}");
            sequencer.row(2, line.len(), line.as_bytes(), &out);
        }
        assert!(out.0.lock().unwrap().is_empty());
        assert!(sequencer.spill.file.lock().unwrap().is_some());
        // Lane 0 finishes: lane 1 is the head, and its next row follows the kept ones.
        sequencer.head.store(1, Ordering::Release);
        sequencer.row(2, 4, b"last", &out);
        let lane = LANE.take().unwrap();
        sequencer.finish(lane, &out);
        let written = out.0.into_inner().unwrap();
        assert_eq!(written.len(), rows + 1);
        assert!(written[..rows]
            .iter()
            .enumerate()
            .all(|(i, w)| *w == format!("2:{i:07}")));
        assert_eq!(written[rows], "2:last");
        assert_eq!(sequencer.head.load(Ordering::Acquire), 2);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_lane_that_panics_leaves_no_lane_behind() {
        let sequencer = Sequencer::new(&std::env::temp_dir());
        let caught = std::panic::catch_unwind(|| {
            let _running = Running::enter(Lane {
                owner: sequencer.id(),
                index: 5,
                kept: Kept::default(),
            });
            std::panic::panic_any("a collector's bug");
        });
        assert!(caught.is_err());
        assert!(LANE.with_borrow(Option::is_none));
    }

    #[test]
    fn rows_outside_lanes_and_nested_groups_are_written_at_once() {
        let dir = std::env::temp_dir();
        let sequencer = Sequencer::new(&dir);
        let out = Collect::default();
        sequencer.row(3, 1, b"x", &out);
        sequencer.for_each(2, &out, &|lane| {
            // A group inside a lane runs in the lane.
            sequencer.for_each(2, &out, &|inner| {
                let line = format!("{lane}{inner}");
                sequencer.row(0, 2, line.as_bytes(), &out);
            });
        });
        assert_eq!(
            out.0.into_inner().unwrap(),
            ["3:x", "0:00", "0:01", "0:10", "0:11"]
        );
    }
}
