#!/usr/bin/env bash
# Whole-process read throughput: `toolmark cat` of the largest file in the E01
# against The Sleuth Kit's `icat` on the same file and libewf's `ewfexport` of the
# whole media, all in one run on the same machine. Prints MB/s and ratios.
#
# usage: bench/read-throughput.sh [IMAGE.E01]
# Without an argument it builds (once, as root) target/bench/bench.E01: a bare 1 GiB
# NTFS volume holding one ~630 MiB file made of the corpus's real event logs repeated,
# so the E01 chunks compress like real evidence rather than like zeros.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
corpus=${TOOLMARK_CORPUS:-../shared/corpus}
cargo build --release --locked -q
tm=target/release/toolmark

make_bench_image() {
  local dir=target/bench raw mnt
  raw=$dir/bench.raw mnt=$dir/mnt
  [ -f "$dir/bench.E01" ] && return
  mkdir -p "$dir" "$mnt"
  truncate -s 1G "$raw"
  mkntfs -q -F -f -c 4096 -L bench "$raw" >/dev/null 2>&1
  ntfs-3g "$raw" "$mnt"
  for _ in $(seq 13); do cat "$corpus"/hosts/win10-aptsim/Windows/System32/winevt/Logs/*.evtx; done \
    > "$mnt/logs.bin"
  fusermount -u "$mnt" 2>/dev/null || umount "$mnt"
  sleep 1
  ewfacquire -q -u -t "$dir/bench" -f encase6 -c deflate:fast -S 1.5GiB -d sha1 "$raw" >/dev/null
  rm -f "$raw"
}

if [ $# -ge 1 ]; then image=$1; else make_bench_image; image=target/bench/bench.E01; fi

# Largest non-sparse data stream: the listing gives size and path; skip $BadClus:$Bad
# (all sparse) and named streams.
read -r size record path < <("$tm" ls -r "$image" | awk -F'\t' '$1=="r" && $4 !~ /:/ {print $3 "\t" $2 "\t" $4}' \
  | sort -n -r | head -1 | tr '\t' ' ')
inode=${record%%-*}
offset=$("$tm" info --json "$image" | python3 -c 'import json,sys; d=json.load(sys.stdin)[0]; print(next(p["offset"] for p in d["partitions"] if p["fs"]=="ntfs")//512)')
media=$("$tm" info --json "$image" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["media_size"])')

best() { # best wall time in seconds of $runs runs of "$@"
  local best=999999 t0 t1 t
  for _ in $(seq "$runs"); do
    t0=$(date +%s.%N); "$@" > /dev/null 2>&1; t1=$(date +%s.%N)
    t=$(echo "$t1 - $t0" | bc -l)
    best=$(echo "if ($t < $best) $t else $best" | bc -l)
  done
  echo "$best"
}

echo "image: $image  file: $path ($size bytes, record $inode)  media: $media bytes"
t_tm=$(best "$tm" cat "$image" "$path")
t_icat=$(best icat -i ewf -o "$offset" "$image" "$inode")
t_tm_all=$(best "$tm" verify -q "$image")
t_export=$(best ewfexport -q -u -t - -f raw "$image")
mbps() { echo "scale=1; $1 / $2 / 1000000" | bc -l; }
printf '%-38s %8.3fs %8s MB/s\n' "toolmark cat (largest file)" "$t_tm" "$(mbps "$size" "$t_tm")"
printf '%-38s %8.3fs %8s MB/s\n' "icat -i ewf (same file)" "$t_icat" "$(mbps "$size" "$t_icat")"
printf '%-38s %8.3fs %8s MB/s\n' "toolmark verify (whole media, MD5+SHA1)" "$t_tm_all" "$(mbps "$media" "$t_tm_all")"
printf '%-38s %8.3fs %8s MB/s\n' "ewfexport to stdout (whole media)" "$t_export" "$(mbps "$media" "$t_export")"
echo "ratio icat/toolmark time (file): $(echo "scale=2; $t_icat / $t_tm" | bc -l)  (>1: toolmark faster)"
echo "ratio ewfexport/toolmark-verify time (media): $(echo "scale=2; $t_export / $t_tm_all" | bc -l)"
