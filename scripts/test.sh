#!/bin/sh
# test.sh: install what is missing, build, and run every test. This is the README's test
# command and what CI runs (.ci/run).
#
#   1. a Debug build with AddressSanitizer + UndefinedBehaviorSanitizer (build/asan): every
#      unit test and every black-box test against the real Kafka broker, so leaks and memory
#      errors in the real binaries fail the run; then the fault scenarios' loss account
#      (ARB_FAULT_ROUNDS=N runs each scenario N times; default 1);
#   2. an optimised build (build/release) without sanitizers, whose warnings differ, with the
#      unit tests once more under valgrind.
set -eu

root=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)

say() { printf '\n==> %s\n' "$*"; }

say "dependencies"
"$root/scripts/install-deps.sh"

say "Kafka broker jars"
"$root/tests/kafka/kafka.sh" fetch

say "build: Debug + ASan + UBSan (build/asan)"
cmake -S "$root" -B "$root/build/asan" -DCMAKE_BUILD_TYPE=Debug -DARB_ASAN=ON -DARB_UBSAN=ON >/dev/null
cmake --build "$root/build/asan" -j "$jobs"

say "build: release (build/release)"
cmake -S "$root" -B "$root/build/release" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DARB_VALGRIND_TESTS=ON >/dev/null
cmake --build "$root/build/release" -j "$jobs"

say "tests (sanitized build, real Kafka)"
# Sanitizer reports fail the process: a leak or a bad access is a failed test.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=23}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
status=0
(cd "$root/build/asan" && ctest --output-on-failure --timeout 600) || status=$?
# The fault scenarios' loss account (tests/faults/), one row per scenario and round: shown
# whether they passed or not, since ctest shows the output of failed tests only.
if [ -s "$root/build/asan/faults/loss-account.txt" ]; then
    say "loss account of the fault scenarios (ARB_FAULT_ROUNDS=${ARB_FAULT_ROUNDS:-1})"
    cat "$root/build/asan/faults/loss-account.txt"
fi
[ "$status" -eq 0 ] || exit "$status"

say "unit tests under valgrind (release build)"
(cd "$root/build/release" && ctest -L valgrind --output-on-failure)
say "all tests passed"
