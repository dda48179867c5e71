#!/bin/sh
# fuzz.sh TARGET|all SECONDS [LIBFUZZER-OPTION...]: the long fuzz run, for a release.
#
# Builds the libFuzzer targets (clang-14, ASan + UBSan) in build/fuzz and runs TARGET (one
# of tests/fuzz/fuzz_<TARGET>.c, or all of them one after the other) for SECONDS each,
# starting from the committed seeds and the corpus earlier runs left in
# build/fuzz/tests/fuzz/work/<target>/corpus. CI runs each for a few seconds (ctest -L fuzz,
# from scripts/test.sh); before a release, run every target to at least 10^7 executions:
#
#   scripts/fuzz.sh all 3600            # an hour each; the summary line gives executions
#   scripts/fuzz.sh signature 600 -jobs=2 -workers=2
#
# A finding fails the run and leaves its input in build/fuzz/tests/fuzz/work/<target>/;
# replay it with build/fuzz/tests/fuzz/fuzz_<target> FILE. New seeds worth keeping can be
# merged into tests/fuzz/corpus/<target>/ with -merge=1.
set -eu
root=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
build=$root/build/fuzz
[ $# -ge 2 ] || {
    echo "usage: fuzz.sh TARGET|all SECONDS [LIBFUZZER-OPTION...]" >&2
    exit 2
}
target=$1 seconds=$2
shift 2
case $seconds in '' | *[!0-9]*) echo "fuzz.sh: SECONDS must be a number: $seconds" >&2 && exit 2 ;; esac
if [ "$target" = all ]; then
    targets=$(sed -n 's/^arb_fuzz_target(\([a-z_0-9]*\).*/\1/p' "$root/tests/fuzz/CMakeLists.txt")
else
    [ -f "$root/tests/fuzz/fuzz_$target.c" ] || {
        echo "fuzz.sh: no target $target (tests/fuzz/fuzz_$target.c)" >&2
        exit 2
    }
    targets=$target
fi
CC=${CC:-clang-14} CXX=${CXX:-clang++-14}
cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DARB_FUZZ=ON >/dev/null
cmake --build "$build" --target fuzz -j "$(nproc 2>/dev/null || echo 2)"
for t in $targets; do
    ARB_FUZZ_SECONDS=$seconds "$root/tests/fuzz/run.sh" "$build/tests/fuzz/fuzz_$t" \
        "$root/tests/fuzz/corpus/$t" "$build/tests/fuzz/work/$t" "$seconds" "$@"
done
