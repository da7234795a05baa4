#!/usr/bin/env bash
# Carving throughput: `toolmark scan --carve-all` over a 2 GiB raw image with event
# logs, Prefetch files, a hive and an $MFT extract planted in random data, compared in the same run with a plain
# sequential read (`cat > /dev/null`) and `grep -c -a ElfChnk` of the same file
# (all three from the page cache after a warm-up read). Target: at least 0.7 of
# the plain read's speed.
#
# usage: bench/carve-throughput.sh
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${TOOLMARK_CORPUS:-../shared/corpus}
img=target/bench/carve-2g-v2.raw
cargo build --release --locked -q
mkdir -p target/bench
if [ ! -f "$img" ]; then
  head -c 2G /dev/urandom > "$img.tmp"
  # Plant the corpus attack logs at scattered 4 KiB-aligned offsets.
  i=0
  while IFS= read -r -d '' log; do
    i=$((i + 1))
    dd if="$log" of="$img.tmp" bs=4096 seek=$(( i * 6151 )) conv=notrunc status=none
  done < <(find "$corpus/evtx/attack" -name '*.evtx' -print0 | sort -z | head -z -n 40)
  # And 20 Prefetch files, a user hive and an $MFT extract, further on.
  while IFS= read -r -d '' file; do
    i=$((i + 1))
    dd if="$file" of="$img.tmp" bs=4096 seek=$(( i * 6151 )) conv=notrunc status=none
  done < <({ find "$corpus/prefetch/ez/Win10" -name '*.pf' -print0 | sort -z | head -z -n 20
            printf '%s\0' "$corpus/registry/hives/NTUSER.DAT" "$corpus/ntfs/dfir_ntfs/unicode.mft"; })
  mv "$img.tmp" "$img"
fi
cat "$img" > /dev/null   # warm the page cache
# Wall time of a command; its output goes to $sink. grep writes to a file: GNU grep
# stops at the first match when its output is /dev/null, which is not a full pass.
# Best of three runs, for each command alike: the shared machine's noise only ever
# adds time.
time_of() {
  local t0 t1 t best=""
  for _ in 1 2 3; do
    t0=$(date +%s.%N); "$@" > "$sink" 2>&1 || true; t1=$(date +%s.%N)
    t=$(echo "$t1 - $t0" | bc -l)
    if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
  done
  echo "$best"
}
sink=/dev/null t_cat=$(sink=/dev/null time_of cat "$img")
t_grep=$(sink=target/bench/grep.out time_of grep -c -a ElfChnk "$img")
out=$(mktemp -d)
t_tm=$(sink=/dev/null time_of target/release/toolmark scan "$img" -o "$out" --artifacts evtx --carve-all --jobs 2 -q)
found=$(python3 -c "import json,glob; c=json.load(open(glob.glob('$out/*/manifest.json')[0]))['carving'][0]; print(f\"{c['intact']} intact chunks, {c['lone_records']} lone records, {c['prefetch']} Prefetch, {c['hive_bins']} hive bins, {c['mft_records']} FILE records\")")
# The carving pass alone (the manifest's own timing of the last run), without the
# process start, table writing, trace matching and unmapping around it.
t_pass=$(python3 -c "import json,glob; print(json.load(open(glob.glob('$out/*/manifest.json')[0]))['carving'][0]['seconds'])")
rows=$(python3 -c "import csv,glob; print(sum(1 for _ in csv.DictReader(open(glob.glob('$out/*/evtx.csv')[0]))))")
rm -rf "$out"
size=$(stat -c %s "$img")
mbps() { echo "scale=0; $size / $1 / 1000000" | bc -l; }
printf '%-44s %7.2fs %6s MB/s\n' "cat > /dev/null" "$t_cat" "$(mbps "$t_cat")"
printf '%-44s %7.2fs %6s MB/s\n' "grep -c -a ElfChnk" "$t_grep" "$(mbps "$t_grep")"
printf '%-44s %7.2fs %6s MB/s\n' "toolmark scan --carve-all (parse included)" "$t_tm" "$(mbps "$t_tm")"
printf '%-44s %7.2fs %6s MB/s\n' "  of which the carving pass (manifest)" "$t_pass" "$(mbps "$t_pass")"
echo "found: $found; evtx rows written: $rows"
echo "toolmark speed / plain read speed: $(echo "scale=2; $t_cat / $t_tm" | bc -l) (whole process), $(echo "scale=2; $t_cat / $t_pass" | bc -l) (carving pass)"
