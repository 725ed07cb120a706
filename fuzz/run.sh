#!/bin/sh
# Runs a cargo-fuzz target of actnet for a bounded time on the stable toolchain
# (fuzz/README.md). Used by `cmake --workflow --preset fuzz`.
#
#   fuzz/run.sh [seconds [target [libFuzzer options...]]]
#
# seconds: default 60 (-max_total_time). target: default framing. Exits non-zero if the
# target crashes (or fails to build). Everything it writes goes under $ACTNET_FUZZ_DIR
# (default build/fuzz): tools/ (cargo-fuzz, installed on first use), target/ (cargo's),
# corpus/<target>/ (grows run after run), artifacts/<target>/ (crashing inputs).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
seconds=${1:-60}
target=${2:-framing}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] && shift

out=${ACTNET_FUZZ_DIR:-$root/build/fuzz}
mkdir -p "$out"
out=$(cd "$out" && pwd)
cargo=${CARGO:-cargo}
cargo_fuzz_version=0.13.2

# cargo-fuzz, from crates.io, into the build tree (not ~/.cargo).
tools=$out/tools
if ! [ -x "$tools/bin/cargo-fuzz" ]; then
    echo "fuzz/run.sh: installing cargo-fuzz $cargo_fuzz_version into $tools"
    "$cargo" install --locked --version "$cargo_fuzz_version" --root "$tools" cargo-fuzz
fi
PATH=$tools/bin:$PATH
export PATH

# cargo fuzz compiles with -Zsanitizer=address (AddressSanitizer), a flag only a nightly rustc
# accepts. RUSTC_BOOTSTRAP=1 makes the stable rustc accept it. It is set for this build only,
# never for the library's own.
RUSTC_BOOTSTRAP=1
export RUSTC_BOOTSTRAP
CARGO_TARGET_DIR=$out/target
export CARGO_TARGET_DIR

corpus=$out/corpus/$target
artifacts=$out/artifacts/$target
mkdir -p "$corpus" "$artifacts"
# Inputs kept as regression tests seed the corpus (read only: new inputs go to $corpus).
seeds=
if [ "$target" = framing ] && [ -d "$root/tests/framing_fuzz_regressions" ]; then
    seeds=$root/tests/framing_fuzz_regressions
fi

marker=$out/.run-started
touch "$marker"
cd "$root"
status=0
# -a: debug assertions and overflow checks in the fuzzed code, as in a debug build.
# shellcheck disable=SC2086 # $seeds is empty or one path without spaces in it
"$cargo" fuzz run --fuzz-dir "$here" -a "$target" "$corpus" $seeds -- \
    -max_total_time="$seconds" -artifact_prefix="$artifacts/" -print_final_stats=1 "$@" || status=$?

if [ "$status" -ne 0 ]; then
    echo "fuzz/run.sh: $target failed (exit $status). New crashing inputs:" >&2
    find "$artifacts" -type f -newer "$marker" -exec ls -l {} + >&2 || true
    host=$(rustc -vV | sed -n 's/^host: //p')
    echo "Reproduce:  $CARGO_TARGET_DIR/$host/release/$target <file>" >&2
    echo "Keep as a regression test: copy it into tests/framing_fuzz_regressions/ (fuzz/README.md)" >&2
    exit "$status"
fi
echo "fuzz/run.sh: $target ran ${seconds}s without a crash; corpus: $corpus ($(find "$corpus" -type f | wc -l) inputs)"
