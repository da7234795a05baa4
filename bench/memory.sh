#!/usr/bin/env bash
# Peak memory of whole scans against the size of their input: it must stay flat
# (and under 512 MiB) whatever the input holds.
#
# Inputs, built once under target/bench/ (hard links, so they cost no disk):
#   - triage folders of event logs only, COPIES copies of the corpus host's 94 logs
#     each (default 10, 50 and 150 copies: about 0.28, 1.4 and 4.2 GB);
#   - the built win10-aptsim E01 with --carve-all (every byte of the image carved).
# Each line: input bytes, records, wall seconds, user CPU seconds and peak RSS
# (/usr/bin/time -v "Maximum resident set size"), one run each.
#
# usage: bench/memory.sh [COPIES...]     (e.g. bench/memory.sh 10 50 150)
set -euo pipefail
cd "$(dirname "$0")/.."
logs=${TOOLMARK_CORPUS:-../shared/corpus}/hosts/win10-aptsim/Windows/System32/winevt/Logs
target=${CARGO_TARGET_DIR:-target}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
copies=("$@")
[ ${#copies[@]} -gt 0 ] || copies=(10 50 150)

cargo build --release --locked -q --bin toolmark
toolmark=$target/release/toolmark

folder() { # copies -> path of a triage folder with that many copies of the logs
    local dir=target/bench/evtx-x$1
    if [ ! -f "$dir/.complete" ]; then
        rm -rf "$dir"
        mkdir -p "$dir/Windows/System32/winevt/Logs"
        for n in $(seq 1 "$1"); do
            for f in "$logs"/*.evtx; do
                ln "$f" "$dir/Windows/System32/winevt/Logs/copy$n-$(basename "$f")" 2>/dev/null ||
                    cp "$f" "$dir/Windows/System32/winevt/Logs/copy$n-$(basename "$f")"
            done
        done
        touch "$dir/.complete"
    fi
    echo "$dir"
}

measure() { # label input-bytes rows-table command...
    local label=$1 bytes=$2 table=$3
    shift 3
    rm -rf "$work/out"
    /usr/bin/time -v -o "$work/time" "$@" -o "$work/out" -q > /dev/null 2>&1 || true
    local rss wall user rows
    rss=$(awk -F: '/Maximum resident set size/ {gsub(/ /,"",$2); print $2}' "$work/time")
    wall=$(awk '/Elapsed \(wall clock\)/ {print $NF}' "$work/time")
    user=$(awk -F: '/User time/ {gsub(/ /,"",$2); print $2}' "$work/time")
    rows=$(python3 -c "import glob,json,sys; print(sum(json.load(open(m))['rows'].get(sys.argv[2],0) for m in glob.glob(sys.argv[1]+'/*/manifest.json')))" "$work/out" "$table")
    printf '%-36s %14s %12s %10s %9s %12s\n' "$label" "$bytes" "$rows" "$wall" "$user" "$((rss / 1024)) MiB"
}

printf '%-36s %14s %12s %10s %9s %12s\n' input bytes records wall user "peak RSS"
for n in "${copies[@]}"; do
    dir=$(folder "$n")
    bytes=$(find "$dir" -name "*.evtx" -printf "%s\n" | awk "{s+=\$1} END {printf \"%.0f\", s}")
    measure "event logs x$n ($((n * 94)) files)" "$bytes" evtx \
        "$toolmark" scan "$dir" --artifacts evtx --jobs 2
done
e01=target/images/win10-aptsim.E01
if [ -f "$e01" ]; then
    bytes=$(stat -c %s target/images/win10-aptsim.raw 2>/dev/null || echo "?")
    measure "win10-aptsim.E01 --carve-all" "$bytes" evtx "$toolmark" scan "$e01" --carve-all --jobs 2
fi
