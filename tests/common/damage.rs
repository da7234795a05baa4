//! The promise of the README's "What toolmark promises on damaged input", checked
//! the same way for every damage generator (issue 12): a scan of the damaged
//! evidence against a scan of the clean one, table by table.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::read_csv;
use toolmark::evidence::{ReadAt, Window};
use toolmark::ntfs::Volume;

/// A copy of the built raw disk, edited by `edit` (given the image and the first
/// NTFS volume's byte offset), under the scratch directory `damage`.
pub fn damaged_copy(name: &str, edit: impl FnOnce(&mut Vec<u8>, u64)) -> PathBuf {
    let raw = super::built_images().join("win10-aptsim.raw");
    let mut image = std::fs::read(&raw).unwrap();
    let offset = super::first_ntfs_offset(&raw);
    edit(&mut image, offset);
    let path = super::scratch_dir("damage").join(format!("{name}.raw"));
    super::write_sparse(&path, &image);
    path
}

/// Highest peak resident set a scan of damaged evidence may reach.
pub const MAX_RSS_KIB: u64 = 512 * 1024;

/// One `toolmark scan`, timed, with its peak memory.
pub struct Scan {
    /// Exit status.
    pub code: Option<i32>,
    /// Wall time.
    pub took: Duration,
    /// CPU time, user and system (from `/usr/bin/time -v`): what the scan itself
    /// spent, which other work on a shared machine does not inflate as it does
    /// wall time.
    pub cpu: Duration,
    /// Peak resident set, KiB (from `/usr/bin/time -v`).
    pub max_rss_kib: u64,
    /// The image's output folder.
    pub dir: PathBuf,
}

/// Scans `image` into `out` (cleared first) with `args`, under `/usr/bin/time -v`.
/// Scans run one at a time, so their times compare.
pub fn measured_scan(image: &Path, out: &Path, args: &[&str]) -> Scan {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let _ = std::fs::remove_dir_all(out);
    let started = Instant::now();
    let result = super::oracle("time", "time")
        .arg("-v")
        .arg(env!("CARGO_BIN_EXE_toolmark"))
        .arg("scan")
        .arg(image)
        .arg("-o")
        .arg(out)
        .args(["-q", "--jobs", "2"])
        .args(args)
        .output()
        .unwrap();
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&result.stderr);
    let name = out.display();
    assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    let max_rss_kib = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name}: no peak memory from /usr/bin/time: {stderr}"));
    let seconds = |label: &str| -> f64 {
        stderr
            .lines()
            .find_map(|l| l.trim().strip_prefix(label))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name}: no {label} from /usr/bin/time: {stderr}"))
    };
    let cpu = Duration::from_secs_f64(
        seconds("User time (seconds):") + seconds("System time (seconds):"),
    );
    let stem = image.file_stem().unwrap().to_string_lossy().into_owned();
    eprintln!(
        "{name}: exit {:?} in {took:?}, peak RSS {} MiB",
        result.status.code(),
        max_rss_kib / 1024
    );
    Scan {
        code: result.status.code(),
        took,
        cpu,
        max_rss_kib,
        dir: out.join(stem),
    }
}

/// What the damage may cost.
pub enum Lost<'a> {
    /// These files (volume paths) are damaged: rows naming them may be lost or
    /// differ, each must be named in errors.csv, and every other row is kept.
    Files(&'a [&'a str]),
    /// A block of the media (one 32 KiB E01 chunk). Files whose MFT record was
    /// in it cannot be reached: each must be named in errors.csv (stage `list`)
    /// and their rows are lost. Of every other row, the scan keeps at least
    /// `min_kept`, and a table that lost rows has errors.csv rows of its stage.
    /// (One table alone may lose more: a chunk is 8 % of the small `$MFT` of the
    /// built disk.)
    Block {
        /// Least share of all rows kept, e.g. 0.99.
        min_kept: f64,
    },
}

/// Asserts the promise for `damaged` against `clean`: exit status 2, CPU time within
/// twice the clean scan's (plus a second), wall time within ten times (a hang
/// waiting on nothing spends no CPU; the margin is for a loaded machine), peak memory within
/// [`MAX_RSS_KIB`], every loss named in errors.csv, and every row outside the
/// damage exactly as the clean scan has it (rows compared whole, without the image
/// name).
pub fn assert_contained(name: &str, clean: &Scan, damaged: &Scan, lost: Lost<'_>) {
    assert_eq!(damaged.code, Some(2), "{name}: a loss is exit 2");
    assert!(
        damaged.cpu < clean.cpu * 2 + Duration::from_secs(1),
        "{name}: CPU {:?} against a clean {:?}",
        damaged.cpu,
        clean.cpu
    );
    assert!(
        damaged.took < clean.took * 10 + Duration::from_secs(10),
        "{name}: wall {:?} against a clean {:?}",
        damaged.took,
        clean.took
    );
    assert!(
        damaged.max_rss_kib <= MAX_RSS_KIB,
        "{name}: peak {} KiB",
        damaged.max_rss_kib
    );
    let (_, errors) = read_csv(&damaged.dir.join("errors.csv"));
    // Files lost whole: the ones the generator damaged, each of which errors.csv
    // must name; for a block, the ones errors.csv says a listing could not reach
    // (their MFT record was in it).
    let files: Vec<String> = match lost {
        Lost::Files(files) => {
            for file in files {
                // Named by its path, or by its folder's with its name in the
                // error (an index entry that cannot lead to it).
                let (folder, file_name) = file.rsplit_once('/').unwrap_or(("", file));
                assert!(
                    errors
                        .iter()
                        .any(|e| e[2] == *file || (e[2] == folder && e[4].contains(file_name))),
                    "{name}: {file} not in errors.csv: {errors:?}"
                );
            }
            files.iter().map(|f| f.to_string()).collect()
        }
        Lost::Block { .. } => errors
            .iter()
            .filter(|e| e[3] == "list")
            .filter_map(|e| Some(format!("{}/{}", e[2], e[4].split_once(": ")?.0)))
            .collect(),
    };
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    let outside = |row: &Vec<String>| !row.iter().any(|c| names_file(c, &files));
    let (mut all_kept, mut all_rows) = (0, 0);
    // The collected tables (not derived ones like the timeline or findings).
    for table in toolmark::output::TABLES {
        if !clean.dir.join(format!("{table}.csv")).is_file() {
            continue;
        }
        let before = table_rows(&clean.dir, table);
        let after = table_rows(&damaged.dir, table);
        let (kept, missing, extra) = compare(&before, &after);
        let missing: Vec<_> = missing.into_iter().filter(outside).collect();
        let extra: Vec<_> = extra.into_iter().filter(outside).collect();
        let total = kept + missing.len();
        eprintln!(
            "{name}: {table}.csv {kept} of {total} rows outside the lost files kept, of {} in all",
            before.values().sum::<usize>()
        );
        all_kept += kept;
        all_rows += total;
        let shown = |rows: &[Vec<String>]| rows[..rows.len().min(3)].to_vec();
        match lost {
            Lost::Files(_) => assert!(
                missing.is_empty() && extra.is_empty(),
                "{name}: {table}.csv outside the damage: missing {:?}, extra {:?}",
                shown(&missing),
                shown(&extra)
            ),
            Lost::Block { .. } => {
                assert!(
                    extra.len() <= missing.len(),
                    "{name}: {table}.csv has rows the clean scan has not: {:?}",
                    shown(&extra)
                );
                assert!(
                    missing.is_empty() || errors.iter().any(|e| e[3] == table),
                    "{name}: {table}.csv lost {} rows, none named",
                    missing.len()
                );
            }
        }
    }
    if let Lost::Block { min_kept } = lost {
        assert!(
            all_kept as f64 >= min_kept * all_rows as f64,
            "{name}: kept {all_kept} of {all_rows} rows outside the lost files"
        );
    }
}

/// True if `cell` is, or ends with, one of `files`, or names records recovered
/// from one of them (`FILE (chunk N)`, `FILE (templates of the chunk at N)`).
fn names_file(cell: &str, files: &[&str]) -> bool {
    files.iter().any(|f| {
        cell == *f
            || cell.strip_suffix(f).is_some_and(|s| s.ends_with('/'))
            || cell.strip_prefix(f).is_some_and(|s| s.starts_with(" ("))
    })
}

/// The rows of `table` in the output folder `dir`, without the image column,
/// counted.
pub fn table_rows(dir: &Path, table: &str) -> BTreeMap<Vec<String>, usize> {
    let (header, rows) = read_csv(&dir.join(format!("{table}.csv")));
    let image = header.iter().position(|h| h == "image");
    let mut counted = BTreeMap::new();
    for mut row in rows {
        if let Some(at) = image {
            row.remove(at);
        }
        *counted.entry(row).or_default() += 1;
    }
    counted
}

/// Rows in both, rows only in `before`, rows only in `after` (as multisets).
fn compare(
    before: &BTreeMap<Vec<String>, usize>,
    after: &BTreeMap<Vec<String>, usize>,
) -> (usize, Vec<Vec<String>>, Vec<Vec<String>>) {
    let mut kept = 0;
    let mut missing = Vec::new();
    let mut extra = Vec::new();
    let keys: BTreeSet<&Vec<String>> = before.keys().chain(after.keys()).collect();
    for row in keys {
        let (b, a) = (
            before.get(row).copied().unwrap_or(0),
            after.get(row).copied().unwrap_or(0),
        );
        kept += b.min(a);
        missing.extend(std::iter::repeat_n(row.clone(), b.saturating_sub(a)));
        extra.extend(std::iter::repeat_n(row.clone(), a.saturating_sub(b)));
    }
    (kept, missing, extra)
}

/// Where `path`'s MFT record lies in the raw image, and the offset of its unnamed
/// `$DATA` attribute in that record (the built volume's MFT is contiguous).
pub fn data_attribute(image: &[u8], volume_offset: u64, path: &str) -> (usize, usize) {
    let data: Arc<dyn ReadAt> = Arc::new(image.to_vec());
    let window: Arc<dyn ReadAt> = Arc::new(Window::new(data, volume_offset, u64::MAX));
    let volume = Volume::open(window).unwrap();
    let record = volume.lookup(path).unwrap().record;
    let boot = volume.boot();
    let at =
        (volume_offset + boot.mft_lcn * boot.cluster_size + record * boot.record_size) as usize;
    assert_eq!(&image[at..at + 4], b"FILE");
    let u16_at = |o: usize| u16::from_le_bytes([image[o], image[o + 1]]) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(image[o..o + 4].try_into().unwrap());
    assert_eq!(u32_at(at + 0x2C) as u64, record, "contiguous MFT");
    let mut attr = at + u16_at(at + 0x14);
    loop {
        let kind = u32_at(attr);
        assert_ne!(kind, 0xFFFF_FFFF, "{path}: no $DATA");
        if kind == 0x80 && image[attr + 9] == 0 && image[attr + 8] == 1 {
            return (at, attr);
        }
        attr += u32_at(attr + 4) as usize;
    }
}

/// Tears MFT record `record` of the built volume at `volume_offset` in `image`
/// (the last byte of its first sector no longer matches the update sequence
/// number, as after a torn write).
pub fn tear_record(image: &mut [u8], volume_offset: u64, record: u64) {
    let boot = *super::open_first_ntfs(&super::built_images().join("win10-aptsim.raw"))
        .0
        .boot();
    let at =
        (volume_offset + boot.mft_lcn * boot.cluster_size + record * boot.record_size) as usize;
    assert_eq!(&image[at..at + 4], b"FILE");
    image[at + 510] ^= 0xFF;
}

/// The first run's LCN of `path`'s `$DATA`, from our own reader.
pub fn first_lcn(image: &[u8], volume_offset: u64, path: &str) -> u64 {
    let (_, attr) = data_attribute(image, volume_offset, path);
    let list = attr + u16::from_le_bytes([image[attr + 0x20], image[attr + 0x21]]) as usize;
    let header = image[list];
    let (len_size, off_size) = (usize::from(header & 0xF), usize::from(header >> 4));
    let mut lcn = [0u8; 8];
    lcn[..off_size].copy_from_slice(&image[list + 1 + len_size..list + 1 + len_size + off_size]);
    u64::from_le_bytes(lcn)
}

/// The bytes of the hive at `path` on the built volume and where they start in
/// the raw image (the built hives are each one run, so their bytes lie in order,
/// and clean, so no log replay rewrites an edit).
pub fn hive_in_image(image: &[u8], volume_offset: u64, path: &str) -> (Vec<u8>, usize) {
    let data: Arc<dyn ReadAt> = Arc::new(image.to_vec());
    let window: Arc<dyn ReadAt> = Arc::new(Window::new(data, volume_offset, u64::MAX));
    let volume = Volume::open(window).unwrap();
    let stream = volume.open_stream(path, "").unwrap();
    let mut bytes = vec![0u8; stream.len() as usize];
    stream.read_exact_at(&mut bytes, 0).unwrap();
    let hive = regf::Hive::from_bytes(bytes.clone()).unwrap();
    assert!(!hive.is_dirty(), "{path}: a clean hive");
    let at = (volume_offset + first_lcn(image, volume_offset, path) * volume.boot().cluster_size)
        as usize;
    assert_eq!(
        &image[at..at + bytes.len()],
        &bytes[..],
        "{path}: contiguous hive"
    );
    (bytes, at)
}
