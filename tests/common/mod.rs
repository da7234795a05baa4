//! Shared helpers for the end-to-end tests: where the corpus and built images are,
//! how to run toolmark and the independent oracles, and how to read their output.
#![allow(dead_code)] // each test binary uses a different subset

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// Project root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shared corpus: `$TOOLMARK_CORPUS`, else `../shared/corpus` beside the project.
pub fn corpus() -> PathBuf {
    let dir = std::env::var_os("TOOLMARK_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared/corpus"));
    assert!(
        dir.join("MANIFEST.tsv").is_file(),
        "corpus not found at {} (set TOOLMARK_CORPUS)",
        dir.display()
    );
    dir
}

/// A cache under target/ that survives between runs (unpacked corpus samples), for
/// inputs that are slow to make and read by many tests.
pub fn cache_dir(name: &str) -> PathBuf {
    let dir = root().join("target").join(name);
    std::fs::create_dir_all(&dir).expect("create cache dir");
    dir
}

/// Scratch space for this test process's outputs: `target/scratch/NAME-PID`.
///
/// Outputs of whole-image scans are hundreds of MB each and a CI machine's disk is
/// small, so every scratch directory of the process is removed when it exits; if any
/// test panicked they are all kept to be looked at. The process id in the name keeps
/// test processes that run at once (cargo nextest) out of each other's way.
pub fn scratch_dir(name: &str) -> PathBuf {
    scratch::register_cleanup();
    let dir = scratch::root().join(format!("{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

pub mod damage;

mod scratch {
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Once;

    static PANICKED: AtomicBool = AtomicBool::new(false);

    extern "C" {
        /// C library: runs `callback` when the process exits, which libtest's final
        /// `process::exit` also does.
        fn atexit(callback: extern "C" fn()) -> std::os::raw::c_int;
    }

    pub(super) fn root() -> PathBuf {
        super::root().join("target/scratch")
    }

    /// The scratch directories of this process (`*-PID`).
    fn own_dirs() -> Vec<PathBuf> {
        let suffix = format!("-{}", std::process::id());
        std::fs::read_dir(root())
            .into_iter()
            .flatten()
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| {
                path.file_name()
                    .is_some_and(|n| n.to_string_lossy().ends_with(&suffix))
            })
            .collect()
    }

    extern "C" fn remove_unless_panicked() {
        if PANICKED.load(Ordering::SeqCst) {
            return;
        }
        for dir in own_dirs() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }

    /// Once per process: clears directories an earlier process with the same id left
    /// behind, notes any panic, and removes this process's directories at exit.
    pub(super) fn register_cleanup() {
        static ONCE: Once = Once::new();
        ONCE.call_once(|| {
            for stale in own_dirs() {
                let _ = std::fs::remove_dir_all(stale);
            }
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                PANICKED.store(true, Ordering::SeqCst);
                previous(info);
            }));
            // SAFETY: registers a plain function with no captured state.
            let status = unsafe { atexit(remove_unless_panicked) };
            assert_eq!(status, 0, "atexit refused the scratch cleanup");
        });
    }
}

/// Writes `bytes` to a new file at `path`, leaving runs of zero blocks as holes, so
/// edited copies of mostly empty disk images cost only their data on disk.
pub fn write_sparse(path: &Path, bytes: &[u8]) {
    let mut file = std::fs::File::create(path).expect("create sparse file");
    copy_sparse(bytes, &mut file);
}

/// Copies `data` into `file` from its current end, seeking over all-zero 4 KiB blocks,
/// and sets the file's length to cover the whole of `data`.
fn copy_sparse(data: &[u8], file: &mut std::fs::File) {
    use std::io::{Seek, SeekFrom, Write};
    let start = file.stream_position().unwrap();
    for block in data.chunks(4096) {
        if block.iter().all(|&b| b == 0) {
            file.seek(SeekFrom::Current(block.len() as i64)).unwrap();
        } else {
            file.write_all(block).expect("write sparse file");
        }
    }
    file.set_len(start + data.len() as u64).unwrap();
}

/// The toolmark binary built for this test run.
pub fn toolmark() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_toolmark"));
    cmd.env("RUST_BACKTRACE", "1");
    cmd
}

/// Runs a command and returns its output; panics with its stderr if it fails.
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// An independent tool from a Debian package; fails the test if it is missing.
pub fn oracle(program: &str, package: &str) -> Command {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "oracle `{program}` missing: apt-get install {package}"
    );
    Command::new(program)
}

/// Makes `path` an empty NTFS volume of `size` bytes with mkntfs (quick format,
/// 512-byte sectors, clusters of `cluster` bytes) and `args` added (a label...).
pub fn mkntfs(path: &Path, size: u64, cluster: u32, args: &[&str]) {
    std::fs::File::create(path).unwrap().set_len(size).unwrap();
    run_ok(
        oracle("mkntfs", "ntfs-3g")
            .args(["-q", "-F", "-Q", "-T", "-s", "512", "-c"])
            .arg(cluster.to_string())
            .args(args)
            .arg(path),
    );
}

/// The test images made by images/build.sh (built once, then cached by the script).
/// `TOOLMARK_IMAGES` points at an already built set instead.
pub fn built_images() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            if let Some(dir) = std::env::var_os("TOOLMARK_IMAGES") {
                return PathBuf::from(dir);
            }
            let out = root().join("target/images");
            let status = Command::new("bash")
                .arg(root().join("images/build.sh"))
                .arg(corpus())
                .arg(&out)
                .status()
                .expect("run images/build.sh");
            assert!(status.success(), "images/build.sh failed: {status}");
            out
        })
        .clone()
}

/// The gzip/tar-packed NTFS samples of the corpus, unpacked once into target/.
pub fn unpacked_samples() -> Vec<PathBuf> {
    static UNPACKED: OnceLock<Vec<PathBuf>> = OnceLock::new();
    UNPACKED
        .get_or_init(|| {
            let src = corpus().join("images/ntfs-samples");
            let dest = cache_dir("corpus-unpacked");
            let mut images = Vec::new();
            let mut names: Vec<_> = std::fs::read_dir(&src)
                .expect("read ntfs-samples")
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect();
            names.sort();
            for packed in names {
                let name = packed.file_name().unwrap().to_string_lossy().into_owned();
                if let Some(stem) = name.strip_suffix(".raw.gz") {
                    let target = dest.join(format!("{stem}.raw"));
                    if !target.is_file() {
                        let tmp = dest.join(format!("{stem}.raw.partial"));
                        gunzip_sparse(&packed, &tmp);
                        std::fs::rename(&tmp, &target).unwrap();
                    }
                    images.push(target);
                } else if name.ends_with(".tgz") {
                    let target = dest.join("ntfs.raw");
                    if !target.is_file() {
                        run_ok(
                            Command::new("tar")
                                .arg("-xzSf")
                                .arg(&packed)
                                .arg("-C")
                                .arg(&dest),
                        );
                    }
                    images.push(target);
                }
            }
            images
        })
        .clone()
}

/// Unpacks a gzip file with `gzip -dc`, leaving its zero blocks as holes (three of the
/// corpus samples are 1 GiB volumes holding a few MB).
fn gunzip_sparse(packed: &Path, dest: &Path) {
    use std::io::Read;
    let mut child = Command::new("gzip")
        .arg("-dc")
        .arg(packed)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run gzip");
    let mut stdout = child.stdout.take().unwrap();
    let mut file = std::fs::File::create(dest).expect("create unpacked sample");
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let mut filled = 0;
        while filled < buffer.len() {
            match stdout
                .read(&mut buffer[filled..])
                .expect("read gzip output")
            {
                0 => break,
                n => filled += n,
            }
        }
        if filled == 0 {
            break;
        }
        copy_sparse(&buffer[..filled], &mut file);
    }
    assert!(
        child.wait().unwrap().success(),
        "gunzip {}",
        packed.display()
    );
}

/// Byte offset of the first NTFS volume, as `toolmark info --json` reports it.
pub fn first_ntfs_offset(image: &Path) -> u64 {
    let out = run_ok(toolmark().arg("info").arg("--json").arg(image));
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    info[0]["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["fs"] == "ntfs")
        .and_then(|p| p["offset"].as_u64())
        .unwrap_or_else(|| panic!("no NTFS volume in {}", image.display()))
}

/// Deterministic xorshift for the damage tests, so a failing round reproduces.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 pseudo-random bits.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// The first NTFS volume of an image, opened through the library, and its byte
/// offset in the image.
pub fn open_first_ntfs(image: &Path) -> (toolmark::ntfs::Volume, u64) {
    use std::sync::Arc;
    use toolmark::evidence::{Evidence, ReadAt, Window};
    let evidence = Evidence::open(image).unwrap();
    let layout = toolmark::disk::scan(&evidence).unwrap();
    let part = layout
        .partitions
        .iter()
        .find(|p| p.fs == toolmark::disk::FsKind::Ntfs)
        .unwrap_or_else(|| panic!("no NTFS volume in {}", image.display()));
    let window: Arc<dyn ReadAt> = Arc::new(Window::new(evidence.data(), part.offset, part.length));
    (toolmark::ntfs::Volume::open(window).unwrap(), part.offset)
}

/// One allocated entry of `fls -r -p`: its `inode-type-id` address and path.
#[derive(Clone, Debug)]
pub struct FlsEntry {
    /// `d/d`, `r/r`, ...
    pub kind: String,
    /// Metadata address as icat takes it.
    pub address: String,
    /// Path from the volume root.
    pub path: String,
}

/// What The Sleuth Kit's `program` (`fls`, `ifind`...) prints when run with `args`
/// on the volume at byte `offset` of `image` (given to it in 512-byte sectors).
pub fn sleuthkit(program: &str, args: &[&str], image: &Path, offset: u64) -> String {
    let out = run_ok(
        oracle(program, "sleuthkit")
            .args(args)
            .arg("-o")
            .arg((offset / 512).to_string())
            .arg(image),
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Allocated entries listed by The Sleuth Kit, without its virtual `$OrphanFiles`.
pub fn fls_entries(image: &Path, offset: u64) -> Vec<FlsEntry> {
    sleuthkit("fls", &["-r", "-p"], image, offset)
        .lines()
        .filter_map(|line| {
            let (head, path) = line.split_once('\t')?;
            let mut parts = head.split_whitespace();
            let kind = parts.next()?.to_string();
            let next = parts.next()?;
            if next == "*" {
                return None; // deleted
            }
            let address = next.trim_end_matches(':').to_string();
            (!path.starts_with("$OrphanFiles")).then(|| FlsEntry {
                kind,
                address,
                path: path.to_string(),
            })
        })
        .collect()
}

/// Deleted entries `fls -r -p -d` lists (without `$OrphanFiles`): path and MFT
/// record (`r/r * 212-128-1:\tpath`).
pub fn fls_deleted(image: &Path, offset: u64) -> std::collections::BTreeMap<String, u64> {
    sleuthkit("fls", &["-r", "-p", "-d"], image, offset)
        .lines()
        .filter_map(|l| {
            let (head, path) = l.split_once('\t')?;
            let record = head.rsplit(' ').next()?.split('-').next()?.parse().ok()?;
            Some((path.to_string(), record))
        })
        .filter(|(p, _)| !p.starts_with("$OrphanFiles/"))
        .collect()
}

/// Paths toolmark lists for the first NTFS volume (allocated only).
pub fn toolmark_paths(image: &Path) -> BTreeSet<String> {
    toolmark_paths_of(image, None)
}

/// Paths toolmark lists for volume `volume` (default: the first NTFS volume).
pub fn toolmark_paths_of(image: &Path, volume: Option<usize>) -> BTreeSet<String> {
    let mut cmd = toolmark();
    cmd.args(["ls", "-r"]).arg(image);
    if let Some(v) = volume {
        cmd.arg("--volume").arg(v.to_string());
    }
    let out = run_ok(&mut cmd);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.splitn(4, '\t').nth(3).map(str::to_string))
        .collect()
}

/// SHA-256 of bytes, hex.
pub fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Asserts two path sets are equal, printing only the differences.
pub fn assert_same_paths(ours: &BTreeSet<String>, expected: &BTreeSet<String>, context: &str) {
    let missing: Vec<_> = expected.difference(ours).take(20).collect();
    let extra: Vec<_> = ours.difference(expected).take(20).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{context}: {} expected, {} listed; missing {missing:?}; extra {extra:?}",
        expected.len(),
        ours.len()
    );
}

/// One record as evtxexport prints it.
#[derive(Debug, Default)]
pub struct Exported {
    /// Event number (the record id).
    pub number: u64,
    /// Written time as evtxexport prints it.
    pub written: String,
    /// Computer name.
    pub computer: String,
    /// Source (provider or event source) name.
    pub source: String,
    /// Event id without qualifiers.
    pub event_id: u32,
    /// The strings (event data values) in order.
    pub strings: Vec<String>,
}

/// Every record libevtx's `evtxexport` prints for a log.
pub fn evtxexport(path: &Path) -> Vec<Exported> {
    evtxexport_mode(path, "items")
}

/// Every record `evtxexport -m MODE` prints for a log (`items`: the live records,
/// `recovered`: those libevtx finds in the unused space of the log's chunks, as far
/// as it can render them).
pub fn evtxexport_mode(path: &Path, mode: &str) -> Vec<Exported> {
    let out = oracle("evtxexport", "libevtx-utils")
        .args(["-m", mode])
        .arg(path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut records = Vec::new();
    let mut current: Option<Exported> = None;
    for line in text.lines() {
        // Lines are `Key<TABs>: value`; values may contain colons themselves.
        let Some((key, value)) = line.split_once("\t: ") else {
            // A multi-line value continues on lines of its own.
            if let Some(last) = current.as_mut().and_then(|r| r.strings.last_mut()) {
                last.push('\n');
                last.push_str(line);
            }
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        match key {
            "Event number" => {
                records.extend(current.take());
                current = Some(Exported {
                    number: value.parse().unwrap(),
                    ..Default::default()
                });
            }
            _ => {
                let Some(r) = current.as_mut() else { continue };
                match key {
                    "Written time" => r.written = value.to_string(),
                    "Computer name" => r.computer = value.to_string(),
                    "Source name" => r.source = value.to_string(),
                    "Event identifier" => {
                        let hex = value
                            .split_whitespace()
                            .next()
                            .unwrap()
                            .trim_start_matches("0x");
                        r.event_id = u32::from_str_radix(hex, 16).unwrap() & 0xFFFF;
                    }
                    k if k.starts_with("String") => r.strings.push(value.to_string()),
                    _ => {}
                }
            }
        }
    }
    records.extend(current);
    records
}

/// `Apr 21, 2021 09:40:32.342440500 UTC` -> `2021-04-21T09:40:32.3424405Z`.
pub fn iso_from_evtxexport(text: &str) -> String {
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let parts: Vec<&str> = text.split_whitespace().collect();
    let month = months.iter().position(|m| *m == parts[0]).unwrap() + 1;
    let day: u32 = parts[1].trim_end_matches(',').parse().unwrap();
    let (hms, frac) = parts[3].split_once('.').unwrap();
    format!("{}-{month:02}-{day:02}T{hms}.{}Z", parts[2], &frac[..7])
}

/// Runs `toolmark scan INPUTS -o OUT -q ARGS` into a fresh `out`; no panic allowed.
pub fn scan_into(inputs: &[PathBuf], out: &Path, args: &[&str]) -> Output {
    let _ = std::fs::remove_dir_all(out);
    scan_again(inputs, out, args)
}

/// Runs `toolmark scan INPUTS -o OUT -q ARGS` into `out` as it is (a batch resumed);
/// no panic allowed.
pub fn scan_again(inputs: &[PathBuf], out: &Path, args: &[&str]) -> Output {
    let result = toolmark()
        .arg("scan")
        .args(inputs)
        .arg("-o")
        .arg(out)
        .arg("-q")
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    result
}

/// A CSV file as its header and rows.
pub fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader =
        csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

/// Every `.evtx` of the corpus's attack samples and of its win10-aptsim host, sorted.
pub fn evtx_corpus_logs() -> Vec<PathBuf> {
    let dirs = [
        corpus().join("evtx/attack"),
        corpus().join("hosts/win10-aptsim/Windows/System32/winevt/Logs"),
    ];
    let mut logs: Vec<PathBuf> = dirs
        .iter()
        .flat_map(|dir| files_under(dir).into_iter().map(|f| dir.join(f)))
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("evtx"))
        })
        .collect();
    logs.sort();
    logs
}

/// One event's own identity as `evtxexport -f xml` prints the event (unlike the
/// text form's `Event number` and `Written time`, which are the record header's).
#[derive(Debug, Default)]
pub struct ExportedEvent {
    /// `System/EventRecordID`.
    pub record_id: Option<u64>,
    /// `System/TimeCreated/@SystemTime` as printed (`2021-11-27T15:47:00.365613100Z`).
    pub time_created: Option<String>,
    /// `System/EventID` (without qualifiers).
    pub event_id: Option<u32>,
}

/// Every event `evtxexport -f xml` prints for a log, in its order.
pub fn evtxexport_events(path: &Path) -> Vec<ExportedEvent> {
    let out = oracle("evtxexport", "libevtx-utils")
        .args(["-f", "xml"])
        .arg(path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut events = Vec::new();
    let mut current: Option<ExportedEvent> = None;
    let between = |line: &str, open: &str, close: &str| -> Option<String> {
        let rest = line.split_once(open)?.1;
        Some(rest.split_once(close)?.0.to_string())
    };
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with("<Event ") || line == "<Event>" {
            events.extend(current.take());
            current = Some(ExportedEvent::default());
            continue;
        }
        let Some(event) = current.as_mut() else {
            continue;
        };
        if event.record_id.is_none() && line.starts_with("<EventRecordID>") {
            event.record_id = between(line, "<EventRecordID>", "</EventRecordID>")
                .and_then(|v| v.trim().parse().ok());
        } else if event.time_created.is_none() && line.starts_with("<TimeCreated ") {
            event.time_created = between(line, "SystemTime=\"", "\"");
        } else if event.event_id.is_none() && line.starts_with("<EventID") {
            event.event_id = between(line, ">", "</EventID>").and_then(|v| v.trim().parse().ok());
        }
    }
    events.extend(current);
    events
}

/// `2021-11-27T15:47:00.365613100Z` (evtxexport's XML) -> `2021-11-27T15:47:00.3656131Z`;
/// the zero FILETIME (1601-01-01T00:00:00) -> empty, as toolmark writes no time.
pub fn iso_from_evtxexport_xml(text: &str) -> String {
    let Some((whole, frac)) = text.trim_end_matches('Z').split_once('.') else {
        return format!("{}.0000000Z", text.trim_end_matches('Z'));
    };
    if whole == "1601-01-01T00:00:00" && frac.bytes().all(|b| b == b'0') {
        return String::new();
    }
    let mut frac: String = frac.chars().take(7).collect();
    while frac.len() < 7 {
        frac.push('0');
    }
    format!("{whole}.{frac}Z")
}

/// Every file under `dir` by its path relative to `dir`, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    files.sort();
    files
}

/// A manifest.json without what differs from run to run (wall times and speeds).
pub fn manifest_without_timings(path: &Path) -> serde_json::Value {
    fn strip(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                map.retain(|k, _| k != "seconds" && k != "mb_per_second");
                map.values_mut().for_each(strip);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut value: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    strip(&mut value);
    value
}

/// Asserts two scan outputs hold the same files with the same bytes, manifests
/// compared without their timings.
pub fn assert_same_output(ours: &Path, expected: &Path, context: &str) {
    let files = files_under(expected);
    assert_eq!(files_under(ours), files, "{context}: the same files");
    assert!(files.iter().any(|f| f.ends_with("lateral_movement.csv")));
    for file in &files {
        let (a, b) = (ours.join(file), expected.join(file));
        if file.file_name().is_some_and(|n| n == "manifest.json") {
            assert_eq!(
                manifest_without_timings(&a),
                manifest_without_timings(&b),
                "{context}: {} differs",
                file.display()
            );
        } else {
            assert!(
                std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap(),
                "{context}: {} differs",
                file.display()
            );
        }
    }
}

/// Triage folders (`ROOT/NAME/Windows/System32/winevt/Logs/Security.evtx`) made from
/// attack logs of the corpus, one per `(name, log under evtx/attack)`.
pub fn triage_folders(root: &Path, logs: &[(&str, &str)]) -> Vec<PathBuf> {
    logs.iter()
        .map(|(name, log)| {
            let folder = root.join(name);
            let dir = folder.join("Windows/System32/winevt/Logs");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::copy(
                corpus().join("evtx/attack").join(log),
                dir.join("Security.evtx"),
            )
            .unwrap();
            folder
        })
        .collect()
}

/// `toolmark ARGS IMAGE` under a 60 s timeout (coreutils' `timeout`, so a hang
/// fails the test rather than stalling it): its exit code, stderr and wall time.
pub fn run_bounded(args: &[&str], image: &Path) -> (Option<i32>, String, std::time::Duration) {
    let started = std::time::Instant::now();
    let result = oracle("timeout", "coreutils")
        .arg("60")
        .arg(env!("CARGO_BIN_EXE_toolmark"))
        .args(args)
        .arg(image)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr).into_owned();
    (result.status.code(), stderr, started.elapsed())
}
