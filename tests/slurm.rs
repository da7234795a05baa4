//! The repository's own Slurm launchers (`deploy/slurm/`) on a real single-node
//! Slurm cluster started for the test: a job array of three scan tasks and the merge
//! as a dependent job. The merged output must equal a single-process scan of the same
//! inputs. CI runs as root with slurmctld, slurmd, slurm-client and munge installed
//! (.ci/packages.txt); anything missing fails the test, it is never skipped.

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// A program the test needs, from its Debian package; fails loudly when missing.
fn program(name: &str, package: &str) -> Command {
    oracle(name, package)
}

/// Daemons started by the test, stopped (by their own pids) when it ends.
struct Daemons {
    children: Vec<Child>,
    munged_pid_file: Option<PathBuf>,
}

impl Drop for Daemons {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(pid) = self
            .munged_pid_file
            .as_ref()
            .and_then(|f| std::fs::read_to_string(f).ok())
        {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
    }
}

/// A TCP port nobody listens on now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn munge_works() -> bool {
    let Ok(mut munge) = program("munge", "munge")
        .arg("-n")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    else {
        return false;
    };
    let credential = munge.stdout.take().unwrap();
    let ok = Command::new("unmunge")
        .stdin(credential)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let _ = munge.wait();
    ok
}

/// Starts munged (unless one runs), slurmctld and slurmd on this host with a
/// configuration of their own in `dir`; returns them once the node is idle.
fn start_cluster(dir: &Path) -> (Daemons, PathBuf) {
    let uid = String::from_utf8(
        program("id", "coreutils")
            .arg("-u")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(
        uid.trim(),
        "0",
        "the Slurm test starts daemons and needs root"
    );
    let mut daemons = Daemons {
        children: Vec::new(),
        munged_pid_file: None,
    };
    if !munge_works() {
        std::fs::create_dir_all("/run/munge").unwrap();
        run_ok(Command::new("chown").args([
            "-R",
            "munge:munge",
            "/run/munge",
            "/var/log/munge",
            "/var/lib/munge",
            "/etc/munge",
        ]));
        run_ok(Command::new("runuser").args(["-u", "munge", "--", "/usr/sbin/munged"]));
        daemons.munged_pid_file = Some(PathBuf::from("/run/munge/munged.pid"));
        let started = Instant::now();
        while !munge_works() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "munged did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let host = String::from_utf8(
        program("hostname", "hostname")
            .arg("-s")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_string();
    // The scan script asks for 2 CPUs a task; a 1-CPU machine still offers 2
    // (config_overrides: slurmd takes the configured count, not the counted one).
    let cpus = std::thread::available_parallelism().map_or(2, |n| n.get().max(2));
    for sub in ["state", "slurmd"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let d = dir.display();
    let conf = dir.join("slurm.conf");
    std::fs::write(
        &conf,
        format!(
            "ClusterName=toolmark-test\n\
             SlurmctldHost={host}\n\
             SlurmctldPort={ctld}\n\
             SlurmdPort={slurmd}\n\
             AuthType=auth/munge\n\
             ProctrackType=proctrack/linuxproc\n\
             TaskPlugin=task/none\n\
             MpiDefault=none\n\
             SchedulerType=sched/backfill\n\
             SelectType=select/cons_tres\n\
             SelectTypeParameters=CR_Core\n\
             ReturnToService=2\n\
             SlurmdParameters=config_overrides\n\
             SchedulerParameters=kill_invalid_depend\n\
             SlurmctldPidFile={d}/slurmctld.pid\n\
             SlurmdPidFile={d}/slurmd.pid\n\
             SlurmctldLogFile={d}/slurmctld.log\n\
             SlurmdLogFile={d}/slurmd.log\n\
             SlurmdSpoolDir={d}/slurmd\n\
             StateSaveLocation={d}/state\n\
             SlurmUser=root\n\
             SlurmdUser=root\n\
             JobCompType=jobcomp/none\n\
             JobAcctGatherType=jobacct_gather/none\n\
             AccountingStorageType=accounting_storage/none\n\
             NodeName={host} CPUs={cpus} State=UNKNOWN\n\
             PartitionName=test Nodes={host} Default=YES MaxTime=INFINITE State=UP\n",
            ctld = free_port(),
            slurmd = free_port(),
        ),
    )
    .unwrap();
    for (daemon, package) in [("slurmctld", "slurmctld"), ("slurmd", "slurmd")] {
        let child = program(daemon, package)
            .args(["-D", "-f"])
            .arg(&conf)
            .env("SLURM_CONF", &conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        daemons.children.push(child);
        if daemon == "slurmctld" {
            std::thread::sleep(Duration::from_millis(500));
        }
    }
    let started = Instant::now();
    loop {
        let state = program("sinfo", "slurm-client")
            .args(["-h", "-o", "%T"])
            .env("SLURM_CONF", &conf)
            .output()
            .unwrap();
        if String::from_utf8_lossy(&state.stdout).trim() == "idle" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the Slurm node did not become idle: {}{}\nslurmctld.log:\n{}\nslurmd.log:\n{}",
            String::from_utf8_lossy(&state.stdout),
            String::from_utf8_lossy(&state.stderr),
            std::fs::read_to_string(dir.join("slurmctld.log")).unwrap_or_default(),
            std::fs::read_to_string(dir.join("slurmd.log")).unwrap_or_default(),
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    (daemons, conf)
}

#[test]
fn a_slurm_job_array_and_its_dependent_merge_equal_one_scan() {
    let work = scratch_dir("slurm");
    let _ = std::fs::remove_dir_all(&work);
    let mut inputs = triage_folders(
        &work.join("in"),
        &[
            ("fs03", "T1021.002-SMB Windows Admin Shares/ID4688-4648 Lateral movement with net use.evtx"),
            ("fs03vuln", "T1003-Credential dumping/ID4656, 5145, 4674-Impacket secret dump via SMB.evtx"),
            ("pth-host", "T1550-Use Alternate Authentication Material/ID4624-Mimikatz Pass the hash.evtx"),
            ("rdp-host", "T1021.001-Remote Desktop Protocol/ID4688,4778,4779 RDP hijack direct.evtx"),
            ("srvdefender01", "T1021.002-SMB Windows Admin Shares/ID4688,4697,5140-5145 PSexec remote execution + admin share.evtx"),
        ],
    );
    inputs.push(built_images().join("triage-renamed"));
    let (daemons, conf) = start_cluster(&work.join("slurm"));
    let out = work.join("out");
    let sbatch = |args: &[&str], script: &str, tail: &[PathBuf]| {
        // A merge whose array failed is cancelled (kill_invalid_depend); `timeout`
        // bounds the wait whatever else goes wrong.
        let result = program("timeout", "coreutils")
            .args(["300", "sbatch"])
            .args(args)
            .arg(root().join("deploy/slurm").join(script))
            .args(tail)
            .current_dir(&work)
            .env("SLURM_CONF", &conf)
            .env("TOOLMARK", env!("CARGO_BIN_EXE_toolmark"))
            .output()
            .unwrap();
        let logs: Vec<String> = std::fs::read_dir(&work)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "log"))
            .map(|p| format!("{}:\n{}", p.display(), std::fs::read_to_string(&p).unwrap()))
            .collect();
        assert!(
            result.status.success(),
            "sbatch {script} failed: {}\n{}",
            String::from_utf8_lossy(&result.stderr),
            logs.join("\n")
        );
        String::from_utf8(result.stdout).unwrap().trim().to_string()
    };
    // The commands of the README, with --wait on the last so the test can look.
    let mut scan_args = vec![out.clone()];
    scan_args.extend(inputs.iter().cloned());
    let array = sbatch(&["--parsable", "--array=0-2"], "scan.sbatch", &scan_args);
    let job = array.split(';').next().unwrap().to_string();
    sbatch(
        &["--wait", &format!("--dependency=afterok:{job}")],
        "merge.sbatch",
        std::slice::from_ref(&out),
    );
    drop(daemons);

    for shard in 0..3 {
        let manifest = manifest_without_timings(&out.join(format!("shard-{shard}/manifest.json")));
        assert_eq!(manifest["shard"]["index"], shard);
        assert_eq!(
            manifest["images"].as_array().unwrap().len(),
            2,
            "6 inputs, 3 tasks"
        );
    }
    let single = work.join("single");
    let scanned = scan_into(&inputs, &single, &[]);
    assert_eq!(scanned.status.code(), Some(0));
    assert_same_output(&out.join("merged"), &single, "Slurm merge");
    // The edge between two images that different tasks scanned.
    let (header, rows) = read_csv(&out.join("merged/lateral_movement.csv"));
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    assert!(rows
        .iter()
        .any(|r| r[col("source_image")] == "fs03" && r[col("destination_image")] == "fs03vuln"));
}
