#!/usr/bin/env python3
"""Score toolmark against the labelled attack logs of eval/labels.toml.

Each labelled log is scanned on its own: it is linked into a throw-away triage
folder laid out like a Windows volume, `toolmark scan` runs on that folder, and
the tool:role pairs of its findings.csv are compared with the labels.

Only the CLI contract is used (scan DIR -o OUT -q --artifacts evtx, findings.csv
with columns tool, role, confidence), so the script keeps working while the
scan pipeline changes. It is a report: it always exits 0.

Standard library only (Python 3.11+ for tomllib).
"""

import argparse
import collections
import concurrent.futures
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from splitrule import assign_splits  # noqa: E402

ROLES = ("source", "destination", "dc")
# Confidence levels, weakest first; a finding counts at a level when its own is that or stronger.
LEVELS = ("possible", "likely", "confirmed")


def at_least(confidence, minimum):
    """Whether `confidence` (a findings.csv cell; unknown spellings count as the weakest) reaches `minimum`."""
    rank = LEVELS.index(confidence) if confidence in LEVELS else 0
    return rank >= LEVELS.index(minimum)

# The 60 tool ids of the sheets, plus the family id `mimikatz` used when a
# mimikatz binary ran but the log does not say which module.
TOOLS = set(
    """acehash azurehound badsuccessor beginx bits csvde dcdiag dcshadow dcsync
    diamond_ticket dsquery fakewpad find_gpopasswords get_gpppassword golden_ticket
    gsecdump htran invoke_mimikatz klist_purge ldifde lslsass mimikatz_lsadump_sam
    mimikatz_sekurlsa_logonpasswords mimikatz_sekurlsa_tickets ms14_058 ms14_068
    ms15_078 mstsc net_use net_user nltest nmap ntdsutil ntlmrelayx out_minidump
    overpass_the_hash pass_the_prt powermemory powermemory_key6 psexec pwdump7 pwdump8
    pwdumpx quarkspwdump remotelogin_mimikatz remotelogin_wce schtasks sdb_uac_bypass
    sdelete sharphound silver_ticket timestomp vssadmin wce webbrowserpassview
    wevtutil winrm winrs wmic wmiexec_vbs""".split()
)
FAMILY = "mimikatz"
# Sheet entries that are a mimikatz module run by the mimikatz binary (Invoke-Mimikatz
# is its own PowerShell tool and stays out).
MODULES = {
    "mimikatz_lsadump_sam",
    "mimikatz_sekurlsa_logonpasswords",
    "mimikatz_sekurlsa_tickets",
    "remotelogin_mimikatz",
    "golden_ticket",
    "silver_ticket",
    "pass_the_prt",
}


def load_labels(path):
    with open(path, "rb") as f:
        return tomllib.load(f)["log"]


def check_labels(logs, corpus):
    """Vocabulary, coverage and split of the label file; returns a list of problems."""
    problems = []
    paths = [log["path"] for log in logs]
    for p, n in collections.Counter(paths).items():
        if n > 1:
            problems.append(f"{p}: listed {n} times")
    for log in logs:
        for lab in log["labels"]:
            tool, _, role = lab.partition(":")
            if tool not in TOOLS | {FAMILY} or role not in ROLES:
                problems.append(f"{log['path']}: bad label {lab!r}")
        if log["split"] not in ("tune", "check"):
            problems.append(f"{log['path']}: bad split {log['split']!r}")
    expected = assign_splits(paths)
    for log in logs:
        if log["split"] != expected[log["path"]]:
            problems.append(f"{log['path']}: split {log['split']} but the rule gives {expected[log['path']]}")
    if corpus:
        on_disk = {
            str(p.relative_to(corpus)).replace(os.sep, "/")
            for sub in ("evtx/attack", "evtx/attack-more")
            for p in (Path(corpus) / sub).rglob("*")
            if p.is_file() and p.suffix.lower() == ".evtx"
        }
        for p in sorted(on_disk - set(paths)):
            problems.append(f"{p}: in the corpus but not labelled")
        for p in sorted(set(paths) - on_disk):
            problems.append(f"{p}: labelled but not in the corpus")
    return problems


def scan_one(n, log, corpus, binary, work):
    """Scan one log in its own triage folder; returns (rows, error text or None)."""
    src = (Path(corpus) / log["path"]).resolve()
    logs_dir = work / "T" / str(n) / "Windows" / "System32" / "winevt" / "Logs"
    logs_dir.mkdir(parents=True, exist_ok=True)
    link = logs_dir / src.name
    if not link.exists():
        # toolmark skips symlinks inside a triage folder (they could lead out of
        # it), so place a real file: a hard link where possible, else a copy.
        try:
            os.link(src, link)
        except OSError:
            shutil.copyfile(src, link)
    out = work / "OUT" / str(n)
    if out.exists():
        shutil.rmtree(out)
    cmd = [binary, "scan", str(work / "T" / str(n)), "-o", str(out), "-q", "--artifacts", "evtx"]
    proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    # The output layout is OUT/<image>/findings.csv today; search so that a flat
    # OUT/findings.csv (or deeper nesting) also works.
    rows = []
    for csv_path in sorted(out.rglob("findings.csv")):
        with open(csv_path, newline="", encoding="utf-8-sig") as f:
            for row in csv.DictReader(f):
                # Cells may carry a leading apostrophe (spreadsheet-formula guard).
                get = lambda k: (row.get(k) or "").strip().lstrip("'").lower()
                if get("tool"):
                    rows.append((get("tool"), get("role"), get("confidence")))
    err = None
    if proc.returncode != 0 and not rows:
        err = f"exit {proc.returncode}: {proc.stderr.strip()[:300]}"
    return rows, err


def match(labels, found):
    """Compare one log's label set with its found set of tool:role pairs.

    Returns (hits, misses, extras, family_hits): hits and misses are labels,
    extras are findings. A family label `mimikatz:R` is met by any module finding
    on role R (and absorbs all of them); a module label is met by a family
    finding `mimikatz:R`. Such pairings count as hits, and are also listed in
    family_hits so that the report can show how many were family-level only.
    """
    hits = set(labels) & set(found)
    misses = set(labels) - hits
    extras = set(found) - hits
    family_hits = set()
    for lab in sorted(misses):
        tool, _, role = lab.partition(":")
        if tool != FAMILY and tool not in MODULES:
            continue
        partners = {
            f
            for f in extras
            if f.endswith(":" + role)
            and (f.split(":")[0] == FAMILY or f.split(":")[0] in MODULES)
            and (tool == FAMILY or f.split(":")[0] == FAMILY)
        }
        if partners:
            misses.discard(lab)
            hits.add(lab)
            family_hits.add(lab)
            # A family label takes every module guess on its role; a module label
            # only takes the family finding.
            extras -= partners
    # A family finding left over while a module label of the same role was met
    # exactly says nothing new: drop it rather than count it false.
    for f in sorted(extras):
        tool, _, role = f.partition(":")
        if tool == FAMILY and any(h.endswith(":" + role) and h.split(":")[0] in MODULES for h in hits):
            extras.discard(f)
    return hits, misses, extras, family_hits


def score(logs, results, minimum):
    per_tool = collections.defaultdict(lambda: [0, 0, 0])  # tp, fp, fn
    per_file = []
    family = 0
    tool_only = [0, 0, 0]
    for log, (rows, err) in zip(logs, results):
        found = {f"{t}:{r}" for t, r, c in rows if at_least(c, minimum)}
        hits, misses, extras, fam = match(log["labels"], found)
        family += len(fam)
        for lab in hits:
            per_tool[lab.split(":")[0]][0] += 1
        for f in extras:
            per_tool[f.split(":")[0]][1] += 1
        for lab in misses:
            per_tool[lab.split(":")[0]][2] += 1
        # Role-blind view: did the right tool show up at all?
        lt = {l.split(":")[0] for l in log["labels"]}
        ft = {f.split(":")[0] for f in found}
        fam_ids = MODULES | {FAMILY}
        lt2 = {FAMILY if t in fam_ids else t for t in lt}
        ft2 = {FAMILY if t in fam_ids else t for t in ft}
        tool_only[0] += len(lt2 & ft2)
        tool_only[1] += len(ft2 - lt2)
        tool_only[2] += len(lt2 - ft2)
        per_file.append((log, sorted(misses), sorted(extras), err))
    return per_tool, per_file, family, tool_only


def ratio(a, b):
    return a / b if b else float("nan")


def fmt(x):
    return "-" if x != x else f"{x:.2f}"


def micro(per_tool):
    tp = sum(v[0] for v in per_tool.values())
    fp = sum(v[1] for v in per_tool.values())
    fn = sum(v[2] for v in per_tool.values())
    return tp, fp, fn, ratio(tp, tp + fp), ratio(tp, tp + fn)


def table(per_tool, markdown):
    lines = []
    if markdown:
        lines.append("| tool | TP | FP | FN | precision | recall |")
        lines.append("| --- | ---: | ---: | ---: | ---: | ---: |")
    else:
        lines.append(f"{'tool':34} {'TP':>4} {'FP':>4} {'FN':>4} {'prec':>6} {'rec':>6}")
    for tool in sorted(per_tool):
        tp, fp, fn = per_tool[tool]
        p, r = fmt(ratio(tp, tp + fp)), fmt(ratio(tp, tp + fn))
        if markdown:
            lines.append(f"| {tool} | {tp} | {fp} | {fn} | {p} | {r} |")
        else:
            lines.append(f"{tool:34} {tp:4} {fp:4} {fn:4} {p:>6} {r:>6}")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--toolmark", help="toolmark binary")
    ap.add_argument("--corpus", help="corpus root (the directory holding evtx/)")
    ap.add_argument("--split", choices=("check", "tune", "all"), default="check")
    ap.add_argument("--labels", default=str(HERE / "labels.toml"))
    ap.add_argument("--markdown", action="store_true", help="print the per-tool tables as Markdown")
    ap.add_argument("--jobs", type=int, default=2, help="scans run in parallel")
    ap.add_argument("--work", help="keep the triage folders and scan output here (default: a temp dir)")
    ap.add_argument("--min-confidence", choices=LEVELS[1:], default="likely",
                    help="the second count keeps findings of this confidence or stronger (default likely)")
    ap.add_argument("--check-labels", action="store_true", help="only validate labels.toml (split rule, vocabulary, coverage)")
    args = ap.parse_args()

    logs = load_labels(args.labels)
    problems = check_labels(logs, args.corpus)
    if args.check_labels or not (args.toolmark and args.corpus):
        print(f"{len(logs)} labelled logs; {len(problems)} problem(s)")
        for p in problems:
            print("  " + p)
        if not args.check_labels:
            print("(give --toolmark and --corpus to score)")
        return 0
    for p in problems:
        print("label problem: " + p)

    chosen = [log for log in logs if args.split == "all" or log["split"] == args.split]
    binary = str(Path(args.toolmark).resolve())
    work = Path(args.work).resolve() if args.work else Path(tempfile.mkdtemp(prefix="toolmark-eval-"))
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(lambda nl: scan_one(nl[0], nl[1], args.corpus, binary, work), enumerate(chosen)))
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)

    n_neg = sum(1 for log in chosen if not log["labels"])
    n_lab = sum(len(log["labels"]) for log in chosen)
    errors = [(log, err) for log, (rows, err) in zip(chosen, results) if err]
    print(f"# toolmark eval: split={args.split}, {len(chosen)} logs ({n_neg} negatives), {n_lab} labels")
    if errors:
        print(f"\n{len(errors)} scan(s) failed:")
        for log, err in errors:
            print(f"  {log['path']}: {err}")

    stronger = " + ".join(LEVELS[LEVELS.index(args.min_confidence):])
    for title, minimum in (("any confidence", "possible"), (f"{stronger} only", args.min_confidence)):
        per_tool, per_file, family, tool_only = score(chosen, results, minimum)
        tp, fp, fn, p, r = micro(per_tool)
        tp2, fp2, fn2 = tool_only
        print(f"\n## {title}")
        print(f"micro: TP {tp}  FP {fp}  FN {fn}  precision {fmt(p)}  recall {fmt(r)}"
              f"  ({family} hit(s) only at mimikatz family level)")
        print(f"role-blind: TP {tp2}  FP {fp2}  FN {fn2}  precision {fmt(ratio(tp2, tp2 + fp2))}"
              f"  recall {fmt(ratio(tp2, tp2 + fn2))}")
        print()
        print(table(per_tool, args.markdown))
        if minimum == "possible":
            print("\nper file (FN = labelled, not found; FP = found, not labelled):")
            for log, misses, extras, err in per_file:
                if misses or extras:
                    tag = " [log_cleared]" if log.get("log_cleared") else ""
                    print(f"  {log['path']}{tag}")
                    if misses:
                        print(f"      FN: {', '.join(misses)}")
                    if extras:
                        print(f"      FP: {', '.join(extras)}")

    # Benign check: a log with nothing of the 60 tools must not get a confirmed finding.
    print("\n## benign check (no confirmed finding on logs labelled empty)")
    bad = []
    for log, (rows, err) in zip(chosen, results):
        if not log["labels"]:
            conf = sorted({f"{t}:{r}" for t, r, c in rows if c == "confirmed"})
            if conf:
                bad.append((log, conf))
    print(f"{n_neg - len(bad)} of {n_neg} negatives clean; {len(bad)} with a confirmed finding")
    for log, conf in bad:
        print(f"  {log['path']}: {', '.join(conf)}")
    # Not a failure, but listed: a likely finding on a log of ordinary activity says confidence is miscalibrated.
    likely = [(log, sorted({f"{t}:{r}" for t, r, c in rows if c == "likely"}))
              for log, (rows, err) in zip(chosen, results) if not log["labels"]]
    likely = [(log, found) for log, found in likely if found]
    print(f"{len(likely)} negative(s) with a likely finding")
    for log, found in likely:
        print(f"  {log['path']}: {', '.join(found)}")
    return 0


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:
        pass
    sys.exit(0)
