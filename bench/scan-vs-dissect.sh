#!/usr/bin/env bash
# Whole-process comparison of `toolmark scan` with dissect.target's `target-query` on
# the same image, in one run: wall time and rows per artifact side by side.
#
# usage: bench/scan-vs-dissect.sh [IMAGE]   (default: the built win10-aptsim E01)
# needs: pip install dissect.target   (target-query on PATH)
set -euo pipefail
cd "$(dirname "$0")/.."
image=${1:-target/images/win10-aptsim.E01}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
command -v target-query >/dev/null || { echo "target-query missing: pip install dissect.target" >&2; exit 1; }
cargo build --release --locked -q

t0=$(date +%s.%N)
target/release/toolmark scan "$image" -o "$work/toolmark" --jobs 2 -q --artifacts evtx,prefetch,mft,usn || true
t1=$(date +%s.%N)
target-query -f evtx,prefetch,amcache,mft,usnjrnl -j "$image" > "$work/dissect.jsonl" 2> "$work/dissect.err" || true
t2=$(date +%s.%N)

python3 - "$work" "$(echo "$t1 - $t0" | bc -l)" "$(echo "$t2 - $t1" | bc -l)" <<'PY'
import collections, glob, json, sys
work, t_tm, t_ds = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
manifest = json.load(open(glob.glob(f"{work}/toolmark/*/manifest.json")[0]))
ours = manifest["rows"]
theirs = collections.Counter()
for line in open(f"{work}/dissect.jsonl"):
    try:
        record = json.loads(line)
    except ValueError:
        continue
    if record.get("_type") == "record":
        theirs[record["_recorddescriptor"][0]] += 1
print(f"{'':28}{'toolmark':>12}{'dissect.target':>16}")
print(f"{'wall time (s)':28}{t_tm:>12.2f}{t_ds:>16.2f}")
pairs = [("evtx", "filesystem/windows/evtx"), ("prefetch", "filesystem/ntfs/prefetch"),
         ("mft", "filesystem/ntfs/mft/"), ("usn", "filesystem/ntfs/usnjrnl")]
for ours_name, prefix in pairs:
    count = sum(v for k, v in theirs.items() if k.startswith(prefix))
    print(f"{ours_name + ' rows':28}{ours.get(ours_name, 0):>12}{count:>16}")
other = {k: v for k, v in theirs.items() if not any(k.startswith(p) for _, p in pairs)}
for name, count in sorted(other.items()):
    print(f"{'  dissect ' + name:28}{'':>12}{count:>16}")
print(f"ratio dissect/toolmark wall time: {t_ds / t_tm:.1f}")
PY
