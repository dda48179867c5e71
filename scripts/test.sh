#!/bin/sh
# test.sh: install what is missing, build, and run every test. This is the README's test
# command and what CI runs (.ci/run).
#
#   1. a Debug build with AddressSanitizer + UndefinedBehaviorSanitizer (build/asan): every
#      unit test and every black-box test against the real Kafka broker, so leaks and memory
#      errors in the real binaries fail the run; the hostile-input suite (tests/hostile, label
#      hostile) runs there too, then the fault scenarios' loss account (label faults;
#      ARB_FAULT_ROUNDS=N runs each scenario N times; default 1);
#   2. an optimised build (build/release) without sanitizers, whose warnings differ, with the
#      unit tests once more under valgrind;
#   3. the libFuzzer targets (build/fuzz, clang-14, ASan + UBSan), each for ARB_FUZZ_SECONDS
#      (default 10; scripts/fuzz.sh is the long run);
#   4. a ThreadSanitizer build (build/tsan) running the black-box tests of both binaries; any
#      TSan report fails the run;
#   5. a coverage build (build/coverage): the line coverage of src/core by the unit tests,
#      printed per file, failing under 90 %.
# Among the tests of 1, compose.deployment builds the container images and runs
# docker/docker-compose.yml (tests/compose/test_compose.sh) when Docker or podman works here;
# scripts/install-container-deps.sh installs podman where neither does. When no engine works,
# that test is skipped, and this script says so, loudly, before the tests and at the end.
set -eu

root=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)

say() { printf '\n==> %s\n' "$*"; }

say "dependencies"
"$root/scripts/install-deps.sh"

say "Kafka broker jars"
"$root/tests/kafka/kafka.sh" fetch

say "container engine (the compose test)"
compose_skip=
if ! "$root/scripts/install-container-deps.sh"; then
    compose_skip="scripts/install-container-deps.sh failed (above)"
elif ! why=$("$root/scripts/container-images.sh" --engine 2>&1 >/dev/null); then
    compose_skip=${why#container-images.sh: ERROR: }
fi
# loud WILL_BE|WAS
loud() {
    printf '\n********************************************************************************\n'
    printf '*** compose.deployment %s SKIPPED: the container images are not built and\n' "$1"
    printf '*** docker/docker-compose.yml is not run, because: %s\n' "$compose_skip"
    printf '********************************************************************************\n\n'
}
if [ -n "$compose_skip" ]; then loud 'WILL BE'; else echo "container engine: $("$root/scripts/container-images.sh" --engine)"; fi

say "build: Debug + ASan + UBSan (build/asan)"
cmake -S "$root" -B "$root/build/asan" -DCMAKE_BUILD_TYPE=Debug -DARB_ASAN=ON -DARB_UBSAN=ON >/dev/null
cmake --build "$root/build/asan" -j "$jobs"

say "build: release (build/release)"
cmake -S "$root" -B "$root/build/release" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DARB_VALGRIND_TESTS=ON >/dev/null
cmake --build "$root/build/release" -j "$jobs"

say "build: libFuzzer targets, clang-14 + ASan + UBSan (build/fuzz)"
cmake -S "$root" -B "$root/build/fuzz" -DCMAKE_C_COMPILER=clang-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER=clang++-14 -DARB_FUZZ=ON >/dev/null
cmake --build "$root/build/fuzz" --target fuzz -j "$jobs"

say "build: coverage (build/coverage)"
cmake -S "$root" -B "$root/build/coverage" -DCMAKE_BUILD_TYPE=Debug -DARB_COVERAGE=ON >/dev/null
cmake --build "$root/build/coverage" -j "$jobs"

say "build: ThreadSanitizer (build/tsan)"
cmake -S "$root" -B "$root/build/tsan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DARB_TSAN=ON >/dev/null
cmake --build "$root/build/tsan" -j "$jobs"

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

say "line coverage of src/core by the unit tests (build/coverage)"
cmake --build "$root/build/coverage" --target coverage

say "fuzz targets, ${ARB_FUZZ_SECONDS:-10} s each (build/fuzz)"
(cd "$root/build/fuzz" && ctest -L fuzz --output-on-failure)

say "black-box tests of both binaries under ThreadSanitizer (build/tsan)"
# Every report goes to a file of its own (and makes the process exit 66): any file fails the
# run, even one from a process whose exit status no test looks at.
reports=$root/build/tsan/tsan-reports
rm -rf "$reports"
mkdir -p "$reports"
rc=0
(cd "$root/build/tsan" &&
    TSAN_OPTIONS="log_path=$reports/tsan:suppressions=$root/tests/tsan/tsan.supp:second_deadlock_stack=1${TSAN_OPTIONS:+:$TSAN_OPTIONS}" \
        ctest -L integration -E '^integration\.(test_docker|test_demo_commands|demo)$' --output-on-failure --timeout 900) || rc=$?
if [ -n "$(ls -A "$reports")" ]; then
    cat "$reports"/* >&2
    printf 'ThreadSanitizer reported %s time(s); see %s\n' "$(find "$reports" -type f | wc -l)" "$reports" >&2
    exit 1
fi
[ "$rc" -eq 0 ] || exit "$rc"
if [ -n "$compose_skip" ]; then
    loud WAS
    say "all tests passed, but compose.deployment was SKIPPED (above)"
else
    say "all tests passed"
fi
