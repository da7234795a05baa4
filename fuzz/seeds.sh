#!/bin/sh
# Seeds for the toolmark crate's own fuzz targets, made rather than stored:
#   CORPUS/ntfs        a 2 MiB volume from mkntfs, and its first 64 KiB
#   CORPUS/partitions  the first 64 KiB of the built GPT and MBR (logical) disks
#   CORPUS/e01         that volume (1.2 MiB) as an E01 from ewfacquire, compressed,
#                      and its first 64 KiB uncompressed (chunks with Adler-32)
#   CORPUS/e01_segments 1.3 MiB of random bytes as an E01 set of two segments
#                      (ewfacquire -S 1M, its smallest), in e01_segments' form: a
#                      4-byte little-endian split offset, then .E01 and .E02 back
#                      to back; and the one-segment seeds above with a split
#                      offset past their end (no .E02)
#   CORPUS/e01_three_segments 2.3 MiB of random bytes as an E01 set of three
#                      segments (-S 1M), in its form: the first two segments'
#                      lengths as 4 bytes each, then .E01, .E02 and .E03 back to
#                      back; and the two-segment set with no third
#   CORPUS/json_pull   event records as the evtx crate renders them (System,
#                      EventData, UserData, unnamed Data arrays, escapes)
#   CORPUS/evtx        small real event logs (one chunk each, from the shared
#                      corpus), a bigger one cut after its second chunk, and
#                      single chunks cut from them
#
#   fuzz/seeds.sh CORPUS [IMAGES [EVIDENCE]]  (IMAGES: built test images, by default
#                       $TOOLMARK_IMAGES or target/images; EVIDENCE: the shared
#                       corpus, by default $TOOLMARK_CORPUS or ../shared/corpus)
set -eu
corpus=${1:?corpus folder}
root=$(cd "$(dirname "$0")/.." && pwd)
images=${2:-${TOOLMARK_IMAGES:-$root/target/images}}
evidence=${3:-${TOOLMARK_CORPUS:-$root/../shared/corpus}}
mkdir -p "$corpus/ntfs" "$corpus/partitions" "$corpus/e01" "$corpus/e01_segments" "$corpus/evtx" "$corpus/json_pull" "$corpus/e01_three_segments"
cat > "$corpus/json_pull/system" <<'JSON'
{"Event":{"#attributes":{"xmlns":"x"},"System":{"Provider":{"#attributes":{"Name":"P","Guid":"{g}"}},"EventID":{"#attributes":{"Qualifiers":16384},"#text":7036},"Level":4,"TimeCreated":{"#attributes":{"SystemTime":"2022-03-10T21:43:57.9101061Z"}},"EventRecordID":42,"Correlation":null,"Channel":"System","Computer":"PC","Security":{"#attributes":{"UserID":"S-1-5-18"}}},"EventData":{"A":"C:\\x \"q\" \u00e9 \ud83d\ude00","B":null,"C":-2.5e3}}}
JSON
cat > "$corpus/json_pull/user-data" <<'JSON'
{"Event":{"System":{},"UserData":{"LogFileCleared":{"#attributes":{"xmlns":"u"},"SubjectUserSid":"S-1","Nested":{"X":{"#attributes":{"k":1},"#text":"t"},"Y":[1,2,[true,false]]}}},"EventData":{"Data":{"#text":["a","b",""]}}}}
JSON
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
# Random bytes do not compress, so the set needs a second segment.
head -c 1300K /dev/urandom > "$work/random"
TZ=UTC ewfacquire -u -q -t "$work/split" -f encase6 -c none -b 64 -S 1M "$work/random" >/dev/null
# A split offset as 4 bytes, little-endian.
le32() { printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $(($1 & 255)) $(($1 >> 8 & 255)) \
    $(($1 >> 16 & 255)) $(($1 >> 24 & 255)))"; }
{ le32 "$(stat -c %s "$work/split.E01")"; cat "$work/split.E01" "$work/split.E02"; } \
    > "$corpus/e01_segments/random-two-segments"
head -c 2300K /dev/urandom > "$work/random3"
TZ=UTC ewfacquire -u -q -t "$work/three" -f encase6 -c none -b 64 -S 1M "$work/random3" >/dev/null
{ le32 "$(stat -c %s "$work/three.E01")"; le32 "$(stat -c %s "$work/three.E02")"
  cat "$work/three.E01" "$work/three.E02" "$work/three.E03"; } \
    > "$corpus/e01_three_segments/random-three-segments"
{ le32 "$(stat -c %s "$work/split.E01")"; le32 "$(stat -c %s "$work/split.E02")"
  cat "$work/split.E01" "$work/split.E02"; } \
    > "$corpus/e01_three_segments/random-two-segments"
# Split at its own length, a segment is alone.
for seed in mkntfs-deflate.E01 mkntfs-head-stored.E01; do
    { le32 "$(stat -c %s "$corpus/e01/$seed")"; cat "$corpus/e01/$seed"; } \
        > "$corpus/e01_segments/$seed-alone"
done
rm -r "$work"
logs="$evidence/evtx/robustness"
for log in issue_201 Application_no_crc32 new-user-security MSExchange_Management_wec \
    Security_short_selected; do
    cat "$logs/$log.evtx" > "$corpus/evtx/$log.evtx"
    tail -c 65536 "$logs/$log.evtx" > "$corpus/evtx/$log-chunk"
done
# A log of two chunks (a header and the first two of a big one), and its second
# chunk alone.
head -c $((4096 + 2 * 65536)) "$logs/2-vss_7-System.evtx" > "$corpus/evtx/System-head.evtx"
tail -c 65536 "$corpus/evtx/System-head.evtx" > "$corpus/evtx/System-chunk-2"
for disk in win10-aptsim.raw mbr-logical.raw; do
    if [ -f "$images/$disk" ]; then
        head -c 65536 "$images/$disk" > "$corpus/partitions/$disk-head"
    fi
done
