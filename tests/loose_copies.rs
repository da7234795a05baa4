//! Artifacts copied out loose rather than laid out as on the volume: a folder where
//! `Amcache.hve` (with its transaction logs), Prefetch files and event logs lie side
//! by side, and a single hive or Prefetch file given on its own. Each must give the
//! rows the same files give laid out as on the corpus host's C: drive (whose
//! readers are checked against libyal's tools elsewhere), and the same findings.

mod common;

use std::path::{Path, PathBuf};

use common::*;

const HOST: &str = "hosts/win10-aptsim";
const FILES: &[&str] = &[
    "Windows/AppCompat/Programs/Amcache.hve",
    "Windows/AppCompat/Programs/Amcache.hve.LOG1",
    "Windows/AppCompat/Programs/Amcache.hve.LOG2",
    "Windows/Prefetch/PSEXESVC.EXE-AD70946C.pf",
    "Windows/Prefetch/NET.EXE-A0964F30.pf",
    "Windows/Prefetch/SCHTASKS.EXE-8B6144A9.pf",
    "Windows/Prefetch/WMIC.EXE-98223A30.pf",
    "Windows/System32/winevt/Logs/Windows PowerShell.evtx",
    "Windows/System32/winevt/Logs/Microsoft-Windows-WinRM%4Operational.evtx",
];
const ARTIFACTS: &str = "evtx,prefetch,amcache";

/// The same files laid out as on the volume, and flat in one folder.
fn laid_out_and_flat(dir: &Path) -> (PathBuf, PathBuf) {
    let laid_out = dir.join("laid-out");
    let flat = dir.join("flat");
    std::fs::create_dir_all(&flat).unwrap();
    for file in FILES {
        let from = corpus().join(HOST).join(file);
        let to = laid_out.join(file);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&from, &to).unwrap();
        std::fs::copy(&from, flat.join(Path::new(file).file_name().unwrap())).unwrap();
    }
    (laid_out, flat)
}

/// A table's rows without the columns that name the image or where a file was.
fn content(image: &Path, table: &str) -> Vec<Vec<String>> {
    let (header, rows) = read_csv(&image.join(format!("{table}.csv")));
    let keep: Vec<usize> = header
        .iter()
        .enumerate()
        .filter(|(_, h)| {
            !matches!(
                h.as_str(),
                "image" | "host" | "path" | "source_file" | "file"
            )
        })
        .map(|(i, _)| i)
        .collect();
    let mut rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|r| keep.iter().map(|&i| r[i].clone()).collect())
        .collect();
    rows.sort();
    rows
}

fn findings(image: &Path) -> Vec<String> {
    let (header, rows) = read_csv(&image.join("findings.csv"));
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (tool, role, confidence) = (column("tool"), column("role"), column("confidence"));
    let mut found: Vec<String> = rows
        .iter()
        .map(|r| format!("{}:{}:{}", r[tool], r[role], r[confidence]))
        .collect();
    found.sort();
    found
}

#[test]
fn a_folder_of_loose_copies_reads_as_the_same_files_laid_out() {
    let dir = scratch_dir("loose_copies");
    let (laid_out, flat) = laid_out_and_flat(&dir);
    let out = dir.join("out");
    let result = scan_into(&[laid_out, flat], &out, &["--artifacts", ARTIFACTS]);
    assert_eq!(result.status.code(), Some(0), "{result:?}");
    let (a, b) = (out.join("laid-out"), out.join("flat"));
    for table in ["amcache", "prefetch", "evtx"] {
        let (laid, flat) = (content(&a, table), content(&b, table));
        assert!(!laid.is_empty(), "{table}: no rows laid out");
        assert_eq!(laid, flat, "{table}");
    }
    // Amcache's transaction logs were found beside it and replayed the same way.
    let replay = |image: &Path| {
        let manifest: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(image.join("manifest.json")).unwrap())
                .unwrap();
        manifest["hives"].as_array().unwrap().len()
    };
    assert_eq!(replay(&a), replay(&b));
    assert!(replay(&b) > 0);
    assert_eq!(findings(&a), findings(&b));
    assert!(findings(&b)
        .iter()
        .any(|f| f.starts_with("psexec:destination")));
}

#[test]
fn one_loose_hive_or_prefetch_file_is_read_on_its_own() {
    let dir = scratch_dir("loose_copy_alone");
    let (laid_out, _) = laid_out_and_flat(&dir);
    let prefetch = corpus().join(HOST).join(FILES[3]);
    let amcache = corpus().join(HOST).join(FILES[0]);
    for (input, table) in [(prefetch, "prefetch"), (amcache, "amcache")] {
        let out = dir.join(format!("out-{table}"));
        let result = scan_into(
            std::slice::from_ref(&input),
            &out,
            &["--artifacts", ARTIFACTS],
        );
        assert_eq!(result.status.code(), Some(0), "{result:?}");
        let name = input.file_stem().unwrap().to_string_lossy().into_owned();
        let alone = content(&out.join(&name), table);
        assert!(!alone.is_empty(), "{table}");
        // Every row is one the laid-out scan also gave.
        let whole = dir.join("out-whole");
        if !whole.exists() {
            scan_into(
                std::slice::from_ref(&laid_out),
                &whole,
                &["--artifacts", ARTIFACTS],
            );
        }
        let all = content(&whole.join("laid-out"), table);
        for row in &alone {
            assert!(all.contains(row), "{table}: {row:?}");
        }
    }
}

/// A folder holding loose copies beside a disk image is a folder of inputs (each
/// file its own, a hive with its transaction logs), not one host's loose copies.
#[test]
fn loose_copies_beside_an_image_do_not_hide_it() {
    let dir = scratch_dir("loose_copies_batch");
    let cases = dir.join("cases");
    std::fs::create_dir_all(&cases).unwrap();
    let image = corpus().join("images/ewf-ntfs/ntfs_sample.E01");
    std::fs::copy(&image, cases.join("disk.E01")).unwrap();
    std::fs::copy(
        corpus().join(HOST).join(FILES[3]),
        cases.join("PSEXESVC.EXE-AD70946C.pf"),
    )
    .unwrap();
    // A hive with its transaction logs: one input, the logs read with it.
    for file in &FILES[..3] {
        let name = Path::new(file).file_name().unwrap();
        std::fs::copy(corpus().join(HOST).join(file), cases.join(name)).unwrap();
    }
    let out = dir.join("out");
    let result = scan_into(&[cases], &out, &["--artifacts", ARTIFACTS]);
    assert_eq!(result.status.code(), Some(0), "{result:?}");
    assert!(out.join("disk/manifest.json").is_file());
    assert!(out.join("PSEXESVC.EXE-AD70946C/manifest.json").is_file());
    let images: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("manifest.json").is_file())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(images.len(), 3, "{images:?}");
    assert!(!content(&out.join("Amcache"), "amcache").is_empty());
}

/// A folder that keeps a profile's own layout but no `Windows` folder (a copy of
/// `Users/` alone): each user's hives are read as that user's, however deep.
#[test]
fn a_copy_of_profiles_alone_reads_each_users_hives_as_theirs() {
    let dir = scratch_dir("loose_profiles");
    let folder = dir.join("profiles");
    let ntuser = folder.join("Users/nfury/NTUSER.DAT");
    let usrclass = folder.join("Users/nfury/AppData/Local/Microsoft/Windows/UsrClass.dat");
    for (from, to) in [
        ("registry/hives/NTUSER-WIN7.DAT", &ntuser),
        ("registry/hives/UsrClass.dat", &usrclass),
    ] {
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(corpus().join(from), to).unwrap();
    }
    let out = dir.join("out");
    let result = scan_into(&[folder], &out, &["--artifacts", "registry"]);
    assert_eq!(result.status.code(), Some(0), "{result:?}");
    let (header, rows) = read_csv(&out.join("profiles/userassist.csv"));
    let user = header.iter().position(|h| h == "user").unwrap();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r[user] == "nfury"), "{rows:?}");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("profiles/manifest.json")).unwrap())
            .unwrap();
    let hives = manifest["hives"].to_string();
    assert!(hives.contains("UsrClass.dat"), "{hives}");
}
