#!/bin/sh
# Seeds for the toolmark crate's own fuzz targets, made rather than stored:
#   CORPUS/ntfs        a 2 MiB volume from mkntfs, and its first 64 KiB
#   CORPUS/partitions  the first 64 KiB of the built GPT and MBR (logical) disks
#   CORPUS/e01         that volume (1.2 MiB) as an E01 from ewfacquire, compressed,
#                      and its first 64 KiB uncompressed (chunks with Adler-32)
#
#   fuzz/seeds.sh CORPUS [IMAGES]      (IMAGES: built test images, by default
#                                       $TOOLMARK_IMAGES or target/images)
set -eu
corpus=${1:?corpus folder}
images=${2:-${TOOLMARK_IMAGES:-$(cd "$(dirname "$0")/.." && pwd)/target/images}}
mkdir -p "$corpus/ntfs" "$corpus/partitions" "$corpus/e01"
volume="$corpus/ntfs/mkntfs-2m"
truncate -s 2M "$volume"
mkntfs -q -F -Q -T -c 512 -s 512 -L seed "$volume" 2>/dev/null
head -c 65536 "$volume" > "$corpus/ntfs/mkntfs-2m-head"
# ewfacquire wants absolute paths; its own extension (.E01) is added to -t.
work=$(mktemp -d)
truncate -s 1200K "$work/volume"
mkntfs -q -F -Q -T -c 512 -s 512 -L seed "$work/volume" >/dev/null 2>&1
head -c 65536 "$work/volume" > "$work/head"
TZ=UTC ewfacquire -u -q -t "$work/deflate" -f encase6 -c deflate:fast -b 64 "$work/volume" >/dev/null
TZ=UTC ewfacquire -u -q -t "$work/stored" -f encase6 -c none -b 16 "$work/head" >/dev/null
cp "$work/deflate.E01" "$corpus/e01/mkntfs-deflate.E01"
cp "$work/stored.E01" "$corpus/e01/mkntfs-head-stored.E01"
rm -r "$work"
for disk in win10-aptsim.raw mbr-logical.raw; do
    if [ -f "$images/$disk" ]; then
        head -c 65536 "$images/$disk" > "$corpus/partitions/$disk-head"
    fi
done
