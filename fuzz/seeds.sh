#!/bin/sh
# Seeds for the toolmark crate's own fuzz targets, made rather than stored:
#   CORPUS/ntfs        a 2 MiB volume from mkntfs, and its first 64 KiB
#   CORPUS/partitions  the first 64 KiB of the built GPT and MBR (logical) disks
#
#   fuzz/seeds.sh CORPUS [IMAGES]      (IMAGES: built test images, target/images)
set -eu
corpus=${1:?corpus folder}
images=${2:-$(cd "$(dirname "$0")/.." && pwd)/target/images}
mkdir -p "$corpus/ntfs" "$corpus/partitions"
volume="$corpus/ntfs/mkntfs-2m"
truncate -s 2M "$volume"
mkntfs -q -F -Q -T -c 512 -s 512 -L seed "$volume" 2>/dev/null
head -c 65536 "$volume" > "$corpus/ntfs/mkntfs-2m-head"
for disk in win10-aptsim.raw mbr-logical.raw; do
    [ -f "$images/$disk" ] && head -c 65536 "$images/$disk" > "$corpus/partitions/$disk-head"
done
