#!/bin/sh
# Runs every fuzz target for SECONDS seconds each, one at a time, in one process
# (the machine is shared). New inputs go to a scratch corpus outside the
# repository, read together with the kept seeds; crashes land in each fuzz
# crate's artifacts/ folder, to be kept as regression seeds.
#
#   fuzz/run.sh SECONDS [TARGET_FILTER]
#
# Needs the nightly toolchain and `cargo install cargo-fuzz`.
set -eu
seconds=${1:?seconds per target}
filter=${2:-}
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=${FUZZ_SCRATCH:-/tmp/toolmark-fuzz}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/../target-fuzz}
for crate in "$root"/parsers/*/fuzz "$root"/fuzz; do
    [ -f "$crate/Cargo.toml" ] || continue
    # Seeds made rather than stored (fuzz/seeds.sh), once, and again when a
    # target has been added since.
    missing=
    for target in "$crate"/fuzz_targets/*.rs; do
        [ -d "$crate/corpus/$(basename "$target" .rs)" ] || missing=1
    done
    if [ -x "$crate/seeds.sh" ] && [ -n "$missing" ]; then
        "$crate/seeds.sh" "$crate/corpus"
    fi
    for target in "$crate"/fuzz_targets/*.rs; do
        name=$(basename "$target" .rs)
        case "$crate/$name" in *"$filter"*) ;; *) continue ;; esac
        mkdir -p "$scratch/$name" "$crate/corpus/$name"
        echo "== $crate $name for ${seconds}s"
        (cd "$crate/.." && nice cargo +nightly fuzz run --fuzz-dir "$crate" "$name" \
            "$scratch/$name" "$crate/corpus/$name" -- \
            -max_total_time="$seconds" -rss_limit_mb=1024 -timeout=10 2>&1 |
            grep -E "^(#[0-9]+ +DONE|==[0-9]+==|SUMMARY|Done|artifact_prefix|Test unit written)" || true)
    done
done
