#!/usr/bin/env bash
# Builds samples/demo.E01: a small NTFS volume holding a few public-domain (CC0)
# attack logs in Windows/System32/winevt/Logs, acquired as a compressed E01, so a
# fresh clone can run `toolmark scan samples/demo.E01 -o out` with nothing else.
# The logs and their licence are listed in samples/README.md.
#
#   images/demo.sh [CORPUS_DIR] [OUT_FILE]   # defaults: ../shared/corpus, samples/demo.E01
#
# Needs root (ntfs-3g FUSE mount) and mkntfs, ntfs-3g, fusermount, faketime,
# ewfacquire (images/packages.txt). Deterministic inputs (fixed time, label and
# serial); the committed E01 is the product, this script is how it was made.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
CORPUS=${1:-${TOOLMARK_CORPUS:-$ROOT/../shared/corpus}}
OUT=${2:-$ROOT/samples/demo.E01}
FAKE_NOW="2022-03-11 12:00:00"
SECTORS=12288 # 6 MiB: the logs take 1.3 MiB

die() { echo "images/demo.sh: ERROR: $*" >&2; exit 1; }

# Every log: corpus path (all from mdecrevoisier/EVTX-to-MITRE-Attack, CC0-1.0) and
# the name it gets on the volume. Keep samples/README.md in step.
# One host's story (every record's Computer is srvdefender01.offsec.lan): PsExec and
# wmiexec.vbs run against it over SMB, and a scheduled task made to run as SYSTEM.
A="$CORPUS/evtx/attack"
LOGS=(
    "$A/T1021.002-SMB Windows Admin Shares/ID4688,4697,5140-5145 PSexec remote execution + admin share.evtx|Security.evtx"
    "$A/EVTX_full_APT_attack_steps/ID4688,5140,5145-WMIexec execution via SMB (GLOBAL).evtx|Security-wmiexec.evtx"
    "$A/T1053.005-Scheduled Task/ID4688-4698 Persistent scheduled task with SYSTEM privileges creation.evtx|Security-schtasks.evtx"
)

for tool in mkntfs ntfs-3g fusermount faketime ewfacquire python3; do
    command -v "$tool" >/dev/null || die "missing tool: $tool (apt-get install -y \$(cat images/packages.txt))"
done
[[ $(id -u) == 0 ]] || die "must run as root (ntfs-3g FUSE mount)"

# Licence check: every input must be listed as CC0, MIT or Apache in MANIFEST.tsv.
for entry in "${LOGS[@]}"; do
    src=${entry%%|*}
    [[ -f $src ]] || die "corpus file missing: $src"
    rel=${src#"$CORPUS"/}
    licence=$(awk -F'\t' -v p="$rel" '$1 == p { print $5; exit }' "$CORPUS/MANIFEST.tsv")
    case $licence in
        CC0-1.0 | MIT | Apache-2.0) ;;
        *) die "$rel: licence '${licence:-unknown}' does not allow redistribution here" ;;
    esac
done

WORK=$(mktemp -d)
MNT_PID=""
cleanup() {
    if [[ -n $MNT_PID ]]; then
        fusermount -u "$WORK/mnt" 2>/dev/null || true
        wait "$MNT_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

ft() { TZ=UTC faketime -f "$FAKE_NOW" "$@"; }

vol="$WORK/demo.raw"
truncate -s $((SECTORS * 512)) "$vol"
ft mkntfs -q -F -Q -T -c 4096 -s 512 -L DEMO "$vol" >/dev/null 2>&1 || die "mkntfs failed"
# A fixed serial (boot sector and its backup in the last sector) for a stable image.
python3 - "$vol" "$SECTORS" <<'EOF'
import struct, sys
path, sectors = sys.argv[1], int(sys.argv[2])
with open(path, "r+b") as f:
    for at in (0x48, (sectors - 1) * 512 + 0x48):
        f.seek(at)
        f.write(struct.pack("<Q", 0x70AD3A4B5C6D7E8F))
EOF

mkdir -p "$WORK/mnt"
ft ntfs-3g -o no_detach "$vol" "$WORK/mnt" </dev/null >/dev/null 2>"$WORK/ntfs-3g.log" &
MNT_PID=$!
for _ in $(seq 100); do
    mountpoint -q "$WORK/mnt" && break
    kill -0 "$MNT_PID" 2>/dev/null || break
    sleep 0.1
done
mountpoint -q "$WORK/mnt" || { cat "$WORK/ntfs-3g.log" >&2; die "ntfs-3g could not mount"; }
logs="$WORK/mnt/Windows/System32/winevt/Logs"
mkdir -p "$logs"
for entry in "${LOGS[@]}"; do
    cp "${entry%%|*}" "$logs/${entry##*|}"
done
sync
fusermount -u "$WORK/mnt"
wait "$MNT_PID" || die "ntfs-3g exited with an error: $(cat "$WORK/ntfs-3g.log")"
MNT_PID=""

mkdir -p "$(dirname "$OUT")"
target="$WORK/demo"
ft ewfacquire -u -q -t "$target" -f encase6 -c best -d sha1 -m fixed -M logical \
    -C "TM-DEMO" -e "toolmark images/demo.sh" -E "DEMO-001" \
    -D "toolmark demo volume: public-domain attack logs (samples/README.md)" \
    -N "synthetic NTFS volume; not a real host" \
    "$vol" >"$WORK/ewfacquire.log" 2>&1 || { cat "$WORK/ewfacquire.log" >&2; die "ewfacquire failed"; }
mv "$target.E01" "$OUT"
echo "images/demo.sh: wrote $OUT ($(stat -c %s "$OUT") bytes)"
