#!/usr/bin/env bash
# Build toolmark's test disk images from the shared corpus. See images/README.md.
#
#   images/build.sh [CORPUS_DIR] [OUT_DIR]
#
# Cached: returns at once when OUT_DIR/.stamp matches this recipe and these inputs.
# Safe to call from many test processes at once (flock on OUT_DIR/.lock).
# Needs root (FUSE mount of ntfs-3g) and the Debian packages in images/packages.txt.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
CORPUS="$(cd "${1:-${TOOLMARK_CORPUS:-$ROOT/../shared/corpus}}" 2>/dev/null && pwd)" || {
    echo "images/build.sh: corpus directory not found: ${1:-${TOOLMARK_CORPUS:-$ROOT/../shared/corpus}}" >&2
    exit 2
}
OUT="${2:-$ROOT/target/images}"
PY=/usr/bin/python3 # Debian's python: python3-hivex is installed for it, not for pyenv & co.

die() { echo "images/build.sh: ERROR: $*" >&2; exit 1; }
log() { echo "images/build.sh: $*" >&2; }

# ------------------------------------------------------------------ fixed recipe values
FAKE_NOW="2022-03-11 12:00:00"                 # every timestamp written into the images
HOST="$CORPUS/hosts/win10-aptsim"
APPCOMPAT="$CORPUS/registry/appcompatcache/Win10/Win10.bin"
PSEXEC_EVTX="$CORPUS/evtx/attack/EVTX_full_APT_attack_steps/ID11,13,17,18-PSexec as system execution.evtx"
# Logs written to the volume and deleted again, so their chunks lie in unallocated
# clusters for carving tests (images/README.md, "Deleted").
DELETED_LOGS=(
    "$CORPUS/evtx/attack/T1053.005-Scheduled Task/ID4698-4699-Fast created & deleted task by ATexec (susp. arg.).evtx"
    "$CORPUS/evtx/attack/T1070.001-Clear Windows event logs/ID104-1102-Event log cleared.evtx"
)
# The host's own Security log is written whole, then cleared in place the way the
# event log service does it (images/README.md, "Cleared"): its start is rewritten as
# an empty log and the file cut to that size, so its later chunks become free.
CLEARED_LOG="Windows/System32/winevt/Logs/Security.evtx"
# An empty log exactly as Windows writes one (header + one empty chunk, 0 records).
EMPTY_LOG="$HOST/Windows/System32/winevt/Logs/Microsoft-Windows-MUI%4Admin.evtx"
# More deleted evidence for carving: two Prefetch files (MAM-compressed and plain
# SCCA), a user hive, and two $MFT extracts (1 KiB and 4 KiB records) whose FILE
# records then lie in unallocated clusters.
DELETED_PREFETCH=(
    "$CORPUS/prefetch/artemis/win11/WEVTUTIL.EXE-4CD23CAE.pf"
    "$CORPUS/prefetch/ez/Win2012R2/CMD.EXE-4A81B364.pf"
)
DELETED_HIVE="$CORPUS/registry/hives/NTUSER.DAT"
# An NTFS volume with two shadow copies (QCOW2): converted once to raw so the VSS
# tests need no QCOW2 reader (images/README.md, "vsstest").
VSS_QCOW2="$CORPUS/images/vss/vsstest.qcow2"
DELETED_MFTS=(
    "$CORPUS/ntfs/dfir_ntfs/unicode.mft"
    "$CORPUS/ntfs/dfir_ntfs/4k-large.mft"
)

W_DISK_MIB=320                                  # win10-aptsim: GPT, one NTFS partition
W_DISK_GUID=8D3B5A1E-6F2C-4B7D-9A01-7C4E2F10A5B3
W_PART_GUID=2C9E41F7-0B8D-4E3A-A6F5-93D17B2C8E04
W_PART_TYPE=0700                                # sgdisk code: Microsoft basic data
W_PART_START=2048
W_PART_SECTORS=$(( (W_DISK_MIB - 2) * 2048 ))   # 1 MiB aligned at both ends
W_SERIAL=1A2B3C4D5E6F7081                       # NTFS volume serial (boot sector 0x48)
M_DISK_MIB=64                                   # mbr-logical: MBR, FAT16 + logical NTFS
M_DISK_ID=0x544d4c31
M_FAT_START=2048;  M_FAT_SECTORS=32768
M_EXT_START=34816; M_EXT_SECTORS=$(( M_DISK_MIB * 2048 - M_EXT_START ))
M_LOG_START=36864; M_LOG_SECTORS=$(( M_DISK_MIB * 2048 - M_LOG_START ))
M_SERIAL=0F1E2D3C4B5A6978
E01_SEGMENT_BYTES=$(( 5 * 1024 * 1024 ))
SPLIT_BYTES=64M

# ------------------------------------------------------------------ tools
check_tools() {
    local missing=() t pkg
    while read -r t pkg; do
        command -v "$t" >/dev/null 2>&1 || missing+=("$t (Debian package $pkg)")
    done <<'EOF'
mkntfs ntfs-3g
ntfs-3g ntfs-3g
ntfscp ntfs-3g
fusermount fuse3
setfattr attr
sgdisk gdisk
sfdisk fdisk
mkfs.fat dosfstools
mcopy mtools
faketime faketime
ewfacquire ewf-tools
ewfverify ewf-tools
ewfinfo ewf-tools
mmls sleuthkit
fls sleuthkit
icat sleuthkit
istat sleuthkit
fsstat sleuthkit
regfinfo libregf-utils
regfexport libregf-utils
flock util-linux
mountpoint util-linux
mmd mtools
sha256sum coreutils
qemu-img qemu-utils
qemu-io qemu-utils
EOF
    [[ -x $PY ]] || missing+=("$PY (Debian package python3)")
    if [[ -x $PY ]] && ! $PY -c 'import hivex' 2>/dev/null; then
        missing+=("python module hivex for $PY (Debian package python3-hivex)")
    fi
    if ((${#missing[@]})); then
        printf 'images/build.sh: ERROR: missing tool: %s\n' "${missing[@]}" >&2
        echo "images/build.sh: install with: apt-get install -y \$(cat images/packages.txt)" >&2
        exit 1
    fi
    [[ $(id -u) == 0 ]] || die "must run as root (ntfs-3g FUSE mount)"
    [[ -e /dev/fuse ]] || die "/dev/fuse is missing: ntfs-3g cannot mount"
}

# ------------------------------------------------------------------ cache key
inputs_listing() {
    # Names and sizes of every corpus input (not their bytes: hashing 80 MB on every
    # cached call would cost more than it saves; MANIFEST.tsv pins the bytes).
    for f in "$APPCOMPAT" "$PSEXEC_EVTX" "${DELETED_LOGS[@]}" "$EMPTY_LOG" \
        "${DELETED_PREFETCH[@]}" "$DELETED_HIVE" "${DELETED_MFTS[@]}" "$VSS_QCOW2"; do
        [[ -f $f ]] || die "corpus file missing: $f"
        stat -c '%n %s' "$f"
    done
    [[ -d $HOST ]] || die "corpus folder missing: $HOST"
    (cd "$HOST" && find . -type f -printf '%p %s\n' | LC_ALL=C sort)
}

cache_key() {
    {
        cat "$HERE/build.sh" "$HERE/hives.py" "$HERE/files.py" "$HERE/packages.txt"
        cat "$HERE"/expected/*
        inputs_listing | sed "s|$CORPUS||"
    } | sha256sum | cut -d' ' -f1
}

PRODUCTS=(win10-aptsim.raw win10-aptsim.E01 win10-aptsim.split.001 mbr-logical.raw win10-cleared.raw
    triage-renamed damaged vdisk vsstest.raw kape.vhdx)

is_fresh() {
    [[ -f $OUT/.stamp && $(cat "$OUT/.stamp") == "$1" ]] || return 1
    local p
    for p in "${PRODUCTS[@]}"; do [[ -e $OUT/$p ]] || return 1; done
}

# ------------------------------------------------------------------ helpers
ft() { faketime -f "$FAKE_NOW" "$@"; }

MNT_PID=""
MNT_DIR=""
mount_ntfs() { # volume-file mountpoint
    MNT_DIR=$2
    mkdir -p "$MNT_DIR"
    TZ=UTC ft ntfs-3g -o no_detach,streams_interface=windows,compression "$1" "$MNT_DIR" \
        </dev/null >/dev/null 2>"$BUILD/ntfs-3g.log" &
    MNT_PID=$!
    local i
    for i in $(seq 100); do
        mountpoint -q "$MNT_DIR" && return 0
        kill -0 "$MNT_PID" 2>/dev/null || break
        sleep 0.1
    done
    cat "$BUILD/ntfs-3g.log" >&2
    die "ntfs-3g could not mount $1"
}

umount_ntfs() {
    [[ -n $MNT_PID ]] || return 0
    sync
    fusermount -u "$MNT_DIR"
    # The daemon finishes writing the volume after the unmount returns: wait for it.
    wait "$MNT_PID" || die "ntfs-3g exited with an error: $(cat "$BUILD/ntfs-3g.log")"
    MNT_PID=""
}

cleanup() {
    if [[ -n $MNT_PID ]]; then
        fusermount -u "$MNT_DIR" 2>/dev/null || true
        kill "$MNT_PID" 2>/dev/null || true
        wait "$MNT_PID" 2>/dev/null || true
    fi
    [[ -n ${BUILD:-} && -d $BUILD ]] && rm -rf "$BUILD"
}

put_u64_le() { # file offset hex16(big-endian text)
    local hex=$3 le=""
    for i in 14 12 10 8 6 4 2 0; do le+="\\x${hex:$i:2}"; done
    printf '%b' "$le" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

make_ntfs() { # file sectors label partition-start
    truncate -s $(( $2 * 512 )) "$1"
    TZ=UTC ft mkntfs -q -F -Q -T -c 4096 -s 512 -H 255 -S 63 -p "$4" -L "$3" "$1" >/dev/null 2>&1 \
        || die "mkntfs failed on $1"
}

set_ntfs_serial() { # file sectors serial
    # Boot sector and its backup in the last sector of the volume both carry it.
    put_u64_le "$1" $(( 0x48 )) "$3"
    put_u64_le "$1" $(( ($2 - 1) * 512 + 0x48 )) "$3"
}

copy_in() { # src dst(in mount)
    mkdir -p "$(dirname "$2")"
    cp --sparse=always "$1" "$2"
}

sha_line() { # volume-path file
    printf '%s\t%s\t%s\n' "$1" "$(stat -c %s "$2")" "$(sha256sum <"$2" | cut -d' ' -f1)"
}

# ------------------------------------------------------------------ win10-aptsim
# Writes $BUILD/win10.places: "volume path<TAB>source file", the single list from which
# both the volume and the expected facts are made.
win10_places() {
    local f s="$BUILD/stage/win10"
    (cd "$HOST/Windows/System32/winevt/Logs" && find . -type f -name '*.evtx' | LC_ALL=C sort) \
        | while read -r f; do
            f=${f#./}
            src="$HOST/Windows/System32/winevt/Logs/$f"
            # The cleared log ends up holding the empty log's bytes.
            [[ "Windows/System32/winevt/Logs/$f" == "$CLEARED_LOG" ]] && src=$EMPTY_LOG
            printf 'Windows/System32/winevt/Logs/%s\t%s\n' "$f" "$src"
        done
    (cd "$HOST/Windows/Prefetch" && find . -type f -name '*.pf' | LC_ALL=C sort) \
        | while read -r f; do f=${f#./}; printf 'Windows/Prefetch/%s\t%s\n' "$f" "$HOST/Windows/Prefetch/$f"; done
    for f in Amcache.hve Amcache.hve.LOG1 Amcache.hve.LOG2; do
        printf 'Windows/AppCompat/Programs/%s\t%s\n' "$f" "$HOST/Windows/AppCompat/Programs/$f"
    done
    for f in SYSTEM SOFTWARE SAM; do
        printf 'Windows/System32/config/%s\t%s\n' "$f" "$BUILD/hives/$f"
    done
    printf 'Users/analyst/NTUSER.DAT\t%s\n' "$BUILD/hives/NTUSER.DAT"
    printf 'Windows/System32/Tasks/At1\t%s\n' "$s/Windows/System32/Tasks/At1"
    for f in access.log inventory.csv notes.txt; do
        printf 'Users/analyst/Documents/compressed/%s\t%s\n' "$f" "$s/Users/analyst/Documents/compressed/$f"
    done
    printf 'Users/analyst/Downloads/tool.exe\t%s\n' "$s/Users/analyst/Downloads/tool.exe"
    printf 'Users/analyst/Downloads/tool.exe:Zone.Identifier\t%s\n' "$s/Users/analyst/Downloads/tool.exe.Zone.Identifier"
    printf '$Extend/$UsnJrnl:$J\t%s\n' "$s/UsnJrnl.J"
    printf '$Extend/$UsnJrnl:$Max\t%s\n' "$s/UsnJrnl.Max"
}

# win10-cleared (images/README.md): the same host after its event logs were cleared
# and deleted: every place of win10-aptsim but the .evtx files (the Logs folder stays,
# empty), and none of the deleted evidence, so nothing of a log is left to carve.
cleared_places() {
    grep -v $'^Windows/System32/winevt/Logs/[^\t]*\.evtx\t' "$BUILD/win10.places"
}

build_win10_volume() { # volume-file places-file [cleared]
    local vol=$1 places=$2 cleared=${3:-} empty="$BUILD/empty" m="$BUILD/mnt" path src
    make_ntfs "$vol" "$W_PART_SECTORS" Windows "$W_PART_START"
    # ntfs-3g's FUSE side refuses to create files in system folders ($Extend is MFT
    # record 11), ntfscp does not: it makes $UsnJrnl with its $J and $Max streams.
    # $J is filled later through the mount so that its head becomes a sparse run.
    : >"$empty"
    TZ=UTC ft ntfscp -q -f -N '$J' "$vol" "$empty" '/$Extend/$UsnJrnl' || die "ntfscp \$J failed"
    TZ=UTC ft ntfscp -q -f -N '$Max' "$vol" "$BUILD/stage/win10/UsnJrnl.Max" '/$Extend/$UsnJrnl' \
        || die "ntfscp \$Max failed"

    mount_ntfs "$vol" "$m"
    # Directories first, the compressed one flagged before anything is written into it.
    mkdir -p "$m/Windows/System32/winevt/Logs" "$m/Windows/Prefetch" \
        "$m/Windows/AppCompat/Programs" "$m/Windows/System32/config" \
        "$m/Windows/System32/Tasks" "$m/Users/analyst/Documents/compressed" \
        "$m/Users/analyst/Downloads"
    setfattr -n system.ntfs_attrib_be -v 0x00000800 "$m/Users/analyst/Documents/compressed"
    while IFS=$'\t' read -r path src; do
        case $path in
            '$Extend/$UsnJrnl:$Max') ;; # written by ntfscp above
            '$Extend/$UsnJrnl:$J') cp --sparse=always "$src" "$m/$path" ;;
            "$CLEARED_LOG") copy_in "$HOST/$path" "$m/$path" ;; # cleared below
            *) copy_in "$src" "$m/$path" ;;
        esac
    done <"$places"
    # Windows marks the journal hidden + system (+ archive, sparse).
    setfattr -n system.ntfs_attrib_be -v 0x00000226 "$m/\$Extend/\$UsnJrnl"
    if [[ -n $cleared ]]; then
        umount_ntfs
        set_ntfs_serial "$vol" "$W_PART_SECTORS" "$W_SERIAL"
        return
    fi
    # A deleted tool and deleted event logs: written whole, then removed (all
    # written before any is removed, so no freed MFT record is reused). ntfs-3g
    # frees the records and clusters without wiping them, as Windows does.
    mkdir -p "$m/Users/analyst/AppData/Local/Temp"
    printf 'MZ deleted attacker tool, kept for toolmark ls --deleted\n' >"$m/Users/analyst/Downloads/mimikatz.exe"
    local i=0 gone=("$m/Users/analyst/Downloads/mimikatz.exe")
    for src in "${DELETED_LOGS[@]}"; do
        i=$((i + 1))
        cp "$src" "$m/Users/analyst/AppData/Local/Temp/old$i.evtx"
        gone+=("$m/Users/analyst/AppData/Local/Temp/old$i.evtx")
    done
    for src in "${DELETED_PREFETCH[@]}"; do
        cp "$src" "$m/Windows/Prefetch/"
        gone+=("$m/Windows/Prefetch/${src##*/}")
    done
    mkdir -p "$m/Users/olduser" "$m/Users/analyst/Downloads/collection"
    cp "$DELETED_HIVE" "$m/Users/olduser/NTUSER.DAT"
    gone+=("$m/Users/olduser/NTUSER.DAT")
    for src in "${DELETED_MFTS[@]}"; do
        cp "$src" "$m/Users/analyst/Downloads/collection/"
        gone+=("$m/Users/analyst/Downloads/collection/${src##*/}")
    done
    sync
    # Clearing: the empty log over the start of the full one, then the file cut short.
    dd if="$EMPTY_LOG" of="$m/$CLEARED_LOG" conv=notrunc status=none
    truncate -s "$(stat -c %s "$EMPTY_LOG")" "$m/$CLEARED_LOG"
    sync
    rm "${gone[@]}"
    umount_ntfs
    set_ntfs_serial "$vol" "$W_PART_SECTORS" "$W_SERIAL"
}

# kape.vhdx (images/README.md): a triage collection kept in a container, as KAPE
# writes one with --vhdx: a dynamic VHDX of one NTFS volume whose root holds the
# host's drive folder, C/, not a Windows folder. In it the win10-aptsim places
# (event logs, Prefetch, Amcache, hives, task), its journal as C/$Extend/$J and the
# built volume's $MFT (read out with icat) as C/$MFT.
build_kape_vhdx() { # vhdx-file win10-raw
    local vol="$BUILD/kape.vol" m="$BUILD/mnt" path src
    make_ntfs "$vol" $(( 96 * 2048 )) KAPE 0
    icat -o "$W_PART_START" "$2" 0 >"$BUILD/kape.mft" || die "icat could not read the \$MFT of $2"
    mount_ntfs "$vol" "$m"
    while IFS=$'\t' read -r path src; do
        case $path in
            '$Extend/$UsnJrnl:$Max') ;;
            '$Extend/$UsnJrnl:$J') copy_in "$src" "$m/C/\$Extend/\$J" ;;
            *:*) ;; # alternate data streams stay behind, as in a copy
            *) copy_in "$src" "$m/C/$path" ;;
        esac
    done <"$BUILD/win10.places"
    copy_in "$BUILD/kape.mft" "$m/C/\$MFT"
    umount_ntfs
    qemu-img convert -f raw -O vhdx -o subformat=dynamic "$vol" "$1"
    rm -f "$vol" "$BUILD/kape.mft"
}

build_win10_disk() { # disk-file volume-file
    local disk=$1
    truncate -s "${W_DISK_MIB}M" "$disk"
    sgdisk -o -U "$W_DISK_GUID" \
        -n "1:$W_PART_START:$(( W_PART_START + W_PART_SECTORS - 1 ))" -t "1:$W_PART_TYPE" \
        -u "1:$W_PART_GUID" -c "1:Basic data partition" "$disk" >/dev/null \
        || die "sgdisk failed"
    dd if="$2" of="$disk" bs=1M seek=$(( W_PART_START / 2048 )) conv=notrunc,sparse status=none
}

# ------------------------------------------------------------------ triage-renamed
# A triage folder (laid out like a volume) holding only an Amcache.hve whose one file
# entry is PsExec renamed to svc32.exe (images/README.md). regfexport must read the
# entry back with OriginalFileName psexec.c, or the folder tests nothing.
build_triage_renamed() { # dir
    local hve="$1/Windows/AppCompat/Programs/Amcache.hve" dump
    mkdir -p "${hve%/*}"
    cp "$BUILD/hives/Amcache-renamed.hve" "$hve"
    sha_line Windows/AppCompat/Programs/Amcache.hve "$hve" >"$BUILD/triage-renamed.tsv"
    compare_expected "$BUILD/triage-renamed.tsv" "$HERE/expected/triage-renamed.tsv"
    dump=$(regfexport "$hve" 2>/dev/null) || die "regfexport rejects $hve"
    grep -q 'InventoryApplicationFile\\svc32.exe|4a1b2c3d4e5f6071$' <<<"$dump" \
        || die "triage-renamed: entry key missing in regfexport's dump"
    grep -A3 'OriginalFileName$' <<<"$dump" | grep -q '^Data: psexec.c$' \
        || die "triage-renamed: OriginalFileName psexec.c missing in regfexport's dump"
}

# ------------------------------------------------------------------ mbr-logical
mbr_places() {
    local s="$BUILD/stage"
    printf 'fat\tREADME.TXT\t%s\n' "$s/mbr-fat/README.TXT"
    printf 'fat\tDATA/HELLO.TXT\t%s\n' "$s/mbr-fat/DATA/HELLO.TXT"
    printf 'ntfs\tCases/notes.txt\t%s\n' "$s/mbr-ntfs/Cases/notes.txt"
    printf 'ntfs\tCases/Ünïcödé – report.txt\t%s\n' "$s/mbr-ntfs/Cases/Ünïcödé – report.txt"
    printf 'ntfs\tCases/psexec.evtx\t%s\n' "$PSEXEC_EVTX"
}

build_mbr_disk() { # disk-file
    local disk=$1 fat="$BUILD/fat.vol" ntfs="$BUILD/logical.vol" kind path src
    truncate -s "${M_DISK_MIB}M" "$disk"
    sfdisk -q "$disk" >/dev/null <<EOF || die "sfdisk failed"
label: dos
label-id: $M_DISK_ID
unit: sectors

start=$M_FAT_START, size=$M_FAT_SECTORS, type=6
start=$M_EXT_START, size=$M_EXT_SECTORS, type=5
start=$M_LOG_START, size=$M_LOG_SECTORS, type=7
EOF
    truncate -s $(( M_FAT_SECTORS * 512 )) "$fat"
    TZ=UTC ft mkfs.fat --invariant -F 16 -i 544D4B46 -n TOOLMARK -h "$M_FAT_START" "$fat" >/dev/null \
        || die "mkfs.fat failed"
    make_ntfs "$ntfs" "$M_LOG_SECTORS" Data "$M_LOG_START"
    mount_ntfs "$ntfs" "$BUILD/mnt"
    while IFS=$'\t' read -r kind path src; do
        case $kind in
            fat)
                [[ $path == */* ]] && { TZ=UTC ft mmd -D s -i "$fat" "::/${path%/*}" 2>/dev/null || true; }
                TZ=UTC ft mcopy -i "$fat" "$src" "::/$path" || die "mcopy $path failed" ;;
            ntfs) copy_in "$src" "$BUILD/mnt/$path" ;;
        esac
    done <"$BUILD/mbr.places"
    umount_ntfs
    set_ntfs_serial "$ntfs" "$M_LOG_SECTORS" "$M_SERIAL"
    dd if="$fat" of="$disk" bs=512 seek="$M_FAT_START" conv=notrunc,sparse status=none
    dd if="$ntfs" of="$disk" bs=512 seek="$M_LOG_START" conv=notrunc,sparse status=none
}

# ------------------------------------------------------------------ containers
build_e01() { # raw target-basename
    TZ=UTC ft ewfacquire -u -q -t "$2" -f encase6 -c deflate:fast -d sha1 \
        -S "$E01_SEGMENT_BYTES" -m fixed -M physical \
        -C "TM-2022-0311" -e "toolmark images/build.sh" -E "EV-001" \
        -D "toolmark test image win10-aptsim (GPT, NTFS)" \
        -N "synthetic disk built from public corpus artifacts; see images/README.md" \
        "$1" >"$BUILD/ewfacquire.log" 2>&1 || { cat "$BUILD/ewfacquire.log" >&2; die "ewfacquire failed"; }
}

build_damaged() { # build-dir
    local d="$1/damaged" segs n last f
    mkdir -p "$d"
    segs=("$1"/win10-aptsim.E??)
    n=${#segs[@]}
    ((n >= 3)) || die "E01 set has only $n segments; need 3 or more"
    # Truncated set: the last segment cut in half.
    for f in "${segs[@]}"; do cp "$f" "$d/win10-aptsim-truncated.${f##*.}"; done
    last="$d/win10-aptsim-truncated.${segs[n-1]##*.}"
    truncate -s $(( $(stat -c %s "$last") / 2 )) "$last"
    # Missing-segment set: .E02 left out.
    for f in "${segs[@]}"; do
        [[ ${f##*.} == E02 ]] || cp "$f" "$d/win10-aptsim-missing-E02.${f##*.}"
    done
    # NTFS boot sector zeroed; its backup in the volume's last sector is kept.
    cp --sparse=always "$1/win10-aptsim.raw" "$d/win10-aptsim-zeroed-boot.raw"
    dd if=/dev/zero of="$d/win10-aptsim-zeroed-boot.raw" bs=512 seek="$W_PART_START" count=1 \
        conv=notrunc status=none
    # Both GPT headers' CRC32 fields (offset 16 of LBA 1 and of the last LBA) inverted.
    cp --sparse=always "$1/win10-aptsim.raw" "$d/win10-aptsim-corrupt-gpt.raw"
    $PY - "$d/win10-aptsim-corrupt-gpt.raw" <<'EOF'
import os, sys
path = sys.argv[1]
size = os.path.getsize(path)
with open(path, "r+b") as f:
    for lba in (1, size // 512 - 1):
        f.seek(lba * 512)
        assert f.read(8) == b"EFI PART", f"no GPT header at LBA {lba}"
        f.seek(lba * 512 + 16)
        crc = f.read(4)
        f.seek(lba * 512 + 16)
        f.write(bytes(b ^ 0xFF for b in crc))
EOF
    check_damage "$d"
}

# Each damage must be visible to an independent tool, or the variant tests nothing.
check_damage() { # damaged-dir
    local d=$1 f
    for f in win10-aptsim-truncated win10-aptsim-missing-E02; do
        if ewfverify -q "$d/$f.E01" >/dev/null 2>&1; then die "ewfverify accepts the damaged set $f"; fi
    done
    if fsstat -o "$W_PART_START" "$d/win10-aptsim-zeroed-boot.raw" >/dev/null 2>&1; then
        die "fsstat still finds a file system behind the zeroed boot sector"
    fi
    [[ $(dd if="$d/win10-aptsim-zeroed-boot.raw" bs=512 skip=$(( W_PART_START + W_PART_SECTORS - 1 )) count=1 status=none | head -c 11 | tail -c 8) == "NTFS    " ]] \
        || die "backup NTFS boot sector missing in the zeroed-boot variant"
    # gdisk checks both header CRCs; with both bad it finds no GPT and lists no partition.
    [[ $(sgdisk -p "$d/win10-aptsim-corrupt-gpt.raw" 2>&1 | awk '/^Number/ { t = 1; next } t && NF' | wc -l) == 0 ]] \
        || die "sgdisk still reads a GPT from the corrupt-gpt variant"
}

# ------------------------------------------------------------------ virtual disks
# mbr-logical (64 MiB, NTFS + FAT) in every virtual-disk format and subformat
# qemu-img writes, children of it, and damaged copies (images/README.md,
# "Virtual disks"). Each intact one must convert back to the raw bytes with
# qemu-img, or the variant tests nothing.
build_vdisks() { # build-dir
    local d="$1/vdisk" src="$1/mbr-logical.raw" f
    mkdir -p "$d"
    # Fixed qemu-img/QEMU settings, so the files do not depend on the host's defaults.
    qemu-img convert -f raw -O vmdk -o subformat=monolithicSparse "$src" "$d/sparse.vmdk"
    qemu-img convert -f raw -O vmdk -o subformat=streamOptimized "$src" "$d/stream.vmdk"
    mkdir -p "$d/split"
    qemu-img convert -f raw -O vmdk -o subformat=twoGbMaxExtentSparse "$src" "$d/split/split-sparse.vmdk"
    qemu-img convert -f raw -O vmdk -o subformat=monolithicFlat "$src" "$d/split/flat.vmdk"
    qemu-img convert -f raw -O vpc -o subformat=dynamic "$src" "$d/dynamic.vhd"
    qemu-img convert -f raw -O vpc -o subformat=fixed "$src" "$d/fixed.vhd"
    qemu-img convert -f raw -O vhdx -o subformat=dynamic "$src" "$d/dynamic.vhdx"
    qemu-img convert -f raw -O vhdx -o subformat=fixed "$src" "$d/fixed.vhdx"
    qemu-img convert -f raw -O qcow2 "$src" "$d/plain.qcow2"
    qemu-img convert -f raw -O qcow2 -o compat=0.10 "$src" "$d/v2.qcow2"
    qemu-img convert -f raw -O qcow2 -c "$src" "$d/compressed.qcow2"
    # Children: 64 KiB of 0x5a written at 1 MiB (the MBR gap) and at 40 MiB (inside
    # the NTFS volume's range, so a reader that ignores the child is caught).
    mkdir -p "$d/chain"
    cp "$d/plain.qcow2" "$d/chain/base.qcow2"
    qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 "$d/chain/child.qcow2"
    qemu-img create -q -f qcow2 -b child.qcow2 -F qcow2 "$d/chain/grandchild.qcow2"
    cp "$d/sparse.vmdk" "$d/chain/base.vmdk"
    qemu-img create -q -f vmdk -b base.vmdk -F vmdk "$d/chain/child.vmdk"
    for f in child.qcow2 child.vmdk; do
        qemu-io -f "${f##*.}" -c 'write -P 0x5a 1M 64k' -c 'write -P 0x5a 40M 64k' "$d/chain/$f" >/dev/null
    done
    qemu-io -f qcow2 -c 'write -P 0xa5 41M 4k' "$d/chain/grandchild.qcow2" >/dev/null
    check_vdisks "$d" "$src"
    build_damaged_vdisks "$d"
}

check_vdisks() { # vdisk-dir raw
    local f fmt
    for f in "$1"/*.* "$1"/split/*.vmdk; do
        [[ $f == *-flat.vmdk || $f == *-s0??.vmdk ]] && continue
        # Formats named: qemu-img would take a fixed VHD (footer only at the end) for raw.
        fmt=${f##*.}; [[ $fmt == vhd ]] && fmt=vpc
        qemu-img convert -f "$fmt" -O raw "$f" "$BUILD/vdisk.raw" || die "qemu-img cannot read $f"
        # VHD rounds the disk up to whole CHS cylinders: the raw must be a prefix.
        cmp -s -n "$(stat -c %s "$2")" "$BUILD/vdisk.raw" "$2" || die "qemu-img reads $f differently from $2"
    done
    rm -f "$BUILD/vdisk.raw"
}

# Damaged copies; each must also fail (or read differently) in qemu-img.
build_damaged_vdisks() { # vdisk-dir
    local d="$1" x="$1/damaged" f
    mkdir -p "$x"
    for f in sparse.vmdk stream.vmdk dynamic.vhd dynamic.vhdx plain.qcow2; do
        cp "$d/$f" "$x/truncated-$f"
        truncate -s $(( $(stat -c %s "$d/$f") / 2 )) "$x/truncated-$f"
    done
    cp "$d/plain.qcow2" "$x/corrupt-l2.qcow2"
    cp "$d/sparse.vmdk" "$x/corrupt-primary-gt.vmdk"
    cp "$d/sparse.vmdk" "$x/corrupt-both-gt.vmdk"
    cp "$d/dynamic.vhd" "$x/corrupt-bat.vhd"
    $PY - "$x" <<'EOF'
import os, struct, sys
d = sys.argv[1]

def patch(path, at, data):
    with open(path, "r+b") as f:
        f.seek(at)
        f.write(data)

def read(path, at, n):
    with open(path, "rb") as f:
        f.seek(at)
        return f.read(n)

# QCOW2: the first allocated L2 entry points 1 TiB past the end of the file.
q = f"{d}/corrupt-l2.qcow2"
l1_at = struct.unpack(">Q", read(q, 40, 8))[0]
l2_at = struct.unpack(">Q", read(q, l1_at, 8))[0] & 0x00FFFFFFFFFFFE00
entries = struct.unpack(">8192Q", read(q, l2_at, 65536))
i = next(i for i, e in enumerate(entries) if e & 0x00FFFFFFFFFFFE00)
patch(q, l2_at + 8 * i, struct.pack(">Q", (1 << 63) | (1 << 40)))

# VMDK: the first allocated grain of grain table 0 points past the end of the
# file, in the primary table only (the redundant one must be used) or in both.
def grain_tables(path):
    h = read(path, 0, 512)
    rgd, gd = struct.unpack("<QQ", h[48:64])
    return [struct.unpack("<I", read(path, g * 512, 4))[0] * 512 for g in (gd, rgd)]

for name, both in (("corrupt-primary-gt.vmdk", False), ("corrupt-both-gt.vmdk", True)):
    v = f"{d}/{name}"
    tables = grain_tables(v)
    entries = struct.unpack("<512I", read(v, tables[0], 2048))
    i = next(i for i, e in enumerate(entries) if e > 1)
    for t in tables if both else tables[:1]:
        patch(v, t + 4 * i, struct.pack("<I", 0x7FFFFFFF))

# VHD: the first allocated block allocation table entry points past the end.
h = f"{d}/corrupt-bat.vhd"
dyn_at = struct.unpack(">Q", read(h, 16, 8))[0]
bat_at = struct.unpack(">Q", read(h, dyn_at + 16, 8))[0]
entries = struct.unpack(">32I", read(h, bat_at, 128))
i = next(i for i, e in enumerate(entries) if e != 0xFFFFFFFF)
patch(h, bat_at + 4 * i, struct.pack(">I", 0x7FFFFFFF))
EOF
    # A backing file that is itself, and a pair that back each other.
    qemu-img create -q -f qcow2 "$x/loop-self.qcow2" 64M
    qemu-img rebase -q -u -f qcow2 -b loop-self.qcow2 -F qcow2 "$x/loop-self.qcow2"
    qemu-img create -q -f qcow2 "$x/loop-a.qcow2" 64M
    qemu-img create -q -f qcow2 -b loop-a.qcow2 -F qcow2 "$x/loop-b.qcow2"
    qemu-img rebase -q -u -f qcow2 -b loop-b.qcow2 -F qcow2 "$x/loop-a.qcow2"
    # A child whose parent is gone.
    qemu-img create -q -f qcow2 "$x/gone.qcow2" 64M
    qemu-img create -q -f qcow2 -b gone.qcow2 -F qcow2 "$x/orphan.qcow2"
    rm "$x/gone.qcow2"
    # (The loops are left out: qemu-img itself recurses through loop-a/loop-b
    # until it runs out of memory.)
    for f in "$x"/*; do
        [[ $f == */corrupt-primary-gt.vmdk || $f == */loop-* ]] && continue
        if qemu-img convert -O raw "$f" "$BUILD/vdisk.raw" 2>/dev/null \
            && cmp -s "$BUILD/vdisk.raw" "$d/../mbr-logical.raw"; then
            die "qemu-img reads the damaged $f like the intact disk"
        fi
    done
    rm -f "$BUILD/vdisk.raw"
}

# ------------------------------------------------------------------ verification
# Reads every placed file back with The Sleuth Kit (icat) and compares with the facts.
verify_files() { # image sector-offset expected.tsv label
    local img=$1 off=$2 tsv=$3 label=$4 map="$BUILD/fls.$4" path size sha addr got
    fls -r -p -o "$off" "$img" >"$map" || die "fls failed on $label"
    while IFS=$'\t' read -r path size sha; do
        addr=$(awk -F'\t' -v p="$path" '$2 == p && $1 !~ /\*/ { sub(/:$/, "", $1); n = split($1, a, " "); print a[n]; exit }' "$map")
        [[ -n $addr ]] || die "$label: $path not found by fls"
        icat -o "$off" "$img" "$addr" >"$BUILD/readback" || die "$label: icat failed on $path ($addr)"
        got="$(stat -c %s "$BUILD/readback") $(sha256sum <"$BUILD/readback" | cut -d' ' -f1)"
        [[ $got == "$size $sha" ]] || die "$label: $path read back as (size sha256) $got, expected $size $sha"
    done <"$tsv"
}

compare_expected() { # computed committed
    if [[ ${TOOLMARK_IMAGES_WRITE_EXPECTED:-} == 1 ]]; then
        cp "$1" "$2"
        log "wrote $2"
        return
    fi
    [[ -f $2 ]] || die "committed facts missing: $2"
    diff -u "$2" "$1" >&2 || die "facts computed from the corpus differ from $2 (corpus or recipe changed; rebuild them with TOOLMARK_IMAGES_WRITE_EXPECTED=1 and review)"
}

win10_layout() { # raw E01-dir
    local raw=$1 mm fs
    mm=$(mmls -B "$raw")
    fs=$(fsstat -o "$W_PART_START" "$raw")
    echo "# Facts of win10-aptsim.raw read back with mmls/fsstat/fls/istat (sleuthkit)."
    echo "disk_bytes=$(stat -c %s "$raw")"
    echo "partition_table=$(mmls "$raw" | awk 'NR == 1 { print ($0 ~ /GUID Partition Table/) ? "gpt" : "other" }')"
    echo "disk_guid=$W_DISK_GUID"
    echo "$mm" | awk '$3 ~ /^[0-9]+$/ && /Basic data partition/ { printf "partition1_start_sector=%d\npartition1_sectors=%d\n", $3, $5 }'
    echo "partition1_guid=$W_PART_GUID"
    echo "partition1_type_guid=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7"
    echo "$fs" | awk -F': ' '/^Volume Serial Number/ { print "ntfs_volume_serial=" $2 } /^Volume Name/ { print "ntfs_label=" $2 } /^Cluster Size/ { print "ntfs_cluster_size=" $2 } /^Version/ { print "ntfs_version=" $2 }'
    echo "evtx_count=$(grep -c $'^r/r [0-9-]*:\tWindows/System32/winevt/Logs/.*\\.evtx$' "$BUILD/fls.win10")"
    echo "prefetch_count=$(grep -c $'^r/r [0-9-]*:\tWindows/Prefetch/.*\\.pf$' "$BUILD/fls.win10")"
    local j jstat
    j=$(awk -F'\t' '$2 == "$Extend/$UsnJrnl:$J" { sub(/:$/, "", $1); n = split($1, a, " "); print a[n] }' "$BUILD/fls.win10")
    echo "usnjrnl_j_mft_entry=${j%%-*}"
    # (Whole istat output captured first: grep -q closing a pipe early trips pipefail.)
    jstat=$(istat -o "$W_PART_START" "$raw" "${j%%-*}")
    echo "usnjrnl_j_size=$(awk '/Name: \$J/ { for (i = 1; i <= NF; i++) if ($i == "size:") print $(i + 1) }' <<<"$jstat")"
    echo "usnjrnl_j_sparse=$(grep -q 'Name: \$J .*Sparse' <<<"$jstat" && echo yes || echo no)"
    echo "usnjrnl_j_sparse_head_bytes=$(cat "$BUILD/stage/win10/usn_head")"
    local f entry compressed=""
    for f in access.log inventory.csv notes.txt; do
        entry=$(awk -F'\t' -v p="Users/analyst/Documents/compressed/$f" '$2 == p { sub(/:$/, "", $1); n = split($1, a, " "); print a[n] }' "$BUILD/fls.win10")
        grep -q 'Type: \$DATA .*Compressed' <<<"$(istat -o "$W_PART_START" "$raw" "${entry%%-*}")" && compressed+="$f,"
    done
    echo "compressed_files=${compressed%,}"
    echo "e01_segments=$(ls "$2"/win10-aptsim.E?? | wc -l)"
    echo "e01_case_number=TM-2022-0311"
    echo "e01_evidence_number=EV-001"
    echo "split_segments=$(ls "$2"/win10-aptsim.split.??? | wc -l)"
}

cleared_layout() { # raw
    echo "# Facts of win10-cleared.raw read back with fls (sleuthkit)."
    echo "disk_bytes=$(stat -c %s "$1")"
    echo "logs_folder=$(grep -c $'^d/d [0-9-]*:\tWindows/System32/winevt/Logs$' "$BUILD/fls.cleared")"
    echo "evtx_count=$(grep -c '\.evtx$' "$BUILD/fls.cleared" || true)"
    # (mkntfs leaves MFT records 16-23 unused; fls lists them under $OrphanFiles.)
    echo "deleted_named_entries=$(grep $'^[^\t]* \\* ' "$BUILD/fls.cleared" | grep -vc $'\t\\$OrphanFiles/' || true)"
    echo "prefetch_count=$(grep -c $'^r/r [0-9-]*:\tWindows/Prefetch/.*\\.pf$' "$BUILD/fls.cleared")"
    echo "amcache=$(grep -c $'^r/r [0-9-]*:\tWindows/AppCompat/Programs/Amcache\\.hve$' "$BUILD/fls.cleared")"
    echo "usnjrnl_j=$(grep -c $'^r/r [0-9-]*:\t\\$Extend/\\$UsnJrnl:\\$J$' "$BUILD/fls.cleared")"
}

mbr_layout() { # raw
    echo "# Facts of mbr-logical.raw read back with mmls/fsstat (sleuthkit)."
    echo "disk_bytes=$(stat -c %s "$1")"
    echo "partition_table=dos"
    echo "disk_id=$M_DISK_ID"
    # Partitions in mmls order (1 = the primary FAT16, 2 = the logical NTFS).
    mmls -B "$1" | awk '$3 ~ /^[0-9]+$/ && $2 ~ /^[0-9]+:[0-9]+$/ { n++; d = $7; for (i = 8; i <= NF; i++) d = d " " $i; printf "partition%d_mmls_slot=%s\npartition%d_start_sector=%d\npartition%d_sectors=%d\npartition%d_type=%s\n", n, $2, n, $3, n, $5, n, d }'
    fsstat -o "$M_FAT_START" "$1" | awk -F': ' '$1 == "Volume ID" { print "fat_volume_id=" $2 } $1 == "File System Type" { sub(/ +$/, "", $2); print "fat_type=" $2 }'
    fsstat -o "$M_LOG_START" "$1" | awk -F': ' '$1 == "Volume Serial Number" { print "logical_ntfs_volume_serial=" $2 } $1 == "Volume Name" { print "logical_ntfs_label=" $2 }'
}

# Whole-image hashes are informational: the build is byte-identical on the reference
# machine, but another mkntfs/ntfs-3g version may lay clusters out differently while
# every file fact above still holds, so a difference is reported, not fatal.
check_bytes() { # image committed-hash-file
    local got
    got=$(sha256sum <"$1" | cut -d' ' -f1)
    if [[ ${TOOLMARK_IMAGES_WRITE_EXPECTED:-} == 1 ]]; then
        echo "$got  ${1##*/}" >"$2"
    elif [[ ! -f $2 || $(cut -d' ' -f1 <"$2") != "$got" ]]; then
        log "NOTE: ${1##*/} is not byte-identical to the reference build (sha256 $got); its file facts do match"
    fi
}

check_fls_everywhere() { # build-dir
    local b=$1 segs
    fls -r -p -o "$W_PART_START" "$b/win10-aptsim.raw" >/dev/null || die "fls failed on raw"
    segs=("$b"/win10-aptsim.split.???)
    fls -r -p -i raw -o "$W_PART_START" "${segs[@]}" >"$BUILD/fls.split" || die "fls failed on split raw"
    fls -r -p -i ewf -o "$W_PART_START" "$b"/win10-aptsim.E?? >"$BUILD/fls.e01" || die "fls failed on E01"
    cmp -s "$BUILD/fls.split" "$BUILD/fls.win10" || die "split raw lists differently from raw"
    cmp -s "$BUILD/fls.e01" "$BUILD/fls.win10" || die "E01 lists differently from raw"
    fls -r -p -o "$M_FAT_START" "$b/mbr-logical.raw" >/dev/null || die "fls failed on mbr FAT"
    fls -r -p -o "$M_LOG_START" "$b/mbr-logical.raw" >/dev/null || die "fls failed on mbr logical NTFS"
    ewfverify -q "$b/win10-aptsim.E01" >"$BUILD/ewfverify.log" 2>&1 \
        || { cat "$BUILD/ewfverify.log" >&2; die "ewfverify failed"; }
    local md5 stored
    md5=$(md5sum <"$b/win10-aptsim.raw" | cut -d' ' -f1)
    stored=$(ewfinfo "$b/win10-aptsim.E01" | awk '/MD5/ { print $NF }')
    [[ $md5 == "$stored" ]] || die "E01 stored MD5 $stored != raw MD5 $md5"
}

# ------------------------------------------------------------------ main
main() {
    mkdir -p "$OUT"
    local key
    key=$(cache_key)
    is_fresh "$key" && exit 0
    exec 9>"$OUT/.lock"
    flock 9
    is_fresh "$key" && exit 0 # another process built it while we waited
    check_tools

    local t0=$SECONDS
    BUILD=$(mktemp -d "$OUT/.build.XXXXXX")
    trap cleanup EXIT
    log "building into $OUT (corpus $CORPUS)"

    mkdir -p "$BUILD/stage" "$BUILD/hives"
    $PY "$HERE/files.py" "$HOST/\$Extend/\$J" "$BUILD/stage"
    TZ=UTC ft $PY "$HERE/hives.py" "$APPCOMPAT" "$BUILD/hives"
    for h in "$BUILD"/hives/*; do regfinfo "$h" >/dev/null || die "regfinfo rejects $h"; done

    win10_places >"$BUILD/win10.places"
    mbr_places >"$BUILD/mbr.places"
    local path src kind
    while IFS=$'\t' read -r path src; do sha_line "$path" "$src"; done <"$BUILD/win10.places" \
        | LC_ALL=C sort >"$BUILD/win10.tsv"
    for kind in ntfs fat; do
        awk -F'\t' -v k=$kind '$1 == k' "$BUILD/mbr.places" \
            | while IFS=$'\t' read -r _ path src; do sha_line "$path" "$src"; done \
            | LC_ALL=C sort >"$BUILD/mbr-$kind.tsv"
    done
    compare_expected "$BUILD/win10.tsv" "$HERE/expected/win10-aptsim.tsv"
    cleared_places >"$BUILD/cleared.places"
    while IFS=$'\t' read -r path src; do sha_line "$path" "$src"; done <"$BUILD/cleared.places" \
        | LC_ALL=C sort >"$BUILD/cleared.tsv"
    compare_expected "$BUILD/cleared.tsv" "$HERE/expected/win10-cleared.tsv"
    compare_expected "$BUILD/mbr-ntfs.tsv" "$HERE/expected/mbr-logical.tsv"
    compare_expected "$BUILD/mbr-fat.tsv" "$HERE/expected/mbr-logical-fat.tsv"

    log "win10-aptsim: NTFS volume"
    build_win10_volume "$BUILD/win10.vol" "$BUILD/win10.places"
    build_win10_disk "$BUILD/win10-aptsim.raw" "$BUILD/win10.vol"
    rm -f "$BUILD/win10.vol"
    log "win10-aptsim: verifying files with icat"
    verify_files "$BUILD/win10-aptsim.raw" "$W_PART_START" "$HERE/expected/win10-aptsim.tsv" win10

    log "kape.vhdx: the host's files as a triage collection in a container"
    build_kape_vhdx "$BUILD/kape.vhdx" "$BUILD/win10-aptsim.raw"

    log "win10-aptsim: split raw and E01"
    split -b "$SPLIT_BYTES" -d -a 3 --numeric-suffixes=1 "$BUILD/win10-aptsim.raw" "$BUILD/win10-aptsim.split."
    build_e01 "$BUILD/win10-aptsim.raw" "$BUILD/win10-aptsim"

    log "win10-cleared: NTFS volume without event logs"
    build_win10_volume "$BUILD/cleared.vol" "$BUILD/cleared.places" cleared
    build_win10_disk "$BUILD/win10-cleared.raw" "$BUILD/cleared.vol"
    rm -f "$BUILD/cleared.vol"
    verify_files "$BUILD/win10-cleared.raw" "$W_PART_START" "$HERE/expected/win10-cleared.tsv" cleared
    cleared_layout "$BUILD/win10-cleared.raw" >"$BUILD/cleared.layout"
    compare_expected "$BUILD/cleared.layout" "$HERE/expected/win10-cleared.layout"

    log "triage-renamed: a triage folder whose Amcache records a renamed PsExec"
    build_triage_renamed "$BUILD/triage-renamed"

    log "mbr-logical"
    build_mbr_disk "$BUILD/mbr-logical.raw"
    verify_files "$BUILD/mbr-logical.raw" "$M_LOG_START" "$HERE/expected/mbr-logical.tsv" mbr-ntfs
    verify_files "$BUILD/mbr-logical.raw" "$M_FAT_START" "$HERE/expected/mbr-logical-fat.tsv" mbr-fat

    log "checking every container with fls, ewfverify"
    check_fls_everywhere "$BUILD"
    win10_layout "$BUILD/win10-aptsim.raw" "$BUILD" >"$BUILD/win10.layout"
    mbr_layout "$BUILD/mbr-logical.raw" >"$BUILD/mbr.layout"
    compare_expected "$BUILD/win10.layout" "$HERE/expected/win10-aptsim.layout"
    compare_expected "$BUILD/mbr.layout" "$HERE/expected/mbr-logical.layout"

    check_bytes "$BUILD/win10-aptsim.raw" "$HERE/expected/win10-aptsim.raw.sha256"
    check_bytes "$BUILD/mbr-logical.raw" "$HERE/expected/mbr-logical.raw.sha256"

    log "damaged variants"
    build_damaged "$BUILD"

    log "virtual disks of mbr-logical"
    build_vdisks "$BUILD"

    log "vsstest: the shadow-copy volume as raw"
    qemu-img convert -O raw "$VSS_QCOW2" "$BUILD/vsstest.raw"

    # Move into place: the stamp goes last, so a half-finished swap is never "fresh".
    rm -f "$OUT/.stamp"
    rm -rf "$OUT/damaged" "$OUT/vdisk" "$OUT"/win10-aptsim.* "$OUT"/mbr-logical.* "$OUT"/win10-cleared.* "$OUT/triage-renamed" \
        "$OUT/vsstest.raw" "$OUT/kape.vhdx"
    local f
    for f in "$BUILD"/win10-aptsim.* "$BUILD/mbr-logical.raw" "$BUILD/win10-cleared.raw" \
        "$BUILD/triage-renamed" "$BUILD/damaged" "$BUILD/vdisk" "$BUILD/vsstest.raw" "$BUILD/kape.vhdx"; do
        mv "$f" "$OUT/"
    done
    echo "$key" >"$BUILD/stamp"
    mv "$BUILD/stamp" "$OUT/.stamp"
    local products=("$OUT"/win10-aptsim.* "$OUT/mbr-logical.raw" "$OUT/win10-cleared.raw" "$OUT/triage-renamed" "$OUT/damaged" "$OUT/vdisk" "$OUT/vsstest.raw" "$OUT/kape.vhdx")
    log "done in $(( SECONDS - t0 )) s: $(du -csh --apparent-size "${products[@]}" | tail -1 | cut -f1) apparent, $(du -csh "${products[@]}" | tail -1 | cut -f1) on disk"
}

main
