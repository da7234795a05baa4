//! Virtual disks (VMDK, VHD, VHDX, QCOW2): every corpus VM file and every variant
//! images/build.sh makes reads byte for byte like `qemu-img convert -O raw`, a
//! scan of each that holds its raw source's bytes equals the scan of that source, and damaged ones fail clearly
//! (no panic, no hang, the problem named).

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;
use sha2::{Digest, Sha256};
use toolmark::evidence::{Evidence, ReadAt};

/// Longest any one damaged image may take to fail.
const TIMEOUT: Duration = Duration::from_secs(30);

fn vdisks() -> PathBuf {
    built_images().join("vdisk")
}

/// SHA-256 of the whole virtual disk as toolmark reads it.
fn toolmark_hash(image: &Path) -> Result<(u64, String), String> {
    let evidence = Evidence::open(image).map_err(|e| e.to_string())?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut at = 0u64;
    while at < evidence.len() {
        let n = (evidence.len() - at).min(buf.len() as u64) as usize;
        evidence
            .read_exact_at(&mut buf[..n], at)
            .map_err(|e| e.to_string())?;
        hasher.update(&buf[..n]);
        at += n as u64;
    }
    Ok((evidence.len(), format!("{:x}", hasher.finalize())))
}

/// SHA-256 of what `qemu-img convert -O raw` makes of `image`. The format is
/// named: qemu-img takes a fixed VHD (footer only at the end) for raw.
fn qemu_hash(image: &Path) -> (u64, String) {
    let format = match image.extension().and_then(|e| e.to_str()) {
        Some("vhd") => "vpc",
        Some(other) => other,
        None => panic!("{}: no extension", image.display()),
    };
    let out = scratch_dir("vdisk-qemu").join(format!(
        "{}.raw",
        image.file_name().unwrap().to_string_lossy()
    ));
    run_ok(
        oracle("qemu-img", "qemu-utils")
            .args(["convert", "-f", format, "-O", "raw"])
            .arg(image)
            .arg(&out),
    );
    let hash = file_hash(&out);
    let _ = std::fs::remove_file(&out);
    hash
}

fn file_hash(path: &Path) -> (u64, String) {
    let mut file = std::fs::File::open(path).unwrap();
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut len = 0u64;
    loop {
        let n = file.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        len += n as u64;
    }
    (len, format!("{:x}", hasher.finalize()))
}

fn assert_reads_like_qemu(image: &Path) {
    let ours = toolmark_hash(image).unwrap_or_else(|e| panic!("{}: {e}", image.display()));
    assert_eq!(ours, qemu_hash(image), "{}", image.display());
}

#[test]
fn corpus_vm_files_read_like_qemu() {
    let dir = corpus().join("images/vm");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 6, "{files:?}");
    for f in &files {
        assert_reads_like_qemu(f);
    }
}

#[test]
fn built_variants_read_like_qemu() {
    let d = vdisks();
    let children = [
        "chain/child.qcow2",
        "chain/grandchild.qcow2",
        "chain/child.vmdk",
    ];
    for v in SAME_AS_RAW.iter().chain(&children) {
        assert_reads_like_qemu(&d.join(v));
    }
    // The children differ from their base where they were written, so a reader
    // that ignored the child would have failed above.
    assert_ne!(
        file_hash(&built_images().join("mbr-logical.raw")),
        toolmark_hash(&d.join("chain/child.qcow2")).unwrap()
    );
}

#[test]
fn info_shows_format_and_chain() {
    let out = run_ok(
        toolmark()
            .args(["info", "--json"])
            .arg(vdisks().join("chain/grandchild.qcow2")),
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let chain = json[0]["vdisk"]["chain"].as_array().unwrap();
    let names: Vec<_> = chain
        .iter()
        .map(|l| {
            let path = l["path"].as_str().unwrap();
            path.rsplit('/').next().unwrap().to_string()
        })
        .collect();
    assert_eq!(names, ["grandchild.qcow2", "child.qcow2", "base.qcow2"]);
    assert_eq!(json[0]["container"], "qcow2");
    // Named from its own directory, without one: the parents are found there too.
    let out = run_ok(
        toolmark()
            .args(["info", "--json", "grandchild.qcow2"])
            .current_dir(vdisks().join("chain")),
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json[0]["vdisk"]["chain"].as_array().map(Vec::len), Some(3));
    assert_eq!(chain[0]["subformat"], "v3");
    assert_eq!(chain[2]["virtual_size"], 64 << 20);
    let out = run_ok(toolmark().arg("info").arg(vdisks().join("stream.vmdk")));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("format:      VMDK streamOptimized virtual size 67108864 bytes"),
        "{text}"
    );
}

#[test]
fn redundant_grain_table_replaces_a_damaged_primary() {
    // Only the primary grain table entry was pointed past the end: the redundant
    // table still holds the disk, byte for byte, and the repair is said (the
    // evidence is not intact): `info` and `verify` exit 2 naming it.
    let d = vdisks().join("damaged");
    let image = d.join("corrupt-primary-gt.vmdk");
    assert_eq!(
        toolmark_hash(&image).unwrap(),
        file_hash(&built_images().join("mbr-logical.raw"))
    );
    let repair = Evidence::open(&image)
        .unwrap()
        .damage()
        .expect("the repair is said");
    assert!(
        repair.contains("grain table 0") && repair.contains("redundant copy"),
        "{repair}"
    );
    for command in ["info", "verify"] {
        let out = toolmark().arg(command).arg(&image).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{command}: {stderr}");
        assert!(stderr.contains("redundant copy"), "{command}: {stderr}");
    }
    // The intact sparse disk it was made from has nothing to say.
    let clean = vdisks().join("sparse.vmdk");
    assert_eq!(Evidence::open(&clean).unwrap().damage(), None);
}

/// Opens and reads all of `image` on another thread; the error it ends with.
fn read_fails(image: &Path) -> String {
    let (tx, rx) = mpsc::channel();
    let path = image.to_path_buf();
    std::thread::spawn(move || {
        let _ = tx.send(toolmark_hash(&path));
    });
    match rx.recv_timeout(TIMEOUT) {
        Ok(Ok(hash)) => panic!("{} read without error: {hash:?}", image.display()),
        Ok(Err(e)) => e,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{} hangs", image.display()),
        Err(e) => panic!("{}: reader panicked: {e}", image.display()),
    }
}

#[test]
fn damaged_disks_fail_clearly() {
    let d = vdisks().join("damaged");
    // (file, what the error must say, whether opening already fails: a truncated
    // disk opens, and fails only on the reads that reach the lost part).
    let cases = [
        ("truncated-sparse.vmdk", "end of the file", false),
        ("truncated-stream.vmdk", "end of the file", true),
        ("truncated-dynamic.vhd", "end of the file", false),
        ("truncated-dynamic.vhdx", "end of the file", false),
        ("truncated-plain.qcow2", "end of the file", false),
        ("corrupt-l2.qcow2", "end of the file", true),
        ("corrupt-both-gt.vmdk", "end of the file", true),
        ("corrupt-bat.vhd", "end of the file", true),
        ("loop-self.qcow2", "parent chain loops", true),
        ("loop-a.qcow2", "parent chain loops", true),
        ("orphan.qcow2", "gone.qcow2 not found", true),
    ];
    for (name, expect, info_fails) in cases {
        let error = read_fails(&d.join(name));
        assert!(error.contains(expect), "{name}: '{expect}' not in: {error}");
        assert_cli_survives(&d.join(name), info_fails);
    }
}

/// `toolmark info` and `ls` end within the timeout without a panic; `info`
/// fails (exit 2) when `info_fails`.
fn assert_cli_survives(image: &Path, info_fails: bool) {
    for args in [vec!["info"], vec!["ls", "-r"]] {
        let mut child = toolmark()
            .args(&args)
            .arg(image)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let start = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if start.elapsed() > TIMEOUT {
                let _ = child.kill();
                panic!("{args:?} {} hangs", image.display());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let context = format!("{args:?} {}: {stderr}", image.display());
        assert!(!stderr.contains("panicked"), "{context}");
        if info_fails {
            assert_eq!(status.code(), Some(2), "{context}");
        }
    }
}

/// Every table of `dir` with the `image` and `host` columns (which name the
/// input file) dropped, and a cell that is the image's name made `IMAGE`.
fn tables(dir: &Path, name: &str) -> Vec<(String, Vec<Vec<String>>)> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    names.sort();
    names
        .iter()
        .map(|p| {
            let (header, rows) = read_csv(p);
            let keep: Vec<usize> = (0..header.len())
                .filter(|&i| header[i] != "image" && header[i] != "host")
                .collect();
            let rows = rows
                .iter()
                .map(|r| {
                    keep.iter()
                        .map(|&i| {
                            if r[i] == name {
                                "IMAGE".into()
                            } else {
                                r[i].clone()
                            }
                        })
                        .collect()
                })
                .collect();
            (p.file_name().unwrap().to_string_lossy().into_owned(), rows)
        })
        .collect()
}

/// The built variants that hold the raw source's bytes unchanged (the chain's
/// children were written to, and are compared by their reads above).
const SAME_AS_RAW: [&str; 11] = [
    "sparse.vmdk",
    "stream.vmdk",
    "split/split-sparse.vmdk",
    "split/flat.vmdk",
    "dynamic.vhd",
    "fixed.vhd",
    "dynamic.vhdx",
    "fixed.vhdx",
    "plain.qcow2",
    "v2.qcow2",
    "compressed.qcow2",
];

/// The tables of the one image folder a scan wrote into `out`.
fn scanned_tables(out: &Path) -> Vec<(String, Vec<Vec<String>>)> {
    let folder = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.join("evtx.csv").is_file())
        .unwrap_or_else(|| panic!("no image folder in {}", out.display()));
    let name = folder.file_name().unwrap().to_string_lossy().into_owned();
    tables(&folder, &name)
}

#[test]
fn scan_of_every_virtual_disk_equals_scan_of_its_raw_source() {
    let out = scratch_dir("vdisk-scan");
    let raw = built_images().join("mbr-logical.raw");
    let a = out.join("raw");
    scan_into(&[raw], &a, &[]);
    let raw_tables = scanned_tables(&a);
    assert!(raw_tables.iter().any(|(_, rows)| !rows.is_empty()));
    for (n, variant) in SAME_AS_RAW.iter().enumerate() {
        let b = out.join(format!("variant-{n}"));
        scan_into(&[vdisks().join(variant)], &b, &[]);
        let tables = scanned_tables(&b);
        assert_eq!(raw_tables.len(), tables.len(), "{variant}");
        for (r, v) in raw_tables.iter().zip(&tables) {
            assert_eq!(r, v, "{variant}: {} differs", r.0);
        }
    }
}

#[test]
fn parents_are_only_looked_for_beside_the_image() {
    let root = scratch_dir("vdisk-confined");
    let _ = std::fs::remove_dir_all(&root);
    let case = root.join("case");
    std::fs::create_dir_all(&case).unwrap();
    let qemu = |args: &[&str]| {
        run_ok(
            oracle("qemu-img", "qemu-utils")
                .args(args)
                .current_dir(&case),
        );
    };
    qemu(&["create", "-q", "-f", "qcow2", "../outside.qcow2", "1M"]);
    // A relative name that climbs out of the image's directory is not followed.
    qemu(&[
        "create",
        "-q",
        "-f",
        "qcow2",
        "-b",
        "../outside.qcow2",
        "-F",
        "qcow2",
        "up.qcow2",
    ]);
    let error = read_fails(&case.join("up.qcow2"));
    assert!(error.contains("not found"), "{error}");
    // Nor is a symbolic link beside it that leads out.
    std::os::unix::fs::symlink("../outside.qcow2", case.join("outside.qcow2")).unwrap();
    let error = read_fails(&case.join("up.qcow2"));
    assert!(error.contains("not found"), "{error}");
    std::fs::remove_file(case.join("outside.qcow2")).unwrap();
    // An absolute name is reduced to its file name in the image's directory.
    let absolute = root.join("outside.qcow2");
    let absolute = absolute.to_str().unwrap();
    qemu(&[
        "create",
        "-q",
        "-f",
        "qcow2",
        "-b",
        absolute,
        "-F",
        "qcow2",
        "abs.qcow2",
    ]);
    let error = read_fails(&case.join("abs.qcow2"));
    assert!(error.contains("not found"), "{error}");
    std::fs::copy(root.join("outside.qcow2"), case.join("outside.qcow2")).unwrap();
    let (len, _) = toolmark_hash(&case.join("abs.qcow2")).unwrap();
    assert_eq!(len, 1 << 20);
}

/// A disk whose header claims a petabyte over 40 MB of files (as an edited size
/// field makes it): `verify` and `scan --hash` refuse the whole-disk hash at once,
/// naming both sizes, carving and the search for volumes by signature do not walk
/// the claim, and the scan still reads every file of its NTFS volume, exactly as a
/// scan of the raw source does.
#[test]
fn a_petabyte_disk_over_megabytes_of_files_is_not_hashed_but_still_scanned() {
    let dir = scratch_dir("vdisk-petabyte");
    let raw = built_images().join("vsstest.raw");
    let image = dir.join("claims.qcow2");
    for args in [
        vec!["convert", "-f", "raw", "-O", "qcow2"],
        vec!["resize", "-q", "-f", "qcow2"],
    ] {
        let mut cmd = oracle("qemu-img", "qemu-utils");
        cmd.args(&args);
        if args[0] == "convert" {
            cmd.arg(&raw).arg(&image);
        } else {
            cmd.arg(&image).arg("1P");
        }
        run_ok(&mut cmd);
    }
    assert_eq!(Evidence::open(&image).unwrap().len(), 1 << 50);

    let started = Instant::now();
    let verify = toolmark().arg("verify").arg(&image).output().unwrap();
    let stderr = String::from_utf8_lossy(&verify.stderr);
    assert_eq!(verify.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("presents 1125899906842624 bytes"),
        "{stderr}"
    );

    let out = dir.join("out");
    let scan = scan_into(std::slice::from_ref(&image), &out, &["--hash"]);
    assert_eq!(scan.status.code(), Some(2));
    let (_, errors) = read_csv(&out.join("claims/errors.csv"));
    for (path, stage, starts) in [
        ("", "image", "hashing: the disk presents"),
        ("(unallocated)", "carve", "not carved: the disk presents"),
    ] {
        assert!(
            errors
                .iter()
                .any(|e| e[2] == path && e[3] == stage && e[4].starts_with(starts)),
            "{stage}: {errors:?}"
        );
    }
    // Neither a whole-image carve nor a search for volumes by signature walks the
    // claim (a sector read per MiB would be 2^30 reads).
    let all = dir.join("carve-all");
    let scan = scan_into(std::slice::from_ref(&image), &all, &["--carve-all"]);
    assert_eq!(scan.status.code(), Some(2));
    let (_, errors) = read_csv(&all.join("claims/errors.csv"));
    assert!(
        errors
            .iter()
            .any(|e| e[3] == "carve" && e[4].starts_with("not carved: the disk presents")),
        "{errors:?}"
    );
    let info = toolmark().arg("info").arg(&image).output().unwrap();
    assert_eq!(info.status.code(), Some(2));
    // An empty petabyte disk has no table and no volume at its start, so volumes
    // are looked for by signature: in its first 64 GiB only (a release build took
    // 14 s for the whole claim, a debug one far longer).
    let empty = dir.join("empty.qcow2");
    run_ok(
        oracle("qemu-img", "qemu-utils")
            .args(["create", "-q", "-f", "qcow2"])
            .arg(&empty)
            .arg("1P"),
    );
    let searched = Instant::now();
    let info = toolmark().arg("info").arg(&empty).output().unwrap();
    let stderr = String::from_utf8_lossy(&info.stderr);
    assert_eq!(info.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("first 64 GiB only"), "{stderr}");
    assert!(
        searched.elapsed() < Duration::from_secs(10),
        "{:?}",
        searched.elapsed()
    );
    assert!(started.elapsed() < TIMEOUT, "{:?}", started.elapsed());
    // Everything but the hash: the same files as the raw source's scan.
    let source = dir.join("source");
    scan_into(&[raw], &source, &[]);
    let (_, ours) = read_csv(&out.join("claims/mft.csv"));
    let (_, theirs) = read_csv(&source.join("vsstest/mft.csv"));
    assert!(ours.len() > 100, "{} MFT rows", ours.len());
    // Image and host columns apart (the host is named after the image here).
    let without_image = |rows: &[Vec<String>]| -> Vec<Vec<String>> {
        let mut rows: Vec<_> = rows.iter().map(|r| r[2..].to_vec()).collect();
        rows.sort();
        rows
    };
    assert!(without_image(&ours) == without_image(&theirs));

    // A real thin disk is hashed: the corpus QCOW2 (64 MiB over 3 MB of file).
    let corpus_disk = corpus().join("images/vm/dfvfs-windows_volume.qcow2");
    let verify = toolmark().arg("verify").arg(&corpus_disk).output().unwrap();
    assert_eq!(verify.status.code(), Some(0));
}

/// A parent that is not the disk its child was made from (here the child's base
/// with its `CID` changed, as a write to it changes it): the chain is still read
/// as found, but `info` and `scan` name the mismatch and exit 2. The chain
/// qemu-img made matches (its child's `parentCID` is the base's `CID`): exit 0.
#[test]
fn a_parent_that_is_not_the_childs_own_is_named() {
    let built = vdisks().join("chain");
    let dir = scratch_dir("vdisk-parent-mismatch");
    for name in ["child.vmdk", "base.vmdk"] {
        std::fs::copy(built.join(name), dir.join(name)).unwrap();
    }
    let child = dir.join("child.vmdk");
    let info = |code: i32| {
        let out = toolmark().arg("info").arg(&child).output().unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(code), "{said}");
        said
    };
    info(0);
    let (_, before) = toolmark_hash(&child).unwrap();
    // The base's own `CID=` line (not its `parentCID=`): one hex digit changed.
    let mut base = std::fs::read(dir.join("base.vmdk")).unwrap();
    let at = base
        .windows(5)
        .position(|w| w == b"\nCID=")
        .expect("the base's descriptor has a CID")
        + 5;
    base[at] = if base[at] == b'0' { b'1' } else { b'0' };
    std::fs::write(dir.join("base.vmdk"), &base).unwrap();
    let said = info(2);
    assert!(said.contains("is not the disk it was made from"), "{said}");
    // Only the descriptor's text changed: the disk reads the same.
    assert_eq!(toolmark_hash(&child).unwrap().1, before);
    let out = scratch_dir("vdisk-parent-mismatch-scan");
    let result = scan_into(std::slice::from_ref(&child), &out, &["--jobs", "1"]);
    assert_eq!(result.status.code(), Some(2));
    let errors = std::fs::read_to_string(out.join("child/errors.csv")).unwrap();
    assert!(
        errors.contains("child.vmdk: its parent base.vmdk is not the disk it was made from"),
        "{errors}"
    );
}
