#!/usr/bin/env python3
"""Hostile-input smoke run: mutate small seeds and run toolmark over each mutant.

Each seed is a disk image, a triage folder holding one artifact, or that artifact
given loose on its own. Every mutant
(bit flips, truncation, zeroed range, absurd 32/64-bit values written over
header fields) is run through `toolmark scan` and, for images, `info`, `ls -r`,
`cat /$MFT` and `verify`, under
/usr/bin/time -v and a timeout. Reported: panics ("panicked" on stderr),
hangs (longer than HANG_FACTOR x the clean run, at least MIN_TIMEOUT s),
peak RSS over 512 MiB, and exit codes other than 0/2 (and 1 from `verify` naming
a real stored hash that does not match).

    fuzz/mutate.py TOOLMARK_BIN CORPUS IMAGES WORKDIR [--rounds N] [--seed S]

Failing mutants are kept under WORKDIR/failures/ with a line in failures.txt.
"""
import argparse, os, random, shutil, struct, subprocess, sys, time

HANG_FACTOR = 2.0
MIN_TIMEOUT = 20.0
RSS_LIMIT_KIB = 512 * 1024
ABSURD = [0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000,
          0xFFFFFFFF, 0xFFFFFFF0, 0x100000, 0x10000000]


def mutate(data: bytearray, rng: random.Random) -> tuple[bytearray, str]:
    kind = rng.choice(["flip", "flip", "trunc", "zero", "absurd", "absurd", "absurd64", "dup"])
    n = len(data)
    if n == 0:
        return data, "empty"
    # Headers and structure starts are where damage bites: bias towards them.
    def pos():
        r = rng.random()
        if r < 0.4:
            return rng.randrange(min(n, 4096))
        if r < 0.7:
            return (rng.randrange(n) // 512) * 512 + rng.randrange(96) if n > 512 else rng.randrange(n)
        return rng.randrange(n)
    if kind == "flip":
        k = rng.choice([1, 2, 8, 64])
        where = []
        for _ in range(k):
            p = min(pos(), n - 1)
            data[p] ^= 1 << rng.randrange(8)
            where.append(p)
        return data, f"flip {k} at {where[:4]}"
    if kind == "trunc":
        cut = rng.randrange(n)
        return data[:cut], f"trunc {cut}"
    if kind == "zero":
        p = min(pos(), n - 1)
        length = rng.choice([8, 64, 512, 4096, 32768])
        data[p:p + length] = bytes(min(length, n - p))
        return data, f"zero {length} at {p}"
    if kind == "dup":
        # A block copied over another: loops and twins in lists and runs.
        a, b = pos(), pos()
        length = rng.choice([16, 512, 4096])
        chunk = data[a:a + length]
        data[b:b + len(chunk)] = chunk
        return data[:n], f"dup {length} {a}->{b}"
    p = min(pos(), n - 8) & ~3 if n >= 8 else 0
    if kind == "absurd":
        v = rng.choice(ABSURD)
        data[p:p + 4] = struct.pack("<I", v)
        return data, f"u32 {v:#x} at {p}"
    v = rng.choice([0xFFFFFFFFFFFFFFFF, 0x7FFFFFFFFFFFFFFF, 1 << 40, 1 << 50])
    if p + 8 <= n:
        data[p:p + 8] = struct.pack("<Q", v)
    return data, f"u64 {v:#x} at {p}"


def run(cmd, timeout):
    started = time.monotonic()
    try:
        p = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, time.monotonic() - started, 0, "", ""
    took = time.monotonic() - started
    err = p.stderr.decode("utf-8", "replace")
    rss = 0
    for line in err.splitlines():
        if "Maximum resident set size" in line:
            rss = int(line.split(":")[1])
    return p.returncode, took, rss, err, p.stdout.decode("utf-8", "replace")


def true_mismatch(cname, code, out):
    """`verify` exits 1 when a stored hash (a real one, not all zeros) differs from
    the media's: a mutant that changed the stored hash or data the checksums
    missed is rightly a mismatch."""
    return cname == "verify" and code == 1 and any(
        "MISMATCH" in line and set(line.split()[2]) != {"0"}
        for line in out.splitlines() if len(line.split()) > 2)


def seeds(corpus, images, work):
    """(name, kind, path of seed file, how to lay it out as an input)."""
    s = []
    for rel in ["images/ntfs-crate/testfs1", "images/ewf-ntfs/ntfs_sample.E01",
                "images/ewf-ntfs/gpt_ntfs.E01", "images/ewf-ntfs/partitioned_ntfs.E01",
                "images/containers/image.E01", "images/containers/tsk_volume_system.raw",
                # Virtual disks and a volume with shadow copies: container, NTFS and
                # VSS readers together, as a scan meets them.
                "images/vm/dfvfs-windows_volume.qcow2", "images/vm/plaso-image.vmdk",
                "images/vm/plaso-image.vhd", "images/vss/vsstest.qcow2"]:
        s.append((os.path.basename(rel), "image", os.path.join(corpus, rel), None))
    logs = os.path.join(corpus, "hosts/win10-aptsim/Windows/System32/winevt/Logs")
    triage = [
        ("Security.evtx", os.path.join(corpus, "evtx/robustness/Security_short_selected.evtx"),
         "Windows/System32/winevt/Logs/Security.evtx"),
        ("System.evtx", os.path.join(corpus, "evtx/robustness/2-vss_7-System.evtx"),
         "Windows/System32/winevt/Logs/System.evtx"),
        ("NTUSER.DAT", os.path.join(corpus, "registry/hives/NTUSER.DAT"),
         "Users/u/NTUSER.DAT"),
        ("Amcache.hve", os.path.join(corpus, "registry/amcache/Win10-RathbunVM/Amcache.hve"),
         "Windows/AppCompat/Programs/Amcache.hve"),
        ("Amcache.hve.LOG1", os.path.join(corpus, "registry/amcache/Win10-RathbunVM/Amcache.hve.LOG1"),
         "Windows/AppCompat/Programs/Amcache.hve.LOG1"),
        ("Amcache.hve.LOG2", os.path.join(corpus, "registry/amcache/Win10-RathbunVM/Amcache.hve.LOG2"),
         "Windows/AppCompat/Programs/Amcache.hve.LOG2"),
        ("pf", os.path.join(corpus, "hosts/win10-aptsim/Windows/Prefetch/WMIC.EXE-98223A30.pf"),
         "Windows/Prefetch/WMIC.EXE-98223A30.pf"),
        ("MFT", os.path.join(corpus, "ntfs/dfir_ntfs/4k-large.mft"), "$MFT"),
        ("J", os.path.join(corpus, "ntfs/dfir_ntfs/usnjrnlj.bin"), "$Extend/$J"),
    ]
    system = os.path.join(work, "SYSTEM.seed")
    tasks = os.path.join(work, "At1.seed")
    for path, dst in [(system, "/Windows/System32/config/SYSTEM"), (tasks, "/Windows/System32/Tasks/At1")]:
        if not os.path.exists(path):
            with open(path, "wb") as f:
                subprocess.run([BIN, "cat", os.path.join(images, "win10-aptsim.raw"), dst], stdout=f, check=True)
    triage += [("SYSTEM", system, "Windows/System32/config/SYSTEM"),
               ("task", tasks, "Windows/System32/Tasks/At1")]
    for name, path, rel in triage:
        s.append((name, "triage", path, rel))
        # The same artifact copied out loose and given on its own (collect/loose.rs):
        # known by its signature and name, so a mutated head decides how it is read.
        if name not in ("Amcache.hve.LOG1", "Amcache.hve.LOG2", "task"):
            s.append((name + " (loose)", "loose", path, os.path.basename(rel)))
    return s


def companions(corpus):
    """Unmutated files laid beside an Amcache mutant: the hive and its logs."""
    am = os.path.join(corpus, "registry/amcache/Win10-RathbunVM")
    return [(os.path.join(am, f), "Windows/AppCompat/Programs/" + f)
            for f in ["Amcache.hve", "Amcache.hve.LOG1", "Amcache.hve.LOG2"]]


def lay_out(kind, rel, data, dst):
    shutil.rmtree(dst, ignore_errors=True)
    os.makedirs(dst)
    if kind == "image":
        path = os.path.join(dst, "image" + os.path.splitext(rel or "")[1])
        with open(path, "wb") as f:
            f.write(data)
        return path
    if kind == "loose":
        path = os.path.join(dst, rel)
        with open(path, "wb") as f:
            f.write(data)
        return path
    for src, crel in COMPANIONS if "Amcache" in rel else []:
        if crel == rel:
            continue
        cpath = os.path.join(dst, "triage", crel)
        os.makedirs(os.path.dirname(cpath), exist_ok=True)
        shutil.copyfile(src, cpath)
    # A triage folder is recognised by its Windows folder.
    os.makedirs(os.path.join(dst, "triage", "Windows", "System32"), exist_ok=True)
    path = os.path.join(dst, "triage", rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return os.path.join(dst, "triage")


def commands(kind, target, out):
    scan = [BIN, "scan", target, "-o", out, "-q", "--jobs", "1", "--force"]
    if kind in ("triage", "loose"):
        return [("scan", scan)]
    return [("scan", scan), ("info", [BIN, "info", target]), ("ls", [BIN, "ls", target, "-r", "--deleted"]),
            # The MFT read through its own data runs, and a whole-image hash.
            ("cat", [BIN, "cat", target, "/$MFT"]), ("verify", [BIN, "verify", target])]


def main():
    global BIN, COMPANIONS
    ap = argparse.ArgumentParser()
    ap.add_argument("bin"); ap.add_argument("corpus"); ap.add_argument("images"); ap.add_argument("work")
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    BIN = a.bin
    COMPANIONS = companions(a.corpus)
    os.makedirs(a.work, exist_ok=True)
    fails = open(os.path.join(a.work, "failures.txt"), "a")
    rng = random.Random(a.seed)
    total = bad = 0
    for name, kind, path, rel in seeds(a.corpus, a.images, a.work):
        if a.only and a.only not in name:
            continue
        clean = bytearray(open(path, "rb").read())
        dst = os.path.join(a.work, "case")
        ext_rel = rel if kind in ("triage", "loose") else path
        target = lay_out(kind, ext_rel, clean, dst)
        base = {}
        for cname, cmd in commands(kind, target, os.path.join(dst, "out")):
            code, took, rss, err, _ = run(cmd, 600)
            base[cname] = took
            print(f"{name} clean {cname}: exit {code} {took:.1f}s {rss // 1024} MiB", flush=True)
        for r in range(a.rounds):
            data, how = mutate(bytearray(clean), rng)
            target = lay_out(kind, ext_rel, data, dst)
            for cname, cmd in commands(kind, target, os.path.join(dst, "out")):
                limit = max(MIN_TIMEOUT, HANG_FACTOR * base[cname])
                code, took, rss, err, out = run(cmd, limit)
                total += 1
                problem = None
                if code is None:
                    problem = f"hang (> {limit:.0f}s)"
                elif "panicked" in err:
                    problem = "panic: " + next(l for l in err.splitlines() if "panicked" in l)
                elif rss > RSS_LIMIT_KIB:
                    problem = f"rss {rss // 1024} MiB"
                elif code not in (0, 2) and not true_mismatch(cname, code, out):
                    problem = f"exit {code}: {err.strip().splitlines()[:1]}"
                if problem:
                    bad += 1
                    keep = os.path.join(a.work, "failures", f"{name}-{a.seed}-{r}")
                    shutil.rmtree(keep, ignore_errors=True)
                    shutil.copytree(dst, keep, ignore=shutil.ignore_patterns("out"))
                    line = f"{name} round {r} {cname}: {problem} [{how}] kept {keep}"
                    print(line, flush=True)
                    fails.write(line + "\n"); fails.flush()
    print(f"{total} runs, {bad} problems")


if __name__ == "__main__":
    main()
