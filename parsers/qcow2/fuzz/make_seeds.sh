#!/bin/sh
# Writes small seed images into corpus/open_read/ with qemu-img (Debian qemu-utils):
# made by the oracle, not copied from the corpus. Run from this folder.
set -eu
mkdir -p corpus/open_read
t=$(mktemp -d)
printf 'toolmark fuzz seed' >"$t/data"
qemu-img create -q -f raw "$t/raw" 1M
dd if="$t/data" of="$t/raw" conv=notrunc status=none
qemu-img convert -O qcow2 -o cluster_size=4k "$t/raw" corpus/open_read/plain.qcow2
qemu-img convert -O qcow2 -c -o cluster_size=4k "$t/raw" corpus/open_read/compressed.qcow2
rm -r "$t"
