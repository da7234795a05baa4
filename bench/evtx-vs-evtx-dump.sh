#!/usr/bin/env bash
# Event logs only: `toolmark scan --artifacts evtx` against the evtx crate's own
# `evtx_dump -o jsonl` over the same files, at 1 and 2 threads, in one run; and the
# parser alone (examples/evtx_read.rs: read_log over every file, counting records).
#
# The input is a triage folder of 940 logs: 10 copies of the corpus host's 94 logs,
# as DIR/Windows/System32/winevt/Logs/copyN-<name>.evtx, built once under
# target/bench/. Every side reads every one of those files:
#   toolmark scan DIR -o OUT --artifacts evtx --jobs N -q     (one process)
#   evtx_dump -t N -o jsonl FILE > /dev/null                  (one process per file)
#   target/.../examples/evtx_read DIR N                       (one process)
# Each figure is the best of 3 whole runs (/usr/bin/time -f '%e %M': wall seconds,
# peak RSS of the largest process), the contenders taking turns. At 2 threads
# evtx_dump also runs as 2 processes of `-t 1` at a time (its better use of 2
# cores on many small files). The record counts must agree: toolmark's
# manifest rows for `evtx`, evtx_read's count, and the number of jsonl lines.
#
# usage: bench/evtx-vs-evtx-dump.sh
# needs: evtx_dump (installed with `cargo install evtx --locked` when missing)
set -euo pipefail
cd "$(dirname "$0")/.."
logs=${TOOLMARK_CORPUS:-../shared/corpus}/hosts/win10-aptsim/Windows/System32/winevt/Logs
target=${CARGO_TARGET_DIR:-target}
dir=target/bench/evtx-triage
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ ! -f "$dir/.complete" ]; then
    rm -rf "$dir"
    mkdir -p "$dir/Windows/System32/winevt/Logs"
    for n in $(seq 1 10); do
        for f in "$logs"/*.evtx; do
            cp "$f" "$dir/Windows/System32/winevt/Logs/copy$n-$(basename "$f")"
        done
    done
    touch "$dir/.complete"
fi
files=$(find "$dir" -name '*.evtx' | wc -l)
[ "$files" -ge 900 ] || { echo "only $files logs in $dir" >&2; exit 1; }

export PATH="$HOME/.cargo/bin:$PATH"
command -v evtx_dump >/dev/null || cargo install evtx --locked
cargo build --release --locked -q --bin toolmark --example evtx_read
toolmark=$target/release/toolmark
evtx_read=$target/release/examples/evtx_read

# The contenders run round-robin, 3 rounds, and each keeps its best (fastest)
# whole run as "wall rss": a machine shared with other work slows them alike.
declare -A best_t best_m
run() { # name command...
    local name=$1
    shift
    /usr/bin/time -f '%e %M' -o "$work/time" "$@" > /dev/null 2> "$work/stderr" || true
    read -r t m < "$work/time"
    if [ -z "${best_t[$name]:-}" ] || [ "$(echo "$t < ${best_t[$name]}" | bc -l)" = 1 ]; then
        best_t[$name]=$t best_m[$name]=$m
    fi
}

# One evtx_dump process per file, one after another, `-t THREADS` each; or
# `-t 1` with PROCS processes at a time.
dump_all() { # threads procs
    find "$dir" -name '*.evtx' -print0 | sort -z | xargs -0 -n1 -P "$2" evtx_dump -t "$1" -o jsonl
}
export -f dump_all
export dir

scan_rows() {
    rm -rf "$work/out"
    "$toolmark" scan "$dir" -o "$work/out" --artifacts evtx --jobs "$1" -q || true
    # Live records only: evtx.csv also holds the records recovered from the unused
    # space of chunks (carved=true), which the other two do not read.
    python3 -c "
import csv, glob, sys
csv.field_size_limit(1 << 30)
print(sum(r['carved'] == 'false' for f in glob.glob(sys.argv[1] + '/*/evtx.csv') for r in csv.DictReader(open(f, newline=''))))
" "$work/out"
}

for round in 1 2 3; do
    for threads in 1 2; do
        run "dump$threads" bash -c "dump_all $threads 1"
        run "scan$threads" bash -c "rm -rf '$work/out' && '$toolmark' scan '$dir' -o '$work/out' --artifacts evtx --jobs $threads -q"
        run "read$threads" "$evtx_read" "$dir" "$threads"
    done
    run dumpP2 bash -c "dump_all 1 2"
done

row() { # label name reference records
    printf '%-34s %10s %10s %8.2f %12s\n' "$1" "${best_t[$2]}" "${best_m[$2]}" \
        "$(echo "${best_t[$2]} / ${best_t[$3]}" | bc -l)" "$4"
}
printf '%-34s %10s %10s %8s %12s\n' "" "wall (s)" "RSS (KiB)" "ratio" "records"
dump_rows=$(dump_all 1 1 | wc -l)
read_rows=$("$evtx_read" "$dir" 1 | awk '/^records/ {print $2}')
for threads in 1 2; do
    rows=$(scan_rows "$threads")
    row "evtx_dump -t $threads (per file)" "dump$threads" "dump$threads" "$dump_rows"
    [ "$threads" = 2 ] && row "evtx_dump -t 1, 2 processes" dumpP2 dumpP2 "$dump_rows"
    row "toolmark scan --jobs $threads" "scan$threads" "dump$threads" "$rows"
    row "read_log, $threads thread(s) (evtx_read)" "read$threads" "dump$threads" "$read_rows"
    if [ "$rows" != "$dump_rows" ] || [ "$read_rows" != "$dump_rows" ]; then
        echo "record counts differ: scan $rows, evtx_read $read_rows, evtx_dump $dump_rows" >&2
        exit 1
    fi
done
echo "($files files; ratio = wall time / evtx_dump -t N per file)"
