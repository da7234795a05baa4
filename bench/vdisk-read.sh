#!/usr/bin/env bash
# Sequential read of a whole virtual disk: toolmark's evidence layer
# (examples/image_read.rs, 4 MiB reads front to back) against
# `qemu-img convert -O raw` into a tmpfs file, on a dynamic VHDX and a
# stream-optimized VMDK of the built host (win10-aptsim.raw, 320 MiB), one run.
#
# usage: bench/vdisk-read.sh [RAW]   (default: the built target/images/win10-aptsim.raw)
set -euo pipefail
cd "$(dirname "$0")/.."
raw=${1:-${TOOLMARK_IMAGES:-target/images}/win10-aptsim.raw}
[ -f "$raw" ] || { echo "no $raw: run images/build.sh first" >&2; exit 1; }
cargo build --release --locked -q --example image_read
reader=${CARGO_TARGET_DIR:-target}/release/examples/image_read
dir=target/bench/vdisk
mkdir -p "$dir"
tmp=$(mktemp -d /dev/shm/vdisk-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

[ -f "$dir/host.vhdx" ] || qemu-img convert -f raw -O vhdx -o subformat=dynamic "$raw" "$dir/host.vhdx"
[ -f "$dir/host.vmdk" ] || qemu-img convert -f raw -O vmdk -o subformat=streamOptimized "$raw" "$dir/host.vmdk"

seconds() { # command... ; prints wall seconds
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}

printf '| image | size | toolmark | qemu-img convert | ratio (qemu-img time / toolmark time) |\n|---|---:|---:|---:|---:|\n'
for f in "$dir/host.vhdx" "$dir/host.vmdk"; do
  size=$(stat -c %s "$f")
  # Warm the page cache for both the same way.
  cat "$f" >/dev/null
  tm=$(seconds "$reader" "$f")
  qm=$(seconds qemu-img convert -O raw "$f" "$tmp/out.raw")
  rm -f "$tmp/out.raw"
  printf '| %s | %s MB | %.2f s | %.2f s | %.2f |\n' "$(basename "$f")" "$((size / 1000000))" "$tm" "$qm" \
    "$(echo "$qm / $tm" | bc -l)"
done
