#!/bin/sh
# Writes small seed images for the four virtual-disk fuzz targets
# (../vhd/fuzz/corpus/open_read/, ../vhdx/..., ../vmdk/..., ../qcow2/...) with
# qemu-img (Debian qemu-utils): made by the oracle, not copied from the corpus.
# Run from this folder.
set -eu
t=$(mktemp -d)
trap 'rm -r "$t"' EXIT
printf 'toolmark fuzz seed' >"$t/data"
qemu-img create -q -f raw "$t/raw" 1M
dd if="$t/data" of="$t/raw" conv=notrunc status=none
seed() { # format options name
    mkdir -p "../$1/fuzz/corpus/open_read"
    qemu-img convert -O "$([ "$1" = vhd ] && echo vpc || echo "$1")" -o "$2" "$t/raw" "../$1/fuzz/corpus/open_read/$3"
}
seed vhd subformat=dynamic dynamic.vhd
seed vhd subformat=fixed fixed.vhd
seed vhdx subformat=dynamic,block_size=1M,log_size=1M dynamic.vhdx
seed vmdk subformat=monolithicSparse sparse.vmdk
seed vmdk subformat=streamOptimized stream.vmdk
seed qcow2 cluster_size=4k plain.qcow2
qemu-img convert -O qcow2 -c -o cluster_size=4k "$t/raw" ../qcow2/fuzz/corpus/open_read/compressed.qcow2
